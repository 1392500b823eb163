//! A JSON text as events: one object, an array of objects, or a stream of
//! objects (JSONL is read faster line by line, in [`super::read`]).
//!
//! Values are parsed one at a time, and so are the items of a top-level
//! array, so that a syntax error costs the one value it is in, never the
//! events before it. Reading resumes at the next line that starts a value
//! where the bad one started: a `{` in the first column for a stream, a `{`
//! in the item's column for a pretty-printed array. A text whose bad value
//! has no such line after it (a one-line array) loses the rest, and says
//! so.
//!
//! The text may be UTF-8, with or without a byte-order mark, or UTF-16 with
//! one (what Windows PowerShell writes by default); invalid sequences are
//! replaced, with a warning.

use super::FileRead;
use super::event::{Event, EventMeta, Source};
use super::json::{EventSeed, Wanted};
pub(super) use super::parts::Base;
use super::parts::tell_invalid;
use crate::diag::{Diagnostic, Diagnostics};
use crate::text::{self, Encoding, UTF8_BOM, utf16};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::sync::Arc;

/// Whether a text is in UTF-16 (with a byte-order mark or without).
pub(super) fn is_utf16(head: &[u8]) -> bool {
    Encoding::of(head).0 != Encoding::Utf8
}

/// The first character of a text that is not white space, whatever its
/// encoding (to tell a JSON file from its first bytes).
pub(super) fn first_char(head: &[u8]) -> Option<char> {
    let (encoding, mark) = Encoding::of(head);
    let body = &head[mark..];
    let mut chars: Box<dyn Iterator<Item = char>> = match encoding.unit() {
        Some(unit) => Box::new(utf16(body, unit).map(|(c, _)| c)),
        None => Box::new(body.iter().map(|b| char::from(*b))),
    };
    chars.find(|c| !c.is_ascii_whitespace())
}

/// The text of a JSON or XML file as UTF-8, without a byte-order mark; what was
/// invalid is replaced and warned of.
pub(super) fn decode<'a>(bytes: &'a [u8], file: &str, diags: &Diagnostics) -> Cow<'a, str> {
    let decoded = text::decode(bytes);
    for invalid in decoded.invalid {
        tell_invalid(invalid, file, diags);
    }
    decoded.text
}

/// [`decode`] of bytes that are no longer needed: a text in UTF-8 keeps
/// their buffer rather than being copied.
pub(super) fn decode_owned(bytes: Vec<u8>, file: &str, diags: &Diagnostics) -> String {
    let (text, invalid) = text::decode_owned(bytes);
    for invalid in invalid {
        tell_invalid(invalid, file, diags);
    }
    text
}

/// A JSONL line without the byte-order mark a file (or a file appended to
/// another) may start with.
pub(super) fn without_bom(line: &[u8]) -> &[u8] {
    line.strip_prefix(UTF8_BOM).unwrap_or(line)
}

/// Where the objects of a JSON text go.
pub(super) enum Sink<'s> {
    /// Parsed into events as they are read, keeping the fields `wanted`.
    Events(Option<&'s Wanted>, &'s mut dyn FnMut(Event)),
    /// Handed out unparsed, to be parsed where they are matched.
    Pending(&'s mut dyn FnMut(Pending)),
}

/// Read the objects of a JSON text (already decoded: [`decode`]).
pub(super) fn read(
    text: &Arc<Lines>,
    file: &Arc<str>,
    diags: &Diagnostics,
    sink: Sink<'_>,
) -> FileRead {
    read_from(text, file, diags, sink, FileRead::default())
}

/// Read the objects of the last part of a text, counting on from `read`.
pub(super) fn read_from(
    text: &Arc<Lines>,
    file: &Arc<str>,
    diags: &Diagnostics,
    mut sink: Sink<'_>,
    read: FileRead,
) -> FileRead {
    let mut r = Reader::new(text, file, diags, read, true);
    let mut at = 0;
    loop {
        at = r.skip_ws(at);
        if at >= r.b.len() {
            break;
        }
        let next = if r.b[at] == b'[' {
            r.array(at, &mut sink)
        } else if let Some(list) = event_list(r.b, at) {
            r.source = list.source;
            let end = r.array(list.open, &mut sink);
            r.source = None;
            // After the list, the rest of the object that holds it.
            end.and_then(|end| closing(r.b, end, list.depth))
        } else {
            r.top_value(at, &mut sink)
        };
        match next {
            Some(n) => at = n,
            None => break,
        }
    }
    r.read
}

/// What the reading of a long text's top-level array carries from one part
/// of the text to the next (see [`read_part`]).
#[derive(Default)]
pub(super) struct Carry {
    pub(super) read: FileRead,
    array: Option<OpenArray>,
}

