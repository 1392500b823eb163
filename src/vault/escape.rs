//! Plain text from the sources (titles, names, Sigma and atomic descriptions)
//! made to stay text where it lands in a note: one function per context.
//! CommonMark lets a backslash escape any ASCII punctuation, so an escaped
//! character renders as itself in Obsidian and on the site alike. Text that
//! is Markdown already (ATT&CK descriptions) goes through `text::convert`,
//! not through here.

/// Characters that start markup anywhere in a line: links and embeds,
/// emphasis, strikethrough, code, HTML, math, tags, table cells, heading
/// attributes (and with them inline footnotes, `^[`).
fn always(c: char) -> bool {
    matches!(
        c,
        '\\' | '[' | ']' | '*' | '_' | '`' | '<' | '>' | '$' | '#' | '|' | '{' | '~'
    )
}

/// Characters that are markup when doubled: `==highlight==`,
/// `%%comment%%`.
fn doubled(c: char) -> bool {
    matches!(c, '=' | '%')
}

fn push_escaped(out: &mut String, text: &str, newline: &str) {
    let mut chars = text.chars().peekable();
    let mut prev = '\0';
    while let Some(c) = chars.next() {
        let in_run = doubled(c) && (prev == c || chars.peek() == Some(&c));
        // ` ^word` ending a paragraph or list item is a block id, which
        // Obsidian hides: a regex's anchor (`Lines like ^cmd`).
        let block_id = c == '^'
            && (prev == '\0' || prev.is_whitespace())
            && chars
                .peek()
                .is_some_and(|n| n.is_alphanumeric() || *n == '-');
        match c {
            '\r' => {}
            '\n' => out.push_str(newline),
            c if c.is_control() => out.push(' '),
            c if always(c) || in_run || block_id => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        prev = c;
    }
}

/// One line of text: a heading, a list item, a callout line. Line breaks
/// become spaces, so a title can never split its heading.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    push_escaped(&mut out, text.trim(), " ");
    out
}

/// Text of several lines (a rule's description, a test's steps): lines,
/// lists and their nesting are kept; no line becomes a heading, a quote or a
/// rule.
pub fn block(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, line) in text.trim().split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Indentation stays: nested lists in steps need it.
        let indent = line.len() - line.trim_start().len();
        let (lead, rest) = line.split_at(indent);
        out.push_str(lead);
        // `---` or `===` under a line would make it a heading.
        let underline = rest.trim_end();
        if !underline.is_empty() && underline.chars().all(|c| c == '-' || c == '=' || c == ' ') {
            out.push('\\');
        }
        push_escaped(&mut out, rest.trim_end_matches('\r'), "\n");
    }
    out
}

/// The display text of a wikilink: `[[stem|alias]]`. Obsidian ends the alias
/// at `]]` whatever comes before, so brackets and pipes cannot be escaped
/// there; they become lookalike-free substitutes.
pub fn alias(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| match c {
            '|' => '-',
            '[' => '(',
            ']' => ')',
            c => c,
        })
        .collect();
    inline(&flat)
}

/// A text or list property's value. Obsidian reads `[[…]]` in a property
/// as a link (and our `check` with it), and no escape stops that inside a
/// property, so doubled brackets become parentheses, as in a link's display
/// text. The source's own text stays in the note (a rule's YAML).
pub fn property(text: String) -> String {
    if text.contains("[[") || text.contains("]]") {
        text.replace("[[", "((").replace("]]", "))")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile strings and what must not survive in the output as markup.
    const HOSTILE: &[&str] = &[
        "Evil [[Home]]",
        "# x",
        "line one\nline two",
        "![[embed.png]]",
        "<script>alert(1)</script>",
        "*bold* _it_ `code`",
        "$x^2$ and #tag",
        "a | b",
        "==mark== ~~gone~~ %%hidden%%",
        "[label](http://x)",
        "\\[[escaped]]",
        "ends with \\",
    ];

    fn rendered(md: &str) -> String {
        let mut html = String::new();
        let parser = pulldown_cmark::Parser::new_ext(md, crate::vault::anchors::options());
        pulldown_cmark::html::push_html(&mut html, parser);
        html
    }

    #[test]
    fn hostile_text_renders_as_the_same_text() {
        for s in HOSTILE {
            let md = format!("# {}", inline(s));
            let html = rendered(&md);
            assert!(html.starts_with("<h1>"), "{s:?} → {html}");
            assert_eq!(html.matches("<h1>").count(), 1, "{s:?} → {html}");
            for tag in [
                "<a ", "<img", "<script", "<em>", "<strong>", "<code>", "<del>", "<mark>",
            ] {
                assert!(!html.contains(tag), "{s:?} → {html}");
            }
            assert!(!md.contains("[[") || md.contains("\\[\\["), "{md}");
        }
    }

    #[test]
    fn blocks_keep_lines_and_open_no_block() {
        let b = block("first\n# not a heading\n> not a quote\n    code?\nabove\n---\n- item");
        assert_eq!(b.lines().count(), 7);
        let html = rendered(&b);
        for tag in ["<h1>", "<h2>", "<blockquote>", "<hr", "<pre>"] {
            assert!(!html.contains(tag), "{html}");
        }
        assert!(html.contains("<li>item</li>"), "lists stay lists: {html}");
    }

    #[test]
    fn a_regex_anchor_is_no_block_id_and_a_caret_no_footnote() {
        // Obsidian hides ` ^word` ending a paragraph or list item as its
        // block id, and reads `^[…]` as an inline footnote.
        assert_eq!(inline("Lines like ^cmd"), "Lines like \\^cmd");
        assert_eq!(
            block("starts with ^powershell"),
            "starts with \\^powershell"
        );
        assert_eq!(inline("^[a-z] and x^2"), "^\\[a-z\\] and x^2");
    }

    #[test]
    fn aliases_never_end_the_link() {
        let a = alias("Evil [[Home]] | x");
        assert!(!a.contains("]]") && !a.contains('|'), "{a}");
    }
}
