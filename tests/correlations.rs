//! The Sigma specification's own correlation examples
//! (`tests/schema/correlation/*.yml`), run over event streams written here.
//! The examples are read from `$ATTACK_VAULT_REFERENCE` (default
//! `../shared/reference`); the test skips with a message when absent.

use serde_json::json;
use sigma_engine::diag::Diagnostics;
use sigma_engine::events::{Event, EventMeta};
use sigma_engine::matcher::correlation::Correlator;
use sigma_engine::matcher::mapping::Mapping;
use sigma_engine::matcher::{Engine, EngineOptions};
use std::path::{Path, PathBuf};

/// Base rules the examples reference, by id or name.
const BASE: &str = r#"
title: Failed logon
id: 5638f7c0-ac70-491d-8465-2a65075e0d86
logsource: {product: test}
detection:
    selection: {EventID: 4625}
    condition: selection
---
title: Recon A
name: recon_cmd_a
logsource: {product: test}
detection:
    selection: {CommandLine|contains: whoami}
    condition: selection
---
title: Recon B
name: recon_cmd_b
logsource: {product: test}
detection:
    selection: {CommandLine|contains: ipconfig}
    condition: selection
---
title: Recon C
name: recon_cmd_c
logsource: {product: test}
detection:
    selection: {CommandLine|contains: 'net user'}
    condition: selection
---
title: Network traffic
name: rule_a_id
logsource: {product: test}
detection:
    selection: {BytesOut|exists: true}
    condition: selection
---
title: Process creation
name: process_creation
logsource: {product: test}
detection:
    selection: {Image|exists: true}
    condition: selection
---
title: Website access
name: website_access
logsource: {product: test}
detection:
    selection: {bytes_sent|exists: true}
    condition: selection
"#;

fn reference_dir() -> Option<PathBuf> {
    let p = std::env::var_os("ATTACK_VAULT_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference"));
    let dir = p.join("sigma-specification/tests/schema/correlation");
    if dir.is_dir() {
        Some(dir)
    } else {
        panic!(
            "no Sigma specification examples at {} (set ATTACK_VAULT_REFERENCE)",
            dir.display()
        )
    }
}

fn ts(seconds: u64) -> String {
    format!(
        "2024-05-01T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        (seconds / 60) % 60,
        seconds % 60
    )
}

/// Run one example over events; returns the number of correlation hits.
fn run(example: &str, events: &[serde_json::Value]) -> usize {
    let Some(dir) = reference_dir() else {
        return usize::MAX;
    };
    let text = std::fs::read_to_string(dir.join(example)).unwrap();
    let ds = Diagnostics::new();
    let mut rules = sigma_engine::sigma::parse_rules(Path::new("base.yml"), BASE, &ds).0;
    let (corr, rejected) = sigma_engine::sigma::parse_rules(&dir.join(example), &text, &ds);
    assert_eq!(rejected, 0, "{example}: {:?}", ds.sorted());
    rules.extend(corr);
    let engine = Engine::new(rules, &Mapping::default(), &EngineOptions::default());
    let c = Correlator::new(&engine);
    assert!(c.is_active());
    for (i, j) in events.iter().enumerate() {
        let e = Event::from_json(
            j,
            EventMeta {
                record: i as u64,
                ..Default::default()
            },
        );
        c.record(&e, &engine.match_event(&e));
    }
    c.finish(&ds).len()
}

macro_rules! skip_if_absent {
    ($n:expr) => {
        if $n == usize::MAX {
            return;
        }
    };
}

#[test]
#[ignore = "needs the Sigma specification examples (ATTACK_VAULT_REFERENCE, default ../shared/reference); .ci/run runs it"]
fn event_count() {
    let many: Vec<_> = (0..100)
        .map(|i| json!({"@timestamp": ts(i * 30), "EventID": 4625, "ComputerName": "pc1"}))
        .collect();
    let n = run("event_count.yml", &many);
    skip_if_absent!(n);
    assert_eq!(n, 1, "100 failures within an hour on one host");
    let spread: Vec<_> = (0..100)
        .map(|i| json!({"@timestamp": ts(i * 60), "EventID": 4625, "ComputerName": "pc1"}))
        .collect();
    assert_eq!(run("event_count.yml", &spread), 0, "spread over 99 minutes");
    let hosts: Vec<_> = (0..100).map(|i| json!({"@timestamp": ts(i), "EventID": 4625, "ComputerName": format!("pc{}", i % 2)})).collect();
    assert_eq!(run("event_count.yml", &hosts), 0, "split across two hosts");
}

