//! A YAML value tree that keeps each node's line and column and each scalar's
//! text, built from the events of granit-parser (the parser under
//! serde-saphyr). Duplicate keys are errors.
//!
//! Sigma values must keep their spelling: `00000429` is a string, not the
//! number 429, so plain scalars are never read through a lossy untyped value.

use crate::diag::Diagnostic;
use granit_parser::{Event, Parser, ScalarStyle, ScanError, Tag};
use rustc_hash::FxHashMap;

/// One YAML node with its position (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Yaml,
    pub line: usize,
    pub column: usize,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    /// An unsigned integer too large for `i64`.
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The node as text if it is a scalar (numbers and booleans in their
    /// canonical spelling).
    pub fn as_scalar_text(&self) -> Option<String> {
        Some(match &self.value {
            Yaml::Str(s) => s.clone(),
            Yaml::Int(i) => i.to_string(),
            Yaml::UInt(u) => u.to_string(),
            Yaml::Float(f) => f.to_string(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Null | Yaml::Seq(_) | Yaml::Map(_) => return None,
        })
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }
    /// Entry of a mapping by key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Yaml::Map(m) => m
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Yaml::Null)
    }
    /// A short name of the node's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Yaml::Null => "null",
            Yaml::Bool(_) => "boolean",
            Yaml::Int(_) | Yaml::UInt(_) | Yaml::Float(_) => "number",
            Yaml::Str(_) => "string",
            Yaml::Seq(_) => "list",
            Yaml::Map(_) => "map",
        }
    }
}

/// A YAML syntax error with its position: the error of the YAML layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl From<ScanError> for YamlError {
    fn from(e: ScanError) -> Self {
        let m = e.marker();
        YamlError {
            message: e.info(),
            line: Some(m.line()),
            column: Some(m.col() + 1),
        }
    }
}

impl YamlError {
    fn at(message: impl Into<String>, (line, column): (usize, usize)) -> Self {
        YamlError {
            message: message.into(),
            line: Some(line),
            column: Some(column),
        }
    }
}

impl YamlError {
    /// The error as a diagnostic of `file`.
    pub fn diagnostic(&self, category: &'static str, file: &std::path::Path) -> Diagnostic {
        Diagnostic::error(category, format!("YAML error: {}", self.message))
            .in_file(file)
            .at(self.line, self.column)
    }
}

/// Parse every document of a YAML text (empty documents skipped).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut b = Builder::default();
    // Comments are never part of a value; not capturing them saves work.
    let options = granit_parser::options! { emit_comments: false };
    for ev in Parser::new_from_str_with_options(text, options) {
        let (ev, span) = ev?;
        b.event(ev, (span.start.line(), span.start.col() + 1))?;
    }
    Ok(b.docs)
}

/// Parse a single-document YAML text (an empty text is null).
pub fn parse_document(text: &str) -> Result<Node, YamlError> {
    let mut docs = parse_documents(text)?;
    if docs.len() > 1 {
        let n = &docs[1];
        return Err(YamlError::at(
            "expected one YAML document, found several",
            (n.line, n.column),
        ));
    }
    Ok(docs.pop().unwrap_or(Node {
        value: Yaml::Null,
        line: 1,
        column: 1,
    }))
}

/// Alias expansion beyond this many nodes is refused (a "billion laughs"
/// document would otherwise exhaust memory).
const ALIAS_BUDGET: usize = 1_000_000;

/// A collection being read, with its anchor and size in nodes.
struct Frame {
    pos: (usize, usize),
    anchor: usize,
    size: usize,
    kind: FrameKind,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        keys: KeyIndex,
    },
}

/// Turns parser events into nodes.
#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    /// Anchored nodes of the current document, with their sizes.
    anchors: FxHashMap<usize, (Node, usize)>,
    alias_nodes: usize,
}

