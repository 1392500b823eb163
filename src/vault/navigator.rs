//! ATT&CK Navigator layers (layer format 4.5), one per domain: score =
//! rules that fired on sample events, colour = the coverage status, comment
//! = the counts. A build writes them from the coverage it computes;
//! `attack-vault layer` makes the same ones from a built vault's notes.

use super::status::{Status, TechCoverage};
use crate::model::kb::Kind;
use serde::Serialize;

/// A technique's row of a layer.
#[derive(Debug, Clone)]
pub struct LayerEntry {
    pub id: String,
    pub coverage: TechCoverage,
}

/// A Navigator layer file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layer {
    pub name: String,
    pub versions: Versions,
    pub domain: String,
    pub description: &'static str,
    pub filters: Filters,
    pub sorting: u8,
    pub layout: Layout,
    pub hide_disabled: bool,
    pub techniques: Vec<Technique>,
    pub gradient: Gradient,
    pub legend_items: Vec<LegendItem>,
    pub metadata: Vec<Metadata>,
    pub links: Vec<Link>,
    pub show_tactic_row_background: bool,
    pub tactic_row_background: &'static str,
    pub select_techniques_across_tactics: bool,
    pub select_subtechniques_with_parent: bool,
    pub select_visible_techniques: bool,
}

/// The versions a layer is written for: the ATT&CK release's major number
/// (Navigator loads that release's matrix, or says the layer is older).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Versions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack: Option<String>,
    pub navigator: &'static str,
    pub layer: &'static str,
}

