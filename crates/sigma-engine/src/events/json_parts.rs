//! A long JSON file read a part at a time. SIEM exports and PowerShell's
//! `ConvertTo-Json` write a JSON text as one array of events; read whole, a
//! file of a few gigabytes took as much memory. A UTF-8 text that is one
//! top-level array is read in parts of [`PART`] bytes (and the rest of the
//! line): each part's items are handed on and matched, then the part is
//! dropped, so memory stays that of a part and a batch of events whatever
//! the file's size. The events, their numbers and every diagnostic are
//! those of the text read whole (see [`json_text::read_part`]).
//!
//! Any other JSON text (one object, a stream of objects, a wrapper such as
//! a CloudTrail log, UTF-16) is read whole, as is a one-line array, which
//! no line ends before its end.

use super::FileRead;
use super::json_text::{self, Base, Carry, PartEnd};
use super::read::{Batch, Batcher, Item};
use crate::diag::{Diagnostic, Diagnostics};
use crate::text::{Encoding, Invalid, UTF8_BOM};
use std::io::{BufRead, Read};
use std::sync::Arc;

/// The bytes a part holds at least (it ends at the end of a line).
pub(super) const PART: usize = 8 << 20;

/// How reading a JSON file began: its events were read a part at a time,
/// or it is to be read whole from these first bytes on.
pub(super) enum Begun {
    Read(FileRead),
    Whole(Vec<u8>),
}

/// Read a JSON text from `input` a part of at least `part` bytes at a time
/// when it is a UTF-8 top-level array longer than one part; otherwise its
/// first bytes, to read it whole.
pub(super) fn read(
    mut input: impl BufRead,
    file: &Arc<str>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch<'_>),
    part: usize,
) -> Begun {
    // What was read before an error is read, as a cut file is.
    let cannot = |e: std::io::Error| {
        let d = Diagnostic::error("events", format!("cannot read: {e}"));
        diags.push(d.in_file(&**file));
    };
    let (first, end) = next_part(&mut input, part, &cannot);
    let (encoding, mark) = Encoding::of(&first);
    let array = first[mark..].trim_ascii_start().first() == Some(&b'[');
    if end || encoding != Encoding::Utf8 || !array {
        return Begun::Whole(first);
    }
    let mut parts = Parts {
        file,
        diags,
        text: String::new(),
        base: Base::default(),
        offset: 0,
        told: false,
    };
    let mut carry = Carry::default();
    let (mut raw, mut end, mut want) = (first, false, part);
    loop {
        parts.add(&raw, mark);
        match parts.read_part(&mut carry, end, size, sink) {
            PartEnd::Done => break,
            PartEnd::Cut(at) => {
                // No item ended in the part: a longer one, so that a long
                // item is not read again and again.
                want = if at == 0 {
                    want.saturating_mul(2)
                } else {
                    part
                };
                parts.drop_to(at);
                (raw, end) = next_part(&mut input, want, &cannot);
            }
            PartEnd::Closed(at) => {
                parts.drop_to(at);
                let mut rest = Vec::new();
                if let Err(e) = input.read_to_end(&mut rest) {
                    cannot(e);
                }
                parts.add(&rest, mark);
                carry.read = parts.read_rest(std::mem::take(&mut carry.read), size, sink);
                break;
            }
        }
    }
    Begun::Read(carry.read)
}

/// At least `want` bytes and the rest of their line, and whether the input
/// ends there (or at an error, said).
fn next_part(
    input: &mut impl BufRead,
    want: usize,
    cannot: &dyn Fn(std::io::Error),
) -> (Vec<u8>, bool) {
    // Sized at once: grown by doubling, it would take twice the part.
    let mut raw = Vec::with_capacity(want.min(PART) + 1024);
    let mut read = || {
        input.by_ref().take(want as u64).read_to_end(&mut raw)?;
        if raw.len() == want && !raw.ends_with(b"\n") {
            input.read_until(b'\n', &mut raw)?;
        }
        input.fill_buf().map(<[u8]>::is_empty)
    };
    let end = read().unwrap_or_else(|e| {
        cannot(e);
        true
    });
    (raw, end)
}

/// The text of the parts not read yet, and where it stands in the file.
struct Parts<'a> {
    file: &'a Arc<str>,
    diags: &'a Diagnostics,
    text: String,
    base: Base,
    /// The bytes of the file added so far.
    offset: usize,
    /// Whether invalid UTF-8 was said (the first is, as in a text read
    /// whole).
    told: bool,
}

