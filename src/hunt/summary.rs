//! What `match` says when it ends: counts, detections by level, the rules
//! that fired most, and why rules were skipped.

use super::HuntSummary;
use sigma_engine::diag::counted;
use sigma_engine::matcher::Unserved;
use sigma_engine::matcher::compile::Unsupported;
use sigma_engine::sigma::vocab::Level;
use std::collections::BTreeMap;

/// How many rules the summary names, without `verbose`.
const MOST_FIRED: usize = 5;

impl HuntSummary {
    /// The summary line, then indented lines: detections by level, the
    /// rules that fired (most first), why rules were skipped (each rule with
    /// `verbose`).
    pub fn report(&self, verbose: bool) -> Vec<String> {
        let mut lines = vec![format!(
            "{} read from {}{}{}; {} loaded, {} run, {} skipped; {}, {} in {:.2?}",
            counted(self.events, "event", "events"),
            counted(self.files as u64, "file", "files"),
            self.window_note(),
            lost_note(self.lost),
            counted(self.rules_loaded as u64, "rule", "rules"),
            self.rules_run,
            self.skipped.len(),
            counted(self.detections, "detection", "detections"),
            counted(
                self.correlations as u64,
                "correlation match",
                "correlation matches"
            ),
            self.elapsed
        )];
        let retired = (self.retired > 0).then(|| {
            format!(
                "{} deprecated or unsupported: not run (`--status deprecated,unsupported` runs them)",
                counted(self.retired as u64, "rule", "rules")
            )
        });
        let left_out = (self.left_out > 0).then(|| {
            format!(
                "{} left out by --level/--status/--tag/--product",
                counted(self.left_out as u64, "rule", "rules")
            )
        });
        let counted_only = (self.counted_only > 0).then(|| {
            format!(
                "{} of rules only correlations count, not shown (a correlation with `generate: true` shows its rules' own)",
                counted(self.counted_only, "detection", "detections")
            )
        });
        let details = fired_lines(&self.fired, verbose)
            .into_iter()
            .chain(self.where_and_when(verbose))
            .chain(counted_only)
            .chain(unserved_line(self.unserved))
            .chain(left_out)
            .chain(retired)
            .chain(self.skipped_lines(verbose));
        lines.extend(details.map(|l| format!("  {l}")));
        lines
    }

    /// When the detections happened, and the computers with most of them
    /// (every one with `verbose`).
    fn where_and_when(&self, verbose: bool) -> Vec<String> {
        let shown = |t: &String| super::print::shown_time(Some(t)).into_owned();
        let mut lines: Vec<String> = (self.span.iter())
            .map(|(first, last)| match first == last {
                true => format!("detections at {}", shown(first)),
                false => format!("detections from {} to {}", shown(first), shown(last)),
            })
            .collect();
        let all = self.computers.len();
        let shown = if verbose { all } else { MOST_FIRED.min(all) };
        if all > 0 {
            lines.push(match shown < all {
                true => format!("computers with most detections ({shown} of {all}; -v for all):"),
                false => format!("computers with detections ({all}):"),
            });
        }
        let listed = self.computers.iter().take(shown);
        lines.extend(listed.map(|(c, n)| format!("  {n:>7} × {c}")));
        lines
    }

    /// What the time window left out.
    fn window_note(&self) -> String {
        match (self.outside, self.untimed) {
            (0, 0) => String::new(),
            (out, 0) => format!(" ({out} outside --from/--to)"),
            (out, untimed) => format!(" ({out} outside --from/--to, {untimed} without a time)"),
        }
    }

    /// The skipped rules by reason: a count each, or every rule.
    fn skipped_lines(&self, verbose: bool) -> Vec<String> {
        let mut reasons: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for (title, reason) in &self.skipped {
            let key = match reason {
                Unsupported::Placeholder(_) => {
                    "placeholders without values (--placeholders FILE)".to_string()
                }
                other => other.to_string(),
            };
            reasons.entry(key).or_default().push(title);
        }
        let mut lines = Vec::new();
        for (reason, titles) in reasons {
            if verbose {
                lines.extend(titles.iter().map(|t| format!("skipped: {t}: {reason}")));
            } else {
                lines.push(format!("skipped {} rule(s): {reason}", titles.len()));
            }
        }
        lines
    }
}

