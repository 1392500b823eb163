//! Rendering the model into an Obsidian vault: one note per object, with
//! precomputed tables, and writing it safely to disk.

pub mod anchors;
pub mod bases;
pub mod check;
pub mod coverage;
pub mod detections;
mod entry;
pub mod escape;
mod follow;
pub mod frontmatter;
pub mod history;
pub mod home;
pub mod index;
pub mod layout;
pub mod literal;
pub mod names;
pub mod navigator;
pub mod note_writer;
pub mod notes;
pub mod obsidian;
pub mod resolve;
pub mod samples;
pub mod status;
pub mod template_bounds;
pub mod templates;
pub mod text;

use crate::model::Model;
use crate::model::kb::{Kind, ObjId};
use index::{HOME_STEM, Index};
use rayon::prelude::*;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::collections::HashMap;
use std::path::PathBuf;
use templates::Templates;

/// Options that change what the vault contains.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Also write the live Dataview query under each precomputed table.
    pub dataview: bool,
    /// Folder of user templates overriding the built-in ones.
    pub templates: Option<PathBuf>,
    /// How generated tags are spelt (`--tag-prefix`).
    pub tags: crate::tags::TagStyle,
    /// Also write live Obsidian Bases: a block under each precomputed
    /// table and `.base` files ([`bases`]).
    pub bases: bool,
    /// Analytics inside their detection strategies' notes, not notes of
    /// their own (`--fold-analytics`): two thousand fewer notes.
    pub fold_analytics: bool,
}

/// Which live queries go beside the precomputed tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Live {
    pub dataview: bool,
    pub bases: bool,
}

/// One rendered file of the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// Path relative to the vault root, `/`-separated.
    pub path: String,
    pub content: String,
}

/// Render every note of the vault in memory. A template error on one note is
/// reported and that note skipped; a template set that does not compile stops
/// the render.
pub fn render(
    model: &Model,
    opts: &RenderOptions,
    diags: &Diagnostics,
) -> Result<Vec<Note>, Diagnostic> {
    let templates = Templates::load(opts.templates.as_deref(), diags)?;
    let kb = &model.attack;
    let mut names = names::NameRegistry::new();
    home::reserve(&mut names);
    names.reserve(layout::LINK_REPORT_STEM);
    names.reserve("Changes");
    let mut ix = Index::new(kb, &mut names).with_tags(opts.tags.clone());
    if opts.fold_analytics {
        ix = ix.fold_analytics();
    }
    let det = detections::Detections::new(model, &mut names);
    let sample_stems = coverage::sample_stems(model, &mut names);
    let cov = coverage::compute(model);
    let live = Live {
        dataview: opts.dataview,
        bases: opts.bases,
    };
    let mut notes = object_notes(&templates, model, &ix, &det, &cov, live)?;
    notes.extend(detection_notes(
        &templates,
        model,
        &ix,
        &det,
        &sample_stems,
    )?);
    notes.extend(coverage::render(
        model,
        &ix,
        &det,
        &cov,
        &sample_stems,
        &templates,
    )?);
    if opts.bases {
        notes.extend(bases::files(&opts.tags));
    }
    notes.push(Note {
        path: format!("{}.md", layout::LINK_REPORT_STEM),
        content: tidy(&templates.render("link_report.md", &det.link_report(&ix))?),
    });
    notes.extend(index_notes(&templates, model, &ix, &det, &sample_stems)?);
    let paths: Vec<&str> = notes.iter().map(|n| n.path.as_str()).collect();
    let home_ctx = home::home(&ix, model, &paths);
    notes.push(Note {
        path: format!("{HOME_STEM}.md"),
        content: tidy(&templates.render("home.md", &home_ctx)?),
    });
    notes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(notes)
}

