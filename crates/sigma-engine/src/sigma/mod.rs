//! Sigma rules: the rule model ([`rule`]), modifiers, the condition language,
//! and loading rule trees from disk with per-file, per-line diagnostics.

pub mod condition;
pub mod modifiers;
pub mod refs;
pub mod rule;
pub mod tags;
pub mod vocab;

use crate::diag::{Diagnostic, Diagnostics};
use rayon::prelude::*;
pub use rule::{RuleKind, SigmaRule};
use std::path::{Path, PathBuf};

/// The rules loaded from a set of paths.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<SigmaRule>,
    /// Rule files read.
    pub files: usize,
    /// Rule documents parsed without error (kept or not).
    pub parsed: usize,
    /// Rule documents rejected because of errors.
    pub rejected: usize,
    /// Files [`Wanted::file`] turned away unparsed.
    pub passed_over: Vec<PathBuf>,
}

/// Every `.yml` / `.yaml` file under the given files and folders, sorted.
pub fn rule_files(paths: &[PathBuf], diags: &Diagnostics) -> Vec<PathBuf> {
    let walk = crate::walk::Walk {
        category: "sigma",
        max_depth: None,
        keep: &is_rule_file,
        streams: false,
    };
    walk.files(paths, diags)
}

/// Whether a file found in a folder of rules is read as one (`.yml`, `.yaml`).
pub fn is_rule_file(p: &Path) -> bool {
    p.extension().is_some_and(|x| x == "yml" || x == "yaml")
}

/// The text of each YAML document of a file (split at `---` lines).
fn document_texts(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let l = line.trim_end();
        if l == "---" || l.starts_with("--- ") {
            docs.push(String::new());
            continue;
        }
        if let Some(d) = docs.last_mut() {
            d.push_str(line);
        }
    }
    docs.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#') && l.trim() != "...")
    });
    docs
}

/// Parse the rules of one file's text; errors go to `diags`.
pub fn parse_rules(path: &Path, text: &str, diags: &Diagnostics) -> (Vec<SigmaRule>, usize) {
    parse_rules_where(path, text, diags, &|_| true)
}

/// Like [`parse_rules`], but a document `read` turns down (by what its YAML
/// holds: a status nobody asked for) is left out before it is read as a
/// rule, so that its problems are not reported.
pub fn parse_rules_where(
    path: &Path,
    text: &str,
    diags: &Diagnostics,
    read: &(dyn Fn(&crate::yaml::Node) -> bool + Sync),
) -> (Vec<SigmaRule>, usize) {
    let docs = match crate::yaml::parse_documents(text) {
        Ok(d) => d,
        Err(e) => {
            diags.push(e.diagnostic("sigma", path));
            return (Vec::new(), 1);
        }
    };
    let texts = document_texts(text);
    let mut rules = Vec::new();
    let mut rejected = 0;
    // An old rule collection's `action: global` document gives the rest
    // their status: turned down, it takes them with it.
    let global = |d: &crate::yaml::Node| {
        d.get("action").and_then(|a| a.as_scalar_text()).as_deref() == Some("global")
    };
    if docs.first().is_some_and(|d| global(d) && !read(d)) {
        return (rules, rejected);
    }
    for (i, d) in docs.iter().enumerate() {
        if !looks_like_a_rule(d) {
            // A test case's info.yml, a tool's configuration: found beside
            // rules when a whole repository is given, and no rule.
            let keys = RULE_KEYS.join(", ");
            let msg = format!("not a Sigma rule (it has none of {keys}): skipped");
            let at = Some(d.line);
            diags.push(Diagnostic::warning("sigma", msg).in_file(path).at(at, None));
            continue;
        }
        if !read(d) {
            continue;
        }
        let source = if docs.len() == 1 {
            text.to_string()
        } else {
            texts.get(i).cloned().unwrap_or_default()
        };
        match rule::from_node(d, path.to_path_buf(), i, source) {
            Ok(r) => {
                warn_unlike_reference(&r, diags);
                warn_lone_strings(d, path, diags);
                warn_id(d, path, diags);
                warn_fractional_count(&r, d, path, diags);
                warn_several_criteria(&r, d, path, diags);
                warn_number_as_text(&r, diags);
                warn_tags(d, path, diags);
                rules.push(r)
            }
            Err(errors) => {
                rejected += 1;
                for e in errors {
                    diags.push(e.diagnostic(path));
                }
            }
        }
    }
    if docs.is_empty() {
        diags.push(Diagnostic::warning("sigma", "file holds no YAML document").in_file(path));
    }
    (rules, rejected)
}

