//! What the last export rendered, so that an export over an existing site
//! renders again only the pages whose inputs changed.
//!
//! A page is a function of its note's body, of what rendering that body
//! asked the link resolver (each link's page, each tag's page, the text of
//! each note it embeds: recorded with the answers, see [`Recording`]), of
//! the rest of its context
//! (title, properties, graph, backlinks, tags) and of the program and the
//! page template. Each page's entry holds hashes of all of these and of the
//! page as written. A page is left as it is only when every hash is the
//! same, the resolver still gives the same answers, and the file on disk is
//! the one written; anything else renders it again. Heatmap pages, whose
//! bodies read every technique's coverage, are always rendered.

use super::heatmap::Cell;
use super::markdown::LinkResolver;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};
use std::sync::Mutex;

/// The cache's file in the site's state folder (gzip-compressed JSON).
pub(super) const FILE: &str = "site-cache.json.gz";

/// A 64-bit hash, the same from run to run.
pub(super) fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0).hash_one(value)
}

/// What the program is: pages rendered by another build of it (or with
/// another template) are all rendered again. None when it cannot be told,
/// and then nothing is reused.
pub(super) fn program(template: &str) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let meta = std::fs::metadata(exe).ok()?;
    let modified = meta.modified().ok()?;
    Some(hash(&(
        env!("CARGO_PKG_VERSION"),
        meta.len(),
        modified,
        template,
    )))
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Cache {
    /// [`program`] of the export that wrote it.
    pub program: u64,
    /// By page URL.
    pub pages: HashMap<String, Entry>,
}

/// What pass 1 records of a note's body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct Body {
    /// The body's text.
    pub text: u64,
    /// The link targets rendering it asked the resolver about, each once,
    /// in order, one per line.
    pub resolved: String,
    /// Each link of the body (in order, repeats included): the number of
    /// its target in `resolved`.
    pub links: Vec<u32>,
    /// The tags in its text (in order, repeats included).
    pub tags: Vec<String>,
    /// The notes it embeds (at any depth), each once, one per line.
    pub embeds: String,
    /// The resolver's answers about `resolved`, `tags` and `embeds`.
    pub answers: u64,
}

/// One page as an export made it: its body's record (owned when read,
/// borrowed when written), and hashes of all the page is made of and of the
/// page written.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Entry<B = Body> {
    pub body: B,
    pub page: u64,
    pub out: u64,
}

/// The cache of this export, as JSON: each page's body record (from pass 1,
/// by page URL) with the hashes of its inputs and of the page written.
pub(super) fn to_json<'a>(
    program: u64,
    bodies: impl Iterator<Item = (&'a str, Option<&'a Body>)>,
    written: &[Option<(u64, u64)>],
) -> Vec<u8> {
    #[derive(Serialize)]
    struct All<'a> {
        program: u64,
        pages: std::collections::BTreeMap<&'a str, Entry<&'a Body>>,
    }
    let pages = bodies
        .zip(written)
        .filter_map(|((url, body), w)| {
            let (body, (page, out)) = (body?, (*w)?);
            Some((url, Entry { body, page, out }))
        })
        .collect();
    serde_json::to_vec(&All { program, pages }).unwrap_or_default()
}

impl Cache {
    /// The last export's entries, one per page (by URL, in page order):
    /// none when there is no cache or another build of the program wrote
    /// it.
    pub fn read<'a>(
        writer: &crate::output::VaultWriter,
        program: Option<u64>,
        urls: impl Iterator<Item = &'a str>,
    ) -> Vec<Option<Entry>> {
        match writer.read_state_json::<Cache>(FILE) {
            Some(mut c) if Some(c.program) == program => urls.map(|u| c.pages.remove(u)).collect(),
            _ => urls.map(|_| None).collect(),
        }
    }
}

impl Body {
    /// Whether this record still describes a body of text `text` that `r`
    /// resolves: then it need not be rendered for its links.
    pub fn holds(&self, text: u64, r: &dyn LinkResolver) -> bool {
        let resolved: Vec<u64> = self.resolved.lines().map(|t| answer(r, t).1).collect();
        let embeds: Vec<u64> = self.embeds.lines().map(|t| hash(&r.embed(t))).collect();
        self.text == text && answers(&resolved, &embeds, &self.tags, r) == self.answers
    }

    /// The link targets of the body, in order.
    pub fn link_targets(&self) -> Vec<String> {
        let targets: Vec<&str> = self.resolved.lines().collect();
        self.links
            .iter()
            .filter_map(|&n| targets.get(n as usize).map(|t| t.to_string()))
            .collect()
    }
}

/// What `r` says of a link target, and its hash: where it leads, and
/// whether it names a note left out of the site (drawn otherwise).
fn answer(r: &dyn LinkResolver, target: &str) -> (Option<String>, u64) {
    let url = r.resolve(target);
    let h = hash(&(&url, url.is_none() && r.is_private(target)));
    (url, h)
}

