//! `key=value` text, as the Linux audit daemon and FortiGate write their
//! records: a value in quotes is one value whatever it holds (a
//! `url="/a?srcip=10.0.0.1 action=Add"` adds no field of its own).

use std::borrow::Cow;

/// How a quoted value ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quoting {
    /// At the next quote of its kind, double or single (auditd: a string
    /// that holds a quote is written in hex instead).
    Plain,
    /// In double quotes only, a backslash keeping the next character in
    /// the value (FortiOS's `msg="a \"b\""`).
    Escaped,
}

/// One `key=value` of a record, its value as written.
pub(super) struct Pair<'l> {
    pub(super) key: &'l str,
    pub(super) value: &'l [u8],
    pub(super) quoted: bool,
    escaped: bool,
}

impl<'l> Pair<'l> {
    /// The value as text: `\"` and `\\` undone where backslashes escape.
    pub(super) fn text(&self) -> Cow<'l, str> {
        let text = String::from_utf8_lossy(self.value);
        match self.escaped {
            true => unescape(text),
            false => text,
        }
    }
}

/// `\"` and `\\` undone; another backslash is kept as written.
fn unescape(text: Cow<'_, str>) -> Cow<'_, str> {
    if !text.contains('\\') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(n @ ('"' | '\\'))) => {
                out.push(n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The value in double quotes at the start of `text`, a backslash keeping
/// the next character in it, unescaped, and how many bytes it took with
/// its quotes; `None` without both quotes.
pub(super) fn unquoted(text: &[u8]) -> Option<(String, usize)> {
    let body = text.strip_prefix(b"\"")?;
    let end = escaped_end(body)?;
    let value = unescape(String::from_utf8_lossy(&body[..end])).into_owned();
    Some((value, end + 2))
}

/// The `key=value` pairs of a text; words without `=` passed over.
pub(super) fn pairs(text: &[u8], quoting: Quoting) -> Vec<Pair<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let Some(start) = rest.iter().position(|&b| b != b' ') else {
            return out;
        };
        rest = &rest[start..];
        let word_end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let Some(eq) = rest[..word_end].iter().position(|&b| b == b'=') else {
            rest = &rest[word_end..];
            continue;
        };
        let key = std::str::from_utf8(&rest[..eq]).unwrap_or_default();
        let after = &rest[eq + 1..];
        let (value, quoted, used) = match (after.first(), quoting) {
            (Some(&q @ (b'"' | b'\'')), Quoting::Plain) => {
                let end = after[1..].iter().position(|&b| b == q);
                let end = end.map_or(after.len(), |e| e + 1);
                (&after[1..end], true, (end + 1).min(after.len()))
            }
            (Some(b'"'), Quoting::Escaped) => {
                let end = escaped_end(&after[1..]).map_or(after.len(), |e| e + 1);
                (&after[1..end], true, (end + 1).min(after.len()))
            }
            _ => {
                let end = after.iter().position(|&b| b == b' ').unwrap_or(after.len());
                (&after[..end], false, end)
            }
        };
        if !key.is_empty() {
            let escaped = quoted && quoting == Quoting::Escaped;
            out.push(Pair {
                key,
                value,
                quoted,
                escaped,
            });
        }
        rest = &after[used..];
    }
}

/// Where the quote that ends a value begins in `v` (past its opening
/// quote), a backslash keeping the character after it.
fn escaped_end(v: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < v.len() {
        match v[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, quoting: Quoting) -> Vec<(String, String)> {
        pairs(text.as_bytes(), quoting)
            .iter()
            .map(|p| (p.key.to_string(), p.text().into_owned()))
            .collect()
    }

    #[test]
    fn a_quoted_value_is_one_value_whatever_it_holds() {
        let line = r#"a=1 word b="x y=2" c='z' d="""#;
        let want = [("a", "1"), ("b", "x y=2"), ("c", "z"), ("d", "")];
        let want: Vec<_> = want.map(|(k, v)| (k.into(), v.into())).into();
        assert_eq!(texts(line, Quoting::Plain), want);
    }

    #[test]
    fn an_escaped_quote_does_not_end_a_value() {
        let line = r#"url="/a\" action=\"Add" msg="C:\\dir\\" n=1 q='x y'"#;
        assert_eq!(
            texts(line, Quoting::Escaped),
            [
                ("url".into(), r#"/a" action="Add"#.into()),
                ("msg".into(), r"C:\dir\".into()),
                ("n".into(), "1".into()),
                ("q".into(), "'x".into()),
            ]
        );
        // Without a closing quote, the value runs to the end of the text.
        assert_eq!(
            texts(r#"a="open \" b=2"#, Quoting::Escaped),
            [("a".into(), r#"open " b=2"#.into())]
        );
        // The same text where quotes are plain: the value ends at the quote.
        assert_eq!(texts(r#"a="x\" b=2"#, Quoting::Plain)[1].0, "b");
    }
}
