//! Tag normalisation: one place that turns ATT&CK IDs, Sigma `attack.*` tags
//! and names into Obsidian tags, and back into ATT&CK references.

/// What a tag refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TagRef {
    /// A technique or sub-technique ID, upper case with a dot (`T1059.006`).
    Technique(String),
    /// A tactic, by its ATT&CK short name (`defense-evasion`).
    Tactic(String),
    /// A group ID (`G0016`).
    Group(String),
    /// A software ID (`S0002`).
    Software(String),
    /// A campaign ID (`C0024`).
    Campaign(String),
    /// Any other tag, kept as a plain note tag (`cve_2021_44228`).
    Other(String),
}

impl TagRef {
    /// Whether a rule with tag `other` answers a search for this one: the
    /// same tag, a sub-technique of this technique (`T1059` covers
    /// `T1059.001`, as ATT&CK nests them), or a tactic that succeeds this
    /// one ([`succeeds`]).
    pub fn covers(&self, other: &TagRef) -> bool {
        match (self, other) {
            (TagRef::Technique(p), TagRef::Technique(c)) => {
                c == p || c.split_once('.').is_some_and(|(base, _)| base == p)
            }
            (TagRef::Tactic(s), TagRef::Tactic(r)) => s == r || succeeds(s, r),
            // Free tags in any casing (`CVE.2021-1675`).
            (TagRef::Other(a), TagRef::Other(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

/// The tag as a Sigma rule writes it (`attack.execution`, `attack.t1059`).
impl std::fmt::Display for TagRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TagRef::Technique(id) => write!(f, "attack.{}", id.to_ascii_lowercase()),
            TagRef::Tactic(name) => write!(f, "attack.{name}"),
            TagRef::Group(id) | TagRef::Software(id) | TagRef::Campaign(id) => {
                write!(f, "attack.{}", id.to_ascii_lowercase())
            }
            TagRef::Other(tag) => f.write_str(tag),
        }
    }
}

/// TA0005's names: `defense-evasion` before ATT&CK v19, `stealth` since.
pub const TA0005_NAMES: [&str; 2] = ["defense-evasion", "stealth"];

/// Whether a rule tagged with tactic `rule` answers a search for tactic
/// `search` that has another name. ATT&CK v19 split Enterprise's Defense
/// Evasion into Stealth, which kept its ID (TA0005), and Defense Impairment
/// (TA0112), and SigmaHQ's rules followed: a search by the old name meets
/// both, and one by TA0005's new name meets rules still tagged by the old.
pub fn succeeds(search: &str, rule: &str) -> bool {
    matches!(
        (search, rule),
        ("defense-evasion", "stealth" | "defense-impairment") | ("stealth", "defense-evasion")
    )
}

/// The tactics of ATT&CK's three domains by ID, with the short name Sigma
/// tags them by (the newest: TA0005 is `stealth` since v19): tactic IDs are
/// stable, and rules never name them, so a search by ID (`--tag TA0002`)
/// needs this to meet `attack.execution`.
const TACTICS: [(&str, &str); 41] = [
    ("TA0001", "initial-access"),
    ("TA0002", "execution"),
    ("TA0003", "persistence"),
    ("TA0004", "privilege-escalation"),
    ("TA0005", "stealth"),
    ("TA0006", "credential-access"),
    ("TA0007", "discovery"),
    ("TA0008", "lateral-movement"),
    ("TA0009", "collection"),
    ("TA0010", "exfiltration"),
    ("TA0011", "command-and-control"),
    ("TA0040", "impact"),
    ("TA0042", "resource-development"),
    ("TA0043", "reconnaissance"),
    ("TA0112", "defense-impairment"),
    // Mobile.
    ("TA0027", "initial-access"),
    ("TA0028", "persistence"),
    ("TA0029", "privilege-escalation"),
    ("TA0030", "defense-evasion"),
    ("TA0031", "credential-access"),
    ("TA0032", "discovery"),
    ("TA0033", "lateral-movement"),
    ("TA0034", "impact"),
    ("TA0035", "collection"),
    ("TA0036", "exfiltration"),
    ("TA0037", "command-and-control"),
    ("TA0038", "network-effects"),
    ("TA0039", "remote-service-effects"),
    ("TA0041", "execution"),
    // ICS.
    ("TA0100", "collection"),
    ("TA0101", "command-and-control"),
    ("TA0102", "discovery"),
    ("TA0103", "evasion"),
    ("TA0104", "execution"),
    ("TA0105", "impact"),
    ("TA0106", "impair-process-control"),
    ("TA0107", "inhibit-response-function"),
    ("TA0108", "initial-access"),
    ("TA0109", "lateral-movement"),
    ("TA0110", "persistence"),
    ("TA0111", "privilege-escalation"),
];

/// The short name of the tactic `TA0002` (any casing); `None` for any
/// other text.
pub fn tactic_of_id(id: &str) -> Option<&'static str> {
    TACTICS
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(id.trim()))
        .map(|(_, short)| *short)
}

