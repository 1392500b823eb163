//! Exporting a vault as a static website: one page per note (Markdown and
//! Obsidian syntax rendered, HTML sanitised), properties panel, backlinks, a
//! small local graph drawn as inline SVG, coverage as a heatmap, tag pages
//! folded by case, and client-side search from an index written at export
//! time. All URLs are relative, so the site works from `file://`, a
//! subfolder or a web root.
//!
//! Two passes keep memory flat whatever the vault's size: `scan` reads
//! every note for what the whole site needs (titles, links, tags, coverage,
//! search words) and renders its body into `spool`, a scratch file; `page`
//! then writes each page at once. `cache` lets an export over an existing
//! site skip the pages whose inputs did not change.

mod attachments;
mod cache;
pub mod embed;
pub mod graph;
pub mod heatmap;
pub mod highlight;
mod inline_notes;
mod listing;
pub mod markdown;
mod note;
mod page;
mod raw_html;
mod scan;
pub mod search;
mod spool;

use crate::output::{Folder, VaultWriter, WriteOptions, WriteReport};
use crate::vault::resolve::{NoteNames, name_key};
use note::{Meta, Page};
use rayon::prelude::*;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use sigma_engine::walk::{Hidden, tree};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const PAGE: &str = include_str!("../../templates/site/page.html");
const CSS: &str = include_str!("../../templates/site/style.css");

/// Pages the writer holds before it writes them out (see
/// [`VaultWriter::batched`]): small sites land in one burst, large ones
/// without holding the whole site in memory.
const WRITE_BATCH: usize = 8 << 20;

/// What `export` needs.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    pub vault: PathBuf,
    pub out: PathBuf,
    /// Absolute base URL, for the sitemap.
    pub base_url: Option<String>,
    /// Folder whose `page.html` / `style.css` override the built-in ones.
    pub templates: Option<PathBuf>,
    /// Refuse, instead of waiting, when another run writes the site.
    pub no_wait: bool,
}

/// What an export produced.
#[derive(Debug, Default)]
pub struct ExportSummary {
    pub pages: usize,
    pub tags: usize,
    /// (page, link target) of links that resolve to no note.
    pub unresolved: Vec<(String, String)>,
    /// (page, link target) of links to files of kinds the site leaves out
    /// (SVG, canvases, CSV): shown as text.
    pub unpublished: Vec<(String, String)>,
    /// Of the unresolved links' targets, those that are a note's alias
    /// (`T1059.006`), with the name a link gives that note: Obsidian
    /// resolves links by note name only.
    pub aliases: HashMap<String, String>,
    pub write: WriteReport,
    pub elapsed: Duration,
}

/// What the site publishes of an analyst's files, and why not SVG.
pub const PUBLISHED_FILES: &str = "the site publishes images (PNG, JPEG, GIF, WebP, BMP, AVIF) and PDFs; \
    not SVG, which runs its scripts when opened on its own (export a diagram as PNG to show it)";

/// A note's path in the vault, `/`-separated, without `.md`.
fn vault_path(vault: &Path, file: &Path) -> String {
    let rel = crate::vault::relative_path(vault, file);
    rel.trim_end_matches(".md").to_string()
}

/// URL-safe form of one path component.
fn url_part(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            // ASCII-only URLs: identical on every OS and never percent-encoded.
            for l in c.to_lowercase() {
                out.push_str(&format!("u{:x}", l as u32));
            }
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut t = out.trim_matches(['-', '.']).to_string();
    if t.is_empty() {
        t.push_str("page");
    }
    // `aux.html` cannot be made on Windows, nor served from there.
    if crate::vault::names::is_reserved_on_windows(&t) {
        t.insert(0, '_');
    }
    t
}

/// The tag pages' index, beside them.
const TAG_INDEX: &str = "tags/index.html";

/// A tag's page. The tag `index` (which the folder index notes carry) gets
/// `index-`, a name [`url_part`] never gives, so that it cannot take the
/// place of the tag index.
fn tag_url(tag: &str) -> String {
    let part = url_part(&tag.to_lowercase().replace('/', "-"));
    let url = format!("tags/{part}.html");
    if url == TAG_INDEX {
        format!("tags/{part}-.html")
    } else {
        url
    }
}

/// The site's one HTML escaper, for text and `"`-quoted attribute values.
fn html_escape(s: &str) -> String {
    escape(s, false)
}

