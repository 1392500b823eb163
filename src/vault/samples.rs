//! What the sample events say of a rule: whether it fired, and the
//! "Sample events" part of its note (the files, and the events field by
//! field, the fields its detection read in bold).

use super::text::{code_span, wikilink};
use crate::model::Model;
use crate::model::validation::CorrelationResult;
use serde::Serialize;

/// Whether rule `r` fired on any sample event.
pub fn fired(model: &Model, r: usize) -> bool {
    model
        .validation
        .as_ref()
        .is_some_and(|v| v.rules.get(r).is_some_and(|x| x.events > 0))
}

/// The "Sample events" part of a rule note.
#[derive(Serialize)]
pub struct RuleSamples<'a> {
    events: u64,
    files: Vec<LinkCount>,
    samples: Vec<Sample>,
    logsource_seen: bool,
    skipped: &'a Option<String>,
    total_events: u64,
    correlation: Option<CorrelationView>,
}

/// What a correlation rule did: its first matches as table rows.
#[derive(Serialize)]
struct CorrelationView {
    inputs: u64,
    rows: Vec<[String; 5]>,
}

impl CorrelationView {
    fn new(c: &CorrelationResult) -> Self {
        let span = |t: &Option<String>| t.as_deref().map(code_span).unwrap_or_default();
        let rows = c
            .matches
            .iter()
            .map(|m| {
                let group: Vec<String> = m
                    .group
                    .iter()
                    .map(|(f, v)| format!("{f} = {}", code_span(v)))
                    .collect();
                let group = if group.is_empty() {
                    "all events (no `group-by`)".to_string()
                } else {
                    group.join(", ")
                };
                [
                    group,
                    span(&m.first),
                    span(&m.last),
                    m.count.to_string(),
                    m.value.to_string(),
                ]
            })
            .collect();
        CorrelationView {
            inputs: c.inputs,
            rows,
        }
    }
}

#[derive(Serialize)]
struct LinkCount {
    link: String,
    count: u64,
}

/// One sample event that fired the rule, field by field.
#[derive(Serialize)]
struct Sample {
    file: String,
    rows: Vec<SampleField>,
}

#[derive(Serialize)]
struct SampleField {
    field: String,
    /// A code span, in bold when the rule's detection read the field.
    value: String,
    hit: bool,
}

impl SampleField {
    fn new(field: &str, raw: &str, hit: bool) -> Self {
        let shown = code_span(&raw.chars().take(300).collect::<String>());
        SampleField {
            field: field.to_string(),
            value: if hit { format!("**{shown}**") } else { shown },
            hit,
        }
    }
}

/// The "Sample events" part of a rule note; `None` without a validation run.
pub fn rule_ctx<'m>(
    model: &'m Model,
    r: usize,
    sample_stems: &[String],
) -> Option<RuleSamples<'m>> {
    let v = model.validation.as_ref()?;
    let rr = &v.rules[r];
    let files = rr
        .files
        .iter()
        .map(|(&fi, &count)| LinkCount {
            link: wikilink(&sample_stems[fi], None),
            count,
        })
        .collect();
    let samples = rr
        .samples
        .iter()
        .map(|s| {
            let record = s.record.to_string();
            let meta = [
                ("time", s.timestamp.as_deref()),
                ("computer", s.computer.as_deref()),
                ("channel", s.channel.as_deref()),
                ("record", Some(record.as_str())),
            ];
            let rows = meta
                .into_iter()
                .filter_map(|(k, v)| Some(SampleField::new(k, v?, false)))
                .chain(
                    s.fields
                        .iter()
                        .map(|(k, val, hit)| SampleField::new(k, val, *hit)),
                )
                .collect();
            Sample {
                file: wikilink(&sample_stems[s.file], None),
                rows,
            }
        })
        .collect();
    Some(RuleSamples {
        events: rr.events,
        files,
        samples,
        logsource_seen: rr.logsource_seen,
        skipped: &rr.skipped,
        total_events: v.events,
        correlation: rr.correlation.as_ref().map(CorrelationView::new),
    })
}
