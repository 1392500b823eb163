//! Obsidian Markdown to HTML: pulldown-cmark (tables, footnotes,
//! strikethrough, task lists, wikilinks) plus the Obsidian syntax it does not
//! know (callouts, `%% comments %%`, `#tags`, `^[inline footnotes]`), with wikilinks resolved to site
//! pages and heading anchors generated. The HTML is sanitised afterwards.

use super::embed::{self, Embed};
use super::html_escape;
use super::inline_notes::InlineNotes;
pub use crate::vault::anchors::{anchored, block_id, options, slug};
use crate::vault::literal;
use crate::vault::resolve;
use pulldown_cmark::{CowStr, Event, LinkType, Parser, Tag, TagEnd, html};
use std::borrow::Cow;
use std::collections::HashMap;

/// How a wikilink target resolves.
pub trait LinkResolver {
    /// The site-relative URL of the page a link target names (`Note`,
    /// `Folder/Note`), or `None` when it resolves nowhere.
    fn resolve(&self, target: &str) -> Option<String>;
    /// The site-relative URL of a tag page.
    fn tag_url(&self, tag: &str) -> String;
    /// The same for a tag in a note the page embeds: a tag the page shows
    /// but does not carry.
    fn embedded_tag_url(&self, tag: &str) -> String {
        self.tag_url(tag)
    }
    /// The coverage of the technique page a link points to, on pages drawn
    /// as a heatmap ([`super::heatmap`]).
    fn coverage(&self, _url: &str) -> Option<&super::heatmap::Cell> {
        None
    }
    /// The way from the page to the site root (`../../`).
    fn root(&self) -> &str {
        ""
    }
    /// Whether a target that resolves nowhere names a note left out of the
    /// site (`publish: false`): a link to it is then plain text, not drawn
    /// as broken.
    fn is_private(&self, _target: &str) -> bool {
        false
    }
    /// The URL of the page being rendered, as a link from it would give
    /// it: a page never shows itself embedded.
    fn own_page(&self) -> Option<&str> {
        None
    }
    /// The note a target names, for `![[Note]]` to show in place; `None`
    /// where embeds stay links.
    fn embed(&self, _target: &str) -> Option<Embed> {
        None
    }
}

/// Obsidian-only syntax rewritten to CommonMark + HTML before parsing:
/// comments dropped, callout headers marked, `#tags` linked, inline
/// footnotes made footnotes (`InlineNotes`). Code, raw HTML
/// and links are left as written ([`literal`]), as Obsidian leaves them.
pub fn preprocess(md: &str, r: &dyn LinkResolver) -> String {
    // Parsed for its literal stretches only when a line has something to
    // rewrite that could lie in one: most notes' lines have nothing.
    let spans = std::cell::OnceCell::new();
    let plain_to = literal::plain_prefix(md);
    let mut out = String::with_capacity(md.len() + 64);
    let (mut at, mut next, mut in_comment) = (0, 0, false);
    let mut notes = InlineNotes::of(md);
    for line in md.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let callout = is_callout_header(line);
        let rewritten = in_comment
            || line.contains("%%")
            || line.contains("^[")
            || has_tag(line)
            || other_task_mark(line).is_some();
        if !rewritten && !callout {
            out.push_str(line);
            continue;
        }
        if !rewritten && at <= plain_to {
            // No code or HTML can have begun yet: a callout header as it is.
            callout_header(line, r, &mut out);
            continue;
        }
        let spans = spans.get_or_init(|| literal::spans(md));
        let parts = literal::cut(line, start, spans, &mut next);
        let shown = uncommented(parts, &mut in_comment);
        match shown.first() {
            Some((first, false)) if is_callout_header(first) => {
                let text: String = shown.iter().map(|(t, _)| *t).collect();
                callout_header(&text, r, &mut out);
            }
            _ => {
                for (k, (text, literal)) in shown.into_iter().enumerate() {
                    if literal {
                        notes.literal(text, &mut out);
                        continue;
                    }
                    let text = match other_task_mark(text).filter(|_| k == 0) {
                        Some(m) => Cow::Owned(format!("{}x{}", &text[..m.start], &text[m.end..])),
                        None => Cow::Borrowed(text),
                    };
                    notes.plain(&text, &mut out, &mut |t, o| link_tags(t, r, o));
                }
                notes.end_line(&mut out);
            }
        }
    }
    let defs = notes.definitions();
    if !defs.is_empty() {
        out.push('\n');
        out.push_str(&defs);
    }
    out
}

/// Where the mark of a task written with another character than `x` lies
/// in a list item's line (`- [/] in progress`, `- [-] cancelled`, as themes
/// and plugins mark tasks): Obsidian shows any such task checked, and so
/// does the site, the mark read as `x`.
fn other_task_mark(line: &str) -> Option<std::ops::Range<usize>> {
    let body = line.trim_start_matches([' ', '\t', '>']);
    let after = match body.strip_prefix(['-', '*', '+']) {
        Some(after) => after,
        None => {
            let digits = body.len() - body.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if !(1..=9).contains(&digits) {
                return None;
            }
            body[digits..].strip_prefix(['.', ')'])?
        }
    };
    let spaced = after.trim_start_matches([' ', '\t']);
    let inner = spaced
        .strip_prefix('[')
        .filter(|_| spaced.len() < after.len())?;
    let c = inner.chars().next()?;
    let rest = inner[c.len_utf8()..].strip_prefix(']')?;
    let ends = rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']);
    if c.is_whitespace() || matches!(c, 'x' | 'X' | '[' | ']' | '\\') || !ends {
        return None;
    }
    let at = line.len() - inner.len();
    Some(at..at + c.len_utf8())
}

/// Whether a line may hold a `#tag` ([`tag_len`]) starting a word.
fn has_tag(line: &str) -> bool {
    line.match_indices('#').any(|(i, _)| {
        let starts_word = line[..i]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace);
        starts_word && tag_len(&line[i + 1..]).is_some()
    })
}

/// The length of the tag `after` a `#` begins with, as Obsidian reads one:
/// letters, digits, `_`, `-` and `/`, not digits alone (`#1984` is no tag,
/// `#y1984` and `#2024-q3` are).
fn tag_len(after: &str) -> Option<usize> {
    let len = after
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '/')))
        .unwrap_or(after.len());
    let tag = &after[..len];
    tag.contains(|c: char| !c.is_ascii_digit()).then_some(len)
}

/// A line's parts without what `%% comments %%` hide (which may span
/// lines: `in_comment` carries over); `%%` in a literal part is text.
fn uncommented<'t>(parts: Vec<(&'t str, bool)>, in_comment: &mut bool) -> Vec<(&'t str, bool)> {
    let mut shown = Vec::with_capacity(parts.len());
    for (mut text, literal) in parts {
        if literal {
            if !*in_comment {
                shown.push((text, true));
            }
            continue;
        }
        while let Some(p) = text.find("%%") {
            if !*in_comment {
                shown.push((&text[..p], false));
            }
            *in_comment = !*in_comment;
            text = &text[p + 2..];
        }
        if !*in_comment {
            shown.push((text, false));
        }
    }
    shown
}

/// A line's blockquote markers (`> `, `> > ` in a callout, indented in a
/// list item) and what follows them; none for a line that is no quote.
fn quoted(line: &str) -> Option<(&str, &str)> {
    let (mut end, mut quotes) = (0, 0);
    loop {
        end += line[end..].len() - line[end..].trim_start_matches([' ', '\t']).len();
        if !line[end..].starts_with('>') {
            break;
        }
        end += 1;
        quotes += 1;
    }
    (quotes > 0).then(|| line.split_at(end))
}