impl Builder {
    fn event(&mut self, ev: Event<'_>, pos: (usize, usize)) -> Result<(), YamlError> {
        let (node, size) = match ev {
            Event::DocumentStart(..) => {
                self.anchors.clear();
                return Ok(());
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    value: scalar(text.into_owned(), style, tag.as_deref()),
                    line: pos.0,
                    column: pos.1,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, (node.clone(), 1));
                }
                (node, 1)
            }
            Event::Alias(id) => {
                let (node, size) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| YamlError::at("alias to an unknown anchor", pos))?;
                self.alias_nodes += size;
                if self.alias_nodes > ALIAS_BUDGET {
                    return Err(YamlError::at("aliases expand to too many nodes", pos));
                }
                (node, size)
            }
            Event::SequenceStart(_, anchor, _) => {
                self.push(pos, anchor, FrameKind::Seq(Vec::new()));
                return Ok(());
            }
            Event::MappingStart(_, anchor, _) => {
                let kind = FrameKind::Map {
                    entries: Vec::new(),
                    key: None,
                    keys: KeyIndex::default(),
                };
                self.push(pos, anchor, kind);
                return Ok(());
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(f) = self.stack.pop() else {
                    return Err(YamlError::at("unbalanced collection end", pos));
                };
                let value = match f.kind {
                    FrameKind::Seq(items) => Yaml::Seq(items),
                    FrameKind::Map { entries, .. } => Yaml::Map(merge_keys(entries)),
                };
                let node = Node {
                    value,
                    line: f.pos.0,
                    column: f.pos.1,
                };
                if f.anchor != 0 {
                    self.anchors.insert(f.anchor, (node.clone(), f.size));
                }
                (node, f.size)
            }
            _ => return Ok(()),
        };
        self.attach(node, size)
    }

    fn push(&mut self, pos: (usize, usize), anchor: usize, kind: FrameKind) {
        self.stack.push(Frame {
            pos,
            anchor,
            size: 1,
            kind,
        });
    }

    /// Adds a finished node to the collection being read, or ends a document.
    fn attach(&mut self, node: Node, size: usize) -> Result<(), YamlError> {
        let Some(top) = self.stack.last_mut() else {
            if !node.is_null() {
                self.docs.push(node);
            }
            return Ok(());
        };
        top.size += size;
        match &mut top.kind {
            FrameKind::Seq(items) => items.push(node),
            FrameKind::Map { entries, key, keys } => match key.take() {
                Some(k) => entries.push((k, node)),
                None => {
                    if !keys.is_new(entries, &node.value) {
                        let shown = node.as_scalar_text().unwrap_or_default();
                        return Err(YamlError::at(
                            format!("duplicate mapping key {shown:?}"),
                            (node.line, node.column),
                        ));
                    }
                    *key = Some(node);
                }
            },
        }
        Ok(())
    }
}

/// Applies YAML merge keys (`<<: *base`): the merged map's entries come
/// first unless the map sets them itself.
fn merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    if !entries.iter().any(|(k, _)| k.as_str() == Some("<<")) {
        return entries;
    }
    let mut own = Vec::with_capacity(entries.len());
    let mut keys = KeyIndex::default();
    let mut merged = Vec::new();
    for (k, v) in entries {
        if k.as_str() != Some("<<") {
            keys.is_new(&own, &k.value);
            own.push((k, v));
            continue;
        }
        let maps = match v.value {
            Yaml::Seq(items) => items,
            _ => vec![v],
        };
        for m in maps {
            if let Yaml::Map(es) = m.value {
                merged.extend(es);
            }
        }
    }
    for (k, v) in merged {
        if keys.is_new(&own, &k.value) {
            own.push((k, v));
        }
    }
    own
}

/// The hashes of a mapping's keys so far, so that telling a new key from a
/// repeated one costs a lookup, not a comparison with every key before it
/// (a generated rule may have tens of thousands of selections). Hashed with
/// a random key: keys made to collide would bring the comparisons back.
#[derive(Default)]
struct KeyIndex {
    seen: rustc_hash::FxHashSet<u64>,
    keyed: std::hash::RandomState,
}

impl KeyIndex {
    /// Whether `key` equals none of the keys of `entries` (those this index
    /// has seen), and records it.
    fn is_new(&mut self, entries: &[(Node, Node)], key: &Yaml) -> bool {
        let mut h = std::hash::BuildHasher::build_hasher(&self.keyed);
        if !hash_key(key, &mut h) {
            // A NaN is equal to nothing, not even itself.
            return true;
        }
        // A hash seen before is a repeated key but for a rare collision.
        self.seen.insert(std::hash::Hasher::finish(&h))
            || !entries.iter().any(|(k, _)| k.value == *key)
    }
}