/// A tag as a search names it (`--tag`): as [`parse_tag`] reads a rule's,
/// and also a tactic by its ID (`TA0002`) or by its name alone
/// (`execution`, `Defense Evasion`), and a group, software or campaign by
/// its ID alone (`S0002`); an error for an ID that is no tactic's.
pub fn parse_wanted_tag(text: &str) -> Result<TagRef, String> {
    let t = text.trim();
    let looks_like_id = t.len() == 6
        && t.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("TA"))
        && t.bytes().skip(2).all(|b| b.is_ascii_digit());
    if looks_like_id && tactic_of_id(t).is_none() {
        return Err(format!(
            "{t} is no ATT&CK tactic (TA0001–TA0043 and TA0112 Enterprise, TA0027–TA0041 \
             Mobile, TA0100–TA0111 ICS)"
        ));
    }
    let bare = !t.is_empty()
        && !t.contains('.')
        && t.chars()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, '-' | '_' | ' '));
    if bare && !looks_like_id {
        let name = t.to_ascii_lowercase().replace(['_', ' '], "-");
        return Ok(TagRef::Tactic(name));
    }
    // A group, software or campaign by its ID alone (`G0016`).
    if !t.contains('.') {
        let r = parse_tag(&format!("attack.{t}"));
        if matches!(
            r,
            TagRef::Group(_) | TagRef::Software(_) | TagRef::Campaign(_)
        ) {
            return Ok(r);
        }
    }
    Ok(parse_tag(t))
}

/// Parse one tag as written in a Sigma rule, an atomic or a note:
/// `attack.t1059.006`, `attack.T1059.006`, `T1059.006`, `t1059_006`,
/// `attack.execution`, `attack.g0016`, `attack.s0002`, `cve.2021-44228`.
pub fn parse_tag(tag: &str) -> TagRef {
    let t = tag.trim().trim_start_matches('#');
    let (ns, rest) = match t.split_once('.') {
        Some((ns, rest)) if ns.eq_ignore_ascii_case("attack") => (Some("attack"), rest),
        _ => (None, t),
    };
    if let Some(id) = technique_id(rest) {
        return TagRef::Technique(id);
    }
    if let Some(short) = tactic_of_id(rest) {
        return TagRef::Tactic(short.to_string());
    }
    if ns == Some("attack") {
        let lower = rest.to_ascii_lowercase();
        for (prefix, make) in [
            ('g', TagRef::Group as fn(String) -> TagRef),
            ('s', TagRef::Software),
            ('c', TagRef::Campaign),
        ] {
            if let Some(num) = lower.strip_prefix(prefix)
                && num.len() == 4
                && num.bytes().all(|b| b.is_ascii_digit())
            {
                return make(format!("{}{}", prefix.to_ascii_uppercase(), num));
            }
        }
        if !lower.is_empty()
            && lower
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_')
        {
            return TagRef::Tactic(lower.replace('_', "-"));
        }
    }
    TagRef::Other(note_tag(t))
}

pub use sigma_engine::sigma::tags::technique_id;

/// The Obsidian tag for an ATT&CK ID: dots become underscores (`T1059_006`).
pub fn id_tag(id: &str) -> String {
    note_tag(id)
}

/// Any text as a valid Obsidian tag: letters, digits, `_`, `-`, `/` only, at
/// least one non-digit.
pub fn note_tag(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' || c == '/' {
            s.push(c);
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() {
        return "untagged".into();
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        format!("n{s}")
    } else {
        s
    }
}

