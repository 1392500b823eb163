//! Checking a vault on disk: every wikilink resolves to a note (by Obsidian's
//! rules: file name or vault path, case-insensitive) and, where it names a
//! heading or a block (`[[Note#Heading]]`, `[[Note#^id]]`), to one the note
//! has (a heading renamed by a template leaves no link dangling unseen),
//! every footnote reference has its definition, every note's properties are
//! valid YAML, no ATT&CK `(Citation: …)` text is left, and no raw
//! attack.mitre.org link points at a page that the vault has a note for.

use super::frontmatter;
use super::index::url_key;
use super::resolve::name_key;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// What [`check_vault`] found.
#[derive(Debug, Default)]
pub struct CheckReport {
    pub notes: usize,
    pub links: usize,
    /// (note, link as written: `[[target]]`, `(path.md)`) pairs that
    /// resolve to no note.
    pub unresolved: Vec<(String, String)>,
    /// Links that name a note's alias, not a note: Obsidian leaves them
    /// unresolved too.
    pub aliases: Vec<AliasLink>,
    /// Links whose note has no such heading or block.
    pub missing_anchors: Vec<MissingAnchor>,
    /// (note, label) footnote references without a definition.
    pub missing_footnotes: Vec<(String, String)>,
    /// Notes that still contain `(Citation:`.
    pub citations_left: Vec<String>,
    /// (note, url) raw links to an ATT&CK page that has a note in the vault.
    pub raw_links_to_notes: Vec<(String, String)>,
    /// (note, problem) notes that could not be read, or not as UTF-8.
    pub unreadable: Vec<(String, String)>,
    /// (note, problem) notes whose properties are no valid YAML: Obsidian,
    /// Dataview and Bases see none of them.
    pub bad_properties: Vec<(String, String)>,
}

/// A link naming a note's alias (`[[T1059.006]]` for the note whose
/// `aliases` hold `T1059.006`). Obsidian resolves links by note name only,
/// and writes `[[T1059.006 Python|T1059.006]]` when an alias is picked.
#[derive(Debug, PartialEq)]
pub struct AliasLink {
    /// The linking note.
    pub note: String,
    /// The link as written.
    pub link: String,
    /// The alias, as the link names it.
    pub alias: String,
    /// The name of the note whose alias it is, as a link names it.
    pub of: String,
}

/// A link to a heading or block its note lacks.
#[derive(Debug, PartialEq)]
pub struct MissingAnchor {
    /// The linking note.
    pub note: String,
    /// The link as written.
    pub link: String,
    /// Where the linked note went when it is the redirect a rename left
    /// (an upstream release retitled a rule): the new note's name, and
    /// whether it has the heading, so the analyst knows what to link.
    pub renamed: Option<(String, bool)>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.unresolved.is_empty()
            && self.aliases.is_empty()
            && self.missing_anchors.is_empty()
            && self.missing_footnotes.is_empty()
            && self.citations_left.is_empty()
            && self.raw_links_to_notes.is_empty()
            && self.unreadable.is_empty()
            && self.bad_properties.is_empty()
    }
}

/// Wikilink targets (`[[target|label]]`, `[[target#h]]`, `\|` in tables) of a text.
pub fn wikilink_targets(md: &str) -> Vec<String> {
    wikilinks(md).map(|(target, _, _)| target).collect()
}

/// Wikilinks of a text: each one's note, the heading or block it names,
/// and its target as written (`Note#Part`, without the label).
fn wikilinks(md: &str) -> impl Iterator<Item = (String, Option<String>, &str)> + '_ {
    delimited(md, "[[", "]]").map(|(inner, _)| {
        let target = inner.split('|').next().unwrap_or("").trim_end_matches('\\');
        let (note, anchor) = match target.split_once('#') {
            Some((note, anchor)) => (note, Some(anchor.trim().to_string())),
            None => (target, None),
        };
        (
            note.trim().to_string(),
            anchor.filter(|a| !a.is_empty()),
            target,
        )
    })
}

