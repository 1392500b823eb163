//! The flattened event: every field name and value lives in one text buffer
//! per event, and fields are slices of it, so that building an event costs a
//! handful of allocations whatever its size (a tree of `serde_json::Value`s
//! cost one or more per key and per value, which was most of the matcher's
//! time on JSON streams).

use std::ops::Range;
use std::sync::Arc;

/// Where an event came from and when it happened.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EventMeta {
    pub file: Arc<str>,
    /// EVTX record id, or the 1-based line (JSONL) or position (JSON) of the
    /// event in its file.
    pub record: u64,
    pub timestamp: Option<String>,
    pub computer: Option<String>,
    pub channel: Option<String>,
    pub event_id: Option<String>,
}

/// One value of a field, with the forms the matcher compares.
#[derive(Debug, Clone, Copy)]
pub struct FieldValue<'a> {
    /// The value as text (numbers in decimal, booleans as `true`/`false`).
    pub text: &'a str,
    lower: &'a str,
    /// The value as a number, when it was one in the source.
    number: Option<f64>,
    /// Whether the JSON value was `null`.
    pub is_null: bool,
}

impl<'a> FieldValue<'a> {
    /// A value from its text and lower-cased text.
    pub fn new(text: &'a str, lower: &'a str, number: Option<f64>, is_null: bool) -> Self {
        FieldValue {
            text,
            lower,
            number,
            is_null,
        }
    }

    /// The lower-cased text (for case-insensitive comparisons).
    pub fn lower(&self) -> &'a str {
        self.lower
    }

    /// The value as a number, when it is one or its text reads as one
    /// (read when a comparison asks, not for every value of every event).
    pub fn number(&self) -> Option<f64> {
        self.number.or_else(|| number_of(self.text))
    }
}

/// A value as stored: ranges into the event's text.
#[derive(Debug, Clone)]
struct Slot {
    name: Range<u32>,
    /// The name's first eight bytes ([`NameKey`]).
    key: u64,
    text: Range<u32>,
    lower: Range<u32>,
    number: Option<f64>,
    is_null: bool,
}

/// The values of one field.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    event: &'a Event,
    slots: &'a [Slot],
}

impl<'a> Values<'a> {
    pub fn iter(&self) -> impl Iterator<Item = FieldValue<'a>> + 'a {
        let e = self.event;
        self.slots.iter().map(move |s| e.value(s))
    }
    pub fn len(&self) -> usize {
        self.slots.len()
    }
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
    pub fn first(&self) -> Option<FieldValue<'a>> {
        self.slots.first().map(|s| self.event.value(s))
    }
}

/// A flattened event: field name → values.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub meta: EventMeta,
    buf: String,
    /// Sorted by name ([`NameKey`]) once built; values of one name are adjacent.
    slots: Vec<Slot>,
    /// The first value of each metadata field ([`Meta`]), noted as it is
    /// added: the metadata is then filled without looking fields up.
    meta_text: [Option<Range<u32>>; META_FIELDS.len()],
}

fn range(start: usize, end: usize) -> Range<u32> {
    // Events are lines of a file or EVTX records: far below 4 GiB.
    start as u32..end as u32
}

impl Event {
    /// An empty event to fill with [`Event::push`], then [`Event::finish`].
    pub fn with_meta(meta: EventMeta) -> Event {
        Event {
            meta,
            buf: String::new(),
            slots: Vec::new(),
            meta_text: Default::default(),
        }
    }

    /// An empty event sized for a source of `bytes` bytes: one allocation
    /// each for the text and the fields, not a series of regrowths.
    pub fn with_capacity(meta: EventMeta, bytes: usize) -> Event {
        Event {
            meta,
            buf: String::with_capacity(bytes + bytes / 2),
            slots: Vec::with_capacity(32),
            meta_text: Default::default(),
        }
    }

    fn str(&self, r: &Range<u32>) -> &str {
        &self.buf[r.start as usize..r.end as usize]
    }

