//! Unit tests of the matcher: one per modifier and condition form, with the
//! edge cases of the modifiers appendix.

use super::*;
use crate::events::Event;
use std::sync::atomic::{AtomicU64, Ordering};

fn engine(rule_yaml: &str) -> Engine {
    let ds = Diagnostics::new();
    let (rules, rejected) =
        crate::sigma::parse_rules(std::path::Path::new("t.yml"), rule_yaml, &ds);
    assert_eq!(rejected, 0, "{:?}", ds.sorted());
    let e = Engine::new(rules, &Mapping::default(), &EngineOptions::default());
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    e
}

/// A rule with one selection, run on one event of `pairs`.
fn hit(selection: &str, pairs: &[(&str, &str)]) -> bool {
    hit_cond(selection, "selection", pairs)
}

/// A rule of `searches` (detection lines, unindented) and `condition`.
fn rule_engine(searches: &str, condition: &str) -> Engine {
    let yaml = format!(
        "title: t\nlogsource:\n  product: test\ndetection:\n{}\n  condition: {condition}\n",
        searches
            .lines()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    engine(&yaml)
}

fn hit_cond(searches: &str, condition: &str, pairs: &[(&str, &str)]) -> bool {
    let e = rule_engine(searches, condition);
    let ev = Event::from_pairs(pairs);
    !e.match_event(&ev).is_empty()
}

#[test]
fn plain_values_are_case_insensitive_and_exact() {
    assert!(hit(
        "selection:\n  Image: 'C:\\Windows\\cmd.exe'",
        &[("Image", "c:\\windows\\CMD.EXE")]
    ));
    assert!(!hit(
        "selection:\n  Image: 'cmd.exe'",
        &[("Image", "c:\\windows\\cmd.exe")]
    ));
}

#[test]
fn a_detection_shows_the_values_that_matched() {
    let shown = |searches: &str, condition: &str, pairs: &[(&str, &str)]| {
        let hits = rule_engine(searches, condition).match_event(&Event::from_pairs(pairs));
        hits.into_iter().next().map(|h| h.fields)
    };
    let pairs = [
        ("Image", "x\\other.exe"),
        ("Image", "x\\evil.exe"),
        ("User", "bob"),
        ("CommandLine", "run sekurlsa::logonpasswords"),
    ];
    let fields = |v: &[(&str, &str)]| -> Option<Vec<(String, String)>> {
        Some(
            v.iter()
                .map(|(n, x)| (n.to_string(), x.to_string()))
                .collect(),
        )
    };
    assert_eq!(
        shown(
            "sel:\n  Image|endswith: '\\evil.exe'\n  User: bob",
            "sel",
            &pairs
        ),
        fields(&[("Image", "x\\evil.exe"), ("User", "bob")])
    );
    assert_eq!(
        shown("keywords:\n  - 'sekurlsa::'", "keywords", &pairs),
        fields(&[("keyword", "run sekurlsa::logonpasswords")])
    );
    // A test that accepts no value alone shows the field's first value.
    assert_eq!(
        shown("sel:\n  Image|neq: 'y.exe'", "sel", &pairs[..1]),
        fields(&[("Image", "x\\other.exe")])
    );
}

#[test]
fn lists_or_maps_and() {
    let s = "selection:\n  Image|endswith:\n    - '\\a.exe'\n    - '\\b.exe'\n  User: bob";
    assert!(hit(s, &[("Image", "x\\b.exe"), ("User", "BOB")]));
    assert!(!hit(s, &[("Image", "x\\b.exe"), ("User", "alice")]));
    let s = "selection:\n  - Image: a\n  - User: bob";
    assert!(hit(s, &[("User", "bob")]));
}

#[test]
fn keywords_search_every_field() {
    let s = "keywords:\n  - 'mimikatz'\n  - 'sekurlsa'";
    assert!(hit_cond(
        s,
        "keywords",
        &[("CommandLine", "run Mimikatz.exe")]
    ));
    assert!(!hit_cond(s, "keywords", &[("CommandLine", "run x")]));
    let s = "keywords:\n  '|all':\n    - 'Oab'\n    - ' -ExternalUrl '";
    assert!(hit_cond(
        s,
        "keywords",
        &[("a", "Set-OabVirtualDirectory -ExternalUrl x")]
    ));
    assert!(!hit_cond(
        s,
        "keywords",
        &[("a", "Set-OabVirtualDirectory")]
    ));
    // As SigmaHQ's keyword rules are written: a wildcard inside, the
    // keyword anywhere in a log line (a backend searches `*rm *history*`).
    let s = "keywords:\n  - 'rm *sh_history'\n  - 'syscall ? out'";
    for line in [
        "sudo rm -f /root/.bash_history now",
        "kernel: syscall 7 out of bounds",
    ] {
        assert!(hit_cond(s, "keywords", &[("msg", line)]), "{line}");
    }
    assert!(!hit_cond(s, "keywords", &[("msg", "sh_history rm")]));
}

#[test]
fn contains_startswith_endswith_all() {
    assert!(hit(
        "selection:\n  C|contains: 'EnC'",
        &[("C", "powershell -enc AAA")]
    ));
    assert!(hit(
        "selection:\n  C|startswith: 'power'",
        &[("C", "PowerShell -enc")]
    ));
    assert!(!hit(
        "selection:\n  C|startswith: 'shell'",
        &[("C", "PowerShell")]
    ));
    assert!(hit("selection:\n  C|endswith: '.EXE'", &[("C", "a.exe")]));
    assert!(hit(
        "selection:\n  C|contains|all: [' -a ', ' -b ']",
        &[("C", "x -b y -a z")]
    ));
    assert!(!hit(
        "selection:\n  C|contains|all: [' -a ', ' -b ']",
        &[("C", "x -a z")]
    ));
}

#[test]
fn wildcards_and_escapes() {
    assert!(hit("selection:\n  C: 'te?t*.exe'", &[("C", "text123.exe")]));
    assert!(hit("selection:\n  C: 'a\\*b'", &[("C", "a*b")]));
    assert!(!hit("selection:\n  C: 'a\\*b'", &[("C", "axxb")]));
    assert!(hit("selection:\n  C: 'a\\\\*'", &[("C", "a\\anything")]));
    assert!(hit("selection:\n  C: 'a\\?'", &[("C", "a?")]));
    assert!(!hit("selection:\n  C: 'a\\?'", &[("C", "ab")]));
}

#[test]
fn null_empty_and_absent_fields() {
    assert!(hit("selection:\n  Missing: null", &[("Other", "x")]));
    assert!(!hit("selection:\n  Other: null", &[("Other", "x")]));
    assert!(hit("selection:\n  Other: ''", &[("Other", "")]));
    // A test on an absent field is false and does not break the rest.
    assert!(!hit("selection:\n  Missing: x", &[("Other", "x")]));
    assert!(hit_cond(
        "selection:\n  A: x\nfilter:\n  Missing: y",
        "selection and not filter",
        &[("A", "x")]
    ));
}

#[test]
fn numbers_and_strings_compare_as_values() {
    assert!(hit("selection:\n  EventID: 4688", &[("EventID", "4688")]));
    assert!(hit("selection:\n  EventID: '4688'", &[("EventID", "4688")]));
    let ev = serde_json::json!({"EventID": 4688, "Flag": true});
    let e = engine(
        "title: t\nlogsource:\n  product: test\ndetection:\n  selection:\n    EventID: '4688'\n    Flag: 'true'\n  condition: selection\n",
    );
    assert_eq!(
        e.match_event(&Event::from_json(&ev, Default::default()))
            .len(),
        1
    );
}

/// Which of `events` (JSON lines) a selection fires on, read as the
/// command line reads them.
fn fired_on(selection: &str, events: &[&str]) -> Vec<bool> {
    let e = rule_engine(selection, "selection");
    let ds = Diagnostics::new();
    let mut fired = Vec::new();
    crate::events::read_text("t.jsonl", &events.join("\n"), &ds, &mut |ev| {
        fired.push(!e.match_event(&ev).is_empty());
    });
    assert_eq!(fired.len(), events.len(), "{:?}", ds.sorted());
    fired
}

#[test]
fn a_rule_number_equals_a_json_number_of_the_same_value_however_written() {
    let one = [
        r#"{"A": 1}"#,
        r#"{"A": 1.0}"#,
        r#"{"A": 1e0}"#,
        r#"{"A": "1"}"#,
        r#"{"A": "1.0"}"#,
        r#"{"A": 2}"#,
    ];
    let expected = [true, true, true, true, false, false];
    assert_eq!(fired_on("selection:\n  A: 1", &one), expected);
    assert_eq!(fired_on("selection:\n  A: 1.0", &one), expected);
    // Quoted, the value is text, compared with the event's text (a JSON
    // number's text is its shortest form: `1e0` reads `1.0`).
    assert_eq!(
        fired_on("selection:\n  A: '1.0'", &one),
        [false, true, true, false, true, false]
    );
    // Outside the range where a JSON number is written without an exponent,
    // the prefilter must not ask for the rule's digits.
    for (rule, event) in [
        ("1000", "1e3"),
        ("2.5", "25e-1"),
        ("10000000000000000", "1e16"),
        ("0.000001", "1e-6"),
        ("-5", "-5.0"),
        ("0", "-0.0"),
    ] {
        let sel = format!("selection:\n  A: {rule}\n  B: x");
        let ev = format!(r#"{{"A": {event}, "B": "x"}}"#);
        assert_eq!(fired_on(&sel, &[&ev]), [true], "{rule} = {event}");
    }
    // `neq` is the opposite of the same equality.
    assert_eq!(
        fired_on("selection:\n  A|neq: 1", &[r#"{"A": 1.0}"#, r#"{"A": 2}"#]),
        [false, true]
    );
    // With another modifier a number is text.
    assert_eq!(
        fired_on(
            "selection:\n  A|contains: 1",
            &[r#"{"A": 10}"#, r#"{"A": 2}"#]
        ),
        [true, false]
    );
}

#[test]
fn field_names_are_case_sensitive_and_may_have_spaces() {
    assert!(!hit("selection:\n  ProcessId: 4", &[("ProcessID", "4")]));
    assert!(hit(
        "selection:\n  Threat Name|contains: 'mimikatz'",
        &[("Threat Name", "HackTool:Win32/Mimikatz")]
    ));
    // Either side may write the spaces.
    for (rule, event) in [
        ("ThreatName", "Threat Name"),
        ("Threat Name", "ThreatName"),
        ("Threat  Name", "Threat Name"),
    ] {
        let s = format!("selection:\n  {rule}|contains: 'mimikatz'");
        assert!(
            hit(&s, &[(event, "HackTool:Win32/Mimikatz")]),
            "{rule} / {event}"
        );
    }
    let s = "selection:\n  Process Name|endswith: 'x.exe'";
    let e = rule_engine(s, "selection");
    let hits = e.match_event(&Event::from_pairs(&[("ProcessName", "C:\\x.exe")]));
    let fields: Vec<_> = hits[0].fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(fields, ["Process Name"], "reported as the rule writes it");
}

#[test]
fn windash_all_five_dashes() {
    let s = "selection:\n  C|windash|contains: ' -enc '";
    for d in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
        assert!(hit(s, &[("C", &format!("powershell {d}enc AAA"))]), "{d}");
    }
    assert!(hit(
        "selection:\n  C|windash|contains: ' \u{2013}enc '",
        &[("C", "powershell -enc x")]
    ));
}

#[test]
fn base64_and_base64offset() {
    assert!(hit("selection:\n  C|base64: 'abc'", &[("C", "YWJj")]));
    let s = "selection:\n  C|base64offset|contains: 'http://'";
    for encoded in [
        "aHR0cDovL2V4YW1wbGU=",
        "IGh0dHA6Ly9leGFtcGxl",
        "ICBodHRwOi8vZXhhbXBsZQ==",
    ] {
        assert!(
            hit(s, &[("C", &format!("powershell -e {encoded}"))]),
            "{encoded}"
        );
    }
}

#[test]
fn utf16_encodings_with_base64() {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let le: Vec<u8> = "cmd".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    assert!(hit(
        "selection:\n  C|utf16le|base64: 'cmd'",
        &[("C", &b64(&le))]
    ));
    assert!(hit(
        "selection:\n  C|wide|base64: 'cmd'",
        &[("C", &b64(&le))]
    ));
    let be: Vec<u8> = "cmd".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
    assert!(hit(
        "selection:\n  C|utf16be|base64: 'cmd'",
        &[("C", &b64(&be))]
    ));
    let mut bom = vec![0xFF, 0xFE];
    bom.extend(&le);
    assert!(hit(
        "selection:\n  C|utf16|base64: 'cmd'",
        &[("C", &b64(&bom))]
    ));
    // Within a longer UTF-16 PowerShell -EncodedCommand payload.
    let long: Vec<u8> = "Write-Host; Invoke-Mimikatz"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    assert!(hit(
        "selection:\n  C|utf16le|base64offset|contains: 'Invoke-Mimikatz'",
        &[("C", &format!("powershell -enc {}", b64(&long)))]
    ));
}

#[test]
fn regular_expressions_and_flags() {
    assert!(hit("selection:\n  C|re: 'a.c'", &[("C", "xabcx")]));
    assert!(
        !hit("selection:\n  C|re: 'ABC'", &[("C", "abc")]),
        "re is case-sensitive"
    );
    assert!(hit("selection:\n  C|re|i: 'ABC'", &[("C", "abc")]));
    assert!(hit("selection:\n  C|re|m: '^b$'", &[("C", "a\nb\nc")]));
    assert!(!hit("selection:\n  C|re: '^b$'", &[("C", "a\nb\nc")]));
    assert!(hit("selection:\n  C|re|s: 'a.b'", &[("C", "a\nb")]));
    assert!(!hit("selection:\n  C|re: 'a.b'", &[("C", "a\nb")]));
}

#[test]
fn cidr_v4_and_v6() {
    assert!(hit(
        "selection:\n  Ip|cidr: '10.0.0.0/8'",
        &[("Ip", "10.1.2.3")]
    ));
    assert!(!hit(
        "selection:\n  Ip|cidr: '10.0.0.0/8'",
        &[("Ip", "11.1.2.3")]
    ));
    assert!(hit(
        "selection:\n  Ip|cidr: '::1/128'",
        &[("Ip", "0:0:0:0:0:0:0:1")]
    ));
    assert!(hit(
        "selection:\n  Ip|cidr: 'fe80::/10'",
        &[("Ip", "FE80::1")]
    ));
    assert!(!hit(
        "selection:\n  Ip|cidr: 'fe80::/10'",
        &[("Ip", "not an ip")]
    ));
}

#[test]
fn a_long_cidr_list_matches_as_its_networks_one_by_one() {
    let list = [
        "10.0.0.0/8",
        "192.168.0.0/16",
        "172.16.0.0/12",
        "8.8.8.8",
        "1.1.1.0/24",
        "100.64.0.0/10",
        "fe80::/10",
        "2001:db8::/32",
        "::1/128",
        "203.0.113.0/24",
    ];
    let selection = |neq: bool| {
        let values: String = list.iter().map(|n| format!("\n    - '{n}'")).collect();
        format!(
            "selection:\n  Ip|cidr{}:{values}",
            if neq { "|neq" } else { "" }
        )
    };
    for (ip, inside) in [
        ("10.9.8.7", true),
        ("8.8.8.8", true),
        ("8.8.8.9", false),
        (" 192.168.255.255 ", true),
        ("172.32.0.1", false),
        ("FE80::1", true),
        ("2001:db8:ffff::", true),
        ("::2", false),
        ("::ffff:10.0.0.1", false),
        ("not an ip", false),
    ] {
        assert_eq!(hit(&selection(false), &[("Ip", ip)]), inside, "{ip}");
        assert_eq!(hit(&selection(true), &[("Ip", ip)]), !inside, "neq {ip}");
    }
}

#[test]
fn exists_both_ways() {
    assert!(hit("selection:\n  A|exists: true", &[("A", "")]));
    assert!(!hit("selection:\n  A|exists: true", &[("B", "")]));
    assert!(hit("selection:\n  A|exists: false", &[("B", "")]));
}

#[test]
fn a_field_that_is_only_null_does_not_exist() {
    let rule = |want: bool| {
        engine(&format!(
            "title: t\nlogsource:\n  product: test\ndetection:\n  sel:\n    A|exists: {want}\n  condition: sel\n"
        ))
    };
    let fires = |e: &Engine, j: serde_json::Value| json_hits(e, &j) == 1;
    let (exists, absent) = (rule(true), rule(false));
    assert!(!fires(&exists, serde_json::json!({"A": null})));
    assert!(fires(&absent, serde_json::json!({"A": null})));
    assert!(fires(&exists, serde_json::json!({"A": [null, "x"]})));
    assert!(fires(&exists, serde_json::json!({"A": ""})));
}

#[test]
fn neq_and_numeric_comparisons() {
    assert!(hit("selection:\n  A|neq: x", &[("A", "y")]));
    assert!(!hit("selection:\n  A|neq: x", &[("A", "X")]));
    assert!(
        !hit("selection:\n  A|neq: x", &[("B", "y")]),
        "neq on an absent field is false"
    );
    assert!(hit("selection:\n  N|gt: 10", &[("N", "11")]));
    assert!(!hit("selection:\n  N|gt: 10", &[("N", "10")]));
    assert!(hit("selection:\n  N|gte: 10", &[("N", "10")]));
    assert!(hit("selection:\n  N|lt: 10", &[("N", "9.5")]));
    assert!(hit("selection:\n  N|lte: 10", &[("N", "10")]));
    assert!(!hit("selection:\n  N|lte: 10", &[("N", "abc")]));
}

#[test]
fn fieldref_and_cased() {
    assert!(hit(
        "selection:\n  A|fieldref: B",
        &[("A", "Same"), ("B", "same")]
    ));
    assert!(!hit(
        "selection:\n  A|fieldref: B",
        &[("A", "x"), ("B", "y")]
    ));
    assert!(hit(
        "selection:\n  A|fieldref|endswith: B",
        &[("A", "c:\\x\\y.exe"), ("B", "y.exe")]
    ));
    assert!(hit(
        "selection:\n  A|fieldref|neq: B",
        &[("A", "x"), ("B", "y")]
    ));
    assert!(hit("selection:\n  A|cased: Abc", &[("A", "Abc")]));
    assert!(!hit("selection:\n  A|cased: Abc", &[("A", "abc")]));
    assert!(hit(
        "selection:\n  A|contains|cased: 'bC'",
        &[("A", "abCd")]
    ));
}

#[test]
fn a_field_reference_between_many_values_finds_the_equal_pair() {
    let e = engine(
        "title: t\nlogsource:\n  product: test\ndetection:\n  sel:\n    A|fieldref: B\n  condition: sel\n",
    );
    let many = |prefix: &str, n: usize| -> Vec<serde_json::Value> {
        (0..n).map(|i| format!("{prefix}{i}").into()).collect()
    };
    for n in [3, 100, 20_000] {
        let (mut a, mut b) = (many("a", n), many("b", n));
        assert_eq!(
            json_hits(&e, &serde_json::json!({"A": a, "B": b})),
            0,
            "{n}"
        );
        a.push("Same".into());
        b.push(serde_json::Value::Null);
        assert_eq!(
            json_hits(&e, &serde_json::json!({"A": a, "B": b})),
            0,
            "{n}"
        );
        b.insert(0, "sAME".into());
        assert_eq!(
            json_hits(&e, &serde_json::json!({"A": a, "B": b})),
            1,
            "{n}"
        );
    }
}

#[test]
fn a_null_is_no_value_a_field_reference_meets() {
    let rule = |spec: &str| {
        engine(&format!(
            "title: t\nlogsource:\n  product: test\ndetection:\n  sel:\n    {spec}: B\n  condition: sel\n"
        ))
    };
    let fires = |e: &Engine, j: serde_json::Value| json_hits(e, &j) == 1;
    for spec in ["A|fieldref", "A|fieldref|endswith", "A|fieldref|contains"] {
        let e = rule(spec);
        assert!(
            !fires(&e, serde_json::json!({"A": "x", "B": null})),
            "{spec}"
        );
        assert!(
            !fires(&e, serde_json::json!({"A": null, "B": null})),
            "{spec}"
        );
        assert!(
            !fires(&e, serde_json::json!({"A": "", "B": null})),
            "{spec}"
        );
        assert!(
            fires(&e, serde_json::json!({"A": "x", "B": [null, "x"]})),
            "{spec}"
        );
    }
}

#[test]
fn null_in_a_list_is_absent_or_one_of_the_others() {
    let e = engine(
        "title: t\nlogsource:\n  product: test\ndetection:\n  sel:\n    A: [null, x]\n  condition: sel\n",
    );
    let fires = |j: serde_json::Value| json_hits(&e, &j) == 1;
    assert!(fires(serde_json::json!({"A": "X"})));
    assert!(fires(serde_json::json!({"B": "y"})));
    assert!(fires(serde_json::json!({"A": null})));
    assert!(!fires(serde_json::json!({"A": "y"})));
    for spec in ["A|contains: [null, x]", "A|endswith: null", "A|re: null"] {
        let ds = Diagnostics::new();
        let yaml = format!(
            "title: t\nlogsource:\n  product: test\ndetection:\n  sel:\n    {spec}\n  condition: sel\n"
        );
        let (rules, rejected) =
            crate::sigma::parse_rules(std::path::Path::new("t.yml"), &yaml, &ds);
        assert_eq!((rules.len(), rejected), (0, 1), "{spec}");
        let said = ds
            .sorted()
            .iter()
            .map(ToString::to_string)
            .collect::<String>();
        assert!(said.contains("cannot take `null`"), "{spec}: {said}");
    }
}

#[test]
fn a_regex_reads_characters() {
    assert!(hit("selection:\n  A|re: '^a.b$'", &[("A", "aéb")]));
    assert!(hit("selection:\n  A|re|i: 'é'", &[("A", "CAFÉ")]));
    assert!(!hit("selection:\n  A|re: 'é'", &[("A", "CAFÉ")]));
    assert!(hit("selection:\n  A|re: '^.{3}$'", &[("A", "été")]));
    assert!(!hit("selection:\n  A|re: '.{5,}'", &[("A", "été")]));
    assert!(hit("selection:\n  A|re: '.{3,}'", &[("A", "été")]));
}

#[test]
fn time_parts() {
    let ts = [("T", "2024-03-05T22:15:09Z")];
    assert!(hit("selection:\n  T|hour: 22", &ts));
    assert!(hit("selection:\n  T|minute: 15", &ts));
    assert!(hit("selection:\n  T|day: 5", &ts));
    assert!(hit("selection:\n  T|month: 3", &ts));
    assert!(hit("selection:\n  T|year: 2024", &ts));
    assert!(hit("selection:\n  T|week: 10", &ts));
    assert!(hit("selection:\n  T|hour|gte: 20", &ts));
    assert!(!hit("selection:\n  T|hour|lt: 6", &ts));
}

#[test]
fn expand_placeholders() {
    let yaml = "title: t\nlogsource:\n  product: test\ndetection:\n  selection:\n    User|expand: '%Admins%'\n  condition: selection\n";
    let ds = Diagnostics::new();
    let (rules, _) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), yaml, &ds);
    let e = Engine::new(
        rules.clone(),
        &Mapping::default(),
        &EngineOptions::default(),
    );
    assert_eq!(e.skipped.len(), 1, "no values: skipped with a reason");
    assert_eq!(
        e.skipped[0].reason,
        crate::matcher::compile::Unsupported::Placeholder("Admins".into())
    );
    assert!(e.skipped[0].reason.to_string().contains("%Admins%"));
    let mut opts = EngineOptions::default();
    opts.placeholders
        .insert("Admins".into(), vec!["adm_*".into()]);
    let e = Engine::new(rules, &Mapping::default(), &opts);
    assert_eq!(
        e.match_event(&Event::from_pairs(&[("User", "ADM_bob")]))
            .len(),
        1
    );
}

#[test]
fn placeholders_combine_up_to_a_limit_and_past_it_the_rule_is_skipped_with_why() {
    let rule = |value: &str| {
        let yaml = format!(
            "title: t\nlogsource:\n  product: test\ndetection:\n  selection:\n    User|expand: '{value}'\n  condition: selection\n"
        );
        let ds = Diagnostics::new();
        crate::sigma::parse_rules(std::path::Path::new("t.yml"), &yaml, &ds).0
    };
    let mut opts = EngineOptions::default();
    let ten: Vec<String> = (0..10).map(|i| format!("v{i}")).collect();
    for name in ["a", "b", "c", "d", "e", "f"] {
        opts.placeholders.insert(name.into(), ten.clone());
    }
    let e = Engine::new(rule("x\\%-%b%-%c%"), &Mapping::default(), &opts);
    assert!(e.skipped.is_empty());
    let fires = |u: &str| !e.match_event(&Event::from_pairs(&[("User", u)])).is_empty();
    assert!(fires("x%-v3-v9") && fires("x%-v0-v0"));
    assert!(!fires("x%-v3") && !fires("xv1-v3-v9"));
    // 10^6 values: past the limit, the rule is skipped and says why.
    let e = Engine::new(rule("%a%%b%%c%%d%%e%%f%"), &Mapping::default(), &opts);
    assert_eq!(e.skipped.len(), 1);
    let why = e.skipped[0].reason.to_string();
    assert!(
        why.starts_with("`%a%%b%%c%%d%%e%%f%` expands to 1000000 values with the placeholders' values, more than the 65536 a value may"),
        "{why}"
    );
    let e = Engine::new(rule(&"%a%".repeat(40)), &Mapping::default(), &opts);
    assert!(
        e.skipped[0]
            .reason
            .to_string()
            .contains("expands to more than 10^38 values")
    );
}

#[test]
fn condition_forms() {
    let s = "selection_a:\n  A: 1\nselection_b:\n  B: 2\nfilter_x:\n  C: 3\n_helper:\n  D: 4";
    let ab = [("A", "1"), ("B", "2")];
    assert!(hit_cond(s, "all of selection_*", &ab));
    assert!(!hit_cond(s, "all of selection_*", &[("A", "1")]));
    assert!(hit_cond(s, "1 of selection_*", &[("B", "2")]));
    assert!(hit_cond(s, "1 of them", &[("C", "3")]));
    assert!(
        !hit_cond(s, "1 of them", &[("D", "4")]),
        "`them` skips names starting with _"
    );
    assert!(
        !hit_cond(s, "1 of *", &[("D", "4")]) && !hit_cond(s, "1 of *_*", &[("D", "4")]),
        "so do patterns, as in the reference implementation"
    );
    assert!(hit_cond(s, "1 of *", &[("C", "3")]));
    assert!(!hit_cond(s, "all of them", &ab));
    assert!(hit_cond(s, "selection_a and not filter_x", &[("A", "1")]));
    assert!(!hit_cond(
        s,
        "selection_a and not filter_x",
        &[("A", "1"), ("C", "3")]
    ));
    assert!(
        hit_cond(s, "selection_a or selection_b and filter_x", &[("A", "1")]),
        "and binds tighter than or"
    );
    assert!(!hit_cond(
        s,
        "(selection_a or selection_b) and filter_x",
        &[("A", "1")]
    ));
    assert!(hit_cond(s, "not 1 of filter*", &[("A", "1")]));
}

/// An engine of one rule with the built-in mapping.
fn windows_engine(yaml: &str) -> Engine {
    let ds = Diagnostics::new();
    let (rules, _) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), yaml, &ds);
    let e = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    e
}

