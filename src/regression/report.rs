//! How a run of the regression tests is told: as text (a line per case that
//! needs the reader's eye, every case with `verbose`), as JSON lines (one
//! object per case) or as a JUnit XML report (what CI systems show), then
//! the counts on standard error.

use super::{CaseResult, Outcome, TestSummary};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use sigma_engine::diag::counted;
use sigma_engine::text::printable;
use std::io::Write;

/// How `test` reports its cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    Text,
    Jsonl,
    Junit,
}

impl TestSummary {
    /// Write the cases in `format`: with `strict`, a stale count or a case
    /// not run fails in the JUnit report as it does the run.
    pub fn write(
        &self,
        format: TestFormat,
        (verbose, strict): (bool, bool),
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        match format {
            TestFormat::Text => {
                let shown = self.results.iter().filter(|r| verbose || !r.passed());
                for r in shown {
                    let (tag, what) = verdict(r);
                    let line = format!("{tag:<5} {}: {what}", r.name());
                    writeln!(out, "{}", printable(&line))?;
                }
                Ok(())
            }
            TestFormat::Jsonl => self.results.iter().try_for_each(|r| {
                serde_json::to_writer(&mut *out, &record(r))?;
                writeln!(out)
            }),
            TestFormat::Junit => self.junit(strict, out),
        }
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

    fn junit<W: Write>(&self, strict: bool, out: W) -> std::io::Result<()> {
        let mut w = Writer::new_with_indent(out, b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let n = |pick: &dyn Fn(&Outcome) -> bool| self.count(pick).to_string();
        let failures = n(&|o| o.fails(strict) && !matches!(o, Outcome::Broken(_)));
        let errors = n(&|o| matches!(o, Outcome::Broken(_)));
        let skipped = n(&|o| !strict && matches!(o, Outcome::NotRun(_)));
        let (tests, time) = (
            self.results.len().to_string(),
            self.elapsed.as_secs_f64().to_string(),
        );
        let counts = [
            ("tests", tests.as_str()),
            ("failures", failures.as_str()),
            ("errors", errors.as_str()),
            ("skipped", skipped.as_str()),
            ("time", time.as_str()),
        ];
        (w.create_element("testsuites")
            .with_attribute(("name", "attack-vault test")))
        .with_attributes(counts)
        .write_inner_content(|w| {
            (w.create_element("testsuite")
                .with_attribute(("name", "regression tests")))
            .with_attributes(counts)
            .write_inner_content(|w| {
                self.results
                    .iter()
                    .try_for_each(|r| junit_case(w, r, strict))
            })?;
            Ok::<(), std::io::Error>(())
        })?;
        w.into_inner().write_all(b"\n")?;
        Ok(())
    }
}

impl CaseResult {
    fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Passed { .. })
    }

    /// The rule file, the rule's title and the case's name.
    fn name(&self) -> String {
        let case = match self.case.is_empty() {
            true => String::new(),
            false => format!(" [{}]", self.case),
        };
        format!("{}: {}{case}", self.rule_file.display(), self.rule)
    }
}

/// A case's tag (`ok`, `STALE`, `FAIL`, `ERROR`, `SKIP`) and what happened.
fn verdict(r: &CaseResult) -> (&'static str, String) {
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
    match &r.outcome {
        Outcome::Passed { got } => ("ok", fired(*got)),
        Outcome::More { got, expected } => {
            let info = r
                .info
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            let stale = format!("{expected} expected: update match_count in {info}");
            ("STALE", format!("{}, {stale}", fired(*got)))
        }
        Outcome::Failed {
            got,
            expected: Some(e),
        } => ("FAIL", format!("{}, {e} expected", fired(*got))),
        Outcome::Failed { got, .. } => ("FAIL", format!("{}, at least once expected", fired(*got))),
        Outcome::Broken(why) => ("ERROR", why.clone()),
        Outcome::NotRun(why) => ("SKIP", why.clone()),
    }
}

/// One case as a JSON line.
#[derive(serde::Serialize)]
struct Record<'a> {
    outcome: &'static str,
    rule: &'a str,
    rule_file: &'a std::path::Path,
    info: Option<&'a std::path::Path>,
    case: &'a str,
    events: Option<&'a std::path::Path>,
    fired: Option<u64>,
    expected: Option<u64>,
    message: String,
}

fn record(r: &CaseResult) -> Record<'_> {
    let (outcome, fired, expected) = match &r.outcome {
        Outcome::Passed { got } => ("passed", Some(*got), None),
        Outcome::More { got, expected } => ("stale", Some(*got), Some(*expected)),
        Outcome::Failed { got, expected } => ("failed", Some(*got), *expected),
        Outcome::Broken(_) => ("error", None, None),
        Outcome::NotRun(_) => ("skipped", None, None),
    };
    Record {
        outcome,
        rule: &r.rule,
        rule_file: &r.rule_file,
        info: r.info.as_deref(),
        case: &r.case,
        events: r.events.as_deref(),
        fired,
        expected,
        message: verdict(r).1,
    }
}

/// One `<testcase>`: XML text allows no control characters, even escaped,
/// so text from the rules is written as the terminal shows it.
fn junit_case<W: Write>(w: &mut Writer<W>, r: &CaseResult, strict: bool) -> std::io::Result<()> {
    let file = printable(&r.rule_file.display().to_string()).into_owned();
    let name = match r.case.is_empty() {
        true => printable(&r.rule).into_owned(),
        false => printable(&format!("{} [{}]", r.rule, r.case)).into_owned(),
    };
    let message = printable(&verdict(r).1).into_owned();
    let case = w.create_element("testcase").with_attributes([
        ("classname", file.as_str()),
        ("name", name.as_str()),
        ("file", file.as_str()),
    ]);
    let inner = match &r.outcome {
        Outcome::Passed { .. } => None,
        Outcome::More { .. } if strict => Some(("failure", "stale")),
        Outcome::More { .. } => Some(("system-out", "")),
        Outcome::Failed { .. } => Some(("failure", "fewer")),
        Outcome::Broken(_) => Some(("error", "error")),
        Outcome::NotRun(_) if strict => Some(("failure", "not run")),
        Outcome::NotRun(_) => Some(("skipped", "")),
    };
    match inner {
        None => case.write_empty().map(drop),
        Some(("system-out", _)) => case
            .write_inner_content(|w| {
                let text = BytesText::new(&message);
                w.create_element("system-out")
                    .write_text_content(text)
                    .map(drop)
            })
            .map(drop),
        Some((tag, kind)) => case
            .write_inner_content(|w| {
                let el = w
                    .create_element(tag)
                    .with_attribute(("message", message.as_str()));
                match kind.is_empty() {
                    true => el.write_empty(),
                    false => el.with_attribute(("type", kind)).write_empty(),
                }
                .map(drop)
            })
            .map(drop),
    }
}
