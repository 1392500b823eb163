//! The flattened event: every field name and value lives in one text buffer
//! per event, and fields are slices of it, so that building an event costs a
//! handful of allocations whatever its size (a tree of `serde_json::Value`s
//! cost one or more per key and per value, which was most of the matcher's
//! time on JSON streams). Names are found through a small open-addressing
//! table built once per event: the matcher looks up dozens of names per
//! event, and sorting the fields for a binary search cost more than the
//! table.

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
    /// What the event's file says the event is, where it says so (which
    /// rules read it; the file names it already).
    #[serde(skip)]
    pub source: Option<Source>,
}

/// What a log says its events are: a Zeek log names its kind (`#path
/// dns`), a W3C log is a web server's or a web proxy's, an access log a web
/// server's, an audit log the
/// Linux audit daemon's, a syslog line a Linux program's, a Cisco
/// device's or a FortiGate's, a CloudTrail or Azure log's record its cloud's.
/// Rules for another logsource do not read such events.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Source {
    /// A W3C extended log file (Sigma's `webserver` and `proxy`).
    W3c,
    /// A web server's access log (Sigma's `webserver`).
    WebServer,
    /// A Zeek log of this path (Sigma's `product: zeek`, `service: dns`;
    /// `dns.log` is also Sigma's `category: dns`).
    Zeek(Arc<str>),
    /// The Linux audit daemon's log (`product: linux`, `service: auditd`).
    Auditd,
    /// A syslog file's line of this program (`product: linux`; `service:
    /// syslog`, `auth`, or the program, `sshd`).
    Syslog(Arc<str>),
    /// A Cisco device's message in a syslog file (`%SYS-5-CONFIG_I:`;
    /// `product: cisco`, any service).
    Cisco,
    /// A FortiGate record of this `type` (`product: fortigate` or
    /// `fortios`, `service: event`).
    Fortinet(Arc<str>),
    /// A record of an AWS CloudTrail log file (`product: aws, service:
    /// cloudtrail`).
    CloudTrail,
    /// A record of an Azure log of `records` (`product: azure`, any service).
    Azure,
}

/// An event's every field and its values ([`Event::whole`]), to show beside
/// a detection. As JSON, a map: a field of one value maps to it, a field of
/// several to their list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventFields(pub Vec<(String, Vec<Option<String>>)>);

impl serde::Serialize for EventFields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (name, values) in &self.0 {
            match values.as_slice() {
                [one] => m.serialize_entry(name, one)?,
                many => m.serialize_entry(name, many)?,
            }
        }
        m.end()
    }
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

    /// The value as a number, only when the source wrote a number (a JSON
    /// number, an EVTX integer), not text that reads as one.
    pub fn json_number(&self) -> Option<f64> {
        self.number
    }

    /// The value as a number, when it is one or its text reads as one
    /// (read when a comparison asks, not for every value of every event).
    pub fn number(&self) -> Option<f64> {
        self.number.or_else(|| number_of(self.text))
    }
}

/// The fields of Zeek's `dns.log` that Sigma's `category: dns` names its
/// own way (Zeek's name, Sigma's): its `query` is both's.
pub(crate) const ZEEK_DNS_FIELDS: [(&str, &str); 2] =
    [("answers", "answer"), ("qtype_name", "record_type")];

/// The field of a Google Cloud audit log entry that SigmaHQ's `product:
/// gcp` rules read under the name Filebeat gives it (the entry's name,
/// theirs).
const GCP_AUDIT_FIELDS: [(&str, &str); 1] = [("protoPayload.methodName", "gcp.audit.method_name")];

/// The fields some logs write under another name than the rules read them
/// by (the log's name, the rules'): a rule that reads the second keeps the
/// first.
pub(crate) fn other_names() -> impl Iterator<Item = (&'static str, &'static str)> {
    ZEEK_DNS_FIELDS.into_iter().chain(GCP_AUDIT_FIELDS)
}

/// Whether a source is Zeek's `dns.log`, which `category: dns` rules read.
pub(crate) fn is_zeek_dns(source: &Source) -> bool {
    matches!(source, Source::Zeek(path) if path.eq_ignore_ascii_case("dns"))
}

