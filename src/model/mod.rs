//! The linked model that every output is rendered from: ATT&CK objects and
//! relationships, Sigma rules and Atomic Red Team tests, and the links
//! between them.

pub mod attack;
pub mod links;
pub mod validation;

use crate::atomics::AtomicTest;
use sigma_engine::sigma::SigmaRule;

/// Everything loaded for one build.
#[derive(Debug, Default)]
pub struct Model {
    pub attack: attack::Kb,
    pub rules: Vec<SigmaRule>,
    pub tests: Vec<AtomicTest>,
    pub links: links::Links,
    /// What the rules did over sample events, when events were given.
    pub validation: Option<validation::Validation>,
}

impl Model {
    /// Link rules and tests into the ATT&CK data and build the model.
    pub fn new(mut attack: attack::Kb, rules: Vec<SigmaRule>, tests: Vec<AtomicTest>) -> Model {
        let links = links::link(&mut attack, &rules, &tests);
        Model {
            attack,
            rules,
            tests,
            links,
            validation: None,
        }
    }
}
