//! Events as logs that name their own fields in `#` directive lines: the
//! W3C extended log file format (IIS's `u_ex*.log`, and the web proxies
//! that write it), read by Sigma's `webserver` and `proxy` rules, and
//! Zeek's tab-separated logs (`conn.log`, `dns.log`, ...), read by its
//! `zeek` rules. Both are known by their first line, not by their name.
//!
//! - **W3C**: `#Fields: date time c-ip cs-method cs-uri-stem ...` names
//!   the fields of the lines after it, separated by spaces; a value in
//!   quotes may hold spaces (`""` is a quote), and `-` is no value (the
//!   field is absent, so `cs-username: null` holds). A `#Fields` line
//!   later in the file (IIS writes one at each restart) names the fields
//!   of the lines after it. A header field, `cs(User-Agent)`, is also read
//!   under its name in Sigma's `webserver` taxonomy, `cs-user-agent`. The
//!   `date` and `time` fields (UTC) make the event's time. Fields named
//!   with commas (Exchange's message tracking and HTTP proxy logs) cut
//!   their lines at commas, and `date-time` or `DateTime` is the time.
//! - **Zeek**: `#separator \x09` first, then `#fields` with the names,
//!   `#types`, `#unset_field` (`-`, absent) and `#empty_field`
//!   (`(empty)`, an empty text); a set or vector is one value per member;
//!   `\xHH` escapes are decoded. Its `ts` makes the event's time.
//!
//! An event's position is its line. A line before any `#Fields`, a value
//! no field names, a line cut short are each said, once, with the first
//! line they happen on.

use super::FileRead;
use super::event::{Event, EventMeta, Source};
use super::json::Wanted;
use super::log_lines::{Tally, each_line, tell_partly_read};
use crate::diag::Diagnostic;
use std::borrow::Cow;
use std::io::BufRead;
use std::sync::Arc;

/// Which of the two formats a log is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The W3C extended log file format (IIS, web proxies).
    W3c,
    /// Zeek's tab-separated logs.
    Zeek,
}

/// The W3C directives a log may start with (IIS starts with `#Software`).
const W3C_DIRECTIVES: [&str; 7] = [
    "#Software:",
    "#Version:",
    "#Fields:",
    "#Date:",
    "#Remark:",
    "#Start-Date:",
    "#End-Date:",
];

/// The dialect a text starting with `head` is written in, if any.
pub(super) fn dialect_of(head: &[u8]) -> Option<Dialect> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.starts_with(b"#separator ") {
        return Some(Dialect::Zeek);
    }
    W3C_DIRECTIVES
        .iter()
        .any(|d| head.starts_with(d.as_bytes()))
        .then_some(Dialect::W3c)
}

/// One field of the lines to come.
struct Field {
    name: String,
    /// The names Sigma rules give it, where they differ (`cs-user-agent`).
    sigma: Vec<String>,
    /// A Zeek set or vector: one value per member.
    list: bool,
    /// Whether a loaded rule reads it under one of its names.
    keep: bool,
}

/// What the directives read so far say of the lines to come.
struct Layout {
    dialect: Dialect,
    fields: Vec<Field>,
    /// Zeek's separators and markers, as its directives give them.
    separator: u8,
    set_separator: u8,
    unset: Vec<u8>,
    empty: Vec<u8>,
    /// Whether `#Fields:` named the fields with commas, and the lines cut
    /// their values so (W3C).
    commas: bool,
    /// Where `date` and `time` are (W3C), or a whole date and time
    /// (Exchange's `date-time`, `DateTime`).
    date: Option<usize>,
    time: Option<usize>,
    date_time: Option<usize>,
    /// What the log says its events are.
    source: Option<Source>,
}

impl Layout {
    fn new(dialect: Dialect) -> Layout {
        Layout {
            dialect,
            fields: Vec::new(),
            separator: b'\t',
            set_separator: b',',
            unset: b"-".to_vec(),
            empty: b"(empty)".to_vec(),
            commas: false,
            date: None,
            time: None,
            date_time: None,
            // Known from `#Fields` (W3C) or `#path` (Zeek).
            source: None,
        }
    }

