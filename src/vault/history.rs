//! What the vault remembers between builds, so that it can follow upstream
//! releases: every name each note has had (a note renamed upstream leaves a
//! redirect at its old path, so the analyst's links keep resolving), and a
//! compact snapshot of the last build (per note: path, title, a few
//! properties, a hash per section), from which each build that changes
//! something writes a dated note in `Changes/`.

use super::Note;
use super::entry::{Entry, STUB, WATCHED, entry};
use super::escape;
use super::follow;
use crate::output::{Conflict, VaultWriter, WriteReport};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// State files, inside `.attack-vault/`.
const NAMES: &str = "names.json";
const SNAPSHOT: &str = "snapshot.json";
/// The folder of Changes notes, and its index note (linked from Home).
pub const CHANGES_DIR: &str = "Changes";
pub const CHANGES_INDEX: &str = "Changes.md";

#[derive(Debug, Default, Serialize, Deserialize)]
struct Snapshot {
    /// Per domain, the newest modification date of its objects.
    attack: BTreeMap<String, String>,
    /// Per domain, the ATT&CK release its bundle names (where it names one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    releases: BTreeMap<String, String>,
    notes: BTreeMap<String, Entry>,
}

impl Snapshot {
    /// How the Changes note shows a domain's data: its release where the
    /// bundle named it, and its newest object's date.
    fn release_of(&self, domain: &str) -> String {
        match (self.releases.get(domain), self.attack.get(domain)) {
            (Some(r), Some(day)) => format!("v{} (newest object {day})", r.trim_start_matches('v')),
            (Some(r), None) => format!("v{}", r.trim_start_matches('v')),
            (None, Some(day)) => format!("newest object {day}"),
            (None, None) => "—".to_string(),
        }
    }
}

