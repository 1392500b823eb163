//! What a compiled detection needs of an event: the fields it reads, the
//! values a field must have (to file the rule under its EventIDs), and the
//! literals it cannot match without (for the prefilter).

use super::*;

impl Compiled {
    /// Adds every event field the detection reads (fieldref targets
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
/// test matches: the field's lower-cased value contains the literal (a
/// keyword's: some value, [`ANY_FIELD`]).
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

/// The literal every value equal to a rule's number contains: its text, if
/// every way an event writes that number contains it. JSON numbers are
/// written as integers (`4688`) or in the shortest form that reads back
/// (`4688.0`, `2.5`), which switches to an exponent (`1e16`, `1e-7`)
/// outside [1e-5, 1e16); text spelled as the rule spells it contains it.
fn number_literal(text: &str, value: f64) -> Option<String> {
    let plain = value == 0.0 || (1e-5..1e16).contains(&value.abs());
    (plain && selective(text)).then(|| text.to_string())
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

/// The field name under which a keyword's literals are necessary: they
/// occur in the event's whole text ([`crate::events::Event::all_text`]).
pub const ANY_FIELD: &str = "";

fn test_necessary(t: &FieldTest) -> Option<Alternatives> {
    let field = t.field.clone().unwrap_or_else(|| Arc::from(ANY_FIELD));
    let FieldTestKind::Values {
        tests,
        all,
        neq,
        or_null,
    } = &t.kind
    else {
        return None;
    };
    // Absence matching too, nothing is necessary.
    if *neq || *or_null || tests.is_empty() {
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
        ValueTest::Number { text, value } => number_literal(text, *value).map(|l| vec![l]),
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
            or_null: false,
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
                // Routing goes by the event's text: an EventID the event
                // writes as `4688.0` is not filed under `4688`.
                ValueTest::Number { text, .. } => Some(text.to_string()),
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
