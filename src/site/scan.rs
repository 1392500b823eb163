//! Pass 1 of the export: every note read once, in parallel, for what the
//! whole site needs before any page can be written — its title and kind,
//! its links (for backlinks and graphs), its tags, its coverage, and its
//! words for the search index. Bodies are rendered here once, for their
//! links, and kept on disk (see `spool`), not in memory: the export holds
//! one page at a time, not the whole vault twice over (Markdown and HTML).

use super::cache::{self, Entry, Recording};
use super::heatmap;
use super::markdown;
use super::note::{Meta, Note, Page, property_link, property_links};
use super::search::Postings;
use super::spool::Spool;
use super::{Resolver, url_part};
use crate::vault::resolve::NoteNames;
use crate::vault::status::TechCoverage;
use rayon::prelude::*;
use serde_json::Value;
use sigma_engine::diag::Diagnostics;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Folders of the site's own pages (tag pages, search shards): a note
/// folder of the same name gets a `-` after it, a name [`url_part`] never
/// gives.
const SITE_FOLDERS: [&str; 2] = ["tags", "search"];

/// Each note's page URL, given in file order, so that a clash always
/// resolves the same way (`-2`, `-3`, ...; URLs compare case-insensitively).
/// The site's own `index.html` and folders are never a note's.
pub(super) fn pages(vault: &Path, files: Vec<(PathBuf, Option<String>)>) -> Vec<Page> {
    let mut used: BTreeSet<String> = BTreeSet::from(["index.html".to_string()]);
    files
        .into_iter()
        .map(|(file, redirect)| {
            let path = super::vault_path(vault, &file);
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
            Page {
                file,
                path,
                url,
                redirect,
            }
        })
        .collect()
}

/// What pass 1 gathered over the whole vault.
pub(super) struct Scan {
    pub metas: Vec<Meta>,
    pub postings: Postings,
}

/// Pass 1 over every note, in parallel pieces of at least 64 notes (each
/// piece's search postings are merged once at the end).
pub(super) fn scan(
    links: super::Links,
    (spool, old): (Option<&Spool>, Vec<Option<Entry>>),
    diags: &Diagnostics,
) -> Scan {
    let super::Links { names, pages, .. } = links;
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
                let r = Resolver::new(links, &pages[i], None);
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
    let (mut unresolved, mut unpublished) = (Vec::new(), Vec::new());
    let mut attachments = Vec::new();
    // Links in properties are links, as Obsidian counts them.
    let in_properties = note.fm.values().flat_map(property_links);
    for target in body.links.into_iter().chain(in_properties) {
        if let Some(i) = super::page_of(names, r.pages, &target, &page.path) {
            out_links.push(i);
        } else if let Some(a) = r.attachments.find(&target, &page.path) {
            attachments.push(a);
        } else if r.attachments.is_unpublished(&target, &page.path) {
            unpublished.push(target);
        } else if r.private.find_from(&target, &page.path).is_none() {
            // A note left out of the site is no broken link.
            unresolved.push(target);
        }
    }
    let mut tags = note.tags();
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
        classes: note.css_classes(),
        body: body.record,
        last: body.last,
        tags,
        out_links,
        unresolved,
        unpublished,
        attachments,
        parent: note
            .fm
            .get("parent")
            .and_then(property_link)
            .and_then(|t| names.find(t)),
    }
}

/// A technique's coverage cell, from its note's properties.
fn coverage_cell(note: &Note, title: &str) -> Option<heatmap::Cell> {
    let n = |k: &str| {
        (note.fm.get(k).and_then(Value::as_u64))
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(0)
    };
    let label = note.str("coverage")?;
    let class = heatmap::class_of(label)?;
    let figures = TechCoverage::new(n("rules"), n("rules_fired"), n("atomic_tests")).figures();
    let title = format!("{title}: {label}; {figures}");
    Some(heatmap::Cell {
        class,
        title,
        subs: Vec::new(),
    })
}