/// A condition this engine reads but pySigma refuses (`sel AND NOT f`):
/// a warning, so that a rule written here works in every Sigma tool.
fn warn_unlike_reference(r: &SigmaRule, diags: &Diagnostics) {
    let texts = r.detection.iter().flat_map(|d| &d.condition_text);
    for text in texts {
        let words = condition::unlike_reference(text);
        if let Some(w) = words.first() {
            let msg = format!(
                "condition `{text}`: `{w}` is read as `{}` here, but Sigma's operators are lower case and other tools (pySigma) refuse it",
                w.to_ascii_lowercase()
            );
            diags.push(
                Diagnostic::warning("sigma", msg)
                    .in_file(&r.path)
                    .at(Some(r.line), None),
            );
        }
    }
}

/// A warning at a node of a rule file.
fn warning_at(path: &Path, n: &crate::yaml::Node, msg: String) -> Diagnostic {
    let at = Diagnostic::warning("sigma", msg).in_file(path);
    at.at(Some(n.line), Some(n.column))
}

/// A number or a boolean under a modifier of text (`contains: 1`) is read
/// as its text here, with a warning, as pySigma refuses it.
fn warn_number_as_text(r: &SigmaRule, diags: &Diagnostics) {
    use rule::Value;
    let searches = r.detection.iter().flat_map(|d| &d.searches);
    let specs = searches.flat_map(|(_, s)| s.specs());
    for spec in specs {
        let Some(m) = spec.modifiers.iter().find(|m| m.takes_text()) else {
            continue;
        };
        let number = (spec.values.iter())
            .find(|v| matches!(v, Value::Int(_) | Value::Float(_) | Value::Bool(_)));
        if let Some(text) = number.and_then(Value::as_text) {
            let msg = format!(
                "`{}` takes text: `{text}` is read as the text `{text}` here, but other tools (pySigma) refuse a number or a boolean there (quote it)",
                m.name()
            );
            let at = Diagnostic::warning("sigma", msg).in_file(&r.path);
            diags.push(at.at(Some(spec.line), Some(spec.column)));
        }
    }
}

/// Lists the specification requires (pySigma refuses a rule whose `tags`
/// or `references` are a single string).
const LISTS: [&str; 4] = ["tags", "references", "falsepositives", "fields"];

/// A list written as a single string is read as a list of one here, with
/// a warning, so that a rule written here works in every Sigma tool.
fn warn_lone_strings(d: &crate::yaml::Node, path: &Path, diags: &Diagnostics) {
    for key in LISTS {
        if let Some(n) = d.get(key)
            && !n.is_null()
            && n.as_scalar_text().is_some()
        {
            let msg = format!(
                "`{key}` is a single string: read as a list of one here, but Sigma requires a list and other tools (pySigma) refuse it"
            );
            diags.push(warning_at(path, n, msg));
        }
    }
}

/// A tag that names nothing is read as written, with a warning, as it is
/// likely a typo: one without a namespace (pySigma refuses it), or an
/// `attack.` tag of none of the specification's shapes (`attack.t99999`).
fn warn_tags(d: &crate::yaml::Node, path: &Path, diags: &Diagnostics) {
    let Some(crate::yaml::Yaml::Seq(items)) = d.get("tags").map(|n| &n.value) else {
        return;
    };
    for n in items {
        let Some(tag) = n.as_scalar_text() else {
            continue;
        };
        let problem = match tag.trim().split_once('.') {
            None => {
                "has no namespace (`attack.`, `cve.`, …): read here, but other tools (pySigma) refuse it"
            }
            Some((ns, name)) if ns.eq_ignore_ascii_case("attack") && !tags::is_attack_tag(name) => {
                "names no technique, tactic, group, software, campaign, data source, mitigation or asset (`attack.t1234`, `attack.t1234.001`, `attack.g1234`, `attack.s1234`, `attack.c1234`, `attack.ds1234`, `attack.m1234`, `attack.a1234` or a tactic's name): read as a plain tag"
            }
            _ => continue,
        };
        let msg = format!("tag `{tag}` {problem}");
        diags.push(warning_at(path, n, msg));
    }
}