/// A value as stored: ranges into the event's text.
#[derive(Debug, Clone)]
struct Slot {
    name: Range<u32>,
    /// The name's hash ([`name_hash`]).
    hash: u64,
    text: Range<u32>,
    lower: Range<u32>,
    number: Option<f64>,
    is_null: bool,
    /// A second name a value is stored under (`ThreatName` for `Threat
    /// Name`): not one of the event's own fields.
    alias: bool,
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
    /// In document order; once built, the values of one name are adjacent
    /// (names in the order they first came).
    slots: Vec<Slot>,
    /// Open addressing over the names (a power of two, at least twice their
    /// number): each entry is one name's run of slots. Empty for an event
    /// of at most [`LINEAR`] values, none repeating a name (what rules
    /// that read a few fields keep): those are looked up one by one.
    table: Vec<Run>,
    /// The first value of each metadata field ([`Meta`]), noted as it is
    /// added: the metadata is then filled without looking fields up.
    meta_text: [Option<Range<u32>>; META_FIELDS.len()],
    /// Whether objects nested deeper than readers follow were left out
    /// (readers say so: nothing read is dropped silently).
    pub(crate) too_deep: bool,
    /// Why an EvtxECmd payload that holds the event's data was read only in
    /// part (it is no valid JSON).
    pub(crate) payload_error: Option<Box<str>>,
    /// The event's own values held (not their second names).
    held: u32,
    /// Values not held: past [`MOST_VALUES`], or past [`MOST_TEXT`] of text
    /// (readers say so).
    pub(crate) left_out: u64,
}

/// The most values one event holds. No log's event has nearly so many; a
/// hostile line of a few megabytes can hold millions (a JSON array), each
/// of which would cost a slot.
pub const MOST_VALUES: usize = 1 << 16;

/// The most text one event holds: its names, values and their lower-case
/// forms. A name is held again for each value where it does not repeat
/// the one before (the fields of an array's objects, named by their path),
/// so a hostile input of a megabyte could otherwise spell gigabytes. No
/// log's event comes near it: an EVTX record is at most 64 KiB.
pub const MOST_TEXT: usize = 64 << 20;

fn range(start: usize, end: usize) -> Range<u32> {
    // An event's text is at most `MOST_TEXT` (and a little more: the
    // name of the value that reaches it), far below 4 GiB.
    start as u32..end as u32
}

impl Event {
    /// An empty event to fill with [`Event::push`], then [`Event::finish`].
    pub fn with_meta(meta: EventMeta) -> Event {
        Event {
            meta,
            ..Event::default()
        }
    }

    /// An empty event sized for a source of `bytes` bytes: one allocation
    /// each for the text and the fields, not a series of regrowths.
    pub fn with_capacity(meta: EventMeta, bytes: usize) -> Event {
        Event {
            meta,
            buf: String::with_capacity(bytes + bytes / 2),
            slots: Vec::with_capacity(32),
            ..Event::default()
        }
    }

