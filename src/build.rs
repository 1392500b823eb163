//! The `build` pipeline: sources → model → vault on disk.

use crate::attack;
use crate::model::LeftOut;
use crate::model::Model;
use crate::model::kb::{Kb, KbOptions, Kind};
use crate::output::{Folder, VaultWriter, WriteOptions, WriteReport};
use crate::vault::{self, RenderOptions};
use sigma_engine::diag::{Diagnostic, Diagnostics};
use sigma_engine::sigma::SigmaRule;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Everything `build` needs to know.
#[derive(Debug, Clone)]
pub struct BuildConfig {
    /// ATT&CK STIX bundles; empty means the embedded demo bundle.
    pub attack: Vec<PathBuf>,
    /// Sigma rule files or folders.
    pub sigma: Vec<PathBuf>,
    /// An Atomic Red Team `atomics/` folder.
    pub atomics: Option<PathBuf>,
    /// Sample event files or folders to run the rules over.
    pub events: Vec<PathBuf>,
    /// Logsource mapping for the matcher (default: the built-in one).
    pub mapping: Option<PathBuf>,
    pub out: PathBuf,
    pub include_deprecated: bool,
    /// Only these ATT&CK domains (`enterprise-attack`, ...); empty: all read.
    pub domains: Vec<String>,
    /// Only rules of these levels (`critical`, `high`, ...); empty: all.
    pub levels: Vec<sigma_engine::sigma::vocab::Level>,
    pub render: RenderOptions,
    pub write: WriteOptions,
    /// Show a progress spinner on stderr (hidden anyway when not a terminal).
    pub progress: bool,
}

impl Default for BuildConfig {
    fn default() -> Self {
        Self {
            attack: Vec::new(),
            sigma: Vec::new(),
            atomics: None,
            events: Vec::new(),
            mapping: None,
            out: PathBuf::from("vault"),
            include_deprecated: false,
            domains: Vec::new(),
            levels: Vec::new(),
            render: RenderOptions::default(),
            write: WriteOptions::default(),
            progress: false,
        }
    }
}

/// An input inside the output folder would be read back from the tool's own
/// output (a Navigator layer taken for an event, a note for a rule): refused.
fn refuse_inputs_inside_output(cfg: &BuildConfig) -> Result<(), Diagnostic> {
    use crate::paths::{Relation, relation};
    let inputs = cfg
        .attack
        .iter()
        .chain(&cfg.sigma)
        .chain(&cfg.atomics)
        .chain(&cfg.events)
        .chain(&cfg.mapping)
        .chain(&cfg.render.templates);
    for p in inputs {
        if matches!(relation(p, &cfg.out), Relation::Same | Relation::Inside) {
            return Err(Diagnostic::error(
                "build",
                format!(
                    "this input lies inside the output folder {}: the build would read its own output; move it or choose another --out",
                    cfg.out.display()
                ),
            )
            .in_file(p));
        }
    }
    Ok(())
}

/// The sample events of a build.
#[derive(Debug, Clone, Copy)]
pub struct EventsSummary {
    pub events: u64,
    /// Records in the event files that could not be read (each reported).
    pub lost: u64,
    pub detections: u64,
    /// Events no loaded rule's logsource selects.
    pub unserved: sigma_engine::matcher::Unserved,
    /// Time the matcher took.
    pub elapsed: Duration,
}

/// What a build produced.
#[derive(Debug, Clone, Default)]
pub struct BuildSummary {
    pub notes: usize,
    pub per_kind: BTreeMap<Kind, usize>,
    pub rules: usize,
    pub tests: usize,
    /// Technique IDs named by rules or tests but absent from the ATT&CK data.
    pub missing_techniques: Vec<String>,
    /// What `--domains` and `--levels` left out: bundles (by domain and
    /// source) and how many rules.
    pub left_out: LeftOut,
    /// What the matcher did, when events were given.
    pub events: Option<EventsSummary>,
    pub write: WriteReport,
    pub elapsed: Duration,
}

/// Load every source into the linked model.
pub fn load_model(cfg: &BuildConfig, diags: &Diagnostics) -> Result<Model, Diagnostic> {
    let mut left_out = LeftOut::default();
    let bundles = load_bundles(cfg, &mut left_out, diags)?;
    let kb = Kb::build(
        bundles,
        KbOptions {
            include_deprecated: cfg.include_deprecated,
        },
        diags,
    );
    let demo = is_demo(cfg);
    let (mut rules, tests) = load_detections(cfg, demo, &mut left_out, diags);
    if !cfg.levels.is_empty() {
        let before = rules.len();
        rules.retain(|r| r.level.is_some_and(|l| cfg.levels.contains(&l)));
        left_out.rules = before - rules.len();
    }
    let mut model = Model::new(kb, rules, tests);
    model.left_out = left_out;
    // The demo dataset's own rules and tests are the slice's: only one's
    // own, linked to it, can miss what it lacks.
    model.demo_attack = cfg.attack.is_empty() && !is_demo(cfg);
    model.roots = cfg
        .sigma
        .iter()
        .chain(&cfg.atomics)
        .chain(&cfg.events)
        .cloned()
        .collect();
    if !cfg.events.is_empty() || demo {
        let mapping = sigma_engine::matcher::mapping::Mapping::load(cfg.mapping.as_deref(), &[])?;
        let embedded: &[(&str, &str)] = if demo { crate::demo::EVENTS } else { &[] };
        model.validation = Some(crate::validate::run(
            &model.rules,
            &cfg.events,
            embedded,
            &mapping,
            diags,
        ));
    }
    Ok(model)
}