/// The escaper of templates, which may quote attributes with `'` as well.
/// Unlike Tera's own, it leaves `/` as it is: every URL of every page would
/// otherwise grow by five bytes per slash.
fn template_escape(s: &str) -> String {
    escape(s, true)
}

/// Control characters other than white space (a `\u0000` a property
/// spelled) are no HTML text: shown as U+FFFD, as a browser's parser would.
fn escape(s: &str, apostrophe: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' if apostrophe => "&#39;",
            b'\t' | b'\n' | b'\r' => continue,
            0..0x20 | 0x7f => "\u{fffd}",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
    out
}

/// What a link can lead to.
#[derive(Clone, Copy)]
struct Links<'a> {
    /// The notes by name, and their pages.
    names: &'a NoteNames,
    pages: &'a [Page],
    attachments: &'a attachments::Attachments,
    /// The notes left out of the site (`publish: false`): not reported as
    /// unresolved where they are named.
    private: &'a NoteNames,
}

/// Links from one page: note names to page URLs relative to it, tags to
/// tag pages (collected, for pass 1), technique links to coverage cells on
/// heatmap pages.
struct Resolver<'a> {
    names: &'a NoteNames,
    pages: &'a [Page],
    attachments: &'a attachments::Attachments,
    /// Notes left out of the site.
    private: &'a NoteNames,
    prefix: String,
    /// The note's vault path: links resolve from its folder.
    from: String,
    /// The page's own URL, relative to itself.
    own: String,
    tags: Mutex<Vec<String>>,
    /// Technique coverage by page URL, on pages drawn as a heatmap.
    coverage: Option<&'a HashMap<String, heatmap::Cell>>,
}

/// The page a link target names, from the note at `from`. A redirect a
/// rename left leads on to the note it names, so that `[[Old#Part]]`
/// reaches the part and the new note has the backlink; one step only, and
/// a redirect whose note is gone stays where it is.
fn page_of(names: &NoteNames, pages: &[Page], target: &str, from: &str) -> Option<usize> {
    let i = names.find_from(target, from)?;
    let Some(to) = &pages[i].redirect else {
        return Some(i);
    };
    match names.find_from(to, &pages[i].path) {
        Some(j) if pages[j].redirect.is_none() => Some(j),
        _ => Some(i),
    }
}

impl<'a> Resolver<'a> {
    fn new(
        Links {
            names,
            pages,
            attachments,
            private,
        }: Links<'a>,
        page: &Page,
        coverage: Option<&'a HashMap<String, heatmap::Cell>>,
    ) -> Self {
        let url = &page.url;
        Resolver {
            names,
            pages,
            attachments,
            private,
            prefix: "../".repeat(url.matches('/').count()),
            from: page.path.clone(),
            own: format!("{}{url}", "../".repeat(url.matches('/').count())),
            tags: Mutex::new(Vec::new()),
            coverage,
        }
    }

    /// The tags met so far.
    fn take_tags(&self) -> Vec<String> {
        std::mem::take(&mut *self.tags.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl markdown::LinkResolver for Resolver<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        let url = match page_of(self.names, self.pages, target, &self.from) {
            Some(i) => &self.pages[i].url,
            None => &self.attachments.urls[self.attachments.find(target, &self.from)?],
        };
        Some(format!("{}{url}", self.prefix))
    }
    fn coverage(&self, url: &str) -> Option<&heatmap::Cell> {
        self.coverage?.get(url.strip_prefix(&self.prefix)?)
    }
    fn tag_url(&self, tag: &str) -> String {
        self.tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tag.to_string());
        self.embedded_tag_url(tag)
    }
    fn embedded_tag_url(&self, tag: &str) -> String {
        format!("{}{}", self.prefix, tag_url(tag))
    }
    fn root(&self) -> &str {
        &self.prefix
    }
    fn is_private(&self, target: &str) -> bool {
        self.private.find_from(target, &self.from).is_some()
            || self.attachments.is_unpublished(target, &self.from)
    }
    fn own_page(&self) -> Option<&str> {
        Some(&self.own)
    }
    fn embed(&self, target: &str) -> Option<embed::Embed> {
        let page = &self.pages[page_of(self.names, self.pages, target, &self.from)?];
        // Its problems were reported where the note itself was read.
        let note = note::Note::read(&page.file, &Diagnostics::new());
        Some(embed::Embed {
            url: format!("{}{}", self.prefix, page.url),
            title: note.title(&page.path),
            body: note.body().to_string(),
        })
    }
}

