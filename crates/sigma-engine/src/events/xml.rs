//! Windows events written as XML: `wevtutil qe` (with or without
//! `/e:Events`), Event Viewer's "Save as XML", PowerShell's `ToXml()`. Each
//! `<Event>` element, at any depth, is one event, turned into the shape the
//! EVTX reader renders a record in, so that both name fields alike: System
//! children by name and their attributes as `Name_Attribute`, EventData's
//! `<Data Name="…">` by that name, UserData's leaves by their own.
//!
//! A broken event (a tag left open, an attribute without quotes) is reported
//! with its line and column and counted as lost; reading goes on at the next
//! `<Event>`. Entities are never expanded beyond XML's five and character
//! references, so a document type cannot make the text grow.

use super::FileRead;
use super::event::{Event, EventMeta, MOST_VALUES};
use super::json::{Wanted, event_from};
use super::parts::Base;
use super::xml_tree::{Element, Fields, Node};
use crate::diag::Diagnostic;
use quick_xml::events::{BytesStart, Event as Xml};
use std::sync::Arc;

/// How deep elements inside an event are read (an EVTX record is a few
/// levels deep); deeper content is left out, with a warning, so that a
/// hostile nesting cannot exhaust the stack of what reads the event.
const MAX_DEPTH: usize = 32;

/// The most elements and attributes read of one event: a hostile event of
/// millions would cost a tree node each. Twice what an event holds: a
/// `<Data Name="…">` element is one value of two nodes.
const MOST_NODES: usize = 2 * MOST_VALUES;

/// Errors told one by one in a file; the rest are counted.
const TOLD: u64 = 3;

/// Read the events of an XML text. `None` (reported) when it holds no
/// `<Event>` element: not Windows events (a configuration, a web page),
/// whose markup is then not judged.
pub(super) fn read(
    text: &str,
    file: &Arc<str>,
    wanted: Option<&Wanted>,
    report: &dyn Fn(Diagnostic),
    sink: &mut dyn FnMut(Event),
) -> Option<FileRead> {
    if !holds_events(text, report) {
        return None;
    }
    let mut carry = Carry::default();
    let to = To {
        file,
        wanted,
        report,
    };
    read_part(text, Base::default(), &to, sink, &mut carry, true);
    Some(carry.read)
}

/// Whether a text holds an `<Event>` element; if not, said.
pub(super) fn holds_events(text: &str, report: &dyn Fn(Diagnostic)) -> bool {
    let holds = next_event(text, 0).is_some();
    if !holds {
        let msg = "XML without an <Event> element: not Windows events; skipped";
        report(Diagnostic::warning("events", msg));
    }
    holds
}

/// Where the events of an XML text go, and what they keep.
pub(super) struct To<'a> {
    pub(super) file: &'a Arc<str>,
    pub(super) wanted: Option<&'a Wanted>,
    pub(super) report: &'a dyn Fn(Diagnostic),
}

/// What the reading of a long XML text carries from one part of it to the
/// next (see [`read_part`]).
#[derive(Default)]
pub(super) struct Carry {
    pub(super) read: FileRead,
    seen: u64,
    errors: u64,
    /// The elements open where the part before ended (a root, say): an
    /// end tag is judged against them as it would be in the whole text.
    open: Vec<String>,
    /// Whether a part was read: the first starts at its first `<Event>`,
    /// the next ones where the one before ended.
    began: bool,
}

/// Read one part of a long XML text (its events, handed to `sink`), from
/// where the part before ended; `Some` offset where the part's last whole
/// event ended, for what follows to be read again with the next part.
/// The last part's end is the text's.
pub(super) fn read_part(
    text: &str,
    base: Base,
    to: &To<'_>,
    sink: &mut dyn FnMut(Event),
    carry: &mut Carry,
    last: bool,
) -> Option<usize> {
    let mut r = Reading {
        text,
        base,
        last,
        file: to.file,
        wanted: to.wanted,
        report: to.report,
        sink,
        read: carry.read,
        seen: carry.seen,
        errors: carry.errors,
    };
    let start = match std::mem::replace(&mut carry.began, true) {
        true => Some(0),
        false => next_event(text, 0),
    };
    let mut cut = None;
    let mut step = start.map_or(Step::End, Step::Next);
    let mut outer = std::mem::take(&mut carry.open);
    while let Step::Next(at) = step {
        // After an error, reading starts afresh, as it does read whole.
        step = r.read_from(at, std::mem::take(&mut outer));
    }
    if let Step::Cut(at, open) = step {
        (cut, carry.open) = (Some(at), open);
    } else {
        r.tell_totals();
    }
    (carry.read, carry.seen, carry.errors) = (r.read, r.seen, r.errors);
    cut
}

