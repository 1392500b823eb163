//! Event files: EVTX, Windows events as XML, JSON (one object, an
//! array, concatenated objects, JSONL), and W3C, Zeek, audit and syslog
//! logs, told apart by content, and CSV, known by its name. Every record that can be read is read; every record
//! that cannot is counted and reported with its file and line (JSON, CSV)
//! or chunk and offset (EVTX). A JSONL line holding a list of events
//! (`[{…}, {…}]`) gives each of them, under the line's number.

use super::FileRead;
use super::batch::{Batch, Batcher, Item, LineBatch};
use super::event::{Event, EventMeta};
use super::json::{EventSeed, Wanted};
use super::json_text;
use super::parts;
use super::w3c::Dialect;
use super::{json_parts, xml_parts};
use crate::diag::{Diagnostic, Diagnostics};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The kind of an events file, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    Evtx,
    /// JSON: one object, an array of objects, or a stream of objects
    /// (which covers JSONL).
    Json,
    /// Windows events as XML (`wevtutil qe`, Event Viewer's "Save as XML").
    Xml,
    /// A header row, then an event per row (EvtxECmd, SIEM exports); known
    /// by the file's name.
    Csv,
    /// The W3C extended log file format (IIS, web proxies).
    W3c,
    /// Zeek's tab-separated logs.
    Zeek,
    /// The Linux audit daemon's log.
    Auditd,
    /// A Linux syslog file.
    Syslog,
    /// A web server's access log in the common or combined format
    /// (Apache's, nginx's).
    AccessLog,
}

/// Sniff the format of a file from its content.
pub fn sniff(path: &Path) -> std::io::Result<Option<EventFormat>> {
    Ok(format_of_head(&head_of(path)?))
}

/// A file's first bytes: enough to tell a tar archive (its mark is at 257).
fn head_of(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(512);
    std::fs::File::open(path)?
        .take(512)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// How a gzip file starts: such a file (`.jsonl.gz`, `.evtx.gz`, however
/// named) is read through its decompression, as a stream.
const GZIP: [u8; 2] = [0x1f, 0x8b];

/// The format told by the first bytes of a text.
fn format_of_head(head: &[u8]) -> Option<EventFormat> {
    if head.starts_with(b"ElfFile\0") {
        return Some(EventFormat::Evtx);
    }
    if super::auditd::is_audit_log(head) {
        return Some(EventFormat::Auditd);
    }
    if super::access_log::is_access_log(head) {
        return Some(EventFormat::AccessLog);
    }
    if super::syslog::is_syslog(head) {
        return Some(EventFormat::Syslog);
    }
    match super::w3c::dialect_of(head) {
        Some(Dialect::W3c) => return Some(EventFormat::W3c),
        Some(Dialect::Zeek) => return Some(EventFormat::Zeek),
        None => {}
    }
    match json_text::first_char(head) {
        Some('{' | '[') => Some(EventFormat::Json),
        Some('<') => Some(EventFormat::Xml),
        _ => None,
    }
}

/// Whether events are read from a stream, once, front to back: standard
/// input (`-`), a named pipe, a device. Such an input cannot be opened
/// twice nor sought in.
pub fn is_stream(path: &Path) -> bool {
    path == Path::new("-") || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Every member of a gzip stream, as `zcat` reads a file of several
/// appended; its errors say they are the decompression's.
struct Gunzip<R: Read>(flate2::read::MultiGzDecoder<R>);

impl<R: Read> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("gzip: {e}")))
    }
}

/// A reader whose next read gives an error met earlier, then the end.
struct Failed(Option<std::io::Error>);

impl Read for Failed {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

/// A stream's first bytes, read to tell its format, and the rest.
struct Stream {
    head: Vec<u8>,
    rest: Box<dyn Read + Send>,
}

impl Stream {
    /// Lines looked at to tell JSONL (see [`is_jsonl`]), and how much is
    /// read ahead to find them.
    const LINES: usize = 16;
    const AHEAD: u64 = 1 << 20;

