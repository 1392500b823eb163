//! Notes for Sigma rules and Atomic Red Team tests, the tables that technique,
//! tactic, group and software notes show for them (precomputed, with the live
//! Dataview query on request), and the link report.

use super::escape;
use super::frontmatter::Frontmatter;
use super::index::Index;
use super::index::ObjLink;
use super::index::tactic_tag;
use super::layout::{LINK_REPORT_STEM, RULE_TAG, RULES_FOLDER, TEST_TAG, TESTS_FOLDER};
use super::names::NameRegistry;
use super::text::Footnote;
use super::text::{self, wikilink};
use crate::atomics::AtomicTest;
use crate::model::Model;
use crate::model::kb::ObjId;
use crate::tags::TagStyle;
use serde::Serialize;
use sigma_engine::sigma::rule::LogSource;
use sigma_engine::sigma::vocab::{Level, Status};
use sigma_engine::sigma::{RuleKind, SigmaRule};
use std::collections::BTreeMap;
use std::collections::HashMap;

/// A row of a rule table.
#[derive(Serialize)]
pub struct RuleRow {
    link: String,
    title: String,
    id: Option<String>,
    status: Option<Status>,
    level: Option<Level>,
    kind: RuleKind,
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    /// On a technique note: the techniques of its scope the rule names.
    #[serde(skip_serializing_if = "Option::is_none")]
    techniques: Option<Vec<String>>,
}

/// A row of a technique note's atomic test table.
#[derive(Serialize)]
pub struct TestRow {
    link: String,
    name: String,
    number: usize,
    platforms: Vec<String>,
    executor: String,
    technique: Option<String>,
    /// The rules whose `simulation` names the test.
    rules: Vec<String>,
}

/// The rule and test tables of a technique note, with their live queries
/// when asked for.
#[derive(Serialize)]
pub struct TechniqueTables {
    rules: Vec<RuleRow>,
    tests: Vec<TestRow>,
    tables_with_subtechniques: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules_base: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tests_base: Option<String>,
    #[serde(flatten)]
    queries: Option<TableQueries>,
}

/// The Dataview queries that compute a technique's tables live.
#[derive(Serialize)]
pub struct TableQueries {
    rules_query: String,
    tests_query: String,
}

impl TableQueries {
    /// The rules and tests carrying any of `plain_tags`, found by their
    /// kind's tag rather than their folder, as the Bases views find them.
    fn for_tags(style: &TagStyle, plain_tags: &[String]) -> Self {
        let tags: Vec<String> = plain_tags.iter().map(|t| format!("#{t}")).collect();
        let source_tags = if tags.len() == 1 {
            tags[0].clone()
        } else {
            format!("({})", tags.join(" OR "))
        };
        // Dataview's `choice(test, then, else)`; a missing level is no level.
        let severity = super::bases::severity_expression(|level, rank, rest| {
            format!("choice(level = \"{level}\", {rank}, {rest})")
        });
        let (rule, test) = (style.plain(RULE_TAG), style.plain(TEST_TAG));
        TableQueries {
            rules_query: format!(
                "TABLE WITHOUT ID\nfile.link AS \"Name\",\nstatus AS \"Status\",\nlevel AS \"Level\",\nlogsrc_product AS \"Log Source Product\"\nFROM #{rule} AND {source_tags}\nSORT {severity} ASC, title ASC"
            ),
            tests_query: format!(
                "TABLE WITHOUT ID\nfilename AS \"Name\"\nFROM #{test} AND {source_tags}\nSORT filename ASC"
            ),
        }
    }
}

/// The context of a rule note.
#[derive(Serialize)]
pub struct RuleNote<'m> {
    frontmatter: String,
    title: &'m str,
    id: Option<&'m str>,
    kind: &'static str,
    status: Option<Status>,
    level: Option<Level>,
    author: Option<String>,
    date: Option<&'m str>,
    modified: Option<&'m str>,
    description: Option<String>,
    footnotes: Vec<Footnote>,
    logsource: &'m LogSource,
    techniques: Vec<ObjLink>,
    tactics: Vec<ObjLink>,
    actors: Vec<ObjLink>,
    unknown_tactics: &'m [String],
    other_tags: Vec<String>,
    #[serde(flatten)]
    relations: RuleRelations<'m>,
    fp_list: Vec<String>,
    references: Vec<String>,
    source_path: String,
    yaml: &'m str,
    fence: String,
    /// The sample events that fired the rule, with a validation run.
    pub validation: Option<super::samples::RuleSamples<'m>>,
}