#[test]
#[ignore = "needs the Sigma specification examples (ATTACK_VAULT_REFERENCE, default ../shared/reference); .ci/run runs it"]
fn event_count_with_dotted_group_field() {
    let many: Vec<_> = (0..120).map(|i| json!({"@timestamp": ts(i * 10), "EventID": 4625, "dns": {"question": {"name": "x.example"}}})).collect();
    let n = run("event_count_ecs.yml", &many);
    skip_if_absent!(n);
    assert_eq!(n, 1);
}

#[test]
#[ignore = "needs the Sigma specification examples (ATTACK_VAULT_REFERENCE, default ../shared/reference); .ci/run runs it"]
fn value_count() {
    let users: Vec<_> = (0..100)
        .map(|i| json!({"@timestamp": ts(i * 60), "EventID": 4625, "ComputerName": "dc1", "WorkstationName": "ws1", "User": format!("u{i}")}))
        .collect();
    let n = run("value_count.yml", &users);
    skip_if_absent!(n);
    assert_eq!(n, 1, "100 distinct users in a day");
    let same: Vec<_> = (0..150)
        .map(|i| json!({"@timestamp": ts(i * 60), "EventID": 4625, "ComputerName": "dc1", "WorkstationName": "ws1", "User": format!("u{}", i % 99)}))
        .collect();
    assert_eq!(run("value_count.yml", &same), 0, "only 99 distinct users");
}

fn recon(order: &[&str], gap: u64) -> Vec<serde_json::Value> {
    order
        .iter()
        .enumerate()
        .map(|(i, c)| json!({"@timestamp": ts(100 + i as u64 * gap), "CommandLine": c, "ComputerName": "pc1", "User": "bob"}))
        .collect()
}

#[test]
#[ignore = "needs the Sigma specification examples (ATTACK_VAULT_REFERENCE, default ../shared/reference); .ci/run runs it"]
fn temporal() {
    let n = run(
        "temporal.yml",
        &recon(&["net user", "whoami", "ipconfig"], 30),
    );
    skip_if_absent!(n);
    assert_eq!(n, 1, "all three, any order, within 5 minutes");
    assert_eq!(
        run("temporal.yml", &recon(&["whoami", "ipconfig"], 30)),
        0,
        "one missing"
    );
    assert_eq!(
        run(
            "temporal.yml",
            &recon(&["whoami", "ipconfig", "net user"], 200)
        ),
        0,
        "too slow"
    );
}

#[test]
#[ignore = "needs the Sigma specification examples (ATTACK_VAULT_REFERENCE, default ../shared/reference); .ci/run runs it"]
fn temporal_ordered() {
    let n = run(
        "temporal_ordered.yml",
        &recon(&["whoami", "ipconfig", "net user"], 30),
    );
    skip_if_absent!(n);
    assert_eq!(n, 1);
    assert_eq!(
        run(
            "temporal_ordered.yml",
            &recon(&["net user", "ipconfig", "whoami"], 30)
        ),
        0,
        "wrong order"
    );
}

#[test]
#[ignore = "needs the Sigma specification examples (ATTACK_VAULT_REFERENCE, default ../shared/reference); .ci/run runs it"]
fn value_sum_avg_percentile() {
    let sent: Vec<_> = (0..20).map(|i| json!({"@timestamp": ts(i * 60), "bytes_sent": 60000, "SourceIP": "10.0.0.5", "User": "bob"})).collect();
    let n = run("value_sum.yml", &sent);
    skip_if_absent!(n);
    assert_eq!(n, 1, "1.2 MB within an hour");
    assert_eq!(run("value_sum.yml", &sent[..10]), 0, "600 kB");
    let big: Vec<_> = (0..4).map(|i| json!({"@timestamp": ts(i * 60), "BytesOut": 800, "SourceIP": "10.0.0.5", "User": "bob"})).collect();
    assert_eq!(run("value_avg.yml", &big), 1);
    let small: Vec<_> = (0..4).map(|i| json!({"@timestamp": ts(i * 60), "BytesOut": 100, "SourceIP": "10.0.0.5", "User": "bob"})).collect();
    assert_eq!(run("value_avg.yml", &small), 0);
    let mut procs: Vec<_> = (0..199).map(|i| json!({"@timestamp": ts(i * 10), "Image": "C:\\\\Windows\\\\svchost.exe", "ComputerName": "pc1"})).collect();
    procs.push(
        json!({"@timestamp": ts(2000), "Image": "C:\\\\Temp\\\\rare.exe", "ComputerName": "pc1"}),
    );
    assert_eq!(
        run("value_percentile.yml", &procs),
        1,
        "a process seen in 0.5% of creations"
    );
    assert_eq!(run("value_percentile.yml", &procs[..50]), 0);
}

