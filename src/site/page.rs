//! Pass 2 of the export: each note's page, built from the note read again
//! and what pass 1 learnt of the whole vault (backlinks, degrees, tags,
//! coverage), rendered through `page.html` and handed to the writer.

use super::cache;
use super::markdown::LinkResolver;
use super::note::{Meta, Note, Page, property_link};
use super::spool::Spool;
use super::{Resolver, graph, heatmap, html_escape, markdown, tag_url, template_escape};
use crate::output::VaultWriter;
use serde_json::Value;
use sigma_engine::diag::Diagnostic;
use std::collections::{BTreeSet, HashMap};

/// What every page is built from.
pub(super) struct Site<'a> {
    pub tera: &'a tera::Tera,
    pub pages: &'a [Page],
    pub metas: &'a [Meta],
    /// What links lead to (the pages among them).
    pub links: super::Links<'a>,
    pub backlinks: &'a [BTreeSet<usize>],
    /// Links in and out of each page.
    pub degree: Vec<usize>,
    /// Each page as a node of the local graphs.
    pub drawn: Vec<graph::Drawn>,
    /// Technique coverage by page URL, for the heatmap pages.
    pub coverage: &'a HashMap<String, heatmap::Cell>,
    /// Bodies pass 1 rendered.
    pub spool: Option<&'a Spool>,
    pub writer: &'a VaultWriter<'a>,
}

/// The backlinks of a page that has none.
pub(super) const NO_BACKLINKS: &str = "<p>No backlinks.</p>";

/// What `page.html` receives. Built by moving values in: `json!` would
/// copy every string, and a page body can be hundreds of kilobytes.
#[derive(Default)]
pub(super) struct PageContext {
    pub title: String,
    pub root: String,
    pub crumbs: Vec<String>,
    pub properties: Vec<Property>,
    pub body: String,
    pub graph: String,
    /// What the graph is drawn from (see [`Site::graph_key`]); the graph
    /// itself is drawn only for a page that is written.
    pub graph_key: u64,
    pub backlinks: Vec<PageRef>,
    /// The backlinks as the built-in template shows them: a list rendered
    /// here, since a Tera loop over a technique's hundreds of backlinks
    /// cost a sixth of the export.
    pub backlinks_html: String,
    pub tags: Vec<PageRef>,
    /// The note's `cssclasses`, for the page's `<body>`.
    pub classes: Vec<String>,
}

/// A row of the properties panel: the value is HTML.
#[derive(serde::Serialize, Hash)]
pub(super) struct Property {
    key: String,
    value: String,
}

/// A link to a page (a backlink) or a tag page.
#[derive(serde::Serialize, Hash)]
pub(super) struct PageRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    url: String,
}

fn values<T: serde::Serialize>(rows: Vec<T>) -> Value {
    serde_json::to_value(rows).unwrap_or_default()
}

impl PageContext {
    /// The hash of everything but the body.
    fn key(&self) -> u64 {
        cache::hash(&(
            &self.title,
            &self.root,
            &self.crumbs,
            &self.properties,
            self.graph_key,
            &self.backlinks,
            &self.tags,
            &self.classes,
        ))
    }

    fn into_map(self) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("title".into(), Value::String(self.title));
        m.insert("root".into(), Value::String(self.root));
        let crumbs = self.crumbs.into_iter().map(Value::String).collect();
        m.insert("crumbs".into(), Value::Array(crumbs));
        m.insert("properties".into(), values(self.properties));
        m.insert("body".into(), Value::String(self.body));
        m.insert("graph".into(), Value::String(self.graph));
        m.insert("backlinks".into(), values(self.backlinks));
        m.insert("backlinks_html".into(), Value::String(self.backlinks_html));
        m.insert("tags".into(), values(self.tags));
        m.insert("classes".into(), Value::String(self.classes.join(" ")));
        m
    }
}

/// Renders a page into `buf` (reused from page to page, so that pages of
/// tens of kilobytes are not allocated and freed one after the other).
pub(super) fn render_page(
    tera: &tera::Tera,
    ctx: PageContext,
    buf: &mut Vec<u8>,
) -> Result<(), Diagnostic> {
    buf.clear();
    let ctx = tera::Context::from_value(Value::Object(ctx.into_map())).unwrap_or_default();
    tera.render_to("page.html", &ctx, &mut *buf)
        .map_err(|e| Diagnostic::error("template", format!("page.html: {e}")))
}

