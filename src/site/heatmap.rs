//! Coverage as a picture on the site. The notes mark coverage with 🟢🟡🔵⚪
//! for Obsidian; a browser without an emoji font draws those as boxes, so
//! the site turns each marker into a coloured swatch, and on matrix and
//! Coverage pages colours every cell that links a technique by its status
//! (the Navigator layer's colours, CSS classes `cov-*`), with its counts as
//! the tooltip.

use super::html_escape;
use crate::vault::status::Status;
use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

/// A technique's coverage as the site shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// CSS class suffix: `validated`, `rules`, `tests`, `none`.
    pub class: &'static str,
    /// The tooltip: status and counts.
    pub title: String,
    /// Its sub-techniques, shown when the cell is expanded.
    pub subs: Vec<Sub>,
}

/// A sub-technique under a coloured cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sub {
    /// Site-root-relative URL of its page.
    pub url: String,
    /// Its ID and name, as shown.
    pub name: String,
    pub class: &'static str,
    pub title: String,
}

/// The CSS class suffix of a status label (`rules only` → `rules`).
pub fn class_of(label: &str) -> Option<&'static str> {
    Status::parse(label).map(Status::class)
}

fn swatch(label: &str, class: &str) -> String {
    format!(
        "<span class=\"sw cov-{class}\" role=\"img\" aria-label=\"{label}\" title=\"{label}\"></span>"
    )
}

fn has_marker(e: &Event) -> bool {
    matches!(e, Event::Text(t) if has_markers(t))
}

/// Whether a text holds a coverage marker. The markers are not ASCII:
/// most text is passed by one fast check, and a whole note is searched
/// once, so that the events of the many pages without one are not looked
/// through.
pub fn has_markers(text: &str) -> bool {
    !text.is_ascii() && Status::ALL.iter().any(|m| text.contains(m.marker()))
}

