//! Building the template context of every note: the precomputed tables that
//! Dataview would otherwise compute, with wikilinks, footnotes and properties.

use super::frontmatter::Frontmatter;
use super::index::{HOME_STEM, Index};
use super::text::{self, Footnotes, convert};
use crate::attack::stix::ExternalReference;
use crate::model::attack::{Kb, Kind, ObjId, RelKind};
use serde_json::{Map, Value, json};

/// Per-note state while its texts are converted: the shared index and the
/// footnotes collected so far.
pub struct NoteWriter<'i, 'a> {
    pub ix: &'i Index<'a>,
    pub notes: Footnotes,
}

impl<'i, 'a> NoteWriter<'i, 'a> {
    pub fn new(ix: &'i Index<'a>) -> Self {
        Self {
            ix,
            notes: Footnotes::new(),
        }
    }
    /// Convert ATT&CK text to Obsidian Markdown.
    pub fn md(&mut self, s: &str, refs: &[ExternalReference]) -> String {
        convert(s.trim(), refs, self.ix, &mut self.notes)
            .trim()
            .to_string()
    }
    pub fn kb(&self) -> &'a Kb {
        self.ix.kb
    }
}

/// The tag of a tactic: its ATT&CK short name (`command-and-control`), or
/// its name in that style when it has none.
pub fn tactic_tag(ix: &Index, tactic: ObjId) -> String {
    let o = ix.kb.get(tactic);
    ix.tags
        .tactic(o.stix.x_mitre_shortname.as_deref().unwrap_or(o.name()))
}

/// Properties every ATT&CK note has, in a fixed order.
fn base_frontmatter(kb: &Kb, id: ObjId, tags: Vec<String>, aliases: Vec<String>) -> Frontmatter {
    let o = kb.get(id);
    let mut fm = Frontmatter::new();
    fm.text_opt("id", Some(&o.attack_id))
        .text("name", o.name())
        .text("type", o.kind.name())
        .list("aliases", aliases)
        .list("tags", tags)
        .date("created", &o.stix.created)
        .date("last_modified", &o.stix.modified);
    if let Some(v) = &o.stix.x_mitre_version {
        fm.text("version", v);
    }
    fm.text_opt("url", o.url.as_deref())
        .list("domains", o.domains.clone())
        .text("stix_id", &o.stix.id);
    if o.is_deprecated() {
        fm.boolean("deprecated", true);
    }
    fm
}

/// The kind's tag, and the technique ID's for techniques: other objects'
/// IDs are in `id` and `aliases`, and a tag used by one note groups nothing.
fn base_tags(ix: &Index, id: ObjId) -> Vec<String> {
    let o = ix.kb.get(id);
    let mut t = Vec::new();
    if o.kind == Kind::Technique && !o.attack_id.is_empty() {
        t.push(ix.tags.technique(&o.attack_id));
    }
    t.push(ix.tags.plain(o.kind.tag()));
    t
}

/// Fields common to every object note's context.
fn base_ctx(w: &mut NoteWriter, id: ObjId, dataview: bool) -> Map<String, Value> {
    let kb = w.kb();
    let o = kb.get(id);
    let mut m = Map::new();
    m.insert("id".into(), json!(o.display_id()));
    m.insert("name".into(), json!(o.name()));
    m.insert("title".into(), json!(w.ix.title(id)));
    m.insert("kind".into(), json!(o.kind.name()));
    m.insert("kind_label".into(), json!(o.kind.label()));
    m.insert("url".into(), json!(o.url));
    m.insert("domains".into(), json!(o.domains));
    m.insert("deprecated".into(), json!(o.is_deprecated()));
    m.insert("version".into(), json!(o.stix.x_mitre_version));
    m.insert(
        "created".into(),
        json!(sigma_engine::sigma::rule::iso_date(&o.stix.created)),
    );
    m.insert(
        "modified".into(),
        json!(sigma_engine::sigma::rule::iso_date(&o.stix.modified)),
    );
    m.insert("platforms".into(), json!(o.stix.x_mitre_platforms));
    m.insert("contributors".into(), json!(o.stix.x_mitre_contributors));
    m.insert("dataview".into(), json!(dataview));
    m.insert("home".into(), json!(text::wikilink(HOME_STEM, None)));
    let desc = w.md(&o.stix.description, &o.stix.external_references);
    m.insert("description".into(), json!(desc));
    m
}

