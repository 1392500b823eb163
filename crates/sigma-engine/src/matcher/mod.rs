//! The bundled Sigma matcher: compiles rules (the same [`SigmaRule`] model the
//! vault reads), indexes them by logsource so each event meets only the rules
//! that can apply to it, and runs them over events, in parallel.
//!
//! The way of a rule: [`compile`] turns its detection (with the `filters`
//! that apply to it) into tests; `routes` makes one variant per
//! [`mapping`] entry of its logsource and files it under the channels and
//! EventIDs it selects; the engine gathers each kind of event's variants in
//! a bucket, whose `prefilter` finds the literals a variant needs before
//! it is evaluated (a log that says what its events are has a bucket of
//! the rules that read them: `sources`). The way of an event: [`scan`]
//! reads files in parallel, keeps those in the time window (`time`), looks
//! up its bucket, and hands events with their detections back in reading
//! order; [`correlation`] rules then run over the detections.

pub mod compile;
pub mod correlation;
mod filters;
pub mod mapping;
mod networks;
pub(crate) mod pattern;
mod prefilter;
mod routes;
mod scan;
mod sources;
pub(crate) mod time;

pub use filters::FilterNote;
use filters::FilterSet;
use prefilter::{Bucket, BucketPlan, GROUPS_FOUND, Owner};
pub use routes::Skipped;
use routes::{Interner, Reach, Routes, RuleBuild, RuleCompiler, Variant};
pub use scan::{ScanStats, Unserved, scan, scan_fired};
pub use time::{Placement, Window, epoch_nanos};

use crate::diag::Diagnostics;
use crate::events::{self, Event, EventFields, EventMeta};
use crate::sigma::{RuleKind, SigmaRule};
use compile::Placeholders;
use mapping::Mapping;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// A rule that fired on an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    /// Index of the rule in the engine's rule list.
    #[serde(skip)]
    pub rule: usize,
    pub event: EventMeta,
    /// (field as the rule names it, the event's value).
    pub fields: Vec<(String, String)>,
    /// The whole event, when [`EngineOptions::whole_events`] asks for it
    /// (shared by the event's hits).
    #[serde(skip)]
    pub whole: Option<Arc<EventFields>>,
}

/// Options of the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub placeholders: Placeholders,
    /// The events a scan matches: those of this span of time.
    pub window: Window,
    /// Readers keep every field of an event, not only those the rules read,
    /// and each hit carries its whole event ([`Hit::whole`]).
    pub whole_events: bool,
}

/// Compiled rules, indexed by the events they select.
#[derive(Debug)]
pub struct Engine {
    /// The rules, in the order given. Once compiled, detection and filter
    /// rules no longer carry their `detection` / `filter` trees.
    pub rules: Vec<SigmaRule>,
    variants: Vec<Variant>,
    /// channel lower-case → EventID → variants (including those of the
    /// channel that take any EventID, and the generic ones). Nested so that
    /// looking an event up allocates nothing; Fx-hashed, as every event is
    /// looked up (the keys are the rules' own, not the input's).
    by_channel_id: FxHashMap<String, FxHashMap<String, Bucket>>,
    /// channel lower-case → variants that take any EventID (and generic ones).
    by_channel: FxHashMap<String, Bucket>,
    /// Variants whose mapping names no channel (checked against every event).
    generic: Bucket,
    /// Rules with no mapping for their logsource, run on events that are not
    /// Windows event log records (no `Channel`), plus the generic ones.
    unmapped: Bucket,
    /// Each channel the mapping names → the products of the logsources
    /// that name it ([`Engine::any_channel_reads`]).
    channel_products: std::collections::HashMap<String, Vec<String>>,
    /// The variants of `unmapped`: those of an event whose log names its
    /// kind ([`EventMeta::source`]) are the ones that read it.
    unmapped_variants: Vec<usize>,
    /// The buckets of events whose log names their kind.
    by_source: sources::SourceBuckets,
    pub skipped: Vec<Skipped>,
    pub correlations: Vec<usize>,
    /// Filter references that name no loaded rule, or rules outside the
    /// filter's logsource.
    pub filter_notes: Vec<FilterNote>,
    /// See [`EngineOptions::window`].
    pub window: Window,
    /// See [`EngineOptions::whole_events`].
    pub whole_events: bool,
}