/// Where the reading of a part of a long text ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PartEnd {
    /// Its top-level array goes on past the part: what follows this offset
    /// is read again, with the next part after it.
    Cut(usize),
    /// The array closed here: what follows is read as a text of its own
    /// ([`read_from`]).
    Closed(usize),
    /// Nothing more is read (the array was not closed, and said so).
    Done,
}

/// Read one part of a long text that is one top-level array, cut between
/// lines: the first part opens with the array, the next ones go on with
/// it (`carry`). An item the part's end cuts is read with the next part;
/// so is a bad item whose reading resumes past the part.
pub(super) fn read_part(
    text: &Arc<Lines>,
    file: &Arc<str>,
    diags: &Diagnostics,
    mut sink: Sink<'_>,
    carry: &mut Carry,
    last: bool,
) -> PartEnd {
    let mut r = Reader::new(text, file, diags, std::mem::take(&mut carry.read), last);
    let (mut a, start) = match carry.array.take() {
        Some(a) => (a, 0),
        None => {
            let open = r.skip_ws(0);
            debug_assert_eq!(r.b.get(open), Some(&b'['));
            (OpenArray::new(r.position(open)), open + 1)
        }
    };
    let end = match r.items(&mut a, start, &mut sink) {
        ItemsEnd::Cut(at) => {
            carry.array = Some(a);
            PartEnd::Cut(at)
        }
        ItemsEnd::Closed(n) => {
            r.tell_not_objects(&a);
            PartEnd::Closed(n)
        }
        ItemsEnd::Stopped => {
            r.tell_not_objects(&a);
            PartEnd::Done
        }
    };
    carry.read = r.read;
    end
}

/// A top-level array being read: where its `[` is, how many items it has
/// shown, those that are not objects, and whether the last part ended
/// after an item (a `,` or `]` comes next) rather than before one.
struct OpenArray {
    at: (usize, usize),
    item: usize,
    not_objects: Vec<usize>,
    after_item: bool,
}

impl OpenArray {
    fn new(at: (usize, usize)) -> OpenArray {
        OpenArray {
            at,
            item: 0,
            not_objects: Vec::new(),
            after_item: false,
        }
    }
}

/// Where the items of an array ended.
enum ItemsEnd {
    /// At its `]`, with the offset after it.
    Closed(usize),
    /// Where nothing more could be read (said).
    Stopped,
    /// At the part's end, to go on from this offset with the next part.
    Cut(usize),
}

/// Where reading resumes after a bad value.
enum Resume {
    At(usize),
    /// Past the end of the part: the value is read again with the next.
    Later,
    Nowhere,
}

/// A list of events that a JSON object holds: the object is a wrapper,
/// its list's items the events, not the object as one event.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct EventList {
    /// Where the list's `[` is.
    pub(super) open: usize,
    /// How many objects deep the list lies (where the wrapper ends after it).
    depth: usize,
    /// What the wrapper says its events are.
    source: Option<Source>,
}

/// The list of events of the object that starts at `at`, when it is one of
/// the wrappers logs come in:
/// - an Elasticsearch search (or scroll) response, known by the first keys
///   it names: its `hits.hits`, each hit a document (read as its
///   `_source`);
/// - an object whose first key is `Records` (an AWS CloudTrail log file)
///   or `records` (Azure's diagnostic and activity logs).
///
/// The list is found by scanning, not parsing, so that a broken item costs
/// itself, not the whole.
pub(super) fn event_list(b: &[u8], at: usize) -> Option<EventList> {
    if b.get(at) != Some(&b'{') {
        return None;
    }
    let head = &b[at..b.len().min(at + 256)];
    let named = |key: &[u8]| memchr::memmem::find(head, key).is_some();
    let (open, depth, source) = if named(b"\"took\"") || named(b"\"_scroll_id\"") {
        let outer = member(b, at, b"hits").filter(|&h| b.get(h) == Some(&b'{'))?;
        (member(b, outer, b"hits")?, 2, None)
    } else {
        let first = &b[skip_spaces(b, at + 1)..];
        let quoted = |k: &[u8]| {
            first.first() == Some(&b'"')
                && first.get(1..=k.len()) == Some(k)
                && first.get(k.len() + 1) == Some(&b'"')
        };
        let key = [&b"Records"[..], b"records"]
            .into_iter()
            .find(|k| quoted(k))?;
        let source = match key {
            b"Records" => Source::CloudTrail,
            _ => Source::Azure,
        };
        (member(b, at, key)?, 1, Some(source))
    };
    (b.get(open) == Some(&b'[')).then_some(EventList {
        open,
        depth,
        source,
    })
}

