//! Scanning event files: files in parallel, and within a file batches of
//! events parsed and matched in parallel while the previous batch is
//! delivered, in reading order.

use super::{Engine, Hit, Placement};
use crate::diag::Diagnostics;
use crate::events::{self, Event};
use rayon::prelude::*;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Counts of one scan.
#[derive(Debug, Clone, Default)]
pub struct ScanStats {
    pub files: usize,
    /// Events read (matched or left out by the time window).
    pub events: u64,
    /// Records that were in the files but could not be read (each reported).
    pub lost: u64,
    /// Events read but left out: outside the engine's time window, or
    /// without a readable time while a window is set (each file warned).
    pub outside: u64,
    pub untimed: u64,
    pub detections: u64,
    /// Events matched that no loaded rule's logsource selects, and of them
    /// those without a `Channel`.
    pub unserved: Unserved,
}

/// Events that no loaded rule reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unserved {
    pub events: u64,
    /// Of them, those without a `Channel` (no Windows event-log record)
    /// from files that do not say what their events are.
    pub without_channel: u64,
    /// Of them, those from logs that say what their events are (a W3C web
    /// log, a Zeek log, an audit log, a syslog file:
    /// [`crate::events::Source`]).
    pub from_logs: u64,
}

impl Unserved {
    /// Counts an event that matched `hits`, when no loaded rule reads it.
    pub fn count(&mut self, engine: &Engine, e: &Event, hits: &[Hit]) {
        self.add(Unserved::of(e, hits.is_empty() && !engine.serves(e)));
    }

    /// An event, counted if no loaded rule reads it (`unserved`).
    fn of(e: &Event, unserved: bool) -> Unserved {
        if !unserved {
            return Unserved::default();
        }
        // A log that says what it is is read by its kind's rules,
        // `Channel` field or not.
        let (without_channel, from_logs) = match (&e.meta.channel, &e.meta.source) {
            (_, Some(_)) => (0, 1),
            (Some(_), None) => (0, 0),
            (None, None) => (1, 0),
        };
        Unserved {
            events: 1,
            without_channel,
            from_logs,
        }
    }

    fn add(&mut self, other: Unserved) {
        self.events += other.events;
        self.without_channel += other.without_channel;
        self.from_logs += other.from_logs;
    }
}

/// Scan event files (folders walked), in parallel over files and over
/// batches of events within a file; `on_event` sees every event with its
/// detections (called from several threads). Readers keep only the fields
/// the engine reads.
pub fn scan<F>(engine: &Engine, paths: &[PathBuf], diags: &Diagnostics, on_event: F) -> ScanStats
where
    F: Fn(&Event, Vec<Hit>) + Sync,
{
    let to = Delivered::Every(&on_event);
    scan_with(engine, paths, diags, &to)
}

/// [`scan`], `on_fired` seeing only the events that fired (most are freed
/// where they were matched, without crossing threads) and `progress` the
/// number of events read as batches of them are. Once `on_fired` breaks
/// (its output closed: `| head`), nothing more is matched or handed to it,
/// and no further file is opened; what a file's reader has begun it reads
/// to its end.
pub fn scan_fired<F, P>(
    engine: &Engine,
    paths: &[PathBuf],
    diags: &Diagnostics,
    progress: P,
    on_fired: F,
) -> ScanStats
where
    F: Fn(&Event, Vec<Hit>) -> ControlFlow<()> + Sync,
    P: Fn(u64) + Sync,
{
    let to = Delivered::Fired {
        on_fired: &on_fired,
        progress: &progress,
        stopped: AtomicBool::new(false),
    };
    scan_with(engine, paths, diags, &to)
}

/// Whom a scan's events go to.
enum Delivered<'a> {
    /// Every event, with its detections.
    Every(&'a (dyn Fn(&Event, Vec<Hit>) + Sync)),
    /// The events that fired; and how many were read, batch by batch.
    Fired {
        on_fired: &'a (dyn Fn(&Event, Vec<Hit>) -> ControlFlow<()> + Sync),
        progress: &'a (dyn Fn(u64) + Sync),
        /// Set once `on_fired` wants no more.
        stopped: AtomicBool,
    },
}

impl Delivered<'_> {
    fn stopped(&self) -> bool {
        matches!(self, Delivered::Fired { stopped, .. } if stopped.load(Ordering::Relaxed))
    }
}

fn scan_with(
    engine: &Engine,
    paths: &[PathBuf],
    diags: &Diagnostics,
    to: &Delivered<'_>,
) -> ScanStats {
    let files = events::event_files(paths, diags);
    let wanted = engine.wanted();
    let results: Vec<ScanStats> = files
        .par_iter()
        .map(|f| scan_file(engine, f, Some(&wanted), diags, to))
        .collect();
    let mut total = ScanStats {
        files: files.len(),
        ..Default::default()
    };
    for r in results {
        total.events += r.events;
        total.lost += r.lost;
        total.outside += r.outside;
        total.untimed += r.untimed;
        total.detections += r.detections;
        total.unserved.add(r.unserved);
    }
    total
}

