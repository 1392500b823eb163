//! The linked ATT&CK knowledge base: every object of every loaded bundle, merged
//! by STIX id, with indexes for the relationships the vault renders. Built once,
//! so that no query ever scans the whole bundle.

use crate::attack::Bundle;
use crate::attack::stix::{ExternalReference, StixObject};
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::collections::{BTreeMap, HashMap};

/// Index of an object in [`Kb::objects`].
pub type ObjId = usize;

/// The kinds of ATT&CK object that become notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Matrix,
    Tactic,
    Technique,
    Group,
    Software,
    Campaign,
    Mitigation,
    DataSource,
    DataComponent,
    DetectionStrategy,
    Analytic,
    Asset,
}

impl Kind {
    /// All kinds, in the order the vault lists them.
    pub const ALL: [Kind; 12] = [
        Kind::Matrix,
        Kind::Tactic,
        Kind::Technique,
        Kind::Group,
        Kind::Software,
        Kind::Campaign,
        Kind::Mitigation,
        Kind::DataSource,
        Kind::DataComponent,
        Kind::DetectionStrategy,
        Kind::Analytic,
        Kind::Asset,
    ];

    /// The kind of a STIX object type, or `None` for types that are not notes.
    pub fn from_stix(t: &str) -> Option<Kind> {
        Some(match t {
            "x-mitre-matrix" => Kind::Matrix,
            "x-mitre-tactic" => Kind::Tactic,
            "attack-pattern" => Kind::Technique,
            "intrusion-set" => Kind::Group,
            "malware" | "tool" => Kind::Software,
            "campaign" => Kind::Campaign,
            "course-of-action" => Kind::Mitigation,
            "x-mitre-data-source" => Kind::DataSource,
            "x-mitre-data-component" => Kind::DataComponent,
            "x-mitre-detection-strategy" => Kind::DetectionStrategy,
            "x-mitre-analytic" => Kind::Analytic,
            "x-mitre-asset" => Kind::Asset,
            _ => return None,
        })
    }

    /// The vault folder that holds notes of this kind.
    pub fn folder(self) -> &'static str {
        match self {
            Kind::Matrix => "Matrices",
            Kind::Tactic => "Tactics",
            Kind::Technique => "Techniques",
            Kind::Group => "Groups",
            Kind::Software => "Software",
            Kind::Campaign => "Campaigns",
            Kind::Mitigation => "Mitigations",
            Kind::DataSource => "Data Sources",
            Kind::DataComponent => "Data Components",
            Kind::DetectionStrategy => "Detection Strategies",
            Kind::Analytic => "Analytics",
            Kind::Asset => "Assets",
        }
    }

    /// The `type` property and template name of this kind.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Matrix => "matrix",
            Kind::Tactic => "tactic",
            Kind::Technique => "technique",
            Kind::Group => "group",
            Kind::Software => "software",
            Kind::Campaign => "campaign",
            Kind::Mitigation => "mitigation",
            Kind::DataSource => "data_source",
            Kind::DataComponent => "data_component",
            Kind::DetectionStrategy => "detection_strategy",
            Kind::Analytic => "analytic",
            Kind::Asset => "asset",
        }
    }

    /// The kind's tag, plural as in the seed note (`techniques`).
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Matrix => "matrices",
            Kind::Tactic => "tactics",
            Kind::Technique => "techniques",
            Kind::Group => "groups",
            Kind::Software => "software",
            Kind::Campaign => "campaigns",
            Kind::Mitigation => "mitigations",
            Kind::DataSource => "data_sources",
            Kind::DataComponent => "data_components",
            Kind::DetectionStrategy => "detection_strategies",
            Kind::Analytic => "analytics",
            Kind::Asset => "assets",
        }
    }

    /// Human label, singular.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Matrix => "Matrix",
            Kind::Tactic => "Tactic",
            Kind::Technique => "Technique",
            Kind::Group => "Group",
            Kind::Software => "Software",
            Kind::Campaign => "Campaign",
            Kind::Mitigation => "Mitigation",
            Kind::DataSource => "Data Source",
            Kind::DataComponent => "Data Component",
            Kind::DetectionStrategy => "Detection Strategy",
            Kind::Analytic => "Analytic",
            Kind::Asset => "Asset",
        }
    }
}