    /// An event of text values alone (a log line's fields), sized for a
    /// source of `bytes` bytes; [`Event::finish`] it.
    pub(crate) fn of_texts<N, T>(
        meta: EventMeta,
        bytes: usize,
        fields: impl IntoIterator<Item = (N, T)>,
    ) -> Event
    where
        N: AsRef<str>,
        T: AsRef<str>,
    {
        let mut e = Event::with_capacity(meta, bytes);
        for (name, text) in fields {
            e.push(name.as_ref(), text.as_ref(), None, false);
        }
        e
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
    ///
    /// Past [`MOST_VALUES`] values or [`MOST_TEXT`] of text, the value is
    /// counted as left out instead.
    pub fn push(&mut self, name: &str, text: &str, number: Option<f64>, is_null: bool) {
        // At most the name twice (with and without spaces) and the text
        // three times: as given, and lower-cased (which may add half).
        let cost = 2 * name.len() + 3 * text.len();
        if self.held as usize >= MOST_VALUES || self.buf.len() + cost > MOST_TEXT {
            self.left_out += 1;
            return;
        }
        self.held += 1;
        let hash = name_hash(name);
        // The values of an array come one after another under one name:
        // it is held once.
        let repeats = self
            .slots
            .last()
            .is_some_and(|l| l.hash == hash && self.str(&l.name) == name);
        let name_r = match self.slots.last() {
            Some(l) if repeats => l.name.clone(),
            _ => self.append(name),
        };
        let text_r = self.append(text);
        // No early exit: a loop over every byte compiles to vector code.
        let folds = text
            .bytes()
            .fold(false, |any, b| any | b.is_ascii_uppercase() | (b >= 0x80));
        let lower_r = if folds {
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
            hash,
            name: name_r,
            text: text_r,
            lower: lower_r,
            number,
            is_null,
            alias: false,
        };
        if name.bytes().any(|b| b == b' ') {
            // A repeated name's second name is the slot before its last.
            let before = self.slots.len().checked_sub(2).map(|i| &self.slots[i]);
            let (hash, name) = match before {
                Some(a) if repeats && a.alias => (a.hash, a.name.clone()),
                _ => {
                    let squeezed: String = name.chars().filter(|c| *c != ' ').collect();
                    (name_hash(&squeezed), self.append(&squeezed))
                }
            };
            self.slots.push(Slot {
                hash,
                name,
                alias: true,
                ..slot.clone()
            });
        }
        self.slots.push(slot);
    }

    /// Index the fields by name, each name's values together in document
    /// order, and drop a text that repeats the one before it in its field.
    pub fn finish(&mut self) {
        let few = self.slots.len() <= LINEAR;
        if few
            && !self.slots.iter().enumerate().any(|(i, s)| {
                self.slots[..i]
                    .iter()
                    .any(|p| p.hash == s.hash && self.str(&p.name) == self.str(&s.name))
            })
        {
            return;
        }
        let size = (self.slots.len() * 2).next_power_of_two().max(8);
        let mut table = vec![Run::EMPTY; size];
        // For each slot, its name's entry; `None` while no name repeats.
        let mut entry_of: Option<Vec<u32>> = None;
        for i in 0..self.slots.len() {
            let at = self.probe(&table, &self.slots[i]);
            let run = &mut table[at];
            if run.len == 0 {
                run.start = i as u32;
            }
            run.len += 1;
            if run.len > 1 && entry_of.is_none() {
                entry_of = Some(
                    self.slots[..i]
                        .iter()
                        .map(|s| self.probe(&table, s) as u32)
                        .collect(),
                );
            }
            if let Some(v) = entry_of.as_mut() {
                v.push(at as u32);
            }
        }
        if let Some(entry_of) = entry_of {
            self.group(&mut table, &entry_of);
        }
        self.table = table;
    }

    /// The table entry of a slot's name: its run, or the empty entry where
    /// it goes.
    fn probe(&self, table: &[Run], s: &Slot) -> usize {
        let buf = self.buf.as_bytes();
        let name = |s: &Slot| &buf[s.name.start as usize..s.name.end as usize];
        let mask = table.len() - 1;
        let mut at = home(s.hash, table.len());
        loop {
            let run = table[at];
            if run.len == 0 {
                return at;
            }
            let head = &self.slots[run.start as usize];
            if head.hash == s.hash && name(head) == name(s) {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// Put each name's values together (names in order of first
    /// appearance), without a text equal to the one before it (numbers kept).
    fn group(&mut self, table: &mut [Run], entry_of: &[u32]) {
        let n = self.slots.len();
        // Each name's slots, in document order, as a linked list.
        let mut next = vec![u32::MAX; n];
        let mut tail = vec![u32::MAX; table.len()];
        for (i, &at) in entry_of.iter().enumerate() {
            let t = &mut tail[at as usize];
            if *t != u32::MAX {
                next[*t as usize] = i as u32;
            }
            *t = i as u32;
        }
        let buf = self.buf.as_bytes();
        let text = |s: &Slot| &buf[s.text.start as usize..s.text.end as usize];
        let mut slots = Vec::with_capacity(n);
        for (i, &at) in entry_of.iter().enumerate() {
            let run = &mut table[at as usize];
            if run.start as usize != i {
                continue;
            }
            run.start = slots.len() as u32;
            let mut at_slot = i as u32;
            while at_slot != u32::MAX {
                let s = &self.slots[at_slot as usize];
                // A number repeated is kept: an array of numbers may be
                // bytes (journald's), whose repeats are part of the text.
                let repeat = slots[run.start as usize..].last().is_some_and(|p: &Slot| {
                    text(p) == text(s) && p.is_null == s.is_null && s.number.is_none()
                });
                if !repeat {
                    slots.push(s.clone());
                }
                at_slot = next[at_slot as usize];
            }
            run.len = slots.len() as u32 - run.start;
        }
        self.slots = slots;
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
        let hash = name_hash(field);
        if self.table.is_empty() {
            let at = self
                .slots
                .iter()
                .position(|s| s.hash == hash && self.str(&s.name) == field)?;
            return Some(Values {
                event: self,
                slots: &self.slots[at..=at],
            });
        }
        let mask = self.table.len() - 1;
        let mut at = home(hash, self.table.len());
        loop {
            let run = self.table[at];
            if run.len == 0 {
                return None;
            }
            let (start, end) = (run.start as usize, (run.start + run.len) as usize);
            let head = &self.slots[start];
            if head.hash == hash && self.str(&head.name) == field {
                return Some(Values {
                    event: self,
                    slots: &self.slots[start..end],
                });
            }
            at = (at + 1) & mask;
        }
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

    /// Every field name with its values' texts (names in the order they
    /// first came, each name's values together).
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.slots
            .iter()
            .map(|s| (self.str(&s.name), self.str(&s.text)))
    }

    /// The whole event as read: every field with its values (`None` for a
    /// JSON `null`), names in the order they first came.
    pub fn whole(&self) -> EventFields {
        let mut out: Vec<(String, Vec<Option<String>>)> = Vec::new();
        for s in self.slots.iter().filter(|s| !s.alias) {
            let name = self.str(&s.name);
            let value = (!s.is_null).then(|| self.str(&s.text).to_string());
            match out.last_mut() {
                Some((last, values)) if last == name => values.push(value),
                _ => out.push((name.to_string(), vec![value])),
            }
        }
        EventFields(out)
    }

    /// The first value's text.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field).and_then(|v| v.first()).map(|v| v.text)
    }

    /// Store each value of field `of` under `name` as well, for rules that
    /// name it so (not one of the event's own fields: not shown).
    fn alias(&mut self, pairs: &[(&str, &str)]) {
        let mut added = Vec::new();
        for (of, name) in pairs {
            let hash = name_hash(of);
            let own = |s: &&Slot| !s.alias && s.hash == hash && self.str(&s.name) == *of;
            let values: Vec<Slot> = self.slots.iter().filter(own).cloned().collect();
            if values.is_empty() {
                continue;
            }
            let r = self.append(name);
            added.extend(values.into_iter().map(|s| Slot {
                name: r.clone(),
                hash: name_hash(name),
                alias: true,
                ..s
            }));
        }
        if !added.is_empty() {
            self.slots.extend(added);
            self.table.clear();
            self.finish();
        }
    }

    /// Fill the metadata from the fields when the reader did not set it.
    pub(crate) fn fill_meta(&mut self) {
        self.fill_meta_fields();
        if self.meta.source.as_ref().is_some_and(is_zeek_dns) {
            self.alias(&ZEEK_DNS_FIELDS);
        }
        // A Google Cloud audit log entry, as `gcloud logging read` and log
        // sinks write it.
        if self.meta_text[Meta::GcpMethod as usize].is_some() {
            self.alias(&GCP_AUDIT_FIELDS);
        }
    }

    fn fill_meta_fields(&mut self) {
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
            // EVTX, Elastic, NXLog, PowerShell's Get-WinEvent, Microsoft
            // Defender.
            meta.computer = [
                Meta::Computer,
                Meta::HostName,
                Meta::Hostname,
                Meta::MachineName,
                Meta::DeviceName,
            ]
            .into_iter()
            .find_map(owned);
        }
        if meta.event_id.is_none() {
            meta.event_id = owned(Meta::EventId);
        }
        if meta.timestamp.is_none() {
            meta.timestamp = Meta::TIMES.into_iter().find_map(owned);
        }
        if meta.source.is_none() && meta.channel.is_none() && text(Meta::Ts).is_some() {
            let path = text(Meta::ZeekPath).or_else(|| zeek_log_of(&meta.file));
            meta.source = path
                .filter(|p| !p.is_empty())
                .map(|p| Source::Zeek(p.into()));
        }
        // `journalctl -o json`: a syslog line's parts under journald's names.
        let journal_time = || text(Meta::JournalTime).and_then(journal_seconds);
        if let Some(time) = (meta.source.is_none() && meta.channel.is_none())
            .then(journal_time)
            .flatten()
        {
            let program = text(Meta::JournalProgram).unwrap_or_default();
            meta.source = Some(Source::Syslog(program.into()));
            meta.timestamp.get_or_insert(time);
            meta.computer = meta.computer.take().or_else(|| owned(Meta::JournalHost));
        }
    }

    /// Whether the event is a journald record (`journalctl -o json`).
    pub(crate) fn is_journal_record(&self) -> bool {
        matches!(self.meta.source, Some(Source::Syslog(_)))
            && self.meta_text[Meta::JournalTime as usize].is_some()
    }

    /// The message of a journald record (`MESSAGE`), when the event is one.
    pub(crate) fn journal_message(&self) -> Option<&str> {
        let r = self.meta_text[Meta::JournalMessage as usize].as_ref();
        r.filter(|_| self.is_journal_record()).map(|r| self.str(r))
    }

    /// Each of the event's own fields' values (`finish` put each name's
    /// together), second names left out.
    fn own_runs(&self) -> impl Iterator<Item = Vec<&Slot>> {
        (self
            .slots
            .chunk_by(|a, b| self.str(&a.name) == self.str(&b.name)))
        .map(|run| run.iter().filter(|s| !s.alias).collect::<Vec<_>>())
        .filter(|run| !run.is_empty())
    }

    /// The fields whose every value is a JSON `null`.
    pub(crate) fn null_fields(&self) -> Vec<&str> {
        self.own_runs()
            .filter(|run| run.iter().all(|s| s.is_null))
            .map(|run| self.str(&run[0].name))
            .collect()
    }

    /// The event with each field whose values are two or more numbers from
    /// 0 to 255 read as the text of those bytes, as journald writes a field
    /// that is no printable UTF-8 (its metadata filled again from them). A
    /// lone number stays one: tools that forward journald's records may
    /// write `PRIORITY` as `6`.
    pub(crate) fn with_byte_fields_as_text(self) -> Event {
        let byte = |s: &Slot| {
            let n = s
                .number
                .filter(|n| n.fract() == 0.0 && (0.0..=255.0).contains(n))?;
            Some(n as u8)
        };
        let runs: Vec<Vec<&Slot>> = self.own_runs().collect();
        let bytes = |run: &[&Slot]| {
            let b = run.iter().map(|s| byte(s)).collect::<Option<Vec<u8>>>()?;
            (b.len() > 1).then_some(b)
        };
        if !runs.iter().any(|run| bytes(run).is_some()) {
            return self;
        }
        let meta = EventMeta {
            file: self.meta.file.clone(),
            record: self.meta.record,
            ..EventMeta::default()
        };
        let mut e = Event::with_capacity(meta, self.buf.len());
        for run in &runs {
            let name = self.str(&run[0].name);
            match bytes(run) {
                Some(b) => e.push(name, &String::from_utf8_lossy(&b), None, false),
                None => run
                    .iter()
                    .for_each(|s| e.push(name, self.str(&s.text), s.number, s.is_null)),
            }
        }
        e.finish();
        e.fill_meta();
        e.too_deep = self.too_deep;
        e.payload_error = self.payload_error.clone();
        e.left_out += self.left_out;
        e
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
    EventTime,
    Published,
    TimeGenerated,
    CreatedDateTime,
    CreationTime,
    Ts,
    TimeCreatedText,
    TimestampPascal,
    EventTimeNxlog,
    SplunkTime,
    Hostname,
    MachineName,
    DeviceName,
    ZeekPath,
    JournalTime,
    JournalProgram,
    JournalHost,
    JournalMessage,
    GcpMethod,
}

impl Meta {
    /// The timestamp's fields, in order of preference: Windows (EVTX, and
    /// `TimeCreated` as PowerShell's `ConvertTo-Json` writes it), Elastic,
    /// generic (`Timestamp` also Microsoft Defender's), Sysmon, then AWS
    /// CloudTrail (`eventTime`), NXLog (`EventTime`), Okta (`published`),
    /// Azure Monitor (`TimeGenerated`), Entra ID sign-ins
    /// (`createdDateTime`), Microsoft 365 audit (`CreationTime`), Zeek
    /// (`ts`, seconds since the epoch) and Splunk exports (`_time`).
    const TIMES: [Meta; 15] = [
        Meta::TimeCreated,
        Meta::TimeCreatedText,
        Meta::AtTimestamp,
        Meta::Timestamp,
        Meta::TimestampPascal,
        Meta::UtcTime,
        Meta::Time,
        Meta::EventTime,
        Meta::EventTimeNxlog,
        Meta::Published,
        Meta::TimeGenerated,
        Meta::CreatedDateTime,
        Meta::CreationTime,
        Meta::Ts,
        Meta::SplunkTime,
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
            "eventTime" => Meta::EventTime,
            "published" => Meta::Published,
            "TimeGenerated" => Meta::TimeGenerated,
            "createdDateTime" => Meta::CreatedDateTime,
            "CreationTime" => Meta::CreationTime,
            "ts" => Meta::Ts,
            "TimeCreated" => Meta::TimeCreatedText,
            "Timestamp" => Meta::TimestampPascal,
            "EventTime" => Meta::EventTimeNxlog,
            "_time" => Meta::SplunkTime,
            "Hostname" => Meta::Hostname,
            "MachineName" => Meta::MachineName,
            "DeviceName" => Meta::DeviceName,
            "_path" => Meta::ZeekPath,
            "__REALTIME_TIMESTAMP" => Meta::JournalTime,
            "SYSLOG_IDENTIFIER" => Meta::JournalProgram,
            "_HOSTNAME" => Meta::JournalHost,
            "MESSAGE" => Meta::JournalMessage,
            "protoPayload.methodName" => Meta::GcpMethod,
            _ => return None,
        })
    }
}

/// The fields an event's timestamp is read from, in order of preference.
pub fn time_fields() -> impl Iterator<Item = &'static str> {
    Meta::TIMES.into_iter().map(|m| META_FIELDS[m as usize])
}

