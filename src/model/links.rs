//! Linking rules and tests to ATT&CK: tags → techniques, tactics, groups,
//! software; rule ↔ atomic test through Sigma `simulation:` entries; stubs for
//! technique IDs the loaded ATT&CK data lacks.

use super::kb::{Kb, Kind, ObjId};
use crate::atomics::AtomicTest;
use crate::tags::{TagRef, parse_tag};
use sigma_engine::sigma::SigmaRule;
use sigma_engine::sigma::refs::RuleRefs;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What one rule's tags point at.
#[derive(Debug, Clone, Default)]
pub struct RuleLinks {
    /// Technique notes (after following revocations), sorted, unique.
    pub techniques: Vec<ObjId>,
    pub tactics: Vec<ObjId>,
    /// Tactic short names that no loaded tactic has.
    pub unknown_tactics: Vec<String>,
    pub actors: Vec<ObjId>,
    /// Tags of other namespaces, as note tags.
    pub other_tags: Vec<String>,
}

/// A technique ID named by rules or tests that is not (or not fully) in ATT&CK.
#[derive(Debug, Clone, Default)]
pub struct LinkIssue {
    pub rules: BTreeSet<usize>,
    pub tests: BTreeSet<usize>,
}

/// All cross-source links of a build.
#[derive(Debug, Default)]
pub struct Links {
    pub rule_links: Vec<RuleLinks>,
    /// Technique → rules tagged with it directly.
    pub technique_rules: HashMap<ObjId, Vec<usize>>,
    /// Technique → atomic tests of it.
    pub technique_tests: HashMap<ObjId, Vec<usize>>,
    pub tactic_rules: HashMap<ObjId, Vec<usize>>,
    pub actor_rules: HashMap<ObjId, Vec<usize>>,
    /// Test → rules whose `simulation:` names it.
    pub test_rules: HashMap<usize, Vec<usize>>,
    /// Rule → tests its `simulation:` names.
    pub rule_tests: HashMap<usize, Vec<usize>>,
    /// Technique IDs absent from the loaded ATT&CK data (stub notes).
    pub missing_techniques: BTreeMap<String, LinkIssue>,
    /// Technique IDs that were revoked: old ID → (replacement, rules, tests).
    pub revoked_techniques: BTreeMap<String, (ObjId, LinkIssue)>,
    /// Technique IDs that are deprecated and left out (stub notes too).
    pub deprecated_techniques: BTreeMap<String, LinkIssue>,
    /// Tactic short names no loaded tactic has → rules.
    pub unknown_tactics: BTreeMap<String, BTreeSet<usize>>,
    /// `simulation:` GUIDs that match no loaded test: (rule, guid).
    pub unknown_simulations: Vec<(usize, String)>,
    /// `related:` ids that match no loaded rule: (rule, id).
    pub unknown_related: Vec<(usize, String)>,
    /// Rules by the `id` or `name` other rules reference them with.
    pub rule_refs: RuleRefs,
    /// The highest technique number of the loaded data.
    pub highest_technique: Option<u32>,
    /// Missing technique IDs above that number: named after a later
    /// ATT&CK release than the one loaded.
    pub newer_techniques: Vec<String>,
}

enum Resolved {
    Note(ObjId),
    Missing,
}

/// Recent ATT&CK releases, oldest first, with the highest technique number
/// each defines and the tactics it introduced: enough to name the release
/// that rules newer than the loaded data follow.
const RELEASES: [(&str, u32, &[&str]); 3] = [
    // Enterprise's T1675; Mobile's next, T1676, came after v17.1.
    ("v17.1", 1675, &[]),
    ("v18.1", 1681, &[]),
    ("v19", 1690, &["stealth", "defense-impairment"]),
];

