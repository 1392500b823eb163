//! Where a link's anchor lands in a note, as Obsidian reads it:
//! `[[Note#Heading]]` names a heading (the last of `Note#Chapter#Section`),
//! matched by its slug, and `[[Note#^id]]` the paragraph or list item that
//! block id ends. `check` asks whether an anchor lands anywhere; the site
//! links to it and shows the part of the note an embed names. One reading
//! of headings and block ids for both, so they never disagree.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::collections::HashMap;
use std::ops::Range;

/// The Markdown of a note: what Obsidian shows of CommonMark, tables,
/// footnotes, strikethrough, task lists and wikilinks.
pub fn options() -> Options {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_FOOTNOTES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    opts.insert(Options::ENABLE_WIKILINKS);
    opts
}

/// The slug of a heading, as used in `#anchor` links (GitHub/Obsidian-like:
/// lower case, spaces to dashes, punctuation dropped; accents composed, so
/// that a heading saved decomposed keeps them and meets a link typed
/// composed).
pub fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in super::resolve::composed(text.trim()).chars() {
        if c.is_alphanumeric() {
            s.extend(c.to_lowercase());
        } else if (c == ' ' || c == '-' || c == '_') && !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "section".into() } else { s }
}

/// A block id at the end of a block's text (`Some text ^id1`, letters,
/// digits and dashes): the text before it and the id with its `^`, which
/// Obsidian hides and links name (`[[Note#^id1]]`).
pub fn block_id(text: &str) -> Option<(&str, &str)> {
    let at = text.rfind(" ^")?;
    let id = &text[at + 1..];
    let ok = id.len() > 1
        && id[1..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| (text[..at].trim_end(), id))
}

/// A page's URL with the anchor of a heading (`Note#Heading`, the last
/// of nested ones) or of a block (`^id`, kept as [`block_id`] marks it).
pub fn anchored(url: String, anchor: Option<&str>) -> String {
    match anchor.map(|a| a.split('#').next_back().unwrap_or(a)) {
        Some(a) if block_id(&format!(" {a}")).is_some() => format!("{url}#{a}"),
        Some(a) => format!("{url}#{}", slug(a)),
        None => url,
    }
}

/// A body without the `# Title` line it starts with, if it does.
pub fn untitled(body: &str) -> &str {
    match body.trim_start().strip_prefix("# ") {
        Some(rest) => rest.split_once('\n').map(|x| x.1).unwrap_or(""),
        None => body,
    }
}

/// The part of a note's body an anchor names: the body without its
/// `# Title` line when there is no anchor (an embed shows the title
/// itself), the section of a heading, or the block of a block id; none when
/// the note has no such heading or block.
pub fn part<'a>(body: &'a str, anchor: Option<&str>) -> Option<&'a str> {
    match anchor {
        None => Some(untitled(body)),
        Some(anchor) => Anchors::of(body).part(body, anchor),
    }
}

/// Every heading's section and every block id's block in a note, read in
/// one pass: [`part`] looks one up, and `check` asks it of every link to the
/// note (a note of 20,000 block ids, each linked, was read 20,000 times).
pub struct Anchors {
    /// A heading's slug → the section of the first heading that has it: the
    /// heading and what follows it up to the next heading of its level or
    /// above.
    sections: HashMap<String, Range<usize>>,
    /// A block id (`^id`) → the paragraph or list item it first ends (a
    /// paragraph in a list item gives the item, as in Obsidian).
    blocks: HashMap<String, Range<usize>>,
}

impl Anchors {
    pub fn of(body: &str) -> Anchors {
        let mut headings: Vec<(pulldown_cmark::HeadingLevel, usize, String)> = Vec::new();
        let mut heading: Option<(pulldown_cmark::HeadingLevel, usize, String)> = None;
        let mut blocks = HashMap::new();
        // Open paragraphs and items: (is an item, its whole range).
        let mut open: Vec<(bool, Range<usize>)> = Vec::new();
        let mut ended_by: Option<String> = None;
        for (e, at) in Parser::new_ext(body, options()).into_offset_iter() {
            let id = match &e {
                Event::Text(t) => block_id(t).map(|(_, id)| id.to_string()),
                _ => None,
            };
            match e {
                Event::Start(Tag::Heading { level, .. }) => {
                    heading = Some((level, at.start, String::new()));
                }
                Event::Text(t) | Event::Code(t) => {
                    if let Some((_, _, text)) = heading.as_mut() {
                        text.push_str(&t);
                    }
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, start, text)) = heading.take() {
                        headings.push((level, start, slug(&text)));
                    }
                }
                Event::Start(Tag::Paragraph) => open.push((false, at)),
                Event::Start(Tag::Item) => open.push((true, at)),
                Event::End(TagEnd::Paragraph | TagEnd::Item) => {
                    if let (Some(closed), Some(id)) = (open.pop(), ended_by.take()) {
                        let item = open.last().filter(|(item, _)| *item && !closed.0);
                        let block = item.map_or(closed.1, |(_, r)| r.clone());
                        blocks.entry(id).or_insert(block);
                    }
                }
                _ => {}
            }
            ended_by = id;
        }
        Anchors {
            sections: sections(headings, body.len()),
            blocks,
        }
    }

    /// The part of `body` (the text these anchors were read from) an
    /// anchor names.
    pub fn part<'a>(&self, body: &'a str, anchor: &str) -> Option<&'a str> {
        self.get(anchor).map(|r| &body[r])
    }

    /// Where an anchor lands: `Note#Chapter#Section` names the last heading.
    pub fn get(&self, anchor: &str) -> Option<Range<usize>> {
        let last = anchor.rsplit('#').next().unwrap_or(anchor);
        match last.starts_with('^') {
            true => self.blocks.get(last).cloned(),
            false => self.sections.get(&slug(last)).cloned(),
        }
    }
}