/// A row describing a relationship: the other object's links plus the
/// relationship's own description, converted.
fn rel_row(
    w: &mut NoteWriter,
    other: ObjId,
    description: &str,
    refs: &[ExternalReference],
) -> Option<Value> {
    let mut link = w.ix.link(other)?;
    let d = w.md(description, refs);
    link["description"] = json!(d);
    Some(link)
}

/// Rows for relationships, sorted by the other object's ID, one row per object.
fn rel_rows(
    w: &mut NoteWriter,
    mut pairs: Vec<(ObjId, String, Vec<ExternalReference>)>,
) -> Vec<Value> {
    let kb = w.kb();
    pairs.retain(|(o, _, _)| kb.link_target(*o).is_some());
    for p in pairs.iter_mut() {
        p.0 = kb.link_target(p.0).unwrap_or(p.0);
    }
    pairs.sort_by(|a, b| {
        crate::model::attack::id_sort_key(&kb.get(a.0).attack_id)
            .cmp(&crate::model::attack::id_sort_key(&kb.get(b.0).attack_id))
            .then_with(|| a.1.cmp(&b.1))
    });
    pairs.dedup_by(|a, b| a.0 == b.0);
    pairs
        .into_iter()
        .filter_map(|(o, d, r)| rel_row(w, o, &d, &r))
        .collect()
}

fn outgoing_rows(
    w: &mut NoteWriter,
    id: ObjId,
    kind: RelKind,
    target_kinds: &[Kind],
) -> Vec<Value> {
    let kb = w.kb();
    let pairs = kb
        .outgoing(id, &kind)
        .filter(|(_, t)| target_kinds.contains(&kb.get(*t).kind))
        .map(|(r, t)| (t, r.description.clone(), r.refs.clone()))
        .collect();
    rel_rows(w, pairs)
}

fn incoming_rows(
    w: &mut NoteWriter,
    id: ObjId,
    kind: RelKind,
    source_kinds: &[Kind],
) -> Vec<Value> {
    let kb = w.kb();
    let pairs = kb
        .incoming(id, &kind)
        .filter(|(_, s)| source_kinds.contains(&kb.get(*s).kind))
        .map(|(r, s)| (s, r.description.clone(), r.refs.clone()))
        .collect();
    rel_rows(w, pairs)
}

/// Analytics of a detection strategy with their log sources.
fn analytic_rows(w: &mut NoteWriter, strategy: ObjId) -> Vec<Value> {
    let kb = w.kb();
    let mut ids: Vec<ObjId> = kb
        .get(strategy)
        .stix
        .x_mitre_analytic_refs
        .iter()
        .filter_map(|r| kb.by_stix_id(r))
        .filter(|&a| kb.is_included(a))
        .collect();
    kb.sort_by_id(&mut ids);
    ids.dedup();
    ids.into_iter()
        .filter_map(|a| {
            let mut l = w.ix.link(a)?;
            let o = kb.get(a);
            l["platforms"] = json!(o.stix.x_mitre_platforms);
            l["description"] = json!(w.md(&o.stix.description, &o.stix.external_references));
            l["log_sources"] = log_sources(w, a);
            if w.ix.is_folded(a) {
                l["heading"] = json!(w.ix.folded_heading(a));
                l["mutable_elements"] = mutable_elements(a, kb);
            }
            Some(l)
        })
        .collect()
}

fn mutable_elements(analytic: ObjId, kb: &Kb) -> Value {
    kb.get(analytic)
        .stix
        .x_mitre_mutable_elements
        .iter()
        .map(|e| json!({"field": e.field, "description": super::escape::inline(&e.description)}))
        .collect()
}

