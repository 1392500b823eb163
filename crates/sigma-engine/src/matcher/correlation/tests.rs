use super::window::{check, folded, groups, hit, number};
use super::*;
use crate::sigma::rule::CorrelationCondition;
use crate::sigma::vocab::CmpOp;
use crate::sigma::vocab::CorrelationType;

/// The windows computed afresh at every event: the oracle the sliding
/// tally must agree with.
fn naive(ci: usize, c: &Correlation, refs: &[usize], inputs: &[Input]) -> Vec<CorrelationHit> {
    let span = c.timespan as f64;
    let field = c.field();
    let mut out = Vec::new();
    for evs in groups(c, refs, inputs).into_values() {
        let window = |i: usize, j: usize| Window {
            events: &evs[i..j],
            field,
            refs,
        };
        // Where each moment (the events of one time) ends.
        let moment_end = |k: usize| {
            (k..evs.len())
                .find(|&e| evs[e].time != evs[k].time)
                .unwrap_or(evs.len())
        };
        let mut floor = 0;
        for end in 1..=evs.len() {
            if end <= floor || moment_end(end - 1) != end {
                continue;
            }
            let i = (floor..end)
                .find(|&i| evs[end - 1].time - evs[i].time <= span)
                .unwrap_or(end - 1);
            let Some(mut value) = window(i, end).aggregate(c) else {
                continue;
            };
            let mut j = end;
            while j < evs.len() && evs[j].time - evs[i].time <= span {
                let k = moment_end(j);
                match window(i, k).aggregate(c) {
                    Some(v) => {
                        value = v;
                        j = k;
                    }
                    None => break,
                }
            }
            out.push(hit(ci, c, &evs[i..j], value));
            floor = j;
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
    /// The field's values, folded.
    fn values(&self) -> impl Iterator<Item = String> {
        self.events
            .iter()
            .filter_map(|e| self.field.and_then(|f| e.values.get(f)))
            .map(|v| folded(v).into_owned())
    }

    fn numbers(&self) -> impl Iterator<Item = f64> {
        self.events
            .iter()
            .filter_map(|e| self.field.and_then(|f| e.values.get(f)))
            .filter_map(|v| number(v))
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
                let v: Vec<f64> = self.numbers().collect();
                let s = v.iter().sum::<f64>();
                (s, !v.is_empty() && check(c, s, f64::INFINITY))
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

    /// How many of the referenced rules appear in the listed order, each
    /// strictly later than the one before.
    fn in_order(&self) -> usize {
        let mut next = 0;
        let mut after = f64::NEG_INFINITY;
        for e in self.events {
            if next < self.refs.len() && e.rule == self.refs[next] && e.time > after {
                next += 1;
                after = e.time;
            }
        }
        next
    }

    /// The share (in percent) of the rarest value in the window.
    fn rarest_share(&self) -> f64 {
        let mut counts: HashMap<String, usize> = HashMap::new();
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
    let mut inputs: Vec<Input> = Vec::new();
    for k in 0..n {
        // Now and then another rule's detection of the event before.
        if let Some(last) = inputs.last().filter(|_| rng.below(4) == 0) {
            let again = Input {
                rule: (last.rule + 1 + rng.below(2) as usize) % 3,
                ..last.clone()
            };
            inputs.push(again);
            continue;
        }
        let time = rng.below(40) as f64 + if rng.below(4) == 0 { 0.5 } else { 0.0 };
        let mut values = Fields::default();
        for (field, of) in [
            ("user", &["a", "A", "b", ""][..]),
            (
                "n",
                &[
                    "1", "2", "x", "3.5", "-2", "", "NaN", "inf", "1e400", " 2 ", "+1",
                ],
            ),
        ] {
            let v = rng.pick(of);
            if !v.is_empty() {
                values.insert(field, v);
            }
        }
        inputs.push(Input {
            rule: rng.below(3) as usize,
            time,
            event: k,
            values,
            meta: EventMeta {
                timestamp: Some(format!("{time}#{k}")),
                record: k,
                ..EventMeta::default()
            },
        });
    }
    inputs
}

fn random_correlation(rng: &mut Rng) -> (Correlation, Vec<usize>) {
    let kind = CorrelationType::ALL[rng.below(CorrelationType::ALL.len() as u64) as usize];
    let refs: &[usize] = [&[0, 1][..], &[1, 0], &[0, 1, 2], &[2], &[0, 0]][rng.below(5) as usize];
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
        let found = evaluate(7, &c, &refs, &inputs, true);
        let got = found.hits;
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
        let held: Vec<(f64, u64)> = found.held.iter().map(|h| (h.time, h.meta.record)).collect();
        assert_eq!(held, naive_held(&c, &refs, &inputs), "round {round}: held");
        hits += got.len();
    }
    assert!(hits > 10_000, "the rounds find hits ({hits})");
}

/// The moments a correlation holds, each window computed afresh: at every
/// time a detection has, over the timespan before it; the last detection
/// at that time names it.
fn naive_held(c: &Correlation, refs: &[usize], inputs: &[Input]) -> Vec<(f64, u64)> {
    let span = c.timespan as f64;
    let field = c.field();
    let mut out = Vec::new();
    for evs in groups(c, refs, inputs).into_values() {
        for (k, e) in evs.iter().enumerate() {
            if evs.get(k + 1).is_some_and(|next| next.time == e.time) {
                continue;
            }
            let i = evs
                .iter()
                .position(|x| e.time - x.time <= span)
                .unwrap_or(k);
            let window = Window {
                events: &evs[i..=k],
                field,
                refs,
            };
            if window.aggregate(c).is_some() {
                out.push((e.time, e.meta.record));
            }
        }
    }
    out
}

/// A correlation of `kind` over group-by `user`, reading field `n`.
fn correlation(kind: CorrelationType, ops: &[(CmpOp, f64)]) -> Correlation {
    Correlation {
        kind,
        rules: Vec::new(),
        group_by: vec!["user".to_string()],
        timespan: 60,
        timespan_text: "1m".to_string(),
        condition: Some(CorrelationCondition {
            ops: ops.to_vec(),
            field: kind.reads_field().then(|| "n".to_string()),
        }),
        aliases: Vec::new(),
        generate: false,
    }
}

/// A detection by `rule` of event `event` at `time`.
fn detection(rule: usize, event: u64, time: f64, fields: &[(&str, &str)]) -> Input {
    let mut values = Fields::default();
    for (f, v) in fields {
        values.insert(f, v);
    }
    Input {
        rule,
        time,
        event,
        values,
        meta: EventMeta {
            record: event,
            ..EventMeta::default()
        },
    }
}

/// The values of the hits `evaluate` finds.
fn values(c: &Correlation, refs: &[usize], inputs: &[Input]) -> Vec<f64> {
    evaluate(0, c, refs, inputs, false)
        .hits
        .iter()
        .map(|h| h.value)
        .collect()
}

#[test]
fn an_event_two_referenced_rules_match_counts_once() {
    let u = [("user", "admin")];
    let inputs = [
        detection(1, 0, 0.0, &u),
        detection(2, 0, 0.0, &u),
        detection(1, 1, 5.0, &u),
        detection(2, 1, 5.0, &u),
    ];
    let three = correlation(CorrelationType::EventCount, &[(CmpOp::Gte, 3.0)]);
    assert!(values(&three, &[1, 2], &inputs).is_empty());
    let two = correlation(CorrelationType::EventCount, &[(CmpOp::Gte, 2.0)]);
    assert_eq!(values(&two, &[1, 2], &inputs), [2.0]);
    // A temporal correlation asks which rules matched: both did.
    let both = correlation(CorrelationType::Temporal, &[]);
    assert_eq!(values(&both, &[1, 2], &inputs), [2.0]);
}

#[test]
fn one_event_is_not_in_order_after_itself() {
    let u = [("user", "admin")];
    let same = [detection(1, 0, 0.0, &u), detection(2, 0, 0.0, &u)];
    let ordered = correlation(CorrelationType::TemporalOrdered, &[]);
    assert!(values(&ordered, &[1, 2], &same).is_empty());
    let later = [detection(1, 0, 0.0, &u), detection(2, 1, 1.0, &u)];
    assert_eq!(values(&ordered, &[1, 2], &later), [2.0]);
}

#[test]
fn group_by_values_and_counted_values_compare_case_insensitively() {
    let inputs = [
        detection(1, 0, 0.0, &[("user", "Admin"), ("n", "HOST1")]),
        detection(1, 1, 1.0, &[("user", "admin"), ("n", "host1")]),
        detection(1, 2, 2.0, &[("user", "ADMIN"), ("n", "Host2")]),
    ];
    let three = correlation(CorrelationType::EventCount, &[(CmpOp::Gte, 3.0)]);
    let hits = evaluate(0, &three, &[1], &inputs, false).hits;
    assert_eq!(hits.len(), 1, "a brute force in mixed case is one user's");
    assert_eq!(hits[0].group, [("user".to_string(), "Admin".to_string())]);
    let hosts = correlation(CorrelationType::ValueCount, &[(CmpOp::Gte, 3.0)]);
    assert!(
        values(&hosts, &[1], &inputs).is_empty(),
        "two hosts, not three"
    );
}

#[test]
fn a_value_that_is_no_finite_number_neither_counts_nor_blinds_a_sum() {
    let n = |v| [("user", "u"), ("n", v)];
    let inputs = [
        detection(1, 0, 0.0, &n("NaN")),
        detection(1, 1, 1.0, &n("60")),
        detection(1, 2, 2.0, &n("inf")),
        detection(1, 3, 3.0, &n(" 60 ")),
    ];
    let sum = correlation(CorrelationType::ValueSum, &[(CmpOp::Gte, 100.0)]);
    assert_eq!(values(&sum, &[1], &inputs), [120.0]);
    let avg = correlation(CorrelationType::ValueAvg, &[(CmpOp::Gte, 60.0)]);
    assert_eq!(values(&avg, &[1], &inputs), [60.0]);
}

#[test]
fn a_huge_value_leaves_nothing_behind_when_it_leaves_the_window() {
    let n = |v| [("user", "u"), ("n", v)];
    // 1e20 then 1 within one minute, then 1 a minute after the 1e20: a
    // running sum would lose the first 1 to rounding and find 1, not 2.
    let inputs = [
        detection(1, 0, 0.0, &n("1e20")),
        detection(1, 1, 30.0, &n("1")),
        detection(1, 2, 61.0, &n("1")),
    ];
    let two = correlation(
        CorrelationType::ValueSum,
        &[(CmpOp::Gte, 2.0), (CmpOp::Lte, 2.0)],
    );
    assert_eq!(values(&two, &[1], &inputs), [2.0]);
}

#[test]
fn numbers_are_finite_json_numbers() {
    for (text, want) in [
        ("42", Some(42.0)),
        (" -2.5e3 ", Some(-2500.0)),
        ("NaN", None),
        ("inf", None),
        ("1e400", None),
        ("0x10", None),
        ("+1", None),
        ("", None),
    ] {
        assert_eq!(number(text), want, "{text:?}");
    }
}

#[test]
fn events_of_one_time_are_one_moment() {
    let u = [("user", "a")];
    let inputs = [detection(1, 0, 5.0, &u), detection(1, 1, 5.0, &u)];
    let one = correlation(CorrelationType::EventCount, &[(CmpOp::Lte, 1.0)]);
    assert!(values(&one, &[1], &inputs).is_empty(), "two events at 5 s");
    let two = correlation(CorrelationType::EventCount, &[(CmpOp::Gte, 2.0)]);
    assert_eq!(values(&two, &[1], &inputs), [2.0]);
}
