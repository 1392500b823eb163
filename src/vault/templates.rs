//! Note templates: Tera templates compiled into the binary from `templates/`,
//! any of which a user can replace at run time with `--templates DIR`.

use serde::Serialize;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tera::{Tera, Value};

/// The built-in templates, by file name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("footer.md", include_str!("../../templates/footer.md")),
    ("uses.md", include_str!("../../templates/uses.md")),
    ("home.md", include_str!("../../templates/home.md")),
    ("index.md", include_str!("../../templates/index.md")),
    ("matrix.md", include_str!("../../templates/matrix.md")),
    ("tactic.md", include_str!("../../templates/tactic.md")),
    ("technique.md", include_str!("../../templates/technique.md")),
    ("group.md", include_str!("../../templates/group.md")),
    ("software.md", include_str!("../../templates/software.md")),
    ("campaign.md", include_str!("../../templates/campaign.md")),
    (
        "mitigation.md",
        include_str!("../../templates/mitigation.md"),
    ),
    (
        "data_source.md",
        include_str!("../../templates/data_source.md"),
    ),
    (
        "data_component.md",
        include_str!("../../templates/data_component.md"),
    ),
    (
        "detection_strategy.md",
        include_str!("../../templates/detection_strategy.md"),
    ),
    ("analytic.md", include_str!("../../templates/analytic.md")),
    ("asset.md", include_str!("../../templates/asset.md")),
    ("revoked.md", include_str!("../../templates/revoked.md")),
    (
        "rule_table.md",
        include_str!("../../templates/rule_table.md"),
    ),
    ("rule.md", include_str!("../../templates/rule.md")),
    ("atomic.md", include_str!("../../templates/atomic.md")),
    (
        "link_report.md",
        include_str!("../../templates/link_report.md"),
    ),
    ("coverage.md", include_str!("../../templates/coverage.md")),
    (
        "sample_events.md",
        include_str!("../../templates/sample_events.md"),
    ),
];

/// The compiled template set.
pub struct Templates {
    tera: Tera,
    /// Where each template came from and its text, to name the file and
    /// line in errors.
    origin: HashMap<String, (PathBuf, String)>,
}

impl Templates {
    /// The built-in templates, overridden by same-named files in `dir`.
    pub fn load(dir: Option<&Path>, diags: &Diagnostics) -> Result<Templates, Diagnostic> {
        let mut sources: Vec<(String, String, PathBuf)> = BUILTIN
            .iter()
            .map(|(n, s)| {
                (
                    n.to_string(),
                    s.to_string(),
                    PathBuf::from(format!("templates/{n}")),
                )
            })
            .collect();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| {
                Diagnostic::error("template", format!("cannot read template folder: {e}"))
                    .in_file(dir)
            })?;
            let mut names: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "md") && p.is_file())
                .collect();
            names.sort();
            for path in names {
                let name = path
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string();
                // A byte order mark would lead every note it renders.
                let text = sigma_engine::text::read_file(&path)
                    .map_err(|e| e.diagnostic("template", &path))?;
                match sources.iter_mut().find(|(n, _, _)| *n == name) {
                    Some(slot) => {
                        slot.1 = text;
                        slot.2 = path;
                    }
                    None => sources.push((name, text, path)),
                }
            }
        }
        warn_unused_overrides(&sources, diags);
        refuse_include_cycles(&sources)?;
        refuse_unbounded(&sources)?;
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        tera.register_filter("cell", cell_filter);
        tera.register_filter("inline", inline_filter);
        let origin: HashMap<String, (PathBuf, String)> = sources
            .iter()
            .map(|(n, t, p)| (n.clone(), (p.clone(), t.clone())))
            .collect();
        // Parse one by one first so that a syntax error names its own file.
        for (name, text, path) in &sources {
            let mut probe = Tera::default();
            if let Err(e) = probe.add_raw_template(name, text) {
                return Err(template_error(path, &e));
            }
        }
        let refs: Vec<(&str, &str)> = sources
            .iter()
            .map(|(n, t, _)| (n.as_str(), t.as_str()))
            .collect();
        tera.add_raw_templates(refs).map_err(|e| {
            Diagnostic::error("template", error_chain(&e))
                .in_file(dir.unwrap_or(Path::new("templates")))
        })?;
        Ok(Templates { tera, origin })
    }

    /// Render template `name` with `ctx`.
    pub fn render<T: Serialize>(&self, name: &str, ctx: &T) -> Result<String, Diagnostic> {
        let context = tera::Context::from_serialize(ctx).map_err(|e| {
            Diagnostic::error("template", format!("cannot build context for {name}: {e}"))
        })?;
        self.tera
            .render(name, &context)
            .map_err(|e| self.render_error(name, &e))
    }

    /// Tera names no line for errors found while rendering (an unknown
    /// variable or filter): the first line of the template naming the
    /// culprit stands in.
    fn render_error(&self, name: &str, e: &tera::Error) -> Diagnostic {
        let Some((path, text)) = self.origin.get(name) else {
            return template_error(Path::new(name), e);
        };
        let d = template_error(path, e);
        if d.line.is_some() {
            return d;
        }
        // Tera quotes the culprit in backticks or single quotes.
        let quoted = |q: char| {
            d.message
                .split(q)
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let culprits = [quoted('`'), quoted('\'')].concat();
        let line = culprits
            .iter()
            .filter(|c| !c.is_empty() && c.as_str() != name)
            .find_map(|c| text.lines().position(|l| l.contains(c.as_str())));
        match line {
            Some(l) => d.at(Some(l + 1), None),
            None => d,
        }
    }
}

