//! Correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`, `value_percentile`) over the
//! detections of the rules they reference, with `timespan`, `group-by` and
//! field `aliases`; correlations may reference correlations.

use super::{Engine, Hit};
use crate::diag::{Diagnostic, Diagnostics};
use crate::events::{Event, EventMeta};
use crate::sigma::refs::RuleRefs;
use crate::sigma::rule::Correlation;
use crate::sigma::vocab::CorrelationType;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// One input of a correlation: a detection of a referenced rule.
#[derive(Debug, Clone)]
struct Input {
    rule: usize,
    time: f64,
    order: u64,
    /// Field (as named by the correlation: group-by or alias) → value.
    values: Fields,
    meta: EventMeta,
}

/// The few field values an input keeps (group-by and condition fields): a
/// list, lighter than a map for so few, as inputs may number millions.
#[derive(Debug, Clone, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&String> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    fn insert(&mut self, name: &str, value: &str) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(kept) => value.clone_into(&mut kept.1),
            None => self.0.push((name.to_string(), value.to_string())),
        }
    }
}

/// A correlation that matched.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CorrelationHit {
    #[serde(skip)]
    pub rule: usize,
    /// Group-by values.
    pub group: Vec<(String, String)>,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Events in the window.
    pub count: usize,
    /// The aggregate the condition tested (count, distinct values, sum, ...).
    pub value: f64,
    /// The first events of the window.
    pub events: Vec<EventMeta>,
}

/// Per correlation using a rule: (correlation, [(correlation field, event field)]).
type Wants = HashMap<usize, Vec<(usize, Vec<(String, String)>)>>;

/// Collects detections of referenced rules during a scan, then evaluates
/// the correlations.
pub struct Correlator<'e> {
    engine: &'e Engine,
    refs: RuleRefs,
    /// Referenced rule → fields to keep (per correlation that uses it).
    wants: Wants,
    inputs: Mutex<Vec<Input>>,
    counter: std::sync::atomic::AtomicU64,
    /// Detections left out for want of a readable timestamp: how many, and
    /// the first event's place.
    untimed: Mutex<(u64, Option<EventMeta>)>,
}

/// The event field behind a correlation field for one referenced rule.
fn field_for(c: &Correlation, field: &str, rule: &crate::sigma::SigmaRule) -> String {
    for (alias, per_rule) in &c.aliases {
        if alias == field {
            for (r, f) in per_rule {
                if rule.refers_to(r) {
                    return f.clone();
                }
            }
        }
    }
    field.to_string()
}

fn cond_fields(c: &Correlation) -> Vec<String> {
    let mut v = c.group_by.clone();
    if let Some(f) = c.condition.as_ref().and_then(|c| c.field.clone()) {
        v.push(f);
    }
    v
}

impl<'e> Correlator<'e> {
    pub fn new(engine: &'e Engine) -> Self {
        let refs = RuleRefs::new(&engine.rules);
        let mut wants: Wants = HashMap::new();
        for &ci in &engine.correlations {
            let Some(c) = &engine.rules[ci].correlation else {
                continue;
            };
            for r in &c.rules {
                if let Some(ri) = refs.get(r) {
                    let fields = cond_fields(c)
                        .into_iter()
                        .map(|f| {
                            let ev = field_for(c, &f, &engine.rules[ri]);
                            (f, ev)
                        })
                        .collect();
                    wants.entry(ri).or_default().push((ci, fields));
                }
            }
        }
        Correlator {
            engine,
            refs,
            wants,
            inputs: Mutex::new(Vec::new()),
            counter: std::sync::atomic::AtomicU64::new(0),
            untimed: Mutex::new((0, None)),
        }
    }

    /// The loaded rules correlation `ci` counts (those its references name).
    pub fn referenced(&self, ci: usize) -> Vec<usize> {
        let Some(c) = &self.engine.rules[ci].correlation else {
            return Vec::new();
        };
        c.rules.iter().filter_map(|r| self.refs.get(r)).collect()
    }

