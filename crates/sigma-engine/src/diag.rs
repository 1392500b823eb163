//! Diagnostics: problems found in the input, reported with their location and
//! counted in the run summary. A diagnostic never stops a build on its own; the
//! caller decides (e.g. `--strict`) whether errors turn into a failing exit code.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something odd that the build worked around (e.g. a relationship to a
    /// missing object).
    Warning,
    /// Input that was skipped because it could not be read or broke the spec.
    Error,
}

/// One problem, with the file and position it came from where known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Short machine-friendly category, used to group the summary.
    pub category: &'static str,
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    /// How many more diagnostics of its kind in its file this one stands
    /// for: counted, not kept ([`Diagnostics`]).
    pub others: usize,
}

impl Diagnostic {
    pub fn new(severity: Severity, category: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity,
            category,
            file: None,
            line: None,
            column: None,
            message: message.into(),
            others: 0,
        }
    }
    pub fn warning(category: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, category, message)
    }
    pub fn error(category: &'static str, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, category, message)
    }
    pub fn in_file(mut self, file: impl AsRef<Path>) -> Self {
        self.file = Some(file.as_ref().to_path_buf());
        self
    }
    pub fn at(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column;
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{sev}[{}]: {}", self.category, self.located())
    }
}

impl Diagnostic {
    /// The message after where it was found (`file:line:col: `), without
    /// its severity and category: for a report that gives its own.
    pub fn located(&self) -> String {
        let mut at = String::new();
        if let Some(file) = &self.file {
            // File names and messages quote input: shown escaped.
            at = crate::text::printable(&file.display().to_string()).into_owned();
            if let Some(line) = self.line {
                at += &format!(":{line}");
                if let Some(col) = self.column {
                    at += &format!(":{col}");
                }
            }
            at += ": ";
        }
        at + &crate::text::printable(&self.message)
    }
}

impl crate::text::ReadError {
    /// The problem as a diagnostic of `category` about `path`, at the line
    /// and column of an invalid byte.
    pub fn diagnostic(&self, category: &'static str, path: &Path) -> Diagnostic {
        let d = Diagnostic::error(category, self.to_string()).in_file(path);
        match self {
            crate::text::ReadError::Encoding { line, column, .. } => {
                d.at(Some(*line), Some(*column))
            }
            crate::text::ReadError::Io(_)
            | crate::text::ReadError::Packed(_)
            | crate::text::ReadError::TooLarge { .. } => d,
        }
    }
}

/// Every layer's error converts into a diagnostic, which is itself an error
/// for callers that propagate it.
impl std::error::Error for Diagnostic {}

/// A thread-safe collector of diagnostics, shared by every stage of a run.
///
/// A file can hold a million broken records, each a diagnostic: past
/// [`Diagnostics::KEPT_PER_FILE`] of one kind (severity and category) in one
/// file, the rest are counted, not kept, and [`Diagnostics::sorted`] names
/// them in one diagnostic (how many, and their first and last line), so
/// that memory and output stay bounded while every count stays exact.
/// [`Diagnostics::unbounded`] keeps them all.
#[derive(Debug, Default)]
pub struct Diagnostics {
    inner: Mutex<Collected>,
    unbounded: bool,
}

