//! The last generated version of every note, kept compressed under
//! `.attack-vault/base/` so that the next build can tell the analyst's edits
//! from its own changes ([`super::merge`]). New versions are staged and
//! committed with the notes, through the same journal; copies of notes in
//! conflict go to `.attack-vault/conflicts/`.

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use sigma_engine::walk::{Hidden, tree};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::Path;

/// Folder of the bases, inside the state folder.
pub const BASE_DIR: &str = ".attack-vault/base";
/// Folder of the new versions of notes in conflict.
pub const CONFLICTS_DIR: &str = ".attack-vault/conflicts";

/// Vault-relative path of the base of the note at `path`.
pub fn base_path(path: &str) -> String {
    format!("{BASE_DIR}/{path}.gz")
}

/// Vault-relative path of the kept new version of a note in conflict.
pub fn conflict_path(path: &str) -> String {
    format!("{CONFLICTS_DIR}/{path}")
}

/// The base of `path`, when one was kept and reads back.
pub fn read(out: &Path, path: &str) -> Option<String> {
    let bytes = std::fs::read(out.join(base_path(path))).ok()?;
    String::from_utf8(decompress(&bytes).ok()?).ok()
}

/// What [`compress`] made of some content, whole.
pub fn decompress(compressed: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(compressed.len() * 4);
    GzDecoder::new(compressed).read_to_end(&mut out)?;
    Ok(out)
}

/// `content` compressed for the base store (fast: bases are written for
/// every changed note).
pub fn compress(content: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::with_capacity(content.len() / 3), Compression::fast());
    // Writing to a Vec cannot fail.
    let _ = e.write_all(content);
    e.finish().unwrap_or_default()
}

/// Vault-relative paths of the files under a state subfolder (`base` or
/// `conflicts`), as the note paths they stand for.
pub fn listed(out: &Path, dir: &str) -> BTreeSet<String> {
    let root = out.join(dir);
    tree(&root, Hidden::Keep)
        .into_iter()
        .filter(|e| e.is_file())
        .filter_map(|e| match dir {
            BASE_DIR => e.rel.strip_suffix(".gz").map(str::to_string),
            _ => Some(e.rel),
        })
        .collect()
}
