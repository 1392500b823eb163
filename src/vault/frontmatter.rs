//! YAML frontmatter as Obsidian properties.
//!
//! Writing: each property has one fixed type across the vault (text, list,
//! date, number, checkbox), so Obsidian's per-name property types stay
//! consistent. Text is emitted as a double-quoted JSON string (a valid YAML
//! double-quoted scalar), so no value is ever misread as a number, boolean or
//! date by a YAML 1.1 or 1.2 reader; dates are emitted bare so that Obsidian
//! reads them as dates.
//!
//! Reading: the frontmatter block is split off by hand (keeping key order) and
//! parsed with serde-saphyr, which rejects duplicate keys.

use indexmap::IndexMap;

pub mod canonical;

/// A property value with its Obsidian type.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Text(String),
    /// `YYYY-MM-DD`.
    Date(String),
    Number(i64),
    Bool(bool),
    List(Vec<String>),
}

impl Prop {
    /// The property type Obsidian shows it as.
    pub fn obsidian_type(&self) -> &'static str {
        match self {
            Prop::Text(_) => "text",
            Prop::Date(_) => "date",
            Prop::Number(_) => "number",
            Prop::Bool(_) => "checkbox",
            Prop::List(_) => "multitext",
        }
    }
}

/// Every property the vault writes and its Obsidian type, the contract
/// behind `.obsidian/types.json`: a property written with another type, or
/// one missing here, fails the debug builds' tests.
pub const PROPERTY_TYPES: &[(&str, &str)] = &[
    ("aliases", "aliases"),
    ("atomic_tests", "number"),
    ("author", "text"),
    ("coverage", "text"),
    ("created", "date"),
    ("cssclasses", "multitext"),
    ("date", "date"),
    ("deprecated", "checkbox"),
    ("detections", "number"),
    ("domains", "multitext"),
    ("elevation_required", "checkbox"),
    ("events", "number"),
    ("executor", "text"),
    ("falsepositives", "multitext"),
    ("filename", "text"),
    ("first_seen", "date"),
    ("folder", "text"),
    ("guid", "text"),
    ("id", "text"),
    ("is_subtechnique", "checkbox"),
    ("last_modified", "date"),
    ("last_seen", "date"),
    ("level", "text"),
    ("logsrc_category", "text"),
    ("logsrc_product", "text"),
    ("logsrc_service", "text"),
    ("name", "text"),
    ("parent", "text"),
    ("platforms", "multitext"),
    ("references", "multitext"),
    ("release", "text"),
    ("revoked", "checkbox"),
    ("revoked_by", "text"),
    ("rule_type", "text"),
    ("rules", "number"),
    ("rules_fired", "number"),
    ("shortname", "text"),
    ("software_type", "text"),
    ("source", "text"),
    ("status", "text"),
    ("stix_id", "text"),
    ("tactics", "multitext"),
    ("tags", "tags"),
    ("technique", "text"),
    ("test_number", "number"),
    ("title", "text"),
    ("type", "text"),
    ("url", "text"),
    ("version", "text"),
];

/// The declared Obsidian type of a property.
pub fn property_type(key: &str) -> Option<&'static str> {
    PROPERTY_TYPES
        .binary_search_by(|(k, _)| k.cmp(&key))
        .ok()
        .map(|i| PROPERTY_TYPES[i].1)
}

/// An ordered set of properties.
#[derive(Debug, Clone, Default)]
pub struct Frontmatter {
    props: Vec<(String, Prop)>,
}

