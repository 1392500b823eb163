//! The `match` command: run Sigma rules over event files and report
//! detections as a table, JSON, JSONL or CSV ([`print`]).

mod print;
pub mod summary;

use crate::tags::{TagRef, parse_tag};
use sigma_engine::diag::{Diagnostic, Diagnostics, Severity};
use sigma_engine::matcher::Unserved;
use sigma_engine::matcher::compile::Unsupported;
use sigma_engine::matcher::correlation::{CYCLE, Correlator};
use sigma_engine::matcher::mapping::Mapping;
use sigma_engine::matcher::{Engine, EngineOptions, Hit, Window, scan_fired};
use sigma_engine::sigma::SigmaRule;
use sigma_engine::sigma::vocab::{Level, Status};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
    Jsonl,
    Csv,
}

/// Everything `match` needs.
#[derive(Debug, Clone)]
pub struct HuntConfig {
    pub rules: Vec<PathBuf>,
    pub events: Vec<PathBuf>,
    pub format: OutputFormat,
    /// Minimum level (informational < low < medium < high < critical).
    pub min_level: Option<Level>,
    pub status: Vec<Status>,
    /// Keep only rules with one of these tags (`attack.t1059`, `T1059.001`,
    /// a tactic, ...: [`crate::tags::parse_wanted_tag`]).
    pub tags: Vec<TagRef>,
    /// Keep only rules whose logsource product is one of these (`windows`).
    pub products: Vec<String>,
    pub mapping: Option<PathBuf>,
    pub extra_mapping: Vec<PathBuf>,
    pub placeholders: Option<PathBuf>,
    /// Only events of this span of time are matched.
    pub window: Window,
    /// Each detection shows its whole event, every field it holds.
    pub all_fields: bool,
    pub progress: bool,
    /// The width of the terminal the table goes to: its rows fit it. `None`
    /// (a file, a pipe): columns of fixed width and whole paths.
    pub table_width: Option<usize>,
    /// The process exits right after the hunt: leave the compiled rules to
    /// the operating system instead of freeing them one by one (that costs
    /// about a tenth of a short run).
    pub exit_after: bool,
}

/// What a hunt found.
#[derive(Debug, Default)]
pub struct HuntSummary {
    pub files: usize,
    pub events: u64,
    pub rules_loaded: usize,
    pub rules_run: usize,
    /// Rules not run for their status (deprecated, unsupported).
    pub retired: usize,
    /// Rules read that the options leave out.
    pub left_out: usize,
    /// Rules that cannot run: (title, why).
    pub skipped: Vec<(String, sigma_engine::matcher::compile::Unsupported)>,
    pub detections: u64,
    pub correlations: usize,
    /// Detections of rules only correlations use (not shown).
    pub counted_only: u64,
    /// Detections per rule that fired: (title, level, count), most first.
    pub fired: Vec<(String, Option<Level>, u64)>,
    /// Detections per computer that has any, most first.
    pub computers: Vec<(String, u64)>,
    /// The times of the earliest and the latest detection, as the events
    /// write them (by the instant they stand for).
    pub span: Option<(String, String)>,
    /// Records in the event files that could not be read.
    pub lost: u64,
    /// Events the time window left out: outside it, and without a time.
    pub outside: u64,
    pub untimed: u64,
    /// Events no loaded rule's logsource selects.
    pub unserved: Unserved,
    /// The reader of the output went away (a closed pipe).
    pub output_closed: bool,
    pub elapsed: Duration,
}

fn level_ok(r: &SigmaRule, min: Option<Level>) -> bool {
    min.is_none_or(|min| r.level.is_some_and(|l| l >= min))
}

/// Whether a rule has one of the `wanted` tags; each wanted tag it has is
/// marked in `met`.
fn tag_ok(r: &SigmaRule, wanted: &[TagRef], met: &[AtomicBool]) -> bool {
    let mut ok = wanted.is_empty();
    for t in r.tags.iter().map(|t| parse_tag(t)) {
        for (w, met) in wanted.iter().zip(met) {
            if w.covers(&t) {
                met.store(true, Ordering::Relaxed);
                ok = true;
            }
        }
    }
    ok
}

/// Warns of each value of `flag` (`--tag`, `--product`) that no rule read
/// has (`met` unset): a search by a value spelt as no rule spells it
/// (`windwos`) would otherwise just find nothing.
fn warn_unmet<T: std::fmt::Display>(
    flag: &str,
    what: &str,
    wanted: &[T],
    met: &[AtomicBool],
    diags: &Diagnostics,
) {
    for (w, _) in (wanted.iter().zip(met)).filter(|(_, m)| !m.load(Ordering::Relaxed)) {
        let msg = format!("{flag} {w}: no rule read has this {what}");
        diags.push(Diagnostic::warning("match", msg));
    }
}

