//! A correlation's windows: the detections it counts, grouped and put in
//! time order, then slid over one timespan at a time.
//!
//! Where the specification is silent, the reference backend's reading is
//! taken: an event counts once however many referenced rules it matches
//! (only `temporal` kinds ask which rules matched); group-by values and the
//! values `value_count` tells apart compare case-insensitively, as Sigma's
//! strings do; numbers are JSON numbers, finite, so that a field reading
//! `NaN` cannot blind a sum; and `temporal_ordered` asks each rule's event
//! to come strictly later than the one before.

use super::{CorrelationHit, Fields, Input};
use crate::events::EventMeta;
use crate::sigma::rule::Correlation;
use crate::sigma::vocab::CorrelationType;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

pub(super) fn check(c: &Correlation, value: f64, default_min: f64) -> bool {
    match c.condition.as_ref().filter(|c| !c.ops.is_empty()) {
        None => value >= default_min,
        Some(cc) => cc.ops.iter().all(|&(op, n)| op.holds(value, n)),
    }
}

/// A field value as a number: a JSON number (surrounding blanks allowed),
/// finite. `NaN`, `inf`, `0x10` or `+5` are no numbers.
pub(super) fn number(v: &str) -> Option<f64> {
    serde_json::from_str::<f64>(v)
        .ok()
        .filter(|x| x.is_finite())
}

/// A value as it is compared: case-insensitively.
pub(super) fn folded(v: &str) -> Cow<'_, str> {
    if v.chars().any(char::is_uppercase) {
        Cow::Owned(v.to_lowercase())
    } else {
        Cow::Borrowed(v)
    }
}

/// What a correlation found: its hits, and, when a correlation above it
/// counts it, each moment it held.
pub(super) struct Evaluated {
    pub hits: Vec<CorrelationHit>,
    pub held: Vec<Held>,
}

/// A moment a correlation held: at a detection, over the timespan before it.
pub(super) struct Held {
    pub time: f64,
    /// The group-by values, as that detection names them.
    pub values: Fields,
    pub meta: EventMeta,
}

pub(super) fn evaluate<'i>(
    ci: usize,
    c: &Correlation,
    refs: &[usize],
    inputs: impl IntoIterator<Item = &'i Input>,
    counted_above: bool,
) -> Evaluated {
    let mut found = Evaluated {
        hits: Vec::new(),
        held: Vec::new(),
    };
    for evs in groups(c, refs, inputs).into_values() {
        let aids = Aids::new(c, refs, &evs);
        group_hits(ci, c, refs, &evs, &aids, &mut found.hits);
        if counted_above {
            let moments = held_at(c, refs, &evs, &aids).into_iter();
            found.held.extend(moments.map(|k| Held::at(c, evs[k])));
        }
    }
    found
}

impl Held {
    /// The moment of detection `e`, named by its group-by values.
    fn at(c: &Correlation, e: &Input) -> Held {
        let group = c.group_by.iter().filter_map(|g| {
            let v = e.values.get(g)?;
            Some((g.clone(), v.clone()))
        });
        Held {
            time: e.time,
            values: Fields(group.collect()),
            meta: e.meta.clone(),
        }
    }
}

/// The detections of the referenced rules by group-by values (folded),
/// each group in time order. Outside the `temporal` kinds, an event that
/// several referenced rules matched is kept once.
pub(super) fn groups<'i>(
    c: &Correlation,
    refs: &[usize],
    inputs: impl IntoIterator<Item = &'i Input>,
) -> BTreeMap<Vec<Cow<'i, str>>, Vec<&'i Input>> {
    let mut groups: BTreeMap<Vec<Cow<str>>, Vec<&Input>> = BTreeMap::new();
    let counted: rustc_hash::FxHashSet<usize> = refs.iter().copied().collect();
    for i in inputs.into_iter().filter(|i| counted.contains(&i.rule)) {
        // An event without a group-by field belongs to no group, as a
        // backend's `stats … by` or terms aggregation leaves it out.
        let key: Option<Vec<Cow<str>>> = c
            .group_by
            .iter()
            .map(|g| i.values.get(g).map(|v| folded(v)))
            .collect();
        if let Some(key) = key {
            groups.entry(key).or_default().push(i);
        }
    }
    let per_rule = matches!(
        c.kind,
        CorrelationType::Temporal | CorrelationType::TemporalOrdered
    );
    for evs in groups.values_mut() {
        // Stable: one event's detections stay in the order they were found.
        evs.sort_by(|a, b| a.time.total_cmp(&b.time).then(a.event.cmp(&b.event)));
        if !per_rule {
            evs.dedup_by_key(|e| e.event);
        }
    }
    groups
}