fn log_sources(w: &NoteWriter, analytic: ObjId) -> Value {
    let kb = w.kb();
    Value::Array(
        kb.get(analytic)
            .stix
            .x_mitre_log_source_references
            .iter()
            .map(|ls| {
                let comp = kb
                    .by_stix_id(&ls.x_mitre_data_component_ref)
                    .and_then(|c| w.ix.link(c));
                json!({"component": comp, "name": ls.name, "channel": ls.channel})
            })
            .collect(),
    )
}

fn finish(w: NoteWriter, mut m: Map<String, Value>, fm: Frontmatter) -> Value {
    m.insert("footnotes".into(), json!(w.notes.into_vec()));
    m.insert("frontmatter".into(), json!(fm.render()));
    Value::Object(m)
}

/// The parent of a sub-technique; a stub sub-technique still names its
/// parent when the parent is known.
fn technique_parent(kb: &Kb, id: ObjId) -> Option<ObjId> {
    let o = kb.get(id);
    match (&o.stub, o.attack_id.split_once('.')) {
        (Some(_), Some((p, _))) => kb.by_attack_id(p).filter(|&p| kb.is_included(p)),
        _ if o.is_subtechnique() => kb.parent_of(id),
        _ => None,
    }
}

/// v18 layout: the detection strategies of a technique, each with its
/// analytics and their data components.
fn strategy_rows(w: &mut NoteWriter, id: ObjId) -> Vec<Value> {
    let (ix, kb) = (w.ix, w.ix.kb);
    let mut strategies: Vec<ObjId> = kb
        .incoming(id, &RelKind::Detects)
        .map(|(_, s)| s)
        .filter(|&s| kb.get(s).kind == Kind::DetectionStrategy && kb.is_included(s))
        .collect();
    kb.sort_by_id(&mut strategies);
    strategies.dedup();
    strategies
        .into_iter()
        .filter_map(|s| {
            let mut l = ix.link(s)?;
            l["analytics"] = json!(analytic_rows(w, s));
            Some(l)
        })
        .collect()
}

/// v17 layout: the data sources a technique names, linked to their
/// component's note where there is one.
fn data_source_rows(ix: &Index, o: &crate::model::attack::Object) -> Vec<Value> {
    o.stix
        .x_mitre_data_sources
        .iter()
        .map(|ds| {
            let link = ix.component_by_label(ds).and_then(|c| ix.link(c));
            let label = match &link {
                Some(l) => {
                    let src = ds.split(':').next().unwrap_or("").trim();
                    format!("{src}: {}", l["link"].as_str().unwrap_or(ds))
                }
                None => super::escape::inline(ds),
            };
            json!({"name": ds, "label": label, "component": link})
        })
        .collect()
}

/// The technique's STIX requirements and properties, as they are.
fn insert_requirements(m: &mut Map<String, Value>, s: &crate::attack::stix::StixObject) {
    m.insert(
        "permissions_required".into(),
        json!(s.x_mitre_permissions_required),
    );
    m.insert(
        "effective_permissions".into(),
        json!(s.x_mitre_effective_permissions),
    );
    m.insert(
        "defenses_bypassed".into(),
        json!(s.x_mitre_defense_bypassed),
    );
    m.insert(
        "system_requirements".into(),
        json!(
            s.x_mitre_system_requirements
                .iter()
                .map(|x| super::escape::inline(x))
                .collect::<Vec<_>>()
        ),
    );
    m.insert("impact_type".into(), json!(s.x_mitre_impact_type));
    m.insert("remote_support".into(), json!(s.x_mitre_remote_support));
    m.insert(
        "network_requirements".into(),
        json!(s.x_mitre_network_requirements),
    );
}

