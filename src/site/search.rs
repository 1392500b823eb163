//! The site's search index, built at export time and loaded as scripts (so
//! it works from `file://`, where a page cannot fetch files).
//!
//! `search-index.js` lists every page (title, ID, aliases, tags, URL); the
//! full text is an inverted index (word → pages) split into one shard per
//! first character, `search/<c>.js`, which the page loads only for the
//! words typed.

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Words longer than this are not indexed (hashes, base64 blobs).
const MAX_WORD: usize = 40;

/// Word → page numbers.
pub type Postings = FxHashMap<String, Vec<u32>>;

/// What a byte is to the word splitter: a separator, a lowercase letter or
/// digit, a capital, or part of a character outside ASCII.
const SEP: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 3;
const WIDE: u8 = 4;
const CLASS: [u8; 256] = {
    let mut t = [WIDE; 256];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_alphanumeric() {
            LOWER
        } else {
            SEP
        };
        b += 1;
    }
    t
};

/// Calls `f` with each word of a text, lowercased: runs of letters and
/// digits, two characters or more.
pub fn for_each_word(text: &str, mut f: impl FnMut(&str)) {
    let bytes = text.as_bytes();
    let class = |i: usize| CLASS[bytes[i] as usize];
    let mut buf = String::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && class(i) == SEP {
            i += 1;
        }
        // The common case, a word of ASCII letters and digits, is passed
        // as it stands when it has no capitals.
        let start = i;
        let mut seen = 0;
        while i < bytes.len() && class(i) & LOWER != 0 {
            seen |= class(i);
            i += 1;
        }
        if i < bytes.len() && class(i) == WIDE {
            i = unicode_word(text, start, &mut buf, &mut f);
            continue;
        }
        let word = &text[start..i];
        if (2..=MAX_WORD).contains(&word.len()) {
            if seen == UPPER {
                buf.clear();
                buf.extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
                f(&buf);
            } else {
                f(word);
            }
        }
    }
}

/// The word (or the one separator) at byte `i` of a text with other than
/// ASCII in it: calls `f` with the word and returns where it ends.
fn unicode_word(text: &str, i: usize, buf: &mut String, f: &mut impl FnMut(&str)) -> usize {
    buf.clear();
    let mut chars = 0usize;
    let mut end = i;
    for c in text[i..].chars() {
        if !c.is_alphanumeric() {
            break;
        }
        buf.extend(c.to_lowercase());
        chars += 1;
        end += c.len_utf8();
    }
    if chars >= 2 && buf.len() <= MAX_WORD {
        f(buf);
    }
    if end == i {
        // A separator outside ASCII.
        end + text[i..].chars().next().map_or(1, char::len_utf8)
    } else {
        end
    }
}

/// Adds page `page`'s words to the postings; pages are added one after
/// the other, so that a repeat is always the last entry (their order is
/// set when the shards are written).
pub fn add(postings: &mut Postings, page: u32, text: &str) {
    // Composed, as the page's search box composes what is typed: a note
    // saved on a Mac (`Cafe\u{301}`) is found by `café`.
    let text = crate::vault::resolve::composed(text);
    for_each_word(&text, |w| match postings.get_mut(w) {
        Some(v) if v.last() == Some(&page) => {}
        Some(v) => v.push(page),
        None => {
            postings.insert(w.to_string(), vec![page]);
        }
    });
}

/// The postings of two sets of pages, `a`'s before `b`'s; the smaller
/// set's words are the ones looked up.
pub fn merge(mut a: Postings, mut b: Postings) -> Postings {
    if a.len() >= b.len() {
        for (w, mut v) in b {
            a.entry(w).or_default().append(&mut v);
        }
        a
    } else {
        for (w, mut v) in a {
            let later = b.entry(w).or_default();
            v.append(later);
            *later = v;
        }
        b
    }
}

