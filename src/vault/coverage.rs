//! Detection coverage: per technique, how many rules, how many of them fired
//! on sample events, how many atomic tests; rolled up from sub-techniques to
//! parents. Rendered as technique properties, a Coverage note per domain,
//! ATT&CK Navigator layers, and notes for the sample event files.

use super::detections::Detections;
use super::index::Index;
use super::index::{Linked, ObjLink};
use super::layout::{LAYERS_FOLDER, SAMPLES_FOLDER};
use super::names::NameRegistry;
use super::navigator::{self, LayerEntry};
use super::notes::{Actor, ObjectNote};
use super::samples::fired;
use super::status::{CoverageCell, Status, TechCoverage};
use super::text::table_cell;
use crate::model::Model;
use crate::model::kb::{Kind, ObjId};
use serde::Serialize;
use sigma_engine::sigma::vocab::Level;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Whether rule `r` belongs on `domain`'s Coverage note: one of its
/// techniques is of that domain; a rule naming no technique counts for the
/// first domain loaded (Enterprise, where Sigma's log sources are).
fn rule_in_domain(model: &Model, r: usize, domain: &str) -> bool {
    let kb = &model.attack;
    let techniques = &model.links.rule_links[r].techniques;
    let named = techniques
        .iter()
        .any(|&t| kb.get(t).domains.iter().any(|d| d == domain));
    let placed = techniques.iter().any(|&t| !kb.get(t).domains.is_empty());
    named || (!placed && kb.domains.first().is_some_and(|d| d == domain))
}

/// Coverage of every technique note (parents include their sub-techniques).
pub fn compute(model: &Model) -> HashMap<ObjId, TechCoverage> {
    let kb = &model.attack;
    let links = &model.links;
    let mut out = HashMap::new();
    for t in kb.included_of(Kind::Technique) {
        let mut scope = vec![t];
        scope.extend(kb.subtechniques_of(t));
        let rules: BTreeSet<usize> = scope
            .iter()
            .flat_map(|s| links.technique_rules.get(s).into_iter().flatten().copied())
            .collect();
        let tests: usize = scope
            .iter()
            .map(|s| links.technique_tests.get(s).map_or(0, Vec::len))
            .sum();
        let fired_n = rules.iter().filter(|&&r| fired(model, r)).count();
        out.insert(t, TechCoverage::new(rules.len(), fired_n, tests));
    }
    out
}

/// Give each row of an actor's "Techniques Used" table its coverage and
/// add the summary line: how well would we detect this group, software or
/// campaign? (`APT29: 41 techniques, 23 validated, …`).
pub fn annotate_actor(
    note: &mut ObjectNote<Actor>,
    kb: &crate::model::kb::Kb,
    cov: &HashMap<ObjId, TechCoverage>,
    validated_run: bool,
) {
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    let rows = &mut note.body.techniques;
    for row in rows.iter_mut() {
        let c = kb
            .by_attack_id(&row.link.id)
            .and_then(|t| cov.get(&t))
            .copied()
            .unwrap_or(TechCoverage::new(0, 0, 0));
        *counts.entry(c.status).or_default() += 1;
        row.coverage = Some(CoverageCell::new(&c, validated_run));
    }
    let total = rows.len();
    let parts: Vec<String> = Status::ALL
        .iter()
        .filter(|s| validated_run || **s != Status::Validated)
        .map(|s| format!("{} {}", counts.get(s).copied().unwrap_or(0), s.label()))
        .collect();
    note.body.coverage_summary = Some(format!(
        "{}: {total} technique{}, {}",
        note.base.title,
        if total == 1 { "" } else { "s" },
        parts.join(", ")
    ));
}

/// Note names of the sample event files.
pub fn sample_stems(model: &Model, names: &mut NameRegistry) -> Vec<String> {
    let Some(v) = &model.validation else {
        return Vec::new();
    };
    v.files
        .iter()
        .map(|f| {
            let parent = f.folder();
            let name = f
                .path
                .file_name()
                .map(|p| p.to_string_lossy().to_string())
                .unwrap_or_default();
            // A file named without its folder (`ev.jsonl`) is named alone.
            match parent.is_empty() {
                true => names.claim(&name),
                false => names.claim(&format!("{parent} - {name}")),
            }
        })
        .collect()
}