    /// For each rule, whether correlations alone use its detections: every
    /// correlation that counts it leaves `generate` false, which the
    /// specification reads as "only the correlation is generated".
    pub fn counted_only(&self) -> Vec<bool> {
        let mut counted = vec![false; self.engine.rules.len()];
        let mut alone = vec![false; self.engine.rules.len()];
        for &ci in &self.engine.correlations {
            let generate = self.engine.rules[ci]
                .correlation
                .as_ref()
                .is_some_and(|c| c.generate);
            for r in self.referenced(ci) {
                counted[r] = true;
                alone[r] |= generate;
            }
        }
        counted.iter().zip(&alone).map(|(&c, &a)| c && !a).collect()
    }

    /// Whether any correlation is loaded.
    pub fn is_active(&self) -> bool {
        !self.wants.is_empty()
    }

    /// Record the detections of one event.
    pub fn record(&self, e: &Event, dets: &[Hit]) {
        for d in dets {
            let Some(w) = self.wants.get(&d.rule) else {
                continue;
            };
            // Without a time, an event would fall in every window.
            let Some(time) = e.meta.timestamp.as_deref().and_then(super::time::epoch) else {
                self.untimed(&e.meta);
                continue;
            };
            let mut values = Fields::default();
            for (_, fields) in w {
                for (name, ev) in fields {
                    if let Some(v) = e.text(ev) {
                        values.insert(name, v);
                    }
                }
            }
            let input = Input {
                rule: d.rule,
                time,
                order: self
                    .counter
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed),
                values,
                meta: e.meta.clone(),
            };
            self.inputs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(input);
        }
    }

    /// Count a detection left out for want of a time.
    fn untimed(&self, meta: &EventMeta) {
        let mut u = self.untimed.lock().unwrap_or_else(|p| p.into_inner());
        u.0 += 1;
        // The first in the files, whichever thread saw it first.
        let place = |m: &EventMeta| (m.file.clone(), m.record);
        if u.1.as_ref().is_none_or(|f| place(meta) < place(f)) {
            u.1 = Some(meta.clone());
        }
    }

    /// Evaluate every correlation (chains included); detections without a
    /// readable timestamp were left out, and a warning says so.
    pub fn finish(self, diags: &Diagnostics) -> Vec<CorrelationHit> {
        self.report_references(diags);
        let (untimed, first) = self.untimed.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(first) = first {
            diags.push(untimed_warning(untimed, &first));
        }
        let mut inputs = self.inputs.into_inner().unwrap_or_else(|p| p.into_inner());
        let engine = self.engine;
        let mut hits = Vec::new();
        let mut done: Vec<usize> = Vec::new();
        // Evaluate in dependency order: a correlation runs once every
        // correlation it references has run.
        for _ in 0..engine.correlations.len() {
            for &ci in &engine.correlations {
                if done.contains(&ci) {
                    continue;
                }
                let Some(c) = &engine.rules[ci].correlation else {
                    continue;
                };
                let refs: Vec<usize> = c.rules.iter().filter_map(|r| self.refs.get(r)).collect();
                if refs
                    .iter()
                    .any(|r| engine.correlations.contains(r) && !done.contains(r))
                {
                    continue;
                }
                let found = evaluate(ci, c, &refs, &inputs);
                for h in &found {
                    // A correlation's hits are inputs of the correlations above it.
                    inputs.push(Input {
                        rule: ci,
                        time: h
                            .last
                            .as_deref()
                            .and_then(super::time::epoch)
                            .unwrap_or(0.0),
                        order: u64::MAX - inputs.len() as u64,
                        values: Fields(h.group.clone()),
                        meta: h.events.first().cloned().unwrap_or_default(),
                    });
                }
                hits.extend(found);
                done.push(ci);
            }
        }
        for &ci in engine.correlations.iter().filter(|ci| !done.contains(ci)) {
            let msg = "correlation not run: its references lead into a cycle (a correlation counting itself, directly or through others)";
            diags.push(at_rule(&engine.rules[ci], msg.to_string()));
        }
        hits
    }

    /// Warns of the references of correlations that name no loaded rule,
    /// or a filter, which has no detections of its own.
    fn report_references(&self, diags: &Diagnostics) {
        for &ci in &self.engine.correlations {
            let rule = &self.engine.rules[ci];
            let Some(c) = &rule.correlation else { continue };
            for r in &c.rules {
                let what = match self.refs.get(r).map(|i| self.engine.rules[i].kind) {
                    None => "which is no loaded rule's id or name: its detections are not counted",
                    Some(crate::sigma::RuleKind::Filter) => {
                        "a filter: it has no detections to count (name the rules it filters)"
                    }
                    Some(_) => continue,
                };
                diags.push(at_rule(
                    rule,
                    format!("correlation references `{r}`, {what}"),
                ));
            }
        }
    }
}