    fn open(path: &Path) -> std::io::Result<Stream> {
        // Read on a thread of its own (see `ahead`): standard input is
        // locked for each read, not held (its lock stays on its thread).
        let mut rest: Box<dyn Read + Send> = if path == Path::new("-") {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path)?)
        };
        let mut head = Vec::new();
        (&mut rest).take(Stream::AHEAD).read_to_end(&mut head)?;
        if head.starts_with(&GZIP) {
            let all = std::io::Cursor::new(head).chain(rest);
            rest = Box::new(Gunzip(flate2::read::MultiGzDecoder::new(all)));
            head = Vec::new();
            // What decompressed before an error is read; the error comes
            // after it, where the reader says how far it got.
            match (&mut rest).take(Stream::AHEAD).read_to_end(&mut head) {
                Err(e) if head.is_empty() => return Err(e),
                Err(e) => rest = Box::new(Failed(Some(e))),
                Ok(_) => {}
            }
        }
        Ok(Stream { head, rest })
    }

    /// Everything, read whole; what was read before an error (reported)
    /// is kept, to be read as far as it goes, as a cut file is.
    fn into_bytes(self, cannot: impl FnOnce(std::io::Error)) -> Vec<u8> {
        let (all, error) = read_whole(self.head, self.rest, super::MAX_WHOLE);
        if let Some(e) = error {
            cannot(e);
        }
        all
    }
}

/// `head` and what follows it from `rest`, up to `limit` bytes in all, and
/// the error that stopped the reading (a read error, or the limit).
fn read_whole(
    mut all: Vec<u8>,
    mut rest: Box<dyn Read + Send>,
    limit: u64,
) -> (Vec<u8>, Option<std::io::Error>) {
    let room = limit.saturating_sub(all.len() as u64);
    if let Err(e) = (&mut rest).take(room).read_to_end(&mut all) {
        return (all, Some(e));
    }
    let more = rest.read(&mut [0u8]).is_ok_and(|n| n > 0);
    let error = more.then(|| {
        std::io::Error::other(format!(
            "more than {} MiB to hold whole (a JSON text or an EVTX file read from a pipe or \
             through gzip): the rest is not read",
            limit >> 20
        ))
    });
    (all, error)
}

/// Every file under the given paths (folders walked, sorted).
pub fn event_files(paths: &[PathBuf], diags: &Diagnostics) -> Vec<PathBuf> {
    // Sidecar files of test cases (info.yml, README) are not events.
    let events = |p: &Path| {
        let name = p.file_name().unwrap_or_default().to_string_lossy();
        !(name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".md"))
    };
    let walk = crate::walk::Walk {
        category: "events",
        max_depth: None,
        keep: &events,
        streams: true,
    };
    walk.files(paths, diags)
}

/// Whether a JSON file is JSONL: in UTF-8, it starts with an object (not an array,
/// even one written an object per line) that is not written over several
/// lines, and one of its first lines is a whole object starting in the
/// first column, so that lines can be read independently (and in
/// parallel), and a bad line costs only itself. A bad first line leaves a
/// file JSONL; a document written over lines (`{"events": [` and an event
/// a line) is a JSON text, however many of its lines are objects.
pub fn is_jsonl(path: &Path) -> bool {
    std::fs::File::open(path).is_ok_and(|f| jsonl_in(BufReader::new(f)))
}

/// Whether a text read from `r` is JSONL (see [`is_jsonl`]).
fn jsonl_in(mut r: impl BufRead) -> bool {
    // UTF-16 has no lines to read one by one as UTF-8: a JSON text.
    if r.fill_buf().is_ok_and(json_text::is_utf16) {
        return false;
    }
    // The lines up to the first whole object, kept (up to about a block,
    // the first line whole) to tell where the first value ends.
    let (mut head, mut line) = (Vec::new(), Vec::new());
    let mut started = false;
    for _ in 0..Stream::LINES {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        if head.len() < Stream::AHEAD as usize {
            head.extend_from_slice(&line);
        }
        let t = json_text::without_bom(&line).trim_ascii_end();
        if !started && t.trim_ascii_start().first() == Some(&b'[') {
            return false;
        }
        started |= !t.is_empty();
        if t.first() == Some(&b'{')
            && t.last() == Some(&b'}')
            && serde_json::from_slice::<serde::de::IgnoredAny>(t).is_ok()
        {
            // A search response or a CloudTrail log on one line is read as
            // its list of events, as a JSON text is.
            return json_text::event_list(t, 0).is_none()
                && !spans_lines(json_text::without_bom(&head));
        }
    }
    false
}

/// Whether the first JSON value of `head` is written over several lines, or
/// runs past its end: the start of a JSON text. A value that does not parse
/// is no such start (a bad first line of JSONL).
fn spans_lines(head: &[u8]) -> bool {
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return false;
    };
    let mut values =
        serde_json::Deserializer::from_slice(&head[start..]).into_iter::<serde::de::IgnoredAny>();
    match values.next() {
        Some(Ok(_)) => head[start..start + values.byte_offset()].contains(&b'\n'),
        Some(Err(e)) => e.is_eof(),
        None => false,
    }
}