/// Where the value of `key` starts in the object that opens at `open`:
/// only the object's own key is found, not one nested in its values.
fn member(b: &[u8], open: usize, key: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    for (at, mark) in shape(b, open) {
        match mark {
            Shape::Open => depth += 1,
            Shape::Close => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return None;
                }
            }
            Shape::Str(end) if depth == 1 && &b[at + 1..end - 1] == key => {
                let colon = skip_spaces(b, end);
                if b.get(colon) == Some(&b':') {
                    return Some(skip_spaces(b, colon + 1));
                }
            }
            Shape::Str(_) => {}
        }
    }
    None
}

/// Where the objects or arrays left open `depth` deep at `from` close: the
/// end of a search response after its hits (its `aggregations` skipped).
fn closing(b: &[u8], from: usize, mut depth: usize) -> Option<usize> {
    for (at, mark) in shape(b, from) {
        match mark {
            Shape::Open => depth += 1,
            Shape::Close => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(at + 1);
                }
            }
            Shape::Str(_) => {}
        }
    }
    None
}

/// Where each object of a one-line array of objects (`[{…}, {…}]`, a JSONL
/// line holding a list of events) starts and ends, found by scanning; the
/// objects are parsed, and their errors found, where each is read. `None`
/// for a line that is no such array (it is read, and reported, whole).
pub(super) fn array_objects(line: &[u8]) -> Option<Vec<std::ops::Range<usize>>> {
    let open = skip_spaces(line, 0);
    if line.get(open) != Some(&b'[') {
        return None;
    }
    let (mut items, mut depth, mut start) = (Vec::new(), 0usize, None);
    for (at, mark) in shape(line, open) {
        match mark {
            Shape::Open => {
                depth += 1;
                if depth == 2 {
                    // An item that is a list: no list of events.
                    (line[at] == b'{').then_some(())?;
                    start = Some(at);
                }
            }
            Shape::Close => {
                depth = depth.checked_sub(1)?;
                match depth {
                    0 => return only_objects(line, open, at, &items).then_some(items),
                    1 => items.push(start.take()?..at + 1),
                    _ => {}
                }
            }
            // A string or other value among the items: no list of events.
            Shape::Str(_) if depth == 1 => return None,
            Shape::Str(_) => {}
        }
    }
    None
}

/// Whether the array from `open` to `close` holds `items` and nothing but
/// commas and spaces between them (no number or literal among them), with
/// nothing after it.
fn only_objects(line: &[u8], open: usize, close: usize, items: &[std::ops::Range<usize>]) -> bool {
    let between = |g: &[u8]| g.iter().all(|b| b.is_ascii_whitespace() || *b == b',');
    let mut from = open + 1;
    for r in items {
        if !between(&line[from..r.start]) {
            return false;
        }
        from = r.end;
    }
    between(&line[from..close]) && line[close + 1..].trim_ascii().is_empty()
}

/// What gives a JSON text its shape, found by scanning, not parsing.
enum Shape {
    /// `{` or `[`.
    Open,
    /// `}` or `]`.
    Close,
    /// A string, with the offset after its closing quote.
    Str(usize),
}

/// The shape of a JSON text from `from`, with their offsets; strings are
/// skipped whole, so nothing in them counts. It ends at a string left open.
fn shape(b: &[u8], from: usize) -> impl Iterator<Item = (usize, Shape)> + '_ {
    let mut i = from;
    std::iter::from_fn(move || {
        while let Some(&c) = b.get(i) {
            let at = i;
            i += 1;
            match c {
                b'"' => {
                    i = string_end(b, at)?;
                    return Some((at, Shape::Str(i)));
                }
                b'{' | b'[' => return Some((at, Shape::Open)),
                b'}' | b']' => return Some((at, Shape::Close)),
                _ => {}
            }
        }
        None
    })
}

/// The offset after the string that opens at `open`.
fn string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        let q = i + memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b[q] == b'"' {
            return Some(q + 1);
        }
        i = q + 2;
    }
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// A text and, once a diagnostic needs a position, where its lines are:
/// reading costs nothing for positions no diagnostic asks for. The line and
/// line start of every 64 KiB are kept, so that a position is counted from
/// at most that far back, however long the lines (a one-line array of a
/// million bad items stays linear).
pub(super) struct Lines {
    text: String,
    marks: std::sync::OnceLock<Vec<Mark>>,
    base: Base,
}

/// At a multiple of [`Lines::STEP`]: its line (1-based) and where that line
/// starts.
struct Mark {
    line: usize,
    line_start: usize,
}

impl Lines {
    const STEP: usize = 1 << 16;

    pub(super) fn new(text: String) -> Arc<Lines> {
        Lines::after(text, Base::default())
    }

