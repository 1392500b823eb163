//! A JSON text, and Windows events as XML, read a part at a time give the
//! events and diagnostics they give read whole. The first byte picks the
//! part's size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;
use sigma_engine::events::{Event, EventFields, read_json_in_parts, read_xml_in_parts};

/// Each event's number and fields (`None` for a record lost), what was
/// read, and the diagnostics, sorted.
type Outcome<R> = (Vec<Option<(u64, EventFields)>>, R, Vec<String>);

fn outcome<R>(read: impl FnOnce(&Diagnostics, &mut dyn FnMut(Option<Event>)) -> R) -> Outcome<R> {
    let diags = Diagnostics::new();
    let mut got = Vec::new();
    let r = read(&diags, &mut |e| {
        got.push(e.map(|e| (e.meta.record, e.whole())))
    });
    (
        got,
        r,
        diags.sorted().iter().map(|d| d.to_string()).collect(),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, text)) = data.split_first() else {
        return;
    };
    let part = usize::from(first) % 128 + 1;
    let json = |part| outcome(|d, each| read_json_in_parts(text, part, d, each));
    assert_eq!(json(part), json(usize::MAX / 2));
    let xml = |part| outcome(|d, each| read_xml_in_parts(text, part, d, &mut |e| each(Some(e))));
    assert_eq!(xml(part), xml(usize::MAX / 2));
});
