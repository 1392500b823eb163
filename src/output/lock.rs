//! One writer at a time: an advisory lock on `.attack-vault/lock` in the
//! output folder, held until the run's commit is done. The lock file stays
//! (removing it would let a waiting run and a new one both take a lock).
//! Readers of a folder another command writes (a build reading the fetch
//! cache) share its lock: any number of them, but not beside the writer.

use super::safe::io_error;
use sigma_engine::diag::Diagnostic;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

/// Whether a lock keeps every other run out, or only writers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Write,
    Read,
}

impl WriterLock {
    /// Take the lock of the folder whose state folder is `state`; when
    /// another run holds it, wait (saying so on stderr) or, with `wait`
    /// false, refuse.
    pub fn acquire(state: &Path, wait: bool) -> Result<WriterLock, Diagnostic> {
        Self::acquire_in(state, state.parent().unwrap_or(state), Access::Write, wait)
    }

    /// Take the lock file `lock` in `state` for `folder` (named in what the
    /// run says), for writing or for reading.
    pub fn acquire_in(
        state: &Path,
        folder: &Path,
        access: Access,
        wait: bool,
    ) -> Result<WriterLock, Diagnostic> {
        let path = state.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error("cannot open the lock file", &path, e))?;
        let tried = match access {
            Access::Write => file.try_lock(),
            Access::Read => file.try_lock_shared(),
        };
        match tried {
            Ok(()) => return Ok(WriterLock { _file: file }),
            Err(TryLockError::Error(e)) => return Err(io_error("cannot lock", &path, e)),
            Err(TryLockError::WouldBlock) => {}
        }
        // A writer waits on a writer or on readers; a reader on a writer.
        let doing = match access {
            Access::Write => "reading or writing",
            Access::Read => "writing to",
        };
        if !wait {
            let msg = format!(
                "another attack-vault run is {doing} this folder (--no-wait refuses to wait)"
            );
            return Err(Diagnostic::error("write", msg).in_file(folder));
        }
        eprintln!(
            "waiting for another attack-vault run {doing} {} to finish...",
            folder.display()
        );
        match access {
            Access::Write => file.lock(),
            Access::Read => file.lock_shared(),
        }
        .map_err(|e| io_error("cannot lock", &path, e))?;
        Ok(WriterLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let first = WriterLock::acquire(dir.path(), false).unwrap();
        let err = WriterLock::acquire(dir.path(), false).unwrap_err();
        assert!(err.message.contains("another attack-vault run"), "{err}");
        drop(first);
        WriterLock::acquire(dir.path(), false).unwrap();
    }

    #[test]
    fn readers_share_a_folder_but_not_with_its_writer() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let take = |access| WriterLock::acquire_in(d, d, access, false);
        let reader = take(Access::Read).unwrap();
        let second = take(Access::Read).unwrap();
        let err = take(Access::Write).unwrap_err();
        assert_eq!(err.file.as_deref(), Some(d), "names the folder itself");
        drop((reader, second));
        let writer = take(Access::Write).unwrap();
        assert!(take(Access::Read).is_err(), "no reader beside the writer");
        drop(writer);
    }
}
