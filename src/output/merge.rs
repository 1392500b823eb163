//! Reconciling a generated note with what the analyst made of it.
//!
//! Three versions meet: the *base* (what the last build generated), *mine*
//! (the file on disk, with the analyst's edits) and *theirs* (what this build
//! generates). The frontmatter is merged property by property: a property
//! the analyst added, changed or removed stays so, the list properties
//! (`tags`, `aliases`, `cssclasses`) take the analyst's additions and
//! removals on top of the new list, and every other property takes the new
//! value. The body is merged line by line (three-way). Where both sides
//! changed the same lines, the analyst's file wins as it is and the caller
//! keeps the new version aside.
//!
//! A section under a `## Notes` heading (up to the next heading of level one
//! or two) is the analyst's own: it is carried over verbatim. Where no base
//! is known (the kept versions damaged or removed), nothing tells the
//! analyst's lines from the tool's: the file is taken as the analyst's, as
//! in a conflict.

/// What to do with one generated file that exists on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The analyst did not touch it: write the new version.
    Generated,
    /// The analyst's edits carried into the new version: write this.
    Merged(String),
    /// Nothing new was generated for it: leave the analyst's file as it is.
    Kept,
    /// Both changed the same lines: leave the analyst's file as it is.
    Conflict,
}

/// The analyst's file with Windows line ends made Unix ones and without a
/// byte order mark: an editor or a Git checkout that converts them changes
/// no line of the note.
fn unix_lines(mine: &str) -> std::borrow::Cow<'_, str> {
    let mine = mine.strip_prefix('\u{feff}').unwrap_or(mine);
    if mine.contains('\r') {
        std::borrow::Cow::Owned(mine.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(mine)
    }
}

/// Decide how `theirs` reaches a file holding `mine`, last generated as `base`.
pub fn reconcile(base: Option<&str>, mine: &str, theirs: &str) -> Outcome {
    let mine = &*unix_lines(mine);
    // Without the last generated version (its base damaged or removed),
    // nothing tells the analyst's lines from the tool's: the file stands.
    let Some(base) = base else {
        return if mine == theirs {
            Outcome::Generated
        } else {
            Outcome::Conflict
        };
    };
    if base == mine {
        return Outcome::Generated;
    }
    if base == theirs {
        return Outcome::Kept;
    }
    match (split(base), split(mine), split(theirs)) {
        (Some((bf, bb)), Some((mf, mb)), Some((tf, tb))) => match body(bb, mb, tb) {
            Some(body) => Outcome::Merged(format!("---\n{}---\n{body}", frontmatter(bf, mf, tf))),
            None => Outcome::Conflict,
        },
        _ => body(base, mine, theirs).map_or(Outcome::Conflict, Outcome::Merged),
    }
}

/// The bodies merged, the analyst's `## Notes` section aside: line by line;
/// else, where the analyst only appended text at the end, that text after
/// the new body; else, where they only added lines, each after its anchor.
fn body(base: &str, mine: &str, theirs: &str) -> Option<String> {
    // The analyst's section is set aside, the rest merged, the section put back.
    if let Some(notes) = notes_section(mine)
        && notes_section(base) != Some(notes)
    {
        let without = |t: &str| notes_section(t).map_or(t.to_string(), |n| t.replacen(n, "", 1));
        let rest = body(&without(base), &without(mine), &without(theirs))?;
        return Some(with_notes(&rest, notes));
    }
    if let Ok(merged) = diffy::merge(base, mine, theirs) {
        return Some(merged);
    }
    if let Some(tail) = mine.strip_prefix(base) {
        return Some(format!("{}{tail}", ensure_newline(theirs)));
    }
    insert_by_anchor(base, mine, theirs)
}

/// Whether the analyst changed a file generated as `base`; with no base
/// known, nothing tells, and the file is taken as the analyst's.
pub fn edited(base: Option<&str>, mine: &str) -> bool {
    base.is_none_or(|b| b != &*unix_lines(mine))
}