const LOGINS: &str = r#"
title: Console login
name: console_login
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: ConsoleLogin}
    condition: selection
---
title: Many console logins
correlation:
    type: event_count
    rules: [console_login]
    group-by: [user]
    timespan: 1m
    condition: {gte: 3}
"#;

/// Correlation hits and warnings over events, each `(time field, value)`
/// (and `user: a`).
fn logins(times: &[(&str, serde_json::Value)]) -> (usize, Vec<String>) {
    logins_of(times, Some("a"))
}

fn logins_of(times: &[(&str, serde_json::Value)], user: Option<&str>) -> (usize, Vec<String>) {
    let ds = Diagnostics::new();
    let (rules, rejected) = sigma_engine::sigma::parse_rules(Path::new("r.yml"), LOGINS, &ds);
    assert_eq!(rejected, 0, "{:?}", ds.sorted());
    let engine = Engine::new(rules, &Mapping::default(), &EngineOptions::default());
    let c = Correlator::new(&engine);
    for (i, (field, time)) in times.iter().enumerate() {
        let mut j = json!({"eventName": "ConsoleLogin"});
        if let Some(u) = user {
            j["user"] = json!(u);
        }
        j[*field] = time.clone();
        let meta = EventMeta {
            record: i as u64 + 1,
            file: "ct.jsonl".into(),
            ..Default::default()
        };
        let e = Event::from_json(&j, meta);
        c.record(&e, &engine.match_event(&e));
    }
    let hits = c.finish(&ds).len();
    (hits, ds.sorted().iter().map(ToString::to_string).collect())
}

#[test]
fn detections_without_a_readable_time_or_group_stay_out_of_correlations() {
    let iso = |t: &str| ("eventTime", json!(t));
    let hours_apart = [
        iso("2024-05-01T00:00:00Z"),
        iso("2024-05-01T05:00:00Z"),
        iso("2024-05-01T10:00:00Z"),
    ];
    assert_eq!(logins(&hours_apart), (0, vec![]));
    let seconds_apart = [
        iso("2024-05-01T00:00:00Z"),
        iso("2024-05-01T00:00:20Z"),
        iso("2024-05-01T00:00:40Z"),
    ];
    assert_eq!(logins(&seconds_apart), (1, vec![]));
    // Without the group-by field, in no group (not all in the group "").
    assert_eq!(logins_of(&seconds_apart, None), (0, vec![]));
    assert_eq!(logins_of(&seconds_apart, Some("")), (1, vec![]));
    // Zeek's `ts`: seconds since the epoch.
    let epoch = [
        ("ts", json!(1714521600.5)),
        ("ts", json!(1714521620)),
        ("ts", json!(1714521640)),
    ];
    assert_eq!(logins(&epoch), (1, vec![]));
    let epoch_hours = [
        ("ts", json!(1714521600)),
        ("ts", json!(1714539600)),
        ("ts", json!(1714557600)),
    ];
    assert_eq!(logins(&epoch_hours), (0, vec![]));
    // Without a time every event would fall in one window: left out, said.
    let untimed = [
        ("when", json!(1)),
        ("when", json!(2)),
        ("time", json!("soon")),
    ];
    let (hits, warnings) = logins(&untimed);
    assert_eq!(hits, 0);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with("warning[correlation]: ct.jsonl: 3 detection(s) of rules that correlations count were left out of them: their event has no readable timestamp (the first, record 1: it has none of the time fields read (TimeCreated_SystemTime, TimeCreated, @timestamp,"),
        "{}",
        warnings[0]
    );
}

