//! How a wikilink target names a note, as Obsidian resolves it: by its path
//! (`Folder/Note`, and `Note` for the root's), by its name (`Note`: the one
//! in the linking note's folder, else the shortest path wins), or by the end of its path
//! (`Sub/Note`), or relative to the linking note (`../Folder/Note`, as
//! Obsidian's relative-path link format writes links); case-insensitive,
//! `.md` optional. `check`
//! and the site both resolve through this, so they never disagree about a
//! link.

use rustc_hash::FxHashMap as HashMap;

/// The notes of a vault, by path and by name.
#[derive(Debug, Default)]
pub struct NoteNames {
    /// Vault-relative paths without `.md`, `/`-separated, lower case.
    paths: Vec<String>,
    by_path: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
}

impl NoteNames {
    /// Index notes given by their vault-relative paths (`.md` optional);
    /// [`Self::find`] answers with positions in this order.
    pub fn new<S: AsRef<str>>(paths: impl IntoIterator<Item = S>) -> NoteNames {
        let mut n = NoteNames::default();
        for (i, p) in paths.into_iter().enumerate() {
            let p = key(p.as_ref().trim_end_matches(".md"));
            let name = p.rsplit('/').next().unwrap_or(&p).to_string();
            n.by_name.entry(name).or_default().push(i);
            n.by_path.insert(p.clone(), i);
            n.paths.push(p);
        }
        n
    }

    /// The name a link gives note `i` (at vault path `path`): its file
    /// name, or its path where another note has that name.
    pub fn link_name(&self, i: usize, path: &str) -> String {
        let path = path.trim_end_matches(".md");
        let name = path.rsplit('/').next().unwrap_or(path);
        match self.find(name) {
            Some(m) if m == i => name.to_string(),
            _ => path.to_string(),
        }
    }

    /// The note a link target (without `#heading` or `|alias`) names, in
    /// a note at the vault's root.
    pub fn find(&self, target: &str) -> Option<usize> {
        self.find_from(target, "")
    }

    /// The note a link target names in the note at `from` (its vault
    /// path), in Obsidian's order (observed on Obsidian 1.13): the note at
    /// the target's vault path (`[[Home]]` is `Home.md` at the root, even
    /// beside another `Home.md`); else, of several notes with the target's
    /// name, the one in `from`'s own folder; else the shortest path.
    pub fn find_from(&self, target: &str, from: &str) -> Option<usize> {
        // `[[Note.MD]]` names `Note.md` too.
        let lowered = key(target.trim());
        let mut t = lowered.trim_end_matches(".md");
        // `[[../Techniques/Note]]`, as Obsidian writes links with its
        // relative-path format: from `from`'s folder, else by what follows.
        if t.starts_with("./") || t.starts_with("../") {
            if let Some(&i) = relative_to(t, from).and_then(|p| self.by_path.get(&p)) {
                return Some(i);
            }
            t = without_dots(t);
        }
        let name = t.rsplit('/').next().unwrap_or(t);
        let named = self.by_name.get(name)?;
        if let Some(&i) = self.by_path.get(t) {
            return Some(i);
        }
        if named.len() > 1
            && let Some((folder, _)) = from.rsplit_once('/')
            && let Some(&i) = self.by_path.get(&format!("{}/{t}", key(folder)))
        {
            return Some(i);
        }
        // By name, or by the end of the path: the shortest path wins (the
        // first for a tie).
        let suffix = (name.len() < t.len()).then(|| format!("/{t}"));
        named
            .iter()
            .copied()
            .filter(|&i| suffix.as_ref().is_none_or(|s| self.paths[i].ends_with(s)))
            .min_by_key(|&i| (self.paths[i].len(), &self.paths[i]))
    }
}

/// The vault path a target written relative to its note (`./Note`,
/// `../Folder/Note`) names from the note at `from`; `None` for one that
/// climbs above the vault.
fn relative_to(t: &str, from: &str) -> Option<String> {
    let folder = from.rsplit_once('/').map_or(String::new(), |(f, _)| key(f));
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in t.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// A path without its leading `./` and `../`.
pub fn without_dots(mut path: &str) -> &str {
    while let Some(r) = path.strip_prefix("./").or_else(|| path.strip_prefix("../")) {
        path = r;
    }
    path
}

/// A note's name or alias as links compare it (`key`), spaces around
/// it aside.
pub fn name_key(name: &str) -> String {
    key(name.trim())
}

/// A name as links compare it: in lower case and composed (NFC), so that
/// `Café` typed in a link finds the note a Mac saved as `Cafe\u{301}.md`
/// (decomposed, as HFS+ writes names and git and sync tools carry them).
fn key(name: &str) -> String {
    composed(name).to_lowercase()
}

/// A text in Unicode's composed form (NFC), as links and headings are
/// compared; borrowed when it already is, as nearly every text is.
pub fn composed(text: &str) -> std::borrow::Cow<'_, str> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(text)
}