impl Frontmatter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(&mut self, key: &str, value: Prop) -> &mut Self {
        debug_assert!(
            property_type(key).is_some_and(|t| t == value.obsidian_type()
                || (matches!(value, Prop::List(_)) && matches!(t, "tags" | "aliases"))),
            "property {key} written as {} is not declared so in PROPERTY_TYPES",
            value.obsidian_type()
        );
        if let Some(slot) = self.props.iter_mut().find(|(k, _)| k == key) {
            slot.1 = value;
        } else {
            self.props.push((key.to_string(), value));
        }
        self
    }
    /// A text property; text from the sources never becomes a link there
    /// ([`super::escape::property`]).
    pub fn text(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.set(key, Prop::Text(super::escape::property(value.into())))
    }
    /// A text property holding a link to the note `stem`.
    pub fn link(&mut self, key: &str, stem: &str) -> &mut Self {
        self.set(key, Prop::Text(super::text::wikilink(stem, None)))
    }
    /// A text property only when the value is not empty.
    pub fn text_opt(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) if !v.is_empty() => self.text(key, v),
            _ => self,
        }
    }
    /// A date property from an ISO timestamp (only its date part is kept);
    /// nothing when the value is not a date.
    pub fn date(&mut self, key: &str, value: &str) -> &mut Self {
        match sigma_engine::sigma::rule::iso_date(value) {
            Some(d) => self.set(key, Prop::Date(d)),
            None => self,
        }
    }
    pub fn list<I, S>(&mut self, key: &str, items: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let items = items.into_iter().map(|i| super::escape::property(i.into()));
        self.set(key, Prop::List(items.collect()))
    }
    pub fn boolean(&mut self, key: &str, value: bool) -> &mut Self {
        self.set(key, Prop::Bool(value))
    }
    pub fn number(&mut self, key: &str, value: i64) -> &mut Self {
        self.set(key, Prop::Number(value))
    }

    /// The `---` delimited block, ending with a newline.
    pub fn render(&self) -> String {
        let mut s = String::from("---\n");
        for (k, v) in &self.props {
            // An empty list says nothing and shows as an empty property.
            if matches!(v, Prop::List(items) if items.is_empty()) {
                continue;
            }
            s.push_str(k);
            s.push(':');
            match v {
                Prop::Text(t) => {
                    s.push(' ');
                    s.push_str(&quote(t));
                }
                Prop::Date(d) => {
                    s.push(' ');
                    s.push_str(d);
                }
                Prop::Number(n) => {
                    s.push(' ');
                    s.push_str(&n.to_string());
                }
                Prop::Bool(b) => s.push_str(if *b { " true" } else { " false" }),
                Prop::List(items) => {
                    for it in items {
                        s.push_str("\n  - ");
                        s.push_str(&quote(it));
                    }
                }
            }
            s.push('\n');
        }
        s.push_str("---\n");
        s
    }
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings always serialize")
}