#[test]
fn correlations_that_cannot_count_are_named() {
    let rules = r#"
title: Login
name: login
logsource: {product: test}
detection:
    selection: {eventName: ConsoleLogin}
    condition: selection
---
title: Loop A
name: loop_a
correlation: {type: event_count, rules: [login, loop_b], group-by: [user], timespan: 1m, condition: {gte: 1}}
---
title: Loop B
name: loop_b
correlation: {type: event_count, rules: [loop_a], group-by: [user], timespan: 1m, condition: {gte: 1}}
---
title: Above the loop
correlation: {type: event_count, rules: [loop_b], group-by: [user], timespan: 1m, condition: {gte: 1}}
---
title: Misnamed
correlation: {type: event_count, rules: [login, logins], group-by: [user], timespan: 1m, condition: {gte: 1}}
---
title: Quiet hours
name: quiet
logsource: {product: test}
filter: {rules: [login], selection: {user: svc}, condition: not selection}
---
title: On a filter
correlation: {type: event_count, rules: [quiet], group-by: [user], timespan: 1m, condition: {gte: 1}}
"#;
    let ds = Diagnostics::new();
    let (cyclic, titles) = after_one_login(rules, &ds, |engine, c| {
        let title = |i: usize| engine.rules[i].title.clone();
        let cyclic: Vec<String> = c.cyclic().into_iter().map(title).collect();
        let hits = c.finish(&ds);
        (
            cyclic,
            hits.iter().map(|h| title(h.rule)).collect::<Vec<_>>(),
        )
    });
    assert_eq!(cyclic, ["Loop A", "Loop B", "Above the loop"]);
    assert_eq!(titles, ["Misnamed"], "the rule it does name is counted");
    let said: Vec<String> = ds.sorted().iter().map(ToString::to_string).collect();
    let cycle = "correlation not run: its references lead into a cycle";
    assert_eq!(said.len(), 5, "{said:#?}");
    for line in [9, 13, 17] {
        let prefix = format!("warning[correlation]: r.yml:{line}: {cycle}");
        assert!(
            said.iter().any(|s| s.starts_with(&prefix)),
            "{prefix}: {said:#?}"
        );
    }
    assert!(
        said.iter().any(|s| s.starts_with("warning[correlation]: r.yml:20: correlation references `logins`, which is no loaded rule's id or name")),
        "{said:#?}"
    );
    assert!(
        said.iter().any(|s| s.starts_with("warning[correlation]: r.yml:28: correlation references `quiet`, a filter: it has no detections to count")),
        "{said:#?}"
    );
}

/// What `match -f jsonl` with `args` shows (one JSON value a detection)
/// and says on stderr; it must succeed.
fn shown_and_said(
    args: &[&str],
    rules: &std::path::Path,
    events: &std::path::Path,
) -> (Vec<serde_json::Value>, String) {
    let args: Vec<&str> = args.iter().copied().chain(["-f", "jsonl"]).collect();
    let out = crate::common::matching(&args, rules, events);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    let shown = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (shown, err)
}

/// `--level`, `--tag` and the other options choose what is shown: a rule
/// they leave out that a kept correlation counts still runs as its input,
/// its own detections not shown.
#[test]
fn a_correlation_counts_the_rules_the_options_leave_out() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "title: Login\nname: login\nlevel: low\nlogsource: {product: test}\ndetection:\n  sel: {eventName: ConsoleLogin}\n  condition: sel\n---\ntitle: Logout\nlevel: low\nlogsource: {product: test}\ndetection:\n  sel: {eventName: ConsoleLogout}\n  condition: sel\n---\ntitle: Many logins\nlevel: high\ncorrelation: {type: event_count, rules: [login], group-by: [user], timespan: 1m, condition: {gte: 2}}\n---\ntitle: Some logins\nlevel: low\ncorrelation: {type: event_count, rules: [login], group-by: [user], timespan: 1m, condition: {gte: 1}}\n",
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    let line = |name: &str, second: u32| {
        json!({"eventName": name, "user": "a", "eventTime": format!("2024-05-01T00:00:{second:02}Z")}).to_string()
    };
    let lines = [
        line("ConsoleLogin", 1),
        line("ConsoleLogin", 2),
        line("ConsoleLogout", 3),
    ];
    std::fs::write(&events, lines.join("\n")).unwrap();
    let (shown, err) = shown_and_said(&["--level", "high"], &rules, &events);
    assert_eq!(shown.len(), 1, "a low correlation is not shown: {shown:?}");
    assert_eq!(shown[0]["rule"], "Many logins");
    assert!(
        err.contains("2 rules left out by"),
        "Logout and the low correlation are left out: {err}"
    );
    assert!(
        err.contains("2 detections of rules only correlations count, not shown"),
        "{err}"
    );
    assert!(!err.contains("no loaded rule"), "{err}");
}

