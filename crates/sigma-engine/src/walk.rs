//! Walking folders, the one place that does. Two policies:
//! - [`Walk`] finds input files under the paths a user gives: folders walked
//!   in name order, symbolic links followed (rule trees and sample folders
//!   are often assembled from links), loops reported as loops, and every path
//!   that cannot be read reported, never skipped in silence; a pipe or device
//!   is kept only where given by name to a reader of streams (events).
//! - [`tree`] lists a folder as it is (a vault, a site, a tool's own state):
//!   symbolic links listed, never followed, so that nothing outside the
//!   folder is read, written or deleted through it.

use crate::diag::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// How to walk: what the diagnostics are filed under, how deep, which
/// files to keep.
pub struct Walk<'a> {
    pub category: &'static str,
    pub max_depth: Option<usize>,
    pub keep: &'a (dyn Fn(&Path) -> bool + Sync),
    /// Whether a path given that is a stream (standard input as `-`, a
    /// named pipe, a device) is kept, for its reader to read once.
    pub streams: bool,
}

/// What is said of a pipe, device or socket where a file is read.
const NOT_A_FILE: &str =
    "not a file or folder (a pipe, device or socket): not read here; give a file";

impl Walk<'_> {
    /// The files under `paths` that `keep` accepts; a path given as a file is
    /// kept whatever its name.
    pub fn files(&self, paths: &[PathBuf], diags: &Diagnostics) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for p in paths {
            if self.streams && p == Path::new("-") {
                out.push(p.clone());
                continue;
            }
            match std::fs::metadata(p) {
                Ok(m) if m.is_file() => out.push(p.clone()),
                Ok(m) if m.is_dir() => self.folder(p, &mut out, diags),
                Ok(_) if self.streams => out.push(p.clone()),
                Ok(_) => diags.push(Diagnostic::error(self.category, NOT_A_FILE).in_file(p)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let what = if p.symlink_metadata().is_ok() {
                        "a symbolic link to nothing"
                    } else {
                        "no such file or folder"
                    };
                    diags.push(Diagnostic::error(self.category, what).in_file(p));
                }
                Err(e) => diags
                    .push(Diagnostic::error(self.category, format!("cannot read: {e}")).in_file(p)),
            }
        }
        out
    }

    fn folder(&self, dir: &Path, out: &mut Vec<PathBuf>, diags: &Diagnostics) {
        let mut w = walkdir::WalkDir::new(dir)
            .follow_links(true)
            .sort_by_file_name();
        if let Some(d) = self.max_depth {
            w = w.max_depth(d);
        }
        for e in w {
            match e {
                Ok(e) if e.file_type().is_file() && (self.keep)(e.path()) => {
                    out.push(e.into_path())
                }
                // A pipe in a folder would wait for a writer; a device may
                // never end.
                Ok(e) if !e.file_type().is_file() && !e.file_type().is_dir() => {
                    let d = Diagnostic::warning(self.category, NOT_A_FILE).in_file(e.path());
                    diags.push(d);
                }
                Ok(_) => {}
                Err(err) => diags.push(walk_error(self.category, dir, &err)),
            }
        }
    }
}

/// Whether [`tree`] lists what lies under hidden (dot) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Leave out every entry with a hidden name at any depth below the root
    /// (Obsidian's `.obsidian`, a tool's state folder, `.trash`).
    Skip,
    Keep,
}

/// One entry that [`tree`] lists: not a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    pub path: PathBuf,
    /// The path below the root, `/`-separated on every platform.
    pub rel: String,
    pub kind: EntryKind,
}

/// What a [`TreeEntry`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file: the only kind that is read.
    File,
    /// A symbolic link: listed, never followed.
    Symlink,
    /// A named pipe, device or socket: never opened (a pipe would wait
    /// for a writer, a device may never end).
    Special,
}

impl TreeEntry {
    /// Whether it is a regular file, which can be read.
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }
}

/// The files, symbolic links, pipes and devices under `root`, in name
/// order. Unreadable parts are left out: the folders listed this way are
/// written by the tool.
pub fn tree(root: &Path, hidden: Hidden) -> Vec<TreeEntry> {
    entries(root, hidden).filter_map(Result::ok).collect()
}

