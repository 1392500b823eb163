//! Printing a hunt's detections: JSONL and CSV line by line as they are
//! found; the table and JSON at the end, sorted. The first write error stops
//! the output (a closed pipe is the caller's to treat as quiet).

use serde::Serialize;
use sigma_engine::events::EventFields;
use sigma_engine::matcher::correlation::CorrelationHit;
use sigma_engine::matcher::{Engine, Hit, epoch_nanos};
use sigma_engine::sigma::SigmaRule;
use sigma_engine::text::printable;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::sync::Mutex;

use super::OutputFormat;

/// The output of a hunt, shared by the scanning threads.
pub(super) struct Printer<'a> {
    format: OutputFormat,
    /// The terminal's width the table fits its rows to, if it goes to one.
    width: Option<usize>,
    engine: &'a Engine,
    state: Mutex<State<'a>>,
}

struct State<'a> {
    /// Detections held for JSON, sorted at the end.
    held: Vec<Hit>,
    /// The table's rows, each written when its detection came (a row holds
    /// a third of what its detection does: 188,002 detections held as
    /// hits took 210 MB), sorted at the end.
    rows: Vec<(Order, Box<str>)>,
    out: &'a mut (dyn Write + Send),
    /// The first write error; once there is one, nothing more is written.
    failed: Option<std::io::Error>,
}

impl<'a> Printer<'a> {
    pub fn new(
        format: OutputFormat,
        width: Option<usize>,
        engine: &'a Engine,
        out: &'a mut (dyn Write + Send),
    ) -> Self {
        let mut state = State {
            held: Vec::new(),
            rows: Vec::new(),
            out,
            failed: None,
        };
        if format == OutputFormat::Csv {
            let event = engine.whole_events.then_some("event");
            let header: Vec<&str> = CSV_HEADER.into_iter().chain(event).collect();
            state.failed = writeln!(state.out, "{}", csv_line(&header)).err();
        }
        Printer {
            format,
            width,
            engine,
            state: Mutex::new(state),
        }
    }

