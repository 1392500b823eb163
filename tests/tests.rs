//! One integration test binary (each `tests/*.rs` file a module), so the
//! library is linked once. Tests that need the shared data or Chromium are
//! `#[ignore]`d with the reason; `.ci/run` runs them.

#[macro_use]
mod common;

mod browser;
mod cli;
mod correlations;
mod demo_vault;
mod fetch;
mod guarantees;
mod invalid_inputs;
mod living;
mod obsidian;
mod real_attack;
mod real_coverage;
mod real_detections;
mod real_living;
mod real_matcher;
mod regression;
mod site;
