//! Notes the analyst renamed or moved in Obsidian, followed.
//!
//! Obsidian encourages renaming a note and rewrites the links to it. A
//! generated note renamed so would otherwise be written again under the
//! tool's name beside the analyst's copy, which would get no updates. So a
//! generated note of the last build that is gone, where one note the last
//! build did not write holds the same object (its `type` and `id`, `guid` or
//! STIX id) and most of the text last generated for it, is taken to be
//! renamed: the note is written at the analyst's path from then on (merged
//! with their edits as any note is), and every generated link to it names
//! it so. A note of the analyst's own that only names the same object is
//! never taken. The analyst's names are kept in `.attack-vault/renames.json`
//! until the note is gone again.

use super::Note;
use super::entry::{Entry, entry};
use crate::output::{OnDisk, VaultWriter};
use std::collections::{BTreeMap, BTreeSet};

/// The state file of the analyst's names.
pub(super) const RENAMES: &str = "renames.json";

/// The path the analyst gave each note, by its key.
pub(super) type Renames = BTreeMap<String, String>;

/// Where the analyst's notes stand now: the names kept, and the renames
/// new in this build (their path → the last build's path).
#[derive(Debug, Default)]
pub(super) struct Followed {
    pub renames: Renames,
    pub new: BTreeMap<String, String>,
}

/// Which generated notes the analyst renamed: the names kept from earlier
/// builds that still stand, and, for each generated note of the last build
/// (`before`, key → entry) that is gone, the one note the last build did
/// not write that holds the same object.
pub(super) fn find(
    writer: &VaultWriter<'_>,
    before: &BTreeMap<String, Entry>,
    kept: Renames,
    now: &BTreeMap<String, Entry>,
) -> Followed {
    // A name kept is one the last build wrote at, and it still stands: a
    // state file naming anything else (edited by hand, say) names nothing.
    let standing = |p: &String| writer.previous().contains(p) && !writer.gone(p);
    let mut f = Followed {
        renames: kept
            .into_iter()
            .filter(|(k, p)| now.contains_key(k) && standing(p))
            .collect(),
        new: BTreeMap::new(),
    };
    let gone: BTreeMap<&str, &str> = before
        .iter()
        .filter(|(k, e)| {
            now.contains_key(*k) && !f.renames.contains_key(*k) && writer.gone(&e.path)
        })
        .map(|(k, e)| (k.as_str(), e.path.as_str()))
        .collect();
    if gone.is_empty() {
        return f;
    }
    let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for path in writer.untracked_notes() {
        let OnDisk::File(bytes) = writer.on_disk(&path) else {
            continue;
        };
        let Ok(content) = String::from_utf8(bytes) else {
            continue;
        };
        let note = Note { path, content };
        if let Some((key, _)) = entry(&note)
            && let Some((k, old)) = gone.get_key_value(key.as_str())
            && writer
                .base_of(old)
                .is_some_and(|base| mostly_kept(&base, &note.content))
        {
            found.entry(k).or_default().push(note.path);
        }
    }
    for (key, mut paths) in found {
        // Two copies of one note: neither is taken for the note renamed.
        if let [path] = &mut paths[..] {
            f.new.insert(path.clone(), gone[key].to_string());
            f.renames.insert(key.to_string(), std::mem::take(path));
        }
    }
    f
}

/// Warns of each note of the analyst's own that has a generated note's
/// name (in another folder, in any case): Obsidian resolves `[[name]]` to
/// one of the two only (the one in the linking note's folder, else the one
/// of the shorter path), so links meant for one may open the other. Nothing
/// is renamed: the note is the analyst's.
pub(super) fn warn_name_clashes(writer: &VaultWriter<'_>, notes: &[Note]) {
    let generated: BTreeMap<String, &str> = notes
        .iter()
        .map(|n| (stem(&n.path).to_lowercase(), n.path.as_str()))
        .collect();
    for own in writer.untracked_notes() {
        let Some(&theirs) = generated.get(&stem(&own).to_lowercase()) else {
            continue;
        };
        if theirs == own {
            continue; // A generated note the analyst renamed, followed.
        }
        let msg = format!(
            "your note has the name of the generated note `{theirs}`: Obsidian opens only one of the two for `[[{}]]` (the one in the linking note's folder, else the one of the shorter path), so links meant for one may open the other; rename your note",
            stem(theirs)
        );
        writer.warn_of(&own, msg);
    }
}

