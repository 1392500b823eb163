//! The three-way merge of a note (last generated, the analyst's, new), on
//! any three texts: it never panics, a note the analyst left as generated
//! takes the new version, and one the new build left as it was stays theirs.
#![no_main]
use attack_vault::output::merge::{Outcome, reconcile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    // The three texts, split at NUL bytes (which no note holds).
    let mut parts = input.splitn(3, '\0');
    let (base, mine, theirs) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let out = reconcile(Some(base), mine, theirs);
    if base == mine {
        assert_eq!(out, Outcome::Generated);
    } else if base == theirs && !mine.contains('\r') && !mine.starts_with('\u{feff}') {
        assert_eq!(out, Outcome::Kept);
    }
    let _ = reconcile(None, mine, theirs);
});
