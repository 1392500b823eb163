//! Building the template context of every note: the precomputed tables that
//! Dataview would otherwise compute, with wikilinks, footnotes and properties.

use super::frontmatter::Frontmatter;
use super::index::{HOME_STEM, Index, tactic_tag};
use super::index::{Linked, ObjLink};
use super::note_writer::NoteWriter;
use super::text;
use super::text::Footnote;
use crate::attack::stix::ExternalReference;
use crate::model::kb::{Kb, Kind, ObjId, RelKind};
use serde::Serialize;

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

/// Fields every object note's context has.
#[derive(Serialize)]
pub struct Base {
    pub id: String,
    pub name: String,
    pub title: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub url: Option<String>,
    pub domains: Vec<String>,
    pub deprecated: bool,
    pub version: Option<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
    pub platforms: Vec<String>,
    pub contributors: Vec<String>,
    pub dataview: bool,
    pub home: String,
    pub description: String,
}

/// The context of one ATT&CK object's note: the common fields, what its
/// kind adds, its footnotes and its rendered properties.
#[derive(Serialize)]
pub struct ObjectNote<T> {
    #[serde(flatten)]
    pub base: Base,
    #[serde(flatten)]
    pub body: T,
    pub footnotes: Vec<Footnote>,
    pub frontmatter: String,
}

fn base_ctx(w: &mut NoteWriter, id: ObjId, dataview: bool) -> Base {
    let kb = w.kb();
    let o = kb.get(id);
    let date = |d: &str| sigma_engine::sigma::rule::iso_date(d);
    Base {
        id: o.display_id().to_string(),
        name: o.name().to_string(),
        title: w.ix.title(id),
        kind: o.kind.name(),
        kind_label: o.kind.label(),
        url: o.url.clone(),
        domains: o.domains.clone(),
        deprecated: o.is_deprecated(),
        version: o.stix.x_mitre_version.clone(),
        created: date(&o.stix.created),
        modified: date(&o.stix.modified),
        platforms: o.stix.x_mitre_platforms.clone(),
        contributors: o.stix.x_mitre_contributors.clone(),
        dataview,
        home: text::wikilink(HOME_STEM, None),
        description: w.md(&o.stix.description, &o.stix.external_references),
    }
}

fn finish<T>(w: NoteWriter, base: Base, body: T, fm: Frontmatter) -> ObjectNote<T> {
    ObjectNote {
        base,
        body,
        footnotes: w.notes.into_vec(),
        frontmatter: fm.render(),
    }
}

/// A row of a relationship table: the other object and the relationship's
/// own description, converted; on an actor's techniques, their coverage.
#[derive(Serialize)]
pub struct RelRow {
    #[serde(flatten)]
    pub link: ObjLink,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<super::status::CoverageCell>,
}

fn rel_row(
    w: &mut NoteWriter,
    other: ObjId,
    description: &str,
    refs: &[ExternalReference],
) -> Option<RelRow> {
    let link = w.ix.link(other)?;
    Some(RelRow {
        link,
        description: w.md(description, refs),
        coverage: None,
    })
}

/// Rows for relationships, sorted by the other object's ID, one row per object.
fn rel_rows(
    w: &mut NoteWriter,
    mut pairs: Vec<(ObjId, String, Vec<ExternalReference>)>,
) -> Vec<RelRow> {
    let kb = w.kb();
    pairs.retain(|(o, _, _)| kb.link_target(*o).is_some());
    for p in pairs.iter_mut() {
        p.0 = kb.link_target(p.0).unwrap_or(p.0);
    }
    pairs.sort_by(|a, b| {
        crate::model::kb::id_sort_key(&kb.get(a.0).attack_id)
            .cmp(&crate::model::kb::id_sort_key(&kb.get(b.0).attack_id))
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
) -> Vec<RelRow> {
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
) -> Vec<RelRow> {
    let kb = w.kb();
    let pairs = kb
        .incoming(id, &kind)
        .filter(|(_, s)| source_kinds.contains(&kb.get(*s).kind))
        .map(|(r, s)| (s, r.description.clone(), r.refs.clone()))
        .collect();
    rel_rows(w, pairs)
}

/// An analytic in a detection strategy's table.
#[derive(Serialize)]
pub struct AnalyticRow {
    platforms: Vec<String>,
    description: String,
    log_sources: Vec<LogSourceRow>,
    /// Set when the analytic is folded into the strategy's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    heading: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mutable_elements: Option<Vec<MutableRow>>,
}

#[derive(Serialize)]
pub struct LogSourceRow {
    component: Option<ObjLink>,
    name: String,
    channel: String,
}

#[derive(Serialize)]
pub struct MutableRow {
    field: String,
    description: String,
}

/// Analytics of a detection strategy with their log sources.
fn analytic_rows(w: &mut NoteWriter, strategy: ObjId) -> Vec<Linked<AnalyticRow>> {
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
            let link = w.ix.link(a)?;
            let o = kb.get(a);
            let folded = w.ix.is_folded(a);
            let more = AnalyticRow {
                platforms: o.stix.x_mitre_platforms.clone(),
                description: w.md(&o.stix.description, &o.stix.external_references),
                log_sources: log_sources(w, a),
                heading: folded.then(|| w.ix.folded_heading(a)),
                mutable_elements: folded.then(|| mutable_elements(a, kb)),
            };
            Some(Linked { link, more })
        })
        .collect()
}

