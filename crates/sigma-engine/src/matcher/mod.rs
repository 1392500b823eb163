//! The bundled Sigma matcher: compiles rules (the same [`SigmaRule`] model the
//! vault reads), indexes them by logsource so each event meets only the rules
//! that can apply to it, and runs them over events, in parallel.

pub mod compile;
pub mod correlation;
pub mod mapping;
pub(crate) mod pattern;
pub(crate) mod time;

pub use time::{Placement, Window};

use crate::diag::Diagnostics;
use crate::events::{self, Event, EventMeta};
use crate::sigma::{RuleKind, SigmaRule};
use aho_corasick::AhoCorasick;
use compile::{Compiled, Placeholders};
use mapping::{Mapping, SourceEntry};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

/// A rule the engine will not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub rule: usize,
    pub reason: compile::Unsupported,
}

/// One way of running a rule: the events it selects and its compiled detection.
#[derive(Debug)]
struct Variant {
    rule: usize,
    /// The (channel, EventID) pairs it reads; empty channels = no channel
    /// condition (see `reach`).
    channels: Vec<String>,
    ids: Vec<String>,
    reach: Reach,
    /// Extra event conditions from the mapping (besides Channel and EventID).
    conditions: Vec<(String, Vec<String>)>,
    compiled: Compiled,
    necessary: Option<compile::Necessary>,
    /// How many groups of its necessary condition the prefilter must find
    /// (0: evaluated on every event of its buckets).
    groups: u8,
}

/// Which events a variant meets, besides the channels and IDs it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Those of its channels and IDs; every event when it names none.
    Named,
    /// Every Windows event log record, whatever its channel (the mapping's
    /// `Channel: "*"`, for `product: windows` alone).
    AnyChannel,
    /// Events without a channel (a logsource the mapping does not know).
    Unmapped,
}

/// A rule that fired on an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hit {
    /// Index of the rule in the engine's rule list.
    #[serde(skip)]
    pub rule: usize,
    pub event: EventMeta,
    /// (field as the rule names it, the event's value).
    pub fields: Vec<(String, String)>,
}

/// Options of the engine.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub placeholders: Placeholders,
    /// The events a scan matches: those of this span of time.
    pub window: Window,
}

/// The variants that may apply to one kind of event, with a multi-pattern
/// prefilter: a variant with a necessary condition is only evaluated when
/// the automaton scans of the fields find a literal of each of its groups.
#[derive(Debug, Default)]
struct Bucket {
    /// Variants evaluated on every event of the bucket.
    always: Vec<usize>,
    /// Per field: an automaton over the literals, and pattern → the
    /// [`Owner`]s it serves.
    prefilter: Vec<(String, Arc<Literals>, Vec<Vec<Owner>>)>,
}

/// A variant and one group of its necessary condition, in one number.
#[derive(Debug, Clone, Copy)]
struct Owner(u32);

impl Owner {
    /// Enough bits to number [`compile::MOST_GROUPS`] groups.
    const GROUP_BITS: u32 = compile::MOST_GROUPS.trailing_zeros();

    fn new(variant: usize, group: usize) -> Owner {
        debug_assert!(group < compile::MOST_GROUPS);
        Owner(((variant as u32) << Owner::GROUP_BITS) | group as u32)
    }

    fn variant(self) -> usize {
        (self.0 >> Owner::GROUP_BITS) as usize
    }

    fn group(self) -> u32 {
        self.0 & ((1 << Owner::GROUP_BITS) - 1)
    }
}

// A variant's groups are counted in one byte, numbered in `GROUP_BITS`.
const _: () =
    assert!(compile::MOST_GROUPS.is_power_of_two() && compile::MOST_GROUPS <= u8::BITS as usize);

