//! JSON that serde_json refuses although its event can be read, mended so
//! that one value cannot cost the whole event (and whoever writes one field
//! cannot hide an event from every rule):
//! - a number beyond a double (`1e400`, valid JSON) is read as its text;
//! - an escaped lone UTF-16 surrogate (`\ud800`, which serializers write for
//!   Windows file and registry names that hold one) becomes U+FFFD, as
//!   invalid UTF-8 does, and the reader says so.
//!
//! Only a text that failed is mended, and only where it failed for one of
//! these reasons; any other error is reported where it is in the text as
//! given.

use super::event::Event;
use super::json::EventSeed;
use serde::de::DeserializeSeed;
use std::borrow::Cow;

/// An event read from a JSON text, and how many lone surrogates it held.
#[derive(Debug)]
pub(crate) struct Mended {
    pub event: Option<Event>,
    pub surrogates: usize,
}

impl Mended {
    /// What the reader should warn of: parts of the event not read, or
    /// read as U+FFFD.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        w.extend(self.event.iter().flat_map(super::json::partly_read));
        if self.surrogates > 0 {
            w.push(format!(
                "{} escaped lone UTF-16 surrogate(s) (such as \\ud800) replaced with U+FFFD",
                self.surrogates
            ));
        }
        w
    }
}

/// Why a JSON text is not an event, and where on its line (in the text as
/// given).
#[derive(Debug)]
pub(crate) struct TextError {
    pub error: serde_json::Error,
    pub column: usize,
}

/// Reads one JSON text (a whole line or object) as an event, mending what
/// the module overview lists.
pub(crate) fn event_from_text<'w>(
    text: &str,
    seed: impl Fn() -> EventSeed<'w>,
) -> Result<Mended, TextError> {
    let parse = |t: &str| {
        let mut de = serde_json::Deserializer::from_str(t);
        seed()
            .deserialize(&mut de)
            .and_then(|e| de.end().map(|_| e))
    };
    let mut fixed = Cow::Borrowed(text);
    let (mut quoted, mut surrogates) = (Vec::new(), 0);
    loop {
        let error = match parse(&fixed) {
            Ok(event) => return Ok(Mended { event, surrogates }),
            Err(e) => e,
        };
        let at = byte_offset(&fixed, &error);
        let what = error.to_string();
        // Each round quotes one more number (a text has fewer than it has
        // bytes); surrogates are all replaced in one round.
        let mended = if what.starts_with("number out of range") && quoted.len() < text.len() {
            quote_number_before(&fixed, at).map(|(t, start)| {
                quoted.push(start);
                t
            })
        } else if surrogates == 0
            && (what.starts_with("lone leading surrogate")
                || what.starts_with("unexpected end of hex escape"))
        {
            lone_surrogates_replaced(&fixed).map(|(t, n)| {
                surrogates = n;
                t
            })
        } else {
            None
        };
        let Some(t) = mended else {
            // Each quoted number before the error added two bytes; a
            // replaced escape keeps its length.
            let shift = 2 * quoted.iter().filter(|&&q| q < at).count();
            let column = error.column().saturating_sub(shift);
            return Err(TextError { error, column });
        };
        fixed = Cow::Owned(t);
    }
}

/// The byte offset of an error's line and column in `text`.
fn byte_offset(text: &str, e: &serde_json::Error) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + e.column()).min(text.len())
}

/// `text` with the number that ends at or just before `end` in quotes,
/// and where that number starts.
fn quote_number_before(text: &str, end: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let is_num = |c: u8| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-');
    let mut stop = end;
    while stop > 0 && !is_num(b[stop - 1]) {
        stop -= 1;
    }
    let start = (0..stop).rev().take_while(|&i| is_num(b[i])).last()?;
    let token = &text[start..stop];
    token.parse::<f64>().ok().filter(|f| f.is_infinite())?;
    let quoted = format!("{}\"{token}\"{}", &text[..start], &text[stop..]);
    Some((quoted, start))
}

