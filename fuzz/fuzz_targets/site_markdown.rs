//! The site's Markdown renderer on any note text, every link resolving and
//! every embed naming a note of that same text (so that embeds nest as far
//! as they may): no panic, no overflow, and as many embeds as the budget
//! allows at most.
#![no_main]
use attack_vault::site::embed::{BUDGET, Embed};
use attack_vault::site::markdown::{LinkResolver, render, sanitize};
use libfuzzer_sys::fuzz_target;

struct Echo<'a>(&'a str);

impl LinkResolver for Echo<'_> {
    fn resolve(&self, target: &str) -> Option<String> {
        Some(format!("n{}.html", target.len()))
    }
    fn tag_url(&self, tag: &str) -> String {
        format!("tags/t{}.html", tag.len())
    }
    fn embed(&self, target: &str) -> Option<Embed> {
        Some(Embed {
            url: format!("n{}.html", target.len()),
            title: target.to_string(),
            body: self.0.to_string(),
        })
    }
}

fuzz_target!(|text: &str| {
    let rendered = render(text, &Echo(text));
    let embeds = rendered.html.matches("<div class=\"embed\">").count();
    assert!(embeds <= BUDGET + text.matches("<div class=\"embed\">").count() * (BUDGET + 1));
    let _ = sanitize(&rendered.html);
});