/// Whether a line opens a callout (`> [!type]`), at any depth of quotes.
fn is_callout_header(line: &str) -> bool {
    quoted(line).is_some_and(|(_, rest)| rest.starts_with("[!"))
}

/// A callout header line (`> [!type]± Title`) marked, or else the line with
/// its `#tags` linked. Its quote markers are kept, so that a callout inside
/// another (`> > [!note]`) or in a list item stays where it was written.
fn callout_header(l: &str, r: &dyn LinkResolver, out: &mut String) {
    let Some((markers, after, close)) = quoted(l).and_then(|(markers, rest)| {
        let after = rest.strip_prefix("[!")?;
        Some((markers.trim_end(), after, after.find(']')?))
    }) else {
        link_tags(l, r, out);
        return;
    };
    let kind: String = after[..close]
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_lowercase();
    let rest = &after[close + 1..];
    let fold = match rest.chars().next() {
        Some('-') => " callout-folded",
        Some('+') => " callout-foldable",
        _ => "",
    };
    let rest = rest.trim_start_matches(['+', '-']).trim();
    let title = if rest.is_empty() {
        kind.clone()
    } else {
        rest.to_string()
    };
    out.push_str(&format!(
        "{markers} <span class=\"callout-title callout-{kind}{fold}\">{}</span>\n{markers}\n",
        html_escape(&title)
    ));
}

/// `#tag` in running text becomes a link to its tag page (not headings,
/// `[^1]` footnotes or URL fragments). The text is outside code: a `#` at
/// its start begins a word if what was written before it ends one.
fn link_tags(text: &str, r: &dyn LinkResolver, out: &mut String) {
    let mut rest = text;
    while let Some(at) = rest.find('#') {
        let before = &rest[..at];
        out.push_str(before);
        let after = &rest[at + 1..];
        let starts_word = out.chars().next_back().is_none_or(char::is_whitespace);
        match tag_len(after).filter(|_| starts_word) {
            Some(len) => {
                let tag = &after[..len];
                out.push_str(&format!("[#{tag}]({})", r.tag_url(tag)));
                rest = &after[len..];
            }
            None => {
                out.push('#');
                rest = after;
            }
        }
    }
    out.push_str(rest);
}

/// A note body rendered to HTML (not yet sanitised).
#[derive(Debug, Default)]
pub struct Rendered {
    pub html: String,
    /// The heading ids.
    pub ids: Vec<String>,
    /// Whether the note holds raw HTML (other than `<br>`) or a link that is
    /// not a web, mail or relative one: only then can the HTML hold
    /// something unsafe, and only then must it go through [`sanitize`].
    /// Everything else is HTML the Markdown renderer wrote and escaped.
    pub needs_sanitizing: bool,
    /// The notes its wikilinks and embeds name (as [`links`] finds them).
    pub links: Vec<String>,
}

/// `<br>` in its spellings: the line break the vault's table cells use.
fn is_line_break(html: &str) -> bool {
    matches!(
        html.trim().to_ascii_lowercase().as_str(),
        "<br>" | "<br/>" | "<br />"
    )
}

/// The callout title markup [`preprocess`] writes, exactly (its title is
/// escaped text): safe without the sanitiser, which would otherwise run on
/// every page, since every note has a callout. Anything else, such as the
/// same tag with one more attribute, is not this.
fn is_callout_markup(html: &str) -> bool {
    if html == "</span>" {
        return true;
    }
    html.strip_prefix("<span class=\"callout-title callout-")
        .and_then(|r| r.strip_suffix("\">"))
        .is_some_and(|classes| {
            classes
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
        })
}

/// A link destination that cannot run code: relative, in-page, web or mail.
fn is_plain_link(dest: &str) -> bool {
    let d = dest.trim_start().to_ascii_lowercase();
    !d.contains(':')
        || d.starts_with("http://")
        || d.starts_with("https://")
        || d.starts_with("mailto:")
}

/// Whether an event can carry something unsafe: raw HTML (other than line
/// breaks and the callout markup [`preprocess`] writes) or a Markdown link
/// that is not a web, mail or relative one.
fn is_unsafe(e: &Event) -> bool {
    match e {
        Event::Html(h) | Event::InlineHtml(h) => !is_line_break(h) && !is_callout_markup(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            ..
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            ..
        }) => !matches!(link_type, LinkType::WikiLink { .. }) && !is_plain_link(dest_url),
        _ => false,
    }
}

/// The note and the heading a wikilink names (`Note#Heading`, `Note\|label`
/// in tables), borrowed from `dest` unless a `\|` is in it.
pub(super) fn wikilink_target(dest: &str) -> (Cow<'_, str>, Option<Cow<'_, str>>) {
    fn split(target: &str) -> (&str, Option<&str>) {
        let (page, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target, None),
        };
        (page.trim_end_matches('\\').trim(), anchor)
    }
    if dest.contains("\\|") {
        let target = dest.replace("\\|", "|");
        let (page, anchor) = split(&target);
        return (
            Cow::Owned(page.to_string()),
            anchor.map(|a| Cow::Owned(a.to_string())),
        );
    }
    let (page, anchor) = split(dest);
    (Cow::Borrowed(page), anchor.map(Cow::Borrowed))
}

/// What a Markdown link inside the vault leads to ([`resolve::link_target`]):
/// a note (empty for a heading of its own note), or a file of the vault
/// (`report.pdf`, `board.canvas`), with the heading.
fn linked_target(dest: &str) -> Option<(String, Option<String>)> {
    if is_tag_page(dest) {
        return None;
    }
    resolve::link_target(dest)
}

/// Whether a link leads to a tag page, as [`preprocess`] links `#tags`
/// (`../tags/t1059_006.html`): a page of the site, not a file of the vault.
fn is_tag_page(dest: &str) -> bool {
    let rest = resolve::without_dots(dest);
    rest.starts_with("tags/") && rest.ends_with(".html")
}

/// The file of the vault a Markdown image names.
fn file_target(dest: &str) -> Option<String> {
    resolve::file_target(dest).map(|(path, _)| path)
}

/// Text cut at Obsidian's highlights, `==text==`: (highlighted, part) in
/// order. The marks follow CommonMark's flanking rules for emphasis, so
/// `a == b` and base64 padding (`Ng==&id=1`, `YQ== Yg==`) stay text.
fn highlights(text: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let (mut start, mut open) = (0, None);
    for (at, _) in text.match_indices("==") {
        if open.is_some_and(|o| at < o + 2) {
            continue;
        }
        let (left, right) = flanking(text, at);
        match open {
            Some(o) if right && at > o + 2 => {
                out.push((false, &text[start..o]));
                out.push((true, &text[o + 2..at]));
                start = at + 2;
                open = None;
            }
            None if left => open = Some(at),
            _ => {}
        }
    }
    out.push((false, &text[start..]));
    out
}

/// Whether the `==` at `at` can open (left-flanking) and close
/// (right-flanking) a highlight.
fn flanking(text: &str, at: usize) -> (bool, bool) {
    let prev = text[..at].chars().next_back();
    let next = text[at + 2..].chars().next();
    let space = |c: Option<char>| c.is_none_or(char::is_whitespace);
    let punct = |c: Option<char>| c.is_some_and(|c| !c.is_alphanumeric() && !c.is_whitespace());
    let left = !space(next) && (!punct(next) || space(prev) || punct(prev));
    let right = !space(prev) && (!punct(prev) || space(next) || punct(next));
    (left, right)
}

