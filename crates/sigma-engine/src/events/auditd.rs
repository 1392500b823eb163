//! Events as the Linux audit daemon writes them (`/var/log/audit/audit.log`),
//! read by Sigma's `product: linux, service: auditd` rules: a record a
//! line, `type=EXECVE msg=audit(1700000000.123:42): argc=2 a0="ls" ...`,
//! known by its first line.
//!
//! - Each `key=value` is a field; `type` names the record, and the time in
//!   `msg=audit(seconds:serial)` is the event's (the serial is `serial`).
//! - A value in quotes is its text. A string the kernel could not trust
//!   (spaces, quotes, bytes that do not print) is written unquoted in hex,
//!   and is decoded where auditd writes strings so: `proctitle`, `name`,
//!   `cwd`, `exe`, `comm`, `key`, and an `EXECVE` record's arguments (`a0`,
//!   `a1`, ...); a `SYSCALL` record's `a0` is a number, left as it is.
//!   In a decoded `proctitle` the NULs between arguments become spaces, as
//!   `ausearch -i` shows them; keys joined by `\x01` are each a value.
//! - `msg='op=PAM:session_open acct="root" ...'` (the user-space records)
//!   gives its own fields; the enriched part after `\x1d` (`SYSCALL=execve
//!   AUID="root"`, auditd's default format) gives its upper-case ones.
//!
//! A line that is no audit record is lost and said, once, with the first
//! line it happens on.

use super::FileRead;
use super::event::{Event, EventMeta, Source};
use super::json::Wanted;
use super::key_value::{Pair, Quoting, pairs};
use super::log_lines::read_records;
use crate::diag::Diagnostic;
use std::io::BufRead;
use std::sync::Arc;

/// Whether a text starting with `head` is an audit log: its first line a
/// record, `type=NAME msg=audit(` (after a `node=NAME ` its host may put
/// first).
pub(super) fn is_audit_log(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = match line.strip_prefix(b"node=") {
        Some(rest) => match rest.iter().position(|&b| b == b' ') {
            Some(i) => &rest[i + 1..],
            None => return false,
        },
        None => line,
    };
    let Some(rest) = line.strip_prefix(b"type=") else {
        return false;
    };
    let name = rest
        .iter()
        .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || **b == b'_')
        .count();
    name > 0 && rest[name..].starts_with(b" msg=audit(")
}

/// The fields whose strings auditd writes in hex when it cannot trust them.
const ENCODED: [&str; 6] = ["proctitle", "name", "cwd", "exe", "comm", "key"];

/// A value's texts: decoded from hex where auditd encodes that field.
fn texts(record: &str, p: &Pair<'_>) -> Vec<String> {
    let text = |v: &[u8]| String::from_utf8_lossy(v).into_owned();
    let encoded = ENCODED.contains(&p.key) || (record == "EXECVE" && argument(p.key).is_some());
    let decoded = (!p.quoted && encoded).then(|| unhex(p.value)).flatten();
    match decoded {
        None => vec![text(p.value)],
        Some(bytes) if p.key == "key" => bytes.split(|&b| b == 1).map(text).collect(),
        Some(bytes) if p.key == "proctitle" => {
            let spaced: Vec<u8> = bytes
                .iter()
                .map(|&b| if b == 0 { b' ' } else { b })
                .collect();
            vec![text(spaced.trim_ascii_end())]
        }
        Some(bytes) => vec![text(&bytes)],
    }
}

/// The argument an `EXECVE` key holds: `a2` its third, and so does each
/// piece of a long one (`a2[0]`, `a2[1]`, ... after `a2_len`).
fn argument(key: &str) -> Option<&str> {
    let base = key.split_once('[').map_or(key, |(base, _)| base);
    let digits = base.strip_prefix('a')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(base)
}

/// Upper-case hex of an even length, decoded.
fn unhex(v: &[u8]) -> Option<Vec<u8>> {
    if v.is_empty() || v.len() % 2 == 1 {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    };
    v.chunks(2)
        .map(|c| Some(digit(c[0])? << 4 | digit(c[1])?))
        .collect()
}

/// One record: its fields (`serial` among them) and its time.
struct Record {
    fields: Vec<(String, String)>,
    /// Seconds since the epoch, as written.
    time: String,
}

