//! The matcher against data no one here wrote: every SigmaHQ regression case
//! in the shared data must fire its rule, on the `.evtx` and on the `.json`,
//! with all rule trees loaded; and the unsupported rules are named, not fatal.

mod common;

use attack_vault::diag::Diagnostics;
use attack_vault::matcher::mapping::Mapping;
use attack_vault::matcher::{Engine, EngineOptions, scan};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use walkdir::WalkDir;

#[test]
fn every_regression_case_fires_on_evtx_and_json() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let sigma = data.join("sigma");
    let ds = Diagnostics::new();
    let set = attack_vault::sigma::load(
        &common::SIGMA_TREES
            .iter()
            .map(|t| sigma.join(t))
            .collect::<Vec<_>>(),
        &ds,
    );
    assert_eq!(set.rejected, 0);
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    let mut cases = 0;
    let mut failures = Vec::new();
    for e in WalkDir::new(sigma.join("regression_data"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_name() != "info.yml" {
            continue;
        }
        let info: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        let rule_id = info["rule_metadata"][0]["id"].as_str().unwrap().to_string();
        let dir = e.path().parent().unwrap();
        let files = |ext: &str| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|x| x.ok().map(|x| x.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        };
        let (evtx, json) = (files("evtx"), files("json"));
        if evtx.is_empty() {
            continue; // A case recorded in another format (e.g. raw syslog).
        }
        cases += 1;
        for (kind, f) in [("evtx", evtx), ("json", json)] {
            let fired = Mutex::new(HashSet::new());
            scan(&engine, &f, &ds, |_, dets| {
                let mut g = fired.lock().unwrap();
                for d in dets {
                    g.insert(engine.rules[d.rule].id.clone().unwrap_or_default());
                }
            });
            if !fired.into_inner().unwrap().contains(&rule_id) {
                failures.push(format!("{kind}: {rule_id} in {}", dir.display()));
            }
        }
    }
    eprintln!("{cases} regression cases, {} failures", failures.len());
    assert!(
        cases >= 100,
        "the shared data holds about half of the upstream cases"
    );
    assert!(
        failures.is_empty(),
        "rules that did not fire on their regression case:\n{}",
        failures.join("\n")
    );
}

#[test]
fn unsupported_rules_are_counted_and_named() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let ds = Diagnostics::new();
    let set = attack_vault::sigma::load(&[data.join("sigma/unsupported")], &ds);
    assert!(set.rejected > 0);
    let named: Vec<_> = ds
        .sorted()
        .into_iter()
        .filter(|d| d.message.contains("aggregation"))
        .collect();
    assert!(!named.is_empty());
    assert!(named.iter().all(|d| d.file.is_some() && d.line.is_some()));
    // The rules that did load still run.
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    let stats = scan(
        &engine,
        &[data.join("events/evtx-attack-samples/Execution")],
        &ds,
        |_, _| {},
    );
    assert!(stats.events > 0);
}