/// Hashes a key so that keys equal by `==` hash alike (as a nested node's
/// equality includes its position, so does its hash); `false` when the key
/// holds a NaN.
fn hash_key(y: &Yaml, h: &mut impl std::hash::Hasher) -> bool {
    use std::hash::Hash;
    std::mem::discriminant(y).hash(h);
    let node = |n: &Node, h: &mut _| {
        (n.line, n.column).hash(h);
        hash_key(&n.value, h)
    };
    match y {
        Yaml::Null => true,
        Yaml::Bool(b) => {
            b.hash(h);
            true
        }
        Yaml::Int(i) => {
            i.hash(h);
            true
        }
        Yaml::UInt(u) => {
            u.hash(h);
            true
        }
        // `-0.0 == 0.0`.
        Yaml::Float(f) => {
            (if *f == 0.0 { 0.0f64 } else { *f }).to_bits().hash(h);
            !f.is_nan()
        }
        Yaml::Str(s) => {
            s.hash(h);
            true
        }
        Yaml::Seq(items) => items.iter().all(|n| node(n, h)),
        Yaml::Map(es) => es.iter().all(|(k, v)| node(k, h) && node(v, h)),
    }
}

/// Resolves a scalar by the YAML 1.2 core schema, except that decimal
/// integers with a leading zero or underscores keep their text (`00000429`
/// is an ID, not 429) and only `true`/`false` spellings are booleans.
fn scalar(text: String, style: ScalarStyle, tag: Option<&Tag>) -> Yaml {
    if let Some(tag) = tag {
        return match tag.core_suffix() {
            Some("null") => Yaml::Null,
            Some("bool" | "int" | "float") => match plain(&text) {
                Yaml::Str(_) => Yaml::Str(text),
                v => v,
            },
            _ => Yaml::Str(text),
        };
    }
    if style != ScalarStyle::Plain {
        return Yaml::Str(text);
    }
    match plain(&text) {
        Yaml::Str(_) => Yaml::Str(text),
        v => v,
    }
}