/// Relationship types that ATT&CK uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelKind {
    Uses,
    Mitigates,
    Detects,
    SubtechniqueOf,
    RevokedBy,
    AttributedTo,
    Targets,
    Other(String),
}

impl RelKind {
    fn parse(s: &str) -> RelKind {
        match s {
            "uses" => RelKind::Uses,
            "mitigates" => RelKind::Mitigates,
            "detects" => RelKind::Detects,
            "subtechnique-of" => RelKind::SubtechniqueOf,
            "revoked-by" => RelKind::RevokedBy,
            "attributed-to" => RelKind::AttributedTo,
            "targets" => RelKind::Targets,
            other => RelKind::Other(other.to_string()),
        }
    }
}

/// One ATT&CK object.
#[derive(Debug, Clone)]
pub struct Object {
    pub kind: Kind,
    /// ATT&CK ID (`T1059.006`, `G0016`, ...); empty for the few objects that
    /// have none (data components before v18).
    pub attack_id: String,
    pub url: Option<String>,
    /// Domains the object belongs to, sorted.
    pub domains: Vec<String>,
    pub stix: StixObject,
    /// For a stub technique (an ID that rules or tests name but the loaded
    /// ATT&CK data lacks): why it is a stub.
    pub stub: Option<String>,
}

impl Object {
    pub fn name(&self) -> &str {
        &self.stix.name
    }
    pub fn is_revoked(&self) -> bool {
        self.stix.revoked
    }
    pub fn is_deprecated(&self) -> bool {
        self.stix.x_mitre_deprecated
    }
    /// The ID when there is one, else the name: what tables show in the ID column.
    pub fn display_id(&self) -> &str {
        if self.attack_id.is_empty() {
            self.name()
        } else {
            &self.attack_id
        }
    }

    /// `[ID]`, or nothing for objects without an ID: the start of `aliases`.
    pub fn id_aliases(&self) -> Vec<String> {
        if self.attack_id.is_empty() {
            Vec::new()
        } else {
            vec![self.attack_id.clone()]
        }
    }

    pub fn is_subtechnique(&self) -> bool {
        self.kind == Kind::Technique && self.stix.x_mitre_is_subtechnique
    }
}

/// One relationship between two loaded objects.
#[derive(Debug, Clone)]
pub struct Relation {
    pub kind: RelKind,
    pub source: ObjId,
    pub target: ObjId,
    pub description: String,
    pub refs: Vec<ExternalReference>,
}

/// Options that decide which objects become full notes.
#[derive(Debug, Clone, Copy, Default)]
pub struct KbOptions {
    /// Keep deprecated objects (marked `deprecated: true`) instead of leaving them out.
    pub include_deprecated: bool,
}

/// The merged, indexed ATT&CK data.
#[derive(Debug, Default)]
pub struct Kb {
    pub objects: Vec<Object>,
    pub relations: Vec<Relation>,
    /// Domains loaded, in load order.
    pub domains: Vec<String>,
    /// Domain → the ATT&CK release its bundle names, where it names one.
    pub releases: BTreeMap<String, String>,
    pub options: KbOptions,
    by_stix: HashMap<String, ObjId>,
    by_attack_id: HashMap<String, Vec<ObjId>>,
    outgoing: Vec<Vec<usize>>,
    incoming: Vec<Vec<usize>>,
    revoked_by: HashMap<ObjId, ObjId>,
    tactic_by_phase: HashMap<(String, String), ObjId>,
    citations: HashMap<String, ExternalReference>,
}

