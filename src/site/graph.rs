//! A page's local graph as an SVG (no JavaScript): its neighbours on a
//! ring, grouped and coloured by note kind with a legend, sized by how
//! linked they are, each a link with its title on hover; past the cap, a
//! "+N more" count.

use super::html_escape;
use std::fmt::Write;

/// A node of the graph: its title, URL, kind (the note's `type`) and
/// degree (links in and out), and how it is drawn.
pub struct Node<'a> {
    pub title: &'a str,
    pub url: &'a str,
    pub kind: &'a str,
    pub degree: usize,
    pub drawn: &'a Drawn,
}

/// The parts of a node's markup that are the same on every page that
/// shows it (a hub is drawn on thousands), escaped and formatted once.
pub struct Drawn {
    href: String,
    class: String,
    r: String,
    title: String,
}

impl Drawn {
    pub fn new(title: &str, url: &str, kind: &str, degree: usize) -> Drawn {
        Drawn {
            href: html_escape(url),
            class: class(kind),
            r: format!("{:.1}", radius(degree)),
            title: format!(
                "{} ({})",
                html_escape(title),
                html_escape(&kind.replace('_', " "))
            ),
        }
    }
}

/// Neighbours drawn at most.
const CAP: usize = 24;

/// The centre of the ring, and its radius.
const CX: f64 = 140.0;
const CY: f64 = 110.0;
const RING: f64 = 85.0;

/// Where `n` nodes sit on the ring, as formatted coordinates, and the
/// spokes to them as one path: the same for every page with `n`
/// neighbours, so computed once per `n`.
struct Ring {
    at: Vec<(String, String)>,
    spokes: String,
}

fn ring(n: usize) -> &'static Ring {
    static RINGS: std::sync::OnceLock<Vec<Ring>> = std::sync::OnceLock::new();
    let rings = RINGS.get_or_init(|| {
        (0..=CAP)
            .map(|n| {
                let at: Vec<(String, String)> = (0..n)
                    .map(|k| {
                        let a = std::f64::consts::TAU * k as f64 / n as f64
                            - std::f64::consts::FRAC_PI_2;
                        let (x, y) = (CX + RING * a.cos(), CY + RING * a.sin());
                        (format!("{x:.0}"), format!("{y:.0}"))
                    })
                    .collect();
                // The spokes as one path: a fraction of the bytes of a line each.
                let mut spokes = String::from("<path d=\"");
                for (x, y) in &at {
                    let _ = write!(spokes, "M{CX} {CY}L{x} {y}");
                }
                spokes.push_str("\"/>");
                Ring { at, spokes }
            })
            .collect()
    });
    &rings[n.min(CAP)]
}

/// A CSS-safe class for a kind (`detection_rule` → `k-detection_rule`).
fn class(kind: &str) -> String {
    let k: String = kind
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    format!("k-{}", if k.is_empty() { "note" } else { &k })
}

/// Radius by degree: a hub reads as a hub, a leaf as a leaf.
fn radius(degree: usize) -> f64 {
    (3.0 + 1.6 * ((degree + 1) as f64).ln()).min(10.0)
}

/// The SVG and its legend; empty without neighbours. `prefix` leads from
/// the page to the site root.
pub fn svg(center: &Node, neighbours: &mut [Node], prefix: &str) -> String {
    if neighbours.is_empty() {
        return String::new();
    }
    let total = neighbours.len();
    let shown = &*keep_and_group(neighbours);
    let n = shown.len();
    let ring = ring(n);
    let mut s =
        String::from("<svg viewBox=\"0 0 280 220\" role=\"img\" aria-label=\"Local graph\">");
    s.push_str(&ring.spokes);
    for (node, (x, y)) in shown.iter().zip(&ring.at) {
        let d = node.drawn;
        for part in [
            "<a href=\"",
            prefix,
            &d.href,
            "\"><circle class=\"",
            &d.class,
            "\" cx=\"",
            x,
            "\" cy=\"",
            y,
            "\" r=\"",
            &d.r,
            "\"><title>",
            &d.title,
            "</title></circle></a>",
        ] {
            s.push_str(part);
        }
    }
    s.push_str(&format!(
        "<circle class=\"self {}\" cx=\"{CX}\" cy=\"{CY}\" r=\"{:.1}\"><title>{}</title></circle>",
        center.drawn.class,
        radius(center.degree).max(7.0),
        html_escape(center.title)
    ));
    if total > n {
        s.push_str(&format!(
            "<text class=\"more\" x=\"{CX}\" y=\"214\" text-anchor=\"middle\">+{} more</text>",
            total - n
        ));
    }
    s.push_str("</svg>");
    s.push_str(&legend(shown));
    s
}

/// The neighbours shown: the most linked, up to [`CAP`], grouped by kind so
/// that the colours form arcs.
fn keep_and_group<'a, 'n>(neighbours: &'a mut [Node<'n>]) -> &'a mut [Node<'n>] {
    let n = neighbours.len().min(CAP);
    // The URL breaks ties: each page has its own, so the same neighbours
    // are kept whatever their order.
    let rank = |a: &Node, b: &Node| {
        (b.degree.cmp(&a.degree))
            .then(a.title.cmp(b.title))
            .then(a.url.cmp(b.url))
    };
    if neighbours.len() > n {
        // Hubs have thousands of neighbours: only the kept ones are sorted.
        neighbours.select_nth_unstable_by(n, rank);
    }
    let shown = &mut neighbours[..n];
    shown.sort_by(|a, b| {
        a.kind
            .cmp(b.kind)
            .then(b.degree.cmp(&a.degree))
            .then(a.title.cmp(b.title))
            .then(a.url.cmp(b.url))
    });
    shown
}

/// The kinds of the neighbours shown, each with its colour.
fn legend(shown: &[Node]) -> String {
    let mut kinds: Vec<&str> = shown.iter().map(|n| n.kind).collect();
    kinds.dedup();
    let mut s = String::from("<ul class=\"graph-legend\">");
    for k in kinds {
        s.push_str(&format!(
            "<li><span class=\"dot {}\"></span>{}</li>",
            class(k),
            html_escape(&k.replace('_', " "))
        ));
    }
    s.push_str("</ul>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node<'a>(title: &'a str, kind: &'a str, degree: usize) -> Node<'a> {
        Node {
            title,
            url: "x/y.html",
            kind,
            degree,
            drawn: Box::leak(Box::new(Drawn::new(title, "x/y.html", kind, degree))),
        }
    }

    #[test]
    fn kinds_colour_degree_sizes_and_the_cap_counts() {
        let center = node("Python", "technique", 40);
        let mut many: Vec<Node> = (0..30)
            .map(|_| node("Rule <1>", "detection_rule", 2))
            .collect();
        many.push(node("APT29", "group", 300));
        let s = svg(&center, &mut many, "../");
        assert!(s.contains("+7 more"), "{s}");
        assert!(s.contains("class=\"k-group\""), "the hub survives the cap");
        assert!(s.contains("<title>Rule &lt;1&gt; (detection rule)</title>"));
        assert!(s.contains("<li><span class=\"dot k-detection_rule\"></span>detection rule</li>"));
        assert!(radius(300) > radius(2));
        assert!(svg(&center, &mut [], "").is_empty());
    }
}
