//! The engine end to end, in the fewest lines: load Sigma rules, compile
//! them, scan event files, print each detection and what went wrong.
//!
//! ```text
//! cargo run --release -p sigma-engine --example hunt -- RULES EVENTS...
//! ```
//!
//! `RULES` is a rule file or folder; each of `EVENTS` an EVTX, JSON or JSONL
//! file or a folder of them.

use sigma_engine::diag::Diagnostics;
use sigma_engine::matcher::{Engine, EngineOptions, mapping::Mapping, scan_fired};
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((rules, events)) = args.split_first().filter(|(_, e)| !e.is_empty()) else {
        eprintln!("usage: hunt RULES EVENTS...");
        return ExitCode::from(2);
    };
    // Problems are collected, not fatal: a bad rule or a broken record is
    // reported and the rest goes on.
    let diags = Diagnostics::new();
    let set = sigma_engine::sigma::load(std::slice::from_ref(rules), &diags);
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    engine.report_filters(&diags);
    // Called from several threads, once per event that fired, with its
    // detections.
    let stats = scan_fired(
        &engine,
        events,
        &diags,
        |_| {},
        |_, hits| {
            for hit in hits {
                let rule = &engine.rules[hit.rule];
                println!("{}#{}: {}", hit.event.file, hit.event.record, rule.title);
            }
            // Every detection is wanted (`Break` would end the scan).
            std::ops::ControlFlow::Continue(())
        },
    );
    for d in diags.sorted() {
        eprintln!("{d}");
    }
    for s in &engine.skipped {
        eprintln!("skipped: {}: {}", engine.rules[s.rule].title, s.reason);
    }
    eprintln!(
        "{} events in {} files ({} records lost); {} of {} rules run; {} detections",
        stats.events,
        stats.files,
        stats.lost,
        engine.runnable(),
        engine.rules.len(),
        stats.detections
    );
    ExitCode::SUCCESS
}