thread_local! {
    /// Per variant, the groups of its necessary condition found in the
    /// event being gathered (one bit each; zero between events): counting
    /// them costs two passes over the groups found, not a sort.
    static GROUPS_FOUND: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A field's literals and their automaton, built when an event first needs
/// it: an input with a few kinds of events (one EVTX file) builds a few
/// automata, not the hundreds the rules may need.
#[derive(Debug)]
struct Literals {
    /// Unique in the process: names the set in [`ScanCache`] (an address
    /// could be reused by a later engine's set).
    id: u64,
    pats: Box<[Box<str>]>,
    ac: std::sync::OnceLock<Option<AhoCorasick>>,
}

static NEXT_LITERALS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Literals {
    fn new(pats: Box<[Box<str>]>) -> Literals {
        Literals {
            id: NEXT_LITERALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            pats,
            ac: std::sync::OnceLock::new(),
        }
    }

    /// Calls `found` with each pattern in `value` (at least once). Scans
    /// go through a per-thread cache: a field's values repeat from event
    /// to event (a product name, an image path, a file's hashes), and
    /// hashing a value costs a fraction of scanning it.
    fn each_in(&self, ac: &AhoCorasick, value: &str, mut found: impl FnMut(usize)) {
        if value.len() > ScanCache::LONGEST {
            for m in ac.find_overlapping_iter(value) {
                found(m.pattern().as_usize());
            }
            return;
        }
        SCANS.with_borrow_mut(|cache| {
            let hash = events::input_hash(value);
            if let Some(pats) = cache.get(self.id, hash, value) {
                return pats.iter().for_each(|&p| found(p as usize));
            }
            let mut pats: Vec<u32> = ac
                .find_overlapping_iter(value)
                .map(|m| m.pattern().as_u32())
                .collect();
            pats.sort_unstable();
            pats.dedup();
            pats.iter().for_each(|&p| found(p as usize));
            cache.put(self.id, hash, value, pats);
        });
    }

    /// The automaton; `None` when it cannot be built (its variants are then
    /// candidates for every event).
    fn automaton(&self) -> Option<&AhoCorasick> {
        self.ac
            .get_or_init(|| {
                // A contiguous NFA: a few MB less per automaton than a
                // DFA, and fields are short, so its scan speed is not the
                // bottleneck. No prefilter: its rare bytes are common in
                // fields such as `Hashes` (hex digits), where restarting at
                // each candidate cost five times the plain scan.
                AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .prefilter(false)
                    .build(self.pats.iter().map(|p| p.as_bytes()))
                    .ok()
            })
            .as_ref()
    }
}

thread_local! {
    static SCANS: std::cell::RefCell<ScanCache> = std::cell::RefCell::default();
}

/// A value and the patterns found in it.
type Scanned = (Box<str>, Box<[u32]>);

/// The patterns found in recent values, per literal set: (set id, value
/// hash) → (value, patterns). Emptied when full, so that a stream of
/// values that never repeat costs a bounded amount of memory.
#[derive(Default)]
struct ScanCache {
    map: FxHashMap<(u64, u64), Vec<Scanned>>,
    len: usize,
}

impl ScanCache {
    /// Values kept at most; longer values (command lines) are scanned each
    /// time, being rarely repeated.
    const LONGEST: usize = 512;
    const ENTRIES: usize = 8192;

    fn get(&self, set: u64, hash: u64, value: &str) -> Option<&[u32]> {
        let same = self
            .map
            .get(&(set, hash))?
            .iter()
            .find(|(v, _)| &**v == value);
        same.map(|(_, pats)| &**pats)
    }

    fn put(&mut self, set: u64, hash: u64, value: &str, pats: Vec<u32>) {
        if self.len >= ScanCache::ENTRIES {
            self.map.clear();
            self.len = 0;
        }
        self.len += 1;
        let entry = (value.into(), pats.into());
        self.map.entry((set, hash)).or_default().push(entry);
    }
}

/// What a bucket will hold, before its automata exist: per field, the
/// literals and, for each, the variants (and groups) that need it.
struct BucketPlan<'a> {
    always: Vec<usize>,
    fields: Vec<FieldPlan<'a>>,
}

/// A field, its literals, and for each literal the groups that need it.
type FieldPlan<'a> = (&'a str, Vec<&'a str>, Vec<Vec<Owner>>);

