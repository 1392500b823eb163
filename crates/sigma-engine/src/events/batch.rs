//! What an events file is handed out in: batches of JSONL lines, or of
//! items (an event, a JSON object or a CSV row to make one of), for
//! parsing and matching in parallel.

use super::event::Event;
use super::json::Wanted;
use super::json_text::Pending;
use crate::diag::Diagnostics;

/// Lines of a JSONL file, read in one buffer: (line number, byte range).
#[derive(Debug, Default)]
pub struct LineBatch {
    pub data: Vec<u8>,
    pub lines: Vec<(u64, std::ops::Range<usize>)>,
}

impl LineBatch {
    /// The lines with their numbers.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.lines.iter().map(|(n, r)| (*n, &self.data[r.clone()]))
    }
}

/// An event read from a file, or a JSON object or CSV row to be made one
/// where it is matched.
// A batch holds one kind or the other, moved in once: boxing events would
// cost an allocation per EVTX record to save space in JSON batches.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Event(Event),
    Pending(Pending),
    Row(super::csv::Row),
}

impl Item {
    /// The event, keeping the fields `wanted`; `None` (reported, one record
    /// lost) if it cannot be read.
    pub fn into_event(self, wanted: Option<&Wanted>, diags: &Diagnostics) -> Option<Event> {
        match self {
            Item::Event(e) => Some(e),
            Item::Pending(p) => p.parse(wanted, diags),
            Item::Row(r) => r.into_event(wanted, diags),
        }
    }
}

/// A batch of what an events file holds, for parsing and matching in
/// parallel.
pub enum Batch {
    /// JSONL lines, read block by block (parse each with
    /// [`super::event_from_line`]).
    Lines(LineBatch),
    /// A JSON text's objects, unparsed (one thread only finds where each
    /// starts and ends), CSV rows, cut but not yet made events, or EVTX
    /// records, parsed.
    Items(Vec<Item>),
}

/// Items gathered into batches of `size`.
pub(super) struct Batcher<'f> {
    size: usize,
    items: Vec<Item>,
    sink: &'f mut dyn FnMut(Batch),
}

impl<'f> Batcher<'f> {
    pub(super) fn new(size: usize, sink: &'f mut dyn FnMut(Batch)) -> Self {
        Batcher {
            size,
            items: Vec::with_capacity(size),
            sink,
        }
    }

    pub(super) fn add(&mut self, item: Item) {
        self.items.push(item);
        if self.items.len() >= self.size {
            self.flush();
        }
    }

    pub(super) fn flush(&mut self) {
        if !self.items.is_empty() {
            let items = std::mem::replace(&mut self.items, Vec::with_capacity(self.size));
            (self.sink)(Batch::Items(items));
        }
    }
}
