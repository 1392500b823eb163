//! Compiling a rule's detection into matchers: every value is prepared once
//! (lower-cased needles, wildcard fast paths, regexes, CIDR networks, encoded
//! base64 forms) so that matching an event does no parsing at all.

use super::pattern::{AffixSet, NeedleSet, Pattern, Tok, tokenize, windash};
use crate::events::{Event, FieldValue};
use crate::sigma::condition::{Cond, Target, pattern_matches};
use crate::sigma::modifiers::Modifier;
use crate::sigma::rule::{Detection, FieldSpec, Search, SearchItem, Value};
use base64::Engine as _;
use std::collections::HashMap;
use std::ops::Range;
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
    /// Byte regex without Unicode classes, like PCRE outside UTF mode: the
    /// Unicode tables would cost megabytes per rule.
    Regex(regex::bytes::Regex),
    /// A regex that is only `.{n,}`: a run of at least `n` bytes (without a
    /// line break unless `across_lines`). Counted without the regex, whose
    /// automaton for a large `n` gives up its DFA and takes hundreds of
    /// microseconds per long value.
    LongRun {
        n: u32,
        across_lines: bool,
    },
    Cidr(ipnet::IpNet),
    Num(Cmp, f64),
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
    /// Values OR-ed (AND-ed with `all`), negated with `neq`.
    Values {
        tests: Vec<ValueTest>,
        all: bool,
        neq: bool,
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

fn value_text(v: &Value) -> Option<String> {
    v.as_text()
}

fn base64_variants(bytes: &[u8], offset: bool) -> Vec<String> {
    let e = base64::engine::general_purpose::STANDARD;
    if !offset {
        return vec![e.encode(bytes)];
    }
    // The value may start at any of three byte offsets of the encoded data;
    // keep only the part of each encoding that does not depend on neighbours.
    let start = [0usize, 2, 3];
    let end_trim = [0usize, 3, 2];
    (0..3)
        .map(|i| {
            let mut b = vec![b' '; i];
            b.extend_from_slice(bytes);
            let enc = e.encode(&b);
            let trim = end_trim[(bytes.len() + i) % 3];
            let end = enc.len().saturating_sub(trim);
            enc.get(start[i]..end.max(start[i]))
                .unwrap_or("")
                .to_string()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

fn utf16(s: &str, m: Modifier) -> Vec<u8> {
    let mut out = Vec::new();
    if m == Modifier::Utf16 {
        out.extend_from_slice(&[0xFF, 0xFE]);
    }
    for u in s.encode_utf16() {
        let [a, b] = u.to_le_bytes();
        if m == Modifier::Utf16be {
            out.extend_from_slice(&[b, a]);
        } else {
            out.extend_from_slice(&[a, b]);
        }
    }
    out
}

/// Replace `%name%` placeholders; `\%` is a plain percent sign.
fn expand(s: &str, ph: &Placeholders) -> Result<Vec<String>, Unsupported> {
    let mut results = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                chars.next();
                results.iter_mut().for_each(|r| r.push('%'));
            }
            '%' => {
                let name: String = chars.by_ref().take_while(|&c| c != '%').collect();
                let values = ph
                    .get(&name)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| Unsupported::Placeholder(name.clone()))?;
                results = results
                    .iter()
                    .flat_map(|r| values.iter().map(move |v| format!("{r}{v}")))
                    .collect();
            }
            c => results.iter_mut().for_each(|r| r.push(c)),
        }
    }
    Ok(results)
}

fn compile_spec(
    spec: &FieldSpec,
    fields: &dyn Fn(&str) -> Arc<str>,
    ph: &Placeholders,
) -> Result<FieldTest, Unsupported> {
    let field = spec.field.as_deref().map(fields);
    let rule_field = match (&spec.field, &field) {
        (Some(r), Some(f)) if **f != **r => Some(Arc::from(r.as_str())),
        _ => None,
    };
    let mk = |kind| FieldTest {
        field: field.clone(),
        rule_field: rule_field.clone(),
        kind,
    };
    let values = SpecValues::new(spec, fields, ph);
    if values.has(Modifier::Exists) {
        return Ok(mk(FieldTestKind::Exists(matches!(
            spec.values.first(),
            Some(Value::Bool(true))
        ))));
    }
    if spec.values.len() == 1 && spec.values[0] == Value::Null {
        return Ok(mk(FieldTestKind::Null));
    }
    let mut tests = Vec::new();
    for text in spec.values.iter().filter_map(value_text) {
        values.push_tests(text, &mut tests)?;
    }
    // `all` over several values: each value must match; over the expansions
    // of one value (windash, base64offset variants) any may.
    let all = values.has(Modifier::All) && spec.values.len() > 1;
    if all && tests.len() != spec.values.len() {
        return Err(Unsupported::Construct(
            "`all` with value expansions is not supported".into(),
        ));
    }
    if !all && field.is_none() {
        gather_needles(&mut tests);
    }
    if !all {
        gather_affixes(&mut tests);
    }
    // Pushed one by one: drop the spare capacity (thousands of rules stay
    // compiled for the whole run).
    tests.shrink_to_fit();
    Ok(mk(FieldTestKind::Values {
        tests,
        all,
        neq: values.has(Modifier::Neq),
    }))
}