    /// A part of a longer text, which starts at `base`.
    pub(super) fn after(text: String, base: Base) -> Arc<Lines> {
        Arc::new(Lines {
            text,
            marks: std::sync::OnceLock::new(),
            base,
        })
    }

    pub(super) fn text(&self) -> &str {
        &self.text
    }

    fn b(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// The 1-based line and column (in bytes) of an offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let marks = self.marks.get_or_init(|| {
            let (mut line, mut line_start) = (1, 0);
            let chunks = self.b().chunks(Lines::STEP).enumerate();
            let mut marks: Vec<Mark> = chunks
                .map(|(k, chunk)| {
                    let mark = Mark { line, line_start };
                    line += memchr::memchr_iter(b'\n', chunk).count();
                    if let Some(p) = memchr::memrchr(b'\n', chunk) {
                        line_start = k * Lines::STEP + p + 1;
                    }
                    mark
                })
                .collect();
            // The end of the text (an offset at its very end).
            marks.push(Mark { line, line_start });
            marks
        });
        let k = offset / Lines::STEP;
        let from = k * Lines::STEP;
        let span = &self.b()[from..offset];
        let line = marks[k].line + memchr::memchr_iter(b'\n', span).count();
        let start = memchr::memrchr(b'\n', span).map_or(marks[k].line_start, |p| from + p + 1);
        // The part's first line began before it.
        let before = if line == 1 { self.base.col } else { 0 };
        (self.base.line + line, before + offset - start + 1)
    }
}

/// An object of a JSON text, not parsed yet: parsing it where it is
/// matched spreads the parsing of one file over every core.
pub struct Pending {
    file: Arc<str>,
    record: u64,
    /// What its list says it is (a CloudTrail log's record).
    source: Option<Source>,
    /// Where it starts in `lines`, for diagnostics.
    offset: usize,
    /// Its text in `lines`.
    raw: std::ops::Range<usize>,
    lines: Arc<Lines>,
}

impl Pending {
    /// The length of the text (or part of it) the object lies in.
    #[cfg(test)]
    pub(super) fn part_len(&self) -> usize {
        self.lines.text.len()
    }

    /// The object's text.
    fn raw(&self) -> &str {
        &self.lines.text[self.raw.clone()]
    }

    /// The event, keeping the fields `wanted`; `None` (reported, one record
    /// lost) if it cannot be read.
    pub fn parse(&self, wanted: Option<&Wanted>, diags: &Diagnostics) -> Option<Event> {
        let seed = || EventSeed {
            meta: EventMeta {
                file: self.file.clone(),
                record: self.record,
                source: self.source.clone(),
                ..Default::default()
            },
            wanted,
            size: self.raw.len(),
            text: true,
        };
        let at = |d: Diagnostic| {
            let (line, col) = self.lines.position(self.offset);
            diags.push(d.in_file(&*self.file).at(Some(line), Some(col)));
        };
        match super::mend::event_from_text(self.raw(), seed) {
            // Only objects are handed out: an event, or an error.
            Ok(m) => {
                let (event, warnings) = super::journald::logged(m, wanted);
                warnings
                    .into_iter()
                    .for_each(|w| at(Diagnostic::warning("events", w)));
                event
            }
            Err(e) => {
                at(Diagnostic::error(
                    "events",
                    format!("unreadable JSON object, 1 record lost: {}", what(&e.error)),
                ));
                None
            }
        }
    }
}

/// The account of one JSON text being read.
struct Reader<'t, 'r> {
    b: &'t [u8],
    lines: &'t Arc<Lines>,
    file: &'r Arc<str>,
    diags: &'r Diagnostics,
    read: FileRead,
    /// What the list being read says its events are (a CloudTrail log's).
    source: Option<Source>,
    /// Whether the text ends where its bytes do (not a part of a longer
    /// one, see [`read_part`]).
    last: bool,
}

impl<'t, 'r> Reader<'t, 'r> {
    fn new(
        lines: &'t Arc<Lines>,
        file: &'r Arc<str>,
        diags: &'r Diagnostics,
        read: FileRead,
        last: bool,
    ) -> Self {
        Reader {
            b: lines.b(),
            lines,
            file,
            diags,
            read,
            source: None,
            last,
        }
    }

    fn skip_ws(&self, i: usize) -> usize {
        skip_spaces(self.b, i)
    }

    fn position(&self, offset: usize) -> (usize, usize) {
        self.lines.position(offset)
    }

    /// The offset of the next line after the one holding `at` whose first
    /// byte other than blanks is `{` in `column`.
    fn next_start(&self, mut at: usize, column: usize) -> Option<usize> {
        loop {
            at += memchr::memchr(b'\n', &self.b[at..])? + 1;
            let blanks = self.b[at..]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'));
            let first = at + blanks.count();
            if self.b.get(first) == Some(&b'{') && first - at + 1 == column {
                return Some(first);
            }
        }
    }