/// Context of a technique or sub-technique note. `extra` lets later stages
/// (rules, tests, coverage) add their tables.
pub fn technique(ix: &Index, id: ObjId, dataview: bool, extra: Map<String, Value>) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let tactics = kb.tactics_of(id);
    let parent = technique_parent(kb, id);
    if let Some(p) = parent {
        m.insert(
            "title".into(),
            json!(format!("{}: {}", kb.get(p).name(), o.name())),
        );
        m.insert("parent".into(), json!(ix.link(p)));
        let siblings: Vec<ObjId> = kb
            .subtechniques_of(p)
            .into_iter()
            .filter(|&s| s != id)
            .collect();
        m.insert("siblings".into(), json!(ix.links(siblings)));
    }
    m.insert("is_subtechnique".into(), json!(o.is_subtechnique()));
    m.insert("stub".into(), json!(o.stub));
    m.insert("tactics".into(), json!(ix.links(tactics.iter().copied())));
    m.insert(
        "subtechniques".into(),
        json!(ix.links(kb.subtechniques_of(id))),
    );
    // The order of these calls is the order of the footnotes they number.
    let actors = [Kind::Group, Kind::Software, Kind::Campaign];
    let procedures = incoming_rows(&mut w, id, RelKind::Uses, &actors);
    m.insert("procedures".into(), json!(procedures));
    let mitigations = incoming_rows(&mut w, id, RelKind::Mitigates, &[Kind::Mitigation]);
    m.insert("mitigations".into(), json!(mitigations));
    m.insert(
        "detection_strategies".into(),
        json!(strategy_rows(&mut w, id)),
    );
    let det = o.stix.x_mitre_detection.clone().unwrap_or_default();
    m.insert(
        "detection_text".into(),
        json!(w.md(&det, &o.stix.external_references)),
    );
    m.insert("data_sources".into(), json!(data_source_rows(ix, o)));
    let detected_by = incoming_rows(&mut w, id, RelKind::Detects, &[Kind::DataComponent]);
    m.insert("detected_by_components".into(), json!(detected_by));
    let targets = outgoing_rows(&mut w, id, RelKind::Targets, &[Kind::Asset]);
    m.insert("assets".into(), json!(targets));
    insert_requirements(&mut m, &o.stix);
    m.extend(extra);
    let fm = technique_frontmatter(ix, id, parent, &m);
    finish(w, m, fm)
}

/// A technique note's properties: its tactics, platforms, parent and
/// coverage counts.
fn technique_frontmatter(
    ix: &Index,
    id: ObjId,
    parent: Option<ObjId>,
    m: &Map<String, Value>,
) -> Frontmatter {
    let kb = ix.kb;
    let o = kb.get(id);
    let tactics = kb.tactics_of(id);
    let mut tags = base_tags(ix, id);
    tags.extend(tactics.iter().map(|&t| tactic_tag(ix, t)));
    let mut aliases = o.id_aliases();
    if let Some(p) = parent {
        aliases.push(format!("{}: {}", kb.get(p).name(), o.name()));
    }
    let mut fm = base_frontmatter(kb, id, tags, aliases);
    let tactic_names: Vec<String> = tactics
        .iter()
        .map(|&t| kb.get(t).name().to_string())
        .collect();
    fm.list("tactics", tactic_names)
        .list("platforms", o.stix.x_mitre_platforms.clone())
        .boolean("is_subtechnique", o.is_subtechnique());
    if let Some(p) = parent.and_then(|p| ix.target_stem(p)) {
        fm.text("parent", text::wikilink(p.1, None));
    }
    if let Some(c) = m.get("coverage") {
        fm.text("coverage", c["status"].as_str().unwrap_or_default())
            .number("rules", c["rules"].as_i64().unwrap_or(0))
            .number("rules_fired", c["fired"].as_i64().unwrap_or(0))
            .number("atomic_tests", c["tests"].as_i64().unwrap_or(0));
    }
    fm
}

/// A group's or campaign's aliases, a software's `x_mitre_aliases`.
fn actor_aliases(o: &crate::model::attack::Object) -> &[String] {
    if o.kind == Kind::Software {
        &o.stix.x_mitre_aliases
    } else {
        &o.stix.aliases
    }
}

