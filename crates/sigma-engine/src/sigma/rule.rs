//! The Sigma rule model, shared by the vault and the matcher: detection rules,
//! correlation rules and filter rules, read from YAML nodes and checked against
//! the specification.

use super::condition::{self, Cond};
use super::modifiers::{Modifier, validate_chain};
use super::vocab::{CmpOp, CorrelationType, Level, Status};
use crate::yaml::{Node, Yaml};
use std::path::PathBuf;

/// A problem with one rule, at a position in its file: the error of the
/// rule model layer (conditions and modifier chains report through it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RuleError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl RuleError {
    /// The error as a diagnostic of `file`.
    pub fn diagnostic(self, file: &std::path::Path) -> crate::diag::Diagnostic {
        crate::diag::Diagnostic::error("sigma", self.message)
            .in_file(file)
            .at(Some(self.line), Some(self.column))
    }
}

fn err(node: &Node, msg: impl Into<String>) -> RuleError {
    RuleError {
        message: msg.into(),
        line: node.line,
        column: node.column,
    }
}

/// A scalar value of a detection.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

impl Value {
    fn from_node(n: &Node) -> Option<Value> {
        Some(match &n.value {
            Yaml::Str(s) => Value::Str(s.clone()),
            Yaml::Int(i) => Value::Int(*i),
            Yaml::UInt(u) => Value::Str(u.to_string()),
            Yaml::Float(f) => Value::Float(*f),
            Yaml::Bool(b) => Value::Bool(*b),
            Yaml::Null => Value::Null,
            Yaml::Seq(_) | Yaml::Map(_) => return None,
        })
    }
    /// The value as text (numbers and booleans in canonical form).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => None,
        }
    }
}

/// One `field|modifiers: values` entry of a search.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// The field; `None` for keyword entries such as `'|all': [...]`.
    pub field: Option<String>,
    pub modifiers: Vec<Modifier>,
    /// The values, OR-ed (AND-ed with the `all` modifier).
    pub values: Vec<Value>,
    pub line: usize,
    pub column: usize,
}

/// An item of a list search.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchItem {
    /// A keyword searched in the whole event.
    Keyword(Value),
    /// A map of field conditions (AND).
    Fields(Vec<FieldSpec>),
}

/// A search identifier's definition.
#[derive(Debug, Clone, PartialEq)]
pub enum Search {
    /// A map: every entry must match.
    Fields(Vec<FieldSpec>),
    /// A list: any item may match.
    List(Vec<SearchItem>),
}

impl Search {
    /// Every field condition of the search, whatever its shape.
    pub fn specs(&self) -> impl Iterator<Item = &FieldSpec> {
        let (map, list): (&[FieldSpec], &[SearchItem]) = match self {
            Search::Fields(specs) => (specs, &[]),
            Search::List(items) => (&[], items),
        };
        let listed = list.iter().flat_map(|i| match i {
            SearchItem::Fields(specs) => specs.as_slice(),
            SearchItem::Keyword(_) => &[],
        });
        map.iter().chain(listed)
    }
}

/// The `detection` section (also the body of a filter rule).
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Search identifiers in document order.
    pub searches: Vec<(String, Search)>,
    /// The condition text(s); several are OR-ed.
    pub condition_text: Vec<String>,
    pub conditions: Vec<Cond>,
}

impl Detection {
    pub fn search(&self, name: &str) -> Option<&Search> {
        self.searches
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }
}

/// `logsource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LogSource {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    pub definition: Option<String>,
}

impl LogSource {
    /// Whether this logsource lies within `outer`: every field `outer` sets
    /// is set here to the same value (pySigma's `SigmaLogSource.__contains__`).
    pub fn within(&self, outer: &LogSource) -> bool {
        let same = |o: &Option<String>, s: &Option<String>| match (o, s) {
            (None, _) => true,
            (Some(o), Some(s)) => o.eq_ignore_ascii_case(s),
            (Some(_), None) => false,
        };
        same(&outer.category, &self.category)
            && same(&outer.product, &self.product)
            && same(&outer.service, &self.service)
    }
}

/// An entry of `related`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub id: String,
    pub kind: String,
}

/// An entry of `simulation` (SigmaHQ): the Atomic Red Team test that exercises the rule.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Simulation {
    pub kind: String,
    pub name: String,
    pub technique: String,
    pub atomic_guid: String,
}

/// A correlation condition: `gt: 10`, `gte`, `lt`, `lte`, `eq`, `neq`, plus the
/// `field` that value aggregations read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorrelationCondition {
    pub ops: Vec<(CmpOp, f64)>,
    pub field: Option<String>,
}

/// The `correlation` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub kind: CorrelationType,
    pub rules: Vec<String>,
    pub group_by: Vec<String>,
    /// Time span in seconds.
    pub timespan: u64,
    pub timespan_text: String,
    pub condition: Option<CorrelationCondition>,
    /// Field aliases: alias → (rule → field).
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    pub generate: bool,
}