/// Read a JSONL file in batches of lines (blank lines skipped), for
/// parsing in parallel with [`event_from_line`]. The file is read in large
/// blocks and split with a vectorised search; a line cut by a block's end
/// moves to the next batch.
pub fn read_lines(path: &Path, batch: usize, diags: &Diagnostics, sink: &mut dyn FnMut(LineBatch)) {
    read_lines_by(path, batch, Reading::DEFAULT, diags, sink)
}

/// How lines are read: in blocks of `block` bytes, and no line longer than
/// `max_line` (no event is that large: a longer one would only fill the
/// memory, from a file or a stream without end).
#[derive(Debug, Clone, Copy)]
struct Reading {
    block: u64,
    max_line: usize,
}

impl Reading {
    const DEFAULT: Reading = Reading {
        block: 1 << 18,
        max_line: super::MAX_EVENT,
    };
}

fn read_lines_by(
    path: &Path,
    batch: usize,
    how: Reading,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(LineBatch),
) {
    match std::fs::File::open(path) {
        Ok(mut f) => lines_from(path, &mut f, batch, how, diags, sink),
        Err(e) => cannot_read(diags, path)(e),
    }
}

/// The lines read from `f` (a file's or a stream's), in batches.
fn lines_from(
    path: &Path,
    mut f: &mut dyn Read,
    batch: usize,
    how: Reading,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(LineBatch),
) {
    let mut buf = LineBatch::default();
    let mut no = 0u64;
    // The start of the line not yet ended, and how far lines were split.
    let (mut start, mut split) = (0, 0);
    loop {
        // Room for a whole block first: reading into a full vector would
        // grow it a few bytes at a time.
        buf.data.reserve(how.block as usize);
        let read = (&mut f).take(how.block).read_to_end(&mut buf.data);
        while let Some(nl) = memchr::memchr(b'\n', &buf.data[split..]) {
            split += nl + 1;
            no += 1;
            buf.add(no, start..split);
            start = split;
        }
        if matches!(read, Ok(0)) && start < buf.data.len() {
            no += 1;
            buf.add(no, start..buf.data.len());
            start = buf.data.len();
        }
        split = buf.data.len();
        let stop = match read {
            _ if split - start > how.max_line => Some(Diagnostic::error(
                "events",
                format!(
                    "line {} is longer than {} MiB, which no event is: the rest of the file is not read",
                    no + 1,
                    how.max_line >> 20
                ),
            )),
            Ok(0) => break,
            Ok(_) => None,
            Err(e) => Some(
                Diagnostic::error("events", format!("cannot read past this line: {e}"))
                    .at(Some(no as usize + 1), None),
            ),
        };
        if let Some(d) = stop {
            diags.push(d.in_file(path));
            buf.data.truncate(start);
            break;
        }
        if buf.lines.len() >= batch {
            sink(buf.split_off(start));
            (start, split) = (0, buf.data.len());
        }
    }
    if !buf.lines.is_empty() {
        sink(buf);
    }
}

impl LineBatch {
    /// Adds the line at `range` of the data (line `no`): a line holding a
    /// list of events as each of them, a blank line not at all.
    fn add(&mut self, no: u64, range: std::ops::Range<usize>) {
        let text = &self.data[range.clone()];
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            None => {}
            Some(b'[') => match json_text::array_objects(text) {
                Some(items) => self.lines.extend(
                    (items.into_iter()).map(|r| (no, range.start + r.start..range.start + r.end)),
                ),
                None => self.lines.push((no, range)),
            },
            Some(_) => self.lines.push((no, range)),
        }
    }

    /// This batch, its data up to `start`; the text from there (a line not
    /// yet ended) stays, as the start of the next batch.
    fn split_off(&mut self, start: usize) -> LineBatch {
        let mut next = LineBatch {
            data: Vec::with_capacity(self.data.capacity()),
            lines: Vec::with_capacity(self.lines.capacity()),
        };
        next.data.extend_from_slice(&self.data[start..]);
        self.data.truncate(start);
        std::mem::replace(self, next)
    }
}