/// The number of a technique ID (`T1059.001` → 1059).
pub fn technique_number(id: &str) -> Option<u32> {
    id.strip_prefix(['T', 't'])?.split('.').next()?.parse().ok()
}

/// The domain whose techniques Sigma rules and Atomic Red Team tests name.
pub const ENTERPRISE: &str = "enterprise-attack";

/// The domain that a kill chain name belongs to.
pub fn kill_chain_domain(kill_chain_name: &str) -> &str {
    match kill_chain_name {
        "mitre-attack" => ENTERPRISE,
        "mitre-mobile-attack" => "mobile-attack",
        "mitre-ics-attack" => "ics-attack",
        other => other,
    }
}

/// Relationships by STIX id: the newest version and the file it came from.
type RawRelations = BTreeMap<String, (StixObject, String)>;

impl Kb {
    /// Merge bundles into one knowledge base. Objects present in several bundles
    /// (same STIX id) are merged: the newest version wins, domains are unioned.
    pub fn build(bundles: Vec<Bundle>, options: KbOptions, diags: &Diagnostics) -> Kb {
        let mut kb = Kb {
            options,
            ..Default::default()
        };
        let relations = kb.add_bundles(bundles, diags);
        kb.objects.shrink_to_fit();
        kb.index(diags);
        kb.add_relations(relations, diags);
        kb
    }

    /// Adds the objects of every bundle (the newest version of an object
    /// seen in several) and returns the relationships, newest version of
    /// each, with the file they came from.
    fn add_bundles(&mut self, bundles: Vec<Bundle>, diags: &Diagnostics) -> RawRelations {
        let mut relations = RawRelations::new();
        let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
        for bundle in bundles {
            if !self.domains.contains(&bundle.domain) {
                self.domains.push(bundle.domain.clone());
            }
            if let Some(r) = &bundle.release {
                self.releases.insert(bundle.domain.clone(), r.clone());
            }
            for o in bundle.objects {
                if o.kind == "relationship" {
                    match relations.get(&o.id) {
                        Some((old, _)) if old.modified >= o.modified => {}
                        _ => {
                            relations.insert(o.id.clone(), (o, bundle.source.clone()));
                        }
                    }
                    continue;
                }
                match Kind::from_stix(&o.kind) {
                    Some(kind) => self.add_object(o, kind, &bundle.domain),
                    None if matches!(
                        o.kind.as_str(),
                        "identity" | "marking-definition" | "x-mitre-collection"
                    ) => {}
                    None => *unknown.entry(o.kind.clone()).or_default() += 1,
                }
            }
        }
        for (t, n) in unknown {
            diags.push(Diagnostic::warning(
                "attack",
                format!("{n} object(s) of unknown type `{t}` ignored"),
            ));
        }
        relations
    }

    fn add_object(&mut self, o: StixObject, kind: Kind, domain: &str) {
        for r in &o.external_references {
            if r.description.is_some() || r.url.is_some() {
                self.citations
                    .entry(r.source_name.clone())
                    .or_insert_with(|| r.clone());
            }
        }
        let mut domains = o.x_mitre_domains.clone();
        if domains.is_empty() {
            domains.push(domain.to_string());
        }
        if let Some(&idx) = self.by_stix.get(&o.id) {
            let existing = &mut self.objects[idx];
            existing.domains.extend(domains);
            existing.domains.sort();
            existing.domains.dedup();
            if o.modified > existing.stix.modified {
                let (id, url) = ids_of(&o);
                existing.attack_id = id;
                existing.url = url;
                existing.stix = o;
            }
            return;
        }
        let (attack_id, url) = ids_of(&o);
        domains.sort();
        domains.dedup();
        self.by_stix.insert(o.id.clone(), self.objects.len());
        self.objects.push(Object {
            kind,
            attack_id,
            url,
            domains,
            stix: o,
            stub: None,
        });
    }