    fn error(&self, message: String, (line, col): (usize, usize)) {
        let d = Diagnostic::error("events", message).in_file(&**self.file);
        self.diags.push(d.at(Some(line), Some(col)));
    }

    /// One value parsed from `at`, and where it ends.
    fn parse(&self, at: usize) -> Result<(&'t RawValue, usize), serde_json::Error> {
        // From the text, whose UTF-8 is known good: not checked again
        // (values start after ASCII, at a character's first byte).
        let mut s = match self.lines.text.get(at..) {
            Some(t) => serde_json::Deserializer::from_str(t).into_iter::<&RawValue>(),
            None => return Err(serde::de::Error::custom("value inside a character")),
        };
        match s.next() {
            Some(Ok(raw)) => Ok((raw, at + s.byte_offset())),
            Some(Err(e)) => Err(e),
            // Callers skip white space first: something is always there.
            None => Err(serde::de::Error::custom("no value")),
        }
    }

    /// An event from one parsed object; `false` (one record lost) for any
    /// other value.
    fn event(&mut self, raw: &'t RawValue, at: usize, sink: &mut Sink<'_>) -> bool {
        if !raw.get().starts_with('{') {
            self.read.lost += 1;
            return false;
        }
        // Where the object lies in the text (the parse started at `at`).
        let start = raw.get().as_ptr() as usize - self.b.as_ptr() as usize;
        let pending = Pending {
            file: self.file.clone(),
            record: self.read.events + self.read.lost + 1,
            source: self.source.clone(),
            offset: at,
            raw: start..start + raw.get().len(),
            lines: Arc::clone(self.lines),
        };
        match sink {
            Sink::Pending(f) => f(pending),
            Sink::Events(wanted, f) => match pending.parse(*wanted, self.diags) {
                Some(e) => f(e),
                None => {
                    self.read.lost += 1;
                    return true;
                }
            },
        }
        self.read.events += 1;
        true
    }

    /// One top-level value other than an array: an event.
    fn top_value(&mut self, at: usize, sink: &mut Sink<'_>) -> Option<usize> {
        match self.parse(at) {
            Ok((raw, end)) => {
                if !self.event(raw, at, sink) {
                    let msg = "JSON value is not an object; 1 record lost".to_string();
                    let at = self.position(at);
                    self.error(msg, at);
                }
                Some(end)
            }
            // Only the last part of a text holds values outside its array.
            Err(e) => match self.lost(&e, at, 1) {
                Resume::At(n) => Some(n),
                Resume::Later | Resume::Nowhere => None,
            },
        }
    }

    /// A top-level array, item by item; where reading goes on after it.
    fn array(&mut self, open: usize, sink: &mut Sink<'_>) -> Option<usize> {
        let mut a = OpenArray::new(self.position(open));
        let end = self.items(&mut a, open + 1, sink);
        self.tell_not_objects(&a);
        match end {
            ItemsEnd::Closed(n) => Some(n),
            // Only the last part of a text holds arrays but its first.
            ItemsEnd::Stopped | ItemsEnd::Cut(_) => None,
        }
    }

    /// Says which items of an array were not objects.
    fn tell_not_objects(&self, a: &OpenArray) {
        let msg = match a.not_objects.as_slice() {
            [] => return,
            [one] => format!("array item {one} (counting from 1) is not an object; 1 record lost"),
            many => format!(
                "array items {} (counting from 1) are not objects; {} records lost",
                crate::diag::first_of(many, 12),
                many.len()
            ),
        };
        self.error(msg, a.at);
    }

    /// The items of an array from `i`, an item or its `]` next (or, if
    /// the last part ended after an item, a `,`).
    fn items(&mut self, a: &mut OpenArray, mut i: usize, sink: &mut Sink<'_>) -> ItemsEnd {
        let mut item_next = !std::mem::take(&mut a.after_item);
        loop {
            i = self.skip_ws(i);
            let Some(&next) = self.b.get(i) else {
                return self.items_cut(a, i, !item_next);
            };
            if next == b']' {
                return ItemsEnd::Closed(i + 1);
            }
            if !item_next {
                match next {
                    b',' => i += 1,
                    // The next item is read where it is: a missing comma
                    // loses nothing, and anything else fails as an item.
                    _ => {
                        let at = self.position(i);
                        self.error("expected `,` or `]` after an array item".into(), at);
                    }
                }
                item_next = true;
                continue;
            }
            match self.parse(i) {
                Ok((raw, end)) => {
                    a.item += 1;
                    if !self.event(raw, i, sink) {
                        a.not_objects.push(a.item);
                    }
                    i = end;
                    item_next = false;
                }
                Err(e) if e.is_eof() && !self.last => return ItemsEnd::Cut(i),
                Err(e) => {
                    // An item that does not start its line (a one-line
                    // array) leaves no line to resume at.
                    let column = self.item_column(i).unwrap_or(usize::MAX);
                    match self.lost(&e, i, column) {
                        Resume::At(n) => i = n,
                        Resume::Later => return ItemsEnd::Cut(i),
                        Resume::Nowhere => return ItemsEnd::Stopped,
                    }
                    a.item += 1;
                }
            }
        }
    }