/// One JSONL line as an event. A line with invalid UTF-8 is read with the
/// bad bytes replaced (and a warning); a line that is not JSON, or not an
/// object, is reported and counted as lost (`None`).
pub fn event_from_line(
    file: &Arc<str>,
    line_no: u64,
    line: &[u8],
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
) -> Option<Event> {
    let meta = || EventMeta {
        file: file.clone(),
        record: line_no,
        ..Default::default()
    };
    let line = json_text::without_bom(line.trim_ascii_end());
    // Checked once as a whole, the line is then parsed as text, which spares
    // serde_json checking each string of it again.
    let text = match simdutf8::basic::from_utf8(line) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            diags.push(
                Diagnostic::warning("events", "invalid UTF-8 replaced with U+FFFD")
                    .in_file(&**file)
                    .at(Some(line_no as usize), None),
            );
            String::from_utf8_lossy(line)
        }
    };
    let seed = || EventSeed {
        meta: meta(),
        wanted,
        size: text.len(),
        text: true,
    };
    let err = match super::mend::event_from_text(&text, seed) {
        Ok(m) => {
            let (event, warnings) = super::journald::logged(m, wanted);
            for w in warnings {
                diags.push(
                    Diagnostic::warning("events", w)
                        .in_file(&**file)
                        .at(Some(line_no as usize), None),
                );
            }
            if event.is_none() {
                diags.push(
                    Diagnostic::error("events", "JSON line is not an object; 1 record lost")
                        .in_file(&**file)
                        .at(Some(line_no as usize), None),
                );
            }
            return event;
        }
        Err(e) => e,
    };
    diags.push(
        Diagnostic::error(
            "events",
            format!(
                "invalid JSON, 1 record lost: {}",
                json_text::what(&err.error)
            ),
        )
        .in_file(&**file)
        .at(Some(line_no as usize), Some(err.column)),
    );
    None
}

/// What a file's first bytes say of it.
enum Kind {
    Events(EventFormat),
    /// gzip-compressed: read through its decompression, as a stream.
    Compressed,
    /// Not events, or unreadable (reported).
    Skipped,
}

fn kind_of(path: &Path, diags: &Diagnostics) -> Kind {
    let head = match head_of(path) {
        Ok(h) => h,
        Err(e) => {
            cannot_read(diags, path)(e);
            return Kind::Skipped;
        }
    };
    if head.starts_with(&GZIP) {
        return Kind::Compressed;
    }
    if let Some(f) = format_of_head(&head) {
        return Kind::Events(f);
    }
    if super::csv::is_csv_name(path) && !head.is_empty() {
        return Kind::Events(EventFormat::Csv);
    }
    diags.push(Diagnostic::warning("events", not_events(&head, "file")).in_file(path));
    Kind::Skipped
}

/// Why a file or stream (`what`) whose first bytes are `head` is not read:
/// empty, an archive or compression other than gzip (named, so that the
/// analyst knows to extract it), or something else.
fn not_events(head: &[u8], what: &str) -> String {
    if head.is_empty() {
        return format!("empty {what}; skipped");
    }
    match crate::text::packed(head) {
        Some(kind) => {
            format!("{kind}: extract or decompress it first (gzip is read as it is); skipped")
        }
        None => {
            format!(
                "not an EVTX, JSON, XML, W3C, access, Zeek, audit or syslog log, or CSV (named .csv) {what}; skipped"
            )
        }
    }
}

/// A file opened to be read as it comes, or `None` (reported).
fn file_open(path: &Path, diags: &Diagnostics) -> Option<std::fs::File> {
    std::fs::File::open(path)
        .map_err(cannot_read(diags, path))
        .ok()
}

/// What reports that `path` cannot be read.
fn cannot_read<'a>(diags: &'a Diagnostics, path: &'a Path) -> impl Fn(std::io::Error) + 'a {
    move |e| diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path))
}

