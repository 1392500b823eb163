//! The files an analyst's notes embed or link (screenshots, diagrams,
//! reports): found as Obsidian finds them, by name (the shortest path
//! wins) or by path, and published beside the pages that use them. Files
//! no page uses stay out of the site. SVG is left out: opened on its own,
//! an SVG runs its scripts.

use super::url_part;
use crate::vault::resolve::NoteNames;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The kinds of file published, by extension (lower case), as
/// [`super::PUBLISHED_FILES`] says.
const KINDS: [&str; 8] = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "avif", "pdf"];

/// Kinds shown in the page (`![[diagram.png]]`); the others are linked.
const IMAGES: [&str; 7] = ["png", "jpg", "jpeg", "gif", "webp", "bmp", "avif"];

/// The folder of the site that holds them.
const FOLDER: &str = "files";

/// The vault's attachments, with their URLs in the site.
#[derive(Debug, Default)]
pub(super) struct Attachments {
    names: NoteNames,
    pub files: Vec<PathBuf>,
    pub urls: Vec<String>,
    /// The Navigator layers among them: published whether a page names
    /// them or not.
    pub layers: Vec<usize>,
    /// The vault's other files (SVG, canvases, bases, CSV, text): not
    /// published, and so no broken link where a note names one, but said.
    unpublished: NoteNames,
}

/// A file name's extension, lower case.
fn extension(name: &str) -> Option<String> {
    let (_, ext) = name.rsplit_once('.')?;
    Some(ext.to_ascii_lowercase())
}

/// Whether a link target names a file of a published kind.
pub(super) fn is_attachment(target: &str) -> bool {
    extension(target).is_some_and(|e| KINDS.contains(&e.as_str()))
}

/// Whether a link target names an image (shown, not linked, when embedded).
pub(super) fn is_image(target: &str) -> bool {
    extension(target).is_some_and(|e| IMAGES.contains(&e.as_str()))
}

/// Whether a vault path names one of the vault's Navigator layers
/// (`Navigator/enterprise-attack-coverage.json`): published for download
/// at the same path, used or not.
fn is_layer(path: &str) -> bool {
    path.strip_prefix(crate::vault::layout::LAYERS_FOLDER)
        .and_then(|p| p.strip_prefix('/'))
        .is_some_and(|name| !name.contains('/') && extension(name).as_deref() == Some("json"))
}

impl Attachments {
    /// The attachments under `vault` (hidden folders aside), each with a
    /// URL of its own: `files/` and its path, made safe as page URLs are
    /// (a Navigator layer keeps its own path).
    pub fn new(vault: &Path) -> Attachments {
        // The files as found, so that a name that is no UTF-8 is still read.
        let (published, others): (Vec<(PathBuf, String)>, Vec<_>) =
            (crate::vault::attachment_files(vault).into_iter())
                .map(|f| {
                    let rel = crate::vault::relative_path(vault, &f);
                    (f, rel)
                })
                .partition(|(_, p)| is_attachment(p) || is_layer(p));
        let (files, paths): (Vec<PathBuf>, Vec<String>) = published.into_iter().unzip();
        let mut used = BTreeSet::new();
        let urls = (paths.iter())
            .map(|p| match is_layer(p) {
                true => p.clone(),
                false => unique_url(p, &mut used),
            })
            .collect();
        Attachments {
            names: NoteNames::new(&paths),
            files,
            layers: (0..paths.len()).filter(|&i| is_layer(&paths[i])).collect(),
            urls,
            unpublished: NoteNames::new(others.into_iter().map(|(_, rel)| rel)),
        }
    }

    /// Whether a link target names a file of the vault that the site does
    /// not publish (`diagram.svg`, `board.canvas`).
    pub fn is_unpublished(&self, target: &str, from: &str) -> bool {
        self.unpublished.find_from(target, from).is_some()
    }

    /// The attachment a link target names in the note at `from`.
    pub fn find(&self, target: &str, from: &str) -> Option<usize> {
        extension(target)?;
        self.names.find_from(target, from)
    }
}

/// A URL for the file at vault path `path`, unlike any in `used`.
fn unique_url(path: &str, used: &mut BTreeSet<String>) -> String {
    let (stem, ext) = path.rsplit_once('.').unwrap_or((path, ""));
    let parts: Vec<String> = stem.split('/').map(url_part).collect();
    let base = format!("{FOLDER}/{}", parts.join("/"));
    let ext = ext.to_ascii_lowercase();
    let mut url = format!("{base}.{ext}");
    let mut n = 2;
    while !used.insert(url.clone()) {
        url = format!("{base}-{n}.{ext}");
        n += 1;
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_found_by_name_or_path_and_get_safe_urls() {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path();
        for f in [
            "img/Diagram 1.PNG",
            "notes/img/Diagram 1.png",
            "report.pdf",
            "evil.svg",
            ".obsidian/icon.png",
            "note.md",
        ] {
            let p = v.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, b"x").unwrap();
        }
        let a = Attachments::new(v);
        assert_eq!(
            a.urls,
            [
                "files/img/diagram-1.png",
                "files/notes/img/diagram-1.png",
                "files/report.pdf"
            ]
        );
        assert_eq!(
            a.find("Diagram 1.png", "Home"),
            Some(0),
            "the shortest path"
        );
        assert_eq!(a.find("notes/img/Diagram 1.png", "Home"), Some(1));
        assert_eq!(a.find("report.pdf", "Home"), Some(2));
        assert_eq!(a.find("evil.svg", "Home"), None);
        assert_eq!(
            a.find("icon.png", "Home"),
            None,
            "hidden folders are not published"
        );
        assert_eq!(a.find("note", "Home"), None);
        assert!(is_image("x.WebP") && !is_image("x.pdf") && is_attachment("x.pdf"));
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_outside_the_vault_is_never_published() {
        let dir = tempfile::tempdir().unwrap();
        let (v, outside) = (dir.path().join("v"), dir.path().join("secret.png"));
        std::fs::create_dir_all(&v).unwrap();
        std::fs::write(&outside, b"secret").unwrap();
        std::os::unix::fs::symlink(&outside, v.join("shot.png")).unwrap();
        std::os::unix::fs::symlink(dir.path(), v.join("up")).unwrap();
        let a = Attachments::new(&v);
        assert!(a.files.is_empty(), "{:?}", a.files);
        assert_eq!(a.find("shot.png", "Home"), None);
    }
}