/// Replaces the case-insensitive substring tests of a keyword list, when
/// there are many, by one [`ValueTest::AnyOf`]: a keyword is searched in
/// every value of an event. (A field's list is tested only where the
/// prefilter lets it; there, a search per needle measured faster than
/// building automata, and took less memory.)
fn gather_needles(tests: &mut Vec<ValueTest>) {
    gather(
        tests,
        |t| match t {
            ValueTest::Str {
                pattern: Pattern::Contains(n),
                cased: false,
            } => Some(n.clone()),
            _ => None,
        },
        |needles| ValueTest::AnyOf(NeedleSet::new(needles)),
    );
}

/// Replaces the case-insensitive prefix and suffix tests of a list, when
/// there are many, by one [`ValueTest::Affixes`].
fn gather_affixes(tests: &mut Vec<ValueTest>) {
    gather(
        tests,
        |t| match t {
            ValueTest::Str {
                pattern: Pattern::Prefix(s),
                cased: false,
            } => Some((true, s.clone())),
            ValueTest::Str {
                pattern: Pattern::Suffix(s),
                cased: false,
            } => Some((false, s.clone())),
            _ => None,
        },
        |affixes| {
            let (prefixes, suffixes): (Vec<_>, Vec<_>) = affixes.into_iter().partition(|a| a.0);
            let texts = |v: Vec<(bool, String)>| v.into_iter().map(|a| a.1).collect();
            ValueTest::Affixes(AffixSet::new(texts(prefixes), texts(suffixes)))
        },
    );
}

/// Replaces the tests `take` reads, when there are many (eight or more), by
/// the one test `join` makes of what it read, first in the list.
fn gather<T>(
    tests: &mut Vec<ValueTest>,
    take: impl Fn(&ValueTest) -> Option<T>,
    join: impl FnOnce(Vec<T>) -> ValueTest,
) {
    const MANY: usize = 8;
    if tests.iter().filter(|t| take(t).is_some()).count() < MANY {
        return;
    }
    let mut taken = Vec::new();
    tests.retain(|t| match take(t) {
        Some(x) => {
            taken.push(x);
            false
        }
        None => true,
    });
    tests.insert(0, join(taken));
}

/// How one field specification's modifiers turn each of its values into
/// value tests.
struct SpecValues<'a> {
    spec: &'a FieldSpec,
    fields: &'a dyn Fn(&str) -> Arc<str>,
    ph: &'a Placeholders,
    cased: bool,
    cmp: Option<Cmp>,
    time: Option<TimePart>,
}

impl<'a> SpecValues<'a> {
    fn new(
        spec: &'a FieldSpec,
        fields: &'a dyn Fn(&str) -> Arc<str>,
        ph: &'a Placeholders,
    ) -> Self {
        let cmp = spec.modifiers.iter().find_map(|m| match m {
            Modifier::Gt => Some(Cmp::Gt),
            Modifier::Gte => Some(Cmp::Gte),
            Modifier::Lt => Some(Cmp::Lt),
            Modifier::Lte => Some(Cmp::Lte),
            _ => None,
        });
        let time = spec.modifiers.iter().find_map(|m| match m {
            Modifier::Minute => Some(TimePart::Minute),
            Modifier::Hour => Some(TimePart::Hour),
            Modifier::Day => Some(TimePart::Day),
            Modifier::Week => Some(TimePart::Week),
            Modifier::Month => Some(TimePart::Month),
            Modifier::Year => Some(TimePart::Year),
            _ => None,
        });
        SpecValues {
            spec,
            fields,
            ph,
            cased: spec.modifiers.contains(&Modifier::Cased),
            cmp,
            time,
        }
    }

    fn has(&self, m: Modifier) -> bool {
        self.spec.modifiers.contains(&m)
    }