/// Where a Markdown link or image inside the vault leads, given its
/// destination (without the brackets): the path, percent-decoded, with
/// `./` and `../` aside (Obsidian writes them from the vault's root or the
/// note's folder, and [`NoteNames::find`] takes the end of a path), and
/// the heading. None for a web, mail or in-page link, and for a web
/// address without its scheme (`//example.org/a.png`).
pub fn relative_target(dest: &str) -> Option<(String, Option<String>)> {
    if dest.contains(':') || dest.starts_with("//") {
        return None;
    }
    let (path, heading) = match dest.split_once('#') {
        Some((p, h)) => (p, Some(decode(h))),
        None => (dest, None),
    };
    let path = decode(path);
    let rest = without_dots(&path).trim_start_matches('/');
    (!rest.is_empty()).then(|| (rest.to_string(), heading))
}

fn decode(t: &str) -> String {
    percent_encoding::percent_decode_str(t)
        .decode_utf8_lossy()
        .to_string()
}

/// The note and heading a Markdown link names: another note
/// ([`markdown_note_target`]) or, for `#Heading` alone (Obsidian writes
/// `[Part](#My%20part)`), a heading or block of the note the link is in,
/// named by an empty note name, as `[[#Heading]]` names it.
pub fn markdown_link_target(dest: &str) -> Option<(String, Option<String>)> {
    match dest.strip_prefix('#') {
        Some(anchor) => {
            let anchor = decode(anchor);
            (!anchor.trim().is_empty()).then(|| (String::new(), Some(anchor)))
        }
        None => markdown_note_target(dest),
    }
}

/// What a Markdown link inside the vault names, as Obsidian reads it: a
/// note (`Note.md`, or `Note` without its extension, which Obsidian also
/// follows; empty for `#Heading` of its own note) or a file of the vault
/// (`report.pdf`), with the heading or block.
pub fn link_target(dest: &str) -> Option<(String, Option<String>)> {
    markdown_link_target(dest).or_else(|| relative_target(dest))
}

/// The file of the vault a Markdown link or image names (`report.pdf`,
/// `img/net.png`, `board.canvas`): a [`relative_target`] whose last part
/// has an extension, with the heading.
pub fn file_target(dest: &str) -> Option<(String, Option<String>)> {
    let (path, heading) = relative_target(dest)?;
    let last = path.rsplit('/').next().unwrap_or(&path);
    last.contains('.').then_some((path, heading))
}

