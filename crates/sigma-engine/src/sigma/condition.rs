//! The Sigma condition language: `and`, `or`, `not`, parentheses, and
//! `1 of` / `all of` with `them` or a search-identifier pattern, with the
//! specified precedence (least to most binding: or, and, not, x of, brackets).
//!
//! A hand-written recursive-descent parser; errors give the byte position of
//! the offending token.

/// A parsed condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// A search identifier.
    Ident(String),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// `1 of X`: any of the matching searches.
    OneOf(Target),
    /// `all of X`: every matching search.
    AllOf(Target),
}

/// What a condition names: one search, or those a selector takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reference<'c> {
    Name(&'c str),
    Selector(&'c Target),
}

/// What `1 of` / `all of` ranges over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `them`: every search identifier not starting with `_`.
    Them,
    /// A pattern with `*` wildcards.
    Pattern(String),
}

/// A condition syntax error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {})", position + 1)]
pub struct CondError {
    pub message: String,
    /// Byte offset in the condition text.
    pub position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    LParen,
    RParen,
    Pipe,
}

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, CondError> {
    let mut out = Vec::new();
    let mut it = s.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        match c {
            c if c.is_whitespace() => {
                it.next();
            }
            '(' => {
                out.push((Tok::LParen, i));
                it.next();
            }
            ')' => {
                out.push((Tok::RParen, i));
                it.next();
            }
            '|' => {
                // The rest is an old aggregation expression; the parser reports it.
                out.push((Tok::Pipe, i));
                return Ok(out);
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') => {
                let mut w = String::new();
                while let Some(&(_, c)) = it.peek() {
                    if c.is_alphanumeric() || matches!(c, '_' | '*' | '-' | '.' | '?') {
                        w.push(c);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push((Tok::Word(w), i));
            }
            other => {
                return Err(CondError {
                    message: format!("unexpected character `{other}`"),
                    position: i,
                });
            }
        }
    }
    Ok(out)
}

/// How deep `not`s and brackets may nest. The parser, the compiler and the
/// matcher recurse on this depth; real rules use fewer than ten levels.
pub const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    len: usize,
    depth: usize,
    _src: &'a str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.0)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.len, |t| t.1)
    }
    fn err(&self, msg: impl Into<String>) -> CondError {
        CondError {
            message: msg.into(),
            position: self.offset(),
        }
    }
    fn keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn or(&mut self) -> Result<Cond, CondError> {
        let mut v = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Cond::Or(vec![]))
        } else {
            Cond::Or(v)
        })
    }
    fn and(&mut self) -> Result<Cond, CondError> {
        let mut v = vec![self.not()?];
        while self.keyword("and") {
            self.pos += 1;
            v.push(self.not()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Cond::And(vec![]))
        } else {
            Cond::And(v)
        })
    }
    /// Enter one level of nesting, or fail at the current token.
    fn deeper(&mut self) -> Result<(), CondError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!(
                "condition nested deeper than {MAX_DEPTH} levels of `not` and brackets"
            )));
        }
        Ok(())
    }
    fn not(&mut self) -> Result<Cond, CondError> {
        if self.keyword("not") {
            self.deeper()?;
            self.pos += 1;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Cond::Not(Box::new(inner)));
        }
        self.atom()
    }
    fn atom(&mut self) -> Result<Cond, CondError> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.deeper()?;
                self.pos += 1;
                let inner = self.or()?;
                self.depth -= 1;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(self.err("expected `)`"));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                let quantifier = match lower.as_str() {
                    "1" | "any" => Some(true),
                    "all" => Some(false),
                    "and" | "or" | "not" | "of" | "them" => {
                        return Err(self.err(format!("expected a search identifier, found `{w}`")));
                    }
                    _ if lower.chars().all(|c| c.is_ascii_digit()) => {
                        return Err(self.err(format!("only `1 of` and `all of` are supported, not `{w} of`")));
                    }
                    _ => None,
                };
                self.pos += 1;
                let Some(one) = quantifier else {
                    return Ok(Cond::Ident(w));
                };
                if !self.keyword("of") {
                    return Err(self.err("expected `of`"));
                }
                self.pos += 1;
                let target = match self.peek().cloned() {
                    Some(Tok::Word(t)) if t.eq_ignore_ascii_case("them") => Target::Them,
                    Some(Tok::Word(t)) if !["and", "or", "not", "of"].contains(&t.to_ascii_lowercase().as_str()) => {
                        Target::Pattern(t)
                    }
                    _ => return Err(self.err("expected `them` or a search-identifier pattern")),
                };
                self.pos += 1;
                Ok(if one { Cond::OneOf(target) } else { Cond::AllOf(target) })
            }
            Some(Tok::RParen) => Err(self.err("unexpected `)`")),
            Some(Tok::Pipe) => Err(self.err(
                "aggregation expressions (`| count() ...`) are not part of Sigma any more; use a correlation rule",
            )),
            None => Err(self.err("unexpected end of condition")),
        }
    }
}

