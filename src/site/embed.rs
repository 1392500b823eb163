//! Notes embedded in notes, as Obsidian shows them: `![[Note]]` puts the
//! note's text in place, `![[Note#Heading]]` the section under that
//! heading, `![[Note#^id]]` the paragraph or list item that block id ends.
//!
//! The embedded text is rendered with the embedding page's link resolver,
//! so its links lead where they would from that page. Only notes that have
//! a page of their own are embedded: a note left out of the site stays out
//! of every page. Nesting is bounded in depth, a note never embeds itself
//! through its own embeds, and one page embeds at most [`BUDGET`] notes and
//! [`MAX_BYTES`] of their text in all, so that a hostile vault cannot make a
//! page grow without end.

/// How deeply embeds nest (a note embedding a note embedding ...).
pub const MAX_DEPTH: usize = 4;

/// How many notes one page embeds, at every depth together.
pub const BUDGET: usize = 256;

/// How much embedded text one page shows, at every depth together.
pub const MAX_BYTES: usize = 4 << 20;

/// What a page has spent of its budgets on embeds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    notes: usize,
    bytes: usize,
}

impl Spent {
    /// Whether one more embed of `len` bytes of text may be shown; if so,
    /// it is counted.
    /// How many embeds have been shown: the last one's number.
    pub fn shown(&self) -> usize {
        self.notes
    }

    /// Whether no more embed can be shown, whatever its length.
    pub fn exhausted(&self) -> bool {
        self.notes >= BUDGET || self.bytes >= MAX_BYTES
    }

    pub fn take(&mut self, len: usize) -> bool {
        if self.notes >= BUDGET || self.bytes + len > MAX_BYTES {
            return false;
        }
        self.notes += 1;
        self.bytes += len;
        true
    }
}

/// A note an embed names, as the resolver finds it.
#[derive(Debug, Clone, Hash)]
pub struct Embed {
    /// Its page, relative to the embedding page.
    pub url: String,
    pub title: String,
    /// Its text after the properties.
    pub body: String,
}