/// The logs Zeek writes (its documentation's list of log files), sorted: a
/// JSON log file named so is Zeek's. A log of another name says what it is
/// by its `_path` field, or is read as any JSON is.
#[rustfmt::skip]
const ZEEK_LOGS: [&str; 57] = [
    "analyzer", "broker", "capture_loss", "cluster", "config", "conn", "dce_rpc", "dhcp",
    "dnp3", "dns", "dpd", "files", "ftp", "http", "intel", "irc", "kerberos", "known_certs",
    "known_hosts", "known_modbus", "known_services", "ldap", "ldap_search", "loaded_scripts",
    "modbus", "modbus_register_change", "mysql", "netcontrol", "notice", "ntlm", "ntp", "ocsp",
    "packet_filter", "pe", "postgresql", "quic", "radius", "rdp", "reporter", "rfb",
    "signatures", "sip", "smb_cmd", "smb_files", "smb_mapping", "smtp", "snmp", "socks",
    "software", "ssh", "ssl", "stats", "traceroute", "tunnel", "websocket", "weird", "x509",
];

/// journald's time (`__REALTIME_TIMESTAMP`, microseconds since the epoch)
/// as seconds, the form the matcher reads: `1709287200.123456`.
fn journal_seconds(micros: &str) -> Option<String> {
    if micros.is_empty() || micros.len() > 20 || !micros.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{micros:0>7}");
    let (seconds, fraction) = padded.split_at(padded.len() - 6);
    Some(format!("{seconds}.{fraction}"))
}

