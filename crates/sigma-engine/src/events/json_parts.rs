//! A long JSON file read a part at a time ([`parts`]). SIEM exports and
//! PowerShell's `ConvertTo-Json` write a JSON text as one array of events.
//! A text that is one top-level array, in UTF-8 or UTF-16, is read in
//! parts that end at the end of a line; an item a part's end cuts is read
//! with the next (see [`json_text::read_part`]).
//!
//! Any other JSON text (one object, a stream of objects, a wrapper such as
//! a CloudTrail log) is read whole, as is a one-line array, which no line
//! ends before its end.

use super::FileRead;
use super::batch::{Batch, Batcher, Item};
use super::json_text::{self, Carry, PartEnd};
use super::parts::{self, Begun, Parts, Sizes};
use crate::diag::Diagnostics;
use std::io::BufRead;
use std::sync::Arc;

/// Read a JSON text from `input` a part of at least `part` bytes at a time
/// when it is a top-level array longer than one part; otherwise its first
/// bytes, to read it whole.
pub(super) fn read(
    mut input: impl BufRead,
    file: &Arc<str>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
    sizes: Sizes,
) -> Begun {
    let cannot = parts::cannot_read(file, diags);
    let (first, encoding, end) = parts::first_part(&mut input, sizes, b'\n', &cannot);
    if end || json_text::first_char(&first) != Some('[') {
        return Begun::Whole(first);
    }
    let mut text = Parts::new(file, diags, encoding);
    let mut carry = Carry::default();
    let (mut raw, mut end, mut want) = (first, false, sizes.part);
    loop {
        text.add(&raw, end);
        match read_items(
            &mut text,
            &mut carry,
            Reading::Part { last: end },
            size,
            sink,
        ) {
            PartEnd::Done => break,
            PartEnd::Cut(at) => {
                want = parts::next_want(at, want, sizes.part);
                (raw, end) = parts::next_part(
                    &mut input,
                    (want, text.text.len(), sizes.most),
                    b'\n',
                    encoding.0,
                    &cannot,
                );
            }
            PartEnd::Closed(_) => {
                let held = (text.text.len(), sizes.most);
                text.add(&parts::rest(&mut input, held, &cannot), true);
                read_items(&mut text, &mut carry, Reading::Rest, size, sink);
                break;
            }
        }
    }
    Begun::Read(carry.read)
}

/// What of the text to read: a part of its array, or all that follows
/// the array.
enum Reading {
    Part { last: bool },
    Rest,
}

/// Read the text's part, or the rest, handing its items out in batches;
/// the text left to read again with the next part is kept in `text`.
fn read_items(
    text: &mut Parts,
    carry: &mut Carry,
    reading: Reading,
    size: usize,
    sink: &mut dyn FnMut(Batch),
) -> PartEnd {
    // The items handed out hold the part's text until they are parsed.
    let lines = json_text::Lines::after(std::mem::take(&mut text.text), text.base);
    let mut batch = Batcher::new(size, sink);
    let items = json_text::Sink::Pending(&mut |p| batch.add(Item::Pending(p)));
    let (file, diags) = (text.file, text.diags);
    let end = match reading {
        Reading::Part { last } => json_text::read_part(&lines, file, diags, items, carry, last),
        Reading::Rest => {
            let read = std::mem::take(&mut carry.read);
            carry.read = json_text::read_from(&lines, file, diags, items, read);
            PartEnd::Done
        }
    };
    batch.flush();
    if let PartEnd::Cut(at) | PartEnd::Closed(at) = end {
        text.keep_from(lines.text(), at);
    }
    end
}

