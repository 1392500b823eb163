//! Shared by the benchmarks: where the real data is.
use std::path::{Path, PathBuf};

/// `$ATTACK_VAULT_DATA`, else `../shared/data`; `None` (with a message) when
/// `probe` is missing under it.
pub fn data_dir(probe: &str) -> Option<PathBuf> {
    let p = std::env::var_os("ATTACK_VAULT_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if p.join(probe).exists() {
        Some(p)
    } else {
        eprintln!(
            "skipping benchmarks: no data at {} (set ATTACK_VAULT_DATA)",
            p.display()
        );
        None
    }
}