/// The Zeek log a file is by its name: `dns.log`, or as rotated and
/// archived, `dns.00:00:00-01:00:00.log.gz` (Zeek writes JSON to `.log`
/// files too; a `stats.json` or `config.json` is some other program's).
fn zeek_log_of(file: &str) -> Option<&str> {
    let name = file.rsplit(['/', '\\']).next()?;
    let (stem, rest) = name.split_once('.')?;
    let known = ZEEK_LOGS.binary_search(&stem).is_ok();
    (known && rest.split('.').any(|p| p == "log")).then_some(stem)
}

/// Fields every reader keeps, whatever the rules read: they make the event's
/// metadata.
pub(crate) const META_FIELDS: [&str; 29] = [
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
    "eventTime",
    "published",
    "TimeGenerated",
    "createdDateTime",
    "CreationTime",
    "ts",
    "TimeCreated",
    "Timestamp",
    "EventTime",
    "_time",
    "Hostname",
    "MachineName",
    "DeviceName",
    "_path",
    "__REALTIME_TIMESTAMP",
    "SYSLOG_IDENTIFIER",
    "_HOSTNAME",
    "MESSAGE",
    "protoPayload.methodName",
];

/// Up to this many values, each of its own name, an event is searched
/// without a table (allocating and filling one cost more).
const LINEAR: usize = 8;