    fn value(&self, s: &Slot) -> FieldValue<'_> {
        FieldValue {
            text: self.str(&s.text),
            lower: self.str(&s.lower),
            number: s.number,
            is_null: s.is_null,
        }
    }

    fn append(&mut self, s: &str) -> Range<u32> {
        let start = self.buf.len();
        self.buf.push_str(s);
        range(start, self.buf.len())
    }

    /// Add one value. A name with spaces (`Threat Name`, as Windows Defender
    /// writes its EventData) is also stored without them (`ThreatName`, as
    /// Sigma rules name it).
    pub fn push(&mut self, name: &str, text: &str, number: Option<f64>, is_null: bool) {
        let name_r = self.append(name);
        let text_r = self.append(text);
        let lower_r = if text.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
            let start = self.buf.len();
            if text.is_ascii() {
                self.buf.push_str(text);
                self.buf[start..].make_ascii_lowercase();
            } else {
                let l = text.to_lowercase();
                self.buf.push_str(&l);
            }
            range(start, self.buf.len())
        } else {
            text_r.clone()
        };
        if let Some(m) = Meta::of(name) {
            self.meta_text[m as usize].get_or_insert(text_r.clone());
        }
        let slot = Slot {
            key: NameKey::new(name.as_bytes()).prefix,
            name: name_r,
            text: text_r,
            lower: lower_r,
            number,
            is_null,
        };
        if name.contains(' ') {
            let squeezed: String = name.chars().filter(|c| *c != ' ').collect();
            let r = self.append(&squeezed);
            self.slots.push(Slot {
                key: NameKey::new(squeezed.as_bytes()).prefix,
                name: r,
                ..slot.clone()
            });
        }
        self.slots.push(slot);
    }

    /// Sort the fields for lookup and drop repeated values of a field.
    pub fn finish(&mut self) {
        let buf = self.buf.as_bytes();
        let name = |a: &Slot, b: &Slot| {
            NameKey::head(a)
                .cmp(&NameKey::head(b))
                .then_with(|| NameKey::rest_of(buf, a).cmp(NameKey::rest_of(buf, b)))
        };
        // Stable: values keep their document order within a field.
        self.slots.sort_by(name);
        let s = |r: &Range<u32>| &buf[r.start as usize..r.end as usize];
        self.slots.dedup_by(|b, a| {
            name(a, b).is_eq() && s(&a.text) == s(&b.text) && a.is_null == b.is_null
        });
    }

    /// Values of a field (exact, case-sensitive name).
    pub fn get(&self, field: &str) -> Option<Values<'_>> {
        match self.lookup(field) {
            Some(v) => Some(v),
            // Full paths into an EVTX rendering (`Event.EventData.Image`,
            // `Event.System.EventID`) name the same fields as their leaf.
            None if field.starts_with("Event.") => self.lookup(field.rsplit('.').next()?),
            None => None,
        }
    }

    fn lookup(&self, field: &str) -> Option<Values<'_>> {
        let buf = self.buf.as_bytes();
        let want = NameKey::new(field.as_bytes());
        let order = |s: &Slot| want.slot_cmp(buf, s);
        let start = self.slots.partition_point(|s| order(s).is_lt());
        let n = self.slots[start..]
            .iter()
            .take_while(|s| order(s).is_eq())
            .count();
        (n > 0).then(|| Values {
            event: self,
            slots: &self.slots[start..start + n],
        })
    }

    /// The event's names, values and lower-cased values in one text: a
    /// substring of any value (or of its lower-cased form) is in it.
    pub fn all_text(&self) -> &str {
        &self.buf
    }

    /// Every value of every field (keyword searches).
    pub fn all_values(&self) -> impl Iterator<Item = FieldValue<'_>> {
        self.slots.iter().map(|s| self.value(s))
    }

    /// Every field name with its values' texts (shorter names first).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots
            .iter()
            .map(|s| (self.str(&s.name), self.str(&s.text)))
    }

    /// The first value's text.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(|v| v.first()).map(|v| v.text)
    }

    /// Fill the metadata from the fields when the reader did not set it.
    pub(crate) fn fill_meta(&mut self) {
        let (buf, at, meta) = (&self.buf, &self.meta_text, &mut self.meta);
        let text = |m: Meta| {
            at[m as usize]
                .as_ref()
                .map(|r| &buf[r.start as usize..r.end as usize])
        };
        let owned = |m: Meta| text(m).map(str::to_string);
        if let Some(r) = text(Meta::EventRecordId).and_then(|r| r.parse::<u64>().ok()) {
            meta.record = r;
        }
        if meta.channel.is_none() {
            meta.channel = owned(Meta::Channel);
        }
        if meta.computer.is_none() {
            meta.computer = owned(Meta::Computer).or_else(|| owned(Meta::HostName));
        }
        if meta.event_id.is_none() {
            meta.event_id = owned(Meta::EventId);
        }
        if meta.timestamp.is_none() {
            meta.timestamp = Meta::TIMES.into_iter().find_map(owned);
        }
    }

    /// Build an event from `field → value` pairs (tests and synthetic data).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Event {
        let mut e = Event::default();
        for (k, v) in pairs {
            e.push(k, v, None, false);
        }
        e.finish();
        e
    }
}