impl Links {
    /// The earliest known ATT&CK release that defines every technique ID
    /// and tactic the rules and tests name beyond the loaded data; None when
    /// nothing is beyond it or no known release covers it all.
    pub fn release_to_build_with(&self) -> Option<&'static str> {
        let top = self
            .newer_techniques
            .iter()
            .filter_map(|id| crate::model::kb::technique_number(id))
            .max()
            .unwrap_or(0);
        if top == 0 && self.unknown_tactics.is_empty() {
            return None;
        }
        let mut tactics: BTreeSet<&str> = BTreeSet::new();
        for (version, highest, introduced) in RELEASES {
            tactics.extend(introduced);
            let covered = self
                .unknown_tactics
                .keys()
                .all(|t| tactics.contains(t.as_str()));
            if top <= highest && covered {
                return Some(version);
            }
        }
        None
    }
}

/// Resolve a technique ID, adding a stub to the knowledge base when needed.
fn technique(
    kb: &mut Kb,
    links: &mut Links,
    id: &str,
    name_hint: &str,
    rule: Option<usize>,
    test: Option<usize>,
) -> ObjId {
    let record = |issue: &mut LinkIssue| {
        if let Some(r) = rule {
            issue.rules.insert(r);
        }
        if let Some(t) = test {
            issue.tests.insert(t);
        }
    };
    let found = kb
        .by_attack_id(id)
        .filter(|&o| kb.get(o).kind == Kind::Technique);
    let resolved = match found {
        Some(o) if kb.get(o).stub.is_some() => Resolved::Note(o),
        Some(o) => match kb.link_target(o) {
            Some(t) if t == o => Resolved::Note(t),
            Some(t) => {
                let e = links
                    .revoked_techniques
                    .entry(id.to_string())
                    .or_insert((t, LinkIssue::default()));
                record(&mut e.1);
                Resolved::Note(t)
            }
            None => {
                record(
                    links
                        .deprecated_techniques
                        .entry(id.to_string())
                        .or_default(),
                );
                Resolved::Missing
            }
        },
        None => {
            record(links.missing_techniques.entry(id.to_string()).or_default());
            Resolved::Missing
        }
    };
    match resolved {
        Resolved::Note(o) => o,
        Resolved::Missing => {
            let newer = crate::model::kb::technique_number(id) > links.highest_technique;
            let reason = match (found.is_some(), links.highest_technique) {
                (true, _) => "deprecated in the loaded ATT&CK data".to_string(),
                (false, None) if !kb.has_enterprise() => format!(
                    "not in the loaded ATT&CK data, which holds {} but not Enterprise ATT&CK, whose techniques the rules and tests below name",
                    kb.domains.join(", ")
                ),
                (false, Some(h)) if newer => format!(
                    "not in the loaded ATT&CK data, whose highest technique is T{h}: an ID of a later ATT&CK release, named by the rules or tests below"
                ),
                _ => "not in the loaded ATT&CK data (an unknown ID, named by the rules or tests below)"
                    .to_string(),
            };
            kb.add_stub(id, stub_name(id, name_hint), &reason)
        }
    }
}

/// A stub technique's name from an atomic test file's `display_name`, which
/// names a sub-technique after its parent (`Disable or Modify Tools: Clear
/// Windows Event Logs`): its own part, as ATT&CK names sub-techniques (the
/// note's title puts the parent before it).
fn stub_name<'a>(id: &str, hint: &'a str) -> &'a str {
    let hint = hint.trim();
    if hint.is_empty() {
        return "Unknown technique";
    }
    match hint.split_once(": ") {
        Some((_, own)) if id.contains('.') && !own.trim().is_empty() => own.trim(),
        _ => hint,
    }
}

