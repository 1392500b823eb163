//! Build benchmarks on the shared real data (`$ATTACK_VAULT_DATA`, default
//! `../shared/data`). Run with `cargo bench --bench build`.
//!
//! - `parse_enterprise`: read and parse the Enterprise v18.1 bundle only (the floor);
//! - `model_enterprise`: parse plus building the linked model;
//! - `build_enterprise`: the whole build, notes written to a fresh folder;
//! - `export_enterprise_site`: the static site of that vault;
//! - `model_full` / `build_full`: the same with all five SigmaHQ rule trees and
//!   all Atomic Red Team tests.

use attack_vault::build::{BuildConfig, build, load_model};
use sigma_engine::diag::Diagnostics;
#[path = "common.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let Some(data) = common::data_dir("attack/v18.1/enterprise-attack.json") else {
        return;
    };
    let bundle = data.join("attack/v18.1/enterprise-attack.json");
    let mut g = c.benchmark_group("attack");
    g.sample_size(10).measurement_time(Duration::from_secs(12));
    g.bench_function("parse_enterprise", |b| {
        b.iter(|| {
            let d = Diagnostics::new();
            attack_vault::attack::read_bundle_file(&bundle, &d).unwrap()
        })
    });
    let cfg = BuildConfig {
        attack: vec![bundle.clone()],
        ..Default::default()
    };
    g.bench_function("model_enterprise", |b| {
        b.iter(|| load_model(&cfg, &Diagnostics::new()).unwrap())
    });
    g.bench_function("build_enterprise", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let cfg = BuildConfig {
                    out: dir.path().join("vault"),
                    ..cfg.clone()
                };
                build(&cfg, &Diagnostics::new()).unwrap();
                dir
            },
        )
    });
    // The static site of the Enterprise vault (built once), into a fresh
    // folder each time.
    let vault = tempfile::tempdir().unwrap();
    build(
        &BuildConfig {
            out: vault.path().join("vault"),
            ..cfg.clone()
        },
        &Diagnostics::new(),
    )
    .unwrap();
    g.bench_function("export_enterprise_site", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let ecfg = attack_vault::site::ExportConfig {
                    vault: vault.path().join("vault"),
                    out: dir.path().join("site"),
                    base_url: None,
                    templates: None,
                    no_wait: false,
                };
                attack_vault::site::export(&ecfg, &Diagnostics::new()).unwrap();
                dir
            },
        )
    });
    let trees = [
        "rules",
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-placeholder",
        "rules-compliance",
    ];
    let full = BuildConfig {
        attack: vec![bundle.clone()],
        sigma: trees.iter().map(|t| data.join("sigma").join(t)).collect(),
        atomics: Some(data.join("atomics/atomics")),
        ..Default::default()
    };
    g.bench_function("model_full", |b| {
        b.iter(|| load_model(&full, &Diagnostics::new()).unwrap())
    });
    g.bench_function("build_full", |b| {
        b.iter_with_setup(
            || tempfile::tempdir().unwrap(),
            |dir| {
                let cfg = BuildConfig {
                    out: dir.path().join("vault"),
                    ..full.clone()
                };
                build(&cfg, &Diagnostics::new()).unwrap();
                dir
            },
        )
    });
    g.finish();
}

criterion_group!(build_benches, benches);
criterion_main!(build_benches);
