//! Properties read without the YAML parser are what the parser reads.
#![no_main]
use attack_vault::vault::frontmatter::canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|yaml: &str| {
    if let Some(fast) = canonical::parse(yaml) {
        let slow: indexmap::IndexMap<String, serde_json::Value> = serde_saphyr::from_str(yaml)
            .unwrap_or_else(|e| panic!("read without the parser, refused by it: {e}"));
        assert_eq!(fast, slow);
        assert!(fast.keys().eq(slow.keys()));
    }
});