/// The platforms shown: none named is every platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Filters {
    pub platforms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Layout {
    pub layout: &'static str,
    pub aggregate_function: &'static str,
    #[serde(rename = "showID")]
    pub show_id: bool,
    pub show_name: bool,
    pub show_aggregate_scores: bool,
    pub count_unscored: bool,
    pub expanded_subtechniques: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Technique {
    #[serde(rename = "techniqueID")]
    pub technique_id: String,
    pub score: usize,
    pub color: &'static str,
    pub comment: String,
    pub enabled: bool,
    pub show_subtechniques: bool,
    pub metadata: Vec<Metadata>,
    pub links: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gradient {
    pub colors: [&'static str; 2],
    pub min_value: usize,
    pub max_value: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegendItem {
    pub label: &'static str,
    pub color: &'static str,
}

/// A name and value shown with a layer or technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub name: String,
    pub value: String,
}

/// A link shown with a layer or technique.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// The layer of `domain`, of ATT&CK `release` (`18.1`) where known.
pub fn layer(domain: &str, release: Option<&str>, entries: &[LayerEntry]) -> Layer {
    let max = entries.iter().map(|e| e.coverage.fired).max().unwrap_or(0);
    let techniques = entries
        .iter()
        .filter(|e| e.coverage.status != Status::None)
        .map(|e| technique(&e.id, &e.coverage))
        .collect();
    Layer {
        name: format!("attack-vault coverage ({domain})"),
        versions: Versions {
            attack: release
                .and_then(|r| r.split('.').next())
                .map(str::to_string),
            navigator: "5.1.0",
            layer: "4.5",
        },
        domain: domain.to_string(),
        description: "Detection coverage from attack-vault: score = Sigma rules that fired on sample events; colour = status (green validated, yellow rules only, blue atomic tests only).",
        filters: Filters {
            platforms: Vec::new(),
        },
        sorting: 3,
        layout: Layout {
            layout: "side",
            aggregate_function: "average",
            show_id: true,
            show_name: true,
            show_aggregate_scores: false,
            count_unscored: false,
            expanded_subtechniques: "none",
        },
        hide_disabled: false,
        techniques,
        gradient: Gradient {
            colors: ["#ffffffff", "#31a354ff"],
            min_value: 0,
            max_value: max.max(1),
        },
        legend_items: Status::ALL
            .iter()
            .map(|s| LegendItem {
                label: s.label(),
                color: s.color(),
            })
            .collect(),
        metadata: Vec::new(),
        links: Vec::new(),
        show_tactic_row_background: false,
        tactic_row_background: "#dddddd",
        select_techniques_across_tactics: true,
        select_subtechniques_with_parent: false,
        select_visible_techniques: false,
    }
}

fn technique(id: &str, c: &TechCoverage) -> Technique {
    Technique {
        technique_id: id.to_string(),
        score: c.fired,
        color: c.status.color(),
        comment: format!("{}: {}", c.status.label(), c.figures()),
        enabled: true,
        show_subtechniques: false,
        metadata: Vec::new(),
        links: Vec::new(),
    }
}

/// A layer as its file holds it.
pub fn to_text(layer: &Layer) -> String {
    serde_json::to_string_pretty(layer).unwrap_or_default() + "\n"
}

/// Writes each domain's layer into `out` as `<domain>-coverage.json`, whole
/// (a new file beside it renamed over it). What stands there and is not a layer
/// this tool wrote (a file of the analyst's, unless `force`; a symbolic
/// link, which could lead outside `out`; a folder or pipe) is left alone
/// and said. The paths written.
pub fn write_layers(
    out: &std::path::Path,
    layers: &[(String, Layer)],
    force: bool,
    diags: &sigma_engine::diag::Diagnostics,
) -> Result<Vec<std::path::PathBuf>, sigma_engine::diag::Diagnostic> {
    use sigma_engine::diag::Diagnostic;
    use std::io::Write;
    std::fs::create_dir_all(out)
        .map_err(|e| Diagnostic::error("layer", format!("cannot write: {e}")).in_file(out))?;
    let mut written = Vec::new();
    for (domain, layer) in layers {
        let p = out.join(format!("{domain}-coverage.json"));
        if let Some(why) = not_ours(&p, force) {
            diags.push(Diagnostic::warning("layer", why).in_file(&p));
            continue;
        }
        // A new file beside it, moved over it: no other name is touched.
        let mut file = crate::output::ReportFile::create(&p, true, &|_| false)?;
        let text = to_text(layer);
        (file.file().write_all(text.as_bytes()))
            .map_err(|e| Diagnostic::error("layer", format!("cannot write: {e}")).in_file(&p))?;
        file.commit()?;
        written.push(p);
    }
    Ok(written)
}

/// Why the file at `p` is not to be replaced, if it is not.
fn not_ours(p: &std::path::Path, force: bool) -> Option<String> {
    let meta = std::fs::symlink_metadata(p).ok()?;
    if !meta.file_type().is_file() {
        return Some(
            "not a file (a symbolic link, folder or pipe): left alone, no layer written".into(),
        );
    }
    /// A layer's name, all of it that tells whose it is.
    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }
    // A layer is a few hundred KB: a larger file is not one to read whole.
    let ours = || {
        meta.len() <= 64 << 20
            && std::fs::read(p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Named>(&b).ok())
                .is_some_and(|l| l.name.starts_with("attack-vault coverage ("))
    };
    (!force && !ours()).then(|| {
        "a file that is no layer attack-vault wrote: left alone, no layer written (move it, or --force replaces it)".into()
    })
}

/// The layer of each domain of a built vault, from its technique notes'
/// coverage properties and its matrix notes' ATT&CK releases: (domain,
/// layer). Notes that cannot be read are reported to `diags`.
pub fn layers_from_vault(
    vault: &std::path::Path,
    diags: &sigma_engine::diag::Diagnostics,
) -> Result<Vec<(String, Layer)>, sigma_engine::diag::Diagnostic> {
    let notes = built_notes(vault, diags)?;
    let mut per_domain: std::collections::BTreeMap<String, Vec<LayerEntry>> = Default::default();
    for p in &notes.techniques {
        let Some((entry, domains)) = entry_of(p, diags) else {
            continue;
        };
        for d in domains {
            per_domain.entry(d).or_default().push(entry.clone());
        }
    }
    if per_domain.is_empty() {
        let msg = "no technique note with coverage properties";
        let dir = vault.join(Kind::Technique.folder());
        return Err(sigma_engine::diag::Diagnostic::error("layer", msg).in_file(&dir));
    }
    let releases = releases(&notes.matrices, diags);
    Ok(per_domain
        .into_iter()
        .map(|(d, e)| {
            let l = layer(&d, releases.get(&d).map(String::as_str), &e);
            (d, l)
        })
        .collect())
}

/// A technique note's layer entry and its domains, where it has coverage.
fn entry_of(
    p: &std::path::Path,
    diags: &sigma_engine::diag::Diagnostics,
) -> Option<(LayerEntry, Vec<String>)> {
    let m = note_properties(p, diags)?;
    let id = m.get("id")?.as_str()?;
    let status = Status::parse(m.get("coverage")?.as_str()?)?;
    let n = |k: &str| m.get(k).and_then(|v| v.as_f64()).unwrap_or(0.0) as usize;
    let mut coverage = TechCoverage::new(n("rules"), n("rules_fired"), n("atomic_tests"));
    coverage.status = status;
    let (domains, odd): (Vec<String>, Vec<String>) = m
        .get("domains")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|d| d.as_str().map(str::to_string))
        .partition(|d| crate::attack::is_domain_name(d));
    if !odd.is_empty() {
        // A domain names the layer's file: `../x` would lead out of `--out`.
        let msg = format!(
            "domains {odd:?} not shaped as an ATT&CK domain (lowercase letters, digits and dashes, as `enterprise-attack`): no layer for them"
        );
        diags.push(sigma_engine::diag::Diagnostic::warning("layer", msg).in_file(p));
    }
    let entry = LayerEntry {
        id: id.to_string(),
        coverage,
    };
    Some((entry, domains))
}

/// Domain → ATT&CK release, from the matrix notes' `release` property.
fn releases(
    matrices: &[std::path::PathBuf],
    diags: &sigma_engine::diag::Diagnostics,
) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for p in matrices {
        let Some(m) = note_properties(p, diags) else {
            continue;
        };
        let release = m.get("release").and_then(|v| v.as_str());
        let domains = m.get("domains").and_then(|v| v.as_array());
        if let (Some(r), Some(ds)) = (release, domains) {
            for d in ds.iter().filter_map(|d| d.as_str()) {
                out.insert(d.to_string(), r.to_string());
            }
        }
    }
    out
}

