//! The vault's link index: which note each ATT&CK object lives in, how
//! attack.mitre.org URLs map to notes, and the reverse lookups (analytic →
//! strategies, data component → analytics, ...) that the notes need.

use super::names::NameRegistry;
use super::text::{Resolver, wikilink};
use crate::attack::stix::ExternalReference;
use crate::model::kb::{Kb, Kind, ObjId};
use crate::tags::TagStyle;
use std::collections::HashMap;

/// Fixed note stems that the vault always writes.
pub const HOME_STEM: &str = "Home";

/// A link to an ATT&CK object's note, as templates read it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ObjLink {
    /// The ATT&CK ID shown (`T1059.001`).
    pub id: String,
    pub name: String,
    pub stem: String,
    /// The kind's label (`Technique`).
    pub kind: &'static str,
    /// `[[stem|name]]`.
    pub link: String,
    /// `[[stem|ID]]`.
    pub id_link: String,
}

/// A row of a table: a link to an object with what the table adds to it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Linked<T> {
    #[serde(flatten)]
    pub link: ObjLink,
    #[serde(flatten)]
    pub more: T,
}

pub struct Index<'a> {
    pub kb: &'a Kb,
    stems: Vec<Option<String>>,
    urls: HashMap<String, ObjId>,
    pub analytic_strategies: HashMap<ObjId, Vec<ObjId>>,
    pub component_analytics: HashMap<ObjId, Vec<ObjId>>,
    pub source_components: HashMap<ObjId, Vec<ObjId>>,
    component_by_names: HashMap<(String, String), ObjId>,
    /// How tags are spelt in this vault.
    pub tags: TagStyle,
    /// With `--fold-analytics`: analytics have no note; links go to their
    /// section in their strategy's note (`DET0455 …#AN1264 …`).
    folded: HashMap<ObjId, String>,
}

/// A URL reduced to the part that identifies an ATT&CK page.
pub fn url_key(url: &str) -> String {
    let u = url.trim().to_ascii_lowercase();
    let u = u
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_start_matches("www.");
    let (path, frag) = match u.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (u, None),
    };
    let mut k = path.trim_end_matches('/').to_string();
    if let Some(f) = frag {
        k.push('#');
        k.push_str(f);
    }
    k
}

