//! The linked model that every output is rendered from: ATT&CK objects and
//! relationships, Sigma rules and Atomic Red Team tests, and the links
//! between them.

pub mod kb;
pub mod links;
pub mod validation;

use crate::atomics::AtomicTest;
use sigma_engine::sigma::SigmaRule;

/// Everything loaded for one build.
#[derive(Debug, Default)]
pub struct Model {
    pub attack: kb::Kb,
    pub rules: Vec<SigmaRule>,
    pub tests: Vec<AtomicTest>,
    pub links: links::Links,
    /// What the rules did over sample events, when events were given.
    pub validation: Option<validation::Validation>,
    /// The folders and files the inputs were read from, so that a note names
    /// its source relative to them ([`Model::source`]).
    pub roots: Vec<std::path::PathBuf>,
    /// What the build's filters (`--domains`, `--levels`) left out.
    pub left_out: LeftOut,
    /// The ATT&CK data is the embedded demo slice (no `--attack`): the
    /// techniques it lacks are missing from it, not from a release.
    pub demo_attack: bool,
}

/// Inputs read but left out on purpose: bundles and a count of rules.
#[derive(Debug, Clone, Default)]
pub struct LeftOut {
    pub bundles: Vec<LeftBundle>,
    pub rules: usize,
    /// Rules left out for their status: deprecated or unsupported.
    pub retired: usize,
}

/// A bundle `--domains` left out, shown as `domain (source)`.
#[derive(Debug, Clone)]
pub struct LeftBundle {
    pub domain: String,
    pub source: String,
}

impl std::fmt::Display for LeftBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} ({})", self.domain, self.source)
    }
}

impl Model {
    /// Link rules and tests into the ATT&CK data and build the model.
    pub fn new(mut attack: kb::Kb, rules: Vec<SigmaRule>, tests: Vec<AtomicTest>) -> Model {
        let links = links::link(&mut attack, &rules, &tests);
        Model {
            attack,
            rules,
            tests,
            links,
            validation: None,
            roots: Vec::new(),
            left_out: LeftOut::default(),
            demo_attack: false,
        }
    }

    /// `path` as the notes name it: from the input root it was read under,
    /// that root's own name included (`rules/windows/x.yml`), so that no
    /// note carries the build machine's folders. `/`-separated.
    pub fn source(&self, path: &std::path::Path) -> String {
        let named = self
            .roots
            .iter()
            .filter_map(|root| {
                let rest = path.strip_prefix(root).ok()?;
                let name = std::path::Path::new(root.file_name()?);
                let named = if rest.as_os_str().is_empty() {
                    name.to_path_buf()
                } else {
                    name.join(rest)
                };
                Some((root.components().count(), named))
            })
            .max_by_key(|(depth, _)| *depth)
            .map(|(_, p)| p);
        let p = named.as_deref().unwrap_or(path);
        p.to_string_lossy().replace('\\', "/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    #[test]
    fn a_source_is_named_from_the_root_it_was_read_under() {
        let mut m = Model::new(kb::Kb::default(), Vec::new(), Vec::new());
        m.roots = vec![
            PathBuf::from("/data/sigma/rules"),
            PathBuf::from("/data/sigma/rules/windows/special"),
            PathBuf::from("/data/one.yml"),
        ];
        let src = |p: &str| m.source(Path::new(p));
        assert_eq!(src("/data/sigma/rules/linux/a.yml"), "rules/linux/a.yml");
        assert_eq!(
            src("/data/sigma/rules/windows/special/b.yml"),
            "special/b.yml"
        );
        assert_eq!(src("/data/one.yml"), "one.yml");
        assert_eq!(src("demo/sigma/c.yml"), "demo/sigma/c.yml");
    }
}