fn mutable_elements(analytic: ObjId, kb: &Kb) -> Vec<MutableRow> {
    kb.get(analytic)
        .stix
        .x_mitre_mutable_elements
        .iter()
        .map(|e| MutableRow {
            field: e.field.clone(),
            description: super::escape::inline(&e.description),
        })
        .collect()
}

fn log_sources(w: &NoteWriter, analytic: ObjId) -> Vec<LogSourceRow> {
    let kb = w.kb();
    kb.get(analytic)
        .stix
        .x_mitre_log_source_references
        .iter()
        .map(|ls| LogSourceRow {
            component: kb
                .by_stix_id(&ls.x_mitre_data_component_ref)
                .and_then(|c| w.ix.link(c)),
            name: ls.name.clone(),
            channel: ls.channel.clone(),
        })
        .collect()
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

/// A detection strategy with its analytics, on a technique note.
#[derive(Serialize)]
pub struct StrategyRow {
    analytics: Vec<Linked<AnalyticRow>>,
}

/// v18 layout: the detection strategies of a technique, each with its
/// analytics and their data components.
fn strategy_rows(w: &mut NoteWriter, id: ObjId) -> Vec<Linked<StrategyRow>> {
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
            let link = ix.link(s)?;
            let analytics = analytic_rows(w, s);
            Some(Linked {
                link,
                more: StrategyRow { analytics },
            })
        })
        .collect()
}

/// A v17 data source a technique names.
#[derive(Serialize)]
pub struct DataSourceRow {
    name: String,
    label: String,
    component: Option<ObjLink>,
}

/// v17 layout: the data sources a technique names, linked to their
/// component's note where there is one.
fn data_source_rows(ix: &Index, o: &crate::model::kb::Object) -> Vec<DataSourceRow> {
    o.stix
        .x_mitre_data_sources
        .iter()
        .map(|ds| {
            let component = ix.component_by_label(ds).and_then(|c| ix.link(c));
            let label = match &component {
                Some(l) => {
                    let src = ds.split(':').next().unwrap_or("").trim();
                    format!("{src}: {}", l.link)
                }
                None => super::escape::inline(ds),
            };
            DataSourceRow {
                name: ds.clone(),
                label,
                component,
            }
        })
        .collect()
}

/// The technique's STIX requirements and properties, as they are.
#[derive(Serialize)]
pub struct Requirements {
    permissions_required: Vec<String>,
    effective_permissions: Vec<String>,
    defenses_bypassed: Vec<String>,
    system_requirements: Vec<String>,
    impact_type: Vec<String>,
    remote_support: Option<bool>,
    network_requirements: Option<bool>,
}

impl Requirements {
    fn of(s: &crate::attack::stix::StixObject) -> Self {
        Requirements {
            permissions_required: s.x_mitre_permissions_required.clone(),
            effective_permissions: s.x_mitre_effective_permissions.clone(),
            defenses_bypassed: s.x_mitre_defense_bypassed.clone(),
            system_requirements: s
                .x_mitre_system_requirements
                .iter()
                .map(|x| super::escape::inline(x))
                .collect(),
            impact_type: s.x_mitre_impact_type.clone(),
            remote_support: s.x_mitre_remote_support,
            network_requirements: s.x_mitre_network_requirements,
        }
    }
}

