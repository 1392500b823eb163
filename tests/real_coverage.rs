//! Rules meet events: a full build with Enterprise v18.1, all rule trees, all
//! atomics and the sample events. The Coverage note's figures are recomputed
//! here independently (raw rule tags, raw atomics, the rule notes' own
//! "Sample Events" sections) and compared.

use crate::common;

use attack_vault::build::BuildConfig;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use walkdir::WalkDir;

fn tag_technique(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?.to_ascii_uppercase();
    (t.starts_with('T') && t.len() >= 5 && t[1..5].bytes().all(|b| b.is_ascii_digit())).then_some(t)
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn coverage_layer_and_sample_sections() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let sigma: Vec<PathBuf> = common::SIGMA_TREES
        .iter()
        .map(|t| data.join("sigma").join(t))
        .collect();
    let bundle = data.join("attack/v18.1/enterprise-attack.json");
    let (dir, _, summary) = common::build_into(BuildConfig {
        attack: vec![bundle.clone()],
        sigma: sigma.clone(),
        atomics: Some(data.join("atomics/atomics")),
        events: vec![
            data.join("events/evtx-attack-samples"),
            data.join("sigma/regression_data"),
        ],
        ..Default::default()
    });
    let vault = dir.path().join("vault");
    common::assert_labels_say_something(&vault);
    // Sub-techniques the data lacks, named by the atomics' `Parent: Sub`
    // display names, are titled once with their parent, as loaded ones are.
    for e in std::fs::read_dir(vault.join("Techniques")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let title = text.lines().find_map(|l| l.strip_prefix("# ")).unwrap();
        if let Some((parent, own)) = title.split_once(": ") {
            assert!(!own.starts_with(&format!("{parent}: ")), "{title}");
        }
    }
    let e = summary.events.unwrap();
    assert_eq!(e.lost, 0, "every sample record is read");
    eprintln!("{} events, {} detections", e.events, e.detections);

    // The layer fits the Navigator.
    let layer: Value = serde_json::from_str(&common::read(
        &vault,
        "Navigator/enterprise-attack-coverage.json",
    ))
    .unwrap();
    common::assert_valid_layer(&layer);

    // Which rules fired, read from the rule notes; titles → techniques from the raw files.
    let mut fired_titles = BTreeSet::new();
    for e in std::fs::read_dir(vault.join("Detection Rules"))
        .unwrap()
        .filter_map(Result::ok)
    {
        let text = std::fs::read_to_string(e.path()).unwrap();
        assert!(
            text.contains("\n## Sample Events\n"),
            "{}",
            e.path().display()
        );
        if text.contains("\nMatched **") {
            let title = text
                .lines()
                .find_map(|l| l.strip_prefix("title: "))
                .unwrap()
                .trim_matches('"')
                .to_string();
            fired_titles.insert(title);
        }
    }
    let mut rules_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut fired_of: HashMap<String, BTreeSet<String>> = HashMap::new();
    for tree in &sigma {
        for e in WalkDir::new(tree)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "yml"))
        {
            let v = common::yaml(e.path());
            let title = v["title"].as_str().unwrap().to_string();
            let key = format!("{title}\u{0}{}", e.path().display());
            for t in v["tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().and_then(tag_technique))
            {
                rules_of.entry(t.clone()).or_default().insert(key.clone());
                if fired_titles.contains(&title) {
                    fired_of.entry(t).or_default().insert(key.clone());
                }
            }
        }
    }
    let mut tests_of: HashMap<String, usize> = HashMap::new();
    for e in WalkDir::new(data.join("atomics/atomics"))
        .max_depth(2)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_name().to_string_lossy().ends_with(".yaml")
            && e.file_name().to_string_lossy().starts_with('T')
        {
            let v = common::yaml(e.path());
            *tests_of
                .entry(v["attack_technique"].as_str().unwrap().to_string())
                .or_default() += v["atomic_tests"].as_array().unwrap().len();
        }
    }
    // Active techniques of the bundle (and their parent), independently.
    let b: Value = serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let active: Vec<String> = b["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| {
            o["type"] == "attack-pattern"
                && !o["revoked"].as_bool().unwrap_or(false)
                && !o["x_mitre_deprecated"].as_bool().unwrap_or(false)
        })
        .filter_map(|o| {
            o["external_references"][0]["external_id"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &active {
        let scope = |m: &HashMap<String, BTreeSet<String>>| -> BTreeSet<String> {
            m.iter()
                .filter(|(t, _)| {
                    *t == id || (!id.contains('.') && t.starts_with(&format!("{id}.")))
                })
                .flat_map(|(_, v)| v.iter().cloned())
                .collect()
        };
        let rules = scope(&rules_of).len();
        let fired = scope(&fired_of).len();
        let tests: usize = tests_of
            .iter()
            .filter(|(t, _)| *t == id || (!id.contains('.') && t.starts_with(&format!("{id}."))))
            .map(|(_, n)| n)
            .sum();
        let status = if fired > 0 {
            "validated"
        } else if rules > 0 {
            "rules only"
        } else if tests > 0 {
            "tests only"
        } else {
            "none"
        };
        *counts.entry(status).or_default() += 1;
    }
    let note = common::read(&vault, "Coverage enterprise-attack.md");
    for (status, n) in &counts {
        assert!(
            note.contains(&format!(" {status} | {n} |")),
            "Coverage note: {status} = {n}\n{}",
            &note[..note.find("## Matrix").unwrap()]
        );
    }
    eprintln!("coverage: {counts:?}");

    // Every regression case fires its rule; the Coverage note names none.
    assert!(
        !note.contains("[!danger]"),
        "a rule did not fire on its regression case"
    );
    assert!(note.contains("Every rule whose regression case was loaded fired on it."));
    let r = attack_vault::vault::check::check_vault(&vault);
    assert!(r.is_clean(), "{}", common::describe(&r));
}