impl Parts<'_> {
    /// Add the next bytes of the file (`mark`: the byte-order mark's
    /// length, left out of the text).
    fn add(&mut self, raw: &[u8], mark: usize) {
        let skip = if self.offset == 0 { mark } else { 0 };
        debug_assert!(skip == 0 || raw.starts_with(UTF8_BOM));
        let body = &raw[skip..];
        match std::str::from_utf8(body) {
            Ok(t) => self.text.push_str(t),
            Err(e) => {
                if !std::mem::replace(&mut self.told, true) {
                    let at = Invalid::Utf8(self.offset + skip + e.valid_up_to());
                    json_text::tell_invalid(at, self.file, self.diags);
                }
                self.text.push_str(&String::from_utf8_lossy(body));
            }
        }
        self.offset += raw.len();
    }

    /// Drop the text read, up to `at`.
    fn drop_to(&mut self, at: usize) {
        self.base = self.base.after(&self.text.as_bytes()[..at]);
        self.text.drain(..at);
    }

    fn read_part(
        &self,
        carry: &mut Carry,
        last: bool,
        size: usize,
        sink: &mut dyn FnMut(Batch<'_>),
    ) -> PartEnd {
        let lines = json_text::Lines::after(&self.text, self.base);
        let mut batch = Batcher::new(size, sink);
        let pending = json_text::Sink::Pending(&mut |p| batch.add(Item::Pending(p)));
        let end = json_text::read_part(&lines, self.file, self.diags, pending, carry, last);
        batch.flush();
        end
    }

    /// Read what follows the array whole, counting on from `read`.
    fn read_rest(&self, read: FileRead, size: usize, sink: &mut dyn FnMut(Batch<'_>)) -> FileRead {
        let lines = json_text::Lines::after(&self.text, self.base);
        let mut batch = Batcher::new(size, sink);
        let pending = json_text::Sink::Pending(&mut |p| batch.add(Item::Pending(p)));
        let read = json_text::read_from(&lines, self.file, self.diags, pending, read);
        batch.flush();
        read
    }
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
    let mut sink = |b: Batch<'_>| match b {
        Batch::Items(items) => items
            .into_iter()
            .for_each(|it| each(it.into_event(None, diags))),
        Batch::Lines(_) => unreachable!("a JSON text gives items"),
    };
    let first = match read(&mut bytes, &file, diags, 3, &mut sink, part) {
        Begun::Read(read) => return read,
        Begun::Whole(first) => [&first[..], bytes].concat(),
    };
    let text = json_text::decode(&first, &file, diags);
    let lines = json_text::Lines::new(&text);
    let mut batch = Batcher::new(3, &mut sink);
    let pending = json_text::Sink::Pending(&mut |p| batch.add(Item::Pending(p)));
    let read = json_text::read(&lines, &file, diags, pending);
    batch.flush();
    read
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let begun = read(bytes, &Arc::from("t.json"), &diags, 3, &mut |_| {}, part);
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
        let mut texts: Vec<Vec<u8>> = TEXTS.iter().map(|t| t.as_bytes().to_vec()).collect();
        // Invalid UTF-8 on two lines: the first is said, with its offset.
        texts.push(b"[\n{\"a\": \"x\xff\"},\n{\"a\": \"y\xfe\"}\n]".to_vec());
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
            // A one-line text has no line to end a part before its end.
            let lines = text.split(|b| *b == b'\n').filter(|l| !l.is_empty());
            assert_eq!(
                parted(text, 1),
                lines.count() > 1,
                "{:?} read in parts or not",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn only_a_utf8_top_level_array_is_read_in_parts() {
        let utf16: Vec<u8> = "\u{feff}[\n{\"a\": 1}\n]"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        for text in [
            b"{\"a\": 1}\n{\"a\": 2}\n".to_vec(),
            b"{\"Records\": [\n{\"a\": 1},\n{\"a\": 2}\n]}".to_vec(),
            utf16,
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
        let mut sink = |b: Batch<'_>| {
            if let Batch::Items(items) = b {
                for it in items {
                    let Item::Pending(p) = &it else { panic!() };
                    largest = largest.max(p.part_len());
                    events += it.into_event(None, &diags).map_or(0, |_| 1);
                }
            }
        };
        let begun = read(text.as_bytes(), &file, &diags, 64, &mut sink, 4096);
        let Begun::Read(read) = begun else {
            panic!("not read in parts")
        };
        assert_eq!((read.events, read.lost, events), (20_001, 0, 20_001));
        assert!(diags.sorted().is_empty());
        assert!(largest < 4096 + 200, "a part of {largest} bytes");
    }
}
