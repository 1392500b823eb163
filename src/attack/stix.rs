//! The subset of STIX 2.0 / 2.1 that ATT&CK bundles use, as typed structs.
//!
//! Every field is optional or defaulted so that STIX 2.0 (mitre/cti) and 2.1
//! (attack-stix-data) bundles, and older ATT&CK releases, all deserialize.

use serde::Deserialize;

/// An external reference: the ATT&CK ID (`source_name: mitre-attack`) or a citation.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ExternalReference {
    pub source_name: String,
    pub description: Option<String>,
    pub url: Option<String>,
    pub external_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KillChainPhase {
    pub kill_chain_name: String,
    pub phase_name: String,
}

/// A v18 analytic's pointer to the data component it reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogSourceReference {
    pub x_mitre_data_component_ref: String,
    pub name: String,
    pub channel: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogSource {
    pub name: String,
    pub channel: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MutableElement {
    pub field: String,
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RelatedAsset {
    pub name: String,
    pub related_asset_sectors: Vec<String>,
    pub description: String,
}

/// One STIX object of any type. Relationship fields are filled only for
/// `relationship` objects, and so on for the other type-specific fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct StixObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub created: String,
    pub modified: String,
    pub name: String,
    pub description: String,
    pub revoked: bool,
    pub x_mitre_deprecated: bool,
    pub external_references: Vec<ExternalReference>,
    pub kill_chain_phases: Vec<KillChainPhase>,
    pub x_mitre_platforms: Vec<String>,
    pub x_mitre_domains: Vec<String>,
    pub x_mitre_version: Option<String>,
    pub x_mitre_is_subtechnique: bool,
    pub x_mitre_detection: Option<String>,
    pub x_mitre_data_sources: Vec<String>,
    pub x_mitre_permissions_required: Vec<String>,
    pub x_mitre_effective_permissions: Vec<String>,
    pub x_mitre_defense_bypassed: Vec<String>,
    pub x_mitre_system_requirements: Vec<String>,
    pub x_mitre_impact_type: Vec<String>,
    pub x_mitre_remote_support: Option<bool>,
    pub x_mitre_network_requirements: Option<bool>,
    pub x_mitre_contributors: Vec<String>,
    pub aliases: Vec<String>,
    pub x_mitre_aliases: Vec<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub x_mitre_first_seen_citation: Option<String>,
    pub x_mitre_last_seen_citation: Option<String>,
    pub x_mitre_shortname: Option<String>,
    pub tactic_refs: Vec<String>,
    pub x_mitre_analytic_refs: Vec<String>,
    pub x_mitre_log_source_references: Vec<LogSourceReference>,
    pub x_mitre_mutable_elements: Vec<MutableElement>,
    pub x_mitre_data_source_ref: Option<String>,
    pub x_mitre_collection_layers: Vec<String>,
    pub x_mitre_log_sources: Vec<LogSource>,
    pub x_mitre_sectors: Vec<String>,
    pub x_mitre_related_assets: Vec<RelatedAsset>,
    pub relationship_type: String,
    pub source_ref: String,
    pub target_ref: String,
    pub labels: Vec<String>,
}

impl StixObject {
    /// The ATT&CK reference (`source_name` `mitre-attack`, or another
    /// `mitre-*` source in older bundles) carrying the object's ATT&CK ID and URL.
    pub fn attack_ref(&self) -> Option<&ExternalReference> {
        self.external_references
            .iter()
            .find(|r| r.source_name == "mitre-attack" && r.external_id.is_some())
            .or_else(|| {
                self.external_references
                    .iter()
                    .find(|r| r.source_name.starts_with("mitre-") && r.external_id.is_some())
            })
    }
}
