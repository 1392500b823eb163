//! Compiling a rule's detection into matchers: every value is prepared once
//! (lower-cased needles, wildcard fast paths, regexes, CIDR networks, encoded
//! base64 forms) so that matching an event does no parsing at all.
//!
//! Here the compiled forms and the compiling of conditions; `values` makes
//! each field's tests from its values and modifiers, `eval` runs them on an
//! event, and `needs` says what a compiled detection needs of an event (the
//! fields it reads, the values it requires, the literals it cannot match
//! without) for the engine to index and prefilter it.

mod eval;
mod needs;
mod regexp;
mod values;

#[cfg(test)]
pub(crate) use needs::regex_literals;
pub use needs::{ANY_FIELD, Alternatives, MOST_GROUPS, Necessary};
use values::compile_spec;

use super::pattern::{AffixSet, NeedleSet, Pattern, Tok, tokenize, windash};
use crate::events::{Event, FieldValue};
use crate::sigma::condition::{Cond, Target, selects};
use crate::sigma::modifiers::Modifier;
use crate::sigma::rule::{Detection, FieldSpec, Search, SearchItem, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// A date part of the time modifiers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// A compiled value test.
#[derive(Debug, Clone)]
pub enum ValueTest {
    /// Wildcard pattern; `cased` compares the original text.
    Str {
        pattern: Pattern,
        cased: bool,
    },
    /// Case-insensitive substrings, one of which the value contains: a
    /// long keyword list, searched in one scan.
    AnyOf(NeedleSet),
    /// Case-insensitive prefixes and suffixes, one of which the value has:
    /// a long `startswith` / `endswith` list, looked up by length.
    Affixes(AffixSet),
    /// A regular expression over characters (module `regexp` says how).
    Regex(regexp::Regex),
    /// A regex that is only `.{n,}`: a run of at least `n` characters (without a
    /// line break unless `across_lines`). Counted without the regex, whose
    /// automaton for a large `n` gives up its DFA and takes hundreds of
    /// microseconds per long value.
    LongRun {
        n: u32,
        across_lines: bool,
    },
    Cidr(ipnet::IpNet),
    /// Many networks of one list, looked up at once.
    Networks(crate::matcher::networks::NetworkSet),
    Num(Cmp, f64),
    /// A number written in the rule, compared as a value: its text as the
    /// rule spells it (`4688` equals the string `"4688"`), or any JSON
    /// number of the same value however the event writes it (`1`, `1.0`,
    /// `1e0`).
    Number {
        text: Box<str>,
        value: f64,
    },
    /// `field|fieldref`: compare with another field of the same event.
    FieldRef {
        field: Arc<str>,
        position: Position,
        cased: bool,
    },
    /// A date part, then a test on the number.
    Time(TimePart, Box<ValueTest>),
}

/// Where a `fieldref` value must appear.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Position {
    Equal,
    Start,
    End,
    Within,
}

/// A compiled `field|modifiers: values`.
#[derive(Debug, Clone)]
pub struct FieldTest {
    /// Event field (after mapping); `None` searches every field (keywords).
    pub field: Option<Arc<str>>,
    /// The field as the rule names it, for reports, when the mapping
    /// renamed it. Field names are shared (interned) across rules.
    pub rule_field: Option<Arc<str>>,
    pub kind: FieldTestKind,
}

#[derive(Debug, Clone)]
pub enum FieldTestKind {
    /// `exists: true/false`.
    Exists(bool),
    /// `null`: the field is absent or null.
    Null,
    /// Values OR-ed (AND-ed with `all`), negated with `neq`; with
    /// `or_null` (a list holding `null`), a field absent or null matches too.
    Values {
        tests: Vec<ValueTest>,
        all: bool,
        neq: bool,
        or_null: bool,
    },
}

/// A compiled search: all tests (map) or any group (list).
#[derive(Debug, Clone)]
pub enum CSearch {
    All(Vec<FieldTest>),
    Any(Vec<Vec<FieldTest>>),
}

/// A compiled condition over search indexes.
#[derive(Debug, Clone)]
pub enum CCond {
    Search(usize),
    Not(Box<CCond>),
    And(Vec<CCond>),
    Or(Vec<CCond>),
    AnyOf(Vec<usize>),
    AllOf(Vec<usize>),
}

/// A detection ready to run.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub names: Vec<String>,
    pub searches: Vec<CSearch>,
    pub condition: CCond,
}

/// Values for `expand` placeholders (`%name%` → values).
pub type Placeholders = HashMap<String, Vec<String>>;

/// Why a rule cannot run: the error of the compiler layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// A `%name%` placeholder without values (`--placeholders FILE`).
    #[error("placeholder %{0}% has no values (give them with --placeholders FILE)")]
    Placeholder(String),
    /// A value whose placeholders' values would combine into more values
    /// than [`MOST_EXPANSIONS`].
    #[error(
        "`{value}` expands to {count} values with the placeholders' values, more than the {most} a value may (fewer values per placeholder, or the value split)",
        most = MOST_EXPANSIONS
    )]
    TooManyExpansions { value: String, count: String },
    /// The log source is of a known product but maps to no events.
    #[error("no mapping for logsource category={category} product={product} service={service}")]
    NoMapping {
        category: String,
        product: String,
        service: String,
    },
    /// A value or construct the engine cannot run; the text says which.
    #[error("{0}")]
    Construct(String),
}

/// The most values one `|expand` value becomes: each placeholder's values
/// multiply, so a value of twenty placeholders of ten values each would
/// be 10^20 strings.
pub const MOST_EXPANSIONS: usize = 1 << 16;

