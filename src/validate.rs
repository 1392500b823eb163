//! Validation: run every loaded rule over sample events during a build and
//! keep what the vault shows — which rules fired on which events and files,
//! and whether a rule that never fired had events of its logsource at all.

use crate::model::validation::{
    CorrelationMatch, CorrelationResult, EventFile, RuleResult, Sample, Validation,
};
use sigma_engine::diag::Diagnostics;
use sigma_engine::events::Event;
use sigma_engine::matcher::correlation::{CorrelationHit, Correlator};
use sigma_engine::matcher::mapping::Mapping;
use sigma_engine::matcher::{Engine, EngineOptions, SeenKinds, scan};
use sigma_engine::sigma::SigmaRule;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

/// How many matches of each rule are kept as examples.
pub const SAMPLES_PER_RULE: usize = 3;

/// How many matches of each correlation rule are kept.
pub const MATCHES_PER_CORRELATION: usize = 10;

/// Keep a match as one of its rule's examples when it is among the
/// earliest (by file, then record), whatever the order threads deliver
/// them in, so the vault is deterministic. The fields the rule matched come
/// first, then the others it names.
fn keep_sample(
    engine: &Engine,
    rr: &mut RuleResult,
    fi: usize,
    e: &Event,
    d: &sigma_engine::matcher::Hit,
) {
    let key = (fi, e.meta.record);
    let full = rr.samples.len() >= SAMPLES_PER_RULE;
    if full && rr.samples.last().is_none_or(|s| (s.file, s.record) <= key) {
        return;
    }
    let mut fields: Vec<(String, String, bool)> = d
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone(), true))
        .collect();
    for f in engine.rule_fields(d.rule) {
        if !fields.iter().any(|(k, _, _)| *k == f)
            && let Some(v) = e.text(&f)
        {
            fields.push((f.clone(), v.to_string(), false));
        }
    }
    rr.samples.push(Sample {
        file: fi,
        record: e.meta.record,
        timestamp: e.meta.timestamp.clone(),
        computer: e.meta.computer.clone(),
        channel: e.meta.channel.clone(),
        event_id: e.meta.event_id.clone(),
        fields,
    });
    rr.samples.sort_by_key(|s| (s.file, s.record));
    rr.samples.truncate(SAMPLES_PER_RULE);
}

/// Run `rules` over the events under `paths` (and over `embedded` JSON texts,
/// given as (name, text), for the demo dataset).
pub fn run(
    rules: &[SigmaRule],
    paths: &[PathBuf],
    embedded: &[(&str, &str)],
    mapping: &Mapping,
    diags: &Diagnostics,
) -> Validation {
    let start = Instant::now();
    let engine = Engine::new(rules.to_vec(), mapping, &EngineOptions::default());
    engine.report_filters(diags);
    let mut files = sigma_engine::events::event_files(paths, diags);
    let first_embedded = files.len();
    files.extend(embedded.iter().map(|(n, _)| PathBuf::from(n)));
    let tally = Tally::new(&files, rules.len());
    let correlator = Correlator::new(&engine);
    let on_event = |e: &Event, dets: Vec<sigma_engine::matcher::Hit>| {
        if correlator.is_active() {
            correlator.record(e, &dets);
        }
        tally.add(&engine, e, dets)
    };
    let mut stats = scan(&engine, &files[..first_embedded], diags, on_event);
    for (name, text) in embedded {
        let n = sigma_engine::events::read_text(name, text, diags, &mut |e| {
            let d = engine.match_event(&e);
            stats.detections += d.len() as u64;
            stats.unserved.count(&engine, &e, &d);
            on_event(&e, d);
        });
        stats.events += n;
    }
    let counted: Vec<(usize, Vec<usize>)> = engine
        .correlations
        .iter()
        .map(|&ci| (ci, correlator.referenced(ci)))
        .collect();
    tally.add_correlations(correlator.finish(diags));
    let (files, mut rules) = tally.finish(&engine);
    for (ci, refs) in counted {
        let inputs = refs.iter().map(|&r| rules[r].events).sum();
        rules[ci].correlation.get_or_insert_default().inputs = inputs;
    }
    Validation {
        files,
        rules,
        events: stats.events,
        lost: stats.lost,
        detections: stats.detections,
        unserved: stats.unserved,
        elapsed: start.elapsed(),
    }
}