/// The events that no rule read, and why when it is plain: events without
/// a `Channel` are no Windows event-log records to the mapping, and events
/// of a log that says what they are are read by rules for that only.
pub fn unserved_line(u: Unserved) -> Option<String> {
    let them = if u.events == 1 { "it" } else { "them" };
    let mut why = match u.without_channel {
        0 => String::new(),
        n if n == u.events => format!("; without a `Channel`, no Windows rule reads {them}"),
        1 => "; 1 has no `Channel`, so no Windows rule reads it".to_string(),
        n => format!("; {n} have no `Channel`, so no Windows rule reads those"),
    };
    let only = "read only by rules for what the log is (a W3C log: `category: webserver` or `proxy`; an access log: `category: webserver`; a Zeek log: `product: zeek`, the log (`#path`, `_path` or its file name, `dns.log`) the service, and `category: dns` its `dns.log`; an audit log: `product: linux, service: auditd`; a syslog line: `product: linux`, its program or `syslog` or `auth` the service, a Cisco device's message: `product: cisco`; a FortiGate record: `product: fortigate`, its `type` the service; a CloudTrail log's record: `product: aws, service: cloudtrail`; an Azure log's: `product: azure`)";
    match u.from_logs {
        0 => {}
        n if n == u.events => {
            let they = if n == 1 { "it comes" } else { "they come" };
            why.push_str(&format!(
                "; {they} from W3C, access, Zeek, audit or syslog logs, {only}"
            ));
        }
        1 => why.push_str(&format!(
            "; 1 comes from a W3C, access, Zeek, audit or syslog log, {only}"
        )),
        n => why.push_str(&format!(
            "; {n} come from W3C, access, Zeek, audit or syslog logs, {only}"
        )),
    }
    (u.events > 0).then(|| {
        format!(
            "{} read by no rule: no loaded rule's logsource selects {them}{why} (the mapping: --mapping, --extra-mapping)",
            counted(u.events, "event", "events"),
        )
    })
}

/// The detections by level, and the rules that fired most (every rule that
/// fired, with `verbose`).
fn fired_lines(fired: &[(String, Option<Level>, u64)], verbose: bool) -> Vec<String> {
    if fired.is_empty() {
        return Vec::new();
    }
    let mut by_level: BTreeMap<std::cmp::Reverse<Option<Level>>, u64> = BTreeMap::new();
    for (_, level, n) in fired {
        *by_level.entry(std::cmp::Reverse(*level)).or_default() += n;
    }
    let levels: Vec<String> = by_level
        .iter()
        .map(|(l, n)| format!("{n} {}", l.0.map_or("without level", |l| l.as_str())))
        .collect();
    let shown = if verbose { fired.len() } else { MOST_FIRED };
    let mut lines = vec![format!("detections by level: {}", levels.join(", "))];
    let heading = if shown >= fired.len() {
        format!("rules that fired ({}):", fired.len())
    } else {
        format!(
            "rules that fired most ({shown} of {}; -v for all):",
            fired.len()
        )
    };
    lines.push(heading);
    lines.extend(
        fired
            .iter()
            .take(shown)
            .map(|(title, _, n)| format!("  {n:>7} × {title}")),
    );
    lines
}