/// One note through its template. A template that fails on one note fails
/// the build: a vault with some notes missing would delete them from the
/// last good one.
fn render_one(
    templates: &Templates,
    template: &str,
    path: String,
    ctx: impl serde::Serialize,
) -> Result<Note, Diagnostic> {
    match templates.render(template, &ctx) {
        Ok(content) => Ok(Note {
            path,
            content: tidy(&content),
        }),
        Err(e) => Err(Diagnostic {
            message: format!("{} (while rendering {path})", e.message),
            ..e
        }),
    }
}

/// The note of every ATT&CK object that has one.
fn object_notes(
    templates: &Templates,
    model: &Model,
    ix: &Index,
    det: &detections::Detections,
    cov: &HashMap<ObjId, status::TechCoverage>,
    live: Live,
) -> Result<Vec<Note>, Diagnostic> {
    let kb = &model.attack;
    let validated_run = model.validation.is_some();
    let ids: Vec<ObjId> = (0..kb.objects.len())
        .filter(|&i| ix.stem(i).is_some())
        .collect();
    ids.par_iter()
        .filter_map(|&id| {
            let stem = ix.stem(id)?;
            let (template, ctx) = object_context(ix, det, cov, id, live, validated_run);
            let path = format!("{}/{stem}.md", kb.get(id).kind.folder());
            Some(render_one(templates, template, path, ctx))
        })
        .collect()
}

/// The notes of the Sigma rules and the atomic tests.
fn detection_notes(
    templates: &Templates,
    model: &Model,
    ix: &Index,
    det: &detections::Detections,
    sample_stems: &[String],
) -> Result<Vec<Note>, Diagnostic> {
    let mut notes: Vec<Note> = (0..model.rules.len())
        .into_par_iter()
        .map(|i| {
            let mut ctx = det.rule(ix, i);
            ctx.validation = samples::rule_ctx(model, i, sample_stems);
            render_one(templates, "rule.md", det.rule_path(i), ctx)
        })
        .collect::<Result<_, _>>()?;
    let rule_tables = det.technique_rule_tables(ix);
    let tests: Vec<Note> = (0..model.tests.len())
        .into_par_iter()
        .map(|i| {
            let ctx = det.test(ix, i, &rule_tables);
            render_one(templates, "atomic.md", det.test_path(i), ctx)
        })
        .collect::<Result<_, _>>()?;
    notes.extend(tests);
    Ok(notes)
}

/// The index note of each folder.
fn index_notes(
    templates: &Templates,
    model: &Model,
    ix: &Index,
    det: &detections::Detections,
    sample_stems: &[String],
) -> Result<Vec<Note>, Diagnostic> {
    let mut indexes: Vec<(&str, home::IndexNote)> = Kind::ALL
        .iter()
        .filter_map(|&k| Some((home::kind_index(k), home::kind_index_ctx(ix, k)?)))
        .collect();
    if !model.rules.is_empty() {
        indexes.push((home::RULES_INDEX, home::rules_index_ctx(ix, det, model)));
    }
    if !model.tests.is_empty() {
        indexes.push((home::TESTS_INDEX, home::tests_index_ctx(ix, model)));
    }
    if let Some(ctx) = home::samples_index_ctx(ix, model, sample_stems) {
        indexes.push((layout::SAMPLES_FOLDER, ctx));
    }
    indexes
        .into_iter()
        .map(|(stem, ctx)| render_one(templates, "index.md", format!("{stem}.md"), ctx))
        .collect()
}

/// The context of an ATT&CK object's note, one type per kind of note.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ObjectContext {
    Technique(Box<notes::ObjectNote<notes::Technique>>),
    Actor(notes::ObjectNote<notes::Actor>),
    Tactic(notes::ObjectNote<notes::Tactic>),
    Mitigation(notes::ObjectNote<notes::Techniques<notes::RelRow>>),
    DataSource(notes::ObjectNote<notes::DataSource>),
    DataComponent(notes::ObjectNote<notes::DataComponent>),
    DetectionStrategy(notes::ObjectNote<notes::DetectionStrategy>),
    Analytic(notes::ObjectNote<notes::Analytic>),
    Asset(notes::ObjectNote<notes::Asset>),
    Matrix(notes::ObjectNote<notes::Matrix>),
    Revoked(notes::Revoked),
}