/// The rules and tests a rule note links to.
#[derive(Serialize)]
struct RuleRelations<'m> {
    related: Vec<RelatedRow<'m>>,
    tests: Vec<String>,
    simulations: Vec<SimulationRow<'m>>,
    /// The rules a correlation or filter names.
    refers: Vec<RefRow<'m>>,
}

#[derive(Serialize)]
struct RelatedRow<'m> {
    kind: &'m str,
    id: &'m str,
    link: Option<String>,
}

#[derive(Serialize)]
struct SimulationRow<'m> {
    name: &'m str,
    technique: &'m str,
    guid: &'m str,
    kind: &'m str,
}

#[derive(Serialize)]
struct RefRow<'m> {
    #[serde(rename = "ref")]
    reference: &'m str,
    link: Option<String>,
}

/// The context of an atomic test note.
#[derive(Serialize)]
pub struct TestNote<'m> {
    frontmatter: String,
    name: &'m str,
    guid: &'m str,
    number: usize,
    technique_id: &'m str,
    technique: Option<ObjLink>,
    description: String,
    footnotes: Vec<Footnote>,
    platforms: &'m [String],
    executor: &'m str,
    lang: &'static str,
    dependency_lang: &'static str,
    elevation_required: bool,
    input_arguments: Vec<Argument<'m>>,
    dependencies: Vec<Dependency>,
    command: Option<Code>,
    cleanup: Option<Code>,
    steps: Option<String>,
    rules: Vec<String>,
    /// The rules of its technique (and parent), rendered once per technique.
    technique_rules_table: Option<&'m str>,
    source_path: String,
}

#[derive(Serialize)]
struct Argument<'m> {
    name: std::borrow::Cow<'m, str>,
    description: String,
    #[serde(rename = "type")]
    kind: std::borrow::Cow<'m, str>,
    default: std::borrow::Cow<'m, str>,
}

#[derive(Serialize)]
struct Dependency {
    description: String,
    prereq: Option<Code>,
    get_prereq: Option<Code>,
}

/// A command as a fenced code block.
#[derive(Serialize)]
struct Code {
    text: String,
    fence: String,
}

impl Code {
    fn new(c: &str) -> Self {
        let c = text::visible_controls(c);
        Code {
            text: c.trim_end().to_string(),
            fence: text::fence_for(&c),
        }
    }

    fn non_empty(c: &str) -> Option<Self> {
        (!c.trim().is_empty()).then(|| Code::new(c))
    }
}

/// The context of the link report.
#[derive(Serialize)]
pub struct LinkReport<'m> {
    frontmatter: String,
    rules: usize,
    tests: usize,
    missing: Vec<IssueRow<'m>>,
    deprecated: Vec<IssueRow<'m>>,
    revoked: Vec<RevokedRow<'m>>,
    unknown_tactics: Vec<TacticCount<'m>>,
    newer: Newer<'m>,
    /// The ATT&CK data is the embedded demo slice and lacks techniques
    /// the rules and tests name.
    demo_attack: bool,
    /// The domains loaded, where Enterprise is not among them and the
    /// rules and tests name what they lack (an ICS or Mobile vault).
    other_domains: Option<String>,
    unknown_simulations: Vec<UnknownRef<'m>>,
    unknown_related: Vec<UnknownRef<'m>>,
}

/// A technique ID that tags name but the loaded ATT&CK lacks or deprecates.
#[derive(Serialize)]
struct IssueRow<'m> {
    id: &'m str,
    note: Option<ObjLink>,
    rules: usize,
    tests: usize,
    rule_links: Vec<String>,
}

#[derive(Serialize)]
struct RevokedRow<'m> {
    id: &'m str,
    to: Option<ObjLink>,
    rules: usize,
    tests: usize,
}

#[derive(Serialize)]
struct TacticCount<'m> {
    tactic: &'m str,
    rules: usize,
}

/// What a later ATT&CK release names than the one loaded.
#[derive(Serialize)]
struct Newer<'m> {
    highest: Option<String>,
    /// The earliest known release that defines them all.
    release: Option<&'static str>,
    techniques: &'m [String],
    tactics: Vec<&'m str>,
}

/// A `simulation` GUID or `related` id that names nothing loaded.
#[derive(Serialize)]
struct UnknownRef<'m> {
    rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    guid: Option<&'m str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'m str>,
}