/// Link rules and tests to the knowledge base (adding stub techniques).
pub fn link(kb: &mut Kb, rules: &[SigmaRule], tests: &[AtomicTest]) -> Links {
    let mut links = Links {
        highest_technique: kb.highest_technique(),
        rule_refs: RuleRefs::new(rules),
        ..Default::default()
    };
    let mut tactic_by_short: HashMap<String, ObjId> = HashMap::new();
    for t in kb.included_of(Kind::Tactic) {
        if let Some(s) = &kb.get(t).stix.x_mitre_shortname {
            // Enterprise first (included_of sorts by ID, TA0001… before mobile TA0027…).
            tactic_by_short.entry(s.clone()).or_insert(t);
        }
    }
    // ATT&CK v19 renamed TA0005 `stealth` (it was `defense-evasion`): a rule
    // tagged with either name meets TA0005 in the data of either release
    // (before Mobile's own `defense-evasion`, TA0030: Sigma's rules are
    // Enterprise's).
    let ta0005 = kb
        .by_attack_id("TA0005")
        .filter(|&t| kb.get(t).kind == Kind::Tactic && kb.get(t).stub.is_none());
    if let Some(t) = ta0005 {
        for name in crate::tags::TA0005_NAMES {
            tactic_by_short.insert(name.into(), t);
        }
    }
    // Test names give stubs a readable name.
    let mut names: HashMap<String, String> = HashMap::new();
    for t in tests {
        names
            .entry(t.technique.clone())
            .or_insert_with(|| t.technique_name.clone());
    }
    for (ti, t) in tests.iter().enumerate() {
        let o = technique(
            kb,
            &mut links,
            &t.technique,
            &t.technique_name,
            None,
            Some(ti),
        );
        links.technique_tests.entry(o).or_default().push(ti);
    }
    let mut linker = RuleLinker {
        kb,
        links: &mut links,
        tactic_by_short,
        names,
    };
    for (ri, r) in rules.iter().enumerate() {
        linker.rule(ri, r);
    }
    link_simulations(&mut links, rules, tests);
    links.newer_techniques = links
        .missing_techniques
        .keys()
        .filter(|id| crate::model::kb::technique_number(id) > links.highest_technique)
        .cloned()
        .collect();
    for v in links
        .test_rules
        .values_mut()
        .chain(links.rule_tests.values_mut())
    {
        v.sort_unstable();
        v.dedup();
    }
    links
}

/// Links each rule by its tags, adding stubs for what the knowledge base
/// lacks.
struct RuleLinker<'a> {
    kb: &'a mut Kb,
    links: &'a mut Links,
    tactic_by_short: HashMap<String, ObjId>,
    /// Technique names from the atomic tests, for stubs.
    names: HashMap<String, String>,
}

impl RuleLinker<'_> {
    fn rule(&mut self, ri: usize, r: &SigmaRule) {
        let mut rl = RuleLinks::default();
        for tag in &r.tags {
            self.tag(ri, parse_tag(tag), &mut rl);
        }
        for v in [&mut rl.techniques, &mut rl.tactics, &mut rl.actors] {
            self.kb.sort_by_id(v);
            v.dedup();
        }
        for &t in &rl.techniques {
            self.links.technique_rules.entry(t).or_default().push(ri);
        }
        for &t in &rl.tactics {
            self.links.tactic_rules.entry(t).or_default().push(ri);
        }
        for &a in &rl.actors {
            self.links.actor_rules.entry(a).or_default().push(ri);
        }
        self.links.rule_links.push(rl);
    }

    fn tag(&mut self, ri: usize, tag: TagRef, rl: &mut RuleLinks) {
        let kb = &mut *self.kb;
        match tag {
            TagRef::Technique(id) => {
                let hint = self.names.get(&id).cloned().unwrap_or_default();
                let o = technique(kb, self.links, &id, &hint, Some(ri), None);
                rl.techniques.push(o);
            }
            TagRef::Tactic(short) => {
                let t = self.tactic(&short);
                if self.kb.get(t).stub.is_some() {
                    self.links
                        .unknown_tactics
                        .entry(short.clone())
                        .or_default()
                        .insert(ri);
                    rl.unknown_tactics.push(short);
                }
                rl.tactics.push(t);
            }
            TagRef::Group(id) | TagRef::Software(id) | TagRef::Campaign(id) => {
                match kb.by_attack_id(&id).and_then(|o| kb.link_target(o)) {
                    Some(o) => rl.actors.push(o),
                    None => rl
                        .other_tags
                        .push(crate::tags::note_tag(&format!("attack_{id}"))),
                }
            }
            TagRef::Other(t) => rl.other_tags.push(t),
        }
    }

    /// The tactic of a short name; a stub for one the data lacks.
    fn tactic(&mut self, short: &str) -> ObjId {
        if let Some(&t) = self.tactic_by_short.get(short) {
            return t;
        }
        let t = self.kb.add_stub_tactic(
            short,
            "a tactic the loaded ATT&CK data lacks (a later or other ATT&CK release names it); this note gathers the rules tagged with it",
        );
        self.tactic_by_short.insert(short.to_string(), t);
        t
    }
}