/// Compile a detection with a field renaming function.
pub fn compile(
    det: &Detection,
    fields: &dyn Fn(&str) -> Arc<str>,
    ph: &Placeholders,
    filters: &[&Detection],
) -> Result<Compiled, Unsupported> {
    let mut c = Compiler {
        fields,
        ph,
        names: Vec::new(),
        searches: Vec::new(),
    };
    let mut parts = vec![c.add(det, "")?];
    // Filters, as pySigma applies them: `(rule) and (filter)`. A filter
    // written `condition: not selection` thus drops the matches where its
    // selection holds. Its search names live in their own range. One `and`
    // of them all, not one inside another: a rule may have thousands of
    // filters, and conditions are walked by recursion.
    for (fi, f) in filters.iter().enumerate() {
        parts.push(c.add(f, &format!("filter{fi}\u{1f}"))?);
    }
    let condition = match parts.len() {
        1 => parts.remove(0),
        _ => CCond::And(parts),
    };
    Ok(Compiled {
        names: c.names,
        searches: c.searches,
        condition,
    })
}

/// Compiles detections into one shared list of named searches.
struct Compiler<'a> {
    fields: &'a dyn Fn(&str) -> Arc<str>,
    ph: &'a Placeholders,
    names: Vec<String>,
    searches: Vec<CSearch>,
}

impl Compiler<'_> {
    /// Adds a detection's searches under `prefix` and returns its condition,
    /// resolved against its own searches only.
    fn add(&mut self, d: &Detection, prefix: &str) -> Result<CCond, Unsupported> {
        let start = self.names.len();
        for (name, s) in &d.searches {
            let c = self.search(s)?;
            self.names.push(format!("{prefix}{name}"));
            self.searches.push(c);
        }
        let scope = Scope::new(d, start);
        let mut parts: Vec<CCond> = d
            .conditions
            .iter()
            .map(|c| self.resolve(c, &scope))
            .collect::<Result<_, _>>()?;
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            CCond::Or(parts)
        })
    }

    fn spec(&self, f: &FieldSpec) -> Result<FieldTest, Unsupported> {
        compile_spec(f, self.fields, self.ph)
    }

    fn search(&self, s: &Search) -> Result<CSearch, Unsupported> {
        Ok(match s {
            Search::Fields(specs) => CSearch::All(
                specs
                    .iter()
                    .map(|f| self.spec(f))
                    .collect::<Result<_, _>>()?,
            ),
            Search::List(items) => {
                // The keywords of a list are one test of their values (any
                // matches), so that a long list is searched in one scan.
                let keyword = |it: &SearchItem| match it {
                    SearchItem::Keyword(v) if *v != Value::Null => Some(v.clone()),
                    _ => None,
                };
                let keywords: Vec<Value> = items.iter().filter_map(keyword).collect();
                let mut groups: Vec<Vec<FieldTest>> = Vec::new();
                let words = |values| {
                    let spec = FieldSpec {
                        field: None,
                        modifiers: Vec::new(),
                        values,
                        line: 0,
                        column: 0,
                    };
                    self.spec(&spec).map(|t| vec![t])
                };
                if !keywords.is_empty() {
                    groups.push(words(keywords)?);
                }
                for it in items.iter().filter(|it| keyword(it).is_none()) {
                    groups.push(match it {
                        SearchItem::Keyword(v) => words(vec![v.clone()])?,
                        SearchItem::Fields(specs) => specs
                            .iter()
                            .map(|f| self.spec(f))
                            .collect::<Result<_, _>>()?,
                    });
                }
                CSearch::Any(groups)
            }
        })
    }

    fn resolve(&self, c: &Cond, scope: &Scope) -> Result<CCond, Unsupported> {
        let all = |v: &[Cond]| -> Result<Vec<CCond>, Unsupported> {
            v.iter().map(|x| self.resolve(x, scope)).collect()
        };
        Ok(match c {
            Cond::Ident(s) => match scope.by_name.get(s.as_str()) {
                Some(&i) => CCond::Search(i),
                None => return Err(Unsupported::Construct(format!("unknown search `{s}`"))),
            },
            Cond::Not(x) => CCond::Not(Box::new(self.resolve(x, scope)?)),
            Cond::And(v) => CCond::And(all(v)?),
            Cond::Or(v) => CCond::Or(all(v)?),
            Cond::OneOf(t) => CCond::AnyOf(scope.targets(t)),
            Cond::AllOf(t) => CCond::AllOf(scope.targets(t)),
        })
    }
}

/// A detection's search names, for its condition to find them by: each
/// name once (a rule's condition may name tens of thousands of searches),
/// hashed with a random key, as the rule's author chose them.
struct Scope<'d> {
    /// The index of the detection's first search among the compiled ones.
    start: usize,
    names: Vec<&'d str>,
    by_name: std::collections::HashMap<&'d str, usize>,
}

impl<'d> Scope<'d> {
    fn new(d: &'d Detection, start: usize) -> Scope<'d> {
        let names: Vec<&str> = d.searches.iter().map(|(n, _)| n.as_str()).collect();
        let mut by_name = std::collections::HashMap::new();
        for (i, n) in names.iter().enumerate() {
            by_name.entry(*n).or_insert(start + i);
        }
        Scope {
            start,
            names,
            by_name,
        }
    }

    /// The searches an `x of` target takes: as many comparisons as the
    /// detection has searches, which the rule's reading bounds in all
    /// ([`crate::sigma::rule::MOST_TARGET_COMPARISONS`]).
    fn targets(&self, t: &Target) -> Vec<usize> {
        (self.names.iter().enumerate())
            .filter(|(_, n)| selects(t, n))
            .map(|(i, _)| self.start + i)
            .collect()
    }
}