/// One automaton per distinct literal set: buckets of sibling event kinds
/// (Sysmon 1 and Security 4688, PowerShell's two channels) often test the
/// same literals.
type Automata<'a> = HashMap<Vec<&'a str>, Arc<Literals>>;

impl<'a> BucketPlan<'a> {
    fn new(variants: &'a [Variant], ids: Vec<usize>) -> BucketPlan<'a> {
        let mut always = Vec::new();
        let mut per_field: BTreeMap<&str, BTreeMap<&str, Vec<Owner>>> = BTreeMap::new();
        for vi in ids {
            let Some(nec) = &variants[vi].necessary else {
                always.push(vi);
                continue;
            };
            for (g, alternatives) in nec.iter().enumerate() {
                for (field, lit) in alternatives {
                    per_field
                        .entry(&**field)
                        .or_default()
                        .entry(lit.as_str())
                        .or_default()
                        .push(Owner::new(vi, g));
                }
            }
        }
        let fields = per_field
            .into_iter()
            .map(|(field, lits)| {
                let (pats, owners) = lits.into_iter().unzip();
                (field, pats, owners)
            })
            .collect();
        BucketPlan { always, fields }
    }

    /// The literal sets of many plans, each once (built on first use).
    fn automata<'p>(plans: impl Iterator<Item = &'p BucketPlan<'a>>) -> Automata<'a>
    where
        'a: 'p,
    {
        let mut out = Automata::new();
        for (_, pats, _) in plans.flat_map(|p| &p.fields) {
            out.entry(pats.clone()).or_insert_with(|| {
                Arc::new(Literals::new(pats.iter().map(|&p| p.into()).collect()))
            });
        }
        out
    }

    fn finish(self, automata: &Automata) -> Bucket {
        let mut b = Bucket {
            always: self.always,
            prefilter: Vec::with_capacity(self.fields.len()),
        };
        for (field, pats, owners) in self.fields {
            let lits = automata[pats.as_slice()].clone();
            b.prefilter.push((field.to_string(), lits, owners));
        }
        b.always.sort_unstable();
        b.always.dedup();
        b
    }
}

impl Bucket {
    /// The groups whose literals an event holds (each at least once).
    fn found(&self, e: &Event, out: &mut Vec<Owner>) {
        for (field, lits, owners) in &self.prefilter {
            let Some(ac) = lits.automaton() else {
                out.extend(owners.iter().flatten());
                continue;
            };
            if let Some(values) = e.get(field) {
                for v in values.iter() {
                    lits.each_in(ac, v.lower(), |p| out.extend(&owners[p]));
                }
            }
        }
    }
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
    pub skipped: Vec<Skipped>,
    pub correlations: Vec<usize>,
    /// Filter references that name no loaded rule, or rules outside the
    /// filter's logsource.
    pub filter_notes: Vec<FilterNote>,
    /// See [`EngineOptions::window`].
    pub window: Window,
}

/// Something to tell about a filter rule that does not apply where it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterNote {
    /// The filter (rule index) names a rule that is not loaded.
    NoSuchRule { filter: usize, reference: String },
    /// The named rule's logsource lies outside the filter's: not applied.
    OutsideLogsource { filter: usize, rule: usize },
}

/// The filter rules of a rule set, and which of their references matched.
struct FilterSet<'a> {
    /// (filter rule index, its logsource, its section).
    filters: Vec<(
        usize,
        &'a crate::sigma::rule::LogSource,
        &'a crate::sigma::rule::Filter,
    )>,
    used: std::collections::HashSet<(usize, String)>,
    outside: Vec<FilterNote>,
}