impl Correlation {
    /// The field the condition reads (`value_count`, `value_sum`, ...).
    pub fn field(&self) -> Option<&str> {
        self.condition.as_ref().and_then(|c| c.field.as_deref())
    }
}

/// The rules a filter applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterTargets {
    /// `rules: any` (or `all`, or an empty list): every rule whose logsource
    /// lies within the filter's.
    Any,
    /// Rules named by `id` or `name`.
    Named(Vec<String>),
}

impl FilterTargets {
    /// The rule references, empty for [`FilterTargets::Any`].
    pub fn names(&self) -> &[String] {
        match self {
            FilterTargets::Any => &[],
            FilterTargets::Named(v) => v,
        }
    }
}

/// The `filter` section of a filter rule. Applied as pySigma applies it: the
/// condition of each rule it targets becomes `(rule) and (filter)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub rules: FilterTargets,
    pub detection: Detection,
}

/// Which of the three rule types a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Detection,
    Correlation,
    Filter,
}

/// One Sigma rule document.
#[derive(Debug, Clone, PartialEq)]
pub struct SigmaRule {
    pub path: PathBuf,
    /// Index of the document in its file (0-based).
    pub document: usize,
    /// Line where the document starts.
    pub line: usize,
    pub kind: RuleKind,
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<Status>,
    pub level: Option<Level>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub author: Option<String>,
    pub taxonomy: Option<String>,
    /// ISO date (`YYYY-MM-DD`), from either `2023-02-20` or `2023/02/20`.
    pub date: Option<String>,
    pub modified: Option<String>,
    pub references: Vec<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub fields: Vec<String>,
    pub scope: Vec<String>,
    pub related: Vec<Related>,
    pub logsource: LogSource,
    pub detection: Option<Detection>,
    /// Boxed: few rules have one, and every rule would pay for the space.
    pub correlation: Option<Box<Correlation>>,
    pub filter: Option<Box<Filter>>,
    pub simulation: Vec<Simulation>,
    pub regression_tests_path: Option<String>,
    /// The document's YAML text, as written.
    pub source: String,
}

impl SigmaRule {
    /// Frees what only a reader needs (YAML text, description, references,
    /// false positives, author), keeping what matching and reports use.
    pub fn drop_prose(&mut self) {
        self.source = String::new();
        self.description = None;
        self.references = Vec::new();
        self.falsepositives = Vec::new();
        self.author = None;
        self.license = None;
        self.related = Vec::new();
        self.simulation = Vec::new();
    }
}

const RELATED_TYPES: [&str; 5] = ["derived", "obsolete", "merged", "renamed", "similar"];
struct Ctx {
    errors: Vec<RuleError>,
}

impl Ctx {
    fn string(&mut self, doc: &Node, key: &str) -> Option<String> {
        let n = doc.get(key)?;
        match &n.value {
            Yaml::Null => None,
            Yaml::Seq(_) | Yaml::Map(_) => {
                self.errors.push(err(
                    n,
                    format!("`{key}` must be a string, not a {}", n.type_name()),
                ));
                None
            }
            _ => n.as_scalar_text(),
        }
    }
    fn string_list(&mut self, doc: &Node, key: &str) -> Vec<String> {
        let Some(n) = doc.get(key) else {
            return Vec::new();
        };
        match &n.value {
            Yaml::Null => Vec::new(),
            Yaml::Seq(items) => items
                .iter()
                .filter_map(|i| match i.as_scalar_text() {
                    Some(s) => Some(s),
                    None if i.is_null() => None,
                    None => {
                        self.errors.push(err(
                            i,
                            format!("items of `{key}` must be strings, not a {}", i.type_name()),
                        ));
                        None
                    }
                })
                .collect(),
            Yaml::Map(_) => {
                let msg = format!("`{key}` must be a list of strings, not a map");
                self.errors.push(err(n, msg));
                Vec::new()
            }
            _ => n.as_scalar_text().into_iter().collect(),
        }
    }
    fn date(&mut self, doc: &Node, key: &str) -> Option<String> {
        let n = doc.get(key)?;
        let text = n.as_scalar_text()?;
        let ok = iso_date(&text).filter(|_| text.trim().len() == 10);
        if ok.is_none() {
            self.errors.push(err(
                n,
                format!("`{key}` must be a date like 2023-02-20 (or 2023/02/20), not `{text}`"),
            ));
        }
        ok
    }
}