/// `tool` or `malware`.
fn software_type(o: &crate::model::attack::Object) -> &'static str {
    if o.stix.kind == "tool" {
        "tool"
    } else {
        "malware"
    }
}

/// Context of a group, software or campaign note.
pub fn actor(ix: &Index, id: ObjId, dataview: bool, extra: Map<String, Value>) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let aliases = actor_aliases(o);
    let alias_rows: Vec<Value> = aliases
        .iter()
        .filter(|a| a.as_str() != o.name())
        .map(|a| {
            let refs = &o.stix.external_references;
            let r = refs.iter().find(|r| &r.source_name == a);
            let d = r.and_then(|r| r.description.clone()).unwrap_or_default();
            json!({"name": a, "description": w.md(&d, refs)})
        })
        .collect();
    m.insert("alias_rows".into(), json!(alias_rows));
    let techniques = outgoing_rows(&mut w, id, RelKind::Uses, &[Kind::Technique]);
    m.insert("techniques".into(), json!(techniques));
    actor_relations(&mut w, &mut m, id);
    m.extend(extra);
    let mut all_aliases = o.id_aliases();
    all_aliases.extend(aliases.iter().filter(|a| a.as_str() != o.name()).cloned());
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), all_aliases);
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    if o.kind == Kind::Software {
        fm.text("software_type", software_type(o));
    }
    if o.kind == Kind::Campaign {
        if let Some(f) = &o.stix.first_seen {
            fm.date("first_seen", f);
        }
        if let Some(l) = &o.stix.last_seen {
            fm.date("last_seen", l);
        }
    }
    finish(w, m, fm)
}

/// A group's software and campaigns, a software's groups and campaigns, a
/// campaign's groups, software and dates.
fn actor_relations(w: &mut NoteWriter, m: &mut Map<String, Value>, id: ObjId) {
    let o = w.ix.kb.get(id);
    match o.kind {
        Kind::Group => {
            let sw = outgoing_rows(w, id, RelKind::Uses, &[Kind::Software]);
            m.insert("software".into(), json!(sw));
            let campaigns = incoming_rows(w, id, RelKind::AttributedTo, &[Kind::Campaign]);
            m.insert("campaigns".into(), json!(campaigns));
        }
        Kind::Software => {
            m.insert("software_type".into(), json!(software_type(o)));
            let groups = incoming_rows(w, id, RelKind::Uses, &[Kind::Group]);
            m.insert("groups".into(), json!(groups));
            let campaigns = incoming_rows(w, id, RelKind::Uses, &[Kind::Campaign]);
            m.insert("campaigns".into(), json!(campaigns));
        }
        Kind::Campaign => {
            let groups = outgoing_rows(w, id, RelKind::AttributedTo, &[Kind::Group]);
            m.insert("groups".into(), json!(groups));
            let sw = outgoing_rows(w, id, RelKind::Uses, &[Kind::Software]);
            m.insert("software".into(), json!(sw));
            campaign_dates(w, m, o);
        }
        _ => {}
    }
}

/// When a campaign was first and last seen, with their citations.
fn campaign_dates(
    w: &mut NoteWriter,
    m: &mut Map<String, Value>,
    o: &crate::model::attack::Object,
) {
    let s = &o.stix;
    let date = |d: &Option<String>| d.as_deref().and_then(sigma_engine::sigma::rule::iso_date);
    m.insert("first_seen".into(), json!(date(&s.first_seen)));
    m.insert("last_seen".into(), json!(date(&s.last_seen)));
    let fc = s.x_mitre_first_seen_citation.clone().unwrap_or_default();
    let lc = s.x_mitre_last_seen_citation.clone().unwrap_or_default();
    m.insert(
        "first_seen_citation".into(),
        json!(w.md(&fc, &s.external_references)),
    );
    m.insert(
        "last_seen_citation".into(),
        json!(w.md(&lc, &s.external_references)),
    );
}