/// The note a Markdown link names, as Obsidian writes one when wikilinks
/// are off (`[text](My%20notes/Hunt.md#Heading)`, `[text](<My notes/Hunt.md>)`):
/// its [`relative_target`], without `.md`. None for a file that is no note
/// (`diagram.png`).
pub fn markdown_note_target(dest: &str) -> Option<(String, Option<String>)> {
    let (path, heading) = relative_target(dest)?;
    let cut = path.len().checked_sub(3)?;
    if !path.get(cut..)?.eq_ignore_ascii_case(".md") || cut == 0 {
        return None;
    }
    Some((path[..cut].to_string(), heading))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_links_to_notes_as_obsidian_writes_them() {
        let t = |d: &str| markdown_note_target(d);
        let owned = |p: &str, h: Option<&str>| Some((p.to_string(), h.map(str::to_string)));
        assert_eq!(
            t("My%20notes/Hunt%20log.md"),
            owned("My notes/Hunt log", None)
        );
        assert_eq!(t("My notes/Hunt log.md"), owned("My notes/Hunt log", None));
        assert_eq!(
            t("../Home.md#Start%20here"),
            owned("Home", Some("Start here"))
        );
        assert_eq!(t("./Note.MD"), owned("Note", None));
        assert_eq!(t("https://example.com/a.md"), None);
        assert_eq!(t("diagram.png"), None);
        assert_eq!(t("#heading"), None);
        assert_eq!(t(".md"), None);
        assert_eq!(t("%E9.md"), owned("\u{fffd}", None));
    }

    #[test]
    fn a_markdown_link_names_a_note_with_its_extension_or_without() {
        let owned = |p: &str, h: Option<&str>| Some((p.to_string(), h.map(str::to_string)));
        assert_eq!(
            link_target("Notes/Hunt%20log.md"),
            owned("Notes/Hunt log", None)
        );
        assert_eq!(
            link_target("Notes/Hunt%20log"),
            owned("Notes/Hunt log", None)
        );
        assert_eq!(
            link_target("../T1059.006%20Python#Detection"),
            owned("T1059.006 Python", Some("Detection"))
        );
        assert_eq!(link_target("#Part"), owned("", Some("Part")));
        assert_eq!(link_target("report.pdf"), owned("report.pdf", None));
        assert_eq!(link_target("https://x.org/a"), None);
        assert_eq!(link_target("mailto:a@x.org"), None);
    }

    #[test]
    fn a_markdown_link_to_a_file_names_it_by_its_path() {
        let owned = |p: &str| Some((p.to_string(), None));
        assert_eq!(file_target("../img/Net%201.png"), owned("img/Net 1.png"));
        assert_eq!(file_target("Board.canvas"), owned("Board.canvas"));
        assert_eq!(file_target("Notes/Hunt"), None, "no extension: no file");
        assert_eq!(file_target("https://x.org/a.png"), None);
        assert_eq!(file_target("//x.org/a.png"), None, "a web address");
        assert_eq!(file_target("#Part"), None);
    }

    #[test]
    fn a_markdown_link_to_a_heading_alone_names_its_own_note() {
        let t = |d: &str| markdown_link_target(d);
        let owned = |p: &str, h: &str| Some((p.to_string(), Some(h.to_string())));
        assert_eq!(t("#My%20part"), owned("", "My part"));
        assert_eq!(t("#^block-1"), owned("", "^block-1"));
        assert_eq!(t("Home.md#Start"), owned("Home", "Start"));
        assert_eq!(t("#"), None);
        assert_eq!(t("#%20"), None);
        assert_eq!(t("diagram.png"), None);
    }

    #[test]
    fn paths_names_and_partial_paths() {
        let n = NoteNames::new([
            "Techniques/T1059 Command.md",
            "Home.md",
            "Deep/Techniques/T1059 Command.md",
            "Other/Home",
        ]);
        assert_eq!(n.find("t1059 command"), Some(0), "the shortest path wins");
        assert_eq!(n.find("Deep/Techniques/T1059 Command"), Some(2));
        assert_eq!(n.find("Deep/Techniques/T1059 Command.md"), Some(2));
        assert_eq!(n.find("Techniques/T1059 Command"), Some(0));
        assert_eq!(n.find("Other/Home"), Some(3));
        assert_eq!(n.find("home"), Some(1));
        assert_eq!(
            n.find("niques/T1059 Command"),
            None,
            "whole folder names only"
        );
        assert_eq!(n.find("Missing"), None);
    }

    #[test]
    fn names_compare_composed_however_the_disk_spells_them() {
        let n = NoteNames::new([
            "Notes/Cafe\u{301} cre\u{300}me.md",
            "Re\u{301}sume\u{301}/Plan",
        ]);
        assert_eq!(n.find("Café crème"), Some(0));
        assert_eq!(n.find("CAFÉ CRÈME"), Some(0));
        assert_eq!(n.find("Notes/Cafe\u{301} crème"), Some(0));
        assert_eq!(n.find("Résumé/Plan"), Some(1));
        assert_eq!(n.find_from("Plan", "Résumé/Index"), Some(1));
    }

    #[test]
    fn a_link_finds_the_note_at_its_path_then_in_its_own_folder() {
        // Obsidian's order, as observed on Obsidian 1.13: the vault path,
        // then the linking note's own folder (not its parents'), then the
        // shortest path.
        let n = NoteNames::new([
            "Home.md",
            "Cases/Deep/Home.md",
            "Cases/Deep/Sub/X.md",
            "Sub/X.md",
            "Archive/Old/Log.md",
            "Cases/Deep/Log.md",
            "Notes/Log.md",
        ]);
        assert_eq!(n.find_from("home", "Cases/Deep/A.md"), Some(0), "the path");
        assert_eq!(n.find_from("Home", "Cases/A.md"), Some(0));
        assert_eq!(n.find_from("Sub/X", "Cases/Deep/A.md"), Some(3), "the path");
        assert_eq!(n.find_from("Log", "Cases/Deep/A.md"), Some(5), "its folder");
        assert_eq!(
            n.find_from("Log", "Cases/Deep/More/A.md"),
            Some(6),
            "the shortest"
        );
        assert_eq!(n.find_from("Log", "A.md"), Some(6));
        assert_eq!(
            n.find_from("Deep/Sub/X", "A.md"),
            Some(2),
            "the end of a path"
        );
        assert_eq!(n.find_from("Cases/Deep/Home", "Cases/Deep/A.md"), Some(1));
        assert_eq!(n.find_from("Missing", "Cases/Deep/A.md"), None);
        assert_eq!(n.find_from("Notes/Log.MD", "A.md"), Some(6));
    }

    #[test]
    fn a_link_written_relative_to_its_note_is_followed_from_its_folder() {
        // Obsidian's "relative path to file" link format.
        let n = NoteNames::new([
            "Home.md",
            "Cases/Deep/Home.md",
            "Cases/Deep/Sub/X.md",
            "Sub/X.md",
        ]);
        assert_eq!(n.find_from("../../Home", "Cases/Deep/A.md"), Some(0));
        assert_eq!(n.find_from("./Home", "Cases/Deep/A.md"), Some(1));
        assert_eq!(n.find_from("./Sub/X.md", "Cases/Deep/A.md"), Some(2));
        assert_eq!(n.find_from("../../Sub/X", "Cases/Deep/A.md"), Some(3));
        assert_eq!(n.find_from("../Deep/./Home", "Cases/Deep/A.md"), Some(1));
        // Nothing there: found as `Sub/X` would be.
        assert_eq!(n.find_from("../Sub/X", "Cases/Deep/A.md"), Some(3));
        assert_eq!(
            n.find_from("../../../Home", "Cases/A.md"),
            Some(0),
            "above the vault"
        );
        assert_eq!(n.find_from("./Missing", "Cases/Deep/A.md"), None);
    }
}