/// The spans of a text between `open` and the next `close`, each with the
/// text after its `close`.
fn delimited<'t>(
    text: &'t str,
    open: &'t str,
    close: &'t str,
) -> impl Iterator<Item = (&'t str, &'t str)> + 't {
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let p = rest.find(open)?;
            let escaped = rest[..p].ends_with('\\');
            let after = &rest[p + open.len()..];
            if escaped {
                // `\](` or `\[^` is text, not markup.
                rest = after;
                continue;
            }
            let e = after.find(close)?;
            rest = &after[e + close.len()..];
            return Some((&after[..e], rest));
        }
    })
}

/// Walk `dir` and check every Markdown note.
pub fn check_vault(dir: &Path) -> CheckReport {
    let mut r = CheckReport::default();
    let Read {
        texts,
        note_urls,
        aliases,
    } = read_notes(dir, &mut r);
    r.notes = texts.len();
    let names = super::resolve::NoteNames::new(texts.iter().map(|(rel, _)| rel));
    // Links may name the vault's other files (`![[diagram.png]]`) too.
    let files = super::resolve::NoteNames::new(
        super::attachment_files(dir)
            .iter()
            .map(|f| super::relative_path(dir, f)),
    );
    let mut links = Links {
        texts: &texts,
        names: &names,
        files: &files,
        aliases: &aliases,
        anchors: HashMap::new(),
    };
    // What is read of each note: its text outside code, its properties.
    let scans: Vec<String> = {
        use rayon::prelude::*;
        texts
            .par_iter()
            .map(|(_, text)| {
                let (fm, body) = frontmatter::split(text);
                super::literal::without_code(body) + fm.unwrap_or("")
            })
            .collect()
    };
    for (i, ((rel, _), scan)) in texts.iter().zip(&scans).enumerate() {
        for (t, anchor, written) in wikilinks(scan) {
            r.links += 1;
            let shown = format!("[[{written}]]");
            links.judge(i, &t, anchor.as_deref(), shown, &mut r);
        }
        for label in missing_footnotes(scan) {
            r.missing_footnotes.push((rel.clone(), label.to_string()));
        }
        if scan.contains("(Citation:") {
            r.citations_left.push(rel.clone());
        }
        for url in markdown_link_urls(scan) {
            if let Some((target, anchor)) = super::resolve::link_target(destination(url)) {
                r.links += 1;
                links.judge(i, &target, anchor.as_deref(), format!("({url})"), &mut r);
                continue;
            }
            let key = url_key(url);
            if key.starts_with("attack.mitre.org/") && note_urls.contains_key(&key) {
                r.raw_links_to_notes.push((rel.clone(), url.to_string()));
            }
        }
    }
    r
}

/// The vault's notes and files, which links are judged against.
struct Links<'v> {
    /// (vault path, text) of each note.
    texts: &'v [(String, String)],
    names: &'v super::resolve::NoteNames,
    files: &'v super::resolve::NoteNames,
    /// The note each alias names (by [`name_key`]).
    aliases: &'v HashMap<String, usize>,
    /// The headings and blocks of the notes links name with an anchor.
    anchors: HashMap<usize, super::anchors::Anchors>,
}

