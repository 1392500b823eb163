//! Windows events as XML read a part at a time give the events and
//! diagnostics they give read whole. The first byte picks the part's size.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;

fuzz_target!(|data: &[u8]| {
    let Some((&first, text)) = data.split_first() else {
        return;
    };
    let run = |part: usize| {
        let diags = Diagnostics::new();
        let mut got = Vec::new();
        let read = sigma_engine::events::read_xml_in_parts(text, part, &diags, &mut |e| {
            got.push((e.meta.record, e.whole()))
        });
        let said: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        (got, read, said)
    };
    assert_eq!(run(usize::from(first) % 128 + 1), run(usize::MAX / 2));
});
