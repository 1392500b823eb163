//! The Sigma condition parser: any text parses or fails with an error, and
//! never overflows the stack.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(cond) = sigma_engine::sigma::condition::parse(text) {
        let mut refs = Vec::new();
        cond.references(&mut refs);
    }
});