/// One name's values: a run of adjacent slots.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: u32,
    /// 0 for an empty table entry.
    len: u32,
}

impl Run {
    const EMPTY: Run = Run { start: 0, len: 0 };
}

fn name_hash(name: &str) -> u64 {
    input_hash(name)
}

/// A hash of text read from the input (field names, values), seeded at
/// random once per process: a hostile file cannot be written so that its
/// names or values collide and turn table lookups quadratic, as it could
/// against a fixed hash.
pub(crate) fn input_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    static SEEDED: std::sync::LazyLock<foldhash::fast::RandomState> =
        std::sync::LazyLock::new(foldhash::fast::RandomState::default);
    SEEDED.hash_one(text)
}

/// Where a hash's probe starts in a table of `size` (a power of two)
/// entries: its top bits after a multiplicative mix.
fn home(hash: u64, size: usize) -> usize {
    let bits = size.trailing_zeros();
    (hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

/// The number a text spells in digits. `+inf` or `NaN` are words, not
/// numbers, so `|gt` does not fire on them; `1e400` is a number beyond a
/// double, read as infinity so that it compares as it should.
fn number_of(text: &str) -> Option<f64> {
    let t = text.trim();
    t.strip_prefix(['+', '-'])
        .unwrap_or(t)
        .starts_with(|c: char| c.is_ascii_digit() || c == '.')
        .then(|| t.parse::<f64>().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_whole_event_gives_each_field_once_with_its_values_together() {
        let mut e = Event::default();
        e.push("a", "1", Some(1.0), false);
        e.push("Threat Name", "Eicar", None, false);
        e.push("a", "3", None, false);
        e.push("n", "", None, true);
        e.finish();
        let text = |v: &[&str]| v.iter().map(|x| Some(x.to_string())).collect::<Vec<_>>();
        assert_eq!(
            e.whole().0,
            [
                ("a".to_string(), text(&["1", "3"])),
                ("Threat Name".to_string(), text(&["Eicar"])),
                ("n".to_string(), vec![None]),
            ]
        );
        assert_eq!(e.text("ThreatName"), Some("Eicar"), "still read by rules");
        assert_eq!(
            serde_json::to_string(&e.whole()).unwrap(),
            r#"{"a":["1","3"],"Threat Name":"Eicar","n":null}"#
        );
    }

    #[test]
    fn a_zeek_log_is_known_by_its_path_or_its_files_name() {
        assert!(ZEEK_LOGS.is_sorted(), "looked up by binary search");
        assert_eq!(zeek_log_of("logs/dns.log"), Some("dns"));
        assert_eq!(
            zeek_log_of(r"C:\zeek\conn.00:00:00-01:00:00.log.gz"),
            Some("conn")
        );
        assert_eq!(zeek_log_of("smb_files.log"), Some("smb_files"));
        for other in [
            "app.log",
            "dns",
            "dns/app.log",
            "x509",
            "stats.json",
            "files.logs",
        ] {
            assert_eq!(zeek_log_of(other), None, "{other}");
        }
        let source = |file: &str, pairs: &[(&str, &str)]| {
            let mut e = Event::from_pairs(pairs);
            e.meta.file = file.into();
            e.fill_meta();
            e.meta.source
        };
        let zeek = |p: &str| Some(Source::Zeek(p.into()));
        let ts = ("ts", "1709290800.5");
        assert_eq!(source("dns.log", &[ts]), zeek("dns"));
        assert_eq!(source("x.json", &[ts, ("_path", "rdp")]), zeek("rdp"));
        assert_eq!(source("dns.log", &[ts, ("_path", "ssh")]), zeek("ssh"));
        // Zeek's records have a `ts`; a Windows event is no Zeek log.
        assert_eq!(source("dns.log", &[("query", "a")]), None);
        assert_eq!(source("dns.log", &[ts, ("Channel", "Security")]), None);
        assert_eq!(source("app.log", &[ts]), None);
    }

    #[test]
    fn a_journald_record_is_a_syslog_line_of_its_program() {
        let mut e = Event::from_pairs(&[
            ("__REALTIME_TIMESTAMP", "1709287200123456"),
            ("SYSLOG_IDENTIFIER", "sshd"),
            ("_HOSTNAME", "web1"),
            ("MESSAGE", "Failed password for root"),
        ]);
        e.fill_meta();
        assert_eq!(e.meta.source, Some(Source::Syslog("sshd".into())));
        assert_eq!(e.meta.timestamp.as_deref(), Some("1709287200.123456"));
        assert_eq!(e.meta.computer.as_deref(), Some("web1"));
        assert_eq!(e.journal_message(), Some("Failed password for root"));
        assert_eq!(journal_seconds("5").as_deref(), Some("0.000005"));
        for not in ["", "12a", "-1", "123456789012345678901"] {
            assert_eq!(journal_seconds(not), None, "{not}");
        }
        // A Windows event with such a field is still a Windows event.
        let mut w = Event::from_pairs(&[
            ("__REALTIME_TIMESTAMP", "1709287200123456"),
            ("Channel", "Security"),
            ("MESSAGE", "x"),
        ]);
        w.fill_meta();
        assert_eq!((&w.meta.source, w.journal_message()), (&None, None));
    }

    #[test]
    fn each_metadata_field_is_noted_under_its_place_in_meta_fields() {
        for (i, name) in META_FIELDS.iter().enumerate() {
            assert_eq!(Meta::of(name).map(|m| m as usize), Some(i), "{name}");
        }
        assert!(Meta::of("channel").is_none(), "names are case-sensitive");
    }

    #[test]
    fn text_reads_as_a_number_only_when_spelled_in_digits() {
        let read = |t: &str| FieldValue::new(t, t, None, false).number();
        assert_eq!(read(" 42 "), Some(42.0));
        assert_eq!(read("-1.5e3"), Some(-1500.0));
        assert_eq!(read("+7"), Some(7.0));
        assert_eq!(read("-.5"), Some(-0.5));
        assert_eq!(read("1e400"), Some(f64::INFINITY));
        assert_eq!(read("-1e999"), Some(f64::NEG_INFINITY));
        for t in [
            "+inf",
            "-infinity",
            "+NaN",
            "nan",
            "inf",
            "0x10",
            "+",
            "-e5",
            "",
        ] {
            assert_eq!(read(t), None, "{t:?}");
        }
    }

    fn texts<'a>(e: &'a Event, field: &str) -> Option<Vec<&'a str>> {
        e.get(field).map(|v| v.iter().map(|x| x.text).collect())
    }

    #[test]
    fn values_of_a_name_come_together_in_document_order_without_repeats() {
        let mut e = Event::default();
        let pairs = [("a", "1"), ("b", "x"), ("a", "2"), ("c", "y")];
        for (k, v) in pairs
            .into_iter()
            .chain([("a", "2"), ("a", "1"), ("b", "x")])
        {
            e.push(k, v, None, false);
        }
        e.finish();
        assert_eq!(texts(&e, "a"), Some(vec!["1", "2", "1"]));
        assert_eq!(texts(&e, "b"), Some(vec!["x"]));
        assert_eq!(texts(&e, "c"), Some(vec!["y"]));
        assert_eq!(texts(&e, "d"), None);
        let names: Vec<&str> = e.fields().map(|(n, _)| n).collect();
        assert_eq!(names, ["a", "a", "a", "b", "c"]);
    }

    #[test]
    fn each_of_many_similar_names_is_found() {
        let names: Vec<String> = (0..2000).map(|i| format!("Event.Data.F{i:04}")).collect();
        let mut e = Event::default();
        for (i, n) in names.iter().enumerate() {
            e.push(n, &i.to_string(), None, i % 3 == 0);
        }
        e.finish();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(texts(&e, n), Some(vec![i.to_string().as_str()]), "{n}");
        }
        for absent in ["Event.Data.F2000", "Event.Data.F", "", "F0001"] {
            assert!(e.get(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn a_name_with_spaces_is_also_found_without_them() {
        let e = Event::from_pairs(&[("Threat Name", "HackTool:Win32/Mimikatz")]);
        assert_eq!(texts(&e, "ThreatName"), texts(&e, "Threat Name"));
        assert_eq!(e.get("ThreatName").map(|v| v.len()), Some(1));
        let lower = e
            .get("ThreatName")
            .and_then(|v| v.first())
            .map(|v| v.lower());
        assert_eq!(lower, Some("hacktool:win32/mimikatz"));
        assert!(Event::default().get("ThreatName").is_none());
    }

    #[test]
    fn an_arrays_name_is_held_once_with_and_without_spaces() {
        for name in ["K".repeat(10_000), "K K".repeat(3_000)] {
            let mut e = Event::default();
            for i in 0..1_000 {
                e.push(&name, &format!("V{i}"), None, false);
            }
            e.finish();
            assert!(e.buf.len() < 3 * name.len() + 20_000, "{}", e.buf.len());
            assert_eq!(e.get(&name).map(|v| v.len()), Some(1_000));
            let squeezed = name.replace(' ', "");
            let last = e.get(&squeezed).and_then(|v| v.iter().last());
            assert_eq!(last.map(|v| v.lower()), Some("v999"));
            assert_eq!(e.left_out, 0);
        }
    }

    #[test]
    fn an_event_holds_so_many_values_and_so_much_text_and_counts_the_rest() {
        let mut e = Event::default();
        for i in 0..MOST_VALUES + 10 {
            e.push("n", &i.to_string(), Some(i as f64), false);
        }
        e.finish();
        assert_eq!(e.left_out, 10);
        let values = e.get("n").unwrap();
        assert_eq!(values.len(), MOST_VALUES);
        assert_eq!(values.iter().last().map(|v| v.text), Some("65535"));
        // Names that take turns are each held again: the text is bounded.
        let (a, b) = ("a".repeat(1 << 20), "b".repeat(1 << 20));
        let mut e = Event::default();
        for i in 0..100 {
            e.push(if i % 2 == 0 { &a } else { &b }, "x", None, false);
        }
        assert!(e.buf.len() <= MOST_TEXT, "{}", e.buf.len());
        assert!(e.left_out > 30, "{}", e.left_out);
        assert_eq!(e.held as u64 + e.left_out, 100);
        e.finish();
        assert_eq!(e.text(&a), Some("x"));
    }
}
