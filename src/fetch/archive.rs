//! Unpacking a rules or atomics archive (or copying a folder) into a fresh
//! folder, and checking that it holds what it should. Entries are written
//! only at the paths they name inside the folder: absolute paths, `..` and
//! symbolic links in an archive are skipped.

use super::error::FetchError;
use sigma_engine::walk::{Hidden, tree, tree_checked};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The most an archive may unpack to. SigmaHQ's rules unpack to about
/// 30 MB and Atomic Red Team's whole repository to a few hundred; a zip bomb
/// is stopped here rather than by a full disk.
const MAX_UNPACKED: u64 = 4 << 30;

/// Unpack the zip at `zip` into `into` (created); the number of files.
pub fn unzip(zip: &Path, into: &Path) -> Result<usize, FetchError> {
    unzip_at_most(zip, into, MAX_UNPACKED)
}

fn unzip_at_most(zip: &Path, into: &Path, limit: u64) -> Result<usize, FetchError> {
    let f = fs::File::open(zip).map_err(FetchError::file("cannot open the archive", zip))?;
    let mut a = zip::ZipArchive::new(f)
        .map_err(|e| FetchError::Archive(format!("not a zip archive: {e}")))?;
    let mut files = 0;
    let mut left = limit;
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
        // The sizes an entry declares are not trusted: what it unpacks to is counted.
        let n = io::copy(&mut io::Read::take(&mut entry, left + 1), &mut out).map_err(|e| {
            FetchError::Archive(format!("damaged archive entry {}: {e}", rel.display()))
        })?;
        if n > left {
            return Err(FetchError::Archive(format!(
                "the archive unpacks to more than {limit} bytes (at {}): refused",
                rel.display()
            )));
        }
        left -= n;
        files += 1;
    }
    Ok(files)
}

/// Copy the folder `from` into `into` (regular files and folders only).
pub fn copy_tree(from: &Path, into: &Path) -> Result<usize, FetchError> {
    let mut files = 0;
    fs::create_dir_all(into).map_err(FetchError::file("cannot write", into))?;
    // A folder the user gave: a part that cannot be read stops the copy.
    let entries = tree_checked(from, Hidden::Keep).map_err(|d| {
        let at = d.file.as_deref().unwrap_or(from).display().to_string();
        FetchError::Content(format!("{at}: {}", d.message))
    })?;
    for e in entries.into_iter().filter(|e| !e.is_symlink) {
        let dest = into.join(&e.rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(FetchError::file("cannot write", parent))?;
        }
        fs::copy(&e.path, &dest).map_err(FetchError::file("cannot copy", &e.path))?;
        files += 1;
    }
    Ok(files)
}

fn yaml_files(dir: &Path) -> usize {
    tree(dir, Hidden::Keep)
        .iter()
        .filter(|e| !e.is_symlink && (e.rel.ends_with(".yml") || e.rel.ends_with(".yaml")))
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
    // A test file `T1059/T1059.yaml` names the folder above its own.
    let holder = |rel: &str| -> Option<PathBuf> {
        let parts: Vec<&str> = rel.split('/').collect();
        let [prefix @ .., dir, file] = parts.as_slice() else {
            return None;
        };
        let is_test = dir.starts_with('T') && *file == format!("{dir}.yaml");
        (is_test && prefix.len() <= 3)
            .then(|| prefix.iter().fold(root.to_path_buf(), |p, c| p.join(c)))
    };
    tree(root, Hidden::Keep)
        .iter()
        .filter(|e| !e.is_symlink)
        .filter_map(|e| holder(&e.rel))
        .min_by_key(|d| d.components().count())
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
    fn a_folder_that_cannot_be_read_is_an_error_not_an_empty_copy() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let e = copy_tree(&missing, &dir.path().join("into")).unwrap_err();
        assert!(e.to_string().contains("missing"), "{e}");
        let from = dir.path().join("from");
        fs::create_dir_all(from.join("a")).unwrap();
        fs::write(from.join("a/r.yml"), "x").unwrap();
        assert_eq!(copy_tree(&from, &dir.path().join("into")).unwrap(), 1);
        assert!(dir.path().join("into/a/r.yml").is_file());
    }

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

    #[test]
    fn an_archive_that_unpacks_beyond_the_limit_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("bomb.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&zip).unwrap());
        for name in ["rules/a.yml", "rules/b.yml"] {
            w.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(&[b'x'; 600]).unwrap();
        }
        w.finish().unwrap();
        let e = unzip_at_most(&zip, &dir.path().join("out"), 1000).unwrap_err();
        assert!(
            e.to_string()
                .contains("more than 1000 bytes (at rules/b.yml)"),
            "{e}"
        );
        assert_eq!(
            unzip_at_most(&zip, &dir.path().join("ok"), 1200).unwrap(),
            2
        );
    }
}
