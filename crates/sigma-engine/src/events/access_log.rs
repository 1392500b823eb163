//! Web servers' access logs in the NCSA common or combined format, Apache's
//! and nginx's default: `203.0.113.9 - alice [10/Oct/2024:13:55:36 -0700]
//! "GET /a.php?id=1 HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0"`, a
//! request a line, known by its first line. Sigma's `webserver` rules (not
//! its `proxy` ones: a web server's log) read it under the names the W3C
//! format and Sigma's taxonomy give the same values, as for an IIS log:
//! `c-ip`, `cs-username`, `cs-method`, `cs-uri-stem`, `cs-uri-query` (after
//! the `?`), `cs-uri` (both), `cs-version`, `sc-status`, `sc-bytes`,
//! `cs-referer` and `cs-user-agent`. `-` is no value; `request` is the
//! request line as written, whatever it holds. The time in brackets is the
//! event's.
//!
//! A quoted value ends at a quote no backslash escapes (Apache writes a
//! quote in a request as `\"`), so a request cannot add a field. A line in
//! no such shape is lost and said, once, with the first line it happens on.

use super::FileRead;
use super::event::{Event, EventMeta, Source};
use super::json::Wanted;
use super::key_value::unquoted;
use super::log_lines::read_records;
use crate::diag::Diagnostic;
use std::io::BufRead;
use std::sync::Arc;

/// One request's parts, as written (`-` where not given).
#[derive(Debug, PartialEq, Eq)]
struct Request<'l> {
    /// The virtual host (`vhost_combined`), and its port if written.
    vhost: Option<(&'l str, Option<&'l str>)>,
    host: &'l str,
    user: &'l str,
    /// The time in brackets, as [`timestamp`] writes it.
    time: String,
    request: String,
    status: &'l str,
    bytes: &'l str,
    referer: Option<String>,
    agent: Option<String>,
}

/// Whether a text starting with `head` is an access log: its first line a
/// request in the common or combined format. A first line longer than
/// `head` is judged by its start, up to its request's opening quote.
pub(super) fn is_access_log(head: &[u8]) -> bool {
    let (line, cut) = match memchr::memchr(b'\n', head) {
        Some(end) => (&head[..end], false),
        None => (head, true),
    };
    let line = String::from_utf8_lossy(line);
    let starts = |l: &str| before_request(l).is_some_and(|(.., rest)| rest.starts_with('"'));
    let vhost_starts = || after_vhost(&line).is_some_and(|(_, rest)| starts(rest));
    parse(&line).is_some() || (cut && (starts(&line) || vhost_starts()))
}

/// A line's first word as a virtual host (`name` or `name:port`), and the
/// rest of the line.
fn after_vhost(line: &str) -> Option<((&str, Option<&str>), &str)> {
    let (vhost, rest) = word(line)?;
    let parts = match vhost.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (name, Some(port))
        }
        _ => (vhost, None),
    };
    (!parts.0.is_empty() && !vhost.contains(['[', '"'])).then_some((parts, rest))
}

/// The host, user and time of a line, and the text after them.
fn before_request(line: &str) -> Option<(&str, &str, String, &str)> {
    let (host, rest) = word(line)?;
    let (_ident, rest) = word(rest)?;
    let (user, rest) = word(rest)?;
    let rest = rest.strip_prefix('[')?;
    let (time, rest) = rest.split_once("] ")?;
    Some((host, user, timestamp(time)?, rest))
}

/// The next word of `rest` (up to a space), and what follows it.
fn word(rest: &str) -> Option<(&str, &str)> {
    let (w, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    (!w.is_empty()).then_some((w, rest))
}

/// A quoted value at the start of `rest`, unescaped, and what follows it.
fn quoted(rest: &str) -> Option<(String, &str)> {
    let (value, used) = unquoted(rest.as_bytes())?;
    Some((
        value,
        rest[used..].strip_prefix(' ').unwrap_or(&rest[used..]),
    ))
}

/// A line's request, if it is in the common or combined format, with or
/// without a virtual host first.
fn parse(line: &str) -> Option<Request<'_>> {
    parse_request(line, None).or_else(|| {
        let (vhost, rest) = after_vhost(line)?;
        parse_request(rest, Some(vhost))
    })
}