/// An `id` that is no UUID is read here (and names the rule for
/// correlations and filters), with a warning, as pySigma refuses it.
fn warn_id(d: &crate::yaml::Node, path: &Path, diags: &Diagnostics) {
    let Some(n) = d.get("id") else { return };
    let Some(id) = n.as_scalar_text() else { return };
    if uuid::Uuid::try_parse(id.trim()).is_err() {
        let msg = format!(
            "`id: {id}` is not a UUID: read here, but Sigma rule ids are UUIDs and other tools (pySigma) refuse it"
        );
        diags.push(warning_at(path, n, msg));
    }
}

/// A count compared with a fraction (`gte: 10.5` on an `event_count`) is
/// compared as written here, with a warning: counts are whole numbers, and
/// pySigma cuts the bound to one (`10`), so the two would disagree.
fn warn_fractional_count(r: &SigmaRule, d: &crate::yaml::Node, path: &Path, diags: &Diagnostics) {
    let Some(c) = r.correlation.as_deref() else {
        return;
    };
    if !c.kind.counts() {
        return;
    }
    let Some(cond) = d.get("correlation").and_then(|n| n.get("condition")) else {
        return;
    };
    let ops = c.condition.iter().flat_map(|cc| &cc.ops);
    for (op, bound) in ops.filter(|(_, b)| b.fract() != 0.0) {
        let msg = format!(
            "`{op}: {bound}` is no whole number, but `{}` counts: here it {}, while other tools (pySigma) read `{op}: {}`",
            c.kind,
            meaning(*op, *bound),
            bound.trunc()
        );
        let n = cond.get(op.as_str()).unwrap_or(cond);
        diags.push(warning_at(path, n, msg));
    }
}

/// A correlation condition of several criteria (`gte: 2, lte: 5`) is read
/// here, all of them holding, with a warning: the specification allows
/// exactly one, and pySigma refuses more.
fn warn_several_criteria(r: &SigmaRule, d: &crate::yaml::Node, path: &Path, diags: &Diagnostics) {
    let ops: Vec<&str> = (r.correlation.iter())
        .flat_map(|c| c.condition.iter().flat_map(|cc| &cc.ops))
        .map(|(op, _)| op.as_str())
        .collect();
    let Some(cond) = d.get("correlation").and_then(|n| n.get("condition")) else {
        return;
    };
    if ops.len() > 1 {
        let msg = format!(
            "the correlation `condition` has {} criteria (`{}`): here all must hold, but the specification allows exactly one and other tools (pySigma) refuse more",
            ops.len(),
            ops.join("`, `")
        );
        diags.push(warning_at(path, cond, msg));
    }
}

/// What `op bound` means for a count, a whole number.
fn meaning(op: vocab::CmpOp, bound: f64) -> String {
    use vocab::CmpOp::*;
    match op {
        Gt | Lte => format!("means `{op}: {}`", bound.floor()),
        Gte | Lt => format!("means `{op}: {}`", bound.ceil()),
        Eq => "never holds".into(),
        Neq => "always holds".into(),
    }
}

/// The keys one of which every Sigma rule (detection, correlation or
/// filter) has.
const RULE_KEYS: [&str; 4] = ["logsource", "detection", "correlation", "filter"];

/// Whether a document is meant as a rule: it has a rule's body, or a title
/// with a rule's metadata (a rule still being written is an error, not
/// skipped). A sigmac configuration has a title alone.
fn looks_like_a_rule(doc: &crate::yaml::Node) -> bool {
    let has = |k: &&str| doc.get(k).is_some();
    RULE_KEYS.iter().any(has)
        || (has(&"title")
            && ["id", "status", "level", "description", "author", "tags"]
                .iter()
                .any(has))
}