/// Where reading from a point ended.
enum Step {
    /// At an error: reading goes on at this next `<Event>`.
    Next(usize),
    /// At the end of the text.
    End,
    /// At the end of a part: what follows this offset is read again with
    /// the next part, these elements open.
    Cut(usize, Vec<String>),
}

/// One XML text (or part of one) being read.
struct Reading<'a> {
    text: &'a str,
    /// Where the part starts in the whole text.
    base: Base,
    /// Whether the text ends where this part does.
    last: bool,
    file: &'a Arc<str>,
    wanted: Option<&'a Wanted>,
    report: &'a dyn Fn(Diagnostic),
    sink: &'a mut dyn FnMut(Event),
    read: FileRead,
    /// `<Event>` elements met, read or lost: the next one's position.
    seen: u64,
    errors: u64,
}

impl Reading<'_> {
    /// The errors past those told one by one, and the events lost.
    fn tell_totals(&self) {
        if self.errors > TOLD {
            let more = self.errors - TOLD;
            (self.report)(Diagnostic::error(
                "events",
                format!("{more} more XML errors"),
            ));
        }
        if self.read.lost > 0 {
            let (lost, events) = (self.read.lost, self.read.events);
            let msg = format!("{lost} of {} events lost ({events} read)", lost + events);
            (self.report)(Diagnostic::error("events", msg));
        }
    }

    /// Read from byte `at` to the end, or to an error: then the offset of
    /// the next `<Event>` to go on from, if there is one. `outer`: the
    /// elements open at `at`, where a part goes on from the one before.
    fn read_from(&mut self, at: usize, outer: Vec<String>) -> Step {
        // They are opened again before the text, and read past, so that
        // the reader judges end tags as it would have.
        let prefix: String = outer.iter().map(|n| start_tag(n)).collect();
        let skip = prefix.len();
        let joined: String;
        let input = match skip {
            0 => &self.text[at..],
            _ => {
                joined = prefix + &self.text[at..];
                &joined
            }
        };
        let mut reader = quick_xml::Reader::from_str(input);
        // Reading may start inside the root, whose end then has no start.
        reader.config_mut().allow_unmatched_ends = true;
        for _ in &outer {
            let _ = reader.read_event();
        }
        let mut names = Names {
            before: outer,
            since: Vec::new(),
        };
        let mut open = Open::default();
        // The elements open outside the event being read.
        let mut event_depth = 0;
        let cut = |open: &Open, here: usize, names: &Names, depth: usize| match open.start {
            Some(start) => Step::Cut(at + start, names.owned(input, depth)),
            None => Step::Cut(at + here, names.owned(input, names.len())),
        };
        loop {
            // Where the next markup or text starts: a start tag's position.
            let here = reader.buffer_position() as usize - skip;
            let step = match reader.read_event() {
                // A part's end: its event, or what stood there, is read
                // again with the next part.
                Ok(Xml::Eof) if !self.last => return cut(&open, here, &names, event_depth),
                Ok(Xml::Eof) => break,
                // No event holds another: this one was cut short, and the
                // next starts here.
                Ok(Xml::Start(e) | Xml::Empty(e))
                    if open.inside() && e.local_name().as_ref() == "Event" =>
                {
                    let start = at + open.start.unwrap_or(here);
                    self.fail(
                        start,
                        "the event is not closed before the next <Event>",
                        true,
                    );
                    return Step::Next(at + here);
                }
                Ok(ev) => {
                    // As the reader keeps them; noted once the markup is
                    // taken, so that a part cut at it is read again with
                    // the elements open before it.
                    // The name follows the `<` at `here`.
                    let name_at = here + skip + 1;
                    let opened = match &ev {
                        Xml::Start(e) => Some(Some(name_at..name_at + e.name().as_ref().len())),
                        Xml::End(_) => Some(None),
                        _ => None,
                    };
                    let before = open.start.is_some();
                    let taken = open.take(ev, here).map_err(|e| (here, e));
                    if taken.is_ok() {
                        if !before && open.start.is_some() {
                            event_depth = names.len();
                        }
                        match opened {
                            Some(Some(name)) => names.since.push(name),
                            Some(None) => names.pop(),
                            None => {}
                        }
                    }
                    taken
                }
                Err(e) => Err((reader.error_position() as usize - skip, e)),
            };
            match step {
                Ok(Some(whole)) => self.emit(whole),
                Ok(None) => {}
                Err((pos, e)) => {
                    let (pos, why) = placed(pos, &e);
                    let pos = at + pos;
                    // From where the error is, not from where the reader
                    // stopped: a CDATA section or comment left open reads
                    // to the end, over the events after it.
                    let next = next_event(self.text, pos + 1);
                    // An error read to a part's end may be the end's (a
                    // comment or tag it cuts); one with no event after it
                    // in the part has its next event in the next. Either
                    // is read again with the next part.
                    let to_end = at + reader.buffer_position() as usize - skip >= self.text.len();
                    if !self.last && (to_end || next.is_none()) {
                        return cut(&open, here, &names, event_depth);
                    }
                    self.fail(pos, &why, open.inside());
                    return next.map_or(Step::End, Step::Next);
                }
            }
        }
        if let Some(start) = open.start {
            let pos = at + start;
            self.fail(pos, "the text ends inside this event", true);
        }
        Step::End
    }

    /// An event read whole.
    fn emit(
        &mut self,
        Whole {
            value,
            deep,
            left_out,
        }: Whole,
    ) {
        self.seen += 1;
        let meta = EventMeta {
            file: self.file.clone(),
            record: self.seen,
            ..Default::default()
        };
        let doc = Node::Object(Fields::from_iter([("Event".to_string(), value)]));
        match event_from(&doc, meta, self.wanted) {
            Some(mut e) => {
                e.left_out += left_out;
                for why in super::json::partly_read(&e) {
                    let msg = format!("event {}: {why}", self.seen);
                    (self.report)(Diagnostic::warning("events", msg));
                }
                if deep {
                    let msg = format!(
                        "event {}: elements nested deeper than {MAX_DEPTH} levels were not read (the rest of the event was)",
                        self.seen
                    );
                    (self.report)(Diagnostic::warning("events", msg));
                }
                e.too_deep |= deep;
                self.read.events += 1;
                (self.sink)(e);
            }
            None => {
                let msg = format!("event {} could not be read; 1 event lost", self.seen);
                (self.report)(Diagnostic::error("events", msg));
                self.read.lost += 1;
            }
        }
    }

    /// An error at byte `pos`; `lost` when an event was being read.
    fn fail(&mut self, pos: usize, why: &str, lost: bool) {
        self.errors += 1;
        if lost {
            self.seen += 1;
            self.read.lost += 1;
        }
        if self.errors <= TOLD {
            let (line, column) = self.base.place_chars(crate::diag::line_col(self.text, pos));
            let what = if lost { "; 1 event lost" } else { "" };
            let msg = format!("invalid XML{what}: {why}");
            let d = Diagnostic::error("events", msg);
            (self.report)(d.at(Some(line), Some(column)));
        }
    }
}

