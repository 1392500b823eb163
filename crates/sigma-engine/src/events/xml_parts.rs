//! A long file of Windows events as XML read a part at a time ([`parts`]):
//! `wevtutil qe /f:xml` writes every event of a log, one after another on
//! one line (in UTF-16 when Windows PowerShell redirects it to a file). A
//! text is read in parts that end after a tag; an event a part's end cuts
//! is read with the next (see [`xml::read_part`]).

use super::batch::{Batch, Batcher, Item};
use super::parts::{self, Begun, Parts, Sizes};
use super::xml::{self, Carry, To};
use crate::diag::{Diagnostic, Diagnostics};
use std::io::BufRead;
use std::sync::Arc;

/// Read an XML text from `input` a part of at least `part` bytes at a time
/// when it is longer than one part and holds an event in its first;
/// otherwise its first bytes, to read it whole.
pub(super) fn read(
    mut input: impl BufRead,
    to: &To<'_>,
    diags: &Diagnostics,
    size: usize,
    sink: &mut dyn FnMut(Batch),
    sizes: Sizes,
) -> Begun {
    let cannot = parts::cannot_read(to.file, diags);
    let (first, encoding, end) = parts::first_part(&mut input, sizes, b'>', &cannot);
    let events = xml::next_event(&crate::text::decode(&first).text, 0).is_some();
    if end || !events {
        return Begun::Whole(first);
    }
    let mut text = Parts::new(to.file, diags, encoding);
    let mut carry = Carry::default();
    let mut batch = Batcher::new(size, sink);
    let (mut raw, mut end, mut want) = (first, false, sizes.part);
    loop {
        text.add(&raw, end);
        let add = &mut |e| batch.add(Item::Event(e));
        let Some(at) = xml::read_part(&text.text, text.base, to, add, &mut carry, end) else {
            break;
        };
        want = parts::next_want(at, want, sizes.part);
        text.drop_to(at);
        (raw, end) = parts::next_part(
            &mut input,
            (want, text.text.len(), sizes.most),
            b'>',
            encoding.0,
            &cannot,
        );
    }
    batch.flush();
    Begun::Read(carry.read)
}