/// The record of one line; `None` when it is no audit record.
fn record(line: &[u8], wanted: Option<&Wanted>) -> Option<Record> {
    // `node` names the host, the event's computer.
    let keeps = |key: &str| key == "node" || wanted.is_none_or(|w| w.keeps(key));
    let (main, enriched) = match line.iter().position(|&b| b == 0x1d) {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, &[][..]),
    };
    let all = pairs(main, Quoting::Plain);
    let record = all.iter().find(|p| p.key == "type")?;
    let record = String::from_utf8_lossy(record.value).into_owned();
    let mut fields = Vec::with_capacity(all.len() + 4);
    let mut time = None;
    for p in &all {
        if p.key == "msg" && !p.quoted {
            // `audit(1700000000.123:42):`
            let stamp = p.value.strip_prefix(b"audit(")?;
            let stamp = stamp.split(|&b| b == b')').next().unwrap_or_default();
            let stamp = String::from_utf8_lossy(stamp);
            let (seconds, serial) = stamp.split_once(':').unwrap_or((&stamp, ""));
            time = Some(seconds.to_string());
            fields.push(("serial".to_string(), serial.to_string()));
            continue;
        }
        if p.key == "msg" {
            // A user-space record's own fields.
            for inner in pairs(p.value, Quoting::Plain)
                .iter()
                .filter(|i| keeps(i.key))
            {
                for t in texts(&record, inner) {
                    fields.push((inner.key.to_string(), t));
                }
            }
            continue;
        }
        let piece_of = argument(p.key).filter(|base| *base != p.key && record == "EXECVE");
        if !keeps(piece_of.unwrap_or(p.key)) {
            continue;
        }
        let texts = texts(&record, p);
        match piece_of {
            // A piece of a long argument joins the pieces just before it
            // (auditd writes them in a row; looking further back would make
            // a line of many arguments cost their square).
            Some(base) => match fields.last_mut().filter(|(k, _)| k == base) {
                Some((_, whole)) => texts.iter().for_each(|t| whole.push_str(t)),
                None => fields.push((base.to_string(), texts.concat())),
            },
            None => fields.extend(texts.into_iter().map(|t| (p.key.to_string(), t))),
        }
    }
    for p in pairs(enriched, Quoting::Plain)
        .iter()
        .filter(|p| keeps(p.key))
    {
        fields.push((
            p.key.to_string(),
            String::from_utf8_lossy(p.value).into_owned(),
        ));
    }
    Some(Record {
        fields,
        time: time?,
    })
}