/// Under `--product`, a file that never names the product is not parsed;
/// a rule in it that a kept correlation counts is still read and run.
#[test]
fn a_correlation_counts_a_rule_in_a_file_product_passes_over() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let login = "title: Login\nname: login\nlogsource: {service: cloudtrail}\ndetection:\n  sel: {eventName: ConsoleLogin}\n  condition: sel\n";
    std::fs::write(rules.join("login.yml"), login).unwrap();
    let other = login.replace("login", "logout").replace("Login", "Logout");
    std::fs::write(rules.join("logout.yml"), other).unwrap();
    let many = "title: Many logins\ncorrelation: {type: event_count, rules: [login], group-by: [user], timespan: 1m, condition: {gte: 2}}\n";
    std::fs::write(rules.join("many.yml"), many).unwrap();
    let events = dir.path().join("events.jsonl");
    let line = |second: u32| {
        json!({"eventName": "ConsoleLogin", "user": "a", "eventTime": format!("2024-05-01T00:00:{second:02}Z")}).to_string()
    };
    std::fs::write(&events, [line(1), line(2)].join("\n")).unwrap();
    let (shown, err) = shown_and_said(&["--product", "okta"], &rules, &events);
    assert_eq!(shown.len(), 1, "{shown:?}\n{err}");
    assert_eq!(shown[0]["rule"], "Many logins");
    assert!(!err.contains("no loaded rule"), "{err}");
    assert!(
        err.contains("2 detections of rules only correlations count, not shown"),
        "{err}"
    );
}