/// The events of an XML text as a file of it gives them, read in parts of
/// at least `part` bytes where it can be (else whole). For tests and
/// fuzzing: the events and diagnostics of any `part` are those of the
/// text read whole.
#[doc(hidden)]
pub fn read_in_parts(
    mut bytes: &[u8],
    part: usize,
    diags: &Diagnostics,
    each: &mut dyn FnMut(super::Event),
) -> Option<super::FileRead> {
    let file: Arc<str> = Arc::from("t.xml");
    let report = |d: Diagnostic| diags.push(d.in_file(&*file));
    let to = To {
        file: &file,
        wanted: None,
        report: &report,
    };
    let mut sink = |b: Batch| match b {
        Batch::Items(items) => items
            .into_iter()
            .for_each(|it| each(it.into_event(None, diags).expect("parsed"))),
        Batch::Lines(_) => unreachable!("an XML text gives events"),
    };
    let first = match read(&mut bytes, &to, diags, 3, &mut sink, Sizes::of(part)) {
        Begun::Read(read) => return Some(read),
        Begun::Whole(first) => [&first[..], bytes].concat(),
    };
    let text = super::json_text::decode(&first, &file, diags);
    xml::read(&text, &file, None, &report, &mut |e| {
        sink(Batch::Items(vec![Item::Event(e)]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    type Outcome = (
        Vec<(u64, super::super::EventFields)>,
        Option<super::super::FileRead>,
        Vec<String>,
    );

    fn in_parts(bytes: &[u8], part: usize) -> Outcome {
        let diags = Diagnostics::new();
        let mut got = Vec::new();
        let read = read_in_parts(bytes, part, &diags, &mut |e| {
            got.push((e.meta.record, e.whole()))
        });
        let ds = diags.sorted().iter().map(|d| d.to_string()).collect();
        (got, read, ds)
    }

    fn parted(bytes: &[u8], part: usize) -> bool {
        let (diags, file) = (Diagnostics::new(), Arc::from("t.xml"));
        let to = To {
            file: &file,
            wanted: None,
            report: &|_| {},
        };
        matches!(
            read(bytes, &to, &diags, 3, &mut |_| {}, Sizes::of(part)),
            Begun::Read(_)
        )
    }

    fn event(image: &str) -> String {
        format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel></System><EventData><Data Name='Image'>{image}</Data><Data Name='CommandLine'>a &amp; b</Data></EventData></Event>"
        )
    }

    #[test]
    fn an_xml_text_read_in_parts_gives_what_it_gives_read_whole() {
        let (a, b, c) = (event("a.exe"), event("b\u{e9}.exe"), event("c.exe"));
        let texts = [
            // As `wevtutil qe` writes them: one line.
            format!("{a}{b}{c}"),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n{a}\n{b}\n{c}\n</Events>\n"
            ),
            format!(
                "\u{feff}<Events>{a}<!-- a <Event> in a comment -->{b}<![CDATA[<Event>]]>{c}</Events>"
            ),
            format!("{a}<Event><System><EventID>1</EventID></System></Evnt>\n{b}<Event xmlns={c}"),
            format!("{a}\n<Event><EventData><Data Name='x'>1</Data>\n{b}{c}"),
            format!("{a}<Event><EventData><Data Name=x>1</Data></EventData></Event>{b}"),
            format!(
                "<!DOCTYPE Events [<!ENTITY lol 'lol'>]>{a}<Event><EventData><Data Name='x'>&lol;</Data></EventData></Event>{c}"
            ),
            format!(
                "{a}{b}<Event><EventData>{}</EventData></Event>",
                "<x>".repeat(40)
            ),
            format!("{a}<!-- never closed {b}{c}"),
            format!("{a}{b}<Event><EventData><Data Name='x'>cut"),
            format!("<Events>{a}</Events>\n<Events>{b}</Events>trailing {c} text"),
            // Elements open outside the events when a part ends: an end tag
            // after them is judged against them, as read whole.
            format!("<Events><Foo>{a}<Bar>{b}</Baz><!-- <Event> -->{c}</Events></Foo>"),
            format!("{a}<Junk><x:Deep>{b}</x:Deep></Jnk>{c}"),
            // Names the reader takes whole: a quote and `>` in one, a `/`
            // at the end of another.
            format!("<Ev'x>y' z>{a}<q\"r>s\">{b}<t/ u>{c}</Evx>"),
        ];
        for text in &texts {
            // In UTF-8 and in UTF-16, parts of every size (every fifth for
            // the longer texts of UTF-16).
            for bytes in parts::encoded(text) {
                let expected = in_parts(&bytes, usize::MAX / 2);
                let step = if bytes.len() > text.len() { 5 } else { 1 };
                for part in (1..=bytes.len() + 1).step_by(step) {
                    assert_eq!(
                        in_parts(&bytes, part),
                        expected,
                        "{:?} in parts of {part}",
                        String::from_utf8_lossy(&bytes)
                    );
                }
            }
            // Read in parts once the first holds an event.
            assert!(
                parted(text.as_bytes(), text.len() / 2),
                "{text:?} read in parts"
            );
        }
        // Invalid UTF-8 in two parts: the first is said, with its offset.
        let bad = [
            a.as_bytes(),
            b"<Event><EventData><Data Name='x'>\xff</Data></EventData></Event>",
            b"<Event><EventData><Data Name='x'>\xfe</Data></EventData></Event>",
        ]
        .concat();
        let expected = in_parts(&bad, usize::MAX / 2);
        assert_eq!(expected.2.len(), 1, "{:?}", expected.2);
        for part in 1..=bad.len() {
            assert_eq!(in_parts(&bad, part), expected, "in parts of {part}");
        }
    }

    #[test]
    fn an_event_that_never_ends_is_held_to_the_bound_then_said() {
        // `wevtutil` output on one line, its last event endless: what is
        // held stops at the bound, the events before are read.
        let head = format!("{}<Event><EventData><Data Name='x'>", event("a.exe"));
        let endless = head.as_bytes().chain(std::io::repeat(b'x'));
        let (diags, file) = (Diagnostics::new(), Arc::from("t.xml"));
        let report = |d: Diagnostic| diags.push(d.in_file(&*file));
        let to = To {
            file: &file,
            wanted: None,
            report: &report,
        };
        let mut events = 0;
        let mut sink = |b: Batch| {
            if let Batch::Items(got) = b {
                events += got.len();
            }
        };
        let sizes = Sizes {
            part: 64,
            most: 4096,
        };
        let begun = read(
            std::io::BufReader::new(endless),
            &to,
            &diags,
            3,
            &mut sink,
            sizes,
        );
        assert!(matches!(begun, Begun::Read(read) if read.events == 1 && read.lost == 1));
        assert_eq!(events, 1);
        let said: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert!(
            said.iter().any(|d| d.contains("the rest is not read")),
            "{said:?}"
        );
    }

    #[test]
    fn a_text_without_an_event_in_its_first_part_is_read_whole() {
        let late = format!(
            "<Events><!-- {} -->{}</Events>",
            "x".repeat(100),
            event("a.exe")
        );
        for bytes in parts::encoded(&late) {
            assert!(!parted(&bytes, 50));
            assert_eq!(in_parts(&bytes, 50), in_parts(&bytes, usize::MAX / 2));
            assert_eq!(in_parts(&bytes, 50).0.len(), 1);
        }
    }
}
