//! Running compiled tests on an event: each search evaluated at most once
//! per event, and the fields that matched gathered for the hit.

use super::values::format_num;
use super::*;

fn num_cmp(c: Cmp, a: f64, b: f64) -> bool {
    match c {
        Cmp::Gt => a > b,
        Cmp::Gte => a >= b,
        Cmp::Lt => a < b,
        Cmp::Lte => a <= b,
    }
}

fn time_part(v: &FieldValue<'_>, part: TimePart) -> Option<f64> {
    let p = crate::matcher::time::parse(v.text)?;
    Some(match part {
        TimePart::Minute => p.minute as f64,
        TimePart::Hour => p.hour as f64,
        TimePart::Day => p.day as f64,
        TimePart::Week => crate::matcher::time::iso_week(&p) as f64,
        TimePart::Month => p.month as f64,
        TimePart::Year => p.year as f64,
    })
}

/// The IP address a value spells, if it spells one.
fn address(v: &FieldValue<'_>) -> Option<std::net::IpAddr> {
    v.text.trim().parse().ok()
}

impl ValueTest {
    pub(super) fn matches(&self, v: &FieldValue<'_>, event: &Event) -> bool {
        match self {
            ValueTest::Str { pattern, cased } => {
                if v.is_null {
                    return false;
                }
                pattern.matches(if *cased { v.text } else { v.lower() })
            }
            ValueTest::AnyOf(set) => !v.is_null && set.is_in(v.lower()),
            ValueTest::Affixes(set) => !v.is_null && set.matches(v.lower()),
            ValueTest::Regex(re) => !v.is_null && re.is_match(v.text),
            ValueTest::LongRun { n, across_lines } => {
                let n = *n as usize;
                // Characters, as the regex counts them.
                let long = |s: &str| s.len() >= n && (s.is_ascii() || s.chars().count() >= n);
                !v.is_null
                    && match across_lines {
                        true => long(v.text),
                        false => v.text.split('\n').any(long),
                    }
            }
            ValueTest::Cidr(net) => address(v).is_some_and(|ip| net.contains(&ip)),
            ValueTest::Networks(set) => address(v).is_some_and(|ip| set.contains(ip)),
            ValueTest::Num(c, n) => v.number().is_some_and(|x| num_cmp(*c, x, *n)),
            ValueTest::Number { text, value } => {
                !v.is_null && (v.lower() == &**text || v.json_number() == Some(*value))
            }
            ValueTest::FieldRef {
                field,
                position,
                cased,
            } => {
                !v.is_null
                    && event.get(field).is_some_and(|others| {
                        // A null is no value to compare, as SQL's NULL equals nothing.
                        others.iter().filter(|o| !o.is_null).any(|o| {
                            let (a, b) = if *cased {
                                (v.text, o.text)
                            } else {
                                (v.lower(), o.lower())
                            };
                            match position {
                                Position::Equal => a == b,
                                Position::Start => a.starts_with(b),
                                Position::End => a.ends_with(b),
                                Position::Within => a.contains(b),
                            }
                        })
                    })
            }
            ValueTest::Time(part, inner) => time_part(v, *part).is_some_and(|n| {
                let text = format_num(n);
                inner.matches(&FieldValue::new(&text, &text, Some(n), false), event)
            }),
        }
    }
}

impl ValueTest {
    /// Whether some value of the event may match: a case-insensitive
    /// substring (or keyword list) is first looked for once in the whole
    /// event's text, which holds every lower-cased value (one scan instead
    /// of one per value).
    fn may_be_in(&self, e: &Event) -> bool {
        match self {
            ValueTest::Str {
                pattern: Pattern::Contains(n),
                cased: false,
            } => n.is_in(e.all_text()),
            ValueTest::AnyOf(set) => set.is_in(e.all_text()),
            _ => true,
        }
    }
}

/// Pairs of values a field reference compares one by one; past that, the
/// other field's values are put in a set (an event of two arrays of 30,000
/// values each would be a billion comparisons).
const FEW_PAIRS: usize = 1 << 12;

impl ValueTest {
    /// The place of the first of the values `vs` that passes.
    fn first_of<'e>(&self, vs: crate::events::Values<'e>, e: &'e Event) -> Option<usize> {
        if let ValueTest::FieldRef {
            field,
            position: Position::Equal,
            cased,
        } = self
            && let Some(others) = e.get(field)
            && vs.len().saturating_mul(others.len()) > FEW_PAIRS
        {
            let form = |v: &FieldValue<'e>| -> &'e str { if *cased { v.text } else { v.lower() } };
            let others = others.iter().filter(|o| !o.is_null);
            let set: std::collections::HashSet<&str> = others.map(|o| form(&o)).collect();
            return vs.iter().position(|v| !v.is_null && set.contains(form(&v)));
        }
        vs.iter().position(|v| self.matches(&v, e))
    }
}

/// Whether a field is absent or null: what `field: null` asks.
fn absent_or_null(values: Option<crate::events::Values>) -> bool {
    values.is_none_or(|vs| vs.iter().any(|v| v.is_null))
}

