//! The cache's lock file: for each source, where it came from, which
//! version, when, how big and its sha256 (for an unpacked tree, the file of
//! its sums too), plus what the server said about it (ETag, Last-Modified)
//! for the next conditional request.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// File name of the lock file, inside the cache folder.
pub const LOCK_FILE: &str = "attack-vault.lock.json";

/// One cached source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Where it was fetched from (a URL, or a local path).
    pub url: String,
    /// ATT&CK version, Sigma release tag, or archive date.
    pub version: String,
    /// When it was fetched (RFC 3339, UTC).
    pub fetched: String,
    /// Size in bytes of what was downloaded.
    pub size: u64,
    /// sha256 of what was downloaded, lower-case hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The cached copy, relative to the cache folder (a bundle file, or the
    /// folder of rules or atomics).
    pub path: String,
    /// For an unpacked tree, the file of its sums (see `sums`), relative
    /// to the cache folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sums: Option<String>,
}

/// Every cached source, by key (`attack/enterprise-attack`, `sigma`, `atomics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    pub sources: BTreeMap<String, Entry>,
}

impl Lock {
    /// The lock file of `cache` (empty when there is none or it is unreadable).
    pub fn read(cache: &Path) -> Lock {
        std::fs::read_to_string(cache.join(LOCK_FILE))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    /// Write the lock file whole and durably.
    pub fn write(&self, cache: &Path) -> Result<(), sigma_engine::diag::Diagnostic> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        crate::output::write_durably(&cache.join(LOCK_FILE), text.as_bytes())
    }
}