    /// An event's detections: printed now (JSONL, CSV) or held. `Break`
    /// once the output failed (a closed pipe): nothing more is printed.
    pub fn detections(&self, dets: Vec<Hit>) -> ControlFlow<()> {
        if dets.is_empty() {
            return ControlFlow::Continue(());
        }
        // Rows and lines are made before the lock is taken: events of
        // several files fire on several threads.
        let shown = match self.format {
            OutputFormat::Table => Shown::Rows(
                (dets.iter())
                    .map(|d| (Order::of(d), self.table_row(d)))
                    .collect(),
            ),
            OutputFormat::Json => Shown::Held(dets),
            OutputFormat::Jsonl | OutputFormat::Csv => Shown::Lines(
                (dets.iter())
                    .map(|d| self.line(&self.engine.rules[d.rule], d))
                    .collect(),
            ),
        };
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if g.failed.is_some() {
            return ControlFlow::Break(());
        }
        match shown {
            Shown::Rows(rows) => g.rows.extend(rows),
            Shown::Held(dets) => g.held.extend(dets),
            Shown::Lines(lines) => {
                for line in lines {
                    if let Err(e) = writeln!(g.out, "{line}") {
                        g.failed = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// One detection as the table's row, for the terminal if it goes to one.
    fn table_row(&self, d: &Hit) -> Box<str> {
        match self.width {
            Some(w) => terminal_row(self.engine, d, w),
            None => table_row(self.engine, d),
        }
        .into_boxed_str()
    }

    /// One detection as a JSONL or CSV line.
    fn line(&self, r: &SigmaRule, d: &Hit) -> String {
        if self.format == OutputFormat::Jsonl {
            return serde_json::to_string(&row(r, d)).unwrap_or_default();
        }
        let e = &d.event;
        let whole = d
            .whole
            .as_ref()
            .map(|w| serde_json::to_string(w).unwrap_or_default());
        let cells = [
            e.timestamp.as_deref().unwrap_or_default(),
            r.level.map_or("", |w| w.as_str()),
            &r.title,
            r.id.as_deref().unwrap_or_default(),
            e.computer.as_deref().unwrap_or_default(),
            e.channel.as_deref().unwrap_or_default(),
            e.event_id.as_deref().unwrap_or_default(),
            &e.file,
            &e.record.to_string(),
            &pairs(&d.fields, "; "),
        ];
        csv_line(
            &cells
                .into_iter()
                .chain(whole.as_deref())
                .collect::<Vec<_>>(),
        )
    }

    /// The held detections, sorted, and the correlations; the first write
    /// error, if any.
    pub fn finish(self, hits: &[CorrelationHit]) -> std::io::Result<()> {
        let State {
            held,
            mut rows,
            out,
            failed,
        } = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = failed {
            return Err(e);
        }
        match self.format {
            OutputFormat::Json => write_json(self.engine, &in_order(held), hits, out)?,
            OutputFormat::Table => {
                rows.sort_by(|a, b| a.0.cmp(&b.0));
                for (_, row) in rows {
                    writeln!(out, "{row}")?;
                }
                match self.width {
                    Some(w) => write_terminal_correlations(self.engine, hits, w, out)?,
                    None => write_correlations(self.engine, hits, out)?,
                }
            }
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

/// An event's detections as the output takes them.
enum Shown {
    /// The table's rows, to be sorted.
    Rows(Vec<(Order, Box<str>)>),
    /// JSON's detections, to be sorted.
    Held(Vec<Hit>),
    /// JSONL or CSV lines, written at once.
    Lines(Vec<String>),
}

/// Where a detection stands in the sorted formats: in the order of its
/// event's instant, whatever the form the time was written in (`+02:00`,
/// seconds since the epoch, a space for the `T`), so that a timeline of
/// several sources reads in order; then by the time's text (untimed
/// first), file, record and rule.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Order {
    at: Option<i128>,
    time: Option<Box<str>>,
    file: std::sync::Arc<str>,
    record: u64,
    rule: usize,
}

/// Detections sorted by [`Order`].
fn in_order(held: Vec<Hit>) -> Vec<Hit> {
    let mut keyed: Vec<(Order, Hit)> = held.into_iter().map(|d| (Order::of(&d), d)).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, d)| d).collect()
}

impl Order {
    fn of(d: &Hit) -> Order {
        let time = d.event.timestamp.as_deref();
        Order {
            at: time.and_then(epoch_nanos),
            time: time.map(Box::from),
            file: d.event.file.clone(),
            record: d.event.record,
            rule: d.rule,
        }
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

/// `key=value` pairs, apart by `sep`.
fn pairs(kv: &[(String, String)], sep: &str) -> String {
    let each: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
    each.join(sep)
}

/// A detection as the table's row (without its line end).
fn table_row(engine: &Engine, d: &Hit) -> String {
    let r = &engine.rules[d.rule];
    format!(
        "{:<28} {:<LEVEL_COLUMN$} {} {} {}#{} {}",
        printable(&shown_time(d.event.timestamp.as_deref())),
        level_column(r.level),
        cell(&r.title, 60),
        cell(d.event.computer.as_deref().unwrap_or("-"), 16),
        printable(&d.event.file),
        d.event.record,
        fit(&pairs(&d.fields, "  "), 160)
    )
}

/// The table's rows of the correlations, after the detections'.
fn write_correlations(
    engine: &Engine,
    hits: &[CorrelationHit],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    for h in hits {
        let r = &engine.rules[h.rule];
        writeln!(
            out,
            "{:<28} {:<LEVEL_COLUMN$} {} correlation: {} events, value {} ({})",
            printable(h.first.as_deref().unwrap_or("-")),
            level_column(r.level),
            cell(&r.title, 60),
            h.count,
            h.value,
            printable(&pairs(&h.group, ", "))
        )?;
    }
    Ok(())
}

/// The widths of a terminal row's flexible columns, for a terminal `width`
/// cells wide: the title, the computer and the place (the file name and
/// record) share what time and level leave.
#[derive(Debug, PartialEq, Eq)]
struct Fitted {
    title: usize,
    computer: usize,
    place: usize,
}

/// The time and level columns, each with the space after it.
const FIXED: usize = 28 + 1 + LEVEL_COLUMN + 1;

impl Fitted {
    fn new(width: usize) -> Fitted {
        let rest = width.saturating_sub(FIXED);
        let title = (rest * 9 / 20).clamp(20, 60);
        let computer = (rest / 6).clamp(8, 16);
        let place = rest.saturating_sub(title + 1 + computer + 1).max(12);
        Fitted {
            title,
            computer,
            place,
        }
    }
}

/// A detection as the table's row on a terminal `width` cells wide: a line
/// as wide as the terminal, its place the file's name (its folders are in
/// JSON, JSONL and CSV), and the fields it matched on an indented line of
/// their own, so that rows do not wrap into one another (without the last
/// line end).
fn terminal_row(engine: &Engine, d: &Hit, width: usize) -> String {
    let cols = Fitted::new(width);
    let r = &engine.rules[d.rule];
    let name = d.event.file.rsplit(['/', '\\']).next().unwrap_or_default();
    let place = format!("{name}#{}", d.event.record);
    let mut row = format!(
        "{} {:<LEVEL_COLUMN$} {} {} {}",
        cell(&shown_time(d.event.timestamp.as_deref()), 28),
        level_column(r.level),
        cell(&r.title, cols.title),
        cell(d.event.computer.as_deref().unwrap_or("-"), cols.computer),
        cut(&place, cols.place, true),
    );
    if !d.fields.is_empty() {
        let fields = fit(&pairs(&d.fields, "  "), width.saturating_sub(4));
        row += &format!("\n    {fields}");
    }
    row
}

/// The terminal table's rows of the correlations, after the detections'.
fn write_terminal_correlations(
    engine: &Engine,
    hits: &[CorrelationHit],
    width: usize,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let cols = Fitted::new(width);
    for h in hits {
        let r = &engine.rules[h.rule];
        let what = format!(
            "correlation: {} events, value {} ({})",
            h.count,
            h.value,
            pairs(&h.group, ", ")
        );
        writeln!(
            out,
            "{} {:<LEVEL_COLUMN$} {} {}",
            cell(h.first.as_deref().unwrap_or("-"), 28),
            level_column(r.level),
            cell(&r.title, cols.title),
            fit(&what, width.saturating_sub(FIXED + cols.title + 1)),
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
    /// The whole event, with `--all-fields`.
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a EventFields>,
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
        event: d.whole.as_deref(),
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
    if !h.group.is_empty() {
        fields.push(pairs(&h.group, "; "));
    }
    let fields = fields.join("; ");
    // A correlation has no event of its own: its `event` cell is empty.
    let event = engine.whole_events.then_some("");
    let cells = [
        h.first.as_deref().unwrap_or_default(),
        r.level.map_or("", |w| w.as_str()),
        &r.title,
        r.id.as_deref().unwrap_or_default(),
        "",
        "",
        "",
        "",
        "",
        &fields,
    ];
    csv_line(&cells.into_iter().chain(event).collect::<Vec<_>>())
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

/// An event's time as the table and the summary show it: a time in seconds
/// since the epoch (Zeek's `ts`, an audit record's) as its UTC date and
/// time, any other as the event wrote it.
pub(crate) fn shown_time(time: Option<&str>) -> std::borrow::Cow<'_, str> {
    let Some(time) = time else {
        return "-".into();
    };
    let (secs, fraction) = time.split_once('.').unwrap_or((time, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(9..=10).contains(&secs.len()) || !digits(secs) || fraction.len() > 9 || !digits(fraction) {
        return time.into();
    }
    let nanos = format!("{fraction:0<9}").parse::<i32>().unwrap_or(0);
    match secs
        .parse()
        .ok()
        .and_then(|s| jiff::Timestamp::new(s, nanos).ok())
    {
        Some(t) => t.to_string().into(),
        None => time.into(),
    }
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
    cut(s, width, false)
}

/// The text made printable and, when it is wider than `width` terminal
/// cells, cut with `…` at its end, or at its start when `keep_end`.
fn cut(s: &str, width: usize, keep_end: bool) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let s = printable(s);
    if s.width() <= width {
        return s.into_owned();
    }
    // Room for the `…` the cut text ends with.
    let room = width.saturating_sub(1);
    let mut used = 0;
    let fits = |c: &char| {
        used += c.width().unwrap_or(0);
        used <= room
    };
    if keep_end {
        let kept: Vec<char> = s.chars().rev().take_while(fits).collect();
        std::iter::once('…').chain(kept.into_iter().rev()).collect()
    } else {
        s.chars()
            .take_while(fits)
            .chain(std::iter::once('…'))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigma_engine::sigma::vocab::Level;

    #[test]
    fn a_time_in_seconds_since_the_epoch_is_shown_as_a_date() {
        assert_eq!(
            shown_time(Some("1709287201.123456")),
            "2024-03-01T10:00:01.123456Z"
        );
        assert_eq!(shown_time(Some("1700000000")), "2023-11-14T22:13:20Z");
        for as_written in [
            "2024-03-01T10:00:01Z",
            "12345",
            "1709287201.x",
            "1709287201.1234567891",
        ] {
            assert_eq!(shown_time(Some(as_written)), as_written);
        }
        assert_eq!(shown_time(None), "-");
    }

    #[test]
    fn detections_follow_their_events_instants_whatever_the_times_form() {
        let hit = |record: u64, time: Option<&str>| Hit {
            rule: 0,
            event: sigma_engine::events::EventMeta {
                file: "a.jsonl".into(),
                record,
                timestamp: time.map(str::to_string),
                computer: None,
                channel: None,
                event_id: None,
                source: None,
            },
            fields: Vec::new(),
            whole: None,
        };
        let held = vec![
            hit(1, Some("2019-05-19 17:30:00.000")),
            hit(2, Some("2019-05-19T19:00:00+02:00")),
            hit(3, Some("2019-05-19T17:45:00Z")),
            hit(4, Some("1558286000")),
            hit(5, None),
            hit(6, Some("/Date(1558287300000)/")),
        ];
        let order: Vec<u64> = in_order(held).iter().map(|d| d.event.record).collect();
        // The untimed event first, then 17:00Z, 17:13:20, 17:30, 17:35, 17:45.
        assert_eq!(order, [5, 2, 4, 1, 6, 3]);
    }

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
    fn a_terminal_tables_rows_fit_its_width_and_keep_the_record() {
        use sigma_engine::diag::Diagnostics;
        use sigma_engine::matcher::EngineOptions;
        use sigma_engine::matcher::mapping::Mapping;
        use unicode_width::UnicodeWidthStr;
        let yaml = "title: Encoded PowerShell Command Line With A Long Title That Never Ends\n\
                    logsource: {product: windows}\nlevel: informational\n\
                    detection: {sel: {CommandLine|contains: ' -enc '}, condition: sel}\n";
        let ds = Diagnostics::new();
        let (rules, _) = sigma_engine::sigma::parse_rules(std::path::Path::new("t.yml"), yaml, &ds);
        let engine = Engine::new(rules, &Mapping::default(), &EngineOptions::default());
        let hit = Hit {
            rule: 0,
            event: sigma_engine::events::EventMeta {
                file: "/cases/2024/host-17/exports/Microsoft-Windows-Sysmon%4Operational.evtx"
                    .into(),
                record: 123_456,
                timestamp: Some("2024-05-01T10:00:00.1234567Z\u{1b}[2J and more".into()),
                computer: Some("WORKSTATION-FINANCE-0042.corp.example.com".into()),
                channel: None,
                event_id: None,
                source: None,
            },
            fields: vec![(
                "CommandLine".into(),
                format!("powershell -enc {}", "QQ".repeat(200)),
            )],
            whole: None,
        };
        for width in [60, 80, 120, 200] {
            let text = terminal_row(&engine, &hit, width);
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines.len(), 2, "{text}");
            for l in &lines {
                assert!(
                    l.width() <= width.max(80),
                    "{width}: {l:?} is {} wide",
                    l.width()
                );
                assert!(!l.contains('\u{1b}'), "{l:?}");
            }
            // The place keeps its end: the record an analyst looks up.
            assert!(lines[0].ends_with("evtx#123456"), "{width}: {}", lines[0]);
            if width >= 200 {
                let place = " Microsoft-Windows-Sysmon%4Operational.evtx#123456";
                assert!(lines[0].ends_with(place), "{}", lines[0]);
            }
            assert!(
                lines[1].starts_with("    CommandLine=powershell -enc QQ"),
                "{}",
                lines[1]
            );
        }
    }

    #[test]
    fn every_level_fits_the_tables_column() {
        for l in Level::ALL.iter().copied().map(Some).chain([None]) {
            assert!(level_column(l).len() <= LEVEL_COLUMN, "{l:?}");
        }
    }
}