/// The template and context of one ATT&CK object's note.
fn object_context(
    ix: &Index,
    det: &detections::Detections,
    cov: &HashMap<ObjId, status::TechCoverage>,
    id: ObjId,
    live: Live,
    validated_run: bool,
) -> (&'static str, ObjectContext) {
    let dv = live.dataview;
    let kb = ix.kb;
    let o = kb.get(id);
    if kb.is_redirect(id) {
        return ("revoked.md", ObjectContext::Revoked(notes::revoked(ix, id)));
    }
    let ctx = match o.kind {
        Kind::Technique => {
            let extra = notes::TechniqueExtra {
                tables: det.technique_tables(ix, id, live),
                coverage: cov
                    .get(&id)
                    .map(|c| status::CoverageCell::new(c, validated_run)),
            };
            ObjectContext::Technique(Box::new(notes::technique(ix, id, dv, extra)))
        }
        Kind::Group | Kind::Software | Kind::Campaign => {
            let mut note = notes::actor(ix, id, dv, detections::tagged_rules(det, id));
            coverage::annotate_actor(&mut note, kb, cov, validated_run);
            ObjectContext::Actor(note)
        }
        Kind::Tactic => {
            ObjectContext::Tactic(notes::tactic(ix, id, dv, detections::tagged_rules(det, id)))
        }
        Kind::Mitigation => ObjectContext::Mitigation(notes::mitigation(ix, id, dv)),
        Kind::DataSource => ObjectContext::DataSource(notes::data_source(ix, id, dv)),
        Kind::DataComponent => ObjectContext::DataComponent(notes::data_component(ix, id, dv)),
        Kind::DetectionStrategy => {
            ObjectContext::DetectionStrategy(notes::detection_strategy(ix, id, dv))
        }
        Kind::Analytic => ObjectContext::Analytic(notes::analytic(ix, id, dv)),
        Kind::Asset => ObjectContext::Asset(notes::asset(ix, id, dv)),
        Kind::Matrix => ObjectContext::Matrix(notes::matrix(ix, id, dv)),
    };
    (template_name(o.kind), ctx)
}

fn template_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Matrix => "matrix.md",
        Kind::Tactic => "tactic.md",
        Kind::Technique => "technique.md",
        Kind::Group => "group.md",
        Kind::Software => "software.md",
        Kind::Campaign => "campaign.md",
        Kind::Mitigation => "mitigation.md",
        Kind::DataSource => "data_source.md",
        Kind::DataComponent => "data_component.md",
        Kind::DetectionStrategy => "detection_strategy.md",
        Kind::Analytic => "analytic.md",
        Kind::Asset => "asset.md",
    }
}

