//! A rule's regression tests as SigmaHQ writes them: the rule names an
//! `info.yml` (`regression_tests_path`), which lists event files the rule
//! must fire on and how often (`regression_tests_info`).

use sigma_engine::diag::Diagnostic;
use sigma_engine::yaml::{Node, Yaml};
use std::path::Path;

/// One `info.yml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// The rule the tests were written for (`rule_metadata[0].id`).
    pub rule_id: Option<String>,
    pub cases: Vec<Case>,
}

/// One entry of `regression_tests_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub name: String,
    /// `type` (`evtx`, `json`): shown only, as events are read by content.
    pub kind: Option<String>,
    /// The event file, as written (relative to a folder above the rule).
    pub path: String,
    /// How many events the rule must fire on; without it, at least one.
    pub match_count: Option<u64>,
    /// Sigma filter files applied to the rule for this case.
    pub filters: Vec<String>,
    /// pySigma processing pipelines the case needs.
    pub pipelines: Vec<String>,
}

/// Read an `info.yml`; a problem names its line and column.
pub fn read(path: &Path) -> Result<Info, Diagnostic> {
    let text = sigma_engine::text::read_file(path).map_err(|e| e.diagnostic("test", path))?;
    let doc = sigma_engine::yaml::parse_document(&text).map_err(|e| e.diagnostic("test", path))?;
    let bad = |n: &Node, msg: String| {
        Diagnostic::error("test", msg)
            .in_file(path)
            .at(Some(n.line), Some(n.column))
    };
    let Some(list) = doc.get("regression_tests_info") else {
        return Err(bad(
            &doc,
            "no `regression_tests_info` list of test cases".into(),
        ));
    };
    let Yaml::Seq(items) = &list.value else {
        let msg = format!(
            "`regression_tests_info` must be a list of test cases, not a {}",
            list.type_name()
        );
        return Err(bad(list, msg));
    };
    let cases = items
        .iter()
        .enumerate()
        .map(|(i, n)| case(n, i).map_err(|(at, msg)| bad(at, msg)))
        .collect::<Result<_, _>>()?;
    Ok(Info {
        rule_id: rule_id(&doc),
        cases,
    })
}

fn rule_id(doc: &Node) -> Option<String> {
    match &doc.get("rule_metadata")?.value {
        Yaml::Seq(items) => items.first()?.get("id")?.as_scalar_text(),
        _ => None,
    }
}

type Problem<'a> = (&'a Node, String);

/// One test case; `i` numbers an unnamed one.
fn case(n: &Node, i: usize) -> Result<Case, Problem<'_>> {
    if !matches!(n.value, Yaml::Map(_)) {
        return Err((
            n,
            format!("a test case must be a map, not a {}", n.type_name()),
        ));
    }
    let Some(path) = n.get("path") else {
        return Err((n, "the test case names no event file (`path`)".into()));
    };
    let match_count = match n.get("match_count").map(|m| (m, &m.value)) {
        None | Some((_, Yaml::Null)) => None,
        Some((_, Yaml::Int(c))) if *c >= 0 => Some(*c as u64),
        Some((_, Yaml::UInt(c))) => Some(*c),
        Some((m, _)) => return Err((m, "`match_count` must be a whole number, 0 or more".into())),
    };
    Ok(Case {
        name: text(n, "name")?.unwrap_or_else(|| format!("test {}", i + 1)),
        kind: text(n, "type")?,
        path: text(n, "path")?
            .filter(|p| !p.trim().is_empty())
            .ok_or((path, "`path` must name a file".to_string()))?,
        match_count,
        filters: texts(n, "filters")?,
        pipelines: texts(n, "pipelines")?,
    })
}

/// A scalar entry as text (absent or null: `None`).
fn text<'a>(n: &'a Node, key: &str) -> Result<Option<String>, Problem<'a>> {
    match n.get(key) {
        None => Ok(None),
        Some(v) if v.is_null() => Ok(None),
        Some(v) => match v.as_scalar_text() {
            Some(t) => Ok(Some(t)),
            None => Err((v, format!("`{key}` must be text, not a {}", v.type_name()))),
        },
    }
}

/// An entry that is one text or a list of them.
fn texts<'a>(n: &'a Node, key: &str) -> Result<Vec<String>, Problem<'a>> {
    let Some(v) = n.get(key) else {
        return Ok(Vec::new());
    };
    let items = match &v.value {
        Yaml::Null => return Ok(Vec::new()),
        Yaml::Seq(items) => items.iter().collect(),
        _ => vec![v],
    };
    let text = |i: &'a Node| {
        i.as_scalar_text()
            .ok_or((i, format!("`{key}` must list file paths")))
    };
    items.into_iter().map(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(yaml: &str) -> Result<Info, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("info.yml");
        std::fs::write(&p, yaml).unwrap();
        read(&p).map_err(|d| {
            let at = (d.line.unwrap_or(0), d.column.unwrap_or(0));
            format!("{}:{}: {}", at.0, at.1, d.message)
        })
    }

    #[test]
    fn reads_sigmahqs_layout() {
        let info = read_text(
            "id: a\nrule_metadata:\n    - id: r1\n      title: T\nregression_tests_info:\n    - name: Positive\n      type: evtx\n      provider: Microsoft-Windows-Sysmon\n      match_count: 2\n      path: regression_data/x/r1.evtx\n    - path: y.json\n      filters: f.yml\n",
        )
        .unwrap();
        assert_eq!(info.rule_id.as_deref(), Some("r1"));
        assert_eq!(
            info.cases,
            vec![
                Case {
                    name: "Positive".into(),
                    kind: Some("evtx".into()),
                    path: "regression_data/x/r1.evtx".into(),
                    match_count: Some(2),
                    filters: vec![],
                    pipelines: vec![],
                },
                Case {
                    name: "test 2".into(),
                    kind: None,
                    path: "y.json".into(),
                    match_count: None,
                    filters: vec!["f.yml".into()],
                    pipelines: vec![],
                },
            ]
        );
    }

    #[test]
    fn a_malformed_case_is_named_at_its_line() {
        let e = |y| read_text(y).unwrap_err();
        assert_eq!(
            e("id: a\n"),
            "1:1: no `regression_tests_info` list of test cases"
        );
        assert_eq!(
            e("regression_tests_info:\n  - name: x\n    match_count: -1\n    path: p\n"),
            "3:18: `match_count` must be a whole number, 0 or more"
        );
        assert_eq!(
            e("regression_tests_info:\n  - name: x\n"),
            "2:5: the test case names no event file (`path`)"
        );
        assert_eq!(
            e("regression_tests_info:\n  - path: [a]\n"),
            "2:11: `path` must be text, not a list"
        );
        assert_eq!(
            e("regression_tests_info:\n  - path: ''\n"),
            "2:11: `path` must name a file"
        );
        assert_eq!(
            e("regression_tests_info: 3\n"),
            "1:24: `regression_tests_info` must be a list of test cases, not a number"
        );
    }
}
