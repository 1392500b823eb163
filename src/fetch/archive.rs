//! Unpacking a rules or atomics archive (or copying a folder) into a fresh
//! folder, and checking that it holds what it should. Entries are written
//! only at the paths they name inside the folder: entries that climb out
//! (`..`) and symbolic links are skipped, and named, so that the caller can
//! say what was left out.

use super::error::FetchError;
use sigma_engine::walk::{EntryKind, Hidden, tree, tree_checked};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The most an archive may unpack to. SigmaHQ's rules unpack to about
/// 30 MB and Atomic Red Team's whole repository to a few hundred; a zip bomb
/// is stopped here rather than by a full disk.
const MAX_UNPACKED: u64 = 4 << 30;
/// The most entries an archive may hold. Atomic Red Team's repository holds
/// a few thousand; an archive of millions of empty files, which no byte
/// count stops, is refused before one is written.
const MAX_ENTRIES: usize = 200_000;

/// What an unpacking or a copy wrote, and what it left out.
#[derive(Debug, Default, PartialEq)]
pub struct Unpacked {
    pub files: usize,
    /// Entries not written, as the archive or folder names them.
    pub skipped: Vec<Skipped>,
}

/// An entry left out, and why.
#[derive(Debug, PartialEq)]
pub enum Skipped {
    /// A path that leaves the folder (`../x`).
    Outside(String),
    /// A symbolic link: followed, it could lead anywhere.
    Link(String),
    /// A named pipe, device or socket: read, it may never end.
    Special(String),
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skipped::Outside(n) => write!(f, "`{n}` (outside the folder)"),
            Skipped::Link(n) => write!(f, "`{n}` (a symbolic link)"),
            Skipped::Special(n) => write!(f, "`{n}` (a pipe, device or socket)"),
        }
    }
}

/// Unpack the zip at `zip` into `into` (created).
pub fn unzip(zip: &Path, into: &Path) -> Result<Unpacked, FetchError> {
    unzip_at_most(zip, into, MAX_UNPACKED, MAX_ENTRIES)
}

fn unzip_at_most(
    zip: &Path,
    into: &Path,
    limit: u64,
    most_entries: usize,
) -> Result<Unpacked, FetchError> {
    let f = fs::File::open(zip).map_err(FetchError::file("cannot open the archive", zip))?;
    let mut a = zip::ZipArchive::new(f)
        .map_err(|e| FetchError::Archive(format!("not a zip archive: {e}")))?;
    if a.len() > most_entries {
        return Err(FetchError::Archive(format!(
            "the archive holds {} entries, more than the {most_entries} any rules or tests archive holds: refused",
            a.len()
        )));
    }
    let mut done = Unpacked::default();
    let mut left = limit;
    for i in 0..a.len() {
        let mut entry = a
            .by_index(i)
            .map_err(|e| FetchError::Archive(format!("damaged archive entry {i}: {e}")))?;
        let Some(rel) = entry.enclosed_name() else {
            done.skipped.push(Skipped::Outside(name_of(&entry)));
            continue;
        };
        if entry.is_symlink() {
            done.skipped.push(Skipped::Link(name_of(&entry)));
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
        done.files += 1;
    }
    Ok(done)
}

/// An entry's name as the archive spells it (lossy where it is not UTF-8).
fn name_of<R: io::Read>(entry: &zip::read::ZipFile<'_, R>) -> String {
    String::from_utf8_lossy(entry.name_raw()).into_owned()
}

/// Copy the folder `from` into `into` (regular files and folders only).
pub fn copy_tree(from: &Path, into: &Path) -> Result<Unpacked, FetchError> {
    let mut done = Unpacked::default();
    fs::create_dir_all(into).map_err(FetchError::file("cannot write", into))?;
    // A folder the user gave: a part that cannot be read stops the copy.
    let entries = tree_checked(from, Hidden::Keep).map_err(|d| {
        let at = d.file.as_deref().unwrap_or(from).display().to_string();
        FetchError::Content(format!("{at}: {}", d.message))
    })?;
    for e in entries {
        match e.kind {
            EntryKind::File => {}
            EntryKind::Symlink => {
                done.skipped.push(Skipped::Link(e.rel));
                continue;
            }
            EntryKind::Special => {
                done.skipped.push(Skipped::Special(e.rel));
                continue;
            }
        }
        let dest = into.join(&e.rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(FetchError::file("cannot write", parent))?;
        }
        fs::copy(&e.path, &dest).map_err(FetchError::file("cannot copy", &e.path))?;
        done.files += 1;
    }
    Ok(done)
}

fn yaml_files(dir: &Path) -> usize {
    tree(dir, Hidden::Keep)
        .iter()
        .filter(|e| e.is_file() && (e.rel.ends_with(".yml") || e.rel.ends_with(".yaml")))
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
        .filter(|e| e.is_file())
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
        std::os::unix::fs::symlink("/etc", from.join("a/etc")).unwrap();
        let copied = copy_tree(&from, &dir.path().join("into")).unwrap();
        assert_eq!(copied.files, 1);
        assert_eq!(copied.skipped, [Skipped::Link("a/etc".into())]);
        assert!(dir.path().join("into/a/r.yml").is_file());
        assert!(!dir.path().join("into/a/etc").exists());
    }

    #[test]
    fn entries_outside_the_folder_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("a.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&zip).unwrap());
        let opts = zip::write::SimpleFileOptions::default();
        for name in [
            "../evil.txt",
            "/abs.txt",
            "ok/../../evil2.txt",
            "rules/x.yml",
        ] {
            w.start_file(name, opts).unwrap();
            w.write_all(b"title: x").unwrap();
        }
        w.add_symlink("rules/link", "/etc", opts).unwrap();
        w.start_file("rules/link/passwd", opts).unwrap();
        w.finish().unwrap();
        let into = dir.path().join("out");
        let unzipped = unzip(&zip, &into).unwrap();
        assert_eq!(
            unzipped.files, 3,
            "rules/x.yml, abs.txt and rules/link/passwd inside"
        );
        assert_eq!(
            unzipped.skipped,
            [
                Skipped::Outside("../evil.txt".into()),
                Skipped::Outside("ok/../../evil2.txt".into()),
                Skipped::Link("rules/link".into()),
            ]
        );
        assert!(!dir.path().join("evil.txt").exists());
        assert!(!dir.path().join("evil2.txt").exists());
        assert!(
            into.join("rules/link").is_dir(),
            "a folder, not a link to /etc"
        );
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
        let e = unzip_at_most(&zip, &dir.path().join("out"), 1000, 10).unwrap_err();
        assert!(
            e.to_string()
                .contains("more than 1000 bytes (at rules/b.yml)"),
            "{e}"
        );
        let unzipped = unzip_at_most(&zip, &dir.path().join("ok"), 1200, 2).unwrap();
        assert_eq!(unzipped.files, 2);
        let e = unzip_at_most(&zip, &dir.path().join("many"), 1200, 1).unwrap_err();
        assert!(
            e.to_string().contains("holds 2 entries, more than the 1"),
            "{e}"
        );
        assert!(!dir.path().join("many").exists(), "nothing written");
    }
}
