//! The `test` command: the rules' regression tests. A rule names its tests
//! (`regression_tests_path`, an [`info`] file as SigmaHQ writes them); each
//! test is an event file the rule must fire on exactly `match_count` times
//! (at least once without it). Every rule read runs over each file, so
//! that a correlation finds the rules it counts and a filter the rules it
//! names, and only the tested rule's detections are counted.
//!
//! As SigmaHQ's own runner judges them: fewer detections than expected
//! fail; more pass, said so that `match_count` is brought up to date
//! (`--strict` fails them too).

pub mod info;
mod report;

pub use report::TestFormat;

use crate::hunt::read_placeholders;
use info::Case;
use rayon::prelude::*;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use sigma_engine::matcher::correlation::Correlator;
use sigma_engine::matcher::mapping::Mapping;
use sigma_engine::matcher::{Engine, EngineOptions, scan_fired};
use sigma_engine::sigma::{RuleKind, SigmaRule};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Everything `test` needs.
#[derive(Debug, Clone, Default)]
pub struct TestConfig {
    pub rules: Vec<PathBuf>,
    pub mapping: Option<PathBuf>,
    pub extra_mapping: Vec<PathBuf>,
    pub placeholders: Option<PathBuf>,
}

/// How one test case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The rule fired as often as expected (at least once without a count).
    Passed { got: u64 },
    /// More often than `match_count`: the test passes, its count is stale.
    More { got: u64, expected: u64 },
    /// Less often than expected (never, without a count).
    Failed { got: u64, expected: Option<u64> },
    /// The case could not run: why.
    Broken(String),
    /// The case needs what this engine does not do (pySigma pipelines).
    NotRun(String),
}

impl Outcome {
    /// Whether the case counts against the run (`strict`: stale counts and
    /// cases not run too).
    pub fn fails(&self, strict: bool) -> bool {
        match self {
            Outcome::Passed { .. } => false,
            Outcome::More { .. } | Outcome::NotRun(_) => strict,
            Outcome::Failed { .. } | Outcome::Broken(_) => true,
        }
    }
}

/// One test case of one rule, run.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub rule: String,
    pub rule_file: PathBuf,
    /// The test file that names the case (`info.yml`), once found.
    pub info: Option<PathBuf>,
    pub case: String,
    /// The event file, once found.
    pub events: Option<PathBuf>,
    pub outcome: Outcome,
}

/// What a run of the tests found.
#[derive(Debug, Default)]
pub struct TestSummary {
    /// In the order of the rule files, then of the cases.
    pub results: Vec<CaseResult>,
    pub rules_read: usize,
    pub rules_tested: usize,
    pub elapsed: Duration,
}

impl TestSummary {
    pub fn count(&self, pick: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| pick(&r.outcome)).count()
    }

    /// The test and event files the cases read.
    pub fn files_read(&self) -> Vec<PathBuf> {
        let files = self
            .results
            .iter()
            .flat_map(|r| r.info.iter().chain(&r.events));
        files.cloned().collect()
    }
}

/// One rule's tests, found.
struct Plan {
    rule: usize,
    info: Result<(PathBuf, info::Info), (Option<PathBuf>, String)>,
}

/// Run the regression tests of every rule read.
pub fn run(cfg: &TestConfig, diags: &Diagnostics) -> Result<TestSummary, Diagnostic> {
    let start = Instant::now();
    let set = sigma_engine::sigma::load(&cfg.rules, diags);
    if set.parsed == 0 {
        return Err(Diagnostic::error(
            "test",
            "no rule document could be read (see the errors above)",
        ));
    }
    let mut rules = set.rules;
    rules.iter_mut().for_each(SigmaRule::drop_prose);
    let plans: Vec<Plan> = (rules.iter().enumerate())
        .filter(|(_, r)| r.kind != RuleKind::Filter)
        .filter_map(|(i, r)| Some((i, r.regression_tests_path.as_deref()?)))
        .map(|(i, named)| Plan {
            rule: i,
            info: find_info(&rules[i], named),
        })
        .collect();
    if plans.is_empty() {
        let msg = format!(
            "none of the {} rule documents read names a regression test (`regression_tests_path`)",
            set.parsed
        );
        return Err(Diagnostic::error("test", msg));
    }
    let mapping = Mapping::load(cfg.mapping.as_deref(), &cfg.extra_mapping)?;
    let mut opts = EngineOptions::default();
    if let Some(p) = &cfg.placeholders {
        opts.placeholders = read_placeholders(p)?;
    }
    let engines = Engines::new(rules, &plans, &mapping, &opts, diags);
    let mut results: Vec<CaseResult> = plans
        .par_iter()
        .flat_map_iter(|p| engines.run_plan(p, diags))
        .collect();
    results.sort_by(|a, b| a.rule_file.cmp(&b.rule_file));
    Ok(TestSummary {
        results,
        rules_read: set.parsed,
        rules_tested: plans.len(),
        elapsed: start.elapsed(),
    })
}