/// Read one file's events, calling `sink` for each (streaming; nothing is
/// kept). `None` when the file is not an events file at all.
pub fn read_file(
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> Option<FileRead> {
    let file = name_of(path);
    let mut read = FileRead::default();
    let mut count = |e: Option<Event>| match e {
        Some(e) => {
            read.events += 1;
            sink(e);
        }
        None => read.lost += 1,
    };
    let whole = read_batched(path, wanted, diags, 4096, &mut |batch| match batch {
        Batch::Lines(lines) => {
            for (no, l) in lines.iter() {
                count(event_from_line(&file, no, l, wanted, diags));
            }
        }
        Batch::Items(items) => {
            for it in items {
                count(it.into_event(wanted, diags));
            }
        }
    })?;
    // Records lost before they could be handed out (broken EVTX chunks,
    // a JSON text's unreadable rest).
    read.lost += whole.lost;
    Some(read)
}

/// The name events and messages give a file: its path, `-` for standard
/// input.
pub fn name_of(path: &Path) -> Arc<str> {
    Arc::from(path.to_string_lossy().as_ref())
}

/// Read one file, or a stream ([`is_stream`]), in batches of up to `size`
/// lines or items. The count of events returned is that of the items
/// handed out, some of which may still fail to parse (each reported and
/// lost where it is parsed), and of records lost before (JSONL lines are
/// counted where they are parsed). A JSON or XML text is read whole, or,
/// when it can be, a part at a time. `None` when the input is not an
/// events file at all.
pub fn read_batched(
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    if is_stream(path) {
        return read_stream(path, wanted, diags, size, sink);
    }
    let format = match kind_of(path, diags) {
        Kind::Events(f) => f,
        Kind::Compressed => return read_stream(path, wanted, diags, size, sink),
        Kind::Skipped => return None,
    };
    if format == EventFormat::Json && is_jsonl(path) {
        read_lines(path, size, diags, &mut |b| sink(Batch::Lines(b)));
        return Some(FileRead::default());
    }
    match is_large(path) {
        true => ahead(sink, |sink| {
            file_items(format, path, wanted, diags, size, sink)
        }),
        false => file_items(format, path, wanted, diags, size, sink),
    }
}

/// A file at least this long is read on a thread of its own ([`ahead`]);
/// below, the thread costs more than it saves (a folder of many small
/// files is read file by file in parallel anyway).
const LARGE: u64 = 1 << 20;

/// Whether a file is long enough to be read on a thread of its own when
/// its reader parses as it reads (any format but JSONL).
pub(crate) fn is_large(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.len() >= LARGE)
}