/// An embedded note as a block of the page: a link to its page (to the
/// heading or block named), then its text as `html` renders it.
pub fn block_html(e: &Embed, anchor: Option<&str>, html: &str) -> String {
    let href = crate::vault::anchors::anchored(e.url.clone(), anchor);
    let name = match anchor.map(|a| a.rsplit('#').next().unwrap_or(a)) {
        Some(heading) if !heading.starts_with('^') => format!("{} › {heading}", e.title),
        _ => e.title.clone(),
    };
    format!(
        "<div class=\"embed\"><p class=\"embed-title\"><a href=\"{}\">{}</a></p>\n{html}</div>\n",
        super::html_escape(&href),
        super::html_escape(&name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::markdown::{LinkResolver, Rendered, render};
    use crate::vault::anchors::tests::NOTE;

    /// A vault of notes by name, each page at `<name>.html`; the tags
    /// carried by the page rendered are recorded.
    /// How often a note was asked for its text is counted.
    struct Vault(
        Vec<(&'static str, String)>,
        std::sync::Mutex<Vec<String>>,
        std::sync::atomic::AtomicUsize,
    );

    impl LinkResolver for Vault {
        fn resolve(&self, t: &str) -> Option<String> {
            let (name, _) = self.0.iter().find(|(n, _)| *n == t)?;
            Some(format!("{name}.html"))
        }
        fn tag_url(&self, tag: &str) -> String {
            self.1.lock().unwrap().push(tag.to_string());
            self.embedded_tag_url(tag)
        }
        fn embedded_tag_url(&self, tag: &str) -> String {
            format!("tags/{tag}.html")
        }
        fn embed(&self, t: &str) -> Option<Embed> {
            self.2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (name, body) = self.0.iter().find(|(n, _)| *n == t)?;
            Some(Embed {
                url: format!("{name}.html"),
                title: format!("{name} title"),
                body: body.clone(),
            })
        }
    }

    fn vault(notes: &[(&'static str, &str)]) -> Vault {
        let notes = notes.iter().map(|(n, b)| (*n, b.to_string())).collect();
        Vault(notes, Default::default(), Default::default())
    }

    fn page(v: &Vault, md: &str) -> Rendered {
        render(md, v)
    }

    #[test]
    fn an_embed_alone_in_its_paragraph_shows_the_note_in_place() {
        let v = vault(&[("Playbook", NOTE), ("Other", "Other text #other\n")]);
        let h = page(&v, "Before.\n\n![[Playbook]]\n![[Other]]\n\nAfter.\n").html;
        assert!(h.contains("<div class=\"embed\"><p class=\"embed-title\"><a href=\"Playbook.html\">Playbook title</a></p>"), "{h}");
        assert!(
            h.contains("<p>Intro.</p>") && h.contains("Other text"),
            "{h}"
        );
        assert!(!h.contains("<p><div"), "no block inside a paragraph: {h}");
        assert!(!h.contains("# Title"), "the title line is the embed's link");
        assert!(h.contains("<h2>Triage</h2>"), "no anchors of its own: {h}");
        assert!(!h.contains("id=\"^scope\""), "{h}");
        assert!(h.contains("href=\"tags/other.html\""), "{h}");
        assert!(
            v.1.lock().unwrap().is_empty(),
            "an embedded tag is not the page's"
        );
        let section = page(&v, "![[Playbook#Triage]]\n").html;
        assert!(
            section.contains("href=\"Playbook.html#triage\">Playbook title › Triage</a>"),
            "{section}"
        );
        assert!(
            section.contains("Look at the parent") && !section.contains("All hosts"),
            "{section}"
        );
        let block = page(&v, "![[Playbook#^scope]]\n").html;
        assert!(
            block.contains("All hosts.") && !block.contains("Intro"),
            "{block}"
        );
        assert!(block.contains("href=\"Playbook.html#^scope\""), "{block}");
    }

    #[test]
    fn embeds_that_cannot_be_shown_in_place_stay_links() {
        let v = vault(&[("Playbook", NOTE)]);
        for md in [
            "See ![[Playbook]] here.\n",
            "![[Playbook#No such heading]]\n",
            "![[Nowhere]]\n",
            "![[diagram.png]]\n",
            "- ![[Playbook]]\n",
        ] {
            let h = page(&v, md).html;
            assert!(!h.contains("class=\"embed\""), "{md}: {h}");
            assert!(!h.contains("Intro."), "{md}: {h}");
        }
        let h = page(&v, "See ![[Playbook]] here.\n").html;
        assert!(h.contains("<a href=\"Playbook.html\">Playbook</a>"), "{h}");
    }

    #[test]
    fn embeds_end_at_a_cycle_and_within_depth_and_budget() {
        let v = vault(&[
            ("A", "A says ![[B]]\n\n![[B]]\n"),
            ("B", "B says\n\n![[A]]\n"),
        ]);
        let h = page(&v, "![[A]]\n").html;
        assert_eq!(
            h.matches("class=\"embed\"").count(),
            2,
            "A, then B in it: {h}"
        );
        let chain: Vec<(&'static str, String)> = (0..10)
            .map(|i| {
                (
                    ["N0", "N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"][i],
                    format!("level {i}\n\n![[N{}]]\n", i + 1),
                )
            })
            .collect();
        let v = Vault(chain, Default::default(), Default::default());
        let h = page(&v, "![[N0]]\n").html;
        assert_eq!(h.matches("class=\"embed\"").count(), MAX_DEPTH, "{h}");
        // Each note embeds the next ten times over: 10^4 at the fourth level.
        let wide: Vec<(&'static str, String)> = (0..5)
            .map(|i| {
                (
                    ["W0", "W1", "W2", "W3", "W4"][i],
                    format!("![[W{}]]\n", i + 1).repeat(10),
                )
            })
            .collect();
        let v = Vault(wide, Default::default(), Default::default());
        let h = page(&v, "![[W0]]\n").html;
        assert_eq!(h.matches("class=\"embed\"").count(), BUDGET, "{}", h.len());
        // Large notes: the text budget ends it first.
        let big = format!("{}\n", "word ".repeat(MAX_BYTES / 10));
        let v = vault(&[("Big", &big)]);
        let h = page(&v, "![[Big]]\n![[Big]]\n![[Big]]\n").html;
        assert_eq!(h.matches("class=\"embed\"").count(), 2, "{}", h.len());
    }

    #[test]
    fn past_its_budget_a_page_asks_for_no_more_embedded_notes() {
        let blocks: String = (0..2000).map(|i| format!("para {i} ^b{i}\n\n")).collect();
        let v = vault(&[("Blocks", &blocks)]);
        let md: String = (0..2000)
            .map(|i| format!("![[Blocks#^b{i}]]\n\n"))
            .collect();
        let h = page(&v, &md).html;
        assert_eq!(h.matches("class=\"embed\"").count(), BUDGET);
        assert!(h.contains("<p>para 255</p>") && !h.contains("<p>para 256</p>"));
        let asked = v.2.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            asked, BUDGET,
            "the note is no more asked for once the budget is spent"
        );
    }

    #[test]
    fn an_embedded_notes_footnotes_are_its_own() {
        let v = vault(&[("Src", "Claim.[^1]\n\n[^1]: Their source.\n")]);
        let h = page(&v, "Mine.[^1]\n\n![[Src]]\n![[Src]]\n\n[^1]: My source.\n").html;
        for id in ["\"#1\"", "\"#embed-1-1\"", "\"#embed-2-1\""] {
            assert_eq!(h.matches(id).count(), 1, "{id} in {h}");
        }
        for id in ["id=\"1\"", "id=\"embed-1-1\"", "id=\"embed-2-1\""] {
            assert_eq!(h.matches(id).count(), 1, "{id} in {h}");
        }
    }

    #[test]
    fn what_an_embedded_note_holds_is_sanitised_with_the_page() {
        let v = vault(&[("Evil", "<img src=x onerror=alert(1)>\n")]);
        assert!(page(&v, "![[Evil]]\n").needs_sanitizing);
        assert!(!page(&vault(&[("Good", "Fine.\n")]), "![[Good]]\n").needs_sanitizing);
    }

    #[test]
    fn html_left_open_by_embeds_nests_what_follows_and_is_bounded_with_the_page() {
        use crate::site::raw_html::MAX_DEPTH;
        let open = "<section>\n".repeat(MAX_DEPTH / 2);
        let v = vault(&[("Open", &open)]);
        let html = page(&v, &"![[Open]]\n\n".repeat(8)).html;
        assert_eq!(html.matches("<section>").count(), MAX_DEPTH, "{html:.200}");
        assert!(html.contains("&lt;section&gt;"), "the rest is text");
    }
}