/// The ATT&CK bundles (the embedded one without `--attack`), read in
/// parallel, those of other domains than `--domains` left out.
fn load_bundles(
    cfg: &BuildConfig,
    left_out: &mut LeftOut,
    diags: &Diagnostics,
) -> Result<Vec<attack::Bundle>, Diagnostic> {
    use rayon::prelude::*;
    let mut bundles = Vec::new();
    if cfg.attack.is_empty() {
        bundles.push(attack::parse_bundle(
            crate::demo::ATTACK_SOURCE,
            crate::demo::ATTACK_BUNDLE,
            diags,
        )?);
    }
    let read: Vec<_> = cfg
        .attack
        .par_iter()
        .map(|p| attack::read_bundle_file(p, diags))
        .collect();
    for r in read {
        match r {
            Ok(b) => bundles.push(b),
            Err(e) => diags.push(e),
        }
    }
    if !cfg.domains.is_empty() {
        bundles.retain(|b| {
            let keep = cfg.domains.contains(&b.domain);
            if !keep {
                left_out.bundles.push(crate::model::LeftBundle {
                    domain: b.domain.clone(),
                    source: b.source.clone(),
                });
            }
            keep
        });
    }
    if !bundles.is_empty() {
        return Ok(attack::one_release_per_domain(bundles, diags));
    }
    Err(Diagnostic::error(
        "attack",
        if left_out.bundles.is_empty() {
            "no ATT&CK bundle could be read".to_string()
        } else {
            format!(
                "no ATT&CK bundle of the domains asked for ({})",
                cfg.domains.join(", ")
            )
        },
    ))
}

/// The Sigma rules and atomic tests: the embedded demo ones, then those
/// under `--sigma` and `--atomics`.
fn load_detections(
    cfg: &BuildConfig,
    demo: bool,
    left_out: &mut LeftOut,
    diags: &Diagnostics,
) -> (Vec<SigmaRule>, Vec<crate::atomics::AtomicTest>) {
    let mut rules = Vec::new();
    let mut tests = Vec::new();
    if demo {
        for (name, text) in crate::demo::SIGMA_RULES {
            rules.extend(
                sigma_engine::sigma::parse_rules(std::path::Path::new(name), text, diags).0,
            );
        }
        for (name, text) in crate::demo::ATOMICS {
            tests.extend(crate::atomics::parse_file(
                std::path::Path::new(name),
                text,
                diags,
            ));
        }
    }
    if !cfg.sigma.is_empty() {
        rules.extend(load_sigma(cfg, left_out, diags));
    }
    if let Some(dir) = &cfg.atomics {
        tests.extend(crate::atomics::load(dir, diags));
    }
    (rules, tests)
}

/// The rules under `--sigma`. Deprecated and unsupported ones are left
/// out, as `match` leaves them out, before they are read (unless
/// `--include-deprecated`): they would count as coverage and fire beside the
/// rules that replaced them, and SigmaHQ's unsupported ones use a syntax
/// Sigma dropped.
fn load_sigma(cfg: &BuildConfig, left_out: &mut LeftOut, diags: &Diagnostics) -> Vec<SigmaRule> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let retired = AtomicUsize::new(0);
    let document = |d: &sigma_engine::yaml::Node| {
        let gone = !cfg.include_deprecated
            && sigma_engine::sigma::document_status(d).is_some_and(|s| s.is_retired());
        if gone {
            retired.fetch_add(1, Ordering::Relaxed);
        }
        !gone
    };
    let wanted = sigma_engine::sigma::Wanted {
        file: &|_| true,
        document: &document,
        rule: &|_| true,
    };
    let rules = sigma_engine::sigma::load_where(&cfg.sigma, diags, &wanted).rules;
    left_out.retired = retired.into_inner();
    rules
}

/// Why the loaded ATT&CK data lacks what rules and tests name.
#[derive(Debug)]
enum Lacking {
    /// The embedded demo slice stands in for ATT&CK.
    Demo,
    /// Only these other domains are loaded.
    Enterprise(String),
    /// A release older than the rules and tests.
    Release,
}

impl Lacking {
    fn of(model: &Model) -> Lacking {
        if model.demo_attack {
            Lacking::Demo
        } else if !model.attack.has_enterprise() {
            Lacking::Enterprise(model.attack.domains.join(", "))
        } else {
            Lacking::Release
        }
    }