fn scan_file(
    engine: &Engine,
    f: &std::path::Path,
    wanted: Option<&events::Wanted>,
    diags: &Diagnostics,
    to: &Delivered<'_>,
) -> ScanStats {
    const BATCH: usize = 512;
    let mut out = Delivery::new(to);
    if to.stopped() {
        return ScanStats::default();
    }
    let fired_only = matches!(to, Delivered::Fired { .. });
    let name = events::name_of(f);
    // JSONL lines and JSON objects are parsed where they are matched, in
    // parallel, and freed there when not handed on; EVTX records and log
    // lines come parsed, and are freed by the thread that made them (a
    // block freed by another thread costs more).
    let read = events::read_batched(f, wanted, diags, BATCH, &mut |batch| match batch {
        events::Batch::Lines(lines) => out.overlap(|| {
            engine.parse_and_match(lines.lines, fired_only, |(no, r)| {
                events::event_from_line(&name, no, &lines.data[r], wanted, diags)
            })
        }),
        events::Batch::Items(items) => {
            out.overlap(|| engine.parse_and_match(items, false, |it| it.into_event(wanted, diags)))
        }
    });
    untimed_told(out.finish(read.map_or(0, |r| r.lost)), f, diags)
}

/// Warns of the events of a file that a time window left out for want of a
/// readable time.
fn untimed_told(st: ScanStats, f: &std::path::Path, diags: &Diagnostics) -> ScanStats {
    if st.untimed > 0 {
        let what = match st.untimed {
            1 => "1 event has no readable time and was".to_string(),
            n => format!("{n} events have no readable time and were"),
        };
        let msg = format!("{what} left out of the time window (--from/--to)");
        diags.push(crate::diag::Diagnostic::warning("events", msg).in_file(f));
    }
    st
}

/// A batch of items, parsed and matched.
#[derive(Default)]
struct Batch {
    /// The events matched (or only those that fired), with their
    /// detections, in order.
    matched: Vec<(Event, Vec<Hit>)>,
    /// How many events were matched.
    read: u64,
    lost: u64,
    outside: u64,
    untimed: u64,
    unserved: Unserved,
}

/// Why an item of a batch was not matched.
enum Unmatched {
    Lost,
    Outside,
    Untimed,
}

impl Engine {
    /// Each item parsed into an event (or lost) and, when it lies in the
    /// time window, matched, in parallel; with `drop_unfired`, the events
    /// that fired nothing are dropped here.
    fn parse_and_match<T: Send>(
        &self,
        items: Vec<T>,
        drop_unfired: bool,
        parse: impl Fn(T) -> Option<Event> + Sync,
    ) -> Batch {
        type Fate = Result<(Option<(Event, Vec<Hit>)>, Unserved), Unmatched>;
        let read: Vec<Fate> = items
            .into_par_iter()
            .map(|it| {
                let e = parse(it).ok_or(Unmatched::Lost)?;
                match self.window.place(e.meta.timestamp.as_deref()) {
                    Placement::Inside => {
                        let (d, served) = self.match_and_serve(&e);
                        let unserved = Unserved::of(&e, d.is_empty() && !served);
                        Ok(((!drop_unfired || !d.is_empty()).then_some((e, d)), unserved))
                    }
                    Placement::Outside => Err(Unmatched::Outside),
                    Placement::Untimed => Err(Unmatched::Untimed),
                }
            })
            .collect();
        let mut b = Batch::default();
        for fate in &read {
            match fate {
                Ok((_, unserved)) => {
                    b.read += 1;
                    b.unserved.add(*unserved);
                }
                Err(Unmatched::Lost) => b.lost += 1,
                Err(Unmatched::Outside) => b.outside += 1,
                Err(Unmatched::Untimed) => b.untimed += 1,
            }
        }
        // Collected in place, in the batch's own allocation.
        b.matched = read.into_iter().filter_map(|f| f.ok()?.0).collect();
        b
    }
}

/// Matched events handed to the caller in reading order, one batch behind
/// the matching: a batch's detections are delivered (printed) while the next
/// batch is matched, so that neither core waits on the other.
struct Delivery<'a> {
    to: &'a Delivered<'a>,
    pending: Vec<(Event, Vec<Hit>)>,
    st: ScanStats,
}

impl<'a> Delivery<'a> {
    fn new(to: &'a Delivered<'a>) -> Self {
        Delivery {
            to,
            pending: Vec::new(),
            st: ScanStats::default(),
        }
    }

    /// Delivers the pending batch while `matched` makes the next one.
    fn overlap<M>(&mut self, matched: M)
    where
        M: FnOnce() -> Batch + Send,
    {
        // Whoever takes the detections wants no more: the batch is dropped.
        if self.to.stopped() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        let (st, to) = (&mut self.st, self.to);
        let ((), next) = rayon::join(|| deliver(&mut pending, st, to), matched);
        // Freed here, not beside the matching: with the system allocator,
        // freeing another thread's blocks while it allocates contends on
        // its arena (a quarter slower).
        drop(pending);
        self.st.lost += next.lost;
        let read = next.read + next.outside + next.untimed;
        self.st.events += read;
        self.st.outside += next.outside;
        self.st.untimed += next.untimed;
        self.st.unserved.add(next.unserved);
        self.pending = next.matched;
        if let Delivered::Fired { progress, .. } = self.to {
            progress(read);
        }
    }

    fn finish(mut self, lost: u64) -> ScanStats {
        deliver(&mut self.pending, &mut self.st, self.to);
        self.st.lost += lost;
        self.st
    }
}

fn deliver(batch: &mut [(Event, Vec<Hit>)], st: &mut ScanStats, to: &Delivered<'_>) {
    for (e, d) in batch {
        match to {
            Delivered::Every(on_event) => {
                st.detections += d.len() as u64;
                on_event(e, std::mem::take(d));
            }
            Delivered::Fired { .. } if d.is_empty() => {}
            Delivered::Fired {
                on_fired, stopped, ..
            } => {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                st.detections += d.len() as u64;
                if on_fired(e, std::mem::take(d)).is_break() {
                    stopped.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}