impl FieldTest {
    /// Evaluate on an event.
    pub fn matches(&self, e: &Event) -> bool {
        let values = self.field.as_deref().map(|f| e.get(f));
        match &self.kind {
            // A field whose only value is null does not exist, as a search
            // backend's `_exists_` or `field=*` says.
            FieldTestKind::Exists(want) => {
                let present = values
                    .flatten()
                    .is_some_and(|vs| vs.iter().any(|v| !v.is_null));
                present == *want
            }
            FieldTestKind::Null => absent_or_null(values.flatten()),
            FieldTestKind::Values {
                tests,
                all,
                neq,
                or_null,
            } => {
                if *or_null && absent_or_null(values.flatten()) {
                    return true;
                }
                let test_one = |t: &ValueTest| -> bool {
                    match values {
                        Some(Some(vs)) => t.first_of(vs, e).is_some(),
                        Some(None) => false,
                        // Keywords: any value of any field.
                        None => t.may_be_in(e) && e.all_values().any(|v| t.matches(&v, e)),
                    }
                };
                if matches!(values, Some(None)) {
                    // A test on a field the event lacks is false (also with `neq`).
                    return false;
                }
                let hit = if *all {
                    tests.iter().all(test_one)
                } else {
                    tests.iter().any(test_one)
                };
                if *neq { !hit } else { hit }
            }
        }
    }
}

impl FieldTest {
    /// The value a detection shows for this test: the first value one of
    /// its values accepts (of its field, or of any field for a keyword),
    /// else the field's first value (a test of `neq`, of existence).
    fn shown<'e>(&self, e: &'e Event) -> &'e str {
        let tests = match &self.kind {
            FieldTestKind::Values {
                tests, neq: false, ..
            } => &tests[..],
            _ => &[],
        };
        let found = match self.field.as_deref() {
            Some(f) => e.get(f).and_then(|vs| {
                let first = tests.iter().filter_map(|t| t.first_of(vs, e)).min()?;
                vs.iter().nth(first)
            }),
            None => e
                .all_values()
                .find(|v| tests.iter().any(|t| t.matches(v, e))),
        };
        match (found, self.field.as_deref()) {
            (Some(v), _) => v.text,
            (None, Some(f)) => e.text(f).unwrap_or(""),
            (None, None) => "",
        }
    }
}

impl CSearch {
    pub fn matches(&self, e: &Event) -> bool {
        match self {
            CSearch::All(tests) => tests.iter().all(|t| t.matches(e)),
            CSearch::Any(groups) => groups.iter().any(|g| g.iter().all(|t| t.matches(e))),
        }
    }
}

impl Compiled {
    /// Evaluate the condition, computing each search at most once.
    pub fn matches(&self, e: &Event) -> bool {
        self.run(e, |hit, _| hit)
    }

    /// The fields of the searches that matched (rule name, event value),
    /// for reports, if the detection matches.
    pub fn match_fields(&self, e: &Event) -> Option<Vec<(String, String)>> {
        self.run(e, |hit, cache| hit.then(|| self.fields_of(e, cache)))
    }

    /// The condition's outcome, then `then` with the searches computed.
    fn run<R>(&self, e: &Event, then: impl FnOnce(bool, &mut [Option<bool>]) -> R) -> R {
        const STACK: usize = 32;
        let (mut stack, mut heap) = ([None; STACK], Vec::new());
        let cache: &mut [Option<bool>] = if self.searches.len() <= STACK {
            &mut stack
        } else {
            heap.resize(self.searches.len(), None);
            &mut heap
        };
        let hit = self.eval(&self.condition, e, cache);
        then(hit, cache)
    }

    fn search(&self, i: usize, e: &Event, cache: &mut [Option<bool>]) -> bool {
        if let Some(r) = cache[i] {
            return r;
        }
        let r = self.searches[i].matches(e);
        cache[i] = Some(r);
        r
    }

    fn eval(&self, c: &CCond, e: &Event, cache: &mut [Option<bool>]) -> bool {
        match c {
            CCond::Search(i) => self.search(*i, e, cache),
            CCond::Not(x) => !self.eval(x, e, cache),
            CCond::And(v) => v.iter().all(|x| self.eval(x, e, cache)),
            CCond::Or(v) => v.iter().any(|x| self.eval(x, e, cache)),
            CCond::AnyOf(ids) => ids.iter().any(|&i| self.search(i, e, cache)),
            CCond::AllOf(ids) => !ids.is_empty() && ids.iter().all(|&i| self.search(i, e, cache)),
        }
    }

    /// The fields of every search that matches (those the condition did
    /// not compute are computed now), without filter searches.
    fn fields_of(&self, e: &Event, cache: &mut [Option<bool>]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut push = |t: &FieldTest| {
            let name = match &t.field {
                Some(f) => t.rule_field.as_deref().unwrap_or(f),
                None => "keyword",
            };
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.to_string(), t.shown(e).to_string()));
            }
        };
        for (i, s) in self.searches.iter().enumerate() {
            if self.names[i].contains('\u{1f}') || !self.search(i, e, cache) {
                continue;
            }
            match s {
                // A map matches when each of its tests does.
                CSearch::All(tests) => tests.iter().for_each(&mut push),
                CSearch::Any(groups) => {
                    if let Some(g) = groups.iter().find(|g| g.iter().all(|t| t.matches(e))) {
                        g.iter().for_each(&mut push);
                    }
                }
            }
        }
        out
    }
}