    fn push_tests(&self, text: String, tests: &mut Vec<ValueTest>) -> Result<(), Unsupported> {
        let test = if let Some(part) = self.time {
            self.time_test(part, &text)?
        } else if let Some(c) = self.cmp {
            ValueTest::Num(c, number(&text, "is not a number")?)
        } else if self.has(Modifier::Re) {
            self.regex(&text)?
        } else if self.has(Modifier::Cidr) {
            cidr(&text)?
        } else if self.has(Modifier::Fieldref) {
            ValueTest::FieldRef {
                field: (self.fields)(&text),
                position: self.position(),
                cased: self.cased,
            }
        } else {
            return self.push_string_tests(text, tests);
        };
        tests.push(test);
        Ok(())
    }

    fn time_test(&self, part: TimePart, text: &str) -> Result<ValueTest, Unsupported> {
        let n: f64 = text.trim().parse().map_err(|_| {
            Unsupported::Construct(format!("time modifier needs a number, not `{text}`"))
        })?;
        let inner = match self.cmp {
            Some(c) => ValueTest::Num(c, n),
            None => ValueTest::Str {
                pattern: Pattern::Exact(format_num(n)),
                cased: true,
            },
        };
        Ok(ValueTest::Time(part, Box::new(inner)))
    }

    fn regex(&self, text: &str) -> Result<ValueTest, Unsupported> {
        if let Some(t) = long_run(text, self.has(Modifier::ReS)) {
            return Ok(t);
        }
        let mut b = regex::bytes::RegexBuilder::new(text);
        b.unicode(false)
            .case_insensitive(self.has(Modifier::ReI))
            .multi_line(self.has(Modifier::ReM))
            .dot_matches_new_line(self.has(Modifier::ReS))
            .size_limit(1 << 24);
        // Patterns with non-ASCII literals need Unicode mode; it costs
        // memory, so it is only the fallback.
        let re = b
            .build()
            .or_else(|_| b.unicode(true).build())
            .map_err(|e| {
                Unsupported::Construct(format!(
                    "regular expression not supported: {}",
                    e.to_string().lines().last().unwrap_or("")
                ))
            })?;
        Ok(ValueTest::Regex(re))
    }

    fn position(&self) -> Position {
        if self.has(Modifier::Contains) {
            Position::Within
        } else if self.has(Modifier::StartsWith) {
            Position::Start
        } else if self.has(Modifier::EndsWith) {
            Position::End
        } else {
            Position::Equal
        }
    }

    fn push_string_tests(
        &self,
        text: String,
        tests: &mut Vec<ValueTest>,
    ) -> Result<(), Unsupported> {
        let texts = if self.has(Modifier::Expand) {
            expand(&text, self.ph)?
        } else {
            vec![text]
        };
        for t in texts {
            for mut toks in self.token_sets(&t) {
                match self.position() {
                    Position::Within => {
                        toks.insert(0, Tok::Any);
                        toks.push(Tok::Any);
                    }
                    Position::Start => toks.push(Tok::Any),
                    Position::End => toks.insert(0, Tok::Any),
                    Position::Equal if self.spec.field.is_none() && !toks.contains(&Tok::Any) => {
                        // Keywords are searched anywhere in the event's text.
                        toks.insert(0, Tok::Any);
                        toks.push(Tok::Any);
                    }
                    Position::Equal => {}
                }
                tests.push(ValueTest::Str {
                    pattern: Pattern::compile(&toks, !self.cased),
                    cased: self.cased,
                });
            }
        }
        Ok(())
    }

    /// The token sequences one value stands for: its literal encodings
    /// (base64 variants of UTF-8 or UTF-16) or its wildcard tokens.
    fn token_sets(&self, t: &str) -> Vec<Vec<Tok>> {
        let utf = self.spec.modifiers.iter().find(|m| {
            matches!(
                m,
                Modifier::Utf16le | Modifier::Utf16be | Modifier::Utf16 | Modifier::Wide
            )
        });
        let bytes = || match utf {
            Some(Modifier::Wide) => utf16(t, Modifier::Utf16le),
            Some(&m) => utf16(t, m),
            None => t.as_bytes().to_vec(),
        };
        let encoded = if self.has(Modifier::Base64) {
            base64_variants(&bytes(), false)
        } else if self.has(Modifier::Base64Offset) {
            base64_variants(&bytes(), true)
        } else {
            let mut toks = tokenize(t);
            if self.has(Modifier::Windash) {
                windash(&mut toks);
            }
            return vec![toks];
        };
        encoded
            .into_iter()
            .map(|s| s.chars().map(Tok::Lit).collect())
            .collect()
    }
}

