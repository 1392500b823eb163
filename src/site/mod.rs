//! Exporting a vault as a static website: one page per note (Markdown and
//! Obsidian syntax rendered, HTML sanitised), properties panel, backlinks, a
//! small local graph drawn as inline SVG, tag pages folded by case, and
//! client-side search from an index written at export time. All URLs are
//! relative, so the site works from `file://`, a subfolder or a web root.

pub mod graph;
pub mod heatmap;
pub mod highlight;
pub mod markdown;
pub mod search;

use crate::output::{VaultWriter, WriteOptions, WriteReport};
use crate::vault::frontmatter;
use markdown::LinkResolver;
use rayon::prelude::*;
use serde_json::{Value, json};
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use walkdir::WalkDir;

const PAGE: &str = include_str!("../../templates/site/page.html");
const CSS: &str = include_str!("../../templates/site/style.css");
const FAVICON: &str = include_str!("../../templates/site/favicon.svg");
const SEARCH_JS: &str = include_str!("../../templates/site/search.js");

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
    pub write: WriteReport,
    pub elapsed: Duration,
}

struct Source {
    /// Vault-relative path without `.md`, `/`-separated.
    path: String,
    url: String,
    title: String,
    /// The note's `type` (`technique`, `detection_rule`, ...), kept for the
    /// graphs after the properties are freed.
    kind: String,
    fm: serde_json::Map<String, Value>,
    body: String,
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
    let t = out.trim_matches(['-', '.']).to_string();
    if t.is_empty() { "page".into() } else { t }
}

struct Resolver<'a> {
    names: &'a crate::vault::resolve::NoteNames,
    sources: &'a [Source],
    prefix: String,
    tags: Mutex<Vec<String>>,
    /// Technique coverage by page URL, on pages drawn as a heatmap.
    coverage: Option<&'a HashMap<String, heatmap::Cell>>,
}

impl Resolver<'_> {
    fn find(&self, target: &str) -> Option<usize> {
        self.names.find(target)
    }
}

impl LinkResolver for Resolver<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        self.find(target)
            .map(|i| format!("{}{}", self.prefix, self.sources[i].url))
    }
    fn coverage(&self, url: &str) -> Option<heatmap::Cell> {
        self.coverage?.get(url.strip_prefix(&self.prefix)?).cloned()
    }
    fn tag_url(&self, tag: &str) -> String {
        self.tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tag.to_string());
        format!("{}{}", self.prefix, tag_url(tag))
    }
}

/// Each technique page's coverage, from its note's properties.
fn coverage_cells(sources: &[Source]) -> HashMap<String, heatmap::Cell> {
    let n = |s: &Source, k: &str| s.fm.get(k).and_then(Value::as_i64).unwrap_or(0);
    sources
        .iter()
        .filter_map(|s| {
            let label = s.fm.get("coverage")?.as_str()?;
            let class = heatmap::class_of(label)?;
            let title = format!(
                "{}: {label}; {} rules, {} fired, {} atomic tests",
                s.title,
                n(s, "rules"),
                n(s, "rules_fired"),
                n(s, "atomic_tests")
            );
            Some((s.url.clone(), heatmap::Cell { class, title }))
        })
        .collect()
}

fn tag_url(tag: &str) -> String {
    format!(
        "tags/{}.html",
        url_part(&tag.to_lowercase().replace('/', "-"))
    )
}

/// The site's one HTML escaper: text and attribute values alike.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Render a property value; wikilinks in it become links.
fn property_html(v: &Value, r: &Resolver) -> String {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| property_html(x, r))
            .collect::<Vec<_>>()
            .join(", "),
        Value::String(s) => {
            let t = s.trim();
            if let Some(inner) = t.strip_prefix("[[").and_then(|x| x.strip_suffix("]]")) {
                let (target, label) = inner.split_once('|').unwrap_or((inner, inner));
                return match r.resolve(target) {
                    Some(u) => {
                        format!("<a href=\"{}\">{}</a>", html_escape(&u), html_escape(label))
                    }
                    None => format!("<span class=\"unresolved\">{}</span>", html_escape(label)),
                };
            }
            if t.starts_with("https://") || t.starts_with("http://") {
                return format!("<a href=\"{0}\">{0}</a>", html_escape(t));
            }
            html_escape(t)
        }
        Value::Null => String::new(),
        other => html_escape(&other.to_string()),
    }
}