/// The shard a word lives in: its first character when it is an ASCII
/// letter or digit, `_` otherwise. The page's script must agree.
pub fn shard_of(word: &str) -> char {
    match word.chars().next() {
        Some(c) if c.is_ascii_alphanumeric() => c,
        _ => '_',
    }
}

/// One script per shard: `searchShard("a", {"word": [page deltas], ...});`
/// Page numbers are stored as gaps from the previous one, which keeps the
/// numbers short; words are sorted so that output is deterministic.
pub fn shard_scripts(postings: Postings) -> Vec<(char, String)> {
    let mut shards: BTreeMap<char, Vec<(String, Vec<u32>)>> = BTreeMap::new();
    for (w, pages) in postings {
        shards.entry(shard_of(&w)).or_default().push((w, pages));
    }
    shards
        .into_par_iter()
        .map(|(c, mut entries)| {
            entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            let mut js = format!("searchShard({},{{", json_str(&c.to_string()));
            for (k, (w, mut pages)) in entries.into_iter().enumerate() {
                pages.sort_unstable();
                pages.dedup();
                if k > 0 {
                    js.push(',');
                }
                js.push_str(&json_str(&w));
                js.push_str(":[");
                let mut prev = 0;
                for (j, p) in pages.iter().enumerate() {
                    if j > 0 {
                        js.push(',');
                    }
                    let _ = write!(js, "{}", p - prev);
                    prev = *p;
                }
                js.push(']');
            }
            js.push_str("});\n");
            (c, js)
        })
        .collect()
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomposed_words_are_indexed_composed() {
        let mut p = Postings::default();
        add(&mut p, 3, "U\u{308}berpru\u{308}fung des Cafe\u{301}s");
        assert_eq!(p.get("überprüfung"), Some(&vec![3]));
        assert_eq!(p.get("cafés"), Some(&vec![3]));
        assert!(!p.contains_key("cafe"), "{p:?}");
    }

    #[test]
    fn words_split_and_fold() {
        let mut w = Vec::new();
        for_each_word(
            "Python t1059.006 — Ünïcode x a_b é€ abcÉ ÉTÉ2 日本語 Ab",
            |x| w.push(x.to_string()),
        );
        assert_eq!(
            w,
            vec![
                "python",
                "t1059",
                "006",
                "ünïcode",
                "abcé",
                "été2",
                "日本語",
                "ab"
            ]
        );
        let long = "x".repeat(MAX_WORD + 1);
        let mut n = 0;
        for_each_word(&format!("{long} {}", &long[1..]), |_| n += 1);
        assert_eq!(n, 1, "a word over the limit is left out");
    }

    #[test]
    fn inverted_index_lists_each_page_once() {
        let texts = [
            "Python runs python",
            "nothing here",
            "PYTHON again",
            "über alles",
        ];
        let mut p = Postings::default();
        for (i, t) in texts.iter().enumerate() {
            add(&mut p, i as u32, t);
        }
        assert_eq!(p["python"], vec![0, 2]);
        assert_eq!(p["über"], vec![3]);
        assert!(!p.contains_key("Python"));
        let mut a = Postings::default();
        add(&mut a, 0, "one two");
        let mut b = Postings::default();
        for (i, t) in ["two three", "three four two"].iter().enumerate() {
            add(&mut b, i as u32 + 1, t);
        }
        let both = merge(a.clone(), b.clone());
        assert_eq!(both["two"], vec![0, 1, 2], "the smaller set merged in");
        assert_eq!(
            merge(b, a)["two"],
            vec![1, 2, 0],
            "order of the arguments kept"
        );
        let shards = shard_scripts(p);
        let keys: Vec<char> = shards.iter().map(|s| s.0).collect();
        assert_eq!(keys, vec!['_', 'a', 'h', 'n', 'p', 'r']);
        let p_shard = &shards.iter().find(|s| s.0 == 'p').unwrap().1;
        assert_eq!(p_shard, "searchShard(\"p\",{\"python\":[0,2]});\n");
    }
}
