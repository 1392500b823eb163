//! Reading MITRE ATT&CK STIX bundles (STIX 2.0 and 2.1, every domain).

pub mod stix;

use serde::Deserialize;
use serde_json::value::RawValue;
use sigma_engine::diag::{Diagnostic, Diagnostics, line_col};
use std::path::Path;
pub use stix::StixObject;

/// The objects of one bundle plus where they came from.
#[derive(Debug)]
pub struct Bundle {
    /// Display name of the source (a path, or `demo:...` for embedded data).
    pub source: String,
    /// The ATT&CK domain of the bundle (`enterprise-attack`, ...), from its
    /// matrix or the most common `x_mitre_domains` value.
    pub domain: String,
    /// The ATT&CK release the bundle names in its collection object
    /// (`x_mitre_version` of `x-mitre-collection`, in the bundles of
    /// attack-stix-data), if it has one.
    pub release: Option<String>,
    pub objects: Vec<StixObject>,
}

impl Bundle {
    /// Its newest object's modification time: what tells one release of a
    /// domain from another, whether or not the bundle names its release.
    pub fn newest(&self) -> &str {
        self.objects
            .iter()
            .map(|o| o.modified.as_str())
            .max()
            .unwrap_or("")
    }

    /// Its release and newest object's day, for messages.
    pub fn describe(&self) -> String {
        let day = self.newest().get(..10).unwrap_or(self.newest());
        match &self.release {
            Some(r) => format!("v{}, newest object {day}", r.trim_start_matches('v')),
            None => format!("newest object {day}"),
        }
    }
}

/// Keeps one bundle per domain, the newest: two releases of a domain merged
/// would carry objects and relationships the newer one dropped into its
/// notes. Each bundle left out is a warning naming the one kept.
pub fn one_release_per_domain(bundles: Vec<Bundle>, diags: &Diagnostics) -> Vec<Bundle> {
    let mut newest: std::collections::HashMap<&str, usize> = Default::default();
    for (i, b) in bundles.iter().enumerate() {
        let n = newest.entry(b.domain.as_str()).or_insert(i);
        if b.newest() > bundles[*n].newest() {
            *n = i;
        }
    }
    let keep: Vec<bool> = (0..bundles.len())
        .map(|i| newest[bundles[i].domain.as_str()] == i)
        .collect();
    for (b, _) in bundles.iter().zip(&keep).filter(|(_, k)| !**k) {
        let used = &bundles[newest[b.domain.as_str()]];
        let msg = format!(
            "a second bundle of {} ({}) is left out: a vault holds one release of each domain, \
             and {} ({}) is newer",
            b.domain,
            b.describe(),
            used.source,
            used.describe()
        );
        diags.push(Diagnostic::warning("attack", msg).in_file(&b.source));
    }
    bundles
        .into_iter()
        .zip(keep)
        .filter_map(|(b, k)| k.then_some(b))
        .collect()
}

#[derive(Deserialize)]
struct RawBundle<'a> {
    #[serde(borrow, default)]
    objects: Vec<&'a RawValue>,
}

/// Read a bundle file. A file that is not a JSON bundle is an error naming the
/// file, line and column; an object that does not fit the STIX shape is a
/// warning and is skipped.
pub fn read_bundle_file(path: &Path, diags: &Diagnostics) -> Result<Bundle, Diagnostic> {
    // UTF-8 with or without a byte order mark, or UTF-16 (PowerShell's
    // `Out-File`), as every text the tool reads.
    let text = sigma_engine::text::read_file(path).map_err(|e| e.diagnostic("attack", path))?;
    parse_bundle(&path.display().to_string(), &text, diags)
}

