//! JSON to [`Event`] in one pass, without a `serde_json::Value` tree: the
//! document is walked as it is parsed, each leaf is named as the matcher
//! names it, and only the leaves some loaded rule reads are kept ([`Wanted`]);
//! the rest is skipped without allocating. The same walk reads a
//! `serde_json::Value` (what the EVTX reader yields), so both formats name
//! fields alike.
//!
//! Naming: in an EVTX rendering (`{"Event": {"System": …, "EventData": …}}`)
//! System children keep their name (`EventID`, `Channel`) and their
//! attributes become `Name_Attribute` (`Provider_Name`); EventData and
//! UserData leaves are named by their own key at any depth; other top-level
//! keys, and every key of any other JSON object, are named by their dotted
//! path (`process.executable`), arrays included (`target.displayName` for
//! each object of the array `target`).
//!
//! The Event object's parts may also stand at the top (`{"System": …,
//! "EventData": …}`, Velociraptor's rows, where a System child's attributes
//! are plain keys and its text is `Value`): they are named alike. So is the
//! event's XML converted to JSON: attributes as `@Name` keys, and EventData
//! as a list of `{"@Name": …, "#text": …}` elements.
//!
//! Winlogbeat's layout (`{"winlog": {"channel": …, "event_data": …}}`, as
//! Elasticsearch exports it) is read as the EVTX one: `winlog.event_data`
//! and `winlog.user_data` leaves by their own key, and the System fields it
//! renames by their EVTX name as well as by their path (`winlog.channel` is
//! also `Channel`), so that Windows rules and the logsource mapping meet
//! these events. Fields an ingest pipeline moved to ECS names
//! (`process.executable`) keep their path.
//!
//! An Elasticsearch document (`{"_index": …, "_source": {…}}`) is read as
//! its `_source`: the layouts above, as Elasticsearch hands them out.
//!
//! EvtxECmd's records (System values as columns, the event data as a JSON
//! string in `Payload`) are read as their EVTX events ([`evtxecmd`]).

mod evtxecmd;

use super::event::{Event, EventMeta, META_FIELDS};
use rustc_hash::FxHashSet;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// The field names the loaded rules read, and the dotted prefixes that lead
/// to them. `None` where a wanted set is taken means every field, named
/// every way a field can be; [`Wanted::every_field`] keeps every field too
/// (a keyword search reads every value) but names them only as the listed
/// names need.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    names: FxHashSet<String>,
    /// Every field is kept, not only `names`.
    every: bool,
    prefixes: FxHashSet<String>,
    /// A bit per (length, first, last byte) of a wanted name: most keys an
    /// event has and no rule reads are turned away without hashing.
    seen: Bloom,
}

/// A 1024-bit filter of names, without false negatives.
#[derive(Debug, Clone, Default)]
struct Bloom([u64; 16]);

impl Bloom {
    fn bit(n: &str) -> usize {
        let b = n.as_bytes();
        let (first, last) = (b.first().copied(), b.last().copied());
        let h = b.len().wrapping_mul(31)
            ^ usize::from(first.unwrap_or(0)).wrapping_mul(131)
            ^ usize::from(last.unwrap_or(0)).wrapping_mul(7);
        h % 1024
    }
    fn insert(&mut self, n: &str) {
        let i = Bloom::bit(n);
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn may_hold(&self, n: &str) -> bool {
        let i = Bloom::bit(n);
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

impl Wanted {
    /// The set of `names`, plus the fields the event metadata comes from,
    /// and the names some logs write a field under that the rules read by
    /// another (Zeek's `answers` for `answer`).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Wanted {
        let mut w = Wanted::default();
        let own = |n: &str| super::event::other_names().find(|(_, theirs)| *theirs == n);
        for n in names.into_iter().chain(META_FIELDS) {
            w.insert(n);
            if let Some((own, _)) = own(n) {
                w.insert(own);
            }
        }
        w
    }

    fn insert(&mut self, n: &str) {
        self.names.insert(n.to_string());
        self.seen.insert(n);
        let mut at = 0;
        while let Some(i) = n[at..].find('.') {
            self.prefixes.insert(n[..at + i].to_string());
            at += i + 1;
        }
        // `Event.EventData.Image` is read as its leaf.
        if let Some(rest) = n.strip_prefix("Event.") {
            let leaf = rest.rsplit('.').next().unwrap_or(rest);
            self.names.insert(leaf.to_string());
            self.seen.insert(leaf);
        }
    }

    /// Keeps every field as well (for a keyword search), the names still
    /// saying which paths are read.
    pub fn every_field(mut self) -> Wanted {
        self.every = true;
        self
    }

    /// Whether a field of this name is kept.
    pub(crate) fn keeps(&self, n: &str) -> bool {
        if self.every {
            return true;
        }
        if n.as_bytes().contains(&b' ') {
            return self.names.contains(n) || self.names.contains(&n.replace(' ', ""));
        }
        self.seen.may_hold(n) && self.names.contains(n)
    }
}

/// How deep objects are followed (serde_json itself stops at 128).
const MAX_DEPTH: usize = 32;

/// What a reader says of an event whose deepest objects were left out.
pub(crate) fn too_deep() -> String {
    format!(
        "objects nested deeper than {MAX_DEPTH} levels were not read (the rest of the event was)"
    )
}

/// What a reader says of an event read in part: its deepest objects left
/// out, an EvtxECmd payload that breaks off, values past what an event
/// holds.
pub(crate) fn partly_read(e: &Event) -> impl Iterator<Item = String> + '_ {
    let payload = e.payload_error.as_ref().map(|why| {
        format!(
            "its Payload (EvtxECmd's event data) is not valid JSON ({why}): the event data after that was not read"
        )
    });
    let left_out = (e.left_out > 0).then(|| {
        format!(
            "{} values were not read: an event holds at most {} values and {} MiB of text (names, values and their lower-case forms)",
            e.left_out,
            super::event::MOST_VALUES,
            super::event::MOST_TEXT >> 20,
        )
    });
    e.too_deep
        .then(too_deep)
        .into_iter()
        .chain(payload)
        .chain(left_out)
}

/// Reads one JSON value as an event; a non-object yields `None`.
pub(crate) struct EventSeed<'w> {
    pub meta: EventMeta,
    pub wanted: Option<&'w Wanted>,
    /// The size of the source text, when known (to size the event once).
    pub size: usize,
    /// Whether the deserializer reads serde_json text (a value it can hand
    /// over unparsed, as a borrowed [`RawValue`]), not a `Value` tree.
    pub text: bool,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = Option<Event>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Event>, D::Error> {
        d.deserialize_any(TopVisitor(self))
    }
}

