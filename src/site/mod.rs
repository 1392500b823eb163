//! Exporting a vault as a static website: one page per note (Markdown and
//! Obsidian syntax rendered, HTML sanitised), properties panel, backlinks, a
//! small local graph drawn as inline SVG, tag pages folded by case, and
//! client-side search from an index written at export time. All URLs are
//! relative, so the site works from `file://`, a subfolder or a web root.

pub mod highlight;
pub mod markdown;

use crate::diag::{Diagnostic, Diagnostics};
use crate::vault::Note;
use crate::vault::frontmatter;
use crate::vault::write::{WriteOptions, WriteReport, write_vault};
use markdown::LinkResolver;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use walkdir::WalkDir;

const PAGE: &str = include_str!("../../templates/site/page.html");
const CSS: &str = include_str!("../../templates/site/style.css");
const SEARCH_JS: &str = include_str!("../../templates/site/search.js");
/// Plain text of each page kept in the search index.
const SEARCH_TEXT_CHARS: usize = 400;

/// What `export` needs.
#[derive(Debug, Clone)]
pub struct ExportConfig {
    pub vault: PathBuf,
    pub out: PathBuf,
    /// Absolute base URL, for the sitemap.
    pub base_url: Option<String>,
    /// Folder whose `page.html` / `style.css` override the built-in ones.
    pub templates: Option<PathBuf>,
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
    stem: String,
    url: String,
    title: String,
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
    by_name: &'a HashMap<String, Vec<usize>>,
    by_path: &'a HashMap<String, usize>,
    sources: &'a [Source],
    prefix: String,
    tags: Mutex<Vec<String>>,
}

impl Resolver<'_> {
    fn find(&self, target: &str) -> Option<usize> {
        let t = target.trim().trim_end_matches(".md").to_lowercase();
        if let Some(&i) = self.by_path.get(&t) {
            return Some(i);
        }
        let name = t.rsplit('/').next().unwrap_or(&t);
        let cands = self.by_name.get(name)?;
        // Obsidian: the shortest path wins; with a folder, it must match.
        cands
            .iter()
            .copied()
            .filter(|&i| !t.contains('/') || self.sources[i].path.to_lowercase().ends_with(&t))
            .min_by_key(|&i| (self.sources[i].path.len(), self.sources[i].path.clone()))
    }
}

impl LinkResolver for Resolver<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        self.find(target)
            .map(|i| format!("{}{}", self.prefix, self.sources[i].url))
    }
    fn tag_url(&self, tag: &str) -> String {
        self.tags
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tag.to_string());
        format!("{}{}", self.prefix, tag_url(tag))
    }
}

fn tag_url(tag: &str) -> String {
    format!(
        "tags/{}.html",
        url_part(&tag.to_lowercase().replace('/', "-"))
    )
}

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
fn graph_svg(center: usize, neighbours: &[usize], sources: &[Source], prefix: &str) -> String {
    let n = neighbours.len().min(24);
    if n == 0 {
        return String::new();
    }
    let (w, h, cx, cy, rad) = (280.0, 220.0, 140.0, 110.0, 85.0);
    let mut s = format!("<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Local graph\">");
    let pos: Vec<(f64, f64)> = (0..n)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / n as f64 - std::f64::consts::FRAC_PI_2;
            (cx + rad * a.cos(), cy + rad * a.sin())
        })
        .collect();
    for (x, y) in &pos {
        s.push_str(&format!(
            "<line x1=\"{cx}\" y1=\"{cy}\" x2=\"{x:.1}\" y2=\"{y:.1}\"/>"
        ));
    }
    for (k, &i) in neighbours.iter().take(n).enumerate() {
        let (x, y) = pos[k];
        // Labels only while they fit; the full title is always the tooltip.
        let label: String = if n <= 10 {
            sources[i].title.chars().take(18).collect()
        } else {
            String::new()
        };
        s.push_str(&format!(
            "<a href=\"{}{}\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5\"><title>{}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></a>",
            prefix,
            html_escape(&sources[i].url),
            html_escape(&sources[i].title),
            x,
            y + 14.0,
            html_escape(&label)
        ));
    }
    s.push_str(&format!(
        "<circle class=\"self\" cx=\"{cx}\" cy=\"{cy}\" r=\"7\"><title>{}</title></circle></svg>",
        html_escape(&sources[center].title)
    ));
    s
}