/// Replace every coverage marker in the text with a swatch.
pub fn swatches(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    // Most pages have no marker: they keep their events as they are.
    if !events.iter().any(has_marker) {
        return events;
    }
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        match e {
            Event::Text(ref t) if has_marker(&e) => {
                let mut rest: &str = t;
                while let Some((at, m)) = Status::ALL
                    .iter()
                    .filter_map(|m| rest.find(m.marker()).map(|at| (at, m)))
                    .min_by_key(|x| x.0)
                {
                    if at > 0 {
                        out.push(Event::Text(CowStr::from(rest[..at].to_string())));
                    }
                    out.push(Event::InlineHtml(CowStr::from(swatch(
                        m.label(),
                        m.class(),
                    ))));
                    rest = &rest[at + m.marker().len()..];
                }
                if !rest.is_empty() {
                    out.push(Event::Text(CowStr::from(rest.to_string())));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Colour each table cell whose first link is a technique with coverage:
/// its content goes in a `cov-*` span that fills the cell, followed by its
/// sub-techniques, folded. `coverage` gives the coverage of the page a link
/// points to, and `root` is the way from the page to the site root (for
/// the sub-techniques' links). Returns whether any cell was coloured (the
/// page then gets a legend).
pub fn colour_cells<'a, 'c>(
    events: &mut Vec<Event<'a>>,
    coverage: &dyn Fn(&str) -> Option<&'c Cell>,
    root: &str,
) -> bool {
    // Only heatmap pages colour cells: others keep their events untouched.
    let mut in_cell = false;
    let coloured = events.iter().any(|e| match e {
        Event::Start(Tag::TableCell) => {
            in_cell = true;
            false
        }
        Event::End(TagEnd::TableCell) => {
            in_cell = false;
            false
        }
        Event::Start(Tag::Link { dest_url, .. }) => in_cell && coverage(dest_url).is_some(),
        _ => false,
    });
    if !coloured {
        return false;
    }
    let mut out: Vec<Event<'a>> = Vec::with_capacity(events.len() + 16);
    let mut any = false;
    let mut i = 0;
    while i < events.len() {
        if !matches!(events[i], Event::Start(Tag::TableCell)) {
            out.push(events[i].clone());
            i += 1;
            continue;
        }
        let end = (i..events.len())
            .find(|&j| matches!(events[j], Event::End(TagEnd::TableCell)))
            .unwrap_or(events.len() - 1);
        let cell = events[i + 1..end].iter().find_map(|e| match e {
            Event::Start(Tag::Link { dest_url, .. }) => coverage(dest_url),
            _ => None,
        });
        out.push(events[i].clone());
        match cell {
            Some(c) => {
                any = true;
                out.push(Event::InlineHtml(CowStr::from(format!(
                    "<span class=\"cov cov-{}\" title=\"{}\">",
                    c.class,
                    html_escape(&c.title)
                ))));
                out.extend(events[i + 1..end].iter().cloned());
                out.push(Event::InlineHtml(CowStr::from("</span>")));
                if !c.subs.is_empty() {
                    out.push(Event::InlineHtml(CowStr::from(subs_html(&c.subs, root))));
                }
            }
            None => out.extend(events[i + 1..end].iter().cloned()),
        }
        if end < events.len() {
            out.push(events[end].clone());
        }
        i = end + 1;
    }
    *events = out;
    any
}

/// A cell's sub-techniques as a fold (no JavaScript), each coloured by its
/// own status with its counts as the tooltip.
fn subs_html(subs: &[Sub], root: &str) -> String {
    let mut s = format!(
        "<details class=\"subs\"><summary>{} sub-technique{}</summary><ul>",
        subs.len(),
        if subs.len() == 1 { "" } else { "s" }
    );
    for sub in subs {
        s.push_str(&format!(
            "<li><a class=\"cov cov-{}\" href=\"{root}{}\" title=\"{}\">{}</a></li>",
            sub.class,
            html_escape(&sub.url),
            html_escape(&sub.title),
            html_escape(&sub.name)
        ));
    }
    s.push_str("</ul></details>");
    s
}

/// The legend of a coloured page.
pub fn legend() -> String {
    let items: Vec<String> = Status::ALL
        .iter()
        .map(|m| format!("<span class=\"cov cov-{}\">{}</span>", m.class(), m.label()))
        .collect();
    format!(
        "<p class=\"legend\">Coverage: {} (validated: a rule fired on sample events; hover a cell for its counts)</p>\n",
        items.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Parser, html};

    struct Cov(Option<Cell>);

    fn render(md: &str, cov: &Cov) -> (String, bool) {
        let mut events: Vec<Event> =
            Parser::new_ext(md, crate::site::markdown::options()).collect();
        let coverage = |url: &str| cov.0.as_ref().filter(|_| url == "t1.html");
        let any = colour_cells(&mut events, &coverage, "../");
        let events = swatches(events);
        let mut s = String::new();
        html::push_html(&mut s, events.into_iter());
        (s, any)
    }

    #[test]
    fn markers_become_swatches_and_technique_cells_colours() {
        let cov = Cov(Some(Cell {
            class: "rules",
            title: "rules only: 2 rules <x>".into(),
            subs: vec![Sub {
                url: "t/t1.001.html".into(),
                name: "T1.001 Sub".into(),
                class: "validated",
                title: "Sub: validated".into(),
            }],
        }));
        let (html, any) = render(
            "| A | B |\n| --- | --- |\n| 🟡 [T1](t1.html) | [X](x.html) |\n",
            &cov,
        );
        assert!(any);
        assert!(!html.contains('🟡'), "{html}");
        assert!(
            html.contains(
                "<td><span class=\"cov cov-rules\" title=\"rules only: 2 rules &lt;x&gt;\">"
            ),
            "{html}"
        );
        assert!(html.contains("<span class=\"sw cov-rules\""), "{html}");
        assert!(html.contains("<td><a href=\"x.html\">X</a></td>"), "{html}");
        assert!(
            html.contains("<details class=\"subs\"><summary>1 sub-technique</summary><ul><li><a class=\"cov cov-validated\" href=\"../t/t1.001.html\" title=\"Sub: validated\">T1.001 Sub</a></li></ul></details></td>"),
            "{html}"
        );
        let (plain, any) = render("🟢 validated and ⚪ none\n", &Cov(None));
        assert!(!any && plain.contains("cov-validated") && plain.contains("cov-none"));
        assert!(plain.contains(" validated and "), "{plain}");
    }
}