/// What later stages (rules, tests, coverage) add to a technique note.
#[derive(Serialize)]
pub struct TechniqueExtra {
    #[serde(flatten)]
    pub tables: super::detections::TechniqueTables,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<super::status::CoverageCell>,
}

/// What a technique or sub-technique note adds to the common fields.
#[derive(Serialize)]
pub struct Technique {
    #[serde(skip_serializing_if = "Option::is_none")]
    parent: Option<ObjLink>,
    #[serde(skip_serializing_if = "Option::is_none")]
    siblings: Option<Vec<ObjLink>>,
    is_subtechnique: bool,
    stub: Option<String>,
    tactics: Vec<ObjLink>,
    subtechniques: Vec<ObjLink>,
    procedures: Vec<RelRow>,
    mitigations: Vec<RelRow>,
    detection_strategies: Vec<Linked<StrategyRow>>,
    detection_text: String,
    data_sources: Vec<DataSourceRow>,
    detected_by_components: Vec<RelRow>,
    assets: Vec<RelRow>,
    #[serde(flatten)]
    requirements: Requirements,
    #[serde(flatten)]
    extra: TechniqueExtra,
}

/// Context of a technique or sub-technique note.
pub fn technique(
    ix: &Index,
    id: ObjId,
    dataview: bool,
    extra: TechniqueExtra,
) -> ObjectNote<Technique> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let mut base = base_ctx(&mut w, id, dataview);
    let parent = technique_parent(kb, id);
    if let Some(p) = parent {
        base.title = format!("{}: {}", kb.get(p).name(), o.name());
    }
    let siblings =
        parent.map(|p| ix.links(kb.subtechniques_of(p).into_iter().filter(|&s| s != id)));
    // The order of these calls is the order of the footnotes they number.
    let actors = [Kind::Group, Kind::Software, Kind::Campaign];
    let procedures = incoming_rows(&mut w, id, RelKind::Uses, &actors);
    let mitigations = incoming_rows(&mut w, id, RelKind::Mitigates, &[Kind::Mitigation]);
    let detection_strategies = strategy_rows(&mut w, id);
    let det = o.stix.x_mitre_detection.clone().unwrap_or_default();
    let detection_text = w.md(&det, &o.stix.external_references);
    let detected_by_components =
        incoming_rows(&mut w, id, RelKind::Detects, &[Kind::DataComponent]);
    let assets = outgoing_rows(&mut w, id, RelKind::Targets, &[Kind::Asset]);
    let fm = technique_frontmatter(ix, id, parent, extra.coverage.as_ref());
    let body = Technique {
        parent: parent.and_then(|p| ix.link(p)),
        siblings,
        is_subtechnique: o.is_subtechnique(),
        stub: o.stub.clone(),
        tactics: ix.links(kb.tactics_of(id).iter().copied()),
        subtechniques: ix.links(kb.subtechniques_of(id)),
        procedures,
        mitigations,
        detection_strategies,
        detection_text,
        data_sources: data_source_rows(ix, o),
        detected_by_components,
        assets,
        requirements: Requirements::of(&o.stix),
        extra,
    };
    finish(w, base, body, fm)
}

/// A technique note's properties: its tactics, platforms, parent and
/// coverage counts.
fn technique_frontmatter(
    ix: &Index,
    id: ObjId,
    parent: Option<ObjId>,
    coverage: Option<&super::status::CoverageCell>,
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
        fm.link("parent", p.1);
    }
    if let Some(c) = coverage {
        fm.text("coverage", c.status)
            .number("rules", c.rules as i64)
            .number("rules_fired", c.fired as i64)
            .number("atomic_tests", c.tests as i64);
    }
    fm
}

/// A group's or campaign's aliases, a software's `x_mitre_aliases`.
fn actor_aliases(o: &crate::model::kb::Object) -> &[String] {
    if o.kind == Kind::Software {
        &o.stix.x_mitre_aliases
    } else {
        &o.stix.aliases
    }
}

/// `tool` or `malware`.
fn software_type(o: &crate::model::kb::Object) -> &'static str {
    if o.stix.kind == "tool" {
        "tool"
    } else {
        "malware"
    }
}

/// A name and its converted description.
#[derive(Serialize)]
pub struct NamedText {
    name: String,
    description: String,
}