/// The folder of a regression case named by `regression_tests_path`.
fn regression_case_dir(path: &str) -> String {
    let p = path.replace('\\', "/");
    p.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or(p)
}

/// Rules with a regression case among the loaded events that did not fire on
/// it: (rule, case folder).
pub fn regression_failures(model: &Model) -> Vec<(usize, String)> {
    let Some(v) = &model.validation else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (ri, r) in model.rules.iter().enumerate() {
        let Some(p) = &r.regression_tests_path else {
            continue;
        };
        let dir = regression_case_dir(p);
        let needle = format!("{}/", dir.trim_matches('/'));
        let case_files: Vec<usize> = v
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.path
                    .to_string_lossy()
                    .replace('\\', "/")
                    .contains(&needle)
            })
            .map(|(i, _)| i)
            .collect();
        if case_files.is_empty() {
            continue;
        }
        if !case_files
            .iter()
            .any(|&fi| v.files[fi].rules.contains_key(&ri))
        {
            out.push((ri, dir));
        }
    }
    out
}

/// Render the Coverage notes, the layers and the sample file notes.
pub fn render(
    model: &Model,
    ix: &Index,
    det: &Detections,
    cov: &HashMap<ObjId, TechCoverage>,
    sample_stems: &[String],
    templates: &super::templates::Templates,
) -> Result<Vec<super::Note>, sigma_engine::diag::Diagnostic> {
    let r = Renderer {
        model,
        ix,
        det,
        cov,
        templates,
    };
    let mut notes = Vec::new();
    let silent = r.silent_rules();
    let failures = regression_failures(model);
    for domain in &ix.kb.domains {
        notes.extend(r.domain_notes(domain, &silent, &failures)?);
    }
    if let Some(v) = model.validation.as_ref() {
        for (fi, f) in v.files.iter().enumerate() {
            notes.push(r.sample_note(f, &sample_stems[fi])?);
        }
    }
    Ok(notes)
}

/// What the coverage notes are rendered from.
struct Renderer<'a> {
    model: &'a Model,
    ix: &'a Index<'a>,
    det: &'a Detections<'a>,
    cov: &'a HashMap<ObjId, TechCoverage>,
    templates: &'a super::templates::Templates,
}

/// The context of a domain's Coverage note.
#[derive(Serialize)]
struct CoverageNote<'a> {
    frontmatter: String,
    domain: &'a str,
    matrix: Option<ObjLink>,
    tactics: Vec<ObjLink>,
    /// Per tactic: how many techniques of each status.
    totals: Vec<String>,
    rows: Vec<Vec<String>>,
    summary: Vec<StatusCount>,
    techniques: usize,
    validated_run: bool,
    events: Option<u64>,
    detections: Option<u64>,
    files: Option<usize>,
    rules: usize,
    fired_rules: usize,
    tests_no_rules: Vec<Linked<TestCount>>,
    silent_rules: Vec<RuleLevel>,
    regressions: Vec<Regression<'a>>,
    layer: &'a str,
}

#[derive(Serialize)]
struct StatusCount {
    label: &'static str,
    marker: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct TestCount {
    tests: usize,
}

#[derive(Serialize)]
struct RuleLevel {
    link: String,
    level: Option<Level>,
}

/// A rule whose regression case did not fire.
#[derive(Serialize)]
struct Regression<'a> {
    link: String,
    case: &'a str,
}

/// The context of a sample event file's note.
#[derive(Serialize)]
struct SampleNote<'a> {
    frontmatter: String,
    name: &'a str,
    path: String,
    folder: String,
    events: u64,
    rules: Vec<RuleCount>,
    techniques: Vec<ObjLink>,
}

#[derive(Serialize)]
struct RuleCount {
    link: String,
    level: Option<Level>,
    count: u64,
}

/// A Coverage note's matrix: tactic links, per-tactic totals, and rows of
/// technique cells.
struct MatrixTable {
    header: Vec<ObjLink>,
    totals: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Renderer<'_> {
    /// Rules whose log source the sample events hold but that never fired
    /// (and could run), by title.
    fn silent_rules(&self) -> Vec<usize> {
        let model = self.model;
        let Some(v) = model.validation.as_ref() else {
            return Vec::new();
        };
        let mut silent: Vec<usize> = (0..model.rules.len())
            .filter(|&r| {
                v.rules[r].logsource_seen && v.rules[r].events == 0 && v.rules[r].skipped.is_none()
            })
            .collect();
        silent.sort_by(|&a, &b| model.rules[a].title.cmp(&model.rules[b].title));
        silent
    }