impl Site<'_> {
    /// Note `i`'s page, handed to the writer (`buf` is reused from page to
    /// page), unless the last export's is still right. Gives the hashes its
    /// cache entry needs: of the page's inputs and of the page.
    pub fn note_page(&self, i: usize, buf: &mut Vec<u8>) -> Result<Option<(u64, u64)>, Diagnostic> {
        let (page, meta) = (&self.pages[i], &self.metas[i]);
        let heatmap = is_heatmap(&meta.kind);
        let r = Resolver::new(self.links, page, heatmap.then_some(self.coverage));
        let mut ctx = self.context(i, r.root());
        let key = meta
            .body
            .as_ref()
            .map(|b| cache::hash(&(b.text, b.answers, ctx.key())));
        if let Some((last, out)) = meta.last
            && key == Some(last)
            && self
                .writer
                .unchanged_if(&page.url, |b| cache::hash(b) == out)
        {
            return Ok(Some((last, out)));
        }
        ctx.graph = self.graph(i, r.root());
        ctx.body = match self.spool.and_then(|s| s.take(i)) {
            Some(body) => body,
            None => body_html(Note::read_again(&page.file).body_untitled(), &r).0,
        };
        render_page(self.tera, ctx, buf)?;
        self.writer.write_bytes(&page.url, buf)?;
        Ok(key.map(|k| (k, cache::hash(&buf[..]))))
    }

    /// Note `i`'s page context, but for its body.
    fn context(&self, i: usize, root: &str) -> PageContext {
        let (page, meta) = (&self.pages[i], &self.metas[i]);
        let mut crumbs: Vec<String> = page.path.split('/').map(str::to_string).collect();
        crumbs.pop();
        PageContext {
            title: meta.title.clone(),
            graph_key: self.graph_key(i),
            root: root.to_string(),
            crumbs,
            properties: meta
                .properties
                .iter()
                .map(|(k, v)| Property {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
            body: String::new(),
            graph: String::new(),
            backlinks_html: self.backlinks_html(i, root),
            classes: meta.classes.clone(),
            backlinks: self.backlinks[i]
                .iter()
                .map(|&j| PageRef {
                    title: Some(self.metas[j].title.clone()),
                    name: None,
                    url: self.pages[j].url.clone(),
                })
                .collect(),
            tags: page_tags(&meta.tags)
                .iter()
                .map(|t| PageRef {
                    title: None,
                    name: Some(t.to_string()),
                    url: tag_url(t),
                })
                .collect(),
        }
    }

    /// Note `i`'s backlinks as an HTML list.
    fn backlinks_html(&self, i: usize, root: &str) -> String {
        use std::fmt::Write;
        if self.backlinks[i].is_empty() {
            return NO_BACKLINKS.to_string();
        }
        let root = template_escape(root);
        let mut html = String::from("<ul>");
        for &j in &self.backlinks[i] {
            let _ = write!(
                html,
                "<li><a href=\"{root}{}\">{}</a></li>",
                template_escape(&self.pages[j].url),
                template_escape(&self.metas[j].title)
            );
        }
        html.push_str("</ul>");
        html
    }

    /// The page's local graph: its links in and out.
    fn graph(&self, i: usize, root: &str) -> String {
        let mut nodes: Vec<graph::Node> = self.neighbours(i).map(|j| self.node(j)).collect();
        graph::svg(&self.node(i), &mut nodes, root)
    }

    /// What note `i`'s graph is drawn from (for the cache, which need not
    /// draw it to know whether it changed).
    fn graph_key(&self, i: usize) -> u64 {
        let data = |j: usize| {
            let n = self.node(j);
            (n.title, n.url, n.kind, n.degree)
        };
        let nodes: Vec<_> = std::iter::once(i)
            .chain(self.neighbours(i))
            .map(data)
            .collect();
        cache::hash(&nodes)
    }

    fn node(&self, j: usize) -> graph::Node<'_> {
        graph::Node {
            title: &self.metas[j].title,
            url: &self.pages[j].url,
            kind: &self.metas[j].kind,
            degree: self.degree[j],
            drawn: &self.drawn[j],
        }
    }

    /// The notes note `i` links to or is linked from, each once.
    fn neighbours(&self, i: usize) -> impl Iterator<Item = usize> {
        let mut n: Vec<usize> = self.metas[i].out_links.clone();
        n.extend(self.backlinks[i].iter().copied());
        n.sort_unstable();
        n.dedup();
        n.into_iter().filter(move |&j| j != i)
    }
}

/// Whether a note of this kind is drawn as a heatmap: its body can only be
/// rendered once every technique's coverage is known (after pass 1).
pub(super) fn is_heatmap(kind: &str) -> bool {
    matches!(kind, "matrix" | "coverage")
}

/// A note body as the page's HTML (sanitised when it may hold anything
/// unsafe, foldable callouts folded), and the notes it links to.
pub(super) fn body_html(md: &str, r: &dyn LinkResolver) -> (String, Vec<String>) {
    let markdown::Rendered {
        html,
        needs_sanitizing,
        links,
        ..
    } = markdown::render(md, r);
    let html = if needs_sanitizing {
        markdown::sanitize(&markdown::fold_callouts(&html))
    } else {
        markdown::fold_callouts(&html)
    };
    (html, links)
}

/// The tags shown on a page: one per spelling folded by case, sorted.
fn page_tags(tags: &[String]) -> Vec<&String> {
    let mut tags: Vec<&String> = tags.iter().collect();
    tags.sort_by_key(|t| t.to_lowercase());
    tags.dedup_by_key(|t| t.to_lowercase());
    tags
}

/// The properties panel: each value as HTML, tags linking their pages.
pub(super) fn properties(note: &Note, r: &Resolver) -> Vec<(String, String)> {
    note.fm
        .iter()
        .map(|(k, v)| {
            let value = if k == "tags" {
                super::note::tags_of(Some(v))
                    .iter()
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
                property_html(v, r)
            };
            (k.clone(), value)
        })
        .collect()
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
            if let Some(target) = property_link(v) {
                let inner = &t[2..t.len() - 2];
                let label = inner.split_once('|').map_or(inner, |x| x.1);
                let (page, anchor) = super::markdown::wikilink_target(target);
                return match r.resolve(&page) {
                    Some(u) => {
                        let u = crate::vault::anchors::anchored(u, anchor.as_deref());
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
