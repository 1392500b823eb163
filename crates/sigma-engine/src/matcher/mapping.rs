//! Logsource mapping: which events each Sigma `logsource` selects, and how
//! field names are renamed for those events. Read from a documented YAML file
//! (`mappings/builtin.yml`, built in; replaceable and extensible by users).

use crate::diag::Diagnostic;
use crate::sigma::rule::LogSource;
use crate::yaml::{Node, Yaml};
use std::path::Path;

/// The built-in mapping.
pub const BUILTIN: &str = include_str!("../../mappings/builtin.yml");

/// One way a logsource is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceEntry {
    pub category: Option<String>,
    pub product: Option<String>,
    pub service: Option<String>,
    /// Event conditions: field → accepted values (any), all fields must hold.
    pub conditions: Vec<(String, Vec<String>)>,
    /// Sigma field → event field.
    pub fields: Vec<(String, String)>,
}

/// A set of mapping entries.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub entries: Vec<SourceEntry>,
}

fn scalar_list(n: &Node) -> Vec<String> {
    match &n.value {
        Yaml::Seq(items) => items.iter().filter_map(Node::as_scalar_text).collect(),
        _ => n.as_scalar_text().into_iter().collect(),
    }
}

fn norm(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|x| x.to_ascii_lowercase())
}

impl Mapping {
    /// The built-in Windows mapping.
    pub fn builtin() -> Mapping {
        Mapping::parse("mappings/builtin.yml", BUILTIN).expect("the built-in mapping is valid")
    }

    /// Read a mapping file.
    pub fn from_file(path: &Path) -> Result<Mapping, Diagnostic> {
        let text = crate::text::read_file(path).map_err(|e| e.diagnostic("mapping", path))?;
        Mapping::parse(&path.display().to_string(), &text)
    }

    /// Parse mapping YAML.
    pub fn parse(name: &str, text: &str) -> Result<Mapping, Diagnostic> {
        let doc = crate::yaml::parse_document(text)
            .map_err(|e| e.diagnostic("mapping", Path::new(name)))?;
        let bad = |n: &Node, m: &str| {
            Diagnostic::error("mapping", m.to_string())
                .in_file(name)
                .at(Some(n.line), Some(n.column))
        };
        let Yaml::Map(top) = &doc.value else {
            return Err(bad(
                &doc,
                "a mapping must be a map of `windows_services` and `sources`",
            ));
        };
        if let Some((k, _)) = top
            .iter()
            .find(|(k, _)| !matches!(k.as_str(), Some("windows_services" | "sources")))
        {
            let key = k.as_scalar_text().unwrap_or_default();
            let msg =
                format!("unknown key `{key}`: a mapping has `windows_services` and `sources`");
            return Err(bad(k, &msg));
        }
        let mut entries = Vec::new();
        if let Some(ws) = doc.get("windows_services") {
            let Yaml::Map(m) = &ws.value else {
                return Err(bad(ws, "`windows_services` must be a map"));
            };
            for (k, v) in m {
                entries.push(SourceEntry {
                    category: None,
                    product: Some("windows".into()),
                    service: k.as_scalar_text(),
                    conditions: vec![("Channel".into(), scalar_list(v))],
                    fields: Vec::new(),
                });
            }
        }
        if let Some(src) = doc.get("sources") {
            let Yaml::Seq(items) = &src.value else {
                return Err(bad(src, "`sources` must be a list"));
            };
            for it in items {
                let Some(ls) = it.get("logsource") else {
                    return Err(bad(it, "entry without `logsource`"));
                };
                let get = |k: &str| ls.get(k).and_then(Node::as_scalar_text);
                let mut conditions = Vec::new();
                if let Some(Yaml::Map(w)) = it.get("where").map(|w| &w.value) {
                    for (k, v) in w {
                        conditions.push((k.as_scalar_text().unwrap_or_default(), scalar_list(v)));
                    }
                }
                let mut fields = Vec::new();
                if let Some(Yaml::Map(f)) = it.get("fields").map(|w| &w.value) {
                    for (k, v) in f {
                        if let (Some(k), Some(v)) = (k.as_scalar_text(), v.as_scalar_text()) {
                            fields.push((k, v));
                        }
                    }
                }
                entries.push(SourceEntry {
                    category: get("category"),
                    product: get("product"),
                    service: get("service"),
                    conditions,
                    fields,
                });
            }
        }
        Ok(Mapping { entries })
    }