impl Links<'_> {
    /// Judge a link of note `from` to `target` (a note or file; empty for
    /// `from` itself) and the heading or block it names, reporting it,
    /// `shown` as written, if it leads nowhere.
    fn judge(
        &mut self,
        from: usize,
        target: &str,
        anchor: Option<&str>,
        shown: String,
        r: &mut CheckReport,
    ) {
        let rel = &self.texts[from].0;
        // A hostile note's megabyte link is named by its start.
        let clip = |shown: String| sigma_engine::text::excerpt(&shown, 200).into_owned();
        let note = if target.is_empty() {
            Some(from)
        } else {
            self.names.find_from(target, rel)
        };
        match (note, anchor) {
            (None, _) if self.files.find(target).is_none() => match self.alias_of(target) {
                Some(of) => r.aliases.push(AliasLink {
                    note: rel.clone(),
                    link: clip(shown),
                    alias: clip(target.to_string()),
                    of,
                }),
                None => r.unresolved.push((rel.clone(), clip(shown))),
            },
            (Some(n), Some(a)) if !self.lands(n, a) => {
                let renamed = self.redirect(n).map(|to| {
                    let there = self.names.find_from(&to, &self.texts[n].0);
                    let lands = there.is_some_and(|m| self.lands(m, a));
                    (to, lands)
                });
                r.missing_anchors.push(MissingAnchor {
                    note: rel.clone(),
                    link: clip(shown),
                    renamed,
                });
            }
            _ => {}
        }
    }

    /// The name of the note whose alias `target` is, as a link names it:
    /// its file name, or its path where another note has that name.
    fn alias_of(&self, target: &str) -> Option<String> {
        let n = *self.aliases.get(&name_key(target))?;
        Some(self.names.link_name(n, &self.texts[n].0))
    }

    /// The note that note `n` redirects to, if it is a redirect
    /// (`redirect: "[[New name]]"`).
    fn redirect(&self, n: usize) -> Option<String> {
        frontmatter::redirect(&self.texts[n].1)
    }

    /// Whether note `n` has the heading or block an anchor names (its
    /// headings and blocks read once, however many links name them).
    fn lands(&mut self, n: usize, anchor: &str) -> bool {
        let text = &self.texts[n].1;
        let anchors = self
            .anchors
            .entry(n)
            .or_insert_with(|| super::anchors::Anchors::of(frontmatter::split(text).1));
        anchors.get(anchor).is_some()
    }
}

/// What is read of a vault's notes.
struct Read {
    /// Each note: (path in the vault, text).
    texts: Vec<(String, String)>,
    /// The notes by the ATT&CK address in their `url` property.
    note_urls: HashMap<String, String>,
    /// The notes (their index in `texts`) by each alias in their `aliases`
    /// property ([`name_key`]); the first note to claim one keeps it.
    aliases: HashMap<String, usize>,
}

/// Every note of the vault ([`Read`]); notes that cannot be read as UTF-8,
/// and notes whose properties are no valid YAML, are listed in `r`.
fn read_notes(dir: &Path, r: &mut CheckReport) -> Read {
    let mut read = Read {
        texts: Vec::new(),
        note_urls: HashMap::new(),
        aliases: HashMap::new(),
    };
    let (files, unopened) = super::note_listing(dir);
    for rel in unopened {
        r.unreadable.push((rel, super::NOT_OPENED.to_string()));
    }
    for f in &files {
        let rel = super::relative_path(dir, f);
        let text = super::read_note(f, &mut |problem| r.unreadable.push((rel.clone(), problem)));
        match frontmatter::note_properties(&text) {
            Ok(Some(map)) => {
                if let Some(u) = map.get("url").and_then(|u| u.as_str()) {
                    read.note_urls.insert(url_key(u), rel.clone());
                }
                for a in frontmatter::texts(map.get("aliases")) {
                    read.aliases.entry(name_key(a)).or_insert(read.texts.len());
                }
            }
            Ok(None) => {}
            Err(e) => r.bad_properties.push((rel.clone(), properties_problem(&e))),
        }
        read.texts.push((rel, text));
    }
    read
}

/// Why a note's properties were not read, at their line and column.
fn properties_problem(e: &frontmatter::PropertiesError) -> String {
    let at = match (e.line, e.column) {
        (Some(l), Some(c)) => format!("{l}:{c}: "),
        (Some(l), None) => format!("{l}: "),
        _ => String::new(),
    };
    format!("{at}properties not read: {}", e.message)
}

/// The labels of footnote references (`[^1]`) with no definition
/// (`[^1]: …`) in the text.
fn missing_footnotes(scan: &str) -> Vec<&str> {
    let defs: HashSet<&str> = scan
        .lines()
        .filter_map(|l| {
            l.strip_prefix("[^")
                .and_then(|x| x.split_once("]:"))
                .map(|(l, _)| l)
        })
        .collect();
    delimited(scan, "[^", "]")
        .filter(|(label, next)| {
            !next.starts_with(':')
                && !label.is_empty()
                && !label.contains(char::is_whitespace)
                && !defs.contains(label)
        })
        .map(|(label, _)| label)
        .collect()
}

