//! Notes for Sigma rules and Atomic Red Team tests, the tables that technique,
//! tactic, group and software notes show for them (precomputed, with the live
//! Dataview query on request), and the link report.

use super::escape;
use super::frontmatter::Frontmatter;
use super::index::Index;
use super::names::NameRegistry;
use super::notes::tactic_tag;
use super::text::{self, wikilink};
use crate::atomics::AtomicTest;
use crate::model::Model;
use crate::model::attack::{Kb, ObjId};
use serde_json::{Map, Value, json};
use sigma_engine::sigma::vocab::Level;
use sigma_engine::sigma::{RuleKind, SigmaRule};
use std::collections::HashMap;

/// Folder of rule notes (the seed's Dataview source).
pub const RULES_FOLDER: &str = "Detection Rules";
/// Folder of atomic test notes (the seed's Dataview source).
pub const TESTS_FOLDER: &str = "atomics";
/// The link report note.
pub const LINK_REPORT_STEM: &str = "Link report";

/// Note names of rules and tests.
pub struct Detections<'m> {
    pub model: &'m Model,
    pub rule_stems: Vec<String>,
    pub test_stems: Vec<String>,
    rule_by_ref: HashMap<String, usize>,
}

fn short_id(r: &SigmaRule) -> String {
    match &r.id {
        Some(id) => id.chars().take(8).collect(),
        None => format!("doc{}", r.document + 1),
    }
}

impl<'m> Detections<'m> {
    /// Name every rule and test note. Titles that several rules share get the
    /// rule id's first 8 characters, so names stay stable when rules are added.
    pub fn new(model: &'m Model, names: &mut NameRegistry) -> Self {
        let rules = &model.rules;
        let mut title_count: HashMap<String, usize> = HashMap::new();
        for r in rules {
            *title_count
                .entry(super::names::sanitize_stem(&r.title).to_lowercase())
                .or_default() += 1;
        }
        let mut order: Vec<usize> = (0..rules.len()).collect();
        order.sort_by(|&a, &b| {
            (
                &rules[a].title,
                &rules[a].id,
                &rules[a].path,
                rules[a].document,
            )
                .cmp(&(
                    &rules[b].title,
                    &rules[b].id,
                    &rules[b].path,
                    rules[b].document,
                ))
        });
        let mut rule_stems = vec![String::new(); rules.len()];
        for i in order {
            let r = &rules[i];
            let unique =
                title_count.get(&super::names::sanitize_stem(&r.title).to_lowercase()) == Some(&1);
            let wanted = if unique {
                r.title.clone()
            } else {
                format!("{} ({})", r.title, short_id(r))
            };
            rule_stems[i] = names.claim(&wanted);
        }
        let mut torder: Vec<usize> = (0..model.tests.len()).collect();
        torder.sort_by(|&a, &b| {
            let (x, y) = (&model.tests[a], &model.tests[b]);
            crate::model::attack::id_sort_key(&x.technique)
                .cmp(&crate::model::attack::id_sort_key(&y.technique))
                .then(x.number.cmp(&y.number))
                .then(x.file.cmp(&y.file))
        });
        let mut test_stems = vec![String::new(); model.tests.len()];
        for i in torder {
            let t = &model.tests[i];
            test_stems[i] = names.claim(&format!("{}-{} {}", t.technique, t.number, t.name));
        }
        let mut rule_by_ref = HashMap::new();
        for (i, r) in rules.iter().enumerate() {
            for key in [&r.id, &r.name].into_iter().flatten() {
                rule_by_ref.entry(key.clone()).or_insert(i);
            }
        }
        Detections {
            model,
            rule_stems,
            test_stems,
            rule_by_ref,
        }
    }