/// How many rules fire on a JSON event.
fn json_hits(e: &Engine, j: &serde_json::Value) -> usize {
    e.match_event(&Event::from_json(j, Default::default()))
        .len()
}

#[test]
fn mapping_selects_events_and_renames_fields() {
    let yaml = "title: t\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    Image|endswith: '\\python.exe'\n  condition: selection\n";
    let e = windows_engine(yaml);
    let m = |j| json_hits(&e, &j);
    let sysmon = serde_json::json!({"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1},
        "EventData": {"Image": "C:\\py\\python.exe"}}});
    let security = serde_json::json!({"Event": {"System": {"Channel": "Security", "EventID": 4688},
        "EventData": {"NewProcessName": "C:\\py\\python.exe"}}});
    let other = serde_json::json!({"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 3},
        "EventData": {"Image": "C:\\py\\python.exe"}}});
    assert_eq!((m(sysmon), m(security), m(other)), (1, 1, 0));
}

#[test]
fn product_windows_alone_reads_every_windows_record() {
    let yaml = "title: t\nlogsource:\n  product: windows\ndetection:\n  keywords: ['sekurlsa::']\n  condition: keywords\n";
    let e = windows_engine(yaml);
    let record = |channel: &str, id: u32| {
        serde_json::json!({"Event": {"System": {"Channel": channel, "EventID": id},
            "EventData": {"CommandLine": "m.exe sekurlsa::logonpasswords"}}})
    };
    let events = [
        record("Security", 4688),
        record("Microsoft-Windows-Sysmon/Operational", 1),
        record("Some-Vendor/Operational", 7),
        // Not a Windows event log record: no channel.
        serde_json::json!({"message": "sekurlsa::logonpasswords"}),
    ];
    let hits: Vec<usize> = events.iter().map(|j| json_hits(&e, j)).collect();
    assert_eq!(hits, [1, 1, 1, 0]);
    let served: Vec<bool> = events
        .iter()
        .map(|j| e.serves(&Event::from_json(j, Default::default())))
        .collect();
    assert_eq!(served, [true, true, true, false]);
    let mut seen = SeenKinds::default();
    assert_eq!(e.rules_with_events(&seen), [false]);
    seen.add(&Event::from_json(&events[2], Default::default()));
    assert_eq!(e.rules_with_events(&seen), [true]);
}

