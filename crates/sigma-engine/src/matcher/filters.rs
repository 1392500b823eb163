//! Sigma filter rules: which rules each applies to (by id or name, where the
//! rule's logsource lies within the filter's), and what to tell of those
//! that apply nowhere.

use crate::sigma::SigmaRule;

/// Something to tell about a filter rule that does not apply where it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterNote {
    /// The filter (rule index) names a rule that is not loaded.
    NoSuchRule { filter: usize, reference: String },
    /// The named rule's logsource lies outside the filter's: not applied.
    OutsideLogsource { filter: usize, rule: usize },
}

/// The filter rules of a rule set, and which of their references matched.
pub(super) struct FilterSet<'a> {
    /// (filter rule index, its logsource, its section).
    filters: Vec<(
        usize,
        &'a crate::sigma::rule::LogSource,
        &'a crate::sigma::rule::Filter,
    )>,
    used: std::collections::HashSet<(usize, String)>,
    outside: Vec<FilterNote>,
}

impl<'a> FilterSet<'a> {
    pub(super) fn new(rules: &'a [SigmaRule]) -> Self {
        let filters = rules
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.filter.as_deref().map(|f| (i, &r.logsource, f)))
            .collect();
        FilterSet {
            filters,
            used: Default::default(),
            outside: Default::default(),
        }
    }

    /// The filter detections that apply to a detection rule: those naming it
    /// (by id or name) or targeting any rule, whose logsource contains the
    /// rule's.
    pub(super) fn for_rule(
        &mut self,
        i: usize,
        r: &SigmaRule,
    ) -> Vec<&'a crate::sigma::rule::Detection> {
        use crate::sigma::rule::FilterTargets;
        let mut out = Vec::new();
        for &(fi, ls, f) in &self.filters {
            let named = match &f.rules {
                FilterTargets::Any => None,
                FilterTargets::Named(names) => match names.iter().find(|n| r.refers_to(n)) {
                    Some(n) => Some(n),
                    None => continue,
                },
            };
            if let Some(n) = named {
                self.used.insert((fi, n.clone()));
            }
            if r.logsource.within(ls) {
                out.push(&f.detection);
            } else if named.is_some() {
                self.outside.push(FilterNote::OutsideLogsource {
                    filter: fi,
                    rule: i,
                });
            }
        }
        out
    }

    pub(super) fn notes(self) -> Vec<FilterNote> {
        let used = self.used;
        let mut out = Vec::new();
        for (fi, _, f) in &self.filters {
            for n in f.rules.names() {
                if !used.contains(&(*fi, n.clone())) {
                    out.push(FilterNote::NoSuchRule {
                        filter: *fi,
                        reference: n.clone(),
                    });
                }
            }
        }
        out.extend(self.outside);
        out
    }
}
