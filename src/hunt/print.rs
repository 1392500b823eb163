//! Printing a hunt's detections: JSONL and CSV line by line as they are
//! found; the table and JSON at the end, sorted. The first write error stops
//! the output (a closed pipe is the caller's to treat as quiet).

use serde::Serialize;
use sigma_engine::matcher::correlation::CorrelationHit;
use sigma_engine::matcher::{Engine, Hit};
use sigma_engine::sigma::SigmaRule;
use sigma_engine::text::printable;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use super::OutputFormat;

/// The output of a hunt, shared by the scanning threads.
pub(super) struct Printer<'a> {
    format: OutputFormat,
    engine: &'a Engine,
    state: Mutex<State<'a>>,
}

struct State<'a> {
    /// Detections held for the sorted formats.
    held: Vec<Hit>,
    out: &'a mut (dyn Write + Send),
    /// The first write error; once there is one, nothing more is written.
    failed: Option<std::io::Error>,
}

impl<'a> Printer<'a> {
    pub fn new(format: OutputFormat, engine: &'a Engine, out: &'a mut (dyn Write + Send)) -> Self {
        let mut state = State {
            held: Vec::new(),
            out,
            failed: None,
        };
        if format == OutputFormat::Csv {
            state.failed = writeln!(state.out, "{}", csv_line(&CSV_HEADER)).err();
        }
        Printer {
            format,
            engine,
            state: Mutex::new(state),
        }
    }

    /// An event's detections: printed now (JSONL, CSV) or held.
    pub fn detections(&self, dets: Vec<Hit>) {
        if dets.is_empty() {
            return;
        }
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if g.failed.is_some() {
            return;
        }
        if !matches!(self.format, OutputFormat::Jsonl | OutputFormat::Csv) {
            g.held.extend(dets);
            return;
        }
        for d in &dets {
            let line = self.line(&self.engine.rules[d.rule], d);
            if let Err(e) = writeln!(g.out, "{line}") {
                g.failed = Some(e);
                break;
            }
        }
    }

    /// One detection as a JSONL or CSV line.
    fn line(&self, r: &SigmaRule, d: &Hit) -> String {
        if self.format == OutputFormat::Jsonl {
            return serde_json::to_string(&row(r, d)).unwrap_or_default();
        }
        let fields: Vec<String> = d.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let e = &d.event;
        csv_line(&[
            e.timestamp.as_deref().unwrap_or_default(),
            r.level.map_or("", |w| w.as_str()),
            &r.title,
            r.id.as_deref().unwrap_or_default(),
            e.computer.as_deref().unwrap_or_default(),
            e.channel.as_deref().unwrap_or_default(),
            e.event_id.as_deref().unwrap_or_default(),
            &e.file,
            &e.record.to_string(),
            &fields.join("; "),
        ])
    }

    /// The held detections, sorted, and the correlations; the first write
    /// error, if any.
    pub fn finish(self, hits: &[CorrelationHit]) -> std::io::Result<()> {
        let State {
            mut held,
            out,
            failed,
        } = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = failed {
            return Err(e);
        }
        held.sort_by(|a, b| {
            let (x, y) = (&a.event, &b.event);
            (x.timestamp.as_deref(), &*x.file, x.record, a.rule).cmp(&(
                y.timestamp.as_deref(),
                &*y.file,
                y.record,
                b.rule,
            ))
        });
        match self.format {
            OutputFormat::Json => write_json(self.engine, &held, hits, out)?,
            OutputFormat::Table => write_table(self.engine, &held, hits, out)?,
            OutputFormat::Jsonl => {
                for h in hits {
                    serde_json::to_writer(&mut *out, &correlation(self.engine, h))?;
                    writeln!(out)?;
                }
            }
            OutputFormat::Csv => {
                for h in hits {
                    writeln!(out, "{}", correlation_csv(self.engine, h))?;
                }
            }
        }
        out.flush()
    }
}

/// A correlation hit with its rule, as JSON.
#[derive(serde::Serialize)]
struct CorrelationRow<'a> {
    rule: &'a str,
    rule_id: Option<&'a str>,
    level: Option<sigma_engine::sigma::vocab::Level>,
    correlation: &'a CorrelationHit,
}

fn correlation<'a>(engine: &'a Engine, h: &'a CorrelationHit) -> CorrelationRow<'a> {
    let r = &engine.rules[h.rule];
    CorrelationRow {
        rule: &r.title,
        rule_id: r.id.as_deref(),
        level: r.level,
        correlation: h,
    }
}

/// The `--format json` document.
#[derive(serde::Serialize)]
struct Report<'a> {
    detections: Vec<Row<'a>>,
    correlations: Vec<CorrelationRow<'a>>,
}

