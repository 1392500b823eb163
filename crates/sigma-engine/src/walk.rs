//! Finding input files under the paths a user gives: folders walked in
//! name order, symbolic links followed (rule trees and sample folders are
//! often assembled from links), loops reported as loops, and every path that
//! cannot be read reported, never skipped in silence.

use crate::diag::{Diagnostic, Diagnostics};
use std::path::{Path, PathBuf};

/// How to walk: what the diagnostics are filed under, how deep, which
/// files to keep.
pub struct Walk<'a> {
    pub category: &'static str,
    pub max_depth: Option<usize>,
    pub keep: &'a (dyn Fn(&Path) -> bool + Sync),
}

impl Walk<'_> {
    /// The files under `paths` that `keep` accepts; a path given as a file is
    /// kept whatever its name.
    pub fn files(&self, paths: &[PathBuf], diags: &Diagnostics) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for p in paths {
            match std::fs::metadata(p) {
                Ok(m) if m.is_file() => out.push(p.clone()),
                Ok(_) => self.folder(p, &mut out, diags),
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
                Ok(_) => {}
                Err(err) => diags.push(walk_error(self.category, dir, &err)),
            }
        }
    }
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