/// Load every rule under `paths` (files or folders, walked recursively).
pub fn load(paths: &[PathBuf], diags: &Diagnostics) -> RuleSet {
    let wanted = Wanted {
        file: &|_| true,
        document: &|_| true,
        rule: &|_| true,
    };
    load_where(paths, diags, &wanted)
}

/// The `status` a YAML document gives, read before the document is read as
/// a rule (see [`Wanted::document`]).
pub fn document_status(d: &crate::yaml::Node) -> Option<vocab::Status> {
    let status = d.get("status").and_then(|s| s.as_scalar_text())?;
    vocab::Status::parse(&status.to_lowercase())
}

/// What [`load_where`] reads, from the cheapest test to the last.
pub struct Wanted<'a> {
    /// A pre-filter on a file's raw text.
    pub file: &'a (dyn Fn(&str) -> bool + Sync),
    /// A test of each YAML document before it is read as a rule: one it
    /// turns down is neither kept nor reported on.
    pub document: &'a (dyn Fn(&crate::yaml::Node) -> bool + Sync),
    /// The rules to keep (it may also slim them).
    pub rule: &'a (dyn Fn(&mut SigmaRule) -> bool + Sync),
}

/// Like [`load`], but only what `wanted` lets through. Its tests run on the
/// reading threads, so rules that are not wanted never pile up. A rule a
/// correlation counts is read even from a file the file pre-filter turned
/// away: without it the correlation could never fire.
pub fn load_where(paths: &[PathBuf], diags: &Diagnostics, wanted: &Wanted) -> RuleSet {
    let mut set = read_where(paths, diags, wanted);
    if !set.passed_over.is_empty() && names_unread_rule(&set.rules) {
        let all_files = Wanted {
            file: &|_| true,
            ..*wanted
        };
        let more = read_where(&std::mem::take(&mut set.passed_over), diags, &all_files);
        set.rules.extend(more.rules);
        set.parsed += more.parsed;
        set.rejected += more.rejected;
    }
    refs::report_shared(&set.rules, diags);
    set
}

/// Whether a correlation names a rule that is not among `rules`.
fn names_unread_rule(rules: &[SigmaRule]) -> bool {
    let refs = refs::RuleRefs::new(rules);
    rules
        .iter()
        .flat_map(|r| r.correlation.iter().flat_map(|c| &c.rules))
        .any(|n| refs.get(n).is_none())
}