    /// The lookups by ATT&CK ID and by (domain, tactic short name).
    fn index(&mut self, diags: &Diagnostics) {
        for (i, o) in self.objects.iter().enumerate() {
            if o.attack_id.is_empty() {
                continue;
            }
            self.by_attack_id
                .entry(o.attack_id.to_ascii_uppercase())
                .or_default()
                .push(i);
            if o.kind == Kind::Tactic
                && let Some(short) = &o.stix.x_mitre_shortname
            {
                for d in &o.domains {
                    self.tactic_by_phase.insert((d.clone(), short.clone()), i);
                }
            }
        }
        // Several objects may share an ATT&CK ID (e.g. a revoked and an active
        // one); the lookup prefers active objects, then the newest.
        let objects = &self.objects;
        for ids in self.by_attack_id.values_mut() {
            ids.sort_by_key(|&i| {
                let o = &objects[i];
                (
                    o.is_revoked(),
                    o.is_deprecated(),
                    std::cmp::Reverse(o.stix.modified.clone()),
                )
            });
        }
        self.warn_shared_ids(diags);
    }

    /// Two live objects under one ATT&CK ID: rules and links naming the ID
    /// reach only the first. (Deprecated ones may share it: ATT&CK's old
    /// mitigations carry their technique's ID.)
    fn warn_shared_ids(&self, diags: &Diagnostics) {
        for (id, objects) in &self.by_attack_id {
            let live: Vec<&str> = objects
                .iter()
                .filter(|&&i| !self.objects[i].is_revoked() && !self.objects[i].is_deprecated())
                .map(|&i| self.objects[i].stix.id.as_str())
                .collect();
            if let [first, rest @ ..] = live.as_slice()
                && !rest.is_empty()
            {
                let msg = format!(
                    "{id} names {} objects ({}): rules and links naming it reach only {first}",
                    live.len(),
                    live.join(", ")
                );
                diags.push(Diagnostic::warning("attack", msg));
            }
        }
    }

    /// Adds the live relationships between loaded objects; the first 20
    /// that name a missing object are reported one by one, the rest counted.
    fn add_relations(&mut self, relations: RawRelations, diags: &Diagnostics) {
        self.outgoing = vec![Vec::new(); self.objects.len()];
        self.incoming = vec![Vec::new(); self.objects.len()];
        let mut missing = 0usize;
        for (id, (r, source)) in relations {
            if r.revoked || r.x_mitre_deprecated {
                continue;
            }
            let (Some(&s), Some(&t)) = (
                self.by_stix.get(&r.source_ref),
                self.by_stix.get(&r.target_ref),
            ) else {
                missing += 1;
                if missing <= 20 {
                    let which = if self.by_stix.contains_key(&r.source_ref) {
                        &r.target_ref
                    } else {
                        &r.source_ref
                    };
                    diags.push(
                        Diagnostic::warning(
                            "attack",
                            format!("relationship {id} refers to missing object {which}; ignored"),
                        )
                        .in_file(&source),
                    );
                }
                continue;
            };
            let kind = RelKind::parse(&r.relationship_type);
            if let Some(why) = self.malformed(&kind, s, t) {
                let msg = format!("relationship {id} ({}) {why}; ignored", r.relationship_type);
                diags.push(Diagnostic::warning("attack", msg).in_file(&source));
                continue;
            }
            if kind == RelKind::RevokedBy {
                self.revoked_by.insert(s, t);
            }
            let idx = self.relations.len();
            self.relations.push(Relation {
                kind,
                source: s,
                target: t,
                description: r.description,
                refs: r.external_references,
            });
            self.outgoing[s].push(idx);
            self.incoming[t].push(idx);
        }
        if missing > 20 {
            diags.push(Diagnostic::warning(
                "attack",
                format!(
                    "{} more relationships refer to missing objects",
                    missing - 20
                ),
            ));
        }
    }