/// The rules of a hunt, compiled.
pub struct Loaded {
    pub engine: Engine,
    /// Rule documents read.
    pub parsed: usize,
    /// Detection rules left out for their status (deprecated or
    /// unsupported) while `--status` names none.
    pub retired: usize,
    /// Detection rules read that `--level`, `--status`, `--tag` or
    /// `--product` leave out.
    pub left_out: usize,
    /// Per rule of the engine, whether the options leave it out but a
    /// correlation counts it: it runs, its own detections not shown.
    pub inputs_only: Vec<bool>,
}

/// Whether a rule of this status runs under the `--status` given: a
/// retired one ([`Status::is_retired`]) only when `--status` names it.
fn status_ok(status: Option<Status>, wanted: &[Status]) -> bool {
    match status {
        _ if wanted.is_empty() => status.is_none_or(|s| !s.is_retired()),
        Some(s) => wanted.contains(&s),
        None => false,
    }
}

/// Load, filter and compile rules for a hunt.
pub fn load_engine(cfg: &HuntConfig, diags: &Diagnostics) -> Result<Loaded, Diagnostic> {
    let filters = Filters::new(cfg);
    let wanted = sigma_engine::sigma::Wanted {
        file: &|text: &str| filters.file(text),
        document: &|d: &sigma_engine::yaml::Node| filters.document(d),
        rule: &|r: &mut SigmaRule| filters.rule(r),
    };
    let set = sigma_engine::sigma::load_where(&cfg.rules, diags, &wanted);
    let (rules, inputs_only, left_out) = with_correlation_inputs(set.rules, |r| filters.keeps(r));
    warn_unmet("--tag", "tag", &cfg.tags, &filters.met, diags);
    let products_met = &filters.products_met;
    warn_unmet(
        "--product",
        "logsource product",
        &cfg.products,
        products_met,
        diags,
    );
    let mapping = Mapping::load(cfg.mapping.as_deref(), &cfg.extra_mapping)?;
    let mut opts = EngineOptions {
        window: cfg.window,
        whole_events: cfg.all_fields,
        ..EngineOptions::default()
    };
    if let Some(p) = &cfg.placeholders {
        opts.placeholders = read_placeholders(p)?;
    }
    // Compile on a pool thread: the rules were parsed on the pool, and the
    // memory their detection trees free is then reused by the compiled
    // rules instead of growing the main thread's heap (about 9 MB less).
    let engine = rayon::join(|| Engine::new(rules, &mapping, &opts), || ()).0;
    engine.report_filters(diags);
    Ok(Loaded {
        engine,
        parsed: set.parsed,
        retired: filters.retired.into_inner(),
        left_out,
        inputs_only,
    })
}

/// The rules the options keep (`keeps`), and of those they leave out the
/// ones a kept correlation counts, directly or through another: without
/// them it could never fire. Those run as its inputs, their own detections
/// not shown (the second vector says which); the number left out is last.
fn with_correlation_inputs(
    rules: Vec<SigmaRule>,
    keeps: impl Fn(&SigmaRule) -> bool,
) -> (Vec<SigmaRule>, Vec<bool>, usize) {
    let kept: Vec<bool> = rules.iter().map(keeps).collect();
    let mut needed = vec![false; rules.len()];
    let mut counting: Vec<usize> = (0..rules.len())
        .filter(|&i| kept[i] && rules[i].correlation.is_some())
        .collect();
    let refs = match counting.is_empty() || kept.iter().all(|&k| k) {
        true => Default::default(),
        false => sigma_engine::sigma::refs::RuleRefs::new(&rules),
    };
    while let Some(ci) = counting.pop() {
        let names = rules[ci].correlation.iter().flat_map(|c| &c.rules);
        for j in names.filter_map(|n| refs.get(n)) {
            if !std::mem::replace(&mut needed[j], true) && rules[j].correlation.is_some() {
                counting.push(j);
            }
        }
    }
    let mut inputs_only = Vec::with_capacity(rules.len());
    let mut out = Vec::with_capacity(rules.len());
    let mut left_out = 0;
    for ((r, keep), needed) in rules.into_iter().zip(kept).zip(needed) {
        if keep || needed {
            inputs_only.push(!keep);
            out.push(r);
        } else {
            left_out += 1;
        }
    }
    (out, inputs_only, left_out)
}

