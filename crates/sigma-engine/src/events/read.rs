//! Event files: EVTX and JSON (one object, an array, concatenated objects,
//! JSONL), told apart by content. Every record that can be read is read;
//! every record that cannot is counted and reported with its file and line
//! (JSON) or chunk and offset (EVTX).

use super::FileRead;
use super::event::{Event, EventMeta};
use super::json::{EventSeed, Wanted};
use super::json_text::{self, Pending};
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
}

/// Sniff the format of a file from its content.
pub fn sniff(path: &Path) -> std::io::Result<Option<EventFormat>> {
    let mut f = std::fs::File::open(path)?;
    let mut head = [0u8; 64];
    let n = f.read(&mut head)?;
    let head = &head[..n];
    if head.starts_with(b"ElfFile\0") {
        return Ok(Some(EventFormat::Evtx));
    }
    Ok(match json_text::first_char(head) {
        Some('{' | '[') => Some(EventFormat::Json),
        _ => None,
    })
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
    };
    walk.files(paths, diags)
}

/// Whether a JSON file is JSONL: in UTF-8, it starts with an object (not an array,
/// even one written an object per line), and one of its first lines is a
/// whole object starting in the first column, so that lines can be read
/// independently (and in parallel), and a bad line costs only itself.
pub fn is_jsonl(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut r = BufReader::new(f);
    // UTF-16 has no lines to read one by one as UTF-8: a JSON text.
    if r.fill_buf().is_ok_and(json_text::is_utf16) {
        return false;
    }
    let (mut line, mut started) = (Vec::new(), false);
    for _ in 0..16 {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
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
            return true;
        }
    }
    false
}

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

/// Read a JSONL file in batches of lines (blank lines skipped), for
/// parsing in parallel with [`event_from_line`]. The file is read in large
/// blocks and split with a vectorised search; a line cut by a block's end
/// moves to the next batch.
pub fn read_lines(path: &Path, batch: usize, diags: &Diagnostics, sink: &mut dyn FnMut(LineBatch)) {
    read_lines_by(path, batch, 1 << 18, diags, sink)
}

fn read_lines_by(
    path: &Path,
    batch: usize,
    block: u64,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(LineBatch),
) {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path));
            return;
        }
    };
    let mut buf = LineBatch::default();
    let mut no = 0u64;
    // The start of the line not yet ended, and how far lines were split.
    let (mut start, mut split) = (0, 0);
    loop {
        // Room for a whole block first: reading into a full vector would
        // grow it a few bytes at a time.
        buf.data.reserve(block as usize);
        let read = (&mut f).take(block).read_to_end(&mut buf.data);
        let LineBatch { data, lines } = &mut buf;
        let mut line = |end: usize, start: &mut usize| {
            no += 1;
            if !data[*start..end].trim_ascii().is_empty() {
                lines.push((no, *start..end));
            }
            *start = end;
        };
        for nl in memchr::memchr_iter(b'\n', &data[split..]) {
            line(split + nl + 1, &mut start);
        }
        if matches!(read, Ok(0)) && start < data.len() {
            line(data.len(), &mut start);
        }
        split = buf.data.len();
        match read {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                buf.data.truncate(start);
                diags.push(
                    Diagnostic::error("events", format!("cannot read past this line: {e}"))
                        .in_file(path)
                        .at(Some(no as usize + 1), None),
                );
                break;
            }
        }
        if buf.lines.len() >= batch {
            let mut next = LineBatch {
                data: Vec::with_capacity(buf.data.capacity()),
                lines: Vec::with_capacity(buf.lines.capacity()),
            };
            next.data.extend_from_slice(&buf.data[start..]);
            buf.data.truncate(start);
            sink(std::mem::replace(&mut buf, next));
            start = 0;
            split = buf.data.len();
        }
    }
    if !buf.lines.is_empty() {
        sink(buf);
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
            for w in m.warnings() {
                diags.push(
                    Diagnostic::warning("events", w)
                        .in_file(&**file)
                        .at(Some(line_no as usize), None),
                );
            }
            if m.event.is_none() {
                diags.push(
                    Diagnostic::error("events", "JSON line is not an object; 1 record lost")
                        .in_file(&**file)
                        .at(Some(line_no as usize), None),
                );
            }
            return m.event;
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

/// The format of an events file, or `None` (reported) when it is none.
fn format_of(path: &Path, diags: &Diagnostics) -> Option<EventFormat> {
    match sniff(path) {
        Ok(Some(f)) => Some(f),
        Ok(None) => {
            let d = Diagnostic::warning("events", "not an EVTX or JSON file; skipped");
            diags.push(d.in_file(path));
            None
        }
        Err(e) => {
            diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path));
            None
        }
    }
}