    /// What the rules and tests name beyond the loaded data, said as
    /// `3 technique ID(s) (T1, …) and tactic tag(s) (attack.x)`; None
    /// when nothing.
    fn named(&self, links: &crate::model::links::Links) -> Option<String> {
        let ids: Vec<&String> = match self {
            Lacking::Release => links.newer_techniques.iter().collect(),
            _ => links.missing_techniques.keys().collect(),
        };
        let tactics: Vec<String> = links
            .unknown_tactics
            .keys()
            .map(|t| format!("attack.{t}"))
            .collect();
        let (above, lacks) = match self {
            Lacking::Release => (" above it", " it lacks"),
            _ => ("", ""),
        };
        let mut named = Vec::new();
        if !ids.is_empty() {
            let first = sigma_engine::diag::first_of(&ids, 12);
            named.push(format!("{} technique ID(s){above} ({first})", ids.len()));
        }
        if !tactics.is_empty() {
            named.push(format!("tactic tag(s){lacks} ({})", tactics.join(", ")));
        }
        (!named.is_empty()).then(|| named.join(" and "))
    }

    /// What happened, and what to build with instead.
    fn advice(&self, model: &Model, named: &str) -> (String, String) {
        let links = &model.links;
        let release = links
            .release_to_build_with()
            .map(|v| format!("ATT&CK {v} or later"));
        match self {
            Lacking::Demo => (
                format!(
                    "no --attack given: the rules and tests are linked to the embedded demo slice of ATT&CK, which lacks {named} they name"
                ),
                release.unwrap_or_else(|| "ATT&CK".to_string()),
            ),
            Lacking::Enterprise(domains) => (
                format!(
                    "the ATT&CK data loaded holds {domains} but not Enterprise ATT&CK, whose techniques and tactics the rules and tests name: {named}"
                ),
                if (model.left_out.bundles.iter()).any(|b| b.domain == crate::model::kb::ENTERPRISE)
                {
                    "enterprise-attack in --domains as well".to_string()
                } else {
                    "Enterprise ATT&CK as well".to_string()
                },
            ),
            Lacking::Release => {
                let highest = links
                    .highest_technique
                    .map_or("none".to_string(), |h| format!("T{h}"));
                (
                    format!(
                        "the rules and tests follow a later ATT&CK release than the one loaded (highest technique {highest}): they name {named}"
                    ),
                    release.unwrap_or_else(|| "the ATT&CK release that defines them".to_string()),
                )
            }
        }
    }
}

/// Rules and tests that name techniques or tactics the loaded ATT&CK data
/// lacks: said once, with what to do. Without `--attack` they are linked
/// to the embedded demo slice, which lacks them; without the Enterprise
/// bundle (an ICS or Mobile vault) they name another domain; else they
/// follow a later release than the one loaded.
fn warn_beyond_attack(model: &Model, diags: &Diagnostics) {
    let lacking = Lacking::of(model);
    let Some(named) = lacking.named(&model.links) else {
        return;
    };
    let (what, release) = lacking.advice(model, &named);
    diags.push(Diagnostic::warning(
        "attack",
        format!(
            "{what}; stub notes gather them (see \"Link report\"); build with {release} (--attack, or `attack-vault fetch` then `build --from-cache`) to link them to real techniques and tactics"
        ),
    ));
}

/// A build with no input at all uses the whole embedded demo dataset.
fn is_demo(cfg: &BuildConfig) -> bool {
    cfg.attack.is_empty() && cfg.sigma.is_empty() && cfg.atomics.is_none() && cfg.events.is_empty()
}

/// Run a whole build.
pub fn build(cfg: &BuildConfig, diags: &Diagnostics) -> Result<BuildSummary, Diagnostic> {
    let start = Instant::now();
    refuse_inputs_inside_output(cfg)?;
    let pb = crate::progress::spinner(cfg.progress, "{spinner} {elapsed} {msg}");
    pb.set_message("reading sources");
    let model = load_model(cfg, diags)?;
    warn_beyond_attack(&model, diags);
    pb.set_message("rendering notes");
    let notes = vault::render(&model, &cfg.render, diags)?;
    pb.set_message(format!("writing {} notes", notes.len()));
    // Opened once everything is rendered, so that a failed build leaves a
    // folder that did not exist uncreated; a second writer waits here.
    let writer = VaultWriter::open(&cfg.out, Folder::Vault, cfg.write, diags)?;
    let facts = vault::history::BuildFacts {
        attack: model.attack.newest_by_domain(),
        releases: model.attack.releases.clone(),
        superseded: crate::model::links::superseded_stubs(&model.attack),
        tags: cfg.render.tags.clone(),
    };
    let generated = notes.len();
    let (write, added) = vault::history::write(writer, notes, &facts, &jiff::Timestamp::now())?;
    pb.finish_and_clear();
    Ok(BuildSummary {
        notes: generated + added,
        per_kind: model.attack.counts(),
        rules: model.rules.len(),
        tests: model.tests.len(),
        missing_techniques: model.links.missing_techniques.keys().cloned().collect(),
        left_out: model.left_out.clone(),
        events: model.validation.as_ref().map(|v| EventsSummary {
            events: v.events,
            lost: v.lost,
            detections: v.detections,
            unserved: v.unserved,
            elapsed: v.elapsed,
        }),
        write,
        elapsed: start.elapsed(),
    })
}