/// Read one document of a rule file.
pub fn from_node(
    doc: &Node,
    path: PathBuf,
    document: usize,
    source: String,
) -> Result<SigmaRule, Vec<RuleError>> {
    let mut c = Ctx { errors: Vec::new() };
    if !matches!(doc.value, Yaml::Map(_)) {
        return Err(vec![err(
            doc,
            format!("a rule must be a YAML map, not a {}", doc.type_name()),
        )]);
    }
    if let Some(a) = doc.get("action") {
        return Err(vec![err(
            a,
            "`action` rule collections (global/reset/repeat) are not part of Sigma 2; split them into separate rules",
        )]);
    }
    let title = c.string(doc, "title");
    if title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        c.errors.push(err(doc, "missing required field `title`"));
    }
    let kind = if doc.get("correlation").is_some() {
        RuleKind::Correlation
    } else if doc.get("filter").is_some() {
        RuleKind::Filter
    } else {
        RuleKind::Detection
    };
    let status = c.word(doc, "status", Status::parse, Status::expected);
    let level = c.word(doc, "level", Level::parse, Level::expected);
    let date = c.date(doc, "date");
    let modified = c.date(doc, "modified");
    let related = c.related(doc);
    let logsource = c.logsource(doc, kind);
    let body = c.body(doc, kind);
    let rule = SigmaRule {
        path,
        document,
        line: doc.line,
        kind,
        title: title.unwrap_or_default(),
        id: c.string(doc, "id"),
        name: c.string(doc, "name"),
        status,
        level,
        description: c.string(doc, "description"),
        license: c.string(doc, "license"),
        author: c.string(doc, "author"),
        taxonomy: c.string(doc, "taxonomy"),
        date,
        modified,
        references: c.string_list(doc, "references"),
        tags: c.string_list(doc, "tags"),
        falsepositives: c.string_list(doc, "falsepositives"),
        fields: c.string_list(doc, "fields"),
        scope: c.string_list(doc, "scope"),
        related,
        logsource,
        detection: body.detection,
        correlation: body.correlation,
        filter: body.filter,
        simulation: simulations(doc),
        regression_tests_path: c.string(doc, "regression_tests_path"),
        source,
    };
    if c.errors.is_empty() {
        Ok(rule)
    } else {
        Err(c.errors)
    }
}

/// The section that makes a document a detection, correlation or filter rule.
#[derive(Default)]
struct Body {
    detection: Option<Detection>,
    correlation: Option<Box<Correlation>>,
    filter: Option<Box<Filter>>,
}

impl Ctx {
    /// A field that must be a word of a vocabulary, when present.
    fn word<T>(
        &mut self,
        doc: &Node,
        key: &str,
        parse: fn(&str) -> Option<T>,
        expected: fn() -> String,
    ) -> Option<T> {
        let (n, text) = (doc.get(key)?, self.string(doc, key)?);
        // In any case, as pySigma reads them (`level: High`).
        let word = parse(&text.to_lowercase());
        if word.is_none() {
            self.errors.push(err(
                n,
                format!("unknown {key} `{text}` (expected one of {})", expected()),
            ));
        }
        word
    }

    fn related(&mut self, doc: &Node) -> Vec<Related> {
        let mut related = Vec::new();
        let Some(r) = doc.get("related") else {
            return related;
        };
        match &r.value {
            Yaml::Seq(items) => {
                for i in items {
                    let id = i.get("id").and_then(Node::as_scalar_text);
                    let t = i.get("type").and_then(Node::as_scalar_text);
                    match (id, t) {
                        (Some(id), Some(t)) => {
                            if !RELATED_TYPES.contains(&t.as_str()) {
                                self.errors
                                    .push(err(i, format!("unknown related type `{t}`")));
                            }
                            related.push(Related { id, kind: t });
                        }
                        _ => self
                            .errors
                            .push(err(i, "`related` entries need `id` and `type`")),
                    }
                }
            }
            Yaml::Null => {}
            _ => self.errors.push(err(r, "`related` must be a list")),
        }
        related
    }

    fn logsource(&mut self, doc: &Node, kind: RuleKind) -> LogSource {
        match doc.get("logsource") {
            Some(ls) if matches!(ls.value, Yaml::Map(_)) => LogSource {
                category: self.string(ls, "category"),
                product: self.string(ls, "product"),
                service: self.string(ls, "service"),
                definition: self.string(ls, "definition"),
            },
            Some(ls) => {
                self.errors.push(err(ls, "`logsource` must be a map"));
                LogSource::default()
            }
            None => {
                if kind != RuleKind::Correlation {
                    self.errors
                        .push(err(doc, "missing required field `logsource`"));
                }
                LogSource::default()
            }
        }
    }

    fn body(&mut self, doc: &Node, kind: RuleKind) -> Body {
        let mut body = Body::default();
        match kind {
            RuleKind::Detection => match doc.get("detection") {
                Some(d) => body.detection = parse_detection(d, &mut self.errors, true),
                None => self
                    .errors
                    .push(err(doc, "missing required field `detection`")),
            },
            RuleKind::Correlation => {
                body.correlation = doc
                    .get("correlation")
                    .and_then(|n| parse_correlation(n, &mut self.errors))
                    .map(Box::new)
            }
            RuleKind::Filter => {
                if let Some(f) = doc.get("filter") {
                    let rules = filter_targets(self, f);
                    if let Some(d) = parse_detection(f, &mut self.errors, false) {
                        body.filter = Some(Box::new(Filter {
                            rules,
                            detection: d,
                        }));
                    }
                }
            }
        }
        body
    }
}

