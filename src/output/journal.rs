//! The commit journal: what a run is about to change, made durable before the
//! first change, so that a run killed while applying it can be completed by
//! the next one. Applying is idempotent: a file already moved is skipped, a
//! file already deleted is gone.

use super::safe::{io_error, nearest_folder, present, read_only, relative, through_real_folders};
use sigma_engine::diag::Diagnostic;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File names inside the state folder.
pub(super) const JOURNAL: &str = "journal.json";
pub(super) const STAGING: &str = "staging";
pub(super) const NEXT_MANIFEST: &str = "manifest.next";

/// One commit: staged files to move into place and generated files to
/// delete, both vault-relative.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub(super) struct Journal {
    pub moves: Vec<String>,
    pub deletes: Vec<String>,
}

/// What applying a journal did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Applied {
    pub moved: usize,
    pub removed: usize,
    /// Manifest entries not deleted: outside the folder, through a link,
    /// or no longer a regular file.
    pub kept: usize,
    /// Of those moved and removed, the tool's own state files (bases).
    pub moved_state: usize,
    pub removed_state: usize,
}

/// A test hook: with `ATTACK_VAULT_CRASH_AT=<point>` the process aborts at
/// that point of a commit, as a killed run would stop (`staged`, `journal`,
/// `move:<n>` after n files moved, `manifest`).
pub(super) fn crash_point(point: &str) {
    if crash_at() == Some(point) {
        std::process::abort();
    }
}

fn crash_at() -> Option<&'static str> {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AT.get_or_init(|| std::env::var("ATTACK_VAULT_CRASH_AT").ok())
        .as_deref()
}

/// Write `bytes` to `path` whole and durably: a temporary file beside it
/// (`.tmp` for its extension), synced, renamed over it. A link standing at
/// `path` is replaced, never written through; one planted at the temporary
/// name is removed first; a failed write leaves no temporary file.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), Diagnostic> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let written = fs::File::create_new(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io_error("cannot write", path, e));
    }
    if let Some(dir) = path.parent() {
        // Makes the rename itself durable where the platform allows.
        let _ = fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

impl Journal {
    pub fn read(state: &Path) -> Option<Result<Journal, Diagnostic>> {
        let path = state.join(JOURNAL);
        let text = fs::read_to_string(&path).ok()?;
        Some(serde_json::from_str(&text).map_err(|e| {
            Diagnostic::error("write", format!("unreadable commit journal: {e}")).in_file(&path)
        }))
    }

    pub fn record(&self, state: &Path) -> Result<(), Diagnostic> {
        let json = serde_json::to_vec(self).expect("a journal always serializes");
        write_durably(&state.join(JOURNAL), &json)
    }

    /// Before anything is recorded: every folder a change lands in must be
    /// writable, so that a commit that cannot complete changes nothing.
    pub fn preflight(&self, out: &Path) -> Result<(), Diagnostic> {
        let mut checked: BTreeSet<PathBuf> = BTreeSet::new();
        let nothing = |e: Diagnostic| Diagnostic {
            message: format!("{}; nothing was changed", e.message),
            ..e
        };
        for rel in &self.moves {
            let rel = relative(rel).map_err(nothing)?;
            through_real_folders(out, &rel).map_err(nothing)?;
            let target = out.join(&rel);
            if fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                let msg = "a folder stands where a file goes; nothing was changed";
                return Err(Diagnostic::error("write", msg).in_file(&target));
            }
            let Some(dir) = nearest_folder(&target) else {
                continue;
            };
            if checked.insert(dir.to_path_buf()) && read_only(dir) {
                return Err(
                    Diagnostic::error("write", "folder is read-only; nothing was changed")
                        .in_file(dir),
                );
            }
        }
        Ok(())
    }

    /// Move the staged files into place, delete the stale ones, install the
    /// next manifest. Safe to run again after an interruption.
    pub fn apply(&self, out: &Path, state: &Path, manifest: &Path) -> Result<Applied, Diagnostic> {
        let staging = state.join(STAGING);
        let mut done = Applied::default();
        let mut moved_tops: BTreeSet<PathBuf> = BTreeSet::new();
        for rel in &self.moves {
            let rel = relative(rel)?;
            if move_one(out, &staging, &rel, &mut moved_tops)? {
                done.moved += 1;
                done.moved_state += usize::from(rel.starts_with(super::STATE_DIR));
                if crash_at().is_some() {
                    crash_point(&format!("move:{}", done.moved));
                }
            }
        }
        for rel in &self.deletes {
            match delete_one(out, rel) {
                Deleted::Yes => {
                    done.removed += 1;
                    done.removed_state += usize::from(rel.starts_with(super::STATE_DIR));
                }
                Deleted::Gone => {}
                Deleted::Refused => done.kept += 1,
            }
        }
        crash_point("manifest");
        let next = state.join(NEXT_MANIFEST);
        if present(&next) {
            fs::rename(&next, manifest)
                .map_err(|e| io_error("cannot write manifest", manifest, e))?;
        }
        Ok(done)
    }

    /// The commit is complete: forget it and the staging folder.
    pub fn clear(state: &Path) {
        let _ = fs::remove_file(state.join(JOURNAL));
        let _ = fs::remove_dir_all(state.join(STAGING));
    }
}

/// Move one staged file into place (or its whole top folder, when the vault
/// has no such folder yet). False when it was already moved.
fn move_one(
    out: &Path,
    staging: &Path,
    rel: &Path,
    moved_tops: &mut BTreeSet<PathBuf>,
) -> Result<bool, Diagnostic> {
    let mut comps = rel.components();
    let top = PathBuf::from(comps.next().map(|c| c.as_os_str()).unwrap_or_default());
    if rel.components().count() > 1 {
        if moved_tops.contains(&top) {
            return Ok(true);
        }
        if staging.join(&top).is_dir() && !present(&out.join(&top)) {
            fs::rename(staging.join(&top), out.join(&top)).map_err(|e| {
                io_error("cannot move staged folder into place", &out.join(&top), e)
            })?;
            moved_tops.insert(top);
            return Ok(true);
        }
    }
    let from = staging.join(rel);
    if !present(&from) {
        return Ok(false);
    }
    through_real_folders(out, rel)?;
    let to = out.join(rel);
    if let Some(parent) = to.parent()
        && !parent.is_dir()
    {
        fs::create_dir_all(parent).map_err(|e| io_error("cannot create folder", parent, e))?;
    }
    fs::rename(&from, &to).map_err(|e| io_error("cannot move staged file into place", &to, e))?;
    Ok(true)
}

enum Deleted {
    Yes,
    /// Already gone (deleted by the analyst, or by the interrupted run).
    Gone,
    Refused,
}

/// Delete one generated file the new build no longer generates: only a
/// regular file, reached through real folders; folders it leaves empty go
/// too, never the vault itself.
fn delete_one(out: &Path, rel: &str) -> Deleted {
    let Ok(rel) = relative(rel) else {
        return Deleted::Refused;
    };
    if through_real_folders(out, &rel).is_err() {
        return Deleted::Refused;
    }
    let path = out.join(&rel);
    match fs::symlink_metadata(&path) {
        Err(_) => return Deleted::Gone,
        Ok(m) if !m.file_type().is_file() => return Deleted::Refused,
        Ok(_) => {}
    }
    if fs::remove_file(&path).is_err() {
        return Deleted::Refused;
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == out || fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Deleted::Yes
}