/// A file named relative to a folder above `from` (as SigmaHQ's tests name
/// `regression_data/...` from the repository's root): the nearest that
/// holds it.
fn locate(from: &Path, named: &str) -> Option<PathBuf> {
    candidates(from, named).find(|p| p.is_file()).map(as_named)
}

/// Where `named` may be, nearest first: itself when absolute, else joined
/// to `from` and each folder above it.
fn candidates(from: &Path, named: &str) -> impl Iterator<Item = PathBuf> {
    // Written on Windows, a path may use `\\`.
    let named = PathBuf::from(match std::path::MAIN_SEPARATOR {
        '/' => named.replace('\\', "/"),
        _ => named.to_string(),
    });
    let from = match named.is_absolute() {
        true => Some(PathBuf::new()),
        false => std::path::absolute(from).ok(),
    };
    let dirs: Vec<PathBuf> = from
        .iter()
        .flat_map(|f| f.ancestors().map(Path::to_path_buf))
        .collect();
    dirs.into_iter().map(move |d| d.join(&named))
}

/// A path found as the user would name it: relative to where they stand.
fn as_named(found: PathBuf) -> PathBuf {
    let here = std::env::current_dir().ok();
    match here.and_then(|h| found.strip_prefix(h).ok().map(Path::to_path_buf)) {
        Some(rel) => rel,
        None => found,
    }
}

/// What stands where `named` was looked for when it is no file (a folder, a
/// pipe, a device), said after "found in no folder".
fn not_a_file(from: &Path, named: &str) -> String {
    let other = candidates(from, named).find(|p| p.exists() && !p.is_file());
    match other {
        Some(p) => format!(
            " ({} is a folder, pipe or device, not a file)",
            as_named(p).display()
        ),
        None => String::new(),
    }
}

/// A case's event file, as SigmaHQ names it (from a folder above the rule)
/// or from its test file's own folder; or why it is not found.
fn event_file(r: &SigmaRule, info: &Path, named: &str) -> Result<PathBuf, String> {
    let dirs = [rule_dir(r), info.parent().unwrap_or(Path::new("."))];
    if let Some(found) = dirs.iter().find_map(|d| locate(d, named)) {
        return Ok(found);
    }
    let other = dirs
        .iter()
        .map(|d| not_a_file(d, named))
        .find(|o| !o.is_empty());
    Err(format!(
        "its event file {named} is found in no folder above the rule nor its test file{}",
        other.unwrap_or_default()
    ))
}

fn rule_dir(r: &SigmaRule) -> &Path {
    let dir = r.path.parent().filter(|d| !d.as_os_str().is_empty());
    dir.unwrap_or(Path::new("."))
}

fn find_info(
    r: &SigmaRule,
    named: &str,
) -> Result<(PathBuf, info::Info), (Option<PathBuf>, String)> {
    let Some(path) = locate(rule_dir(r), named) else {
        let msg = format!(
            "its regression test file {named} is found in no folder above the rule{}",
            not_a_file(rule_dir(r), named)
        );
        return Err((None, msg));
    };
    match info::read(&path) {
        Ok(i) => Ok((path, i)),
        Err(d) => Err((Some(path), d.located())),
    }
}

/// The engines the cases run on: every rule read, and per set of filter
/// files a case names, those rules with the filters.
struct Engines {
    all: Engine,
    filtered: BTreeMap<Vec<PathBuf>, Result<Engine, String>>,
}

