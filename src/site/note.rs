//! A note as the site reads it: its place (file, vault path, URL), its
//! text split into properties and body, and what pass 1 keeps of it.

use super::cache;
use super::heatmap;
use crate::vault::frontmatter;
use serde_json::Value;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// A note's place: its file, its vault path and its page's URL.
pub(super) struct Page {
    pub file: PathBuf,
    /// Vault-relative path without `.md`, `/`-separated.
    pub path: String,
    pub url: String,
    /// The note it leads to, when it is the redirect a rename left.
    pub redirect: Option<String>,
}

/// What pass 1 keeps of a note.
#[derive(Default)]
pub(super) struct Meta {
    pub title: String,
    /// The note's `type` (`technique`, `detection_rule`, ...).
    pub kind: String,
    pub id: String,
    /// The `name` property (the title without it).
    pub name: String,
    pub aliases: Vec<String>,
    /// Frontmatter tags, then those in the text.
    pub tags: Vec<String>,
    /// Its `cssclasses`, as Obsidian gives them to the note's pane: the
    /// page's `<body>` carries them.
    pub classes: Vec<String>,
    /// The properties panel: (key, value as HTML).
    pub properties: Vec<(String, String)>,
    /// Pages linked from the text and from link properties.
    pub out_links: Vec<usize>,
    /// Link targets that resolve to no note.
    pub unresolved: Vec<String>,
    /// Link targets naming files of the vault the site does not publish.
    pub unpublished: Vec<String>,
    /// The attachments its text embeds or links.
    pub attachments: Vec<usize>,
    /// The page its `parent` property names (sub-techniques).
    pub parent: Option<usize>,
    /// Coverage class and tooltip, for technique notes that have one.
    pub coverage: Option<heatmap::Cell>,
    /// Its body's record for the cache (none for heatmap pages).
    pub body: Option<cache::Body>,
    /// When the body is as the last export found it: the hashes that export
    /// kept of the page's inputs and of the page it wrote.
    pub last: Option<(u64, u64)>,
}

/// What the site must know of a note before any page is rendered, read
/// from its properties alone.
#[derive(Debug, Default)]
pub(super) struct Front {
    /// `publish: false` (as Obsidian Publish reads it) or `draft: true` (as
    /// Quartz does): left out of the site.
    pub private: bool,
    /// A redirect's new note ([`frontmatter::redirect`]).
    pub redirect: Option<String>,
}

/// A note's [`Front`]: only its properties block is read, up to its
/// closing line, and parsed as every note's properties are.
pub(super) fn front(file: &Path) -> Front {
    let block = properties_block(file);
    match block.map(|b| frontmatter::note_properties(&b)) {
        Some(Ok(Some(props))) => Front {
            private: frontmatter::private_in(&props),
            redirect: frontmatter::redirect_in(&props),
        },
        _ => Front::default(),
    }
}

/// A note's properties block, delimiters included, read line by line (and
/// with replacement characters where it is not UTF-8, as the note's page
/// reads it); none when the note does not start with one (its first bytes
/// tell, so a note without properties is not read further).
fn properties_block(file: &Path) -> Option<String> {
    use std::io::{BufRead, Read};
    let mut reader = std::io::BufReader::new(std::fs::File::open(file).ok()?);
    let mut line = Vec::new();
    (&mut reader).take(8).read_until(b'\n', &mut line).ok()?;
    if line.starts_with(sigma_engine::text::UTF8_BOM) {
        line.drain(..sigma_engine::text::UTF8_BOM.len());
    }
    if line.trim_ascii_end() != b"---" {
        return None;
    }
    let mut block = String::from_utf8_lossy(&line).into_owned();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        block.push_str(&String::from_utf8_lossy(&line));
        if matches!(line.trim_ascii_end(), b"---" | b"...") {
            return Some(block);
        }
    }
}

/// A note's text. A note that is not UTF-8 is read with replacement
/// characters, and one that cannot be read is an empty page: either way
/// its page exists, so links to it still lead somewhere. `diags` receives
/// the problem (pass 1 passes them; pass 2 reads the same files again).
pub(super) fn read_note(file: &Path, diags: Option<&Diagnostics>) -> String {
    let warn = |msg: String| {
        if let Some(d) = diags {
            d.push(Diagnostic::warning("export", msg).in_file(file));
        }
    };
    crate::vault::read_note(file, &mut |m| warn(m))
}

