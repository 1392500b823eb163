//! Obsidian's inline footnotes (`text^[a note of its own]`), which
//! CommonMark lacks: each becomes a footnote reference where it was written,
//! and its text a definition at the end of the note, so that the site
//! numbers and lists it with the note's other footnotes, as Obsidian does.
//!
//! A note is rewritten line by line, its code and links apart
//! ([`crate::vault::literal`]): an inline footnote may hold a `[[link]]` or
//! `code`, whose brackets do not count; one not closed on its line stays
//! text, as written.

/// The inline footnotes of one note, gathered as its lines are rewritten.
#[derive(Debug)]
pub struct InlineNotes<'m> {
    /// The whole note, whose own footnote labels the generated ones avoid.
    md: &'m str,
    /// The definitions so far, as Markdown.
    defs: String,
    count: usize,
    /// The label's prefix, chosen to be no label the note uses.
    prefix: Option<String>,
    /// The one being read: its text so far and how many `[` are open.
    open: Option<(String, usize)>,
}

impl<'m> InlineNotes<'m> {
    /// The inline footnotes of the note `md`.
    pub fn of(md: &'m str) -> Self {
        InlineNotes {
            md,
            defs: String::new(),
            count: 0,
            prefix: None,
            open: None,
        }
    }

    /// Rewrite a plain part of a line (not code, not a link) into `out`;
    /// `rewrite` rewrites the text outside the notes' brackets and within
    /// them (tags), given where it goes.
    pub fn plain(
        &mut self,
        text: &str,
        out: &mut String,
        rewrite: &mut dyn FnMut(&str, &mut String),
    ) {
        let mut rest = text;
        while !rest.is_empty() {
            let Some((note, depth)) = self.open.as_mut() else {
                match rest.find("^[") {
                    Some(at) => {
                        rewrite(&rest[..at], out);
                        self.open = Some((String::new(), 1));
                        rest = &rest[at + 2..];
                        continue;
                    }
                    None => {
                        rewrite(rest, out);
                        return;
                    }
                }
            };
            let Some(end) = closing(rest, depth) else {
                rewrite(rest, note);
                return;
            };
            rewrite(&rest[..end], note);
            let (note, _) = self.open.take().unwrap_or_default();
            self.close(note, out);
            rest = &rest[end + 1..];
        }
    }

    /// A literal part of a line (code, a link): inside a note, part of it.
    pub fn literal(&mut self, text: &str, out: &mut String) {
        match self.open.as_mut() {
            Some((note, _)) => note.push_str(text),
            None => out.push_str(text),
        }
    }

    /// The end of a line: a note still open was no note, and stays text.
    pub fn end_line(&mut self, out: &mut String) {
        if let Some((note, _)) = self.open.take() {
            out.push_str("^[");
            out.push_str(&note);
        }
    }

    /// What the note's end needs: the definitions of its inline notes.
    pub fn definitions(self) -> String {
        self.defs
    }

    fn close(&mut self, note: String, out: &mut String) {
        if note.trim().is_empty() {
            out.push_str("^[");
            out.push_str(&note);
            out.push(']');
            return;
        }
        let md = self.md;
        let prefix = self.prefix.get_or_insert_with(|| unused_prefix(md));
        self.count += 1;
        let label = format!("{prefix}-{}", self.count);
        out.push_str(&format!("[^{label}]"));
        self.defs
            .push_str(&format!("\n[^{label}]: {}\n", note.trim()));
    }
}

/// `inline`, with more `_` after it than any `[^inline___` of the note
/// has, so that no label made from it is one of the note's own; found in
/// one pass, whatever the note holds.
fn unused_prefix(md: &str) -> String {
    let longest = md
        .match_indices("[^inline")
        .map(|(at, m)| {
            md[at + m.len()..]
                .bytes()
                .take_while(|&b| b == b'_')
                .count()
        })
        .max();
    let underscores = longest.map_or(0, |n| n + 1);
    format!("inline{}", "_".repeat(underscores))
}

/// Where the `]` that closes a note with `depth` brackets open lies in
/// `text`, if it does; `depth` counts the brackets met on the way.
fn closing(text: &str, depth: &mut usize) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'[' => *depth += 1,
            b']' => {
                *depth -= 1;
                if *depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labels_prefix_is_none_the_note_uses() {
        assert_eq!(unused_prefix("no labels [^1]"), "inline");
        assert_eq!(unused_prefix("[^inline-1]"), "inline_");
        assert_eq!(
            unused_prefix("[^inline-1] [^inline__-2] [^inline_x]"),
            "inline___"
        );
    }
}