/// What an embed or image that leads nowhere shows: its label.
fn unresolved<'e>(label: &str) -> Event<'e> {
    Event::InlineHtml(CowStr::from(format!(
        "<span class=\"unresolved\">{}</span>",
        html_escape(label)
    )))
}

/// An embedded image, as Obsidian shows `![[diagram.png|300]]` (a width,
/// or `300x200`) or `![[diagram.png|a caption]]` (its alt text).
fn image_html(src: &str, name: &str, label: &str) -> String {
    let (alt, dims) = match image_size(label) {
        Some(dims) => (name, dims),
        None if label.is_empty() => (name, String::new()),
        None => (label, String::new()),
    };
    format!(
        "<img src=\"{}\" alt=\"{}\"{dims}>",
        html_escape(src),
        html_escape(alt)
    )
}

/// The attributes of an image's size as Obsidian writes it after a `|`:
/// a width (`300`) or a width and height (`300x200`).
fn image_size(label: &str) -> Option<String> {
    let number = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    match label.split_once('x').unwrap_or((label, "")) {
        (w, "") if number(w) => Some(format!(" width=\"{w}\"")),
        (w, h) if number(w) && number(h) => Some(format!(" width=\"{w}\" height=\"{h}\"")),
        _ => None,
    }
}

/// Where a wikilink target leads: the page itself for `[[#Heading]]`.
fn resolve_page(page: &str, r: &dyn LinkResolver) -> Option<String> {
    if page.is_empty() {
        Some(String::new())
    } else {
        r.resolve(page)
    }
}

/// The notes a body's wikilinks and embeds name, as [`render`] finds them,
/// without rendering it (links to a heading of the same note left out):
/// what the export's first pass needs for backlinks. Tags are met on the
/// way, through [`LinkResolver::tag_url`].
pub fn links(md: &str, r: &dyn LinkResolver) -> Vec<String> {
    let pre = preprocess(md, r);
    link_targets(Parser::new_ext(&pre, options()))
}

/// The notes that wikilinks and embeds among `events` name.
fn link_targets<'e, E: std::borrow::Borrow<Event<'e>>>(
    events: impl Iterator<Item = E>,
) -> Vec<String> {
    let mut links = Vec::new();
    let mut in_embed = false;
    for e in events {
        let page = match e.borrow() {
            // What an embed holds is shown as its label, not as links.
            Event::End(TagEnd::Image) => {
                in_embed = false;
                continue;
            }
            _ if in_embed => continue,
            Event::Start(Tag::Link {
                link_type: LinkType::WikiLink { .. },
                dest_url,
                ..
            }) => wikilink_target(dest_url).0.into_owned(),
            Event::Start(Tag::Image {
                link_type: LinkType::WikiLink { .. },
                dest_url,
                ..
            }) => {
                in_embed = true;
                wikilink_target(dest_url).0.into_owned()
            }
            Event::Start(Tag::Link { dest_url, .. }) => match linked_target(dest_url) {
                Some((page, _)) => page,
                None => continue,
            },
            Event::Start(Tag::Image { dest_url, .. }) => {
                in_embed = true;
                match file_target(dest_url) {
                    Some(path) => path,
                    None => continue,
                }
            }
            _ => continue,
        };
        if !page.is_empty() {
            links.push(page);
        }
    }
    links
}

/// Render one note body to HTML (not yet sanitised).
pub fn render(md: &str, r: &dyn LinkResolver) -> Rendered {
    let spent = std::cell::Cell::new(embed::Spent::default());
    let raw = std::cell::RefCell::default();
    let anchors = std::cell::RefCell::default();
    let within = Within {
        notes: r.own_page().map(String::from).into_iter().collect(),
        depth: 0,
        number: 0,
        spent: &spent,
        raw: &raw,
        anchors: &anchors,
    };
    render_within(md, r, &within)
}

/// The resolver of an embedded note's text: its tags are not the page's.
struct Embedded<'r>(&'r dyn LinkResolver);

impl LinkResolver for Embedded<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        self.0.resolve(target)
    }
    fn tag_url(&self, tag: &str) -> String {
        self.0.embedded_tag_url(tag)
    }
    fn embedded_tag_url(&self, tag: &str) -> String {
        self.0.embedded_tag_url(tag)
    }
    fn coverage(&self, url: &str) -> Option<&super::heatmap::Cell> {
        self.0.coverage(url)
    }
    fn root(&self) -> &str {
        self.0.root()
    }
    fn is_private(&self, target: &str) -> bool {
        self.0.is_private(target)
    }
    fn embed(&self, target: &str) -> Option<Embed> {
        self.0.embed(target)
    }
    fn own_page(&self) -> Option<&str> {
        self.0.own_page()
    }
}

/// The pages a text is shown in (the page, then the notes embedding it),
/// how deep it is embedded, and what the page has spent on embeds (one
/// count for the page and all it embeds).
struct Within<'s> {
    notes: Vec<String>,
    depth: usize,
    /// The embed's number on its page (0 for the page's own text): its
    /// footnotes' names, which would otherwise be the page's, are prefixed.
    number: usize,
    spent: &'s std::cell::Cell<embed::Spent>,
    /// The elements the page's own HTML and its embeds' left open, in
    /// document order: an embed's unclosed tags nest what follows it.
    raw: &'s std::cell::RefCell<super::raw_html::RawNesting>,
    /// The headings and blocks of the notes the page embeds, by their page,
    /// each note read once however many of its parts are embedded.
    anchors: &'s std::cell::RefCell<HashMap<String, crate::vault::anchors::Anchors>>,
}

/// Render a body, or a note's part embedded in one (`within` the notes
/// that embed it).
fn render_within(md: &str, r: &dyn LinkResolver, within: &Within<'_>) -> Rendered {
    let pre = preprocess(md, r);
    let events: Vec<Event> = Parser::new_ext(&pre, options()).collect();
    let links = link_targets(events.iter());
    let mut w = Rewriter {
        r,
        events: &events,
        out: Vec::with_capacity(events.len()),
        ids: Vec::new(),
        seen: HashMap::new(),
        unresolved_depth: 0,
        in_code: false,
        within,
        needs_sanitizing: events.iter().any(is_unsafe),
    };
    let mut i = 0;
    while i < events.len() {
        i = w.step(i);
    }
    let Rewriter {
        out,
        ids,
        needs_sanitizing,
        ..
    } = w;
    let mut out = footnotes_last(out);
    let coloured = super::heatmap::colour_cells(&mut out, &|url| r.coverage(url), r.root());
    let out = if super::heatmap::has_markers(&pre) {
        super::heatmap::swatches(out)
    } else {
        out
    };
    let mut html_out = String::with_capacity(pre.len() * 3 / 2);
    if coloured {
        html_out.push_str(&super::heatmap::legend());
    }
    html::push_html(&mut html_out, out.into_iter());
    Rendered {
        html: html_out,
        ids,
        needs_sanitizing,
        links,
    }
}

