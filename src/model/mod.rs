//! The linked model that every output is rendered from: ATT&CK objects and
//! relationships (and, as they are loaded, detection rules and tests).

pub mod attack;

/// Everything loaded for one build.
#[derive(Debug, Default)]
pub struct Model {
    pub attack: attack::Kb,
}