/// A note split into its properties and its body.
pub(super) struct Note {
    pub fm: serde_json::Map<String, Value>,
    pub text: String,
    body_at: usize,
}

impl Note {
    /// A note's text with its properties parsed; problems go to `diags`.
    pub fn read(file: &Path, diags: &Diagnostics) -> Note {
        let text = read_note(file, Some(diags));
        let fm = match frontmatter::note_properties(&text) {
            Ok(m) => m.into_iter().flatten().collect(),
            Err(e) => {
                let msg = format!("frontmatter not read: {}", e.message);
                diags.push(
                    Diagnostic::warning("export", msg)
                        .in_file(file)
                        .at(e.line, e.column),
                );
                serde_json::Map::new()
            }
        };
        let body_at = text.len() - frontmatter::split(&text).1.len();
        Note { fm, text, body_at }
    }

    /// A note's text read again, its properties left unparsed (pass 1 has
    /// rendered them and reported its problems).
    pub fn read_again(file: &Path) -> Note {
        let text = read_note(file, None);
        let body_at = text.len() - frontmatter::split(&text).1.len();
        Note {
            fm: serde_json::Map::new(),
            text,
            body_at,
        }
    }

    pub fn body(&self) -> &str {
        &self.text[self.body_at..]
    }

    /// The body without its `# Title` line, which the page shows itself.
    pub fn body_untitled(&self) -> &str {
        crate::vault::anchors::untitled(self.body())
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.fm.get(key).and_then(Value::as_str)
    }

    /// A list property's texts ([`frontmatter::texts`]).
    pub(super) fn strings(&self, key: &str) -> Vec<String> {
        let texts = frontmatter::texts(self.fm.get(key));
        texts.into_iter().map(str::to_string).collect()
    }

    /// The note's `cssclasses` (one text or a list; `cssclass`, as older
    /// notes write it, too), each a class name of letters, digits, `-` and
    /// `_` (anything else could not be one class).
    pub(super) fn css_classes(&self) -> Vec<String> {
        let mut classes = self.strings("cssclasses");
        classes.extend(self.strings("cssclass"));
        let valid = |c: &String| {
            !c.is_empty()
                && c.chars()
                    .all(|x| x.is_ascii_alphanumeric() || matches!(x, '-' | '_'))
        };
        classes.retain(valid);
        classes
    }

    /// The note's tags as Obsidian reads its `tags` property: a list, or
    /// one text of tags apart by commas or spaces (`tags: ioc, apt29`); a
    /// leading `#` is no part of a tag.
    pub(super) fn tags(&self) -> Vec<String> {
        tags_of(self.fm.get("tags"))
    }

    /// The title: the body's first `# ` heading, the `title` property, or
    /// the file name.
    pub(super) fn title(&self, path: &str) -> String {
        self.body()
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .or_else(|| self.str("title"))
            .map(str::to_string)
            .unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path).to_string())
    }
}

/// The target of a property holding one wikilink (`[[Note|label]]`).
pub(super) fn property_link(v: &Value) -> Option<&str> {
    let t = v.as_str()?.trim();
    let inner = t.strip_prefix("[[")?.strip_suffix("]]")?;
    Some(inner.split('|').next().unwrap_or(""))
}

/// The notes a property's wikilinks name, one value or a list of them
/// (`related: ["[[A]]", "[[B#Part]]"]`): each note once per link, as a
/// body's links are listed.
pub(super) fn property_links(v: &Value) -> Vec<String> {
    let values = match v {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    values
        .into_iter()
        .filter_map(property_link)
        .map(|t| super::markdown::wikilink_target(t).0.into_owned())
        .filter(|page| !page.is_empty())
        .collect()
}

/// The tags a `tags` property value holds ([`Note::tags`]).
pub(super) fn tags_of(v: Option<&Value>) -> Vec<String> {
    let words: Vec<&str> = match v {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => s.split([',', ' ']).collect(),
        _ => Vec::new(),
    };
    words
        .into_iter()
        .map(|w| w.trim().trim_start_matches('#'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}