/// The severity, category and file diagnostics are counted by.
type Kind = (Severity, &'static str, Option<PathBuf>);

#[derive(Debug, Default)]
struct Collected {
    items: Vec<Diagnostic>,
    per_kind: std::collections::HashMap<Kind, Tally>,
}

/// How many diagnostics of a kind came, and the lines of those not kept.
#[derive(Debug, Default)]
struct Tally {
    seen: usize,
    first_line: Option<usize>,
    last_line: Option<usize>,
}

impl Diagnostics {
    /// Diagnostics of one kind kept per file; the rest are counted.
    pub const KEPT_PER_FILE: usize = 100;

    pub fn new() -> Self {
        Self::default()
    }
    /// A collector that keeps every diagnostic (`--verbose`).
    pub fn unbounded() -> Self {
        Self {
            unbounded: true,
            ..Self::default()
        }
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn push(&self, d: Diagnostic) {
        let mut c = self.lock();
        let kind = (d.severity, d.category, d.file.clone());
        let tally = c.per_kind.entry(kind).or_default();
        tally.seen += 1;
        if self.unbounded || tally.seen <= Self::KEPT_PER_FILE {
            c.items.push(d);
        } else {
            // The lowest and highest, whatever order threads push them in.
            tally.first_line = match (tally.first_line, d.line) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            tally.last_line = tally.last_line.max(d.line);
        }
    }
    pub fn extend(&self, ds: impl IntoIterator<Item = Diagnostic>) {
        ds.into_iter().for_each(|d| self.push(d));
    }
    /// All diagnostics, sorted by severity (errors first), file, line and message
    /// so that output is deterministic whatever the thread interleaving; those
    /// counted and not kept are named last for their file.
    pub fn sorted(&self) -> Vec<Diagnostic> {
        let c = self.lock();
        let mut v = c.items.clone();
        v.sort_by(|a, b| {
            key(a)
                .cmp(&key(b))
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.column.cmp(&b.column))
                .then_with(|| a.message.cmp(&b.message))
        });
        let mut rest: Vec<Diagnostic> = c
            .per_kind
            .iter()
            .filter(|_| !self.unbounded)
            .filter_map(|(kind, t)| Self::not_kept(kind, t))
            .collect();
        rest.sort_by(|a, b| key(a).cmp(&key(b)).then(a.category.cmp(b.category)));
        // Each after the last kept diagnostic of its severity and file.
        for d in rest {
            let at = v.partition_point(|x| key(x) <= key(&d));
            v.insert(at, d);
        }
        v
    }
    /// The diagnostic that names those of a kind that were not kept.
    fn not_kept(kind: &Kind, t: &Tally) -> Option<Diagnostic> {
        let n = t.seen.checked_sub(Self::KEPT_PER_FILE).filter(|&n| n > 0)?;
        let lines = match (t.first_line, t.last_line) {
            (Some(a), Some(b)) if a != b => format!(" (lines {a} to {b})"),
            (Some(a), _) => format!(" (line {a})"),
            _ => String::new(),
        };
        let (severity, category, file) = kind;
        let mut d = Diagnostic::new(
            *severity,
            category,
            format!(
                "{n} more like the {} above{lines}, counted but not listed one by one (--verbose lists them)",
                Self::KEPT_PER_FILE
            ),
        );
        d.file = file.clone();
        d.others = n;
        Some(d)
    }
    /// How many diagnostics of a severity came, kept or not.
    pub fn count(&self, severity: Severity) -> usize {
        self.lock()
            .per_kind
            .iter()
            .filter(|(k, _)| k.0 == severity)
            .map(|(_, t)| t.seen)
            .sum()
    }
}

/// What diagnostics are grouped by when sorted: errors first, then by file.
fn key(d: &Diagnostic) -> (std::cmp::Reverse<Severity>, Option<&Path>) {
    (std::cmp::Reverse(d.severity), d.file.as_deref())
}

/// The first `n` of `items`, comma-separated, then "and M more": a message
/// that names a few of many without growing with them.
pub fn first_of<T: fmt::Display>(items: &[T], n: usize) -> String {
    let mut shown: Vec<String> = items.iter().take(n).map(|i| i.to_string()).collect();
    if items.len() > n {
        shown.push(format!("and {} more", items.len() - n));
    }
    shown.join(", ")
}

/// `1 file`, `2 files`: a count with its noun in the right number.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Find the 1-based line and column of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_of_names_a_few_and_counts_the_rest() {
        assert_eq!(first_of(&["a", "b"], 3), "a, b");
        assert_eq!(first_of(&["a", "b", "c", "d"], 2), "a, b, and 2 more");
        assert_eq!(first_of::<&str>(&[], 2), "");
    }

    #[test]
    fn line_col_counts_from_one() {
        let t = "ab\ncd\nef";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 4), (2, 2));
        assert_eq!(line_col(t, 6), (3, 1));
        assert_eq!(line_col(t, 999), (3, 3));
    }

    #[test]
    fn display_names_file_line_and_column() {
        let d = Diagnostic::error("json", "expected value")
            .in_file("a/b.json")
            .at(Some(3), Some(7));
        assert_eq!(d.to_string(), "error[json]: a/b.json:3:7: expected value");
    }

    #[test]
    fn the_lines_of_those_not_kept_span_them_in_any_order_pushed() {
        // Threads push a file's diagnostics out of order (a reader ahead
        // of the matching, the matching in parallel).
        let ds = Diagnostics::new();
        for line in (1..=Diagnostics::KEPT_PER_FILE + 3).rev() {
            ds.push(
                Diagnostic::error("events", "bad")
                    .in_file("f")
                    .at(Some(line), None),
            );
        }
        ds.push(Diagnostic::error("events", "bad").in_file("f"));
        let s = ds.sorted();
        let more = &s.last().unwrap().message;
        assert!(
            more.starts_with("4 more like the 100 above (lines 1 to 3)"),
            "{more}"
        );
    }

    #[test]
    fn a_flood_of_one_kind_is_counted_past_the_kept_ones() {
        let ds = Diagnostics::new();
        let n = Diagnostics::KEPT_PER_FILE + 250;
        for line in 1..=n {
            ds.push(
                Diagnostic::error("events", "bad")
                    .in_file("f.jsonl")
                    .at(Some(line), None),
            );
        }
        ds.push(
            Diagnostic::error("events", "bad")
                .in_file("g.jsonl")
                .at(Some(1), None),
        );
        ds.push(Diagnostic::warning("events", "odd").in_file("f.jsonl"));
        assert_eq!(ds.count(Severity::Error), n + 1);
        let s = ds.sorted();
        assert_eq!(s.len(), Diagnostics::KEPT_PER_FILE + 3);
        let last_of_f = &s[Diagnostics::KEPT_PER_FILE];
        assert_eq!(last_of_f.file.as_deref(), Some(Path::new("f.jsonl")));
        assert_eq!(
            last_of_f.message,
            format!(
                "250 more like the {} above (lines {} to {n}), counted but not listed one by one (--verbose lists them)",
                Diagnostics::KEPT_PER_FILE,
                Diagnostics::KEPT_PER_FILE + 1
            )
        );
        assert_eq!(
            s[Diagnostics::KEPT_PER_FILE + 1].file.as_deref(),
            Some(Path::new("g.jsonl"))
        );
        assert_eq!(s.last().unwrap().severity, Severity::Warning);
        let all = Diagnostics::unbounded();
        (0..n).for_each(|_| all.push(Diagnostic::error("events", "bad").in_file("f.jsonl")));
        assert_eq!((all.sorted().len(), all.count(Severity::Error)), (n, n));
    }

    #[test]
    fn sorted_puts_errors_first() {
        let ds = Diagnostics::new();
        ds.push(Diagnostic::warning("x", "w"));
        ds.push(Diagnostic::error("x", "e"));
        let s = ds.sorted();
        assert_eq!(s[0].severity, Severity::Error);
        assert_eq!(ds.count(Severity::Warning), 1);
    }
}
