//! The tree an `<Event>` element is read into, in the shape the EVTX
//! reader renders a record in, and read into an event as a JSON value of
//! that shape would be.
//!
//! Its own tree rather than a `serde_json::Value`: the value's maps hash
//! every element's and attribute's name with SipHash, which took a fifth
//! of the time an XML file took to read; these hash with Fx and keep the
//! order the names came in, as the value's did.

use indexmap::IndexMap;
use quick_xml::events::BytesStart;
use rustc_hash::FxBuildHasher;
use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};

/// Names and their values, in the order read; a name inserted again keeps
/// its place and takes the new value. Most elements have a few: those are
/// looked up along a list, which costs less than building a hash table;
/// past [`Fields::FEW`], in one (a hostile element of thousands of names
/// would cost a comparison per pair).
#[derive(Debug, PartialEq)]
pub(super) enum Fields {
    Few(Vec<(String, Node)>),
    Many(IndexMap<String, Node, FxBuildHasher>),
}

impl Default for Fields {
    fn default() -> Fields {
        Fields::Few(Vec::new())
    }
}

impl Fields {
    const FEW: usize = 16;

    pub(super) fn len(&self) -> usize {
        match self {
            Fields::Few(v) => v.len(),
            Fields::Many(m) => m.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[cfg(test)]
    fn keys(&self) -> Vec<&str> {
        match self {
            Fields::Few(v) => v.iter().map(|(k, _)| k.as_str()).collect(),
            Fields::Many(m) => m.keys().map(String::as_str).collect(),
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Fields::Few(v) => v.iter().find(|(k, _)| k == key).map(|(_, n)| n),
            Fields::Many(m) => m.get(key),
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        match self {
            Fields::Few(v) => v.iter_mut().find(|(k, _)| k == key).map(|(_, n)| n),
            Fields::Many(m) => m.get_mut(key),
        }
    }

    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub(super) fn insert(&mut self, key: String, value: Node) {
        if let Some(was) = self.get_mut(&key) {
            *was = value;
            return;
        }
        match self {
            Fields::Few(v) if v.len() < Fields::FEW => v.push((key, value)),
            Fields::Few(v) => {
                let mut m: IndexMap<_, _, _> = std::mem::take(v).into_iter().collect();
                m.insert(key, value);
                *self = Fields::Many(m);
            }
            Fields::Many(m) => {
                m.insert(key, value);
            }
        }
    }

    /// The value of `key`, taken out (the order of the rest may change).
    fn take(&mut self, key: &str) -> Option<Node> {
        match self {
            Fields::Few(v) => {
                let at = v.iter().position(|(k, _)| k == key)?;
                Some(v.swap_remove(at).1)
            }
            Fields::Many(m) => m.swap_remove(key),
        }
    }
}

impl FromIterator<(String, Node)> for Fields {
    fn from_iter<I: IntoIterator<Item = (String, Node)>>(items: I) -> Fields {
        let mut f = Fields::default();
        items.into_iter().for_each(|(k, v)| f.insert(k, v));
        f
    }
}

/// A value of the tree: what a JSON value of an EVTX record holds.
#[derive(Debug, PartialEq)]
pub(super) enum Node {
    Null,
    Text(String),
    List(Vec<Node>),
    Object(Fields),
}

/// An element being read.
pub(super) struct Element {
    pub(super) name: String,
    pub(super) attributes: Fields,
    pub(super) children: Vec<(String, Node)>,
    pub(super) text: String,
}

impl Element {
    /// The element of a start tag, with at most `room` attributes, and
    /// how many more it has.
    pub(super) fn open(e: &BytesStart<'_>, room: usize) -> quick_xml::Result<(Element, u64)> {
        let mut attributes = Fields::default();
        let mut dropped = 0;
        for a in e.attributes() {
            let a = a?;
            if attributes.len() >= room {
                dropped += 1;
                continue;
            }
            let value = a.normalized_value(quick_xml::XmlVersion::Implicit1_0)?;
            let key = a.key.local_name().as_ref().to_string();
            attributes.insert(key, Node::Text(value.into_owned()));
        }
        let element = Element {
            name: e.local_name().as_ref().to_string(),
            attributes,
            children: Vec::new(),
            text: String::new(),
        };
        Ok((element, dropped))
    }

    /// The element as the EVTX reader renders one: a leaf as its text
    /// (`null` when empty), else an object of `#attributes`, children by
    /// name (repeated ones as a list) and `#text`.
    pub(super) fn into_node(self) -> Node {
        if self.attributes.is_empty() && self.children.is_empty() {
            return leaf(self.text);
        }
        let mut m = Fields::default();
        if !self.attributes.is_empty() {
            m.insert("#attributes".into(), Node::Object(self.attributes));
        }
        let event_data = self.name == "EventData";
        for (name, value) in self.children {
            let (key, value) = match value {
                // `<Data Name="Image">…</Data>` is the field `Image`.
                Node::Object(o) if event_data => named_data(name, o),
                // An empty `<Data>` holds an empty text, as in EVTX, where
                // other empty elements are null.
                Node::Null if event_data && name == "Data" => (name, Node::Text(String::new())),
                v => (name, v),
            };
            add_child(&mut m, key, value);
        }
        // Between child elements, white space is layout; in a leaf it is
        // the value (a `Description` of one space).
        let only_attributes = m.len() == usize::from(m.contains_key("#attributes"));
        let leaf_text = !self.text.is_empty() && only_attributes;
        if leaf_text || !self.text.trim().is_empty() {
            m.insert("#text".into(), Node::Text(self.text));
        }
        Node::Object(m)
    }
}

/// A leaf's value: its text, `null` when it has none.
fn leaf(text: String) -> Node {
    match text.is_empty() {
        true => Node::Null,
        false => Node::Text(text),
    }
}

/// An EventData child with a `Name`: that name and its text; any other as
/// it is.
fn named_data(name: String, mut o: Fields) -> (String, Node) {
    let Some(Node::Object(attributes)) = o.get("#attributes") else {
        return (name, Node::Object(o));
    };
    let Some(Node::Text(field)) = attributes.get("Name") else {
        return (name, Node::Object(o));
    };
    if attributes.len() > 1 || o.len() > 2 || (o.len() == 2 && !o.contains_key("#text")) {
        return (name, Node::Object(o));
    }
    let field = field.clone();
    let text = o.take("#text");
    (field, text.unwrap_or_else(|| Node::Text(String::new())))
}

/// A child under its name; a name met again makes a list.
fn add_child(m: &mut Fields, key: String, value: Node) {
    match m.get_mut(&key) {
        None => {
            m.insert(key, value);
        }
        // Children are never lists themselves: a list is a repeated name.
        Some(Node::List(list)) => list.push(value),
        Some(first) => {
            let was = std::mem::replace(first, Node::Null);
            *first = Node::List(vec![was, value]);
        }
    }
}

/// A tree is read as the JSON value of its shape would be: texts as
/// borrowed strings, `null` as unit.
impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Node::Null => visitor.visit_unit(),
            Node::Text(t) => visitor.visit_borrowed_str(t),
            Node::List(items) => visitor.visit_seq(SeqDeserializer::new(items.iter())),
            // Each kind of map its own iterator: not boxed, for every object.
            Node::Object(Fields::Few(v)) => {
                let entries = v.iter().map(|(k, v)| (k.as_str(), v));
                visitor.visit_map(MapDeserializer::new(entries))
            }
            Node::Object(Fields::Many(m)) => {
                let entries = m.iter().map(|(k, v)| (k.as_str(), v));
                visitor.visit_map(MapDeserializer::new(entries))
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    /// Skipped without being walked.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple tuple_struct
        map struct enum identifier
    }
}

impl<'de> IntoDeserializer<'de> for &'de Node {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn text(t: &str) -> Node {
        Node::Text(t.into())
    }

