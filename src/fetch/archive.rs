//! Unpacking a rules or atomics archive (or copying a folder) into a fresh
//! folder, and checking that it holds what it should. Entries are written
//! only at the paths they name inside the folder: absolute paths, `..` and
//! symbolic links in an archive are skipped.

use super::error::FetchError;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Unpack the zip at `zip` into `into` (created); the number of files.
pub fn unzip(zip: &Path, into: &Path) -> Result<usize, FetchError> {
    let f = fs::File::open(zip).map_err(FetchError::file("cannot open the archive", zip))?;
    let mut a = zip::ZipArchive::new(f)
        .map_err(|e| FetchError::Archive(format!("not a zip archive: {e}")))?;
    let mut files = 0;
    for i in 0..a.len() {
        let mut entry = a
            .by_index(i)
            .map_err(|e| FetchError::Archive(format!("damaged archive entry {i}: {e}")))?;
        let Some(rel) = entry.enclosed_name() else {
            continue;
        };
        if entry.is_symlink() {
            continue;
        }
        let dest = into.join(&rel);
        let write = FetchError::file("cannot write", &dest);
        if entry.is_dir() {
            fs::create_dir_all(&dest).map_err(write)?;
            continue;
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(FetchError::file("cannot write", parent))?;
        }
        let mut out = fs::File::create(&dest).map_err(write)?;
        io::copy(&mut entry, &mut out).map_err(|e| {
            FetchError::Archive(format!("damaged archive entry {}: {e}", rel.display()))
        })?;
        files += 1;
    }
    Ok(files)
}

/// Copy the folder `from` into `into` (regular files and folders only).
pub fn copy_tree(from: &Path, into: &Path) -> Result<usize, FetchError> {
    let mut files = 0;
    for e in walkdir::WalkDir::new(from) {
        let e = e.map_err(|e| FetchError::File {
            what: "cannot read",
            path: e.path().unwrap_or(from).to_path_buf(),
            source: e.into(),
        })?;
        let rel = e.path().strip_prefix(from).unwrap_or(Path::new(""));
        let dest = into.join(rel);
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).map_err(FetchError::file("cannot write", &dest))?;
        } else if e.file_type().is_file() {
            fs::copy(e.path(), &dest).map_err(FetchError::file("cannot copy", e.path()))?;
            files += 1;
        }
    }
    Ok(files)
}

fn yaml_files(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            let n = e.file_name().to_string_lossy();
            n.ends_with(".yml") || n.ends_with(".yaml")
        })
        .count()
}

/// The rule trees of an unpacked Sigma archive: its top-level `rules*`
/// folders (placeholder rules aside: they need values of their own), or the
/// whole folder when it has none. An error when they hold no rule.
pub fn rule_trees(root: &Path) -> Result<Vec<PathBuf>, FetchError> {
    let mut trees: Vec<PathBuf> = fs::read_dir(root)
        .map_err(FetchError::file("cannot read", root))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("rules") && n != "rules-placeholder"
        })
        .map(|e| e.path())
        .collect();
    trees.sort();
    if trees.is_empty() {
        trees.push(root.to_path_buf());
    }
    let rules: usize = trees.iter().map(|t| yaml_files(t)).sum();
    if rules == 0 {
        return Err(FetchError::Content(
            "the archive holds no Sigma rule (.yml)".into(),
        ));
    }
    Ok(trees)
}

/// The `atomics` folder of an unpacked Atomic Red Team archive (the folder
/// holding `T*/T*.yaml`), at most three levels down.
pub fn atomics_dir(root: &Path) -> Result<PathBuf, FetchError> {
    let holds_tests = |d: &Path| {
        fs::read_dir(d).is_ok_and(|rd| {
            rd.filter_map(Result::ok).any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.starts_with('T') && e.path().join(format!("{n}.yaml")).is_file()
            })
        })
    };
    walkdir::WalkDir::new(root)
        .max_depth(3)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir())
        .map(|e| e.into_path())
        .find(|d| holds_tests(d))
        .ok_or_else(|| {
            FetchError::Content(
                "the archive holds no Atomic Red Team test (atomics/T*/T*.yaml)".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn entries_outside_the_folder_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("a.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&zip).unwrap());
        for name in [
            "../evil.txt",
            "/abs.txt",
            "ok/../../evil2.txt",
            "rules/x.yml",
        ] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"title: x").unwrap();
        }
        w.finish().unwrap();
        let into = dir.path().join("out");
        assert_eq!(
            unzip(&zip, &into).unwrap(),
            2,
            "rules/x.yml and abs.txt inside"
        );
        assert!(!dir.path().join("evil.txt").exists());
        assert!(!dir.path().join("evil2.txt").exists());
        assert!(into.join("rules/x.yml").is_file());
        assert_eq!(rule_trees(&into).unwrap(), [into.join("rules")]);
    }
}
