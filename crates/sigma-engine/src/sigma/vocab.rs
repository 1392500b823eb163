//! The closed vocabularies of the Sigma specification (levels, statuses,
//! correlation types, correlation operators), parsed once at the boundary so
//! that no code past the parser compares strings.

use std::fmt;

/// An enum whose variants are the words of a vocabulary, in the order the
/// specification lists them.
macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            /// Every word, in the specification's order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The word as rules write it.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// The variant a word names (exactly as the specification spells it).
            pub fn parse(word: &str) -> Option<Self> {
                match word { $($s => Some($name::$v),)+ _ => None }
            }

            /// The words, comma-separated, for messages.
            pub fn expected() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// A rule's `level`, least severe first (so `Ord` ranks severity).
    Level {
        Informational = "informational",
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

vocabulary! {
    /// A rule's `status`.
    Status {
        Stable = "stable",
        Test = "test",
        Experimental = "experimental",
        Deprecated = "deprecated",
        Unsupported = "unsupported",
    }
}

impl Status {
    /// Deprecated or unsupported: SigmaHQ keeps such rules apart (replaced
    /// by others, or needing what no log has); run with the rest, they would
    /// fire twice or wrongly.
    pub fn is_retired(self) -> bool {
        matches!(self, Status::Deprecated | Status::Unsupported)
    }
}

vocabulary! {
    /// A correlation rule's `type`.
    CorrelationType {
        EventCount = "event_count",
        ValueCount = "value_count",
        Temporal = "temporal",
        TemporalOrdered = "temporal_ordered",
        ValueSum = "value_sum",
        ValueAvg = "value_avg",
        ValuePercentile = "value_percentile",
    }
}

vocabulary! {
    /// An operator of a correlation `condition`.
    CmpOp {
        Gt = "gt",
        Gte = "gte",
        Lt = "lt",
        Lte = "lte",
        Eq = "eq",
        Neq = "neq",
    }
}

impl CorrelationType {
    /// Temporal correlations have a default condition (every rule seen); the
    /// others need one.
    pub fn needs_condition(self) -> bool {
        !matches!(
            self,
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
        )
    }

    /// Whether the condition bounds a count (of events, values, rules),
    /// which is a whole number.
    pub fn counts(self) -> bool {
        matches!(
            self,
            CorrelationType::EventCount
                | CorrelationType::ValueCount
                | CorrelationType::Temporal
                | CorrelationType::TemporalOrdered
        )
    }

    /// Value aggregations read `condition.field`.
    pub fn reads_field(self) -> bool {
        matches!(
            self,
            CorrelationType::ValueCount
                | CorrelationType::ValueSum
                | CorrelationType::ValueAvg
                | CorrelationType::ValuePercentile
        )
    }
}

impl CmpOp {
    /// Whether `value <op> bound` holds.
    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            CmpOp::Gt => value > bound,
            CmpOp::Gte => value >= bound,
            CmpOp::Lt => value < bound,
            CmpOp::Lte => value <= bound,
            CmpOp::Eq => (value - bound).abs() < f64::EPSILON,
            CmpOp::Neq => (value - bound).abs() >= f64::EPSILON,
        }
    }
}

impl Level {
    /// Rank for sorting, most severe first; rules without a level last.
    pub fn rank(level: Option<Level>) -> usize {
        level.map_or(5, |l| Level::Critical as usize - l as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_unknown_words_are_refused() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.as_str()), Some(*l));
        }
        assert_eq!(Level::parse("hgh"), None);
        assert_eq!(Level::parse("High"), None);
        assert_eq!(
            CorrelationType::parse("value_percentile"),
            Some(CorrelationType::ValuePercentile)
        );
        assert_eq!(
            Status::expected(),
            "stable, test, experimental, deprecated, unsupported"
        );
    }

    #[test]
    fn levels_rank_most_severe_first() {
        assert_eq!(Level::rank(Some(Level::Critical)), 0);
        assert_eq!(Level::rank(Some(Level::Informational)), 4);
        assert_eq!(Level::rank(None), 5);
        assert!(Level::High > Level::Medium);
    }

    #[test]
    fn operators_compare() {
        assert!(CmpOp::Gte.holds(10.0, 10.0));
        assert!(!CmpOp::Gt.holds(10.0, 10.0));
        assert!(CmpOp::Neq.holds(3.0, 4.0));
        assert!(CmpOp::Eq.holds(4.0, 4.0));
    }
}