fn simulations(doc: &Node) -> Vec<Simulation> {
    let Some(Yaml::Seq(items)) = doc.get("simulation").map(|s| &s.value) else {
        return Vec::new();
    };
    let text = |i: &Node, key: &str| {
        i.get(key)
            .and_then(Node::as_scalar_text)
            .unwrap_or_default()
    };
    items
        .iter()
        .map(|i| Simulation {
            kind: text(i, "type"),
            name: text(i, "name"),
            technique: text(i, "technique"),
            atomic_guid: text(i, "atomic_guid"),
        })
        .collect()
}

fn parse_values(n: &Node, errors: &mut Vec<RuleError>, key: &str) -> Vec<Value> {
    match &n.value {
        Yaml::Seq(items) => {
            let mut out = Vec::new();
            for i in items {
                match Value::from_node(i) {
                    Some(v) => out.push(v),
                    None => errors.push(err(
                        i,
                        format!(
                            "`{key}`: a value list may only hold plain values, not a {}",
                            i.type_name()
                        ),
                    )),
                }
            }
            if out.is_empty() {
                errors.push(err(n, format!("`{key}`: empty value list")));
            }
            out
        }
        Yaml::Map(_) => {
            errors.push(err(n, format!("`{key}`: a field's value cannot be a map")));
            Vec::new()
        }
        _ => Value::from_node(n).into_iter().collect(),
    }
}

fn parse_field(key: &Node, val: &Node, errors: &mut Vec<RuleError>) -> Option<FieldSpec> {
    let Some(k) = key.as_scalar_text() else {
        errors.push(err(key, "a field name must be a string"));
        return None;
    };
    let (field, modifiers) = match parse_modifiers(&k) {
        Ok(parsed) => parsed,
        Err(e) => {
            errors.push(err(key, e));
            return None;
        }
    };
    let before = errors.len();
    let values = parse_values(val, errors, &k);
    if errors.len() > before {
        return None;
    }
    if let Err(e) = values_fit(&modifiers, &values) {
        errors.push(err(val, format!("`{k}`: {e}")));
        return None;
    }
    Some(FieldSpec {
        field: (!field.is_empty()).then(|| field.to_string()),
        modifiers,
        values,
        line: key.line,
        column: key.column,
    })
}

/// The field name and modifiers of a key (`Image|endswith`), the chain
/// checked.
fn parse_modifiers(k: &str) -> Result<(&str, Vec<Modifier>), String> {
    let mut parts = k.split('|');
    let field = parts.next().unwrap_or("");
    let modifiers = parts
        .map(|m| Modifier::parse(m).ok_or_else(|| format!("unknown modifier `{m}` in `{k}`")))
        .collect::<Result<Vec<_>, _>>()?;
    validate_chain(&modifiers).map_err(|e| format!("`{k}`: {e}"))?;
    Ok((field, modifiers))
}

/// Whether the values suit the modifiers: `exists` takes a boolean,
/// comparisons numbers, `re` regular expressions (parsed only: the matcher
/// compiles them), and `null` stands alone.
fn values_fit(modifiers: &[Modifier], values: &[Value]) -> Result<(), String> {
    if modifiers.contains(&Modifier::Exists)
        && !(values.len() == 1 && matches!(values[0], Value::Bool(_)))
    {
        return Err("`exists` takes `true` or `false`".into());
    }
    let numeric = |v: &Value| match v {
        Value::Int(_) | Value::Float(_) => true,
        Value::Str(s) => s.trim().parse::<f64>().is_ok(),
        _ => false,
    };
    if modifiers.iter().any(|m| m.is_comparison()) && !values.iter().all(numeric) {
        return Err("numeric comparison needs numbers".into());
    }
    // As pySigma: `null` in a plain list means "absent or null, or one of
    // the others"; no modifier takes it.
    if let (Some(m), true) = (modifiers.first(), values.contains(&Value::Null)) {
        return Err(format!(
            "`{}` cannot take `null` (write `field: null` for a field absent or null)",
            m.name()
        ));
    }
    if modifiers.contains(&Modifier::Re) {
        for v in values {
            if let Value::Str(s) = v
                && let Err(e) = regex_syntax::Parser::new().parse(s)
            {
                let first = e.to_string().lines().last().unwrap_or("").to_string();
                return Err(format!("invalid regular expression: {first}"));
            }
        }
    }
    Ok(())
}

fn parse_fields(map: &[(Node, Node)], errors: &mut Vec<RuleError>) -> Vec<FieldSpec> {
    map.iter()
        .filter_map(|(k, v)| parse_field(k, v, errors))
        .collect()
}

/// `filter.rules`: `any`/`all`, one reference, or a list (empty = any).
fn filter_targets(c: &mut Ctx, f: &Node) -> FilterTargets {
    let Some(n) = f.get("rules") else {
        c.errors.push(err(
            f,
            "a filter needs `rules`: the ids or names of the rules it applies to, or `any`",
        ));
        return FilterTargets::Named(Vec::new());
    };
    if let Some(s) = n.as_scalar_text()
        && (s.eq_ignore_ascii_case("any") || s.eq_ignore_ascii_case("all"))
    {
        return FilterTargets::Any;
    }
    let names = c.string_list(f, "rules");
    if names.is_empty() {
        FilterTargets::Any
    } else {
        FilterTargets::Named(names)
    }
}