/// Each technique page's coverage cell by URL, with its sub-techniques'.
/// Each page's URL and the record pass 1 made of its body.
fn bodies<'a>(
    pages: &'a [Page],
    metas: &'a [Meta],
) -> impl Iterator<Item = (&'a str, Option<&'a cache::Body>)> {
    pages
        .iter()
        .zip(metas)
        .map(|(p, m)| (p.url.as_str(), m.body.as_ref()))
}

fn coverage_cells(pages: &[Page], metas: &[Meta]) -> HashMap<String, heatmap::Cell> {
    let mut cells: Vec<Option<heatmap::Cell>> = metas.iter().map(|m| m.coverage.clone()).collect();
    for (i, m) in metas.iter().enumerate() {
        let (Some(p), Some(c)) = (m.parent, &m.coverage) else {
            continue;
        };
        if let Some(parent) = cells.get_mut(p).and_then(Option::as_mut) {
            parent.subs.push(heatmap::Sub {
                url: pages[i].url.clone(),
                name: format!("{} {}", m.id, m.name),
                class: c.class,
                title: c.title.clone(),
            });
        }
    }
    cells
        .into_iter()
        .zip(pages)
        .filter_map(|(c, p)| {
            let mut c = c?;
            c.subs.sort_by(|a, b| a.name.cmp(&b.name));
            Some((p.url.clone(), c))
        })
        .collect()
}

/// The site folder must lie apart from the vault: inside it, the same or
/// around it, exporting would overwrite or delete notes.
fn check_apart(cfg: &ExportConfig) -> Result<(), Diagnostic> {
    use crate::paths::{Relation, relation};
    let how = match relation(&cfg.out, &cfg.vault) {
        Relation::Same => "is the vault",
        Relation::Inside => "lies inside the vault",
        Relation::Contains => "contains the vault",
        Relation::Apart => return Ok(()),
    };
    Err(Diagnostic::error(
        "export",
        format!(
            "the site folder {} {how}: exporting would overwrite or delete notes; choose another --out",
            cfg.out.display()
        ),
    )
    .in_file(&cfg.vault))
}

/// The page template and the style: the built-in ones unless the
/// templates folder overrides them.
fn theme(cfg: &ExportConfig) -> Result<(tera::Tera, String, String), Diagnostic> {
    let custom = |name: &str| {
        cfg.templates
            .as_ref()
            .map(|d| d.join(name))
            .filter(|p| p.is_file())
    };
    // As every text the tool reads: a byte order mark is no part of it.
    let read =
        |p: PathBuf| sigma_engine::text::read_file(&p).map_err(|e| e.diagnostic("template", &p));
    let page_path = custom("page.html");
    let page_tpl = page_path
        .clone()
        .map(read)
        .transpose()?
        .unwrap_or_else(|| PAGE.to_string());
    // What Tera would recurse on without bound, refused with its line.
    let shown = page_path.unwrap_or_else(|| PathBuf::from("page.html"));
    let refused = |why: String| Diagnostic::error("template", why).in_file(&shown);
    crate::vault::template_bounds::check_text(&page_tpl)
        .map_err(|(line, why)| refused(why).at(Some(line), None))?;
    crate::vault::template_bounds::check_macros(&[("page.html", &page_tpl)])
        .map_err(|r| refused(r.why).at(r.line, None))?;
    let mut tera = tera::Tera::default();
    tera.set_escape_fn(template_escape);
    tera.add_raw_template("page.html", &page_tpl)
        .map_err(|e| Diagnostic::error("template", format!("page.html: {e}")))?;
    let css = custom("style.css")
        .map(read)
        .transpose()?
        .unwrap_or_else(|| CSS.to_string());
    Ok((tera, css, page_tpl))
}

/// Who links to each page.
fn backlinks(metas: &[Meta]) -> Vec<BTreeSet<usize>> {
    let mut backlinks: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); metas.len()];
    for (i, m) in metas.iter().enumerate() {
        for &j in &m.out_links {
            if j != i {
                backlinks[j].insert(i);
            }
        }
    }
    backlinks
}