/// The hits of one group's events (in time order). At each event (with
/// the events of that same time) the window looks back one timespan, as a
/// stream is watched (and as the reference backend anchors its windows); a
/// window whose aggregate meets the condition is a hit, grown with the
/// events that follow while it still meets it and stays within the
/// timespan, and the next window starts after it. The windows slide: each
/// event enters the tally at most twice (again after a hit that tried it),
/// so a group of any size costs time in proportion to it.
fn group_hits(
    ci: usize,
    c: &Correlation,
    refs: &[usize],
    evs: &[&Input],
    aids: &Aids,
    out: &mut Vec<CorrelationHit>,
) {
    let mut w = Slide::new(c, evs);
    while w.next_moment() {
        let Some(mut value) = w.tally.aggregate(c, refs.len(), aids, w.i, w.j) else {
            continue;
        };
        while w.j < evs.len() && evs[w.j].time - evs[w.i].time <= w.span {
            let k = same_time(evs, w.j, |e| w.tally.add(e));
            match w.tally.aggregate(c, refs.len(), aids, w.i, k) {
                Some(v) => {
                    value = v;
                    w.j = k;
                }
                None => break,
            }
        }
        out.push(hit(ci, c, &evs[w.i..w.j], value));
        w.restart();
    }
}

/// The moments the condition holds, as the reference backend finds them:
/// at each detection's time, over the timespan before it (detections at
/// that very time included), whatever was reported before. Each is the
/// last detection at its time.
fn held_at(c: &Correlation, refs: &[usize], evs: &[&Input], aids: &Aids) -> Vec<usize> {
    let mut w = Slide::new(c, evs);
    let mut out = Vec::new();
    while w.next_moment() {
        if w.tally.aggregate(c, refs.len(), aids, w.i, w.j).is_some() {
            out.push(w.j - 1);
        }
    }
    out
}

/// A window over a group's events `i..j`, moved one moment (the events of
/// one time) at a time: each move takes the moment in and lets go of the
/// events more than the timespan older.
struct Slide<'a> {
    evs: &'a [&'a Input],
    span: f64,
    tally: Tally<'a>,
    i: usize,
    j: usize,
}

impl<'a> Slide<'a> {
    fn new(c: &'a Correlation, evs: &'a [&'a Input]) -> Self {
        Slide {
            evs,
            span: c.timespan as f64,
            tally: Tally::new(c.field()),
            i: 0,
            j: 0,
        }
    }

    /// Moves to the next moment; false when none is left.
    fn next_moment(&mut self) -> bool {
        let Some(now) = self.evs.get(self.j).map(|e| e.time) else {
            return false;
        };
        let tally = &mut self.tally;
        self.j = same_time(self.evs, self.j, |e| tally.add(e));
        while now - self.evs[self.i].time > self.span {
            self.tally.remove(self.evs[self.i]);
            self.i += 1;
        }
        true
    }

    /// Starts afresh after the window's events (after a hit).
    fn restart(&mut self) {
        self.tally = Tally::new(self.tally.field);
        self.i = self.j;
    }
}

/// Hands `add` the event at `j` and those after it that share its time, as
/// one moment; returns where the next moment starts (always further on).
fn same_time<'a>(evs: &[&'a Input], j: usize, mut add: impl FnMut(&'a Input)) -> usize {
    let now = evs[j].time;
    let end = j + 1 + evs[j + 1..].iter().take_while(|e| e.time == now).count();
    evs[j..end].iter().for_each(|e| add(e));
    end
}