impl Engines {
    fn new(
        rules: Vec<SigmaRule>,
        plans: &[Plan],
        mapping: &Mapping,
        opts: &EngineOptions,
        diags: &Diagnostics,
    ) -> Engines {
        let mut filtered = BTreeMap::new();
        for (info, c) in cases_of(plans) {
            if let Ok(files) = filter_files(info, c) {
                filtered
                    .entry(files)
                    .or_insert_with_key(|files| with_filters(&rules, files, mapping, opts, diags));
            }
        }
        Engines {
            all: Engine::new(rules, mapping, opts),
            filtered,
        }
    }

    /// Every case of one rule, run.
    fn run_plan(&self, p: &Plan, diags: &Diagnostics) -> Vec<CaseResult> {
        let r = &self.all.rules[p.rule];
        let result = |info: Option<&Path>, case: &str, events, outcome| CaseResult {
            rule: r.title.clone(),
            rule_file: r.path.clone(),
            info: info.map(Path::to_path_buf),
            case: case.to_string(),
            events,
            outcome,
        };
        let (path, info) = match &p.info {
            Ok(found) => found,
            Err((path, why)) => {
                return vec![result(
                    path.as_deref(),
                    "",
                    None,
                    Outcome::Broken(why.clone()),
                )];
            }
        };
        if info.cases.is_empty() {
            let why = "its regression test file lists no test case".to_string();
            return vec![result(Some(path), "", None, Outcome::Broken(why))];
        }
        info.cases
            .iter()
            .map(|c| {
                let events = event_file(r, path, &c.path);
                let found = events.as_deref().map_err(String::as_str);
                let outcome = self.run_case(p.rule, (path, info), c, found, diags);
                result(Some(path), &c.name, events.ok(), outcome)
            })
            .collect()
    }

    fn run_case(
        &self,
        rule: usize,
        (path, info): (&Path, &info::Info),
        c: &Case,
        events: Result<&Path, &str>,
        diags: &Diagnostics,
    ) -> Outcome {
        let r = &self.all.rules[rule];
        if let Some(id) = info
            .rule_id
            .as_deref()
            .filter(|id| Some(*id) != r.id.as_deref())
        {
            return Outcome::Broken(format!(
                "{} is the test of rule {id}, not of this one",
                path.display()
            ));
        }
        if !c.pipelines.is_empty() {
            let why = format!(
                "needs pySigma processing pipelines ({})",
                c.pipelines.join(", ")
            );
            return Outcome::NotRun(why);
        }
        let events = match events {
            Ok(events) => events,
            Err(why) => return Outcome::Broken(why.to_string()),
        };
        let engine = match filter_files(path, c) {
            Err(why) => return Outcome::Broken(why),
            Ok(files) if files.is_empty() => &self.all,
            Ok(files) => match &self.filtered[&files] {
                Ok(e) => e,
                Err(why) => return Outcome::Broken(why.clone()),
            },
        };
        if let Some(s) = engine.skipped.iter().find(|s| s.rule == rule) {
            return Outcome::Broken(format!("the rule cannot run: {}", s.reason));
        }
        match count(engine, rule, events, diags) {
            Ok(got) => judge(got, c.match_count),
            Err(why) => Outcome::Broken(why),
        }
    }
}

/// The outcome of a case whose rule fired `got` times.
fn judge(got: u64, expected: Option<u64>) -> Outcome {
    match expected {
        Some(e) if got > e => Outcome::More { got, expected: e },
        Some(e) if got == e => Outcome::Passed { got },
        None if got > 0 => Outcome::Passed { got },
        _ => Outcome::Failed { got, expected },
    }
}

/// The cases of the tests that were found, each with its test file.
fn cases_of(plans: &[Plan]) -> impl Iterator<Item = (&Path, &Case)> {
    (plans.iter())
        .filter_map(|p| p.info.as_ref().ok())
        .flat_map(|(path, i)| i.cases.iter().map(move |c| (path.as_path(), c)))
}

/// A case's filter files, found from its test file's folder up.
fn filter_files(info: &Path, c: &Case) -> Result<Vec<PathBuf>, String> {
    let dir = info.parent().unwrap_or(Path::new("."));
    let find = |f: &String| {
        locate(dir, f).ok_or_else(|| {
            format!(
                "its filter file {f} is found in no folder above {}{}",
                info.display(),
                not_a_file(dir, f)
            )
        })
    };
    let mut files: Vec<PathBuf> = c.filters.iter().map(find).collect::<Result<_, _>>()?;
    files.sort();
    files.dedup();
    Ok(files)
}

