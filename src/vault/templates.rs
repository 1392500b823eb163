//! Note templates: Tera templates compiled into the binary from `templates/`,
//! any of which a user can replace at run time with `--templates DIR`.

use serde::Serialize;
use sigma_engine::diag::Diagnostic;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tera::{Tera, Value};

/// The built-in templates, by file name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("footer.md", include_str!("../../templates/footer.md")),
    ("uses.md", include_str!("../../templates/uses.md")),
    ("home.md", include_str!("../../templates/home.md")),
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
    /// Where each template came from, to name the file in errors.
    origin: HashMap<String, PathBuf>,
}

impl Templates {
    /// The built-in templates, overridden by same-named files in `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Templates, Diagnostic> {
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
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    Diagnostic::error("template", format!("cannot read template: {e}"))
                        .in_file(&path)
                })?;
                match sources.iter_mut().find(|(n, _, _)| *n == name) {
                    Some(slot) => {
                        slot.1 = text;
                        slot.2 = path;
                    }
                    None => sources.push((name, text, path)),
                }
            }
        }
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        tera.register_filter("cell", cell_filter);
        let origin: HashMap<String, PathBuf> = sources
            .iter()
            .map(|(n, _, p)| (n.clone(), p.clone()))
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
        self.tera.render(name, &context).map_err(|e| {
            let path = self
                .origin
                .get(name)
                .cloned()
                .unwrap_or_else(|| PathBuf::from(name));
            template_error(&path, &e)
        })
    }
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
        Templates::load(None).unwrap();
    }

    #[test]
    fn override_error_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tactic.md"), "ok\n{% if %}\n").unwrap();
        let Err(err) = Templates::load(Some(dir.path())) else {
            panic!("a broken template must not load")
        };
        assert!(err.file.as_ref().unwrap().ends_with("tactic.md"));
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn override_replaces_builtin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("revoked.md"), "custom {{ name }}").unwrap();
        let t = Templates::load(Some(dir.path())).unwrap();
        let out = t
            .render("revoked.md", &serde_json::json!({"name": "x"}))
            .unwrap();
        assert_eq!(out, "custom x");
    }
}
