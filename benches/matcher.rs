//! Matcher benchmarks on the shared data (`$ATTACK_VAULT_DATA`, default
//! `../shared/data`). Run with `cargo bench --bench matcher`.
//!
//! - `startup_windows_rules`: load and compile every Windows rule of `rules`,
//!   `rules-emerging-threats` and `rules-threat-hunting` (nothing scanned);
//! - `parse_corpus`: read every event of `events/evtx-attack-samples` (the floor);
//! - `match_corpus`: the same events through all those rules.
//!
//! - `stream_parse_floor`: a JSONL stream of the corpus's records (about
//!   107,000 events, 123 MB, written once to `target/stream-107k.jsonl`)
//!   with one trivial rule loaded: reading it is the floor;
//! - `stream_match_windows`: the same stream through every Windows rule.
//!
//! The million-event stream is measured by `benches/stream.sh`.

use attack_vault::hunt::{HuntConfig, OutputFormat, load_engine};
use sigma_engine::diag::Diagnostics;
use sigma_engine::matcher::scan;
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
        format: OutputFormat::Jsonl,
        min_level: None,
        status: Vec::new(),
        tags: Vec::new(),
        products: vec!["windows".into()],
        mapping: None,
        extra_mapping: Vec::new(),
        placeholders: None,
        window: Default::default(),
        all_fields: false,
        progress: false,
        table_width: None,
        exit_after: false,
    };
    let mut g = c.benchmark_group("matcher");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("startup_windows_rules", |b| {
        b.iter(|| load_engine(&cfg, &Diagnostics::new()).unwrap())
    });
    let files =
        sigma_engine::events::event_files(std::slice::from_ref(&corpus), &Diagnostics::new());
    g.bench_function("parse_corpus", |b| {
        b.iter(|| {
            let d = Diagnostics::new();
            let mut n = 0u64;
            for f in &files {
                sigma_engine::events::read_file(f, None, &d, &mut |_| n += 1);
            }
            n
        })
    });
    let engine = load_engine(&cfg, &Diagnostics::new()).unwrap().engine;
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
    let stream = stream_file(&corpus);
    let trivial = trivial_rule();
    let floor_cfg = HuntConfig {
        rules: vec![trivial.path().to_path_buf()],
        products: Vec::new(),
        ..cfg.clone()
    };
    let floor_engine = load_engine(&floor_cfg, &Diagnostics::new()).unwrap().engine;
    g.bench_function("stream_parse_floor", |b| {
        b.iter(|| {
            scan(
                &floor_engine,
                std::slice::from_ref(&stream),
                &Diagnostics::new(),
                |_, _| {},
            )
        })
    });
    g.bench_function("stream_match_windows", |b| {
        b.iter(|| {
            scan(
                &engine,
                std::slice::from_ref(&stream),
                &Diagnostics::new(),
                |_, _| {},
            )
        })
    });
    g.finish();
}

/// One rule that reads one field and never fires.
fn trivial_rule() -> tempfile::NamedTempFile {
    let f = tempfile::Builder::new().suffix(".yml").tempfile().unwrap();
    std::fs::write(
        f.path(),
        "title: Trivial\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n  product: windows\n  service: sysmon\ndetection:\n  sel:\n    Image: 'C:\\nothing\\here.exe'\n  condition: sel\n",
    )
    .unwrap();
    f
}

/// The corpus's records as JSONL, repeated to at least 100,000 lines
/// (written once).
fn stream_file(corpus: &std::path::Path) -> std::path::PathBuf {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/stream-107k.jsonl");
    if out.exists() {
        return out;
    }
    let mut lines = Vec::new();
    for e in walkdir::WalkDir::new(corpus)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if e.path().extension().is_some_and(|x| x == "evtx")
            && let Ok(mut p) = evtx::EvtxParser::from_path(e.path())
        {
            for r in p.records_json_value().flatten() {
                lines.push(serde_json::to_string(&r.data).unwrap());
            }
        }
    }
    let mut text = String::new();
    let mut n = 0;
    while n < 100_000 {
        for l in &lines {
            text.push_str(l);
            text.push('\n');
            n += 1;
        }
    }
    std::fs::write(&out, text).unwrap();
    out
}

criterion_group!(matcher_benches, benches);
criterion_main!(matcher_benches);
