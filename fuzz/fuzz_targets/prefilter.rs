//! The prefilter against the rules it skips: a Sigma rule file and events
//! (after a NUL byte; one Sysmon event without), each matched with the
//! prefilter and with every rule of its bucket. The two must agree. The
//! first byte may say what log the events come from.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;
use sigma_engine::events::Source;
use sigma_engine::matcher::{Engine, EngineOptions, Hit, mapping::Mapping};

const EVENT: &str = r#"{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1,
  "Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd.exe /c whoami", "User": "x"}"#;

fn source(pick: u8) -> Option<Source> {
    Some(match pick % 12 {
        1 => Source::W3c,
        2 => Source::WebServer,
        3 => Source::Zeek("dns".into()),
        4 => Source::Auditd,
        5 => Source::Syslog("sshd".into()),
        6 => Source::Syslog("cron".into()),
        7 => Source::Cisco,
        8 => Source::Fortinet("event".into()),
        9 => Source::CloudTrail,
        10 => Source::Azure,
        _ => return None,
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (rule, events) = text.split_once('\0').unwrap_or((text, EVENT));
    let diags = Diagnostics::new();
    let (rules, _) = sigma_engine::sigma::parse_rules("fuzz.yml".as_ref(), rule, &diags);
    let engine = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    let rules = |hits: Vec<Hit>| hits.into_iter().map(|h| h.rule).collect::<Vec<_>>();
    sigma_engine::events::read_text("events.jsonl", events, &diags, &mut |mut e| {
        if let Some(s) = source(pick) {
            e.meta.source = Some(s);
        }
        let (got, all) = (
            rules(engine.match_event(&e)),
            rules(engine.match_event_unfiltered(&e)),
        );
        assert_eq!(got, all, "the prefilter changed what fired");
    });
});