/// How the vault spells the tags it writes, so that each tag has one casing
/// vault-wide: technique IDs upper case with an underscore (`T1059_006`, the
/// form the seed's `#T1059_006` queries use), everything else lower case
/// (`execution`, `technique`, `cve_2021-44228`). With a prefix every tag
/// nests under it (`attack/T1059_006`), keeping the analyst's own tags apart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagStyle {
    prefix: Option<String>,
}

impl TagStyle {
    /// A style with `prefix` (`attack`, `attack/`, `#attack` all mean the
    /// same); an error when the prefix cannot be part of a tag.
    pub fn new(prefix: Option<&str>) -> Result<TagStyle, String> {
        let Some(p) = prefix.map(|p| p.trim().trim_start_matches('#').trim_matches('/')) else {
            return Ok(TagStyle::default());
        };
        if p.is_empty() {
            return Ok(TagStyle::default());
        }
        let valid = p
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/'))
            && !p
                .split('/')
                .any(|seg| seg.is_empty() || seg.chars().all(|c| c.is_ascii_digit()));
        if !valid {
            return Err(format!(
                "tag prefix {p:?}: use letters, digits, `_`, `-` and `/` only, each part with a non-digit"
            ));
        }
        Ok(TagStyle {
            prefix: Some(p.to_string()),
        })
    }

    fn wrap(&self, tag: String) -> String {
        match &self.prefix {
            Some(p) => format!("{p}/{tag}"),
            None => tag,
        }
    }

    /// `T1059_006` for technique `T1059.006`.
    pub fn technique(&self, id: &str) -> String {
        self.wrap(id_tag(id).to_ascii_uppercase())
    }

    /// The tag of a tactic, by its ATT&CK short name (`privilege-escalation`);
    /// a name without one is turned into the same style.
    pub fn tactic(&self, short_name: &str) -> String {
        self.wrap(note_tag(short_name).to_lowercase().replace('_', "-"))
    }