/// The elements open as the reader keeps them (it judges an end tag by
/// the last): those open before a part, and those opened since, where
/// their names are in the text read.
struct Names {
    before: Vec<String>,
    since: Vec<std::ops::Range<usize>>,
}

impl Names {
    fn len(&self) -> usize {
        self.before.len() + self.since.len()
    }

    fn pop(&mut self) {
        if self.since.pop().is_none() {
            self.before.pop();
        }
    }

    /// The names of the first `depth`, to be carried past the text.
    fn owned(&self, text: &str, depth: usize) -> Vec<String> {
        let since = self.since.iter().map(|r| text[r.clone()].to_string());
        self.before
            .iter()
            .cloned()
            .chain(since)
            .take(depth)
            .collect()
    }
}

/// A start tag the reader reads as one of this name: a name may hold a
/// quote, which runs to its match (the tag's end is looked for after it),
/// or end with `/` (which `/>` would make an empty element).
fn start_tag(name: &str) -> String {
    let mut quote = None;
    for b in name.bytes() {
        quote = match (quote, b) {
            (None, b'\'' | b'"') => Some(b),
            (Some(q), b) if b == q => None,
            (q, _) => q,
        };
    }
    let close = quote.map(char::from).map(String::from).unwrap_or_default();
    format!("<{name} {close}>")
}