#[test]
fn an_event_no_rules_logsource_selects_is_served_by_none() {
    let e = windows_engine(RAR_RULE);
    let record = |channel: &str, id: u32| {
        serde_json::json!({"Event": {"System": {"Channel": channel, "EventID": id},
            "EventData": {"Image": "x\\rar.exe"}}})
    };
    let served = |j: serde_json::Value| e.serves(&Event::from_json(&j, Default::default()));
    assert!(served(record("Microsoft-Windows-Sysmon/Operational", 1)));
    assert!(served(record("Security", 4688)));
    assert!(!served(record("Microsoft-Windows-Sysmon/Operational", 3)));
    assert!(!served(record("System", 7045)));
    assert!(!served(serde_json::json!({"Image": "x\\rar.exe"})));
}

const RAR_RULE: &str = "title: Data Compressed - rar.exe\nid: 6f3e2987-db24-4c78-a860-b4f4095a7095\nname: rar_compress\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    Image|endswith: rar.exe\n  condition: selection\n";

/// A filter document (after `---`) with the given logsource, targets and
/// detection body.
fn with_filter(logsource: &str, rules: &str, body: &str) -> String {
    format!("{RAR_RULE}---\ntitle: f\nlogsource:\n{logsource}filter:\n  rules: {rules}\n{body}")
}