/// A note's text. A note that is not UTF-8 is read with replacement
/// characters, and one that cannot be read is empty; `problem` hears of
/// either, so that no reader of the vault passes over it in silence.
pub fn read_note(file: &std::path::Path, problem: &mut dyn FnMut(String)) -> String {
    use sigma_engine::text::UTF8_BOM;
    match std::fs::read(file) {
        Ok(mut bytes) => {
            // A byte order mark (Notepad, PowerShell 5) is no part of the
            // text: before `---`, it would hide the note's properties.
            if bytes.starts_with(UTF8_BOM) {
                bytes.drain(..UTF8_BOM.len());
            }
            String::from_utf8(bytes).unwrap_or_else(|e| {
                problem(format!(
                    "not valid UTF-8 at byte {}: read with replacement characters",
                    e.utf8_error().valid_up_to()
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            })
        }
        Err(e) => {
            problem(format!("cannot read: {e}"));
            String::new()
        }
    }
}

/// The notes (`.md` files) of a vault, sorted; hidden folders and
/// symbolic links aside.
pub fn note_files(vault: &std::path::Path) -> Vec<PathBuf> {
    note_listing(vault).0
}

/// What a reader of the vault says of its `.md` names that are no file (a
/// named pipe, a device): never opened, as a pipe would wait for a writer.
pub const NOT_OPENED: &str = "a pipe, device or socket, not a file: not read";

/// [`note_files`], and in the same walk the vault paths of `.md` names
/// that are pipes or devices, which it leaves out.
pub fn note_listing(vault: &std::path::Path) -> (Vec<PathBuf>, Vec<String>) {
    use sigma_engine::walk::{EntryKind, Hidden, tree};
    let md = |e: &sigma_engine::walk::TreeEntry| is_note(&e.path);
    let (mut notes, mut unopened) = (Vec::new(), Vec::new());
    for e in tree(vault, Hidden::Skip).into_iter().filter(md) {
        match e.kind {
            EntryKind::File => notes.push(e.path),
            EntryKind::Special => unopened.push(e.rel),
            EntryKind::Symlink => {}
        }
    }
    notes.sort();
    (notes, unopened)
}

/// The notes under `dir` ([`note_listing`]), each `.md` name that is no
/// file named as a warning of `category`.
pub fn notes_naming_unopened(
    dir: &std::path::Path,
    category: &'static str,
    diags: &sigma_engine::diag::Diagnostics,
) -> Vec<PathBuf> {
    let (notes, unopened) = note_listing(dir);
    for rel in unopened {
        let d = sigma_engine::diag::Diagnostic::warning(category, NOT_OPENED);
        diags.push(d.in_file(dir.join(rel)));
    }
    notes
}

/// A file's path inside the vault, `/`-separated (as links and notes name it).
pub fn relative_path(vault: &std::path::Path, file: &std::path::Path) -> String {
    let rel = file.strip_prefix(vault).unwrap_or(file).to_string_lossy();
    rel.replace('\\', "/")
}

/// The vault's other files (images, PDFs, ...), which links may name too:
/// sorted, hidden folders (`.obsidian`, `.attack-vault`) and symbolic links
/// aside.
pub fn attachment_files(vault: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = sigma_engine::walk::tree(vault, sigma_engine::walk::Hidden::Skip)
        .into_iter()
        .filter(|e| e.is_file() && !is_note(&e.path))
        .map(|e| e.path)
        .collect();
    files.sort();
    files
}

/// Whether a path names a note: a `.md` file.
fn is_note(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|x| x == "md")
}

/// Normalise template output: no runs of blank lines, no trailing spaces, one
/// final newline. Fenced code blocks are left exactly as they are, so rule
/// YAML and commands keep their text. Templates can then use plain
/// `{% if %}` blocks without whitespace control.
pub fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut fence: Option<String> = None;
    let mut blank_run = 0;
    for line in s.lines() {
        if let Some(f) = &fence {
            out.push_str(line);
            out.push('\n');
            let t = line.trim_start();
            if t.starts_with(f.as_str())
                && t.trim_end()
                    .chars()
                    .all(|c| c == f.chars().next().unwrap_or('`'))
            {
                fence = None;
            }
            continue;
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            blank_run += 1;
            continue;
        }
        if blank_run > 0 && !out.is_empty() {
            out.push('\n');
        }
        blank_run = 0;
        let t = trimmed.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            let c = t.chars().next().unwrap_or('`');
            let n = t.chars().take_while(|&x| x == c).count();
            fence = Some(std::iter::repeat_n(c, n).collect());
        }
        out.push_str(trimmed);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn tidy_collapses_blank_lines_but_not_in_code() {
        let s = "a  \n\n\n\nb\n```yaml\nx:\n\n\n  y  \n```\n\n\nc\n\n";
        assert_eq!(tidy(s), "a\n\nb\n```yaml\nx:\n\n\n  y  \n```\n\nc\n");
    }
}
