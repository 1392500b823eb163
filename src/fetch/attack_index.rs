//! The index of ATT&CK releases (`index.json` of mitre-attack/attack-stix-data):
//! `collections[]`, each with a `name` and `versions[]` of `{version, url,
//! modified}` (the date is not needed).

use super::Domain;
use super::error::FetchError;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Index {
    pub collections: Vec<Collection>,
}

#[derive(Debug, Deserialize)]
pub struct Collection {
    pub name: String,
    #[serde(default)]
    pub versions: Vec<Release>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub version: String,
    pub url: String,
}

/// Whether an index's version is one (`18.1`, `9.0`): it names the
/// bundle's folder in the cache, so it may be nothing else (`../x`).
fn is_version(v: &str) -> bool {
    v.len() <= 20
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Version numbers compared as numbers (`18.1` after `9.0`).
fn key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

impl Index {
    pub fn parse(text: &str) -> Result<Index, FetchError> {
        serde_json::from_str(text)
            .map_err(|e| FetchError::Content(format!("not an ATT&CK index: {e}")))
    }

    /// The release of `domain` at `version` (`latest`: the highest).
    pub fn release(&self, domain: Domain, version: &str) -> Result<Release, FetchError> {
        let c = self
            .collections
            .iter()
            .find(|c| domain.matches_collection(&c.name))
            .ok_or_else(|| {
                FetchError::Content(format!(
                    "the index has no {} collection",
                    domain.collection()
                ))
            })?;
        let found = if version == "latest" {
            c.versions.iter().max_by_key(|r| key(&r.version))
        } else {
            c.versions.iter().find(|r| r.version == version)
        };
        let found = found.cloned();
        if let Some(r) = &found
            && !is_version(&r.version)
        {
            return Err(FetchError::Content(format!(
                "the index names `{}` as a version of {}, which is no ATT&CK version (`18.1`): refused",
                sigma_engine::text::excerpt(&r.version, 80),
                domain.collection()
            )));
        }
        found.ok_or_else(|| {
            let mut have: Vec<&str> = c.versions.iter().map(|r| r.version.as_str()).collect();
            have.sort_by_key(|v| key(v));
            FetchError::Content(format!(
                "{} has no version {version} in the index (it has: {})",
                domain.collection(),
                have.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_version;

    #[test]
    fn a_version_is_numbers_and_dots_only() {
        for v in ["18.1", "9", "17.0.1"] {
            assert!(is_version(v), "{v}");
        }
        for v in [
            "",
            "..",
            "../x",
            "18.1/..",
            "18..1",
            "/18",
            "v18",
            "18.1 ",
            "1.2.3.4.5.6.7.8.9.10.11",
        ] {
            assert!(!is_version(v), "{v}");
        }
    }
}