    /// Take in a directive line (without its `#`).
    fn directive(&mut self, line: &[u8], wanted: Option<&Wanted>) {
        match self.dialect {
            Dialect::W3c => {
                if let Some(names) = strip_prefix_ignore_case(line, b"Fields:") {
                    let names = names.trim_ascii();
                    self.commas = names.contains(&b',') && !names.contains(&b' ');
                    // Exchange's logs, no web server's: what they are is
                    // not known, as a CSV file's is not.
                    self.source = (!self.commas).then_some(Source::W3c);
                    let names: Vec<Cow<'_, [u8]>> = match self.commas {
                        true => split_commas(names).collect(),
                        false => split_w3c(names).collect(),
                    };
                    self.set_fields(names.iter().map(|n| lossy(n).into_owned()));
                }
            }
            Dialect::Zeek => self.zeek_directive(line),
        }
        for f in &mut self.fields {
            f.keep =
                wanted.is_none_or(|w| std::iter::once(&f.name).chain(&f.sigma).any(|n| w.keeps(n)));
        }
    }

    fn zeek_directive(&mut self, line: &[u8]) {
        let (key, value) = match line.iter().position(|&b| b == b' ' || b == self.separator) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        match key {
            b"separator" => self.separator = unescape(value).first().copied().unwrap_or(b'\t'),
            b"set_separator" => {
                self.set_separator = unescape(value).first().copied().unwrap_or(b',')
            }
            b"unset_field" => self.unset = unescape(value).into_owned(),
            b"empty_field" => self.empty = unescape(value).into_owned(),
            b"path" => {
                let path = lossy(&unescape(value)).trim().to_string();
                self.source = (!path.is_empty()).then(|| Source::Zeek(Arc::from(path)));
            }
            b"fields" => {
                let sep = self.separator;
                let names = value.split(|&b| b == sep);
                self.set_fields(names.map(|n| lossy(n).into_owned()));
            }
            b"types" => {
                for (f, t) in self
                    .fields
                    .iter_mut()
                    .zip(value.split(|&b| b == self.separator))
                {
                    f.list = t.starts_with(b"set[") || t.starts_with(b"vector[");
                }
            }
            _ => {}
        }
    }

    /// The fields the lines after a `#Fields`/`#fields` line hold (their
    /// kinds and whether a rule reads them come after).
    fn set_fields(&mut self, names: impl Iterator<Item = String>) {
        self.fields = names
            .map(|name| Field {
                sigma: sigma_names(&name),
                name,
                list: false,
                keep: true,
            })
            .collect();
        // Only a W3C log's fields make the time; Zeek's `ts` does its own.
        let w3c = self.dialect == Dialect::W3c;
        let at = |n: &str| {
            let named = |f: &Field| w3c && f.name.eq_ignore_ascii_case(n);
            self.fields.iter().position(named)
        };
        (self.date, self.time) = (at("date"), at("time"));
        self.date_time = at("date-time").or_else(|| at("DateTime"));
    }

    /// The values a field's text `v` gives: none where it is unset, each
    /// member of a Zeek set or vector.
    fn members(&self, f: &Field, v: &[u8], mut each: impl FnMut(&str)) {
        // An escape of bytes that are no UTF-8 stays as written: decoded,
        // it could only be shown as replacement characters.
        let mut text = |v: &[u8]| match std::str::from_utf8(&unescape(v)) {
            Ok(s) => each(s),
            Err(_) => each(&lossy(v)),
        };
        match self.dialect {
            Dialect::W3c if v == b"-" => {}
            Dialect::W3c => each(&lossy(v)),
            Dialect::Zeek if v == self.unset.as_slice() => {}
            Dialect::Zeek if v == self.empty.as_slice() => {
                if !f.list {
                    each("");
                }
            }
            Dialect::Zeek if f.list => v.split(|&b| b == self.set_separator).for_each(text),
            Dialect::Zeek => text(v),
        }
    }
}

