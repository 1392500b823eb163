//! Paths the tool may write or delete: relative, inside the output folder,
//! through real folders only (never a symbolic link).

use sigma_engine::diag::Diagnostic;
use std::fs;
use std::path::{Component, Path, PathBuf};

pub(super) fn io_error(what: &str, p: &Path, e: std::io::Error) -> Diagnostic {
    Diagnostic::error("write", format!("{what}: {e}")).in_file(p)
}

/// A vault-relative, `/`-separated path with only normal components.
pub(super) fn relative(p: &str) -> Result<PathBuf, Diagnostic> {
    let path = PathBuf::from(p);
    let ok = !p.is_empty()
        && path.components().all(|c| matches!(c, Component::Normal(_)))
        && !p.contains('\\');
    if ok {
        Ok(path)
    } else {
        Err(Diagnostic::error(
            "write",
            format!("refusing to write outside the vault: {p:?}"),
        ))
    }
}

/// Whether a path read from the tool's own state (the manifest) stays
/// inside the folder: what `relative` accepts.
pub fn is_inside(p: &str) -> bool {
    relative(p).is_ok()
}

/// True when `path` exists as anything, a dangling link included.
pub(super) fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// Refuse `rel` when one of its folders inside `root` is a symbolic link (or
/// not a folder): a write or delete through it could land outside.
pub(super) fn through_real_folders(root: &Path, rel: &Path) -> Result<(), Diagnostic> {
    let mut at = root.to_path_buf();
    let Some(parent) = rel.parent() else {
        return Ok(());
    };
    for c in parent.components() {
        at.push(c);
        match fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => {
                return Err(Diagnostic::error(
                    "write",
                    "refusing to write or delete through a symbolic link or a file inside the output folder",
                )
                .in_file(&at));
            }
            // Folders still to be created are fine.
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// The nearest folder of `path` that exists, for checking it is writable.
pub(super) fn nearest_folder(path: &Path) -> Option<&Path> {
    path.ancestors().skip(1).find(|a| a.is_dir())
}

/// Whether the permission bits forbid writing (a read-only folder).
pub(super) fn read_only(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.permissions().readonly())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths() {
        for bad in [
            "../x.md",
            "/etc/x.md",
            "a/../../x.md",
            "",
            "a\\..\\x",
            "./x",
        ] {
            assert!(relative(bad).is_err(), "{bad}");
        }
        assert!(relative("Techniques/T1059 Command.md").is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        fs::create_dir(dir.path().join("real")).unwrap();
        assert!(through_real_folders(dir.path(), Path::new("link/x.md")).is_err());
        assert!(through_real_folders(dir.path(), Path::new("real/x.md")).is_ok());
        assert!(through_real_folders(dir.path(), Path::new("new/sub/x.md")).is_ok());
    }
}
