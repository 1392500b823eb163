//! Correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`, `value_percentile`) over the
//! detections of the rules they reference, with `timespan`, `group-by` and
//! field `aliases`; correlations may reference correlations.

use super::{Engine, Hit};
use crate::diag::{Diagnostic, Diagnostics};
use crate::events::{Event, EventMeta};
use crate::sigma::refs::RuleRefs;
use crate::sigma::rule::Correlation;
use std::collections::HashMap;
use std::sync::Mutex;
use window::evaluate;

mod window;

/// One input of a correlation: a detection of a referenced rule.
#[derive(Debug, Clone)]
struct Input {
    rule: usize,
    time: f64,
    /// The event, numbered as seen: detections of one event share it.
    event: u64,
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
    if let Some(f) = c.field() {
        v.push(f.to_string());
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
        let (mut event, mut time) = (None, None);
        for d in dets {
            let Some(w) = self.wants.get(&d.rule) else {
                continue;
            };
            let read = || e.meta.timestamp.as_deref().and_then(super::time::epoch);
            // Without a time, an event would fall in every window.
            let Some(time) = *time.get_or_insert_with(read) else {
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
                event: *event.get_or_insert_with(|| {
                    self.counter
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                }),
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
        let engine = self.engine;
        let (order, cyclic) = self.dependency_order();
        for ci in cyclic {
            let msg = format!("correlation not run: {CYCLE}");
            diags.push(at_rule(&engine.rules[ci], msg));
        }
        let counted: std::collections::HashSet<usize> =
            order.iter().flat_map(|&up| self.referenced(up)).collect();
        let plan: Vec<(usize, Vec<usize>)> =
            order.iter().map(|&ci| (ci, self.referenced(ci))).collect();
        let (untimed, first) = self.untimed.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(first) = first {
            diags.push(untimed_warning(untimed, &first));
        }
        let mut inputs = self.inputs.into_inner().unwrap_or_else(|p| p.into_inner());
        // Per rule, the places of its detections, in the order they came: a
        // correlation reads those of the rules it counts, not every input
        // (a chain of 5,000 correlations read them all at each link).
        let mut of_rule: Vec<Vec<usize>> = vec![Vec::new(); engine.rules.len()];
        for (k, i) in inputs.iter().enumerate() {
            of_rule[i.rule].push(k);
        }
        let mut hits = Vec::new();
        for (ci, refs) in plan {
            let Some(c) = &engine.rules[ci].correlation else {
                continue;
            };
            let mut read: Vec<usize> = refs.iter().flat_map(|&r| &of_rule[r]).copied().collect();
            read.sort_unstable();
            read.dedup();
            let read = read.iter().map(|&k| &inputs[k]);
            let found = evaluate(ci, c, &refs, read, counted.contains(&ci));
            // The moments a correlation held are detections of the
            // correlations above it, as the reference backend's alerts are.
            for h in found.held {
                of_rule[ci].push(inputs.len());
                inputs.push(Input {
                    rule: ci,
                    time: h.time,
                    event: u64::MAX - inputs.len() as u64,
                    values: h.values,
                    meta: h.meta,
                });
            }
            hits.extend(found.hits);
        }
        hits
    }

    /// The correlations that do not run: their references lead into a
    /// cycle.
    pub fn cyclic(&self) -> Vec<usize> {
        self.dependency_order().1
    }

    /// The correlations in an order where each follows those it counts,
    /// and those a cycle of references leaves out.
    fn dependency_order(&self) -> (Vec<usize>, Vec<usize>) {
        let n = self.engine.rules.len();
        let (mut is_correlation, mut placed) = (vec![false; n], vec![false; n]);
        for &ci in &self.engine.correlations {
            is_correlation[ci] = true;
        }
        let refs: Vec<(usize, Vec<usize>)> = (self.engine.correlations.iter())
            .map(|&ci| (ci, self.referenced(ci)))
            .collect();
        let mut order: Vec<usize> = Vec::new();
        // Passes until one places nothing: a pass per level of a chain.
        loop {
            let before = order.len();
            for (ci, rs) in &refs {
                if !placed[*ci] && rs.iter().all(|&r| !is_correlation[r] || placed[r]) {
                    placed[*ci] = true;
                    order.push(*ci);
                }
            }
            if order.len() == before {
                break;
            }
        }
        let cyclic = refs
            .iter()
            .map(|(ci, _)| *ci)
            .filter(|&ci| !placed[ci])
            .collect();
        (order, cyclic)
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

/// Why a correlation in a cycle of references does not run.
pub const CYCLE: &str =
    "its references lead into a cycle (a correlation counting itself, directly or through others)";

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

#[cfg(test)]
mod tests;