    pub fn rule_path(&self, i: usize) -> String {
        format!("{RULES_FOLDER}/{}.md", self.rule_stems[i])
    }
    pub fn test_path(&self, i: usize) -> String {
        format!("{TESTS_FOLDER}/{}.md", self.test_stems[i])
    }
    /// A wikilink to rule `i`'s note.
    pub fn rule_link(&self, i: usize) -> String {
        wikilink(&self.rule_stems[i], Some(&self.model.rules[i].title))
    }
    fn test_link(&self, i: usize) -> String {
        wikilink(&self.test_stems[i], Some(&self.model.tests[i].name))
    }

    /// A row of a rule table.
    fn rule_row(&self, i: usize) -> Value {
        let r = &self.model.rules[i];
        json!({
            "link": self.rule_link(i),
            "title": r.title,
            "id": r.id,
            "status": r.status,
            "level": r.level,
            "kind": r.kind,
            "product": r.logsource.product,
            "category": r.logsource.category,
            "service": r.logsource.service,
        })
    }

    fn sort_rules(&self, v: &mut [usize]) {
        let rules = &self.model.rules;
        v.sort_by(|&a, &b| {
            (
                Level::rank(rules[a].level),
                &rules[a].title,
                &rules[a].id,
                &rules[a].path,
            )
                .cmp(&(
                    Level::rank(rules[b].level),
                    &rules[b].title,
                    &rules[b].id,
                    &rules[b].path,
                ))
        });
    }

    /// Rule rows for a list of rule indexes (sorted by level, then title).
    pub fn rule_rows(&self, rules: &[usize]) -> Vec<Value> {
        let mut v = rules.to_vec();
        v.sort_unstable();
        v.dedup();
        self.sort_rules(&mut v);
        v.into_iter().map(|i| self.rule_row(i)).collect()
    }