    /// Add another mapping's entries.
    /// The mapping a run uses: the file given (else the built-in one), then
    /// the entries of each extra file.
    pub fn load(base: Option<&Path>, extra: &[std::path::PathBuf]) -> Result<Mapping, Diagnostic> {
        let mut mapping = match base {
            Some(p) => Mapping::from_file(p)?,
            None => Mapping::builtin(),
        };
        for p in extra {
            mapping.extend(Mapping::from_file(p)?);
        }
        Ok(mapping)
    }

    pub fn extend(&mut self, other: Mapping) {
        self.entries.extend(other.entries);
    }

    /// The entries serving a rule's logsource: category, product and service
    /// must be equal (case-insensitive), an absent key matching only an absent key.
    pub fn entries_for(&self, ls: &LogSource) -> Vec<&SourceEntry> {
        self.entries
            .iter()
            .filter(|e| {
                norm(&e.category) == norm(&ls.category)
                    && norm(&e.product) == norm(&ls.product)
                    && norm(&e.service) == norm(&ls.service)
            })
            .collect()
    }

    /// Each channel an entry names (lower case, not `*`) → the products
    /// (lower case) of the entries that name it.
    pub fn channel_products(&self) -> std::collections::HashMap<String, Vec<String>> {
        let mut out = std::collections::HashMap::<String, Vec<String>>::new();
        for e in &self.entries {
            let product = e.product.as_deref().unwrap_or("").to_ascii_lowercase();
            let channels = e.conditions.iter().filter(|(k, _)| k == "Channel");
            for ch in channels.flat_map(|(_, v)| v).filter(|c| *c != "*") {
                let products = out.entry(ch.to_lowercase()).or_default();
                if !products.contains(&product) {
                    products.push(product.clone());
                }
            }
        }
        out
    }

    /// Whether the mapping serves the product whole: it has an entry of the
    /// product alone (`product: windows`, every Windows event log record).
    /// A logsource of such a product that no entry lists has no events to
    /// read; one of another product (Linux, whose Sysmon categories alone
    /// are listed) runs on the events of no Windows event log.
    pub fn knows_product(&self, product: &str) -> bool {
        self.entries.iter().any(|e| {
            e.category.is_none()
                && e.service.is_none()
                && e.product
                    .as_deref()
                    .is_some_and(|p| p.eq_ignore_ascii_case(product))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(c: Option<&str>, p: Option<&str>, s: Option<&str>) -> LogSource {
        LogSource {
            category: c.map(Into::into),
            product: p.map(Into::into),
            service: s.map(Into::into),
            definition: None,
        }
    }

    #[test]
    fn a_mapping_with_a_key_it_does_not_know_is_refused_by_name() {
        for (text, said) in [
            (
                "windows_service:\n  security: [Security]\n",
                "m.yml:1:1: unknown key `windows_service`",
            ),
            ("- sources\n", "m.yml:1:1: a mapping must be a map"),
        ] {
            let e = Mapping::parse("m.yml", text).unwrap_err().to_string();
            assert!(e.contains(said), "{e}");
        }
        assert!(Mapping::parse("m.yml", "sources: []\n").is_ok());
    }

    #[test]
    fn builtin_serves_process_creation_twice() {
        let m = Mapping::builtin();
        let e = m.entries_for(&ls(Some("process_creation"), Some("windows"), None));
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[1].fields[0],
            ("Image".to_string(), "NewProcessName".to_string())
        );
        let s = m.entries_for(&ls(None, Some("windows"), Some("security")));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].conditions[0].1, vec!["Security"]);
        let linux = m.entries_for(&ls(Some("process_creation"), Some("linux"), None));
        assert_eq!(linux[0].conditions[0].1, vec!["Linux-Sysmon/Operational"]);
        assert_eq!(m.entries_for(&ls(Some("antivirus"), None, None)).len(), 1);
        // Windows is served whole; of Linux, only Sysmon's categories.
        assert!(m.knows_product("Windows"));
        assert!(!m.knows_product("linux"));
    }
}