/// Parse a `detection` map (or a filter body, whose `rules` key is skipped).
fn parse_detection(d: &Node, errors: &mut Vec<RuleError>, is_detection: bool) -> Option<Detection> {
    let Yaml::Map(entries) = &d.value else {
        errors.push(err(d, "`detection` must be a map"));
        return None;
    };
    let before = errors.len();
    let mut searches = Vec::new();
    let mut names = Vec::new();
    let mut condition_text = Vec::new();
    let mut condition_nodes = Vec::new();
    let mut has_condition = false;
    for (k, v) in entries {
        let Some(name) = k.as_scalar_text() else {
            errors.push(err(k, "a search identifier must be a string"));
            continue;
        };
        match name.as_str() {
            "condition" => {
                has_condition = true;
                condition_texts(v, &mut condition_text, &mut condition_nodes, errors);
            }
            "timeframe" if is_detection => {}
            "rules" if !is_detection => {}
            _ => {
                // A search in error is still a name the condition may use.
                names.push(name.clone());
                if let Some(search) = parse_search(&name, v, errors) {
                    searches.push((name, search));
                }
            }
        }
    }
    if !has_condition {
        errors.push(err(d, "missing `condition`"));
        return None;
    }
    let conditions = condition_text
        .iter()
        .zip(condition_nodes)
        .filter_map(|(text, node)| parse_condition(text, node, &names, errors))
        .collect();
    if errors.len() > before {
        return None;
    }
    Some(Detection {
        searches,
        condition_text,
        conditions,
    })
}

/// The text of `condition`: one string or a list of them, each with its
/// node (where its errors point).
fn condition_texts<'n>(
    v: &'n Node,
    out: &mut Vec<String>,
    nodes: &mut Vec<&'n Node>,
    errors: &mut Vec<RuleError>,
) {
    match &v.value {
        Yaml::Str(s) => {
            out.push(s.clone());
            nodes.push(v);
        }
        Yaml::Seq(items) => {
            for i in items {
                match i.as_str() {
                    Some(s) => {
                        out.push(s.to_string());
                        nodes.push(i);
                    }
                    None => errors.push(err(i, "a condition must be a string")),
                }
            }
        }
        _ => errors.push(err(v, "a condition must be a string or a list of strings")),
    }
}

/// One named search: a map of fields, a list of keywords or maps, or one
/// keyword. `None` for an empty search (reported): as in the reference
/// implementation, an empty map or list is an error, not a search that
/// every event (or none) matches, and so is a keyword `null`.
fn parse_search(name: &str, v: &Node, errors: &mut Vec<RuleError>) -> Option<Search> {
    let empty = match &v.value {
        Yaml::Map(m) => m.is_empty(),
        Yaml::Seq(items) => items.is_empty(),
        Yaml::Null => true,
        _ => false,
    };
    if empty {
        errors.push(err(v, format!("search `{name}` is empty")));
        return None;
    }
    Some(match &v.value {
        Yaml::Map(m) => Search::Fields(parse_fields(m, errors)),
        Yaml::Seq(items) => Search::List(
            items
                .iter()
                .filter_map(|i| match &i.value {
                    Yaml::Map(m) if m.is_empty() => {
                        errors.push(err(i, format!("search `{name}` holds an empty map")));
                        None
                    }
                    Yaml::Map(m) => Some(SearchItem::Fields(parse_fields(m, errors))),
                    Yaml::Seq(_) => {
                        errors.push(err(i, "nested lists are not allowed in a search"));
                        None
                    }
                    Yaml::Null => {
                        let msg =
                            format!("search `{name}`: a keyword cannot be `null` (a field can)");
                        errors.push(err(i, msg));
                        None
                    }
                    _ => Value::from_node(i).map(SearchItem::Keyword),
                })
                .collect(),
        ),
        _ => Search::List(
            Value::from_node(v)
                .map(SearchItem::Keyword)
                .into_iter()
                .collect(),
        ),
    })
}

/// Parses one condition and checks that every name it uses matches a
/// search; errors point at the `condition` node.
fn parse_condition(
    text: &str,
    cn: &Node,
    names: &[String],
    errors: &mut Vec<RuleError>,
) -> Option<Cond> {
    let c = match condition::parse(text) {
        Ok(c) => c,
        Err(e) => {
            errors.push(RuleError {
                message: format!(
                    "malformed condition `{}`: {e}",
                    crate::text::excerpt(text, 60)
                ),
                line: cn.line,
                // Exact for a plain scalar condition; a quoted one is off by the quote.
                column: cn.column + e.position,
            });
            return None;
        }
    };
    let mut refs = Vec::new();
    c.references(&mut refs);
    let known: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let shown = crate::text::excerpt(text, 60);
    let mut compared = 0;
    for r in refs {
        if let condition::Reference::Selector(_) = r {
            // Each `x of` target is compared with every search's name (here
            // and when the rule is compiled).
            compared += names.len();
            if compared > MOST_TARGET_COMPARISONS {
                let msg = format!(
                    "condition `{shown}`: too many `x of` targets for its {} searches (each is compared with every search's name, more than {MOST_TARGET_COMPARISONS} comparisons in all)",
                    names.len()
                );
                errors.push(err(cn, msg));
                return None;
            }
        }
        if let Some(problem) = unresolved(r, &known, names) {
            errors.push(err(cn, format!("condition `{shown}`: {problem}")));
        }
    }
    Some(c)
}

