//! The vault's entry points: `Home` (every matrix, Coverage note, Navigator
//! layer and tactic per domain, the Link report, the history) and one index
//! note per folder, so no note is more than two links from Home.

use super::detections::Detections;
use super::frontmatter::Frontmatter;
use super::index::ObjLink;
use super::index::{HOME_STEM, Index};
use super::layout::{LAYERS_FOLDER, LINK_REPORT_STEM, RULES_FOLDER, SAMPLES_FOLDER, TESTS_FOLDER};
use super::names::NameRegistry;
use super::text::table_cell;
use super::text::wikilink;
use crate::model::Model;
use crate::model::kb::{Kind, ObjId};
use serde::Serialize;
use sigma_engine::diag::counted;
use sigma_engine::sigma::vocab::Level;
use std::collections::BTreeMap;

/// Stem of the index note of the rules folder.
pub const RULES_INDEX: &str = "Detection Rules";
/// Stem of the index note of the atomics folder.
pub const TESTS_INDEX: &str = "Atomic Tests";

/// Stem of the index note of an ATT&CK kind's folder (`Techniques`).
pub fn kind_index(kind: Kind) -> &'static str {
    kind.folder()
}

/// Reserve the index notes' names before any object claims one.
pub fn reserve(names: &mut NameRegistry) {
    names.reserve(HOME_STEM);
    names.reserve(RULES_INDEX);
    names.reserve(TESTS_INDEX);
    names.reserve(SAMPLES_FOLDER);
    for k in Kind::ALL {
        names.reserve(kind_index(k));
    }
}

/// The context of `Home.md`.
#[derive(Serialize)]
pub struct Home<'a> {
    frontmatter: String,
    domains: Vec<HomeDomain<'a>>,
    kinds: Vec<KindCount>,
    revoked: usize,
    rules: usize,
    tests: usize,
    rules_index: String,
    tests_index: String,
    samples: usize,
    samples_index: String,
    stubs: usize,
    link_report: String,
}

/// A domain on the home note: its matrices, tactics and coverage.
#[derive(Serialize)]
struct HomeDomain<'a> {
    domain: &'a str,
    /// The ATT&CK release its bundle names (`18.1`).
    release: Option<&'a str>,
    matrices: Vec<ObjLink>,
    tactics: Vec<ObjLink>,
    coverage: Option<String>,
    layer: Option<String>,
}

#[derive(Serialize)]
struct KindCount {
    kind: &'static str,
    count: usize,
    index: String,
}

/// The context of `Home.md`. `paths` are the notes rendered so far, to link
/// the Coverage notes and layers that exist.
pub fn home<'a>(ix: &Index<'a>, model: &Model, paths: &[&str]) -> Home<'a> {
    let kb = ix.kb;
    let counts = kb.counts();
    let domains = kb
        .domains
        .iter()
        .map(|d| {
            let matrices: Vec<ObjId> = kb
                .included_of(Kind::Matrix)
                .into_iter()
                .filter(|&m| kb.get(m).domains.contains(d))
                .collect();
            let tactics = matrices
                .iter()
                .flat_map(|&m| kb.matrix_tactics(m))
                .filter_map(|t| ix.link(t))
                .collect();
            let coverage = format!("Coverage {d}");
            let layer = format!("{LAYERS_FOLDER}/{d}-coverage.json");
            HomeDomain {
                domain: d,
                release: kb.releases.get(d).map(String::as_str),
                matrices: ix.links(matrices),
                tactics,
                coverage: paths
                    .contains(&format!("{coverage}.md").as_str())
                    .then(|| wikilink(&coverage, None)),
                layer: paths.contains(&layer.as_str()).then_some(layer),
            }
        })
        .collect();
    let kinds = Kind::ALL
        .iter()
        .filter_map(|k| {
            Some(KindCount {
                kind: k.label(),
                count: *counts.get(k)?,
                index: wikilink(kind_index(*k), None),
            })
        })
        .collect();
    let revoked = (0..kb.objects.len())
        .filter(|&i| kb.is_redirect(i) && ix.stem(i).is_some())
        .count();
    let mut fm = Frontmatter::new();
    fm.text("name", "Home")
        .text("type", "home")
        .list("tags", [ix.tags.plain("home")])
        .list("domains", kb.domains.clone());
    Home {
        frontmatter: fm.render(),
        domains,
        kinds,
        revoked,
        rules: model.rules.len(),
        tests: model.tests.len(),
        rules_index: wikilink(RULES_INDEX, None),
        tests_index: wikilink(TESTS_INDEX, None),
        samples: model.validation.as_ref().map_or(0, |v| v.files.len()),
        samples_index: wikilink(SAMPLES_FOLDER, None),
        stubs: model.links.missing_techniques.len() + model.links.deprecated_techniques.len(),
        link_report: wikilink(LINK_REPORT_STEM, None),
    }
}