/// Context of a mitigation note.
pub fn mitigation(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let rows = outgoing_rows(&mut w, id, RelKind::Mitigates, &[Kind::Technique]);
    m.insert("techniques".into(), json!(rows));
    let fm = base_frontmatter(kb, id, base_tags(ix, id), kb.get(id).id_aliases());
    finish(w, m, fm)
}

/// Context of a tactic note.
pub fn tactic(ix: &Index, id: ObjId, dataview: bool, extra: Map<String, Value>) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    m.insert("stub".into(), json!(o.stub));
    let rows: Vec<Value> = kb
        .techniques_in_tactic(id)
        .into_iter()
        .filter_map(|t| {
            let mut l = ix.link(t)?;
            let subs = kb.subtechniques_of(t);
            l["subtechnique_count"] = json!(subs.len());
            l["subtechniques"] = json!(ix.links(subs));
            Some(l)
        })
        .collect();
    m.insert("techniques".into(), json!(rows));
    m.insert("shortname".into(), json!(o.stix.x_mitre_shortname));
    for (k, v) in extra {
        m.insert(k, v);
    }
    let mut tags = base_tags(ix, id);
    tags.push(tactic_tag(ix, id));
    let mut fm = base_frontmatter(kb, id, tags, o.id_aliases());
    fm.text_opt("shortname", o.stix.x_mitre_shortname.as_deref());
    finish(w, m, fm)
}

/// Context of a data source note (deprecated in v18, current in v17).
pub fn data_source(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let comps = ix.source_components.get(&id).cloned().unwrap_or_default();
    m.insert("components".into(), json!(ix.links(comps)));
    m.insert(
        "collection_layers".into(),
        json!(o.stix.x_mitre_collection_layers),
    );
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    finish(w, m, fm)
}

/// Techniques reached from analytics through their detection strategies.
fn techniques_via_analytics(ix: &Index, analytics: &[ObjId]) -> Vec<ObjId> {
    let kb = ix.kb;
    let mut out = Vec::new();
    for a in analytics {
        for &s in ix
            .analytic_strategies
            .get(a)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            out.extend(
                kb.outgoing(s, &RelKind::Detects)
                    .map(|(_, t)| t)
                    .filter(|&t| kb.get(t).kind == Kind::Technique),
            );
        }
    }
    kb.sort_by_id(&mut out);
    out.dedup();
    out
}

/// Context of a data component note.
pub fn data_component(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let source = o
        .stix
        .x_mitre_data_source_ref
        .as_deref()
        .and_then(|r| kb.by_stix_id(r));
    m.insert("data_source".into(), json!(source.and_then(|s| ix.link(s))));
    let log_sources: Vec<Value> = o
        .stix
        .x_mitre_log_sources
        .iter()
        .map(|l| json!({"name": l.name, "channel": l.channel}))
        .collect();
    m.insert("log_sources".into(), json!(log_sources));
    let analytics = ix.component_analytics.get(&id).cloned().unwrap_or_default();
    m.insert(
        "analytics".into(),
        json!(ix.links(analytics.iter().copied())),
    );
    // v17: the component `detects` techniques directly, with a description.
    let detects = outgoing_rows(&mut w, id, RelKind::Detects, &[Kind::Technique]);
    m.insert("detects".into(), json!(detects));
    m.insert(
        "techniques".into(),
        json!(ix.links(techniques_via_analytics(ix, &analytics))),
    );
    let fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    finish(w, m, fm)
}

/// Context of a detection strategy note.
pub fn detection_strategy(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let mut techs: Vec<ObjId> = kb
        .outgoing(id, &RelKind::Detects)
        .map(|(_, t)| t)
        .filter(|&t| kb.get(t).kind == Kind::Technique)
        .collect();
    kb.sort_by_id(&mut techs);
    m.insert("techniques".into(), json!(ix.links(techs)));
    let analytics = analytic_rows(&mut w, id);
    let folded = analytics.iter().any(|a| a.get("heading").is_some());
    m.insert("analytics".into(), json!(analytics));
    m.insert("folded".into(), json!(folded));
    let fm = base_frontmatter(kb, id, base_tags(ix, id), kb.get(id).id_aliases());
    finish(w, m, fm)
}