/// A JSON file's text, or `None` (reported) when it cannot be read.
fn json_bytes(path: &Path, diags: &Diagnostics) -> Option<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| {
            diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path));
        })
        .ok()
}

/// Read one file's events, calling `sink` for each (streaming; nothing is
/// kept). `None` when the file is not an events file at all.
pub fn read_file(
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> Option<FileRead> {
    let format = format_of(path, diags)?;
    let file: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    match format {
        EventFormat::Evtx => super::evtx::read(path, &file, wanted, diags, sink),
        EventFormat::Json if is_jsonl(path) => {
            let mut read = FileRead::default();
            read_lines(path, 4096, diags, &mut |lines| {
                for (no, l) in lines.iter() {
                    match event_from_line(&file, no, l, wanted, diags) {
                        Some(e) => {
                            read.events += 1;
                            sink(e);
                        }
                        None => read.lost += 1,
                    }
                }
            });
            Some(read)
        }
        EventFormat::Json => {
            let bytes = json_bytes(path, diags)?;
            let text = json_text::decode(&bytes, &file, diags);
            let sink = json_text::Sink::Events(wanted, sink);
            Some(json_text::read(
                &json_text::Lines::new(&text),
                &file,
                diags,
                sink,
            ))
        }
    }
}

/// An event read from a file, or a JSON object to be parsed into one where
/// it is matched.
// A batch holds one kind or the other, moved in once: boxing events would
// cost an allocation per EVTX record to save space in JSON batches.
#[allow(clippy::large_enum_variant)]
pub enum Item<'t> {
    Event(Event),
    Pending(Pending<'t>),
}

impl Item<'_> {
    /// The event, keeping the fields `wanted`; `None` (reported, one record
    /// lost) if it cannot be read.
    pub fn into_event(self, wanted: Option<&Wanted>, diags: &Diagnostics) -> Option<Event> {
        match self {
            Item::Event(e) => Some(e),
            Item::Pending(p) => p.parse(wanted, diags),
        }
    }
}

/// Read one file in batches of up to `size` items, for parsing and
/// matching in parallel: a JSON file's objects come unparsed (one thread
/// only finds where each starts and ends), EVTX records as events. The
/// count of events includes objects that may still fail to parse (each
/// reported and lost where it is parsed). A JSON file is read whole (for
/// JSONL, [`read_lines`] reads block by block). `None` when the file is not
/// an events file at all.
pub fn read_file_batched(
    path: &Path,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Vec<Item<'_>>),
) -> Option<FileRead> {
    let format = format_of(path, diags)?;
    let file: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    // The text outlives the batch, whose objects borrow it.
    let (bytes, text, lines);
    let mut batch = Vec::with_capacity(size);
    let mut add = |item| {
        batch.push(item);
        if batch.len() >= size {
            sink(std::mem::replace(&mut batch, Vec::with_capacity(size)));
        }
    };
    let read = match format {
        EventFormat::Evtx => {
            super::evtx::read(path, &file, wanted, diags, &mut |e| add(Item::Event(e)))
        }
        EventFormat::Json => {
            bytes = json_bytes(path, diags)?;
            text = json_text::decode(&bytes, &file, diags);
            lines = json_text::Lines::new(&text);
            let pending = json_text::Sink::Pending(&mut |p| add(Item::Pending(p)));
            Some(json_text::read(&lines, &file, diags, pending))
        }
    };
    if !batch.is_empty() {
        sink(batch);
    }
    read
}

/// Read the events of an in-memory JSON / JSONL text (embedded demo data).
pub fn read_text(name: &str, text: &str, diags: &Diagnostics, sink: &mut dyn FnMut(Event)) -> u64 {
    let text = json_text::decode(text.as_bytes(), name, diags);
    let sink = json_text::Sink::Events(None, sink);
    json_text::read(&json_text::Lines::new(&text), &Arc::from(name), diags, sink).events
}

#[cfg(test)]
mod tests {
    use super::*;

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
                read_lines_by(&p, batch, block, &ds, &mut |b| {
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
}