    /// A fixed tag of the vault's own (`technique`, `detection_rule`).
    pub fn plain(&self, tag: &str) -> String {
        self.wrap(note_tag(tag).to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_names_tactics_by_id_or_name_as_rules_tag_them() {
        let execution = TagRef::Tactic("execution".into());
        for wanted in [
            "TA0002",
            "ta0041",
            "TA0104",
            "attack.ta0002",
            "execution",
            "Execution",
        ] {
            let w = parse_wanted_tag(wanted).unwrap();
            assert!(w.covers(&parse_tag("attack.execution")), "{wanted}");
            assert_eq!(w, execution, "{wanted}");
        }
        let evasion = parse_wanted_tag("Defense Evasion").unwrap();
        assert!(evasion.covers(&parse_tag("attack.defense_evasion")));
        assert!(!evasion.covers(&parse_tag("attack.execution")));
        // Any text, split anywhere, is a tag, never a crash.
        for odd in [
            "aé123",
            "éé12",
            "TA١٢٣٤",
            "",
            "é",
            "tAAAé",
            "attack.tAAAé",
            "t١٢٣٤",
        ] {
            assert!(parse_wanted_tag(odd).is_ok(), "{odd}");
            assert!(matches!(parse_tag(odd), TagRef::Other(_)), "{odd}");
        }
        let err = parse_wanted_tag("TA9999").unwrap_err();
        assert!(err.starts_with("TA9999 is no ATT&CK tactic"), "{err}");
        // Other tags keep their namespace, in any casing.
        let cve = parse_wanted_tag("CVE.2021-1675").unwrap();
        assert!(cve.covers(&parse_tag("cve.2021-1675")));
        assert!(!cve.covers(&parse_tag("cve.2021-1676")));
        assert_eq!(
            parse_wanted_tag("T1059").unwrap(),
            parse_tag("attack.t1059")
        );
        for id in ["S0002", "g0016", "C0024"] {
            let w = parse_wanted_tag(id).unwrap();
            assert!(w.covers(&parse_tag(&format!("attack.{id}"))), "{id}");
        }
    }

    #[test]
    fn a_technique_covers_its_sub_techniques_and_nothing_else() {
        let covers = |a: &str, b: &str| parse_tag(a).covers(&parse_tag(b));
        assert!(covers("T1059", "attack.t1059.001"));
        assert!(covers("T1059", "attack.t1059"));
        assert!(covers("attack.t1059.001", "T1059.001"));
        assert!(!covers("T1059.001", "attack.t1059"));
        assert!(!covers("T1059", "attack.t10590"));
        assert!(!covers("T105", "attack.t1059"));
        assert!(covers("attack.execution", "attack.execution"));
        assert!(!covers("attack.execution", "attack.t1059"));
    }

    #[test]
    fn technique_forms_agree() {
        for t in [
            "attack.t1059.006",
            "attack.T1059.006",
            "T1059.006",
            "t1059_006",
            "#T1059_006",
        ] {
            assert_eq!(parse_tag(t), TagRef::Technique("T1059.006".into()), "{t}");
        }
        assert_eq!(parse_tag("attack.t1059"), TagRef::Technique("T1059".into()));
    }

    #[test]
    fn tactics_groups_software() {
        assert_eq!(
            parse_tag("attack.execution"),
            TagRef::Tactic("execution".into())
        );
        assert_eq!(
            parse_tag("attack.defense-evasion"),
            TagRef::Tactic("defense-evasion".into())
        );
        assert_eq!(parse_tag("attack.g0016"), TagRef::Group("G0016".into()));
        assert_eq!(parse_tag("attack.s0002"), TagRef::Software("S0002".into()));
        assert_eq!(parse_tag("attack.c0024"), TagRef::Campaign("C0024".into()));
    }

    #[test]
    fn defense_evasion_and_its_v19_successors_meet_in_searches() {
        let search = |t: &str| parse_wanted_tag(t).unwrap();
        let rule = |t: &str| parse_tag(&format!("attack.{t}"));
        let (old, stealth, impairment) = (
            rule("defense-evasion"),
            rule("stealth"),
            rule("defense-impairment"),
        );
        for s in ["TA0005", "stealth", "Stealth"] {
            assert_eq!(search(s), TagRef::Tactic("stealth".into()), "{s}");
            assert!(search(s).covers(&stealth) && search(s).covers(&old), "{s}");
            assert!(!search(s).covers(&impairment), "{s}");
        }
        for s in ["TA0112", "defense-impairment"] {
            assert!(
                search(s).covers(&impairment) && !search(s).covers(&stealth),
                "{s}"
            );
            assert!(
                !search(s).covers(&old),
                "{s}: the old tactic held stealth too"
            );
        }
        let by_old_name = search("Defense Evasion");
        assert!(
            [&old, &stealth, &impairment]
                .iter()
                .all(|r| by_old_name.covers(r))
        );
        assert!(!search("execution").covers(&stealth));
        assert!(
            search("TA0030").covers(&old),
            "Mobile's defense evasion kept its name"
        );
    }

    #[test]
    fn other_namespaces_become_plain_tags() {
        assert_eq!(
            parse_tag("cve.2021-44228"),
            TagRef::Other("cve_2021-44228".into())
        );
        assert_eq!(
            parse_tag("detection.threat-hunting"),
            TagRef::Other("detection_threat-hunting".into())
        );
        assert_eq!(parse_tag("tlp.white"), TagRef::Other("tlp_white".into()));
        assert_eq!(
            parse_tag("car.2016-04-005"),
            TagRef::Other("car_2016-04-005".into())
        );
    }

    #[test]
    fn one_casing_per_kind_of_tag() {
        let s = TagStyle::default();
        assert_eq!(s.technique("t1059.006"), "T1059_006");
        assert_eq!(s.tactic("Privilege_Escalation"), "privilege-escalation");
        assert_eq!(s.tactic("defense-impairment"), "defense-impairment");
        assert_eq!(s.plain("CVE.2021-44228"), "cve_2021-44228");
    }

    #[test]
    fn a_prefix_nests_every_tag() {
        let s = TagStyle::new(Some("#attack/")).unwrap();
        assert_eq!(s.technique("T1059.006"), "attack/T1059_006");
        assert_eq!(s.tactic("execution"), "attack/execution");
        assert_eq!(s.plain("technique"), "attack/technique");
        assert_eq!(TagStyle::new(Some("")).unwrap(), TagStyle::default());
        for bad in ["a b", "1984", "x//y", "a.b"] {
            assert!(TagStyle::new(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags_are_valid_obsidian_tags() {
        assert_eq!(id_tag("T1059.006"), "T1059_006");
        assert_eq!(note_tag("Command and Control"), "Command_and_Control");
        assert_eq!(note_tag("1984"), "n1984");
        assert!(technique_id("T105").is_none());
        assert!(technique_id("T1059.06").is_none());
    }
}