/// Every note's page, then the cache of what was written (when the
/// program can be told apart from other builds of it).
fn write_pages(site: &page::Site, program: Option<u64>) -> Result<(), Diagnostic> {
    let written = (0..site.pages.len())
        .into_par_iter()
        .map_init(Vec::new, |buf, i| site.note_page(i, buf))
        .collect::<Result<Vec<_>, _>>()?;
    match program {
        Some(p) => site.writer.write_state_compressed(
            cache::FILE,
            &cache::to_json(p, bodies(site.pages, site.metas), &written),
        ),
        None => Ok(()),
    }
}

/// Export a vault.
pub fn export(cfg: &ExportConfig, diags: &Diagnostics) -> Result<ExportSummary, Diagnostic> {
    let start = Instant::now();
    check_apart(cfg)?;
    if let Some(why) = crate::paths::not_a_vault(&cfg.vault) {
        return Err(Diagnostic::error("export", why).in_file(&cfg.vault));
    }
    let _vault_lock = read_lock(cfg)?;
    let Published { files, private } = published_notes(cfg, diags)?;
    let (tera, css, page_tpl) = theme(cfg)?;
    let pages = scan::pages(&cfg.vault, files);
    let names = NoteNames::new(pages.iter().map(|p| &p.path));
    let attachments = attachments::Attachments::new(&cfg.vault);
    // Private notes: named, never broken.
    let private = NoteNames::new(private.iter().map(|f| vault_path(&cfg.vault, f)));
    let links = Links {
        names: &names,
        pages: &pages,
        attachments: &attachments,
        private: &private,
    };
    let opts = WriteOptions {
        no_wait: cfg.no_wait,
        ..WriteOptions::default()
    };
    let writer = VaultWriter::open(&cfg.out, Folder::Site, opts, diags)?.batched(WRITE_BATCH);
    // Without a scratch file, bodies are rendered in pass 2 instead.
    let spool = writer
        .scratch(".bodies")
        .ok()
        .map(|f| spool::Spool::new(f, pages.len()));
    let program = cache::program(&page_tpl);
    let old = cache::Cache::read(&writer, program, pages.iter().map(|p| p.url.as_str()));
    let scan::Scan { metas, postings } = scan::scan(links, (spool.as_ref(), old), diags);
    let coverage = coverage_cells(&pages, &metas);
    let backlinks = backlinks(&metas);
    let tags = listing::tag_pages(&metas);
    let degree: Vec<usize> = metas
        .iter()
        .zip(&backlinks)
        .map(|(m, b)| m.out_links.len() + b.len())
        .collect();
    let drawn = drawn_nodes(&pages, &metas, &degree);
    let site = page::Site {
        tera: &tera,
        pages: &pages,
        links,
        metas: &metas,
        backlinks: &backlinks,
        degree,
        drawn,
        coverage: &coverage,
        spool: spool.as_ref(),
        writer: &writer,
    };
    // The search files first: their postings are freed before the pages.
    let written = listing::write_search(&writer, &pages, &metas, postings)
        .and_then(|()| write_pages(&site, program))
        .and_then(|()| write_listings(&site, cfg, &tags, &css, diags));
    drop(spool);
    if let Err(e) = written {
        writer.abort();
        return Err(e);
    }
    let write = writer.commit()?;
    let unresolved = each_target(&pages, &metas, |m| &m.unresolved);
    Ok(ExportSummary {
        pages: pages.len(),
        tags: tags.len(),
        aliases: aliases_named(&unresolved, &pages, &metas, &names),
        unresolved,
        unpublished: each_target(&pages, &metas, |m| &m.unpublished),
        write,
        elapsed: start.elapsed(),
    })
}

/// The notes of a vault, as the site takes them.
struct Published {
    /// The notes to publish, with where each redirect leads.
    files: Vec<(PathBuf, Option<String>)>,
    /// The notes left out (`publish: false`, drafts).
    private: Vec<PathBuf>,
}

/// The notes to publish (with where each redirect leads) and the private
/// ones (`publish: false`, drafts),
/// after naming the `.md` entries that are not files (never opened). An
/// error when there is nothing to publish.
fn published_notes(cfg: &ExportConfig, diags: &Diagnostics) -> Result<Published, Diagnostic> {
    let notes = crate::vault::notes_naming_unopened(&cfg.vault, "export", diags);
    let fronts: Vec<note::Front> = notes.par_iter().map(|f| note::front(f)).collect();
    let (mut files, mut private) = (Vec::new(), Vec::new());
    for (f, front) in notes.into_iter().zip(fronts) {
        if front.private {
            private.push(f);
        } else {
            files.push((f, front.redirect));
        }
    }
    if files.is_empty() {
        let msg = match private.len() {
            0 => "no notes (.md files) in the vault".to_string(),
            n => format!("no note to publish: all {n} say `publish: false` or `draft: true`"),
        };
        return Err(Diagnostic::error("export", msg).in_file(&cfg.vault));
    }
    Ok(Published { files, private })
}

