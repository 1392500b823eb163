//! The note-text escapers, read as the site reads Markdown: any text put in
//! a heading stays one heading with no link, image, HTML or emphasis in it;
//! as a link alias it never ends the link early.
#![no_main]
use attack_vault::vault::escape;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let md = format!("# {}\n", escape::inline(text));
    let mut html = String::new();
    let parser = pulldown_cmark::Parser::new_ext(&md, attack_vault::site::markdown::options());
    pulldown_cmark::html::push_html(&mut html, parser);
    if !text.trim().is_empty() {
        assert_eq!(html.matches("<h1>").count(), 1, "{md:?} → {html}");
    }
    for tag in [
        "<a ", "<img", "<script", "<em>", "<strong>", "<code>", "<del>",
    ] {
        assert!(!html.contains(tag), "{md:?} → {html}");
    }
    let alias = escape::alias(text);
    assert!(!alias.contains("]]") && !alias.contains('|'), "{alias:?}");
    let _ = escape::block(text);
});
