//! The multi-pattern prefilter: per kind of event, the literals each
//! variant's necessary condition needs, one automaton per field, and a
//! per-thread cache of the patterns found in recent values. A variant is
//! evaluated only on events where a literal of each of its groups was found.

use super::compile;
use super::routes::Variant;
use crate::events::{self, Event};
use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The variants that may apply to one kind of event, with a multi-pattern
/// prefilter: a variant with a necessary condition is only evaluated when
/// the automaton scans of the fields find a literal of each of its groups.
#[derive(Debug, Default)]
pub(super) struct Bucket {
    /// Variants evaluated on every event of the bucket.
    pub(super) always: Vec<usize>,
    /// Per field: an automaton over the literals, and pattern → the
    /// [`Owner`]s it serves.
    pub(super) prefilter: Vec<(String, Arc<Literals>, Vec<Vec<Owner>>)>,
}

/// A variant and one group of its necessary condition, in one number.
#[derive(Debug, Clone, Copy)]
pub(super) struct Owner(u32);

impl Owner {
    /// Enough bits to number [`compile::MOST_GROUPS`] groups.
    const GROUP_BITS: u32 = compile::MOST_GROUPS.trailing_zeros();

    pub(super) fn new(variant: usize, group: usize) -> Owner {
        debug_assert!(group < compile::MOST_GROUPS);
        Owner(((variant as u32) << Owner::GROUP_BITS) | group as u32)
    }

    pub(super) fn variant(self) -> usize {
        (self.0 >> Owner::GROUP_BITS) as usize
    }

