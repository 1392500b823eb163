//! The embedded demo dataset: a small, realistic slice of ATT&CK written for
//! this project, so that `attack-vault build` works with no input at all.

/// The demo ATT&CK bundle (STIX 2.0 layout, Enterprise domain).
pub const ATTACK_BUNDLE: &str = include_str!("../demo/enterprise-attack.json");
/// The name the demo bundle is reported under.
pub const ATTACK_SOURCE: &str = "demo/enterprise-attack.json";

/// The demo Sigma rules, as (name, text).
pub const SIGMA_RULES: &[(&str, &str)] = &[
    (
        "demo/sigma/proc_creation_win_python_inline_command.yml",
        include_str!("../demo/sigma/proc_creation_win_python_inline_command.yml"),
    ),
    (
        "demo/sigma/proc_creation_lnx_python_reverse_shell.yml",
        include_str!("../demo/sigma/proc_creation_lnx_python_reverse_shell.yml"),
    ),
    (
        "demo/sigma/posh_ps_encoded_command.yml",
        include_str!("../demo/sigma/posh_ps_encoded_command.yml"),
    ),
    (
        "demo/sigma/proc_creation_win_python_burst_correlation.yml",
        include_str!("../demo/sigma/proc_creation_win_python_burst_correlation.yml"),
    ),
];

/// The demo Atomic Red Team files, as (name, text).
pub const ATOMICS: &[(&str, &str)] = &[
    (
        "demo/atomics/T1059.006/T1059.006.yaml",
        include_str!("../demo/atomics/T1059.006/T1059.006.yaml"),
    ),
    (
        "demo/atomics/T1059.001/T1059.001.yaml",
        include_str!("../demo/atomics/T1059.001/T1059.001.yaml"),
    ),
];

/// The demo sample events (JSONL: Sysmon process creations rendered as EVTX
/// JSON, and one Linux process event), as (name, text).
pub const EVENTS: &[(&str, &str)] = &[(
    "demo/events/demo-events.jsonl",
    include_str!("../demo/events/demo-events.jsonl"),
)];