/// The technique and matrix notes of a built vault, which layers are made
/// of.
struct BuiltNotes {
    techniques: Vec<std::path::PathBuf>,
    matrices: Vec<std::path::PathBuf>,
}

/// The technique and matrix notes of a built vault: those in their kinds'
/// folders, and those its last build wrote elsewhere, as its manifest lists
/// them (it follows notes the analyst moved or renamed), told by their
/// `type` property; every note read once. A `.md` that is a pipe or device
/// is named and never opened (it would wait for a writer).
fn built_notes(
    vault: &std::path::Path,
    diags: &sigma_engine::diag::Diagnostics,
) -> Result<BuiltNotes, sigma_engine::diag::Diagnostic> {
    use rayon::prelude::*;
    use sigma_engine::diag::Diagnostic;
    if let Some(why) = crate::paths::not_a_vault(vault) {
        return Err(Diagnostic::error("layer", why).in_file(vault));
    }
    let written = crate::output::read_manifest(vault);
    let techniques_dir = vault.join(Kind::Technique.folder());
    if !techniques_dir.is_dir() && written.is_empty() {
        let msg = "no technique notes: not a vault attack-vault built";
        return Err(Diagnostic::error("layer", msg).in_file(techniques_dir));
    }
    let in_folder = |kind: Kind| {
        let dir = vault.join(kind.folder());
        if dir.is_dir() {
            super::notes_naming_unopened(&dir, "layer", diags)
        } else {
            Vec::new()
        }
    };
    let mut notes = BuiltNotes {
        techniques: in_folder(Kind::Technique),
        matrices: in_folder(Kind::Matrix),
    };
    let folders = [Kind::Technique, Kind::Matrix].map(|k| format!("{}/", k.folder()));
    let elsewhere: Vec<(std::path::PathBuf, Kind)> = written
        .par_iter()
        .filter(|rel| rel.ends_with(".md") && crate::output::is_inside(rel))
        .filter(|rel| !folders.iter().any(|f| rel.starts_with(f.as_str())))
        .map(|rel| vault.join(rel))
        .filter(|p| match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_file() => true,
            // A link may lead anywhere; what is gone is no note.
            Ok(m) if m.is_symlink() => false,
            Err(_) => false,
            Ok(_) => {
                let d = Diagnostic::warning("layer", super::NOT_OPENED);
                diags.push(d.in_file(p));
                false
            }
        })
        .filter_map(|p| kind_of(&p).map(|k| (p, k)))
        .collect();
    for (p, kind) in elsewhere {
        match kind {
            Kind::Technique => notes.techniques.push(p),
            Kind::Matrix => notes.matrices.push(p),
            _ => {}
        }
    }
    notes.techniques.sort();
    notes.matrices.sort();
    Ok(notes)
}

/// The kind a note's `type` property names, read from its lines alone: most
/// notes of a vault are of other kinds, and parsing every note's
/// properties to tell would be the most of the work.
fn kind_of(p: &std::path::Path) -> Option<Kind> {
    // Unreadable, it is no note of a kind; `note_properties` names the
    // problems of the notes that are.
    let text = super::read_note(p, &mut |_| {});
    let props = super::frontmatter::split(&text).0?;
    let name = props
        .lines()
        .find_map(|l| l.strip_prefix("type:"))?
        .trim()
        .trim_matches(['"', '\'']);
    Kind::ALL.into_iter().find(|k| k.name() == name)
}

/// The properties of a note, or `None` if it has none; a note that cannot
/// be read, or whose properties do not parse, is reported.
fn note_properties(
    p: &std::path::Path,
    diags: &sigma_engine::diag::Diagnostics,
) -> Option<indexmap::IndexMap<String, serde_json::Value>> {
    let warn = |msg: String| {
        diags.push(sigma_engine::diag::Diagnostic::warning("layer", msg).in_file(p));
    };
    let text = super::read_note(p, &mut |m| warn(m));
    super::frontmatter::note_properties(&text).unwrap_or_else(|e| {
        let msg = format!(
            "properties not read ({}); left out of the layers",
            e.message
        );
        let d = sigma_engine::diag::Diagnostic::warning("layer", msg);
        diags.push(d.in_file(p).at(e.line, e.column));
        None
    })
}
