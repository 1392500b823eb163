//! What the vault remembers between builds, so that it can follow upstream
//! releases: every name each note has had (a note renamed upstream leaves a
//! redirect at its old path, so the analyst's links keep resolving), and a
//! compact snapshot of the last build (per note: path, title, a few
//! properties, a hash per section), from which each build that changes
//! something writes a dated note in `Changes/`.

use super::Note;
use super::escape;
use crate::output::{VaultWriter, WriteReport};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

/// State files, inside `.attack-vault/`.
const NAMES: &str = "names.json";
const SNAPSHOT: &str = "snapshot.json";
/// The folder of Changes notes, and its index note (linked from Home).
pub const CHANGES_DIR: &str = "Changes";
pub const CHANGES_INDEX: &str = "Changes.md";

/// Properties whose change a Changes note names.
const WATCHED: [&str; 8] = [
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
const STUB: &str = "stub";

/// A note as the snapshot remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    path: String,
    kind: String,
    id: String,
    title: String,
    props: BTreeMap<String, String>,
    /// Section heading → hash of its text.
    sections: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Snapshot {
    /// Per domain, the newest modification date of its objects.
    attack: BTreeMap<String, String>,
    notes: BTreeMap<String, Entry>,
}

/// Facts about the build that no single note holds.
#[derive(Debug, Clone, Default)]
pub struct BuildFacts {
    /// Per ATT&CK domain, the newest modification date of its objects.
    pub attack: BTreeMap<String, String>,
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

fn entry(n: &Note) -> Option<(String, Entry)> {
    if !n.path.ends_with(".md") {
        return None;
    }
    let p = props(&n.content);
    let kind = p.get("type")?.clone();
    let id = p.get("id").or_else(|| p.get("guid"))?.clone();
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
    let key = format!("{kind}:{id}");
    Some((
        key,
        Entry {
            path: n.path.clone(),
            kind,
            id,
            title,
            props: watched,
            sections,
        },
    ))
}

fn stem(path: &str) -> &str {
    let file = path.rsplit('/').next().unwrap_or(path);
    file.strip_suffix(".md").unwrap_or(file)
}

fn link(path: &str) -> String {
    format!("[[{}]]", stem(path))
}

/// How a Changes note names a note: as text, not a link, because a record
/// of the past must not break when the note it names goes.
fn named(path: &str) -> String {
    format!("**{}**", escape::inline(stem(path)))
}

/// Write `notes` with what the vault's history adds: redirects at old names,
/// a Changes note when something changed, the Changes index; then commit.
/// Also gives the number of notes the history added.
pub fn write(
    writer: VaultWriter<'_>,
    notes: &[Note],
    facts: &BuildFacts,
    now: &jiff::Timestamp,
) -> Result<(WriteReport, usize), sigma_engine::diag::Diagnostic> {
    use rayon::prelude::*;
    let run = || -> Result<usize, sigma_engine::diag::Diagnostic> {
        let mut names: BTreeMap<String, Vec<String>> = writer
            .read_state(NAMES)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let before: Option<Snapshot> = writer
            .read_state(SNAPSHOT)
            .and_then(|s| serde_json::from_str(&s).ok());
        let now_entries: BTreeMap<String, Entry> = notes.par_iter().filter_map(entry).collect();
        let moved = renamed(before.as_ref(), &now_entries, notes);
        notes
            .par_iter()
            .try_for_each(|n| match moved.get(n.path.as_str()) {
                Some(old) => writer.write_renamed(&n.path, old, n.content.as_bytes()),
                None => writer.write_bytes(&n.path, n.content.as_bytes()),
            })?;
        let redirects = redirects(&names, &now_entries, notes);
        for r in &redirects {
            writer.write_bytes(&r.path, r.content.as_bytes())?;
        }
        for (key, e) in &now_entries {
            let seen = names.entry(key.clone()).or_default();
            if !seen.contains(&e.path) {
                seen.push(e.path.clone());
            }
        }
        let after = Snapshot {
            attack: facts.attack.clone(),
            notes: now_entries,
        };
        let mut history: Vec<String> = writer
            .previous()
            .iter()
            .filter(|p| p.starts_with(&format!("{CHANGES_DIR}/")))
            .cloned()
            .collect();
        for p in &history {
            writer.keep(p);
        }
        if let Some(before) = &before {
            let report = writer.report_so_far();
            if let Some(mut note) = changes_note(before, &after, &report, now) {
                // Two builds within one second: the second note gets a number.
                let stem = note.path.trim_end_matches(".md").to_string();
                let mut n = 1;
                while writer.previous().contains(&note.path) {
                    n += 1;
                    note.path = format!("{stem} ({n}).md");
                }
                writer.write_bytes(&note.path, note.content.as_bytes())?;
                history.push(note.path);
            }
        }
        let index = changes_index(&history);
        writer.write_bytes(&index.path, index.content.as_bytes())?;
        super::obsidian::write(&writer, notes, history.last().map(String::as_str))?;
        writer.write_state(NAMES, to_json(&names).as_bytes())?;
        writer.write_state(SNAPSHOT, to_json(&after).as_bytes())?;
        Ok(redirects.len() + history.len() + 1)
    };
    match run() {
        Ok(added) => Ok((writer.commit()?, added)),
        Err(e) => {
            writer.abort();
            Err(e)
        }
    }
}

/// Pretty JSON of a state file (readable, diffable by hand).
fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// New path → the path the last build gave the same note, for notes whose
/// name changed (and whose old path no note takes now).
fn renamed<'a>(
    before: Option<&'a Snapshot>,
    now: &'a BTreeMap<String, Entry>,
    notes: &[Note],
) -> BTreeMap<&'a str, &'a str> {
    let Some(before) = before else {
        return BTreeMap::new();
    };
    let taken: BTreeSet<&str> = notes.iter().map(|n| n.path.as_str()).collect();
    now.iter()
        .filter_map(|(key, e)| {
            let old = &before.notes.get(key)?.path;
            (*old != e.path && !taken.contains(old.as_str()))
                .then_some((e.path.as_str(), old.as_str()))
        })
        .collect()
}

/// A redirect note at every earlier path of a note that now lives elsewhere
/// (unless another note now takes that path).
fn redirects(
    names: &BTreeMap<String, Vec<String>>,
    now: &BTreeMap<String, Entry>,
    notes: &[Note],
) -> Vec<Note> {
    let taken: BTreeSet<&str> = notes.iter().map(|n| n.path.as_str()).collect();
    let mut out: Vec<Note> = Vec::new();
    for (key, paths) in names {
        let Some(e) = now.get(key) else { continue };
        for old in paths {
            if *old == e.path || taken.contains(old.as_str()) || out.iter().any(|n| n.path == *old)
            {
                continue;
            }
            let content = format!(
                "---\ntype: \"redirect\"\nredirect: \"{target}\"\n---\n\n# {title}\n\n> [!info] Renamed\n> This note is now {target} ({kind} `{id}`).\n",
                target = link(&e.path),
                title = escape::inline(stem(old)),
                kind = e.kind.replace('_', " "),
                id = e.id,
            );
            out.push(Note {
                path: old.clone(),
                content,
            });
        }
    }
    out
}

/// Lists of the Changes note, by heading.
#[derive(Default)]
struct Diff {
    added: Vec<String>,
    removed: Vec<String>,
    renamed: Vec<String>,
    changed: Vec<String>,
}

fn diff(before: &Snapshot, after: &Snapshot) -> BTreeMap<String, Diff> {
    let mut by_kind: BTreeMap<String, Diff> = BTreeMap::new();
    for (key, a) in &after.notes {
        let d = by_kind.entry(a.kind.clone()).or_default();
        let was_stub = |b: &Entry| b.props.contains_key(STUB) && !a.props.contains_key(STUB);
        match before.notes.get(key) {
            None => d.added.push(format!("{} `{}`", named(&a.path), a.id)),
            Some(b) if was_stub(b) => d.added.push(format!(
                "{} `{}` (named by rules or tests before: its stub note is now the real one)",
                named(&a.path),
                a.id
            )),
            Some(b) => {
                if b.path != a.path {
                    d.renamed.push(format!(
                        "`{}`: {} → {}",
                        a.id,
                        escape::inline(&b.title),
                        named(&a.path)
                    ));
                }
                let what = changed(b, a);
                if !what.is_empty() {
                    d.changed
                        .push(format!("{}: {}", named(&a.path), what.join(", ")));
                }
            }
        }
    }
    for (key, b) in &before.notes {
        if !after.notes.contains_key(key) {
            by_kind
                .entry(b.kind.clone())
                .or_default()
                .removed
                .push(format!(
                    "{} `{}` (was `{}`)",
                    escape::inline(&b.title),
                    b.id,
                    b.path
                ));
        }
    }
    by_kind.retain(|_, d| {
        !(d.added.is_empty()
            && d.removed.is_empty()
            && d.renamed.is_empty()
            && d.changed.is_empty())
    });
    by_kind
}

/// What changed in one note: watched properties (old → new) and sections.
fn changed(b: &Entry, a: &Entry) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in WATCHED {
        let (x, y) = (b.props.get(k), a.props.get(k));
        if x != y {
            let show = |v: Option<&String>| v.map_or("—".to_string(), |s| escape::inline(s));
            out.push(format!("{k} {} → {}", show(x), show(y)));
        }
    }
    for (h, hash) in &a.sections {
        match b.sections.get(h) {
            Some(old) if old != hash => out.push(format!("{} changed", escape::inline(h))),
            None => out.push(format!("{} added", escape::inline(h))),
            _ => {}
        }
    }
    out
}

