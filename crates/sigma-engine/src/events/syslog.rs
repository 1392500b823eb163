//! Events as a Linux syslog file holds them (`/var/log/syslog`,
//! `auth.log`, `secure`, `journalctl` output), read by Sigma's `product:
//! linux` rules, which search them for keywords: a line an event, known
//! by its first line in either of the two shapes syslog daemons write:
//!
//! - `Mar  1 10:00:00 web1 sshd[812]: Failed password for root` (the
//!   traditional one, with no year);
//! - `2024-03-01T10:00:00.123456+00:00 web1 sshd[812]: ...` (rsyslog's
//!   high-precision one).
//!
//! Its fields are `host`, `program`, `pid` (when given) and `message`; a
//! line in neither shape (a message's continuation) is an event of its
//! `message` alone. The time is the line's, as written.

use super::FileRead;
use super::event::{Event, EventMeta, Source};
use super::json::Wanted;
use super::log_lines::{Tally, each_line};
use crate::diag::Diagnostic;
use std::io::BufRead;
use std::sync::Arc;

/// The parts of one line.
#[derive(Debug, PartialEq, Eq)]
struct Line<'l> {
    time: &'l str,
    host: &'l str,
    program: &'l str,
    pid: Option<&'l str>,
    message: &'l str,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The length of a time at the start of `s` in either shape, if one is.
fn time_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let clock = |at: usize| {
        digit(at)
            && digit(at + 1)
            && b.get(at + 2) == Some(&b':')
            && digit(at + 3)
            && digit(at + 4)
            && b.get(at + 5) == Some(&b':')
            && digit(at + 6)
            && digit(at + 7)
    };
    // `Mar  1 10:00:00`
    if MONTHS.iter().any(|m| s.starts_with(m))
        && b.get(3) == Some(&b' ')
        && (digit(4) || b.get(4) == Some(&b' '))
        && digit(5)
        && b.get(6) == Some(&b' ')
        && clock(7)
    {
        return Some(15);
    }
    // `2024-03-01T10:00:00[.fraction](Z|+hh:mm)`
    let date = (0..4).all(digit) && b.get(4) == Some(&b'-') && digit(5) && digit(6);
    let date = date && b.get(7) == Some(&b'-') && digit(8) && digit(9);
    if !(date && b.get(10) == Some(&b'T') && clock(11)) {
        return None;
    }
    let rest = &s[19..];
    let end = rest.find(' ')?;
    Some(19 + end)
}

/// A line's parts, if it is in either shape: a time, the host, then
/// `program[pid]:` or `program:`.
fn parse(text: &str) -> Option<Line<'_>> {
    let time_end = time_len(text)?;
    let rest = text[time_end..].strip_prefix(' ')?;
    let (host, rest) = rest.split_once(' ')?;
    let colon = rest
        .find(": ")
        .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
    let tag = &rest[..colon];
    if tag.is_empty() || tag.contains(' ') {
        return None;
    }
    let (program, pid) = match tag.strip_suffix(']').and_then(|t| t.split_once('[')) {
        Some((program, pid)) => (program, Some(pid)),
        None => (tag, None),
    };
    let message = rest.get(colon + 2..).unwrap_or_default();
    Some(Line {
        time: &text[..time_end],
        host,
        program,
        pid,
        message,
    })
}

/// Whether a text starting with `head` is a syslog file: its first line
/// in either shape.
pub(super) fn is_syslog(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    std::str::from_utf8(line).is_ok_and(|l| parse(l).is_some())
}

/// Read the lines of a syslog file, each an event handed to `sink`.
pub(super) fn read(
    input: impl BufRead,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Event),
) -> FileRead {
    let mut read = FileRead::default();
    let mut not_utf8 = Tally::default();
    let keeps = |k: &str| wanted.is_none_or(|w| w.keeps(k));
    read.lost += each_line(input, report, |no, bytes| {
        let text = String::from_utf8_lossy(bytes);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            not_utf8.add(no);
        }
        let line = parse(&text);
        let mut meta = EventMeta {
            file: file.clone(),
            record: no,
            ..Default::default()
        };
        let mut e = match &line {
            Some(l) => {
                meta.timestamp = Some(l.time.to_string());
                meta.computer = Some(l.host.to_string());
                meta.source = Some(Source::Syslog(Arc::from(l.program)));
                let mut e = Event::with_capacity(meta, text.len() * 2);
                let fields = [
                    ("host", Some(l.host)),
                    ("program", Some(l.program)),
                    ("pid", l.pid),
                ];
                for (name, value) in fields {
                    if let Some(v) = value.filter(|_| keeps(name)) {
                        e.push(name, v, None, false);
                    }
                }
                if keeps("message") {
                    e.push("message", l.message, None, false);
                }
                e
            }
            None => {
                meta.source = Some(Source::Syslog(Arc::from("")));
                let mut e = Event::with_capacity(meta, text.len() * 2);
                if keeps("message") {
                    e.push("message", &text, None, false);
                }
                e
            }
        };
        e.finish();
        sink(e);
        read.events += 1;
    });
    not_utf8.tell_not_utf8(report);
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_give_host_program_pid_and_message() {
        assert_eq!(
            parse("Mar  1 10:00:00 web1 sshd[812]: Failed password for root from 203.0.113.9"),
            Some(Line {
                time: "Mar  1 10:00:00",
                host: "web1",
                program: "sshd",
                pid: Some("812"),
                message: "Failed password for root from 203.0.113.9",
            })
        );
        let iso = parse("2024-03-01T10:00:00.123456+00:00 web1 CRON[7]: (root) CMD (id)").unwrap();
        assert_eq!(
            (iso.time, iso.program, iso.message),
            (
                "2024-03-01T10:00:00.123456+00:00",
                "CRON",
                "(root) CMD (id)"
            )
        );
        let bare = parse("Dec 24 23:59:59 db kernel: Out of memory").unwrap();
        assert_eq!((bare.program, bare.pid), ("kernel", None));
        for not in [
            "Mar 1 10:00:00 web1 sshd: x",
            "# a comment",
            "{\"a\": 1}",
            "Mar  1 10:00:00 web1 no colon here",
        ] {
            assert_eq!(parse(not), None, "{not}");
        }
    }

    #[test]
    fn every_line_is_an_event_in_either_shape_or_not() {
        let text = "Mar  1 10:00:00 web1 sshd[812]: Accepted publickey for alice\n\
                    \tcontinued line\n\
                    Mar  1 10:00:01 web1 sudo: alice : TTY=pts/0 ; COMMAND=/bin/sh\n";
        assert!(is_syslog(text.as_bytes()));
        let mut got = Vec::new();
        let file = Arc::from("auth.log");
        let read = read(text.as_bytes(), &file, None, &|_| {}, &mut |e| got.push(e));
        assert_eq!((read.events, read.lost), (3, 0));
        assert_eq!(got[0].text("program"), Some("sshd"));
        assert_eq!(got[0].meta.computer.as_deref(), Some("web1"));
        assert_eq!(got[1].text("message"), Some("\tcontinued line"));
        assert_eq!(
            got[2].text("message"),
            Some("alice : TTY=pts/0 ; COMMAND=/bin/sh")
        );
        assert_eq!(got[2].meta.source, Some(Source::Syslog("sudo".into())));
    }
}