/// What follows the pages: tag pages, the site's assets and attachments.
fn write_listings(
    site: &page::Site,
    cfg: &ExportConfig,
    tags: &listing::TagPages,
    css: &str,
    diags: &Diagnostics,
) -> Result<(), Diagnostic> {
    let (writer, pages, metas) = (site.writer, site.pages, site.metas);
    listing::write_tags(writer, site.tera, pages, metas, tags)?;
    let base = cfg.base_url.as_deref();
    listing::write_assets(writer, pages, metas, css, base)?;
    listing::write_attachments(writer, site.links.attachments, metas, diags)
}

/// A share of the vault's lock, where the vault has one: a build must not
/// change the vault while it is read, and other exports may read it too.
fn read_lock(cfg: &ExportConfig) -> Result<Option<crate::output::WriterLock>, Diagnostic> {
    let state = cfg.vault.join(crate::output::STATE_DIR);
    if !state.is_dir() {
        return Ok(None);
    }
    let read = crate::output::Access::Read;
    crate::output::WriterLock::acquire_in(&state, &cfg.vault, read, !cfg.no_wait).map(Some)
}

/// Each page as the graph draws it.
fn drawn_nodes(pages: &[note::Page], metas: &[note::Meta], degree: &[usize]) -> Vec<graph::Drawn> {
    (0..pages.len())
        .into_par_iter()
        .map(|j| graph::Drawn::new(&metas[j].title, &pages[j].url, &metas[j].kind, degree[j]))
        .collect()
}

/// Each link of a kind `kind` picks from a page's links (those that
/// resolve to no page, or to a file the site leaves out): (the note it is
/// in, its target).
fn each_target(
    pages: &[note::Page],
    metas: &[note::Meta],
    kind: impl Fn(&note::Meta) -> &Vec<String>,
) -> Vec<(String, String)> {
    pages
        .iter()
        .zip(metas)
        .flat_map(|(p, m)| kind(m).iter().map(|t| (p.path.clone(), t.clone())))
        .collect()
}

/// The targets of `unresolved` links that are a note's alias, with the
/// name a link gives that note.
fn aliases_named(
    unresolved: &[(String, String)],
    pages: &[note::Page],
    metas: &[note::Meta],
    names: &NoteNames,
) -> HashMap<String, String> {
    if unresolved.is_empty() {
        return HashMap::new();
    }
    let mut by_alias = HashMap::new();
    for (i, m) in metas.iter().enumerate() {
        for a in &m.aliases {
            by_alias.entry(name_key(a)).or_insert(i);
        }
    }
    (unresolved.iter())
        .filter_map(|(_, t)| {
            let &i = by_alias.get(&name_key(t))?;
            Some((t.clone(), names.link_name(i, &pages[i].path)))
        })
        .collect()
}

/// Paths of the site's files, for link checking.
pub fn site_files(site: &Path) -> BTreeSet<String> {
    tree(site, Hidden::Keep)
        .into_iter()
        .filter(|e| e.is_file())
        .map(|e| e.rel)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{html_escape, template_escape, url_part};

    #[test]
    fn page_names_are_ascii_and_never_a_windows_device() {
        assert_eq!(url_part("Caf\u{e9} Notes"), "cafue9-notes");
        for (name, part) in [("Aux", "_aux"), ("LPT1.v2", "_lpt1.v2"), ("con", "_con")] {
            assert_eq!(url_part(name), part);
        }
        assert_eq!(url_part("Console"), "console");
        assert_eq!(url_part("_CON"), "_con");
    }

    #[test]
    fn markup_and_control_characters_never_reach_a_page_raw() {
        assert_eq!(
            html_escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;'&lt;/a&gt;"
        );
        assert_eq!(template_escape("'"), "&#39;");
        assert_eq!(
            html_escape("x\u{0}y\u{1b}z\u{7f}"),
            "x\u{fffd}y\u{fffd}z\u{fffd}"
        );
        assert_eq!(html_escape("a\tb\nc\r\nd é"), "a\tb\nc\r\nd é");
    }
}
