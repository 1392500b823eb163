//! The shapes of Sigma's ATT&CK tags, as the specification's appendix
//! lists them for the `attack` namespace.

/// `T1059.006` from `t1059.006`, `T1059_006`, `t1059/006`; `None` if not a technique ID.
pub fn technique_id(s: &str) -> Option<String> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 5 || !(b[0] == b'T' || b[0] == b't') {
        return None;
    }
    // Not sliced by byte offsets before they are known to be ASCII digits:
    // a tag is any text (`tAAAé`).
    let main = s.get(1..5)?;
    if !main.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    match &s[5..] {
        "" => Some(format!("T{main}")),
        sub if sub.len() == 4
            && matches!(sub.as_bytes()[0], b'.' | b'_' | b'/')
            && sub[1..].bytes().all(|c| c.is_ascii_digit()) =>
        {
            Some(format!("T{main}.{}", &sub[1..]))
        }
        _ => None,
    }
}

/// Whether the name of an `attack.` tag has one of the shapes ATT&CK's
/// objects take there: a technique ([`technique_id`]), an ID of another
/// kind (`g0016`, `ds0009`, `ta0002`) or a tactic's name
/// (`defense-evasion`), in any case.
pub fn is_attack_tag(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let id = ["g", "s", "c", "ds", "m", "a", "ta"].iter().any(|p| {
        lower
            .strip_prefix(p)
            .is_some_and(|n| n.len() == 4 && n.bytes().all(|b| b.is_ascii_digit()))
    });
    let tactic = !lower.is_empty()
        && lower
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_');
    technique_id(&lower).is_some() || id || tactic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_tags_of_the_specifications_shapes() {
        for name in [
            "t1059",
            "T1059.001",
            "t1059_001",
            "t1059/001",
            "g0016",
            "S0002",
            "c0024",
            "ds0009",
            "m1042",
            "a0001",
            "ta0002",
            "execution",
            "defense_evasion",
            "x",
        ] {
            assert!(is_attack_tag(name), "{name}");
        }
        for name in [
            "",
            "t99999",
            "t1059.0011",
            "t1059.",
            "g016",
            "ds00091",
            "t1059.001/x",
            "taaa\u{e9}",
            "t\u{e9}\u{e9}\u{e9}\u{e9}",
            "1059",
        ] {
            assert!(!is_attack_tag(name), "{name}");
        }
    }
}
