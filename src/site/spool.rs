//! Page bodies rendered in pass 1 and kept on disk until pass 2 writes their
//! pages, so that each note is rendered once without the whole site's HTML
//! held in memory. The file is the writer's scratch file (see
//! [`crate::output::VaultWriter::scratch`]). Any failure here only means the
//! body is rendered again in pass 2.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

/// Where a body lies in the file: offset and length.
type Span = (u64, usize);

pub(super) struct Spool {
    file: Mutex<(File, u64)>,
    spans: Mutex<Vec<Option<Span>>>,
}

impl Spool {
    /// A spool for `pages` bodies in `file` (empty, readable and writable).
    pub fn new(file: File, pages: usize) -> Spool {
        Spool {
            file: Mutex::new((file, 0)),
            spans: Mutex::new(vec![None; pages]),
        }
    }

    /// Keep page `i`'s body.
    pub fn put(&self, i: usize, body: &str) {
        let span = {
            let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
            let at = f.1;
            let written =
                f.0.seek(SeekFrom::Start(at)).is_ok() && f.0.write_all(body.as_bytes()).is_ok();
            if !written {
                return;
            }
            f.1 += body.len() as u64;
            (at, body.len())
        };
        if let Some(s) = self
            .spans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(i)
        {
            *s = Some(span);
        }
    }

    /// Page `i`'s body, if pass 1 kept it.
    pub fn take(&self, i: usize) -> Option<String> {
        let (at, len) = self
            .spans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(i)?
            .take()?;
        let mut buf = vec![0; len];
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.0.seek(SeekFrom::Start(at)).ok()?;
        f.0.read_exact(&mut buf).ok()?;
        drop(f);
        String::from_utf8(buf).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_come_back_once_and_a_missing_one_is_none() {
        let file = tempfile::tempfile().unwrap();
        let s = Spool::new(file, 3);
        s.put(2, "<p>two</p>");
        s.put(0, "<p>zero é</p>");
        assert_eq!(s.take(0).as_deref(), Some("<p>zero é</p>"));
        assert_eq!(s.take(2).as_deref(), Some("<p>two</p>"));
        assert_eq!(s.take(2), None, "taken once");
        assert_eq!(s.take(1), None);
        assert_eq!(s.take(9), None);
    }
}
