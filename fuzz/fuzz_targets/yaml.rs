//! The YAML tree with positions.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = sigma_engine::yaml::parse_documents(text);
});