impl<'a> Index<'a> {
    /// Assign a note to every included and every revoked object.
    pub fn new(kb: &'a Kb, names: &mut NameRegistry) -> Index<'a> {
        let rel = Relations::of(kb);
        let stems = assign_stems(kb, names, &rel.analytic_strategies);
        let urls = url_index(kb, &stems);
        Index {
            kb,
            stems,
            urls,
            analytic_strategies: rel.analytic_strategies,
            component_analytics: rel.component_analytics,
            source_components: rel.source_components,
            component_by_names: rel.component_by_names,
            tags: TagStyle::default(),
            folded: HashMap::new(),
        }
    }

    /// Fold every analytic that has a strategy into that strategy's note:
    /// the analytic keeps no note of its own, and a link to it lands on
    /// its heading there.
    pub fn fold_analytics(mut self) -> Self {
        for i in 0..self.kb.objects.len() {
            if self.kb.get(i).kind != Kind::Analytic || self.stems[i].is_none() {
                continue;
            }
            let Some(strategy) = self.analytic_strategies.get(&i).and_then(|s| s.first()) else {
                continue;
            };
            if let Some(host) = self.stems[*strategy].clone() {
                let target = format!("{host}#{}", self.folded_heading(i));
                self.folded.insert(i, target);
                self.stems[i] = None;
            }
        }
        self
    }

    /// Whether analytics live in their strategies' notes.
    pub fn is_folded(&self, id: ObjId) -> bool {
        self.folded.contains_key(&id)
    }

    /// The heading of a folded analytic in its strategy's note: its ID and
    /// title, with nothing a heading link cannot carry.
    pub fn folded_heading(&self, id: ObjId) -> String {
        super::names::sanitize_stem(&format!("{} {}", self.kb.get(id).attack_id, self.title(id)))
    }

    /// The same index, writing tags in `style`.
    pub fn with_tags(self, style: TagStyle) -> Self {
        Index {
            tags: style,
            ..self
        }
    }

    /// The title an object's note and links show: its name, except for
    /// analytics, which ATT&CK names only "Analytic 0046": theirs says what
    /// they detect (their strategy) and where (their platforms).
    pub fn title(&self, id: ObjId) -> String {
        let o = self.kb.get(id);
        match o.kind {
            Kind::Analytic => analytic_title(self.kb, id, &self.analytic_strategies),
            _ => None,
        }
        .unwrap_or_else(|| o.name().to_string())
    }

    /// The note stem of an object that has a note of its own.
    pub fn stem(&self, id: ObjId) -> Option<&str> {
        self.stems[id].as_deref()
    }

    /// The stem that a link to `id` should use (after following revocations).
    pub fn target_stem(&self, id: ObjId) -> Option<(ObjId, &str)> {
        let t = self.kb.link_target(id)?;
        if let Some(f) = self.folded.get(&t) {
            return Some((t, f));
        }
        Some((t, self.stem(t)?))
    }

    /// The link to an object for templates, or `None` when the object is
    /// not in the vault.
    pub fn link(&self, id: ObjId) -> Option<ObjLink> {
        let (t, stem) = self.target_stem(id)?;
        let o = self.kb.get(t);
        let name = self.title(t);
        Some(ObjLink {
            id: o.display_id().to_string(),
            link: wikilink(stem, Some(&name)),
            id_link: wikilink(stem, Some(o.display_id())),
            name,
            stem: stem.to_string(),
            kind: o.kind.label(),
        })
    }

    /// Links for many objects, dropping those not in the vault and duplicates.
    pub fn links(&self, ids: impl IntoIterator<Item = ObjId>) -> Vec<ObjLink> {
        let mut seen = std::collections::HashSet::new();
        ids.into_iter()
            .filter_map(|i| {
                let t = self.kb.link_target(i)?;
                seen.insert(t).then(|| self.link(t)).flatten()
            })
            .collect()
    }

    /// The data component a v17 `x_mitre_data_sources` entry
    /// (`Process: Process Creation`) names.
    pub fn component_by_label(&self, label: &str) -> Option<ObjId> {
        let (src, comp) = label.split_once(':')?;
        self.component_by_names
            .get(&(src.trim().to_lowercase(), comp.trim().to_lowercase()))
            .copied()
    }

    fn object_for_url(&self, url: &str) -> Option<ObjId> {
        let key = url_key(url);
        if !key.starts_with("attack.mitre.org/") {
            return None;
        }
        if let Some(&i) = self.urls.get(&key) {
            return Some(i);
        }
        // Fall back to the ID in the path (`/techniques/T1021/002` → T1021.002).
        let path = key.trim_start_matches("attack.mitre.org/");
        let path = path.split('#').next().unwrap_or(path);
        let parts: Vec<&str> = path.split('/').collect();
        let id = match parts.as_slice() {
            ["techniques", t, s] => format!("{t}.{s}"),
            [_, id] => id.to_string(),
            _ => return None,
        };
        self.kb.by_attack_id(&id)
    }
}

/// The reverse lookups between strategies, analytics, data components and
/// data sources, each list sorted by ID.
#[derive(Default)]
struct Relations {
    analytic_strategies: HashMap<ObjId, Vec<ObjId>>,
    component_analytics: HashMap<ObjId, Vec<ObjId>>,
    source_components: HashMap<ObjId, Vec<ObjId>>,
    component_by_names: HashMap<(String, String), ObjId>,
}

impl Relations {
    fn of(kb: &Kb) -> Relations {
        let mut r = Relations::default();
        for i in (0..kb.objects.len()).filter(|&i| kb.is_included(i)) {
            r.add(kb, i);
        }
        for v in r
            .analytic_strategies
            .values_mut()
            .chain(r.component_analytics.values_mut())
            .chain(r.source_components.values_mut())
        {
            kb.sort_by_id(v);
            v.dedup();
        }
        r
    }