/// Rules to the atomic tests their `simulation` names (by GUID); unknown
/// GUIDs and `related` IDs are recorded for the link report.
fn link_simulations(links: &mut Links, rules: &[SigmaRule], tests: &[AtomicTest]) {
    let test_by_guid: HashMap<&str, usize> = tests
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.guid.is_empty())
        .map(|(i, t)| (t.guid.as_str(), i))
        .collect();
    for (ri, r) in rules.iter().enumerate() {
        for s in &r.simulation {
            if s.atomic_guid.is_empty() {
                continue;
            }
            match test_by_guid.get(s.atomic_guid.as_str()) {
                Some(&ti) => {
                    links.rule_tests.entry(ri).or_default().push(ti);
                    links.test_rules.entry(ti).or_default().push(ri);
                }
                None if !tests.is_empty() => {
                    links.unknown_simulations.push((ri, s.atomic_guid.clone()))
                }
                None => {}
            }
        }
        for rel in &r.related {
            if links.rule_refs.by_id(&rel.id).is_none() {
                links.unknown_related.push((ri, rel.id.clone()));
            }
        }
    }
}

/// The stub notes the tactics of the loaded data stand for: (the stub's
/// STIX id, the tactic's). A vault built with data that lacked a tactic (the
/// demo slice, or before ATT&CK v19 named TA0005 `stealth`) has a stub note
/// for it, which the analyst may have linked; its path redirects to the
/// tactic's note once the data has the tactic.
pub fn superseded_stubs(kb: &Kb) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for t in kb.included_of(Kind::Tactic) {
        let stix = &kb.get(t).stix;
        let Some(short) = stix.x_mitre_shortname.as_deref() else {
            continue;
        };
        let names: &[&str] = match kb.get(t).attack_id.as_str() {
            "TA0005" => &crate::tags::TA0005_NAMES,
            _ => &[],
        };
        for name in std::iter::once(short).chain(names.iter().copied()) {
            let stub = crate::model::kb::stub_tactic_id(name);
            if !out.iter().any(|(s, _)| *s == stub) {
                out.push((stub, stix.id.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stub_sub_technique_is_named_without_its_parent() {
        let n = "Disable or Modify Tools: Clear Windows Event Logs";
        assert_eq!(stub_name("T1685.005", n), "Clear Windows Event Logs");
        // A technique's own name keeps what it has.
        assert_eq!(stub_name("T1690", "Prevent: Logging"), "Prevent: Logging");
        assert_eq!(stub_name("T1686.001", ""), "Unknown technique");
        assert_eq!(stub_name("T1686.001", "Firewall: "), "Firewall:");
    }

    fn beyond(techniques: &[&str], tactics: &[&str]) -> Option<&'static str> {
        let mut l = Links {
            newer_techniques: techniques.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        };
        for t in tactics {
            l.unknown_tactics.insert(t.to_string(), BTreeSet::new());
        }
        l.release_to_build_with()
    }

    #[test]
    fn the_release_named_is_the_earliest_that_defines_everything() {
        assert_eq!(beyond(&[], &[]), None);
        assert_eq!(beyond(&["T1672.001"], &[]), Some("v17.1"));
        assert_eq!(beyond(&["T1672", "T1680"], &[]), Some("v18.1"));
        assert_eq!(beyond(&["T1680", "T1685.001"], &[]), Some("v19"));
        assert_eq!(beyond(&["T1680"], &["stealth"]), Some("v19"));
        assert_eq!(beyond(&["T1700"], &[]), None, "beyond every known release");
        assert_eq!(beyond(&[], &["made-up"]), None);
    }
}
