//! Text logs of a record a line (W3C, Zeek, audit): their lines, each
//! bounded, and what the lines held that is said once, at the end.

use super::FileRead;
use super::event::Event;
use crate::diag::Diagnostic;
use std::io::{BufRead, Read};

/// Hand `each` every line of `input` that is not blank, by its 1-based
/// number, its line end cut. Returns the records lost to reading: a line
/// longer than any event ends the file, said.
pub(super) fn each_line(
    mut input: impl BufRead,
    report: &dyn Fn(Diagnostic),
    mut each: impl FnMut(u64, &[u8]),
) -> u64 {
    let mut line = Vec::new();
    let mut no = 0u64;
    let limit = super::MAX_EVENT as u64 + 1;
    loop {
        line.clear();
        match input.by_ref().take(limit).read_until(b'\n', &mut line) {
            Ok(0) => return 0,
            Ok(_) => no += 1,
            Err(e) => {
                let msg = format!("cannot read: {e}: the rest of the file is not read");
                report(Diagnostic::error("events", msg).at(Some(no as usize + 1), None));
                return 0;
            }
        }
        if line.len() as u64 == limit && line.last() != Some(&b'\n') {
            let mib = super::MAX_EVENT >> 20;
            let msg = format!(
                "a line is longer than {mib} MiB, which no event is: the rest of the file is not read"
            );
            report(Diagnostic::error("events", msg).at(Some(no as usize), None));
            return 1;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !text.iter().all(u8::is_ascii_whitespace) {
            each(no, text);
        }
    }
}

/// Read a log of a record a line: the event `record` makes of a line (by
/// its number and bytes) is handed to `sink`; a line it makes none of is
/// lost, and said once, as `what` (the first such line named), and so are
/// lines that are not UTF-8.
pub(super) fn read_records(
    input: impl BufRead,
    report: &dyn Fn(Diagnostic),
    what: &str,
    sink: &mut dyn FnMut(Event),
    mut record: impl FnMut(u64, &[u8]) -> Option<Event>,
) -> FileRead {
    let mut read = FileRead::default();
    let (mut not_records, mut not_utf8) = (Tally::default(), Tally::default());
    read.lost += each_line(input, report, |no, text| {
        if std::str::from_utf8(text).is_err() {
            not_utf8.add(no);
        }
        match record(no, text) {
            Some(e) => {
                tell_partly_read(&e, no, report);
                sink(e);
                read.events += 1;
            }
            None => {
                not_records.add(no);
                read.lost += 1;
            }
        }
    });
    not_records.tell(true, what, report);
    not_utf8.tell_not_utf8(report);
    read
}

/// Say how the event of line `no` was read only in part, if it was.
pub(super) fn tell_partly_read(e: &Event, no: u64, report: &dyn Fn(Diagnostic)) {
    for why in super::json::partly_read(e) {
        report(Diagnostic::warning("events", why).at(Some(no as usize), None));
    }
}

/// Lines with one problem: how many, and the first.
#[derive(Default)]
pub(super) struct Tally {
    lines: u64,
    first: u64,
}

impl Tally {
    pub(super) fn add(&mut self, line: u64) {
        if self.lines == 0 {
            self.first = line;
        }
        self.lines += 1;
    }

    /// Say that lines were not UTF-8 (read with replacement characters).
    pub(super) fn tell_not_utf8(&self, report: &dyn Fn(Diagnostic)) {
        self.tell(
            false,
            "not in UTF-8, read with replacement characters",
            report,
        );
    }

    /// Say the problem, `what` the lines are, at the first of them.
    pub(super) fn tell(&self, error: bool, what: &str, report: &dyn Fn(Diagnostic)) {
        if self.lines == 0 {
            return;
        }
        let msg = format!("{} line(s) {what} (the first on this line)", self.lines);
        let d = match error {
            true => Diagnostic::error("events", msg),
            false => Diagnostic::warning("events", msg),
        };
        report(d.at(Some(self.first as usize), None));
    }
}

/// What a log reader hands out, counts and says, reading as the file
/// `name` (`read` is given the file's name, where to say and where to hand).
#[cfg(test)]
pub(super) fn read_with(
    name: &str,
    read: impl FnOnce(&std::sync::Arc<str>, &dyn Fn(Diagnostic), &mut dyn FnMut(Event)) -> FileRead,
) -> (Vec<Event>, FileRead, Vec<String>) {
    let said = std::cell::RefCell::new(Vec::new());
    let report = |d: Diagnostic| said.borrow_mut().push(d.in_file(name).to_string());
    let mut got = Vec::new();
    let read = read(&std::sync::Arc::from(name), &report, &mut |e| got.push(e));
    (got, read, said.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_blank_ones_passed_over_and_a_huge_one_ends_the_file() {
        let mut got = Vec::new();
        let lost = each_line(&b"a\r\n\n  \nb"[..], &|_| {}, |no, t| {
            got.push((no, t.to_vec()))
        });
        assert_eq!(lost, 0);
        assert_eq!(got, [(1, b"a".to_vec()), (4, b"b".to_vec())]);
    }
}