/// A small local graph: the note in the middle, its direct links around it.
/// Export a vault.
pub fn export(cfg: &ExportConfig, diags: &Diagnostics) -> Result<ExportSummary, Diagnostic> {
    let start = Instant::now();
    use crate::paths::{Relation, relation};
    let clash = match relation(&cfg.out, &cfg.vault) {
        Relation::Same => Some("is the vault"),
        Relation::Inside => Some("lies inside the vault"),
        Relation::Contains => Some("contains the vault"),
        Relation::Apart => None,
    };
    if let Some(how) = clash {
        return Err(Diagnostic::error(
            "export",
            format!(
                "the site folder {} {how}: exporting would overwrite or delete notes; choose another --out",
                cfg.out.display()
            ),
        )
        .in_file(&cfg.vault));
    }
    // A build must not change the vault while it is read.
    let state = cfg.vault.join(crate::output::STATE_DIR);
    let _vault_lock = if state.is_dir() {
        Some(crate::output::WriterLock::acquire(&state, !cfg.no_wait)?)
    } else {
        None
    };
    let mut files: Vec<PathBuf> = WalkDir::new(&cfg.vault)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(
            Diagnostic::error("export", "no notes (.md files) in the vault").in_file(&cfg.vault),
        );
    }
    // Read and parse the notes in parallel; URLs are then given in file
    // order, so that a clash always resolves the same way.
    let mut sources: Vec<Source> = files
        .par_iter()
        .filter_map(|f| {
            let rel = f
                .strip_prefix(&cfg.vault)
                .unwrap_or(f)
                .to_string_lossy()
                .replace('\\', "/");
            let path = rel.trim_end_matches(".md").to_string();
            let stem = path.rsplit('/').next().unwrap_or(&path).to_string();
            let text = match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => {
                    diags.push(
                        Diagnostic::warning("export", format!("cannot read: {e}")).in_file(f),
                    );
                    return None;
                }
            };
            let (yaml, body) = frontmatter::split(&text);
            let fm = match yaml.map(frontmatter::parse) {
                Some(Ok(m)) => m.into_iter().collect(),
                Some(Err(e)) => {
                    diags.push(
                        Diagnostic::warning("export", format!("frontmatter not read: {e}"))
                            .in_file(f),
                    );
                    serde_json::Map::new()
                }
                None => serde_json::Map::new(),
            };
            let title = body
                .lines()
                .find_map(|l| l.strip_prefix("# "))
                .map(str::to_string)
                .or_else(|| fm.get("title").and_then(Value::as_str).map(str::to_string))
                .unwrap_or(stem);
            Some(Source {
                path,
                url: String::new(),
                title,
                kind: fm
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("note")
                    .to_string(),
                fm,
                body: body.to_string(),
            })
        })
        .collect();
    let mut used_urls: BTreeSet<String> = BTreeSet::new();
    for s in &mut sources {
        let mut url = s
            .path
            .split('/')
            .map(url_part)
            .collect::<Vec<_>>()
            .join("/")
            + ".html";
        let mut n = 2;
        while !used_urls.insert(url.to_lowercase()) {
            url = format!(
                "{}-{n}.html",
                url.trim_end_matches(".html")
                    .trim_end_matches(&format!("-{}", n - 1))
            );
            n += 1;
        }
        s.url = url;
    }
    let names = crate::vault::resolve::NoteNames::new(sources.iter().map(|s| &s.path));
    let mut tera = tera::Tera::default();
    let page_tpl = cfg
        .templates
        .as_ref()
        .map(|d| d.join("page.html"))
        .filter(|p| p.is_file())
        .map(|p| {
            std::fs::read_to_string(&p)
                .map_err(|e| Diagnostic::error("template", e.to_string()).in_file(&p))
        })
        .transpose()?
        .unwrap_or_else(|| PAGE.to_string());
    tera.add_raw_template("page.html", &page_tpl)
        .map_err(|e| Diagnostic::error("template", format!("page.html: {e}")))?;
    let css = cfg
        .templates
        .as_ref()
        .map(|d| d.join("style.css"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_else(|| CSS.to_string());

    let coverage = coverage_cells(&sources);
    // Pass 1: render bodies, collect links and tags.
    let mut rendered: Vec<Rendered> = sources
        .par_iter()
        .map(|s| {
            let depth = s.url.matches('/').count();
            let r = Resolver {
                names: &names,
                sources: &sources,
                prefix: "../".repeat(depth),
                tags: Mutex::new(Vec::new()),
                coverage: matches!(
                    s.fm.get("type").and_then(Value::as_str),
                    Some("matrix" | "coverage")
                )
                .then_some(&coverage),
            };
            let body = match s.body.trim_start().strip_prefix("# ") {
                // The title is shown by the page itself.
                Some(rest) => rest.split_once('\n').map(|x| x.1).unwrap_or("").to_string(),
                None => s.body.clone(),
            };
            let markdown::Rendered {
                html,
                links,
                needs_sanitizing,
                ..
            } = markdown::render(&body, &r);
            let mut out_links = Vec::new();
            let mut unresolved = Vec::new();
            for (target, url) in links {
                match url {
                    Some(_) if target.is_empty() => {}
                    Some(_) => {
                        if let Some(i) = r.find(&target) {
                            out_links.push(i);
                        }
                    }
                    None => unresolved.push(target),
                }
            }
            let mut properties = Vec::new();
            for (k, v) in &s.fm {
                if let Value::String(t) = v
                    && t.starts_with("[[")
                    && let Some(i) = r.find(
                        t.trim_start_matches("[[")
                            .trim_end_matches("]]")
                            .split('|')
                            .next()
                            .unwrap_or(""),
                    )
                {
                    out_links.push(i);
                }
                // Tags link to their tag pages.
                let value = if k == "tags" {
                    v.as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(|t| {
                            format!(
                                "<a class=\"tag\" href=\"{}\">#{}</a>",
                                html_escape(&r.tag_url(t)),
                                html_escape(t)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    property_html(v, &r)
                };
                properties.push(json!({"key": k, "value": value}));
            }
            let mut tags: Vec<String> =
                s.fm.get("tags")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
            tags.extend(r.tags.into_inner().unwrap_or_else(|p| p.into_inner()));
            Rendered {
                html: if needs_sanitizing {
                    markdown::sanitize(&markdown::fold_callouts(&html))
                } else {
                    markdown::fold_callouts(&html)
                },
                out_links,
                unresolved,
                tags,
                properties,
            }
        })
        .collect();
    let mut backlinks: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); sources.len()];
    let mut tag_pages = TagPages::new();
    for (i, r) in rendered.iter().enumerate() {
        for &j in &r.out_links {
            if j != i {
                backlinks[j].insert(i);
            }
        }
        for t in &r.tags {
            // Tags fold by case, as in Obsidian; the first spelling is shown.
            let e = tag_pages
                .entry(t.to_lowercase())
                .or_insert_with(|| (t.clone(), BTreeSet::new()));
            e.1.insert(i);
        }
    }
    // Search: the page list, and the full text as an inverted index.
    let index: Vec<Value> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let aliases: Vec<&str> =
                s.fm.get("aliases")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
            json!({
                "t": s.title,
                "i": s.fm.get("id").and_then(Value::as_str).unwrap_or(""),
                "a": aliases,
                "g": rendered[i].tags,
                "u": s.url,
                "p": s.path,
            })
        })
        .collect();
    let shard_scripts =
        search::shard_scripts(search::invert(sources.len(), |i| sources[i].body.as_str()));
    // The shards that exist, so that the page never asks for a missing one.
    let shards: String = shard_scripts.iter().map(|(c, _)| *c).collect();
    let index_script = format!(
        "window.SEARCH_INDEX={};\nwindow.SEARCH_SHARDS={};\n",
        serde_json::to_string(&index).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&shards).unwrap_or_else(|_| "\"\"".into()),
    );
    drop(index);
    // The Markdown and properties are no longer needed; free them before
    // pages are built.
    for s in sources.iter_mut() {
        s.body = String::new();
        s.fm = serde_json::Map::new();
    }
    // Pages are written in one burst at the end unless the site grows past
    // the batch size (see VaultWriter::batched).
    let opts = WriteOptions {
        no_wait: cfg.no_wait,
        ..WriteOptions::default()
    };
    let writer = VaultWriter::open(&cfg.out, opts, diags)?.batched(64 << 20);
    let written = write_site(
        &writer,
        &tera,
        &sources,
        &mut rendered,
        &backlinks,
        &tag_pages,
        shard_scripts,
        index_script,
        css,
        cfg.base_url.as_deref(),
    )
    .and_then(|()| {
        navigator_layers(&cfg.vault)
            .into_iter()
            .try_for_each(|(path, layer)| writer.write_bytes(&path, layer.as_bytes()))
    });
    if let Err(e) = written {
        writer.abort();
        return Err(e);
    }
    let write = writer.commit()?;
    let mut unresolved: Vec<(String, String)> = Vec::new();
    for (i, r) in rendered.iter().enumerate() {
        for t in &r.unresolved {
            unresolved.push((sources[i].path.clone(), t.clone()));
        }
    }
    Ok(ExportSummary {
        pages: sources.len(),
        tags: tag_pages.len(),
        unresolved,
        write,
        elapsed: start.elapsed(),
    })
}