/// The most comparisons of `x of` targets with search names in one
/// condition: a condition of many targets over many searches (`1 of them or
/// 1 of them or ...`) would otherwise take time and memory that grow with
/// their product. Real rules make a few thousand at most.
pub const MOST_TARGET_COMPARISONS: usize = 1 << 22;

/// Why a condition's reference takes no search, if it takes none.
fn unresolved(
    r: condition::Reference,
    known: &std::collections::HashSet<&str>,
    names: &[String],
) -> Option<String> {
    use condition::{Reference, Target};
    let target = match r {
        Reference::Name(n) if known.contains(n) => return None,
        Reference::Name(n) => {
            return Some(format!(
                "search identifier `{n}` matches no search in the detection"
            ));
        }
        Reference::Selector(t) if names.iter().any(|x| condition::selects(t, x)) => return None,
        Reference::Selector(t) => t,
    };
    let what = match target {
        Target::Them => "`them` takes no search".to_string(),
        Target::Pattern(p) => format!("pattern `{p}` matches no search in the detection"),
    };
    let hidden = |x: &String| match target {
        Target::Them => true,
        Target::Pattern(p) => condition::pattern_matches(p, x),
    };
    Some(if names.iter().any(hidden) {
        format!("{what} (names starting with `_` are left out of `1 of` and `all of`)")
    } else {
        what
    })
}

/// Parse a time span such as `5m`, `1h`, `30s`, `2d`, `1w`, `1M`, `1y` to seconds.
pub fn parse_timespan(s: &str) -> Option<u64> {
    timespan(s).ok()
}

/// Why a text is no timespan.
#[derive(Debug, PartialEq, Eq)]
enum NoSpan {
    /// Not a number and a unit.
    Malformed,
    /// A number and a unit beyond `u64` seconds.
    TooLong,
}

fn timespan(s: &str) -> Result<u64, NoSpan> {
    let s = s.trim();
    let unit = s.chars().last().ok_or(NoSpan::Malformed)?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        // pySigma's: a mean Gregorian month and year.
        'M' => 2_629_746,
        'y' => 31_556_952,
        _ => return Err(NoSpan::Malformed),
    };
    let n: u64 = s[..s.len() - unit.len_utf8()].trim().parse().map_err(
        |e: std::num::ParseIntError| match e.kind() {
            std::num::IntErrorKind::PosOverflow => NoSpan::TooLong,
            _ => NoSpan::Malformed,
        },
    )?;
    // A span beyond u64 seconds is no span (not a wrapped-around short one).
    n.checked_mul(mult).ok_or(NoSpan::TooLong)
}

impl NoSpan {
    /// What is wrong with `text`, said for a rule's author.
    fn message(&self, text: &str) -> String {
        match self {
            NoSpan::TooLong => format!(
                "`timespan` `{text}` is longer than any window (at most {} seconds)",
                u64::MAX
            ),
            NoSpan::Malformed => format!(
                "`timespan` must be a number and a unit (s, m, h, d, w, M, y), not `{text}`"
            ),
        }
    }
}

fn parse_correlation(n: &Node, errors: &mut Vec<RuleError>) -> Option<Correlation> {
    let before = errors.len();
    let type_node = n.get("type").unwrap_or(n);
    let text = type_node.as_scalar_text().unwrap_or_default();
    let kind = CorrelationType::parse(&text.to_lowercase());
    if kind.is_none() {
        errors.push(err(
            type_node,
            format!(
                "unknown correlation type `{text}` (expected one of {})",
                CorrelationType::expected()
            ),
        ));
    }
    let rules = correlation_list(n, "rules", errors);
    if rules.is_empty() {
        errors.push(err(n, "a correlation needs `rules`"));
    }
    let group_by = correlation_list(n, "group-by", errors);
    let timespan_text = n
        .get("timespan")
        .and_then(Node::as_scalar_text)
        .unwrap_or_default();
    let timespan = timespan(&timespan_text);
    let at = n.get("timespan").unwrap_or(n);
    match &timespan {
        Err(no) => errors.push(err(at, no.message(&timespan_text))),
        // As pySigma: a window of no time holds one instant's events only.
        Ok(0) => errors.push(err(
            at,
            format!("`timespan` must be longer than nothing, not `{timespan_text}`"),
        )),
        Ok(_) => {}
    }
    let before_condition = errors.len();
    let condition = n.get("condition").map(|c| correlation_condition(c, errors));
    // A condition in error is said once, not again as missing.
    if let Some(kind) = kind
        && errors.len() == before_condition
    {
        check_condition(n, kind, condition.as_ref(), errors);
    }
    let generate = matches!(n.get("generate").map(|g| &g.value), Some(Yaml::Bool(true)));
    match kind {
        Some(kind) if errors.len() == before => Some(Correlation {
            kind,
            rules,
            group_by,
            timespan: timespan.unwrap_or(0),
            timespan_text,
            condition,
            aliases: correlation_aliases(n),
            generate,
        }),
        _ => None,
    }
}

