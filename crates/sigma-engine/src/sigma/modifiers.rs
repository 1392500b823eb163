//! Sigma value modifiers (modifiers appendix v2.1) and the rules for chaining them.

use std::fmt;

/// One value modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Base64,
    Base64Offset,
    Utf16le,
    Utf16be,
    Utf16,
    Wide,
    Windash,
    Re,
    /// `re` flag `i`.
    ReI,
    /// `re` flag `m`.
    ReM,
    /// `re` flag `s`.
    ReS,
    Cidr,
    Exists,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
    Expand,
    Fieldref,
    Cased,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    /// Parse a modifier name (case-sensitive, as the specification writes them).
    pub fn parse(s: &str) -> Option<Modifier> {
        use Modifier::*;
        Some(match s {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" => Utf16le,
            "utf16be" => Utf16be,
            "utf16" => Utf16,
            "wide" => Wide,
            "windash" => Windash,
            "re" => Re,
            "i" => ReI,
            "m" => ReM,
            "s" => ReS,
            "cidr" => Cidr,
            "exists" => Exists,
            "neq" => Neq,
            "gt" => Gt,
            "gte" => Gte,
            "lt" => Lt,
            "lte" => Lte,
            "expand" => Expand,
            "fieldref" => Fieldref,
            "cased" => Cased,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "contains",
            StartsWith => "startswith",
            EndsWith => "endswith",
            All => "all",
            Base64 => "base64",
            Base64Offset => "base64offset",
            Utf16le => "utf16le",
            Utf16be => "utf16be",
            Utf16 => "utf16",
            Wide => "wide",
            Windash => "windash",
            Re => "re",
            ReI => "i",
            ReM => "m",
            ReS => "s",
            Cidr => "cidr",
            Exists => "exists",
            Neq => "neq",
            Gt => "gt",
            Gte => "gte",
            Lt => "lt",
            Lte => "lte",
            Expand => "expand",
            Fieldref => "fieldref",
            Cased => "cased",
            Minute => "minute",
            Hour => "hour",
            Day => "day",
            Week => "week",
            Month => "month",
            Year => "year",
        }
    }

    fn is_position(self) -> bool {
        matches!(
            self,
            Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
        )
    }
    fn is_utf16(self) -> bool {
        matches!(
            self,
            Modifier::Utf16le | Modifier::Utf16be | Modifier::Utf16 | Modifier::Wide
        )
    }
    fn is_base64(self) -> bool {
        matches!(self, Modifier::Base64 | Modifier::Base64Offset)
    }
    /// Numeric comparisons.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            Modifier::Gt | Modifier::Gte | Modifier::Lt | Modifier::Lte
        )
    }
    /// Modifiers of text, which pySigma refuses on a number or a boolean.
    pub fn takes_text(self) -> bool {
        use Modifier::*;
        matches!(
            self,
            Contains
                | StartsWith
                | EndsWith
                | Windash
                | Cased
                | Base64
                | Base64Offset
                | Expand
                | Fieldref
        )
    }
    /// Date part extractors.
    pub fn is_time_part(self) -> bool {
        use Modifier::*;
        matches!(self, Minute | Hour | Day | Week | Month | Year)
    }
    fn is_re_flag(self) -> bool {
        matches!(self, Modifier::ReI | Modifier::ReM | Modifier::ReS)
    }
}

impl fmt::Display for Modifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Check a modifier chain against the rules of the appendix; `Err` says why it
/// is not allowed.
pub fn validate_chain(mods: &[Modifier]) -> Result<(), ChainError> {
    chain_problem(mods).map_err(ChainError)
}

/// A modifier chain the specification does not allow, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ChainError(pub String);

fn chain_problem(mods: &[Modifier]) -> Result<(), String> {
    at_most_one_of_each(mods)?;
    regex_alone(mods)?;
    allowed_company(mods)?;
    encodings_in_order(mods)
}

/// No modifier twice, and at most one of each family.
fn at_most_one_of_each(mods: &[Modifier]) -> Result<(), String> {
    let count = |f: fn(Modifier) -> bool| mods.iter().filter(|m| f(**m)).count();
    for (i, m) in mods.iter().enumerate() {
        if mods[..i].contains(m) {
            return Err(format!("modifier `{m}` appears twice"));
        }
    }
    if count(Modifier::is_position) > 1 {
        return Err("only one of `contains`, `startswith`, `endswith` may be used".into());
    }
    if count(Modifier::is_utf16) > 1 {
        return Err("only one of `utf16le`, `utf16be`, `utf16`, `wide` may be used".into());
    }
    if count(Modifier::is_base64) > 1 {
        return Err("`base64` and `base64offset` cannot be combined".into());
    }
    if count(Modifier::is_comparison) > 1 {
        return Err("only one of `gt`, `gte`, `lt`, `lte` may be used".into());
    }
    if count(Modifier::is_time_part) > 1 {
        return Err("only one time modifier (`minute` … `year`) may be used".into());
    }
    Ok(())
}