/// The rules a hunt's options keep, asked of each rule file's text, each
/// YAML document and each rule read (on the threads that read them).
struct Filters<'c> {
    cfg: &'c HuntConfig,
    /// `--product` values, lower case.
    products: Vec<String>,
    /// Whether a rule with each `--tag` was read.
    met: Vec<AtomicBool>,
    /// Whether a detection rule of each `--product` was read.
    products_met: Vec<AtomicBool>,
    /// Documents left out for their status.
    retired: AtomicUsize,
}

impl Filters<'_> {
    fn new(cfg: &HuntConfig) -> Filters<'_> {
        Filters {
            cfg,
            products: cfg.products.iter().map(|p| p.to_lowercase()).collect(),
            met: cfg.tags.iter().map(|_| AtomicBool::new(false)).collect(),
            products_met: cfg
                .products
                .iter()
                .map(|_| AtomicBool::new(false))
                .collect(),
            retired: AtomicUsize::new(0),
        }
    }

    /// With --product, a file that never names the product (nor holds a
    /// correlation or filter, which have no product) cannot hold a wanted
    /// rule: it is not parsed, unless a correlation counts a rule in it
    /// (`load_where` then reads it after all).
    fn file(&self, text: &str) -> bool {
        if self.products.is_empty() {
            return true;
        }
        let lower = text.to_lowercase();
        lower.contains("correlation:")
            || lower.contains("filter:")
            || self.products.iter().any(|p| lower.contains(p.as_str()))
    }

    /// Retired rules are left out before they are read, so that their
    /// problems (70 SigmaHQ unsupported rules use a syntax Sigma dropped)
    /// are not reported.
    fn document(&self, d: &sigma_engine::yaml::Node) -> bool {
        let status = sigma_engine::sigma::document_status(d);
        let read = !self.cfg.status.is_empty() || status_ok(status, &[]);
        if !read {
            self.retired.fetch_add(1, Ordering::Relaxed);
        }
        read
    }

    /// Every rule read is kept until the correlations that may count it
    /// are known ([`with_correlation_inputs`]), without what the matcher
    /// never shows: its YAML text and its prose.
    fn rule(&self, r: &mut SigmaRule) -> bool {
        r.drop_prose();
        true
    }

    /// Whether the options keep a rule. Filters are kept: they act on the
    /// kept rules. A correlation is judged by its own level, status and
    /// tags (it has no logsource), and the rules it counts run with it.
    fn keeps(&self, r: &SigmaRule) -> bool {
        use sigma_engine::sigma::RuleKind;
        let cfg = self.cfg;
        let product_ok = || {
            let Some(p) = r.logsource.product.as_ref() else {
                return cfg.products.is_empty();
            };
            let mut ok = cfg.products.is_empty();
            for (x, met) in cfg.products.iter().zip(&self.products_met) {
                if x.eq_ignore_ascii_case(p) {
                    met.store(true, Ordering::Relaxed);
                    ok = true;
                }
            }
            ok
        };
        let own = || {
            level_ok(r, cfg.min_level)
                && status_ok(r.status, &cfg.status)
                && tag_ok(r, &cfg.tags, &self.met)
        };
        match r.kind {
            RuleKind::Filter => true,
            RuleKind::Correlation => own(),
            RuleKind::Detection => own() && product_ok(),
        }
    }
}

/// Read a placeholder file: YAML map of name → list of values.
pub fn read_placeholders(
    p: &std::path::Path,
) -> Result<sigma_engine::matcher::compile::Placeholders, Diagnostic> {
    let text = sigma_engine::text::read_file(p).map_err(|e| e.diagnostic("placeholders", p))?;
    let node = sigma_engine::yaml::parse_document(&text).map_err(|e| {
        Diagnostic::error("placeholders", e.message)
            .in_file(p)
            .at(e.line, e.column)
    })?;
    let mut out = sigma_engine::matcher::compile::Placeholders::new();
    let sigma_engine::yaml::Yaml::Map(m) = &node.value else {
        let msg = format!(
            "must be a map of name → list of values, not a {}",
            node.type_name()
        );
        return Err(Diagnostic::error("placeholders", msg)
            .in_file(p)
            .at(Some(node.line), Some(node.column)));
    };
    for (k, v) in m {
        let values = match &v.value {
            sigma_engine::yaml::Yaml::Seq(items) => {
                items.iter().filter_map(|i| i.as_scalar_text()).collect()
            }
            _ => v.as_scalar_text().into_iter().collect(),
        };
        out.insert(k.as_scalar_text().unwrap_or_default(), values);
    }
    Ok(out)
}

