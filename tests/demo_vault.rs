//! The example vault: built from the embedded demo dataset, checked against
//! the committed `vault/` folder and against golden snapshots.

use crate::common;

use attack_vault::build::{BuildConfig, build};
use attack_vault::vault::check::check_vault;
use sigma_engine::diag::Diagnostics;
use std::collections::BTreeMap;
use std::path::Path;

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::tree(dir).into_iter().collect()
}

#[test]
fn committed_example_vault_is_current() {
    let (dir, diags, _) = common::build_into(BuildConfig::default());
    assert_eq!(diags.sorted(), vec![], "demo data builds cleanly");
    let built = files(&dir.path().join("vault"));
    let committed = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("vault"));
    let names = |m: &BTreeMap<String, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        names(&built),
        names(&committed),
        "vault/ is out of date: run `cargo run --release -- build` (and remove vault/Changes*: the example vault keeps no history)"
    );
    for (k, v) in &built {
        assert!(
            committed.get(k) == Some(v),
            "vault/{k} is out of date: run `cargo run --release -- build`"
        );
    }
}

#[test]
fn demo_vault_links_all_resolve() {
    let (dir, _, summary) = common::build_into(BuildConfig::default());
    let r = check_vault(&dir.path().join("vault"));
    assert!(r.is_clean(), "{}", common::describe(&r));
    let layers = std::fs::read_dir(dir.path().join("vault/Navigator"))
        .unwrap()
        .count();
    assert_eq!(r.notes + layers, summary.notes);
    assert!(r.links > 50);
}

#[test]
fn golden_notes() {
    let (dir, _, _) = common::build_into(BuildConfig::default());
    let v = dir.path().join("vault");
    for rel in [
        "Techniques/T1059.006 Python.md",
        "Techniques/T1059 Command and Scripting Interpreter.md",
        "Techniques/T1086 PowerShell.md",
        "Groups/G0016 APT29.md",
        "Software/S0192 Pupy.md",
        "Campaigns/C0024 SolarWinds Compromise.md",
        "Mitigations/M1038 Execution Prevention.md",
        "Tactics/TA0002 Execution.md",
        "Matrices/enterprise-attack Enterprise ATT&CK.md",
        "Detection Strategies/DET0455 Detection of Python Interpreter Abuse.md",
        "Analytics/AN1264 Detection of Python Interpreter Abuse (Linux, macOS).md",
        "Data Components/DC0032 Process Creation.md",
        "Home.md",
        "Detection Rules.md",
        "Atomic Tests.md",
        "Link report.md",
        "Detection Rules/Python Inline Command Execution.md",
        "Detection Rules/Burst of Python Inline Commands.md",
        "atomics/T1059.006-2 Python reverse shell to localhost.md",
        "Techniques/T1059.004 Unknown technique.md",
    ] {
        let name = rel.replace(['/', ' ', '&'], "_");
        insta::assert_snapshot!(name, common::read(&v, rel));
    }
}

#[test]
fn rebuild_rewrites_nothing_and_keeps_user_notes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("v");
    let cfg = BuildConfig {
        out: out.clone(),
        ..Default::default()
    };
    let diags = Diagnostics::new();
    build(&cfg, &diags).unwrap();
    std::fs::write(out.join("My notes.md"), "mine [[T1059.006 Python]]").unwrap();
    let t = out.join("Techniques/T1059.006 Python.md");
    let before = std::fs::metadata(&t).unwrap().modified().unwrap();
    let s = build(&cfg, &diags).unwrap();
    assert_eq!(s.write.written, 0);
    assert_eq!(s.write.unchanged, s.notes);
    assert_eq!(std::fs::metadata(&t).unwrap().modified().unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(out.join("My notes.md")).unwrap(),
        "mine [[T1059.006 Python]]"
    );
}

#[test]
fn build_is_deterministic() {
    let a = common::build_into(BuildConfig::default());
    let b = common::build_into(BuildConfig::default());
    assert_eq!(
        files(&a.0.path().join("vault")),
        files(&b.0.path().join("vault"))
    );
}

#[test]
fn template_override_changes_one_kind() {
    let tdir = tempfile::tempdir().unwrap();
    std::fs::write(
        tdir.path().join("mitigation.md"),
        "{{ frontmatter }}\nCUSTOM {{ id }}\n",
    )
    .unwrap();
    let mut cfg = BuildConfig::default();
    cfg.render.templates = Some(tdir.path().to_path_buf());
    let (dir, _, _) = common::build_into(cfg);
    let v = dir.path().join("vault");
    assert!(common::read(&v, "Mitigations/M1038 Execution Prevention.md").contains("CUSTOM M1038"));
    assert!(common::read(&v, "Techniques/T1059.006 Python.md").contains("## Procedure Examples"));
}

#[test]
fn broken_template_fails_before_writing() {
    let tdir = tempfile::tempdir().unwrap();
    std::fs::write(tdir.path().join("technique.md"), "line one\n{% for %}\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = BuildConfig {
        out: dir.path().join("v"),
        render: attack_vault::vault::RenderOptions {
            templates: Some(tdir.path().to_path_buf()),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = build(&cfg, &Diagnostics::new()).unwrap_err();
    assert!(err.file.unwrap().ends_with("technique.md"));
    assert_eq!(err.line, Some(2));
    assert!(!dir.path().join("v").exists(), "nothing written");
}

#[test]
fn demo_layer_fits_the_navigator_and_layer_command_rebuilds_it() {
    let (dir, _, _) = common::build_into(BuildConfig::default());
    let v = dir.path().join("vault");
    let layer: serde_json::Value = serde_json::from_str(&common::read(
        &v,
        "Navigator/enterprise-attack-coverage.json",
    ))
    .unwrap();
    common::assert_valid_layer(&layer);
    assert_eq!(layer["techniques"][0]["techniqueID"], "T1059");
    let from_notes =
        attack_vault::vault::navigator::layers_from_vault(&v, &Default::default()).unwrap();
    assert_eq!(from_notes.len(), 1);
    assert_eq!(
        serde_json::to_value(&from_notes[0].1).unwrap(),
        layer,
        "the layer command gives the same layer as the build"
    );
}