fn changes_note(
    before: &Snapshot,
    after: &Snapshot,
    report: &WriteReport,
    now: &jiff::Timestamp,
) -> Option<Note> {
    let by_kind = diff(before, after);
    let yours =
        !report.merged.is_empty() || !report.conflicts.is_empty() || !report.released.is_empty();
    if by_kind.is_empty() && before.attack == after.attack && !yours {
        return None;
    }
    let when = now.strftime("%Y-%m-%d %H%M%S").to_string();
    let mut s = format!(
        "---\ntype: \"changes\"\ndate: {}\n---\n\n# Changes {when}\n\n",
        now.strftime("%Y-%m-%d")
    );
    s.push_str(
        "## ATT&CK data\n\n| Domain | Before (newest object) | After |\n| --- | --- | --- |\n",
    );
    let domains: BTreeSet<&String> = before.attack.keys().chain(after.attack.keys()).collect();
    for d in domains {
        let v = |m: &BTreeMap<String, String>| m.get(d).cloned().unwrap_or_else(|| "—".into());
        s.push_str(&format!(
            "| {d} | {} | {} |\n",
            v(&before.attack),
            v(&after.attack)
        ));
    }
    s.push_str("\n## Summary\n\n| Kind | Added | Removed | Renamed | Changed |\n| --- | --- | --- | --- | --- |\n");
    for (k, d) in &by_kind {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            k.replace('_', " "),
            d.added.len(),
            d.removed.len(),
            d.renamed.len(),
            d.changed.len()
        ));
    }
    for (k, d) in &by_kind {
        s.push_str(&format!("\n## {}\n", k.replace('_', " ")));
        for (label, list) in [
            ("Added", &d.added),
            ("Removed", &d.removed),
            ("Renamed", &d.renamed),
            ("Changed", &d.changed),
        ] {
            if !list.is_empty() {
                s.push_str(&format!("\n### {label} ({})\n\n", list.len()));
                for item in list {
                    s.push_str(&format!("- {item}\n"));
                }
            }
        }
    }
    if yours {
        s.push_str("\n## Your notes\n");
        for (label, list) in [
            ("Your edits merged with the new version", &report.merged),
            (
                "In conflict: your file is kept as it is; the new version is under `.attack-vault/conflicts/`",
                &report.conflicts,
            ),
            (
                "No longer generated, kept because you edited them",
                &report.released,
            ),
        ] {
            if !list.is_empty() {
                s.push_str(&format!("\n### {label}\n\n"));
                for p in list {
                    s.push_str(&format!("- {}\n", named(p)));
                }
            }
        }
    }
    Some(Note {
        path: format!("{CHANGES_DIR}/{when}.md"),
        content: s,
    })
}

/// The index of Changes notes, newest first.
fn changes_index(history: &[String]) -> Note {
    let mut s = String::from(
        "---\ntype: \"changes_index\"\n---\n\n# Changes\n\nWhat each rebuild changed: ATT&CK objects, rules and atomic tests added, removed, renamed or changed, and what became of your edits.\n\n",
    );
    let mut h: Vec<&String> = history.iter().collect();
    h.sort();
    h.dedup();
    if h.is_empty() {
        s.push_str("No rebuild has changed anything yet.\n");
    }
    for p in h.iter().rev() {
        s.push_str(&format!("- {}\n", link(p)));
    }
    Note {
        path: CHANGES_INDEX.to_string(),
        content: s,
    }
}
