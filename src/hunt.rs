//! The `match` command: run Sigma rules over event files and report
//! detections as a table, JSON, JSONL or CSV.

use crate::tags::{TagRef, parse_tag};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use sigma_engine::diag::{Diagnostic, Diagnostics, Severity};
use sigma_engine::matcher::correlation::Correlator;
use sigma_engine::matcher::mapping::Mapping;
use sigma_engine::matcher::{Detection, Engine, EngineOptions, scan};
use sigma_engine::sigma::SigmaRule;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
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
    pub format: Format,
    /// Minimum level (informational < low < medium < high < critical).
    pub min_level: Option<String>,
    pub status: Vec<String>,
    /// Keep only rules with one of these tags (`attack.t1059`, `T1059.001`, ...).
    pub tags: Vec<String>,
    /// Keep only rules whose logsource product is one of these (`windows`).
    pub products: Vec<String>,
    pub mapping: Option<PathBuf>,
    pub extra_mapping: Vec<PathBuf>,
    pub placeholders: Option<PathBuf>,
    pub progress: bool,
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
    /// Rules that cannot run: (title, why).
    pub skipped: Vec<(String, sigma_engine::matcher::compile::Unsupported)>,
    pub detections: u64,
    pub correlations: usize,
    /// Records in the event files that could not be read.
    pub lost: u64,
    /// The reader of the output went away (a closed pipe).
    pub output_closed: bool,
    pub elapsed: Duration,
}

#[derive(Serialize)]
struct Row<'a> {
    rule: &'a str,
    rule_id: Option<&'a str>,
    level: Option<&'a str>,
    tags: &'a [String],
    file: &'a str,
    record: u64,
    timestamp: Option<&'a str>,
    computer: Option<&'a str>,
    channel: Option<&'a str>,
    event_id: Option<&'a str>,
    fields: BTreeMap<&'a str, &'a str>,
}

fn row<'a>(r: &'a SigmaRule, d: &'a Detection) -> Row<'a> {
    Row {
        rule: &r.title,
        rule_id: r.id.as_deref(),
        level: r.level.as_deref(),
        tags: &r.tags,
        file: &d.event.file,
        record: d.event.record,
        timestamp: d.event.timestamp.as_deref(),
        computer: d.event.computer.as_deref(),
        channel: d.event.channel.as_deref(),
        event_id: d.event.event_id.as_deref(),
        fields: d
            .fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    }
}

fn level_ok(r: &SigmaRule, min: Option<&str>) -> bool {
    let Some(min) = min else { return true };
    sigma_engine::sigma::rule::level_rank(r.level.as_deref())
        <= sigma_engine::sigma::rule::level_rank(Some(min))
}

fn tag_ok(r: &SigmaRule, wanted: &[TagRef]) -> bool {
    wanted.is_empty() || r.tags.iter().any(|t| wanted.contains(&parse_tag(t)))
}

/// Load, filter and compile rules for a hunt.
pub fn load_engine(cfg: &HuntConfig, diags: &Diagnostics) -> Result<(Engine, usize), Diagnostic> {
    // With --product, a file that never names the product (nor holds a
    // correlation or filter, which have no product) cannot hold a wanted rule:
    // skip parsing it.
    let products: Vec<String> = cfg.products.iter().map(|p| p.to_lowercase()).collect();
    let wanted = |text: &str| -> bool {
        if products.is_empty() {
            return true;
        }
        let lower = text.to_lowercase();
        lower.contains("correlation:")
            || lower.contains("filter:")
            || products.iter().any(|p| lower.contains(p.as_str()))
    };
    let tags: Vec<TagRef> = cfg.tags.iter().map(|t| parse_tag(t)).collect();
    let keep = |r: &mut SigmaRule| -> bool {
        // Correlations and filters are kept: they act on the kept rules.
        let kept = r.kind != sigma_engine::sigma::RuleKind::Detection
            || (level_ok(r, cfg.min_level.as_deref())
                && (cfg.status.is_empty()
                    || r.status
                        .as_ref()
                        .is_some_and(|s| cfg.status.iter().any(|x| x.eq_ignore_ascii_case(s))))
                && tag_ok(r, &tags)
                && (cfg.products.is_empty()
                    || r.logsource
                        .product
                        .as_ref()
                        .is_some_and(|p| cfg.products.iter().any(|x| x.eq_ignore_ascii_case(p)))));
        // The matcher never shows a rule's YAML text nor its prose.
        r.drop_prose();
        kept
    };
    let set = sigma_engine::sigma::load_where(&cfg.rules, diags, &wanted, &keep);
    let loaded = set.parsed;
    let keep = set.rules;
    let mut mapping = match &cfg.mapping {
        Some(p) => Mapping::from_file(p)?,
        None => Mapping::builtin(),
    };
    for p in &cfg.extra_mapping {
        mapping.extend(Mapping::from_file(p)?);
    }
    let mut opts = EngineOptions::default();
    if let Some(p) = &cfg.placeholders {
        opts.placeholders = read_placeholders(p)?;
    }
    // Compile on a pool thread: the rules were parsed on the pool, and the
    // memory their detection trees free is then reused by the compiled
    // rules instead of growing the main thread's heap (about 9 MB less).
    let engine = rayon::join(|| Engine::new(keep, &mapping, &opts), || ()).0;
    engine.report_filters(diags);
    Ok((engine, loaded))
}