/// Names another template: `{% include "x.md" %}`, `extends`, `import`,
/// with the line it is on.
fn references(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find("{%") {
            rest = &rest[open + 2..];
            let tag = rest.trim_start_matches(['-', ' ', '\t']);
            let word: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if !matches!(word.as_str(), "include" | "extends" | "import") {
                continue;
            }
            let arg = tag[word.len()..].trim_start();
            let Some(q) = arg.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            if let Some(end) = arg[1..].find(q) {
                out.push((arg[1..1 + end].to_string(), no + 1));
            }
        }
    }
    out
}

/// A file in `--templates` that replaces no built-in template and that no
/// template includes is most likely misnamed.
fn warn_unused_overrides(sources: &[(String, String, PathBuf)], diags: &Diagnostics) {
    let used: std::collections::HashSet<String> = sources
        .iter()
        .flat_map(|(_, t, _)| references(t).into_iter().map(|(n, _)| n))
        .collect();
    for (name, _, path) in sources {
        let builtin = BUILTIN.iter().any(|(n, _)| n == name);
        if !builtin && !used.contains(name) {
            diags.push(
                Diagnostic::warning(
                    "template",
                    format!("`{name}` replaces no built-in template and no template includes it; ignored"),
                )
                .in_file(path),
            );
        }
    }
}

/// What Tera would recurse on without bound (deep nesting, long chains of
/// operators, macros calling themselves) is refused before Tera reads it.
fn refuse_unbounded(sources: &[(String, String, PathBuf)]) -> Result<(), Diagnostic> {
    use super::template_bounds::{check_macros, check_text};
    for (_, text, path) in sources {
        check_text(text).map_err(|(line, why)| {
            Diagnostic::error("template", why)
                .in_file(path)
                .at(Some(line), None)
        })?;
    }
    let texts: Vec<(&str, &str)> = (sources.iter())
        .map(|(n, t, _)| (n.as_str(), t.as_str()))
        .collect();
    check_macros(&texts).map_err(|r| {
        let path = sources
            .iter()
            .find(|(n, _, _)| *n == r.template)
            .map(|s| &s.2);
        Diagnostic::error("template", r.why)
            .in_file(path.cloned().unwrap_or_default())
            .at(r.line, None)
    })
}

/// A template that includes itself, directly or through others, would
/// recurse without end when rendered.
fn refuse_include_cycles(sources: &[(String, String, PathBuf)]) -> Result<(), Diagnostic> {
    let refs: HashMap<&str, Vec<(String, usize)>> = sources
        .iter()
        .map(|(n, t, _)| (n.as_str(), references(t)))
        .collect();
    let path_of = |n: &str| {
        sources
            .iter()
            .find(|(m, _, _)| m == n)
            .map(|(_, _, p)| p.clone())
    };
    for (start, _, _) in sources {
        // Depth-first from `start`, looking for a way back to it.
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start.as_str(), vec![start.as_str()])];
        let mut seen: std::collections::HashSet<&str> = Default::default();
        while let Some((at, trail)) = stack.pop() {
            for (next, line) in refs.get(at).into_iter().flatten() {
                if next == start {
                    let cycle = [trail.clone(), vec![start.as_str()]].concat().join(" → ");
                    return Err(Diagnostic::error(
                        "template",
                        format!("templates include each other without end: {cycle}"),
                    )
                    .in_file(path_of(at).unwrap_or_default())
                    .at(Some(*line), None));
                }
                if seen.insert(next.as_str()) && refs.contains_key(next.as_str()) {
                    let mut t = trail.clone();
                    t.push(next.as_str());
                    stack.push((next.as_str(), t));
                }
            }
        }
    }
    Ok(())
}