/// A list field of a correlation: a sequence, or one string.
fn correlation_list(n: &Node, key: &str, errors: &mut Vec<RuleError>) -> Vec<String> {
    match n.get(key).map(|x| &x.value) {
        Some(Yaml::Seq(items)) => items.iter().filter_map(Node::as_scalar_text).collect(),
        Some(Yaml::Str(s)) => vec![s.clone()],
        Some(Yaml::Null) | None => Vec::new(),
        Some(_) => {
            errors.push(err(
                n.get(key).unwrap_or(n),
                format!("`{key}` must be a list"),
            ));
            Vec::new()
        }
    }
}

fn correlation_condition(c: &Node, errors: &mut Vec<RuleError>) -> CorrelationCondition {
    let mut cc = CorrelationCondition::default();
    let Yaml::Map(m) = &c.value else {
        errors.push(err(
            c,
            "a correlation `condition` must be a map such as `gte: 10`",
        ));
        return cc;
    };
    for (k, v) in m {
        let key = k.as_scalar_text().unwrap_or_default();
        if key == "field" {
            cc.field = v.as_scalar_text();
            continue;
        }
        let Some(op) = CmpOp::parse(&key) else {
            errors.push(err(
                k,
                format!("unknown correlation condition operator `{key}`"),
            ));
            continue;
        };
        match v.as_scalar_text().and_then(|t| t.parse::<f64>().ok()) {
            Some(x) => cc.ops.push((op, x)),
            None => errors.push(err(v, format!("`{key}` needs a number"))),
        }
    }
    cc
}

/// The condition parts a correlation type needs.
fn check_condition(
    n: &Node,
    kind: CorrelationType,
    condition: Option<&CorrelationCondition>,
    errors: &mut Vec<RuleError>,
) {
    if kind.needs_condition() && condition.is_none_or(|c| c.ops.is_empty()) {
        errors.push(err(
            n,
            format!("a correlation of type `{kind}` needs a `condition` such as `gte: 10`"),
        ));
    }
    if kind.reads_field() && condition.is_none_or(|c| c.field.is_none()) {
        errors.push(err(
            n,
            format!("a correlation of type `{kind}` needs `condition.field`"),
        ));
    }
}

/// `aliases`: alias → (rule → field).
fn correlation_aliases(n: &Node) -> Vec<(String, Vec<(String, String)>)> {
    let Some(Yaml::Map(m)) = n.get("aliases").map(|a| &a.value) else {
        return Vec::new();
    };
    let fields = |per_rule: &Node| -> Vec<(String, String)> {
        let Yaml::Map(pr) = &per_rule.value else {
            return Vec::new();
        };
        pr.iter()
            .filter_map(|(r, f)| Some((r.as_scalar_text()?, f.as_scalar_text()?)))
            .collect()
    };
    m.iter()
        .map(|(alias, per_rule)| (alias.as_scalar_text().unwrap_or_default(), fields(per_rule)))
        .collect()
}

