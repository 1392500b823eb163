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
    pub objects: Vec<StixObject>,
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
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error("attack", format!("cannot read ATT&CK bundle: {e}")).in_file(path)
    })?;
    parse_bundle(&path.display().to_string(), &text, diags)
}

/// Parse the text of a bundle (see [`read_bundle_file`]).
pub fn parse_bundle(source: &str, text: &str, diags: &Diagnostics) -> Result<Bundle, Diagnostic> {
    let raw: RawBundle = serde_json::from_str(text).map_err(|e| {
        Diagnostic::error("attack", format!("not a STIX bundle: {e}"))
            .in_file(source)
            .at(Some(e.line()), Some(e.column()))
    })?;
    let base = text.as_ptr() as usize;
    let mut objects = Vec::with_capacity(raw.objects.len());
    for r in raw.objects {
        match serde_json::from_str::<StixObject>(r.get()) {
            Ok(o) if o.id.is_empty() || o.kind.is_empty() => {
                let (l, c) = line_col(text, r.get().as_ptr() as usize - base);
                diags.push(
                    Diagnostic::warning("attack", "object without `type` or `id` skipped")
                        .in_file(source)
                        .at(Some(l), Some(c)),
                );
            }
            Ok(o) => objects.push(o),
            Err(e) => {
                let offset = r.get().as_ptr() as usize - base;
                let (l, c) = line_col(text, offset);
                // serde's position is relative to the object; make it absolute.
                let (line, col) = if e.line() > 1 {
                    (l + e.line() - 1, e.column())
                } else {
                    (l, c + e.column().saturating_sub(1))
                };
                diags.push(
                    Diagnostic::warning("attack", format!("object skipped: {e}"))
                        .in_file(source)
                        .at(Some(line), Some(col)),
                );
            }
        }
    }
    let domain = bundle_domain(&objects);
    if objects.is_empty() {
        diags.push(Diagnostic::warning("attack", "bundle holds no objects").in_file(source));
    }
    Ok(Bundle {
        source: source.to_string(),
        domain,
        objects,
    })
}

fn bundle_domain(objects: &[StixObject]) -> String {
    if let Some(m) = objects
        .iter()
        .find(|o| o.kind == "x-mitre-matrix" && !o.x_mitre_deprecated && !o.revoked)
        .and_then(|m| m.attack_ref())
        .and_then(|r| r.external_id.clone())
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
    fn bad_json_names_line_and_column() {
        let ds = Diagnostics::new();
        let err = parse_bundle("x.json", "{\n \"objects\": [ }", &ds).unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.column.is_some());
    }

    #[test]
    fn bad_object_is_skipped_with_its_position() {
        let ds = Diagnostics::new();
        let text = "{\"objects\": [\n{\"type\": \"x-mitre-tactic\", \"id\": \"x-mitre-tactic--1\"},\n{\"type\": \"attack-pattern\", \"id\": \"a\", \"revoked\": \"yes\"}\n]}";
        let b = parse_bundle("x.json", text, &ds).unwrap();
        assert_eq!(b.objects.len(), 1);
        let d = ds.sorted();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].line, Some(3));
    }

    #[test]
    fn domain_comes_from_the_matrix() {
        let ds = Diagnostics::new();
        let text = r#"{"objects": [{"type": "x-mitre-matrix", "id": "x-mitre-matrix--1",
          "external_references": [{"source_name": "mitre-attack", "external_id": "ics-attack"}]}]}"#;
        assert_eq!(parse_bundle("x", text, &ds).unwrap().domain, "ics-attack");
    }
}