    #[test]
    fn a_tree_reads_as_the_json_value_of_its_shape() {
        let mut inner = Fields::default();
        inner.insert("b".into(), Node::List(vec![text("x"), Node::Null]));
        inner.insert("a".into(), text("y"));
        let mut top = Fields::default();
        top.insert("z".into(), Node::Object(inner));
        top.insert("n".into(), Node::Null);
        let tree = Node::Object(top);
        let v = serde_json::Value::deserialize(&tree).unwrap();
        let want = serde_json::json!({"z": {"b": ["x", null], "a": "y"}, "n": null});
        assert_eq!(v, want);
        // In the order read, not sorted.
        assert_eq!(v.to_string(), r#"{"z":{"b":["x",null],"a":"y"},"n":null}"#);
    }

    #[test]
    fn names_keep_their_order_and_place_past_the_few_held_in_a_list() {
        for n in [3, Fields::FEW, Fields::FEW + 1, 3 * Fields::FEW] {
            let mut f: Fields = (0..n).map(|i| (format!("k{i}"), text("a"))).collect();
            // A name inserted again keeps its place and takes the value.
            f.insert("k1".into(), text("b"));
            f.insert("new".into(), Node::Null);
            let keys = f.keys();
            let mut want: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
            want.push("new".into());
            assert_eq!(keys, want, "{n} names");
            assert_eq!((f.len(), f.get("k1")), (n + 1, Some(&text("b"))));
            assert!(matches!(f, Fields::Many(_)) == (n + 1 > Fields::FEW), "{n}");
            assert_eq!(f.take("k1"), Some(text("b")));
            assert_eq!(
                (f.len(), f.get("k1"), f.contains_key("k0")),
                (n, None, true)
            );
        }
    }

    #[test]
    fn repeated_names_make_a_list_where_the_first_was() {
        let mut m = Fields::default();
        add_child(&mut m, "a".into(), text("1"));
        add_child(&mut m, "b".into(), text("2"));
        add_child(&mut m, "a".into(), text("3"));
        add_child(&mut m, "a".into(), Node::Null);
        let keys = m.keys();
        assert_eq!(keys, ["a", "b"]);
        let list = Node::List(vec![text("1"), text("3"), Node::Null]);
        assert_eq!(m.get("a"), Some(&list));
    }
}