/// One pass of [`load_where`] over the files under `paths`.
fn read_where(paths: &[PathBuf], diags: &Diagnostics, wanted: &Wanted) -> RuleSet {
    /// What one file gives: its rules, documents rejected and parsed, and
    /// whether the file pre-filter turned it away.
    type Read = (Vec<SigmaRule>, usize, usize, bool);
    let files = rule_files(paths, diags);
    let parsed: Vec<Read> = files
        .par_iter()
        .map(
            |f| match crate::text::read_file_at_most(f, crate::text::MOST_YAML) {
                Ok(text) if !(wanted.file)(&text) => (Vec::new(), 0, 0, true),
                Ok(text) => {
                    let (mut rules, rejected) = parse_rules_where(f, &text, diags, wanted.document);
                    let n = rules.len();
                    rules.retain_mut(|r| (wanted.rule)(r));
                    (rules, rejected, n, false)
                }
                Err(e) => {
                    diags.push(e.diagnostic("sigma", f));
                    (Vec::new(), 1, 0, false)
                }
            },
        )
        .collect();
    let mut set = RuleSet {
        files: files.len(),
        ..Default::default()
    };
    set.rules
        .reserve_exact(parsed.iter().map(|(r, ..)| r.len()).sum());
    for ((rules, rejected, n, passed), f) in parsed.into_iter().zip(files) {
        set.rules.extend(rules);
        set.rejected += rejected;
        set.parsed += n;
        if passed {
            set.passed_over.push(f);
        }
    }
    set
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_condition_other_tools_refuse_is_read_and_warned_of() {
        let ds = Diagnostics::new();
        let yaml = "title: t\nlogsource: {product: test}\ndetection:\n  sel: {a: 1}\n  f: {b: 2}\n  condition: sel AND NOT f\n";
        let (rules, rejected) = parse_rules(Path::new("r.yml"), yaml, &ds);
        assert_eq!((rules.len(), rejected), (1, 0));
        let d: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            d,
            [
                "warning[sigma]: r.yml:1: condition `sel AND NOT f`: `AND` is read as `and` here, but Sigma's operators are lower case and other tools (pySigma) refuse it"
            ]
        );
        let lower = yaml.replace("AND NOT", "and not");
        let ds = Diagnostics::new();
        parse_rules(Path::new("r.yml"), &lower, &ds);
        assert!(ds.sorted().is_empty());
        assert_eq!(
            condition::unlike_reference("1 Of sel_and* or all of them"),
            ["Of"]
        );
    }

    use super::*;

    #[test]
    fn a_list_written_as_one_string_is_read_and_warned_of_and_a_map_refused() {
        let ds = Diagnostics::new();
        let yaml = "title: t\ntags: attack.t1059\nreferences: [a]\nfalsepositives: 7\nlogsource: {product: test}\ndetection:\n  sel: {a: 1}\n  condition: sel\n";
        let (rules, _) = parse_rules(Path::new("r.yml"), yaml, &ds);
        assert_eq!(rules[0].tags, ["attack.t1059"]);
        assert_eq!(rules[0].falsepositives, ["7"]);
        let d: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        let lone = "is a single string: read as a list of one here, but Sigma requires a list and other tools (pySigma) refuse it";
        assert_eq!(
            d,
            [
                format!("warning[sigma]: r.yml:2:7: `tags` {lone}"),
                format!("warning[sigma]: r.yml:4:17: `falsepositives` {lone}"),
            ]
        );
        let ds = Diagnostics::new();
        let map = yaml.replace("tags: attack.t1059", "tags: {attack: t1059}");
        let (rules, rejected) = parse_rules(Path::new("r.yml"), &map, &ds);
        assert_eq!((rules.len(), rejected), (0, 1));
        assert!(
            ds.sorted()[0]
                .to_string()
                .contains("r.yml:2:7: `tags` must be a list of strings, not a map")
        );
    }

    #[test]
    fn a_fractional_count_is_warned_of_and_a_fractional_average_is_not() {
        let warnings = |kind: &str, condition: &str| -> Vec<String> {
            let ds = Diagnostics::new();
            let yaml = format!(
                "title: c\ncorrelation:\n  type: {kind}\n  rules: [a]\n  group-by: [U]\n  timespan: 5m\n  condition:\n    field: n\n    {condition}\n"
            );
            let (rules, _) = parse_rules(Path::new("c.yml"), &yaml, &ds);
            assert_eq!(rules.len(), 1, "{:?}", ds.sorted());
            ds.sorted().iter().map(|d| d.to_string()).collect()
        };
        assert_eq!(
            warnings("event_count", "gte: 10.5"),
            [
                "warning[sigma]: c.yml:9:10: `gte: 10.5` is no whole number, but `event_count` counts: here it means `gte: 11`, while other tools (pySigma) read `gte: 10`"
            ]
        );
        assert!(warnings("temporal", "eq: 1.5")[0].contains("here it never holds"));
        assert!(warnings("value_count", "gt: 2.5")[0].contains("here it means `gt: 2`"));
        assert!(warnings("value_avg", "gt: 2.5").is_empty());
        assert!(warnings("event_count", "gte: 10").is_empty());
    }

    #[test]
    fn a_number_under_a_modifier_of_text_is_read_as_text_and_warned_of() {
        let warnings = |item: &str| -> Vec<String> {
            let ds = Diagnostics::new();
            let yaml = format!(
                "title: t\nlogsource: {{product: test}}\ndetection:\n  sel:\n    {item}\n  condition: sel\n"
            );
            let (rules, _) = parse_rules(Path::new("t.yml"), &yaml, &ds);
            assert_eq!(rules.len(), 1, "{:?}", ds.sorted());
            ds.sorted().iter().map(|d| d.to_string()).collect()
        };
        assert_eq!(
            warnings("f|contains: 1"),
            [
                "warning[sigma]: t.yml:5:5: `contains` takes text: `1` is read as the text `1` here, but other tools (pySigma) refuse a number or a boolean there (quote it)"
            ]
        );
        assert!(warnings("f|endswith: [x, true]")[0].contains("`true` is read as the text"));
        assert!(warnings("f|contains: '1'").is_empty());
        assert!(warnings("f: 1").is_empty());
        assert!(warnings("f|gt: 1").is_empty());
        assert!(warnings("f|re: 1").is_empty());
    }

    #[test]
    fn a_condition_of_several_criteria_is_read_and_warned_of() {
        let ds = Diagnostics::new();
        let yaml = "title: c\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [U]\n  timespan: 5m\n  condition:\n    gte: 2\n    lte: 5\n";
        let (rules, _) = parse_rules(Path::new("c.yml"), yaml, &ds);
        assert_eq!(rules.len(), 1);
        let said: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            said,
            [
                "warning[sigma]: c.yml:8:5: the correlation `condition` has 2 criteria (`gte`, `lte`): here all must hold, but the specification allows exactly one and other tools (pySigma) refuse more"
            ]
        );
    }

    #[test]
    fn an_id_that_is_no_uuid_is_read_and_warned_of() {
        let rule = |id: &str| {
            format!(
                "title: t\nid: {id}\nlogsource: {{product: test}}\ndetection:\n  sel: {{a: 1}}\n  condition: sel\n"
            )
        };
        let warned = |id: &str| {
            let ds = Diagnostics::new();
            let (rules, _) = parse_rules(Path::new("r.yml"), &rule(id), &ds);
            assert_eq!(rules.len(), 1, "read all the same");
            ds.sorted()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warned("my-rule-1"),
            [
                "warning[sigma]: r.yml:2:5: `id: my-rule-1` is not a UUID: read here, but Sigma rule ids are UUIDs and other tools (pySigma) refuse it"
            ]
        );
        assert!(warned("929a690e-bef0-4204-a928-ef5e620d6fcc").is_empty());
        assert!(
            warned("929A690EBEF04204A928EF5E620D6FCC").is_empty(),
            "as Python's UUID reads it"
        );
    }

    #[test]
    fn a_tag_that_names_nothing_is_read_and_warned_of() {
        let ds = Diagnostics::new();
        let yaml = "title: t\ntags:\n  - attack.t1059.001\n  - attack.t99999\n  - T1059\n  - attack.ds0005\n  - cve.2021-44228\n  - attack.tAAA\u{e9}\nlogsource: {product: test}\ndetection:\n  sel: {a: 1}\n  condition: sel\n";
        let (rules, _) = parse_rules(Path::new("r.yml"), yaml, &ds);
        assert_eq!(rules[0].tags.len(), 6, "every tag is read");
        let d: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(
            d[0].starts_with("warning[sigma]: r.yml:4:5: tag `attack.t99999` names no technique"),
            "{d:?}"
        );
        assert!(
            d[1].starts_with("warning[sigma]: r.yml:5:5: tag `T1059` has no namespace"),
            "{d:?}"
        );
        assert!(
            d[2].starts_with("warning[sigma]: r.yml:8:5: tag `attack.tAAA\u{e9}` names no"),
            "{d:?}"
        );
    }

    #[test]
    fn multi_document_files_keep_each_text() {
        let text = "title: A\nlogsource: {product: x}\ndetection: {s: {a: 1}, condition: s}\n---\ntitle: B\ncorrelation: {type: temporal, rules: [A], timespan: 1m}\n";
        let ds = Diagnostics::new();
        let (rules, rejected) = parse_rules(Path::new("m.yml"), text, &ds);
        assert_eq!((rules.len(), rejected), (2, 0), "{:?}", ds.sorted());
        assert!(rules[1].source.starts_with("title: B"));
        assert_eq!(rules[1].line, 5);
    }

    #[test]
    fn broken_yaml_is_one_error_with_position() {
        let ds = Diagnostics::new();
        let (rules, rejected) = parse_rules(
            Path::new("b.yml"),
            "title: x\ndetection:\n  a: [1, 2\n",
            &ds,
        );
        assert_eq!((rules.len(), rejected), (0, 1));
        let d = &ds.sorted()[0];
        assert!(d.line.is_some());
    }
}