    /// The "Detection Rule" and "Rule Testing" tables of a technique note: its
    /// own rules and tests plus, for a parent, those of its sub-techniques.
    pub fn technique_tables(&self, ix: &Index, id: ObjId, live: super::Live) -> Map<String, Value> {
        let dataview = live.dataview;
        let kb = ix.kb;
        let links = &self.model.links;
        let mut scope = vec![id];
        scope.extend(kb.subtechniques_of(id));
        let mut rule_techs: HashMap<usize, Vec<ObjId>> = HashMap::new();
        let mut tests: Vec<(usize, ObjId)> = Vec::new();
        for &t in &scope {
            for &r in links
                .technique_rules
                .get(&t)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                rule_techs.entry(r).or_default().push(t);
            }
            for &x in links
                .technique_tests
                .get(&t)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                tests.push((x, t));
            }
        }
        let mut order: Vec<usize> = rule_techs.keys().copied().collect();
        self.sort_rules(&mut order);
        let rules: Vec<Value> = order
            .into_iter()
            .map(|r| {
                let mut row = self.rule_row(r);
                let techs: Vec<String> = rule_techs[&r]
                    .iter()
                    .filter_map(|&t| {
                        ix.link(t)
                            .map(|l| l["id_link"].as_str().unwrap_or_default().to_string())
                    })
                    .collect();
                row["techniques"] = json!(techs);
                row
            })
            .collect();
        tests.sort_by(|a, b| {
            let (x, y) = (&self.model.tests[a.0], &self.model.tests[b.0]);
            crate::model::attack::id_sort_key(&x.technique)
                .cmp(&crate::model::attack::id_sort_key(&y.technique))
                .then(x.number.cmp(&y.number))
        });
        let test_rows: Vec<Value> = tests
            .into_iter()
            .map(|(x, t)| {
                let test = &self.model.tests[x];
                let claimed: Vec<String> = links
                    .test_rules
                    .get(&x)
                    .map(|v| v.iter().map(|&r| self.rule_link(r)).collect())
                    .unwrap_or_default();
                json!({
                    "link": self.test_link(x),
                    "name": test.name,
                    "number": test.number,
                    "platforms": test.platforms,
                    "executor": test.executor,
                    "technique": ix.link(t).map(|l| l["id_link"].clone()),
                    "rules": claimed,
                })
            })
            .collect();
        let with_subs = scope.len() > 1;
        let plain_tags: Vec<String> = scope
            .iter()
            .map(|&t| ix.tags.technique(&kb.get(t).attack_id))
            .collect();
        let tags: Vec<String> = plain_tags.iter().map(|t| format!("#{t}")).collect();
        let source_tags = if tags.len() == 1 {
            tags[0].clone()
        } else {
            format!("({})", tags.join(" OR "))
        };
        let mut m = Map::new();
        m.insert("rules".into(), json!(rules));
        m.insert("tests".into(), json!(test_rows));
        m.insert("tables_with_subtechniques".into(), json!(with_subs));
        if live.bases {
            let rules = super::bases::technique_rules(&plain_tags).to_yaml();
            let tests = super::bases::technique_tests(&plain_tags).to_yaml();
            m.insert("rules_base".into(), json!(rules));
            m.insert("tests_base".into(), json!(tests));
        }
        if dataview {
            m.insert(
                "rules_query".into(),
                json!(format!(
                    "TABLE WITHOUT ID\nfile.link AS \"Name\",\nstatus AS \"Status\",\nlevel AS \"Level\",\nlogsrc_product AS \"Log Source Product\"\nFROM \"{RULES_FOLDER}\" AND {source_tags}\nSORT level ASC, title ASC"
                )),
            );
            m.insert(
                "tests_query".into(),
                json!(format!("TABLE WITHOUT ID\nfilename AS \"Name\"\nFROM \"{TESTS_FOLDER}\" AND {source_tags}\nSORT filename ASC")),
            );
        }
        m
    }

    /// A rule note's tags: techniques, tactics, the other tags, its kind;
    /// one per spelling folded by case.
    fn rule_tags(&self, ix: &Index, i: usize) -> Vec<String> {
        let kb = ix.kb;
        let rl = &self.model.links.rule_links[i];
        let mut tags: Vec<String> = Vec::new();
        for &t in &rl.techniques {
            tags.push(ix.tags.technique(&kb.get(t).attack_id));
        }
        for &t in &rl.tactics {
            tags.push(tactic_tag(ix, t));
        }
        for t in &rl.unknown_tactics {
            tags.push(ix.tags.tactic(t));
        }
        tags.extend(rl.other_tags.iter().map(|t| ix.tags.plain(t)));
        tags.push(ix.tags.plain("detection_rule"));
        let mut seen = std::collections::HashSet::new();
        tags.retain(|t| seen.insert(t.to_lowercase()));
        tags
    }

    /// A rule note's properties.
    fn rule_frontmatter(&self, ix: &Index, i: usize) -> Frontmatter {
        let r = &self.model.rules[i];
        let mut fm = Frontmatter::new();
        fm.text("title", &r.title)
            .text("type", "detection_rule")
            .text("rule_type", kind_name(r.kind))
            .text_opt("id", r.id.as_deref())
            .text_opt("name", r.name.as_deref())
            .text_opt("status", r.status.map(|w| w.as_str()))
            .text_opt("level", r.level.map(|w| w.as_str()));
        if let Some(d) = &r.date {
            fm.date("created", d);
        }
        if let Some(d) = r.modified.as_ref().or(r.date.as_ref()) {
            fm.date("last_modified", d);
        }
        fm.text_opt("author", r.author.as_deref())
            .text_opt("logsrc_product", r.logsource.product.as_deref())
            .text_opt("logsrc_category", r.logsource.category.as_deref())
            .text_opt("logsrc_service", r.logsource.service.as_deref())
            .list("tags", self.rule_tags(ix, i))
            .list("references", r.references.clone())
            .list("falsepositives", r.falsepositives.clone())
            .text("source", self.model.source(&r.path));
        if let Some(id) = &r.id {
            fm.list("aliases", [id.clone()]);
        }
        fm
    }

    /// The rules a rule relates to, the tests that simulate it, and the
    /// rules a correlation or filter names, each linked where loaded.
    fn rule_relations(&self, i: usize) -> (Vec<Value>, Vec<String>, Vec<Value>, Vec<Value>) {
        let r = &self.model.rules[i];
        let links = &self.model.links;
        let related: Vec<Value> = r
            .related
            .iter()
            .map(|rel| {
                let link = links.rule_by_id.get(&rel.id).map(|&j| self.rule_link(j));
                json!({"kind": rel.kind, "id": rel.id, "link": link})
            })
            .collect();
        let tests: Vec<String> = links
            .rule_tests
            .get(&i)
            .map(|v| v.iter().map(|&t| self.test_link(t)).collect())
            .unwrap_or_default();
        let simulations: Vec<Value> = r
            .simulation
            .iter()
            .map(|s| json!({"name": s.name, "technique": s.technique, "guid": s.atomic_guid, "kind": s.kind}))
            .collect();
        let refers: Vec<Value> = r
            .correlation
            .as_ref()
            .map(|c| c.rules.clone())
            .or_else(|| r.filter.as_ref().map(|f| f.rules.names().to_vec()))
            .unwrap_or_default()
            .iter()
            .map(|x| json!({"ref": x, "link": self.rule_by_ref.get(x).map(|&j| self.rule_link(j))}))
            .collect();
        (related, tests, simulations, refers)
    }

    /// Context of a rule note.
    pub fn rule(&self, ix: &Index, i: usize) -> Value {
        let r = &self.model.rules[i];
        let rl = &self.model.links.rule_links[i];
        let fm = self.rule_frontmatter(ix, i);
        let (related, tests, simulations, refers) = self.rule_relations(i);
        // Rule descriptions often quote ATT&CK text, citations and links included.
        let mut w = super::notes::NoteWriter::new(ix);
        let description = r.description.as_deref().map(|d| w.md(d, &[]));
        let footnotes = w.notes.into_vec();
        json!({
            "frontmatter": fm.render(),
            "title": r.title,
            "id": r.id,
            "kind": kind_name(r.kind),
            "status": r.status,
            "level": r.level,
            "author": r.author.as_deref().map(escape::inline),
            "date": r.date,
            "modified": r.modified,
            "description": description,
            "footnotes": footnotes,
            "logsource": {
                "category": r.logsource.category,
                "product": r.logsource.product,
                "service": r.logsource.service,
                "definition": r.logsource.definition,
            },
            "techniques": ix.links(rl.techniques.iter().copied()),
            "tactics": ix.links(rl.tactics.iter().copied()),
            "actors": ix.links(rl.actors.iter().copied()),
            "unknown_tactics": rl.unknown_tactics,
            "other_tags": rl.other_tags.iter().map(|t| ix.tags.plain(t)).collect::<Vec<_>>(),
            "related": related,
            "tests": tests,
            "simulations": simulations,
            "refers": refers,
            "fp_list": r.falsepositives.iter().map(|f| escape::inline(f)).collect::<Vec<_>>(),
            "references": r.references.iter().map(|u| text::autolink(u)).collect::<Vec<_>>(),
            "source_path": self.model.source(&r.path),
            "yaml": r.source.trim_end(),
            "fence": fence_for(&r.source),
        })
    }

    /// Context of an atomic test note.
    pub fn test(&self, ix: &Index, i: usize, rule_tables: &HashMap<String, String>) -> Value {
        let t: &AtomicTest = &self.model.tests[i];
        let links = &self.model.links;
        let tech = ix.kb.by_attack_id(&t.technique).and_then(|o| ix.link(o));
        let mut fm = Frontmatter::new();
        fm.text("name", &t.name)
            .text("type", "atomic_test")
            .text("filename", &self.test_stems[i])
            .text("guid", &t.guid)
            .text("technique", &t.technique)
            .number("test_number", t.number as i64)
            .list("platforms", t.platforms.clone())
            .text("executor", &t.executor)
            .boolean("elevation_required", t.elevation_required)
            .list(
                "tags",
                [
                    ix.tags.technique(&t.technique),
                    ix.tags.plain("atomic_test"),
                ],
            )
            .list(
                "aliases",
                [t.guid.clone()].into_iter().filter(|g| !g.is_empty()),
            )
            .text("source", self.model.source(&t.file));
        let rules: Vec<String> = links
            .test_rules
            .get(&i)
            .map(|v| v.iter().map(|&r| self.rule_link(r)).collect())
            .unwrap_or_default();
        let lang = |exec: &str| match exec {
            "powershell" => "powershell",
            "command_prompt" => "batch",
            "sh" => "sh",
            "bash" => "bash",
            _ => "",
        };
        let code = |s: &Option<String>| {
            s.as_ref()
                .map(|c| json!({"text": c.trim_end(), "fence": fence_for(c)}))
        };
        let deps: Vec<Value> = t
            .dependencies
            .iter()
            .map(|d| {
                json!({
                    "description": escape::block(d.description.trim()),
                    "prereq": code(&Some(d.prereq_command.clone()).filter(|s| !s.trim().is_empty())),
                    "get_prereq": code(&Some(d.get_prereq_command.clone()).filter(|s| !s.trim().is_empty())),
                })
            })
            .collect();
        let mut w = super::notes::NoteWriter::new(ix);
        let description = w.md(t.description.trim(), &[]);
        let footnotes = w.notes.into_vec();
        let args: Vec<Value> = t
            .input_arguments
            .iter()
            .map(|a| json!({"name": a.name, "description": escape::inline(&a.description), "type": a.kind, "default": a.default}))
            .collect();
        json!({
            "frontmatter": fm.render(),
            "name": t.name,
            "guid": t.guid,
            "number": t.number,
            "technique_id": t.technique,
            "technique": tech,
            "description": description,
            "footnotes": footnotes,
            "platforms": t.platforms,
            "executor": t.executor,
            "lang": lang(&t.executor),
            "dependency_lang": lang(t.dependency_executor.as_deref().unwrap_or(&t.executor)),
            "elevation_required": t.elevation_required,
            "input_arguments": args,
            "dependencies": deps,
            "command": code(&t.command),
            "cleanup": code(&t.cleanup_command),
            "steps": t.steps.as_deref().map(escape::block),
            "rules": rules,
            "technique_rules_table": rule_tables.get(&t.technique),
            "source_path": self.model.source(&t.file),
        })
    }

    /// For every technique with atomic tests, the table of its rules and its
    /// parent's, each saying whether it fired on the sample events: what
    /// could catch its tests. Rendered once per technique, not per test (a
    /// technique can have a hundred tests and four hundred rules).
    pub fn technique_rule_tables(&self, ix: &Index) -> HashMap<String, String> {
        use rayon::prelude::*;
        let techniques: std::collections::BTreeSet<&str> = self
            .model
            .tests
            .iter()
            .map(|t| t.technique.as_str())
            .collect();
        techniques
            .into_par_iter()
            .filter_map(|t| Some((t.to_string(), self.technique_rule_table(ix, t)?)))
            .collect()
    }

    fn technique_rule_table(&self, ix: &Index, technique: &str) -> Option<String> {
        let kb = ix.kb;
        let mut scope: Vec<ObjId> = kb.by_attack_id(technique).into_iter().collect();
        if let Some(p) = scope.first().and_then(|&t| kb.parent_of(t)) {
            scope.push(p);
        }
        let mut rules: Vec<usize> = scope
            .iter()
            .filter_map(|t| self.model.links.technique_rules.get(t))
            .flatten()
            .copied()
            .collect();
        if rules.is_empty() {
            return None;
        }
        rules.sort_unstable();
        rules.dedup();
        self.sort_rules(&mut rules);
        let validated = self.model.validation.is_some();
        let mut out = String::from("| Name | Status | Level | Log Source Product |");
        out.push_str(if validated { " Fired |\n" } else { "\n" });
        out.push_str("| --- | --- | --- | --- |");
        out.push_str(if validated { " --- |\n" } else { "\n" });
        for r in rules {
            let rule = &self.model.rules[r];
            let cells = [
                self.rule_link(r),
                rule.status.map(|w| w.to_string()).unwrap_or_default(),
                rule.level.map(|w| w.to_string()).unwrap_or_default(),
                rule.logsource.product.clone().unwrap_or_default(),
            ];
            for c in cells {
                out.push_str("| ");
                out.push_str(&text::table_cell(&c));
                out.push(' ');
            }
            if validated {
                let fired = super::coverage::fired(self.model, r);
                out.push_str(if fired { "| yes " } else { "| no " });
            }
            out.push_str("|\n");
        }
        Some(out)
    }

    /// Context of the link report.
    pub fn link_report(&self, ix: &Index) -> Value {
        let kb: &Kb = ix.kb;
        let links = &self.model.links;
        let issue_rows = |m: &std::collections::BTreeMap<
            String,
            crate::model::links::LinkIssue,
        >|
         -> Vec<Value> {
            m.iter()
                .map(|(id, issue)| {
                    let stub = kb.by_attack_id(id).and_then(|o| ix.link(o));
                    let rules: Vec<String> = issue.rules.iter().map(|&r| self.rule_link(r)).collect();
                    json!({"id": id, "note": stub, "rules": rules.len(), "tests": issue.tests.len(), "rule_links": rules})
                })
                .collect()
        };
        let revoked: Vec<Value> = links
            .revoked_techniques
            .iter()
            .map(|(id, (to, issue))| json!({"id": id, "to": ix.link(*to), "rules": issue.rules.len(), "tests": issue.tests.len()}))
            .collect();
        let tactics: Vec<Value> = links
            .unknown_tactics
            .iter()
            .map(|(t, rules)| json!({"tactic": t, "rules": rules.len()}))
            .collect();
        let sims: Vec<Value> = links
            .unknown_simulations
            .iter()
            .map(|(r, g)| json!({"rule": self.rule_link(*r), "guid": g}))
            .collect();
        let related: Vec<Value> = links
            .unknown_related
            .iter()
            .map(|(r, id)| json!({"rule": self.rule_link(*r), "id": id}))
            .collect();
        let mut fm = Frontmatter::new();
        fm.text("name", LINK_REPORT_STEM)
            .text("type", "report")
            .list("tags", [ix.tags.plain("report")]);
        json!({
            "frontmatter": fm.render(),
            "rules": self.model.rules.len(),
            "tests": self.model.tests.len(),
            "missing": issue_rows(&links.missing_techniques),
            "deprecated": issue_rows(&links.deprecated_techniques),
            "revoked": revoked,
            "unknown_tactics": tactics,
            "newer": {
                "highest": links.highest_technique.map(|h| format!("T{h}")),
                "techniques": links.newer_techniques,
                "tactics": links.unknown_tactics.keys().collect::<Vec<_>>(),
            },
            "unknown_simulations": sims,
            "unknown_related": related,
        })
    }
}

/// Rules tagged with one tactic, group or software, as table rows.
pub fn tagged_rules(d: &Detections, id: ObjId) -> Map<String, Value> {
    let links = &d.model.links;
    let rules = links
        .tactic_rules
        .get(&id)
        .or_else(|| links.actor_rules.get(&id))
        .cloned()
        .unwrap_or_default();
    let mut m = Map::new();
    m.insert("rules".into(), json!(d.rule_rows(&rules)));
    m
}

fn kind_name(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Detection => "detection",
        RuleKind::Correlation => "correlation",
        RuleKind::Filter => "filter",
    }
}

/// A code fence longer than any backtick run in `s`.
fn fence_for(s: &str) -> String {
    let longest = text::longest_backtick_run(s);
    "`".repeat((longest + 1).max(3))
}