    fn add(&mut self, kb: &Kb, i: ObjId) {
        let o = kb.get(i);
        match o.kind {
            Kind::DetectionStrategy => {
                for a in o
                    .stix
                    .x_mitre_analytic_refs
                    .iter()
                    .filter_map(|r| kb.by_stix_id(r))
                {
                    self.analytic_strategies.entry(a).or_default().push(i);
                }
            }
            Kind::Analytic => {
                for ls in &o.stix.x_mitre_log_source_references {
                    if let Some(c) = kb.by_stix_id(&ls.x_mitre_data_component_ref) {
                        self.component_analytics.entry(c).or_default().push(i);
                    }
                }
            }
            Kind::DataComponent => {
                if let Some(src) = data_source_of(kb, i) {
                    self.source_components.entry(src).or_default().push(i);
                    self.component_by_names.insert(
                        (kb.get(src).name().to_lowercase(), o.name().to_lowercase()),
                        i,
                    );
                }
            }
            _ => {}
        }
    }
}

fn data_source_of(kb: &Kb, component: ObjId) -> Option<ObjId> {
    kb.get(component)
        .stix
        .x_mitre_data_source_ref
        .as_deref()
        .and_then(|r| kb.by_stix_id(r))
}

/// Note names: active objects first, in ID order, so they get the clean
/// names and a revoked object with the same name gets the suffix.
fn assign_stems(
    kb: &Kb,
    names: &mut NameRegistry,
    strategies: &HashMap<ObjId, Vec<ObjId>>,
) -> Vec<Option<String>> {
    let mut order: Vec<ObjId> = (0..kb.objects.len())
        .filter(|&i| kb.is_included(i) || kb.is_redirect(i))
        .collect();
    order.sort_by_cached_key(|&i| {
        let o = kb.get(i);
        (
            o.is_revoked(),
            o.kind,
            crate::model::kb::id_sort_key(&o.attack_id),
            o.stix.id.clone(),
        )
    });
    let mut stems = vec![None; kb.objects.len()];
    for i in order {
        let o = kb.get(i);
        let wanted = match analytic_title(kb, i, strategies).filter(|_| o.kind == Kind::Analytic) {
            Some(title) => format!("{} {title}", o.attack_id),
            // A nameless object is titled by its ID: once in its name.
            None if o.name() == o.attack_id => o.attack_id.clone(),
            None if !o.attack_id.is_empty() => format!("{} {}", o.attack_id, o.name()),
            None => match data_source_of(kb, i) {
                Some(src) => format!("{} - {}", kb.get(src).name(), o.name()),
                None => o.name().to_string(),
            },
        };
        stems[i] = Some(names.claim(&wanted));
    }
    stems
}

/// attack.mitre.org URL → the note it names (an included object wins over
/// a revoked one with the same URL).
fn url_index(kb: &Kb, stems: &[Option<String>]) -> HashMap<String, ObjId> {
    let mut urls = HashMap::new();
    for (i, o) in kb.objects.iter().enumerate() {
        let Some(u) = o.url.as_ref().filter(|_| stems[i].is_some()) else {
            continue;
        };
        let key = url_key(u);
        if !urls.get(&key).is_some_and(|&prev| kb.is_included(prev)) {
            urls.insert(key, i);
        }
    }
    urls
}

/// "Python execution (Linux)" for an analytic of strategy "Python execution"
/// on Linux (not "(Linux) (Linux)" where the strategy's name says it);
/// `None` without a strategy.
fn analytic_title(kb: &Kb, id: ObjId, strategies: &HashMap<ObjId, Vec<ObjId>>) -> Option<String> {
    let strategy = kb.get(*strategies.get(&id)?.first()?).name();
    Some(strategy_on(strategy, &kb.get(id).stix.x_mitre_platforms))
}

fn strategy_on(strategy: &str, platforms: &[String]) -> String {
    let suffix = format!("({})", platforms.join(", "));
    let cut = strategy.len().saturating_sub(suffix.len());
    let said = strategy
        .get(cut..)
        .is_some_and(|end| end.eq_ignore_ascii_case(&suffix));
    if platforms.is_empty() || said {
        strategy.to_string()
    } else {
        format!("{strategy} {suffix}")
    }
}

impl Resolver for Index<'_> {
    fn note_for_url(&self, url: &str) -> Option<String> {
        let i = self.object_for_url(url)?;
        self.target_stem(i).map(|(_, s)| s.to_string())
    }
    fn citation(&self, name: &str) -> Option<&ExternalReference> {
        self.kb.citation(name)
    }
}

/// The tag of a tactic: its ATT&CK short name (`command-and-control`), or
/// its name in that style when it has none.
pub fn tactic_tag(ix: &Index, tactic: ObjId) -> String {
    let o = ix.kb.get(tactic);
    ix.tags
        .tactic(o.stix.x_mitre_shortname.as_deref().unwrap_or(o.name()))
}

#[cfg(test)]
mod tests {
    use super::strategy_on;

    #[test]
    fn an_analytic_title_names_its_platforms_once() {
        let on = |s: &str, p: &[&str]| {
            strategy_on(s, &p.iter().map(|p| p.to_string()).collect::<Vec<_>>())
        };
        assert_eq!(
            on("Python execution", &["Linux", "macOS"]),
            "Python execution (Linux, macOS)"
        );
        assert_eq!(on("Metadata API (IaaS)", &["IaaS"]), "Metadata API (IaaS)");
        assert_eq!(on("Plist (macos)", &["macOS"]), "Plist (macos)");
        assert_eq!(on("Plist (T1647)", &["macOS"]), "Plist (T1647) (macOS)");
        assert_eq!(on("Python", &[]), "Python");
        assert_eq!(on("é", &["Linux"]), "é (Linux)");
    }
}