/// What a group, software or campaign note adds to the common fields.
#[derive(Serialize)]
pub struct Actor {
    alias_rows: Vec<NamedText>,
    pub techniques: Vec<RelRow>,
    #[serde(flatten)]
    relations: ActorRelations,
    rules: Vec<super::detections::RuleRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_summary: Option<String>,
}

/// Context of a group, software or campaign note.
pub fn actor(
    ix: &Index,
    id: ObjId,
    dataview: bool,
    rules: Vec<super::detections::RuleRow>,
) -> ObjectNote<Actor> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let aliases = actor_aliases(o);
    let alias_rows: Vec<NamedText> = aliases
        .iter()
        .filter(|a| a.as_str() != o.name())
        .map(|a| {
            let refs = &o.stix.external_references;
            let r = refs.iter().find(|r| &r.source_name == a);
            let d = r.and_then(|r| r.description.clone()).unwrap_or_default();
            NamedText {
                name: a.clone(),
                description: w.md(&d, refs),
            }
        })
        .collect();
    let techniques = outgoing_rows(&mut w, id, RelKind::Uses, &[Kind::Technique]);
    let relations = actor_relations(&mut w, id);
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
    let body = Actor {
        alias_rows,
        techniques,
        relations,
        rules,
        coverage_summary: None,
    };
    finish(w, base, body, fm)
}

/// A group's software and campaigns, a software's groups and campaigns, a
/// campaign's groups, software and dates.
#[derive(Serialize, Default)]
pub struct ActorRelations {
    #[serde(skip_serializing_if = "Option::is_none")]
    software: Option<Vec<RelRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    campaigns: Option<Vec<RelRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    groups: Option<Vec<RelRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    software_type: Option<&'static str>,
    #[serde(flatten)]
    dates: Option<CampaignDates>,
}

fn actor_relations(w: &mut NoteWriter, id: ObjId) -> ActorRelations {
    let o = w.ix.kb.get(id);
    let mut r = ActorRelations::default();
    match o.kind {
        Kind::Group => {
            r.software = Some(outgoing_rows(w, id, RelKind::Uses, &[Kind::Software]));
            r.campaigns = Some(incoming_rows(
                w,
                id,
                RelKind::AttributedTo,
                &[Kind::Campaign],
            ));
        }
        Kind::Software => {
            r.software_type = Some(software_type(o));
            r.groups = Some(incoming_rows(w, id, RelKind::Uses, &[Kind::Group]));
            r.campaigns = Some(incoming_rows(w, id, RelKind::Uses, &[Kind::Campaign]));
        }
        Kind::Campaign => {
            r.groups = Some(outgoing_rows(w, id, RelKind::AttributedTo, &[Kind::Group]));
            r.software = Some(outgoing_rows(w, id, RelKind::Uses, &[Kind::Software]));
            r.dates = Some(campaign_dates(w, o));
        }
        _ => {}
    }
    r
}

/// When a campaign was first and last seen, with their citations.
#[derive(Serialize)]
pub struct CampaignDates {
    first_seen: Option<String>,
    last_seen: Option<String>,
    first_seen_citation: String,
    last_seen_citation: String,
}

fn campaign_dates(w: &mut NoteWriter, o: &crate::model::kb::Object) -> CampaignDates {
    let s = &o.stix;
    let date = |d: &Option<String>| d.as_deref().and_then(sigma_engine::sigma::rule::iso_date);
    let fc = s.x_mitre_first_seen_citation.clone().unwrap_or_default();
    let lc = s.x_mitre_last_seen_citation.clone().unwrap_or_default();
    CampaignDates {
        first_seen: date(&s.first_seen),
        last_seen: date(&s.last_seen),
        first_seen_citation: w.md(&fc, &s.external_references),
        last_seen_citation: w.md(&lc, &s.external_references),
    }
}

/// Relationship rows under one key: a mitigation's or an asset's
/// techniques.
#[derive(Serialize)]
pub struct Techniques<T> {
    techniques: Vec<T>,
}