fn plain_text(md: &str) -> String {
    let mut out = String::with_capacity(SEARCH_TEXT_CHARS);
    for line in md.lines() {
        let l = line.trim_start_matches(['#', '>', '|', '-', ' ', '*']);
        if l.starts_with("```") || l.is_empty() {
            continue;
        }
        for c in l
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | '*' | '|' | '`' | '\\'))
        {
            out.push(c);
        }
        out.push(' ');
        if out.len() > SEARCH_TEXT_CHARS {
            break;
        }
    }
    out.chars().take(SEARCH_TEXT_CHARS).collect()
}

/// Export a vault.
pub fn export(cfg: &ExportConfig, diags: &Diagnostics) -> Result<ExportSummary, Diagnostic> {
    let start = Instant::now();
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
    let mut used_urls: BTreeSet<String> = BTreeSet::new();
    let mut sources: Vec<Source> = Vec::with_capacity(files.len());
    for f in &files {
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
                diags.push(Diagnostic::warning("export", format!("cannot read: {e}")).in_file(f));
                continue;
            }
        };
        let (yaml, body) = frontmatter::split(&text);
        let fm = match yaml.map(frontmatter::parse) {
            Some(Ok(m)) => m.into_iter().collect(),
            Some(Err(e)) => {
                diags.push(
                    Diagnostic::warning("export", format!("frontmatter not read: {e}")).in_file(f),
                );
                serde_json::Map::new()
            }
            None => serde_json::Map::new(),
        };
        let mut url = path.split('/').map(url_part).collect::<Vec<_>>().join("/") + ".html";
        let mut n = 2;
        while !used_urls.insert(url.to_lowercase()) {
            url = format!(
                "{}-{n}.html",
                url.trim_end_matches(".html")
                    .trim_end_matches(&format!("-{}", n - 1))
            );
            n += 1;
        }
        let title = body
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .map(str::to_string)
            .or_else(|| fm.get("title").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| stem.clone());
        sources.push(Source {
            path,
            stem,
            url,
            title,
            fm,
            body: body.to_string(),
        });
    }
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_path: HashMap<String, usize> = HashMap::new();
    for (i, s) in sources.iter().enumerate() {
        by_name.entry(s.stem.to_lowercase()).or_default().push(i);
        by_path.insert(s.path.to_lowercase(), i);
    }
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

    // Pass 1: render bodies, collect links and tags.
    struct Rendered {
        html: String,
        /// Start of the note's text, for the search index.
        text: String,
        out_links: Vec<usize>,
        unresolved: Vec<String>,
        tags: Vec<String>,
        properties: Vec<Value>,
    }
    let mut rendered: Vec<Rendered> = sources
        .par_iter()
        .map(|s| {
            let depth = s.url.matches('/').count();
            let r = Resolver {
                by_name: &by_name,
                by_path: &by_path,
                sources: &sources,
                prefix: "../".repeat(depth),
                tags: Mutex::new(Vec::new()),
            };
            let body = match s.body.trim_start().strip_prefix("# ") {
                // The title is shown by the page itself.
                Some(rest) => rest.split_once('\n').map(|x| x.1).unwrap_or("").to_string(),
                None => s.body.clone(),
            };
            let (html, links, _) = markdown::render(&body, &r);
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
                html: markdown::sanitize(&markdown::fold_callouts(&html)),
                text: plain_text(&s.body),
                out_links,
                unresolved,
                tags,
                properties,
            }
        })
        .collect();
    let mut backlinks: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); sources.len()];
    let mut tag_pages: BTreeMap<String, (String, BTreeSet<usize>)> = BTreeMap::new();
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
    // Search index, as a script so that it loads from file:// too.
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
                "x": rendered[i].text,
            })
        })
        .collect();
    let search_note = Note {
        path: "search-index.js".into(),
        content: format!(
            "window.SEARCH_INDEX={};\n",
            serde_json::to_string(&index).unwrap_or_else(|_| "[]".into())
        ),
    };
    drop(index);
    // The Markdown and properties are no longer needed; free them before
    // pages are built.
    for s in sources.iter_mut() {
        s.body = String::new();
        s.fm = serde_json::Map::new();
    }
    // Pass 2: pages. Each body's HTML is moved into its page.
    let pages: Vec<Result<Note, Diagnostic>> = rendered
        .par_iter_mut()
        .enumerate()
        .map(|(i, r)| {
            let s = &sources[i];
            let body = std::mem::take(&mut r.html);
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
            let ctx = json!({
                "title": s.title,
                "root": prefix,
                "crumbs": crumbs,
                "properties": r.properties,
                "body": body,
                "graph": graph_svg(i, &neighbours, &sources, &prefix),
                "backlinks": backlinks[i].iter().map(|&j| json!({"url": sources[j].url, "title": sources[j].title})).collect::<Vec<_>>(),
                "tags": tags.iter().map(|t| json!({"name": t, "url": tag_url(t)})).collect::<Vec<_>>(),
            });
            let content = tera
                .render("page.html", &tera::Context::from_value(ctx).unwrap_or_default())
                .map_err(|e| Diagnostic::error("template", format!("page.html: {e}")))?;
            Ok(Note {
                path: s.url.clone(),
                content,
            })
        })
        .collect();
    let mut notes = Vec::with_capacity(pages.len() + tag_pages.len() + 8);
    for p in pages {
        notes.push(p?);
    }
    // Tag pages and the tag index.
    for (key, (shown, members)) in &tag_pages {
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
        let ctx = json!({
            "title": format!("#{shown}"), "root": "../", "crumbs": ["tags"], "properties": [],
            "body": format!("<p>{} notes</p><ul>{list}</ul>", items.len()), "graph": "", "backlinks": [], "tags": [],
        });
        let content = tera
            .render(
                "page.html",
                &tera::Context::from_value(ctx).unwrap_or_default(),
            )
            .map_err(|e| Diagnostic::error("template", e.to_string()))?;
        notes.push(Note {
            path: tag_url(key),
            content,
        });
    }
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
    let ctx = json!({"title": "Tags", "root": "../", "crumbs": [], "properties": [], "body": format!("<ul>{tag_list}</ul>"), "graph": "", "backlinks": [], "tags": []});
    notes.push(Note {
        path: "tags/index.html".into(),
        content: tera
            .render(
                "page.html",
                &tera::Context::from_value(ctx).unwrap_or_default(),
            )
            .map_err(|e| Diagnostic::error("template", e.to_string()))?,
    });
    // The home page: the vault's Home note when there is one.
    let home = sources
        .iter()
        .position(|s| s.path.eq_ignore_ascii_case("home"))
        .unwrap_or(0);
    notes.push(Note {
        path: "index.html".into(),
        content: format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url={0}\"><title>{1}</title></head><body><a href=\"{0}\">{1}</a></body></html>\n",
            html_escape(&sources[home].url),
            html_escape(&sources[home].title)
        ),
    });
    notes.push(search_note);
    notes.push(Note {
        path: "search.js".into(),
        content: SEARCH_JS.to_string(),
    });
    notes.push(Note {
        path: "style.css".into(),
        content: css,
    });
    if let Some(base) = &cfg.base_url {
        let base = base.trim_end_matches('/');
        let urls: String = sources
            .iter()
            .map(|s| format!("<url><loc>{base}/{}</loc></url>", html_escape(&s.url)))
            .collect();
        notes.push(Note {
            path: "sitemap.xml".into(),
            content: format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>\n"),
        });
    }
    let mut unresolved: Vec<(String, String)> = Vec::new();
    for (i, r) in rendered.iter().enumerate() {
        for t in &r.unresolved {
            unresolved.push((sources[i].path.clone(), t.clone()));
        }
    }
    notes.sort_by(|a, b| a.path.cmp(&b.path));
    let write = write_vault(&cfg.out, &notes, WriteOptions::default(), diags)?;
    Ok(ExportSummary {
        pages: sources.len(),
        tags: tag_pages.len(),
        unresolved,
        write,
        elapsed: start.elapsed(),
    })
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