/// Footnote definitions moved to the end, in the order of their first
/// references, as Obsidian lists them: pulldown-cmark numbers footnotes as
/// it meets their labels but leaves each definition where it was written,
/// so `b[^2] a[^1]` with `[^1]` defined first listed 2 above 1 in the middle
/// of the text, and inline footnotes would all come after the others.
fn footnotes_last(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let defines = |e: &Event| matches!(e, Event::Start(Tag::FootnoteDefinition(_)));
    if !events.iter().any(defines) {
        return events;
    }
    let mut body = Vec::with_capacity(events.len());
    let mut defs: Vec<(CowStr, Vec<Event>)> = Vec::new();
    let mut open = 0usize;
    for e in events {
        match &e {
            Event::Start(Tag::FootnoteDefinition(label)) if open == 0 => {
                defs.push((label.clone(), Vec::new()));
                open = 1;
            }
            Event::Start(Tag::FootnoteDefinition(_)) => open += 1,
            Event::End(TagEnd::FootnoteDefinition) => open = open.saturating_sub(1),
            _ if open == 0 => {
                body.push(e);
                continue;
            }
            _ => {}
        }
        if let Some((_, def)) = defs.last_mut() {
            def.push(e);
        }
    }
    let mut first: HashMap<CowStr, usize> = HashMap::new();
    for e in &body {
        if let Event::FootnoteReference(label) = e {
            let n = first.len();
            first.entry(label.clone()).or_insert(n);
        }
    }
    // Stable: definitions no reference names keep their order, last.
    defs.sort_by_key(|(label, _)| first.get(label).copied().unwrap_or(usize::MAX));
    body.extend(defs.into_iter().flat_map(|(_, def)| def));
    body
}

/// The parsed events of a note rewritten for the site: heading ids,
/// wikilinks resolved, embeds as links, code highlighted, Obsidian's line
/// breaks.
struct Rewriter<'e, 'r, 'w> {
    r: &'r dyn LinkResolver,
    events: &'e [Event<'e>],
    out: Vec<Event<'e>>,
    ids: Vec<String>,
    /// Heading slugs so far, for `-1`, `-2` on repeats.
    seen: HashMap<String, usize>,
    /// Unresolved links open (drawn as spans, not anchors).
    unresolved_depth: usize,
    /// Inside a code block, where text is shown as it is.
    in_code: bool,
    /// The notes this text is embedded in: none for a page's own body.
    within: &'w Within<'w>,
    /// Whether the HTML, with what it embeds, needs the sanitiser.
    needs_sanitizing: bool,
}

