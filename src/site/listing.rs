//! The site's pages that are not notes — tag pages, the tag index, the
//! home redirect, the sitemap — and its shared files: search index, script,
//! style, icon, the vault's Navigator layers and the attachments pages use.

use super::note::{Meta, Page};
use super::page::{NO_BACKLINKS, PageContext, render_page};
use super::{html_escape, search, tag_url};
use crate::output::VaultWriter;
use rayon::prelude::*;
use serde_json::{Value, json};
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::collections::{BTreeMap, BTreeSet};

const FAVICON: &str = include_str!("../../templates/site/favicon.svg");
const SEARCH_JS: &str = include_str!("../../templates/site/search.js");

/// Tag pages: lower-cased tag → (first spelling, pages).
pub(super) type TagPages = BTreeMap<String, (String, BTreeSet<usize>)>;

/// Tags fold by case, as in Obsidian; the first spelling is shown.
pub(super) fn tag_pages(metas: &[Meta]) -> TagPages {
    let mut pages = TagPages::new();
    for (i, m) in metas.iter().enumerate() {
        for t in &m.tags {
            let e = pages
                .entry(t.to_lowercase())
                .or_insert_with(|| (t.clone(), BTreeSet::new()));
            e.1.insert(i);
        }
    }
    pages
}

/// Each tag's page and the tag index.
pub(super) fn write_tags(
    writer: &VaultWriter,
    tera: &tera::Tera,
    pages: &[Page],
    metas: &[Meta],
    tags: &TagPages,
) -> Result<(), Diagnostic> {
    tags.par_iter()
        .try_for_each_init(Vec::new, |buf, (key, (shown, members))| {
            let mut items: Vec<usize> = members.iter().copied().collect();
            items.sort_by(|&a, &b| metas[a].title.cmp(&metas[b].title));
            let list: String = items
                .iter()
                .map(|&i| {
                    format!(
                        "<li><a href=\"../{}\">{}</a></li>",
                        html_escape(&pages[i].url),
                        html_escape(&metas[i].title)
                    )
                })
                .collect();
            let ctx = PageContext {
                title: format!("#{shown}"),
                root: "../".into(),
                crumbs: vec!["tags".into()],
                body: format!("<p>{} notes</p><ul>{list}</ul>", items.len()),
                backlinks_html: NO_BACKLINKS.into(),
                ..Default::default()
            };
            render_page(tera, ctx, buf)?;
            writer.write_bytes(&tag_url(key), buf)
        })?;
    let tag_list: String = tags
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
        backlinks_html: NO_BACKLINKS.into(),
        ..Default::default()
    };
    let mut buf = Vec::new();
    render_page(tera, ctx, &mut buf)?;
    writer.write_bytes(super::TAG_INDEX, &buf)
}

/// The search files: the page list (`search-index.js`) and the full-text
/// shards (`search/<c>.js`).
pub(super) fn write_search(
    writer: &VaultWriter,
    pages: &[Page],
    metas: &[Meta],
    postings: search::Postings,
) -> Result<(), Diagnostic> {
    let shard_scripts = search::shard_scripts(postings);
    // The shards that exist, so that the page never asks for a missing one.
    let shards: String = shard_scripts.iter().map(|(c, _)| *c).collect();
    let index: Vec<Value> = pages
        .iter()
        .zip(metas)
        .map(|(p, m)| {
            // Composed, as what is typed in the search box is.
            let composed = |t: &str| crate::vault::resolve::composed(t).into_owned();
            json!({
                "t": composed(&m.title),
                "i": m.id,
                "a": m.aliases.iter().map(|a| composed(a)).collect::<Vec<_>>(),
                "g": m.tags,
                "u": p.url,
                "p": composed(&p.path),
            })
        })
        .collect();
    let script = format!(
        "window.SEARCH_INDEX={};\nwindow.SEARCH_SHARDS={};\n",
        serde_json::to_string(&index).unwrap_or_else(|_| "[]".into()),
        serde_json::to_string(&shards).unwrap_or_else(|_| "\"\"".into()),
    );
    drop(index);
    writer.write_bytes("search-index.js", script.as_bytes())?;
    shard_scripts
        .into_par_iter()
        .try_for_each(|(c, js)| writer.write_bytes(&format!("search/{c}.js"), js.as_bytes()))?;
    writer.write_bytes("search.js", SEARCH_JS.as_bytes())
}

/// The home redirect (to the vault's Home note when there is one), the
/// style, the icon, and the sitemap when a base URL is given.
pub(super) fn write_assets(
    writer: &VaultWriter,
    pages: &[Page],
    metas: &[Meta],
    css: &str,
    base_url: Option<&str>,
) -> Result<(), Diagnostic> {
    let home = pages
        .iter()
        .position(|p| p.path.eq_ignore_ascii_case("home"))
        .unwrap_or(0);
    let redirect = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url={0}\"><link rel=\"icon\" href=\"favicon.svg\" type=\"image/svg+xml\"><title>{1}</title></head><body><a href=\"{0}\">{1}</a></body></html>\n",
        html_escape(&pages[home].url),
        html_escape(&metas[home].title)
    );
    writer.write_bytes("index.html", redirect.as_bytes())?;
    writer.write_bytes("style.css", css.as_bytes())?;
    writer.write_bytes("favicon.svg", FAVICON.as_bytes())?;
    if let Some(base) = base_url {
        let base = html_escape(base.trim_end_matches('/'));
        let urls: String = pages
            .iter()
            .map(|p| format!("<url><loc>{base}/{}</loc></url>", html_escape(&p.url)))
            .collect();
        let sitemap = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">{urls}</urlset>\n"
        );
        writer.write_bytes("sitemap.xml", sitemap.as_bytes())?;
    }
    Ok(())
}

/// The attachments some page embeds or links, and the Navigator layers
/// (for download: the Home and Coverage notes link them), copied as they
/// are. One that cannot be read is said, and its pages keep their link to
/// it.
pub(super) fn write_attachments(
    writer: &VaultWriter,
    attachments: &super::attachments::Attachments,
    metas: &[Meta],
    diags: &Diagnostics,
) -> Result<(), Diagnostic> {
    let used: BTreeSet<usize> = (metas.iter())
        .flat_map(|m| m.attachments.iter().copied())
        .chain(attachments.layers.iter().copied())
        .collect();
    for a in used {
        let file = &attachments.files[a];
        match std::fs::read(file) {
            Ok(bytes) => writer.write_bytes(&attachments.urls[a], &bytes)?,
            Err(e) => diags.push(
                Diagnostic::warning("export", format!("attachment not published: {e}"))
                    .in_file(file),
            ),
        }
    }
    Ok(())
}