/// Frontmatter (between the `---` lines, each line with its newline) and body.
fn split(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("---\n")?;
    let end = if rest.starts_with("---\n") {
        0
    } else {
        rest.find("\n---\n")? + 1
    };
    Some((&rest[..end], &rest[end + 4..]))
}

/// Properties whose items the analyst adds to or removes from.
const LISTS: [&str; 3] = ["tags", "aliases", "cssclasses"];

/// One top-level property: its key and its lines (the key's line and the
/// indented or list lines after it).
fn properties(fm: &str) -> Vec<(&str, &str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    let mut start = 0;
    let mut key: Option<&str> = None;
    for (at, line) in line_starts(fm) {
        let top = !line.starts_with([' ', '\t', '-', '#']) && !line.trim().is_empty();
        if top {
            if let Some(k) = key {
                out.push((k, &fm[start..at]));
            }
            start = at;
            key = Some(line.split(':').next().unwrap_or(line).trim());
        }
    }
    if let Some(k) = key {
        out.push((k, &fm[start..]));
    }
    out
}

fn line_starts(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    s.split_inclusive('\n').map(move |l| {
        let here = at;
        at += l.len();
        (here, l)
    })
}

fn frontmatter(base: &str, mine: &str, theirs: &str) -> String {
    let (b, m, t) = (properties(base), properties(mine), properties(theirs));
    let mut out = String::new();
    for (k, tb) in &t {
        match (get(&b, k), get(&m, k)) {
            (Some(_), None) => {} // removed by the analyst
            (Some(bb), Some(mb)) if LISTS.contains(k) && bb != mb => {
                out.push_str(&merge_list(k, bb, mb, tb));
            }
            (Some(bb), Some(mb)) if bb != mb => out.push_str(&ensure_newline(mb)),
            _ => out.push_str(&ensure_newline(tb)),
        }
    }
    for (k, mb) in &m {
        if get(&b, k).is_none() && get(&t, k).is_none() {
            out.push_str(&ensure_newline(mb));
        }
    }
    out
}

fn get<'a>(props: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    props.iter().find(|(k, _)| *k == key).map(|(_, b)| *b)
}

fn ensure_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}

/// The items of a list property, in order (block or flow style), read as
/// YAML so that quotes and escapes mean what they say (`"C:\\Temp"` is one
/// backslash); a property that is no valid YAML is read by its lines.
fn items(block: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Listed {
        Many(Vec<serde_json::Value>),
        One(serde_json::Value),
    }
    let text = |v: serde_json::Value| match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::String(_) | serde_json::Value::Null => None,
        other => Some(other.to_string()),
    };
    match serde_saphyr::from_str::<std::collections::BTreeMap<String, Listed>>(block) {
        Ok(map) => match map.into_values().next() {
            Some(Listed::Many(items)) => items.into_iter().filter_map(text).collect(),
            Some(Listed::One(item)) => text(item).into_iter().collect(),
            None => Vec::new(),
        },
        Err(_) => items_as_written(block),
    }
}

/// The items of a list property that is no valid YAML, unquoted as written.
fn items_as_written(block: &str) -> Vec<String> {
    let unquote = |s: &str| s.trim().trim_matches('"').trim_matches('\'').to_string();
    let first = block.lines().next().unwrap_or("");
    let inline = first.split_once(':').map_or("", |(_, v)| v.trim());
    if let Some(flow) = inline.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return flow
            .split(',')
            .map(unquote)
            .filter(|s| !s.is_empty())
            .collect();
    }
    if !inline.is_empty() {
        return vec![unquote(inline)];
    }
    block
        .lines()
        .skip(1)
        .filter_map(|l| l.trim_start().strip_prefix('-'))
        .map(unquote)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The new list, without the items the analyst removed, plus those they added.
fn merge_list(key: &str, base: &str, mine: &str, theirs: &str) -> String {
    let (b, m) = (items(base), items(mine));
    let mut all: Vec<String> = items(theirs)
        .into_iter()
        .filter(|x| !b.contains(x) || m.contains(x))
        .collect();
    for x in m {
        if !b.contains(&x) && !all.contains(&x) {
            all.push(x);
        }
    }
    if all.is_empty() {
        return format!("{key}: []\n");
    }
    let mut out = format!("{key}:\n");
    for x in all {
        out.push_str(&format!("  - {}\n", serde_json::Value::String(x)));
    }
    out
}

