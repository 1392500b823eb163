//! Matcher benchmarks on the shared data (`$ATTACK_VAULT_DATA`, default
//! `../shared/data`). Run with `cargo bench --bench matcher`.
//!
//! - `startup_windows_rules`: load and compile every Windows rule of `rules`,
//!   `rules-emerging-threats` and `rules-threat-hunting` (nothing scanned);
//! - `parse_corpus`: read every event of `events/evtx-attack-samples` (the floor);
//! - `match_corpus`: the same events through all those rules.
//!
//! The million-event stream is measured by `benches/stream.sh`.

use attack_vault::diag::Diagnostics;
use attack_vault::hunt::{Format, HuntConfig, load_engine};
use attack_vault::matcher::scan;
#[path = "common.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let Some(data) = common::data_dir("events/evtx-attack-samples") else {
        return;
    };
    let corpus = data.join("events/evtx-attack-samples");
    let cfg = HuntConfig {
        rules: ["rules", "rules-emerging-threats", "rules-threat-hunting"]
            .iter()
            .map(|t| data.join("sigma").join(t))
            .collect(),
        events: vec![corpus.clone()],
        format: Format::Jsonl,
        min_level: None,
        status: Vec::new(),
        tags: Vec::new(),
        products: vec!["windows".into()],
        mapping: None,
        extra_mapping: Vec::new(),
        placeholders: None,
        progress: false,
        exit_after: false,
    };
    let mut g = c.benchmark_group("matcher");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("startup_windows_rules", |b| {
        b.iter(|| load_engine(&cfg, &Diagnostics::new()).unwrap())
    });
    let files =
        attack_vault::events::event_files(std::slice::from_ref(&corpus), &Diagnostics::new());
    g.bench_function("parse_corpus", |b| {
        b.iter(|| {
            let d = Diagnostics::new();
            let mut n = 0u64;
            for f in &files {
                attack_vault::events::read_file(f, None, &d, &mut |_| n += 1);
            }
            n
        })
    });
    let (engine, _) = load_engine(&cfg, &Diagnostics::new()).unwrap();
    g.bench_function("match_corpus", |b| {
        b.iter(|| {
            scan(
                &engine,
                std::slice::from_ref(&corpus),
                &Diagnostics::new(),
                |_, _| {},
            )
        })
    });
    g.finish();
}

criterion_group!(matcher_benches, benches);
criterion_main!(matcher_benches);