fn rar_hits(e: &Engine, user: &str) -> usize {
    e.match_event(&Event::from_pairs(&[
        ("Image", "x\\rar.exe"),
        ("User", user),
    ]))
    .len()
}

const WINDOWS_PC: &str = "  category: process_creation\n  product: windows\n";

#[test]
fn thousands_of_filters_on_one_rule_each_apply() {
    let filters: String = (0..5000)
        .map(|i| {
            format!(
                "---\ntitle: f{i}\nlogsource:\n{WINDOWS_PC}filter:\n  rules: [rar_compress]\n  selection:\n    User: u{i}\n  condition: not selection\n"
            )
        })
        .collect();
    let e = engine(&format!("{RAR_RULE}{filters}"));
    for (user, hits) in [
        ("bob", 1),
        ("u0", 0),
        ("u2500", 0),
        ("u4999", 0),
        ("u5000", 1),
    ] {
        assert_eq!(rar_hits(&e, user), hits, "{user}");
    }
}

#[test]
fn filter_not_selection_suppresses_where_selection_holds() {
    // pySigma: the rule's condition becomes `(selection) and (not selection)`
    // with the filter's names kept apart from the rule's.
    let e = engine(&with_filter(
        WINDOWS_PC,
        "[6f3e2987-db24-4c78-a860-b4f4095a7095]",
        "  selection:\n    User|startswith: 'adm_'\n  condition: not selection\n",
    ));
    assert_eq!(
        rar_hits(&e, "bob"),
        1,
        "kept: the filter's selection does not hold"
    );
    assert_eq!(
        rar_hits(&e, "adm_bob"),
        0,
        "dropped: the filter's selection holds"
    );
    assert!(e.filter_notes.is_empty(), "{:?}", e.filter_notes);
}

#[test]
fn filter_condition_is_and_ed_as_written() {
    // Written without `not`, the filter keeps only the matches it selects.
    let e = engine(&with_filter(
        WINDOWS_PC,
        "[6f3e2987-db24-4c78-a860-b4f4095a7095]",
        "  selection:\n    User|startswith: 'adm_'\n  condition: selection\n",
    ));
    assert_eq!(rar_hits(&e, "bob"), 0);
    assert_eq!(rar_hits(&e, "adm_bob"), 1);
}

#[test]
fn filter_names_are_apart_from_the_rules() {
    // The filter's `selection` is not the rule's `selection`, and the rule's
    // `1 of them` does not take in the filter's searches.
    let yaml = RAR_RULE.replace("condition: selection", "condition: 1 of them")
        + "---\ntitle: f\nlogsource:\n  product: windows\nfilter:\n  rules: rar_compress\n  selection:\n    User: adm_x\n  condition: not selection\n";
    let e = engine(&yaml);
    assert_eq!(rar_hits(&e, "bob"), 1);
    assert_eq!(rar_hits(&e, "adm_x"), 0);
    assert_eq!(
        e.match_event(&Event::from_pairs(&[("Image", "x.exe"), ("User", "bob")]))
            .len(),
        0,
        "the filter's searches do not count as the rule's"
    );
}

#[test]
fn filter_names_its_rule_by_name_or_any() {
    for rules in ["rar_compress", "[rar_compress]", "any", "all", "[]"] {
        let e = engine(&with_filter(
            WINDOWS_PC,
            rules,
            "  selection:\n    User: adm_x\n  condition: not selection\n",
        ));
        assert_eq!(rar_hits(&e, "adm_x"), 0, "rules: {rules}");
        assert_eq!(rar_hits(&e, "bob"), 1, "rules: {rules}");
    }
}

#[test]
fn filter_applies_only_within_its_logsource() {
    for (logsource, applies) in [
        ("  product: linux\n", false),
        ("  category: file_event\n  product: windows\n", false),
        ("  product: windows\n", true),
        ("  category: process_creation\n", true),
        (WINDOWS_PC, true),
    ] {
        for rules in ["any", "rar_compress"] {
            let e = engine(&with_filter(
                logsource,
                rules,
                "  selection:\n    User: adm_x\n  condition: not selection\n",
            ));
            assert_eq!(
                rar_hits(&e, "adm_x"),
                usize::from(!applies),
                "{logsource:?} {rules}"
            );
            let outside = e
                .filter_notes
                .iter()
                .any(|n| matches!(n, FilterNote::OutsideLogsource { .. }));
            assert_eq!(outside, !applies && rules != "any", "{logsource:?} {rules}");
        }
    }
}

#[test]
fn filter_naming_no_loaded_rule_is_reported() {
    let e = engine(&with_filter(
        WINDOWS_PC,
        "[rar_compress, no-such-rule]",
        "  selection:\n    User: adm_x\n  condition: not selection\n",
    ));
    assert_eq!(
        e.filter_notes,
        vec![FilterNote::NoSuchRule {
            filter: 1,
            reference: "no-such-rule".into()
        }]
    );
    let ds = Diagnostics::new();
    e.report_filters(&ds);
    let d = ds.sorted();
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].to_string(),
        "warning[filter]: t.yml:12: filter names `no-such-rule`, which is no loaded rule's id or name"
    );
}

/// Property-style check: a rule of a generated shape must match the event
/// built to satisfy it, and not the event built to miss it.
#[test]
fn generated_rules_match_their_events() {
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet: Vec<char> = "abcXYZ019 -_.:\\/".chars().collect();
    for _ in 0..300 {
        let len = 1 + (next() % 12) as usize;
        let needle: String = (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect();
        let needle = needle.trim().to_string();
        if needle.is_empty() || needle.contains(['\\', '*', '?']) {
            continue;
        }
        let (modifier, value) = match next() % 4 {
            0 => ("contains", format!("pre{}post", needle.to_uppercase())),
            1 => ("startswith", format!("{}post", needle.to_lowercase())),
            2 => ("endswith", format!("pre{needle}")),
            _ => ("cased", needle.clone()),
        };
        let rule = format!(
            "selection:\n  F|{modifier}: '{}'",
            needle.replace('\'', "''")
        );
        assert!(hit(&rule, &[("F", &value)]), "{rule} on {value}");
        assert!(!hit(&rule, &[("G", &value)]), "{rule} needs field F");
    }
}

#[test]
fn regex_prefilter_literals_are_necessary() {
    use compile::regex_literals;
    assert_eq!(
        regex_literals(r"Invoke-(Expression|WebRequest)"),
        Some(vec!["invoke-expression".into(), "invoke-webrequest".into()])
    );
    // Case variants fold into their lower-case common prefix.
    assert_eq!(
        regex_literals(r"(?i)invoke-(expression|webrequest)"),
        Some(vec!["invoke-".into()])
    );
    assert_eq!(regex_literals(r"\.exe$"), Some(vec![".exe".into()]));
    // A part of the sequence can be rarer than its ends, also under (?i).
    for re in [
        r#"\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe["']?\s+\d{2,10}"#,
        r#"(?i)\.exe["']?\s+[^"]{0,64}werfaultsecure\.exe["']?\s+\d{2,10}"#,
    ] {
        let lits = regex_literals(re).unwrap();
        assert!(
            lits.iter().all(|l| l.len() >= 7
                && (l.starts_with("werfaultsecure.exe")
                    || "werfaultsecure.exe".contains(l.as_str()))),
            "{lits:?}"
        );
    }
    // Nothing selective: no literal set.
    assert_eq!(regex_literals(r"^.{200,}$"), None);
    assert_eq!(regex_literals(r"a|bcd"), None);
    // A regex rule still fires on a value whose literal differs in case.
    assert!(!hit(
        "selection:\n  CommandLine|re: 'IEX\\s*\\('",
        &[("CommandLine", "powershell iex (x)")]
    ));
    assert!(hit(
        "selection:\n  CommandLine|re|i: 'IEX\\s*\\('",
        &[("CommandLine", "powershell iex (x)")]
    ));
}

/// Whether the prefilter lets the rule of `e` be evaluated on an event, and
/// whether it fires there.
fn evaluated_and_fired(e: &Engine, pairs: &[(&str, &str)]) -> (bool, bool) {
    let ev = Event::from_pairs(pairs);
    (
        !e.candidates(&ev, &e.bucket(&ev)).is_empty(),
        !e.match_event(&ev).is_empty(),
    )
}

/// An event's field pairs, and whether the rule is evaluated and fires.
type Case<'a> = (&'a [(&'a str, &'a str)], (bool, bool));

/// For each event: whether the prefilter lets the rule of `e` be evaluated,
/// and whether it fires.
fn assert_evaluated_and_fired(e: &Engine, cases: &[Case]) {
    for (pairs, want) in cases {
        assert_eq!(evaluated_and_fired(e, pairs), *want, "{pairs:?}");
    }
}