/// `text` with each `\uXXXX` escape of a lone surrogate written `\ufffd`
/// (the same length), and how many there were.
fn lone_surrogates_replaced(text: &str) -> Option<(String, usize)> {
    let b = text.as_bytes();
    // (offset, unit) of every \u escape, in order.
    let mut escapes: Vec<(usize, u16)> = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        let unit = (b[i + 1] == b'u')
            .then(|| text.get(i + 2..i + 6))
            .flatten()
            .and_then(|h| u16::from_str_radix(h, 16).ok());
        match unit {
            Some(u) => {
                escapes.push((i, u));
                i += 6;
            }
            // `\\`, `\"` and the like: the escaped byte is not a backslash
            // that starts an escape.
            None => i += 2,
        }
    }
    let leading = |u: u16| (0xD800..0xDC00).contains(&u);
    let trailing = |u: u16| (0xDC00..0xE000).contains(&u);
    let next_to = |a: &(usize, u16), b: &(usize, u16)| b.0 == a.0 + 6;
    let mut lone = Vec::new();
    let mut k = 0;
    while k < escapes.len() {
        let (at, u) = escapes[k];
        let paired = leading(u)
            && escapes
                .get(k + 1)
                .is_some_and(|n| next_to(&escapes[k], n) && trailing(n.1));
        if paired {
            k += 2;
            continue;
        }
        if leading(u) || trailing(u) {
            lone.push(at);
        }
        k += 1;
    }
    if lone.is_empty() {
        return None;
    }
    let mut out = text.to_string();
    for &at in &lone {
        out.replace_range(at..at + 6, "\\ufffd");
    }
    Some((out, lone.len()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventMeta;

    fn read(text: &str) -> Result<Mended, TextError> {
        let seed = || EventSeed {
            meta: EventMeta::default(),
            wanted: None,
            size: 0,
            text: true,
        };
        event_from_text(text, seed)
    }

    fn texts(e: &Event, f: &str) -> Vec<String> {
        e.get(f)
            .unwrap()
            .iter()
            .map(|v| v.text.to_string())
            .collect()
    }

    #[test]
    fn numbers_beyond_a_double_are_read_as_their_text() {
        let text = "{\"a\": 1e400, \"b\": {\"c\": [-2E+999, 3]},\n \"d\": 1.5e3, \"e\": 123456789012345678901234567890}";
        let m = read(text).unwrap();
        let e = m.event.unwrap();
        assert_eq!(texts(&e, "a"), ["1e400"]);
        assert_eq!(texts(&e, "b.c"), ["-2E+999", "3"]);
        assert_eq!(texts(&e, "d"), ["1500.0"]);
        assert_eq!(
            e.get("a").unwrap().first().unwrap().number(),
            Some(f64::INFINITY)
        );
        let big = e.get("e").unwrap().first().unwrap().number();
        assert_eq!(big, Some(1.2345678901234568e29));
        assert_eq!(m.surrogates, 0);
        // A real error after a quoted number is placed in the text as given.
        let bad = "{\"a\": 1e400, \"b\": 2e400x}";
        let err = read(bad).unwrap_err();
        assert_eq!(err.column, bad.find('x').unwrap() + 1, "{}", err.error);
        assert!(err.error.to_string().starts_with("expected `,` or `}`"));
    }

    #[test]
    fn lone_surrogates_become_the_replacement_character() {
        let text = r#"{"a": "x\ud800.exe", "b": "\udc00", "c": "\ud800\u0041", "d": "\ud83d\ude00", "e": "\\ud800", "f": 1e999}"#;
        let m = read(text).unwrap();
        let e = m.event.unwrap();
        assert_eq!(texts(&e, "a"), ["x\u{FFFD}.exe"]);
        assert_eq!(texts(&e, "b"), ["\u{FFFD}"]);
        assert_eq!(texts(&e, "c"), ["\u{FFFD}A"]);
        assert_eq!(texts(&e, "d"), ["\u{1F600}"], "a pair is one character");
        assert_eq!(
            texts(&e, "e"),
            ["\\ud800"],
            "an escaped backslash starts no escape"
        );
        assert_eq!(texts(&e, "f"), ["1e999"]);
        assert_eq!(m.surrogates, 3);
        // A truncated escape is an error, where it is.
        let err = read(r#"{"a": "\u12"}"#).unwrap_err();
        assert!(
            err.error.to_string().starts_with("invalid escape"),
            "{}",
            err.error
        );
    }
}