/// Context of a mitigation note.
pub fn mitigation(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<Techniques<RelRow>> {
    let kb = ix.kb;
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let techniques = outgoing_rows(&mut w, id, RelKind::Mitigates, &[Kind::Technique]);
    let fm = base_frontmatter(kb, id, base_tags(ix, id), kb.get(id).id_aliases());
    finish(w, base, Techniques { techniques }, fm)
}

/// A technique under a tactic, with its sub-techniques.
#[derive(Serialize)]
pub struct TacticTechnique {
    subtechnique_count: usize,
    subtechniques: Vec<ObjLink>,
}

/// What a tactic note adds to the common fields.
#[derive(Serialize)]
pub struct Tactic {
    stub: Option<String>,
    techniques: Vec<Linked<TacticTechnique>>,
    shortname: Option<String>,
    rules: Vec<super::detections::RuleRow>,
}

/// Context of a tactic note.
pub fn tactic(
    ix: &Index,
    id: ObjId,
    dataview: bool,
    rules: Vec<super::detections::RuleRow>,
) -> ObjectNote<Tactic> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let techniques = kb
        .techniques_in_tactic(id)
        .into_iter()
        .filter_map(|t| {
            let link = ix.link(t)?;
            let subs = kb.subtechniques_of(t);
            let more = TacticTechnique {
                subtechnique_count: subs.len(),
                subtechniques: ix.links(subs),
            };
            Some(Linked { link, more })
        })
        .collect();
    let mut tags = base_tags(ix, id);
    tags.push(tactic_tag(ix, id));
    let mut fm = base_frontmatter(kb, id, tags, o.id_aliases());
    fm.text_opt("shortname", o.stix.x_mitre_shortname.as_deref());
    let body = Tactic {
        stub: o.stub.clone(),
        techniques,
        shortname: o.stix.x_mitre_shortname.clone(),
        rules,
    };
    finish(w, base, body, fm)
}

/// What a data source note adds to the common fields.
#[derive(Serialize)]
pub struct DataSource {
    components: Vec<ObjLink>,
    collection_layers: Vec<String>,
}