fn template_error(path: &Path, e: &tera::Error) -> Diagnostic {
    let msg = error_chain(e);
    // Tera (pest) reports positions as ` --> LINE:COL`.
    let pos = msg.split("-->").nth(1).and_then(|s| {
        let s = s.trim_start();
        let (l, rest) = s.split_once(':')?;
        let c: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        Some((l.trim().parse().ok()?, c.parse().ok()))
    });
    let d = Diagnostic::error(
        "template",
        msg.replace('\n', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
    .in_file(path);
    match pos {
        Some((l, c)) => d.at(Some(l), c),
        None => d,
    }
}

fn error_chain(e: &tera::Error) -> String {
    let mut s = e.to_string();
    let mut cur: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// `{{ title | inline }}`: plain text kept as text on one line (headings).
fn inline_filter(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    Ok(Value::String(crate::vault::escape::inline(&s)))
}

fn cell_filter(v: &Value, _: &HashMap<String, Value>) -> tera::Result<Value> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    };
    Ok(Value::String(crate::vault::text::table_cell(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_compile() {
        Templates::load(None, &Diagnostics::new()).unwrap();
    }

    #[test]
    fn override_error_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tactic.md"), "ok\n{% if %}\n").unwrap();
        let Err(err) = Templates::load(Some(dir.path()), &Diagnostics::new()) else {
            panic!("a broken template must not load")
        };
        assert!(err.file.as_ref().unwrap().ends_with("tactic.md"));
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn override_replaces_builtin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("revoked.md"), "custom {{ name }}").unwrap();
        let t = Templates::load(Some(dir.path()), &Diagnostics::new()).unwrap();
        let out = t
            .render("revoked.md", &serde_json::json!({"name": "x"}))
            .unwrap();
        assert_eq!(out, "custom x");
    }

    #[test]
    fn include_cycles_are_refused_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("technique.md"),
            "{% include \"technique.md\" %}\n",
        )
        .unwrap();
        let Err(err) = Templates::load(Some(dir.path()), &Diagnostics::new()) else {
            panic!("a self-including template must not load")
        };
        assert!(err.message.contains("technique.md → technique.md"), "{err}");
        assert_eq!(err.line, Some(1));
        std::fs::write(
            dir.path().join("technique.md"),
            "a\n{%- include 'part.md' -%}\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("part.md"), "{% include \"technique.md\" %}").unwrap();
        let Err(err) = Templates::load(Some(dir.path()), &Diagnostics::new()) else {
            panic!("templates including each other must not load")
        };
        assert!(err.message.contains("without end"), "{err}");
    }

    #[test]
    fn what_tera_would_recurse_on_without_end_is_refused_with_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let refused = |file: &str, text: &str| {
            std::fs::write(dir.path().join(file), text).unwrap();
            let Err(err) = Templates::load(Some(dir.path()), &Diagnostics::new()) else {
                panic!("{text:?} must not load")
            };
            std::fs::remove_file(dir.path().join(file)).unwrap();
            err.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        };
        let (open, close) = ("(".repeat(20_000), ")".repeat(20_000));
        let deep = format!("# {{{{ title }}}}\n{{{{ {open}1{close} }}}}\n");
        assert_eq!(
            refused("group.md", &deep),
            "error[template]: DIR/group.md:2: brackets nested more than 64 deep"
        );
        let own =
            "x\n{% macro boom(n) %}{{ self::boom(n=n+1) }}{% endmacro boom %}{{ self::boom(n=0) }}";
        let err = refused("technique.md", own);
        let start = "error[template]: DIR/technique.md:2: macro `boom` calls itself (boom → boom)";
        assert!(err.starts_with(start), "{err}");
        assert!(Templates::load(Some(dir.path()), &Diagnostics::new()).is_ok());
    }

    #[test]
    fn a_misnamed_override_is_a_warning_and_a_used_partial_is_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tecnique.md"), "x").unwrap();
        std::fs::write(dir.path().join("part.md"), "p").unwrap();
        std::fs::write(dir.path().join("tactic.md"), "{% include \"part.md\" %}").unwrap();
        let diags = Diagnostics::new();
        Templates::load(Some(dir.path()), &diags).unwrap();
        let all = diags.sorted();
        assert_eq!(all.len(), 1, "{all:?}");
        assert!(all[0].file.as_ref().unwrap().ends_with("tecnique.md"));
    }
}
