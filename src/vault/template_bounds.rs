//! What would make Tera recurse without bound, refused before Tera reads a
//! template: its parser and its renderer recurse on nesting (brackets, block
//! tags) and on a chain of operators, and it lets a macro call itself
//! without end (tera#770). Any of these overflows the stack, which ends the
//! process; a template the analyst wrote gets an error naming its line
//! instead.

use std::collections::{HashMap, HashSet};
use tera::ast::{Expr, ExprVal, Node};

/// Block tags (`if`, `for`, `block`, `macro`, `filter`) nested in one
/// another, and brackets nested in one tag, at most.
pub const MOST_NESTING: usize = 64;
/// Operators in one tag at most (`+`, `~`, `and`, `==`, `not`, …).
pub const MOST_OPERATORS: usize = 256;

/// A template's text checked for nesting and chains Tera would recurse on:
/// the line and the problem of the first it finds.
pub fn check_text(text: &str) -> Result<(), (usize, String)> {
    let mut blocks = 0usize;
    let mut rest = text;
    let line_at = |rest: &str| 1 + text[..text.len() - rest.len()].matches('\n').count();
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let close = match rest.as_bytes().first() {
            Some(b'#') => "#}",
            Some(b'{') => "}}",
            Some(b'%') => "%}",
            _ => continue,
        };
        let line = line_at(rest);
        // A comment is text (`{# don't #}`): it ends at its first `#}`.
        let tag = match close {
            "#}" => rest[1..].find(close).map(|end| &rest[1..1 + end]),
            _ => tag_text(&rest[1..], close),
        };
        let Some(tag) = tag else {
            // Unterminated: Tera says so.
            return Ok(());
        };
        rest = &rest[1 + tag.len() + close.len()..];
        if close == "#}" {
            continue;
        }
        check_tag(tag).map_err(|why| (line, why))?;
        let word = first_word(tag);
        if close == "%}" && word == "raw" {
            rest = after_endraw(rest);
        } else if close == "%}" && matches!(word, "if" | "for" | "block" | "macro" | "filter") {
            blocks += 1;
            if blocks > MOST_NESTING {
                let why = format!("block tags nested more than {MOST_NESTING} deep");
                return Err((line, why));
            }
        } else if close == "%}" && word.starts_with("end") {
            blocks = blocks.saturating_sub(1);
        }
    }
    Ok(())
}

/// The text of a tag up to its `close`, strings skipped whole.
fn tag_text<'t>(from: &'t str, close: &str) -> Option<&'t str> {
    let mut quote: Option<char> = None;
    for (i, c) in from.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '"' | '\'' | '`') => quote = Some(c),
            None if from[i..].starts_with(close) => return Some(&from[..i]),
            None => {}
        }
    }
    None
}

/// A tag's first word, after its whitespace control.
fn first_word(tag: &str) -> &str {
    let t = tag.trim_start_matches(['-', '+']).trim_start();
    let end = t
        .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .unwrap_or(t.len());
    &t[..end]
}