/// A build with sample events runs the correlations too: the note says
/// where one fired, and why another did not.
#[test]
fn the_vault_shows_where_correlations_fired_on_the_sample_events() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(
        &rules,
        "title: Whoami\nname: whoami\nlevel: low\nlogsource: {product: test}\ndetection:\n  sel: {CommandLine|contains: whoami}\n  condition: sel\n---\ntitle: Whoami burst\nname: burst\ncorrelation:\n  type: event_count\n  rules: [whoami]\n  group-by: [Computer]\n  timespan: 10m\n  condition: {gte: 3}\n---\ntitle: Whoami flood\ncorrelation:\n  type: event_count\n  rules: [whoami]\n  timespan: 10m\n  condition: {gte: 100}\n---\ntitle: Whoami anywhere\ncorrelation:\n  type: event_count\n  rules: [whoami]\n  timespan: 10m\n  condition: {gte: 4}\n",
    )
    .unwrap();
    let events = dir.path().join("events.jsonl");
    let line = |minute: u32, computer: &str| {
        json!({"UtcTime": format!("2024-05-01T10:{minute:02}:00Z"), "Computer": computer, "CommandLine": "cmd /c whoami"})
            .to_string()
    };
    let lines = [
        line(0, "pc1"),
        line(1, "pc1"),
        line(2, "pc1"),
        line(3, "pc2"),
    ];
    std::fs::write(&events, lines.join("\n")).unwrap();
    let cfg = attack_vault::build::BuildConfig {
        sigma: vec![rules],
        events: vec![events],
        ..Default::default()
    };
    let (out, _, _) = crate::common::build_into(cfg);
    let v = out.path().join("vault");
    let section = |note: &str| {
        let text = crate::common::read(&v, &format!("Detection Rules/{note}.md"));
        crate::common::section(&text, "Sample Events").to_string()
    };
    let burst = section("Whoami burst");
    assert!(
        burst.contains("Fired **1** time on the sample events, counting 4 detections of the rules it correlates:"),
        "{burst}"
    );
    assert!(
        burst.contains(
            "| Computer = `pc1` | `2024-05-01T10:00:00Z` | `2024-05-01T10:02:00Z` | 3 | 3 |"
        ),
        "{burst}"
    );
    let flood = section("Whoami flood");
    let any = section("Whoami anywhere");
    assert!(
        any.contains("| all events (no `group-by`) | `2024-05-01T10:00:00Z` | `2024-05-01T10:03:00Z` | 4 | 4 |"),
        "{any}"
    );
    assert!(
        flood.contains("It never fired: the rules it correlates fired 4 times on the sample events, never enough to meet its condition within its timespan."),
        "{flood}"
    );
    let notes: Vec<_> = std::fs::read_dir(v.join("Sample Events"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let file = std::fs::read_to_string(&notes[0]).unwrap();
    assert!(file.contains("[[Whoami burst]]"), "{file}");
}

/// The correlation hits of `rules` over `events`, by rule title.
fn hits_by_title(rules: &str, events: &[serde_json::Value]) -> Vec<String> {
    let ds = Diagnostics::new();
    let (rules, rejected) = sigma_engine::sigma::parse_rules(Path::new("r.yml"), rules, &ds);
    assert_eq!(rejected, 0, "{:?}", ds.sorted());
    let engine = Engine::new(rules, &Mapping::default(), &EngineOptions::default());
    let c = Correlator::new(&engine);
    for (i, j) in events.iter().enumerate() {
        let meta = EventMeta {
            record: i as u64 + 1,
            ..Default::default()
        };
        let e = Event::from_json(j, meta);
        c.record(&e, &engine.match_event(&e));
    }
    let hits = c.finish(&ds);
    hits.iter()
        .map(|h| engine.rules[h.rule].title.clone())
        .collect()
}

#[test]
fn a_correlation_above_another_sees_every_moment_the_one_below_held() {
    // `hosts` holds at 1:05 and 1:15 (hosts h2 and h1 in the minute
    // before), and again at 1:37, whose minute still holds h2 at 0:58:
    // its first hit is reported up to 1:15, yet `then_scan`, a minute
    // after 1:37, must see it hold at 1:37 too, as the reference backend
    // does.
    let rules = r#"
title: logon
name: logon
logsource: {product: test}
detection: {sel: {EventID: 1}, condition: sel}
---
title: scan
name: scan
logsource: {product: test}
detection: {sel: {EventID: 3}, condition: sel}
---
title: hosts
name: hosts
correlation:
  type: value_count
  rules: [logon]
  group-by: [user]
  timespan: 60s
  condition: {gte: 2, field: host}
---
title: then_scan
correlation:
  type: temporal_ordered
  rules: [hosts, scan]
  group-by: [user]
  timespan: 60s
  condition: {gte: 2}
"#;
    let ev = |id: u64, host: Option<&str>, at: u64| {
        let mut j = json!({"EventID": id, "user": "a", "TimeCreated": ts(at)});
        if let Some(h) = host {
            j["host"] = json!(h);
        }
        j
    };
    let events = [
        ev(1, None, 32),
        ev(1, Some("h2"), 58),
        ev(1, Some("h1"), 65),
        ev(1, None, 75),
        ev(1, Some("h1"), 97),
        ev(3, None, 154),
    ];
    let hits = hits_by_title(rules, &events);
    assert!(hits.contains(&"then_scan".to_string()), "{hits:?}");
    // Without the late moment, the scan comes too late.
    let hits = hits_by_title(
        rules,
        &events[..4]
            .iter()
            .chain(&events[5..])
            .cloned()
            .collect::<Vec<_>>(),
    );
    assert_eq!(hits, ["hosts"]);
}

#[test]
fn a_chain_of_correlations_written_top_down_runs_bottom_up() {
    // Each counts the next one written: every one waits for all below it.
    let n = 300;
    let mut rules = String::from(
        "title: Login\nname: login\nlogsource: {product: test}\ndetection: {sel: {eventName: ConsoleLogin}, condition: sel}\n",
    );
    for i in 0..n {
        let counts = if i + 1 < n {
            format!("c{}", i + 1)
        } else {
            "login".into()
        };
        rules.push_str(&format!(
            "---\ntitle: C{i}\nname: c{i}\ncorrelation: {{type: event_count, rules: [{counts}], group-by: [user], timespan: 1m, condition: {{gte: 1}}}}\n"
        ));
    }
    let ds = Diagnostics::new();
    let (cyclic, hits) = after_one_login(&rules, &ds, |_, c| (c.cyclic(), c.finish(&ds).len()));
    assert!(cyclic.is_empty());
    assert_eq!(hits, n, "each held once its lower link did");
    assert!(ds.sorted().is_empty(), "{:?}", ds.sorted());
}

/// The correlator of `rules` after one console login of user `a`, handed to
/// `then` with its engine.
fn after_one_login<R>(
    rules: &str,
    ds: &Diagnostics,
    then: impl FnOnce(&Engine, Correlator) -> R,
) -> R {
    let (rules, rejected) = sigma_engine::sigma::parse_rules(Path::new("r.yml"), rules, ds);
    assert_eq!(rejected, 0, "{:?}", ds.sorted());
    let engine = Engine::new(rules, &Mapping::default(), &EngineOptions::default());
    let c = Correlator::new(&engine);
    let j = json!({"eventName": "ConsoleLogin", "user": "a", "eventTime": "2024-05-01T00:00:00Z"});
    let e = Event::from_json(&j, EventMeta::default());
    c.record(&e, &engine.match_event(&e));
    then(&engine, c)
}