    /// Why a relationship between two loaded objects cannot hold: one
    /// that joins an object to itself, or a `subtechnique-of` that is not
    /// from a sub-technique to a technique (either would make a technique
    /// its own sub-technique, or a parent of its parent).
    fn malformed(&self, kind: &RelKind, s: ObjId, t: ObjId) -> Option<&'static str> {
        let (source, target) = (&self.objects[s], &self.objects[t]);
        if s == t {
            return Some("joins an object to itself");
        }
        let technique = |o: &Object| o.kind == Kind::Technique;
        let parent_ok = technique(target) && !target.is_subtechnique();
        match kind {
            RelKind::SubtechniqueOf if !(source.is_subtechnique() && parent_ok) => {
                Some("is not from a sub-technique to a technique")
            }
            _ => None,
        }
    }

    /// Whether the object gets a full note.
    pub fn is_included(&self, id: ObjId) -> bool {
        let o = &self.objects[id];
        !o.is_revoked() && (!o.is_deprecated() || self.options.include_deprecated)
    }

    /// Whether the object gets a redirect note (it was revoked).
    pub fn is_redirect(&self, id: ObjId) -> bool {
        self.objects[id].is_revoked()
    }

    /// The object a link to `id` should point at: itself when included, the
    /// object that revoked it (followed to the end of the chain) when revoked,
    /// `None` when it is left out of the vault.
    pub fn link_target(&self, id: ObjId) -> Option<ObjId> {
        let mut cur = id;
        for _ in 0..32 {
            if self.is_included(cur) {
                return Some(cur);
            }
            match self.revoked_by.get(&cur) {
                Some(&next) => cur = next,
                None => return None,
            }
        }
        None
    }

    /// Where a revoked object's redirect note points.
    pub fn replacement(&self, id: ObjId) -> Option<ObjId> {
        self.revoked_by.get(&id).and_then(|&n| self.link_target(n))
    }

    pub fn get(&self, id: ObjId) -> &Object {
        &self.objects[id]
    }

    pub fn by_stix_id(&self, stix_id: &str) -> Option<ObjId> {
        self.by_stix.get(stix_id).copied()
    }

    /// Look an object up by ATT&CK ID (case-insensitive), preferring active ones.
    pub fn by_attack_id(&self, attack_id: &str) -> Option<ObjId> {
        self.by_attack_id
            .get(&attack_id.to_ascii_uppercase())
            .and_then(|v| v.first().copied())
    }

    /// Relationships of `kind` leaving `id`, as (relation, target).
    pub fn outgoing<'a>(
        &'a self,
        id: ObjId,
        kind: &'a RelKind,
    ) -> impl Iterator<Item = (&'a Relation, ObjId)> + 'a {
        self.outgoing[id]
            .iter()
            .map(|&r| &self.relations[r])
            .filter(move |r| &r.kind == kind)
            .map(|r| (r, r.target))
    }

    /// Relationships of `kind` arriving at `id`, as (relation, source).
    pub fn incoming<'a>(
        &'a self,
        id: ObjId,
        kind: &'a RelKind,
    ) -> impl Iterator<Item = (&'a Relation, ObjId)> + 'a {
        self.incoming[id]
            .iter()
            .map(|&r| &self.relations[r])
            .filter(move |r| &r.kind == kind)
            .map(|r| (r, r.source))
    }

    /// The tactics a technique belongs to, in kill-chain order of its phases.
    pub fn tactics_of(&self, id: ObjId) -> Vec<ObjId> {
        let mut out = Vec::new();
        for p in &self.objects[id].stix.kill_chain_phases {
            let domain = kill_chain_domain(&p.kill_chain_name).to_string();
            if let Some(&t) = self.tactic_by_phase.get(&(domain, p.phase_name.clone()))
                && !out.contains(&t)
            {
                out.push(t);
            }
        }
        out
    }

    /// The parent of a sub-technique.
    pub fn parent_of(&self, id: ObjId) -> Option<ObjId> {
        self.outgoing(id, &RelKind::SubtechniqueOf)
            .map(|(_, t)| t)
            .find(|&t| self.is_included(t))
    }

    /// The included sub-techniques of a technique, sorted by ID.
    pub fn subtechniques_of(&self, id: ObjId) -> Vec<ObjId> {
        let mut v: Vec<ObjId> = self
            .incoming(id, &RelKind::SubtechniqueOf)
            .map(|(_, s)| s)
            .filter(|&s| self.is_included(s))
            .collect();
        self.sort_by_id(&mut v);
        v.dedup();
        v
    }

    /// A citation by its `source_name`, from any loaded object.
    pub fn citation(&self, name: &str) -> Option<&ExternalReference> {
        self.citations.get(name)
    }

    /// Sort object ids by ATT&CK ID with numeric awareness (T1059.006 < T1059.010).
    pub fn sort_by_id(&self, ids: &mut [ObjId]) {
        ids.sort_by(|&a, &b| {
            id_sort_key(&self.objects[a].attack_id)
                .cmp(&id_sort_key(&self.objects[b].attack_id))
                .then_with(|| self.objects[a].stix.name.cmp(&self.objects[b].stix.name))
                .then_with(|| self.objects[a].stix.id.cmp(&self.objects[b].stix.id))
        });
    }

    /// All included objects of a kind, sorted by ID.
    pub fn included_of(&self, kind: Kind) -> Vec<ObjId> {
        let mut v: Vec<ObjId> = (0..self.objects.len())
            .filter(|&i| self.objects[i].kind == kind && self.is_included(i))
            .collect();
        self.sort_by_id(&mut v);
        v
    }

    /// Add a stub technique note for an ID the loaded data lacks, so the rules
    /// and tests that name it are never dropped. Returns its id.
    pub fn add_stub(&mut self, attack_id: &str, name: &str, reason: &str) -> ObjId {
        let stix = StixObject {
            kind: "attack-pattern".into(),
            id: format!("x-attack-vault-stub--{attack_id}"),
            name: name.to_string(),
            x_mitre_is_subtechnique: attack_id.contains('.'),
            ..Default::default()
        };
        self.push_stub(Kind::Technique, attack_id, stix, reason)
    }

    /// A stub tactic for a tactic short name (`stealth`) that rules use and
    /// the loaded data lacks: it gathers those rules.
    pub fn add_stub_tactic(&mut self, short: &str, reason: &str) -> ObjId {
        let name: Vec<String> = short
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            })
            .collect();
        let stix = StixObject {
            kind: "x-mitre-tactic".into(),
            id: stub_tactic_id(short),
            name: name.join(" "),
            x_mitre_shortname: Some(short.to_string()),
            ..Default::default()
        };
        self.push_stub(Kind::Tactic, "", stix, reason)
    }

    /// The number of the highest Enterprise technique (1685 for T1685):
    /// rules and tests name Enterprise techniques, so an ID above it is of
    /// a later release.
    pub fn highest_technique(&self) -> Option<u32> {
        self.objects
            .iter()
            .filter(|o| o.kind == Kind::Technique && o.stub.is_none())
            .filter(|o| o.domains.iter().any(|d| d == ENTERPRISE))
            .filter_map(|o| technique_number(&o.attack_id))
            .max()
    }

    /// Whether the Enterprise domain is loaded.
    pub fn has_enterprise(&self) -> bool {
        self.domains.iter().any(|d| d == ENTERPRISE)
    }

    fn push_stub(&mut self, kind: Kind, attack_id: &str, stix: StixObject, reason: &str) -> ObjId {
        let id = self.objects.len();
        self.objects.push(Object {
            kind,
            attack_id: attack_id.to_string(),
            url: None,
            domains: Vec::new(),
            stix,
            stub: Some(reason.to_string()),
        });
        self.outgoing.push(Vec::new());
        self.incoming.push(Vec::new());
        self.by_stix.insert(self.objects[id].stix.id.clone(), id);
        if !attack_id.is_empty() {
            self.by_attack_id
                .entry(attack_id.to_ascii_uppercase())
                .or_default()
                .insert(0, id);
        }
        id
    }

    /// Per domain, the newest modification date of its objects: what
    /// tells one ATT&CK release from another where the bundle names none.
    pub fn newest_by_domain(&self) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = BTreeMap::new();
        for o in &self.objects {
            let day = o.stix.modified.get(..10).unwrap_or(&o.stix.modified);
            for d in o.domains.iter().filter(|d| self.domains.contains(d)) {
                let e = out.entry(d.clone()).or_default();
                if day > e.as_str() {
                    *e = day.to_string();
                }
            }
        }
        out
    }

    /// Counts of included objects per kind (stubs not counted).
    pub fn counts(&self) -> BTreeMap<Kind, usize> {
        let mut m = BTreeMap::new();
        for i in 0..self.objects.len() {
            if self.is_included(i) && self.objects[i].stub.is_none() {
                *m.entry(self.objects[i].kind).or_default() += 1;
            }
        }
        m
    }

    /// The tactics of a matrix, in matrix order.
    pub fn matrix_tactics(&self, matrix: ObjId) -> Vec<ObjId> {
        self.objects[matrix]
            .stix
            .tactic_refs
            .iter()
            .filter_map(|r| self.by_stix_id(r))
            .filter(|&t| self.is_included(t))
            .collect()
    }

    /// Techniques (not sub-techniques) in a tactic, sorted by name as on the
    /// ATT&CK matrix.
    pub fn techniques_in_tactic(&self, tactic: ObjId) -> Vec<ObjId> {
        let t = &self.objects[tactic];
        let Some(short) = &t.stix.x_mitre_shortname else {
            return Vec::new();
        };
        let mut v: Vec<ObjId> = (0..self.objects.len())
            .filter(|&i| {
                let o = &self.objects[i];
                o.kind == Kind::Technique
                    && !o.is_subtechnique()
                    && self.is_included(i)
                    && o.stix.kill_chain_phases.iter().any(|p| {
                        &p.phase_name == short
                            && t.domains
                                .iter()
                                .any(|d| d == kill_chain_domain(&p.kill_chain_name))
                    })
            })
            .collect();
        v.sort_by(|&a, &b| {
            self.objects[a]
                .stix
                .name
                .to_lowercase()
                .cmp(&self.objects[b].stix.name.to_lowercase())
                .then_with(|| {
                    id_sort_key(&self.objects[a].attack_id)
                        .cmp(&id_sort_key(&self.objects[b].attack_id))
                })
        });
        v
    }
}