impl<'a> FilterSet<'a> {
    fn new(rules: &'a [SigmaRule]) -> Self {
        let filters = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.filter.as_deref().map(|f| (i, &r.logsource, f)))
            .collect();
        FilterSet {
            filters,
            used: Default::default(),
            outside: Default::default(),
        }
    }

    /// The filter detections that apply to a detection rule: those naming it
    /// (by id or name) or targeting any rule, whose logsource contains the
    /// rule's.
    fn for_rule(&mut self, i: usize, r: &SigmaRule) -> Vec<&'a crate::sigma::rule::Detection> {
        use crate::sigma::rule::FilterTargets;
        let mut out = Vec::new();
        for &(fi, ls, f) in &self.filters {
            let named = match &f.rules {
                FilterTargets::Any => None,
                FilterTargets::Named(names) => match names.iter().find(|n| r.refers_to(n)) {
                    Some(n) => Some(n),
                    None => continue,
                },
            };
            if let Some(n) = named {
                self.used.insert((fi, n.clone()));
            }
            if r.logsource.within(ls) {
                out.push(&f.detection);
            } else if named.is_some() {
                self.outside.push(FilterNote::OutsideLogsource {
                    filter: fi,
                    rule: i,
                });
            }
        }
        out
    }

    fn notes(self) -> Vec<FilterNote> {
        let used = self.used;
        let mut out = Vec::new();
        for (fi, _, f) in &self.filters {
            for n in f.rules.names() {
                if !used.contains(&(*fi, n.clone())) {
                    out.push(FilterNote::NoSuchRule {
                        filter: *fi,
                        reference: n.clone(),
                    });
                }
            }
        }
        out.extend(self.outside);
        out
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
                    opts,
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
            skipped: std::mem::take(&mut routes.skipped),
            correlations,
            filter_notes,
            window: opts.window,
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
        // Past this point `generic` serves the events with a channel.
        generic.extend(any_channel);
        let mut id_plans = Vec::with_capacity(by_channel_id.len());
        for ((ch, id), mut v) in by_channel_id {
            v.extend(by_channel.get(&ch).into_iter().flatten());
            v.extend(&generic);
            id_plans.push((ch, id, BucketPlan::new(&variants, v)));
        }
        let mut channel_plans = Vec::with_capacity(by_channel.len());
        for (ch, mut v) in by_channel {
            v.extend(&generic);
            channel_plans.push((ch, BucketPlan::new(&variants, v)));
        }
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
        for v in &mut variants {
            v.groups = v.necessary.take().map_or(0, |n| n.len() as u8);
        }
        self.variants = variants;
    }
}

/// One shared copy of each field name: thousands of tests name the same few
/// hundred fields.
#[derive(Default)]
struct Interner(std::sync::Mutex<rustc_hash::FxHashSet<Arc<str>>>);

impl Interner {
    fn get(&self, f: &str) -> Arc<str> {
        let mut set = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match set.get(f) {
            Some(a) => a.clone(),
            None => {
                let a: Arc<str> = Arc::from(f);
                set.insert(a.clone());
                a
            }
        }
    }
}

/// What compiling one detection rule needs.
struct RuleCompiler<'a> {
    det: &'a crate::sigma::rule::Detection,
    filters: &'a [&'a crate::sigma::rule::Detection],
    names: &'a Interner,
    opts: &'a EngineOptions,
}

impl RuleCompiler<'_> {
    /// Compiles the rule with the mapping entry's field renames, if any.
    fn compile(&self, entry: Option<&SourceEntry>) -> Result<Compiled, compile::Unsupported> {
        let rename = |f: &str| -> Arc<str> {
            let mapped = entry.and_then(|e| e.fields.iter().find(|(k, _)| k == f));
            self.names.get(mapped.map_or(f, |(_, v)| v.as_str()))
        };
        compile::compile(self.det, &rename, &self.opts.placeholders, self.filters)
    }

    /// Compiles a rule once per mapping entry of its logsource, or once
    /// without renames for a logsource the mapping does not know.
    fn build<'m>(&self, r: &SigmaRule, mapping: &'m Mapping) -> RuleBuild<'m> {
        let entries = mapping.entries_for(&r.logsource);
        if entries.is_empty() {
            return self.build_unmapped(r, mapping);
        }
        let compiled: Result<Vec<_>, _> = entries
            .into_iter()
            .map(|entry| {
                let comp = self.compile(Some(entry))?;
                let nec = comp.necessary();
                Ok((entry, comp, nec))
            })
            .collect();
        compiled.map_or_else(RuleBuild::Skipped, RuleBuild::Mapped)
    }

    fn build_unmapped<'m>(&self, r: &SigmaRule, mapping: &Mapping) -> RuleBuild<'m> {
        let ls = &r.logsource;
        let product = ls.product.as_deref().unwrap_or("");
        if mapping.knows_product(product) || ls.category.as_deref() == Some("antivirus") {
            return RuleBuild::Skipped(compile::Unsupported::NoMapping {
                category: ls.category.as_deref().unwrap_or("-").into(),
                product: product.into(),
                service: ls.service.as_deref().unwrap_or("-").into(),
            });
        }
        match self.compile(None) {
            Ok(comp) => {
                let nec = comp.necessary();
                RuleBuild::Unmapped(comp, nec)
            }
            Err(u) => RuleBuild::Skipped(u),
        }
    }
}