/// `read` on a thread of its own, its batches handed to `sink` on this
/// one, in order, a few ahead. A reader that parses as it reads (EVTX
/// records, XML events, CSV rows, log lines, the items of a JSON text
/// found one after the other) is one thread's work: run between the
/// matching of two batches, it left the other cores idle. JSONL needs no
/// such thread: its lines are cut without parsing.
fn ahead<R: Send>(
    sink: &mut dyn FnMut(Batch),
    read: impl FnOnce(&mut dyn FnMut(Batch)) -> R + Send,
) -> R {
    /// Batches read and not yet handed out: enough that neither side
    /// waits on the other's hiccups, few enough to bound memory.
    const AHEAD: usize = 2;
    // Taken by the thread, or, where none can be started (a process at
    // its limit of threads), read here.
    let read = std::sync::Mutex::new(Some(read));
    let take = || read.lock().unwrap_or_else(|p| p.into_inner()).take();
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel(AHEAD);
        let reader = std::thread::Builder::new().spawn_scoped(s, move || {
            let read = take().expect("taken once");
            // A send fails only once this side is gone (it panicked).
            read(&mut |b| drop(tx.send(b)))
        });
        let Ok(reader) = reader else {
            return take().expect("not started")(sink);
        };
        rx.into_iter().for_each(&mut *sink);
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The events of a file in `format` (not JSONL), in batches.
fn file_items(
    format: EventFormat,
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    match format {
        EventFormat::Evtx => parsed_items(size, sink, |add| {
            super::evtx::read(path, &name_of(path), wanted, diags, add)
        }),
        text @ (EventFormat::Json | EventFormat::Xml) => {
            let mut input = BufReader::new(file_open(path, diags)?);
            let mut bytes = match begin_text(text, &mut input, path, wanted, diags, size, sink) {
                parts::Begun::Read(read) => return Some(read),
                parts::Begun::Whole(first) => first,
            };
            let read = input.read_to_end(&mut bytes);
            read.map_err(cannot_read(diags, path)).ok()?;
            text_items(text, path, bytes, wanted, diags, size, sink)
        }
        EventFormat::Csv => {
            // The CSV reader buffers its input itself.
            csv_items(file_open(path, diags)?, path, diags, size, sink)
        }
        log @ (EventFormat::W3c
        | EventFormat::Zeek
        | EventFormat::Auditd
        | EventFormat::Syslog
        | EventFormat::AccessLog) => {
            let input = file_open(path, diags)?;
            log_items(
                std::io::BufReader::new(input),
                log,
                path,
                wanted,
                diags,
                size,
                sink,
            )
        }
    }
}

/// The events of a text log a line each (W3C, Zeek, audit, syslog), handed out
/// parsed in batches as they are read.
fn log_items(
    input: impl BufRead,
    format: EventFormat,
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    let report = |d: Diagnostic| diags.push(d.in_file(path));
    let file = name_of(path);
    parsed_items(size, sink, |add| {
        Some(match format {
            EventFormat::W3c => super::w3c::read(input, Dialect::W3c, &file, wanted, &report, add),
            EventFormat::Zeek => {
                super::w3c::read(input, Dialect::Zeek, &file, wanted, &report, add)
            }
            EventFormat::Auditd => super::auditd::read(input, &file, wanted, &report, add),
            EventFormat::Syslog => super::syslog::read(input, &file, wanted, &report, add),
            EventFormat::AccessLog => super::access_log::read(input, &file, wanted, &report, add),
            _ => return None,
        })
    })
}

/// A CSV text's events, handed out parsed in batches as they are read.
fn csv_items(
    input: impl Read,
    path: &Path,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    let report = |d: Diagnostic| diags.push(d.in_file(path));
    let mut batch = Batcher::new(size, sink);
    let read = super::csv::read(input, &name_of(path), &report, &mut |r| {
        batch.add(Item::Row(r))
    });
    batch.flush();
    read
}

/// A stream's events: JSONL line by line, a JSON or XML text or an EVTX
/// file read whole (EVTX chunks are sought).
fn read_stream(
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    let cannot = cannot_read(diags, path);
    let s = Stream::open(path).map_err(&cannot).ok()?;
    let format = match format_of_head(&s.head) {
        // CSV is known by its name, not by its first bytes.
        None | Some(EventFormat::Csv) if super::csv::is_csv_name(path) => EventFormat::Csv,
        None | Some(EventFormat::Csv) => {
            let d = Diagnostic::warning("events", not_events(&s.head, "stream"));
            diags.push(d.in_file(path));
            return None;
        }
        Some(EventFormat::Json) if jsonl_in(&s.head[..]) => {
            let mut all = std::io::Cursor::new(s.head).chain(s.rest);
            lines_from(path, &mut all, size, Reading::DEFAULT, diags, &mut |b| {
                sink(Batch::Lines(b))
            });
            return Some(FileRead::default());
        }
        Some(format) => format,
    };
    ahead(sink, |sink| {
        stream_items(s, format, path, wanted, diags, size, sink)
    })
}

/// The events of a stream in `format` (not JSONL), in batches.
fn stream_items(
    s: Stream,
    format: EventFormat,
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    let cannot = cannot_read(diags, path);
    match format {
        EventFormat::Csv => {
            let all = std::io::Cursor::new(s.head).chain(s.rest);
            csv_items(all, path, diags, size, sink)
        }
        EventFormat::Evtx => {
            let bytes = s.into_bytes(&cannot);
            parsed_items(size, sink, |add| {
                let len = bytes.len() as u64;
                let bytes = std::io::Cursor::new(bytes);
                super::evtx::read_from(bytes, len, path, &name_of(path), wanted, diags, add)
            })
        }
        text @ (EventFormat::Json | EventFormat::Xml) => {
            let mut all = BufReader::new(std::io::Cursor::new(s.head).chain(s.rest));
            let first = match begin_text(text, &mut all, path, wanted, diags, size, sink) {
                parts::Begun::Read(read) => return Some(read),
                parts::Begun::Whole(first) => first,
            };
            // The rest read whole up to the limit, as a cut file is.
            let (bytes, error) = read_whole(first, Box::new(all), super::MAX_WHOLE);
            error.map(&cannot);
            text_items(text, path, bytes, wanted, diags, size, sink)
        }
        log @ (EventFormat::W3c
        | EventFormat::Zeek
        | EventFormat::Auditd
        | EventFormat::Syslog
        | EventFormat::AccessLog) => {
            let all = std::io::BufReader::new(std::io::Cursor::new(s.head).chain(s.rest));
            log_items(all, log, path, wanted, diags, size, sink)
        }
    }
}

/// EVTX records or XML events, handed out parsed in batches as `read`
/// reads them.
fn parsed_items(
    size: usize,
    sink: &mut dyn FnMut(Batch),
    read: impl FnOnce(&mut dyn FnMut(Event)) -> Option<FileRead>,
) -> Option<FileRead> {
    let mut batch = Batcher::new(size, sink);
    let read = read(&mut |e| batch.add(Item::Event(e)));
    batch.flush();
    read
}

/// A JSON or XML text's events, handed out in batches, when it is long
/// and can be read a part at a time (a JSON array, Windows events as XML:
/// [`parts`]); otherwise its first bytes, to read it whole.
fn begin_text(
    format: EventFormat,
    input: &mut impl BufRead,
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> parts::Begun {
    let file = name_of(path);
    let report = |d: Diagnostic| diags.push(d.in_file(&*file));
    let part = parts::Sizes::DEFAULT;
    match format {
        EventFormat::Xml => {
            let to = super::xml::To {
                file: &file,
                wanted,
                report: &report,
            };
            xml_parts::read(input, &to, diags, size, sink, part)
        }
        _ => json_parts::read(input, &file, diags, size, sink, part),
    }
}

/// A JSON or XML text's events, handed out in batches: a JSON text's
/// objects unparsed (one thread only finds where each starts and ends, they
/// are parsed where they are matched), XML events parsed.
fn text_items(
    format: EventFormat,
    path: &Path,
    bytes: Vec<u8>,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> Option<FileRead> {
    let file = name_of(path);
    let text = json_text::decode_owned(bytes, &file, diags);
    if format == EventFormat::Xml {
        let report = |d: Diagnostic| diags.push(d.in_file(path));
        let read =
            |add: &mut dyn FnMut(Event)| super::xml::read(&text, &file, wanted, &report, add);
        return parsed_items(size, sink, read);
    }
    let lines = json_text::Lines::new(text);
    let mut batch = Batcher::new(size, sink);
    let pending = json_text::Sink::Pending(&mut |p| batch.add(Item::Pending(p)));
    let read = json_text::read(&lines, &file, diags, pending);
    batch.flush();
    Some(read)
}

/// Read the events of an in-memory JSON / JSONL text (embedded demo data).
pub fn read_text(name: &str, text: &str, diags: &Diagnostics, sink: &mut dyn FnMut(Event)) -> u64 {
    let text = json_text::decode(text.as_bytes(), name, diags);
    let sink = json_text::Sink::Events(None, sink);
    let lines = json_text::Lines::new(text.into_owned());
    json_text::read(&lines, &Arc::from(name), diags, sink).events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_google_cloud_audit_entry_gives_its_method_under_filebeats_name_too() {
        let entry = br#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"compute.googleapis.com","methodName":"v1.compute.firewalls.delete"},"timestamp":"2024-03-01T10:00:00Z","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity"}"#;
        let file: Arc<str> = Arc::from("gcp.json");
        let diags = Diagnostics::new();
        // Only what a rule for Filebeat's name reads is kept.
        let wanted = Wanted::new(["gcp.audit.method_name"]);
        let e = event_from_line(&file, 1, entry, Some(&wanted), &diags).unwrap();
        assert_eq!(
            e.text("gcp.audit.method_name"),
            Some("v1.compute.firewalls.delete")
        );
        assert!(e.get("protoPayload.serviceName").is_none());
        let shown: Vec<String> = e.whole().0.into_iter().map(|(n, _)| n).collect();
        assert!(!shown.iter().any(|n| n.starts_with("gcp.")), "{shown:?}");
        assert_eq!(e.meta.timestamp.as_deref(), Some("2024-03-01T10:00:00Z"));
        // Another JSON object's fields are not renamed.
        let other = br#"{"methodName":"x","gcp":{"audit":{"method_name":"y"}}}"#;
        let e = event_from_line(&file, 2, other, Some(&wanted), &diags).unwrap();
        assert_eq!(e.text("gcp.audit.method_name"), Some("y"));
        assert!(diags.sorted().is_empty());
    }

    #[test]
    fn lines_are_the_same_whatever_the_block_and_batch_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.jsonl");
        let text = "{\"a\": 1}\n\n{\"b\": \"long value here\"}\r\n   \n{}\n{\"c\": [1, 2, 3]}";
        std::fs::write(&p, text).unwrap();
        let expected: Vec<(u64, String)> = text
            .split_inclusive('\n')
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| (i as u64 + 1, l.to_string()))
            .collect();
        for block in [1, 2, 3, 7, 16, 1 << 18] {
            for batch in [1, 2, 3, 100] {
                let mut got = Vec::new();
                let ds = Diagnostics::new();
                let how = Reading {
                    block,
                    ..Reading::DEFAULT
                };
                read_lines_by(&p, batch, how, &ds, &mut |b| {
                    assert!(!b.lines.is_empty());
                    got.extend(
                        b.iter()
                            .map(|(n, l)| (n, String::from_utf8(l.to_vec()).unwrap())),
                    );
                });
                assert_eq!(got, expected, "block {block}, batch {batch}");
                assert!(ds.sorted().is_empty());
            }
        }
    }

    #[test]
    fn a_document_written_over_lines_is_no_jsonl_whatever_its_lines_hold() {
        let jsonl = |t: &str| jsonl_in(t.as_bytes());
        // An event a line, inside a document: one JSON text.
        assert!(!jsonl("{\"events\": [\n{\"a\": 1},\n{\"a\": 2}\n]}\n"));
        assert!(!jsonl(
            "{\"took\": 3, \"hits\": {\"hits\": [\n{\"_source\": {}}\n]}}"
        ));
        assert!(!jsonl("{\"a\":\n 1}\n{\"b\": 2}\n"));
        // CloudTrail's log files, one line each, concatenated.
        assert!(!jsonl("{\"Records\":[{\"a\":1}]}\n{\"Records\":[]}\n"));
        assert!(!jsonl("\u{feff}  {\n\"a\": 1\n}\n"));
        // JSONL, its first line good or bad.
        assert!(jsonl("{\"a\": 1}\n{\"a\": 2}\n"));
        assert!(jsonl("\u{feff}{\"a\": 1}\r\n{\"a\": 2}\r\n"));
        assert!(jsonl("garbage\n{\"a\": 1}\n"));
        assert!(jsonl("{\"a\": \"cut\n{\"a\": 1}\n"));
        assert!(jsonl("{\"a\": 1,\n{\"a\": 2}\n"));
        assert!(!jsonl("[{\"a\": 1},\n{\"a\": 2}]\n"));
        // A first line longer than what is kept of the lines after it.
        let long = format!("{{\"a\": \"{}\"}}\n{{\"a\": 2}}\n", "x".repeat(3 << 20));
        assert!(jsonl(&long));
        let pretty = format!(
            "{{\"a\": [\n{}\n1]}}\n{{\"b\": 2}}\n",
            "0,\n".repeat(1 << 20)
        );
        assert!(!jsonl(&pretty));
    }

    #[test]
    fn a_jsonl_line_holding_a_list_of_events_gives_each_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.jsonl");
        let text = "{\"a\": 1}\n[{\"a\": 2}, {\"a\": 3}]\n[1, 2]\n{\"a\": 4}\n";
        std::fs::write(&p, text).unwrap();
        let ds = Diagnostics::new();
        let mut got = Vec::new();
        let read = read_file(&p, None, &ds, &mut |e| {
            got.push((e.meta.record, e.text("a").unwrap().to_string()));
        });
        assert_eq!(read, Some(FileRead { events: 4, lost: 1 }));
        let at = |n: u64, a: &str| (n, a.to_string());
        assert_eq!(got, [at(1, "1"), at(2, "2"), at(2, "3"), at(4, "4")]);
        let said: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("e.jsonl:3: JSON line is not an object; 1 record lost"),
            "{said:?}"
        );
    }

    #[test]
    fn a_line_longer_than_any_event_stops_the_file_and_is_said() {
        let how = Reading {
            block: 1 << 20,
            max_line: 32 << 20,
        };
        let mut text = b"{\"a\": 1}\n{\"b\": \"".to_vec();
        text.resize(text.len() + (33 << 20), b'x');
        let ds = Diagnostics::new();
        let mut got = Vec::new();
        lines_from(Path::new("f"), &mut &text[..], 10, how, &ds, &mut |b| {
            got.extend(b.iter().map(|(n, _)| n));
        });
        assert_eq!(got, [1]);
        let d: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            d,
            [
                "error[events]: f: line 2 is longer than 32 MiB, which no event is: the rest of the file is not read"
            ]
        );
    }

    #[test]
    fn what_is_held_whole_stops_at_its_limit_and_says_so() {
        let rest: Box<dyn Read + Send> = Box::new(&b"world"[..]);
        let (all, e) = read_whole(b"hello ".to_vec(), rest, 8);
        assert_eq!(all, b"hello wo");
        assert!(
            e.unwrap()
                .to_string()
                .starts_with("more than 0 MiB to hold whole")
        );
        let rest: Box<dyn Read + Send> = Box::new(&b"world"[..]);
        let (all, e) = read_whole(b"hello ".to_vec(), rest, 11);
        assert_eq!((all, e.is_none()), (b"hello world".to_vec(), true));
    }
}
