//! Starter Obsidian settings: property types, graph colour groups by note
//! kind, bookmarks of the entry notes, and a snippet for wide tables.
//!
//! They are the analyst's files: each is written where none exists, and
//! updated later only while it is still exactly what the tool last wrote
//! (its hash is kept in `.attack-vault/`). Once Obsidian or the analyst
//! changes one, it is theirs and is never written again.

use super::Note;
use super::frontmatter::PROPERTY_TYPES;
use super::layout::{RULE_TAG, SAMPLES_TAG, TEST_TAG};
use crate::model::kb::Kind;
use crate::output::{OnDisk, VaultWriter};
use crate::tags::TagStyle;
use serde_json::{Value, json};
use sigma_engine::diag::Diagnostic;
use std::collections::BTreeMap;

/// The state file recording what the tool last wrote, by path.
const STATE: &str = "obsidian.json";
/// The snippet's name, as `appearance.json` enables it.
pub const SNIPPET: &str = "attack-vault";

const CSS: &str = "/* attack-vault: notes with `cssclasses: av-wide` (matrices, coverage)\n   use the whole pane, and their many-column tables stay readable. */\n.av-wide {\n  --file-line-width: 100%;\n}\n.av-wide table {\n  font-size: 0.85em;\n}\n.av-wide td, .av-wide th {\n  padding: 2px 6px;\n  vertical-align: top;\n}\n";

/// Graph colours by note kind, each found by the tag every note of the
/// kind carries: a colour group by folder would lose the notes the analyst
/// moves.
fn colour_groups(tags: &TagStyle) -> Value {
    let by_kind = [
        (Kind::Tactic.tag(), 0x8e44ad),
        (Kind::Technique.tag(), 0xe74c3c),
        (Kind::Group.tag(), 0xe67e22),
        (Kind::Software.tag(), 0xd35400),
        (Kind::Campaign.tag(), 0xf1c40f),
        (Kind::Mitigation.tag(), 0x27ae60),
        (Kind::DetectionStrategy.tag(), 0x16a085),
        (Kind::Analytic.tag(), 0x1abc9c),
        (Kind::DataComponent.tag(), 0x2980b9),
        (Kind::DataSource.tag(), 0x3498db),
        (Kind::Asset.tag(), 0x7f8c8d),
        (RULE_TAG, 0x2ecc71),
        (TEST_TAG, 0x9b59b6),
        (SAMPLES_TAG, 0x95a5a6),
    ];
    let groups: Vec<Value> = by_kind
        .into_iter()
        .map(|(tag, rgb)| json!({"query": format!("tag:#{}", tags.plain(tag)), "color": {"a": 1, "rgb": rgb}}))
        .collect();
    json!({ "colorGroups": groups })
}

/// Bookmarks: Home, the matrices, the Coverage notes, the Link report and
/// the newest Changes note.
fn bookmarks(notes: &[Note], latest_changes: Option<&str>) -> Value {
    // Obsidian tells bookmarks apart by `ctime`: fixed, distinct values
    // keep the file the same from one build to the next.
    let ctime = std::cell::Cell::new(0u64);
    let stamp = || {
        ctime.set(ctime.get() + 1);
        ctime.get()
    };
    let file = |path: &str| json!({"type": "file", "ctime": stamp(), "path": path});
    let group = |title: &str, paths: Vec<&str>| {
        let items: Vec<Value> = paths.into_iter().map(file).collect();
        json!({"type": "group", "ctime": stamp(), "title": title, "items": items})
    };
    let matrices: Vec<&str> = notes
        .iter()
        .map(|n| n.path.as_str())
        .filter(|p| p.starts_with(&format!("{}/", Kind::Matrix.folder())))
        .collect();
    let coverage: Vec<&str> = notes
        .iter()
        .map(|n| n.path.as_str())
        .filter(|p| !p.contains('/') && p.starts_with("Coverage "))
        .collect();
    let mut items = vec![file("Home.md")];
    if !matrices.is_empty() {
        items.push(group("Matrices", matrices));
    }
    if !coverage.is_empty() {
        items.push(group("Coverage", coverage));
    }
    items.push(file(&format!("{}.md", super::layout::LINK_REPORT_STEM)));
    if let Some(c) = latest_changes {
        items.push(file(c));
    }
    json!({ "items": items })
}