/// `.{n,}` (as the byte regex reads it) as a [`ValueTest::LongRun`].
fn long_run(pattern: &str, dot_all: bool) -> Option<ValueTest> {
    use regex_syntax::hir::{Class, HirKind};
    let hir = regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .dot_matches_new_line(dot_all)
        .build()
        .parse(pattern)
        .ok()?;
    let HirKind::Repetition(rep) = hir.kind() else {
        return None;
    };
    let HirKind::Class(Class::Bytes(class)) = rep.sub.kind() else {
        return None;
    };
    let ranges: Vec<(u8, u8)> = class
        .ranges()
        .iter()
        .map(|r| (r.start(), r.end()))
        .collect();
    let across_lines = match ranges.as_slice() {
        [(0, 255)] => true,
        [(0, 9), (11, 255)] => false,
        _ => return None,
    };
    (rep.max.is_none() && rep.min > 0).then_some(ValueTest::LongRun {
        n: rep.min,
        across_lines,
    })
}

fn number(text: &str, what: &str) -> Result<f64, Unsupported> {
    text.trim()
        .parse()
        .map_err(|_| Unsupported::Construct(format!("`{text}` {what}")))
}

fn cidr(text: &str) -> Result<ValueTest, Unsupported> {
    let net: ipnet::IpNet = text
        .trim()
        .parse()
        .or_else(|_| {
            text.trim()
                .parse::<std::net::IpAddr>()
                .map(ipnet::IpNet::from)
        })
        .map_err(|_| Unsupported::Construct(format!("`{text}` is not a CIDR network")))?;
    Ok(ValueTest::Cidr(net))
}

fn format_num(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

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
    let mut condition = c.add(det, "")?;
    // Filters, as pySigma applies them: `(rule) and (filter)`. A filter
    // written `condition: not selection` thus drops the matches where its
    // selection holds. Its search names live in their own range.
    for (fi, f) in filters.iter().enumerate() {
        let fc = c.add(f, &format!("filter{fi}\u{1f}"))?;
        condition = CCond::And(vec![condition, fc]);
    }
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
        let range = start..self.names.len();
        let mut parts: Vec<CCond> = d
            .conditions
            .iter()
            .map(|c| self.resolve(c, &range))
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

    /// A search's own name, without the filter prefix.
    fn short_name(&self, i: usize) -> &str {
        self.names[i].rsplit('\u{1f}').next().unwrap_or("")
    }

    fn find(&self, range: &Range<usize>, pat: &str, exact: bool) -> Vec<usize> {
        range
            .clone()
            .filter(|&i| {
                let n = self.short_name(i);
                if exact {
                    n == pat
                } else {
                    pattern_matches(pat, n)
                }
            })
            .collect()
    }

    fn resolve(&self, c: &Cond, range: &Range<usize>) -> Result<CCond, Unsupported> {
        let all = |v: &[Cond]| -> Result<Vec<CCond>, Unsupported> {
            v.iter().map(|x| self.resolve(x, range)).collect()
        };
        Ok(match c {
            Cond::Ident(s) => match self.find(range, s, true).first() {
                Some(&i) => CCond::Search(i),
                None => return Err(Unsupported::Construct(format!("unknown search `{s}`"))),
            },
            Cond::Not(x) => CCond::Not(Box::new(self.resolve(x, range)?)),
            Cond::And(v) => CCond::And(all(v)?),
            Cond::Or(v) => CCond::Or(all(v)?),
            Cond::OneOf(t) => CCond::AnyOf(self.targets(t, range)),
            Cond::AllOf(t) => CCond::AllOf(self.targets(t, range)),
        })
    }

    fn targets(&self, t: &Target, range: &Range<usize>) -> Vec<usize> {
        match t {
            Target::Them => range
                .clone()
                .filter(|&i| !self.short_name(i).starts_with('_'))
                .collect(),
            Target::Pattern(p) => self.find(range, p, false),
        }
    }
}

fn num_cmp(c: Cmp, a: f64, b: f64) -> bool {
    match c {
        Cmp::Gt => a > b,
        Cmp::Gte => a >= b,
        Cmp::Lt => a < b,
        Cmp::Lte => a <= b,
    }
}