#[test]
fn the_prefilter_needs_a_literal_of_every_selection_anded() {
    let e = rule_engine(
        "sel_img:\n  Image|endswith: '\\cmd.exe'\nsel_cli:\n  CommandLine|contains:\n    - 'secretword'\n    - 'otherword'",
        "all of sel_*",
    );
    let cmd = ("Image", "C:\\Windows\\System32\\cmd.exe");
    assert_evaluated_and_fired(
        &e,
        &[
            (&[cmd, ("CommandLine", "dir")], (false, false)),
            (
                &[("Image", "x.exe"), ("CommandLine", "secretword")],
                (false, false),
            ),
            (&[cmd, ("CommandLine", "cmd /c OTHERWORD")], (true, true)),
            // A literal found is necessary, not sufficient: the rule decides.
            (
                &[
                    ("Image", "cmd.exe.bak"),
                    ("CommandLine", "secretword \\cmd.exe"),
                ],
                (false, false),
            ),
        ],
    );
}

#[test]
fn an_or_of_ands_needs_one_literal_from_each_side() {
    // (A and B) or C needs (A or C) and (B or C).
    let e = rule_engine(
        "selection_1:\n  Image|contains: '\\Windows\\'\n  CommandLine|contains: '\\..\\..\\'\nselection_2:\n  CommandLine|contains: '.exe\\..\\'\nfilter:\n  User: 'svc'",
        "1 of selection_* and not filter",
    );
    let win = ("Image", "C:\\Windows\\System32\\svchost.exe");
    assert_evaluated_and_fired(
        &e,
        &[
            (&[win, ("CommandLine", "svchost -k")], (false, false)),
            (&[win, ("CommandLine", "x \\..\\..\\y")], (true, true)),
            (
                &[("Image", "d:\\a.exe"), ("CommandLine", "a.exe\\..\\b")],
                (true, true),
            ),
            (
                &[win, ("CommandLine", "a.exe\\..\\b"), ("User", "SVC")],
                (true, false),
            ),
        ],
    );
}

#[test]
fn a_condition_anding_thousands_of_selections_keeps_its_strongest_groups() {
    let n = 5_000;
    let searches: String = (0..n)
        .map(|i| format!("sel{i}:\n  F{}|contains: 'w{i:05}'\n", i % 3))
        .collect();
    let e = rule_engine(&searches, "all of sel*");
    assert!(usize::from(e.variants[0].groups) <= compile::MOST_GROUPS);
    let all: Vec<(String, String)> = (0..3)
        .map(|f| {
            let words: Vec<String> = (0..n)
                .filter(|i| i % 3 == f)
                .map(|i| format!("w{i:05}"))
                .collect();
            (format!("F{f}"), words.join(" "))
        })
        .collect();
    let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(evaluated_and_fired(&e, &pairs), (true, true));
    // Eight groups are kept: an event may pass them and still not match.
    assert!(!evaluated_and_fired(&e, &pairs[..2]).1);
    assert_eq!(evaluated_and_fired(&e, &[("G", &all[0].1)]), (false, false));
}

#[test]
fn a_condition_oring_thousands_of_selections_is_one_group_of_their_literals() {
    let n = 5_000;
    // Each selection: its own word or one word they all share.
    let searches: String = (0..n)
        .map(|i| format!("sel{i}:\n  F|contains:\n    - 'w{i:05}'\n    - 'shared'\n"))
        .collect();
    let e = rule_engine(&searches, "1 of sel*");
    assert_eq!(e.variants[0].groups, 1);
    let (_, _, owners) = &e.unmapped.prefilter[0];
    assert_eq!(
        owners.iter().map(Vec::len).sum::<usize>(),
        n + 1,
        "each literal once"
    );
    assert_evaluated_and_fired(
        &e,
        &[
            (&[("F", "x W04999 y")], (true, true)),
            (&[("F", "x SHARED")], (true, true)),
            (&[("F", "w5")], (false, false)),
            (&[("G", "shared")], (false, false)),
        ],
    );
}

#[test]
fn two_marks_prefilter_and_two_letters_do_not() {
    let marks = rule_engine(
        "selection:\n  CommandLine|contains:\n    - '^^'\n    - ' s^et '",
        "selection",
    );
    assert_evaluated_and_fired(
        &marks,
        &[
            (&[("CommandLine", "cmd /c dir")], (false, false)),
            (&[("CommandLine", "c^^md /c")], (true, true)),
        ],
    );
    let letters = rule_engine(
        "selection:\n  CommandLine|contains:\n    - 'ab'\n    - '^^'",
        "selection",
    );
    assert_evaluated_and_fired(
        &letters,
        &[
            (&[("CommandLine", "cmd")], (true, false)),
            (&[("CommandLine", "CAB")], (true, true)),
        ],
    );
}

#[test]
fn single_non_ascii_letters_prefilter_and_still_match() {
    let e = engine(
        "title: homoglyph\nlogsource:\n  product: test\ndetection:\n  selection:\n    CommandLine|contains:\n      - 'а'\n      - 'е'\n  condition: selection\n",
    );
    let hits = |v: &str| {
        e.match_event(&Event::from_pairs(&[("CommandLine", v)]))
            .len()
    };
    assert_eq!(hits("powershell -nop"), 0);
    assert_eq!(hits("powеrshell -nop"), 1, "Cyrillic е");
    assert_eq!(hits("POWЕRSHELL"), 1, "upper-case Cyrillic Е folds to е");
    let v = &e.variants[0];
    // Kept for an unmapped rule: the buckets of logs that name their kind
    // are planned from it when first met.
    assert!(v.necessary.is_some() && v.groups == 1);
    assert!(
        e.generic.always.is_empty() && e.unmapped.always.is_empty(),
        "prefiltered, not run on every event"
    );
}

#[test]
fn a_keyword_rule_reads_every_event_whole() {
    let yaml = "title: k\nlogsource:\n  product: acme\ndetection:\n  keywords:\n    - 'evil.exe'\n  condition: keywords\n";
    let ds = Diagnostics::new();
    let (rules, _) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), yaml, &ds);
    let e = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    let json = serde_json::json!({"Image": "a", "process": {"args": ["evil.exe", "-x"]}});
    let read = crate::events::event_from_value(
        &json,
        crate::events::EventMeta::default(),
        Some(&e.wanted()),
    )
    .expect("an object");
    assert_eq!(read.get("Image").map(|v| v.len()), Some(1));
    assert_eq!(read.get("process.args").map(|v| v.len()), Some(2));
    assert_eq!(e.match_event(&read).len(), 1);
}

#[test]
fn long_contains_and_keyword_lists_match_as_their_values_one_by_one() {
    let words = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    ];
    let list = |indent: &str| {
        words
            .iter()
            .map(|w| format!("{indent}- '{w}'"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let contains = format!(
        "selection:\n  CommandLine|contains:\n{}\n  User: bob",
        list("    ")
    );
    for w in words {
        let line = format!("x {} y", w.to_uppercase());
        assert!(
            hit(&contains, &[("CommandLine", &line), ("User", "bob")]),
            "{w}"
        );
    }
    assert!(!hit(
        &contains,
        &[("CommandLine", "alph brav"), ("User", "bob")]
    ));
    assert!(!hit(
        &contains,
        &[("CommandLine", "golf"), ("User", "alice")]
    ));
    let keywords = format!("keywords:\n{}\n- 'kilo*lima'", list(""));
    assert!(hit_cond(
        &keywords,
        "keywords",
        &[("A", "1"), ("B", "my HOTEL")]
    ));
    assert!(hit_cond(&keywords, "keywords", &[("A", "kilo and lima")]));
    assert!(!hit_cond(&keywords, "keywords", &[("A", "lima kilo")]));
    // A keyword with a wildcard is searched anywhere in a value too.
    assert!(hit_cond(
        &keywords,
        "keywords",
        &[("A", "user ran kilo and lima twice")]
    ));
    assert!(hit_cond(
        &keywords,
        "not keywords",
        &[("A", "none of them")]
    ));
}

#[test]
fn long_startswith_and_endswith_lists_match_as_their_values_one_by_one() {
    let suffixes = [
        "\\a.dll",
        "\\bb.dll",
        "\\ccc.dll",
        "\\é.dll",
        ".sys",
        "x",
        "\\dd.dll",
        "\\e.exe",
        "\\ffff.dll",
    ];
    let prefixes = [
        "c:\\temp\\",
        "c:\\users\\",
        "d:",
        "\\\\",
        "c:\\perflogs\\",
        "é",
        "c:\\windows\\temp\\",
        "e:\\",
        "f:\\x",
    ];
    let list = |l: &[&str]| {
        l.iter()
            .map(|w| format!("    - '{w}'"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let yaml = |m: &str, l: &[&str]| format!("selection:\n  ImageLoaded|{m}:\n{}", list(l));
    let values = [
        "C:\\Windows\\System32\\A.DLL",
        "c:\\x\\bb.dll",
        "bb.dll",
        "C:\\É.DLL",
        "é.dll",
        "driver.SYS",
        "sys",
        "",
        "x",
        "C:\\x\\ffff.dl",
        "C:\\Temp\\a",
        "c:\\tem",
        "D:",
        "\\\\server\\share",
        "É",
        "Ém",
        "c:\\windows\\temp",
        "e:\\",
        "f:\\xyz",
    ];
    for (m, l) in [("endswith", &suffixes[..]), ("startswith", &prefixes[..])] {
        let e = rule_engine(&yaml(m, l), "selection");
        for v in values {
            let lower = v.to_lowercase();
            let want = l.iter().map(|w| w.replace("\\\\", "\\")).any(|w| match m {
                "endswith" => lower.ends_with(&w),
                _ => lower.starts_with(&w),
            });
            let got = !e
                .match_event(&Event::from_pairs(&[("ImageLoaded", v)]))
                .is_empty();
            assert_eq!(got, want, "{m} {v}");
        }
    }
}

#[test]
fn contains_all_prefilters_on_its_selective_value() {
    let e = engine(
        "title: wp\nlogsource:\n  product: test\ndetection:\n  selection:\n    CommandLine|contains|all:\n      - 'Write Protection'\n      - '0'\n  condition: selection\n",
    );
    assert!(
        e.generic.always.is_empty() && e.unmapped.always.is_empty(),
        "the short value has no literal, the long one is enough"
    );
    let hits = |v: &str| {
        e.match_event(&Event::from_pairs(&[("CommandLine", v)]))
            .len()
    };
    assert_eq!(hits("reg add x /v \"WRITE PROTECTION\" /d 0"), 1);
    assert_eq!(hits("reg add x /v \"Write Protection\" /d 1"), 0);
    assert_eq!(hits("reg add x /d 0"), 0);
}

#[test]
fn a_channel_rule_testing_event_id_is_filed_under_those_ids() {
    let yaml = "title: t\nlogsource:\n  product: windows\n  service: sysmon\ndetection:\n  selection:\n    EventID:\n      - 16\n      - 255\n  filter:\n    User: bob\n  condition: selection and not filter\n";
    let ds = Diagnostics::new();
    let (rules, _) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), yaml, &ds);
    let e = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    let ch = "microsoft-windows-sysmon/operational";
    assert!(e.by_channel.get(ch).is_none_or(|b| b.always.is_empty()));
    for id in ["16", "255"] {
        assert_eq!(e.by_channel_id[ch][id].always.len(), 1, "{id}");
    }
    let m = |id: u32, user: &str| {
        let j = serde_json::json!({"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": id},
            "EventData": {"User": user}}});
        e.match_event(&Event::from_json(&j, Default::default()))
            .len()
    };
    assert_eq!(
        (m(16, "alice"), m(255, "alice"), m(16, "bob"), m(1, "alice")),
        (1, 1, 0, 0)
    );
}

#[test]
fn required_values_follow_the_condition() {
    let req = |searches: &str, condition: &str| {
        rule_engine(searches, condition).variants[0]
            .compiled
            .required_values("EventID")
    };
    let s = "a:\n  EventID: 1\nb:\n  EventID: [2, 3]\n  User: bob\nc:\n  User: eve\nd:\n  - EventID: 4\n  - EventID: 5";
    let ids = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(req(s, "a"), ids(&["1"]));
    assert_eq!(req(s, "a or b"), ids(&["1", "2", "3"]));
    assert_eq!(req(s, "1 of a*"), ids(&["1"]));
    assert_eq!(req(s, "b and c"), ids(&["2", "3"]));
    assert_eq!(req(s, "d"), ids(&["4", "5"]));
    assert_eq!(req(s, "a or c"), None, "c takes any EventID");
    assert_eq!(req(s, "c and not a"), None);
    assert_eq!(req("a:\n  EventID|contains: 1", "a"), None);
    assert_eq!(req("a:\n  EventID|neq: 1", "a"), None);
}

#[test]
fn prefilter_automata_are_built_for_the_events_that_come() {
    let yaml = "title: a\nlogsource:\n  category: process_creation\n  product: windows\ndetection:\n  selection:\n    Image|endswith: '\\evil.exe'\n  condition: selection\n---\ntitle: b\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4624\n    TargetUserName|contains: 'admin'\n  condition: selection\n";
    let ds = Diagnostics::new();
    let (rules, _) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), yaml, &ds);
    let e = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    let built = |ch: &str, id: &str| {
        let b = &e.by_channel_id[ch][id];
        assert_eq!(b.prefilter.len(), 1);
        b.prefilter[0].1.ac.get().is_some()
    };
    let sysmon = "microsoft-windows-sysmon/operational";
    assert!(!built(sysmon, "1") && !built("security", "4624"));
    let j = serde_json::json!({"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1},
        "EventData": {"Image": "C:\\x\\EVIL.exe"}}});
    let hits = e.match_event(&Event::from_json(&j, Default::default()));
    assert_eq!(hits.len(), 1);
    assert!(built(sysmon, "1"), "built on first use");
    assert!(!built("security", "4624"), "no such event came");
}

