//! The embedded demo dataset: a small, realistic slice of ATT&CK written for
//! this project, so that `attack-vault build` works with no input at all.

/// The demo ATT&CK bundle (STIX 2.0 layout, Enterprise domain).
pub const ATTACK_BUNDLE: &str = include_str!("../demo/enterprise-attack.json");
/// The name the demo bundle is reported under.
pub const ATTACK_SOURCE: &str = "demo/enterprise-attack.json";