struct TopVisitor<'w>(EventSeed<'w>);

impl<'de> Visitor<'de> for TopVisitor<'_> {
    type Value = Option<Event>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Event>, A::Error> {
        let mut b = Builder {
            // Only the wanted fields are kept: a fraction of the source.
            event: Event::with_capacity(
                self.0.meta,
                if !self.0.wanted.is_none_or(|w| w.every) {
                    self.0.size / 4
                } else {
                    self.0.size
                },
            ),
            wanted: self.0.wanted,
            path: String::new(),
            text: self.0.text,
            held: Vec::new(),
            evtxecmd: false,
        };
        top_entries(&mut map, &mut b, true)?;
        evtxecmd::put_held(&mut b);
        let mut e = b.event;
        e.finish();
        e.fill_meta();
        Ok(Some(e))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Event>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<Event>, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<Event>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<Event>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<Event>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<Event>, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Option<Event>, E> {
        Ok(None)
    }
}

/// Reads the keys of an event object. Where `source` is allowed, an
/// Elasticsearch document's `_source` object (elasticdump, a search's hits)
/// is read as the event itself, beside its `_index` and `_id` by path.
fn top_entries<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
    source: bool,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let k = key.as_str();
        if matches!(k, "System" | "EventData" | "UserData") && b.by_path_too(k) {
            both_ways(map, b, k)?;
            continue;
        }
        if source && k == "_source" {
            map.next_value_seed(Source(b))?;
            continue;
        }
        if k == "Payload" {
            evtxecmd::payload(map, b)?;
            continue;
        }
        if let Some(column) = evtxecmd::column(b, k) {
            b.held.push((column, map.next_value()?));
            continue;
        }
        let (mode, name) = match k {
            "Event" => (Mode::Event, "Event"),
            // The Event object's parts at the top (Velociraptor's rows).
            "System" => (Mode::System, "System"),
            "EventData" => (Mode::Named, "EventData"),
            "UserData" => (Mode::Named, "UserData"),
            k => {
                b.path.clear();
                b.path.push_str(k);
                let winlog = k == "winlog";
                (if winlog { Mode::Winlog } else { Mode::Path }, "")
            }
        };
        map.next_value_seed(Node {
            b: &mut *b,
            mode,
            name,
            depth: 0,
        })?;
    }
    Ok(())
}

/// The `_source` of an Elasticsearch document: an object is the event's
/// own keys; any other value is a field named `_source`.
struct Source<'b, 'w>(&'b mut Builder<'w>);

impl<'b, 'w> Source<'b, 'w> {
    fn path_node(self) -> Node<'b, 'w, 'static> {
        self.0.path.clear();
        self.0.path.push_str("_source");
        Node {
            b: self.0,
            mode: Mode::Path,
            name: "",
            depth: 0,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Source<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Source<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        top_entries(&mut map, self.0, false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.path_node().visit_seq(seq)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<(), E> {
        self.path_node().visit_bool(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<(), E> {
        self.path_node().visit_i64(v)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<(), E> {
        self.path_node().visit_u64(v)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<(), E> {
        self.path_node().visit_f64(v)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.path_node().visit_str(v)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        self.path_node().visit_unit()
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        self.path_node().visit_none()
    }
}

struct Builder<'w> {
    event: Event,
    wanted: Option<&'w Wanted>,
    /// The dotted path of the current value (path mode).
    path: String,
    /// See [`EventSeed::text`].
    text: bool,
    /// Top-level values held until the event is read ([`evtxecmd`]).
    held: Vec<evtxecmd::Held>,
    /// Whether a payload made this an EvtxECmd record.
    evtxecmd: bool,
}

impl Builder<'_> {
    fn wants(&self, name: &str) -> bool {
        self.wanted.is_none_or(|w| w.keeps(name))
    }
    fn wants_under(&self, prefix: &str) -> bool {
        self.wanted
            .is_none_or(|w| w.every || w.prefixes.contains(prefix))
    }
    /// Whether every field is kept.
    fn every(&self) -> bool {
        self.wanted.is_none_or(|w| w.every)
    }
    /// Whether a part of an EVTX event standing at the top (`System`) is
    /// also named by path (`System.cpu`): it may be no Windows event at all.
    fn by_path_too(&self, part: &str) -> bool {
        self.wanted
            .is_none_or(|w| w.prefixes.contains(part) || w.names.contains(part))
    }
}

/// A map key, borrowed from the input where it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_string()))
    }
}

/// What a value's leaves are named after.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The value of the top-level `Event` key.
    Event,
    /// `Event.System`: children by name, attributes as `Name_Attr`.
    System,
    /// A child of System: its `#text` is the value, its `#attributes` are
    /// `name_attr`.
    SystemChild,
    /// EventData / UserData: leaves by their own key.
    Named,
    /// An object with `#text` as a value (leaf named `name`) inside Named.
    /// Other keys are followed as Named.
    NamedObject,
    /// Everything else: leaves by their dotted path (`Builder::path`).
    Path,
    /// Scalars of an array, pushed under `name`; nested containers skipped.
    ArrayItems,
    /// Winlogbeat's top-level `winlog` object (path `winlog`).
    Winlog,
    /// The items of an array under a named key: scalars pushed under the
    /// key, objects read as `<Data Name="…">` elements ([`data_item`]).
    DataItems,
    /// A `winlog` field with an EVTX name: kept as `name` and by its path.
    Alias,
    /// `#attributes` of a System child.
    Attributes,
}

struct Node<'b, 'w, 'n> {
    b: &'b mut Builder<'w>,
    mode: Mode,
    /// The leaf name in named modes.
    name: &'n str,
    depth: usize,
}