/// What the matched events add up to, per file and per rule, as threads
/// deliver them.
struct Tally {
    file_index: BTreeMap<String, usize>,
    rules: Mutex<Vec<RuleResult>>,
    files: Mutex<Vec<EventFile>>,
    seen: Mutex<SeenKinds>,
}

impl Tally {
    fn new(files: &[PathBuf], rules: usize) -> Tally {
        let file_index = files
            .iter()
            .enumerate()
            .map(|(i, p)| (p.to_string_lossy().to_string(), i))
            .collect();
        let files = files
            .iter()
            .map(|p| EventFile {
                path: p.clone(),
                ..Default::default()
            })
            .collect();
        Tally {
            file_index,
            rules: Mutex::new(vec![RuleResult::default(); rules]),
            files: Mutex::new(files),
            seen: Mutex::new(SeenKinds::default()),
        }
    }

    /// One event and the rules that fired on it.
    fn add(&self, engine: &Engine, e: &Event, dets: Vec<sigma_engine::matcher::Hit>) {
        let fi = self.file_index.get(&*e.meta.file).copied().unwrap_or(0);
        lock(&self.seen).add(e);
        {
            let mut f = lock(&self.files);
            f[fi].events += 1;
            for d in &dets {
                *f[fi].rules.entry(d.rule).or_default() += 1;
            }
        }
        if dets.is_empty() {
            return;
        }
        let mut r = lock(&self.rules);
        for d in dets {
            let rr = &mut r[d.rule];
            rr.events += 1;
            *rr.files.entry(fi).or_default() += 1;
            keep_sample(engine, rr, fi, e, &d);
        }
    }

    /// The correlations' matches, once the scan is over: each counts for
    /// its rule, and for the file of its first event.
    fn add_correlations(&self, hits: Vec<CorrelationHit>) {
        let mut rules = lock(&self.rules);
        let mut files = lock(&self.files);
        for h in hits {
            let rr = &mut rules[h.rule];
            rr.events += 1;
            let first = h.events.first().map(|m| &*m.file);
            if let Some(&fi) = first.and_then(|f| self.file_index.get(f)) {
                *rr.files.entry(fi).or_default() += 1;
                *files[fi].rules.entry(h.rule).or_default() += 1;
            }
            let c = rr
                .correlation
                .get_or_insert_with(CorrelationResult::default);
            if c.matches.len() < MATCHES_PER_CORRELATION {
                c.matches.push(CorrelationMatch {
                    group: h.group,
                    first: h.first,
                    last: h.last,
                    count: h.count,
                    value: h.value,
                });
            }
        }
    }

    /// The files and the rules, each rule told whether events of its
    /// logsource came and why it was skipped.
    fn finish(self, engine: &Engine) -> (Vec<EventFile>, Vec<RuleResult>) {
        let mut rules = self.rules.into_inner().unwrap_or_else(|p| p.into_inner());
        let seen = self.seen.into_inner().unwrap_or_else(|p| p.into_inner());
        for (r, had) in rules.iter_mut().zip(engine.rules_with_events(&seen)) {
            r.logsource_seen = had;
            // Samples arrive in thread order; keep the earliest events.
            r.samples.sort_by_key(|s| (s.file, s.record));
        }
        for s in &engine.skipped {
            rules[s.rule].skipped = Some(s.reason.to_string());
        }
        let files = self.files.into_inner().unwrap_or_else(|p| p.into_inner());
        (files, rules)
    }
}

/// A lock even if a thread panicked holding it: the tallies stay whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
