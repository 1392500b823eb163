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
        write!(f, "{sev}[{}]: ", self.category)?;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(col) = self.column {
                    write!(f, ":{col}")?;
                }
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// Every layer's error converts into a diagnostic, which is itself an error
/// for callers that propagate it.
impl std::error::Error for Diagnostic {}

/// A thread-safe collector of diagnostics, shared by every stage of a run.
#[derive(Debug, Default)]
pub struct Diagnostics {
    items: Mutex<Vec<Diagnostic>>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn push(&self, d: Diagnostic) {
        self.items.lock().unwrap_or_else(|e| e.into_inner()).push(d);
    }
    pub fn extend(&self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(ds);
    }
    /// All diagnostics, sorted by severity (errors first), file, line and message
    /// so that output is deterministic whatever the thread interleaving.
    pub fn sorted(&self) -> Vec<Diagnostic> {
        let mut v = self.items.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.file.cmp(&b.file))
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.column.cmp(&b.column))
                .then_with(|| a.message.cmp(&b.message))
        });
        v
    }
    pub fn count(&self, severity: Severity) -> usize {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }
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
    fn sorted_puts_errors_first() {
        let ds = Diagnostics::new();
        ds.push(Diagnostic::warning("x", "w"));
        ds.push(Diagnostic::error("x", "e"));
        let s = ds.sorted();
        assert_eq!(s[0].severity, Severity::Error);
        assert_eq!(ds.count(Severity::Warning), 1);
    }
}
