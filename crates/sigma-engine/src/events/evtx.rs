//! Windows EVTX files, through the `evtx` crate, with an account of every
//! record the file should hold. The crate skips what it cannot read: a file
//! cut inside its last chunk (the chunk is dropped whole), a zeroed chunk
//! (taken for free space), a chunk with a broken header. Here a cut file is
//! padded to whole chunks so the records before the cut are read, and the
//! record ids the chunk headers (and the file header) promise are compared
//! with those read: the difference is reported, chunk by chunk.

use super::FileRead;
use super::event::{Event, EventMeta};
use super::json::{EventSeed, Wanted};
use crate::diag::{Diagnostic, Diagnostics};
use serde::de::DeserializeSeed;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

/// What the chunk headers say about a file, before it is parsed.
#[derive(Debug, Default)]
struct Layout {
    /// (lowest, highest) record id the readable chunk headers name.
    ids: Option<(u64, u64)>,
    /// Chunk slots that should hold records but cannot be read, with why.
    broken: Vec<(usize, &'static str)>,
}

/// A file read as if zero bytes followed its end up to a whole number of
/// chunks: a file cut inside a chunk then parses up to the cut. Reads stream
/// from disk (event logs can be gigabytes); a stream's bytes are read from
/// memory.
struct ZeroPadded<R> {
    file: R,
    /// The file's real length, and its length padded to whole chunks.
    len: u64,
    padded: u64,
    pos: u64,
}

impl<R: Read> Read for ZeroPadded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.pos < self.len {
            let want = buf.len().min((self.len - self.pos) as usize);
            self.file.read(&mut buf[..want])?
        } else {
            let n = buf.len().min(self.padded.saturating_sub(self.pos) as usize);
            buf[..n].fill(0);
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for ZeroPadded<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.padded.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        self.file.seek(SeekFrom::Start(pos.min(self.len)))?;
        self.pos = pos;
        Ok(pos)
    }
}

/// Read the chunk headers (and, for a zero header, the whole chunk).
fn layout<R: Read + Seek>(r: &mut ZeroPadded<R>, header_chunks: usize) -> io::Result<Layout> {
    let mut l = Layout::default();
    let slots = (r.padded as usize - FILE_HEADER) / CHUNK;
    let mut chunk = vec![0u8; CHUNK];
    for n in 0..slots.max(header_chunks) {
        let at = FILE_HEADER + n * CHUNK;
        if n >= slots {
            l.broken.push((n, "missing: the file ends before it"));
            continue;
        }
        r.seek(SeekFrom::Start(at as u64))?;
        r.read_exact(&mut chunk[..512])?;
        let zero = |b: &[u8]| b.iter().all(|x| *x == 0);
        if zero(&chunk[..512]) {
            r.read_exact(&mut chunk[512..])?;
            if !zero(&chunk) {
                l.broken.push((n, "its header cannot be read"));
            } else if n < header_chunks {
                l.broken.push((n, "all zeros"));
            }
            continue;
        }
        match evtx::EvtxChunkHeader::from_bytes(&chunk[..512]) {
            Ok(h) if h.first_event_record_id <= h.last_event_record_id => {
                let (lo, hi) = l.ids.unwrap_or((u64::MAX, 0));
                l.ids = Some((
                    lo.min(h.first_event_record_id),
                    hi.max(h.last_event_record_id),
                ));
            }
            _ => l.broken.push((n, "its header cannot be read")),
        }
    }
    Ok(l)
}