/// Context of an analytic note.
pub fn analytic(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let strategies = ix.analytic_strategies.get(&id).cloned().unwrap_or_default();
    m.insert(
        "strategies".into(),
        json!(ix.links(strategies.iter().copied())),
    );
    m.insert(
        "techniques".into(),
        json!(ix.links(techniques_via_analytics(ix, &[id]))),
    );
    m.insert("log_sources".into(), log_sources(&w, id));
    m.insert("mutable_elements".into(), mutable_elements(id, kb));
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    finish(w, m, fm)
}

/// Context of an ICS asset note.
pub fn asset(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    m.insert("sectors".into(), json!(o.stix.x_mitre_sectors));
    let related: Vec<Value> = o
        .stix
        .x_mitre_related_assets
        .iter()
        .map(|r| {
            json!({"name": r.name, "sectors": r.related_asset_sectors,
                   "description": w.md(&r.description, &o.stix.external_references)})
        })
        .collect();
    m.insert("related_assets".into(), json!(related));
    let techniques = incoming_rows(&mut w, id, RelKind::Targets, &[Kind::Technique]);
    m.insert("techniques".into(), json!(techniques));
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    finish(w, m, fm)
}

/// Context of a matrix note: tactics as columns, techniques under each, with
/// sub-technique counts.
pub fn matrix(ix: &Index, id: ObjId, dataview: bool) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut m = base_ctx(&mut w, id, dataview);
    let tactics = kb.matrix_tactics(id);
    let columns: Vec<Vec<String>> = tactics
        .iter()
        .map(|&t| {
            kb.techniques_in_tactic(t)
                .into_iter()
                .filter_map(|tech| {
                    let l = ix.link(tech)?;
                    let n = kb.subtechniques_of(tech).len();
                    let link = l["link"].as_str().unwrap_or_default().to_string();
                    Some(if n > 0 { format!("{link} ({n})") } else { link })
                })
                .collect()
        })
        .collect();
    let depth = columns.iter().map(Vec::len).max().unwrap_or(0);
    let rows: Vec<Vec<String>> = (0..depth)
        .map(|r| {
            columns
                .iter()
                .map(|c| c.get(r).cloned().unwrap_or_default())
                .collect()
        })
        .collect();
    let header: Vec<Value> = tactics
        .iter()
        .filter_map(|&t| {
            let mut l = ix.link(t)?;
            l["technique_count"] = json!(kb.techniques_in_tactic(t).len());
            Some(l)
        })
        .collect();
    m.insert("tactics".into(), json!(header));
    m.insert("rows".into(), json!(rows));
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("cssclasses", [super::obsidian::WIDE_CLASS]);
    finish(w, m, fm)
}

/// Context of a redirect note for a revoked object.
pub fn revoked(ix: &Index, id: ObjId) -> Value {
    let kb = ix.kb;
    let o = kb.get(id);
    let replacement = kb.replacement(id).and_then(|r| ix.link(r));
    let mut fm = Frontmatter::new();
    fm.text("id", &o.attack_id)
        .text("name", o.name())
        .text("type", o.kind.name())
        .list("aliases", [o.attack_id.clone()])
        .list(
            "tags",
            [ix.tags.plain(o.kind.tag()), ix.tags.plain("revoked")],
        )
        .date("created", &o.stix.created)
        .date("last_modified", &o.stix.modified)
        .boolean("revoked", true);
    if let Some(r) = &replacement {
        fm.text(
            "revoked_by",
            text::wikilink(r["stem"].as_str().unwrap_or_default(), None),
        );
    }
    fm.list("domains", o.domains.clone())
        .text("stix_id", &o.stix.id);
    json!({
        "frontmatter": fm.render(),
        "id": o.attack_id,
        "name": o.name(),
        "kind_label": o.kind.label(),
        "url": o.url,
        "replacement": replacement,
    })
}