/// The fields the event's metadata comes from, in the order of
/// [`META_FIELDS`].
#[derive(Clone, Copy)]
enum Meta {
    EventRecordId,
    Channel,
    Computer,
    HostName,
    EventId,
    TimeCreated,
    AtTimestamp,
    Timestamp,
    UtcTime,
    Time,
}

impl Meta {
    /// The timestamp's fields, in order of preference.
    const TIMES: [Meta; 5] = [
        Meta::TimeCreated,
        Meta::AtTimestamp,
        Meta::Timestamp,
        Meta::UtcTime,
        Meta::Time,
    ];

    /// The metadata field a field name is, if any.
    fn of(name: &str) -> Option<Meta> {
        Some(match name {
            "EventRecordID" => Meta::EventRecordId,
            "Channel" => Meta::Channel,
            "Computer" => Meta::Computer,
            "host.name" => Meta::HostName,
            "EventID" => Meta::EventId,
            "TimeCreated_SystemTime" => Meta::TimeCreated,
            "@timestamp" => Meta::AtTimestamp,
            "timestamp" => Meta::Timestamp,
            "UtcTime" => Meta::UtcTime,
            "time" => Meta::Time,
            _ => return None,
        })
    }
}

/// Fields every reader keeps, whatever the rules read: they make the event's
/// metadata.
pub(crate) const META_FIELDS: [&str; 10] = [
    "EventRecordID",
    "Channel",
    "Computer",
    "host.name",
    "EventID",
    "TimeCreated_SystemTime",
    "@timestamp",
    "timestamp",
    "UtcTime",
    "time",
];

/// Field order: by length, then bytes. The first eight bytes are kept with
/// each field as a number, so that most comparisons end at the length or
/// at that number, without reading the text.
#[derive(Clone, Copy)]
struct NameKey<'a> {
    len: u32,
    prefix: u64,
    /// The bytes after the first eight.
    rest: &'a [u8],
}

impl<'a> NameKey<'a> {
    fn new(name: &'a [u8]) -> NameKey<'a> {
        let head = name.len().min(8);
        let mut b = [0u8; 8];
        b[..head].copy_from_slice(&name[..head]);
        NameKey {
            len: name.len() as u32,
            // Big-endian: numbers compare as the bytes do.
            prefix: u64::from_be_bytes(b),
            rest: &name[head..],
        }
    }

    /// How a slot's name compares with this one.
    fn slot_cmp(&self, buf: &[u8], s: &Slot) -> std::cmp::Ordering {
        NameKey::head(s)
            .cmp(&(self.len, self.prefix))
            .then_with(|| NameKey::rest_of(buf, s).cmp(self.rest))
    }

    /// A slot's length and first bytes, which decide most comparisons.
    fn head(s: &Slot) -> (u32, u64) {
        (s.name.end - s.name.start, s.key)
    }

    fn rest_of(buf: &'a [u8], s: &Slot) -> &'a [u8] {
        let start = (s.name.start + 8).min(s.name.end);
        &buf[start as usize..s.name.end as usize]
    }
}

/// The number a text spells, if it starts like one.
fn number_of(text: &str) -> Option<f64> {
    let t = text.trim();
    t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
        .then(|| t.parse::<f64>().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_metadata_field_is_noted_under_its_place_in_meta_fields() {
        for (i, name) in META_FIELDS.iter().enumerate() {
            assert_eq!(Meta::of(name).map(|m| m as usize), Some(i), "{name}");
        }
        assert!(Meta::of("channel").is_none(), "names are case-sensitive");
    }
}
