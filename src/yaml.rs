//! A YAML value tree that keeps each node's line and column and each scalar's
//! text, read with serde-saphyr (duplicate keys are errors).
//!
//! Sigma values must keep their spelling: `00000429` is a string, not the
//! number 429, so plain scalars are never read through a lossy untyped value.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

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

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
        Ok(i64::try_from(v).map_or(Yaml::UInt(v), Yaml::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut v = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            v.push(n);
        }
        Ok(Yaml::Seq(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut v = Vec::new();
        while let Some((k, val)) = map.next_entry::<Node, Node>()? {
            v.push((k, val));
        }
        Ok(Yaml::Map(v))
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        let s = Spanned::<Yaml>::deserialize(d)?;
        Ok(Node {
            value: s.value,
            line: s.referenced.line() as usize,
            column: s.referenced.column() as usize,
        })
    }
}

fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        strict_booleans: true,
        with_snippet: false,
    }
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl From<serde_saphyr::Error> for YamlError {
    fn from(e: serde_saphyr::Error) -> Self {
        let loc = e.location();
        let msg = e.to_string();
        // Drop the position prefix the crate adds; we print our own.
        let msg = match msg.split_once(": ") {
            Some((head, rest)) if head.starts_with("line ") => rest.to_string(),
            _ => msg,
        };
        YamlError {
            message: msg.lines().next().unwrap_or("").to_string(),
            line: loc.map(|l| l.line() as usize),
            column: loc.map(|l| l.column() as usize),
        }
    }
}

impl de::Error for YamlError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        YamlError {
            message: msg.to_string(),
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

/// Parse every document of a YAML text (empty documents skipped).
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    Ok(serde_saphyr::from_multiple_with_options::<Node>(
        text,
        options(),
    )?)
}

/// Parse a single-document YAML text.
pub fn parse_document(text: &str) -> Result<Node, YamlError> {
    Ok(serde_saphyr::from_str_with_options::<Node>(
        text,
        options(),
    )?)
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
    fn multiple_documents() {
        let d = parse_documents("a: 1\n---\nb: 2\n---\nc: 3\n").unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d[2].get("c").unwrap().line, 5);
    }
}