/// A warning about a rule, at its document.
fn at_rule(rule: &crate::sigma::SigmaRule, msg: String) -> Diagnostic {
    Diagnostic::warning("correlation", msg)
        .in_file(&rule.path)
        .at(Some(rule.line), None)
}

fn untimed_warning(n: u64, first: &EventMeta) -> Diagnostic {
    let when = match &first.timestamp {
        Some(t) => format!("its time `{t}` is not a date and time"),
        None => format!(
            "it has none of the time fields read ({})",
            crate::events::time_fields().collect::<Vec<_>>().join(", ")
        ),
    };
    Diagnostic::warning(
        "correlation",
        format!(
            "{n} detection(s) of rules that correlations count were left out of them: their event has no readable timestamp (the first, record {}: {when})",
            first.record
        ),
    )
    .in_file(&*first.file)
}

fn check(c: &Correlation, value: f64, default_min: f64) -> bool {
    match c.condition.as_ref().filter(|c| !c.ops.is_empty()) {
        None => value >= default_min,
        Some(cc) => cc.ops.iter().all(|&(op, n)| op.holds(value, n)),
    }
}

fn evaluate(ci: usize, c: &Correlation, refs: &[usize], inputs: &[Input]) -> Vec<CorrelationHit> {
    let mut out = Vec::new();
    for (key, evs) in groups(c, refs, inputs) {
        group_hits(ci, c, refs, &key, &evs, &mut out);
    }
    out
}

/// The detections of the referenced rules by group-by values, each group
/// in time order.
fn groups<'i>(
    c: &Correlation,
    refs: &[usize],
    inputs: &'i [Input],
) -> BTreeMap<Vec<&'i str>, Vec<&'i Input>> {
    let mut groups: BTreeMap<Vec<&str>, Vec<&Input>> = BTreeMap::new();
    for i in inputs.iter().filter(|i| refs.contains(&i.rule)) {
        // An event without a group-by field belongs to no group, as a
        // backend's `stats … by` or terms aggregation leaves it out.
        let key: Option<Vec<&str>> = c
            .group_by
            .iter()
            .map(|g| i.values.get(g).map(String::as_str))
            .collect();
        if let Some(key) = key {
            groups.entry(key).or_default().push(i);
        }
    }
    for evs in groups.values_mut() {
        evs.sort_by(|a, b| a.time.total_cmp(&b.time).then(a.order.cmp(&b.order)));
    }
    groups
}

/// The hits of one group's events (in time order): from each event on, the
/// window of the events within the timespan after it is aggregated; a
/// window whose aggregate meets the condition is a hit, and the next window
/// starts after it. The windows slide: each event enters and leaves the
/// tally once, so a group of any size costs time in proportion to it.
fn group_hits(
    ci: usize,
    c: &Correlation,
    refs: &[usize],
    key: &[&str],
    evs: &[&Input],
    out: &mut Vec<CorrelationHit>,
) {
    let span = c.timespan as f64;
    let field = c.condition.as_ref().and_then(|x| x.field.as_deref());
    let mut tally = Tally::new(field);
    let order = (c.kind == CorrelationType::TemporalOrdered).then(|| Order::new(refs, evs));
    let (mut i, mut j) = (0, 0);
    while i < evs.len() {
        while j < evs.len() && evs[j].time - evs[i].time <= span {
            tally.add(evs[j]);
            j += 1;
        }
        let in_order = || order.as_ref().map_or(0, |o| o.count(i, j));
        match tally.aggregate(c, refs.len(), in_order) {
            Some(value) => {
                out.push(hit(ci, c, key, &evs[i..j], value));
                tally = Tally::new(field);
                i = j;
            }
            None => {
                tally.remove(evs[i]);
                i += 1;
            }
        }
    }
}