#[test]
fn a_keyword_is_looked_for_once_in_the_whole_event_then_value_by_value() {
    let s = "keywords:\n  - '\\perfc.dat'";
    assert!(hit_cond(
        s,
        "keywords",
        &[
            ("Image", "x.exe"),
            ("CommandLine", "rundll32 C:\\Windows\\PERFC.DAT,#1")
        ]
    ));
    // In the event's text across a value and the next name, in no value:
    // no match.
    assert!(!hit_cond(
        s,
        "keywords",
        &[("A", "x\\perf"), ("c.dat", "1")]
    ));
    assert!(!hit_cond(s, "keywords", &[("A", "perfc.dat")]));
    // A keyword list (one automaton): the same, for each of its words.
    let s = "keywords:\n- 'lsadump::'\n- 'sekurlsa::'\n- 'kerberos::ptt'\n- 'misc::skeleton'\n- 'privilege::debug'\n- 'mimidrv.sys'\n- 'eo.oe.kiwi'\n- 'gentilkiwi.com'";
    for (pairs, fires) in [
        (
            &[("A", "x"), ("B", "mimikatz PRIVILEGE::Debug exit")][..],
            true,
        ),
        (&[("A", "1"), ("B", "kerberos::ptt")][..], true),
        (&[("A", "x lsadu"), ("B", "mp:: y")][..], false),
        (&[("A", "x sekurlsa"), ("::", "1")][..], false),
        (&[("sekurlsa::", "1")][..], false),
        (&[("Image", "C:\\mimidrv.sy")][..], false),
    ] {
        assert_eq!(hit_cond(s, "keywords", pairs), fires, "{pairs:?}");
    }
}

#[test]
fn a_regex_of_many_runs_is_read_for_literals_in_bounded_time() {
    // 20,000 runs of characters, each after a repetition.
    let re = "x*abc".repeat(20_000);
    let lits = compile::regex_literals(&re).expect("a literal set");
    assert!(lits.iter().all(|l| l.contains("abc")), "{lits:?}");
}

/// Events of several batches, some lines bad: every event reaches the
/// caller once, in the file's order, with its detections, and the bad lines
/// are counted as lost (for JSONL, a JSON array and XML alike).
#[test]
fn scanned_events_are_delivered_once_in_reading_order_across_batches() {
    delivered_in_reading_order(1_300, false);
}

/// The same, from files large enough to be read on a thread of their own,
/// ahead of the matching (but JSONL, whose lines are cut without parsing).
#[test]
fn events_read_ahead_of_the_matching_are_delivered_in_reading_order() {
    delivered_in_reading_order(70_000, true);
}