/// Context of a data source note (deprecated in v18, current in v17).
pub fn data_source(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<DataSource> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let comps = ix.source_components.get(&id).cloned().unwrap_or_default();
    let body = DataSource {
        components: ix.links(comps),
        collection_layers: o.stix.x_mitre_collection_layers.clone(),
    };
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    finish(w, base, body, fm)
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

#[derive(Serialize)]
pub struct ChannelRow {
    name: String,
    channel: String,
}

/// What a data component note adds to the common fields.
#[derive(Serialize)]
pub struct DataComponent {
    data_source: Option<ObjLink>,
    log_sources: Vec<ChannelRow>,
    analytics: Vec<ObjLink>,
    /// v17: the techniques the component `detects` directly.
    detects: Vec<RelRow>,
    techniques: Vec<ObjLink>,
}

/// Context of a data component note.
pub fn data_component(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<DataComponent> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let source = o
        .stix
        .x_mitre_data_source_ref
        .as_deref()
        .and_then(|r| kb.by_stix_id(r));
    let log_sources = o
        .stix
        .x_mitre_log_sources
        .iter()
        .map(|l| ChannelRow {
            name: l.name.clone(),
            channel: l.channel.clone(),
        })
        .collect();
    let analytics = ix.component_analytics.get(&id).cloned().unwrap_or_default();
    let body = DataComponent {
        data_source: source.and_then(|s| ix.link(s)),
        log_sources,
        analytics: ix.links(analytics.iter().copied()),
        detects: outgoing_rows(&mut w, id, RelKind::Detects, &[Kind::Technique]),
        techniques: ix.links(techniques_via_analytics(ix, &analytics)),
    };
    let fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    finish(w, base, body, fm)
}

/// What a detection strategy note adds to the common fields.
#[derive(Serialize)]
pub struct DetectionStrategy {
    techniques: Vec<ObjLink>,
    analytics: Vec<Linked<AnalyticRow>>,
    /// Whether its analytics are folded into this note.
    folded: bool,
}

/// Context of a detection strategy note.
pub fn detection_strategy(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<DetectionStrategy> {
    let kb = ix.kb;
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let mut techs: Vec<ObjId> = kb
        .outgoing(id, &RelKind::Detects)
        .map(|(_, t)| t)
        .filter(|&t| kb.get(t).kind == Kind::Technique)
        .collect();
    kb.sort_by_id(&mut techs);
    let analytics = analytic_rows(&mut w, id);
    let body = DetectionStrategy {
        techniques: ix.links(techs),
        folded: analytics.iter().any(|a| a.more.heading.is_some()),
        analytics,
    };
    let fm = base_frontmatter(kb, id, base_tags(ix, id), kb.get(id).id_aliases());
    finish(w, base, body, fm)
}

/// What an analytic note adds to the common fields.
#[derive(Serialize)]
pub struct Analytic {
    strategies: Vec<ObjLink>,
    techniques: Vec<ObjLink>,
    log_sources: Vec<LogSourceRow>,
    mutable_elements: Vec<MutableRow>,
}

/// Context of an analytic note.
pub fn analytic(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<Analytic> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let strategies = ix.analytic_strategies.get(&id).cloned().unwrap_or_default();
    let body = Analytic {
        strategies: ix.links(strategies.iter().copied()),
        techniques: ix.links(techniques_via_analytics(ix, &[id])),
        log_sources: log_sources(&w, id),
        mutable_elements: mutable_elements(id, kb),
    };
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    finish(w, base, body, fm)
}

#[derive(Serialize)]
pub struct RelatedAssetRow {
    name: String,
    sectors: Vec<String>,
    description: String,
}

/// What an ICS asset note adds to the common fields.
#[derive(Serialize)]
pub struct Asset {
    sectors: Vec<String>,
    related_assets: Vec<RelatedAssetRow>,
    techniques: Vec<RelRow>,
}

/// Context of an ICS asset note.
pub fn asset(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<Asset> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let related_assets = o
        .stix
        .x_mitre_related_assets
        .iter()
        .map(|r| RelatedAssetRow {
            name: r.name.clone(),
            sectors: r.related_asset_sectors.clone(),
            description: w.md(&r.description, &o.stix.external_references),
        })
        .collect();
    let body = Asset {
        sectors: o.stix.x_mitre_sectors.clone(),
        related_assets,
        techniques: incoming_rows(&mut w, id, RelKind::Targets, &[Kind::Technique]),
    };
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    fm.list("platforms", o.stix.x_mitre_platforms.clone());
    finish(w, base, body, fm)
}

#[derive(Serialize)]
pub struct MatrixTactic {
    technique_count: usize,
}

/// What a matrix note adds: tactics as columns, techniques under each.
#[derive(Serialize)]
pub struct Matrix {
    tactics: Vec<Linked<MatrixTactic>>,
    rows: Vec<Vec<String>>,
}

/// Context of a matrix note: tactics as columns, techniques under each, with
/// sub-technique counts.
pub fn matrix(ix: &Index, id: ObjId, dataview: bool) -> ObjectNote<Matrix> {
    let kb = ix.kb;
    let o = kb.get(id);
    let mut w = NoteWriter::new(ix);
    let base = base_ctx(&mut w, id, dataview);
    let tactics = kb.matrix_tactics(id);
    let columns: Vec<Vec<String>> = tactics
        .iter()
        .map(|&t| {
            kb.techniques_in_tactic(t)
                .into_iter()
                .filter_map(|tech| {
                    let link = ix.link(tech)?.link;
                    let n = kb.subtechniques_of(tech).len();
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
    let header = tactics
        .iter()
        .filter_map(|&t| {
            let more = MatrixTactic {
                technique_count: kb.techniques_in_tactic(t).len(),
            };
            Some(Linked {
                link: ix.link(t)?,
                more,
            })
        })
        .collect();
    let mut fm = base_frontmatter(kb, id, base_tags(ix, id), o.id_aliases());
    // The ATT&CK release the vault follows (the Navigator layers name it).
    if let Some(release) = o.domains.iter().find_map(|d| kb.releases.get(d)) {
        fm.text("release", release);
    }
    fm.list("cssclasses", [super::layout::WIDE_CLASS]);
    let body = Matrix {
        tactics: header,
        rows,
    };
    finish(w, base, body, fm)
}

/// Context of a redirect note for a revoked object.
#[derive(Serialize)]
pub struct Revoked {
    frontmatter: String,
    id: String,
    name: String,
    kind_label: &'static str,
    url: Option<String>,
    replacement: Option<ObjLink>,
}

/// Context of a redirect note for a revoked object.
pub fn revoked(ix: &Index, id: ObjId) -> Revoked {
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
        fm.link("revoked_by", &r.stem);
    }
    fm.list("domains", o.domains.clone())
        .text("stix_id", &o.stix.id);
    Revoked {
        frontmatter: fm.render(),
        id: o.attack_id.clone(),
        name: o.name().to_string(),
        kind_label: o.kind.label(),
        url: o.url.clone(),
        replacement,
    }
}