/// `re`'s flags follow it, and `re` takes no modifier that changes values.
fn regex_alone(mods: &[Modifier]) -> Result<(), String> {
    use Modifier::*;
    if let Some(f) = mods.iter().find(|m| m.is_re_flag()) {
        let re_pos = mods.iter().position(|m| *m == Re);
        let f_pos = mods.iter().position(|m| m == f);
        if re_pos.is_none() || f_pos < re_pos {
            return Err(format!("regular expression flag `{f}` must follow `re`"));
        }
    }
    if mods.contains(&Re)
        && let Some(bad) = mods.iter().find(|m| {
            m.is_position()
                || m.is_base64()
                || m.is_utf16()
                || m.is_comparison()
                || m.is_time_part()
                || matches!(m, Windash | Cidr | Exists | Expand | Fieldref)
        })
    {
        return Err(format!("`re` cannot be combined with `{bad}`"));
    }
    Ok(())
}

/// `exists`, `cidr`, comparisons, time parts and `fieldref` with only the
/// modifiers that make sense beside them.
fn allowed_company(mods: &[Modifier]) -> Result<(), String> {
    use Modifier::*;
    let has = |m: Modifier| mods.contains(&m);
    if has(Exists) && mods.len() > 1 {
        return Err("`exists` cannot be combined with other modifiers".into());
    }
    if has(Cidr)
        && let Some(bad) = mods.iter().find(|m| !matches!(m, Cidr | All | Neq))
    {
        return Err(format!("`cidr` cannot be combined with `{bad}`"));
    }
    if mods.iter().any(|m| m.is_comparison())
        && let Some(bad) = mods
            .iter()
            .find(|m| !(m.is_comparison() || m.is_time_part() || matches!(m, All)))
    {
        return Err(format!(
            "numeric comparison cannot be combined with `{bad}`"
        ));
    }
    if mods.iter().any(|m| m.is_time_part())
        && let Some(bad) = mods
            .iter()
            .find(|m| !(m.is_comparison() || m.is_time_part() || matches!(m, Neq | All)))
    {
        return Err(format!("time modifier cannot be combined with `{bad}`"));
    }
    if has(Fieldref)
        && let Some(bad) = mods
            .iter()
            .find(|m| !(m.is_position() || matches!(m, Fieldref | Neq | Cased | All)))
    {
        return Err(format!("`fieldref` cannot be combined with `{bad}`"));
    }
    Ok(())
}

/// Encodings produce bytes: the position modifier must come after them, and
/// UTF-16 before base64.
fn encodings_in_order(mods: &[Modifier]) -> Result<(), String> {
    if let (Some(enc), Some(pos)) = (
        mods.iter().rposition(|m| m.is_base64() || m.is_utf16()),
        mods.iter().position(|m| m.is_position()),
    ) && pos < enc
        && mods[enc].is_base64()
    {
        return Err(format!("`{}` must come after `{}`", mods[pos], mods[enc]));
    }
    if let (Some(u), Some(b)) = (
        mods.iter().position(|m| m.is_utf16()),
        mods.iter().position(|m| m.is_base64()),
    ) && u > b
    {
        return Err(format!("`{}` must come before `{}`", mods[u], mods[b]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(s: &str) -> Result<(), ChainError> {
        let mods: Vec<Modifier> = s.split('|').map(|m| Modifier::parse(m).unwrap()).collect();
        validate_chain(&mods)
    }

    #[test]
    fn all_31_modifiers_parse() {
        let names = "contains startswith endswith all base64 base64offset utf16le utf16be utf16 wide windash re i m s cidr exists neq gt gte lt lte expand fieldref cased minute hour day week month year";
        let v: Vec<_> = names
            .split(' ')
            .map(|n| Modifier::parse(n).unwrap())
            .collect();
        assert_eq!(v.len(), 31);
        for m in v {
            assert_eq!(Modifier::parse(m.name()), Some(m));
        }
        assert_eq!(Modifier::parse("contians"), None);
    }

    #[test]
    fn allowed_chains() {
        for ok in [
            "utf16le|base64offset|contains",
            "wide|base64offset|contains",
            "base64offset|contains",
            "contains|all",
            "contains|all|windash",
            "windash|contains",
            "re|i",
            "re|i|m|s",
            "cidr",
            "exists",
            "gte",
            "hour|gte",
            "fieldref|endswith",
            "fieldref|neq",
            "expand|contains",
            "contains|cased",
            "neq",
        ] {
            assert!(chain(ok).is_ok(), "{ok}: {:?}", chain(ok));
        }
    }

    #[test]
    fn forbidden_chains() {
        for bad in [
            "contains|startswith",
            "i",
            "i|re",
            "re|contains",
            "base64|base64offset",
            "exists|contains",
            "cidr|contains",
            "gt|lt",
            "gt|contains",
            "contains|base64",
            "base64|utf16le",
            "contains|contains",
        ] {
            assert!(chain(bad).is_err(), "{bad} must be refused");
        }
    }
}