fn delivered_in_reading_order(n: usize, ahead: bool) {
    let e = rule_engine("selection:\n  Kind: odd", "selection");
    let dir = tempfile::tempdir().unwrap();
    let line = |i: usize| {
        let kind = if i % 2 == 1 { "odd" } else { "even" };
        format!(r#"{{"Kind": "{kind}"}}"#)
    };
    let lines: Vec<String> = (1..=n)
        .map(|i| {
            if i % 500 == 0 {
                "{bad".to_string()
            } else {
                line(i)
            }
        })
        .collect();
    let jsonl = dir.path().join("events.jsonl");
    std::fs::write(&jsonl, lines.join("\n")).unwrap();
    let array = dir.path().join("events.json");
    let good: Vec<String> = (1..=n).map(line).collect();
    std::fs::write(&array, format!("[{}]", good.join(","))).unwrap();
    // A pretty-printed array with a broken item and an item that is no
    // object: each costs itself alone.
    let pretty = dir.path().join("pretty.json");
    let items: Vec<String> = (1..=n)
        .map(|i| match i {
            600 => r#"  {"Kind": }"#.to_string(),
            900 => "  7".to_string(),
            _ => format!("  {}", line(i)),
        })
        .collect();
    std::fs::write(&pretty, format!("[\n{}\n]\n", items.join(",\n"))).unwrap();
    // Windows events as XML, one left broken.
    let xml = dir.path().join("events.xml");
    let events: String = (1..=n)
        .map(|i| match i {
            700 => "<Event><EventData><Data Name='Kind'>odd</Event>\n".to_string(),
            _ => {
                let kind = if i % 2 == 1 { "odd" } else { "even" };
                format!("<Event><EventData><Data Name='Kind'>{kind}</Data></EventData></Event>\n")
            }
        })
        .collect();
    std::fs::write(&xml, format!("<Events>\n{events}</Events>\n")).unwrap();
    let lost_lines = (n / 500) as u64;
    let cases: [(&std::path::Path, Vec<usize>, u64); 4] = [
        (
            &jsonl,
            (1..=n).filter(|i| i % 500 != 0).collect(),
            lost_lines,
        ),
        (&array, (1..=n).collect(), 0),
        (
            &pretty,
            (1..=n).filter(|i| ![600, 900].contains(i)).collect(),
            2,
        ),
        (&xml, (1..=n).filter(|i| *i != 700).collect(), 1),
    ];
    for (path, expected, lost) in cases {
        assert_eq!(crate::events::is_large(path), ahead, "{}", path.display());
        let seen = std::sync::Mutex::new(Vec::new());
        let stats = scan(
            &e,
            &[path.to_path_buf()],
            &Diagnostics::new(),
            |ev, hits| {
                let seq = ev.meta.record as usize;
                assert_eq!(hits.len(), seq % 2, "event {seq}");
                seen.lock().unwrap().push(seq);
            },
        );
        assert_eq!(seen.into_inner().unwrap(), expected, "{}", path.display());
        assert_eq!(stats.events, expected.len() as u64);
        assert_eq!(
            stats.detections,
            expected.iter().filter(|i| *i % 2 == 1).count() as u64
        );
        assert_eq!(stats.lost, lost, "{}", path.display());
        // Only the events that fired, in order; the same counts, and the
        // progress of every event read.
        let (fired, read) = (std::sync::Mutex::new(Vec::new()), AtomicU64::new(0));
        let only = scan_fired(
            &e,
            &[path.to_path_buf()],
            &Diagnostics::new(),
            |n| {
                read.fetch_add(n, Ordering::Relaxed);
            },
            |ev, hits| {
                assert_eq!(hits.len(), 1);
                fired.lock().unwrap().push(ev.meta.record as usize);
                std::ops::ControlFlow::Continue(())
            },
        );
        let odd: Vec<usize> = expected.iter().copied().filter(|i| i % 2 == 1).collect();
        assert_eq!(fired.into_inner().unwrap(), odd, "{}", path.display());
        assert_eq!(read.into_inner(), stats.events);
        let counts = |s: &ScanStats| (s.events, s.detections, s.lost, s.unserved);
        assert_eq!(counts(&only), counts(&stats));
    }
}

/// Once whoever takes the detections wants no more (`| head` closed the
/// output), nothing more is matched or handed out, in this file or others.
#[test]
fn a_scan_stops_matching_once_its_detections_are_not_wanted() {
    let e = rule_engine("selection:\n  Kind: odd", "selection");
    let dir = tempfile::tempdir().unwrap();
    // Many blocks of lines (a JSONL batch is a block of 256 KiB).
    let n = 200_000;
    let lines: String = (0..n).map(|_| "{\"Kind\": \"odd\"}\n").collect();
    let files: Vec<_> = ["a.jsonl", "b.jsonl"]
        .map(|name| {
            let path = dir.path().join(name);
            std::fs::write(&path, &lines).unwrap();
            path
        })
        .into();
    for wanted in [1, 700] {
        let taken = AtomicU64::new(0);
        let stats = scan_fired(
            &e,
            &files,
            &Diagnostics::new(),
            |_| {},
            |_, _| match taken.fetch_add(1, Ordering::Relaxed) + 1 >= wanted {
                true => std::ops::ControlFlow::Break(()),
                false => std::ops::ControlFlow::Continue(()),
            },
        );
        // Files are scanned in parallel: the other may have handed out a
        // batch of its own before it saw the stop.
        let taken = taken.into_inner();
        assert!(
            (wanted..wanted + 2 * 512).contains(&taken),
            "{wanted}: {taken}"
        );
        assert!(stats.events < n, "{wanted}: {}", stats.events);
        assert_eq!(stats.detections, taken);
    }
    // Without a stop, every event of both.
    let stats = scan_fired(
        &e,
        &files,
        &Diagnostics::new(),
        |_| {},
        |_, _| std::ops::ControlFlow::Continue(()),
    );
    assert_eq!((stats.events, stats.detections), (2 * n, 2 * n));
}

#[test]
fn a_comparison_reads_numbers_in_digits_not_words() {
    let events = [
        r#"{"N": "2000000"}"#,
        r#"{"N": "+inf"}"#,
        r#"{"N": "1e400"}"#,
        r#"{"N": "NaN"}"#,
        r#"{"N": 1e300}"#,
    ];
    assert_eq!(
        fired_on("selection:\n  N|gt: 1000000", &events),
        [true, false, true, false, true]
    );
}

#[test]
fn an_event_whose_log_says_what_it_is_is_read_by_rules_for_that_only() {
    let rule = |n: usize, logsource: &str| {
        format!(
            "title: r{n}\nlogsource: {{{logsource}}}\ndetection:\n  sel:\n    id.orig_h: 10.0.0.1\n  condition: not sel\n"
        )
    };
    let yaml = [
        rule(0, "product: zeek, service: rdp"),
        rule(1, "product: zeek, service: dns"),
        rule(2, "product: zeek"),
        rule(3, "category: webserver"),
        rule(4, "category: proxy"),
        rule(5, "product: linux"),
        rule(6, "category: dns"),
        rule(7, "product: linux, service: auditd"),
        rule(8, "product: linux, service: sshd"),
        rule(9, "product: linux, service: auth"),
        rule(10, "product: cisco, service: aaa"),
        rule(11, "product: fortigate, service: event"),
        rule(12, "product: fortios"),
        rule(13, "product: fortigate, service: traffic"),
        rule(14, "product: aws, service: cloudtrail"),
        rule(15, "product: azure, service: activitylogs"),
    ]
    .join("---\n");
    let e = engine(&yaml);
    let fired = |source: Option<events::Source>| {
        let mut ev = Event::from_pairs(&[("query", "example.org")]);
        ev.meta.source = source;
        let mut rules: Vec<usize> = e.match_event(&ev).iter().map(|h| h.rule).collect();
        rules.sort_unstable();
        (rules, e.serves(&ev))
    };
    let dns = events::Source::Zeek("dns".into());
    // Zeek's `dns.log` is also Sigma's `category: dns`.
    assert_eq!(fired(Some(dns.clone())), (vec![1, 2, 6], true));
    assert_eq!(fired(Some(events::Source::W3c)), (vec![3, 4], true));
    assert_eq!(fired(Some(events::Source::WebServer)), (vec![3], true));
    assert_eq!(
        fired(Some(events::Source::Zeek("ssh".into()))),
        (vec![2], true)
    );
    assert_eq!(fired(Some(events::Source::Auditd)), (vec![5, 7], true));
    let syslog = |program: &str| Some(events::Source::Syslog(program.into()));
    assert_eq!(fired(syslog("sshd")), (vec![5, 8, 9], true));
    assert_eq!(fired(syslog("CRON")), (vec![5, 9], true));
    assert_eq!(fired(Some(events::Source::Cisco)), (vec![10], true));
    let fortinet = |kind: &str| Some(events::Source::Fortinet(kind.into()));
    assert_eq!(fired(fortinet("event")), (vec![11, 12], true));
    assert_eq!(fired(fortinet("utm")), (vec![12], true));
    assert_eq!(fired(Some(events::Source::CloudTrail)), (vec![14], true));
    assert_eq!(fired(Some(events::Source::Azure)), (vec![15], true));
    // A file that does not say what its events are meets them all.
    assert_eq!(fired(None), ((0..16).collect(), true));
    // Which rules had events of their kind.
    let mut seen = SeenKinds::default();
    let mut ev = Event::from_pairs(&[("query", "example.org")]);
    ev.meta.source = Some(dns);
    seen.add(&ev);
    assert_eq!(
        e.rules_with_events(&seen),
        (0..16).map(|r| [1, 2, 6].contains(&r)).collect::<Vec<_>>(),
        "only the rules for DNS had events of their kind"
    );
    let zeek_only = engine(&rule(0, "product: zeek, service: rdp"));
    ev.meta.source = Some(events::Source::W3c);
    assert!(!zeek_only.serves(&ev));
}

#[test]
fn sysmon_for_linux_events_meet_the_linux_rules_of_their_event_id_and_others_run_too() {
    let rule = |n: usize, logsource: &str| {
        format!(
            "title: r{n}\nlogsource: {{{logsource}}}\ndetection:\n  sel:\n    Image|endswith: /curl\n  condition: sel\n"
        )
    };
    let yaml = [
        rule(0, "product: linux, category: process_creation"),
        rule(1, "product: linux, category: network_connection"),
        rule(2, "product: linux"),
        rule(3, "product: linux, service: auditd"),
        rule(4, "product: windows, category: process_creation"),
        rule(5, "category: antivirus"),
        rule(6, "product: windows"),
    ]
    .join("---\n");
    let ds = Diagnostics::new();
    let (rules, _) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), &yaml, &ds);
    let e = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    assert!(
        e.skipped.is_empty(),
        "Linux's unlisted logsources still run: {:?}",
        e.skipped
    );
    let fired = |pairs: &[(&str, &str)]| {
        let mut ev = Event::from_pairs(pairs);
        ev.fill_meta();
        let mut rules: Vec<usize> = e.match_event(&ev).iter().map(|h| h.rule).collect();
        rules.sort_unstable();
        rules
    };
    let sysmon = |id: &'static str| {
        [
            ("Channel", "Linux-Sysmon/Operational"),
            ("EventID", id),
            ("Image", "/usr/bin/curl"),
        ]
    };
    assert_eq!(fired(&sysmon("1")), [0], "process creation, EventID 1");
    assert_eq!(fired(&sysmon("3")), [1], "network connection, EventID 3");
    assert_eq!(fired(&sysmon("5")), Vec::<usize>::new());
    // A rule of every Windows event-log record reads Windows channels,
    // named by the mapping or not, and no Sysmon for Linux event.
    let windows = |ch: &'static str| [("Channel", ch), ("Image", "/usr/bin/curl")];
    assert_eq!(fired(&windows("Security")), [6]);
    assert_eq!(fired(&windows("Microsoft-Windows-Foo/Operational")), [6]);
    let mut seen = SeenKinds::default();
    let mut linux = Event::from_pairs(&sysmon("1"));
    linux.fill_meta();
    seen.add(&linux);
    assert!(!e.rules_with_events(&seen)[6], "no Windows event was read");
    // An event that names no channel meets the Linux rules as before, and
    // not the rules of a logsource that is the mapping's alone.
    assert_eq!(fired(&[("Image", "/usr/bin/curl")]), [0, 1, 2, 3]);
}

#[test]
fn a_log_that_says_what_it_is_meets_its_rules_prefiltered_whatever_its_fields() {
    let rule = |n: usize, logsource: &str| {
        format!(
            "title: r{n}\nlogsource: {{{logsource}}}\ndetection:\n  sel:\n    cs-uri-query|contains: union select\n  condition: sel\n"
        )
    };
    let yaml = [
        rule(0, "category: webserver"),
        rule(1, "product: windows, service: security"),
        rule(2, "product: linux"),
        rule(3, "category: proxy"),
    ]
    .join("---\n");
    let e = engine(&yaml);
    let fired = |source: events::Source, pairs: &[(&str, &str)]| {
        let mut ev = Event::from_pairs(pairs);
        ev.meta.source = Some(source);
        let field = |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        (ev.meta.channel, ev.meta.event_id) = (field("Channel"), field("EventID"));
        let rules: Vec<usize> = e.match_event(&ev).iter().map(|h| h.rule).collect();
        rules
    };
    let query = ("cs-uri-query", "id=1 UNION SELECT pass");
    assert_eq!(fired(events::Source::WebServer, &[query]), [0]);
    assert_eq!(fired(events::Source::W3c, &[query]), [0, 3]);
    assert_eq!(
        fired(events::Source::WebServer, &[("cs-uri-query", "id=1")]),
        Vec::<usize>::new()
    );
    assert_eq!(fired(events::Source::Auditd, &[query]), [2]);
    // A `Channel` column does not make a web server's request a Windows
    // event-log record.
    let channel = [("Channel", "Security"), ("EventID", "4624"), query];
    assert_eq!(fired(events::Source::WebServer, &channel), [0]);
}