/// A run of lines the analyst added, with what surrounded it in the base.
struct Added<'a> {
    /// The two lines before it (empty strings near the start).
    before: [&'a str; 2],
    /// Up to two lines after it.
    after: Vec<&'a str>,
    /// The last heading above it, if any.
    section: Option<&'a str>,
    text: String,
}

impl<'a> Added<'a> {
    /// The run `text` inserted before base line `at`.
    fn at(lines: &[&'a str], at: usize, text: String) -> Self {
        let line = |i: Option<usize>| i.and_then(|i| lines.get(i)).copied().unwrap_or("");
        Added {
            before: [line(at.checked_sub(2)), line(at.checked_sub(1))],
            after: lines[at.min(lines.len())..(at + 2).min(lines.len())].to_vec(),
            section: lines[..at.min(lines.len())]
                .iter()
                .rev()
                .find(|l| is_heading(l))
                .copied(),
            text,
        }
    }

    /// Where in `lines` (at or after `from`) the run goes: after its two
    /// lines before; else before its lines after; else at the end of its
    /// section (before the next heading).
    fn place(&self, lines: &[&str], from: usize) -> Option<usize> {
        let [a, b] = self.before;
        if !a.is_empty() || !b.is_empty() {
            let found = (from.max(1)..lines.len()).find(|&i| lines[i - 1] == a && lines[i] == b);
            if let Some(i) = found {
                return Some(i + 1);
            }
        }
        if !self.after.is_empty() {
            let n = self.after.len();
            // A new version shorter than the lines sought holds none of them.
            let found = (from..=lines.len().saturating_sub(n))
                .find(|&i| lines.get(i..i + n) == Some(&self.after[..]));
            if found.is_some() {
                return found;
            }
        }
        let heading = self.section?;
        let at = (from..lines.len()).find(|&i| lines[i] == heading)?;
        Some(
            (at + 1..lines.len())
                .find(|&i| is_heading(lines[i]))
                .unwrap_or(lines.len()),
        )
    }
}

fn is_heading(line: &str) -> bool {
    line.starts_with('#') && line.trim_start_matches('#').starts_with(' ')
}

/// The runs of lines `mine` adds to `base`, and text it adds at the very
/// end; None when it also changed or removed a line.
fn additions<'a>(base: &'a str, mine: &str) -> Option<(Vec<Added<'a>>, String)> {
    use diffy::Line;
    let lines: Vec<&'a str> = base.split_inclusive('\n').collect();
    let patch = diffy::create_patch(base, mine);
    let mut runs: Vec<Added<'a>> = Vec::new();
    let mut tail = String::new();
    for hunk in patch.hunks() {
        // The base line the hunk is at (0-based).
        let mut at = hunk.old_range().start().saturating_sub(1);
        let mut run = String::new();
        for line in hunk.lines() {
            match line {
                Line::Delete(_) => return None,
                Line::Insert(l) => run.push_str(l),
                Line::Context(_) => {
                    if !run.is_empty() {
                        runs.push(Added::at(&lines, at, std::mem::take(&mut run)));
                    }
                    at += 1;
                }
            }
        }
        if !run.is_empty() {
            // No line follows it (a hunk closes on context otherwise): text
            // added at the very end, which goes after the new end.
            tail = run;
        }
    }
    Some((runs, tail))
}

/// Where the analyst only added lines (a paragraph under a heading, a row
/// under a table's header), each run of added lines goes where its
/// surroundings in the base are found in the new version, at or after the
/// last insertion (see [`Added::place`]). None when they also changed or
/// removed a line, or no surrounding is found.
fn insert_by_anchor(base: &str, mine: &str, theirs: &str) -> Option<String> {
    let (runs, tail) = additions(base, mine)?;
    let lines: Vec<&str> = theirs.split_inclusive('\n').collect();
    let mut out = String::with_capacity(theirs.len() + mine.len().saturating_sub(base.len()));
    let mut at = 0;
    for run in runs {
        let to = run.place(&lines, at)?;
        for l in &lines[at..to] {
            out.push_str(l);
        }
        out.push_str(&run.text);
        at = to;
    }
    for l in &lines[at..] {
        out.push_str(l);
    }
    if !tail.is_empty() {
        out = format!("{}{tail}", ensure_newline(&out));
    }
    Some(out)
}

