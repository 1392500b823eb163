//! How a run of the regression tests is told: a line per case that needs
//! the reader's eye (every case with `verbose`), then the counts.

use super::{CaseResult, Outcome, TestSummary};
use sigma_engine::diag::counted;

impl TestSummary {
    /// A line per case: those that did not simply pass, or all (`verbose`).
    pub fn case_lines(&self, verbose: bool) -> Vec<String> {
        (self.results.iter())
            .filter(|r| verbose || !matches!(r.outcome, Outcome::Passed { .. }))
            .map(case_line)
            .collect()
    }

    /// The counts, as one line.
    pub fn report(&self) -> String {
        let n = |pick: fn(&Outcome) -> bool| self.count(pick);
        let mut parts = vec![format!(
            "{} passed",
            n(|o| matches!(o, Outcome::Passed { .. }))
        )];
        let mut part = |count: usize, what: &str| {
            if count > 0 {
                parts.push(format!("{count} {what}"));
            }
        };
        part(
            n(|o| matches!(o, Outcome::More { .. })),
            "fired more often than expected (a stale match_count)",
        );
        part(n(|o| matches!(o, Outcome::Failed { .. })), "failed");
        part(n(|o| matches!(o, Outcome::Broken(_))), "could not run");
        part(n(|o| matches!(o, Outcome::NotRun(_))), "not run");
        format!(
            "{} of {} ({} read) in {:.2?}: {}",
            counted(
                self.results.len() as u64,
                "regression test",
                "regression tests"
            ),
            counted(self.rules_tested as u64, "rule", "rules"),
            counted(self.rules_read as u64, "rule document", "rule documents"),
            self.elapsed,
            parts.join(", "),
        )
    }
}

fn case_line(r: &CaseResult) -> String {
    let events = r
        .events
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let fired = |got: u64| match got {
        0 => format!("fired on no event of {events}"),
        1 => format!("fired once on {events}"),
        n => format!("fired {n} times on {events}"),
    };
    let (tag, what) = match &r.outcome {
        Outcome::Passed { got } => ("ok   ", fired(*got)),
        Outcome::More { got, expected } => {
            let info = r
                .info
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            (
                "STALE",
                format!(
                    "{}, {expected} expected: update match_count in {info}",
                    fired(*got)
                ),
            )
        }
        Outcome::Failed {
            got,
            expected: Some(e),
        } => ("FAIL ", format!("{}, {e} expected", fired(*got))),
        Outcome::Failed { .. } => ("FAIL ", format!("{}, at least once expected", fired(0))),
        Outcome::Broken(why) => ("ERROR", why.clone()),
        Outcome::NotRun(why) => ("SKIP ", why.clone()),
    };
    let case = match r.case.is_empty() {
        true => String::new(),
        false => format!(" [{}]", r.case),
    };
    format!("{tag} {}: {}{case}: {what}", r.rule_file.display(), r.rule)
}