/// A Markdown link's destination without its brackets or title:
/// `<My notes/A.md> "title"` is `My notes/A.md`.
fn destination(url: &str) -> &str {
    let url = url.trim();
    match url.strip_prefix('<') {
        Some(inner) => inner.split('>').next().unwrap_or(inner),
        None => url.split_whitespace().next().unwrap_or(url),
    }
}

/// The targets of the Markdown links (`[text](url)`) of a text.
fn markdown_link_urls(scan: &str) -> Vec<&str> {
    delimited(scan, "](", ")").map(|(url, _)| url).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_handle_tables_headings_and_code() {
        let md = "x [[A b\\|c]] [[D#h]] `[[not]]` [[#self]]\n```\n[[nope]]\n```\n\n\
                  > [!example]\n> ```\n> [[quoted code]]\n> ```\n\n````md\n```\n[[in a longer fence]]\n````\n";
        assert_eq!(
            wikilink_targets(&super::super::literal::without_code(md)),
            vec!["A b", "D", ""]
        );
    }

    #[test]
    fn finds_broken_links_and_footnotes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("A.md"),
            "[[B]] [[Missing]] x[^1] y[^2] [b](B.md) [c](<./B.md> \"B\") [g](Gone.md) \\[t\\](Text.md) z\\[^3] [h](B) [i](Nowhere)\n\n[^1]: ok\n(Citation: X)",
        )
        .unwrap();
        std::fs::write(dir.path().join("B.md"), "---\nurl: \"https://attack.mitre.org/techniques/T1\"\n---\n[t](https://attack.mitre.org/techniques/T1/)").unwrap();
        let r = check_vault(dir.path());
        assert_eq!(
            r.unresolved,
            vec![
                ("A.md".to_string(), "[[Missing]]".to_string()),
                ("A.md".to_string(), "(Gone.md)".to_string()),
                ("A.md".to_string(), "(Nowhere)".to_string()),
            ]
        );
        assert_eq!(
            r.missing_footnotes,
            vec![("A.md".to_string(), "2".to_string())]
        );
        assert_eq!(r.citations_left, vec!["A.md".to_string()]);
        assert_eq!(r.raw_links_to_notes.len(), 1);
    }

    #[test]
    fn a_link_naming_an_alias_says_whose_alias_it_is() {
        // Obsidian resolves links by note name only: picked from its
        // suggestions, an alias is written [[Artificial Intelligence|AI]].
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "Topics/Artificial Intelligence.md",
            "---\naliases:\n  - AI\n  - \"Caf\u{e9} IA\"\n---\n# AI\n",
        );
        write(
            "Artificial Intelligence.md",
            "# Another note of that name\n",
        );
        write("Dog.md", "---\naliases: Doggo\n---\n# Dog\n");
        write(
            "Notes.md",
            "[[ai]] [[Cafe\u{301} IA|caf\u{e9}]] [[Doggo#Walks]] [x](Doggo.md) [[Dog]] [[Cat]]\n",
        );
        let r = check_vault(dir.path());
        let named: Vec<(&str, &str, &str)> = (r.aliases.iter())
            .map(|a| (a.link.as_str(), a.alias.as_str(), a.of.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                ("[[ai]]", "ai", "Topics/Artificial Intelligence"),
                (
                    "[[Cafe\u{301} IA]]",
                    "Cafe\u{301} IA",
                    "Topics/Artificial Intelligence"
                ),
                ("[[Doggo#Walks]]", "Doggo", "Dog"),
                ("(Doggo.md)", "Doggo", "Dog"),
            ]
        );
        assert_eq!(
            r.unresolved,
            [("Notes.md".to_string(), "[[Cat]]".to_string())]
        );
        assert!(!r.is_clean());
    }

    #[test]
    fn a_link_of_a_megabyte_is_named_by_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let long = "[".repeat(1 << 20) + &"]".repeat(1 << 20);
        std::fs::write(dir.path().join("A.md"), format!("x: {long}\n")).unwrap();
        let r = check_vault(dir.path());
        let (_, link) = &r.unresolved[0];
        assert!(link.starts_with("[[[[") && link.ends_with('…'), "{link}");
        assert_eq!(link.chars().count(), 201);
    }

    #[test]
    fn links_to_headings_and_blocks_the_note_lacks_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write(
            "Playbook.md",
            "---\ntitle: P\n---\n# Playbook\n\n## Triage: first steps\n\nLook. ^look\n\n```\n## In code\n```\n",
        );
        write(
            "Case.md",
            "[[Playbook#Triage: first steps]] [[Playbook#triage first steps|alias]] \
             [[Playbook#Playbook#Triage: first steps]] [[Playbook#^look]] [[#Here]] \
             [[Playbook#Scope]] [[Playbook#^gone]] [[Playbook#In code]] [[#Nowhere]] \
             [[Gone#Any]] [m](Playbook.md#Triage%3A%20first%20steps) [n](#Here) \
             [o](<Playbook.md#^look>) [p](Playbook.md#Scope) [q](#Nowhere%20else)\n\n## Here\n",
        );
        let r = check_vault(dir.path());
        let missing: Vec<&str> = r.missing_anchors.iter().map(|m| m.link.as_str()).collect();
        assert_eq!(
            missing,
            [
                "[[Playbook#Scope]]",
                "[[Playbook#^gone]]",
                "[[Playbook#In code]]",
                "[[#Nowhere]]",
                "(Playbook.md#Scope)",
                "(#Nowhere%20else)"
            ]
        );
        assert_eq!(
            r.unresolved,
            [("Case.md".to_string(), "[[Gone#Any]]".to_string())]
        );
        assert!(!r.is_clean());
    }

    #[test]
    fn a_heading_is_looked_for_in_the_note_the_link_opens() {
        // Of two notes named Playbook, none at the vault's root: the one
        // beside the linking note, else the shorter path.
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        std::fs::create_dir(dir.path().join("Cases")).unwrap();
        std::fs::create_dir(dir.path().join("Ops")).unwrap();
        write("Ops/Playbook.md", "# Playbook\n\n## Ops steps\n");
        write("Cases/Playbook.md", "# Playbook\n\n## Case steps\n");
        write(
            "Cases/Case.md",
            "[[Playbook#Case steps]] [[Playbook#Ops steps]]\n",
        );
        write(
            "Home.md",
            "[[Playbook#Ops steps]] [[Playbook#Case steps]]\n",
        );
        let r = check_vault(dir.path());
        let missing: Vec<(&str, &str)> = r
            .missing_anchors
            .iter()
            .map(|m| (m.note.as_str(), m.link.as_str()))
            .collect();
        assert_eq!(
            missing,
            [
                ("Cases/Case.md", "[[Playbook#Ops steps]]"),
                ("Home.md", "[[Playbook#Case steps]]")
            ]
        );
    }

    #[test]
    fn a_note_that_is_not_utf8_is_reported_and_still_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Caf\u{e9}.md"), b"R\xe9sum\xe9 [[Gone]]").unwrap();
        let r = check_vault(dir.path());
        assert_eq!(
            r.unreadable,
            vec![(
                "Caf\u{e9}.md".to_string(),
                "not valid UTF-8 at byte 1: read with replacement characters".to_string()
            )]
        );
        assert_eq!(r.unresolved.len(), 1);
        assert!(!r.is_clean());
    }

    #[test]
    fn properties_that_are_no_yaml_are_reported_with_their_place() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("Bad.md", "---\ntags: [a\nowner: me\n---\nBody [[Good]]\n");
        write("Good.md", "---\ntags: [a]\n---\nBody\n");
        let r = check_vault(dir.path());
        assert_eq!(r.bad_properties.len(), 1, "{:?}", r.bad_properties);
        let (note, problem) = &r.bad_properties[0];
        assert_eq!(note, "Bad.md");
        assert!(
            problem.starts_with("3:") && problem.contains("properties not read"),
            "{problem}"
        );
        assert_eq!(r.links, 1, "the rest of the note is still checked");
        assert!(!r.is_clean());
    }
}
