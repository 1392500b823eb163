//! ATT&CK builds on the real bundles in the shared data folder. Expected
//! figures are computed here from the raw JSON, independently of the crate's
//! model. Skipped (with a message) when the data is absent.

use crate::common;
use common::{active, attack_id, objects};

use attack_vault::build::BuildConfig;
use attack_vault::vault::check::check_vault;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

fn count_md(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
                .count()
        })
        .unwrap_or(0)
}

/// (folder, STIX types) of each kind of note.
const KINDS: &[(&str, &[&str])] = &[
    ("Techniques", &["attack-pattern"]),
    ("Tactics", &["x-mitre-tactic"]),
    ("Groups", &["intrusion-set"]),
    ("Software", &["malware", "tool"]),
    ("Campaigns", &["campaign"]),
    ("Mitigations", &["course-of-action"]),
    ("Data Components", &["x-mitre-data-component"]),
    ("Detection Strategies", &["x-mitre-detection-strategy"]),
    ("Analytics", &["x-mitre-analytic"]),
    ("Assets", &["x-mitre-asset"]),
];

fn assert_counts(bundles: &[PathBuf], vault: &Path) {
    let mut by_id: HashMap<String, Value> = HashMap::new();
    for b in bundles {
        for o in objects(b) {
            by_id.insert(o["id"].as_str().unwrap().to_string(), o);
        }
    }
    for (folder, types) in KINDS {
        let of_kind: Vec<&Value> = by_id
            .values()
            .filter(|o| types.contains(&o["type"].as_str().unwrap()))
            .collect();
        let active_n = of_kind.iter().filter(|o| active(o)).count();
        let revoked_n = of_kind
            .iter()
            .filter(|o| o["revoked"].as_bool().unwrap_or(false))
            .count();
        assert_eq!(
            count_md(&vault.join(folder)),
            active_n + revoked_n,
            "{folder}: {active_n} active notes + {revoked_n} redirect notes"
        );
        let redirects = std::fs::read_dir(vault.join(folder))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| {
                        std::fs::read_to_string(e.path())
                            .unwrap()
                            .contains("\nrevoked: true\n")
                    })
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(redirects, revoked_n, "{folder}: redirect notes");
    }
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn enterprise_v18_counts_links_and_t1059_006() {
    let bundle = data_or_skip!("attack/v18.1/enterprise-attack.json");
    let (dir, diags, summary) = common::build_into(BuildConfig {
        attack: vec![bundle.clone()],
        ..Default::default()
    });
    let vault = dir.path().join("vault");
    assert_eq!(diags.count(sigma_engine::diag::Severity::Error), 0);
    assert_counts(std::slice::from_ref(&bundle), &vault);
    eprintln!(
        "enterprise v18.1: {} notes, {:?}",
        summary.notes, summary.per_kind
    );

    let report = check_vault(&vault);
    assert!(report.is_clean(), "{}", common::describe(&report));
    eprintln!(
        "{} notes, {} wikilinks, all resolve",
        report.notes, report.links
    );

    // T1059.006, against the raw bundle.
    let objs = objects(&bundle);
    let by_id: HashMap<&str, &Value> = objs
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o))
        .collect();
    let tech = objs
        .iter()
        .find(|o| attack_id(o).as_deref() == Some("T1059.006"))
        .unwrap();
    let tid = tech["id"].as_str().unwrap();
    let rels: Vec<&Value> = objs
        .iter()
        .filter(|o| o["type"] == "relationship" && active(o) && o["target_ref"] == tid)
        .filter(|o| {
            by_id
                .get(o["source_ref"].as_str().unwrap())
                .is_some_and(|s| active(s))
        })
        .collect();
    let mitigations: HashSet<String> = rels
        .iter()
        .filter(|r| r["relationship_type"] == "mitigates")
        .map(|r| attack_id(by_id[r["source_ref"].as_str().unwrap()]).unwrap())
        .collect();
    let users: HashSet<String> = rels
        .iter()
        .filter(|r| r["relationship_type"] == "uses")
        .map(|r| attack_id(by_id[r["source_ref"].as_str().unwrap()]).unwrap())
        .collect();
    let strategy = rels
        .iter()
        .find(|r| r["relationship_type"] == "detects")
        .map(|r| by_id[r["source_ref"].as_str().unwrap()])
        .unwrap();
    let analytics: Vec<String> = strategy["x_mitre_analytic_refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| attack_id(by_id[a.as_str().unwrap()]).unwrap())
        .collect();
    assert_eq!(
        (mitigations.len(), users.len(), analytics.len()),
        (4, 55, 4),
        "the bundle's own figures"
    );

    let note = common::note_by_id(&vault, "Techniques", "T1059.006");
    assert!(note.contains("tactics:\n  - \"Execution\"\n"));
    assert!(note.contains("parent: \"[[T1059 Command and Scripting Interpreter]]\""));
    for p in tech["x_mitre_platforms"].as_array().unwrap() {
        assert!(note.contains(&format!("  - {p}\n")), "platform {p}");
    }
    let proc_rows = common::table_rows(common::section(&note, "Procedure Examples"));
    assert_eq!(proc_rows.len(), users.len());
    for u in &users {
        assert!(
            proc_rows.iter().any(|r| r.contains(&format!("\\|{u}]]"))),
            "procedure {u}"
        );
    }
    let mit_rows = common::table_rows(common::section(&note, "Mitigations"));
    assert_eq!(mit_rows.len(), mitigations.len());
    let detection = common::section(&note, "Detection");
    let sid = attack_id(strategy).unwrap();
    assert!(detection.contains(&format!("### {sid} ")), "strategy {sid}");
    for a in &analytics {
        assert!(detection.contains(&format!("\\|{a}]]")), "analytic {a}");
    }

    // 14 strategies name their platform: "(IaaS)" is not said twice.
    let said_twice: Vec<String> = std::fs::read_dir(vault.join("Analytics"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            let stem = n.trim_end_matches(".md");
            let Some(open) = stem.rfind(" (") else {
                return false;
            };
            stem[..open].ends_with(&stem[open + 1..])
        })
        .collect();
    assert!(said_twice.is_empty(), "{said_twice:?}");
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn all_three_domains_in_one_vault() {
    let base = data_or_skip!("attack/v18.1");
    let bundles: Vec<PathBuf> = [
        "enterprise-attack.json",
        "mobile-attack.json",
        "ics-attack.json",
    ]
    .iter()
    .map(|f| base.join(f))
    .collect();
    let (dir, _, summary) = common::build_into(BuildConfig {
        attack: bundles.clone(),
        ..Default::default()
    });
    let vault = dir.path().join("vault");
    assert_counts(&bundles, &vault);
    assert_eq!(count_md(&vault.join("Matrices")), 3);
    common::assert_labels_say_something(&vault);
    let report = check_vault(&vault);
    assert!(report.is_clean(), "{}", common::describe(&report));
    eprintln!(
        "three domains: {} notes, {} wikilinks",
        summary.notes, report.links
    );
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn enterprise_v17_shows_detection_text_and_data_sources() {
    let bundle = data_or_skip!("attack/v17.1/enterprise-attack.json");
    let (dir, _, _) = common::build_into(BuildConfig {
        attack: vec![bundle.clone()],
        ..Default::default()
    });
    let vault = dir.path().join("vault");
    let objs = objects(&bundle);
    let n_sources = objs
        .iter()
        .filter(|o| o["type"] == "x-mitre-data-source" && active(o))
        .count();
    assert_eq!(count_md(&vault.join("Data Sources")), n_sources);
    let tech = objs
        .iter()
        .find(|o| attack_id(o).as_deref() == Some("T1059.006"))
        .unwrap();
    let note = common::note_by_id(&vault, "Techniques", "T1059.006");
    let detection = common::section(&note, "Detection");
    let first_sentence = tech["x_mitre_detection"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap();
    assert!(detection.contains(first_sentence));
    for ds in tech["x_mitre_data_sources"].as_array().unwrap() {
        let comp = ds.as_str().unwrap().split(':').nth(1).unwrap().trim();
        assert!(
            detection.contains(&format!("|{comp}]]")),
            "data source {ds}"
        );
    }
    let report = check_vault(&vault);
    assert!(report.is_clean(), "{}", common::describe(&report));
}

/// `--tag TA0002` meets rules through the crate's table of tactic IDs: every
/// tactic of the real bundles, in each domain, has its ID there, and a
/// search by that ID meets rules tagged with the bundle's short name (TA0005
/// is listed by its v19 name, `stealth`, and meets v18.1's `defense-evasion`).
#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn every_real_tactic_is_known_by_its_id() {
    let base = data_or_skip!("attack/v18.1");
    let mut seen = 0;
    for domain in ["enterprise", "mobile", "ics"] {
        for o in objects(&base.join(format!("{domain}-attack.json"))) {
            if o["type"] != "x-mitre-tactic" {
                continue;
            }
            let id = attack_id(&o).unwrap();
            let short = o["x_mitre_shortname"].as_str().unwrap();
            let search = attack_vault::tags::parse_wanted_tag(&id).unwrap();
            let rule = attack_vault::tags::parse_tag(&format!("attack.{short}"));
            assert!(search.covers(&rule), "{id} {short}");
            assert!(attack_vault::tags::tactic_of_id(&id).is_some(), "{id}");
            seen += 1;
        }
    }
    assert_eq!(seen, 40);
}