/// Facts about the build that no single note holds.
#[derive(Debug, Clone, Default)]
pub struct BuildFacts {
    /// Per ATT&CK domain, the newest modification date of its objects.
    pub attack: BTreeMap<String, String>,
    /// Per ATT&CK domain, the release its bundle names.
    pub releases: BTreeMap<String, String>,
    /// (STIX id, STIX id): objects whose note another object's note now
    /// stands for (a stub tactic a loaded tactic answers for): the old
    /// note's paths redirect to the new one.
    pub superseded: Vec<(String, String)>,
    /// How the vault's tags are written: the graph's colour groups find
    /// the notes of each kind by its tag.
    pub tags: crate::tags::TagStyle,
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
    mut notes: Vec<Note>,
    facts: &BuildFacts,
    now: &jiff::Timestamp,
) -> Result<(WriteReport, usize), sigma_engine::diag::Diagnostic> {
    let mut run = || -> Result<usize, sigma_engine::diag::Diagnostic> {
        let mut names: BTreeMap<String, Vec<String>> =
            writer.read_state_json(NAMES).unwrap_or_default();
        let mut before: Option<Snapshot> = writer.read_state_json(SNAPSHOT);
        let mut now_entries = keyed(notes.par_iter().filter_map(entry).collect());
        if let Some(b) = &mut before {
            follow_identity(b, &mut names, &now_entries);
            follow_superseded(b, &mut names, &now_entries, &facts.superseded);
        }
        let kept: follow::Renames = writer.read_state_json(follow::RENAMES).unwrap_or_default();
        let had_renames = !kept.is_empty();
        let empty = BTreeMap::new();
        let last = before.as_ref().map_or(&empty, |b| &b.notes);
        let mut followed = follow::find(&writer, last, kept, &now_entries);
        let relinked = follow::apply(&mut notes, &mut now_entries, &mut followed.renames);
        follow::warn_name_clashes(&writer, &notes);
        // The old name of a note the analyst renamed gets no redirect:
        // Obsidian moved their links with it.
        for (key, new) in &followed.renames {
            if let (Some(old), Some(seen)) = (last.get(key), names.get_mut(key)) {
                seen.retain(|p| *p != old.path || *p == *new);
            }
        }
        let notes = &notes;
        let moved = renamed(before.as_ref(), &now_entries, notes);
        write_notes(&writer, notes, &moved, &followed, &relinked)?;
        if had_renames || !followed.renames.is_empty() {
            writer.write_state(follow::RENAMES, to_json(&followed.renames).as_bytes())?;
        }
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
            releases: facts.releases.clone(),
            notes: now_entries,
        };
        let history = write_history(&writer, before.as_ref(), &after, now)?;
        super::obsidian::write(
            &writer,
            notes,
            history.last().map(String::as_str),
            &facts.tags,
        )?;
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

/// Writes each note the way its past asks: moved from the last build's
/// path (the analyst's edits move with it), adopted under the name the
/// analyst gave it, relinked, or plainly.
fn write_notes(
    writer: &VaultWriter<'_>,
    notes: &[Note],
    moved: &BTreeMap<&str, &str>,
    followed: &follow::Followed,
    relinked: &BTreeSet<String>,
) -> Result<(), sigma_engine::diag::Diagnostic> {
    notes.par_iter().try_for_each(|n| {
        let content = n.content.as_bytes();
        match moved.get(n.path.as_str()) {
            Some(old) if followed.new.contains_key(&n.path) => {
                writer.write_adopted(&n.path, old, content)
            }
            Some(old) => writer.write_renamed(&n.path, old, content),
            None if relinked.contains(&n.path) => writer.write_relinked(&n.path, content),
            None => writer.write_bytes(&n.path, content),
        }
    })
}

/// Keeps the Changes notes of earlier builds, adds this build's (where
/// anything changed since `before`) and writes their index; the Changes
/// notes, oldest first.
fn write_history(
    writer: &VaultWriter<'_>,
    before: Option<&Snapshot>,
    after: &Snapshot,
    now: &jiff::Timestamp,
) -> Result<Vec<String>, sigma_engine::diag::Diagnostic> {
    let mut history: Vec<String> = writer
        .previous()
        .iter()
        .filter(|p| p.starts_with(&format!("{CHANGES_DIR}/")))
        .cloned()
        .collect();
    for p in &history {
        writer.keep(p);
    }
    if let Some(before) = before {
        let report = writer.report_so_far();
        if let Some(mut note) = changes_note(before, after, &report, now) {
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
    Ok(history)
}

/// The entries by key. Notes that share a key (rules copied with their
/// `id`) are keyed by their path as well, so that nothing is carried from
/// one to another as if it were the same note renamed: none of them is
/// followed through renames, but no edit moves between them.
fn keyed(entries: Vec<(String, Entry)>) -> BTreeMap<String, Entry> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (k, _) in &entries {
        *count.entry(k.as_str()).or_default() += 1;
    }
    let shared: BTreeSet<String> = count
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k.to_string())
        .collect();
    entries
        .into_iter()
        .map(|(k, e)| match shared.contains(&k) {
            true => (format!("{k}@{}", e.path), e),
            false => (k, e),
        })
        .collect()
}

/// Pretty JSON of a state file (readable, diffable by hand).
fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Re-key what the last build remembered under a key this build no longer
/// uses for the same object: an object that gained an ATT&CK ID (data
/// components in v18) was keyed by its STIX id before. Its snapshot entry
/// and its earlier names move to the new key, so that it counts as renamed,
/// not as removed and added, and its old path gets a redirect.
fn follow_identity(
    before: &mut Snapshot,
    names: &mut BTreeMap<String, Vec<String>>,
    now: &BTreeMap<String, Entry>,
) {
    let by_stix: BTreeMap<&str, &str> = before
        .notes
        .iter()
        .filter_map(|(k, e)| Some((e.stix.as_deref()?, k.as_str())))
        .collect();
    let moves: Vec<(String, String)> = now
        .iter()
        .filter(|(key, _)| !before.notes.contains_key(*key))
        .filter_map(|(key, e)| {
            let old = *by_stix.get(e.stix.as_deref()?)?;
            (!now.contains_key(old)).then(|| (old.to_string(), key.clone()))
        })
        .collect();
    for (old, new) in moves {
        if let Some(e) = before.notes.remove(&old) {
            before.notes.insert(new.clone(), e);
        }
        move_names(names, &old, new);
    }
}

/// Give the earlier names of a note that is gone to the note that now
/// stands for its object (`superseded`: old STIX id, new STIX id), so that
/// its old paths redirect there.
fn follow_superseded(
    before: &Snapshot,
    names: &mut BTreeMap<String, Vec<String>>,
    now: &BTreeMap<String, Entry>,
    superseded: &[(String, String)],
) {
    let key_of = |notes: &BTreeMap<String, Entry>, stix: &str| {
        notes
            .iter()
            .find(|(_, e)| e.stix.as_deref() == Some(stix))
            .map(|(k, _)| k.clone())
    };
    for (old, new) in superseded {
        let (Some(old), Some(new)) = (key_of(&before.notes, old), key_of(now, new)) else {
            continue;
        };
        if !now.contains_key(&old) {
            move_names(names, &old, new);
        }
    }
}

/// The earlier names kept under key `old` go to key `new`.
fn move_names(names: &mut BTreeMap<String, Vec<String>>, old: &str, new: String) {
    let paths = names.remove(old).unwrap_or_default();
    let seen = names.entry(new).or_default();
    for p in paths {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
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
                "---\ntype: \"redirect\"\nredirect: \"{target}\"\n---\n\n# {title}\n\n> [!info] Renamed\n> This note is now {target} ({kind}{id}).\n",
                target = link(&e.path),
                title = escape::inline(stem(old)),
                kind = e.kind.replace('_', " "),
                id = id_code(&e.id),
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
    /// Stub notes new in this build: IDs the loaded ATT&CK data lacks, not
    /// objects it added.
    stubs: Vec<String>,
    removed: Vec<String>,
    renamed: Vec<String>,
    changed: Vec<String>,
}

impl Diff {
    fn is_empty(&self) -> bool {
        self.lists().iter().all(|(_, l)| l.is_empty())
    }

    /// Each list with its heading, in the order the note shows them.
    fn lists(&self) -> [(&'static str, &Vec<String>); 5] {
        [
            ("Added", &self.added),
            (
                "New stub notes (IDs the loaded ATT&CK data lacks)",
                &self.stubs,
            ),
            ("Removed", &self.removed),
            ("Renamed", &self.renamed),
            ("Changed", &self.changed),
        ]
    }
}

/// An ID as the Changes note shows it after a name (nothing for objects
/// without one).
fn id_code(id: &str) -> String {
    if id.is_empty() {
        String::new()
    } else {
        format!(" `{id}`")
    }
}

fn diff(before: &Snapshot, after: &Snapshot) -> BTreeMap<String, Diff> {
    let mut by_kind: BTreeMap<String, Diff> = BTreeMap::new();
    for (key, a) in &after.notes {
        let d = by_kind.entry(a.kind.clone()).or_default();
        let stub = a.props.contains_key(STUB);
        let line = format!("{}{}", named(&a.path), id_code(&a.id));
        match before.notes.get(key) {
            None if stub => d.stubs.push(line),
            None => d.added.push(line),
            Some(b) if b.props.contains_key(STUB) && !stub => d.added.push(format!(
                "{line} (named by rules or tests before: its stub note is now the real one)"
            )),
            Some(b) => {
                if b.path != a.path {
                    d.renamed.push(format!(
                        "{} → {}",
                        escape::inline(stem(&b.path)),
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
                    "{}{} (was `{}`)",
                    escape::inline(&b.title),
                    id_code(&b.id),
                    b.path
                ));
        }
    }
    by_kind.retain(|_, d| !d.is_empty());
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
    for h in b.sections.keys().filter(|h| !a.sections.contains_key(*h)) {
        out.push(format!("{} removed", escape::inline(h)));
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
    let yours = !report.merged.is_empty()
        || !report.conflicts.is_empty()
        || !report.released.is_empty()
        || !report.followed.is_empty();
    if by_kind.is_empty()
        && before.attack == after.attack
        && before.releases == after.releases
        && !yours
    {
        return None;
    }
    let when = now.strftime("%Y-%m-%d %H%M%S").to_string();
    let mut fm = super::frontmatter::Frontmatter::new();
    fm.text("type", "changes")
        .date("date", &now.strftime("%Y-%m-%d").to_string());
    let mut s = format!("{}\n# Changes {when}\n\n", fm.render());
    releases_section(&mut s, before, after);
    kinds_sections(&mut s, &by_kind);
    if yours {
        yours_section(&mut s, report);
    }
    Some(Note {
        path: format!("{CHANGES_DIR}/{when}.md"),
        content: s,
    })
}

/// The ATT&CK release of each domain, before and after.
fn releases_section(s: &mut String, before: &Snapshot, after: &Snapshot) {
    s.push_str("## ATT&CK data\n\nThe release each bundle names (bundles from mitre/cti name none), and its newest object's date.\n\n| Domain | Before | After |\n| --- | --- | --- |\n");
    let domains: BTreeSet<&String> = before.attack.keys().chain(after.attack.keys()).collect();
    for d in domains {
        s.push_str(&format!(
            "| {d} | {} | {} |\n",
            before.release_of(d),
            after.release_of(d)
        ));
    }
}

/// The counts of what changed per kind of note, then each kind's lists.
fn kinds_sections(s: &mut String, by_kind: &BTreeMap<String, Diff>) {
    if by_kind.is_empty() {
        s.push_str("\n## Summary\n\nNo note of ATT&CK, rules or tests was added, removed, renamed or changed.\n");
        return;
    }
    s.push_str("\n## Summary\n\n| Kind | Added | New stubs | Removed | Renamed | Changed |\n| --- | --- | --- | --- | --- | --- |\n");
    for (k, d) in by_kind {
        s.push_str(&format!("| {} |", k.replace('_', " ")));
        for (_, list) in d.lists() {
            s.push_str(&format!(" {} |", list.len()));
        }
        s.push('\n');
    }
    for (k, d) in by_kind {
        s.push_str(&format!("\n## {}\n", k.replace('_', " ")));
        for (label, list) in d.lists() {
            if !list.is_empty() {
                s.push_str(&format!("\n### {label} ({})\n\n", list.len()));
                for item in list {
                    s.push_str(&format!("- {item}\n"));
                }
            }
        }
    }
}

/// What became of the analyst's edits.
fn yours_section(s: &mut String, report: &WriteReport) {
    s.push_str("\n## Your notes\n");
    listed(s, "Your edits merged with the new version", &report.merged);
    conflicts_section(s, &report.conflicts);
    listed(
        s,
        "No longer generated, kept because you edited them",
        &report.released,
    );
    if !report.followed.is_empty() {
        s.push_str("\n### Renamed or moved by you: updated under your name\n\n");
        for (old, new) in &report.followed {
            s.push_str(&format!(
                "- {} → {}\n",
                escape::inline(stem(old)),
                named(new)
            ));
        }
    }
}

/// A list of notes under a heading, if there are any.
fn listed(s: &mut String, label: &str, list: &[String]) {
    if !list.is_empty() {
        s.push_str(&format!("\n### {label}\n\n"));
        for p in list {
            s.push_str(&format!("- {}\n", named(p)));
        }
    }
}

/// Notes in conflict, each with what the new version would change in the
/// analyst's file, folded, so that it can be taken from inside Obsidian
/// (the whole new version is under `.attack-vault/conflicts/`, a folder
/// Obsidian does not show).
fn conflicts_section(s: &mut String, conflicts: &[Conflict]) {
    if conflicts.is_empty() {
        return;
    }
    s.push_str("\n### In conflict: your file is kept as it is\n\n");
    s.push_str("The new version changes lines you changed too. Each note below shows what it would change in your file (`-` your lines, `+` the new version's); the whole new version is in `.attack-vault/conflicts/`, and goes at the next build.\n\n");
    for c in conflicts {
        // A note kept out of the site keeps its words out of this one.
        if super::frontmatter::is_private(&c.yours) {
            s.push_str(&format!(
                "- {}: private (`publish: false` or `draft: true`), so not shown here\n\n",
                named(&c.path)
            ));
            continue;
        }
        s.push_str(&folded_diff(c));
    }
}

/// A folded callout with the diff from the analyst's file to the new
/// version, fenced so that no line of it can end the block.
fn folded_diff(c: &Conflict) -> String {
    let diff = diffy::DiffOptions::new()
        .set_original_filename("yours")
        .set_modified_filename("new version")
        .create_patch(&c.yours, &c.new)
        .to_string();
    let fence = super::text::fence_for(&diff);
    let mut s = format!(
        "> [!warning]- {}: what the new version changes\n> {fence}diff\n",
        named(&c.path)
    );
    for line in diff.lines() {
        s.push_str(&format!("> {line}\n"));
    }
    s.push_str(&format!("> {fence}\n\n"));
    s
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

#[cfg(test)]
mod tests {
    use super::*;

    fn technique(sections: &[(&str, u64)]) -> Entry {
        Entry {
            path: "Techniques/T1059.006 Python.md".into(),
            kind: "technique".into(),
            id: "T1059.006".into(),
            stix: None,
            title: "Python".into(),
            props: BTreeMap::new(),
            sections: sections.iter().map(|(h, x)| (h.to_string(), *x)).collect(),
        }
    }

    #[test]
    fn a_section_added_changed_or_removed_is_named() {
        let before = technique(&[
            ("Description", 1),
            ("Mitigations", 2),
            ("Procedure Examples", 3),
        ]);
        let after = technique(&[("Description", 1), ("Mitigations", 5), ("Detection", 4)]);
        assert_eq!(
            changed(&before, &after),
            [
                "Detection added",
                "Mitigations changed",
                "Procedure Examples removed"
            ]
        );
        assert!(changed(&after, &after).is_empty());
    }
}