    /// The matrix of a domain, each technique marked with its status.
    fn matrix_table(&self, tactics: &[ObjId]) -> MatrixTable {
        let (kb, ix) = (self.ix.kb, self.ix);
        let mut header = Vec::new();
        let mut columns: Vec<Vec<String>> = Vec::new();
        let mut totals = Vec::new();
        for &t in tactics {
            let Some(l) = ix.link(t) else { continue };
            let mut counts: HashMap<Status, usize> = HashMap::new();
            let cells: Vec<String> = kb
                .techniques_in_tactic(t)
                .iter()
                .filter_map(|&x| {
                    let c = self.cov.get(&x)?;
                    *counts.entry(c.status).or_default() += 1;
                    let link = ix.link(x)?;
                    Some(format!("{} {}", c.status.marker(), link.link))
                })
                .collect();
            header.push(l);
            totals.push(
                Status::ALL
                    .iter()
                    .map(|s| format!("{} {}", s.marker(), counts.get(s).copied().unwrap_or(0)))
                    .collect::<Vec<_>>()
                    .join(" "),
            );
            columns.push(cells);
        }
        let depth = columns.iter().map(Vec::len).max().unwrap_or(0);
        let rows = (0..depth)
            .map(|r| {
                columns
                    .iter()
                    .map(|c| table_cell(c.get(r).map(String::as_str).unwrap_or("")))
                    .collect()
            })
            .collect();
        MatrixTable {
            header,
            totals,
            rows,
        }
    }

    /// How many of the techniques have each status.
    fn status_counts(&self, techniques: &[ObjId]) -> Vec<StatusCount> {
        let mut summary: HashMap<Status, usize> = HashMap::new();
        for c in techniques.iter().filter_map(|t| self.cov.get(t)) {
            *summary.entry(c.status).or_default() += 1;
        }
        Status::ALL
            .iter()
            .map(|s| StatusCount {
                label: s.label(),
                marker: s.marker(),
                count: summary.get(s).copied().unwrap_or(0),
            })
            .collect()
    }

    /// Techniques with atomic tests but no rule, with their test counts.
    fn tests_without_rules(&self, techniques: &[ObjId]) -> Vec<Linked<TestCount>> {
        let cov = self.cov;
        techniques
            .iter()
            .filter(|t| cov.get(t).is_some_and(|c| c.rules == 0 && c.tests > 0))
            .filter_map(|&t| {
                let more = TestCount {
                    tests: cov[&t].tests,
                };
                Some(Linked {
                    link: self.ix.link(t)?,
                    more,
                })
            })
            .collect()
    }

    /// A domain's Navigator layer file.
    fn layer_note(&self, domain: &str, techniques: &[ObjId]) -> super::Note {
        let release = self.ix.kb.releases.get(domain).map(String::as_str);
        let entries: Vec<LayerEntry> = techniques
            .iter()
            .filter_map(|&t| {
                Some(LayerEntry {
                    id: self.ix.kb.get(t).attack_id.clone(),
                    coverage: *self.cov.get(&t)?,
                })
            })
            .collect();
        super::Note {
            path: format!("{LAYERS_FOLDER}/{domain}-coverage.json"),
            content: navigator::to_text(&navigator::layer(domain, release, &entries)),
        }
    }