    pub(super) fn group(self) -> u32 {
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
    pub(super) static GROUPS_FOUND: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A field's literals and their automaton, built when an event first needs
/// it: an input with a few kinds of events (one EVTX file) builds a few
/// automata, not the hundreds the rules may need.
#[derive(Debug)]
pub(super) struct Literals {
    /// Unique in the process: names the set in [`ScanCache`] (an address
    /// could be reused by a later engine's set).
    id: u64,
    pats: Box<[Box<str>]>,
    /// Scanned over whole events' text (keywords), not over field values.
    whole_text: bool,
    pub(super) ac: std::sync::OnceLock<Option<AhoCorasick>>,
    /// For whole texts: whether any literal occurs, with vector searches.
    any: std::sync::OnceLock<Vec<AhoCorasick>>,
}

static NEXT_LITERALS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Literals {
    fn new(pats: Box<[Box<str>]>, whole_text: bool) -> Literals {
        Literals {
            id: NEXT_LITERALS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            pats,
            whole_text,
            ac: std::sync::OnceLock::new(),
            any: std::sync::OnceLock::new(),
        }
    }

    /// Calls `found` with each pattern in `value` (at least once). Scans
    /// go through a per-thread cache: a field's values repeat from event
    /// to event (a product name, an image path, a file's hashes), and
    /// hashing a value costs a fraction of scanning it.
    fn each_in(&self, ac: &AhoCorasick, value: &str, mut found: impl FnMut(usize)) {
        if self.whole_text && !self.any_in(value) {
            return;
        }
        // A whole event's text does not repeat: it would only fill the
        // cache.
        if self.whole_text || value.len() > ScanCache::LONGEST {
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

    /// Whether any literal is in a whole event's text, which seldom holds
    /// one: searched first with the vector search (Teddy) an overlapping
    /// scan cannot use, which serves leftmost matches of a few dozen
    /// literals: a few searches of a few dozen each cost less than a
    /// plain scan for all of them.
    fn any_in(&self, text: &str) -> bool {
        const PER_SEARCH: usize = 48;
        let any = self.any.get_or_init(|| {
            let build = |pats: &[Box<str>]| {
                // Teddy finds the words; the automaton (a contiguous NFA,
                // small) only confirms them.
                AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                    .build(pats.iter().map(|p| p.as_bytes()))
                    .ok()
            };
            let chunks: Option<Vec<AhoCorasick>> =
                self.pats.chunks(PER_SEARCH).map(build).collect();
            chunks.unwrap_or_default()
        });
        any.is_empty() || any.iter().any(|a| a.is_match(text))
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
                // each candidate cost five times the plain scan. (A whole
                // event's text is searched first by `any_in`.)
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
pub(super) struct BucketPlan<'a> {
    always: Vec<usize>,
    fields: Vec<FieldPlan<'a>>,
}

/// A field, its literals, and for each literal the groups that need it.
type FieldPlan<'a> = (&'a str, Vec<&'a str>, Vec<Vec<Owner>>);

/// One automaton per distinct literal set: buckets of sibling event kinds
/// (Sysmon 1 and Security 4688, PowerShell's two channels) often test the
/// same literals.
pub(super) type Automata<'a> = HashMap<(bool, Vec<&'a str>), Arc<Literals>>;

impl<'a> BucketPlan<'a> {
    pub(super) fn new(variants: &'a [Variant], ids: Vec<usize>) -> BucketPlan<'a> {
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
    pub(super) fn automata<'p>(plans: impl Iterator<Item = &'p BucketPlan<'a>>) -> Automata<'a>
    where
        'a: 'p,
    {
        let mut out = Automata::new();
        for (field, pats, _) in plans.flat_map(|p| &p.fields) {
            let whole_text = *field == compile::ANY_FIELD;
            out.entry((whole_text, pats.clone())).or_insert_with(|| {
                let pats = pats.iter().map(|&p| p.into()).collect();
                Arc::new(Literals::new(pats, whole_text))
            });
        }
        out
    }

    pub(super) fn finish(self, automata: &Automata) -> Bucket {
        let mut b = Bucket {
            always: self.always,
            prefilter: Vec::with_capacity(self.fields.len()),
        };
        for (field, pats, owners) in self.fields {
            let lits = automata[&(field == compile::ANY_FIELD, pats)].clone();
            b.prefilter.push((field.to_string(), lits, owners));
        }
        b.always.sort_unstable();
        b.always.dedup();
        b
    }
}

impl Bucket {
    /// Whether no rule reads the events of this bucket.
    pub(super) fn is_empty(&self) -> bool {
        self.always.is_empty() && self.prefilter.is_empty()
    }

    /// The groups whose literals an event holds (each at least once).
    pub(super) fn found(&self, e: &Event, out: &mut Vec<Owner>) {
        for (field, lits, owners) in &self.prefilter {
            let Some(ac) = lits.automaton() else {
                out.extend(owners.iter().flatten());
                continue;
            };
            if field == compile::ANY_FIELD {
                // A keyword's literal is in the text of every value.
                lits.each_in(ac, e.all_text(), |p| out.extend(&owners[p]));
            } else if let Some(values) = e.get(field) {
                for v in values.iter() {
                    lits.each_in(ac, v.lower(), |p| out.extend(&owners[p]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefilter_scans_are_remembered_per_literal_set_and_value() {
        let set = |pats: &[&str]| {
            let l = Literals::new(pats.iter().map(|&p| p.into()).collect(), false);
            let _ = l.automaton();
            l
        };
        let found = |l: &Literals, v: &str| {
            let mut out = Vec::new();
            l.each_in(l.automaton().unwrap(), v, |p| out.push(p));
            out.sort_unstable();
            out.dedup();
            out
        };
        let (a, b) = (set(&["abc", "bc", "x"]), set(&["zz", "abc"]));
        for _ in 0..3 {
            assert_eq!(found(&a, "xabcx"), [0, 1, 2]);
            assert_eq!(found(&b, "xabcx"), [1], "another set's scan is not reused");
            assert_eq!(found(&a, "zz"), Vec::<usize>::new());
            let long = format!("{}abc", "z".repeat(ScanCache::LONGEST));
            assert_eq!(found(&a, &long), [0, 1]);
            assert_eq!(found(&b, &long), [0, 1]);
        }
        // Values that never repeat keep the cache bounded.
        for i in 0..ScanCache::ENTRIES + 10 {
            found(&a, &format!("v{i}"));
        }
        SCANS.with_borrow(|c| assert!(c.len <= ScanCache::ENTRIES && c.map.len() <= c.len));
        assert_eq!(found(&a, "xabcx"), [0, 1, 2]);
        // Whole events' texts never repeat: they are scanned, not kept.
        let whole = Literals::new(["abc", "bc"].map(Box::from).into(), true);
        let _ = whole.automaton();
        let before = SCANS.with_borrow(|c| c.len);
        for i in 0..100 {
            assert_eq!(found(&whole, &format!("event {i} xabcx")), [0, 1]);
            assert_eq!(found(&whole, &format!("event {i}")), Vec::<usize>::new());
        }
        assert_eq!(SCANS.with_borrow(|c| c.len), before);
    }
}