/// Read the records of an audit log, each handed to `sink`.
pub(super) fn read(
    input: impl BufRead,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Event),
) -> FileRead {
    let what = "lost: no audit record (`type=NAME msg=audit(SECONDS:SERIAL): ...`)";
    read_records(input, report, what, sink, |no, text| {
        let Record { fields, time } = record(text, wanted)?;
        let meta = EventMeta {
            file: file.clone(),
            record: no,
            timestamp: Some(time),
            computer: fields
                .iter()
                .find(|(k, _)| k == "node")
                .map(|(_, v)| v.clone()),
            source: Some(Source::Auditd),
            ..Default::default()
        };
        let mut e = Event::of_texts(meta, text.len() * 2, fields);
        e.finish();
        e.fill_meta();
        Some(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> (Vec<Event>, FileRead, Vec<String>) {
        super::super::log_lines::read_with("audit.log", |file, report, sink| {
            read(text.as_bytes(), file, None, report, sink)
        })
    }

    const LOG: &str = concat!(
        "type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55e0 items=2 ppid=100 pid=101 auid=1000 uid=0 comm=\"bash\" exe=\"/usr/bin/bash\" key=\"susp_activity\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"root\"\n",
        "type=EXECVE msg=audit(1700000000.123:42): argc=3 a0=\"bash\" a1=\"-c\" a2=6563686F2068692026262069640A\n",
        "type=PROCTITLE msg=audit(1700000000.123:42): proctitle=62617368002D63006563686F206869\n",
        "node=web1 type=USER_LOGIN msg=audit(1700000001.5:43): pid=7 uid=0 auid=1000 ses=2 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=ssh res=failed'\n",
        "type=PATH msg=audit(1700000002.0:44): item=0 name=2F746D702F6120622E7368 inode=5 key=610162\n",
        "type=EXECVE msg=audit(1700000003.0:45): argc=2 a0=\"echo\" a1_len=10 a1[0]=68656C6C6F20 a1[1]=\"world\"\n",
    );

    #[test]
    fn a_record_a_line_with_its_strings_decoded_where_auditd_encodes_them() {
        let (got, read, said) = events(LOG);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!((read.events, read.lost), (6, 0));
        let sys = &got[0];
        assert_eq!(sys.text("type"), Some("SYSCALL"));
        assert_eq!(
            sys.text("a0"),
            Some("55d0"),
            "a syscall's arguments are numbers"
        );
        assert_eq!(sys.text("exe"), Some("/usr/bin/bash"));
        assert_eq!(sys.text("SYSCALL"), Some("execve"), "the enriched part");
        assert_eq!(sys.text("AUID"), Some("alice"));
        assert_eq!(sys.text("serial"), Some("42"));
        assert_eq!(sys.meta.timestamp.as_deref(), Some("1700000000.123"));
        let execve = &got[1];
        assert_eq!(execve.text("a1"), Some("-c"));
        assert_eq!(execve.text("a2"), Some("echo hi && id\n"));
        assert_eq!(got[2].text("proctitle"), Some("bash -c echo hi"));
        let login = &got[3];
        assert_eq!(login.text("acct"), Some("alice"));
        assert_eq!(login.text("res"), Some("failed"));
        assert_eq!(login.text("exe"), Some("/usr/sbin/sshd"));
        assert_eq!(login.meta.computer.as_deref(), Some("web1"));
        let path = &got[4];
        assert_eq!(path.text("name"), Some("/tmp/a b.sh"));
        let keys: Vec<&str> = path.get("key").unwrap().iter().map(|v| v.text).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(unhex(b"2F746D70").as_deref(), Some(&b"/tmp"[..]));
        assert_eq!(
            got[5].text("a1"),
            Some("hello world"),
            "a long argument's pieces"
        );
        assert_eq!(got[5].text("a1_len"), Some("10"));
    }

    #[test]
    fn only_the_fields_rules_read_are_kept_and_the_host_always() {
        let wanted = Wanted::new(["a1", "acct"]);
        let mut got = Vec::new();
        let file = Arc::from("audit.log");
        read(LOG.as_bytes(), &file, Some(&wanted), &|_| {}, &mut |e| {
            got.push(e)
        });
        assert_eq!(got.len(), 6);
        assert!(got[0].get("exe").is_none() && got[0].get("type").is_none());
        assert_eq!(got[1].text("a1"), Some("-c"));
        assert_eq!(got[3].text("acct"), Some("alice"));
        assert_eq!(got[3].meta.computer.as_deref(), Some("web1"));
        assert_eq!(got[5].text("a1"), Some("hello world"), "its pieces too");
    }

    #[test]
    fn a_line_of_many_long_arguments_is_read_in_one_pass() {
        // Each argument in one piece: a search back for the pieces before
        // each would cost the square of their number. (Fewer than an
        // event holds.)
        let n = 60_000;
        let pieces: Vec<String> = (0..n).map(|i| format!("a{i}[0]=41")).collect();
        let line = format!(
            "type=EXECVE msg=audit(1.0:1): argc={n} {}\n",
            pieces.join(" ")
        );
        let (got, read, said) = events(&line);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!(read.events, 1);
        assert_eq!(got[0].text("a0"), Some("A"));
        assert_eq!(got[0].text("a59999"), Some("A"));
    }

    #[test]
    fn a_line_that_is_no_record_is_lost_and_said() {
        let text = format!("{LOG}garbage line\ntype=EXECVE no stamp\n");
        let (got, read, said) = events(&text);
        assert_eq!((got.len(), read.lost), (6, 2));
        assert_eq!(
            said,
            [
                "error[events]: audit.log:7: 2 line(s) lost: no audit record (`type=NAME msg=audit(SECONDS:SERIAL): ...`) (the first on this line)"
            ]
        );
    }

    #[test]
    fn only_a_record_first_makes_an_audit_log() {
        assert!(is_audit_log(
            b"type=DAEMON_START msg=audit(1700000000.0:1): op=start"
        ));
        assert!(is_audit_log(
            b"node=web1 type=SYSCALL msg=audit(1.0:1): x=1"
        ));
        assert!(!is_audit_log(b"type=foo msg=audit(1.0:1)"));
        assert!(!is_audit_log(
            b"Mar  1 10:00:00 host sshd[1]: Failed password"
        ));
    }
}
