//! attack-vault: MITRE ATT&CK, Sigma rules and Atomic Red Team tests as one
//! linked Obsidian vault.
//!
//! Data flows one way: sources ([`attack`]) → linked [`model`] → [`vault`]
//! (notes rendered from templates and written safely). [`build`] runs the
//! pipeline; [`cli`] is the command line on top of it.

pub mod atomics;
pub mod attack;
pub mod build;
pub mod cli;
pub mod demo;
pub mod diag;
pub mod events;
pub mod hunt;
pub mod matcher;
pub mod model;
pub mod paths;
pub mod sigma;
pub mod site;
pub mod tags;
pub mod validate;
pub mod vault;
pub mod yaml;
