//! A field's values and modifiers made into tests, once: needles lower-cased,
//! wildcards tokenized, regexes built, encodings (base64, UTF-16, windash)
//! expanded, placeholders filled in.

use super::*;
use base64::Engine as _;

fn value_text(v: &Value) -> Option<String> {
    v.as_text()
}

/// A plain number of a field (no modifier but `neq`) is compared as a
/// value, so that `1` matches an event's `1.0`; with a modifier it is text.
fn number_test(spec: &FieldSpec, v: &Value) -> Option<ValueTest> {
    let value = match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => return None,
    };
    let text = v.as_text()?.into();
    let plain = spec.modifiers.iter().all(|m| *m == Modifier::Neq);
    (spec.field.is_some() && plain).then_some(ValueTest::Number { text, value })
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

/// Replace `%name%` placeholders (each of their values in turn, every
/// combination at most [`super::MOST_EXPANSIONS`]); `\%` is a plain percent
/// sign.
fn expand(s: &str, ph: &Placeholders) -> Result<Vec<String>, Unsupported> {
    // The value's parts: text as written, or a placeholder's values.
    let mut parts: Vec<Result<String, &[String]>> = vec![Ok(String::new())];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let c = match c {
            '\\' if chars.peek() == Some(&'%') => chars.next().unwrap_or('%'),
            '%' => {
                let name: String = chars.by_ref().take_while(|&c| c != '%').collect();
                let values = ph
                    .get(&name)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| Unsupported::Placeholder(name.clone()))?;
                parts.push(Err(values));
                parts.push(Ok(String::new()));
                continue;
            }
            c => c,
        };
        if let Some(Ok(text)) = parts.last_mut() {
            text.push(c);
        }
    }
    let count = parts
        .iter()
        .filter_map(|p| p.as_ref().err())
        .fold(1u128, |n, v| n.saturating_mul(v.len() as u128));
    if count > super::MOST_EXPANSIONS as u128 {
        let count = match count {
            u128::MAX => "more than 10^38".to_string(),
            n => n.to_string(),
        };
        let value = s.to_string();
        return Err(Unsupported::TooManyExpansions { value, count });
    }
    let mut results = vec![String::new()];
    for part in parts {
        results = match part {
            Ok(text) => results.into_iter().map(|r| r + &text).collect(),
            Err(values) => results
                .iter()
                .flat_map(|r| values.iter().map(move |v| format!("{r}{v}")))
                .collect(),
        };
    }
    Ok(results)
}

pub(super) fn compile_spec(
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
    for value in &spec.values {
        if let Some(test) = number_test(spec, value) {
            tests.push(test);
        } else if let Some(text) = value_text(value) {
            values.push_tests(text, &mut tests)?;
        }
    }
    // `all` over several values: each value must match; over the expansions
    // of one value (windash, base64offset variants) any may.
    let all = values.has(Modifier::All) && spec.values.len() > 1;
    if all && tests.len() != spec.values.len() {
        return Err(Unsupported::Construct(
            "`all` with value expansions is not supported".into(),
        ));
    }
    if !all {
        gather_needles(&mut tests, field.is_some());
        gather_affixes(&mut tests);
        gather_networks(&mut tests);
    }
    // Pushed one by one: drop the spare capacity (thousands of rules stay
    // compiled for the whole run).
    tests.shrink_to_fit();
    Ok(mk(FieldTestKind::Values {
        tests,
        all,
        neq: values.has(Modifier::Neq),
        or_null: spec.field.is_some() && spec.values.contains(&Value::Null),
    }))
}

