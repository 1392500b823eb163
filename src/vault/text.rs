//! Converting ATT&CK's description text into Obsidian Markdown:
//! `(Citation: Name)` becomes a footnote, links to attack.mitre.org become
//! wikilinks to the vault's own notes, `<code>` and the few other inline HTML
//! tags become Markdown, and stray `<placeholders>` and `$` signs are escaped
//! so Obsidian neither hides them as HTML nor typesets them as math, nor
//! `%%` (a batch script's `%%i`) as a comment hiding the rest of the note,
//! nor `^[` as an inline footnote.

use crate::attack::stix::ExternalReference;
use std::collections::HashMap;

/// One footnote of a note.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Footnote {
    /// The label used in `[^label]`.
    pub label: String,
    /// The citation's source name.
    pub name: String,
    /// The footnote text (reference description and URL), one line.
    pub text: String,
}

/// The footnotes collected while converting the texts of one note, numbered in
/// order of first citation so output is deterministic.
#[derive(Debug, Default)]
pub struct Footnotes {
    items: Vec<Footnote>,
    index: HashMap<String, usize>,
}

impl Footnotes {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn into_vec(self) -> Vec<Footnote> {
        self.items
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The label for citation `name`, adding the footnote on first use.
    pub fn cite(&mut self, name: &str, reference: Option<&ExternalReference>) -> String {
        if let Some(&i) = self.index.get(name) {
            return self.items[i].label.clone();
        }
        let label = (self.items.len() + 1).to_string();
        let text = footnote_text(name, reference);
        self.index.insert(name.to_string(), self.items.len());
        self.items.push(Footnote {
            label: label.clone(),
            name: name.to_string(),
            text,
        });
        label
    }
}

fn footnote_text(name: &str, r: Option<&ExternalReference>) -> String {
    let mut out = String::new();
    let desc = r
        .and_then(|r| r.description.as_deref())
        .unwrap_or("")
        .trim();
    let desc = strip_citations(desc);
    if desc.is_empty() {
        out.push_str(&super::escape::inline(name));
    } else {
        out.push_str(&super::escape::inline(&desc));
    }
    if let Some(url) = r
        .and_then(|r| r.url.as_deref())
        .filter(|u| !u.trim().is_empty())
    {
        out.push(' ');
        out.push_str(&autolink(url.trim()));
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A web address (http, https, ftp) as a CommonMark autolink,
/// percent-encoding what an autolink forbids; anything else (a rule's
/// "Internal Research", a `javascript:` address) as text.
pub fn autolink(url: &str) -> String {
    let web = ["http://", "https://", "ftp://"].iter().any(|scheme| {
        url.get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    });
    if !web {
        return super::escape::inline(url);
    }
    let mut s = String::from("<");
    for c in url.chars() {
        match c {
            ' ' => s.push_str("%20"),
            '<' => s.push_str("%3C"),
            '>' => s.push_str("%3E"),
            c if c.is_control() => {}
            c => s.push(c),
        }
    }
    s.push('>');
    s
}

fn strip_citations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(p) = rest.find("(Citation:") {
        out.push_str(&rest[..p]);
        let after = &rest[p + "(Citation:".len()..];
        match after.find(')') {
            Some(e) => {
                out.push_str(after[..e].trim());
                rest = &after[e + 1..];
            }
            None => {
                out.push_str(after.trim());
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// How the converter resolves links and citations; implemented by the vault.
pub trait Resolver {
    /// The note stem that an attack.mitre.org URL names, if it is in the vault.
    fn note_for_url(&self, url: &str) -> Option<String>;
    /// A citation by source name.
    fn citation(&self, name: &str) -> Option<&ExternalReference>;
}

/// Convert one ATT&CK text. `local_refs` are the object's (or relationship's)
/// own references, looked up before the resolver's global ones.
/// Whether the `^` at `i` may begin a block id: after a space or a line's
/// start, before a letter, digit or `-` (`start with ^powershell`).
fn starts_block_id(b: &[u8], i: usize) -> bool {
    let after_space = i == 0 || b[i - 1].is_ascii_whitespace();
    after_space
        && b.get(i + 1)
            .is_some_and(|&n| n.is_ascii_alphanumeric() || n == b'-')
}

pub fn convert(
    text: &str,
    local_refs: &[ExternalReference],
    resolver: &dyn Resolver,
    notes: &mut Footnotes,
) -> String {
    let cleaned = without_controls(text);
    let text = cleaned.as_ref();
    let mut c = Converter {
        text,
        out: String::with_capacity(text.len() + 32),
        i: 0,
        plain_start: 0,
        local_refs,
        by_name: None,
        resolver,
        notes,
    };
    let b = text.as_bytes();
    while c.i < b.len() {
        let i = c.i;
        match b[i] {
            b'`' => c.i = c.code_span_end(),
            b'$' => c.replace(1, "\\$"),
            // Obsidian's comment, which hides all up to the next `%%`, code
            // aside: a rule's `for %%i in` would hide the rest of its note.
            b'%' if b.get(i + 1) == Some(&b'%') => c.replace(2, "\\%\\%"),
            // Obsidian's inline footnote (a regex's `^[a-z]`), and the block
            // id that a ` ^word` ending a paragraph is, which Obsidian hides.
            b'^' if b.get(i + 1) == Some(&b'[') => c.replace(2, "^\\["),
            b'^' if starts_block_id(b, i) => c.replace(1, "\\^"),
            b'(' if text[i..].starts_with("(Citation:") => c.citation(),
            // A wikilink or embed written into the source text is text, not a
            // link the vault made: only Markdown links to ATT&CK pages become
            // wikilinks.
            b'[' if b.get(i + 1) == Some(&b'[') => c.replace(2, "\\[\\["),
            b']' if b.get(i + 1) == Some(&b']') => c.replace(2, "\\]\\]"),
            // `#word` would make a tag, `# ` at a line's start a heading.
            b'#' if i == 0 || matches!(b[i - 1], b' ' | b'\n' | b'\t' | b'(') => {
                c.replace(1, "\\#")
            }
            b'[' => c.link(),
            b'<' => {
                c.flush();
                c.i += convert_tag(&text[i..], &mut c.out);
                c.plain_start = c.i;
            }
            _ => c.i += 1,
        }
    }
    c.out.push_str(&text[c.plain_start..]);
    c.out
}

/// A control character that is not a tab or a line end: no text of a note.
fn hidden_control(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Control characters but tab and line ends become spaces: a NUL or an
/// escape sequence is no text of a note (and a NUL makes git take the note
/// for a binary file).
fn without_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains(hidden_control) {
        return text.into();
    }
    text.chars()
        .map(|c| if hidden_control(c) { ' ' } else { c })
        .collect::<String>()
        .into()
}

/// The state of one conversion: text before `plain_start` is converted,
/// text from there to `i` is plain and still to be copied.
struct Converter<'a> {
    text: &'a str,
    out: String,
    i: usize,
    plain_start: usize,
    local_refs: &'a [ExternalReference],
    /// The object's own references by name, made at its first citation: a
    /// text citing each of thousands of references would otherwise look
    /// each up among all of them.
    by_name: Option<HashMap<&'a str, &'a ExternalReference>>,
    resolver: &'a dyn Resolver,
    notes: &'a mut Footnotes,
}

impl<'a> Converter<'a> {
    fn flush(&mut self) {
        self.out.push_str(&self.text[self.plain_start..self.i]);
    }

    /// Writes `with` in place of the next `len` bytes.
    fn replace(&mut self, len: usize, with: &str) {
        self.flush();
        self.out.push_str(with);
        self.i += len;
        self.plain_start = self.i;
    }

    /// Where an existing Markdown code span ends (copied verbatim), or the
    /// end of its opening backticks when it is not closed.
    fn code_span_end(&self) -> usize {
        let (text, i) = (self.text, self.i);
        let run = text[i..].bytes().take_while(|&c| c == b'`').count();
        let fence = &text[i..i + run];
        // As in CommonMark, a code span never crosses a paragraph: a
        // stray backtick must not swallow the links of later paragraphs.
        let line_end = text[i + run..]
            .find("\n\n")
            .map_or(text.len(), |p| i + run + p);
        match find_fence(&text[i + run..line_end], fence) {
            Some(end) => i + run + end + run,
            None => i + run,
        }
    }

    /// `(Citation: Name)` becomes a footnote reference.
    fn citation(&mut self) {
        let after = self.i + "(Citation:".len();
        let Some(end) = self.text[after..].find(')') else {
            self.i += 1;
            return;
        };
        let name = self.text[after..after + end].trim();
        let r = self.local(name).or_else(|| self.resolver.citation(name));
        let label = self.notes.cite(name, r);
        self.replace(after + end + 1 - self.i, &format!("[^{label}]"));
    }

    /// The object's own reference of this name: the first that says
    /// something (a description or a URL).
    fn local(&mut self, name: &str) -> Option<&'a ExternalReference> {
        let refs = self.local_refs;
        let by_name = self.by_name.get_or_insert_with(|| {
            let mut m = HashMap::new();
            for r in refs
                .iter()
                .filter(|r| r.description.is_some() || r.url.is_some())
            {
                m.entry(r.source_name.as_str()).or_insert(r);
            }
            m
        });
        by_name.get(name).copied()
    }

    /// A Markdown link to an ATT&CK page in the vault becomes a wikilink;
    /// other links stay verbatim, their URL unescaped.
    fn link(&mut self) {
        let Some((label, url, len)) = parse_md_link(&self.text[self.i..]) else {
            self.i += 1;
            return;
        };
        match self.resolver.note_for_url(url) {
            Some(stem) => self.replace(len, &wikilink(&stem, Some(label))),
            None => self.i += len,
        }
    }
}

fn find_fence(hay: &str, fence: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = hay[from..].find(fence) {
        let at = from + p;
        let after = hay[at + fence.len()..].starts_with('`');
        let before = at > 0 && hay.as_bytes()[at - 1] == b'`';
        if !after && !before {
            return Some(at);
        }
        from = at + fence.len();
        while hay[from..].starts_with('`') {
            from += 1;
        }
    }
    None
}

/// `[label](url)` at the start of `s`: (label, url, length).
fn parse_md_link(s: &str) -> Option<(&str, &str, usize)> {
    let close = s.find("](")?;
    let label = &s[1..close];
    if label.contains('[') || label.contains('\n') {
        return None;
    }
    let rest = &s[close + 2..];
    let end = rest.find(')')?;
    let url = &rest[..end];
    if url.contains(char::is_whitespace) {
        return None;
    }
    Some((label, url, close + 2 + end + 1))
}

/// A wikilink to `stem`, with `label` as display text when it differs.
pub fn wikilink(stem: &str, label: Option<&str>) -> String {
    match label {
        Some(l) if l != stem && !l.is_empty() => {
            format!("[[{stem}|{}]]", super::escape::alias(l))
        }
        _ => format!("[[{stem}]]"),
    }
}

/// Convert the HTML tag at the start of `s`, returning how many bytes it used.
fn convert_tag(s: &str, out: &mut String) -> usize {
    let Some(end) = s.find('>') else {
        out.push_str("&lt;");
        return 1;
    };
    let tag = &s[1..end];
    let lower = tag.trim().to_ascii_lowercase();
    let name: String = lower
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let closing = lower.starts_with('/');
    match (name.as_str(), closing) {
        ("code" | "pre", false) => {
            let close = format!("</{name}>");
            let body_start = end + 1;
            let Some(rel) = find_ci(&s[body_start..], &close) else {
                return end + 1;
            };
            let inner = decode_entities(&s[body_start..body_start + rel]);
            out.push_str(&code_span(&inner));
            body_start + rel + close.len()
        }
        ("code" | "pre", true) => end + 1,
        ("br", _) => {
            out.push_str("<br>");
            end + 1
        }
        ("b" | "strong", _) => {
            out.push_str("**");
            end + 1
        }
        ("i" | "em", _) => {
            out.push('*');
            end + 1
        }
        ("u" | "sup" | "sub" | "span" | "font", _) => end + 1,
        ("p", true) => {
            out.push_str("\n\n");
            end + 1
        }
        ("p", false) => end + 1,
        _ => {
            out.push_str("&lt;");
            1
        }
    }
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let h = hay.to_ascii_lowercase();
    h.find(needle)
}

/// Decode the HTML entities that ATT&CK text uses. A short table is enough:
/// the data only ever escapes a handful of punctuation characters.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(p) = rest.find('&') {
        out.push_str(&rest[..p]);
        let tail = &rest[p..];
        let semi = tail.bytes().take(12).position(|b| b == b';');
        let decoded = semi.and_then(|e| {
            let ent = &tail[1..e];
            let c = match ent {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                "bsol" => '\\',
                "sol" => '/',
                "lbrace" => '{',
                "rbrace" => '}',
                "lsqb" => '[',
                "rsqb" => ']',
                "percnt" => '%',
                "ast" => '*',
                "nbsp" => ' ',
                _ => {
                    let n = ent.strip_prefix('#')?;
                    let v = if let Some(h) = n.strip_prefix(['x', 'X']) {
                        u32::from_str_radix(h, 16).ok()?
                    } else {
                        n.parse().ok()?
                    };
                    char::from_u32(v)?
                }
            };
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A code fence longer than any backtick run in `s`.
pub fn fence_for(s: &str) -> String {
    "`".repeat((longest_backtick_run(s) + 1).max(3))
}

/// The longest run of backticks in `s` (a fence must be longer).
pub fn longest_backtick_run(s: &str) -> usize {
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    longest
}

/// Code (a command, an argument's value) with its control characters but
/// tab and line ends shown as escapes (`\u{1b}`): written raw they would
/// be invisible, and a NUL makes git take the note for a binary file.
pub fn visible_controls(code: &str) -> std::borrow::Cow<'_, str> {
    if !code.contains(hidden_control) {
        return code.into();
    }
    let mut out = String::with_capacity(code.len() + 8);
    for c in code.chars() {
        if hidden_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// A Markdown code span holding `s` literally (control characters shown
/// as escapes).
pub fn code_span(s: &str) -> String {
    let s = visible_controls(s).replace(['\n', '\r'], " ");
    if s.is_empty() {
        return String::new();
    }
    let longest = longest_backtick_run(&s);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || longest > 0 {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Make Markdown fit in one table cell: `|` escaped (also inside wikilinks,
/// as Obsidian requires), line breaks as `<br>`.
pub fn table_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut prev = '\0';
    let trimmed = s.trim();
    let mut chars = trimmed.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' if prev != '\\' => out.push_str("\\|"),
            '\r' => {}
            '\n' => {
                // Collapse paragraph breaks into one <br>.
                while chars.peek() == Some(&'\n') || chars.peek() == Some(&'\r') {
                    chars.next();
                }
                out.push_str("<br>");
            }
            c => out.push(c),
        }
        prev = c;
    }
    out
}

/// First paragraph / sentence-bounded summary of a Markdown text, for tables.
pub fn summary(s: &str, max_chars: usize) -> String {
    let para = s.split("\n\n").next().unwrap_or("").trim();
    if para.chars().count() <= max_chars {
        return para.to_string();
    }
    let cut: String = para.chars().take(max_chars).collect();
    match cut.rfind(". ") {
        Some(p) if p > max_chars / 3 => cut[..=p].to_string(),
        _ => format!("{}…", cut.trim_end()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_in_code_are_shown_as_escapes() {
        use super::{code_span, visible_controls};
        assert_eq!(
            visible_controls("echo \u{0}hi\u{1b}[31m\tx\n"),
            "echo \\u{0}hi\\u{1b}[31m\tx\n"
        );
        assert_eq!(code_span("v\u{0}w"), "`v\\u{0}w`");
    }

    #[test]
    fn control_characters_become_spaces_but_tabs_and_line_ends_stay() {
        use super::without_controls;
        assert_eq!(
            without_controls("d\u{0}e\u{7}f\u{1b}[2J\u{7f}"),
            "d e f [2J "
        );
        assert_eq!(without_controls("a\tb\r\nc"), "a\tb\r\nc");
        assert!(matches!(
            without_controls("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn only_web_addresses_become_links() {
        use super::autolink;
        assert_eq!(
            autolink("https://a.example/x y"),
            "<https://a.example/x%20y>"
        );
        assert_eq!(
            autolink("HTTP://a.example/<b>"),
            "<HTTP://a.example/%3Cb%3E>"
        );
        assert_eq!(autolink("Internal Research"), "Internal Research");
        assert_eq!(autolink("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(autolink("[[Home]] <b>"), "\\[\\[Home\\]\\] \\<b\\>");
    }

    use super::*;

    struct R;
    impl Resolver for R {
        fn note_for_url(&self, url: &str) -> Option<String> {
            if url.ends_with("/techniques/T1059/006") {
                Some("T1059.006 Python".into())
            } else {
                None
            }
        }
        fn citation(&self, name: &str) -> Option<&ExternalReference> {
            static R: std::sync::OnceLock<ExternalReference> = std::sync::OnceLock::new();
            (name == "Global").then(|| {
                R.get_or_init(|| ExternalReference {
                    source_name: "Global".into(),
                    description: Some("A global ref.".into()),
                    url: Some("https://example.org/g".into()),
                    external_id: None,
                })
            })
        }
    }

    fn conv(s: &str) -> (String, Vec<Footnote>) {
        let mut f = Footnotes::new();
        let local = vec![ExternalReference {
            source_name: "Local".into(),
            description: Some("Local ref. Retrieved 2020.".into()),
            url: Some("https://example.org/a b".into()),
            external_id: None,
        }];
        let out = convert(s, &local, &R, &mut f);
        (out, f.into_vec())
    }

    #[test]
    fn citations_become_numbered_footnotes() {
        let (out, notes) = conv(
            "One.(Citation: Local) Two.(Citation: Global)(Citation: Local) (Citation: Missing)",
        );
        assert_eq!(out, "One.[^1] Two.[^2][^1] [^3]");
        assert_eq!(notes.len(), 3);
        assert_eq!(
            notes[0].text,
            "Local ref. Retrieved 2020. <https://example.org/a%20b>"
        );
        assert_eq!(notes[1].text, "A global ref. <https://example.org/g>");
        assert_eq!(notes[2].text, "Missing");
    }

    #[test]
    fn each_citation_finds_the_first_of_its_name_that_says_something() {
        let r = |name: &str, desc: Option<&str>| ExternalReference {
            source_name: name.into(),
            description: desc.map(Into::into),
            url: None,
            external_id: None,
        };
        let mut local = vec![
            r("A", None),
            r("A", Some("First.")),
            r("A", Some("Second.")),
        ];
        local.extend((0..10_000).map(|i| r(&format!("S{i}"), Some(&format!("Ref {i}.")))));
        let text: String = (0..10_000)
            .rev()
            .map(|i| format!("(Citation: S{i})"))
            .collect();
        let mut f = Footnotes::new();
        let out = convert(&format!("x(Citation: A){text}"), &local, &R, &mut f);
        let notes = f.into_vec();
        assert_eq!(notes.len(), 10_001);
        assert_eq!(notes[0].text, "First.");
        assert_eq!(notes[1].text, "Ref 9999.");
        assert!(
            out.ends_with("[^10000][^10001]"),
            "{}",
            &out[out.len() - 40..]
        );
        let (_, notes) = conv("(Citation: Global)");
        assert_eq!(notes[0].text, "A global ref. <https://example.org/g>");
    }

    #[test]
    fn attack_links_become_wikilinks() {
        let (out, _) = conv(
            "Uses [Python](https://attack.mitre.org/techniques/T1059/006) and [X](https://attack.mitre.org/software/S9999).",
        );
        assert_eq!(
            out,
            "Uses [[T1059.006 Python|Python]] and [X](https://attack.mitre.org/software/S9999)."
        );
    }

    #[test]
    fn html_becomes_markdown() {
        let (out, _) =
            conv("Run <code>cmd.exe /c &lt;x&gt;</code> as <b>admin</b> for <PID>.<br>Next");
        assert_eq!(
            out,
            "Run `cmd.exe /c <x>` as **admin** for &lt;PID>.<br>Next"
        );
        let (out, _) = conv("<code>a`b</code>");
        assert_eq!(out, "`` a`b ``");
    }

    #[test]
    fn stray_backtick_does_not_hide_links() {
        let (out, _) =
            conv("`stray\n\nsee [Python](https://attack.mitre.org/techniques/T1059/006)");
        assert!(out.ends_with("[[T1059.006 Python|Python]]"), "{out}");
    }

    #[test]
    fn comments_and_inline_footnotes_of_obsidian_stay_text() {
        let (out, _) = conv("Loops: for %%i in (1,1,254) and ^[a-z]+ but `%%x ^[y]`");
        assert_eq!(
            out,
            "Loops: for \\%\\%i in (1,1,254) and ^\\[a-z]+ but `%%x ^[y]`"
        );
    }

    #[test]
    fn dollar_signs_are_not_math_but_code_is_verbatim() {
        let (out, _) = conv("Set $HOME and `echo $PATH <x>`");
        assert_eq!(out, "Set \\$HOME and `echo $PATH <x>`");
    }

    #[test]
    fn table_cells_escape_pipes_once() {
        assert_eq!(table_cell("[[a|b]] x\\|y\n\nz"), "[[a\\|b]] x\\|y<br>z");
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("a&#92;b&bsol;c&lt;&bogus;&#x41;"),
            "a\\b\\c<&bogus;A"
        );
        assert_eq!(
            decode_entities("&sc config “SysUpdate”"),
            "&sc config “SysUpdate”"
        );
    }
}