impl<'e> Rewriter<'e, '_, '_> {
    /// Rewrite the event at `i`; returns the index of the next one.
    fn step(&mut self, i: usize) -> usize {
        match &self.events[i] {
            // An embedded note's headings are not the page's: no anchors.
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) if self.within.depth == 0 => {
                let id = self.heading_id(i);
                self.out.push(Event::Start(Tag::Heading {
                    level: *level,
                    id: Some(CowStr::from(id)),
                    classes: classes.clone(),
                    attrs: attrs.clone(),
                }));
            }
            Event::Start(Tag::Link {
                link_type: LinkType::WikiLink { has_pothole },
                dest_url,
                title,
                id,
            }) => return self.wikilink(i, *has_pothole, dest_url, title, id),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => match linked_target(dest_url) {
                Some((page, anchor)) => {
                    self.note_link(&page, anchor.as_deref(), *link_type, title, id);
                }
                None => self.out.push(self.events[i].clone()),
            },
            Event::Start(Tag::Image {
                link_type: LinkType::WikiLink { .. },
                dest_url,
                ..
            }) => return self.embed(i, dest_url),
            Event::Start(Tag::Image { .. }) => return self.markdown_image(i),
            Event::Start(Tag::Paragraph) => match self.embeds(i) {
                Some(next) => return next,
                None => self.out.push(self.events[i].clone()),
            },
            Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(lang))) => {
                if let Some(next) = self.code_block(i, lang) {
                    return next;
                }
                self.in_code = true;
                self.out.push(self.events[i].clone());
            }
            Event::FootnoteReference(label) if self.within.number > 0 => {
                let label = self.footnote(label);
                self.out.push(Event::FootnoteReference(label));
            }
            Event::Start(Tag::FootnoteDefinition(label)) if self.within.number > 0 => {
                let label = self.footnote(label);
                self.out.push(Event::Start(Tag::FootnoteDefinition(label)));
            }
            // Obsidian shows single line breaks (its default, non-strict mode).
            Event::SoftBreak => self.out.push(Event::HardBreak),
            Event::Start(Tag::CodeBlock(_)) => {
                self.in_code = true;
                self.out.push(self.events[i].clone());
            }
            Event::End(TagEnd::CodeBlock) => {
                self.in_code = false;
                self.out.push(self.events[i].clone());
            }
            Event::Text(t) if !self.in_code => self.text(i, t),
            // HTML nested deeper than any note is written is shown as text:
            // parsing it to sanitise would take time in its depth per tag.
            Event::Html(h) | Event::InlineHtml(h) if !self.within.raw.borrow_mut().admit(h) => {
                self.out.push(Event::Text(h.clone()));
            }
            Event::End(TagEnd::Link) if self.unresolved_depth > 0 => {
                self.unresolved_depth -= 1;
                self.out.push(Event::InlineHtml(CowStr::from("</span>")));
            }
            other => self.out.push(other.clone()),
        }
        i + 1
    }

    /// A `[[wikilink]]` at `i`; returns the index of the next event.
    fn wikilink(
        &mut self,
        i: usize,
        has_pothole: bool,
        dest_url: &CowStr<'e>,
        title: &CowStr<'e>,
        id: &CowStr<'e>,
    ) -> usize {
        let (page, anchor) = wikilink_target(dest_url);
        let kind = LinkType::WikiLink { has_pothole };
        self.note_link(&page, anchor.as_deref(), kind, title, id);
        // Shown as Obsidian shows it: `[[Note#Part]]` as `Note > Part`.
        if let (false, Some(a), Some(Event::Text(_)), Some(Event::End(TagEnd::Link))) = (
            has_pothole,
            &anchor,
            self.events.get(i + 1),
            self.events.get(i + 2),
        ) && !page.is_empty()
        {
            let label = format!("{page} > {}", a.split('#').collect::<Vec<_>>().join(" > "));
            self.out.push(Event::Text(CowStr::from(label)));
            return i + 2;
        }
        i + 1
    }

    /// Text, as Obsidian shows it: `==highlights==` marked, and the block
    /// id (`^id`) that ends a paragraph or list item hidden, as its anchor.
    fn text(&mut self, i: usize, t: &CowStr<'e>) {
        let (body, block) = match block_id(t).filter(|_| self.ends_block(i)) {
            Some((body, id)) => (body, Some(id)),
            None => (t.as_ref(), None),
        };
        let parts = highlights(body);
        if block.is_none() && parts.len() == 1 {
            self.out.push(Event::Text(t.clone()));
            return;
        }
        for (marked, part) in parts {
            let text = Event::Text(CowStr::from(part.to_string()));
            if marked {
                self.out.push(Event::InlineHtml(CowStr::from("<mark>")));
                self.out.push(text);
                self.out.push(Event::InlineHtml(CowStr::from("</mark>")));
            } else if !part.is_empty() {
                self.out.push(text);
            }
        }
        if let Some(id) = block.filter(|_| self.within.depth == 0) {
            self.out.push(Event::InlineHtml(CowStr::from(format!(
                "<span id=\"{id}\" class=\"block-id\"></span>"
            ))));
        }
    }

    /// Whether event `i` is the last of a paragraph or list item, where
    /// Obsidian reads a block id.
    fn ends_block(&self, i: usize) -> bool {
        matches!(
            self.events.get(i + 1),
            Some(Event::End(TagEnd::Paragraph | TagEnd::Item))
        )
    }

    /// The text of events from `i + 1` up to the first `end`.
    fn text_until(&self, i: usize, end: impl Fn(&Event) -> bool, code: bool) -> (String, usize) {
        let mut text = String::new();
        let mut j = i + 1;
        while j < self.events.len() && !end(&self.events[j]) {
            match &self.events[j] {
                Event::Text(t) => text.push_str(t),
                Event::Code(t) if code => text.push_str(t),
                _ => {}
            }
            j += 1;
        }
        (text, j)
    }

    /// A heading's id: the slug of its text, numbered when repeated.
    fn heading_id(&mut self, i: usize) -> String {
        let (text, _) = self.text_until(i, |e| matches!(e, Event::End(TagEnd::Heading(_))), true);
        let base = slug(&text);
        let n = self.seen.entry(base.clone()).or_insert(0);
        let id = if *n == 0 {
            base.clone()
        } else {
            format!("{base}-{n}")
        };
        *n += 1;
        self.ids.push(id.clone());
        id
    }

    /// A link to a note (a wikilink, or a Markdown link to a `.md` file):
    /// to its page, or drawn as unresolved.
    fn note_link(
        &mut self,
        page: &str,
        anchor: Option<&str>,
        link_type: LinkType,
        title: &CowStr<'e>,
        id: &CowStr<'e>,
    ) {
        let Some(u) = resolve_page(page, self.r) else {
            self.unresolved_depth += 1;
            let span = if self.r.is_private(page) {
                "<span>".to_string()
            } else {
                format!(
                    "<span class=\"unresolved\" title=\"{}\">",
                    html_escape(&format!("unresolved: {page}"))
                )
            };
            self.out.push(Event::InlineHtml(CowStr::from(span)));
            return;
        };
        let href = anchored(u, anchor);
        self.out.push(Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::from(href),
            title: title.clone(),
            id: id.clone(),
        }));
    }

    /// A Markdown image of the vault (`![alt](img/shot.png)`): its file in
    /// the site, or its alt text drawn as unresolved (no dead `src`). Other
    /// images (web addresses) stay as they are.
    fn markdown_image(&mut self, i: usize) -> usize {
        let Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) = &self.events[i]
        else {
            return i + 1;
        };
        let Some(path) = file_target(dest_url) else {
            self.out.push(self.events[i].clone());
            return i + 1;
        };
        let (alt, j) = self.text_until(i, |e| matches!(e, Event::End(TagEnd::Image)), false);
        let src = match self.r.resolve(&path) {
            Some(src) if super::attachments::is_image(&path) => src,
            // A PDF, a file the site leaves out, or none: as `![[…]]` shows it.
            other => {
                let label = if alt.is_empty() { path.clone() } else { alt };
                self.file_link(other, &path, &label);
                return j + 1;
            }
        };
        // `![Diagram|300](diagram.png)`: Obsidian's size after the alt text.
        if let Some((text, size)) = alt.rsplit_once('|')
            && image_size(size.trim()).is_some()
        {
            let html = image_html(&src, text.trim(), size.trim());
            self.out.push(Event::InlineHtml(CowStr::from(html)));
            return j + 1;
        }
        self.out.push(Event::Start(Tag::Image {
            link_type: *link_type,
            dest_url: CowStr::from(src),
            title: title.clone(),
            id: id.clone(),
        }));
        i + 1
    }

    /// An embedded note's footnote, named apart from the page's own.
    fn footnote(&self, label: &str) -> CowStr<'e> {
        CowStr::from(format!("embed-{}-{label}", self.within.number))
    }

    /// A paragraph of nothing but embeds (one to a line, as they are
    /// written): each note that can be shown is shown in place, a block of
    /// its own, and each other embed is a paragraph as it would have been.
    /// `None` when anything else is in it or no note is shown.
    fn embeds(&mut self, i: usize) -> Option<usize> {
        // Each embed: where it starts, and its note's HTML when shown.
        let mut embeds = Vec::new();
        let mut j = i + 1;
        loop {
            match self.events.get(j)? {
                Event::End(TagEnd::Paragraph) => break,
                Event::SoftBreak | Event::HardBreak => {}
                Event::Text(t) if t.trim().is_empty() => {}
                Event::Start(Tag::Image {
                    link_type: LinkType::WikiLink { .. },
                    ..
                }) => {
                    embeds.push(j);
                    j = self
                        .text_until(j, |e| matches!(e, Event::End(TagEnd::Image)), false)
                        .1;
                }
                _ => return None,
            }
            j += 1;
        }
        let shown: Vec<Option<String>> = embeds.iter().map(|&e| self.embedded(e)).collect();
        if shown.iter().all(Option::is_none) {
            return None;
        }
        for (e, html) in embeds.into_iter().zip(shown) {
            match html {
                Some(html) => self.out.push(Event::Html(CowStr::from(html))),
                None => {
                    self.out.push(Event::Start(Tag::Paragraph));
                    self.step(e);
                    self.out.push(Event::End(TagEnd::Paragraph));
                }
            }
        }
        Some(j + 1)
    }

    /// The HTML of the note an embed names, rendered in place; `None` for
    /// images, notes without a page, a heading or block the note lacks, an
    /// embed of a note it is embedded in, and beyond the depth or budgets.
    fn embedded(&mut self, i: usize) -> Option<String> {
        let Event::Start(Tag::Image { dest_url, .. }) = &self.events[i] else {
            return None;
        };
        let (page, anchor) = wikilink_target(dest_url);
        let within = self.within;
        if page.is_empty()
            || super::attachments::is_image(&page)
            || within.depth >= embed::MAX_DEPTH
        {
            return None;
        }
        if within.spent.get().exhausted() {
            return None;
        }
        let e = self.r.embed(&page)?;
        if within.notes.contains(&e.url) {
            return None;
        }
        let text = match anchor.as_deref() {
            None => crate::vault::anchors::untitled(&e.body),
            Some(a) => {
                let mut known = within.anchors.borrow_mut();
                let of = crate::vault::anchors::Anchors::of;
                let anchors = known.entry(e.url.clone()).or_insert_with(|| of(&e.body));
                anchors.part(&e.body, a)?
            }
        };
        let mut spent = within.spent.get();
        if !spent.take(text.len()) {
            return None;
        }
        within.spent.set(spent);
        let mut notes = within.notes.clone();
        notes.push(e.url.clone());
        let inner = Within {
            notes,
            depth: within.depth + 1,
            number: spent.shown(),
            spent: within.spent,
            raw: within.raw,
            anchors: within.anchors,
        };
        let rendered = render_within(text, &Embedded(self.r), &inner);
        self.needs_sanitizing |= rendered.needs_sanitizing;
        Some(embed::block_html(&e, anchor.as_deref(), &rendered.html))
    }

    /// An embed `![[note]]` that is not shown in place is a link to the
    /// note.
    fn embed(&mut self, i: usize, dest_url: &str) -> usize {
        let (page, anchor) = wikilink_target(dest_url);
        let page = page.into_owned();
        let url = self.r.resolve(&page);
        let (label, j) = self.text_until(i, |e| matches!(e, Event::End(TagEnd::Image)), false);
        if let Some(u) = url
            .as_deref()
            .filter(|_| super::attachments::is_image(&page))
        {
            self.out.push(Event::InlineHtml(CowStr::from(image_html(
                u, &page, &label,
            ))));
            return j + 1;
        }
        let label = if label.is_empty() {
            page.clone()
        } else {
            label
        };
        let url = url.map(|u| anchored(u, anchor.as_deref()));
        self.file_link(url, &page, &label);
        j + 1
    }

    /// What an embed the page cannot show in place becomes: a link to
    /// `url` labelled `label`, or, where `target` leads nowhere, its label,
    /// as plain text for a note or file left out of the site and drawn as
    /// unresolved otherwise.
    fn file_link(&mut self, url: Option<String>, target: &str, label: &str) {
        match url {
            Some(u) => {
                self.out.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url: CowStr::from(u),
                    title: CowStr::from(""),
                    id: CowStr::from(""),
                }));
                self.out.push(Event::Text(CowStr::from(label.to_string())));
                self.out.push(Event::End(TagEnd::Link));
            }
            None if self.r.is_private(target) => {
                let span = format!("<span>{}</span>", html_escape(label));
                self.out.push(Event::InlineHtml(CowStr::from(span)));
            }
            None => self.out.push(unresolved(label)),
        }
    }

    /// Code blocks of known languages are highlighted at export time;
    /// returns the index after the block, or `None` to leave it as it is.
    fn code_block(&mut self, i: usize, lang: &str) -> Option<usize> {
        let lang = lang.split_whitespace().next().unwrap_or("");
        let (code, j) = self.text_until(i, |e| matches!(e, Event::End(TagEnd::CodeBlock)), false);
        let h = super::highlight::highlight(lang, code.trim_end_matches('\n'))?;
        self.out.push(Event::Html(CowStr::from(format!(
            "<pre><code class=\"language-{}\">{h}</code></pre>\n",
            html_escape(lang)
        ))));
        Some(j + 1)
    }
}