impl Node<'_, '_, '_> {
    /// The name a scalar here gets.
    fn name(&self) -> &str {
        match self.mode {
            Mode::Path | Mode::Winlog => self.b.path.as_str(),
            Mode::Event => "Event",
            _ => self.name,
        }
    }
    /// Whether a scalar here is kept.
    fn kept(&self) -> bool {
        let name = self.name();
        (!name.is_empty() && self.b.wants(name))
            || (self.mode == Mode::Alias && self.b.wants(&self.b.path))
    }
    /// Keeps a scalar if it is wanted.
    fn push(self, text: &str, number: Option<f64>, is_null: bool) {
        if self.kept() {
            self.put(text, number, is_null);
        }
    }
    /// Keeps a scalar (once [`Node::kept`] said so).
    fn put(self, text: &str, number: Option<f64>, is_null: bool) {
        let b = self.b;
        let name = match self.mode {
            Mode::Path | Mode::Winlog => b.path.as_str(),
            Mode::Event => "Event",
            Mode::Alias => {
                if b.wants(&b.path) {
                    b.event.push(&b.path, text, number, is_null);
                }
                if !b.wants(self.name) {
                    return;
                }
                self.name
            }
            _ => self.name,
        };
        b.event.push(name, text, number, is_null);
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.push(if v { "true" } else { "false" }, None, false);
        Ok(())
    }
    // Numbers are spelled only when kept.
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        if self.kept() {
            self.put(itoa::Buffer::new().format(v), Some(v as f64), false);
        }
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        if self.kept() {
            self.put(itoa::Buffer::new().format(v), Some(v as f64), false);
        }
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        if self.kept() {
            let text =
                serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string());
            self.put(&text, Some(v), false);
        }
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.push(v, None, false);
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        self.push("", None, true);
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        self.push("", None, true);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if matches!(self.mode, Mode::Path | Mode::Winlog) {
            return self.path_items(seq);
        }
        // Under a named key, objects may be `<Data Name="…">` elements.
        let named = matches!(self.mode, Mode::Named | Mode::NamedObject) && self.depth < MAX_DEPTH;
        let nested = matches!(self.mode, Mode::ArrayItems | Mode::DataItems);
        if !named && (nested || !self.kept()) {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mode = if named {
            Mode::DataItems
        } else {
            Mode::ArrayItems
        };
        let (name, depth) = (self.name().to_string(), self.depth + 1);
        let b = self.b;
        while seq
            .next_element_seed(Node {
                b: &mut *b,
                mode,
                name: &name,
                depth,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.depth >= MAX_DEPTH || self.mode == Mode::ArrayItems {
            self.b.event.too_deep |= self.depth >= MAX_DEPTH;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let depth = self.depth + 1;
        if self.mode == Mode::DataItems {
            return data_item(map, self.b, depth, (None, None), None);
        }
        let at = (self.mode, self.name, depth);
        if self.mode == Mode::NamedObject {
            return match lone_element(&mut map, &mut *self.b, self.name, depth)? {
                Some(first) => entries(map, self.b, at, first),
                None => Ok(()),
            };
        }
        entries(map, self.b, at, None)
    }
}

/// The keys of an object and their values, read as the object's node
/// (`at`: its mode, name and depth) names them, `first` read already.
#[inline(always)]
fn entries<'de, A: MapAccess<'de>>(
    mut map: A,
    b: &mut Builder<'_>,
    at: (Mode, &str, usize),
    first: Option<Key<'de>>,
) -> Result<(), A::Error> {
    // `Name_Attribute`, rebuilt for each attribute.
    let mut scratch = ([0u8; 96], String::new());
    let mut next = match first {
        Some(key) => Some(key),
        None => map.next_key_seed(KeySeed)?,
    };
    while let Some(key) = next {
        entry(&mut map, &mut *b, at, key.as_str(), &mut scratch)?;
        next = map.next_key_seed(KeySeed)?;
    }
    Ok(())
}

/// The start of an object under a named key, which may be a lone `<Data
/// Name="…">` element converted to JSON: an object under its own key
/// (`"Data": {"@Name": …}`), not a list of one, its text maybe first (`jq
/// -S` sorts `#text` before `@Name`). `None` when it was one, and is read;
/// else the object's first key not yet read, if any (a text read first is
/// the object's text, under `name`).
// Kept apart from the reading of every object, which it would slow.
#[inline(never)]
fn lone_element<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
    name: &str,
    depth: usize,
) -> Result<Option<Option<Key<'de>>>, A::Error> {
    let mut first = map.next_key_seed(KeySeed)?;
    let mut text = None;
    if first.as_ref().is_some_and(|k| k.as_str() == "#text") {
        text = Some(Held::next(&mut *map, b.text)?);
        first = map.next_key_seed(KeySeed)?;
    }
    if first.as_ref().is_some_and(|k| k.as_str() == "@Name") {
        data_item(map, b, depth, (first, text), Some(name))?;
        return Ok(None);
    }
    if let Some(text) = text {
        let node = Node {
            b,
            mode: Mode::Named,
            name,
            depth,
        };
        text.read(node).map_err(serde::de::Error::custom)?;
    }
    Ok(Some(first))
}