fn time_part(v: &FieldValue<'_>, part: TimePart) -> Option<f64> {
    let p = super::time::parse(v.text)?;
    Some(match part {
        TimePart::Minute => p.minute as f64,
        TimePart::Hour => p.hour as f64,
        TimePart::Day => p.day as f64,
        TimePart::Week => super::time::iso_week(&p) as f64,
        TimePart::Month => p.month as f64,
        TimePart::Year => p.year as f64,
    })
}

impl ValueTest {
    fn matches(&self, v: &FieldValue<'_>, event: &Event) -> bool {
        match self {
            ValueTest::Str { pattern, cased } => {
                if v.is_null {
                    return false;
                }
                pattern.matches(if *cased { v.text } else { v.lower() })
            }
            ValueTest::AnyOf(set) => !v.is_null && set.is_in(v.lower()),
            ValueTest::Affixes(set) => !v.is_null && set.matches(v.lower()),
            ValueTest::Regex(re) => !v.is_null && re.is_match(v.text.as_bytes()),
            ValueTest::LongRun { n, across_lines } => {
                let n = *n as usize;
                !v.is_null
                    && match across_lines {
                        true => v.text.len() >= n,
                        false => v.text.split('\n').any(|line| line.len() >= n),
                    }
            }
            ValueTest::Cidr(net) => v
                .text
                .trim()
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| net.contains(&ip)),
            ValueTest::Num(c, n) => v.number().is_some_and(|x| num_cmp(*c, x, *n)),
            ValueTest::FieldRef {
                field,
                position,
                cased,
            } => event.get(field).is_some_and(|others| {
                others.iter().any(|o| {
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
            }),
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

impl FieldTest {
    /// Evaluate on an event.
    pub fn matches(&self, e: &Event) -> bool {
        let values = self.field.as_deref().map(|f| e.get(f));
        match &self.kind {
            FieldTestKind::Exists(want) => values.flatten().is_some() == *want,
            FieldTestKind::Null => match values.flatten() {
                None => true,
                Some(vs) => vs.iter().any(|v| v.is_null),
            },
            FieldTestKind::Values { tests, all, neq } => {
                let test_one = |t: &ValueTest| -> bool {
                    match values {
                        Some(Some(vs)) => vs.iter().any(|v| t.matches(&v, e)),
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
        let accepted = |v: &FieldValue| match &self.kind {
            FieldTestKind::Values {
                tests, neq: false, ..
            } => tests.iter().any(|t| t.matches(v, e)),
            _ => false,
        };
        let found = match self.field.as_deref() {
            Some(f) => e.get(f).and_then(|vs| vs.iter().find(accepted)),
            None => e.all_values().find(accepted),
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

    /// Every event field the detection reads.
    /// Add every event field the detection reads (fieldref targets
    /// included) to `out`; `false` when it has a keyword search, which
    /// reads every field.
    pub fn read_fields<'a>(&'a self, out: &mut Vec<&'a str>) -> bool {
        fn value_fields<'a>(t: &'a ValueTest, out: &mut Vec<&'a str>) {
            match t {
                ValueTest::FieldRef { field, .. } => out.push(field),
                ValueTest::Time(_, inner) => value_fields(inner, out),
                _ => {}
            }
        }
        let mut all = true;
        for s in &self.searches {
            let tests: Vec<&FieldTest> = match s {
                CSearch::All(t) => t.iter().collect(),
                CSearch::Any(g) => g.iter().flatten().collect(),
            };
            for t in tests {
                match &t.field {
                    Some(f) => out.push(f),
                    None => all = false,
                }
                if let FieldTestKind::Values { tests, .. } = &t.kind {
                    tests.iter().for_each(|v| value_fields(v, out));
                }
            }
        }
        all
    }

    /// The values one of which `field` must equal for the detection to
    /// match, when the condition requires such a test (`EventID: 16` in a
    /// Sysmon rule): the engine files the rule under those events only.
    pub fn required_values(&self, field: &str) -> Option<Vec<String>> {
        let mut v = self.cond_required(&self.condition, field)?;
        v.sort();
        v.dedup();
        Some(v)
    }

    fn cond_required(&self, c: &CCond, field: &str) -> Option<Vec<String>> {
        let any = |sets: Vec<Option<Vec<String>>>| -> Option<Vec<String>> {
            sets.into_iter().try_fold(Vec::new(), |mut out, s| {
                out.extend(s?);
                Some(out)
            })
        };
        let search = |i: &usize| self.searches[*i].required(field);
        match c {
            CCond::Search(i) => search(i),
            CCond::Not(_) => None,
            CCond::And(v) => v
                .iter()
                .filter_map(|x| self.cond_required(x, field))
                .min_by_key(Vec::len),
            CCond::AllOf(ids) => ids.iter().filter_map(search).min_by_key(Vec::len),
            CCond::Or(v) => any(v.iter().map(|x| self.cond_required(x, field)).collect()),
            CCond::AnyOf(ids) => any(ids.iter().map(search).collect()),
        }
    }

    pub fn fields(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        for s in &self.searches {
            let tests: Vec<&FieldTest> = match s {
                CSearch::All(t) => t.iter().collect(),
                CSearch::Any(g) => g.iter().flatten().collect(),
            };
            for t in tests {
                if let Some(f) = &t.field
                    && !v.contains(&&**f)
                {
                    v.push(f);
                }
            }
        }
        v
    }
}

/// (field, lower-case literal) pairs one of which occurs in every event a
/// test matches: the field's lower-cased value contains the literal.
pub type Alternatives = Vec<(Arc<str>, String)>;

/// A necessary condition of a detection: each group of alternatives occurs
/// in every event it matches. Used to skip most rules with one multi-pattern
/// scan per field: a rule is evaluated only where all its groups occur
/// (`Image|endswith: '\cmd.exe'` alone would let every cmd.exe event by).
pub type Necessary = Vec<Alternatives>;

/// Groups kept per detection, the strongest: enough for the selections of
/// real rules, and few enough to count in the prefilter's codes.
pub const MOST_GROUPS: usize = 8;

/// A group's strength: its weakest literal's length (longer literals occur
/// in fewer values), then fewer alternatives.
fn strength(g: &Alternatives) -> (usize, usize) {
    let weakest = g.iter().map(|(_, l)| l.len()).min().unwrap_or(0);
    (weakest, usize::MAX - g.len())
}

/// All of several conditions hold: every group of each is necessary.
fn all_of(parts: impl Iterator<Item = Necessary>) -> Option<Necessary> {
    let mut groups: Vec<Alternatives> = parts.flatten().filter(|g| !g.is_empty()).collect();
    // Strongest first, equal groups side by side: a condition anding
    // thousands of selections costs a sort, not a comparison per pair.
    groups.sort_by(|a, b| strength(b).cmp(&strength(a)).then_with(|| a.cmp(b)));
    groups.dedup();
    groups.truncate(MOST_GROUPS);
    (!groups.is_empty()).then_some(groups)
}

/// One of several conditions holds: each must have a necessary condition.
/// `(A and B) or C` needs `A or C` and `B or C`: groups are combined one
/// from each condition, as long as that makes at most [`MOST_GROUPS`];
/// past that a condition gives only its strongest group.
fn any_of(parts: impl Iterator<Item = Option<Necessary>>) -> Option<Necessary> {
    let mut acc: Necessary = vec![Alternatives::new()];
    let mut combined = 0;
    for part in parts {
        combined += 1;
        let mut part = part?;
        if acc.len() * part.len() > MOST_GROUPS {
            part = vec![part.into_iter().max_by_key(strength)?];
        }
        if let [one] = part.as_slice() {
            // Extended in place: `1 of sel*` over thousands of selections
            // stays linear (combining copies, and grows the groups).
            acc.iter_mut().for_each(|a| a.extend_from_slice(one));
        } else {
            acc = acc
                .iter()
                .flat_map(|a| part.iter().map(move |g| [a.as_slice(), g].concat()))
                .collect();
        }
    }
    if combined > 1 {
        // Selections often share a literal: each once in the prefilter.
        for g in &mut acc {
            g.sort_unstable();
            g.dedup();
        }
    }
    all_of(std::iter::once(acc))
}

/// Whether a literal is rare enough to prefilter on: three bytes, or two
/// that are neither letters, digits nor spaces: a non-ASCII character
/// (homoglyph and Unicode-obfuscation rules list single Cyrillic or Greek
/// letters, which ordinary logs seldom hold) or two marks (`^^`, `&&`, as
/// obfuscated command lines hold).
fn selective(s: &str) -> bool {
    s.len() >= 3 || (s.len() == 2 && s.bytes().all(|b| !b.is_ascii_alphanumeric() && b != b' '))
}

/// The literal every value matched by a pattern must contain (a wildcard
/// pattern's longest literal run), if any is long enough to be selective.
fn pattern_literal(p: &Pattern) -> Option<String> {
    let s = match p {
        Pattern::Exact(s) | Pattern::Prefix(s) | Pattern::Suffix(s) => s.clone(),
        Pattern::Contains(n) => n.text.clone(),
        Pattern::Anything => return None,
        Pattern::Glob(_, run) => run.as_ref()?.text.clone(),
    };
    selective(&s).then_some(s)
}

/// Literals one of which every match of a regex contains (lower-cased),
/// when there is a finite set of such literals each at least three bytes
/// long: the regex's prefix set, its suffix set, or the prefix set of the
/// rest of the sequence from one of its runs of characters on
/// (`werfaultsecure\.exe` in
/// `\.exe\s+[^"]{0,64}werfaultsecure\.exe`), whichever's shortest literal
/// is longest.
pub(crate) fn regex_literals(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    use regex_syntax::hir::{Hir, HirKind};
    let hir = match regex_syntax::ParserBuilder::new()
        .utf8(false)
        .unicode(false)
        .build()
        .parse(pattern)
    {
        Ok(h) => h,
        Err(_) => regex_syntax::Parser::new().parse(pattern).ok()?,
    };
    let set = |hir: &Hir, kind| -> Option<Vec<String>> {
        let seq = Extractor::new().kind(kind).extract(hir);
        let lits = seq.literals()?;
        let out: Option<Vec<String>> = lits
            .iter()
            .map(|l| {
                let s = std::str::from_utf8(l.as_bytes()).ok()?.to_lowercase();
                selective(&s).then_some(s)
            })
            .collect();
        out.filter(|v| !v.is_empty())
    };
    let is_char = |h: &Hir| matches!(h.kind(), HirKind::Literal(_) | HirKind::Class(_));
    let parts: &[Hir] = match hir.kind() {
        HirKind::Concat(parts) => parts,
        _ => &[],
    };
    let weakest = |v: &Vec<String>| v.iter().map(String::len).min().unwrap_or(0);
    [
        set(&hir, ExtractKind::Prefix),
        set(&hir, ExtractKind::Suffix),
    ]
    .into_iter()
    // From the start of each run of characters in the sequence (under
    // `(?i)` every character is a part of its own), the prefix set of the
    // rest.
    .chain(
        (1..parts.len())
            .filter(|&i| is_char(&parts[i]) && !is_char(&parts[i - 1]))
            // A literal is at most a few dozen parts long: reading further
            // would only make a long regex's loading quadratic.
            .map(|i| {
                let rest = &parts[i..parts.len().min(i + 64)];
                set(&Hir::concat(rest.to_vec()), ExtractKind::Prefix)
            }),
    )
    .flatten()
    .map(|mut v| {
        v.sort();
        v.dedup();
        v
    })
    // The first of the longest: the prefix set before the suffix set.
    .rev()
    .max_by_key(weakest)
}

fn test_necessary(t: &FieldTest) -> Option<Alternatives> {
    let field = t.field.as_ref()?;
    let FieldTestKind::Values { tests, all, neq } = &t.kind else {
        return None;
    };
    if *neq || tests.is_empty() {
        return None;
    }
    // Per value: literals one of which a matching field value contains.
    let per_value = tests.iter().map(|v| match v {
        ValueTest::Str {
            pattern,
            cased: false,
        } => pattern_literal(pattern).map(|l| vec![l]),
        ValueTest::AnyOf(set) => set
            .needles
            .iter()
            .map(|n| selective(&n.text).then(|| n.text.clone()))
            .collect(),
        ValueTest::Affixes(set) => set
            .texts()
            .map(|t| selective(t).then(|| t.to_string()))
            .collect(),
        ValueTest::Regex(re) => regex_literals(re.as_str()),
        _ => None,
    });
    let weakest = |v: &Vec<String>| v.iter().map(String::len).min().unwrap_or(0);
    let chosen: Vec<String> = if *all {
        // Every value must match: the set of any one that has a set is
        // necessary (`contains|all: ['Write Protection', '0']`).
        per_value.flatten().max_by_key(weakest)?
    } else {
        // Any value may match: each must have a set.
        per_value
            .collect::<Option<Vec<Vec<String>>>>()?
            .into_iter()
            .flatten()
            .collect()
    };
    let alts: Alternatives = chosen.into_iter().map(|l| (field.clone(), l)).collect();
    (!alts.is_empty()).then_some(alts)
}

impl FieldTest {
    /// The values `field` must equal, if this is such a test.
    fn required(&self, field: &str) -> Option<Vec<String>> {
        let FieldTestKind::Values {
            tests,
            all: false,
            neq: false,
        } = &self.kind
        else {
            return None;
        };
        if self.field.as_deref() != Some(field) {
            return None;
        }
        tests
            .iter()
            .map(|t| match t {
                ValueTest::Str {
                    pattern: Pattern::Exact(s),
                    ..
                } => Some(s.clone()),
                _ => None,
            })
            .collect()
    }
}

impl CSearch {
    /// The values `field` must equal: in a map, the shortest such list of
    /// its tests; in a list of maps, one from each.
    fn required(&self, field: &str) -> Option<Vec<String>> {
        let group = |g: &[FieldTest]| {
            g.iter()
                .filter_map(|t| t.required(field))
                .min_by_key(Vec::len)
        };
        match self {
            CSearch::All(tests) => group(tests),
            CSearch::Any(groups) => groups.iter().try_fold(Vec::new(), |mut out, g| {
                out.extend(group(g)?);
                Some(out)
            }),
        }
    }

    fn necessary(&self) -> Option<Necessary> {
        match self {
            CSearch::All(tests) => all_of(tests.iter().filter_map(test_necessary).map(|a| vec![a])),
            CSearch::Any(groups) => any_of(
                groups
                    .iter()
                    .map(|g| all_of(g.iter().filter_map(test_necessary).map(|a| vec![a]))),
            ),
        }
    }
}

impl Compiled {
    /// A necessary condition for the whole detection, when one exists.
    pub fn necessary(&self) -> Option<Necessary> {
        self.cond_necessary(&self.condition)
    }

    fn cond_necessary(&self, c: &CCond) -> Option<Necessary> {
        match c {
            CCond::Search(i) => self.searches[*i].necessary(),
            CCond::Not(_) => None,
            CCond::And(v) => all_of(v.iter().filter_map(|x| self.cond_necessary(x))),
            CCond::Or(v) => any_of(v.iter().map(|x| self.cond_necessary(x))),
            CCond::AnyOf(ids) => any_of(ids.iter().map(|&i| self.searches[i].necessary())),
            CCond::AllOf(ids) => all_of(ids.iter().filter_map(|&i| self.searches[i].necessary())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_run_regex_is_counted_as_the_regex_would_match() {
        let values = [
            "",
            "abcd",
            "abcde",
            "ab\ncde",
            "abcde\nf",
            "ab\r\ncdef",
            "é\u{1}xy",
            "a\nb\nc\nd\ne",
        ];
        for (pattern, dot_all) in [(".{5,}", false), ("(?s).{5,}", false), (".{5,}", true)] {
            let test = long_run(pattern, dot_all).expect(pattern);
            let re = regex::bytes::RegexBuilder::new(pattern)
                .unicode(false)
                .dot_matches_new_line(dot_all)
                .build()
                .unwrap();
            let e = Event::from_pairs(&[]);
            for v in values {
                let fv = FieldValue::new(v, v, None, false);
                assert_eq!(
                    test.matches(&fv, &e),
                    re.is_match(v.as_bytes()),
                    "{pattern} {v:?}"
                );
            }
        }
        for other in [".{5}", ".{5,9}", "a{5,}", ".{0,}", "^.{5,}$", "[^x]{5,}"] {
            assert!(long_run(other, false).is_none(), "{other}");
        }
    }

    #[test]
    fn base64offset_has_three_alignments() {
        let v = base64_variants(b"http://", true);
        assert_eq!(v, vec!["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]);
        assert_eq!(base64_variants(b"abc", false), vec!["YWJj"]);
    }

    #[test]
    fn utf16_encodings() {
        assert_eq!(
            utf16("cmd", Modifier::Utf16le),
            vec![0x63, 0, 0x6d, 0, 0x64, 0]
        );
        assert_eq!(
            utf16("cmd", Modifier::Utf16be),
            vec![0, 0x63, 0, 0x6d, 0, 0x64]
        );
        assert_eq!(
            utf16("cmd", Modifier::Utf16),
            vec![0xFF, 0xFE, 0x63, 0, 0x6d, 0, 0x64, 0]
        );
    }

    #[test]
    fn placeholders_expand() {
        let mut ph = Placeholders::new();
        ph.insert("Admins".into(), vec!["adm_a".into(), "adm_b".into()]);
        assert_eq!(expand("x%Admins%", &ph).unwrap(), vec!["xadm_a", "xadm_b"]);
        assert_eq!(expand("100\\%", &ph).unwrap(), vec!["100%"]);
        assert!(expand("%Servers%", &ph).is_err());
    }
}