/// The aggregates of the events in a window, kept as events enter and
/// leave it.
struct Tally<'a> {
    /// The field value aggregations read.
    field: Option<&'a str>,
    events: usize,
    /// Events per referenced rule.
    rules: HashMap<usize, usize>,
    /// Events per value of the field, and values per such count (the
    /// rarest value's count is the least key).
    values: HashMap<&'a str, usize>,
    counts: BTreeMap<usize, usize>,
    /// The sum of the field's numbers, and how many there are.
    sum: f64,
    numbers: usize,
}

impl<'a> Tally<'a> {
    fn new(field: Option<&'a str>) -> Self {
        Tally {
            field,
            events: 0,
            rules: HashMap::new(),
            values: HashMap::new(),
            counts: BTreeMap::new(),
            sum: 0.0,
            numbers: 0,
        }
    }

    fn value(&self, e: &'a Input) -> Option<&'a str> {
        self.field.and_then(|f| e.values.get(f)).map(String::as_str)
    }

    fn add(&mut self, e: &'a Input) {
        self.events += 1;
        *self.rules.entry(e.rule).or_default() += 1;
        let Some(v) = self.value(e) else { return };
        let n = self.values.entry(v).or_default();
        step(&mut self.counts, *n, *n + 1);
        *n += 1;
        if let Ok(x) = v.trim().parse::<f64>() {
            self.sum += x;
            self.numbers += 1;
        }
    }

    fn remove(&mut self, e: &'a Input) {
        self.events -= 1;
        if let Some(n) = self.rules.get_mut(&e.rule) {
            *n -= 1;
            if *n == 0 {
                self.rules.remove(&e.rule);
            }
        }
        let Some(v) = self.value(e) else { return };
        if let Some(n) = self.values.get_mut(v) {
            step(&mut self.counts, *n, *n - 1);
            *n -= 1;
            if *n == 0 {
                self.values.remove(v);
            }
        }
        if let Ok(x) = v.trim().parse::<f64>() {
            self.numbers -= 1;
            // Exactly nothing once no number is left (no rounding remains).
            self.sum = if self.numbers == 0 { 0.0 } else { self.sum - x };
        }
    }

    /// The aggregate the correlation's type computes over the window, when
    /// its condition holds; `in_order` counts the referenced rules that
    /// appear in their order (for `temporal_ordered`).
    fn aggregate(&self, c: &Correlation, refs: usize, in_order: impl Fn() -> usize) -> Option<f64> {
        let all_refs = refs as f64;
        let (value, ok) = match c.kind {
            CorrelationType::EventCount => {
                let n = self.events as f64;
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
                let n = in_order() as f64;
                (n, check(c, n, all_refs) && n == all_refs)
            }
            CorrelationType::ValueSum => (self.sum, check(c, self.sum, f64::INFINITY)),
            CorrelationType::ValueAvg => {
                let a = self.sum / self.numbers.max(1) as f64;
                (a, self.numbers > 0 && check(c, a, f64::INFINITY))
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

/// For `temporal_ordered`: where each referenced rule next occurs, from
/// each event on, so that a window's ordered count takes one step per rule.
struct Order {
    /// Per reference: for each position, the first event at or after it
    /// of that rule (the group's length when none).
    next: Vec<Vec<usize>>,
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
        Order { next }
    }

    /// How many of the referenced rules appear, in their order, among the
    /// events `i..j` (each taken at its first occurrence after the one
    /// before).
    fn count(&self, i: usize, j: usize) -> usize {
        let mut at = i;
        for (k, next) in self.next.iter().enumerate() {
            let p = next[at];
            if p >= j {
                return k;
            }
            at = p + 1;
        }
        self.next.len()
    }
}

fn hit(ci: usize, c: &Correlation, key: &[&str], events: &[&Input], value: f64) -> CorrelationHit {
    CorrelationHit {
        rule: ci,
        group: c
            .group_by
            .iter()
            .cloned()
            .zip(key.iter().map(|k| k.to_string()))
            .collect(),
        first: events.first().and_then(|e| e.meta.timestamp.clone()),
        last: events.last().and_then(|e| e.meta.timestamp.clone()),
        count: events.len(),
        value,
        events: events.iter().take(5).map(|e| e.meta.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::rule::CorrelationCondition;
    use crate::sigma::vocab::CmpOp;

    /// The windows computed afresh for every start, as first written: the
    /// oracle the sliding tally must agree with.
    fn naive(ci: usize, c: &Correlation, refs: &[usize], inputs: &[Input]) -> Vec<CorrelationHit> {
        let span = c.timespan as f64;
        let field = c.condition.as_ref().and_then(|x| x.field.as_deref());
        let mut out = Vec::new();
        for (key, evs) in groups(c, refs, inputs) {
            let mut i = 0;
            while i < evs.len() {
                let mut j = i;
                while j + 1 < evs.len() && evs[j + 1].time - evs[i].time <= span {
                    j += 1;
                }
                let window = Window {
                    events: &evs[i..=j],
                    field,
                    refs,
                };
                match window.aggregate(c) {
                    Some(value) => {
                        out.push(hit(ci, c, &key, window.events, value));
                        i = j + 1;
                    }
                    None => i += 1,
                }
            }
        }
        out
    }

    /// The events of one group within one timespan.
    struct Window<'a> {
        events: &'a [&'a Input],
        /// The field value aggregations read.
        field: Option<&'a str>,
        /// The rules the correlation references, in its order.
        refs: &'a [usize],
    }

    impl Window<'_> {
        fn values(&self) -> impl Iterator<Item = &String> {
            self.events
                .iter()
                .filter_map(|e| self.field.and_then(|f| e.values.get(f)))
        }

        fn numbers(&self) -> impl Iterator<Item = f64> {
            self.values().filter_map(|v| v.trim().parse::<f64>().ok())
        }

        /// The aggregate the correlation's type computes over the window, when
        /// its condition holds.
        fn aggregate(&self, c: &Correlation) -> Option<f64> {
            let all_refs = self.refs.len() as f64;
            let (value, ok) = match c.kind {
                CorrelationType::EventCount => {
                    let n = self.events.len() as f64;
                    (n, check(c, n, 1.0))
                }
                CorrelationType::ValueCount => {
                    let n = distinct(self.values()) as f64;
                    (n, check(c, n, 1.0))
                }
                CorrelationType::Temporal => {
                    let n = distinct(self.events.iter().map(|e| e.rule)) as f64;
                    (n, check(c, n, all_refs))
                }
                CorrelationType::TemporalOrdered => {
                    let n = self.in_order() as f64;
                    (n, check(c, n, all_refs) && n == all_refs)
                }
                CorrelationType::ValueSum => {
                    let s: f64 = self.numbers().sum();
                    (s, check(c, s, f64::INFINITY))
                }
                CorrelationType::ValueAvg => {
                    let v: Vec<f64> = self.numbers().collect();
                    let a = v.iter().sum::<f64>() / v.len().max(1) as f64;
                    (a, !v.is_empty() && check(c, a, f64::INFINITY))
                }
                CorrelationType::ValuePercentile => {
                    let pct = self.rarest_share();
                    (
                        pct,
                        self.values().next().is_some() && check(c, pct, f64::INFINITY),
                    )
                }
            };
            ok.then_some(value)
        }

        /// How many of the referenced rules appear in the listed order.
        fn in_order(&self) -> usize {
            let mut next = 0;
            for e in self.events {
                if next < self.refs.len() && e.rule == self.refs[next] {
                    next += 1;
                }
            }
            next
        }

        /// The share (in percent) of the rarest value in the window.
        fn rarest_share(&self) -> f64 {
            let mut counts: HashMap<&String, usize> = HashMap::new();
            let mut total = 0;
            for v in self.values() {
                *counts.entry(v).or_default() += 1;
                total += 1;
            }
            let min = counts.values().min().copied().unwrap_or(0) as f64;
            if total == 0 {
                100.0
            } else {
                100.0 * min / total as f64
            }
        }
    }

    fn distinct<T: Ord>(items: impl Iterator<Item = T>) -> usize {
        let mut v: Vec<T> = items.collect();
        v.sort_unstable();
        v.dedup();
        v.len()
    }

    /// A small deterministic generator (xorshift).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.below(of.len() as u64) as usize]
        }
    }

    fn random_inputs(rng: &mut Rng) -> Vec<Input> {
        let n = rng.below(60);
        (0..n)
            .map(|k| {
                let time = rng.below(40) as f64 + if rng.below(4) == 0 { 0.5 } else { 0.0 };
                let mut values = Fields::default();
                for (field, of) in [
                    ("user", &["a", "b", ""][..]),
                    ("n", &["1", "2", "x", "3.5", "-2", ""]),
                ] {
                    let v = rng.pick(of);
                    if !v.is_empty() {
                        values.insert(field, v);
                    }
                }
                Input {
                    rule: rng.below(3) as usize,
                    time,
                    order: k,
                    values,
                    meta: EventMeta {
                        timestamp: Some(format!("{time}#{k}")),
                        record: k,
                        ..EventMeta::default()
                    },
                }
            })
            .collect()
    }

    fn random_correlation(rng: &mut Rng) -> (Correlation, Vec<usize>) {
        let kind = CorrelationType::ALL[rng.below(CorrelationType::ALL.len() as u64) as usize];
        let refs: &[usize] =
            [&[0, 1][..], &[1, 0], &[0, 1, 2], &[2], &[0, 0]][rng.below(5) as usize];
        let op = CmpOp::ALL[rng.below(CmpOp::ALL.len() as u64) as usize];
        let limit = if kind == CorrelationType::ValuePercentile {
            rng.below(101) as f64
        } else {
            rng.below(8) as f64 - 1.0
        };
        let condition = (rng.below(5) > 0).then(|| CorrelationCondition {
            ops: vec![(op, limit)],
            field: kind.reads_field().then(|| "n".to_string()),
        });
        let c = Correlation {
            kind,
            rules: Vec::new(),
            group_by: if rng.below(3) == 0 {
                Vec::new()
            } else {
                vec!["user".to_string()]
            },
            timespan: rng.below(15),
            timespan_text: String::new(),
            condition,
            aliases: Vec::new(),
            generate: false,
        };
        (c, refs.to_vec())
    }

    #[test]
    fn sliding_windows_find_the_hits_that_windows_computed_afresh_find() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut hits = 0;
        for round in 0..20_000 {
            let inputs = random_inputs(&mut rng);
            let (c, refs) = random_correlation(&mut rng);
            let got = evaluate(7, &c, &refs, &inputs);
            let want = naive(7, &c, &refs, &inputs);
            let brief = |h: &[CorrelationHit]| -> Vec<String> {
                h.iter()
                    .map(|h| {
                        format!(
                            "{:?} {:?} {:?} {} {:.9}", // -0 and 0 alike
                            h.group,
                            h.first,
                            h.last,
                            h.count,
                            h.value + 0.0
                        )
                    })
                    .collect()
            };
            assert_eq!(
                brief(&got),
                brief(&want),
                "round {round}: {:?} {refs:?}",
                c.kind
            );
            hits += got.len();
        }
        assert!(hits > 10_000, "the rounds find hits ({hits})");
    }
}