/// Parse the text of a bundle (see [`read_bundle_file`]).
pub fn parse_bundle(source: &str, text: &str, diags: &Diagnostics) -> Result<Bundle, Diagnostic> {
    // A byte order mark, as Windows tools write one, is no part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawBundle = serde_json::from_str(text).map_err(|e| {
        const BUNDLE: &str =
            "a bundle is a JSON object, {\"type\": \"bundle\", \"objects\": [...]}";
        let what = match text.trim_start().chars().next() {
            Some('{') => e.to_string(),
            Some('[') => format!("the file holds a JSON list; {BUNDLE}"),
            _ => format!("the file is not JSON; {BUNDLE}"),
        };
        Diagnostic::error("attack", format!("not a STIX bundle: {what}"))
            .in_file(source)
            .at(Some(e.line()), Some(e.column()))
    })?;
    let base = text.as_ptr() as usize;
    let mut objects = Vec::with_capacity(raw.objects.len());
    for r in raw.objects {
        let at = RawAt {
            source,
            text,
            offset: r.get().as_ptr() as usize - base,
            raw: r.get(),
        };
        if let Some(o) = read_object(&at, diags) {
            objects.push(o);
        }
    }
    let domain = bundle_domain(&objects);
    let release = objects
        .iter()
        .find(|o| o.kind == "x-mitre-collection")
        .and_then(|o| o.x_mitre_version.clone());
    if objects.is_empty() {
        diags.push(Diagnostic::warning("attack", "bundle holds no objects").in_file(source));
    }
    Ok(Bundle {
        source: source.to_string(),
        domain,
        release,
        objects,
    })
}

/// One object's raw text and where it stands in its bundle.
struct RawAt<'a> {
    source: &'a str,
    text: &'a str,
    offset: usize,
    raw: &'a str,
}

impl RawAt<'_> {
    /// The position of `"key":` inside the object (or of the object itself).
    fn position_of(&self, key: Option<&str>) -> (usize, usize) {
        let inner = key.and_then(|k| {
            let quoted = format!("\"{k}\"");
            self.raw.find(&quoted)
        });
        line_col(self.text, self.offset + inner.unwrap_or(0))
    }

    /// `d` placed at the key (or the object) in the bundle.
    fn placed(&self, key: Option<&str>, d: Diagnostic) -> Diagnostic {
        let (l, c) = self.position_of(key);
        d.in_file(self.source).at(Some(l), Some(c))
    }

    fn warning(&self, key: Option<&str>, message: String) -> Diagnostic {
        self.placed(key, Diagnostic::warning("attack", message))
    }

    fn error(&self, key: Option<&str>, message: String) -> Diagnostic {
        self.placed(key, Diagnostic::error("attack", message))
    }
}

/// Object kinds that ATT&CK gives an ID (`T1059`, `G0016`, ...). Data
/// components are not among them: they have IDs only since v18.
const IDENTIFIED: &[&str] = &[
    "attack-pattern",
    "intrusion-set",
    "malware",
    "tool",
    "campaign",
    "course-of-action",
    "x-mitre-tactic",
    "x-mitre-matrix",
    "x-mitre-data-source",
    "x-mitre-detection-strategy",
    "x-mitre-analytic",
    "x-mitre-asset",
];

/// Read one object. A field of the wrong shape is reported (with the
/// object's ATT&CK ID and the field's position) and left at its default;
/// the rest of the object is kept.
fn read_object(at: &RawAt, diags: &Diagnostics) -> Option<StixObject> {
    let mut o = match serde_json::from_str::<StixObject>(at.raw) {
        Ok(o) => o,
        Err(_) => lenient(at, diags)?,
    };
    if o.id.is_empty() || o.kind.is_empty() {
        diags.push(at.error(None, "object without `type` or `id` skipped".into()));
        return None;
    }
    if IDENTIFIED.contains(&o.kind.as_str()) && o.attack_ref().is_none() && !o.revoked {
        diags.push(at.error(
            Some("external_references"),
            format!(
                "{} `{}` has no ATT&CK ID (no mitre-attack external reference)",
                o.kind, o.id
            ),
        ));
    }
    if let Some(id) = o.attack_ref().and_then(|r| r.external_id.as_deref())
        && o.kind != "x-mitre-matrix"
        && !is_attack_id(id)
    {
        let msg = format!(
            "{} `{}`: its ATT&CK ID `{id}` is not shaped as one (capitals, then digits, as `T1059.001`); kept as written",
            o.kind, o.id
        );
        diags.push(at.error(Some("external_references"), msg));
    }
    if let Some(id) = o.attack_ref().and_then(|r| r.external_id.as_deref())
        && o.kind == "x-mitre-matrix"
        && !is_domain_name(id)
    {
        let msg = format!(
            "x-mitre-matrix `{}`: its ATT&CK ID `{id}` is not shaped as a domain (lowercase letters, digits and dashes, as `enterprise-attack`); the bundle's domain is taken from its objects",
            o.id
        );
        diags.push(at.error(Some("external_references"), msg));
    }
    if o.x_mitre_domains.iter().any(|d| !is_domain_name(d)) {
        let (kept, dropped): (Vec<String>, Vec<String>) = std::mem::take(&mut o.x_mitre_domains)
            .into_iter()
            .partition(|d| is_domain_name(d));
        let msg = format!(
            "{} `{}`: x_mitre_domains {dropped:?} not shaped as a domain (lowercase letters, digits and dashes, as `enterprise-attack`): left out",
            o.kind, o.id
        );
        diags.push(at.error(Some("x_mitre_domains"), msg));
        o.x_mitre_domains = kept;
    }
    if named_kind(&o.kind) && o.name.trim().is_empty() && !o.revoked {
        // A note needs a title: its ID stands in, as the ATT&CK site does.
        let id = o.attack_ref().and_then(|r| r.external_id.clone());
        let title = id.unwrap_or_else(|| o.id.clone());
        let msg = format!(
            "{} `{}` has no name; its note is titled `{title}`",
            o.kind, o.id
        );
        diags.push(at.warning(Some("name"), msg));
        o.name = title;
    }
    Some(o)
}