fn write_json(
    engine: &Engine,
    dets: &[Hit],
    hits: &[CorrelationHit],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let report = Report {
        detections: dets.iter().map(|d| row(&engine.rules[d.rule], d)).collect(),
        correlations: hits.iter().map(|h| correlation(engine, h)).collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    writeln!(out)
}

/// The width of the table's level column.
const LEVEL_COLUMN: usize = 8;

/// A level as the table's column shows it: `informational` as `info`, so
/// that every level fits the column and the rows stay aligned.
fn level_column(level: Option<sigma_engine::sigma::vocab::Level>) -> &'static str {
    match level {
        Some(sigma_engine::sigma::vocab::Level::Informational) => "info",
        Some(l) => l.as_str(),
        None => "-",
    }
}

fn write_table(
    engine: &Engine,
    dets: &[Hit],
    hits: &[CorrelationHit],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for d in dets {
        let r = &engine.rules[d.rule];
        let fields: Vec<String> = d.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "{:<28} {:<LEVEL_COLUMN$} {} {} {}#{} {}",
            printable(d.event.timestamp.as_deref().unwrap_or("-")),
            level_column(r.level),
            cell(&r.title, 60),
            cell(d.event.computer.as_deref().unwrap_or("-"), 16),
            printable(&d.event.file),
            d.event.record,
            fit(&fields.join("  "), 160)
        )?;
    }
    for h in hits {
        let r = &engine.rules[h.rule];
        let group: Vec<String> = h.group.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "{:<28} {:<LEVEL_COLUMN$} {} correlation: {} events, value {} ({})",
            printable(h.first.as_deref().unwrap_or("-")),
            level_column(r.level),
            cell(&r.title, 60),
            h.count,
            h.value,
            printable(&group.join(", "))
        )?;
    }
    Ok(())
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

fn row<'a>(r: &'a SigmaRule, d: &'a Hit) -> Row<'a> {
    Row {
        rule: &r.title,
        rule_id: r.id.as_deref(),
        level: r.level.map(|w| w.as_str()),
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

const CSV_HEADER: [&str; 10] = [
    "timestamp",
    "level",
    "rule",
    "rule_id",
    "computer",
    "channel",
    "event_id",
    "file",
    "record",
    "fields",
];

/// A correlation as a CSV row: its window's first time, its rule, and in
/// `fields` what it counted (no event of its own: the columns of one are
/// empty).
fn correlation_csv(engine: &Engine, h: &CorrelationHit) -> String {
    let r = &engine.rules[h.rule];
    let mut fields = vec![
        format!("correlation: {} events", h.count),
        format!("value={}", h.value),
    ];
    fields.extend(h.last.as_ref().map(|l| format!("last={l}")));
    fields.extend(h.group.iter().map(|(k, v)| format!("{k}={v}")));
    csv_line(&[
        h.first.as_deref().unwrap_or_default(),
        r.level.map_or("", |w| w.as_str()),
        &r.title,
        r.id.as_deref().unwrap_or_default(),
        "",
        "",
        "",
        "",
        "",
        &fields.join("; "),
    ])
}

/// One CSV record (RFC 4180 quoting), without its line end. A cell that
/// would begin with `=`, `+`, `-`, `@`, a tab or a carriage return (events
/// write the computer, channel and time) gets a leading `'`, so that a
/// spreadsheet shows it as text instead of running it as a formula.
fn csv_line(cells: &[&str]) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let record = cells.iter().map(|c| {
        if c.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            std::borrow::Cow::Owned(format!("'{c}").into_bytes())
        } else {
            std::borrow::Cow::Borrowed(c.as_bytes())
        }
    });
    // Writing to memory fails only on memory.
    let _ = w.write_record(record);
    let mut line = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    line.pop();
    line
}

/// A column of `width` terminal cells: the text cut to fit ([`fit`]),
/// padded with spaces where it is narrower.
fn cell(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut out = fit(s, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

/// The text made printable and cut with `…` to at most `width` terminal
/// cells. Widths are the terminal's, not characters: a CJK character takes
/// two cells.
fn fit(s: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let s = printable(s);
    if s.width() <= width {
        return s.into_owned();
    }
    // Room for the `…` the cut text ends with.
    let room = width.saturating_sub(1);
    let mut out = String::with_capacity(s.len().min(4 * width));
    let mut used = 0;
    for c in s.chars() {
        used += c.width().unwrap_or(0);
        if used > room {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigma_engine::sigma::vocab::Level;

    #[test]
    fn cells_are_as_wide_as_their_column_in_any_script() {
        use unicode_width::UnicodeWidthStr;
        for text in [
            "short",
            "可疑的PowerShell执行检测规则名称很长很长很长很长很长很长很长很长很长",
            "é".repeat(70).as_str(),
            "",
            "\u{1b}[2J",
        ] {
            for width in [1, 16, 60] {
                let c = cell(text, width);
                assert_eq!(c.width(), width, "{text:?} in {width}: {c:?}");
            }
        }
        assert_eq!(cell("abc", 5), "abc  ");
        assert_eq!(cell("abcdef", 5), "abcd…");
        assert_eq!(cell("漢字漢字", 5), "漢字…");
    }

    #[test]
    fn every_level_fits_the_tables_column() {
        for l in Level::ALL.iter().copied().map(Some).chain([None]) {
            assert!(level_column(l).len() <= LEVEL_COLUMN, "{l:?}");
        }
    }
}