/// A detection rule compiled, before it is routed.
enum RuleBuild<'m> {
    /// Once per mapping entry of its logsource, with its necessary
    /// condition.
    Mapped(Vec<(&'m SourceEntry, Compiled, Option<compile::Necessary>)>),
    /// Once without renames, for a logsource the mapping does not know.
    Unmapped(Compiled, Option<compile::Necessary>),
    Skipped(compile::Unsupported),
}

/// Compiled variants and the lookup keys that route events to them.
#[derive(Default)]
struct Routes {
    variants: Vec<Variant>,
    skipped: Vec<Skipped>,
    by_channel_id: HashMap<(String, String), Vec<usize>>,
    by_channel: HashMap<String, Vec<usize>>,
    generic: Vec<usize>,
    any_channel: Vec<usize>,
    unmapped: Vec<usize>,
}

impl Routes {
    fn add(&mut self, rule: usize, b: RuleBuild) {
        match b {
            RuleBuild::Mapped(all) => all
                .into_iter()
                .for_each(|(entry, comp, nec)| self.route(rule, entry, comp, nec)),
            RuleBuild::Unmapped(comp, necessary) => {
                self.unmapped.push(self.variants.len());
                self.variants.push(Variant {
                    rule,
                    channels: Vec::new(),
                    ids: Vec::new(),
                    reach: Reach::Unmapped,
                    conditions: Vec::new(),
                    groups: 0,
                    necessary,
                    compiled: comp,
                });
            }
            RuleBuild::Skipped(reason) => self.skipped.push(Skipped { rule, reason }),
        }
    }

    /// Files a variant under the channels and event IDs its mapping entry
    /// names; the entry's other conditions stay with the variant.
    fn route(
        &mut self,
        rule: usize,
        entry: &SourceEntry,
        comp: Compiled,
        necessary: Option<compile::Necessary>,
    ) {
        let vi = self.variants.len();
        let find = |key: &str| entry.conditions.iter().find(|(k, _)| k == key);
        let mut channels: Vec<String> = find("Channel")
            .map(|(_, v)| v.iter().map(|c| c.to_lowercase()).collect())
            .unwrap_or_default();
        let reach = if channels.iter().any(|c| c == "*") {
            channels.clear();
            Reach::AnyChannel
        } else {
            Reach::Named
        };
        let ids: Vec<String> = find("EventID").map(|(_, v)| v.clone()).unwrap_or_default();
        // A rule of a whole channel that tests `EventID` itself is filed
        // under those IDs (the bucket key is the event's text, so only
        // plain numbers, which compare alike in any case).
        let digits = |v: &String| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        let (route_ids, necessary) = match comp.required_values("EventID") {
            // Its buckets hold only events of those IDs: testing the ID
            // again in the prefilter would let every one of them by.
            Some(req) if ids.is_empty() && req.iter().all(digits) => {
                (req, necessary.and_then(|n| without_field(n, "EventID")))
            }
            _ => (ids.clone(), necessary),
        };
        let rest: Vec<(String, Vec<String>)> = entry
            .conditions
            .iter()
            .filter(|(k, _)| k != "Channel" && (k != "EventID" || channels.is_empty()))
            .map(|(k, v)| (k.clone(), v.iter().map(|x| x.to_lowercase()).collect()))
            .collect();
        if reach == Reach::AnyChannel {
            self.any_channel.push(vi);
        } else if channels.is_empty() {
            self.generic.push(vi);
        } else if route_ids.is_empty() {
            for ch in &channels {
                self.by_channel.entry(ch.clone()).or_default().push(vi);
            }
        } else {
            for ch in &channels {
                for id in &route_ids {
                    let key = (ch.clone(), id.clone());
                    self.by_channel_id.entry(key).or_default().push(vi);
                }
            }
        }
        self.variants.push(Variant {
            rule,
            channels,
            ids,
            reach,
            conditions: rest,
            groups: 0,
            necessary,
            compiled: comp,
        });
    }
}

/// A necessary condition without its groups on one field.
fn without_field(n: compile::Necessary, field: &str) -> Option<compile::Necessary> {
    let rest: compile::Necessary = n
        .into_iter()
        .filter(|g| g.iter().any(|(f, _)| &**f != field))
        .collect();
    (!rest.is_empty()).then_some(rest)
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
        if every { w.every_field() } else { w }
    }

    /// For every rule: whether any scanned event was of a kind the rule reads
    /// (its logsource had events), given the kinds seen.
    pub fn rules_with_events(&self, seen: &SeenKinds) -> Vec<bool> {
        let mut out = vec![false; self.rules.len()];
        for v in &self.variants {
            let hit = match v.reach {
                Reach::Unmapped => seen.without_channel,
                Reach::AnyChannel => !seen.channels.is_empty(),
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

    /// Number of detection rules that will run.
    pub fn runnable(&self) -> usize {
        let mut v: Vec<usize> = self.variants.iter().map(|x| x.rule).collect();
        v.dedup();
        v.len()
    }

    fn bucket(&self, e: &Event) -> &Bucket {
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
    fn candidates(&self, e: &Event) -> Vec<usize> {
        let bucket = self.bucket(e);
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

    /// Run every applicable rule on one event.
    pub fn match_event(&self, e: &Event) -> Vec<Hit> {
        let mut out: Vec<Hit> = Vec::new();
        for vi in self.candidates(e) {
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
                });
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
    pub without_channel: bool,
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
            None => self.without_channel = true,
        }
    }
    fn any(&self) -> bool {
        self.without_channel || !self.channels.is_empty()
    }
}

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
}

/// Scan event files (folders walked), in parallel over files and over
/// batches of events within a file; `on_event` sees every event with its
/// detections (called from several threads). Readers keep only the fields
/// the engine reads.
pub fn scan<F>(engine: &Engine, paths: &[PathBuf], diags: &Diagnostics, on_event: F) -> ScanStats
where
    F: Fn(&Event, Vec<Hit>) + Sync,
{
    let files = events::event_files(paths, diags);
    let wanted = engine.wanted();
    let results: Vec<ScanStats> = files
        .par_iter()
        .map(|f| scan_file(engine, f, Some(&wanted), diags, &on_event))
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
    }
    total
}

fn scan_file<F>(
    engine: &Engine,
    f: &std::path::Path,
    wanted: Option<&events::Wanted>,
    diags: &Diagnostics,
    on_event: &F,
) -> ScanStats
where
    F: Fn(&Event, Vec<Hit>) + Sync,
{
    const BATCH: usize = 512;
    let mut out = Delivery::new(on_event);
    if matches!(events::sniff(f), Ok(Some(events::EventFormat::Json))) && events::is_jsonl(f) {
        // JSONL: lines are parsed and matched in parallel, batch by batch.
        let name: Arc<str> = Arc::from(f.to_string_lossy().as_ref());
        events::read_lines(f, BATCH, diags, &mut |lines| {
            out.overlap(|| {
                engine.parse_and_match(lines.lines, |(no, r)| {
                    events::event_from_line(&name, no, &lines.data[r], wanted, diags)
                })
            });
        });
        return untimed_told(out.finish(0), f, diags);
    }
    // Other JSON: objects are parsed where they are matched; EVTX records
    // come parsed.
    let read = events::read_file_batched(f, wanted, diags, BATCH, &mut |items| {
        out.overlap(|| engine.parse_and_match(items, |it| it.into_event(wanted, diags)));
    });
    untimed_told(out.finish(read.map_or(0, |r| r.lost)), f, diags)
}

/// Warns of the events of a file that a time window left out for want of a
/// readable time.
fn untimed_told(st: ScanStats, f: &std::path::Path, diags: &Diagnostics) -> ScanStats {
    if st.untimed > 0 {
        let msg = format!(
            "{} events have no readable time and were left out of the time window (--from/--to)",
            st.untimed
        );
        diags.push(crate::diag::Diagnostic::warning("events", msg).in_file(f));
    }
    st
}

/// A batch of items, parsed and matched.
#[derive(Default)]
struct Batch {
    /// The events matched, with their detections, in order.
    matched: Vec<(Event, Vec<Hit>)>,
    lost: u64,
    outside: u64,
    untimed: u64,
}

/// Why an item of a batch was not matched.
enum Unmatched {
    Lost,
    Outside,
    Untimed,
}

impl Engine {
    /// Each item parsed into an event (or lost) and, when it lies in the
    /// time window, matched, in parallel.
    fn parse_and_match<T: Send>(
        &self,
        items: Vec<T>,
        parse: impl Fn(T) -> Option<Event> + Sync,
    ) -> Batch {
        let read: Vec<Result<(Event, Vec<Hit>), Unmatched>> = items
            .into_par_iter()
            .map(|it| {
                let e = parse(it).ok_or(Unmatched::Lost)?;
                match self.window.place(e.meta.timestamp.as_deref()) {
                    Placement::Inside => {
                        let d = self.match_event(&e);
                        Ok((e, d))
                    }
                    Placement::Outside => Err(Unmatched::Outside),
                    Placement::Untimed => Err(Unmatched::Untimed),
                }
            })
            .collect();
        let mut b = Batch {
            matched: Vec::with_capacity(read.len()),
            ..Batch::default()
        };
        for fate in read {
            match fate {
                Ok(matched) => b.matched.push(matched),
                Err(Unmatched::Lost) => b.lost += 1,
                Err(Unmatched::Outside) => b.outside += 1,
                Err(Unmatched::Untimed) => b.untimed += 1,
            }
        }
        b
    }
}

/// Matched events handed to the caller in reading order, one batch behind
/// the matching: a batch's detections are delivered (printed) while the next
/// batch is matched, so that neither core waits on the other.
struct Delivery<'f, F> {
    on_event: &'f F,
    pending: Vec<(Event, Vec<Hit>)>,
    st: ScanStats,
}