/// What some kinds read of a window beyond the tally, built once per group.
struct Aids {
    order: Option<Order>,
    sums: Option<Sums>,
}

impl Aids {
    fn new(c: &Correlation, refs: &[usize], evs: &[&Input]) -> Aids {
        let numeric = matches!(
            c.kind,
            CorrelationType::ValueSum | CorrelationType::ValueAvg
        );
        Aids {
            order: (c.kind == CorrelationType::TemporalOrdered).then(|| Order::new(refs, evs)),
            sums: numeric.then(|| {
                Sums::new(evs.iter().map(|e| {
                    c.field()
                        .and_then(|f| e.values.get(f))
                        .and_then(|v| number(v))
                }))
            }),
        }
    }
}

/// The aggregates of the events in a window, kept as events enter and
/// leave it.
struct Tally<'a> {
    /// The field value aggregations read.
    field: Option<&'a str>,
    /// Events per referenced rule.
    rules: HashMap<usize, usize>,
    /// Events per value of the field (folded), and values per such count
    /// (the rarest value's count is the least key).
    values: HashMap<Cow<'a, str>, usize>,
    counts: BTreeMap<usize, usize>,
}

impl<'a> Tally<'a> {
    fn new(field: Option<&'a str>) -> Self {
        Tally {
            field,
            rules: HashMap::new(),
            values: HashMap::new(),
            counts: BTreeMap::new(),
        }
    }

    fn value(&self, e: &'a Input) -> Option<Cow<'a, str>> {
        self.field.and_then(|f| e.values.get(f)).map(|v| folded(v))
    }

    fn add(&mut self, e: &'a Input) {
        *self.rules.entry(e.rule).or_default() += 1;
        let Some(v) = self.value(e) else { return };
        let n = self.values.entry(v).or_default();
        step(&mut self.counts, *n, *n + 1);
        *n += 1;
    }

    fn remove(&mut self, e: &'a Input) {
        if let Some(n) = self.rules.get_mut(&e.rule) {
            *n -= 1;
            if *n == 0 {
                self.rules.remove(&e.rule);
            }
        }
        let Some(v) = self.value(e) else { return };
        if let Some(n) = self.values.get_mut(&v) {
            step(&mut self.counts, *n, *n - 1);
            *n -= 1;
            if *n == 0 {
                self.values.remove(&v);
            }
        }
    }

    /// The aggregate the correlation's type computes over the window of
    /// events `i..j`, when its condition holds.
    fn aggregate(
        &self,
        c: &Correlation,
        refs: usize,
        aids: &Aids,
        i: usize,
        j: usize,
    ) -> Option<f64> {
        let all_refs = refs as f64;
        let sum = || aids.sums.as_ref().map_or((0.0, 0), |s| s.sum(i, j));
        let (value, ok) = match c.kind {
            CorrelationType::EventCount => {
                let n = (j - i) as f64;
                (n, check(c, n, 1.0))
            }
            CorrelationType::ValueCount => {
                let n = self.values.len() as f64;
                (n, check(c, n, 1.0))
            }
            CorrelationType::Temporal => {
                let n = self.rules.len() as f64;
                (n, check(c, n, all_refs))
            }
            CorrelationType::TemporalOrdered => {
                let n = aids.order.as_ref().map_or(0, |o| o.count(i, j)) as f64;
                (n, check(c, n, all_refs) && n == all_refs)
            }
            // A window without a number has no sum, as SQL's SUM is NULL.
            CorrelationType::ValueSum => {
                let (s, n) = sum();
                (s, n > 0 && check(c, s, f64::INFINITY))
            }
            CorrelationType::ValueAvg => {
                let (s, n) = sum();
                let a = s / n.max(1) as f64;
                (a, n > 0 && check(c, a, f64::INFINITY))
            }
            CorrelationType::ValuePercentile => {
                let total: usize = self.values.values().sum();
                let rarest = self.counts.keys().next().copied().unwrap_or(0);
                let pct = if total == 0 {
                    100.0
                } else {
                    100.0 * rarest as f64 / total as f64
                };
                (pct, total > 0 && check(c, pct, f64::INFINITY))
            }
        };
        ok.then_some(value)
    }
}

/// Moves one value's count from `from` to `to` in the counts of counts.
fn step(counts: &mut BTreeMap<usize, usize>, from: usize, to: usize) {
    if from > 0
        && let Some(k) = counts.get_mut(&from)
    {
        *k -= 1;
        if *k == 0 {
            counts.remove(&from);
        }
    }
    if to > 0 {
        *counts.entry(to).or_default() += 1;
    }
}

/// The sums of a group's numbers over any range of its events, with how
/// many numbers there are: a tree of partial sums. A running sum that took
/// leaving events back out would keep what it lost to rounding, or an
/// overflow, for ever after.
struct Sums {
    /// Leaves at `len..2 * len`, each node the sum of its two children.
    tree: Vec<(f64, usize)>,
    len: usize,
}

impl Sums {
    fn new(numbers: impl ExactSizeIterator<Item = Option<f64>>) -> Sums {
        let len = numbers.len();
        let mut tree = vec![(0.0, 0); 2 * len];
        for (k, x) in numbers.enumerate() {
            tree[len + k] = x.map_or((0.0, 0), |x| (x, 1));
        }
        for k in (1..len).rev() {
            let (a, b) = (tree[2 * k], tree[2 * k + 1]);
            tree[k] = (a.0 + b.0, a.1 + b.1);
        }
        Sums { tree, len }
    }

