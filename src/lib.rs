//! attack-vault: MITRE ATT&CK, Sigma rules and Atomic Red Team tests as one
//! linked Obsidian vault.
//!
//! Data flows one way: sources ([`attack`], [`atomics`], and the Sigma rules
//! read by the `sigma-engine` crate) → the linked [`model`] → the matcher's
//! verdicts on sample events ([`validate`], [`hunt`], [`regression`]) → the [`vault`] (notes
//! rendered from templates and written safely) → the static [`site`].
//! [`build`] runs the pipeline; [`cli`] is the command line on top of it.
//! Beside the flow: [`output`] (writing a folder the tool owns, safely),
//! [`fetch`] (the upstream data, cached), [`digest`], [`progress`], [`paths`].

pub mod atomics;
pub mod attack;
pub mod build;
pub mod cli;
pub mod demo;
pub mod digest;
pub mod fetch;
pub mod hunt;
pub mod model;
pub mod output;
pub mod paths;
pub mod progress;
pub mod regression;
pub mod site;
pub mod tags;
pub mod validate;
pub mod vault;