/// The hash of the answers about the link targets and the embeds (each
/// one's hashed) and about each tag once.
fn answers(resolved: &[u64], embeds: &[u64], tags: &[String], r: &dyn LinkResolver) -> u64 {
    let mut seen = HashSet::new();
    let tagged: Vec<u64> = tags
        .iter()
        .filter(|t| seen.insert(t.as_str()))
        .map(|t| hash(&r.tag_url(t)))
        .collect();
    hash(&(resolved, embeds, tagged))
}

/// A resolver that passes every question on and records the link targets
/// asked about, with the hash of each answer. Heatmap pages are not cached,
/// so it never meets coverage.
pub(super) struct Recording<'r> {
    inner: &'r dyn LinkResolver,
    asked: Mutex<Asked>,
}

/// The targets asked about, in order, and the hashes of their answers;
/// the same of the embeds.
#[derive(Default)]
struct Asked {
    targets: Vec<String>,
    answers: Vec<u64>,
    seen: HashSet<String>,
    embeds: Vec<String>,
    embedded: Vec<u64>,
}

impl<'r> Recording<'r> {
    pub fn new(inner: &'r dyn LinkResolver) -> Self {
        Recording {
            inner,
            asked: Mutex::new(Asked::default()),
        }
    }

    /// The record of a body whose text hashes to `text`, given its links and
    /// the tags in it; None when a link names a target that was not asked
    /// about (its page is then always rendered).
    pub fn body(self, text: u64, links: &[String], tags: Vec<String>) -> Option<Body> {
        let asked = self.asked.into_inner().unwrap_or_else(|p| p.into_inner());
        let number: HashMap<&str, u32> = asked
            .targets
            .iter()
            .enumerate()
            .map(|(n, t)| (t.as_str(), n as u32))
            .collect();
        let links = links
            .iter()
            .map(|l| number.get(l.as_str()).copied())
            .collect::<Option<Vec<u32>>>()?;
        if asked
            .targets
            .iter()
            .chain(&asked.embeds)
            .any(|t| t.contains('\n'))
        {
            return None;
        }
        Some(Body {
            text,
            resolved: asked.targets.join("\n"),
            links,
            answers: answers(&asked.answers, &asked.embedded, &tags, self.inner),
            embeds: asked.embeds.join("\n"),
            tags,
        })
    }
}

impl LinkResolver for Recording<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        let (url, h) = answer(self.inner, target);
        let mut a = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        if !a.seen.contains(target) {
            a.seen.insert(target.to_string());
            a.targets.push(target.to_string());
            a.answers.push(h);
        }
        url
    }
    fn is_private(&self, target: &str) -> bool {
        self.inner.is_private(target)
    }
    fn own_page(&self) -> Option<&str> {
        self.inner.own_page()
    }
    fn embed(&self, target: &str) -> Option<super::embed::Embed> {
        // An embed shown is a link too: its page is recorded as one.
        self.resolve(target);
        let e = self.inner.embed(target);
        let mut a = self.asked.lock().unwrap_or_else(|p| p.into_inner());
        if !a.embeds.iter().any(|t| t == target) {
            a.embeds.push(target.to_string());
            a.embedded.push(hash(&e));
        }
        e
    }
    fn tag_url(&self, tag: &str) -> String {
        self.inner.tag_url(tag)
    }
    fn embedded_tag_url(&self, tag: &str) -> String {
        self.inner.embedded_tag_url(tag)
    }
    fn coverage(&self, url: &str) -> Option<&Cell> {
        let c = self.inner.coverage(url);
        debug_assert!(c.is_none(), "a cached page met coverage");
        c
    }
    fn root(&self) -> &str {
        self.inner.root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Names(&'static [&'static str]);
    impl LinkResolver for Names {
        fn resolve(&self, t: &str) -> Option<String> {
            self.0.contains(&t).then(|| format!("{t}.html"))
        }
        fn tag_url(&self, tag: &str) -> String {
            format!("tags/{tag}.html")
        }
    }

    #[test]
    fn a_body_is_reused_only_while_the_resolver_answers_the_same() {
        let before = Names(&["A", "B"]);
        let rec = Recording::new(&before);
        for t in ["A", "B", "A", "Gone"] {
            rec.resolve(t);
        }
        let links: Vec<String> = ["A", "B", "A", "Gone"].map(String::from).to_vec();
        let e = rec.body(7, &links, vec!["x".into(), "x".into()]).unwrap();
        assert_eq!(e.resolved, "A\nB\nGone", "each target once");
        assert_eq!(e.link_targets(), links);
        assert!(e.holds(7, &before));
        assert!(!e.holds(8, &before), "other text");
        assert!(!e.holds(7, &Names(&["A"])), "B no longer resolves");
        assert!(
            !e.holds(7, &Names(&["A", "B", "Gone"])),
            "Gone now resolves"
        );
        let unasked = Recording::new(&before);
        assert!(unasked.body(7, &links, Vec::new()).is_none());
    }
}