/// Parse a condition.
pub fn parse(s: &str) -> Result<Cond, CondError> {
    let toks = lex(s)?;
    let mut p = Parser {
        toks,
        pos: 0,
        len: s.len(),
        depth: 0,
        _src: s,
    };
    if p.toks.is_empty() {
        return Err(p.err("empty condition"));
    }
    let c = p.or()?;
    if p.pos < p.toks.len() {
        return Err(match p.peek() {
            Some(Tok::Pipe) => p.err(
                "aggregation expressions (`| count() ...`) are not part of Sigma any more; use a correlation rule",
            ),
            _ => p.err("unexpected token; expected `and`, `or` or the end"),
        });
    }
    Ok(c)
}

/// Whether `name` matches a search-identifier pattern with `*` wildcards.
/// Linear backtracking over the last star only, so a pattern of many stars
/// cannot take exponential time.
/// Whether `1 of` / `all of` a target takes the search `name`: `them` or a
/// pattern (matched by [`pattern_matches`]), never a name that starts with
/// `_`, which by convention no selector takes (the specification says so of
/// `them`, and the reference implementation applies it to patterns too).
pub fn selects(target: &Target, name: &str) -> bool {
    !name.starts_with('_')
        && match target {
            Target::Them => true,
            Target::Pattern(p) => pattern_matches(p, name),
        }
}

/// The operators of a condition written other than in lower case (`AND`,
/// `Not`): read here, but the reference implementation's grammar knows
/// only `and`, `or`, `not`, `1 of`, `any of`, `all of` and `them`.
pub fn unlike_reference(text: &str) -> Vec<&str> {
    const WORDS: [&str; 7] = ["and", "or", "not", "of", "all", "any", "them"];
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '*'))
        .filter(|w| WORDS.iter().any(|k| w.eq_ignore_ascii_case(k) && w != k))
        .collect()
}

pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

impl Cond {
    /// Every identifier and pattern the condition names, for validation.
    pub fn references<'c>(&'c self, out: &mut Vec<Reference<'c>>) {
        match self {
            Cond::Ident(s) => out.push(Reference::Name(s)),
            Cond::Not(c) => c.references(out),
            Cond::And(v) | Cond::Or(v) => v.iter().for_each(|c| c.references(out)),
            Cond::OneOf(t) | Cond::AllOf(t) => out.push(Reference::Selector(t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Cond {
        Cond::Ident(s.into())
    }

    #[test]
    fn precedence_or_and_not() {
        assert_eq!(
            parse("a or b and not c").unwrap(),
            Cond::Or(vec![
                id("a"),
                Cond::And(vec![id("b"), Cond::Not(Box::new(id("c")))])
            ])
        );
        assert_eq!(
            parse("(a or b) and c").unwrap(),
            Cond::And(vec![Cond::Or(vec![id("a"), id("b")]), id("c")])
        );
    }

    #[test]
    fn quantifiers() {
        assert_eq!(
            parse("1 of selection_* and not all of filter*").unwrap(),
            Cond::And(vec![
                Cond::OneOf(Target::Pattern("selection_*".into())),
                Cond::Not(Box::new(Cond::AllOf(Target::Pattern("filter*".into()))))
            ])
        );
        assert_eq!(parse("all of them").unwrap(), Cond::AllOf(Target::Them));
        assert_eq!(parse("NOT a").unwrap(), Cond::Not(Box::new(id("a"))));
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse("selection and").unwrap_err();
        assert_eq!(e.position, 13);
        let e = parse("a and (b or c").unwrap_err();
        assert!(e.message.contains("`)`"));
        let e = parse("selection | count() by host > 5").unwrap_err();
        assert_eq!(e.position, 10);
        assert!(e.message.contains("correlation"));
        assert!(parse("a b").is_err());
        assert!(parse("2 of them").is_err());
        assert!(parse("").is_err());
        assert!(parse("a $ b").is_err());
    }

    #[test]
    fn nesting_is_limited_not_a_stack_overflow() {
        let deep = "not ".repeat(20_000) + "a";
        let e = parse(&deep).unwrap_err();
        assert_eq!(
            e.message,
            "condition nested deeper than 64 levels of `not` and brackets"
        );
        assert_eq!(e.position, 4 * MAX_DEPTH);
        let deep = "(".repeat(20_000) + "a" + &")".repeat(20_000);
        let e = parse(&deep).unwrap_err();
        assert_eq!(e.position, MAX_DEPTH);
        let ok = "(".repeat(MAX_DEPTH) + "a" + &")".repeat(MAX_DEPTH);
        assert_eq!(parse(&ok).unwrap(), id("a"));
    }

    #[test]
    fn many_stars_take_linear_time() {
        let p = "*a".repeat(40) + "b";
        assert!(!pattern_matches(&p, &"a".repeat(200)));
        assert!(pattern_matches("*a*b", "xxaxxb"));
        assert!(pattern_matches("a*", "a"));
        assert!(!pattern_matches("a*c", "abcd"));
        assert!(pattern_matches("**", ""));
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("selection_*", "selection_img"));
        assert!(pattern_matches("*filter*", "main_filter_1"));
        assert!(!pattern_matches("sel*", "filter"));
    }
}