/// A request in the common or combined format, after its virtual host if
/// any.
fn parse_request<'l>(
    line: &'l str,
    vhost: Option<(&'l str, Option<&'l str>)>,
) -> Option<Request<'l>> {
    let (host, user, time, rest) = before_request(line)?;
    let (request, rest) = quoted(rest)?;
    let (status, rest) = word(rest)?;
    let (bytes, rest) = word(rest).unwrap_or(("-", ""));
    let number = |w: &str| w == "-" || w.bytes().all(|b| b.is_ascii_digit());
    if !(number(status) && number(bytes)) {
        return None;
    }
    let (referer, rest) = quoted(rest).map_or((None, rest), |(r, rest)| (Some(r), rest));
    let agent = quoted(rest).map(|(a, _)| a);
    Some(Request {
        vhost,
        host,
        user,
        time,
        request,
        status,
        bytes,
        referer,
        agent,
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `10/Oct/2024:13:55:36 -0700` as `2024-10-10T13:55:36-07:00`.
fn timestamp(t: &str) -> Option<String> {
    let (day, rest) = t.split_once('/')?;
    let (month, rest) = rest.split_once('/')?;
    let (year, rest) = rest.split_once(':')?;
    let (clock, zone) = rest.split_once(' ')?;
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let clock_ok = clock.len() == 8 && clock.split(':').all(|p| digits(p, 2));
    if !(digits(day, 2) && digits(year, 4) && clock_ok && super::is_hhmm_offset(zone)) {
        return None;
    }
    Some(format!(
        "{year}-{month:02}-{day}T{clock}{}:{}",
        &zone[..3],
        &zone[3..]
    ))
}

/// The fields of a request, under their W3C names.
fn fields(r: &Request<'_>) -> Vec<(&'static str, String)> {
    let given = |v: &str| (v != "-").then(|| v.to_string());
    let mut out = vec![("c-ip", given(r.host)), ("cs-username", given(r.user))];
    if let Some((name, port)) = r.vhost {
        out.push(("cs-host", given(name)));
        out.push(("s-port", port.map(str::to_string)));
    }
    let parts: Vec<&str> = r.request.split(' ').collect();
    if let [method, target, version] = parts[..] {
        let (stem, query) = target.split_once('?').unwrap_or((target, ""));
        out.push(("cs-method", Some(method.to_string())));
        out.push(("cs-uri", Some(target.to_string())));
        out.push(("cs-uri-stem", Some(stem.to_string())));
        out.push((
            "cs-uri-query",
            (!query.is_empty()).then(|| query.to_string()),
        ));
        out.push(("cs-version", Some(version.to_string())));
    }
    out.push(("request", given(&r.request)));
    out.push(("sc-status", given(r.status)));
    out.push(("sc-bytes", given(r.bytes)));
    out.push(("cs-referer", r.referer.as_deref().and_then(given)));
    out.push(("cs-user-agent", r.agent.as_deref().and_then(given)));
    out.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// Read the requests of an access log, each handed to `sink`.
pub(super) fn read(
    input: impl BufRead,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Event),
) -> FileRead {
    let keeps = |k: &str| wanted.is_none_or(|w| w.keeps(k));
    let what = "lost: no request in the common or combined log format (`[VHOST[:PORT]] HOST IDENT USER [TIME] \"REQUEST\" STATUS BYTES`)";
    read_records(input, report, what, sink, |no, bytes| {
        let text = String::from_utf8_lossy(bytes);
        let r = parse(&text)?;
        let fields = fields(&r);
        let meta = EventMeta {
            file: file.clone(),
            record: no,
            timestamp: Some(r.time),
            source: Some(Source::WebServer),
            ..Default::default()
        };
        let kept = fields.into_iter().filter(|(n, _)| keeps(n));
        let mut e = Event::of_texts(meta, text.len() * 3, kept);
        e.finish();
        Some(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(text: &str) -> (Vec<Event>, FileRead, Vec<String>) {
        super::super::log_lines::read_with("access.log", |file, report, sink| {
            read(text.as_bytes(), file, None, report, sink)
        })
    }

    const LOG: &str = concat!(
        r#"203.0.113.9 - alice [10/Oct/2024:13:55:36 -0700] "GET /shell.php?cmd=id HTTP/1.1" 200 2326 "http://example.com/" "Mozilla/5.0 (X11)""#,
        "\n",
        r#"198.51.100.7 - - [10/Oct/2024:13:55:37 +0000] "POST /login HTTP/1.1" 302 -"#,
        "\n",
        r#"198.51.100.7 - - [10/Oct/2024:13:55:38 +0000] "GET /a\" 200 0 \"-\" \"evil HTTP/1.1" 404 0 "-" "curl/8.0""#,
        "\n",
        r#"198.51.100.7 - - [10/Oct/2024:13:55:39 +0000] "\x16\x03\x01" 400 157 "-" "-""#,
        "\n",
    );

    #[test]
    fn each_request_is_an_event_under_the_w3c_names() {
        let (got, read, said) = events(LOG);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!((read.events, read.lost), (4, 0));
        let e = &got[0];
        assert_eq!(e.text("c-ip"), Some("203.0.113.9"));
        assert_eq!(e.text("cs-username"), Some("alice"));
        assert_eq!(e.text("cs-method"), Some("GET"));
        assert_eq!(e.text("cs-uri-stem"), Some("/shell.php"));
        assert_eq!(e.text("cs-uri-query"), Some("cmd=id"));
        assert_eq!(e.text("cs-uri"), Some("/shell.php?cmd=id"));
        assert_eq!(e.text("sc-status"), Some("200"));
        assert_eq!(e.text("cs-referer"), Some("http://example.com/"));
        assert_eq!(e.text("cs-user-agent"), Some("Mozilla/5.0 (X11)"));
        assert_eq!(
            e.meta.timestamp.as_deref(),
            Some("2024-10-10T13:55:36-07:00")
        );
        assert_eq!(e.meta.source, Some(Source::WebServer));
        // The common format: no referer or agent, no bytes sent.
        assert!(got[1].get("cs-username").is_none() && got[1].get("sc-bytes").is_none());
        assert!(got[1].get("cs-uri-query").is_none());
        // Quotes in a request are part of it: they forge no status or agent.
        let forged = r#"GET /a" 200 0 "-" "evil HTTP/1.1"#;
        assert_eq!(got[2].text("request"), Some(forged));
        assert_eq!(got[2].text("sc-status"), Some("404"));
        assert_eq!(got[2].text("cs-user-agent"), Some("curl/8.0"));
        assert!(
            got[2].get("cs-method").is_none(),
            "no request of three parts"
        );
        // A request that is no HTTP request keeps only its text.
        assert!(got[3].get("cs-method").is_none());
        assert_eq!(got[3].text("request"), Some(r"\x16\x03\x01"));
    }

    #[test]
    fn a_virtual_host_first_is_cs_host_and_s_port() {
        let log = concat!(
            r#"www.example.com:443 203.0.113.9 - alice [10/Oct/2024:13:55:36 -0700] "GET /x.php?c=id HTTP/1.1" 200 12 "-" "curl/8.0""#,
            "\n",
            r#"intranet 198.51.100.7 - - [10/Oct/2024:13:55:37 +0000] "POST /login HTTP/1.1" 302 -"#,
            "\n",
            r#"198.51.100.7 - - [10/Oct/2024:13:55:38 +0000] "GET / HTTP/1.1" 200 1"#,
            "\n",
        );
        assert!(is_access_log(log.as_bytes()));
        let (got, read, said) = events(log);
        assert!(said.is_empty(), "{said:?}");
        assert_eq!((read.events, read.lost), (3, 0));
        assert_eq!(got[0].text("cs-host"), Some("www.example.com"));
        assert_eq!(got[0].text("s-port"), Some("443"));
        assert_eq!(got[0].text("c-ip"), Some("203.0.113.9"));
        assert_eq!(got[0].text("cs-username"), Some("alice"));
        assert_eq!(got[0].text("cs-uri-query"), Some("c=id"));
        assert_eq!(got[0].text("cs-user-agent"), Some("curl/8.0"));
        assert_eq!(
            (got[1].text("cs-host"), got[1].text("s-port")),
            (Some("intranet"), None)
        );
        assert_eq!(got[1].text("c-ip"), Some("198.51.100.7"));
        // A common line is never read as one with a virtual host.
        assert_eq!(
            (got[2].text("cs-host"), got[2].text("c-ip")),
            (None, Some("198.51.100.7"))
        );
        // A cut first line is judged by its start, after the virtual host too.
        let long = format!("{}{}", &log[..log.find('"').unwrap() + 1], "a".repeat(600));
        assert!(is_access_log(&long.as_bytes()[..512]));
        assert!(!is_access_log(
            b"a b 1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1"
        ));
    }

    #[test]
    fn a_line_in_no_such_shape_is_lost_and_said() {
        let text =
            format!("{LOG}garbage\n1.2.3.4 - - [10/Oct/2024:13:55:36] \"GET / HTTP/1.1\" 200 1\n");
        let (got, read, said) = events(&text);
        assert_eq!((got.len(), read.lost), (4, 2));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("error[events]: access.log:5: 2 line(s) lost"),
            "{said:?}"
        );
    }

    #[test]
    fn only_a_request_first_makes_an_access_log() {
        assert!(is_access_log(LOG.as_bytes()));
        // A first line longer than what is looked at, by its start.
        let long = format!(
            r#"{}GET /{} HTTP/1.1" 200 1"#,
            &LOG[..LOG.find('"').unwrap() + 1],
            "a".repeat(600)
        );
        assert!(is_access_log(&long.as_bytes()[..512]));
        assert!(!is_access_log(
            &b"1.2.3.4 - - [10/Oct/2024:13:55:36 +0000] GET"[..]
        ));
        assert!(!is_access_log(b"Mar  1 10:00:00 web1 sshd[1]: x"));
        assert!(!is_access_log(b"#Fields: date time"));
        assert!(!is_access_log(
            b"1.2.3.4 - - [not a time] \"GET / HTTP/1.1\" 200 1"
        ));
        assert_eq!(
            timestamp("31/Dec/1999:23:59:59 +0530").as_deref(),
            Some("1999-12-31T23:59:59+05:30")
        );
        assert_eq!(timestamp("1/Dec/1999:23:59:59 +0530"), None);
    }
}
