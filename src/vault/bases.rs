//! Live Obsidian Bases (`--bases`): a ```` ```base ```` block beside each
//! precomputed table, with the same rows live, and `.base` files that slice
//! rules, atomic tests and techniques. The format is Obsidian's own
//! (`filters` with `and`/`or`/`not`, `properties` with `displayName`,
//! `views` of type `table` with `order`, `sort` and `groupBy`); the
//! precomputed tables stay, for GitHub and the site.

use super::Note;
use super::layout::{BASES_FOLDER, RULE_TAG, TEST_TAG};
use crate::tags::TagStyle;
use indexmap::IndexMap;
use serde::Serialize;
use sigma_engine::sigma::vocab::Level;

/// A filter: one statement, or `and`/`or`/`not` of others.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Vec<Filter>),
    #[serde(untagged)]
    Statement(String),
}

impl Filter {
    fn has_tag(tag: &str) -> Filter {
        Filter::Statement(format!("file.hasTag({})", quote(tag)))
    }
}

/// A text literal of the Bases expression language.
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[derive(Debug, Clone, Serialize)]
pub struct PropertyConfig {
    #[serde(rename = "displayName")]
    pub display_name: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub enum Direction {
    #[serde(rename = "ASC")]
    Asc,
    #[serde(rename = "DESC")]
    Desc,
}

#[derive(Debug, Clone, Serialize)]
pub struct SortBy {
    pub property: String,
    pub direction: Direction,
}

#[derive(Debug, Clone, Serialize)]
pub struct View {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    #[serde(rename = "groupBy", skip_serializing_if = "Option::is_none")]
    pub group_by: Option<SortBy>,
    pub order: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortBy>,
}

/// One base: what a `.base` file or a ```` ```base ```` block holds.
#[derive(Debug, Clone, Serialize)]
pub struct Base {
    pub filters: Filter,
    /// Computed properties, by name: `formula.<name>` in views.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub formulas: IndexMap<String, String>,
    pub properties: IndexMap<String, PropertyConfig>,
    pub views: Vec<View>,
}

impl Base {
    pub fn to_yaml(&self) -> String {
        serde_saphyr::to_string(self).unwrap_or_default()
    }
}

/// Columns: (property, display name).
fn properties(cols: &[(&str, &str)]) -> IndexMap<String, PropertyConfig> {
    cols.iter()
        .map(|(p, d)| {
            (
                p.to_string(),
                PropertyConfig {
                    display_name: d.to_string(),
                },
            )
        })
        .collect()
}

fn table(name: &str, cols: &[(&str, &str)], sort: Vec<SortBy>) -> View {
    View {
        kind: "table",
        name: name.to_string(),
        group_by: None,
        order: cols.iter().map(|(p, _)| p.to_string()).collect(),
        sort,
    }
}

fn by(property: &str, direction: Direction) -> SortBy {
    SortBy {
        property: property.to_string(),
        direction,
    }
}

/// A rule's level as the rank the precomputed table sorts by
/// ([`Level::rank`]: most severe first, rules without a level last), as an
/// expression of nested choices, each written by `choose(level, rank,
/// otherwise)`: sorted as text, `level` would put `informational` before
/// `low` and `medium`. For the Bases views and the Dataview queries alike.
pub fn severity_expression(choose: impl Fn(&str, usize, &str) -> String) -> String {
    Level::ALL
        .iter()
        .fold(Level::rank(None).to_string(), |rest, &l| {
            choose(l.as_str(), Level::rank(Some(l)), &rest)
        })
}

/// [`severity_expression`] as a Bases formula.
fn severity() -> String {
    severity_expression(|level, rank, rest| {
        format!("if(note.level == {}, {rank}, {rest})", quote(level))
    })
}

const RULE_COLUMNS: [(&str, &str); 4] = [
    ("file.name", "Name"),
    ("note.status", "Status"),
    ("note.level", "Level"),
    ("note.logsrc_product", "Log Source Product"),
];
const TEST_COLUMNS: [(&str, &str); 3] = [
    ("note.filename", "Name"),
    ("note.platforms", "Platforms"),
    ("note.executor", "Executor"),
];

/// Notes of the kind `kind` tags (styled) carrying any of the technique
/// tags: by tag, not folder, so that the view follows moved notes.
fn tagged(kind: String, tags: &[String]) -> Filter {
    let tag = match tags {
        [one] => Filter::has_tag(one),
        _ => Filter::Or(tags.iter().map(|t| Filter::has_tag(t)).collect()),
    };
    Filter::And(vec![Filter::has_tag(&kind), tag])
}

/// The live twin of a technique's "Detection Rule" table, with its four
/// columns: the seed's `FROM "Detection Rules" AND #T1059_006`, with the
/// rules found by their tag instead of their folder.
pub fn technique_rules(style: &TagStyle, tags: &[String]) -> Base {
    Base {
        filters: tagged(style.plain(RULE_TAG), tags),
        formulas: IndexMap::from([("severity".to_string(), severity())]),
        properties: properties(&RULE_COLUMNS),
        views: vec![table(
            "Detection rules",
            &RULE_COLUMNS,
            vec![
                by("formula.severity", Direction::Asc),
                by("file.name", Direction::Asc),
            ],
        )],
    }
}

/// The live twin of a technique's "Rule Testing" table: the seed's
/// `FROM "atomics" AND #T1059_006`, by tag as [`technique_rules`].
pub fn technique_tests(style: &TagStyle, tags: &[String]) -> Base {
    Base {
        filters: tagged(style.plain(TEST_TAG), tags),
        formulas: IndexMap::new(),
        properties: properties(&TEST_COLUMNS),
        views: vec![table(
            "Atomic tests",
            &TEST_COLUMNS,
            vec![by("note.filename", Direction::Asc)],
        )],
    }
}

fn grouped(name: &str, cols: &[(&str, &str)], group: &str) -> View {
    View {
        group_by: Some(by(group, Direction::Asc)),
        ..table(name, cols, vec![by("file.name", Direction::Asc)])
    }
}

/// The `.base` files: rules by level, product and status; atomic tests by
/// platform and executor; techniques by coverage.
pub fn files(tags: &TagStyle) -> Vec<Note> {
    let rules = Base {
        filters: Filter::has_tag(&tags.plain(RULE_TAG)),
        formulas: IndexMap::new(),
        properties: properties(&RULE_COLUMNS),
        views: vec![
            grouped("By level", &RULE_COLUMNS, "note.level"),
            grouped("By product", &RULE_COLUMNS, "note.logsrc_product"),
            grouped("By status", &RULE_COLUMNS, "note.status"),
        ],
    };
    let tests = Base {
        filters: Filter::has_tag(&tags.plain(TEST_TAG)),
        formulas: IndexMap::new(),
        properties: properties(&TEST_COLUMNS),
        views: vec![
            grouped("By platform", &TEST_COLUMNS, "note.platforms"),
            grouped("By executor", &TEST_COLUMNS, "note.executor"),
        ],
    };
    let tech_cols = [
        ("file.name", "Technique"),
        ("note.coverage", "Coverage"),
        ("note.rules", "Rules"),
        ("note.rules_fired", "Fired"),
        ("note.atomic_tests", "Atomic tests"),
        ("note.tactics", "Tactics"),
    ];
    let techniques = Base {
        filters: Filter::has_tag(&tags.plain(crate::model::kb::Kind::Technique.tag())),
        formulas: IndexMap::new(),
        properties: properties(&tech_cols),
        views: vec![
            grouped("By coverage", &tech_cols, "note.coverage"),
            table(
                "Most rules",
                &tech_cols,
                vec![by("note.rules", Direction::Desc)],
            ),
        ],
    };
    [
        ("Detection Rules", rules),
        ("Atomic Tests", tests),
        ("Techniques", techniques),
    ]
    .into_iter()
    .map(|(name, b)| Note {
        path: format!("{BASES_FOLDER}/{name}.base"),
        content: b.to_yaml(),
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_query_as_a_base() {
        let y = technique_rules(&TagStyle::default(), &["T1059_006".into()]).to_yaml();
        let v: serde_json::Value = serde_saphyr::from_str(&y).unwrap();
        assert_eq!(v["filters"]["and"][0], "file.hasTag(\"detection_rule\")");
        assert_eq!(v["filters"]["and"][1], "file.hasTag(\"T1059_006\")");
        assert_eq!(v["views"][0]["type"], "table");
        assert_eq!(v["views"][0]["order"][3], "note.logsrc_product");
        assert_eq!(
            v["properties"]["note.logsrc_product"]["displayName"],
            "Log Source Product"
        );
        assert_eq!(v["views"][0]["sort"][0]["direction"], "ASC");
        assert_eq!(v["views"][0]["sort"][0]["property"], "formula.severity");
        let severity = v["formulas"]["severity"].as_str().unwrap();
        assert!(severity.starts_with("if(note.level == \"critical\", 0,"));
        // The precomputed table's ranks; rules without a level last.
        for l in Level::ALL {
            let rank = format!("if(note.level == \"{l}\", {}, ", Level::rank(Some(*l)));
            assert!(severity.contains(&rank), "{severity}");
        }
        assert!(severity.ends_with(", 5)))))"), "{severity}");
    }

    #[test]
    fn sub_techniques_join_with_or() {
        let y =
            technique_tests(&TagStyle::default(), &["T1059".into(), "T1059_006".into()]).to_yaml();
        let v: serde_json::Value = serde_saphyr::from_str(&y).unwrap();
        assert_eq!(
            v["filters"]["and"][1]["or"][1],
            "file.hasTag(\"T1059_006\")"
        );
    }
}