/// As [`tree`], for a folder the user gave (a local copy of an upstream
/// tree): the first part that cannot be read is the error, with its path.
pub fn tree_checked(root: &Path, hidden: Hidden) -> Result<Vec<TreeEntry>, Diagnostic> {
    entries(root, hidden)
        .map(|e| e.map_err(|err| walk_error("walk", root, &err)))
        .collect()
}

fn entries(
    root: &Path,
    hidden: Hidden,
) -> impl Iterator<Item = Result<TreeEntry, walkdir::Error>> + '_ {
    walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(move |e| {
            hidden == Hidden::Keep
                || e.depth() == 0
                || !e.file_name().to_string_lossy().starts_with('.')
        })
        .filter(|e| e.as_ref().map_or(true, |e| !e.file_type().is_dir()))
        .filter_map(move |e| {
            let e = match e {
                Ok(e) => e,
                Err(err) => return Some(Err(err)),
            };
            let rel = e.path().strip_prefix(root).ok()?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            let t = e.file_type();
            let kind = match (t.is_symlink(), t.is_file()) {
                (true, _) => EntryKind::Symlink,
                (false, true) => EntryKind::File,
                (false, false) => EntryKind::Special,
            };
            Some(Ok(TreeEntry {
                rel,
                kind,
                path: e.into_path(),
            }))
        })
}

fn walk_error(category: &'static str, dir: &Path, err: &walkdir::Error) -> Diagnostic {
    let at = err.path().unwrap_or(dir);
    let message = match err.loop_ancestor() {
        Some(a) => format!("symbolic link loop: leads back to {}", a.display()),
        None => match err.io_error() {
            Some(e) => format!("cannot read: {e}"),
            None => format!("cannot read: {err}"),
        },
    };
    Diagnostic::error(category, message).in_file(at)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn yaml(p: &Path) -> bool {
        p.extension().is_some_and(|x| x == "yml")
    }

    #[test]
    fn a_tree_lists_links_without_following_them_and_skips_hidden_names() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.md"), "x").unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/.hidden")).unwrap();
        std::fs::create_dir_all(root.join(".state")).unwrap();
        std::fs::write(root.join("a/note.md"), "x").unwrap();
        std::fs::write(root.join("a/.hidden/h.md"), "x").unwrap();
        std::fs::write(root.join(".state/s"), "x").unwrap();
        symlink(outside.path(), root.join("link")).unwrap();
        let fifo = std::process::Command::new("mkfifo")
            .arg(root.join("pipe.md"))
            .status();
        assert!(fifo.is_ok_and(|s| s.success()), "mkfifo");
        let rels = |h| -> Vec<(String, EntryKind)> {
            tree(root, h).into_iter().map(|e| (e.rel, e.kind)).collect()
        };
        assert_eq!(
            rels(Hidden::Skip),
            [
                ("a/note.md".to_string(), EntryKind::File),
                ("link".to_string(), EntryKind::Symlink),
                ("pipe.md".to_string(), EntryKind::Special)
            ]
        );
        assert_eq!(rels(Hidden::Keep).len(), 5);
    }

    #[test]
    fn links_are_followed_and_loops_named() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("a.yml"), "x").unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir(&tree).unwrap();
        symlink(real.join("a.yml"), tree.join("linked.yml")).unwrap();
        symlink(&real, tree.join("linked-folder")).unwrap();
        symlink(&tree, tree.join("loop")).unwrap();
        symlink(dir.path().join("gone"), tree.join("dangling.yml")).unwrap();
        let diags = Diagnostics::new();
        let walk = Walk {
            category: "test",
            max_depth: None,
            keep: &yaml,
            streams: false,
        };
        let files = walk.files(&[tree.clone(), dir.path().join("missing")], &diags);
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                f.strip_prefix(&tree)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["linked-folder/a.yml", "linked.yml"]);
        let messages: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(messages.len(), 3, "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|m| m.contains("dangling.yml") && m.contains("cannot read")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("loop") && m.contains("symbolic link loop")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("missing") && m.contains("no such file")),
            "{messages:?}"
        );
    }
}