/// The context of an index note: a title, a line of what it holds, and
/// sections of rows.
#[derive(Serialize)]
pub struct IndexNote {
    frontmatter: String,
    title: String,
    intro: String,
    home: String,
    sections: Vec<Section>,
}

/// A section: a heading, column names, and rows of ready-made cells.
#[derive(Serialize)]
struct Section {
    heading: String,
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn index_ctx(ix: &Index, title: &str, intro: String, sections: Vec<Section>) -> IndexNote {
    let mut fm = Frontmatter::new();
    fm.text("name", title)
        .text("type", "index")
        .list("tags", [ix.tags.plain("index")]);
    IndexNote {
        frontmatter: fm.render(),
        title: title.to_string(),
        intro,
        home: wikilink(HOME_STEM, None),
        sections,
    }
}

fn section(heading: &str, columns: &[&str], rows: Vec<Vec<String>>) -> Section {
    Section {
        heading: heading.to_string(),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

/// The index note of an ATT&CK kind: its objects per domain, by ID (with
/// their sub-technique, technique or use counts where those say something).
pub fn kind_index_ctx(ix: &Index, kind: Kind) -> Option<IndexNote> {
    let kb = ix.kb;
    let all = kb.included_of(kind);
    if all.is_empty() {
        return None;
    }
    if kind == Kind::Analytic {
        return Some(analytics_index_ctx(ix, &all));
    }
    let mut sections = Vec::new();
    for d in &kb.domains {
        let mut ids: Vec<ObjId> = all
            .iter()
            .copied()
            .filter(|&i| kb.get(i).domains.contains(d))
            .filter(|&i| kind != Kind::Technique || !kb.get(i).is_subtechnique())
            .collect();
        if ids.is_empty() {
            continue;
        }
        kb.sort_by_id(&mut ids);
        let (columns, extra): (&[&str], Box<dyn Fn(ObjId) -> String>) = match kind {
            Kind::Technique => (
                &["ID", "Name", "Sub-techniques"],
                Box::new(|t| kb.subtechniques_of(t).len().to_string()),
            ),
            Kind::Tactic => (
                &["ID", "Name", "Techniques"],
                Box::new(|t| kb.techniques_in_tactic(t).len().to_string()),
            ),
            Kind::Group | Kind::Software | Kind::Campaign => (
                &["ID", "Name", "Techniques"],
                Box::new(|a| {
                    kb.outgoing(a, &crate::model::kb::RelKind::Uses)
                        .filter(|(_, t)| kb.get(*t).kind == Kind::Technique)
                        .count()
                        .to_string()
                }),
            ),
            _ => (&["ID", "Name"], Box::new(|_| String::new())),
        };
        let rows: Vec<Vec<String>> = ids
            .into_iter()
            .filter_map(|i| {
                let l = ix.link(i)?;
                let name = super::escape::inline(&l.name);
                let mut row = vec![table_cell(&l.id_link), table_cell(&name)];
                if columns.len() > 2 {
                    row.push(extra(i));
                }
                Some(row)
            })
            .collect();
        sections.push(section(d, columns, rows));
    }
    let n = all.iter().filter(|&&i| kb.get(i).stub.is_none()).count();
    let intro = format!("{n} {} notes in `{}/`.", kind.label(), kind.folder());
    Some(index_ctx(ix, kind_index(kind), intro, sections))
}

/// Analytics are many (two thousand in Enterprise) and each belongs to a
/// detection strategy, whose note lists them: their index counts them by
/// platform and points there, instead of listing them all again.
fn analytics_index_ctx(ix: &Index, all: &[ObjId]) -> IndexNote {
    let kb = ix.kb;
    let mut by_platform: BTreeMap<&str, usize> = BTreeMap::new();
    for &a in all {
        for p in &kb.get(a).stix.x_mitre_platforms {
            *by_platform.entry(p).or_default() += 1;
        }
    }
    let rows = by_platform
        .into_iter()
        .map(|(p, n)| vec![super::text::table_cell(p), n.to_string()])
        .collect();
    let intro = format!(
        "{} analytics, each listed on its detection strategy's note (see {}).",
        all.len(),
        wikilink(kind_index(Kind::DetectionStrategy), None)
    );
    index_ctx(
        ix,
        kind_index(Kind::Analytic),
        intro,
        vec![section("By platform", &["Platform", "Analytics"], rows)],
    )
}

/// Rules counted by level (critical, high, medium, low, informational,
/// other).
type LevelCounts = [usize; 6];

/// The header of a table of [`LevelCounts`] under `first`.
fn level_columns(first: &str) -> Vec<&str> {
    vec![
        first,
        "critical",
        "high",
        "medium",
        "low",
        "informational",
        "other",
    ]
}

/// A row: its label, then its counts.
fn count_row(label: String, c: &LevelCounts) -> Vec<String> {
    std::iter::once(label)
        .chain(c.iter().map(|n| n.to_string()))
        .collect()
}

/// Rules by tactic (in matrix order; `None` for those with no tactic tag)
/// and by log source product, each by level.
struct RuleCounts {
    by_tactic: BTreeMap<(usize, ObjId), LevelCounts>,
    untagged: LevelCounts,
    by_product: BTreeMap<String, LevelCounts>,
}

impl RuleCounts {
    fn new(ix: &Index, model: &Model) -> Self {
        let kb = ix.kb;
        let order: BTreeMap<ObjId, usize> = kb
            .included_of(Kind::Matrix)
            .into_iter()
            .flat_map(|m| kb.matrix_tactics(m))
            .enumerate()
            .map(|(n, t)| (t, n))
            .collect();
        let mut c = RuleCounts {
            by_tactic: BTreeMap::new(),
            untagged: LevelCounts::default(),
            by_product: BTreeMap::new(),
        };
        for (r, rule) in model.rules.iter().enumerate() {
            let col = Level::rank(rule.level);
            let tactics = &model.links.rule_links[r].tactics;
            for &t in tactics {
                let key = (order.get(&t).copied().unwrap_or(usize::MAX), t);
                c.by_tactic.entry(key).or_default()[col] += 1;
            }
            if tactics.is_empty() {
                c.untagged[col] += 1;
            }
            let product = rule
                .logsource
                .product
                .clone()
                .unwrap_or_else(|| "(none)".into());
            c.by_product.entry(product).or_default()[col] += 1;
        }
        c
    }

    fn tactic_rows(&self, ix: &Index) -> Vec<Vec<String>> {
        let mut rows: Vec<Vec<String>> = self
            .by_tactic
            .iter()
            .filter_map(|(&(_, t), c)| {
                let l = ix.link(t)?;
                let label = format!(
                    "{} ({})",
                    table_cell(&l.link),
                    ix.kb.get(t).domains.join(", ")
                );
                Some(count_row(label, c))
            })
            .collect();
        if self.untagged.iter().any(|&n| n > 0) {
            rows.push(count_row("no tactic tag".to_string(), &self.untagged));
        }
        rows
    }

    fn product_rows(&self) -> Vec<Vec<String>> {
        self.by_product
            .iter()
            .map(|(p, c)| count_row(super::text::table_cell(p), c))
            .collect()
    }
}

/// The rules index: counts by tactic and level (each tactic linking its
/// note, which lists the rules), and by log source product.
pub fn rules_index_ctx(ix: &Index, det: &Detections, model: &Model) -> IndexNote {
    let counts = RuleCounts::new(ix, model);
    // Rules naming no technique or tactic are linked from no ATT&CK note.
    let unplaced: Vec<Vec<String>> = (0..model.rules.len())
        .filter(|&r| {
            let l = &model.links.rule_links[r];
            l.techniques.is_empty() && l.tactics.is_empty()
        })
        .map(|r| {
            let rule = &model.rules[r];
            vec![
                super::text::table_cell(&det.rule_link(r)),
                rule.level.map(|w| w.to_string()).unwrap_or_default(),
                super::text::table_cell(rule.logsource.product.as_deref().unwrap_or_default()),
            ]
        })
        .collect();
    let intro = format!(
        "{} Sigma rules in `{RULES_FOLDER}/`. A rule with several tactics counts under each; each tactic's note lists its rules.",
        model.rules.len()
    );
    index_ctx(
        ix,
        RULES_INDEX,
        intro,
        vec![
            section(
                "By tactic and level",
                &level_columns("Tactic"),
                counts.tactic_rows(ix),
            ),
            section(
                "By log source product and level",
                &level_columns("Log source product"),
                counts.product_rows(),
            ),
            section(
                "Rules with no ATT&CK technique or tactic",
                &["Rule", "Level", "Product"],
                unplaced,
            ),
        ],
    )
}

/// The atomics index: tests per technique (linking the technique, whose
/// note lists them), per platform and per executor.
pub fn tests_index_ctx(ix: &Index, model: &Model) -> IndexNote {
    let kb = ix.kb;
    let mut by_tech: BTreeMap<Vec<(String, u64)>, (String, usize)> = BTreeMap::new();
    let mut by_platform: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_executor: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &model.tests {
        let key = crate::model::kb::id_sort_key(&t.technique);
        let link = kb
            .by_attack_id(&t.technique)
            .and_then(|o| ix.link(o))
            .map(|l| format!("{} {}", table_cell(&l.id_link), table_cell(&l.link)))
            .unwrap_or_else(|| t.technique.clone());
        by_tech.entry(key).or_insert((link, 0)).1 += 1;
        for p in &t.platforms {
            *by_platform.entry(p).or_default() += 1;
        }
        *by_executor.entry(&t.executor).or_default() += 1;
    }
    let pairs = |m: BTreeMap<&str, usize>| -> Vec<Vec<String>> {
        m.into_iter()
            .map(|(k, n)| vec![super::text::table_cell(k), n.to_string()])
            .collect()
    };
    let intro = format!(
        "{} atomic tests in `{TESTS_FOLDER}/`; each technique's note lists its tests.",
        model.tests.len()
    );
    index_ctx(
        ix,
        TESTS_INDEX,
        intro,
        vec![
            section("By platform", &["Platform", "Tests"], pairs(by_platform)),
            section("By executor", &["Executor", "Tests"], pairs(by_executor)),
            section(
                "By technique",
                &["Technique", "Tests"],
                by_tech
                    .into_values()
                    .map(|(l, n)| vec![l, n.to_string()])
                    .collect(),
            ),
        ],
    )
}

/// The sample events index: every event file, by folder, with its events
/// and detections (the Coverage notes name only the files that matched).
pub fn samples_index_ctx(ix: &Index, model: &Model, stems: &[String]) -> Option<IndexNote> {
    let v = model.validation.as_ref()?;
    let mut by_folder: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for (f, stem) in v.files.iter().zip(stems) {
        let folder = f.folder();
        let detections: u64 = f.rules.values().sum();
        by_folder.entry(folder).or_default().push(vec![
            super::text::table_cell(&wikilink(stem, None)),
            f.events.to_string(),
            detections.to_string(),
        ]);
    }
    let sections = by_folder
        .into_iter()
        .map(|(folder, rows)| section(&folder, &["File", "Events", "Detections"], rows))
        .collect();
    let intro = format!(
        "{}, {}, {}.",
        counted(v.files.len() as u64, "event file", "event files"),
        counted(v.events, "event", "events"),
        counted(v.detections, "detection", "detections")
    );
    Some(index_ctx(ix, SAMPLES_FOLDER, intro, sections))
}