/// A domain's shape (`enterprise-attack`, `ics-attack`): lowercase letters,
/// digits and dashes, a letter first. Domains name files and folders of the
/// vault (`Navigator/ics-attack-coverage.json`): nothing else may pass.
pub fn is_domain_name(d: &str) -> bool {
    d.len() <= 64
        && d.starts_with(|c: char| c.is_ascii_lowercase())
        && d.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An ATT&CK ID's shape: capitals, then digits, perhaps a `.` and more
/// digits (`T1059.001`, `TA0002`, `DET0001`). A matrix's is its domain.
fn is_attack_id(id: &str) -> bool {
    let number = id.trim_start_matches(|c: char| c.is_ascii_uppercase());
    let (main, sub) = number.split_once('.').unwrap_or((number, "0"));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    number.len() < id.len() && digits(main) && digits(sub)
}

/// Kinds whose objects become notes with their name as the title.
fn named_kind(kind: &str) -> bool {
    IDENTIFIED.contains(&kind) || kind == "x-mitre-data-component"
}

/// The object without the fields that do not fit, each reported.
fn lenient(at: &RawAt, diags: &Diagnostics) -> Option<StixObject> {
    let mut map = match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(at.raw) {
        Ok(m) => m,
        Err(e) => {
            diags.push(at.error(None, format!("object skipped: {e}")));
            return None;
        }
    };
    let name = object_name(&map);
    let bad: Vec<(String, String)> = map
        .iter()
        .filter_map(|(k, v)| {
            let one = serde_json::Value::Object([(k.clone(), v.clone())].into_iter().collect());
            serde_json::from_value::<StixObject>(one)
                .err()
                .map(|e| (k.clone(), e.to_string()))
        })
        .collect();
    for (k, e) in &bad {
        diags.push(at.error(Some(k), format!("{name}: field `{k}` ignored: {e}")));
        map.remove(k);
    }
    match serde_json::from_value::<StixObject>(serde_json::Value::Object(map)) {
        Ok(o) => Some(o),
        Err(e) => {
            diags.push(at.error(None, format!("{name}: object skipped: {e}")));
            None
        }
    }
}

/// The ATT&CK ID of a raw object, or its STIX id, for messages.
fn object_name(map: &serde_json::Map<String, serde_json::Value>) -> String {
    let attack_id = map
        .get("external_references")
        .and_then(|r| r.as_array())
        .into_iter()
        .flatten()
        .find(|r| {
            r.get("source_name")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.starts_with("mitre-"))
        })
        .and_then(|r| r.get("external_id"))
        .and_then(|x| x.as_str());
    match (attack_id, map.get("id").and_then(|x| x.as_str())) {
        (Some(a), _) => a.to_string(),
        (None, Some(id)) => id.to_string(),
        (None, None) => "object without id".to_string(),
    }
}

