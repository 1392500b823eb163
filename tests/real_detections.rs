//! Sigma rules and Atomic Red Team tests in the vault, on the real shared data.
//! Expected tables are derived here from the raw files (generic YAML, not the
//! crate's rule model) and compared with the rendered notes.

use crate::common;

use attack_vault::build::BuildConfig;
use attack_vault::vault::check::check_vault;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use walkdir::WalkDir;

/// Technique IDs a raw tag names (`attack.t1059.006` → `T1059.006`).
fn tag_technique(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let t = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    let ok = t.len() >= 4 && t[..4].bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("T{}", t.to_ascii_uppercase()))
}

/// The text a Markdown backslash escape stands for (`\#` → `#`).
fn unescape(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let mut chars = md.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(n)) if n.is_ascii_punctuation() => {
                out.push(*n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Display names of the first column of a table under `### heading`.
fn table_names(note: &str, heading: &str) -> BTreeSet<String> {
    let start = note.find(&format!("### {heading}\n")).expect(heading);
    let rest = &note[start..];
    let rest = &rest[heading.len() + 5..];
    let end = rest
        .find("\n### ")
        .or_else(|| rest.find("\n## "))
        .unwrap_or(rest.len());
    rest[..end]
        .lines()
        .filter(|l| l.starts_with("| [["))
        .map(|l| {
            let cell = &l[4..l[4..].find("]]").unwrap() + 4];
            match cell.split_once("\\|") {
                Some((_, alias)) => unescape(alias),
                None => cell.to_string(),
            }
        })
        .collect()
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn full_vault_with_rules_and_atomics() {
    let data = match common::data_dir() {
        Some(d) => d,
        None => return,
    };
    let sigma: Vec<PathBuf> = common::SIGMA_TREES
        .iter()
        .map(|t| data.join("sigma").join(t))
        .collect();
    let atomics = data.join("atomics/atomics");
    let bundle = data.join("attack/v18.1/enterprise-attack.json");
    let (dir, diags, summary) = common::build_into(BuildConfig {
        attack: vec![bundle.clone()],
        sigma: sigma.clone(),
        atomics: Some(atomics.clone()),
        ..Default::default()
    });
    let vault = dir.path().join("vault");
    let errors: Vec<_> = diags
        .sorted()
        .into_iter()
        .filter(|d| d.severity == sigma_engine::diag::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");

    // Tags: one casing each, and few enough to browse (no per-object IDs).
    let tags = crate::obsidian::all_tags(&vault);
    let mut casings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for t in &tags {
        casings.entry(t.to_lowercase()).or_default().insert(t);
    }
    let two: Vec<_> = casings.values().filter(|c| c.len() > 1).take(5).collect();
    assert!(two.is_empty(), "tags in two casings: {two:?}");
    assert!(casings.len() <= 1500, "{} distinct tags", casings.len());
    eprintln!("{} distinct tags", casings.len());

    // Independent reading of the raw files.
    let mut rule_files = 0;
    let mut by_technique: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut with_simulation = 0;
    for tree in &sigma {
        for e in WalkDir::new(tree).into_iter().filter_map(Result::ok) {
            let p = e.path();
            if !(p.extension().is_some_and(|x| x == "yml" || x == "yaml")) {
                continue;
            }
            rule_files += 1;
            let v = common::yaml(p);
            let title = v["title"].as_str().unwrap().to_string();
            if v["simulation"].is_array() {
                with_simulation += 1;
            }
            for t in v["tags"].as_array().into_iter().flatten() {
                if let Some(id) = t.as_str().and_then(tag_technique) {
                    by_technique.entry(id).or_default().insert(title.clone());
                }
            }
        }
    }
    let mut tests_by_technique: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut test_total = 0;
    for e in WalkDir::new(&atomics)
        .max_depth(2)
        .into_iter()
        .filter_map(Result::ok)
    {
        let name = e.file_name().to_string_lossy().to_string();
        if !(name.starts_with('T') && name.ends_with(".yaml")) {
            continue;
        }
        let v = common::yaml(e.path());
        let id = v["attack_technique"].as_str().unwrap().to_ascii_uppercase();
        for t in v["atomic_tests"].as_array().unwrap() {
            test_total += 1;
            tests_by_technique
                .entry(id.clone())
                .or_default()
                // Display text is trimmed (names end in stray spaces upstream).
                .insert(t["name"].as_str().unwrap().trim().to_string());
        }
    }
    assert_eq!(rule_files, 3780);
    assert_eq!(summary.rules, rule_files);
    assert_eq!(test_total, 1819);
    assert_eq!(summary.tests, test_total);
    let count = |folder: &str| std::fs::read_dir(vault.join(folder)).unwrap().count();
    assert_eq!(count("Detection Rules"), rule_files, "one note per rule");
    assert_eq!(count("atomics"), test_total, "one note per atomic test");

    // 132 SigmaHQ references are text ("Internal Research"), not addresses.
    let (mut linked, mut text) = (0, 0);
    for e in std::fs::read_dir(vault.join("Detection Rules")).unwrap() {
        let note = std::fs::read_to_string(e.unwrap().path()).unwrap();
        let Some((_, refs)) = note.split_once("\n## References\n\n") else {
            continue;
        };
        for line in refs.lines().take_while(|l| l.starts_with("- ")) {
            let item = &line[2..];
            assert!(!item.contains("%20") || item.starts_with("<http"), "{line}");
            if item.starts_with("<http") || item.starts_with("<ftp") {
                linked += 1;
            } else {
                text += 1;
            }
        }
    }
    assert!(
        linked > 7_000 && text >= 100,
        "{linked} linked, {text} text"
    );

    // The tables of several techniques, including parents with sub-techniques.
    assert_eq!(by_technique["T1059.006"].len(), 13);
    assert_eq!(tests_by_technique["T1059.006"].len(), 4);
    for id in [
        "T1059.006",
        "T1059",
        "T1003.001",
        "T1547",
        "T1218.011",
        "T1105",
    ] {
        let note = common::note_by_id(&vault, "Techniques", id);
        let sub_prefix = format!("{id}.");
        let expect_rules: BTreeSet<String> = by_technique
            .iter()
            .filter(|(t, _)| *t == id || (!id.contains('.') && t.starts_with(&sub_prefix)))
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        let expect_tests: BTreeSet<String> = tests_by_technique
            .iter()
            .filter(|(t, _)| *t == id || (!id.contains('.') && t.starts_with(&sub_prefix)))
            .flat_map(|(_, v)| v.iter().cloned())
            .collect();
        assert_eq!(
            table_names(&note, "Detection Rule"),
            expect_rules,
            "{id} rules"
        );
        assert_eq!(
            table_names(&note, "Rule Testing"),
            expect_tests,
            "{id} tests"
        );
        eprintln!(
            "{id}: {} rules, {} tests",
            expect_rules.len(),
            expect_tests.len()
        );
    }

    // IDs newer than the bundle get stub notes and are listed in the link report.
    let bundle_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&bundle).unwrap()).unwrap();
    let known: BTreeSet<String> = bundle_json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "attack-pattern")
        .filter_map(|o| {
            o["external_references"][0]["external_id"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    let unknown: BTreeSet<&String> = by_technique
        .keys()
        .chain(tests_by_technique.keys())
        .filter(|t| !known.contains(*t))
        .collect();
    assert!(!unknown.is_empty());
    let report = common::read(&vault, "Link report.md");
    for id in &unknown {
        common::note_by_id(&vault, "Techniques", id);
        assert!(
            report.contains(&format!("| {id} |")),
            "{id} in the link report"
        );
    }
    eprintln!(
        "{} technique IDs absent from ATT&CK v18.1 got stub notes",
        unknown.len()
    );

    // Rule ↔ test links from `simulation:`.
    let tested_by = std::fs::read_dir(vault.join("Detection Rules"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            let t = std::fs::read_to_string(e.path()).unwrap();
            t.contains("\n## Tested By\n\n- [[")
        })
        .count();
    assert_eq!(
        tested_by, with_simulation,
        "every rule with a simulation links its test"
    );
    let claimed = std::fs::read_dir(vault.join("atomics"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            std::fs::read_to_string(e.path())
                .unwrap()
                .contains("Rules that name this test")
        })
        .count();
    assert!(claimed > 0);

    let r = check_vault(&vault);
    assert!(r.is_clean(), "{}", common::describe(&r));
    eprintln!(
        "full vault: {} notes, {} wikilinks, all resolve",
        r.notes, r.links
    );
}
