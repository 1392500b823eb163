//! The frontmatter this tool writes, read without a YAML parser.
//!
//! [`Frontmatter::render`](super::Frontmatter::render) writes one shape only:
//! `key: "JSON string"`, `key: 2020-03-09`, `key: 42`, `key: true`, and
//! `key:` followed by `  - "JSON string"` items. Reading that shape line by
//! line costs a fraction of a general YAML parse, which was a tenth of a
//! site export. Anything else — comments, other quoting, flow collections,
//! a repeated key, a character YAML does not allow — returns `None` and goes
//! to the YAML parser, so the result is always what the YAML parser gives
//! (the fuzz target `frontmatter` checks that).

use indexmap::IndexMap;
use serde_json::Value;

/// The properties, when `yaml` has the written shape only.
pub fn parse(yaml: &str) -> Option<IndexMap<String, Value>> {
    let mut map: IndexMap<String, Value> = IndexMap::new();
    let mut list: Option<(String, Vec<Value>)> = None;
    for line in yaml.split_terminator('\n') {
        if let Some(item) = line.strip_prefix("  - ") {
            list.as_mut()?.1.push(Value::String(string(item)?));
            continue;
        }
        if let Some((key, items)) = list.take() {
            end_list(&mut map, key, items)?;
        }
        let (key, value) = line.split_once(':')?;
        if !is_key(key) {
            return None;
        }
        if value.is_empty() {
            list = Some((key.to_string(), Vec::new()));
        } else {
            insert(&mut map, key.to_string(), scalar(value.strip_prefix(' ')?)?)?;
        }
    }
    if let Some((key, items)) = list {
        end_list(&mut map, key, items)?;
    }
    Some(map)
}

/// Adds a list property; `key:` with no items is null in YAML, left to
/// the parser.
fn end_list(map: &mut IndexMap<String, Value>, key: String, items: Vec<Value>) -> Option<()> {
    if items.is_empty() {
        return None;
    }
    insert(map, key, Value::Array(items))
}

/// Adds a property; a repeated key is for the parser to report.
fn insert(map: &mut IndexMap<String, Value>, key: String, value: Value) -> Option<()> {
    match map.entry(key) {
        indexmap::map::Entry::Occupied(_) => None,
        indexmap::map::Entry::Vacant(v) => {
            v.insert(value);
            Some(())
        }
    }
}

/// A key YAML reads as this very string: a letter or `_`, then letters,
/// digits and `_`, and none of YAML's words for null and booleans.
fn is_key(key: &str) -> bool {
    let b = key.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
        )
}

/// A value as written: a JSON string, a date, an integer or a boolean.
fn scalar(v: &str) -> Option<Value> {
    if v.starts_with('"') {
        return string(v).map(Value::String);
    }
    match v {
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    if is_date(v) {
        return Some(Value::String(v.to_string()));
    }
    integer(v).map(Value::from)
}

/// A double-quoted string written as JSON, when YAML reads it the same:
/// no surrogate escapes (YAML and JSON pair them differently) and only
/// characters YAML allows in a document.
fn string(v: &str) -> Option<String> {
    if !v.starts_with('"') || !v.ends_with('"') || v.len() < 2 {
        return None;
    }
    if v.chars().any(|c| !is_printable(c)) || has_surrogate_escape(v) {
        return None;
    }
    serde_json::from_str(v).ok()
}

/// YAML's printable characters (`c-printable`), less the line breaks.
fn is_printable(c: char) -> bool {
    matches!(c, '\t' | '\u{20}'..='\u{7e}' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        || c >= '\u{10000}'
}

fn has_surrogate_escape(v: &str) -> bool {
    v.match_indices("\\u").any(|(i, _)| {
        matches!(v.as_bytes().get(i + 2), Some(b'd' | b'D'))
            && matches!(
                v.as_bytes().get(i + 3),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
    })
}

/// `YYYY-MM-DD`, which YAML's core schema reads as text.
fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

/// A decimal integer without sign, leading zero or more than 18 digits.
fn integer(v: &str) -> Option<i64> {
    let b = v.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 18
        && b.iter().all(u8::is_ascii_digit)
        && (b[0] != b'0' || b.len() == 1);
    if ok { v.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The written shape is read as the YAML parser reads it.
    fn same(yaml: &str) {
        let fast = parse(yaml).unwrap_or_else(|| panic!("not read: {yaml:?}"));
        let slow: IndexMap<String, Value> = serde_saphyr::from_str(yaml).unwrap();
        assert_eq!(fast, slow, "{yaml:?}");
        assert!(fast.keys().eq(slow.keys()), "key order: {yaml:?}");
    }

    #[test]
    fn the_written_shape_is_read_as_yaml_reads_it() {
        same("id: \"T1059.001\"\ncreated: 2020-03-09\nrules: 220\nzero: 0\nrevoked: false\n");
        same("tags:\n  - \"T1059_001\"\n  - \"a: b # [[c]]\"\nis_subtechnique: true\n");
        same("title: \"quote \\\" tab \\t é \\u00e9 \\/ \\\\\"\nlast:\n  - \"x\"\n");
    }

    #[test]
    fn anything_else_is_left_to_the_yaml_parser() {
        for yaml in [
            "a: 1\na: 2\n",            // repeated key: the parser's error
            "a: plain\n",              // a plain scalar
            "a: \"x\" # note\n",       // a comment
            "a: 'x'\n",                // single quotes
            "a: [x]\n",                // flow list
            "a:\n",                    // null
            "a:\nb: \"x\"\n",          // null, then more
            "a:\n- \"x\"\n",           // items not indented
            "true: \"x\"\n",           // a key YAML reads as a boolean
            "a: 007\n",                // a leading zero
            "a: -1\n",                 // a sign
            "a: 1e3\n",                // a float
            "a: \"\\ud83d\\ude00\"\n", // a surrogate pair
            "a: \"\u{7f}\"\n",         // a character YAML does not allow
            "a: \"x\"\r\n",            // a carriage return
            "\na: \"x\"\n",            // a blank line
            " a: \"x\"\n",             // indented
            "a: \"x\"\n  - \"y\"\n",   // an item after a scalar
            "a: 2020-3-09\n",          // not a date
            "a:  \"x\"\n",             // two spaces
            "a:\"x\"\n",               // no space
            "a b: \"x\"\n",            // a space in the key
        ] {
            assert_eq!(parse(yaml), None, "{yaml:?}");
        }
    }
}