/// The typed value of a plain scalar; `Str` (empty) when it is text.
fn plain(t: &str) -> Yaml {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        "true" | "True" | "TRUE" => return Yaml::Bool(true),
        "false" | "False" | "FALSE" => return Yaml::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Yaml::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Yaml::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Yaml::Float(f64::NAN),
        _ => {}
    }
    let text = Yaml::Str(String::new());
    let b = t.as_bytes();
    if !matches!(b[0], b'0'..=b'9' | b'-' | b'+' | b'.') {
        return text;
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).map_or(text, Yaml::Int);
    }
    if let Some(oct) = t.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).map_or(text, Yaml::Int);
    }
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) {
        if digits.len() > 1 && digits.starts_with('0') {
            return text;
        }
        if let Ok(i) = t.parse::<i64>() {
            return Yaml::Int(i);
        }
        return digits
            .parse::<u64>()
            .ok()
            .filter(|_| !t.starts_with('-'))
            .map_or(text, Yaml::UInt);
    }
    if is_float(digits) {
        return t.parse::<f64>().map_or(text, Yaml::Float);
    }
    text
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float.
fn is_float(s: &str) -> bool {
    let (mant, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mant, None),
    };
    let all_digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    let mant_ok = all_digits(int)
        && frac.is_none_or(&all_digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exp_ok = exp.is_none_or(|e| {
        let d = e.strip_prefix(['-', '+']).unwrap_or(e);
        !d.is_empty() && all_digits(d)
    });
    mant_ok && exp_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_their_text() {
        let n = parse_document("a: 00000429\nb: 4688\nc: '1'\nd: yes\ne: ~\nf: 1_000\n").unwrap();
        assert_eq!(n.get("a").unwrap().value, Yaml::Str("00000429".into()));
        assert_eq!(n.get("b").unwrap().value, Yaml::Int(4688));
        assert_eq!(n.get("c").unwrap().value, Yaml::Str("1".into()));
        assert_eq!(n.get("d").unwrap().value, Yaml::Str("yes".into()));
        assert!(n.get("e").unwrap().is_null());
        assert_eq!(n.get("f").unwrap().value, Yaml::Str("1_000".into()));
    }

    #[test]
    fn nodes_know_their_position() {
        let n = parse_document("title: x\ndetection:\n  sel:\n    Image|endswith: a\n").unwrap();
        let (k, _) = match &n.get("detection").unwrap().get("sel").unwrap().value {
            Yaml::Map(m) => m[0].clone(),
            _ => panic!(),
        };
        assert_eq!((k.line, k.column), (4, 5));
    }

    #[test]
    fn duplicate_keys_fail_with_position() {
        let e = parse_document("a: 1\nb:\n  x: 1\n  x: 2\n").unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("duplicate"), "{}", e.message);
    }

    #[test]
    fn a_repeated_key_is_found_however_far_apart_and_whatever_its_type() {
        let many: String = (0..50_000).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(parse_document(&many).is_ok());
        let e = parse_document(&format!("{many}k7: again\n")).unwrap_err();
        assert_eq!(e.line, Some(50_001));
        for (text, repeated) in [
            ("1: a\n1: b\n", true),
            ("1: a\n'1': b\n", false),
            ("0.0: a\n-0.0: b\n", true),
            (".nan: a\n.nan: b\n", false),
            ("true: a\nTrue: b\n", true),
            ("~: a\nnull: b\n", true),
            ("? [a, b]\n: 1\n? [a, c]\n: 2\n", false),
        ] {
            let r = parse_document(text);
            assert_eq!(r.is_err(), repeated, "{text:?}: {r:?}");
        }
    }

    #[test]
    fn merged_keys_do_not_replace_the_maps_own_among_many() {
        let base: String = (0..20_000).map(|i| format!("  k{i}: base\n")).collect();
        let text = format!("base: &b\n{base}m:\n  <<: *b\n  k19999: own\n  k0: own\n");
        let d = parse_document(&text).unwrap();
        let m = d.get("m").unwrap();
        let Yaml::Map(es) = &m.value else { panic!() };
        assert_eq!(es.len(), 20_000);
        assert_eq!(m.get("k0").and_then(Node::as_str), Some("own"));
        assert_eq!(m.get("k19999").and_then(Node::as_str), Some("own"));
        assert_eq!(m.get("k5").and_then(Node::as_str), Some("base"));
    }

    #[test]
    fn multiple_documents() {
        let d = parse_documents("a: 1\n---\nb: 2\n---\nc: 3\n").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[2].get("c").unwrap().line, 5);
    }

    #[test]
    fn core_schema_scalars() {
        let n = parse_document(
            "a: 0x1F\nb: 1.5\nc: -3\nd: !!str 12\ne: True\nf: 99999999999999999999\n\
             g: 18446744073709551615\nh: 1e3\ni: .inf\nj: 1.2.3\nk: '~'\nl: -x\n",
        )
        .unwrap();
        let v = |k: &str| n.get(k).unwrap().value.clone();
        assert_eq!(v("a"), Yaml::Int(31));
        assert_eq!(v("b"), Yaml::Float(1.5));
        assert_eq!(v("c"), Yaml::Int(-3));
        assert_eq!(v("d"), Yaml::Str("12".into()));
        assert_eq!(v("e"), Yaml::Bool(true));
        assert_eq!(v("f"), Yaml::Str("99999999999999999999".into()));
        assert_eq!(v("g"), Yaml::UInt(u64::MAX));
        assert_eq!(v("h"), Yaml::Float(1000.0));
        assert_eq!(v("i"), Yaml::Float(f64::INFINITY));
        assert_eq!(v("j"), Yaml::Str("1.2.3".into()));
        assert_eq!(v("k"), Yaml::Str("~".into()));
        assert_eq!(v("l"), Yaml::Str("-x".into()));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let n = parse_document("base: &b {x: 1, y: 2}\nuse: *b\nm:\n  <<: *b\n  y: 3\n").unwrap();
        assert_eq!(n.get("use").unwrap().get("y").unwrap().value, Yaml::Int(2));
        let m = n.get("m").unwrap();
        assert_eq!(m.get("x").unwrap().value, Yaml::Int(1));
        assert_eq!(m.get("y").unwrap().value, Yaml::Int(3));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_document(&doc).unwrap_err();
        assert!(e.message.contains("too many"), "{}", e.message);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse_document("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
        let e = parse_document("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(parse_document("").unwrap().is_null());
    }
}