/// Where an error is (`at`, or inside the tag there for an attribute's)
/// and what it is.
fn placed(at: usize, e: &quick_xml::Error) -> (usize, String) {
    use quick_xml::events::attributes::AttrError::*;
    let quick_xml::Error::InvalidAttr(a) = e else {
        return (at, e.to_string());
    };
    let (ExpectedEq(p)
    | ExpectedValue(p)
    | UnquotedValue(p)
    | ExpectedQuote(p, _)
    | Duplicated(p, _)) = *a;
    // The error's own text starts with its position in the tag.
    let text = a.to_string();
    let why = text.split_once(": ").map_or(text.as_str(), |(_, w)| w);
    (at + 1 + p, why.to_string())
}

/// The offset of the next `<Event>` (or `<x:Event>`) start tag from `from`.
pub(super) fn next_event(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from.min(bytes.len());
    while let Some(i) = memchr::memchr(b'<', &bytes[at..]) {
        let tag = at + i;
        let name_end = bytes[tag + 1..]
            .iter()
            .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
            .map_or(bytes.len(), |n| tag + 1 + n);
        let name = &bytes[tag + 1..name_end];
        if name == b"Event" || name.ends_with(b":Event") {
            return Some(tag);
        }
        at = tag + 1;
    }
    None
}

/// An `<Event>` element read whole, as the EVTX reader renders one.
struct Whole {
    value: Node,
    /// Whether elements nested deeper than [`MAX_DEPTH`] were left out.
    deep: bool,
    /// Elements and attributes left out past [`MOST_NODES`].
    left_out: u64,
}

/// The elements of the event being read, innermost last.
#[derive(Default)]
struct Open {
    stack: Vec<Element>,
    /// Levels below [`MAX_DEPTH`] being skipped, or elements past
    /// [`MOST_NODES`].
    skipped: usize,
    deep: bool,
    /// The event's elements and attributes read, and those left out.
    nodes: usize,
    left_out: u64,
    /// Where the event's start tag begins (relative to the reader's start).
    start: Option<usize>,
}

impl Open {
    fn inside(&self) -> bool {
        self.start.is_some()
    }

    /// Take one XML event; an `<Event>` element read whole is returned, with
    /// what of it was not read.
    fn take(&mut self, ev: Xml<'_>, at: usize) -> quick_xml::Result<Option<Whole>> {
        match ev {
            Xml::Start(e) => self.start_tag(&e, at)?,
            Xml::Empty(e) => {
                self.start_tag(&e, at)?;
                return Ok(self.end_tag());
            }
            Xml::End(_) => return Ok(self.end_tag()),
            Xml::Text(t) => self.push_text(&t),
            Xml::CData(t) => self.push_text(&t),
            Xml::GeneralRef(r) => {
                let c = match r.resolve_char_ref()? {
                    Some(c) => c.to_string(),
                    None => match quick_xml::escape::resolve_predefined_entity(&r) {
                        Some(s) => s.to_string(),
                        // An entity a document type would define is kept
                        // as written: its definition is never read.
                        None => format!("&{};", &*r),
                    },
                };
                self.push_text(&c);
            }
            _ => {}
        }
        Ok(None)
    }

    fn start_tag(&mut self, e: &BytesStart<'_>, at: usize) -> quick_xml::Result<()> {
        if self.stack.is_empty() {
            if e.local_name().as_ref() != "Event" {
                return Ok(());
            }
            self.start = Some(at);
        } else if self.skipped > 0 || self.stack.len() >= MAX_DEPTH || self.nodes >= MOST_NODES {
            self.skipped += 1;
            match self.nodes >= MOST_NODES {
                true => self.left_out += 1,
                false => self.deep = true,
            }
            return Ok(());
        }
        let (element, dropped) = Element::open(e, MOST_NODES - self.nodes - 1)?;
        self.nodes += 1 + element.attributes.len();
        self.left_out += dropped;
        self.stack.push(element);
        Ok(())
    }