/// The names Sigma's taxonomy gives a field of the W3C format: a header
/// field as `webserver` names it (`cs(User-Agent)` → `cs-user-agent`),
/// and the few `proxy` names its own way (`c-useragent`, `cs-referrer`,
/// `c-uri-query`).
fn sigma_names(name: &str) -> Vec<String> {
    const PROXY: [(&str, &str); 6] = [
        ("cs(user-agent)", "c-useragent"),
        ("cs(referer)", "cs-referrer"),
        ("cs-uri", "c-uri"),
        ("cs-uri-stem", "c-uri-stem"),
        ("cs-uri-query", "c-uri-query"),
        ("cs-uri-extension", "c-uri-extension"),
    ];
    let header = name.split_once('(').and_then(|(prefix, rest)| {
        let header = rest.strip_suffix(')')?;
        Some(format!("{prefix}-{}", header.to_ascii_lowercase()))
    });
    let proxy = PROXY
        .iter()
        .find(|(w3c, _)| w3c.eq_ignore_ascii_case(name))
        .map(|(_, sigma)| sigma.to_string());
    header.into_iter().chain(proxy).collect()
}

fn strip_prefix_ignore_case<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = line.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &line[prefix.len()..])
}

/// A W3C line's values: separated by spaces or tabs, a value in quotes
/// kept whole (`""` in it a quote).
fn split_w3c(line: &[u8]) -> impl Iterator<Item = Cow<'_, [u8]>> {
    let mut rest = line;
    std::iter::from_fn(move || {
        let start = rest.iter().position(|&b| b != b' ' && b != b'\t')?;
        rest = &rest[start..];
        if rest[0] == b'"' {
            let (value, used) = quoted(rest);
            rest = &rest[used..];
            return Some(Cow::Owned(value));
        }
        let end = rest
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(rest.len());
        let value = &rest[..end];
        rest = &rest[end..];
        Some(Cow::Borrowed(value))
    })
}

/// The values of a line whose fields a `#Fields:` line named with commas
/// (Exchange's message tracking and HTTP proxy logs): cut at commas, a
/// value in quotes kept whole, an empty value an empty text.
fn split_commas(line: &[u8]) -> impl Iterator<Item = Cow<'_, [u8]>> {
    let mut rest = Some(line);
    std::iter::from_fn(move || {
        let text = rest?;
        let (value, used) = match text.first() {
            Some(b'"') => {
                let (value, used) = quoted(text);
                (Cow::Owned(value), used)
            }
            _ => {
                let end = memchr::memchr(b',', text).unwrap_or(text.len());
                (Cow::Borrowed(&text[..end]), end)
            }
        };
        // Past the value, up to its comma (anything between is dropped).
        rest = memchr::memchr(b',', &text[used..]).map(|i| &text[used + i + 1..]);
        Some(value)
    })
}

/// A value in quotes at the start of `text` (`""` in it a quote), and how
/// many bytes it took.
fn quoted(text: &[u8]) -> (Vec<u8>, usize) {
    let mut value = Vec::new();
    let mut i = 1;
    while i < text.len() {
        match (text[i], text.get(i + 1)) {
            (b'"', Some(b'"')) => {
                value.push(b'"');
                i += 2;
            }
            (b'"', _) => return (value, i + 1),
            (b, _) => {
                value.push(b);
                i += 1;
            }
        }
    }
    (value, i)
}