/// What pass 1 found in a note.
struct Rendered {
    html: String,
    out_links: Vec<usize>,
    unresolved: Vec<String>,
    tags: Vec<String>,
    properties: Vec<Value>,
}

/// Tag pages: lower-cased tag → (first spelling, pages).
type TagPages = BTreeMap<String, (String, BTreeSet<usize>)>;

/// Renders a page into `buf` (reused from page to page, so that pages of
/// tens of kilobytes are not allocated and freed one after the other).
fn render_page(tera: &tera::Tera, ctx: PageContext, buf: &mut Vec<u8>) -> Result<(), Diagnostic> {
    buf.clear();
    let ctx = tera::Context::from_value(Value::Object(ctx.into_map())).unwrap_or_default();
    tera.render_to("page.html", &ctx, &mut *buf)
        .map_err(|e| Diagnostic::error("template", format!("page.html: {e}")))
}

/// The vault's Navigator layers, published as they are for download (the
/// Home and Coverage notes link them).
fn navigator_layers(vault: &Path) -> Vec<(String, String)> {
    let folder = crate::vault::coverage::LAYERS_FOLDER;
    let Ok(dir) = std::fs::read_dir(vault.join(folder)) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = dir
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let text = std::fs::read_to_string(e.path()).ok()?;
            name.ends_with(".json")
                .then(|| (format!("{folder}/{name}"), text))
        })
        .collect();
    out.sort();
    out
}