/// Split a note into its frontmatter YAML (without delimiters) and body.
/// Returns `None` for the YAML when the note has no frontmatter block.
pub fn split(note: &str) -> (Option<&str>, &str) {
    let rest = match note
        .strip_prefix("---\n")
        .or_else(|| note.strip_prefix("---\r\n"))
    {
        Some(r) => r,
        None => return (None, note),
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        if l == "---" || l == "..." {
            return (Some(&rest[..offset]), &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    (None, note)
}

/// Parse frontmatter YAML into an ordered map.
pub fn parse(yaml: &str) -> Result<IndexMap<String, serde_json::Value>, serde_saphyr::Error> {
    if yaml.trim().is_empty() {
        return Ok(IndexMap::new());
    }
    match canonical::parse(yaml) {
        Some(map) => Ok(map),
        None => serde_saphyr::from_str(yaml),
    }
}

/// Why a note's properties could not be read: the parser's message, at a
/// line and column of the note (not of its frontmatter block).
#[derive(Debug, Clone, PartialEq)]
pub struct PropertiesError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Whether a note's properties keep it private: `publish: false` (as
/// Obsidian Publish reads it) or `draft: true` (as Quartz does).
pub fn is_private(note: &str) -> bool {
    matches!(note_properties(note), Ok(Some(props)) if private_in(&props))
}

/// Whether a note's properties keep it out of the site (see [`is_private`]).
pub fn private_in(props: &IndexMap<String, serde_json::Value>) -> bool {
    let says = |key: &str, word: &str| {
        props.get(key).is_some_and(|v| match v {
            serde_json::Value::Bool(b) => b.to_string() == word,
            serde_json::Value::String(s) => s.eq_ignore_ascii_case(word),
            _ => false,
        })
    };
    says("publish", "false") || says("draft", "true")
}

/// A list property's texts; one text alone is a list of one, as Obsidian
/// reads `aliases: APT29`.
pub fn texts(value: Option<&serde_json::Value>) -> Vec<&str> {
    match value {
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
        Some(serde_json::Value::String(one)) => vec![one.as_str()],
        _ => Vec::new(),
    }
}

/// The note a redirect note leads to (`type: "redirect"`, `redirect:
/// "[[New name]]"`, as the build leaves one at a renamed note's old path):
/// the link's target, without its label or heading.
pub fn redirect(note: &str) -> Option<String> {
    redirect_in(&note_properties(note).ok()??)
}

/// The same, of a note's properties.
pub fn redirect_in(props: &IndexMap<String, serde_json::Value>) -> Option<String> {
    if props.get("type")?.as_str()? != "redirect" {
        return None;
    }
    let link = props.get("redirect")?.as_str()?.trim();
    let inner = link.strip_prefix("[[")?.strip_suffix("]]")?;
    let target = inner.split(['|', '#']).next()?.trim();
    (!target.is_empty()).then(|| target.to_string())
}

/// A note's properties: `None` if it has no frontmatter block.
pub fn note_properties(
    note: &str,
) -> Result<Option<IndexMap<String, serde_json::Value>>, PropertiesError> {
    let (Some(yaml), _) = split(note) else {
        return Ok(None);
    };
    parse(yaml).map(Some).map_err(|e| {
        let at = e.location();
        let text = e.without_snippet().to_string();
        // One line, without the position the diagnostic gives itself
        // (`error: line 2 column 3: ...` or `... at line 2, column 3`).
        let first = text.lines().next().unwrap_or_default();
        let mut message = first.strip_prefix("error: ").unwrap_or(first);
        if message.starts_with("line ") {
            message = message.split_once(": ").map_or(message, |(_, m)| m);
        }
        let message = message.split_once(" at line ").map_or(message, |(m, _)| m);
        // The parser's limit on aliases, said as the Sigma reader says it.
        let message = if message.starts_with("budget breached") {
            "aliases expand to too many nodes"
        } else {
            message
        };
        // The parser's advice is to its caller, not to whoever wrote the note.
        let message = message
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(message);
        PropertiesError {
            // The block starts on the note's second line.
            line: at.map(|l| l.line() as usize + 1),
            column: at.map(|l| l.column() as usize),
            message: message.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_broken_block_is_placed_in_the_note() {
        let e =
            super::note_properties("---\ntitle: x\nbroken: [unclosed\n---\nbody\n").unwrap_err();
        assert_eq!((e.line, e.column), (Some(3), Some(9)), "{e:?}");
        assert!(!e.message.contains('\n') && !e.message.is_empty(), "{e:?}");
        assert!(!e.message.contains("line"), "{e:?}");
        let e = super::note_properties("---\na: 1\na: 2\n---\n").unwrap_err();
        assert_eq!(
            (e.line, e.column, e.message.as_str()),
            (Some(3), Some(1), "duplicate mapping key: a")
        );
        assert_eq!(super::note_properties("no block").unwrap(), None);
    }

    #[test]
    fn aliases_that_expand_without_end_are_said_so_at_their_use() {
        let mut note = String::from("---\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let uses = vec![format!("*a{}", i - 1); 10].join(", ");
            note += &format!("a{i}: &a{i} [{uses}]\n");
        }
        note += "---\nbody\n";
        let e = super::note_properties(&note).unwrap_err();
        assert_eq!(e.message, "aliases expand to too many nodes", "{e:?}");
        assert_eq!(e.column, Some(15), "{e:?}");
        assert!(e.line.is_some_and(|l| (3..=11).contains(&l)), "{e:?}");
    }

    #[test]
    fn property_types_are_sorted_for_lookup() {
        assert!(super::PROPERTY_TYPES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(super::property_type("tags"), Some("tags"));
        assert_eq!(super::property_type("nope"), None);
    }

    use super::*;

    #[test]
    fn renders_typed_properties_that_round_trip() {
        let mut fm = Frontmatter::new();
        fm.text("id", "T1059.006")
            .text("version", "1.0")
            .date("created", "2020-03-09T14:38:24.334Z")
            .list("tags", ["T1059_006", "techniques"])
            .list("aliases", Vec::<String>::new())
            .text("title", "yes: \"no\" # [[x]]")
            .list("falsepositives", ["![[embed.png]] or [[y|z]]"])
            .boolean("revoked", false);
        let out = fm.render();
        assert!(out.contains("created: 2020-03-09\n"));
        assert!(out.contains("version: \"1.0\"\n"));
        let (yaml, body) = split(&out);
        assert_eq!(body, "");
        let map = parse(yaml.unwrap()).unwrap();
        assert_eq!(map["version"], "1.0");
        // No source's text becomes a link in Obsidian's properties.
        assert_eq!(map["title"], "yes: \"no\" # ((x))");
        assert_eq!(map["falsepositives"][0], "!((embed.png)) or ((y|z))");
        assert_eq!(map["tags"][1], "techniques");
        assert_eq!(map.keys().next().unwrap(), "id");
    }

    #[test]
    fn split_without_frontmatter() {
        assert_eq!(split("# hi\n"), (None, "# hi\n"));
        assert_eq!(split("---\na: 1\n---\nbody"), (Some("a: 1\n"), "body"));
    }

    #[test]
    fn duplicate_keys_are_rejected() {
        assert!(parse("a: 1\na: 2\n").is_err());
    }
}