/// Consecutive broken chunks with the same reason, as (first, last, why).
fn runs(broken: &[(usize, &'static str)]) -> Vec<(usize, usize, &'static str)> {
    let mut out: Vec<(usize, usize, &'static str)> = Vec::new();
    for &(n, why) in broken {
        match out.last_mut() {
            Some((_, last, w)) if *last + 1 == n && *w == why => *last = n,
            _ => out.push((n, n, why)),
        }
    }
    out
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

/// Read an EVTX file's events; `None` when it cannot be opened at all.
pub(crate) fn read(
    path: &Path,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> Option<FileRead> {
    let opened = std::fs::File::open(path).and_then(|f| Ok((f.metadata()?.len(), f)));
    match opened {
        Ok((len, f)) => read_from(f, len, path, file, wanted, diags, sink),
        Err(e) => {
            let d = Diagnostic::error("events", format!("cannot read: {e}"));
            diags.push(d.in_file(path));
            None
        }
    }
}

/// Read the events of an EVTX source of `len` bytes, named `path` (a
/// file, or a stream's bytes read whole).
pub(crate) fn read_from<R: Read + Seek + Send + 'static>(
    source: R,
    len: u64,
    path: &Path,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> Option<FileRead> {
    let report = |d: Diagnostic| diags.push(d.in_file(path));
    let opened = open(source, len).and_then(|(mut padded, header)| {
        let layout = layout(&mut padded, usize::from(header.chunk_count))
            .and_then(|l| padded.seek(SeekFrom::Start(0)).map(|_| l))
            .map_err(|e| Diagnostic::error("events", format!("cannot read: {e}")))?;
        Ok((padded, header, layout))
    });
    let (padded, header, layout) = match opened {
        Ok(x) => x,
        Err(d) => {
            report(d);
            return None;
        }
    };
    if let Some(w) = padded.cut_warning() {
        report(w);
    }
    report_broken(&layout, &report);
    let settings = evtx::ParserSettings::new().num_threads(1);
    let mut parser = match evtx::EvtxParser::from_read_seek(padded) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            report(Diagnostic::error(
                "events",
                format!("cannot open EVTX: {}", chain(&e)),
            ));
            return None;
        }
    };
    let mut records = Records {
        file,
        wanted,
        report: &report,
        read: FileRead::default(),
        ids: Vec::new(),
        errors: 0,
    };
    for r in parser.records_json_bytes() {
        records.add(r, sink);
    }
    Some(records.finish(&layout, &header))
}

/// Opens a source padded to whole chunks, with its file header.
fn open<R: Read + Seek>(
    file: R,
    len: u64,
) -> Result<(ZeroPadded<R>, evtx::EvtxFileHeader), Diagnostic> {
    let cut = (len as usize).saturating_sub(FILE_HEADER) % CHUNK;
    let mut padded = ZeroPadded {
        file,
        len,
        padded: len + if cut == 0 { 0 } else { (CHUNK - cut) as u64 },
        pos: 0,
    };
    match evtx::EvtxFileHeader::from_stream(&mut padded) {
        Ok(h) if len as usize >= FILE_HEADER => Ok((padded, h)),
        Ok(_) | Err(_) => Err(Diagnostic::error(
            "events",
            "cannot open EVTX: the file header is cut or broken",
        )),
    }
}

impl<R> ZeroPadded<R> {
    /// The warning for a file that ends inside a chunk.
    fn cut_warning(&self) -> Option<Diagnostic> {
        let data = (self.len as usize).saturating_sub(FILE_HEADER);
        (!data.is_multiple_of(CHUNK)).then(|| {
            Diagnostic::warning(
                "events",
                format!(
                    "the file ends inside chunk {} (at byte offset {}); its records before the cut are read",
                    data / CHUNK,
                    self.len
                ),
            )
        })
    }
}

/// One error per run of unreadable chunks.
fn report_broken(layout: &Layout, report: &dyn Fn(Diagnostic)) {
    for (first, last, why) in runs(&layout.broken) {
        let which = if first == last {
            format!("chunk {first}")
        } else {
            format!("chunks {first}–{last}")
        };
        report(Diagnostic::error(
            "events",
            format!(
                "{which} (from byte offset {}) unreadable: {why}",
                FILE_HEADER + first * CHUNK
            ),
        ));
    }
}

/// The records of one file as the parser yields them, and the account of
/// those that failed.
struct Records<'a> {
    file: &'a Arc<str>,
    wanted: Option<&'a Wanted>,
    report: &'a dyn Fn(Diagnostic),
    read: FileRead,
    ids: Vec<u64>,
    errors: u64,
}

impl Records<'_> {
    fn add(
        &mut self,
        r: evtx::err::Result<evtx::SerializedEvtxRecord<Vec<u8>>>,
        sink: &mut dyn FnMut(Event),
    ) {
        let rec = match r {
            Ok(rec) => rec,
            Err(e) => {
                self.errors += 1;
                if self.errors <= 3 {
                    (self.report)(Diagnostic::error("events", chain(&e)));
                }
                return;
            }
        };
        let seed = EventSeed {
            meta: EventMeta {
                file: self.file.clone(),
                record: rec.event_record_id,
                ..Default::default()
            },
            wanted: self.wanted,
            size: rec.data.len() / 2,
            text: true,
        };
        match seed.deserialize(&mut serde_json::Deserializer::from_slice(&rec.data)) {
            Ok(Some(e)) => {
                for why in super::json::partly_read(&e) {
                    let msg = format!("record {}: {why}", rec.event_record_id);
                    (self.report)(Diagnostic::warning("events", msg));
                }
                self.ids.push(rec.event_record_id);
                self.read.events += 1;
                sink(e);
            }
            Ok(None) | Err(_) => {
                self.errors += 1;
                (self.report)(Diagnostic::error(
                    "events",
                    format!(
                        "record {} renders as invalid JSON; 1 record lost",
                        rec.event_record_id
                    ),
                ));
            }
        }
    }

    /// Reports the errors not shown one by one and the records lost.
    fn finish(mut self, layout: &Layout, header: &evtx::EvtxFileHeader) -> FileRead {
        if self.errors > 3 {
            (self.report)(Diagnostic::error(
                "events",
                format!("{} more unreadable records or chunks", self.errors - 3),
            ));
        }
        let mut read = self.read;
        read.lost = lost(layout, header, &mut self.ids, self.errors);
        if read.lost > 0 {
            (self.report)(Diagnostic::error(
                "events",
                format!(
                    "{} of {} records lost ({} read)",
                    read.lost,
                    read.lost.saturating_add(read.events),
                    read.events
                ),
            ));
        }
        read
    }
}

/// Records the headers promise that were not read. With an unreadable chunk,
/// the file header's next record id bounds the range too.
fn lost(layout: &Layout, header: &evtx::EvtxFileHeader, ids: &mut Vec<u64>, errors: u64) -> u64 {
    ids.sort_unstable();
    ids.dedup();
    let Some((lo, mut hi)) = layout.ids else {
        // No readable chunk header: whatever failed is all we know of.
        return errors.max(if layout.broken.is_empty() { 0 } else { 1 });
    };
    if !layout.broken.is_empty() {
        hi = hi.max(header.next_record_id.saturating_sub(1));
    }
    let expected = (hi - lo).saturating_add(1);
    let got = ids.iter().filter(|&&i| i >= lo && i <= hi).count() as u64;
    expected.saturating_sub(got)
}
