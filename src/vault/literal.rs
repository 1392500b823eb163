//! Where a note's text is taken as written: code (spans, fenced and
//! indented blocks, also inside callouts and lists), raw HTML, and links.
//! Obsidian's own syntax (`%% comments %%`, `#tags`, callout headers) means
//! nothing there, and a wikilink in code is no link. Found by the Markdown
//! parser itself, so that every reader of notes (`check`, the site) agrees
//! with the rendering on where code begins and ends.

use pulldown_cmark::{Event, Parser, Tag};
use std::ops::Range;

/// What a literal stretch of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A code span or a code block.
    Code,
    /// An HTML block or inline HTML.
    Html,
    /// A link or an image, wikilinks included: its text and its target.
    Link,
}

/// A literal stretch of a text: its bytes and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Literal {
    pub at: Range<usize>,
    pub kind: Kind,
}

/// The literal stretches of `md`, in order, none inside another.
pub fn spans(md: &str) -> Vec<Literal> {
    let mut found: Vec<Literal> = Vec::new();
    let parser = Parser::new_ext(md, super::anchors::options()).into_offset_iter();
    for (e, at) in parser {
        let kind = match e {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => Kind::Code,
            Event::Html(_) | Event::InlineHtml(_) | Event::Start(Tag::HtmlBlock) => Kind::Html,
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => Kind::Link,
            _ => continue,
        };
        // Events arrive in document order; what lies inside the last
        // stretch (an HTML block's lines, a link's code) is part of it.
        if found.last().is_some_and(|l| at.start < l.at.end) {
            continue;
        }
        found.push(Literal { at, kind });
    }
    found
}

/// `md` with its code left out, line breaks kept (so that what follows
/// keeps its line): what is read for links and footnotes.
pub fn without_code(md: &str) -> String {
    if !might_hold_code(md) {
        return md.to_string();
    }
    let mut out = String::with_capacity(md.len());
    let mut from = 0;
    for l in spans(md).into_iter().filter(|l| l.kind == Kind::Code) {
        out.push_str(&md[from..l.at.start]);
        out.extend(md[l.at.clone()].chars().filter(|&c| c == '\n'));
        from = l.at.end;
    }
    out.push_str(&md[from..]);
    out
}

/// Whether a text can hold code at all: a backtick or tilde fence, or an
/// indented line. Most notes of a vault have none, and are not parsed.
fn might_hold_code(md: &str) -> bool {
    md.contains('`') || md.contains("~~~") || md.lines().any(indented)
}

/// A line indented as an indented code block's are.
fn indented(line: &str) -> bool {
    line.starts_with("    ") || line.starts_with('\t')
}

/// How far into a text no code or raw HTML can have begun: up to its first
/// backtick, tilde, `<` or indented line (the byte length where there is
/// none). What lies before needs no parse to be known as plain text.
pub fn plain_prefix(md: &str) -> usize {
    let marker = md.find(['`', '~', '<']).unwrap_or(md.len());
    let mut at = 0;
    for line in md.split_inclusive('\n') {
        if at >= marker || indented(line) {
            return at.min(marker);
        }
        at += line.len();
    }
    marker
}

/// A line of a text cut at the literal stretches: (part, whether literal),
/// in order. `at` is where the line starts in the text; `next` the first
/// of `spans` that may still reach this line or a later one (lines are
/// asked in order).
pub fn cut<'t>(
    line: &'t str,
    at: usize,
    spans: &[Literal],
    next: &mut usize,
) -> Vec<(&'t str, bool)> {
    let end = at + line.len();
    while spans.get(*next).is_some_and(|l| l.at.end <= at) {
        *next += 1;
    }
    let mut parts = Vec::new();
    let mut from = at;
    for l in spans[*next..].iter().take_while(|l| l.at.start < end) {
        let (s, e) = (l.at.start.max(at), l.at.end.min(end));
        if s > from {
            parts.push((&line[from - at..s - at], false));
        }
        parts.push((&line[s - at..e - at], true));
        from = e;
    }
    if from < end {
        parts.push((&line[from - at..], false));
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal_text(md: &str) -> Vec<(&str, Kind)> {
        spans(md).into_iter().map(|l| (&md[l.at], l.kind)).collect()
    }

    #[test]
    fn code_in_callouts_lists_and_indents_is_found_as_the_renderer_finds_it() {
        let md = "a `x %% y` b\n\n> [!note]\n> ```bat\n> for %%f in (*) do x\n> ```\n\n- item\n  ```c\n  #include <a.h>\n  ```\n\nText.\n\n    #define X\n";
        let found = literal_text(md);
        let code: Vec<&str> = found
            .iter()
            .filter(|(_, k)| *k == Kind::Code)
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(code.len(), 4, "{found:?}");
        assert_eq!(code[0], "`x %% y`");
        assert!(code[1].contains("for %%f") && code[1].starts_with("```bat"));
        assert!(code[2].contains("#include"));
        assert!(code[3].contains("#define X"));
    }

    #[test]
    fn html_blocks_and_links_are_literal_and_nothing_nests() {
        let md = "<details>\n#ioc `x`\n</details>\n\nsee [a `b` #c](u) and [[N|#d]] <b>#e</b>\n";
        let found = literal_text(md);
        assert_eq!(
            found,
            [
                ("<details>\n#ioc `x`\n</details>\n", Kind::Html),
                ("[a `b` #c](u)", Kind::Link),
                ("[[N|#d]]", Kind::Link),
                ("<b>", Kind::Html),
                ("</b>", Kind::Html),
            ]
        );
    }

    #[test]
    fn without_code_keeps_lines_and_links() {
        let md = "[[A]] `[[B]]`\n```\n[[C]]\n```\n[[D]]\n";
        assert_eq!(without_code(md), "[[A]] \n\n\n\n[[D]]\n");
        let md = "Text\n\n    [[indented code]]\n\n~~~\n[[E]]\n~~~\n[[F]]\n";
        assert_eq!(without_code(md), "Text\n\n    \n\n\n\n\n[[F]]\n");
        assert_eq!(without_code("no code [[G]]\n"), "no code [[G]]\n");
    }

    #[test]
    fn the_plain_prefix_ends_where_code_or_html_could_begin() {
        assert_eq!(plain_prefix("# T\n\n> [!info] x\n"), 17);
        assert_eq!(plain_prefix("# T\nsee `x`\n"), 8);
        assert_eq!(plain_prefix("# T\n<div>\n"), 4);
        assert_eq!(plain_prefix("# T\n\n    code\n`x`"), 5);
        assert_eq!(plain_prefix("a\n\tcode\n"), 2);
    }

    #[test]
    fn a_line_is_cut_at_the_stretches_that_reach_it() {
        let md = "a `b` c\n```\nx\n```\nd\n";
        let s = spans(md);
        let mut next = 0;
        let mut at = 0;
        let mut all = Vec::new();
        for line in md.split_inclusive('\n') {
            all.push(cut(line, at, &s, &mut next));
            at += line.len();
        }
        assert_eq!(
            all,
            [
                vec![("a ", false), ("`b`", true), (" c\n", false)],
                vec![("```\n", true)],
                vec![("x\n", true)],
                vec![("```", true), ("\n", false)],
                vec![("d\n", false)],
            ]
        );
    }
}