/// An event's bucket: one of the engine's, or one of a log's kind, shared.
enum EventBucket<'a> {
    Fixed(&'a Bucket),
    OfSource(Arc<Bucket>),
}

impl std::ops::Deref for EventBucket<'_> {
    type Target = Bucket;

    fn deref(&self) -> &Bucket {
        match self {
            EventBucket::Fixed(b) => b,
            EventBucket::OfSource(b) => b,
        }
    }
}

impl Engine {
    /// Compile rules. Rules that cannot run are listed in [`Engine::skipped`]
    /// with the reason; they never stop the others.
    pub fn new(mut rules: Vec<SigmaRule>, mapping: &Mapping, opts: &EngineOptions) -> Engine {
        let mut routes = Routes::default();
        let mut filters = FilterSet::new(&rules);
        let names = Interner::default();
        let mut correlations = Vec::new();
        // Filters are looked up in order (they note the references that
        // matched); the rules then compile in parallel, and are routed in
        // order, so that the engine is the same from run to run.
        let mut jobs = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            match (r.kind, &r.detection) {
                (RuleKind::Correlation, _) => correlations.push(i),
                (RuleKind::Detection, Some(det)) => jobs.push((i, det, filters.for_rule(i, r))),
                _ => {}
            }
        }
        let compiled: Vec<(usize, RuleBuild)> = jobs
            .par_iter()
            .map(|(i, det, fs)| {
                let c = RuleCompiler {
                    det,
                    filters: fs,
                    names: &names,
                    placeholders: &opts.placeholders,
                };
                (*i, c.build(&rules[*i], mapping))
            })
            .collect();
        for (i, b) in compiled {
            routes.add(i, b);
        }
        let filter_notes = filters.notes();
        // Compiled: the detection trees are no longer needed, and freeing
        // them before the automata are built lowers the peak.
        for r in &mut rules {
            if r.kind != RuleKind::Correlation {
                r.detection = None;
                r.filter = None;
            }
        }
        let mut e = Engine {
            rules,
            variants: Vec::new(),
            by_channel_id: FxHashMap::default(),
            by_channel: FxHashMap::default(),
            generic: Bucket::default(),
            unmapped: Bucket::default(),
            unmapped_variants: Vec::new(),
            by_source: sources::SourceBuckets::default(),
            channel_products: mapping.channel_products(),
            skipped: std::mem::take(&mut routes.skipped),
            correlations,
            filter_notes,
            window: opts.window,
            whole_events: opts.whole_events,
        };
        e.build_buckets(routes);
        e
    }

    /// Each bucket holds every variant an event of its kind may meet, so
    /// that one lookup gives one prefilter.
    fn build_buckets(&mut self, r: Routes) {
        let Routes {
            mut variants,
            by_channel_id,
            by_channel,
            mut generic,
            any_channel,
            mut unmapped,
            ..
        } = r;
        unmapped.extend(&generic);
        self.unmapped_variants = unmapped.clone();
        let services = unmapped.iter().flat_map(|&vi| {
            let rule = &self.rules[variants[vi].rule];
            routes::source_names(&rule.logsource)
        });
        self.by_source = sources::SourceBuckets::new(services);
        // Past this point `generic` serves the events with a channel.
        let any_of = |ch: &str| {
            let reads = |vi: &&usize| self.any_channel_reads(variants[**vi].rule, ch);
            any_channel
                .iter()
                .filter(reads)
                .copied()
                .collect::<Vec<_>>()
        };
        let mut id_plans = Vec::with_capacity(by_channel_id.len());
        for ((ch, id), mut v) in by_channel_id {
            v.extend(by_channel.get(&ch).into_iter().flatten());
            v.extend(&generic);
            v.extend(any_of(&ch));
            id_plans.push((ch, id, BucketPlan::new(&variants, v)));
        }
        // A channel some `Channel: "*"` rules do not read needs a bucket of
        // its own, even where no rule names it.
        let mut by_channel = by_channel;
        for ch in self.channel_products.keys() {
            if any_of(ch).len() < any_channel.len() {
                by_channel.entry(ch.clone()).or_default();
            }
        }
        let mut channel_plans = Vec::with_capacity(by_channel.len());
        for (ch, mut v) in by_channel {
            v.extend(&generic);
            v.extend(any_of(&ch));
            channel_plans.push((ch, BucketPlan::new(&variants, v)));
        }
        // A channel no entry names: every `Channel: "*"` rule reads it.
        generic.extend(any_channel);
        let unmapped = BucketPlan::new(&variants, unmapped);
        let generic = BucketPlan::new(&variants, generic);
        let automata = BucketPlan::automata(
            id_plans
                .iter()
                .map(|(_, _, p)| p)
                .chain(channel_plans.iter().map(|(_, p)| p))
                .chain([&unmapped, &generic]),
        );
        for (ch, id, p) in id_plans {
            self.by_channel_id
                .entry(ch)
                .or_default()
                .insert(id, p.finish(&automata));
        }
        for (ch, p) in channel_plans {
            self.by_channel.insert(ch, p.finish(&automata));
        }
        self.unmapped = unmapped.finish(&automata);
        self.generic = generic.finish(&automata);
        drop(automata);
        // The buckets of sources are planned when first met, from the
        // necessary conditions of `unmapped`; the others are done with.
        let mut keep = vec![false; variants.len()];
        self.unmapped_variants
            .iter()
            .for_each(|&vi| keep[vi] = true);
        for (v, keep) in variants.iter_mut().zip(keep) {
            v.groups = v.necessary.as_ref().map_or(0, |n| n.len() as u8);
            if !keep {
                v.necessary = None;
            }
        }
        self.variants = variants;
    }
}