/// One key `k` of an object and its value, read as the object's node
/// (`at`: its mode, name and depth) names them.
#[inline(always)]
fn entry<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
    (object, object_name, depth): (Mode, &str, usize),
    k: &str,
    scratch: &mut ([u8; 96], String),
) -> Result<(), A::Error> {
    let (mode, name): (Option<Mode>, &str) = match object {
        Mode::Event => match k {
            "System" => (Some(Mode::System), ""),
            "EventData" | "UserData" => (Some(Mode::Named), ""),
            _ => (None, ""),
        },
        Mode::System => (Some(Mode::SystemChild), k),
        // Attributes as plain keys, and the text as `Value`, as
        // Velociraptor writes them (`Provider.Name`, `EventID.Value`).
        Mode::SystemChild => match k {
            "#text" | "Value" => (Some(Mode::Named), object_name),
            "#attributes" => (Some(Mode::Attributes), object_name),
            // `@Name`: attributes as XML-to-JSON converters write them.
            _ => (
                Some(Mode::Named),
                joined(
                    &mut scratch.0,
                    &mut scratch.1,
                    object_name,
                    k.trim_start_matches('@'),
                ),
            ),
        },
        Mode::Attributes => (
            Some(Mode::Named),
            joined(&mut scratch.0, &mut scratch.1, object_name, k),
        ),
        Mode::Named | Mode::NamedObject => match k {
            "#attributes" => (None, ""),
            "#text" if object == Mode::NamedObject => (Some(Mode::Named), object_name),
            _ if b.text && !b.wants(k) => {
                skip_named(&mut *map, &mut *b, k, depth)?;
                return Ok(());
            }
            _ => (Some(Mode::NamedObject), k),
        },
        Mode::Winlog if matches!(k, "event_data" | "user_data") => (Some(Mode::Named), ""),
        Mode::Path | Mode::Winlog | Mode::Alias => {
            path_child(&mut *map, &mut *b, k, object == Mode::Winlog, depth)?;
            return Ok(());
        }
        Mode::ArrayItems | Mode::DataItems => (None, ""),
    };
    match mode {
        Some(mode) => map.next_value_seed(Node {
            b: &mut *b,
            mode,
            name,
            depth,
        })?,
        None => {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

impl Node<'_, '_, '_> {
    /// The items of an array in path mode, named by the array's path, as
    /// search engines index them: `target.displayName` is the
    /// `displayName` of every object of the array `target` (Okta, Azure
    /// and GCP logs; SigmaHQ's rules for them name fields so).
    fn path_items<'de, A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let b = self.b;
        let wanted = b.every() || b.wants(&b.path) || b.wants_under(&b.path);
        if wanted && self.depth >= MAX_DEPTH {
            b.event.too_deep = true;
        }
        if !wanted || self.depth >= MAX_DEPTH {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let depth = self.depth + 1;
        while seq
            .next_element_seed(Node {
                b: &mut *b,
                mode: Mode::Path,
                name: "",
                depth,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// The value under `key` of an object read by path (`winlog` too: then a
/// field with an EVTX name is also kept under that name), skipped unparsed
/// where nothing under it is wanted.
fn path_child<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
    key: &str,
    in_winlog: bool,
    depth: usize,
) -> Result<(), A::Error> {
    let len = b.path.len();
    b.path.push('.');
    b.path.push_str(key);
    let alias = in_winlog.then(|| winlog_alias(key)).flatten();
    let wanted = b.every()
        || b.wants(&b.path)
        || b.wants_under(&b.path)
        || alias.is_some_and(|a| b.wants(a));
    let r = if wanted {
        map.next_value_seed(Node {
            b: &mut *b,
            mode: alias.map_or(Mode::Path, |_| Mode::Alias),
            name: alias.unwrap_or(""),
            depth,
        })
    } else {
        map.next_value::<IgnoredAny>().map(drop)
    };
    b.path.truncate(len);
    r
}

/// A part of an EVTX event standing at the top, named the EVTX way and by
/// its path (`cpu` and `System.cpu`), read twice: a log that is no Windows
/// event may have a `System` object of its own.
fn both_ways<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
    part: &str,
) -> Result<(), A::Error> {
    let r = if b.text {
        // Read from its text each time: a value tree would refuse what is
        // nested deeper than serde_json's limit, which reading skips.
        let raw: &'de RawValue = map.next_value()?;
        let object = raw.get().trim_start().starts_with('{');
        two_passes(b, part, object, |node| {
            node.deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
        })
    } else {
        let v: serde_json::Value = map.next_value()?;
        two_passes(b, part, v.is_object(), |node| node.deserialize(&v))
    };
    r.map_err(serde::de::Error::custom)
}

/// Reads a top-level part the EVTX way, then, when it is an `object`, by
/// path; `pass` reads the part with the node given.
fn two_passes(
    b: &mut Builder<'_>,
    part: &str,
    object: bool,
    mut pass: impl FnMut(Node<'_, '_, '_>) -> Result<(), serde_json::Error>,
) -> Result<(), serde_json::Error> {
    let mode = if part == "System" {
        Mode::System
    } else {
        Mode::Named
    };
    pass(Node {
        b: &mut *b,
        mode,
        name: part,
        depth: 0,
    })?;
    if !object {
        return Ok(());
    }
    b.path.clear();
    b.path.push_str(part);
    pass(Node {
        b: &mut *b,
        mode: Mode::Path,
        name: "",
        depth: 0,
    })
}

/// The value of a named key no rule reads: skipped without being parsed
/// (no string is checked, unescaped or copied), unless it is an object, or
/// an array holding objects (`<Data Name="…">` elements), whose leaves are
/// named by their own keys and may be wanted. That value is read from its
/// text once more, without skipping inside it: skipping again at each level
/// would read a deep object once per level.
fn skip_named<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
    name: &str,
    depth: usize,
) -> Result<(), A::Error> {
    let raw: &'de RawValue = map.next_value()?;
    let t = raw.get();
    if !(t.starts_with('{') || (t.starts_with('[') && t.contains('{'))) {
        return Ok(());
    }
    b.text = false;
    let node = Node {
        b: &mut *b,
        mode: Mode::NamedObject,
        name,
        depth,
    };
    let read = node.deserialize(&mut serde_json::Deserializer::from_str(raw.get()));
    b.text = true;
    read.map_err(serde::de::Error::custom)
}

/// The EVTX name of a field of Winlogbeat's `winlog` object, where the two
/// hold the same value (`winlog.task`, say, holds the task's display name,
/// not its number, and keeps its path alone).
fn winlog_alias(key: &str) -> Option<&'static str> {
    Some(match key {
        "channel" => "Channel",
        "event_id" => "EventID",
        "provider_name" => "Provider_Name",
        "provider_guid" => "Provider_Guid",
        "computer_name" => "Computer",
        "record_id" => "EventRecordID",
        "version" => "Version",
        _ => return None,
    })
}

/// One element of an array under a named key, read as Windows writes
/// `<Data Name="TargetUserName">bob</Data>` once converted from XML:
/// `{"@Name": "TargetUserName", "#text": "bob"}` or `{"#attributes":
/// {"Name": …}, "#text": …}` is the field `TargetUserName`; one with no
/// text (`<Data Name="StartModule"></Data>`) holds an empty text, as in
/// EVTX. Keys come in any order (`jq -S` puts `#text` first). Other keys are
/// not read. `read` is what the caller has read already: the next key, and
/// the element's text; an element with no name is its text under
/// `unnamed`, if given (a lone element converted to JSON is an object under
/// its own key, not a list of one).
fn data_item<'de, A: MapAccess<'de>>(
    mut map: A,
    b: &mut Builder<'_>,
    depth: usize,
    read: (Option<Key<'de>>, Option<Held<'de>>),
    unnamed: Option<&str>,
) -> Result<(), A::Error> {
    let (mut first, mut held) = read;
    let mut name: Option<String> = None;
    // A text met before the name is held until the name is known.
    let mut text = held.is_some();
    while let Some(key) = match first.take() {
        Some(k) => Some(k),
        None => map.next_key_seed(KeySeed)?,
    } {
        // A text, read or not, is no empty element.
        text |= key.as_str() == "#text";
        match (key.as_str(), &name) {
            ("@Name", _) => {
                let v: serde_json::Value = map.next_value()?;
                name = v.as_str().map(str::to_string).or(name);
            }
            ("#attributes", _) => {
                let v: serde_json::Value = map.next_value()?;
                name = v["Name"].as_str().map(str::to_string).or(name);
            }
            ("#text", Some(n)) => map.next_value_seed(Node {
                b: &mut *b,
                mode: Mode::Named,
                name: n,
                depth,
            })?,
            ("#text", None) => held = Some(Held::next(&mut map, b.text)?),
            _ => map.next_value::<IgnoredAny>().map(drop)?,
        }
    }
    let Some(name) = name.as_deref().or(unnamed) else {
        return Ok(());
    };
    let node = Node {
        b,
        mode: Mode::Named,
        name,
        depth,
    };
    match held {
        Some(held) => held.read(node).map_err(serde::de::Error::custom)?,
        None if !text => node.push("", None, false),
        None => {}
    }
    Ok(())
}

/// A text held until its element's name is known: borrowed unparsed from a
/// JSON text (most are never read: no rule wants them), or a value.
enum Held<'de> {
    Raw(&'de RawValue),
    Value(serde_json::Value),
}

impl<'de> Held<'de> {
    /// The map's next value, held (unparsed where `text`, see
    /// [`EventSeed::text`]).
    fn next<A: MapAccess<'de>>(map: &mut A, text: bool) -> Result<Held<'de>, A::Error> {
        Ok(match text {
            true => Held::Raw(map.next_value()?),
            false => Held::Value(map.next_value()?),
        })
    }

    /// Read by `node` at last.
    fn read(self, node: Node<'_, '_, '_>) -> Result<(), serde_json::Error> {
        match self {
            Held::Raw(raw) => node.deserialize(&mut serde_json::Deserializer::from_str(raw.get())),
            Held::Value(v) => node.deserialize(&v),
        }
    }
}

/// `name_attr`, in `stack` when it fits (no allocation), else in `heap`.
fn joined<'a>(stack: &'a mut [u8; 96], heap: &'a mut String, name: &str, attr: &str) -> &'a str {
    let n = name.len() + 1 + attr.len();
    if n > stack.len() {
        heap.clear();
        heap.push_str(name);
        heap.push('_');
        heap.push_str(attr);
        return heap;
    }
    stack[..name.len()].copy_from_slice(name.as_bytes());
    stack[name.len()] = b'_';
    stack[name.len() + 1..n].copy_from_slice(attr.as_bytes());
    // Two strings joined by `_` are UTF-8.
    std::str::from_utf8(&stack[..n]).unwrap_or_default()
}

/// Read a JSON value (what the EVTX reader yields) as an event.
pub fn event_from_value(
    v: &serde_json::Value,
    meta: EventMeta,
    wanted: Option<&Wanted>,
) -> Option<Event> {
    event_from(v, meta, wanted)
}

/// An event from a tree of JSON's shape (a value, an XML event's tree).
pub(super) fn event_from<'de>(
    d: impl Deserializer<'de>,
    meta: EventMeta,
    wanted: Option<&Wanted>,
) -> Option<Event> {
    EventSeed {
        meta,
        wanted,
        size: 0,
        text: false,
    }
    .deserialize(d)
    .ok()
    .flatten()
}

/// An event of named texts (a CSV row's cells by column), read as a JSON
/// object of those strings would be, without building one.
pub(crate) fn event_from_texts<'a>(
    texts: impl Iterator<Item = (&'a str, &'a str)>,
    meta: EventMeta,
    wanted: Option<&Wanted>,
) -> Option<Event> {
    use serde::de::value::{BorrowedStrDeserializer, MapDeserializer};
    let pairs = texts.map(|(k, v)| {
        (
            BorrowedStrDeserializer::new(k),
            BorrowedStrDeserializer::new(v),
        )
    });
    let seed = EventSeed {
        meta,
        wanted,
        size: 0,
        text: false,
    };
    seed.deserialize(MapDeserializer::<_, serde_json::Error>::new(pairs))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, wanted: Option<&Wanted>, text: bool) -> Event {
        let seed = EventSeed {
            meta: EventMeta::default(),
            wanted,
            size: json.len(),
            text,
        };
        let e = if text {
            seed.deserialize(&mut serde_json::Deserializer::from_str(json))
        } else {
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            seed.deserialize(&v)
        };
        e.unwrap().unwrap()
    }

    /// The values of a field, as text (none when the event lacks it).
    fn texts(e: &Event, f: &str) -> Vec<String> {
        e.get(f)
            .map(|v| v.iter().map(|x| x.text.to_string()).collect())
            .unwrap_or_default()
    }

    /// The event read from text and from a value tree, with every field
    /// and with the fields `w`.
    fn every_way(json: &str, w: &Wanted) -> [Event; 4] {
        [
            read(json, None, true),
            read(json, None, false),
            read(json, Some(w), true),
            read(json, Some(w), false),
        ]
    }

    /// The metadata of the Sysmon event the layout tests below write.
    fn assert_sysmon_1_record_22013(e: &Event) {
        let channel = e.meta.channel.as_deref();
        assert_eq!(channel, Some("Microsoft-Windows-Sysmon/Operational"));
        assert_eq!(e.meta.event_id.as_deref(), Some("1"));
        assert_eq!(e.meta.record, 22013);
    }

    #[test]
    fn unwanted_values_skipped_unparsed_leave_the_wanted_ones_alike() {
        let json = r##"{"Event": {"System": {"Channel": "Security", "EventID": 4624},
            "EventData": {"Skip": "C:\\x\"y", "Image": "C:\\a.exe",
                "Nested": {"Inner": {"CommandLine": "a \u0062 c", "Other": [1, {"x": 2}]}},
                "Arr": ["p", "q"], "Num": 1.5, "Null": null, "Obj": {"#text": "t", "User": "u"},
                "List": ["l1", "l2"]}}}"##;
        let names = ["Image", "CommandLine", "User", "Obj", "List", "Num"];
        let w = Wanted::new(names);
        let texts = |e: &Event, f: &str| -> Option<Vec<String>> {
            e.get(f)
                .map(|v| v.iter().map(|x| x.text.to_string()).collect())
        };
        let all = read(json, None, true);
        for e in [read(json, Some(&w), true), read(json, Some(&w), false)] {
            for f in names.iter().chain(&["Channel", "EventID"]) {
                assert_eq!(texts(&e, f), texts(&all, f), "{f}");
                assert!(texts(&e, f).is_some(), "{f}");
            }
            for f in ["Skip", "Inner", "Other", "x", "Arr", "Null"] {
                assert!(e.get(f).is_none(), "{f} is not wanted");
            }
        }
        assert_eq!(texts(&all, "CommandLine"), Some(vec!["a b c".to_string()]));
    }

    #[test]
    fn objects_in_arrays_are_named_by_the_array_path() {
        let json = r#"{"eventType": "user.session.start", "tags": ["a", ["b"]],
            "target": [{"displayName": "User", "type": "AppUser"}, {"displayName": "Admin"},
                [{"displayName": "Nested"}], "plain"],
            "authorizationInfo": [{"permission": "iam.roles.create", "granted": true}]}"#;
        let w = Wanted::new([
            "target.displayName",
            "target",
            "authorizationInfo.granted",
            "tags",
        ]);
        for e in every_way(json, &w) {
            assert_eq!(texts(&e, "target.displayName"), ["User", "Admin", "Nested"]);
            assert_eq!(texts(&e, "target"), ["plain"]);
            assert_eq!(texts(&e, "authorizationInfo.granted"), ["true"]);
            assert_eq!(texts(&e, "tags"), ["a", "b"]);
        }
        let some = read(json, Some(&w), true);
        assert!(some.get("target.type").is_none() && some.get("eventType").is_none());
    }

    #[test]
    fn winlogbeat_events_are_named_as_evtx_events() {
        let json = r##"{"@timestamp": "2019-05-19T17:32:00.482Z", "event": {"code": "1"},
            "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "1",
                "provider_name": "Microsoft-Windows-Sysmon", "record_id": 22013,
                "computer_name": "DC1", "task": "Process Create", "keywords": ["k"],
                "process": {"pid": 4}, "event_data": {"Image": "C:\\a.exe",
                    "Hashes": {"#text": "MD5=1"}}, "user_data": {"Param": "p"}}}"##;
        let w = Wanted::new(["Image", "Hashes", "Param", "winlog.channel", "winlog.task"]);
        for e in every_way(json, &w) {
            assert_sysmon_1_record_22013(&e);
            assert_eq!(e.meta.computer.as_deref(), Some("DC1"));
            assert_eq!(texts(&e, "Channel"), texts(&e, "winlog.channel"));
            assert_eq!(texts(&e, "Image"), ["C:\\a.exe"]);
            assert_eq!(texts(&e, "Hashes"), ["MD5=1"]);
            assert_eq!(texts(&e, "Param"), ["p"]);
            // A display name, not the EVTX task number: its path alone.
            assert_eq!(texts(&e, "winlog.task"), ["Process Create"]);
            assert!(e.get("Task").is_none());
        }
        let all = read(json, None, true);
        assert_eq!(texts(&all, "Provider_Name"), ["Microsoft-Windows-Sysmon"]);
        assert_eq!(texts(&all, "winlog.process.pid"), ["4"]);
        assert_eq!(texts(&all, "winlog.keywords"), ["k"]);
        assert!(all.get("winlog.event_data.Image").is_none());
        // Elsewhere, `winlog` is only a path.
        let nested = read(r#"{"x": {"winlog": {"channel": "Security"}}}"#, None, true);
        assert!(nested.get("Channel").is_none() && nested.meta.channel.is_none());
    }

    #[test]
    fn an_elasticsearch_document_is_read_as_its_source() {
        let json = r##"{"_index": "winlogbeat-8", "_id": "a1", "_score": 1.0,
            "_source": {"@timestamp": "2019-05-19T17:32:00.482Z",
                "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": 1,
                    "provider_name": "Microsoft-Windows-Sysmon", "record_id": 22013,
                    "computer_name": "DC1", "event_data": {"Image": "C:\\a.exe"}}}}"##;
        let w = Wanted::new(["Image", "_index", "_source.winlog.channel"]);
        for e in every_way(json, &w) {
            assert_sysmon_1_record_22013(&e);
            assert_eq!(texts(&e, "Image"), ["C:\\a.exe"]);
            assert_eq!(texts(&e, "_index"), ["winlogbeat-8"]);
            assert!(e.get("_source.winlog.channel").is_none());
        }
        // Only the document's own `_source`, and only an object, is unwrapped.
        let text = read(
            r#"{"_source": "syslog", "x": {"_source": {"a": 1}}}"#,
            None,
            true,
        );
        assert_eq!(texts(&text, "_source"), ["syslog"]);
        assert_eq!(texts(&text, "x._source.a"), ["1"]);
        let twice = read(r#"{"_source": {"_source": {"a": 1}}}"#, None, false);
        assert_eq!(texts(&twice, "_source.a"), ["1"]);
    }

    #[test]
    fn velociraptor_rows_are_named_as_evtx_events() {
        let json = r##"{"System": {"Provider": {"Name": "Microsoft-Windows-Sysmon"},
            "EventID": {"Value": 1}, "TimeCreated": {"SystemTime": "2019-05-19T17:32:00Z"},
            "EventRecordID": 22013, "Execution": {"ProcessID": 4}, "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "DC1", "Security": {"UserID": "S-1-5-18"}},
            "EventData": {"Image": "C:\\a.exe", "Hashes": {"#text": "MD5=1"}},
            "Message": "Process Create"}"##;
        let w = Wanted::new([
            "Image",
            "Hashes",
            "Provider_Name",
            "Security_UserID",
            "Message",
        ]);
        for e in every_way(json, &w) {
            assert_sysmon_1_record_22013(&e);
            assert_eq!(e.meta.timestamp.as_deref(), Some("2019-05-19T17:32:00Z"));
            assert_eq!(texts(&e, "Image"), ["C:\\a.exe"]);
            assert_eq!(texts(&e, "Hashes"), ["MD5=1"]);
            assert_eq!(texts(&e, "Provider_Name"), ["Microsoft-Windows-Sysmon"]);
            assert_eq!(texts(&e, "Security_UserID"), ["S-1-5-18"]);
            assert_eq!(texts(&e, "Message"), ["Process Create"]);
        }
        // A System or EventData that is a value, not an object, keeps its name.
        let plain = read(r#"{"System": "linux", "EventData": 3}"#, None, true);
        assert_eq!(texts(&plain, "System"), ["linux"]);
        assert_eq!(texts(&plain, "EventData"), ["3"]);
    }

    #[test]
    fn a_system_object_of_a_log_that_is_no_windows_event_is_also_named_by_path() {
        let json = r#"{"host": "web1", "System": {"cpu": {"user": 5}, "Provider": {"Name": "p"}},
            "EventData": {"Rows": [{"Name": "a"}], "Path": "/tmp"}}"#;
        let w = Wanted::new(["System.cpu.user", "EventData.Path", "Path"]);
        for e in every_way(json, &w) {
            assert_eq!(texts(&e, "System.cpu.user"), ["5"]);
            assert_eq!(texts(&e, "EventData.Path"), ["/tmp"]);
            assert_eq!(texts(&e, "Path"), ["/tmp"]);
        }
        // Read the EVTX way only where no rule names such a path, even when
        // every field is kept.
        for w in [Wanted::new(["Path"]), Wanted::new(["Path"]).every_field()] {
            for text in [true, false] {
                let e = read(json, Some(&w), text);
                assert_eq!(texts(&e, "Path"), ["/tmp"]);
                assert!(e.get("EventData.Path").is_none());
            }
        }
        // Nested deeper than serde_json's limit for a value tree: the event
        // is still read.
        let deep = format!(
            r#"{{"System": {{"cpu": {{"user": 5}}, "x": {}{}}}}}"#,
            "[".repeat(300),
            "]".repeat(300)
        );
        let e = read(&deep, Some(&w), true);
        assert_eq!(texts(&e, "System.cpu.user"), ["5"]);
        let every = read(json, Some(&Wanted::new(["Path"]).every_field()), true);
        assert_eq!(texts(&every, "host"), ["web1"]);
        assert_eq!(texts(&every, "Provider_Name"), ["p"]);
    }

    #[test]
    fn data_elements_converted_from_xml_are_named_by_their_name() {
        let json = r##"{"Event": {"@xmlns": "x", "System": {"Provider": {"@Name": "Microsoft-Windows-Sysmon"},
            "EventID": {"@Qualifiers": "", "#text": "1"}, "TimeCreated": {"@SystemTime": "2024-05-01T10:00:00Z"},
            "EventRecordID": "22013", "Channel": "Microsoft-Windows-Sysmon/Operational"},
            "EventData": {"Data": [{"@Name": "Image", "#text": "C:\\a.exe"},
                {"#attributes": {"Name": "User"}, "#text": "bob"}, {"@Name": "Empty"},
                {"#text": "first", "@Name": "Late"}, {"@Name": 5, "#text": "x"}, "loose", ["deep"]]}}}"##;
        let w = Wanted::new(["Image", "User", "Provider_Name", "Late"]);
        for e in every_way(json, &w) {
            assert_sysmon_1_record_22013(&e);
            assert_eq!(e.meta.timestamp.as_deref(), Some("2024-05-01T10:00:00Z"));
            assert_eq!(texts(&e, "Image"), ["C:\\a.exe"]);
            assert_eq!(texts(&e, "User"), ["bob"]);
            assert_eq!(texts(&e, "Provider_Name"), ["Microsoft-Windows-Sysmon"]);
            // A text before its name, as `jq -S` sorts them.
            assert_eq!(texts(&e, "Late"), ["first"]);
        }
        let all = read(json, None, true);
        assert!(all.get("5").is_none());
        // `<Data Name="Empty"></Data>`: an empty text, not null, as in EVTX.
        let empty = all.get("Empty").unwrap().first().unwrap();
        assert_eq!((empty.text, empty.is_null), ("", false));
        assert_eq!(texts(&all, "Data"), ["loose"]);
        // A lone element is an object, not a list of one, its keys in
        // either order.
        for data in [
            r##"{"@Name": "Image", "#text": "C:\\b.exe"}"##,
            r##"{"#text": "C:\\b.exe", "@Name": "Image"}"##,
        ] {
            let json = format!(r#"{{"Event": {{"EventData": {{"Data": {data}}}}}}}"#);
            for e in every_way(&json, &w) {
                assert_eq!(texts(&e, "Image"), ["C:\\b.exe"], "{json}");
            }
        }
    }

    #[test]
    fn a_wanted_leaf_deep_under_unwanted_keys_is_read() {
        let mut json = String::from(r#"{"Event": {"EventData": "#);
        for i in 0..20 {
            json.push_str(&format!(r#"{{"K{i}": "v", "Skip{i}": "#));
        }
        json.push_str(r#"{"Image": "deep"}"#);
        json.push_str(&"}".repeat(22));
        let w = Wanted::new(["Image"]);
        for e in [read(&json, Some(&w), true), read(&json, None, true)] {
            assert_eq!(e.text("Image"), Some("deep"));
        }
        assert!(read(&json, Some(&w), true).get("K3").is_none());
    }

    #[test]
    fn wanted_names_are_found_and_others_turned_away() {
        let w = Wanted::new(["Image", "Event.EventData.CommandLine", "ThreatName"]);
        for n in [
            "Image",
            "CommandLine",
            "ThreatName",
            "Threat Name",
            "Channel",
        ] {
            assert!(w.keeps(n), "{n}");
        }
        for n in ["Imagex", "image", "User", "", "Threat Nam"] {
            assert!(!w.keeps(n), "{n}");
        }
        // The filter turns no wanted name away, however many share its bits.
        let many: Vec<String> = (0..3000).map(|i| format!("F{i}_{}", i % 7)).collect();
        let w = Wanted::new(many.iter().map(String::as_str));
        assert!(many.iter().all(|n| w.keeps(n)));
        assert!(!w.keeps("F1_2"));
    }
}