impl<'f, F: Fn(&Event, Vec<Hit>) + Sync> Delivery<'f, F> {
    fn new(on_event: &'f F) -> Self {
        Delivery {
            on_event,
            pending: Vec::new(),
            st: ScanStats::default(),
        }
    }

    /// Delivers the pending batch while `matched` makes the next one.
    fn overlap<M>(&mut self, matched: M)
    where
        M: FnOnce() -> Batch + Send,
    {
        let mut pending = std::mem::take(&mut self.pending);
        let (st, on_event) = (&mut self.st, self.on_event);
        let ((), next) = rayon::join(|| deliver(&mut pending, st, on_event), matched);
        // Freed here, not beside the matching: with the system allocator,
        // freeing another thread's blocks while it allocates contends on
        // its arena (a quarter slower).
        drop(pending);
        self.st.lost += next.lost;
        self.st.events += next.outside + next.untimed;
        self.st.outside += next.outside;
        self.st.untimed += next.untimed;
        self.pending = next.matched;
    }

    fn finish(mut self, lost: u64) -> ScanStats {
        deliver(&mut self.pending, &mut self.st, self.on_event);
        self.st.lost += lost;
        self.st
    }
}

fn deliver<F: Fn(&Event, Vec<Hit>)>(
    batch: &mut [(Event, Vec<Hit>)],
    st: &mut ScanStats,
    on_event: &F,
) {
    for (e, d) in batch {
        st.events += 1;
        st.detections += d.len() as u64;
        on_event(e, std::mem::take(d));
    }
}

#[cfg(test)]
mod tests;
