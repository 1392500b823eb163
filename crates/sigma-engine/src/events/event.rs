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
    /// The value as a number, when it is one (or text that parses as one).
    pub number: Option<f64>,
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
}

/// A value as stored: ranges into the event's text.
#[derive(Debug, Clone)]
struct Slot {
    name: Range<u32>,
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
    /// Sorted by name ([`by_len`]) once built; values of one name are adjacent.
    slots: Vec<Slot>,
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
        }
    }

    /// An empty event sized for a source of `bytes` bytes: one allocation
    /// each for the text and the fields, not a series of regrowths.
    pub fn with_capacity(meta: EventMeta, bytes: usize) -> Event {
        Event {
            meta,
            buf: String::with_capacity(bytes + bytes / 2),
            slots: Vec::with_capacity(32),
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
        let number = number.or_else(|| number_of(text));
        let slot = Slot {
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
                name: r,
                ..slot.clone()
            });
        }
        self.slots.push(slot);
    }

    /// Sort the fields for lookup and drop repeated values of a field.
    pub fn finish(&mut self) {
        let buf = &self.buf;
        let s = |r: &Range<u32>| &buf[r.start as usize..r.end as usize];
        // Stable: values keep their document order within a field.
        self.slots.sort_by(|a, b| by_len(s(&a.name), s(&b.name)));
        self.slots.dedup_by(|b, a| {
            s(&a.name) == s(&b.name) && s(&a.text) == s(&b.text) && a.is_null == b.is_null
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
        let start = self
            .slots
            .partition_point(|s| by_len(self.str(&s.name), field).is_lt());
        let n = self.slots[start..]
            .iter()
            .take_while(|s| self.str(&s.name) == field)
            .count();
        (n > 0).then(|| Values {
            event: self,
            slots: &self.slots[start..start + n],
        })
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
        if let Some(r) = self
            .text("EventRecordID")
            .and_then(|r| r.parse::<u64>().ok())
        {
            self.meta.record = r;
        }
        if self.meta.channel.is_none() {
            self.meta.channel = self.text("Channel").map(str::to_string);
        }
        if self.meta.computer.is_none() {
            self.meta.computer = self
                .text("Computer")
                .or_else(|| self.text("host.name"))
                .map(str::to_string);
        }
        if self.meta.event_id.is_none() {
            self.meta.event_id = self.text("EventID").map(str::to_string);
        }
        if self.meta.timestamp.is_none() {
            self.meta.timestamp = META_TIME
                .iter()
                .find_map(|f| self.text(f))
                .map(str::to_string);
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

/// Fields the event's timestamp is taken from, in order of preference.
pub(crate) const META_TIME: [&str; 5] = [
    "TimeCreated_SystemTime",
    "@timestamp",
    "timestamp",
    "UtcTime",
    "time",
];

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

/// Field order: by length, then bytes. Most comparisons in a lookup end at
/// the length, without comparing text.
fn by_len(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// The number a text spells, if it starts like one.
fn number_of(text: &str) -> Option<f64> {
    let t = text.trim();
    t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
        .then(|| t.parse::<f64>().ok())
        .flatten()
}
