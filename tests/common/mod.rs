//! Helpers shared by the integration tests.
#![allow(dead_code)]

use attack_vault::build::{BuildConfig, build};
use sigma_engine::diag::Diagnostics;
use std::path::{Path, PathBuf};

/// The shared real-data folder: `$ATTACK_VAULT_DATA`, else `../shared/data`
/// next to the project. Real-data tests are `#[ignore]`d (so a machine
/// without the data shows them as ignored, with the reason); run on purpose
/// without the data, they fail rather than pass by not running.
pub fn data_dir() -> Option<PathBuf> {
    let p = std::env::var_os("ATTACK_VAULT_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    if p.join("attack").is_dir() {
        Some(p)
    } else {
        panic!(
            "no real data at {} (set ATTACK_VAULT_DATA to the shared data folder)",
            p.display()
        )
    }
}

/// `Some(path)` to a file under the data folder, or skip.
#[macro_export]
macro_rules! data_or_skip {
    ($rel:expr) => {{
        match common::data_dir() {
            Some(d) => {
                let p = d.join($rel);
                assert!(p.exists(), "{} missing from the shared data", p.display());
                p
            }
            None => return,
        }
    }};
}

/// Build a vault into a fresh temporary folder.
pub fn build_into(
    mut cfg: BuildConfig,
) -> (
    tempfile::TempDir,
    Diagnostics,
    attack_vault::build::BuildSummary,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    cfg.out = dir.path().join("vault");
    let diags = Diagnostics::new();
    let summary = build(&cfg, &diags).expect("build succeeds");
    (dir, diags, summary)
}

/// A run's output, once it is known to have succeeded (its stderr shown
/// if not).
pub fn succeeded(out: std::process::Output) -> std::process::Output {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `attack-vault layer` of `vault` into `out`, to which a test adds flags.
pub fn layer(vault: &Path, out: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_attack-vault"));
    c.args(["layer", "--vault"])
        .arg(vault)
        .arg("--out")
        .arg(out);
    c
}

/// Read a note by its vault-relative path.
pub fn read(dir: &Path, rel: &str) -> String {
    std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Find the one note in `folder` whose file name starts with `id ` .
pub fn note_by_id(vault: &Path, folder: &str, id: &str) -> String {
    let dir = vault.join(folder);
    let mut hits: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&format!("{id} "))
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "exactly one note for {id} in {folder}: {hits:?}"
    );
    std::fs::read_to_string(hits.pop().unwrap()).unwrap()
}

/// The section of a note under `## heading` (until the next `## `).
pub fn section<'a>(note: &'a str, heading: &str) -> &'a str {
    let start = note
        .find(&format!("\n## {heading}\n"))
        .map(|p| p + heading.len() + 5);
    let Some(s) = start else { return "" };
    let rest = &note[s..];
    match rest.find("\n## ") {
        Some(e) => &rest[..e],
        None => rest,
    }
}

/// Table body rows (lines starting with `|`, minus header and separator).
pub fn table_rows(section: &str) -> Vec<&str> {
    let rows: Vec<&str> = section.lines().filter(|l| l.starts_with('|')).collect();
    rows.into_iter().skip(2).collect()
}

/// The first problems of a vault check, for assertion messages.
pub fn describe(r: &attack_vault::vault::check::CheckReport) -> String {
    format!(
        "unresolved: {:?}\nmissing footnotes: {:?}\ncitations left: {:?}\nraw links: {:?}",
        r.unresolved.iter().take(8).collect::<Vec<_>>(),
        r.missing_footnotes.iter().take(8).collect::<Vec<_>>(),
        r.citations_left.iter().take(8).collect::<Vec<_>>(),
        r.raw_links_to_notes.iter().take(8).collect::<Vec<_>>()
    )
}

/// Validate a Navigator layer against the schema of the fields the
/// Navigator needs (tests/fixtures/navigator-layer.schema.json).
/// Every `> **Label:**` line of a note's header callout says something,
/// without a separator left over from a part it does not have.
pub fn assert_labels_say_something(vault: &Path) {
    let mut empty = Vec::new();
    for e in walkdir::WalkDir::new(vault)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
    {
        let text = std::fs::read_to_string(e.path()).unwrap();
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("> **") else {
                continue;
            };
            let Some((_, said)) = rest.split_once(":**") else {
                continue;
            };
            let said = said.trim();
            if said.is_empty() || said.starts_with('·') || said.ends_with('·') {
                empty.push(format!("{}: {line}", e.path().display()));
            }
        }
    }
    assert!(
        empty.is_empty(),
        "{} labels say nothing: {:#?}",
        empty.len(),
        &empty[..empty.len().min(10)]
    );
}

pub fn assert_valid_layer(layer: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/navigator-layer.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = v
        .iter_errors(layer)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .take(10)
        .collect();
    assert!(
        errors.is_empty(),
        "layer does not fit the Navigator: {errors:?}"
    );
}

/// The five SigmaHQ rule trees of the shared data.
pub const SIGMA_TREES: [&str; 5] = [
    "rules",
    "rules-emerging-threats",
    "rules-threat-hunting",
    "rules-placeholder",
    "rules-compliance",
];

/// A YAML file read generically (independently of the crate's own model).
pub fn yaml(path: &Path) -> serde_json::Value {
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or(serde_json::Value::Null)
}

/// Every file under `dir` (`/`-separated relative path → bytes), sorted;
/// a symbolic link as the text `<link>`, never followed.
pub fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap();
            let rel = rel.to_string_lossy().replace('\\', "/");
            let bytes = if e.file_type().is_symlink() {
                b"<link>".to_vec()
            } else if rel.ends_with(".gz") {
                // Kept bases: compared by content, since the compressed bytes
                // depend on which deflate implementation built them.
                let mut text = Vec::new();
                let f = std::fs::File::open(e.path()).unwrap();
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(f), &mut text)
                    .unwrap();
                text
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (rel, bytes)
        })
        .collect();
    v.sort();
    v
}

/// The objects of a STIX bundle file, as raw JSON.
pub fn objects(path: &Path) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["objects"].as_array().unwrap().clone()
}

/// Neither revoked nor deprecated.
pub fn active(o: &serde_json::Value) -> bool {
    !o["revoked"].as_bool().unwrap_or(false) && !o["x_mitre_deprecated"].as_bool().unwrap_or(false)
}

/// The Enterprise ATT&CK ID of an object.
pub fn attack_id(o: &serde_json::Value) -> Option<String> {
    o["external_references"].as_array()?.iter().find_map(|r| {
        (r["source_name"] == "mitre-attack")
            .then(|| r["external_id"].as_str().map(str::to_string))
            .flatten()
    })
}

/// `attack-vault match ARGS --rules RULES -- EVENTS`.
pub fn matching(args: &[&str], rules: &Path, events: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .arg("match")
        .args(args)
        .arg("--rules")
        .arg(rules)
        .arg("--")
        .arg(events)
        .output()
        .unwrap()
}
