//! Where a link's anchor lands in a note, as Obsidian reads it:
//! `[[Note#Heading]]` names a heading (the last of `Note#Chapter#Section`),
//! matched by its slug, and `[[Note#^id]]` the paragraph or list item that
//! block id ends. `check` asks whether an anchor lands anywhere; the site
//! links to it and shows the part of the note an embed names. One reading
//! of headings and block ids for both, so they never disagree.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
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
    let Some(anchor) = anchor else {
        return Some(untitled(body));
    };
    // `Note#Chapter#Section` names the last heading.
    let last = anchor.rsplit('#').next().unwrap_or(anchor);
    match last.strip_prefix('^') {
        Some(id) => block(body, id).map(|r| &body[r]),
        None => section(body, last).map(|r| &body[r]),
    }
}

/// The heading whose text slugs as `heading` does, with what follows it up
/// to the next heading of its level or above.
fn section(body: &str, heading: &str) -> Option<Range<usize>> {
    let want = slug(heading);
    let mut found = None;
    let mut open: Option<(pulldown_cmark::HeadingLevel, usize, String)> = None;
    for (e, at) in Parser::new_ext(body, options()).into_offset_iter() {
        match e {
            Event::Start(Tag::Heading { level, .. }) => match found {
                Some((l, start)) if level <= l => return Some(start..at.start),
                Some(_) => {}
                None => open = Some((level, at.start, String::new())),
            },
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, _, text)) = open.as_mut() {
                    text.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, start, text)) = open.take()
                    && slug(&text) == want
                {
                    found = Some((level, start));
                }
            }
            _ => {}
        }
    }
    found.map(|(_, start)| start..body.len())
}

/// The paragraph or list item that block id `^id` ends (a paragraph in a
/// list item gives the item, as in Obsidian).
fn block(body: &str, id: &str) -> Option<Range<usize>> {
    let want = format!("^{id}");
    // Open paragraphs and items: (is an item, its whole range).
    let mut open: Vec<(bool, Range<usize>)> = Vec::new();
    let mut ends_with_id = false;
    for (e, at) in Parser::new_ext(body, options()).into_offset_iter() {
        let text_ends = matches!(&e, Event::Text(t) if block_id(t).is_some_and(|(_, b)| b == want));
        match e {
            Event::Start(Tag::Paragraph) => open.push((false, at)),
            Event::Start(Tag::Item) => open.push((true, at)),
            Event::End(TagEnd::Paragraph | TagEnd::Item) => {
                let closed = open.pop()?;
                if ends_with_id {
                    let item = open.last().filter(|(item, _)| *item && !closed.0);
                    return Some(item.map_or(closed.1, |(_, r)| r.clone()));
                }
            }
            _ => {}
        }
        ends_with_id = text_ends;
    }
    None
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
    fn the_whole_note_leaves_its_title_to_the_embed() {
        assert!(part(NOTE, None).unwrap().trim_start().starts_with("Intro."));
        assert_eq!(part("No title.\n", None), Some("No title.\n"));
    }
}