    /// The end of the bytes inside an array: of a part, the array goes on
    /// with the next; of the text, it is not closed.
    fn items_cut(&mut self, a: &mut OpenArray, at: usize, after_item: bool) -> ItemsEnd {
        if !self.last {
            a.after_item = after_item;
            return ItemsEnd::Cut(at);
        }
        self.error("array not closed at the end of the text".into(), a.at);
        ItemsEnd::Stopped
    }

    /// The column of an item that starts its line (a pretty-printed
    /// array), where the next item can be looked for after an error.
    fn item_column(&self, at: usize) -> Option<usize> {
        let (_, column) = self.position(at);
        // The line may have begun before the part.
        let start = (at + 1).checked_sub(column);
        let before = &self.b[start.unwrap_or(0)..at];
        let blanks = before.iter().all(|b| matches!(b, b' ' | b'\t'));
        (blanks && (start.is_some() || self.lines.base.blank)).then_some(column)
    }

    /// Reports a value lost to a syntax error (in a value that started at
    /// `start`), and finds where reading resumes: the next line that starts
    /// with `{` in `column`.
    fn lost(&mut self, err: &serde_json::Error, start: usize, column: usize) -> Resume {
        let (line, col, line_start) = self.error_position(err, start);
        let next = self.next_start(line_start, column);
        if next.is_none() && !self.last {
            return Resume::Later;
        }
        self.read.lost += 1;
        let skipped = match next {
            Some(n) => format!("skipped to line {}", self.position(n).0),
            None => "rest of file skipped".to_string(),
        };
        let msg = format!("invalid JSON, 1 record lost ({skipped}): {}", what(err));
        self.error(msg, (line, col));
        next.map_or(Resume::Nowhere, Resume::At)
    }

    /// The line and column of an error found parsing from `start`, and the
    /// offset where its line starts.
    fn error_position(&self, err: &serde_json::Error, start: usize) -> (usize, usize, usize) {
        let (line, col) = self.position(start);
        // The line may have begun before the part.
        let mut line_start = (start + 1).saturating_sub(col);
        for _ in 1..err.line().max(1) {
            match memchr::memchr(b'\n', &self.b[line_start..]) {
                Some(p) => line_start += p + 1,
                None => break,
            }
        }
        match err.line() {
            0 | 1 => (line, col + err.column().saturating_sub(1), line_start),
            l => (line + l - 1, err.column(), line_start),
        }
    }
}

