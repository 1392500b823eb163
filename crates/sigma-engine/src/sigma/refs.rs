//! How rules name each other: correlations, filters and `related` entries
//! reference a rule by its `id` or its `name`. Every such lookup goes
//! through [`SigmaRule::refers_to`] or a [`RuleRefs`] index.

use super::SigmaRule;
use std::collections::HashMap;

impl SigmaRule {
    /// Whether `reference` names this rule (its `id` or its `name`).
    pub fn refers_to(&self, reference: &str) -> bool {
        self.id.as_deref() == Some(reference) || self.name.as_deref() == Some(reference)
    }
}

/// Rule references resolved to positions in a rule list. When several rules
/// share a reference, the first in the list wins.
#[derive(Debug, Default, Clone)]
pub struct RuleRefs {
    ids: HashMap<String, usize>,
    names: HashMap<String, usize>,
}

impl RuleRefs {
    pub fn new(rules: &[SigmaRule]) -> Self {
        let mut refs = RuleRefs::default();
        for (i, r) in rules.iter().enumerate() {
            if let Some(id) = &r.id {
                refs.ids.entry(id.clone()).or_insert(i);
            }
            if let Some(name) = &r.name {
                refs.names.entry(name.clone()).or_insert(i);
            }
        }
        refs
    }

    /// The first rule that [`SigmaRule::refers_to`] `reference`.
    pub fn get(&self, reference: &str) -> Option<usize> {
        match (self.ids.get(reference), self.names.get(reference)) {
            (Some(&a), Some(&b)) => Some(a.min(b)),
            (a, b) => a.or(b).copied(),
        }
    }

    /// The first rule with this `id` (what `related` entries name).
    pub fn by_id(&self, id: &str) -> Option<usize> {
        self.ids.get(id).copied()
    }
}

/// Reports every rule whose `id` or `name` another rule already has (a rule
/// copied to be tuned keeps its id): references to it take the first, and
/// a reader of the rule set should know. One warning per later rule, at it,
/// naming the first.
pub fn report_shared(rules: &[SigmaRule], diags: &crate::diag::Diagnostics) {
    let refs = RuleRefs::new(rules);
    for (i, r) in rules.iter().enumerate() {
        let keys = [
            ("id", r.id.as_deref(), &refs.ids),
            ("name", r.name.as_deref(), &refs.names),
        ];
        for (what, value, first) in keys {
            let Some(value) = value else { continue };
            let f = first[value];
            if f == i {
                continue;
            }
            let msg = format!(
                "rule {what} `{value}` is also that of `{}` ({}:{}): a reference to it names that one",
                rules[f].title,
                rules[f].path.display(),
                rules[f].line
            );
            let d = crate::diag::Diagnostic::warning("sigma", msg);
            diags.push(d.in_file(&r.path).at(Some(r.line), None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: Option<&str>, name: Option<&str>) -> SigmaRule {
        let yaml =
            "title: t\nlogsource: {product: windows}\ndetection: {s: {a: 1}, condition: s}\n";
        let docs = crate::yaml::parse_documents(yaml).unwrap();
        let mut r =
            crate::sigma::rule::from_node(&docs[0], "t.yml".into(), 0, yaml.into()).unwrap();
        r.id = id.map(Into::into);
        r.name = name.map(Into::into);
        r
    }

    #[test]
    fn a_reference_finds_the_first_rule_by_id_or_name() {
        let rules = [
            rule(Some("a"), None),
            rule(None, Some("shared")),
            rule(Some("shared"), Some("b")),
        ];
        let refs = RuleRefs::new(&rules);
        assert_eq!(refs.get("a"), Some(0));
        assert_eq!(refs.get("b"), Some(2));
        assert_eq!(refs.get("shared"), Some(1));
        assert_eq!(refs.by_id("shared"), Some(2));
        assert_eq!(refs.get("nope"), None);
        assert!(rules[2].refers_to("b") && rules[2].refers_to("shared"));
    }

    #[test]
    fn a_shared_id_or_name_is_said_at_each_later_rule() {
        let mut rules = vec![
            rule(Some("x"), Some("n")),
            rule(Some("x"), None),
            rule(Some("y"), Some("n")),
        ];
        rules[1].line = 12;
        rules[2].line = 20;
        let ds = crate::diag::Diagnostics::new();
        report_shared(&rules, &ds);
        let got: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            got,
            [
                "warning[sigma]: t.yml:12: rule id `x` is also that of `t` (t.yml:1): a reference to it names that one",
                "warning[sigma]: t.yml:20: rule name `n` is also that of `t` (t.yml:1): a reference to it names that one",
            ]
        );
    }
}