/// Turn foldable callouts (`> [!type]-` folded, `> [!type]+` open) into
/// `<details>` blocks, which fold without any JavaScript.
pub fn fold_callouts(html: &str) -> String {
    if !html.contains("callout-fold") {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    // For every open blockquote: whether it became a <details>.
    let mut stack: Vec<bool> = Vec::new();
    let mut rest = html;
    loop {
        let open = rest.find("<blockquote>");
        let close = rest.find("</blockquote>");
        match (open, close) {
            (Some(o), c) if c.is_none_or(|c| o < c) => {
                out.push_str(&rest[..o]);
                let after = &rest[o + "<blockquote>".len()..];
                let head = after.trim_start();
                let title_start = head.strip_prefix("<p>").unwrap_or(head);
                let tag_end = title_start.find('>').unwrap_or(0);
                let first_tag = &title_start[..tag_end];
                if title_start.starts_with("<span class=\"callout-title")
                    && first_tag.contains("callout-fold")
                {
                    let open_attr = if first_tag.contains("callout-foldable") {
                        " open"
                    } else {
                        ""
                    };
                    // The title becomes the summary.
                    let end = title_start
                        .find("</span>")
                        .map(|e| e + "</span>".len())
                        .unwrap_or(0);
                    let title = &title_start[..end];
                    let mut remainder = &title_start[end..];
                    if head.starts_with("<p>") {
                        remainder = remainder.trim_start();
                        remainder = remainder
                            .strip_prefix("<br />")
                            .unwrap_or(remainder)
                            .trim_start();
                        remainder = remainder.strip_prefix("</p>").unwrap_or(remainder);
                    }
                    out.push_str(&format!(
                        "<details class=\"callout\"{open_attr}><summary>{title}</summary>"
                    ));
                    stack.push(true);
                    rest = remainder;
                } else {
                    out.push_str("<blockquote>");
                    stack.push(false);
                    rest = after;
                }
            }
            (_, Some(c)) => {
                out.push_str(&rest[..c]);
                out.push_str(if stack.pop() == Some(true) {
                    "</details>"
                } else {
                    "</blockquote>"
                });
                rest = &rest[c + "</blockquote>".len()..];
            }
            _ => {
                out.push_str(rest);
                break;
            }
        }
    }
    out
}

/// Sanitise rendered HTML: only safe tags and attributes survive, so a
/// `<script>` or `onerror=` in any input never reaches the page as live code.
pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .add_generic_attributes(["id", "class", "title"])
        .add_tags(["input", "details", "summary", "span"])
        .add_tag_attributes("details", ["open"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("a", ["href"])
        .url_relative(ammonia::UrlRelative::PassThrough)
        .link_rel(Some("noopener"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R;
    impl LinkResolver for R {
        fn resolve(&self, t: &str) -> Option<String> {
            match t.to_lowercase().as_str() {
                "t1059.006 python" | "techniques/t1059.006 python" => {
                    Some("techniques/t1059-006-python.html".into())
                }
                "café" => Some("cafe.html".into()),
                _ => None,
            }
        }
        fn tag_url(&self, tag: &str) -> String {
            format!("tags/{}.html", tag.to_lowercase())
        }
    }

    fn html(md: &str) -> String {
        sanitize(&fold_callouts(&render(md, &R).html))
    }

    #[test]
    fn html_nested_deeper_than_notes_are_written_is_shown_as_text() {
        use super::super::raw_html::MAX_DEPTH;
        let deep = "<div>".repeat(MAX_DEPTH + 50) + "inside";
        for md in [
            deep.clone(),
            deep.replace("><", ">\n<"),
            format!("text {deep}"),
        ] {
            let out = html(&md);
            assert!(out.matches("<div>").count() <= MAX_DEPTH, "{md:.40}");
            assert!(out.contains("&lt;div&gt;") && out.contains("inside"));
        }
        let fine = "<div>".repeat(MAX_DEPTH) + "inside";
        assert!(!html(&fine).contains("&lt;"));
    }

    #[test]
    fn wikilinks_resolve_with_alias_heading_and_in_tables() {
        assert!(html("[[T1059.006 Python]]").contains("href=\"techniques/t1059-006-python.html\""));
        assert!(html("[[T1059.006 Python|Python]]").contains(">Python</a>"));
        assert!(
            html("[[T1059.006 Python#Procedure Examples]]")
                .contains("t1059-006-python.html#procedure-examples")
        );
        let t = html("| a | b |\n| --- | --- |\n| [[T1059.006 Python\\|T1059.006]] | x |\n");
        assert!(
            t.contains("<td><a href=\"techniques/t1059-006-python.html\""),
            "{t}"
        );
        assert!(t.contains(">T1059.006</a>"), "{t}");
        assert!(html("[[café]]").contains("href=\"cafe.html\""));
    }

    #[test]
    fn markdown_links_to_notes_lead_to_their_pages() {
        let h = html(
            "[a](../Techniques/T1059.006%20Python.md#Procedure%20Examples) [b](<T1059.006 Python.md>) [c](Gone.md) [d](https://x.org/a.md) [e](diagram.png)",
        );
        assert!(
            h.contains("<a href=\"techniques/t1059-006-python.html#procedure-examples\" rel=\"noopener\">a</a>"),
            "{h}"
        );
        assert!(
            h.contains("<a href=\"techniques/t1059-006-python.html\" rel=\"noopener\">b</a>"),
            "{h}"
        );
        assert!(h.contains("title=\"unresolved: Gone\""), "{h}");
        assert!(!h.contains("href=\"Gone.md\""), "{h}");
        assert!(h.contains("href=\"https://x.org/a.md\""), "{h}");
        assert!(h.contains("title=\"unresolved: diagram.png\""), "{h}");
        assert!(
            !h.contains("href=\"diagram.png\""),
            "a file the vault lacks: {h}"
        );
        let pre = "[a](T1059.006%20Python.md) [c](Gone.md) [d](https://x.org/a.md)";
        assert_eq!(links(pre, &R), ["T1059.006 Python", "Gone"]);
        // Without its `.md`, as Obsidian also follows it.
        let h = html("[f](T1059.006%20Python#Detection) [g](Nowhere)");
        assert!(
            h.contains(
                "<a href=\"techniques/t1059-006-python.html#detection\" rel=\"noopener\">f</a>"
            ),
            "{h}"
        );
        assert!(h.contains("title=\"unresolved: Nowhere\""), "{h}");
    }

    #[test]
    fn a_markdown_link_to_a_heading_of_its_own_note_reaches_its_anchor() {
        // As Obsidian writes it with wikilinks off: the heading's own text.
        let h = html("## My Part\n\n[up](#My%20Part) [block](#^b-1) [to](#)");
        assert!(
            h.contains("<a href=\"#my-part\" rel=\"noopener\">up</a>"),
            "{h}"
        );
        assert!(
            h.contains("<a href=\"#^b-1\" rel=\"noopener\">block</a>"),
            "{h}"
        );
        assert!(h.contains("<a href=\"#\" rel=\"noopener\">to</a>"), "{h}");
        assert!(
            links("[up](#My%20Part)", &R).is_empty(),
            "no backlink to itself"
        );
    }

    #[test]
    fn block_ids_are_anchors_that_links_to_them_reach() {
        let h = html(
            "A paragraph\nends here ^p-1\n\n- item ^li\n\n`code ^no` and x ^no_id\n\n[[T1059.006 Python#^b1]] [[#^p-1]]",
        );
        assert!(
            h.contains("ends here<span id=\"^p-1\" class=\"block-id\"></span></p>"),
            "{h}"
        );
        assert!(
            h.contains("<li>item<span id=\"^li\" class=\"block-id\"></span></li>"),
            "{h}"
        );
        assert!(h.contains("<code>code ^no</code> and x ^no_id"), "{h}");
        assert!(
            h.contains("href=\"techniques/t1059-006-python.html#^b1\""),
            "{h}"
        );
        assert!(h.contains("href=\"#^p-1\""), "{h}");
        let e = html("![[T1059.006 Python#Procedure Examples]] ![[T1059.006 Python#^b1]]");
        assert!(
            e.contains("href=\"techniques/t1059-006-python.html#procedure-examples\""),
            "{e}"
        );
        assert!(
            e.contains("href=\"techniques/t1059-006-python.html#^b1\""),
            "{e}"
        );
    }

    #[test]
    fn highlights_are_marked_outside_code() {
        let h = html(
            "a ==marked text== and b == c == d, ==x==\n\n```\n==code==\n```\n\n    ==indented==\n\n`==span==` ==end== ^blk\n",
        );
        assert!(
            h.contains("a <mark>marked text</mark> and b == c == d, <mark>x</mark>"),
            "{h}"
        );
        assert!(
            h.contains("==code==")
                && h.contains("==indented==")
                && h.contains("<code>==span==</code>"),
            "{h}"
        );
        assert!(
            h.contains("<mark>end</mark><span id=\"^blk\" class=\"block-id\"></span>"),
            "{h}"
        );
        assert_eq!(highlights("no marks"), [(false, "no marks")]);
        assert_eq!(highlights("== x=="), [(false, "== x==")]);
        assert_eq!(
            highlights("?__biz=Ng==&mid=1 and YQ== Yg=="),
            [(false, "?__biz=Ng==&mid=1 and YQ== Yg==")]
        );
        assert_eq!(
            highlights("a==b==c"),
            [(false, "a"), (true, "b"), (false, "c")]
        );
    }

    #[test]
    fn unresolved_links_are_not_dead_hrefs() {
        let h = html("see [[Nowhere]]");
        assert!(h.contains("class=\"unresolved\""), "{h}");
        assert!(!h.contains("href=\"Nowhere"), "{h}");
    }

    #[test]
    fn headings_get_unique_ids() {
        let Rendered { html: h, ids, .. } =
            render("## Detection: Rules!\n\n## Detection: Rules!\n", &R);
        assert_eq!(ids, vec!["detection-rules", "detection-rules-1"]);
        assert!(h.contains("id=\"detection-rules-1\""));
    }

    #[test]
    fn callouts_comments_and_tags() {
        let h = html("> [!warning]- Revoked\n> body\n\ntext %% hidden %% #T1059_006 `#notag`");
        assert!(h.contains("callout-title callout-warning"), "{h}");
        assert!(h.contains(">Revoked<"));
        assert!(!h.contains("hidden"));
        assert!(h.contains("href=\"tags/t1059_006.html\""), "{h}");
        assert!(h.contains("<code>#notag</code>"));
    }

    #[test]
    fn code_html_and_links_keep_percent_signs_and_hashes_wherever_they_stand() {
        // Batch loops (`%%f`) and `#Requires`/`#include` in code inside a
        // callout or a list, in a code span, in an HTML block, in a link:
        // all text, as Obsidian shows them; a comment may still hide code.
        let h = html(
            "Run `for %%f in (*) do del %%f` now.\n\n\
             > [!example] Script\n> ```bat\n> for %%g in (*) do echo %%g\n> ```\n> ```powershell\n> #Requires -Version 5\n> ```\n\n\
             - step\n  ```c\n  #include <stdio.h>\n  ```\n\n\
             <details>\n#ioc 1.2.3.4\n</details>\n\n\
             [see #alias](https://example.org/) `x`#after %% hidden `code` and #hidden %% #shown\n",
        );
        assert!(h.contains("<code>for %%f in (*) do del %%f</code>"), "{h}");
        assert!(h.contains("for %%g in (*) do echo %%g"), "{h}");
        assert!(h.contains("#Requires -Version 5"), "{h}");
        assert!(h.contains("#include &lt;stdio.h&gt;"), "{h}");
        assert!(h.contains("#ioc 1.2.3.4"), "{h}");
        assert!(h.contains(">see #alias</a>"), "{h}");
        for tag in ["requires", "include", "ioc", "alias", "after", "hidden"] {
            assert!(!h.contains(&format!("tags/{tag}.html")), "{tag}: {h}");
        }
        assert!(!h.contains("<code>code</code>"), "{h}");
        assert!(h.contains("href=\"tags/shown.html\""), "{h}");
    }

    #[test]
    fn a_link_to_a_part_of_a_note_reads_as_obsidian_shows_it() {
        let h = html(
            "[[T1059.006 Python#Detection]] [[T1059.006 Python#A#B]] [[T1059.006 Python#^b1]] [[T1059.006 Python#Detection|own words]] [[#Here]]\n\n## Here\n",
        );
        assert!(h.contains(">T1059.006 Python &gt; Detection</a>"), "{h}");
        assert!(h.contains(">T1059.006 Python &gt; A &gt; B</a>"), "{h}");
        assert!(h.contains(">T1059.006 Python &gt; ^b1</a>"), "{h}");
        assert!(h.contains(">own words</a>"), "{h}");
        assert!(h.contains(">#Here</a>"), "{h}");
    }

    #[test]
    fn tags_are_what_obsidian_takes_for_tags() {
        let h = html("#2024-q3 and #y1984 and #_x and #nested/tag-1, but not #1984, a#b or ##h\n");
        for tag in ["2024-q3", "y1984", "_x", "nested/tag-1"] {
            assert!(h.contains(&format!(">#{tag}</a>")), "{tag}: {h}");
        }
        for text in ["not #1984,", "a#b", "##h"] {
            assert!(h.contains(text), "{text}: {h}");
        }
    }

    #[test]
    fn foldable_callouts_become_details() {
        let h = html(
            "> [!tip]- Folded\n> body text\n\n> [!info]+ Open\n> more\n\n> [!note] Plain\n> x\n",
        );
        assert!(h.contains("<details class=\"callout\"><summary><span class=\"callout-title callout-tip callout-folded\">Folded</span></summary>"), "{h}");
        assert!(h.contains("<details class=\"callout\" open=\"\">"), "{h}");
        assert!(h.contains("body text"));
        assert_eq!(h.matches("</details>").count(), 2, "{h}");
        assert_eq!(h.matches("</blockquote>").count(), 1, "{h}");
    }

    #[test]
    fn callouts_inside_callouts_and_list_items_are_callouts() {
        let h = html(
            "> [!warning]- Outer\n> > [!note] Inner #T1059_006\n> > inner text\n\n\
             - item\n  > [!tip] In a list\n  > body\n\n>[!info] Tight\n> x\n\ntext > [!no] callout\n",
        );
        assert!(h.contains("<summary><span class=\"callout-title callout-warning callout-folded\">Outer</span></summary>\n<blockquote>\n<p><span class=\"callout-title callout-note\">Inner #T1059_006</span></p>\n<p>inner text</p>\n</blockquote>\n</details>"), "{h}");
        assert!(h.contains("<li>item\n<blockquote>\n<p><span class=\"callout-title callout-tip\">In a list</span></p>"), "{h}");
        assert!(
            h.contains("<span class=\"callout-title callout-info\">Tight</span>"),
            "{h}"
        );
        assert!(h.contains("text &gt; [!no] callout"), "{h}");
        assert_eq!(h.matches("[!").count(), 1, "{h}");
    }

    #[test]
    fn hostile_html_is_neutralised() {
        let h = html(
            "<script>alert(1)</script><img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))",
        );
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("onerror"), "{h}");
        assert!(!h.contains("href=\"javascript"), "{h}");
    }

    #[test]
    fn footnotes_and_tasks() {
        let h = html("a[^1]\n\n[^1]: note\n\n- [x] done\n");
        assert!(h.contains("footnote"), "{h}");
        assert!(h.contains("checkbox"), "{h}");
    }

    #[test]
    fn inline_footnotes_are_footnotes_numbered_with_the_others() {
        let md = "Regular[^1] then^[inline with [[T1059.006 Python]], `co]de` and #tag] \
                  and ^[a [nested] one].\n\nLeft ^[ open, ^[] empty, `^[code]`.\n\n\
                  [^1]: Regular.\n[^inline-9]: The analyst's own label.\n";
        let h = html(md);
        let refs: Vec<&str> = h
            .match_indices("footnote-reference\"><a href=\"#")
            .map(|(at, m)| h[at + m.len()..].split('"').next().unwrap())
            .collect();
        assert_eq!(refs, ["1", "inline_-1", "inline_-2"], "{h}");
        assert!(h.contains("<p>inline with <a href=\"techniques/t1059-006-python.html\" rel=\"noopener\">T1059.006 Python</a>, <code>co]de</code> and <a href=\"tags/tag.html\" rel=\"noopener\">#tag</a></p>"), "{h}");
        assert!(h.contains("<p>a [nested] one</p>"), "{h}");
        assert!(
            h.contains("Left ^[ open, ^[] empty, <code>^[code]</code>."),
            "{h}"
        );
        assert_eq!(
            links("a^[see [[T1059.006 Python]]]", &R),
            ["T1059.006 Python"]
        );
    }

    #[test]
    fn footnotes_are_listed_last_in_the_order_they_are_met() {
        let h =
            html("b[^b] a[^a]\n\n[^a]: Alpha.\n\n[^z]: Unused.\n\nMiddle text.\n\n[^b]: Beta.\n");
        let order: Vec<usize> = ["Middle text", "Beta.", "Alpha.", "Unused."]
            .iter()
            .map(|t| h.find(t).unwrap())
            .collect();
        assert!(order.is_sorted(), "{h}");
        assert!(h.contains("<a href=\"#b\" rel=\"noopener\">1</a>"), "{h}");
    }

    #[test]
    fn tasks_marked_with_other_characters_are_checked_tasks() {
        let h = html(
            "- [/] in progress\n- [-] cancelled\n- [ ] open\n1. [>] moved\n\n> - [!] in a quote\n\n\
             - [[link]] no task\n- [ab] no task\n-[/] no task\n\n```\n- [/] code\n```\n",
        );
        assert_eq!(h.matches("checked").count(), 4, "{h}");
        assert_eq!(h.matches("type=\"checkbox\"").count(), 5, "{h}");
        assert!(h.contains("in progress") && h.contains("in a quote"), "{h}");
        assert!(
            h.contains("[ab] no task") && h.contains("-[/] no task"),
            "{h}"
        );
        assert!(h.contains("- [/] code"), "{h}");
    }

    #[test]
    fn a_markdown_image_takes_the_size_written_after_its_alt_text() {
        struct Files;
        impl LinkResolver for Files {
            fn resolve(&self, t: &str) -> Option<String> {
                (t == "img/net.png").then(|| "files/img/net.png".into())
            }
            fn tag_url(&self, tag: &str) -> String {
                format!("tags/{tag}.html")
            }
        }
        let h = sanitize(
            &render(
                "![C2 traffic|300](img/net.png) ![Map|300x200](img/net.png) ![a|b](img/net.png) ![x|9](https://example.org/x.png)",
                &Files,
            )
            .html,
        );
        assert!(
            h.contains("<img src=\"files/img/net.png\" alt=\"C2 traffic\" width=\"300\">"),
            "{h}"
        );
        assert!(
            h.contains("alt=\"Map\" width=\"300\" height=\"200\""),
            "{h}"
        );
        assert!(
            h.contains("<img src=\"files/img/net.png\" alt=\"a|b\""),
            "{h}"
        );
        assert!(
            h.contains("<img src=\"https://example.org/x.png\" alt=\"x|9\""),
            "web images as written: {h}"
        );
    }

    #[test]
    fn callout_markup_alone_needs_no_sanitiser() {
        assert!(is_callout_markup(
            "<span class=\"callout-title callout-info callout-folded\">"
        ));
        assert!(is_callout_markup("</span>"));
        assert!(!is_callout_markup(
            "<span class=\"callout-title callout-x\" onclick=\"a()\">"
        ));
        assert!(!is_callout_markup(
            "<span class=\"callout-title callout-x\"><script>"
        ));
        assert!(!render("> [!info] Title\n> body\n", &R).needs_sanitizing);
        assert!(render("> [!info] Title\n> <b onclick=x>body</b>\n", &R).needs_sanitizing);
    }

    #[test]
    fn only_raw_html_or_odd_links_need_the_sanitiser() {
        let needs = |md: &str| render(md, &R).needs_sanitizing;
        assert!(!needs(
            "**plain** text, [web](https://example.org), [[T1059.006 Python]], <https://x.org>\n\n| a<br>b | c<BR /> |\n| --- | --- |\n| 1 | 2 |\n\n```yaml\na: <script>\n```\n"
        ));
        for md in [
            "<script>alert(1)</script>",
            "a <img src=x onerror=alert(1)> b",
            "<br onmouseover=alert(1)>",
            "[x](javascript:alert(1))",
            "[x]( JavaScript:alert(1))",
            "![i](data:image/svg+xml;base64,PHN2Zz4=)",
            "<!-- comment -->",
        ] {
            assert!(needs(md), "{md}");
        }
    }
}