/// A JSON error without the position serde_json appends (the diagnostic
/// gives the position in the file).
pub(super) fn what(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `a` of each event read, and the diagnostics.
    fn read_all(bytes: &[u8]) -> (Vec<String>, FileRead, Vec<String>) {
        let diags = Diagnostics::new();
        let file: Arc<str> = Arc::from("t.json");
        let text = decode_owned(bytes.to_vec(), &file, &diags);
        let mut got = Vec::new();
        let mut sink = |e: Event| got.push(e.text("a").unwrap_or("-").to_string());
        let lines = Lines::new(text);
        let read = read(&lines, &file, &diags, Sink::Events(None, &mut sink));
        let ds = diags.sorted().iter().map(|d| d.to_string()).collect();
        (got, read, ds)
    }

    #[test]
    fn a_one_line_array_of_objects_is_cut_into_its_objects() {
        let items = |line: &str| {
            array_objects(line.as_bytes()).map(|rs| {
                (rs.into_iter())
                    .map(|r| line[r].to_string())
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            items(" [{\"a\": \"]}\"}, {\"b\": [1, {\"c\": 2}]}] \n"),
            Some(vec![
                "{\"a\": \"]}\"}".to_string(),
                "{\"b\": [1, {\"c\": 2}]}".to_string()
            ])
        );
        assert_eq!(items("[]"), Some(vec![]));
        // Not a list of objects alone: read, and reported, whole.
        for line in [
            "[1, 2]",
            "[{\"a\": 1}, 3]",
            "[{\"a\": 1}, \"x\"]",
            "[{\"a\": 1}] x",
            "[{\"a\": 1}, {\"b\":",
            "[[{\"a\": 1}]]",
            "{\"a\": 1}",
        ] {
            assert_eq!(items(line), None, "{line}");
        }
    }

    #[test]
    fn a_bad_value_mid_line_is_placed_in_the_whole_text() {
        let (got, read, ds) = read_all(b"{\"a\": 1}\n{\"a\": 2} {\"a\": ,}\n{\"a\": 4}\n");
        assert_eq!(got, ["1", "2", "4"]);
        assert_eq!((read.events, read.lost), (3, 1));
        assert_eq!(
            ds,
            [
                "error[events]: t.json:2:16: invalid JSON, 1 record lost (skipped to line 3): expected value"
            ]
        );
    }

    #[test]
    fn positions_are_those_counted_from_the_start_at_any_offset() {
        // Long and short lines across many 64 KiB steps, one line longer
        // than a step, and offsets at the very end and on newlines.
        let mut text = String::new();
        for i in 0..40_000 {
            text.push_str(&"x".repeat(i % 13));
            text.push('\n');
        }
        text.push_str(&"y".repeat(3 * Lines::STEP + 17));
        text.push('\n');
        text.push_str("tail");
        let lines = Lines::new(text.clone());
        let naive = |offset: usize| {
            let before = &text.as_bytes()[..offset];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let start = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1);
            (line, offset - start + 1)
        };
        let len = text.len();
        let steps = (0..=len / Lines::STEP).map(|k| k * Lines::STEP);
        let near = steps.flat_map(|s| [s.saturating_sub(1), s, s + 1]);
        for offset in near
            .chain((0..len).step_by(7919))
            .chain([len])
            .filter(|o| *o <= len)
        {
            assert_eq!(lines.position(offset), naive(offset), "offset {offset}");
        }
    }

    #[test]
    fn a_value_that_is_not_an_object_is_placed_and_counted() {
        let (got, read, ds) = read_all(b"[{\"a\": 1}]\n  \"x\" {\"a\": 2}");
        assert_eq!(got, ["1", "2"]);
        assert_eq!((read.events, read.lost), (2, 1));
        assert_eq!(
            ds,
            ["error[events]: t.json:2:3: JSON value is not an object; 1 record lost"]
        );
    }

    #[test]
    fn one_item_that_is_not_an_object_is_named_alone() {
        let (got, read, ds) = read_all(b"[{\"a\": 1}, [], {\"a\": 2}]");
        assert_eq!(got, ["1", "2"]);
        assert_eq!((read.events, read.lost), (2, 1));
        assert_eq!(
            ds,
            [
                "error[events]: t.json:1:1: array item 2 (counting from 1) is not an object; 1 record lost"
            ]
        );
    }

    #[test]
    fn many_items_that_are_not_objects_are_counted_and_the_first_named() {
        let text = format!("[{}{{\"a\": 1}}]", "0,".repeat(100_000));
        let (got, read, ds) = read_all(text.as_bytes());
        assert_eq!(got, ["1"]);
        assert_eq!((read.events, read.lost), (1, 100_000));
        assert_eq!(
            ds,
            [
                "error[events]: t.json:1:1: array items 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, \
              and 99988 more (counting from 1) are not objects; 100000 records lost"
            ]
        );
    }

    #[test]
    fn each_bad_item_of_a_pretty_array_costs_itself_alone() {
        let items: Vec<String> = (1..=6)
            .map(|i| match i {
                2 | 5 => format!("  {{\n    \"a\": {i},,\n    \"n\": {{\"x\": 1}}\n  }}"),
                _ => format!("  {{\n    \"a\": {i}\n  }}"),
            })
            .collect();
        let text = format!("[\n{}\n]\n{{\"a\": 7}}\n", items.join(",\n"));
        let (got, read, ds) = read_all(text.as_bytes());
        assert_eq!(got, ["1", "3", "4", "6", "7"]);
        assert_eq!((read.events, read.lost), (5, 2));
        assert_eq!(
            ds,
            [
                "error[events]: t.json:6:12: invalid JSON, 1 record lost (skipped to line 9): key must be a string",
                "error[events]: t.json:16:12: invalid JSON, 1 record lost (skipped to line 19): key must be a string",
            ]
        );
    }

    #[test]
    fn utf16_in_both_byte_orders_and_bad_units_are_read_and_reported() {
        let json = "[{\"a\": \"é\"}, {\"a\": \"x\"}]";
        let cases = [false, true]
            .into_iter()
            .flat_map(|big| [(big, true), (big, false)]);
        for (big, marked) in cases {
            let mark = match (marked, big) {
                (false, _) => vec![],
                (true, true) => vec![0xFE, 0xFF],
                (true, false) => vec![0xFF, 0xFE],
            };
            let mut bytes = mark.clone();
            for u in json.encode_utf16() {
                bytes.extend(if big {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                });
            }
            assert_eq!(first_char(&bytes), Some('['));
            let (got, _, ds) = read_all(&bytes);
            assert_eq!(got, ["é", "x"]);
            assert!(ds.is_empty(), "{ds:?}");
            // A lone surrogate inside the second value.
            let at = mark.len()
                + 2 * json
                    .encode_utf16()
                    .position(|u| u == u16::from(b'x'))
                    .unwrap();
            let lone = if big { [0xD8, 0x00] } else { [0x00, 0xD8] };
            bytes.splice(at..at + 2, lone);
            let (got, _, ds) = read_all(&bytes);
            assert_eq!(got, ["é", "\u{FFFD}"]);
            bytes.push(b' ');
            let (_, _, odd) = read_all(&bytes);
            assert!(
                odd.contains(
                    &"warning[events]: t.json: UTF-16 text ends with half a character; ignored"
                        .to_string()
                )
            );
            assert_eq!(
                ds,
                [format!(
                    "warning[events]: t.json: invalid UTF-16 from byte offset {at} replaced with U+FFFD"
                )]
            );
        }
    }

    #[test]
    fn bad_utf8_is_placed_after_the_byte_order_mark() {
        let (got, _, ds) = read_all(b"\xEF\xBB\xBF{\"a\": \"b\xFFc\"}");
        assert_eq!(got, ["b\u{FFFD}c"]);
        assert_eq!(
            ds,
            ["warning[events]: t.json: invalid UTF-8 from byte offset 11 replaced with U+FFFD"]
        );
    }

    #[test]
    fn a_search_response_is_read_as_its_hits_and_what_follows_them_is_read_too() {
        let hit = |a: u32| format!(r#"{{"_index": "i", "_id": "{a}", "_source": {{"a": {a}}}}}"#);
        let response = |start: &str, hits: String| {
            format!(
                r#"{{{start} "timed_out": false, "hits": {{"total": {{"value": 2}}, "note": "\"hits\": [", "hits": [{hits}]}}, "aggregations": {{"x": {{"hits": [1]}}}}}}"#
            )
        };
        let two = format!("{}, {}", hit(1), hit(2));
        let text = format!(
            "{}\n{}\n{{\"a\": 5}}\n",
            response(r#""took": 3,"#, two.clone()),
            response(r#""_scroll_id": "c2Nyb2xs", "took": 3,"#, hit(3)),
        );
        let (got, read, ds) = read_all(text.as_bytes());
        assert_eq!(got, ["1", "2", "3", "5"], "{ds:?}");
        assert_eq!((read.events, read.lost), (4, 0));
        // An object that only looks like one is an event as it is.
        let (got, _, _) = read_all(br#"{"took": 3, "a": 7, "hits": {"hits": "none"}}"#);
        assert_eq!(got, ["7"]);
        let (got, _, _) = read_all(br#"{"a": 8, "hits": {"hits": [{"a": 1}]}}"#);
        assert_eq!(got, ["8"], "no search response's first keys");
    }

    #[test]
    fn a_cloudtrail_or_azure_log_is_read_as_its_records() {
        // As CloudTrail writes its files (one line), pretty-printed, and as
        // Azure writes its logs; a bad record costs itself.
        let text = concat!(
            r#"{"Records":[{"a":1},{"a":2}]}"#,
            "\n",
            "{\n  \"records\": [\n    {\"a\": 3},\n    {\"a\": 4,},\n    {\"a\": 5}\n  ]\n}\n",
            r#"{"a": 6}"#,
        );
        let (got, counts, ds) = read_all(text.as_bytes());
        assert_eq!(got, ["1", "2", "3", "5", "6"], "{ds:?}");
        assert_eq!((counts.events, counts.lost), (5, 1));
        // Each record says whose log it is; an object after the list does not.
        let (diags, file) = (Diagnostics::new(), Arc::from("t.json"));
        let mut sources = Vec::new();
        let mut sink = |e: Event| sources.push(e.meta.source);
        read(
            &Lines::new(text.to_string()),
            &file,
            &diags,
            Sink::Events(None, &mut sink),
        );
        let (trail, azure) = (Some(Source::CloudTrail), Some(Source::Azure));
        assert_eq!(sources, [trail.clone(), trail, azure.clone(), azure, None]);
        // An object whose first key is not the list is an event as it is.
        let (got, _, _) = read_all(br#"{"a": 7, "Records": [{"a": 1}]}"#);
        assert_eq!(got, ["7"]);
        let (got, _, _) = read_all(br#"{"Records": "none", "a": 8}"#);
        assert_eq!(got, ["8"]);
        let (got, _, _) = read_all(br#"{"RecordsX": [{"a": 1}], "a": 9}"#);
        assert_eq!(got, ["9"]);
    }
}
