//! The STIX bundle reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let diags = sigma_engine::diag::Diagnostics::new();
    let _ = attack_vault::attack::parse_bundle("fuzz.json", text, &diags);
});