    fn end_tag(&mut self) -> Option<Whole> {
        if self.skipped > 0 {
            self.skipped -= 1;
            return None;
        }
        let done = self.stack.pop()?;
        let (name, value) = (done.name.clone(), done.into_node());
        match self.stack.last_mut() {
            Some(parent) => {
                parent.children.push((name, value));
                None
            }
            None => {
                self.start = None;
                self.nodes = 0;
                Some(Whole {
                    value,
                    deep: std::mem::take(&mut self.deep),
                    left_out: std::mem::take(&mut self.left_out),
                })
            }
        }
    }

    fn push_text(&mut self, t: &str) {
        if self.skipped == 0
            && let Some(e) = self.stack.last_mut()
        {
            e.text.push_str(t);
        }
    }
}

/// The event a text holds as XML, when it is one whole event: Sysmon for
/// Linux writes each of its events so to syslog (`sysmon: <Event><System>...`)
/// and journald. It is read as an XML export of the event would be, under
/// the record number `no` of the log that held it, and meets the rules of
/// its channel.
pub(super) fn whole_event(
    xml: &str,
    file: &Arc<str>,
    no: u64,
    wanted: Option<&Wanted>,
) -> Option<Event> {
    let mut got = None;
    let read = read(xml, file, wanted, &|_| {}, &mut |e| got = Some(e))?;
    let mut e = got.filter(|_| read.events == 1 && read.lost == 0)?;
    e.meta.record = no;
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;

    fn events(text: &str) -> (Vec<Event>, Option<FileRead>, Vec<String>) {
        let ds = Diagnostics::new();
        let mut got = Vec::new();
        let report = |d: Diagnostic| ds.push(d.in_file("e.xml"));
        let read = read(text, &Arc::from("e.xml"), None, &report, &mut |e| {
            got.push(e)
        });
        let diags = ds.sorted().iter().map(|d| d.to_string()).collect();
        (got, read, diags)
    }

    const SYSMON: &str = r#"<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385f-c22a-43e0-bf4c-06f5698ffbd9}'/><EventID Qualifiers='0'>1</EventID><TimeCreated SystemTime='2019-03-19T23:34:25.6599601Z'/><EventRecordID>7</EventRecordID><Correlation/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>pc1</Computer><Security UserID='S-1-5-18'/></System><EventData><Data Name='Image'>C:\Windows\System32\cmd.exe</Data><Data Name='CommandLine'>cmd /c "echo &lt;x&gt; &amp; whoami"&#x21;</Data><Data Name='ParentImage'></Data><Data Name='Threat Name'>Evil</Data></EventData></Event>"#;

    #[test]
    fn an_event_reads_as_its_evtx_record_does() {
        let (got, read, diags) = events(SYSMON);
        assert_eq!(read, Some(FileRead { events: 1, lost: 0 }), "{diags:?}");
        let e = &got[0];
        assert_eq!(e.text("Image"), Some(r"C:\Windows\System32\cmd.exe"));
        assert_eq!(
            e.text("CommandLine"),
            Some(r#"cmd /c "echo <x> & whoami"!"#)
        );
        assert_eq!(e.text("EventID"), Some("1"));
        assert_eq!(e.text("EventID_Qualifiers"), Some("0"));
        assert_eq!(e.text("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(e.text("Security_UserID"), Some("S-1-5-18"));
        assert_eq!(e.text("ThreatName"), Some("Evil"));
        // Empty, not null: `ParentImage: ''` holds, `ParentImage: null`
        // does not, as on the EVTX record.
        let parent = e.get("ParentImage").unwrap().first().unwrap();
        assert_eq!((parent.text, parent.is_null), ("", false));
        assert!(e.get("Correlation").unwrap().first().unwrap().is_null);
        assert_eq!(
            e.meta.channel.as_deref(),
            Some("Microsoft-Windows-Sysmon/Operational")
        );
        assert_eq!(
            e.meta.timestamp.as_deref(),
            Some("2019-03-19T23:34:25.6599601Z")
        );
        assert_eq!(e.meta.computer.as_deref(), Some("pc1"));
    }

    #[test]
    fn events_with_or_without_a_root_and_user_data() {
        let user = "<Event><System><EventID>1102</EventID></System><UserData><LogFileCleared xmlns='x'><SubjectUserName>bob</SubjectUserName></LogFileCleared></UserData></Event>";
        let rooted = format!(
            "<?xml version='1.0' encoding='UTF-8'?>\r\n<Events>\r\n{SYSMON}\r\n{user}\r\n</Events>"
        );
        let bare = format!("{SYSMON}\n{user}\n");
        for text in [rooted, bare] {
            let (got, read, diags) = events(&text);
            assert_eq!(read, Some(FileRead { events: 2, lost: 0 }), "{diags:?}");
            assert_eq!(got[1].text("SubjectUserName"), Some("bob"));
            // The EventRecordID where there is one, as in EVTX; else the
            // event's position.
            assert_eq!(
                got.iter().map(|e| e.meta.record).collect::<Vec<_>>(),
                [7, 2]
            );
        }
    }

    #[test]
    fn a_broken_event_is_lost_alone_and_said_where() {
        let text = format!(
            "<!-- {} -->\n<Events>\n{SYSMON}\n<Event><System><EventID a=1>4</EventID></System></Event>\n{SYSMON}\n<Event><System>",
            // Reading starts at the first event, far into the text.
            "x".repeat(5000)
        );
        let (got, read, diags) = events(&text);
        assert_eq!(read, Some(FileRead { events: 2, lost: 2 }));
        assert_eq!(got.len(), 2);
        assert_eq!(
            diags,
            [
                "error[events]: e.xml: 2 of 4 events lost (2 read)",
                "error[events]: e.xml:4:27: invalid XML; 1 event lost: attribute value must be enclosed in `\"` or `'`",
                "error[events]: e.xml:6:1: invalid XML; 1 event lost: the text ends inside this event",
            ]
        );
    }

    #[test]
    fn an_event_left_open_costs_itself_not_the_events_after_it() {
        let open = SYSMON.replace("</Event>", "");
        let text = format!("<Events>\n{SYSMON}\n{open}\n{SYSMON}\n{SYSMON}\n</Events>\n");
        let (got, read, diags) = events(&text);
        assert_eq!(read, Some(FileRead { events: 3, lost: 1 }), "{diags:?}");
        assert_eq!(got.len(), 3);
        assert_eq!(
            diags,
            [
                "error[events]: e.xml: 1 of 4 events lost (3 read)",
                "error[events]: e.xml:3:1: invalid XML; 1 event lost: the event is not closed before the next <Event>",
            ]
        );
    }

    #[test]
    fn a_section_left_open_costs_its_event_not_the_events_after_it() {
        for open in ["<![CDATA[never closed", "<!-- never closed"] {
            let broken = SYSMON.replace("C:\\Windows", &format!("{open} C:\\Windows"));
            let text = format!("<Events>\n{broken}\n{SYSMON}\n{SYSMON}\n</Events>\n");
            let (got, read, diags) = events(&text);
            assert_eq!(
                read,
                Some(FileRead { events: 2, lost: 1 }),
                "{open}: {diags:?}"
            );
            assert_eq!(got.len(), 2);
        }
    }

    #[test]
    fn xml_that_holds_no_event_is_not_events() {
        let skipped =
            ["warning[events]: e.xml: XML without an <Event> element: not Windows events; skipped"];
        for text in [
            "<Sysmon schemaversion='4.90'><EventFiltering/></Sysmon>",
            // A web page is no well-formed XML, and no error either.
            "<!DOCTYPE html><html><head><meta charset=utf-8><title>x</title></head><body><br></body></html>",
        ] {
            let (got, read, diags) = events(text);
            assert!(got.is_empty() && read.is_none());
            assert_eq!(diags, skipped);
        }
    }

    #[test]
    fn nesting_is_read_to_a_depth_and_entities_are_not_expanded() {
        let deep = format!(
            "<!DOCTYPE Event [<!ENTITY a 'aaaaaaaaaa'>]><Event><EventData><Data Name='X'>&a;</Data>{}{}</EventData></Event>",
            "<x>".repeat(100_000),
            "</x>".repeat(100_000)
        );
        let (got, read, diags) = events(&deep);
        assert_eq!(read, Some(FileRead { events: 1, lost: 0 }));
        assert_eq!(got[0].text("X"), Some("&a;"));
        assert!(got[0].too_deep);
        assert_eq!(diags.len(), 1);
        assert!(
            diags[0].contains("nested deeper than 32 levels"),
            "{diags:?}"
        );
    }
}
