//! A generated note as the vault's history knows it: its key (its kind and
//! ATT&CK, rule or test ID, or STIX id) and what the snapshot keeps of it.

use super::Note;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hash::BuildHasher;

/// Properties whose change a Changes note names.
pub(super) const WATCHED: [&str; 8] = [
    "level",
    "status",
    "coverage",
    "revoked",
    "deprecated",
    "version",
    "rules",
    "atomic_tests",
];

/// The property marking a stub (an ID the loaded ATT&CK data lacked).
pub(super) const STUB: &str = "stub";

/// A note as the snapshot remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Entry {
    pub(super) path: String,
    pub(super) kind: String,
    /// The ATT&CK ID, rule id or test GUID; empty for objects that have
    /// none (data components before ATT&CK v18).
    pub(super) id: String,
    /// The STIX id, which stays when an object gains an ATT&CK ID or a new
    /// name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) stix: Option<String>,
    pub(super) title: String,
    pub(super) props: BTreeMap<String, String>,
    /// Section heading → hash of its text.
    pub(super) sections: BTreeMap<String, u64>,
}

/// The frontmatter's top-level scalar properties of a generated note.
fn props(content: &str) -> BTreeMap<String, String> {
    let (Some(fm), _) = super::frontmatter::split(content) else {
        return BTreeMap::new();
    };
    fm.lines()
        .filter(|l| !l.starts_with([' ', '-']))
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

/// A generated note's key (its kind and ID) and what the snapshot keeps of
/// it; `None` for a note that names no object.
pub(super) fn entry(n: &Note) -> Option<(String, Entry)> {
    if !n.path.ends_with(".md") {
        return None;
    }
    let p = props(&n.content);
    let kind = p.get("type")?.clone();
    let stix = p.get("stix_id").cloned();
    let id = p
        .get("id")
        .or_else(|| p.get("guid"))
        .cloned()
        .unwrap_or_default();
    let key = match (id.as_str(), &stix) {
        ("", None) => return None,
        ("", Some(s)) => format!("{kind}:{s}"),
        (id, _) => format!("{kind}:{id}"),
    };
    let title = p
        .get("name")
        .or_else(|| p.get("title"))
        .cloned()
        .unwrap_or_else(|| id.clone());
    let hasher = foldhash::fast::FixedState::with_seed(0);
    let mut sections = BTreeMap::new();
    let mut heading = String::new();
    let mut text = String::new();
    for line in n.content.lines().chain(std::iter::once("## ")) {
        if let Some(h) = line.strip_prefix("## ") {
            if !heading.is_empty() {
                sections.insert(std::mem::take(&mut heading), hasher.hash_one(&text));
            }
            heading = h.to_string();
            text.clear();
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    let mut watched: BTreeMap<String, String> = WATCHED
        .iter()
        .filter_map(|k| Some((k.to_string(), p.get(*k)?.clone())))
        .collect();
    if p.get("stix_id")
        .is_some_and(|s| s.starts_with("x-attack-vault-stub--"))
    {
        watched.insert(STUB.to_string(), "true".to_string());
    }
    Some((
        key,
        Entry {
            path: n.path.clone(),
            kind,
            id,
            stix,
            title,
            props: watched,
            sections,
        },
    ))
}