/// The rules with the filters of `files` added (the rules keep their places).
fn with_filters(
    rules: &[SigmaRule],
    files: &[PathBuf],
    mapping: &Mapping,
    opts: &EngineOptions,
    diags: &Diagnostics,
) -> Result<Engine, String> {
    let read = sigma_engine::sigma::load(files, diags);
    let (filters, others): (Vec<SigmaRule>, Vec<SigmaRule>) = read
        .rules
        .into_iter()
        .partition(|r| r.kind == RuleKind::Filter);
    if let Some(o) = others.first() {
        return Err(format!(
            "{} holds a rule that is not a filter ({})",
            o.path.display(),
            o.title
        ));
    }
    if read.rejected > 0 || filters.is_empty() {
        return Err(format!(
            "its filters could not be read: {}",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut all = rules.to_vec();
    all.extend(filters);
    Ok(Engine::new(all, mapping, opts))
}

/// How often `rule` fired over the events of one file, its correlation
/// matches included; or, when no event could be read from it, why.
fn count(engine: &Engine, rule: usize, events: &Path, diags: &Diagnostics) -> Result<u64, String> {
    let correlator = Correlator::new(engine);
    let fired = AtomicU64::new(0);
    let own = Diagnostics::new();
    let stats = scan_fired(
        engine,
        &[events.to_path_buf()],
        &own,
        |_| {},
        |e, dets| {
            if correlator.is_active() {
                correlator.record(e, &dets);
            }
            let n = dets.iter().filter(|d| d.rule == rule).count();
            fired.fetch_add(n as u64, Ordering::Relaxed);
            std::ops::ControlFlow::Continue(())
        },
    );
    let correlated = correlator
        .finish(&own)
        .iter()
        .filter(|h| h.rule == rule)
        .count();
    let said = own.sorted();
    match said.split_first() {
        // Said once, in the case's own line.
        Some((why, rest)) if stats.events == 0 => {
            diags.extend(rest.iter().cloned());
            Err(format!("no event could be read: {}", why.located()))
        }
        _ => {
            diags.extend(said);
            Ok(fired.into_inner() + correlated as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_fail_more_pass_stale_as_sigmahqs_runner_judges() {
        assert_eq!(judge(1, Some(1)), Outcome::Passed { got: 1 });
        assert_eq!(
            judge(3, Some(1)),
            Outcome::More {
                got: 3,
                expected: 1
            }
        );
        assert_eq!(
            judge(1, Some(2)),
            Outcome::Failed {
                got: 1,
                expected: Some(2)
            }
        );
        assert_eq!(judge(0, Some(0)), Outcome::Passed { got: 0 });
        assert_eq!(judge(2, None), Outcome::Passed { got: 2 });
        assert_eq!(
            judge(0, None),
            Outcome::Failed {
                got: 0,
                expected: None
            }
        );
        assert!(judge(3, Some(1)).fails(true) && !judge(3, Some(1)).fails(false));
    }

    #[test]
    fn a_relative_path_is_found_from_the_nearest_folder_above() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("rules/windows/x");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(dir.path().join("regression_data/a")).unwrap();
        std::fs::write(dir.path().join("regression_data/a/info.yml"), "").unwrap();
        let found = locate(&deep, "regression_data/a/info.yml").unwrap();
        assert_eq!(
            std::path::absolute(found).unwrap(),
            dir.path().join("regression_data/a/info.yml")
        );
        assert_eq!(locate(&deep, "regression_data/b/info.yml"), None);
        let windows = locate(&deep, "regression_data\\a\\info.yml").unwrap();
        assert!(
            windows.ends_with("regression_data/a/info.yml"),
            "{windows:?}"
        );
        assert_eq!(
            locate(&deep, "regression_data/a"),
            None,
            "a folder is no file"
        );
        let said = not_a_file(&deep, "regression_data/a");
        assert!(
            said.ends_with("regression_data/a is a folder, pipe or device, not a file)"),
            "{said}"
        );
        assert_eq!(not_a_file(&deep, "regression_data/b"), "");
        let info = dir.path().join("regression_data/a/info.yml");
        let absolute = locate(Path::new("/nowhere"), info.to_str().unwrap());
        assert_eq!(
            absolute.map(|p| std::path::absolute(p).unwrap()),
            Some(info)
        );
    }
}