/// Zeek's `\xHH` escapes decoded (it writes the separators, backslashes
/// and bytes that do not print so).
fn unescape(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.windows(2).any(|w| w == b"\\x") {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        let hex = value
            .get(i + 2..i + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (value[i], value.get(i + 1), hex) {
            (b'\\', Some(b'x'), Some(b)) => {
                out.push(b);
                i += 4;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// What the lines held that is said once, at the end.
#[derive(Default)]
struct Problems {
    unnamed: Tally,
    longer: Tally,
    shorter: Tally,
    not_utf8: Tally,
}

/// Read the events of a log in `dialect`, each handed to `sink`.
pub(super) fn read(
    input: impl BufRead,
    dialect: Dialect,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Event),
) -> FileRead {
    let mut layout = Layout::new(dialect);
    let mut problems = Problems::default();
    let mut read = FileRead::default();
    read.lost += each_line(input, report, |no, text| {
        let text = match no {
            1 => text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text),
            _ => text,
        };
        if let Some(directive) = text.strip_prefix(b"#") {
            layout.directive(directive, wanted);
            return;
        }
        if layout.fields.is_empty() {
            problems.unnamed.add(no);
            read.lost += 1;
            return;
        }
        if std::str::from_utf8(text).is_err() {
            problems.not_utf8.add(no);
        }
        let meta = EventMeta {
            file: file.clone(),
            record: no,
            source: layout.source.clone(),
            ..Default::default()
        };
        let e = event_of(&layout, text, meta, &mut problems, no);
        tell_partly_read(&e, no, report);
        sink(e);
        read.events += 1;
    });
    let directive = match dialect {
        Dialect::W3c => "`#Fields` directive",
        Dialect::Zeek => "`#fields` directive",
    };
    let p = &problems;
    p.unnamed.tell(
        true,
        &format!("lost: no {directive} before them names their fields"),
        report,
    );
    p.longer.tell(
        false,
        "with more values than fields named: the values beyond them have no name and are not read",
        report,
    );
    p.shorter.tell(
        false,
        "with fewer values than fields named (cut short?): the fields after them are absent",
        report,
    );
    p.not_utf8.tell_not_utf8(report);
    read
}

/// The time of a W3C line, from its `date` and `time` fields (UTC).
fn w3c_time(layout: &Layout, values: &[Cow<'_, [u8]>]) -> Option<String> {
    let whole = layout.date_time.and_then(|i| values.get(i));
    if let Some(whole) = whole.filter(|v| !v.is_empty() && v.as_ref() != b"-") {
        return Some(lossy(whole).into_owned());
    }
    let date = values.get(layout.date?)?;
    let time = values.get(layout.time?)?;
    if date.as_ref() == b"-" || time.as_ref() == b"-" {
        return None;
    }
    Some(format!("{}T{}Z", lossy(date), lossy(time)))
}

fn lossy(v: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(v)
}

/// The event of one data line.
fn event_of(
    layout: &Layout,
    line: &[u8],
    mut meta: EventMeta,
    problems: &mut Problems,
    no: u64,
) -> Event {
    let values: Vec<Cow<'_, [u8]>> = match layout.dialect {
        Dialect::W3c if layout.commas => split_commas(line).collect(),
        Dialect::W3c => split_w3c(line).collect(),
        Dialect::Zeek => line
            .split(|&b| b == layout.separator)
            .map(Cow::Borrowed)
            .collect(),
    };
    match values.len().cmp(&layout.fields.len()) {
        std::cmp::Ordering::Greater => problems.longer.add(no),
        std::cmp::Ordering::Less => problems.shorter.add(no),
        std::cmp::Ordering::Equal => {}
    }
    if layout.dialect == Dialect::W3c {
        meta.timestamp = w3c_time(layout, &values);
    }
    let mut e = Event::with_capacity(meta, line.len() * 2);
    for (f, v) in layout.fields.iter().zip(&values).filter(|(f, _)| f.keep) {
        layout.members(f, v, |value| {
            for s in &f.sigma {
                e.push(s, value, None, false);
            }
            e.push(&f.name, value, None, false);
        });
    }
    e.finish();
    e.fill_meta();
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> (Vec<Event>, FileRead, Vec<String>) {
        let dialect = dialect_of(text.as_bytes()).expect("a log");
        super::super::log_lines::read_with("t.log", |file, report, sink| {
            read(text.as_bytes(), dialect, file, None, report, sink)
        })
    }

    const IIS: &str = "#Software: Microsoft Internet Information Services 10.0\r\n\
        #Version: 1.0\r\n\
        #Date: 2024-03-01 10:00:00\r\n\
        #Fields: date time cs-method cs-uri-stem cs-uri-query cs-username c-ip cs(User-Agent) sc-status\r\n\
        2024-03-01 10:00:01 GET /a.aspx cmd=whoami - 203.0.113.9 Mozilla/5.0+(Windows+NT+10.0) 200\r\n\
        #Fields: date time cs-method c-ip\r\n\
        2024-03-01 11:00:00 POST 198.51.100.7\r\n";

    #[test]
    fn an_iis_log_gives_an_event_a_line_under_its_fields_names() {
        let (got, read, said) = events(IIS);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!((read.events, read.lost), (2, 0));
        let e = &got[0];
        assert_eq!(e.text("cs-uri-query"), Some("cmd=whoami"));
        assert_eq!(e.text("sc-status"), Some("200"));
        assert_eq!(
            e.text("cs-user-agent"),
            Some("Mozilla/5.0+(Windows+NT+10.0)")
        );
        assert_eq!(
            e.text("cs(User-Agent)"),
            Some("Mozilla/5.0+(Windows+NT+10.0)"),
            "the log's own name too"
        );
        assert!(e.get("cs-username").is_none(), "`-` is no value");
        assert_eq!(e.meta.record, 5);
        assert_eq!(e.meta.timestamp.as_deref(), Some("2024-03-01T10:00:01Z"));
        // A later #Fields names the lines after it.
        assert_eq!(got[1].text("c-ip"), Some("198.51.100.7"));
        assert_eq!(got[1].text("cs-method"), Some("POST"));
        assert!(got[1].get("cs-uri-stem").is_none());
    }

    #[test]
    fn only_the_fields_rules_read_are_kept_under_any_of_their_names() {
        let wanted = Wanted::new(["cs-user-agent"]);
        let mut got = Vec::new();
        let file = Arc::from("t.log");
        read(
            IIS.as_bytes(),
            Dialect::W3c,
            &file,
            Some(&wanted),
            &|_| {},
            &mut |e| got.push(e),
        );
        let e = &got[0];
        assert_eq!(
            e.text("cs-user-agent"),
            Some("Mozilla/5.0+(Windows+NT+10.0)")
        );
        assert!(e.get("cs-uri-query").is_none());
        assert_eq!(e.meta.timestamp.as_deref(), Some("2024-03-01T10:00:01Z"));
    }

    #[test]
    fn fields_named_with_commas_cut_the_lines_at_commas() {
        // Exchange's message tracking log.
        let text = "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n\
            #Log-type: Message Tracking Log\r\n\
            #Fields: date-time,client-ip,event-id,message-subject,sender-address,recipient-address\r\n\
            2024-03-01T10:00:01.123Z,10.0.0.9,RECEIVE,\"Invoice, \"\"urgent\"\"\",a@evil.example,b@corp.example\r\n\
            2024-03-01T10:00:02.000Z,,SEND,plain subject,,c@corp.example\r\n";
        let (got, read, said) = events(text);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!(read.events, 2);
        let e = &got[0];
        assert_eq!(e.text("message-subject"), Some("Invoice, \"urgent\""));
        assert_eq!(e.text("recipient-address"), Some("b@corp.example"));
        assert_eq!(
            e.meta.timestamp.as_deref(),
            Some("2024-03-01T10:00:01.123Z")
        );
        assert_eq!(got[1].text("client-ip"), Some(""), "an empty value");
        assert_eq!(got[1].text("message-subject"), Some("plain subject"));
        assert_eq!(e.meta.source, None, "no web server's log");
    }

    #[test]
    fn quoted_values_keep_their_spaces() {
        let text = "#Version: 1.0\n#Fields: cs-method cs(User-Agent) x-note\n\
                    GET \"Mozilla/5.0 (X11) \"\"q\"\"\" -\n";
        let (got, _, said) = events(text);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!(
            got[0].text("cs-user-agent"),
            Some("Mozilla/5.0 (X11) \"q\"")
        );
        assert!(got[0].get("x-note").is_none());
    }

    #[test]
    fn a_zeek_log_gives_sets_as_members_and_decodes_escapes() {
        let text = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n\
            #unset_field\t-\n#path\tdns\n\
            #fields\tts\tquery\tanswers\tTTLs\tqtype_name\n\
            #types\ttime\tstring\tvector[string]\tvector[interval]\tstring\n\
            1709287201.123456\tpool.example\t1.2.3.4,5.6.7.8\t(empty)\t-\n\
            1709287202.5\ta\\x09b\\x5cc\t(empty)\t-\t(empty)\n\
            1709287203\t\\xff\\xfe.example\t-\t-\t-\n\
            #close\t2024-03-01-11-00-00\n";
        let (got, read, said) = events(text);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!(read.events, 3);
        let e = &got[0];
        assert_eq!(e.text("query"), Some("pool.example"));
        let answers: Vec<&str> = e.get("answers").unwrap().iter().map(|v| v.text).collect();
        assert_eq!(answers, ["1.2.3.4", "5.6.7.8"]);
        // Sigma's `category: dns` names it `answer`: found, not shown.
        let answer: Vec<&str> = e.get("answer").unwrap().iter().map(|v| v.text).collect();
        assert_eq!(answer, answers);
        assert!(e.whole().0.iter().all(|(n, _)| n != "answer"));
        assert_eq!(got[1].text("record_type"), Some(""));
        assert!(e.get("TTLs").is_none(), "an empty set has no member");
        assert!(e.get("qtype_name").is_none(), "unset");
        assert_eq!(e.meta.timestamp.as_deref(), Some("1709287201.123456"));
        assert_eq!(got[1].text("query"), Some("a\tb\\c"));
        assert_eq!(got[2].text("query"), Some("\\xff\\xfe.example"), "no UTF-8");
        assert_eq!(got[1].text("qtype_name"), Some(""), "an empty text");
        assert_eq!(got[1].meta.record, 9);
    }

    #[test]
    fn lines_no_field_names_and_lines_cut_short_are_said() {
        let text = "#Version: 1.0\nGET /a\nGET /b\n#Fields: cs-method cs-uri-stem\n\
                    GET /c extra\nGET\nPOST /d\n";
        let (got, read, said) = events(text);
        assert_eq!((read.events, read.lost), (3, 2));
        assert_eq!(got[2].text("cs-uri-stem"), Some("/d"));
        assert_eq!(
            said,
            [
                "error[events]: t.log:2: 2 line(s) lost: no `#Fields` directive before them names their fields (the first on this line)",
                "warning[events]: t.log:5: 1 line(s) with more values than fields named: the values beyond them have no name and are not read (the first on this line)",
                "warning[events]: t.log:6: 1 line(s) with fewer values than fields named (cut short?): the fields after them are absent (the first on this line)",
            ]
        );
    }

    #[test]
    fn only_a_logs_first_line_makes_it_one() {
        assert_eq!(dialect_of(b"#Software: Microsoft IIS"), Some(Dialect::W3c));
        assert_eq!(dialect_of(b"\xEF\xBB\xBF#Fields: date"), Some(Dialect::W3c));
        assert_eq!(dialect_of(b"#separator \\x09\n"), Some(Dialect::Zeek));
        assert_eq!(dialect_of(b"# a comment\n"), None);
        assert_eq!(dialect_of(b"{\"a\": 1}"), None);
        assert_eq!(sigma_names("cs(Referer)"), ["cs-referer", "cs-referrer"]);
        assert_eq!(
            sigma_names("cs(User-Agent)"),
            ["cs-user-agent", "c-useragent"]
        );
        assert_eq!(sigma_names("cs(X-Forwarded-For)"), ["cs-x-forwarded-for"]);
        assert_eq!(sigma_names("cs-uri-query"), ["c-uri-query"]);
        assert!(sigma_names("cs-host").is_empty());
    }
}