/// Note names of rules and tests.
pub struct Detections<'m> {
    pub model: &'m Model,
    pub rule_stems: Vec<String>,
    pub test_stems: Vec<String>,
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
            crate::model::kb::id_sort_key(&x.technique)
                .cmp(&crate::model::kb::id_sort_key(&y.technique))
                .then(x.number.cmp(&y.number))
                .then(x.file.cmp(&y.file))
        });
        let mut test_stems = vec![String::new(); model.tests.len()];
        for i in torder {
            let t = &model.tests[i];
            test_stems[i] = names.claim(&format!("{}-{} {}", t.technique, t.number, t.name));
        }
        Detections {
            model,
            rule_stems,
            test_stems,
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
    fn rule_row(&self, i: usize) -> RuleRow {
        let r = &self.model.rules[i];
        RuleRow {
            link: self.rule_link(i),
            title: r.title.clone(),
            id: r.id.clone(),
            status: r.status,
            level: r.level,
            kind: r.kind,
            product: r.logsource.product.clone(),
            category: r.logsource.category.clone(),
            service: r.logsource.service.clone(),
            techniques: None,
        }
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
    pub fn rule_rows(&self, rules: &[usize]) -> Vec<RuleRow> {
        let mut v = rules.to_vec();
        v.sort_unstable();
        v.dedup();
        self.sort_rules(&mut v);
        v.into_iter().map(|i| self.rule_row(i)).collect()
    }

    /// The "Detection Rule" and "Rule Testing" tables of a technique note: its
    /// own rules and tests plus, for a parent, those of its sub-techniques.
    pub fn technique_tables(&self, ix: &Index, id: ObjId, live: super::Live) -> TechniqueTables {
        let kb = ix.kb;
        let mut scope = vec![id];
        scope.extend(kb.subtechniques_of(id));
        let plain_tags: Vec<String> = scope
            .iter()
            .map(|&t| ix.tags.technique(&kb.get(t).attack_id))
            .collect();
        let (rules_base, tests_base) = if live.bases {
            let rules = super::bases::technique_rules(&ix.tags, &plain_tags).to_yaml();
            (
                Some(rules),
                Some(super::bases::technique_tests(&ix.tags, &plain_tags).to_yaml()),
            )
        } else {
            (None, None)
        };
        let queries = live
            .dataview
            .then(|| TableQueries::for_tags(&ix.tags, &plain_tags));
        TechniqueTables {
            rules: self.technique_rules(ix, &scope),
            tests: self.technique_tests(ix, &scope),
            tables_with_subtechniques: scope.len() > 1,
            rules_base,
            tests_base,
            queries,
        }
    }

    /// The rules tagged with any technique of `scope`, each with the
    /// techniques it names there.
    fn technique_rules(&self, ix: &Index, scope: &[ObjId]) -> Vec<RuleRow> {
        let mut rule_techs: HashMap<usize, Vec<ObjId>> = HashMap::new();
        for &t in scope {
            for &r in self
                .model
                .links
                .technique_rules
                .get(&t)
                .into_iter()
                .flatten()
            {
                rule_techs.entry(r).or_default().push(t);
            }
        }
        let mut order: Vec<usize> = rule_techs.keys().copied().collect();
        self.sort_rules(&mut order);
        order
            .into_iter()
            .map(|r| {
                let mut row = self.rule_row(r);
                let techs = rule_techs[&r].iter().filter_map(|&t| ix.link(t));
                row.techniques = Some(techs.map(|l| l.id_link).collect());
                row
            })
            .collect()
    }

    /// The atomic tests of any technique of `scope`, by technique and number.
    fn technique_tests(&self, ix: &Index, scope: &[ObjId]) -> Vec<TestRow> {
        let links = &self.model.links;
        let mut tests: Vec<(usize, ObjId)> = Vec::new();
        for &t in scope {
            for &x in links.technique_tests.get(&t).into_iter().flatten() {
                tests.push((x, t));
            }
        }
        tests.sort_by(|a, b| {
            let (x, y) = (&self.model.tests[a.0], &self.model.tests[b.0]);
            crate::model::kb::id_sort_key(&x.technique)
                .cmp(&crate::model::kb::id_sort_key(&y.technique))
                .then(x.number.cmp(&y.number))
        });
        tests
            .into_iter()
            .map(|(x, t)| {
                let test = &self.model.tests[x];
                TestRow {
                    link: self.test_link(x),
                    name: test.name.clone(),
                    number: test.number,
                    platforms: test.platforms.clone(),
                    executor: test.executor.clone(),
                    technique: ix.link(t).map(|l| l.id_link),
                    rules: links
                        .test_rules
                        .get(&x)
                        .map(|v| v.iter().map(|&r| self.rule_link(r)).collect())
                        .unwrap_or_default(),
                }
            })
            .collect()
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
        tags.push(ix.tags.plain(RULE_TAG));
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
    fn rule_relations(&self, i: usize) -> RuleRelations<'m> {
        let r = &self.model.rules[i];
        let links = &self.model.links;
        let link = |reference: &str| links.rule_refs.get(reference).map(|j| self.rule_link(j));
        let related = r
            .related
            .iter()
            .map(|rel| RelatedRow {
                kind: &rel.kind,
                id: &rel.id,
                link: links.rule_refs.by_id(&rel.id).map(|j| self.rule_link(j)),
            })
            .collect();
        let simulations = r
            .simulation
            .iter()
            .map(|s| SimulationRow {
                name: &s.name,
                technique: &s.technique,
                guid: &s.atomic_guid,
                kind: &s.kind,
            })
            .collect();
        let referenced = match (&r.correlation, &r.filter) {
            (Some(c), _) => c.rules.as_slice(),
            (None, Some(f)) => f.rules.names(),
            (None, None) => &[],
        };
        RuleRelations {
            related,
            tests: links
                .rule_tests
                .get(&i)
                .map(|v| v.iter().map(|&t| self.test_link(t)).collect())
                .unwrap_or_default(),
            simulations,
            refers: referenced
                .iter()
                .map(|x| RefRow {
                    reference: x,
                    link: link(x),
                })
                .collect(),
        }
    }

    /// Context of a rule note; the sample events part is added later.
    pub fn rule(&self, ix: &Index, i: usize) -> RuleNote<'m> {
        let r = &self.model.rules[i];
        let rl = &self.model.links.rule_links[i];
        let fm = self.rule_frontmatter(ix, i);
        // Rule descriptions often quote ATT&CK text, citations and links included.
        let mut w = super::note_writer::NoteWriter::new(ix);
        let description = r.description.as_deref().map(|d| w.md(d, &[]));
        RuleNote {
            frontmatter: fm.render(),
            title: &r.title,
            id: r.id.as_deref(),
            kind: kind_name(r.kind),
            status: r.status,
            level: r.level,
            author: r.author.as_deref().map(escape::inline),
            date: r.date.as_deref(),
            modified: r.modified.as_deref(),
            description,
            footnotes: w.notes.into_vec(),
            logsource: &r.logsource,
            techniques: ix.links(rl.techniques.iter().copied()),
            tactics: ix.links(rl.tactics.iter().copied()),
            actors: ix.links(rl.actors.iter().copied()),
            unknown_tactics: &rl.unknown_tactics,
            other_tags: rl.other_tags.iter().map(|t| ix.tags.plain(t)).collect(),
            relations: self.rule_relations(i),
            fp_list: r.falsepositives.iter().map(|f| escape::inline(f)).collect(),
            references: r.references.iter().map(|u| text::autolink(u)).collect(),
            source_path: self.model.source(&r.path),
            yaml: r.source.trim_end(),
            fence: text::fence_for(&r.source),
            validation: None,
        }
    }

    /// Context of an atomic test note.
    pub fn test<'t>(
        &self,
        ix: &Index,
        i: usize,
        rule_tables: &'t HashMap<String, String>,
    ) -> TestNote<'t>
    where
        'm: 't,
    {
        let t: &AtomicTest = &self.model.tests[i];
        let mut w = super::note_writer::NoteWriter::new(ix);
        let description = w.md(t.description.trim(), &[]);
        let dependencies = t
            .dependencies
            .iter()
            .map(|d| Dependency {
                description: escape::block(d.description.trim()),
                prereq: Code::non_empty(&d.prereq_command),
                get_prereq: Code::non_empty(&d.get_prereq_command),
            })
            .collect();
        let input_arguments = t
            .input_arguments
            .iter()
            .map(|a| Argument {
                name: text::visible_controls(&a.name),
                description: escape::inline(&a.description),
                kind: text::visible_controls(&a.kind),
                default: text::visible_controls(&a.default),
            })
            .collect();
        TestNote {
            frontmatter: self.test_frontmatter(ix, i).render(),
            name: &t.name,
            guid: &t.guid,
            number: t.number,
            technique_id: &t.technique,
            technique: ix.kb.by_attack_id(&t.technique).and_then(|o| ix.link(o)),
            description,
            footnotes: w.notes.into_vec(),
            platforms: &t.platforms,
            executor: &t.executor,
            lang: script_lang(&t.executor),
            dependency_lang: script_lang(t.dependency_executor.as_deref().unwrap_or(&t.executor)),
            elevation_required: t.elevation_required,
            input_arguments,
            dependencies,
            command: t.command.as_deref().map(Code::new),
            cleanup: t.cleanup_command.as_deref().map(Code::new),
            steps: t.steps.as_deref().map(escape::block),
            rules: self
                .model
                .links
                .test_rules
                .get(&i)
                .map(|v| v.iter().map(|&r| self.rule_link(r)).collect())
                .unwrap_or_default(),
            technique_rules_table: rule_tables.get(&t.technique).map(String::as_str),
            source_path: self.model.source(&t.file),
        }
    }

    fn test_frontmatter(&self, ix: &Index, i: usize) -> Frontmatter {
        let t: &AtomicTest = &self.model.tests[i];
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
                [ix.tags.technique(&t.technique), ix.tags.plain(TEST_TAG)],
            )
            .list(
                "aliases",
                [t.guid.clone()].into_iter().filter(|g| !g.is_empty()),
            )
            .text("source", self.model.source(&t.file));
        fm
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
                let fired = super::samples::fired(self.model, r);
                out.push_str(if fired { "| yes " } else { "| no " });
            }
            out.push_str("|\n");
        }
        Some(out)
    }

    /// Context of the link report.
    pub fn link_report(&self, ix: &Index) -> LinkReport<'m> {
        let links = &self.model.links;
        let kb = &self.model.attack;
        let lacking = !(links.missing_techniques.is_empty() && links.unknown_tactics.is_empty());
        let mut fm = Frontmatter::new();
        fm.text("name", LINK_REPORT_STEM)
            .text("type", "report")
            .list("tags", [ix.tags.plain("report")]);
        LinkReport {
            frontmatter: fm.render(),
            rules: self.model.rules.len(),
            tests: self.model.tests.len(),
            missing: self.issue_rows(ix, &links.missing_techniques),
            deprecated: self.issue_rows(ix, &links.deprecated_techniques),
            revoked: links
                .revoked_techniques
                .iter()
                .map(|(id, (to, issue))| RevokedRow {
                    id,
                    to: ix.link(*to),
                    rules: issue.rules.len(),
                    tests: issue.tests.len(),
                })
                .collect(),
            unknown_tactics: links
                .unknown_tactics
                .iter()
                .map(|(t, rules)| TacticCount {
                    tactic: t,
                    rules: rules.len(),
                })
                .collect(),
            demo_attack: self.model.demo_attack && lacking,
            other_domains: (!self.model.demo_attack && !kb.has_enterprise() && lacking)
                .then(|| kb.domains.join(", ")),
            newer: Newer {
                highest: links.highest_technique.map(|h| format!("T{h}")),
                release: links.release_to_build_with(),
                techniques: &links.newer_techniques,
                tactics: links.unknown_tactics.keys().map(String::as_str).collect(),
            },
            unknown_simulations: links
                .unknown_simulations
                .iter()
                .map(|(r, g)| UnknownRef {
                    rule: self.rule_link(*r),
                    guid: Some(g),
                    id: None,
                })
                .collect(),
            unknown_related: links
                .unknown_related
                .iter()
                .map(|(r, id)| UnknownRef {
                    rule: self.rule_link(*r),
                    guid: None,
                    id: Some(id),
                })
                .collect(),
        }
    }

    fn issue_rows(
        &self,
        ix: &Index,
        m: &'m BTreeMap<String, crate::model::links::LinkIssue>,
    ) -> Vec<IssueRow<'m>> {
        m.iter()
            .map(|(id, issue)| {
                let rule_links: Vec<String> =
                    issue.rules.iter().map(|&r| self.rule_link(r)).collect();
                IssueRow {
                    id,
                    note: ix.kb.by_attack_id(id).and_then(|o| ix.link(o)),
                    rules: rule_links.len(),
                    tests: issue.tests.len(),
                    rule_links,
                }
            })
            .collect()
    }
}

/// Rules tagged with one tactic, group or software, as table rows.
pub fn tagged_rules(d: &Detections, id: ObjId) -> Vec<RuleRow> {
    let links = &d.model.links;
    let rules = links
        .tactic_rules
        .get(&id)
        .or_else(|| links.actor_rules.get(&id))
        .cloned()
        .unwrap_or_default();
    d.rule_rows(&rules)
}

fn kind_name(k: RuleKind) -> &'static str {
    match k {
        RuleKind::Detection => "detection",
        RuleKind::Correlation => "correlation",
        RuleKind::Filter => "filter",
    }
}

/// The language of a code block for an executor.
fn script_lang(executor: &str) -> &'static str {
    match executor {
        "powershell" => "powershell",
        "command_prompt" => "batch",
        "sh" => "sh",
        "bash" => "bash",
        _ => "",
    }
}