/// What `page.html` receives. Built by moving values in: `json!` would
/// copy every string, and a page body can be hundreds of kilobytes.
#[derive(Default)]
struct PageContext {
    title: String,
    root: String,
    crumbs: Vec<String>,
    properties: Vec<Value>,
    body: String,
    graph: String,
    backlinks: Vec<Value>,
    tags: Vec<Value>,
}

impl PageContext {
    fn into_map(self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("title".into(), Value::String(self.title));
        m.insert("root".into(), Value::String(self.root));
        let crumbs = self.crumbs.into_iter().map(Value::String).collect();
        m.insert("crumbs".into(), Value::Array(crumbs));
        m.insert("properties".into(), Value::Array(self.properties));
        m.insert("body".into(), Value::String(self.body));
        m.insert("graph".into(), Value::String(self.graph));
        m.insert("backlinks".into(), Value::Array(self.backlinks));
        m.insert("tags".into(), Value::Array(self.tags));
        m
    }
}

/// Pass 2: every page, tag page and asset, handed to the writer as soon as
/// it is built (each page's HTML is freed as its page is rendered).
#[allow(clippy::too_many_arguments)]
fn write_site(
    writer: &VaultWriter,
    tera: &tera::Tera,
    sources: &[Source],
    rendered: &mut [Rendered],
    backlinks: &[BTreeSet<usize>],
    tag_pages: &TagPages,
    shard_scripts: Vec<(char, String)>,
    index_script: String,
    css: String,
    base_url: Option<&str>,
) -> Result<(), Diagnostic> {
    let put = |path: String, content: String| writer.write_bytes(&path, content.as_bytes());
    let degree: Vec<usize> = rendered
        .iter()
        .zip(backlinks)
        .map(|(r, b)| r.out_links.len() + b.len())
        .collect();
    let node = |j: usize| graph::Node {
        title: &sources[j].title,
        url: &sources[j].url,
        kind: &sources[j].kind,
        degree: degree[j],
    };
    rendered
        .par_iter_mut()
        .enumerate()
        .try_for_each_init(Vec::new, |buf, (i, r)| {
            let s = &sources[i];
            let prefix = "../".repeat(s.url.matches('/').count());
            let mut neighbours: Vec<usize> = r.out_links.clone();
            neighbours.extend(backlinks[i].iter().copied());
            neighbours.sort_unstable();
            neighbours.dedup();
            neighbours.retain(|&j| j != i);
            let mut tags: Vec<&String> = r.tags.iter().collect();
            tags.sort_by_key(|t| t.to_lowercase());
            tags.dedup_by_key(|t| t.to_lowercase());
            let mut crumbs: Vec<String> = s.path.split('/').map(str::to_string).collect();
            crumbs.pop();
            let ctx = PageContext {
                title: s.title.clone(),
                graph: graph::svg(
                    &node(i),
                    &mut neighbours.iter().map(|&j| node(j)).collect::<Vec<_>>(),
                    &prefix,
                ),
                root: prefix,
                crumbs,
                properties: std::mem::take(&mut r.properties),
                body: std::mem::take(&mut r.html),
                backlinks: backlinks[i]
                    .iter()
                    .map(|&j| json!({"url": sources[j].url, "title": sources[j].title}))
                    .collect(),
                tags: tags
                    .iter()
                    .map(|t| json!({"name": t, "url": tag_url(t)}))
                    .collect(),
            };
            render_page(tera, ctx, buf)?;
            writer.write_bytes(&s.url, buf)
        })?;
    // Tag pages and the tag index.
    tag_pages
        .par_iter()
        .try_for_each_init(Vec::new, |buf, (key, (shown, members))| {
            let mut items: Vec<&Source> = members.iter().map(|&i| &sources[i]).collect();
            items.sort_by(|a, b| a.title.cmp(&b.title));
            let list: String = items
                .iter()
                .map(|s| {
                    format!(
                        "<li><a href=\"../{}\">{}</a></li>",
                        html_escape(&s.url),
                        html_escape(&s.title)
                    )
                })
                .collect();
            let ctx = PageContext {
                title: format!("#{shown}"),
                root: "../".into(),
                crumbs: vec!["tags".into()],
                body: format!("<p>{} notes</p><ul>{list}</ul>", items.len()),
                ..Default::default()
            };
            render_page(tera, ctx, buf)?;
            writer.write_bytes(&tag_url(key), buf)
        })?;
    let tag_list: String = tag_pages
        .iter()
        .map(|(k, (shown, m))| {
            format!(
                "<li><a href=\"../{}\">#{}</a> ({})</li>",
                tag_url(k),
                html_escape(shown),
                m.len()
            )
        })
        .collect();
    let ctx = PageContext {
        title: "Tags".into(),
        root: "../".into(),
        body: format!("<ul>{tag_list}</ul>"),
        ..Default::default()
    };
    let mut buf = Vec::new();
    render_page(tera, ctx, &mut buf)?;
    writer.write_bytes("tags/index.html", &buf)?;
    // The home page: the vault's Home note when there is one.
    let home = sources
        .iter()
        .position(|s| s.path.eq_ignore_ascii_case("home"))
        .unwrap_or(0);
    put(
        "index.html".into(),
        format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url={0}\"><link rel=\"icon\" href=\"favicon.svg\" type=\"image/svg+xml\"><title>{1}</title></head><body><a href=\"{0}\">{1}</a></body></html>\n",
            html_escape(&sources[home].url),
            html_escape(&sources[home].title)
        ),
    )?;
    put("search-index.js".into(), index_script)?;
    shard_scripts
        .into_par_iter()
        .try_for_each(|(c, js)| put(format!("search/{c}.js"), js))?;
    put("search.js".into(), SEARCH_JS.to_string())?;
    put("style.css".into(), css)?;
    put("favicon.svg".into(), FAVICON.to_string())?;
    if let Some(base) = base_url {
        let base = base.trim_end_matches('/');
        let urls: String = sources
            .iter()
            .map(|s| format!("<url><loc>{base}/{}</loc></url>", html_escape(&s.url)))
            .collect();
        put(
            "sitemap.xml".into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>\n"
            ),
        )?;
    }
    Ok(())
}

/// Paths of the site's files, for link checking.
pub fn site_files(site: &Path) -> BTreeSet<String> {
    WalkDir::new(site)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter_map(|e| {
            e.path()
                .strip_prefix(site)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}