#[test]
fn keywords_are_prefiltered_over_the_whole_event_and_still_match() {
    let e = rule_engine(
        "keywords:\n  - 'sekurlsa::'\n  - 'Kiwi Legit Printer'\nfilter:\n  EventID: 15",
        "keywords and not filter",
    );
    let cli = |v| [("EventID", "1"), ("CommandLine", v)];
    assert_evaluated_and_fired(
        &e,
        &[
            (&cli("powershell -nop"), (false, false)),
            (&cli("mimikatz SEKURLSA::logonpasswords"), (true, true)),
            (&[("Printer", "kiwi legit printer")], (true, true)),
            // In a field's name: the rule decides.
            (&[("sekurlsa::", "x")], (true, false)),
            (&[("A", "Kiwi Legit"), ("B", "Printer")], (false, false)),
            (
                &[("EventID", "15"), ("Stream", "sekurlsa::")],
                (true, false),
            ),
        ],
    );
    assert!(
        e.unmapped.always.is_empty(),
        "prefiltered, not run on every event"
    );
    // A short keyword lets every event by, as a short field literal does.
    let short = rule_engine("keywords:\n  - 'ab'\n  - 'sekurlsa::'", "keywords");
    assert_eq!(short.unmapped.always.len(), 1);
    assert_evaluated_and_fired(&short, &[(&[("X", "cab")], (true, true))]);
}

#[test]
fn keyword_literals_inside_one_another_are_all_found() {
    // One automaton over both rules' keywords: an overlapping scan finds
    // `cde` inside `abcdef`, which a leftmost search would pass over.
    let yaml = "title: a\nlogsource:\n  product: test\ndetection:\n  keywords:\n    - 'abcdef'\n  condition: keywords\n---\ntitle: b\nlogsource:\n  product: test\ndetection:\n  keywords:\n    - 'cde'\n  condition: keywords\n";
    let e = engine(yaml);
    let fired = |v: &str| {
        let mut rules: Vec<usize> = e
            .match_event(&Event::from_pairs(&[("CommandLine", v)]))
            .iter()
            .map(|h| h.rule)
            .collect();
        rules.sort_unstable();
        rules
    };
    assert_eq!(fired("xx ABCDEF yy"), [0, 1]);
    assert_eq!(fired("xx cde yy"), [1]);
    assert_eq!(fired("xx abcd yy"), Vec::<usize>::new());
    assert!(e.unmapped.always.is_empty());
}

#[test]
fn a_long_keyword_list_is_searched_whole() {
    // More words than one vector search takes: each is still found.
    let words: Vec<String> = (0..130).map(|i| format!("  - 'word{i:03}'")).collect();
    let e = rule_engine(&format!("keywords:\n{}", words.join("\n")), "keywords");
    let mut cases: Vec<(String, (bool, bool))> = [0, 47, 48, 95, 96, 129]
        .iter()
        .map(|i| (format!("x WORD{i:03} y"), (true, true)))
        .collect();
    cases.push(("word13".into(), (false, false)));
    for (v, want) in &cases {
        assert_eq!(evaluated_and_fired(&e, &[("Text", v)]), *want, "{v}");
    }
}

#[test]
fn the_prefilter_never_changes_what_fires() {
    let rule = |n: usize, logsource: &str, detection: &str| {
        format!("title: r{n}\nlogsource: {{{logsource}}}\ndetection:\n{detection}\n")
    };
    let yaml = [
        rule(0, "product: windows", "  keywords:\n    - 'sekurlsa::'\n    - 'Kiwi Legit'\n  condition: keywords"),
        rule(1, "product: linux", "  keywords:\n    - '|re': 'wget\\s+http'\n    - 'base64 -d'\n  condition: keywords"),
        rule(2, "category: webserver", "  sel:\n    cs-uri-query|contains: 'union select'\n  kw:\n    - 'sqlmap'\n  condition: sel or kw"),
        rule(3, "product: linux", "  keywords:\n    '|cased':\n      - 'EVIL'\n  condition: keywords"),
        rule(4, "product: windows, category: process_creation", "  sel:\n    Image|endswith: '\\powershell.exe'\n    CommandLine|contains|all: ['-enc', 'bypass']\n  condition: sel"),
        rule(5, "product: linux", "  kw:\n    - 'Σίσυφος'\n  condition: kw"),
        rule(6, "product: zeek, service: dns", "  sel:\n    query|endswith: '.onion'\n  condition: sel"),
        rule(7, "product: windows", "  kw:\n    - 'mimikatz'\n  filter:\n    EventID: 15\n  condition: kw and not filter"),
    ]
    .join("---\n");
    let ds = Diagnostics::new();
    let (rules, rejected) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), &yaml, &ds);
    assert_eq!(rejected, 0, "{:?}", ds.sorted());
    let e = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    let sysmon = ("Channel", "Microsoft-Windows-Sysmon/Operational");
    /// An event's log, if it says, and its fields.
    type Sourced<'a> = (Option<events::Source>, Vec<(&'a str, &'a str)>);
    let events: Vec<Sourced> = vec![
        (
            None,
            vec![
                sysmon,
                ("EventID", "1"),
                ("Image", "C:\\x\\PowerShell.exe"),
                ("CommandLine", "-ENC abc -bypass"),
            ],
        ),
        (
            None,
            vec![
                sysmon,
                ("EventID", "1"),
                ("CommandLine", "mimikatz SEKURLSA::pth"),
            ],
        ),
        (
            None,
            vec![sysmon, ("EventID", "15"), ("Contents", "mimikatz")],
        ),
        (
            Some(events::Source::Syslog("bash".into())),
            vec![("MESSAGE", "WGET  http://x | base64 -d"), ("X", "EVIL")],
        ),
        (
            Some(events::Source::Syslog("bash".into())),
            vec![("MESSAGE", "evil ΣΊΣΥΦΟΣ")],
        ),
        (
            Some(events::Source::Auditd),
            vec![("proctitle", "echo Evil")],
        ),
        (
            Some(events::Source::W3c),
            vec![
                ("cs-uri-query", "id=1 UNION SELECT"),
                ("cs-user-agent", "SQLMap/1.0"),
            ],
        ),
        (
            Some(events::Source::WebServer),
            vec![("cs-uri-query", "id=1")],
        ),
        (
            Some(events::Source::Zeek("dns".into())),
            vec![("query", "abc.ONION")],
        ),
        (None, vec![("query", "abc.onion"), ("x", "sqlmap")]),
    ];
    let mut fired = Vec::new();
    for (source, pairs) in &events {
        let mut ev = Event::from_pairs(pairs);
        ev.meta.source = source.clone();
        let channel = pairs.iter().find(|(k, _)| *k == "Channel");
        ev.meta.channel = channel.map(|(_, v)| v.to_string());
        ev.meta.event_id = pairs
            .iter()
            .find(|(k, _)| *k == "EventID")
            .map(|(_, v)| v.to_string());
        let rules = |hits: Vec<Hit>| hits.iter().map(|h| h.rule).collect::<Vec<_>>();
        let (got, all) = (
            rules(e.match_event(&ev)),
            rules(e.match_event_unfiltered(&ev)),
        );
        assert_eq!(got, all, "{pairs:?}");
        fired.push(got);
    }
    let want: [&[usize]; 10] = [
        &[4],
        &[0, 7],
        &[],
        &[1, 3],
        &[5],
        &[],
        &[2],
        &[],
        &[6],
        &[2, 6],
    ];
    assert_eq!(fired, want);
}

#[test]
fn a_condition_finds_each_of_tens_of_thousands_of_searches_by_name() {
    let n = 20_000;
    let searches: String = (0..n).map(|i| format!("s{i}:\n  F: v{i}\n")).collect();
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let e = rule_engine(&searches, &names.join(" or "));
    for (v, fires) in [
        ("v0", true),
        ("v19999", true),
        ("v7777", true),
        ("v20000", false),
    ] {
        let fired = !e.match_event(&Event::from_pairs(&[("F", v)])).is_empty();
        assert_eq!(fired, fires, "{v}");
    }
}

/// A rule of `searches` and `condition` that does not read: its errors.
fn rule_errors(searches: &str, condition: &str) -> Vec<String> {
    let ds = Diagnostics::new();
    let yaml = format!(
        "title: t\nlogsource:\n  product: test\ndetection:\n{}  condition: {condition}\n",
        searches
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>(),
    );
    let (rules, rejected) = crate::sigma::parse_rules(std::path::Path::new("t.yml"), &yaml, &ds);
    assert_eq!((rules.len(), rejected), (0, 1));
    ds.sorted().iter().map(|d| d.to_string()).collect()
}

#[test]
fn a_condition_naming_no_search_among_many_is_told_briefly() {
    let searches: String = (0..20_000).map(|i| format!("s{i}:\n  F: v{i}\n")).collect();
    let names: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
    let errors = rule_errors(&searches, &format!("{} or x1 or x2", names.join(" or ")));
    assert_eq!(
        errors,
        [
            "error[sigma]: t.yml:40005:14: condition `s0 or s1 or s2 or s3 or s4 or s5 or s6 or s7 or s8 or s9 or …`: search identifier `x1` matches no search in the detection",
            "error[sigma]: t.yml:40005:14: condition `s0 or s1 or s2 or s3 or s4 or s5 or s6 or s7 or s8 or s9 or …`: search identifier `x2` matches no search in the detection",
        ]
    );
}

#[test]
fn a_condition_of_more_targets_than_its_searches_can_bear_is_refused_with_why() {
    let searches: String = (0..3000).map(|i| format!("s{i}:\n  F: v{i}\n")).collect();
    let condition = |targets: usize| vec!["1 of them"; targets].join(" or ");
    // 1,000 targets × 3,000 names: under the limit.
    let e = rule_engine(&searches, &condition(1000));
    assert!(
        !e.match_event(&Event::from_pairs(&[("F", "v2999")]))
            .is_empty()
    );
    assert_eq!(
        rule_errors(&searches, &condition(1500)),
        [
            "error[sigma]: t.yml:6005:14: condition `1 of them or 1 of them or 1 of them or 1 of them or 1 of the…`: too many `x of` targets for its 3000 searches (each is compared with every search's name, more than 4194304 comparisons in all)"
        ]
    );
}