/// Read a placeholder file: YAML map of name → list of values.
pub fn read_placeholders(
    p: &std::path::Path,
) -> Result<sigma_engine::matcher::compile::Placeholders, Diagnostic> {
    let text = std::fs::read_to_string(p)
        .map_err(|e| Diagnostic::error("placeholders", format!("cannot read: {e}")).in_file(p))?;
    let node = sigma_engine::yaml::parse_document(&text).map_err(|e| {
        Diagnostic::error("placeholders", e.message)
            .in_file(p)
            .at(e.line, e.column)
    })?;
    let mut out = sigma_engine::matcher::compile::Placeholders::new();
    if let sigma_engine::yaml::Yaml::Map(m) = &node.value {
        for (k, v) in m {
            let values = match &v.value {
                sigma_engine::yaml::Yaml::Seq(items) => {
                    items.iter().filter_map(|i| i.as_scalar_text()).collect()
                }
                _ => v.as_scalar_text().into_iter().collect(),
            };
            out.insert(k.as_scalar_text().unwrap_or_default(), values);
        }
    }
    Ok(out)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Run a hunt, writing detections to `out` as they are found (table and
/// JSON formats are written at the end, sorted).
pub fn run(
    cfg: &HuntConfig,
    diags: &Diagnostics,
    out: &mut (dyn Write + Send),
) -> Result<HuntSummary, Diagnostic> {
    let start = Instant::now();
    let (engine, loaded) = load_engine(cfg, diags)?;
    if engine.runnable() == 0 && engine.correlations.is_empty() {
        return Err(Diagnostic::error("match", no_rule_message(&engine, loaded)));
    }
    let pb = if cfg.progress {
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} {pos} events {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        pb
    } else {
        ProgressBar::hidden()
    };
    let correlator = Correlator::new(&engine);
    let streaming = matches!(cfg.format, Format::Jsonl | Format::Csv);
    // The first write error; once there is one, nothing more is written.
    type Sink<'o> = (
        Vec<Detection>,
        &'o mut (dyn Write + Send),
        Option<std::io::Error>,
    );
    let sink: Mutex<Sink> = Mutex::new((Vec::new(), out, None));
    if cfg.format == Format::Csv {
        let mut g = sink.lock().unwrap_or_else(|p| p.into_inner());
        g.2 = writeln!(
            g.1,
            "timestamp,level,rule,rule_id,computer,channel,event_id,file,record,fields"
        )
        .err();
    }
    let stats = scan(&engine, &cfg.events, diags, |e, dets| {
        pb.inc(1);
        if correlator.is_active() {
            correlator.record(e, &dets);
        }
        if dets.is_empty() {
            return;
        }
        let mut g = sink.lock().unwrap_or_else(|p| p.into_inner());
        if g.2.is_some() {
            return;
        }
        if streaming {
            for d in &dets {
                let r = &engine.rules[d.rule];
                let line = match cfg.format {
                    Format::Jsonl => serde_json::to_string(&row(r, d)).unwrap_or_default(),
                    _ => {
                        let fields: Vec<String> =
                            d.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        [
                            d.event.timestamp.clone().unwrap_or_default(),
                            r.level.clone().unwrap_or_default(),
                            r.title.clone(),
                            r.id.clone().unwrap_or_default(),
                            d.event.computer.clone().unwrap_or_default(),
                            d.event.channel.clone().unwrap_or_default(),
                            d.event.event_id.clone().unwrap_or_default(),
                            d.event.file.to_string(),
                            d.event.record.to_string(),
                            fields.join("; "),
                        ]
                        .iter()
                        .map(|s| csv_field(s))
                        .collect::<Vec<_>>()
                        .join(",")
                    }
                };
                if let Err(e) = writeln!(g.1, "{line}") {
                    g.2 = Some(e);
                    break;
                }
            }
        } else {
            g.0.extend(dets);
        }
    });
    pb.finish_and_clear();
    let hits = correlator.finish();
    let (mut dets, out, failed) = sink.into_inner().unwrap_or_else(|p| p.into_inner());
    dets.sort_by(|a, b| {
        (
            a.event.timestamp.as_deref(),
            &*a.event.file,
            a.event.record,
            a.rule,
        )
            .cmp(&(
                b.event.timestamp.as_deref(),
                &*b.event.file,
                b.event.record,
                b.rule,
            ))
    });
    let written = match failed {
        Some(e) => Err(e),
        None => (|| -> std::io::Result<()> {
            match cfg.format {
                Format::Json => {
                    let rows: Vec<Row> =
                        dets.iter().map(|d| row(&engine.rules[d.rule], d)).collect();
                    let corr: Vec<serde_json::Value> = hits
                    .iter()
                    .map(|h| serde_json::json!({"rule": engine.rules[h.rule].title, "rule_id": engine.rules[h.rule].id, "level": engine.rules[h.rule].level, "correlation": h}))
                    .collect();
                    serde_json::to_writer_pretty(
                        &mut *out,
                        &serde_json::json!({"detections": rows, "correlations": corr}),
                    )
                    .map_err(std::io::Error::from)?;
                    writeln!(out)?;
                }
                Format::Table => {
                    for d in &dets {
                        let r = &engine.rules[d.rule];
                        let fields: Vec<String> =
                            d.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        writeln!(
                            out,
                            "{:<28} {:<8} {:<60} {:<16} {}#{} {}",
                            clean(d.event.timestamp.as_deref().unwrap_or("-")),
                            clean(r.level.as_deref().unwrap_or("-")),
                            truncate(&r.title, 60),
                            truncate(d.event.computer.as_deref().unwrap_or("-"), 16),
                            clean(&d.event.file),
                            d.event.record,
                            truncate(&fields.join("  "), 160)
                        )?;
                    }
                    for h in &hits {
                        let r = &engine.rules[h.rule];
                        let group: Vec<String> =
                            h.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
                        writeln!(
                            out,
                            "{:<28} {:<8} {:<60} correlation: {} events, value {} ({})",
                            clean(h.first.as_deref().unwrap_or("-")),
                            clean(r.level.as_deref().unwrap_or("-")),
                            truncate(&r.title, 60),
                            h.count,
                            h.value,
                            clean(&group.join(", "))
                        )?;
                    }
                }
                Format::Jsonl => {
                    for h in &hits {
                        let v = serde_json::json!({"rule": engine.rules[h.rule].title, "rule_id": engine.rules[h.rule].id, "level": engine.rules[h.rule].level, "correlation": h});
                        writeln!(out, "{v}")?;
                    }
                }
                Format::Csv => {}
            }
            out.flush()
        })(),
    };
    // A closed pipe (`| head`) ends the output quietly, as for any
    // command-line filter; any other write error (a full disk) fails.
    let output_closed = match written {
        Ok(()) => false,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => true,
        Err(e) => {
            return Err(Diagnostic::error(
                "match",
                format!("cannot write output: {e}"),
            ));
        }
    };
    let skipped = engine
        .skipped
        .iter()
        .map(|s| (engine.rules[s.rule].title.clone(), s.reason.clone()))
        .collect();
    let summary = HuntSummary {
        files: stats.files,
        events: stats.events,
        rules_loaded: loaded,
        rules_run: engine.runnable(),
        skipped,
        detections: stats.detections,
        correlations: hits.len(),
        lost: stats.lost,
        output_closed,
        elapsed: start.elapsed(),
    };
    if cfg.exit_after {
        std::mem::forget(engine);
    }
    Ok(summary)
}

/// Why no rule can run: the filters left none, or each was skipped (the
/// reasons, most common first).
fn no_rule_message(engine: &Engine, loaded: usize) -> String {
    if loaded == 0 {
        return "no rule can run: no rule document could be read (see the errors above)".into();
    }
    if engine.skipped.is_empty() {
        return format!(
            "no rule can run: none of the {loaded} rule documents read passes the --level/--status/--tag/--product filters"
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

/// Text from events made safe for a terminal: control characters (ESC,
/// BEL, CR, LF, ...) are shown escaped, so an event cannot redraw the screen
/// or forge lines.
fn clean(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return s.into();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

fn truncate(s: &str, n: usize) -> String {
    let s = clean(s);
    if s.chars().count() <= n {
        s.into_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Whether the diagnostics hold errors (for exit codes).
pub fn had_errors(d: &Diagnostics) -> bool {
    d.count(Severity::Error) > 0
}
