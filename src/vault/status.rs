//! A technique's coverage: its figures (rules, rules that fired, tests) and
//! the status they give, with the marker, colour and class each status is
//! shown with.

/// A technique's coverage status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// At least one rule fired on sample events.
    Validated,
    /// Rules exist but none fired (or no events were given).
    RulesOnly,
    /// Atomic tests but no rule.
    TestsOnly,
    None,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Validated,
        Status::RulesOnly,
        Status::TestsOnly,
        Status::None,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Status::Validated => "validated",
            Status::RulesOnly => "rules only",
            Status::TestsOnly => "tests only",
            Status::None => "none",
        }
    }
    /// A marker that reads in plain Markdown.
    pub fn marker(self) -> &'static str {
        match self {
            Status::Validated => "🟢",
            Status::RulesOnly => "🟡",
            Status::TestsOnly => "🔵",
            Status::None => "⚪",
        }
    }
    /// Navigator colour.
    pub fn color(self) -> &'static str {
        match self {
            Status::Validated => "#31a354",
            Status::RulesOnly => "#fdd835",
            Status::TestsOnly => "#6baed6",
            Status::None => "#ffffff",
        }
    }
    /// CSS class suffix on the site (`cov-validated`, `cov-rules`, ...).
    pub fn class(self) -> &'static str {
        match self {
            Status::Validated => "validated",
            Status::RulesOnly => "rules",
            Status::TestsOnly => "tests",
            Status::None => "none",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.label() == s)
    }
}

/// One technique's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TechCoverage {
    pub rules: usize,
    pub fired: usize,
    pub tests: usize,
    pub status: Status,
}

impl TechCoverage {
    pub fn new(rules: usize, fired: usize, tests: usize) -> Self {
        let status = if fired > 0 {
            Status::Validated
        } else if rules > 0 {
            Status::RulesOnly
        } else if tests > 0 {
            Status::TestsOnly
        } else {
            Status::None
        };
        TechCoverage {
            rules,
            fired,
            tests,
            status,
        }
    }
}

impl TechCoverage {
    /// Its figures in words, as a Navigator comment or a heatmap cell's
    /// tooltip gives them: `1 rule, 1 fired, 2 atomic tests`.
    pub fn figures(&self) -> String {
        let s = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "{} rule{}, {} fired, {} atomic test{}",
            self.rules,
            s(self.rules),
            self.fired,
            self.tests,
            s(self.tests)
        )
    }
}

/// A technique's coverage as its note and the actor tables show it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CoverageCell {
    pub status: &'static str,
    pub marker: &'static str,
    pub rules: usize,
    pub fired: usize,
    pub tests: usize,
    pub validated_run: bool,
}

impl CoverageCell {
    pub fn new(c: &TechCoverage, validated_run: bool) -> Self {
        CoverageCell {
            status: c.status.label(),
            marker: c.status.marker(),
            rules: c.rules,
            fired: c.fired,
            tests: c.tests,
            validated_run,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::TechCoverage;

    #[test]
    fn figures_count_in_the_singular_and_plural() {
        assert_eq!(
            TechCoverage::new(1, 1, 1).figures(),
            "1 rule, 1 fired, 1 atomic test"
        );
        assert_eq!(
            TechCoverage::new(0, 0, 2).figures(),
            "0 rules, 0 fired, 2 atomic tests"
        );
    }
}