/// Every starter file, by vault path.
fn starter_files(
    notes: &[Note],
    latest_changes: Option<&str>,
    tags: &TagStyle,
) -> Vec<(String, String)> {
    let types: serde_json::Map<String, Value> = PROPERTY_TYPES
        .iter()
        .map(|(k, t)| (k.to_string(), json!(t)))
        .collect();
    let pretty = |v: Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    vec![
        (
            ".obsidian/types.json".into(),
            pretty(json!({ "types": types })),
        ),
        (".obsidian/graph.json".into(), pretty(colour_groups(tags))),
        (
            ".obsidian/bookmarks.json".into(),
            pretty(bookmarks(notes, latest_changes)),
        ),
        (format!(".obsidian/snippets/{SNIPPET}.css"), CSS.to_string()),
        (
            ".obsidian/appearance.json".into(),
            pretty(json!({ "enabledCssSnippets": [SNIPPET] })),
        ),
    ]
}

fn hash(bytes: &[u8]) -> String {
    crate::digest::sha256(bytes)
}

/// Write the starter settings that are missing, or still the tool's own.
pub fn write(
    writer: &VaultWriter<'_>,
    notes: &[Note],
    latest_changes: Option<&str>,
    tags: &TagStyle,
) -> Result<(), Diagnostic> {
    let written: BTreeMap<String, String> = writer.read_state_json(STATE).unwrap_or_default();
    let mut now = BTreeMap::new();
    for (path, content) in starter_files(notes, latest_changes, tags) {
        let write = match writer.on_disk(&path) {
            OnDisk::Missing => true,
            OnDisk::File(c) if c == content.as_bytes() => false,
            OnDisk::File(c) if written.get(&path) == Some(&hash(&c)) => true,
            // The analyst's (or Obsidian's) own version: never touched.
            OnDisk::File(_) | OnDisk::Refused => continue,
        };
        if write {
            writer.write_unmanaged(&path, content.as_bytes())?;
        }
        now.insert(path, hash(content.as_bytes()));
    }
    let state = serde_json::to_string_pretty(&now).unwrap_or_default() + "\n";
    writer.write_state(STATE, state.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_and_name_the_entry_notes() {
        let notes = vec![
            Note {
                path: "Matrices/enterprise-attack Enterprise ATT&CK.md".into(),
                content: String::new(),
            },
            Note {
                path: "Coverage enterprise-attack.md".into(),
                content: String::new(),
            },
        ];
        let files = starter_files(
            &notes,
            Some("Changes/2026-12-02 10-00-00.md"),
            &TagStyle::default(),
        );
        for (path, text) in &files {
            if path.ends_with(".json") {
                let v: Value = serde_json::from_str(text).unwrap();
                assert!(v.is_object(), "{path}");
            }
        }
        let marks = &files
            .iter()
            .find(|f| f.0.ends_with("bookmarks.json"))
            .unwrap()
            .1;
        for p in [
            "Home.md",
            "Matrices/enterprise-attack Enterprise ATT&CK.md",
            "Coverage enterprise-attack.md",
            "Link report.md",
            "Changes/2026-12-02 10-00-00.md",
        ] {
            assert!(marks.contains(p), "{p} in {marks}");
        }
        let types = &files
            .iter()
            .find(|f| f.0.ends_with("types.json"))
            .unwrap()
            .1;
        assert!(types.contains("\"tags\": \"tags\"") && types.contains("\"created\": \"date\""));
    }
}