/// Whether at least half the lines last generated (blank ones aside) stand
/// in `text`: the generated note renamed, edited or not, rather than a note
/// of the analyst's own about the same object.
fn mostly_kept(base: &str, text: &str) -> bool {
    let lines: BTreeSet<&str> = text.lines().collect();
    let generated: Vec<&str> = base.lines().filter(|l| !l.trim().is_empty()).collect();
    let kept = generated.iter().filter(|l| lines.contains(*l)).count();
    kept * 2 >= generated.len()
}

/// Gives the renamed notes the analyst's paths, in `notes` and in the
/// entries `now`, and makes every generated link name them so: the notes
/// whose links changed. A name that another note of this build takes is
/// not followed (and is dropped from `renames`).
pub(super) fn apply(
    notes: &mut [Note],
    now: &mut BTreeMap<String, Entry>,
    renames: &mut Renames,
) -> BTreeSet<String> {
    // Links name notes by their file name alone: a new name must be no
    // other note's, in any folder.
    let taken: BTreeSet<String> = notes.iter().map(|n| stem(&n.path).to_lowercase()).collect();
    let mut moves: BTreeMap<String, String> = BTreeMap::new();
    renames.retain(|key, new| {
        let Some(e) = now.get_mut(key) else {
            return false;
        };
        if e.path == *new {
            return true;
        }
        let own = stem(&e.path).eq_ignore_ascii_case(stem(new));
        if !own && taken.contains(&stem(new).to_lowercase()) {
            return false;
        }
        moves.insert(std::mem::replace(&mut e.path, new.clone()), new.clone());
        true
    });
    let mut relinked_notes = BTreeSet::new();
    if moves.is_empty() {
        return relinked_notes;
    }
    let stems: Vec<(&str, &str)> = moves
        .iter()
        .map(|(old, new)| (stem(old), stem(new)))
        .filter(|(old, new)| old != new)
        .collect();
    let patterns: Vec<String> = stems.iter().map(|(old, _)| format!("[[{old}")).collect();
    let ac = aho_corasick::AhoCorasick::new(&patterns).ok();
    for n in notes.iter_mut() {
        if let Some(new) = moves.get(&n.path) {
            n.path = new.clone();
        }
        if let Some(ac) = &ac
            && let Some(text) = relinked(&n.content, ac, &stems)
        {
            n.content = text;
            relinked_notes.insert(n.path.clone());
        }
    }
    relinked_notes
}

/// `text` with its wikilinks to each old stem (`[[old]]`, `[[old|…`,
/// `[[old#…`, `[[old\|…` in a table; `ac` finds `[[old`) naming the new
/// one; `None` where it has none.
fn relinked(text: &str, ac: &aho_corasick::AhoCorasick, stems: &[(&str, &str)]) -> Option<String> {
    let mut out = String::new();
    let mut last = 0;
    for m in ac.find_iter(text) {
        let next = text[m.end()..].chars().next();
        if !matches!(next, Some(']' | '|' | '#' | '\\')) {
            continue;
        }
        out.push_str(&text[last..m.start()]);
        out.push_str("[[");
        out.push_str(stems[m.pattern().as_usize()].1);
        last = m.end();
    }
    if last == 0 {
        return None;
    }
    out.push_str(&text[last..]);
    Some(out)
}

/// A note path's file name without `.md`.
fn stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".md").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_to_the_old_name_name_the_new_one_and_others_stay() {
        let text = "[[T1 A]] [[T1 A|x]] [[T1 A#H|y]] | [[T1 A\\|z]] | [[T1 AB]] [[Other]]";
        let ac = aho_corasick::AhoCorasick::new(["[[T1 A"]).unwrap();
        let stems = [("T1 A", "T1 Mine")];
        assert_eq!(
            relinked(text, &ac, &stems).as_deref(),
            Some(
                "[[T1 Mine]] [[T1 Mine|x]] [[T1 Mine#H|y]] | [[T1 Mine\\|z]] | [[T1 AB]] [[Other]]"
            )
        );
        assert_eq!(relinked("[[T1 AB]] [[Other]]", &ac, &stems), None);
    }
}