/// Replaces the case-insensitive substring tests of a keyword list, when
/// there are many, by one [`ValueTest::AnyOf`]: a keyword is searched in
/// every value of an event. A field's list is tested only where the
/// prefilter lets it: a short one is searched needle by needle, and from
/// [`FIELD_MANY`] needles with one automaton (an IOC list of 100,000 took
/// 0.3 ms a value needle by needle; the rule trees match as fast either way).
fn gather_needles(tests: &mut Vec<ValueTest>, field: bool) {
    gather(
        tests,
        if field { FIELD_MANY } else { MANY },
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
        MANY,
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

/// Replaces the `cidr` tests of a list, when there are many, by one
/// [`ValueTest::Networks`].
fn gather_networks(tests: &mut Vec<ValueTest>) {
    gather(
        tests,
        MANY,
        |t| match t {
            ValueTest::Cidr(net) => Some(*net),
            _ => None,
        },
        |nets| ValueTest::Networks(crate::matcher::networks::NetworkSet::new(nets)),
    );
}

/// How many tests of a kind make a list to gather into one.
const MANY: usize = 8;
/// How many substrings make a field's list to search with one automaton.
const FIELD_MANY: usize = 64;

/// Replaces the tests `take` reads, when there are `many` or more, by the
/// one test `join` makes of what it read, first in the list.
fn gather<T>(
    tests: &mut Vec<ValueTest>,
    many: usize,
    take: impl Fn(&ValueTest) -> Option<T>,
    join: impl FnOnce(Vec<T>) -> ValueTest,
) {
    if tests.iter().filter(|t| take(t).is_some()).count() < many {
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
        let flags = super::regexp::Flags {
            case_insensitive: self.has(Modifier::ReI),
            multi_line: self.has(Modifier::ReM),
            dot_all: self.has(Modifier::ReS),
        };
        let re = super::regexp::Regex::new(text, flags).map_err(|e| {
            Unsupported::Construct(format!("regular expression not supported: {e}"))
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
                    Position::Equal if self.spec.field.is_none() => {
                        // Keywords are searched anywhere in a value, with
                        // or without wildcards, as the search backends
                        // pySigma writes them for do (`*{value}*`).
                        if toks.first() != Some(&Tok::Any) {
                            toks.insert(0, Tok::Any);
                        }
                        if toks.last() != Some(&Tok::Any) {
                            toks.push(Tok::Any);
                        }
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

pub(super) fn format_num(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
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
            let flags = super::super::regexp::Flags {
                dot_all,
                ..Default::default()
            };
            let re = super::super::regexp::Regex::new(pattern, flags).unwrap();
            let e = Event::from_pairs(&[]);
            for v in values {
                let fv = FieldValue::new(v, v, None, false);
                assert_eq!(test.matches(&fv, &e), re.is_match(v), "{pattern} {v:?}");
            }
        }
        for other in [".{5}", ".{5,9}", "a{5,}", ".{0,}", "^.{5,}$", "[^x]{5,}"] {
            assert!(long_run(other, false).is_none(), "{other}");
        }
    }

    #[test]
    fn a_long_contains_list_is_one_automaton_matching_as_its_needles_do() {
        let contains = |n: usize| -> Vec<ValueTest> {
            (0..n)
                .map(|i| ValueTest::Str {
                    pattern: Pattern::Contains(crate::matcher::pattern::Needle::new(format!(
                        "ioc{i}x"
                    ))),
                    cased: false,
                })
                .collect()
        };
        for (n, field, gathered) in [
            (63, true, false),
            (64, true, true),
            (8, false, true),
            (7, false, false),
        ] {
            let mut tests = contains(n);
            let each = contains(n);
            gather_needles(&mut tests, field);
            assert_eq!(tests.len() == 1, gathered, "{n} {field}");
            let e = Event::from_pairs(&[]);
            for v in ["run ioc5x now", "ioc0x", "ioc6", "", "IOC62X"] {
                let lower = v.to_lowercase();
                let fv = FieldValue::new(v, &lower, None, false);
                let one_by_one = each.iter().any(|t| t.matches(&fv, &e));
                assert_eq!(
                    tests.iter().any(|t| t.matches(&fv, &e)),
                    one_by_one,
                    "{n} {v}"
                );
            }
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