/// Its brackets' nesting and its operators, counted outside strings.
fn check_tag(tag: &str) -> Result<(), String> {
    let (mut depth, mut operators) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut word = String::new();
    for c in tag.chars() {
        if let Some(q) = quote {
            quote = (c != q).then_some(q);
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        operators += usize::from(matches!(word.as_str(), "and" | "or" | "not" | "in" | "is"));
        word.clear();
        match c {
            '"' | '\'' | '`' => quote = Some(c),
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '+' | '-' | '*' | '/' | '%' | '~' | '<' | '>' | '=' | '!' => operators += 1,
            _ => {}
        }
        if depth > MOST_NESTING {
            return Err(format!("brackets nested more than {MOST_NESTING} deep"));
        }
    }
    operators += usize::from(matches!(word.as_str(), "and" | "or" | "not" | "in" | "is"));
    if operators > MOST_OPERATORS {
        return Err(format!(
            "more than {MOST_OPERATORS} operators in one tag (split the expression with `set`)"
        ));
    }
    Ok(())
}

/// What follows a `{% raw %}` block's end (none: the rest is raw).
fn after_endraw(rest: &str) -> &str {
    let mut at = rest;
    while let Some(open) = at.find("{%") {
        at = &at[open + 2..];
        if let Some(tag) = tag_text(at, "%}")
            && first_word(tag) == "endraw"
        {
            return &at[tag.len() + 2..];
        }
    }
    ""
}

/// A macro, by its template and name.
type MacroId = (String, String);

/// A macro that calls itself: its template, the line where it is defined,
/// and the chain of calls.
#[derive(Debug, PartialEq, Eq)]
pub struct Recursive {
    pub template: String,
    pub line: Option<usize>,
    pub why: String,
}

/// Macros that call themselves, directly or through others, in templates
/// (name, text) whose text passed [`check_text`]. A macro's calls are not
/// bounded by Tera, so any such chain is refused, even one meant to end.
pub fn check_macros(sources: &[(&str, &str)]) -> Result<(), Recursive> {
    let mut calls: HashMap<MacroId, Vec<MacroId>> = HashMap::new();
    for (name, text) in sources {
        // A template that does not parse is Tera's to report.
        let Ok(t) = tera::Template::new(name, None, text) else {
            continue;
        };
        let imported: HashMap<&str, &str> = (t.imported_macro_files.iter())
            .map(|(file, ns)| (ns.as_str(), file.as_str()))
            .collect();
        for (m, def) in &t.macros {
            let mut found = Vec::new();
            nodes(&def.body, &mut found);
            let targets = found.into_iter().filter_map(|(ns, callee)| {
                let file = if ns == "self" {
                    name
                } else {
                    imported.get(ns.as_str())?
                };
                Some((file.to_string(), callee))
            });
            calls.insert((name.to_string(), m.clone()), targets.collect());
        }
    }
    let mut starts: Vec<&MacroId> = calls.keys().collect();
    starts.sort();
    for start in starts {
        if let Some(chain) = cycle_from(start, &calls) {
            let shown: Vec<&str> = chain.iter().map(|(_, m)| m.as_str()).collect();
            let why = format!(
                "macro `{}` calls itself ({}): a macro's calls have no limit, and one without end overflows the stack, so a macro may not call itself, directly or through others",
                start.1,
                shown.join(" → ")
            );
            let text = sources.iter().find(|(n, _)| *n == start.0).map(|s| s.1);
            let defined = format!("macro {}", start.1);
            let line = text.and_then(|t| t.lines().position(|l| l.contains(&defined)));
            return Err(Recursive {
                template: start.0.clone(),
                line: line.map(|l| l + 1),
                why,
            });
        }
    }
    Ok(())
}

/// A chain of calls from `start` back to it, if there is one.
fn cycle_from(start: &MacroId, calls: &HashMap<MacroId, Vec<MacroId>>) -> Option<Vec<MacroId>> {
    let mut stack: Vec<(&MacroId, Vec<MacroId>)> = vec![(start, vec![start.clone()])];
    let mut seen: HashSet<&MacroId> = HashSet::new();
    while let Some((at, trail)) = stack.pop() {
        for next in calls.get(at).into_iter().flatten() {
            if next == start {
                return Some([trail.clone(), vec![start.clone()]].concat());
            }
            if seen.insert(next) {
                stack.push((next, [trail.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

/// The macro calls in nodes (namespace, macro).
fn nodes(body: &[Node], out: &mut Vec<(String, String)>) {
    for n in body {
        match n {
            Node::VariableBlock(_, e) => expr(e, out),
            Node::MacroDefinition(_, d, _) => nodes(&d.body, out),
            Node::Set(_, s) => expr(&s.value, out),
            Node::FilterSection(_, f, _) => {
                f.filter.args.values().for_each(|e| expr(e, out));
                nodes(&f.body, out);
            }
            Node::Block(_, b, _) => nodes(&b.body, out),
            Node::Forloop(_, f, _) => {
                expr(&f.container, out);
                nodes(&f.body, out);
                nodes(f.empty_body.as_deref().unwrap_or_default(), out);
            }
            Node::If(i, _) => {
                for (_, cond, body) in &i.conditions {
                    expr(cond, out);
                    nodes(body, out);
                }
                nodes(i.otherwise.as_ref().map_or(&[][..], |(_, b)| b), out);
            }
            _ => {}
        }
    }
}

fn expr(e: &Expr, out: &mut Vec<(String, String)>) {
    for f in &e.filters {
        f.args.values().for_each(|a| expr(a, out));
    }
    match &e.val {
        ExprVal::MacroCall(m) => {
            out.push((m.namespace.clone(), m.name.clone()));
            m.args.values().for_each(|a| expr(a, out));
        }
        ExprVal::FunctionCall(f) => f.args.values().for_each(|a| expr(a, out)),
        ExprVal::Math(m) => [&m.lhs, &m.rhs].into_iter().for_each(|x| expr(x, out)),
        ExprVal::Logic(l) => [&l.lhs, &l.rhs].into_iter().for_each(|x| expr(x, out)),
        ExprVal::In(i) => [&i.lhs, &i.rhs].into_iter().for_each(|x| expr(x, out)),
        ExprVal::Test(t) => t.args.iter().for_each(|a| expr(a, out)),
        ExprVal::Array(items) => items.iter().for_each(|a| expr(a, out)),
        ExprVal::StringConcat(s) => {
            for v in &s.values {
                expr(&Expr::new(v.clone()), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_templates_pass() {
        for (name, text) in super::super::templates::BUILTIN {
            assert_eq!(check_text(text), Ok(()), "{name}");
        }
        let all: Vec<(&str, &str)> = super::super::templates::BUILTIN.to_vec();
        assert_eq!(check_macros(&all), Ok(()));
    }

    #[test]
    fn nesting_and_chains_tera_would_recurse_on_are_refused_with_their_line() {
        let deep = |n: usize| format!("a\n{{{{ {}1{} }}}}\n", "(".repeat(n), ")".repeat(n));
        assert_eq!(check_text(&deep(64)), Ok(()));
        let e = check_text(&deep(65)).unwrap_err();
        assert_eq!(e, (2, "brackets nested more than 64 deep".to_string()));
        let ifs = |n: usize| format!("{}x{}", "{% if a %}".repeat(n), "{% endif %}".repeat(n));
        assert_eq!(check_text(&ifs(64)), Ok(()));
        assert_eq!(
            check_text(&ifs(64).repeat(3)),
            Ok(()),
            "siblings are no nesting"
        );
        let e = check_text(&ifs(65)).unwrap_err();
        assert_eq!(e.1, "block tags nested more than 64 deep");
        let chain = |n: usize| format!("{{{{ 1{} }}}}", " + 1".repeat(n));
        assert_eq!(check_text(&chain(256)), Ok(()));
        assert!(
            check_text(&chain(257))
                .unwrap_err()
                .1
                .contains("256 operators")
        );
        let words = format!("{{% if {} %}}x{{% endif %}}", vec!["a"; 300].join(" and "));
        assert!(check_text(&words).is_err());
        // Strings, comments and raw blocks are text, not nesting.
        let quoted = format!("{{{{ \"{}\" ~ '%}}' }}}}", "(".repeat(500));
        assert_eq!(check_text(&quoted), Ok(()));
        let raw = format!(
            "{{% raw %}}{}{{% endraw %}}{{{{ x }}}}",
            "{{ ((((".repeat(100)
        );
        assert_eq!(check_text(&raw), Ok(()));
        assert_eq!(check_text(&format!("{{# {} #}}", "(".repeat(500))), Ok(()));
        // A quote in a comment hides nothing after it.
        let after = format!("{{# don't #}}\n{}", deep(65));
        assert_eq!(check_text(&after).unwrap_err().0, 3);
    }

    #[test]
    fn macros_that_call_themselves_are_refused_with_the_chain() {
        let own =
            "{% macro boom(n) %}{{ self::boom(n=n+1) }}{% endmacro boom %}{{ self::boom(n=0) }}";
        let e = check_macros(&[("group.md", &format!("x\n{own}"))]).unwrap_err();
        assert_eq!((e.template.as_str(), e.line), ("group.md", Some(2)));
        assert!(
            e.why.starts_with("macro `boom` calls itself (boom → boom)"),
            "{}",
            e.why
        );
        let lib = "{% import \"other.md\" as m %}\
                   {% macro a() %}{% if x %}{{ self::b() | upper }}{% endif %}{% endmacro a %}\
                   {% macro b() %}{% for i in [1] %}{{ m::c() }}{% endfor %}{% endmacro b %}";
        let other = "{% import \"lib.md\" as l %}{% macro c() %}{{ l::a() }}{% endmacro c %}";
        let e = check_macros(&[("lib.md", lib), ("other.md", other)]).unwrap_err();
        assert!(e.why.contains("(a → b → c → a)"), "{}", e.why);
        // Calls that come back to no macro are fine.
        let fine = "{% macro a() %}{{ self::b() }}{% endmacro a %}{% macro b() %}x{% endmacro b %}";
        assert_eq!(check_macros(&[("f.md", fine)]), Ok(()));
    }
}