/// The analyst's `## Notes` section: its heading line to the next heading of
/// level one or two, or the end.
pub fn notes_section(text: &str) -> Option<&str> {
    let mut start = None;
    for (at, line) in line_starts(text) {
        let l = line.trim_end();
        match start {
            None if l == "## Notes" => start = Some(at),
            Some(s) if l.starts_with("# ") || l.starts_with("## ") => {
                return Some(&text[s..at]);
            }
            _ => {}
        }
    }
    start.map(|s| &text[s..])
}

/// `theirs` with its own `## Notes` section (if any) replaced by `notes`, or
/// `notes` appended.
fn with_notes(theirs: &str, notes: &str) -> String {
    let notes = ensure_newline(notes);
    match notes_section(theirs) {
        Some(own) => theirs.replacen(own, &notes, 1),
        None if theirs.ends_with("\n\n") => format!("{theirs}{notes}"),
        None => format!("{}\n{notes}", ensure_newline(theirs)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "---\nid: \"T1\"\ntags:\n  - \"T1\"\n  - \"techniques\"\nversion: \"1.0\"\n---\n\n# One\n\n## Description\n\nOld text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n\n## References\n\n1. x\n";

    fn theirs() -> String {
        BASE.replace("version: \"1.0\"", "version: \"1.1\"")
            .replace("1. x\n", "1. x\n2. y\n")
    }

    #[test]
    fn untouched_notes_take_the_new_version() {
        assert_eq!(reconcile(Some(BASE), BASE, &theirs()), Outcome::Generated);
    }

    #[test]
    fn text_added_anywhere_survives() {
        let mine = BASE
            .replace("Old text.\n", "Old text.\n\nSeen in case 42.\n")
            .replace("| 3 | 4 |", "| 3 | 4 (checked) |");
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &theirs()) else {
            panic!("not merged")
        };
        assert!(m.contains("Seen in case 42."));
        assert!(m.contains("| 3 | 4 (checked) |"));
        assert!(m.contains("version: \"1.1\""));
        assert!(m.contains("2. y"));
    }

    #[test]
    fn text_appended_at_the_end_follows_the_new_end() {
        let mine = format!("{BASE}\nMy closing words.\n");
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &theirs()) else {
            panic!("not merged")
        };
        assert!(m.ends_with("2. y\n\nMy closing words.\n"), "{m}");
    }

    #[test]
    fn edits_in_the_notes_section_follow_the_new_body() {
        let base = format!("{BASE}\n## Notes\n\n## Footer\n\nGenerated.\n");
        let mine = base.replace("## Notes\n\n", "## Notes\n\nCase 7.\n\n");
        let t = base.replace("Generated.", "Generated again.");
        let Outcome::Merged(m) = reconcile(Some(&base), &mine, &t) else {
            panic!("not merged")
        };
        assert!(
            m.contains("Case 7.") && m.contains("Generated again."),
            "{m}"
        );
    }

    #[test]
    fn a_paragraph_under_a_heading_follows_the_heading_when_the_text_below_changed() {
        let mine = BASE.replace("## Description\n\n", "## Description\n\nAnalyst first.\n\n")
            + "\nAnalyst last.\n";
        let t = theirs().replace("Old text.", "New text.");
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &t) else {
            panic!("not merged")
        };
        assert!(
            m.contains("## Description\n\nAnalyst first.\n\nNew text."),
            "{m}"
        );
        assert!(m.ends_with("2. y\n\nAnalyst last.\n"), "{m}");
        // A changed line is no insertion: a conflict, as before.
        let mine = BASE.replace("Old text.", "Mine.");
        assert_eq!(reconcile(Some(BASE), &mine, &t), Outcome::Conflict);
    }

    #[test]
    fn properties_and_tags_of_the_analyst_survive() {
        let mine = BASE
            .replace("  - \"techniques\"\n", "  - \"techniques\"\n  - mine\n")
            .replace("version: \"1.0\"\n", "version: \"1.0\"\nowner: alice\n");
        let t = theirs().replace(
            "  - \"techniques\"\n",
            "  - \"techniques\"\n  - \"Execution\"\n",
        );
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &t) else {
            panic!("not merged")
        };
        let (fm, _) = split(&m).unwrap();
        assert_eq!(
            items(properties(fm).iter().find(|(k, _)| *k == "tags").unwrap().1),
            ["T1", "techniques", "Execution", "mine"]
        );
        assert!(fm.contains("owner: alice\n"));
        assert!(fm.contains("version: \"1.1\"\n"));
    }

    #[test]
    fn a_removed_property_stays_removed() {
        let mine = BASE.replace("version: \"1.0\"\n", "");
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &theirs()) else {
            panic!("not merged")
        };
        assert!(!m.contains("version:"));
    }

    #[test]
    fn the_same_lines_changed_on_both_sides_conflict() {
        let mine = BASE.replace("Old text.", "My text.");
        let t = BASE.replace("Old text.", "New text.");
        assert_eq!(reconcile(Some(BASE), &mine, &t), Outcome::Conflict);
    }

    #[test]
    fn nothing_new_keeps_the_analysts_file() {
        let mine = BASE.replace("Old text.", "My text.");
        assert_eq!(reconcile(Some(BASE), &mine, BASE), Outcome::Kept);
    }

    #[test]
    fn without_a_base_the_file_is_the_analysts() {
        let mine = format!("{BASE}\n## Notes\n\nMine, verbatim.\n");
        for m in [mine.as_str(), BASE] {
            assert_eq!(reconcile(None, m, &theirs()), Outcome::Conflict);
            assert!(edited(None, m));
        }
        assert_eq!(reconcile(None, &theirs(), &theirs()), Outcome::Generated);
    }

    #[test]
    fn a_paragraph_beside_changed_text_goes_before_the_heading_that_followed_it() {
        let mine = BASE.replace("Old text.\n\n", "Old text.\n\nSeen in case 42.\n\n");
        let t = BASE.replace("Old text.", "Rewritten upstream.");
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &t) else {
            panic!("not merged")
        };
        assert!(
            m.contains("Rewritten upstream.\n\nSeen in case 42.\n\n| a | b |"),
            "{m}"
        );
    }

    #[test]
    fn a_paragraph_whose_surroundings_all_changed_stays_in_its_section() {
        let base = "# T\n\n## Description\n\nOld.\nOld too.\n\n## Detection\n\nOld detection.\n";
        let mine = base.replace("Old.\n", "Old.\nMine.\n");
        let t = "# T\n\n## Description\n\nNew.\nMore new.\n\n## Mitigations\n\nM.\n\n## Detection\n\nNew detection.\n";
        let Outcome::Merged(m) = reconcile(Some(base), &mine, t) else {
            panic!("not merged")
        };
        assert!(m.contains("More new.\n\nMine.\n## Mitigations"), "{m}");
        assert!(m.ends_with("New detection.\n"), "{m}");
    }

    #[test]
    fn windows_line_ends_are_no_edit_and_do_not_conflict() {
        let crlf = format!("\u{feff}{}", BASE.replace('\n', "\r\n"));
        assert!(!edited(Some(BASE), &crlf));
        assert_eq!(reconcile(Some(BASE), &crlf, &theirs()), Outcome::Generated);
        let mine = format!("{crlf}Mine.\r\n");
        let Outcome::Merged(m) = reconcile(Some(BASE), &mine, &theirs()) else {
            panic!("not merged")
        };
        assert!(m.contains("2. y\n") && m.ends_with("Mine.\n"), "{m}");
    }

    #[test]
    fn list_items_keep_their_quotes_and_backslashes_through_a_merge() {
        let list = |extra: &str| {
            format!("---\naliases:\n  - \"C:\\\\Temp\\\\x\"\n  - 'say \"hi\"'\n{extra}---\nbody\n")
        };
        let (base, mine, theirs) = (list(""), list("  - mine\n"), list("  - new\n"));
        let Outcome::Merged(m) = reconcile(Some(&base), &mine, &theirs) else {
            panic!("not merged")
        };
        let expected = "aliases:\n  - \"C:\\\\Temp\\\\x\"\n  - \"say \\\"hi\\\"\"\n  - \"new\"\n  - \"mine\"\n";
        assert!(m.contains(expected), "{m}");
        // Read back, the items are what they were.
        assert_eq!(
            items(expected),
            ["C:\\Temp\\x", "say \"hi\"", "new", "mine"]
        );
        assert_eq!(items("tags: [a, \"b, c\", 3]\n"), ["a", "b, c", "3"]);
        assert_eq!(items("tags: [unclosed\n"), ["[unclosed"]);
    }

    #[test]
    fn lines_added_before_more_lines_than_the_new_version_has_never_panic() {
        // The analyst added a line above two base lines; the new version is
        // one line long: the two lines are looked for, never read past it.
        let base = "a\nb\nc\n";
        let mine = "a\nmine\nb\nc\nmine too\n";
        let theirs = "z\n";
        let out = reconcile(Some(base), mine, theirs);
        assert!(
            matches!(out, Outcome::Conflict | Outcome::Merged(_)),
            "{out:?}"
        );
    }

    /// A xorshift generator: the same edits on every run.
    struct Edits(u64);

    impl Edits {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        /// A generated body of lines, some alike (rows, blank lines, headings).
        fn body(&mut self) -> Vec<String> {
            const ALIKE: [&str; 6] = ["| a | b |", "", "## Rules", "- item", "| x | y |", "# T"];
            (0..3 + self.below(12))
                .map(|i| match self.below(3) {
                    0 => ALIKE[self.below(ALIKE.len())].to_string(),
                    _ => format!("gen {i}"),
                })
                .collect()
        }
    }

    #[test]
    fn random_edits_merged_keep_every_line_either_side_wrote() {
        let mut r = Edits(0x9e37_79b9_7f4a_7c15);
        let joined = |v: &[String]| v.join("\n") + "\n";
        let mut merged = 0;
        for round in 0..20_000 {
            let base = r.body();
            // The analyst adds lines, or rewrites one and adds others.
            let (mut mine, mut added) = (base.clone(), Vec::new());
            for k in 0..1 + r.below(3) {
                let line = format!("mine {round} {k}");
                if k == 0 && r.below(4) == 0 {
                    let at = r.below(mine.len());
                    mine[at] = line.clone();
                } else {
                    let at = r.below(mine.len() + 1);
                    mine.insert(at, line.clone());
                }
                added.push(line);
            }
            // Upstream changes, removes and adds lines.
            let mut theirs = base.clone();
            for k in 0..1 + r.below(4) {
                let line = format!("new {round} {k}");
                match r.below(3) {
                    0 if !theirs.is_empty() => {
                        let at = r.below(theirs.len());
                        theirs[at] = line.clone();
                    }
                    1 if !theirs.is_empty() => {
                        theirs.remove(r.below(theirs.len()));
                        continue;
                    }
                    _ => {
                        let at = r.below(theirs.len() + 1);
                        theirs.insert(at, line.clone());
                    }
                }
                added.push(line);
            }
            let (b, m, t) = (joined(&base), joined(&mine), joined(&theirs));
            if let Outcome::Merged(out) = reconcile(Some(&b), &m, &t) {
                merged += 1;
                for line in added.iter().filter(|l| m.contains(*l) || t.contains(*l)) {
                    assert!(
                        out.lines().any(|l| l == line),
                        "{line} lost\nbase:\n{b}mine:\n{m}theirs:\n{t}merged:\n{out}"
                    );
                }
            }
        }
        assert!(merged > 10_000, "most such edits merge: {merged}");
    }
}
