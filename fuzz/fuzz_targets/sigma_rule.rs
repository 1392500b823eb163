//! A Sigma rule file, read and compiled: YAML, rule model, conditions,
//! modifiers and the compiler, then matched against one event.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;
use sigma_engine::matcher::{Engine, EngineOptions, mapping::Mapping};

const EVENT: &str = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
  "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd.exe /c whoami", "User": "x"}"#;

fuzz_target!(|text: &str| {
    let diags = Diagnostics::new();
    let (rules, _) = sigma_engine::sigma::parse_rules("fuzz.yml".as_ref(), text, &diags);
    let engine = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    sigma_engine::events::read_text("event.json", EVENT, &diags, &mut |e| {
        let _ = engine.match_event(&e);
    });
});