/// A JSON text's events as a file of it gives them, read in parts of at
/// least `part` bytes where it is a top-level array (else whole), each
/// parsed in order; `None` for a record that could not be parsed. For
/// tests and fuzzing: the events and diagnostics of any `part` are those
/// of the text read whole.
#[doc(hidden)]
pub fn read_in_parts(
    mut bytes: &[u8],
    part: usize,
    diags: &Diagnostics,
    each: &mut dyn FnMut(Option<super::Event>),
) -> FileRead {
    let file: Arc<str> = Arc::from("t.json");
    let mut sink = |b: Batch| match b {
        Batch::Items(items) => items
            .into_iter()
            .for_each(|it| each(it.into_event(None, diags))),
        Batch::Lines(_) => unreachable!("a JSON text gives items"),
    };
    let first = match read(&mut bytes, &file, diags, 3, &mut sink, Sizes::of(part)) {
        Begun::Read(read) => return read,
        Begun::Whole(first) => [&first[..], bytes].concat(),
    };
    let lines = json_text::Lines::new(json_text::decode_owned(first, &file, diags));
    let mut batch = Batcher::new(3, &mut sink);
    let pending = json_text::Sink::Pending(&mut |p| batch.add(Item::Pending(p)));
    let read = json_text::read(&lines, &file, diags, pending);
    batch.flush();
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Each record read (its number and `a`, or `lost`), the counts, and
    /// the diagnostics.
    type Outcome = (Vec<String>, (u64, u64), Vec<String>);

    fn in_parts(bytes: &[u8], part: usize) -> Outcome {
        let diags = Diagnostics::new();
        let mut got = Vec::new();
        let read = read_in_parts(bytes, part, &diags, &mut |e| {
            got.push(match e {
                Some(e) => format!("{}:{}", e.meta.record, e.text("a").unwrap_or("-")),
                None => "lost".to_string(),
            })
        });
        let ds = diags.sorted().iter().map(|d| d.to_string()).collect();
        (got, (read.events, read.lost), ds)
    }

    /// Whether a text is read in parts of `part` bytes at all.
    fn parted(bytes: &[u8], part: usize) -> bool {
        let diags = Diagnostics::new();
        let begun = read(
            bytes,
            &Arc::from("t.json"),
            &diags,
            3,
            &mut |_| {},
            Sizes::of(part),
        );
        matches!(begun, Begun::Read(_))
    }

    const TEXTS: &[&str] = &[
        "[\n{\"a\": 0},\n{\"a\": 1},\n{\"a\": 2}\n]\n",
        "[\n  {\n    \"a\": 1,\n    \"n\": {\"x\": [1, {\"y\": 2}]}\n  },\n  {\n    \"a\": 2,,\n  },\n  {\n    \"a\": 3\n  }\n]\n",
        "[\n{\"a\": 1}\n{\"a\": 2},\n{\"a\": 3}\n",
        "[\n{\"a\": 1}, 7,\n{\"a\": 2},\nnull, [],\n{\"a\": 3}]\n{\"a\": 4}\n[{\"a\": 5}\n,{\"a\": 6}]",
        "\u{feff}[\r\n    {\r\n        \"a\": 1\r\n    },\r\n    {\r\n        \"a\": \"x\u{e9}\"\r\n    }\r\n]",
        "[\n  {\"a\": 1, \"s\": 1e400},\n  {\"a\": \"\\udbff\\ud83d\\ude00\"}\n]\n",
        "[\n{\"a\": \"unclosed\n{\"a\": 2},\n{\"a\": 3, \"b\": [1, 2}\n{\"a\": 4}\n  {\"a\": 5}\n]\n",
        "[\n{\"a\": 1},\n{\"a\": 2, \"b\":\n\n\n",
        "[\n{\"a\": 1},\n\n   \n{\"a\": 2}   ,   \n  ]  \n\n",
        "[]",
        "[\n]\n{\"a\": 1}\n{\"a\": ,}\n{\"a\": 3}",
        "[\n{\"a\": 1},\n  garbage here\n  more\n{\"a\": 2},\n  {\"a\": 3},\n]",
        "[{\"a\": 1}, {\"a\": 2}, {\"a\": }, {\"a\": 4}]\n",
        "[\n{\"a\": 1},\n{\"a\": 2}\n",
        "[\n{\"a\": 1}\n,\n{\"a\": 2}\n,{\"a\": 3}\n]",
    ];

    #[test]
    fn a_text_read_in_parts_gives_what_it_gives_read_whole() {
        let mut texts: Vec<Vec<u8>> = TEXTS.iter().flat_map(|t| parts::encoded(t)).collect();
        // Invalid UTF-8 on two lines: the first is said, with its offset;
        // and so in UTF-16, lone surrogates.
        texts.push(b"[\n{\"a\": \"x\xff\"},\n{\"a\": \"y\xfe\"}\n]".to_vec());
        let lone = |u: u16| u.to_le_bytes();
        let le = |t: &str| {
            t.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>()
        };
        let a = [
            &[0xFF, 0xFE][..],
            &le("[\n{\"a\": \"x"),
            &lone(0xD800),
            &le("\"},\n"),
        ]
        .concat();
        let b = [&le("{\"a\": \""), &lone(0xDC00)[..], &le("\"}\n]")].concat();
        texts.push([a, b].concat());
        for text in &texts {
            let expected = in_parts(text, usize::MAX / 2);
            for part in 1..=text.len() + 1 {
                let got = in_parts(text, part);
                assert_eq!(
                    got,
                    expected,
                    "{:?} in parts of {part}",
                    String::from_utf8_lossy(text)
                );
            }
        }
        // A one-line text has no line to end a part before its end. (One
        // that starts with a byte-order mark has two in UTF-16.)
        for text in TEXTS.iter().filter(|t| !t.starts_with('\u{feff}')) {
            let lines = text.split('\n').filter(|l| !l.is_empty());
            // (A text cut inside its last unit has a line after its last.)
            for bytes in parts::encoded(text).into_iter().take(4) {
                assert_eq!(
                    parted(&bytes, 1),
                    lines.clone().count() > 1,
                    "{text:?} in parts"
                );
            }
        }
    }

    #[test]
    fn an_item_that_never_ends_is_held_to_the_bound_then_said() {
        // An endless input (a gzip bomb of one line) in an array, and after
        // one: what is held stops at the bound, the events before are read.
        let diags = Diagnostics::new();
        let sizes = Sizes {
            part: 64,
            most: 4096,
        };
        for head in ["[\n{\"a\": 1},\n{\"a\": \"", "[\n{\"a\": 1}\n]\n{\"a\": \""] {
            let endless = head.as_bytes().chain(std::io::repeat(b'x'));
            let mut input = std::io::BufReader::new(endless);
            let mut items = 0;
            let mut sink = |b: Batch| {
                if let Batch::Items(got) = b {
                    items += got.len();
                }
            };
            let begun = read(
                &mut input,
                &Arc::from("t.json"),
                &diags,
                3,
                &mut sink,
                sizes,
            );
            assert!(matches!(begun, Begun::Read(_)), "{head:?}");
            assert!(items >= 1, "{head:?}");
        }
        let said: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        let bound = said
            .iter()
            .filter(|d| d.contains("the rest is not read"))
            .count();
        assert_eq!(bound, 2, "{said:?}");
    }

    #[test]
    fn only_a_top_level_array_is_read_in_parts() {
        for text in [
            b"{\"a\": 1}\n{\"a\": 2}\n".to_vec(),
            b"{\"Records\": [\n{\"a\": 1},\n{\"a\": 2}\n]}".to_vec(),
        ] {
            assert!(!parted(&text, 1));
            assert_eq!(in_parts(&text, 1), in_parts(&text, usize::MAX / 2));
        }
    }

    #[test]
    fn a_long_array_is_held_a_part_at_a_time() {
        // 20,000 events in parts of 4 KiB: no part holds more than a few
        // hundred bytes beyond its size.
        let text: String = std::iter::once("[\n".to_string())
            .chain(
                (0..20_000)
                    .map(|i| format!("  {{\"a\": {i}, \"pad\": \"{}\"}},\n", "x".repeat(i % 50))),
            )
            .chain(["  {\"a\": \"end\"}\n]\n".to_string()])
            .collect();
        let (diags, file) = (Diagnostics::new(), Arc::from("t.json"));
        let (mut events, mut largest) = (0, 0);
        let mut sink = |b: Batch| {
            if let Batch::Items(items) = b {
                for it in items {
                    let Item::Pending(p) = &it else { panic!() };
                    largest = largest.max(p.part_len());
                    events += it.into_event(None, &diags).map_or(0, |_| 1);
                }
            }
        };
        let begun = read(
            text.as_bytes(),
            &file,
            &diags,
            64,
            &mut sink,
            Sizes::of(4096),
        );
        let Begun::Read(read) = begun else {
            panic!("not read in parts")
        };
        assert_eq!((read.events, read.lost, events), (20_001, 0, 20_001));
        assert!(diags.sorted().is_empty());
        assert!(largest < 4096 + 200, "a part of {largest} bytes");
    }
}
