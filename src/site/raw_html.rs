//! How deep a note's own HTML nests. The sanitiser's HTML parser looks
//! through every open element at each tag it reads, so a note of a few
//! hundred kilobytes of `<div>`s nested inside one another takes minutes to
//! export. HTML nested deeper than [`MAX_DEPTH`] elements is shown as text:
//! no note written to be read nests that deep.

/// Elements of a note's raw HTML open at once, at most.
pub const MAX_DEPTH: usize = 256;

/// Elements that are never open: they have no content and no end tag.
const VOID: [&str; 14] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// Elements a start tag of the same name closes (`<li>a<li>b`).
const SELF_CLOSING_SIBLINGS: [&str; 8] = ["p", "li", "dt", "dd", "option", "tr", "td", "th"];

/// The elements a note's raw HTML left open so far, followed across its
/// HTML blocks and inline tags. It errs on the deep side (a tag inside an
/// attribute value counts), never on the shallow one.
#[derive(Debug, Default)]
pub struct RawNesting {
    open: Vec<String>,
    /// Set once the HTML went too deep: the rest of the note's raw HTML is
    /// text too, so that no later tag goes deeper.
    spent: bool,
}

impl RawNesting {
    /// Follows the tags of `html`; false when they open more than
    /// [`MAX_DEPTH`] elements (the HTML is then to be shown as text).
    pub fn admit(&mut self, html: &str) -> bool {
        if self.spent {
            return false;
        }
        let bytes = html.as_bytes();
        for (at, _) in html.match_indices('<') {
            let rest = &bytes[at + 1..];
            let (closing, name) = match rest.first() {
                Some(b'/') => (true, tag_name(&rest[1..])),
                _ => (false, tag_name(rest)),
            };
            if name.is_empty() {
                continue;
            }
            let name = name.to_ascii_lowercase();
            if closing {
                self.close(&name);
            } else if !self.open_tag(name) {
                self.spent = true;
                return false;
            }
        }
        true
    }

    fn open_tag(&mut self, name: String) -> bool {
        let sibling = SELF_CLOSING_SIBLINGS.contains(&name.as_str())
            && self.open.last().is_some_and(|top| *top == name);
        if VOID.contains(&name.as_str()) || sibling {
            return true;
        }
        self.open.push(name);
        self.open.len() <= MAX_DEPTH
    }

    /// An end tag closes its element and those opened inside it; one that
    /// closes nothing open is left out, as a browser leaves it.
    fn close(&mut self, name: &str) {
        if let Some(i) = self.open.iter().rposition(|n| n == name) {
            self.open.truncate(i);
        }
    }
}

/// The name a tag starts with: letters, digits and dashes after a letter.
fn tag_name(after: &[u8]) -> &str {
    if !after.first().is_some_and(u8::is_ascii_alphabetic) {
        return "";
    }
    let end = after
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-'))
        .unwrap_or(after.len());
    // ASCII only, so always a character boundary.
    std::str::from_utf8(&after[..end]).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_as_notes_write_it_is_admitted() {
        let mut n = RawNesting::default();
        for html in [
            "<details><summary>More</summary>",
            "<ul><li>a<li>b</ul><p>x<p>y",
            "<img src=x><br><hr/>",
            "</details>",
            "<!-- a comment --> 3 < 4",
        ] {
            assert!(n.admit(html), "{html}");
        }
        assert!(n.open.len() <= 1, "{:?}", n.open);
        let deep = "<div>".repeat(MAX_DEPTH) + &"</div>".repeat(MAX_DEPTH);
        assert!(RawNesting::default().admit(&deep));
    }

    #[test]
    fn html_nested_too_deep_is_refused_and_so_is_the_rest() {
        let mut n = RawNesting::default();
        assert!(!n.admit(&"<div>".repeat(MAX_DEPTH + 1)));
        assert!(!n.admit("<b>later</b>"), "the rest of the note's HTML");
        let mut n = RawNesting::default();
        let lines = vec!["<section>"; MAX_DEPTH + 1];
        let admitted = lines.iter().take_while(|l| n.admit(l)).count();
        assert_eq!(admitted, MAX_DEPTH, "counted across HTML blocks");
        // End tags that close nothing open do not hide the depth.
        let mut n = RawNesting::default();
        assert!(!n.admit(&"<div></span>".repeat(MAX_DEPTH + 1)));
        // `/>` closes no element that is not void, in HTML.
        assert!(!RawNesting::default().admit(&"<div/>".repeat(MAX_DEPTH + 1)));
    }
}