/// `2020-03-09` from `2020-03-09T14:38:24.334Z`, `2020-03-09` or `2020/03/09`.
pub fn iso_date(value: &str) -> Option<String> {
    let v = value.trim();
    let head: String = v.chars().take(10).collect();
    let b = head.as_bytes();
    if b.len() != 10 || !(b[4] == b'-' || b[4] == b'/') || b[7] != b[4] {
        return None;
    }
    let (y, m, d) = (&head[0..4], &head[5..7], &head[8..10]);
    let ok = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    if !(ok(y) && ok(m) && ok(d)) {
        return None;
    }
    let (mn, dn): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    if !(1..=12).contains(&mn) || !(1..=31).contains(&dn) {
        return None;
    }
    Some(format!("{y}-{m}-{d}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn parse(text: &str) -> Result<SigmaRule, Vec<RuleError>> {
        let docs = parse_documents(text).unwrap();
        from_node(&docs[0], "t.yml".into(), 0, text.into())
    }

    const GOOD: &str = "title: T\nid: 1\nstatus: test\nlevel: high\ndate: 2023/02/20\nmodified: 2023-03-01\ntags:\n  - attack.t1059.006\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\python.exe'\n    CommandLine|contains|all: [' -c ', 'import']\n  filter:\n    - ParentImage: null\n    - 'keyword'\n  condition: sel and not filter\n";

    #[test]
    fn reads_a_detection_rule() {
        let r = parse(GOOD).unwrap();
        assert_eq!(r.date.as_deref(), Some("2023-02-20"));
        assert_eq!(r.modified.as_deref(), Some("2023-03-01"));
        let d = r.detection.unwrap();
        let Search::Fields(f) = d.search("sel").unwrap() else {
            panic!()
        };
        assert_eq!(f[1].modifiers, vec![Modifier::Contains, Modifier::All]);
        assert_eq!(f[1].values.len(), 2);
        assert_eq!((f[0].line, f[0].column), (14, 5));
    }

    #[test]
    fn levels_statuses_and_correlation_types_are_read_in_any_case_as_pysigma_does() {
        let r = parse(
            &GOOD
                .replace("level: high", "level: HIGH")
                .replace("status: test", "status: Test"),
        )
        .unwrap();
        assert_eq!((r.level, r.status), (Some(Level::High), Some(Status::Test)));
        let c = parse("title: C\ncorrelation:\n  type: Event_Count\n  rules: [a]\n  timespan: 5m\n  condition:\n    gte: 10\n").unwrap();
        assert_eq!(c.correlation.unwrap().kind, CorrelationType::EventCount);
    }

    fn first_error(text: &str) -> RuleError {
        parse(text).unwrap_err().remove(0)
    }

    #[test]
    fn spec_violations_are_errors_with_positions() {
        let e = first_error(&GOOD.replace("Image|endswith", "Image|endwith"));
        assert_eq!((e.line, e.column), (14, 5));
        assert!(e.message.contains("unknown modifier `endwith`"));
        let e = first_error(&GOOD.replace("sel and not filter", "sel and and filter"));
        assert!(e.message.contains("malformed condition"), "{}", e.message);
        let e = first_error(&GOOD.replace("date: 2023/02/20", "date: 2023/22/20"));
        assert_eq!(e.line, 5);
        let e = first_error(&GOOD.replace("title: T\n", ""));
        assert!(e.message.contains("title"));
        let e = first_error(&GOOD.replace("level: high", "level: severe"));
        assert!(e.message.contains("unknown level"));
        let e = first_error(&GOOD.replace("sel and not filter", "sel and not filtr"));
        assert!(e.message.contains("filtr"));
        let e =
            first_error(&GOOD.replace("Image|endswith: '\\python.exe'", "Image|re: '(unclosed'"));
        assert!(e.message.contains("regular expression"));
    }

    #[test]
    fn correlation_and_filter_rules() {
        let c = parse("title: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [User]\n  timespan: 5m\n  condition:\n    gte: 10\n").unwrap();
        let corr = c.correlation.unwrap();
        assert_eq!((corr.timespan, corr.ops_len()), (300, 1));
        let e = parse("title: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5x\n  condition:\n    gte: 10\n").unwrap_err();
        assert!(e[0].message.contains("timespan"));
        let e = parse("title: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 0s\n  condition:\n    gte: 10\n").unwrap_err();
        assert_eq!(
            e[0].message,
            "`timespan` must be longer than nothing, not `0s`"
        );
        let messages = |condition: &str| -> Vec<String> {
            let text = format!(
                "title: C\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {condition}\n"
            );
            parse(&text)
                .unwrap_err()
                .into_iter()
                .map(|e| e.message)
                .collect()
        };
        assert_eq!(messages("{gte: ten}"), ["`gte` needs a number"]);
        assert_eq!(
            messages("{}"),
            ["a correlation of type `event_count` needs a `condition` such as `gte: 10`"]
        );
        let f = parse("title: F\nlogsource:\n  product: windows\nfilter:\n  rules: [abc]\n  selection:\n    User|startswith: adm_\n  condition: selection\n").unwrap();
        assert_eq!(f.kind, RuleKind::Filter);
        assert_eq!(
            f.filter.unwrap().rules,
            FilterTargets::Named(vec!["abc".into()])
        );
    }

    impl Correlation {
        fn ops_len(&self) -> usize {
            self.condition.as_ref().map_or(0, |c| c.ops.len())
        }
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Some(30));
        assert_eq!(parse_timespan("1h"), Some(3600));
        assert_eq!(parse_timespan("1d"), Some(86400));
        assert_eq!(parse_timespan("abc"), None);
        assert_eq!(parse_timespan("1w"), Some(604_800));
        assert_eq!(parse_timespan("1M"), Some(2_629_746));
        assert_eq!(parse_timespan("1y"), Some(31_556_952));
        assert_eq!(
            parse_timespan("584554049253y"),
            Some(584_554_049_253 * 31_556_952)
        );
        assert_eq!(parse_timespan("584554049254y"), None, "overflows u64");
        assert_eq!(parse_timespan("18446744073709551615s"), Some(u64::MAX));
        let error = |text: &str| timespan(text).unwrap_err().message(text);
        assert!(error("584554049254y").contains("longer than any window"));
        for text in ["", "5", "5x", "-5m", "1.5h", "m"] {
            assert!(error(text).contains("a number and a unit"), "{text}");
        }
    }

    #[test]
    fn dates_in_both_forms() {
        assert_eq!(iso_date("2023/02/20").as_deref(), Some("2023-02-20"));
        assert_eq!(iso_date("2023-02-20").as_deref(), Some("2023-02-20"));
        assert_eq!(iso_date("2023-13-20"), None);
        assert_eq!(iso_date("soon"), None);
    }
}