/// Each heading's section (its level, start and slug, in order), the first
/// heading of a slug keeping it.
fn sections(
    headings: Vec<(pulldown_cmark::HeadingLevel, usize, String)>,
    end: usize,
) -> HashMap<String, Range<usize>> {
    let mut ends = vec![end; headings.len()];
    // Headings whose section is still open, of rising levels.
    let mut open: Vec<usize> = Vec::new();
    for (k, (level, start, _)) in headings.iter().enumerate() {
        while let Some(&o) = open.last().filter(|&&o| headings[o].0 >= *level) {
            ends[o] = *start;
            open.pop();
        }
        open.push(k);
    }
    let mut out = HashMap::new();
    for ((_, start, slug), end) in headings.into_iter().zip(ends) {
        out.entry(slug).or_insert(start..end);
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const NOTE: &str = "# Title\n\nIntro.\n\n## Triage\n\nLook at the parent.\n\n\
        ### Steps\n\n1. one\n\n```\n# not a heading\n```\n\n## Scope\n\nAll hosts. ^scope\n\n\
        - first ^a1\n- second\n\nLast line\ncontinued ^para\n";

    #[test]
    fn a_heading_saved_decomposed_meets_a_link_typed_composed() {
        let body = "# T\n\n## Re\u{301}sume\u{301} des faits\n\nText.\n";
        assert_eq!(
            part(body, Some("Résumé des faits")),
            Some("## Re\u{301}sume\u{301} des faits\n\nText.\n")
        );
        assert_eq!(slug("Re\u{301}sume\u{301}"), slug("Résumé"));
        assert_eq!(slug("Résumé"), "résumé");
    }

    #[test]
    fn a_heading_gives_its_section_up_to_the_next_of_its_rank() {
        let s = part(NOTE, Some("Triage")).unwrap();
        assert!(s.starts_with("## Triage\n"), "{s:?}");
        assert!(s.contains("### Steps") && s.contains("# not a heading"));
        assert!(!s.contains("## Scope"), "{s:?}");
        let last = part(NOTE, Some("Title#Scope")).unwrap();
        assert!(last.starts_with("## Scope") && last.ends_with("continued ^para\n"));
        assert_eq!(
            part(NOTE, Some("steps")).unwrap(),
            "### Steps\n\n1. one\n\n```\n# not a heading\n```\n\n"
        );
        assert!(part(NOTE, Some("Nowhere")).is_none());
        assert!(
            part(NOTE, Some("not a heading")).is_none(),
            "code is no heading"
        );
    }

    #[test]
    fn a_block_id_gives_its_paragraph_or_list_item() {
        assert_eq!(part(NOTE, Some("^scope")), Some("All hosts. ^scope\n"));
        assert_eq!(part(NOTE, Some("^a1")), Some("- first ^a1\n"));
        assert_eq!(
            part(NOTE, Some("^para")),
            Some("Last line\ncontinued ^para\n")
        );
        assert!(part(NOTE, Some("^missing")).is_none());
        let loose = "- one\n\n  text ^x\n\n- two\n";
        assert_eq!(part(loose, Some("^x")), Some("- one\n\n  text ^x\n\n"));
    }

    #[test]
    fn every_heading_and_block_is_read_at_once_the_first_of_a_name_keeping_it() {
        let body: String = (0..2000)
            .map(|i| format!("## H{}\n\npara {i} ^b{i}\n\n", i % 1000))
            .collect();
        let a = Anchors::of(&body);
        for i in 0..2000 {
            let block = a.get(&format!("Note#^b{i}")).map(|r| &body[r]);
            assert_eq!(block, Some(format!("para {i} ^b{i}\n").as_str()));
        }
        assert!(a.get("^b2000").is_none());
        let h5 = a.get("H5").map(|r| &body[r]);
        assert_eq!(h5, Some("## H5\n\npara 5 ^b5\n\n"));
        // The last section runs to the end of the note.
        assert!(body[a.get("H999").unwrap()].starts_with("## H999\n\npara 999 "));
        let at = a.get("^b1999").unwrap().start;
        assert_eq!(&body[at - 9..], "## H999\n\npara 1999 ^b1999\n\n");
    }

    #[test]
    fn the_whole_note_leaves_its_title_to_the_embed() {
        assert!(part(NOTE, None).unwrap().trim_start().starts_with("Intro."));
        assert_eq!(part("No title.\n", None), Some("No title.\n"));
    }
}