impl Engine {
    /// Report the filter notes as warnings, each at the filter's file.
    pub fn report_filters(&self, diags: &Diagnostics) {
        for n in &self.filter_notes {
            let (fi, msg) = match n {
                FilterNote::NoSuchRule { filter, reference } => (
                    *filter,
                    format!("filter names `{reference}`, which is no loaded rule's id or name"),
                ),
                FilterNote::OutsideLogsource { filter, rule } => (
                    *filter,
                    format!(
                        "filter not applied to `{}`: that rule's logsource lies outside the filter's",
                        self.rules[*rule].title
                    ),
                ),
            };
            let f = &self.rules[fi];
            diags.push(
                crate::diag::Diagnostic::warning("filter", msg)
                    .in_file(&f.path)
                    .at(Some(f.line), None),
            );
        }
    }

    /// The event fields the compiled rules (and correlations) read, for
    /// readers to keep only those; every field as well when a keyword
    /// search reads every value.
    pub fn wanted(&self) -> events::Wanted {
        let mut names: Vec<&str> = Vec::new();
        let mut every = false;
        for v in &self.variants {
            every |= !v.compiled.read_fields(&mut names);
            names.extend(v.conditions.iter().map(|(k, _)| k.as_str()));
        }
        names.extend(["Channel", "EventID"]);
        for &ci in &self.correlations {
            if let Some(c) = &self.rules[ci].correlation {
                names.extend(c.group_by.iter().map(String::as_str));
                names.extend(c.condition.iter().filter_map(|x| x.field.as_deref()));
                for (_, per_rule) in &c.aliases {
                    names.extend(per_rule.iter().map(|(_, f)| f.as_str()));
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        let w = events::Wanted::new(names);
        if every || self.whole_events {
            w.every_field()
        } else {
            w
        }
    }

    /// For every rule: whether any scanned event was of a kind the rule reads
    /// (its logsource had events), given the kinds seen.
    pub fn rules_with_events(&self, seen: &SeenKinds) -> Vec<bool> {
        let mut out = vec![false; self.rules.len()];
        for v in &self.variants {
            let hit = match v.reach {
                Reach::Unmapped => {
                    let logsource = &self.rules[v.rule].logsource;
                    seen.without_channel || seen.sources.iter().any(|s| routes::reads(s, logsource))
                }
                Reach::AnyChannel => {
                    (seen.channels.iter()).any(|c| self.any_channel_reads(v.rule, c))
                }
                Reach::Named if v.channels.is_empty() => seen.any(),
                Reach::Named if v.ids.is_empty() => {
                    v.channels.iter().any(|c| seen.channels.contains(c))
                }
                Reach::Named => v.channels.iter().any(|c| {
                    v.ids
                        .iter()
                        .any(|i| seen.pairs.contains(&(c.clone(), i.clone())))
                }),
            };
            out[v.rule] |= hit;
        }
        out
    }

    /// Whether a rule of `Channel: "*"` (every Windows event-log record)
    /// reads events of the channel `ch` (lower case): not when only other
    /// products' logsources name it (a Windows rule and Sysmon for Linux's).
    fn any_channel_reads(&self, rule: usize, ch: &str) -> bool {
        let product = self.rules[rule].logsource.product.as_deref().unwrap_or("");
        self.channel_products
            .get(ch)
            .is_none_or(|ps| ps.iter().any(|p| p.eq_ignore_ascii_case(product)))
    }

    /// Number of detection rules that will run.
    pub fn runnable(&self) -> usize {
        let mut v: Vec<usize> = self.variants.iter().map(|x| x.rule).collect();
        v.dedup();
        v.len()
    }

    /// The bucket of an event: its log's, if the log says what it is (a
    /// `Channel` field does not make it a Windows event-log record), else
    /// its channel's and event ID's.
    fn bucket(&self, e: &Event) -> EventBucket<'_> {
        match self.source_bucket(e) {
            Some(b) => EventBucket::OfSource(b),
            None => EventBucket::Fixed(self.channel_bucket(e)),
        }
    }

    fn channel_bucket(&self, e: &Event) -> &Bucket {
        let Some(ch) = e.meta.channel.as_deref() else {
            return &self.unmapped;
        };
        // The event keeps the lower-cased text of its `Channel` field.
        let lower = e.get("Channel").and_then(|v| v.first()).map(|v| v.lower());
        let ch: std::borrow::Cow<str> = match lower {
            Some(l) if l.len() == ch.len() => l.into(),
            _ if ch.chars().any(char::is_uppercase) => ch.to_lowercase().into(),
            _ => ch.into(),
        };
        if let Some(id) = e.meta.event_id.as_deref()
            && let Some(b) = self
                .by_channel_id
                .get(ch.as_ref())
                .and_then(|ids| ids.get(id))
        {
            return b;
        }
        self.by_channel.get(ch.as_ref()).unwrap_or(&self.generic)
    }

    /// The variants to evaluate on an event: those of its bucket without a
    /// necessary condition, and those whose every group the prefilter found.
    fn candidates(&self, e: &Event, bucket: &Bucket) -> Vec<usize> {
        // Events meet a few dozen groups: one allocation, not a series of
        // regrowths.
        let mut found: Vec<Owner> = Vec::with_capacity(64);
        bucket.found(e, &mut found);
        let mut out: Vec<usize> = bucket.always.clone();
        GROUPS_FOUND.with_borrow_mut(|masks| {
            if masks.len() < self.variants.len() {
                masks.resize(self.variants.len(), 0);
            }
            for o in &found {
                masks[o.variant()] |= 1 << o.group();
            }
            // Taking a mask resets it for the next event, and skips the
            // variant's other owners.
            for o in &found {
                let vi = o.variant();
                let mask = std::mem::take(&mut masks[vi]);
                if mask != 0 && mask.count_ones() == u32::from(self.variants[vi].groups) {
                    out.push(vi);
                }
            }
        });
        out.sort_unstable();
        out
    }

    /// Whether some loaded rule's logsource selects this event: one that no
    /// rule reads is read in vain (a JSON event without `Channel` is no
    /// Windows event-log record to the Windows rules).
    pub fn serves(&self, e: &Event) -> bool {
        !self.bucket(e).is_empty()
    }

    /// The bucket of an event whose log names its kind: the variants of
    /// the rules that read it.
    fn source_bucket(&self, e: &Event) -> Option<Arc<Bucket>> {
        let source = e.meta.source.as_ref()?;
        let plan = || {
            let reads = |vi: &usize| {
                let rule = &self.rules[self.variants[*vi].rule];
                routes::reads(source, &rule.logsource)
            };
            let ids = self.unmapped_variants.iter().copied().filter(reads);
            sources::bucket_of(&self.variants, ids.collect())
        };
        Some(self.by_source.get(source, plan))
    }

    /// Run every applicable rule on one event.
    pub fn match_event(&self, e: &Event) -> Vec<Hit> {
        self.match_and_serve(e).0
    }

    /// [`Engine::match_event`], and whether any loaded rule reads the
    /// event ([`Engine::serves`]), its bucket found once.
    pub(crate) fn match_and_serve(&self, e: &Event) -> (Vec<Hit>, bool) {
        let bucket = self.bucket(e);
        let hits = self.hits(e, self.candidates(e, &bucket));
        (hits, !bucket.is_empty())
    }

    /// Every rule of the event's bucket run on it, the prefilter left
    /// out: what [`Engine::match_event`] must find, for tests that compare
    /// the two.
    #[doc(hidden)]
    pub fn match_event_unfiltered(&self, e: &Event) -> Vec<Hit> {
        let bucket = self.bucket(e);
        let mut all = bucket.always.clone();
        let owners = bucket
            .prefilter
            .iter()
            .flat_map(|(_, _, o)| o.iter().flatten());
        all.extend(owners.map(|o| o.variant()));
        all.sort_unstable();
        all.dedup();
        self.hits(e, all)
    }

    /// The hits of these variants (in order) on an event, one per rule.
    fn hits(&self, e: &Event, candidates: Vec<usize>) -> Vec<Hit> {
        let mut out: Vec<Hit> = Vec::new();
        for vi in candidates {
            let v = &self.variants[vi];
            let ok = v.conditions.iter().all(|(field, accepted)| {
                e.get(field).is_some_and(|vals| {
                    vals.iter().any(|x| accepted.iter().any(|a| a == x.lower()))
                })
            });
            if !ok || out.iter().any(|d| d.rule == v.rule) {
                continue;
            }
            if let Some(fields) = v.compiled.match_fields(e) {
                out.push(Hit {
                    rule: v.rule,
                    event: e.meta.clone(),
                    fields,
                    whole: None,
                });
            }
        }
        if self.whole_events && !out.is_empty() {
            let whole = Arc::new(e.whole());
            for h in &mut out {
                h.whole = Some(Arc::clone(&whole));
            }
        }
        out
    }

    /// The event fields a rule reads (first variant), for reports.
    pub fn rule_fields(&self, rule: usize) -> Vec<String> {
        self.variants
            .iter()
            .find(|v| v.rule == rule)
            .map(|v| {
                v.compiled
                    .fields()
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The kinds of events a scan saw, to tell "no event for this logsource" from
/// "events, but the rule never fired".
#[derive(Debug, Default, Clone)]
pub struct SeenKinds {
    /// (channel lower-case, EventID).
    pub pairs: std::collections::HashSet<(String, String)>,
    pub channels: std::collections::HashSet<String>,
    /// Events without a channel, and without a log naming their kind.
    pub without_channel: bool,
    /// The kinds the logs of events without a channel named.
    pub sources: std::collections::HashSet<events::Source>,
}

impl SeenKinds {
    /// Record one event's kind.
    pub fn add(&mut self, e: &Event) {
        match e.meta.channel.as_deref() {
            Some(ch) => {
                let ch = ch.to_lowercase();
                if let Some(id) = &e.meta.event_id {
                    self.pairs.insert((ch.clone(), id.clone()));
                }
                self.channels.insert(ch);
            }
            None => match &e.meta.source {
                Some(s) => _ = self.sources.insert(s.clone()),
                None => self.without_channel = true,
            },
        }
    }
    fn any(&self) -> bool {
        self.without_channel || !self.channels.is_empty() || !self.sources.is_empty()
    }
}

#[cfg(test)]
mod tests;
