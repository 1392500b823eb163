//! Pass 1 of the export: every note read once, in parallel, for what the
//! whole site needs before any page can be written — its title and kind,
//! its links (for backlinks and graphs), its tags, its coverage, and its
//! words for the search index. Bodies are rendered here once, for their
//! links, and kept on disk (see `spool`), not in memory: the export holds
//! one page at a time, not the whole vault twice over (Markdown and HTML).

use super::cache::{self, Entry, Recording};
use super::heatmap;
use super::markdown;
use super::search::Postings;
use super::spool::Spool;
use super::{Resolver, url_part};
use crate::vault::frontmatter;
use crate::vault::resolve::NoteNames;
use rayon::prelude::*;
use serde_json::Value;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// A note's place: its file, its vault path and its page's URL.
pub(super) struct Page {
    pub file: PathBuf,
    /// Vault-relative path without `.md`, `/`-separated.
    pub path: String,
    pub url: String,
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
    /// The properties panel: (key, value as HTML).
    pub properties: Vec<(String, String)>,
    /// Pages linked from the text and from link properties.
    pub out_links: Vec<usize>,
    /// Link targets that resolve to no note.
    pub unresolved: Vec<String>,
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

/// Folders of the site's own pages (tag pages, search shards): a note
/// folder of the same name gets a `-` after it, a name [`url_part`] never
/// gives.
const SITE_FOLDERS: [&str; 2] = ["tags", "search"];

/// Each note's page URL, given in file order, so that a clash always
/// resolves the same way (`-2`, `-3`, ...; URLs compare case-insensitively).
/// The site's own `index.html` and folders are never a note's.
pub(super) fn pages(vault: &Path, files: Vec<PathBuf>) -> Vec<Page> {
    let mut used: BTreeSet<String> = BTreeSet::from(["index.html".to_string()]);
    files
        .into_iter()
        .map(|file| {
            let rel = file
                .strip_prefix(vault)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            let path = rel.trim_end_matches(".md").to_string();
            let mut parts: Vec<String> = path.split('/').map(url_part).collect();
            if parts.len() > 1 && SITE_FOLDERS.contains(&parts[0].as_str()) {
                parts[0].push('-');
            }
            let base = parts.join("/");
            let mut url = format!("{base}.html");
            let mut n = 2;
            while !used.insert(url.to_lowercase()) {
                url = format!("{base}-{n}.html");
                n += 1;
            }
            Page { file, path, url }
        })
        .collect()
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
    match std::fs::read(file) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|e| {
            warn(format!(
                "not valid UTF-8 at byte {}: shown with replacement characters",
                e.utf8_error().valid_up_to()
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }),
        Err(e) => {
            warn(format!("cannot read: {e}"));
            String::new()
        }
    }
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
        let (yaml, body) = frontmatter::split(&text);
        let fm = match yaml.map(frontmatter::parse) {
            Some(Ok(m)) => m.into_iter().collect(),
            Some(Err(e)) => {
                diags.push(
                    Diagnostic::warning("export", format!("frontmatter not read: {e}"))
                        .in_file(file),
                );
                serde_json::Map::new()
            }
            None => serde_json::Map::new(),
        };
        let body_at = text.len() - body.len();
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
        let body = self.body();
        match body.trim_start().strip_prefix("# ") {
            Some(rest) => rest.split_once('\n').map(|x| x.1).unwrap_or(""),
            None => body,
        }
    }

    pub fn str(&self, key: &str) -> Option<&str> {
        self.fm.get(key).and_then(Value::as_str)
    }