/// Run a hunt, writing detections to `out` as they are found (table and
/// JSON formats are written at the end, sorted).
pub fn run(
    cfg: &HuntConfig,
    diags: &Diagnostics,
    out: &mut (dyn Write + Send),
) -> Result<HuntSummary, Diagnostic> {
    let start = Instant::now();
    let Loaded {
        engine,
        parsed: loaded,
        retired,
        left_out,
        inputs_only,
    } = load_engine(cfg, diags)?;
    if engine.runnable() == 0 && engine.correlations.is_empty() {
        return Err(Diagnostic::error(
            "match",
            no_rule_message(&engine, loaded, retired),
        ));
    }
    let pb = crate::progress::spinner(cfg.progress, "{spinner} {elapsed} {pos} events {msg}");
    let correlator = Correlator::new(&engine);
    let printer = print::Printer::new(cfg.format, cfg.table_width, &engine, out);
    let tally = Tally::new(&engine, &correlator, &inputs_only);
    let progress = |n| pb.inc(n);
    let stats = scan_fired(&engine, &cfg.events, diags, progress, |e, dets| {
        if correlator.is_active() {
            correlator.record(e, &dets);
        }
        // A closed output stops the matching too.
        printer.detections(tally.shown(dets))
    });
    pb.finish_and_clear();
    // A correlation the options leave out runs only as another's input.
    let cyclic = correlator.cyclic();
    let mut hits = correlator.finish(diags);
    hits.retain(|h| !inputs_only[h.rule]);
    let output_closed = closed_output(printer.finish(&hits), "match")?;
    let cycle = || Unsupported::Construct(CYCLE.to_string());
    let skipped = (engine.skipped.iter())
        .map(|s| (engine.rules[s.rule].title.clone(), s.reason.clone()))
        .chain(
            cyclic
                .iter()
                .map(|&ci| (engine.rules[ci].title.clone(), cycle())),
        )
        .collect();
    let seen = tally.seen.into_inner().unwrap_or_else(|e| e.into_inner());
    let summary = HuntSummary {
        files: stats.files,
        events: stats.events,
        rules_loaded: loaded,
        // Detection rules and correlations.
        rules_run: engine.runnable() + engine.correlations.len() - cyclic.len(),
        retired,
        left_out,
        skipped,
        detections: stats.detections - tally.not_shown.load(Ordering::Relaxed),
        counted_only: tally.not_shown.into_inner(),
        fired: fired(&engine, &tally.per_rule),
        computers: seen.computers(),
        span: seen.span(),
        correlations: hits.len(),
        lost: stats.lost,
        outside: stats.outside,
        untimed: stats.untimed,
        unserved: stats.unserved,
        output_closed,
        elapsed: start.elapsed(),
    };
    if cfg.exit_after {
        std::mem::forget(engine);
    }
    Ok(summary)
}

/// The detections a hunt shows, counted per rule, and those it does not:
/// a rule only correlations count fires through them alone.
struct Tally {
    per_rule: Vec<AtomicU64>,
    counted_only: Vec<bool>,
    not_shown: AtomicU64,
    seen: std::sync::Mutex<Seen>,
}

impl Tally {
    fn new(engine: &Engine, correlator: &Correlator, inputs_only: &[bool]) -> Tally {
        let counted_only = correlator
            .counted_only()
            .into_iter()
            .zip(inputs_only)
            .map(|(counted, input)| counted || *input)
            .collect();
        Tally {
            per_rule: engine.rules.iter().map(|_| AtomicU64::new(0)).collect(),
            counted_only,
            not_shown: AtomicU64::new(0),
            seen: Default::default(),
        }
    }

    /// The detections of one event to show, counted.
    fn shown(&self, dets: Vec<Hit>) -> Vec<Hit> {
        let (shown, counted): (Vec<_>, Vec<_>) =
            dets.into_iter().partition(|d| !self.counted_only[d.rule]);
        self.not_shown
            .fetch_add(counted.len() as u64, Ordering::Relaxed);
        for d in &shown {
            self.per_rule[d.rule].fetch_add(1, Ordering::Relaxed);
        }
        // Locked only for an event that fired, not for every event read.
        if let Some(first) = shown.first() {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.add(&first.event, shown.len() as u64);
        }
        shown
    }
}

/// Where and when the shown detections happened: per computer, and the
/// earliest and latest event time (instant, text).
#[derive(Default)]
struct Seen {
    computers: HashMap<String, u64>,
    first: Option<(i128, String)>,
    last: Option<(i128, String)>,
}

