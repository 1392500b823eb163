//! Windows EVTX files, through the `evtx` crate, with an account of every
//! record the file should hold. The crate skips what it cannot read: a file
//! cut inside its last chunk (the chunk is dropped whole), a zeroed chunk
//! (taken for free space), a chunk with a broken header. Here a cut file is
//! padded to whole chunks so the records before the cut are read, and the
//! record ids the chunk headers (and the file header) promise are compared
//! with those read: the difference is reported, chunk by chunk.

use super::event::{Event, EventMeta};
use super::json::{EventSeed, Wanted};
use super::read::FileRead;
use crate::diag::{Diagnostic, Diagnostics};
use serde::de::DeserializeSeed;
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

fn layout(bytes: &[u8], header_chunks: usize) -> Layout {
    let mut l = Layout::default();
    let slots = (bytes.len() - FILE_HEADER).div_ceil(CHUNK);
    for n in 0..slots.max(header_chunks) {
        let at = FILE_HEADER + n * CHUNK;
        if at >= bytes.len() {
            l.broken.push((n, "missing: the file ends before it"));
            continue;
        }
        let chunk = &bytes[at..(at + CHUNK).min(bytes.len())];
        if chunk.iter().all(|b| *b == 0) {
            if n < header_chunks {
                l.broken.push((n, "all zeros"));
            }
            continue;
        }
        match evtx::EvtxChunkHeader::from_bytes(chunk) {
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
    l
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
    let report = |d: Diagnostic| diags.push(d.in_file(path));
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            report(Diagnostic::error("events", format!("cannot read: {e}")));
            return None;
        }
    };
    let header = match evtx::EvtxFileHeader::from_stream(&mut std::io::Cursor::new(&bytes)) {
        Ok(h) if bytes.len() >= FILE_HEADER => h,
        Ok(_) | Err(_) => {
            report(Diagnostic::error(
                "events",
                "cannot open EVTX: the file header is cut or broken",
            ));
            return None;
        }
    };
    let cut = (bytes.len() - FILE_HEADER) % CHUNK;
    if cut != 0 {
        let n = (bytes.len() - FILE_HEADER) / CHUNK;
        report(Diagnostic::warning(
            "events",
            format!(
                "the file ends inside chunk {n} (at byte offset {}); its records before the cut are read",
                bytes.len()
            ),
        ));
        bytes.resize(bytes.len() + CHUNK - cut, 0);
    }
    let layout = layout(&bytes, usize::from(header.chunk_count));
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
    let settings = evtx::ParserSettings::new().num_threads(1);
    let mut parser = match evtx::EvtxParser::from_buffer(bytes) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            report(Diagnostic::error(
                "events",
                format!("cannot open EVTX: {}", chain(&e)),
            ));
            return None;
        }
    };
    let mut read = FileRead::default();
    let mut ids = Vec::new();
    let mut errors = 0;
    for r in parser.records_json_bytes() {
        match r {
            Ok(rec) => {
                let meta = EventMeta {
                    file: file.clone(),
                    record: rec.event_record_id,
                    ..Default::default()
                };
                let mut de = serde_json::Deserializer::from_slice(&rec.data);
                let seed = EventSeed {
                    meta,
                    wanted,
                    size: rec.data.len() / 2,
                };
                match seed.deserialize(&mut de) {
                    Ok(Some(e)) => {
                        ids.push(rec.event_record_id);
                        read.events += 1;
                        sink(e);
                    }
                    Ok(None) | Err(_) => {
                        errors += 1;
                        report(Diagnostic::error(
                            "events",
                            format!(
                                "record {} renders as invalid JSON; 1 record lost",
                                rec.event_record_id
                            ),
                        ));
                    }
                }
            }
            Err(e) => {
                errors += 1;
                if errors <= 3 {
                    report(Diagnostic::error("events", chain(&e)));
                }
            }
        }
    }
    if errors > 3 {
        report(Diagnostic::error(
            "events",
            format!("{} more unreadable records or chunks", errors - 3),
        ));
    }
    read.lost = lost(&layout, &header, &mut ids, errors);
    if read.lost > 0 {
        report(Diagnostic::error(
            "events",
            format!(
                "{} of {} records lost ({} read)",
                read.lost,
                read.lost + read.events,
                read.events
            ),
        ));
    }
    Some(read)
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
    let expected = hi - lo + 1;
    let got = ids.iter().filter(|&&i| i >= lo && i <= hi).count() as u64;
    expected.saturating_sub(got)
}