    fn strings(&self, key: &str) -> Vec<String> {
        self.fm
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The title: the body's first `# ` heading, the `title` property, or
    /// the file name.
    fn title(&self, path: &str) -> String {
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

/// What pass 1 gathered over the whole vault.
pub(super) struct Scan {
    pub metas: Vec<Meta>,
    pub postings: Postings,
}

/// Pass 1 over every note, in parallel pieces of at least 64 notes (each
/// piece's search postings are merged once at the end).
pub(super) fn scan(
    pages: &[Page],
    names: &NoteNames,
    (spool, old): (Option<&Spool>, Vec<Option<Entry>>),
    diags: &Diagnostics,
) -> Scan {
    // The largest notes first: one can take as long as hundreds of small
    // ones, and left to the end a few of them ran on one core alone.
    let sizes: Vec<u64> = pages
        .par_iter()
        .map(|p| std::fs::metadata(&p.file).map_or(0, |m| m.len()))
        .collect();
    let mut work: Vec<(usize, Option<Entry>)> = old.into_iter().enumerate().collect();
    work.sort_by_key(|(i, _)| (std::cmp::Reverse(sizes[*i]), *i));
    let (mut metas, postings) = work
        .into_par_iter()
        .with_min_len(64)
        .fold(
            || (Vec::new(), Postings::default()),
            |(mut metas, mut postings), (i, old)| {
                let note = Note::read(&pages[i].file, diags);
                super::search::add(&mut postings, i as u32, note.body());
                let r = Resolver::new(names, pages, &pages[i].url, None);
                let body = body(&note, i, &r, spool, old);
                metas.push((i, meta(&note, &pages[i], body, &r, names)));
                (metas, postings)
            },
        )
        .reduce(
            || (Vec::new(), Postings::default()),
            |(mut ma, pa), (mb, pb)| {
                ma.extend(mb);
                (ma, super::search::merge(pa, pb))
            },
        );
    metas.sort_unstable_by_key(|m| m.0);
    let metas = metas.into_iter().map(|m| m.1).collect();
    Scan { metas, postings }
}

/// What pass 1 learns of a note's body: the notes it links to, the tags
/// in its text, its record (none for heatmap pages) and what the last export
/// kept of its page (see [`Meta::last`]).
struct Learnt {
    links: Vec<String>,
    tags: Vec<String>,
    record: Option<cache::Body>,
    last: Option<(u64, u64)>,
}

/// A note's body: as the last export found it (`old`), when its text and
/// what it links to are the same; else rendered (and kept for pass 2).
fn body(note: &Note, i: usize, r: &Resolver, spool: Option<&Spool>, old: Option<Entry>) -> Learnt {
    let md = note.body_untitled();
    if super::page::is_heatmap(note.str("type").unwrap_or("note")) {
        let links = markdown::links(md, r);
        let tags = r.take_tags();
        return Learnt {
            links,
            tags,
            record: None,
            last: None,
        };
    }
    let text = cache::hash(md);
    if let Some(e) = old.filter(|e| e.body.holds(text, r)) {
        return Learnt {
            links: e.body.link_targets(),
            tags: e.body.tags.clone(),
            last: Some((e.page, e.out)),
            record: Some(e.body),
        };
    }
    let rec = Recording::new(r);
    let (html, links) = super::page::body_html(md, &rec);
    if let Some(s) = spool {
        s.put(i, &html);
    }
    let tags = r.take_tags();
    Learnt {
        record: rec.body(text, &links, tags.clone()),
        links,
        tags,
        last: None,
    }
}

/// One note's [`Meta`], given what pass 1 learnt of its body.
fn meta(note: &Note, page: &Page, body: Learnt, r: &Resolver, names: &NoteNames) -> Meta {
    let mut out_links = Vec::new();
    let mut unresolved = Vec::new();
    for target in body.links {
        match names.find(&target) {
            Some(i) => out_links.push(i),
            None => unresolved.push(target),
        }
    }
    out_links.extend(
        note.fm
            .values()
            .filter_map(property_link)
            .filter_map(|t| names.find(t)),
    );
    let mut tags = note.strings("tags");
    tags.extend(body.tags);
    let title = note.title(&page.path);
    Meta {
        properties: super::page::properties(note, r),
        coverage: coverage_cell(note, &title),
        kind: note.str("type").unwrap_or("note").to_string(),
        id: note.str("id").unwrap_or("").to_string(),
        name: note.str("name").unwrap_or(&title).to_string(),
        title,
        aliases: note.strings("aliases"),
        body: body.record,
        last: body.last,
        tags,
        out_links,
        unresolved,
        parent: note
            .fm
            .get("parent")
            .and_then(property_link)
            .and_then(|t| names.find(t)),
    }
}

/// A technique's coverage cell, from its note's properties.
fn coverage_cell(note: &Note, title: &str) -> Option<heatmap::Cell> {
    let n = |k: &str| note.fm.get(k).and_then(Value::as_i64).unwrap_or(0);
    let label = note.str("coverage")?;
    let class = heatmap::class_of(label)?;
    let title = format!(
        "{title}: {label}; {} rules, {} fired, {} atomic tests",
        n("rules"),
        n("rules_fired"),
        n("atomic_tests")
    );
    Some(heatmap::Cell {
        class,
        title,
        subs: Vec::new(),
    })
}