impl Seen {
    /// `n` detections of one event.
    fn add(&mut self, e: &sigma_engine::events::EventMeta, n: u64) {
        if let Some(c) = &e.computer {
            *self.computers.entry(c.clone()).or_default() += n;
        }
        let Some(t) = e.timestamp.as_deref() else {
            return;
        };
        let Some(at) = sigma_engine::matcher::epoch_nanos(t) else {
            return;
        };
        // Ties go by the text, so that the run's threads do not choose.
        if self.first.as_ref().is_none_or(|f| (at, t) < (f.0, &f.1)) {
            self.first = Some((at, t.to_string()));
        }
        if self.last.as_ref().is_none_or(|l| (at, t) > (l.0, &l.1)) {
            self.last = Some((at, t.to_string()));
        }
    }

    fn computers(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .computers
            .iter()
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    fn span(&self) -> Option<(String, String)> {
        Some((
            self.first.as_ref()?.1.clone(),
            self.last.as_ref()?.1.clone(),
        ))
    }
}

/// Whether the output's reader went away: a closed pipe (`| head`) ends
/// the output quietly, as for any command-line filter; any other write
/// error (a full disk) fails.
pub fn closed_output(
    written: std::io::Result<()>,
    command: &'static str,
) -> Result<bool, Diagnostic> {
    match written {
        Ok(()) => Ok(false),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(true),
        Err(e) => Err(Diagnostic::error(
            command,
            format!("cannot write output: {e}"),
        )),
    }
}

/// The rules that fired: (title, level, detections), most first.
fn fired(engine: &Engine, per_rule: &[AtomicU64]) -> Vec<(String, Option<Level>, u64)> {
    let mut fired: Vec<_> = per_rule
        .iter()
        .zip(&engine.rules)
        .map(|(n, r)| (r.title.clone(), r.level, n.load(Ordering::Relaxed)))
        .filter(|f| f.2 > 0)
        .collect();
    fired.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    fired
}

/// Why no rule can run: the filters left none, or each was skipped (the
/// reasons, most common first).
fn no_rule_message(engine: &Engine, loaded: usize, retired: usize) -> String {
    if loaded == 0 {
        return "no rule can run: no rule document could be read (see the errors above)".into();
    }
    if engine.skipped.is_empty() {
        let retired = if retired > 0 {
            format!(
                " ({retired} are deprecated or unsupported: `--status deprecated,unsupported` runs them)"
            )
        } else {
            String::new()
        };
        return format!(
            "no rule can run: none of the {loaded} rule documents read passes the --level/--status/--tag/--product filters{retired}"
        );
    }
    let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
    for s in &engine.skipped {
        *by_reason.entry(s.reason.to_string()).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = by_reason.into_iter().collect();
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    let reasons: Vec<String> = v.iter().map(|(r, n)| format!("{n} × {r}")).collect();
    format!(
        "no rule can run: {} skipped ({})",
        engine.skipped.len(),
        reasons.join("; ")
    )
}

/// Whether the diagnostics hold errors (for exit codes).
pub fn had_errors(d: &Diagnostics) -> bool {
    d.count(Severity::Error) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_and_last_detections_go_by_instant_and_computers_by_count() {
        let meta = |t: Option<&str>, c: Option<&str>| sigma_engine::events::EventMeta {
            timestamp: t.map(str::to_string),
            computer: c.map(str::to_string),
            ..Default::default()
        };
        let mut seen = Seen::default();
        // 17:30Z, 17:00Z written with an offset, 16:00Z as epoch seconds.
        seen.add(&meta(Some("2019-05-19T17:30:00Z"), Some("B")), 1);
        seen.add(&meta(Some("2019-05-19T19:00:00+02:00"), Some("A")), 2);
        seen.add(&meta(Some("1558281600"), None), 1);
        seen.add(&meta(None, Some("B")), 2);
        seen.add(&meta(Some("not a time"), Some("C")), 3);
        assert_eq!(
            seen.span(),
            Some(("1558281600".into(), "2019-05-19T17:30:00Z".into()))
        );
        assert_eq!(
            seen.computers(),
            [("B".into(), 3), ("C".into(), 3), ("A".into(), 2)]
        );
    }

    #[test]
    fn deprecated_and_unsupported_rules_run_only_when_named() {
        use Status::*;
        for s in [Stable, Test, Experimental] {
            assert!(status_ok(Some(s), &[]), "{s:?}");
            assert!(!status_ok(Some(s), &[Deprecated]), "{s:?}");
        }
        assert!(status_ok(None, &[]), "a rule without a status runs");
        assert!(!status_ok(None, &[Test]));
        for s in [Deprecated, Unsupported] {
            assert!(!status_ok(Some(s), &[]), "{s:?}");
            assert!(status_ok(Some(s), &[s]), "{s:?}");
        }
    }
}