    /// A domain's Navigator layer and Coverage note (none without a matrix).
    fn domain_notes(
        &self,
        domain: &str,
        silent: &[usize],
        failures: &[(usize, String)],
    ) -> Result<Vec<super::Note>, sigma_engine::diag::Diagnostic> {
        let (model, kb, ix, det) = (self.model, self.ix.kb, self.ix, self.det);
        let Some(matrix) = kb
            .included_of(Kind::Matrix)
            .into_iter()
            .find(|&m| kb.get(m).domains.iter().any(|d| d == domain))
        else {
            return Ok(Vec::new());
        };
        let mine = |r: &usize| rule_in_domain(model, *r, domain);
        let in_domain: Vec<ObjId> = kb
            .included_of(Kind::Technique)
            .into_iter()
            .filter(|&t| kb.get(t).domains.iter().any(|d| d == domain))
            .collect();
        let layer_note = self.layer_note(domain, &in_domain);
        let layer_path = layer_note.path.clone();
        let table = self.matrix_table(&kb.matrix_tactics(matrix));
        let validation = model.validation.as_ref();
        let mut fm = super::frontmatter::Frontmatter::new();
        fm.text("name", format!("Coverage {domain}"))
            .text("type", "coverage")
            .list("tags", [ix.tags.plain("coverage")])
            .list("cssclasses", [super::layout::WIDE_CLASS])
            .list("domains", [domain.to_string()]);
        let ctx = CoverageNote {
            frontmatter: fm.render(),
            domain,
            matrix: ix.link(matrix),
            tactics: table.header,
            totals: table.totals,
            rows: table.rows,
            summary: self.status_counts(&in_domain),
            techniques: in_domain.len(),
            validated_run: validation.is_some(),
            events: validation.map(|v| v.events),
            detections: validation.map(|v| v.detections),
            files: validation.map(|v| v.files.len()),
            rules: model.rules.len(),
            fired_rules: (0..model.rules.len())
                .filter(|r| mine(r) && fired(model, *r))
                .count(),
            tests_no_rules: self.tests_without_rules(&in_domain),
            silent_rules: silent
                .iter()
                .filter(|r| mine(r))
                .map(|&r| RuleLevel {
                    link: det.rule_link(r),
                    level: model.rules[r].level,
                })
                .collect(),
            regressions: failures
                .iter()
                .filter(|(r, _)| mine(r))
                .map(|(r, dir)| Regression {
                    link: det.rule_link(*r),
                    case: dir,
                })
                .collect(),
            layer: &layer_path,
        };
        let note = super::Note {
            path: format!("Coverage {domain}.md"),
            content: super::tidy(&self.templates.render("coverage.md", &ctx)?),
        };
        Ok(vec![layer_note, note])
    }

    /// The note of one sample event file: the rules that fired on it, most
    /// severe first, and their techniques.
    fn sample_note(
        &self,
        f: &crate::model::validation::EventFile,
        stem: &str,
    ) -> Result<super::Note, sigma_engine::diag::Diagnostic> {
        let (model, kb, ix) = (self.model, self.ix.kb, self.ix);
        let mut rules: Vec<(usize, u64)> = f.rules.iter().map(|(&r, &n)| (r, n)).collect();
        rules.sort_by(|a, b| {
            Level::rank(model.rules[a.0].level)
                .cmp(&Level::rank(model.rules[b.0].level))
                .then(model.rules[a.0].title.cmp(&model.rules[b.0].title))
        });
        let mut techs: BTreeSet<ObjId> = BTreeSet::new();
        for (r, _) in &rules {
            techs.extend(model.links.rule_links[*r].techniques.iter().copied());
        }
        let mut techs: Vec<ObjId> = techs.into_iter().collect();
        kb.sort_by_id(&mut techs);
        let folder = f.folder();
        let mut fm = super::frontmatter::Frontmatter::new();
        fm.text("name", stem)
            .text("type", "sample_events")
            .text("source", model.source(&f.path))
            .text("folder", &folder)
            .number("events", f.events as i64)
            .number("detections", f.rules.values().sum::<u64>() as i64)
            .list(
                "tags",
                [ix.tags.plain(super::layout::SAMPLES_TAG)]
                    .into_iter()
                    .chain(
                        techs
                            .iter()
                            .map(|&t| ix.tags.technique(&kb.get(t).attack_id)),
                    ),
            );
        let ctx = SampleNote {
            frontmatter: fm.render(),
            name: stem,
            path: f.path.to_string_lossy().replace('\\', "/"),
            folder,
            events: f.events,
            rules: rules
                .iter()
                .map(|&(r, count)| RuleCount {
                    link: self.det.rule_link(r),
                    level: model.rules[r].level,
                    count,
                })
                .collect(),
            techniques: ix.links(techs),
        };
        Ok(super::Note {
            path: format!("{SAMPLES_FOLDER}/{stem}.md"),
            content: super::tidy(&self.templates.render("sample_events.md", &ctx)?),
        })
    }
}
