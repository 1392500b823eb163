//! One writer at a time: an advisory lock on `.attack-vault/lock` in the
//! output folder, held until the run's commit is done. The lock file stays
//! (removing it would let a waiting run and a new one both take a lock).

use super::safe::io_error;
use sigma_engine::diag::Diagnostic;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Take the lock of the folder whose state folder is `state`; when
    /// another run holds it, wait (saying so on stderr) or, with `wait`
    /// false, refuse.
    pub fn acquire(state: &Path, wait: bool) -> Result<WriterLock, Diagnostic> {
        let path = state.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io_error("cannot open the lock file", &path, e))?;
        match file.try_lock() {
            Ok(()) => return Ok(WriterLock { _file: file }),
            Err(TryLockError::Error(e)) => return Err(io_error("cannot lock", &path, e)),
            Err(TryLockError::WouldBlock) => {}
        }
        let folder = state.parent().unwrap_or(state);
        if !wait {
            return Err(Diagnostic::error(
                "write",
                "another attack-vault run is writing to this folder (--no-wait refuses to wait)",
            )
            .in_file(folder));
        }
        eprintln!(
            "waiting for another attack-vault run writing to {} to finish...",
            folder.display()
        );
        file.lock().map_err(|e| io_error("cannot lock", &path, e))?;
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
}
