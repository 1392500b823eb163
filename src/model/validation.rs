//! What the rules did over the sample events of a build: the matcher's
//! verdicts as the vault reads them (produced by `crate::validate`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// One example match of a rule.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Sample {
    pub file: usize,
    pub record: u64,
    pub timestamp: Option<String>,
    pub computer: Option<String>,
    pub channel: Option<String>,
    pub event_id: Option<String>,
    /// (field as the rule names it, value); the matched ones first.
    pub fields: Vec<(String, String, bool)>,
}

/// What one rule did over the sample events.
#[derive(Debug, Clone, Default)]
pub struct RuleResult {
    pub events: u64,
    /// File index → matched events.
    pub files: BTreeMap<usize, u64>,
    pub samples: Vec<Sample>,
    /// Whether any loaded event was of a kind the rule reads.
    pub logsource_seen: bool,
    /// Why the engine could not run the rule, if it could not.
    pub skipped: Option<String>,
    /// For a correlation rule: where it fired (then `events` counts its
    /// matches, and `files` the files of their first events).
    pub correlation: Option<CorrelationResult>,
}

/// What a correlation rule did over the sample events.
#[derive(Debug, Clone, Default)]
pub struct CorrelationResult {
    /// Its first matches, earliest first.
    pub matches: Vec<CorrelationMatch>,
    /// Detections of the rules it counts (its input).
    pub inputs: u64,
}

/// One match of a correlation: a group within its timespan.
#[derive(Debug, Clone)]
pub struct CorrelationMatch {
    /// Group-by field and value.
    pub group: Vec<(String, String)>,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Detections in the window, and the value the condition tested.
    pub count: usize,
    pub value: f64,
}

/// One event file.
#[derive(Debug, Clone, Default)]
pub struct EventFile {
    pub path: PathBuf,
    pub events: u64,
    /// Rule index → matched events.
    pub rules: BTreeMap<usize, u64>,
}

impl EventFile {
    /// The name of the folder holding the file (sample sets group by it:
    /// `Defense Evasion`, `emotet`).
    pub fn folder(&self) -> String {
        self.path
            .parent()
            .and_then(|p| p.file_name())
            .map(|p| p.to_string_lossy().to_string())
            .unwrap_or_default()
    }
}

/// The outcome of running the rules over the sample events.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    pub files: Vec<EventFile>,
    /// Indexed like the model's rules.
    pub rules: Vec<RuleResult>,
    pub events: u64,
    /// Records in the event files that could not be read.
    pub lost: u64,
    pub detections: u64,
    /// Events no loaded rule's logsource selects.
    pub unserved: sigma_engine::matcher::Unserved,
    pub elapsed: Duration,
}