    /// The sum and count of the numbers of events `i..j`.
    fn sum(&self, i: usize, j: usize) -> (f64, usize) {
        let (mut l, mut r) = (i + self.len, j + self.len);
        let (mut s, mut n) = (0.0, 0);
        while l < r {
            if l & 1 == 1 {
                s += self.tree[l].0;
                n += self.tree[l].1;
                l += 1;
            }
            if r & 1 == 1 {
                r -= 1;
                s += self.tree[r].0;
                n += self.tree[r].1;
            }
            l /= 2;
            r /= 2;
        }
        (s, n)
    }
}

/// For `temporal_ordered`: where each referenced rule next occurs, from
/// each event on, so that a window's ordered count takes one step per rule.
struct Order {
    /// Per reference: for each position, the first event at or after it
    /// of that rule (the group's length when none).
    next: Vec<Vec<usize>>,
    /// For each position, the first event strictly later in time.
    later: Vec<usize>,
}

impl Order {
    fn new(refs: &[usize], evs: &[&Input]) -> Order {
        let next = refs
            .iter()
            .map(|&r| {
                let mut v = vec![evs.len(); evs.len() + 1];
                for p in (0..evs.len()).rev() {
                    v[p] = if evs[p].rule == r { p } else { v[p + 1] };
                }
                v
            })
            .collect();
        let mut later = vec![evs.len(); evs.len()];
        for p in (0..evs.len().saturating_sub(1)).rev() {
            later[p] = if evs[p + 1].time > evs[p].time {
                p + 1
            } else {
                later[p + 1]
            };
        }
        Order { next, later }
    }

    /// How many of the referenced rules appear, in their order, among the
    /// events `i..j`: each taken at its first occurrence later in time than
    /// the one before.
    fn count(&self, i: usize, j: usize) -> usize {
        let mut at = i;
        for (k, next) in self.next.iter().enumerate() {
            let p = next[at];
            if p >= j {
                return k;
            }
            at = self.later[p];
        }
        self.next.len()
    }
}

/// A hit over a window's events; the group is shown as its first event
/// names it.
pub(super) fn hit(ci: usize, c: &Correlation, events: &[&Input], value: f64) -> CorrelationHit {
    let first = events.first();
    CorrelationHit {
        rule: ci,
        group: c
            .group_by
            .iter()
            .map(|g| {
                let v = first.and_then(|e| e.values.get(g)).cloned();
                (g.clone(), v.unwrap_or_default())
            })
            .collect(),
        first: first.and_then(|e| e.meta.timestamp.clone()),
        last: events.last().and_then(|e| e.meta.timestamp.clone()),
        count: events.len(),
        value,
        events: events.iter().take(5).map(|e| e.meta.clone()).collect(),
    }
}