/// A sort key that orders IDs by prefix and then numerically by each number run.
pub fn id_sort_key(id: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut prefix = String::new();
    let mut num: Option<u64> = None;
    for c in id.chars() {
        if let Some(d) = c.to_digit(10) {
            num = Some(num.unwrap_or(0).saturating_mul(10).saturating_add(d as u64));
        } else {
            if let Some(n) = num.take() {
                out.push((std::mem::take(&mut prefix), n));
            }
            prefix.push(c.to_ascii_uppercase());
        }
    }
    out.push((prefix, num.unwrap_or(0)));
    out
}

fn ids_of(o: &StixObject) -> (String, Option<String>) {
    match o.attack_ref() {
        Some(r) => (r.external_id.clone().unwrap_or_default(), r.url.clone()),
        // Older releases give some objects (v17 data components) no ATT&CK ID.
        None => (String::new(), None),
    }
}

/// The STIX id of the stub note of a tactic the loaded data lacks.
pub fn stub_tactic_id(short: &str) -> String {
    format!("x-attack-vault-stub--tactic-{short}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_sort_is_numeric() {
        let mut v = vec!["T1059.010", "T1059.006", "T1059", "T1003", "TA0002"];
        v.sort_by_key(|s| id_sort_key(s));
        assert_eq!(
            v,
            vec!["T1003", "T1059", "T1059.006", "T1059.010", "TA0002"]
        );
    }
}
