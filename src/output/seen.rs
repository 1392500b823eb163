//! What a file of the analyst's was when a build read it. A build takes
//! seconds, and Obsidian saves a note as it is typed: a note found otherwise
//! at the commit than when it was read and merged is left as the analyst
//! saved it, and the next build merges the new version with that.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

/// A file's size and modification time, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    len: u64,
    modified: Option<SystemTime>,
}

impl Seen {
    fn of(m: &fs::Metadata) -> Seen {
        Seen {
            len: m.len(),
            modified: m.modified().ok(),
        }
    }

    /// The file at `path` as it is now; `None` when it is gone.
    pub(super) fn now(path: &Path) -> Option<Seen> {
        fs::symlink_metadata(path).ok().map(|m| Seen::of(&m))
    }
}

/// A file's bytes, and what it was when they were read.
pub(super) fn read(path: &Path) -> std::io::Result<(Vec<u8>, Seen)> {
    let mut f = fs::File::open(path)?;
    let seen = Seen::of(&f.metadata()?);
    let mut bytes = Vec::with_capacity(usize::try_from(seen.len).unwrap_or(0));
    f.read_to_end(&mut bytes)?;
    Ok((bytes, seen))
}
