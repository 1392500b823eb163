//! A file written into a folder the tool does not own (`match -o`, `test
//! -o`, `layer`'s Navigator layers): streamed into a new file beside it and
//! moved into place once whole, so that the name never holds half a report
//! (a run that fails or is stopped leaves what stood there) and no other
//! name is touched; a file already there is replaced only when asked.

use super::safe::io_error;
use sigma_engine::diag::Diagnostic;
use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The partial files of the reports being written: an interrupted run
/// (Ctrl-C, `kill`) removes them before it ends, as a failed one does.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes the unfinished reports' files on SIGINT, SIGTERM or SIGHUP, then
/// ends the run as interrupted (exit 130). Installed with the first report.
fn remove_when_interrupted() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // Another handler already set (by a program using this library) is
        // left in place: the partial file is then left, hidden.
        let _ = ctrlc::set_handler(|| {
            let files = std::mem::take(&mut *unfinished());
            for f in files {
                let _ = fs::remove_file(f);
            }
            std::process::exit(130);
        });
    });
}

fn unfinished() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    UNFINISHED.lock().unwrap_or_else(|e| e.into_inner())
}

/// A report's partial file is finished with: committed or thrown away.
fn finished(partial: &Path) {
    unfinished().retain(|p| p != partial);
}

/// The report's file, being written.
#[derive(Debug)]
pub struct ReportFile {
    path: PathBuf,
    /// The new file the report is written to, beside `path`.
    partial: PathBuf,
    file: Option<File>,
    replace: bool,
}

impl ReportFile {
    /// Start a report at `path`: refused when the run reads a file there
    /// (`read_by_run`: an input, or a file its walk would find, such as the
    /// report's own partial file in a folder of events), or when something
    /// stands there, unless `replace` and it is a file.
    pub fn create(
        path: &Path,
        replace: bool,
        read_by_run: &dyn Fn(&Path) -> bool,
    ) -> Result<ReportFile, Diagnostic> {
        let refuse = |why: &str| Err(Diagnostic::error("output", why.to_string()).in_file(path));
        let existing = fs::symlink_metadata(path).ok();
        if existing.as_ref().is_some_and(|m| !m.is_file()) {
            return refuse("not a file (a folder, link or pipe stands there): no report written");
        }
        not_read(path, read_by_run)?;
        if existing.is_some() && !replace {
            return refuse("exists: --force replaces it");
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name else {
            return refuse("names no file");
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        // A new name each time: nothing that stands beside it is touched.
        for n in 0u32.. {
            let partial = dir.join(format!(".{name}.{}-{n}.partial", std::process::id()));
            remove_when_interrupted();
            match File::create_new(&partial) {
                Ok(file) => {
                    // Noted once made: only a file this run made is removed.
                    unfinished().push(partial.clone());
                    return Ok(ReportFile {
                        path: path.to_path_buf(),
                        partial,
                        file: Some(file),
                        replace,
                    });
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists && n < 1000 => continue,
                Err(e) => return Err(io_error("cannot write", path, e)),
            }
        }
        unreachable!("the loop returns")
    }

    /// Refuses the report where the run turned out to read (files it found
    /// only as it ran, such as the event files regression tests name).
    pub fn not_read_by(&self, read_by_run: &dyn Fn(&Path) -> bool) -> Result<(), Diagnostic> {
        not_read(&self.path, read_by_run)
    }

    /// Where the report is written meanwhile.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("written before it is committed")
    }

    /// The report is whole: it takes its name. Without `replace`, a file
    /// that appeared there meanwhile is left alone.
    pub fn commit(mut self) -> Result<(), Diagnostic> {
        let file = self.file.take().expect("committed once");
        file.sync_all()
            .map_err(|e| io_error("cannot write", &self.path, e))?;
        drop(file);
        let moved = match self.replace {
            true => fs::rename(&self.partial, &self.path),
            // A hard link is made only where no name stands.
            false => match fs::hard_link(&self.partial, &self.path) {
                Err(e) if e.kind() != ErrorKind::AlreadyExists && !self.path.exists() => {
                    fs::rename(&self.partial, &self.path)
                }
                linked => linked.and_then(|()| fs::remove_file(&self.partial)),
            },
        };
        // Moved into place, or kept where a file appeared (the message
        // names it): no longer the run's to remove.
        finished(&self.partial);
        moved.map_err(|e| match e.kind() {
            ErrorKind::AlreadyExists => Diagnostic::error(
                "output",
                format!(
                    "a file appeared there during the run: left alone, the report is in {}",
                    self.partial.display()
                ),
            )
            .in_file(&self.path),
            _ => {
                let _ = fs::remove_file(&self.partial);
                io_error("cannot write", &self.path, e)
            }
        })?;
        self.partial = PathBuf::new();
        Ok(())
    }
}

/// The refusal of a report where the run reads.
fn not_read(path: &Path, read_by_run: &dyn Fn(&Path) -> bool) -> Result<(), Diagnostic> {
    match read_by_run(path) {
        false => Ok(()),
        true => Err(Diagnostic::error(
            "output",
            "is read by this run (an input, or in a folder it reads): write the report elsewhere",
        )
        .in_file(path)),
    }
}

impl Drop for ReportFile {
    /// A report never committed is thrown away.
    fn drop(&mut self) {
        if !self.partial.as_os_str().is_empty() && self.file.is_some() {
            let _ = fs::remove_file(&self.partial);
            finished(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A run that reads no file where reports go.
    fn none(_: &Path) -> bool {
        false
    }

    #[test]
    fn a_report_takes_its_name_only_when_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("report.csv");
        let mut r = ReportFile::create(&p, false, &none).unwrap();
        writeln!(r.file(), "half").unwrap();
        assert!(!p.exists(), "not before it is whole");
        drop(r);
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "a report never committed leaves nothing");
        let mut r = ReportFile::create(&p, false, &none).unwrap();
        writeln!(r.file(), "whole").unwrap();
        r.commit().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "whole\n");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn what_stands_there_is_replaced_only_when_asked_and_never_an_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mine.json");
        fs::write(&p, "mine").unwrap();
        let e = ReportFile::create(&p, false, &none).unwrap_err();
        assert!(e.message.contains("exists: --force replaces it"), "{e}");
        let e = ReportFile::create(&p, true, &|_: &Path| true).unwrap_err();
        assert!(e.message.contains("is read by this run"), "{e}");
        let e = ReportFile::create(dir.path(), true, &none).unwrap_err();
        assert!(e.message.contains("not a file"), "{e}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "mine");
        let mut r = ReportFile::create(&p, true, &none).unwrap();
        write!(r.file(), "report").unwrap();
        r.commit().unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "report");
    }

    #[test]
    fn a_file_that_appears_during_the_run_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.jsonl");
        let mut r = ReportFile::create(&p, false, &none).unwrap();
        write!(r.file(), "report").unwrap();
        fs::write(&p, "theirs").unwrap();
        let e = r.commit().unwrap_err();
        assert!(
            e.message.contains("a file appeared there during the run"),
            "{e}"
        );
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs");
    }
}