fn bundle_domain(objects: &[StixObject]) -> String {
    if let Some(m) = objects
        .iter()
        .filter(|o| o.kind == "x-mitre-matrix" && !o.x_mitre_deprecated && !o.revoked)
        .filter_map(|m| m.attack_ref()?.external_id.clone())
        .find(|id| is_domain_name(id))
    {
        return m;
    }
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for o in objects {
        for d in &o.x_mitre_domains {
            *counts.entry(d).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| d.to_string())
        .unwrap_or_else(|| "enterprise-attack".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_ids_are_capitals_then_digits() {
        for id in [
            "T1059",
            "T1059.001",
            "TA0002",
            "G0016",
            "DET0001",
            "AN1234",
            "T0800",
        ] {
            assert!(is_attack_id(id), "{id}");
        }
        for id in [
            "",
            "T",
            "1059",
            "t1059",
            "T1059.",
            "T.001",
            "T 1059",
            "T1059/../x",
            "T1059.001.002",
            "TA-2",
        ] {
            assert!(!is_attack_id(id), "{id}");
        }
    }

    #[test]
    fn bad_json_names_line_and_column() {
        let ds = Diagnostics::new();
        let err = parse_bundle("x.json", "{\n \"objects\": [ }", &ds).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.column.is_some());
    }

    #[test]
    fn a_bad_field_is_reported_with_the_attack_id_and_the_rest_kept() {
        let ds = Diagnostics::new();
        let text = r#"{"objects": [
{"type": "attack-pattern", "id": "attack-pattern--1",
   "name": 85, "description": "kept",
 "external_references": [{"source_name": "mitre-attack", "external_id": "T9999"}]}
]}"#;
        let b = parse_bundle("x.json", text, &ds).unwrap();
        assert_eq!(b.objects.len(), 1);
        assert_eq!(b.objects[0].description, "kept");
        assert_eq!(
            b.objects[0].attack_ref().unwrap().external_id.as_deref(),
            Some("T9999")
        );
        let d = ds.sorted();
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].severity, sigma_engine::diag::Severity::Error);
        assert!(
            d[0].message.starts_with("T9999: field `name` ignored"),
            "{}",
            d[0]
        );
        assert_eq!((d[0].line, d[0].column), (Some(3), Some(4)));
        // The name left out, the note still needs a title.
        assert_eq!(b.objects[0].name, "T9999");
        assert!(
            d[1].message
                .ends_with("has no name; its note is titled `T9999`")
        );
    }

    #[test]
    fn an_object_without_attack_id_is_reported() {
        let ds = Diagnostics::new();
        let text = "{\"objects\": [\n{\"type\": \"intrusion-set\", \"id\": \"intrusion-set--1\", \"name\": \"X\"}]}";
        let b = parse_bundle("x.json", text, &ds).unwrap();
        assert_eq!(b.objects.len(), 1);
        let d = ds.sorted();
        assert_eq!(d.len(), 1);
        assert!(
            d[0].message.contains("intrusion-set--1` has no ATT&CK ID"),
            "{}",
            d[0]
        );
        assert_eq!(d[0].line, Some(2));
    }

    #[test]
    fn of_two_releases_of_a_domain_the_newer_is_kept_and_the_other_named() {
        let ds = Diagnostics::new();
        let bundle = |source: &str, domain: &str, modified: &str| {
            let text = format!(
                r#"{{"objects": [{{"type": "attack-pattern", "id": "attack-pattern--1",
                "name": "X", "modified": "{modified}", "x_mitre_domains": ["{domain}"],
                "external_references": [{{"source_name": "mitre-attack", "external_id": "T1"}}]}}]}}"#
            );
            parse_bundle(source, &text, &ds).unwrap()
        };
        let kept = one_release_per_domain(
            vec![
                bundle("new.json", "enterprise-attack", "2025-11-12T00:00:00Z"),
                bundle("mobile.json", "mobile-attack", "2024-01-01T00:00:00Z"),
                bundle("old.json", "enterprise-attack", "2025-05-02T00:00:00Z"),
            ],
            &ds,
        );
        let sources: Vec<&str> = kept.iter().map(|b| b.source.as_str()).collect();
        assert_eq!(sources, ["new.json", "mobile.json"]);
        let d = ds.sorted();
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].to_string(),
            "warning[attack]: old.json: a second bundle of enterprise-attack (newest object \
             2025-05-02) is left out: a vault holds one release of each domain, and new.json \
             (newest object 2025-11-12) is newer"
        );
    }

    #[test]
    fn domain_comes_from_the_matrix() {
        let ds = Diagnostics::new();
        let text = r#"{"objects": [{"type": "x-mitre-matrix", "id": "x-mitre-matrix--1",
          "external_references": [{"source_name": "mitre-attack", "external_id": "ics-attack"}]}]}"#;
        assert_eq!(parse_bundle("x", text, &ds).unwrap().domain, "ics-attack");
    }
}