/// " (3 unreadable records lost, ...)" after a count of events, or nothing.
pub fn lost_note(lost: u64) -> String {
    if lost > 0 {
        let records = counted(lost, "unreadable record", "unreadable records");
        format!(" ({records} lost, see the errors above)")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn summary() -> HuntSummary {
        HuntSummary {
            files: 1,
            events: 2,
            rules_loaded: 3,
            rules_run: 2,
            retired: 1,
            left_out: 0,
            skipped: vec![
                ("A".into(), Unsupported::Placeholder("admins".into())),
                ("B".into(), Unsupported::Placeholder("hosts".into())),
            ],
            detections: 1,
            counted_only: 0,
            correlations: 0,
            fired: vec![("Rule".into(), Some(Level::High), 1)],
            computers: vec![("WS1".into(), 1)],
            span: Some(("2019-05-19T17:00:00Z".into(), "2019-05-19T17:00:00Z".into())),
            lost: 1,
            outside: 4,
            untimed: 0,
            unserved: Unserved::default(),
            output_closed: false,
            elapsed: Duration::from_millis(5),
        }
    }

    #[test]
    fn the_summary_counts_in_the_right_number_and_groups_skipped_rules() {
        let s = summary();
        assert_eq!(
            s.report(false),
            [
                "2 events read from 1 file (4 outside --from/--to) (1 unreadable record lost, see the errors above); 3 rules loaded, 2 run, 2 skipped; 1 detection, 0 correlation matches in 5.00ms",
                "  detections by level: 1 high",
                "  rules that fired (1):",
                "          1 × Rule",
                "  detections at 2019-05-19T17:00:00Z",
                "  computers with detections (1):",
                "          1 × WS1",
                "  1 rule deprecated or unsupported: not run (`--status deprecated,unsupported` runs them)",
                "  skipped 2 rule(s): placeholders without values (--placeholders FILE)",
            ]
        );
        let verbose = s.report(true);
        assert_eq!(
            verbose[8..],
            [
                "  skipped: A: placeholders without values (--placeholders FILE)",
                "  skipped: B: placeholders without values (--placeholders FILE)",
            ]
        );
    }

    #[test]
    fn only_the_rules_that_fired_most_are_named_without_verbose() {
        let fired: Vec<_> = (0..7)
            .map(|i| (format!("R{i}"), None, 7 - i as u64))
            .collect();
        let lines = fired_lines(&fired, false);
        assert_eq!(lines[0], "detections by level: 28 without level");
        assert_eq!(lines[1], "rules that fired most (5 of 7; -v for all):");
        assert_eq!(lines.len(), 2 + MOST_FIRED);
        assert_eq!(fired_lines(&fired, true).len(), 2 + 7);
    }

    #[test]
    fn the_span_and_the_computers_with_most_detections_are_said() {
        let mut s = summary();
        s.span = Some((
            "2019-05-19 17:00:00".into(),
            "2019-05-20T01:00:00+02:00".into(),
        ));
        s.computers = (0..7).map(|i| (format!("WS{i}"), 7 - i as u64)).collect();
        let lines = s.where_and_when(false);
        assert_eq!(
            lines[..3],
            [
                "detections from 2019-05-19 17:00:00 to 2019-05-20T01:00:00+02:00",
                "computers with most detections (5 of 7; -v for all):",
                "        7 × WS0",
            ]
        );
        assert_eq!(lines.len(), 2 + MOST_FIRED);
        assert_eq!(s.where_and_when(true).len(), 2 + 7);
        // Seconds since the epoch (Zeek, audit) as the table shows them.
        s.span = Some(("1591367999.305988".into(), "1591367999.305988".into()));
        assert_eq!(
            s.where_and_when(false)[0],
            "detections at 2020-06-05T14:39:59.305988Z"
        );
        s.computers.clear();
        s.span = None;
        assert!(s.where_and_when(true).is_empty());
    }

    #[test]
    fn events_no_rule_reads_and_rules_the_options_leave_out_are_said() {
        let mut s = summary();
        s.left_out = 56;
        s.unserved = Unserved {
            events: 2,
            without_channel: 2,
            from_logs: 0,
        };
        let lines = s.report(false);
        assert_eq!(
            lines[7..9],
            [
                "  2 events read by no rule: no loaded rule's logsource selects them; without a `Channel`, no Windows rule reads them (the mapping: --mapping, --extra-mapping)",
                "  56 rules left out by --level/--status/--tag/--product",
            ]
        );
        let some = Unserved {
            events: 5,
            without_channel: 2,
            from_logs: 0,
        };
        assert_eq!(
            unserved_line(some).unwrap(),
            "5 events read by no rule: no loaded rule's logsource selects them; 2 have no `Channel`, so no Windows rule reads those (the mapping: --mapping, --extra-mapping)"
        );
        let one = Unserved {
            events: 1,
            without_channel: 0,
            from_logs: 0,
        };
        assert_eq!(
            unserved_line(one).unwrap(),
            "1 event read by no rule: no loaded rule's logsource selects it (the mapping: --mapping, --extra-mapping)"
        );
        let logs = Unserved {
            events: 3,
            without_channel: 1,
            from_logs: 2,
        };
        assert_eq!(
            unserved_line(logs).unwrap(),
            "3 events read by no rule: no loaded rule's logsource selects them; 1 has no `Channel`, so no Windows rule reads it; 2 come from W3C, access, Zeek, audit or syslog logs, read only by rules for what the log is (a W3C log: `category: webserver` or `proxy`; an access log: `category: webserver`; a Zeek log: `product: zeek`, the log (`#path`, `_path` or its file name, `dns.log`) the service, and `category: dns` its `dns.log`; an audit log: `product: linux, service: auditd`; a syslog line: `product: linux`, its program or `syslog` or `auth` the service, a Cisco device's message: `product: cisco`; a FortiGate record: `product: fortigate`, its `type` the service; a CloudTrail log's record: `product: aws, service: cloudtrail`; an Azure log's: `product: azure`) (the mapping: --mapping, --extra-mapping)"
        );
        assert_eq!(unserved_line(Unserved::default()), None);
    }
}
