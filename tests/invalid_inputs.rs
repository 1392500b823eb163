//! Hostile and broken input, one fixture per case under
//! `tests/fixtures/invalid/<source kind>/`, each beside `<name>.expected`:
//! the exact diagnostics (paths relative to the fixture folder) and, for
//! events, how many records were read and lost; for ATT&CK bundles, what
//! each technique's parent and sub-techniques became, or why the bundle
//! could not be read. Set `ATTACK_VAULT_BLESS=1` to
//! rewrite the expectations after a deliberate change, then review the diff.

use crate::common::matching;
use sigma_engine::diag::Diagnostics;
use sigma_engine::events::{Event, read_file};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn invalid(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/invalid")
        .join(kind)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attack-vault"))
}

/// The inputs of a fixture folder (everything but `.expected` files).
fn cases(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|x| x != "expected"))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {}", dir.display());
    v
}

fn diagnostics_text(ds: &Diagnostics, dir: &Path) -> String {
    let prefix = format!("{}/", dir.display());
    ds.sorted()
        .iter()
        .map(|d| d.to_string().replace(&prefix, "") + "\n")
        .collect()
}

/// Compare with (or, blessing, write) `<case>.expected`.
fn check_expected(case: &Path, got: &str) {
    let mut p = case.as_os_str().to_owned();
    p.push(".expected");
    let p = PathBuf::from(p);
    if std::env::var_os("ATTACK_VAULT_BLESS").is_some() {
        std::fs::write(&p, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&p)
        .unwrap_or_else(|_| panic!("{} has no expectation file", case.display()));
    assert_eq!(got, want, "{}", case.display());
}

#[test]
fn event_fixtures_give_their_exact_diagnostics_and_lose_nothing_readable() {
    let dir = invalid("events");
    for case in cases(&dir) {
        let ds = Diagnostics::new();
        let mut images = Vec::new();
        let read = read_file(&case, None, &ds, &mut |e: Event| {
            // The field each kind of fixture shows: a web log's path, a
            // Zeek log's DNS query, an audit record's program or command
            // line, a syslog line's message, a FortiGate record's, a
            // CloudTrail record's API call, a journald record's message,
            // every other's Image.
            let shown = [
                "Image",
                "cs-uri-stem",
                "query",
                "exe",
                "a2",
                "proctitle",
                "message",
                "msg",
                "eventName",
                "MESSAGE",
            ]
            .into_iter()
            .find_map(|f| e.text(f));
            images.push(shown.unwrap_or("-").to_string())
        })
        .unwrap();
        assert_eq!(read.events as usize, images.len());
        let got = format!(
            "events {} lost {}\nImage: {}\n{}",
            read.events,
            read.lost,
            images.join(" | "),
            diagnostics_text(&ds, &dir)
        );
        check_expected(&case, &got);
    }
}

#[test]
fn rule_fixtures_give_their_exact_diagnostics() {
    let dir = invalid("rules");
    for case in cases(&dir) {
        let ds = Diagnostics::new();
        let set = sigma_engine::sigma::load(std::slice::from_ref(&case), &ds);
        let got = format!(
            "rules {} rejected {}\n{}",
            set.rules.len(),
            set.rejected,
            diagnostics_text(&ds, &dir)
        );
        check_expected(&case, &got);
    }
}

#[test]
fn attack_fixtures_give_their_exact_diagnostics() {
    use attack_vault::model::kb::{Kb, KbOptions};
    let dir = invalid("attack");
    for case in cases(&dir) {
        let ds = Diagnostics::new();
        let bundle = match attack_vault::attack::read_bundle_file(&case, &ds) {
            Ok(b) => b,
            Err(d) => {
                let said = d.to_string().replace(&format!("{}/", dir.display()), "");
                check_expected(&case, &format!("not read: {said}\n"));
                continue;
            }
        };
        let kb = Kb::build(vec![bundle], KbOptions::default(), &ds);
        let described: Vec<String> = (0..kb.objects.len())
            .map(|i| {
                let subs: Vec<&str> = kb
                    .subtechniques_of(i)
                    .into_iter()
                    .map(|s| kb.get(s).display_id())
                    .collect();
                let parent = kb.parent_of(i).map(|p| kb.get(p).display_id());
                let (id, name) = (kb.get(i).display_id(), kb.get(i).name());
                format!("{id} {name:?}: parent {parent:?}, sub-techniques {subs:?}\n")
            })
            .collect();
        let got = described.concat() + &diagnostics_text(&ds, &dir);
        check_expected(&case, &got);
    }
}

/// The diagnostics of a fixture's expectation, without the file name: what
/// the command line must print after the full path.
fn expected_diagnostics(case: &Path) -> Vec<String> {
    let mut p = case.as_os_str().to_owned();
    p.push(".expected");
    let name = case.file_name().unwrap().to_string_lossy().to_string();
    std::fs::read_to_string(PathBuf::from(p))
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.split_once(&format!(" {name}"))
                .map(|(_, rest)| rest.to_string())
        })
        .collect()
}

#[test]
fn deep_nesting_never_crashes_match_or_build() {
    for case in cases(&invalid("rules")) {
        let wanted = expected_diagnostics(&case);
        assert!(!wanted.is_empty(), "{}", case.display());
        let out = matching(
            &["-q"],
            &case,
            &invalid("events").join("bad_first_line.jsonl"),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", case.display());
        for w in &wanted {
            assert!(err.contains(w.as_str()), "{w} in {err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let out = bin()
            .args(["build", "-q", "--sigma"])
            .arg(&case)
            .arg("--out")
            .arg(dir.path().join("v"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{}: {err}", case.display());
        for w in &wanted {
            assert!(err.contains(w.as_str()), "{w} in {err}");
        }
    }
}

const ANY_EXE: &str = "title: Any exe\nid: 44444444-4444-4444-4444-444444444444\nlogsource:\n  product: test\ndetection:\n  sel:\n    Image|endswith: '.exe'\n  condition: sel\n";

#[test]
fn table_output_escapes_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, ANY_EXE).unwrap();
    let out = matching(
        &["-q"],
        &rule,
        &invalid("events").join("control_chars.jsonl"),
    );
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "no forged line: {text:?}");
    assert!(!text.contains(['\u{1b}', '\u{7}', '\r']), "{text:?}");
    assert!(text.contains(r"C:\evil\u{1b}[2J\u{7}.exe"), "{text:?}");

    // A right-to-left override makes `xgpj.exe` read as `xexe.jpg`; a
    // zero-width space hides itself.
    let events = dir.path().join("bidi.jsonl");
    std::fs::write(&events, "{\"Image\": \"C:\\\\x\u{202e}gpj\u{200b}.exe\"}\n").unwrap();
    let out = matching(&["-q"], &rule, &events);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains(['\u{202e}', '\u{200b}']), "{text:?}");
    assert!(text.contains(r"C:\x\u{202e}gpj\u{200b}.exe"), "{text:?}");

    // Unicode's line and paragraph separators break lines in some viewers.
    std::fs::write(&events, "{\"Image\": \"a\u{2028}b\u{2029}c\u{85}.exe\"}\n").unwrap();
    let text = String::from_utf8(matching(&["-q"], &rule, &events).stdout).unwrap();
    assert!(
        !text.contains(['\u{2028}', '\u{2029}', '\u{85}']),
        "{text:?}"
    );
    assert!(text.contains(r"a\u{2028}b\u{2029}c\u{85}.exe"), "{text:?}");
}

#[test]
fn messages_and_summaries_show_what_input_they_quote_escaped() {
    // A rule's title is printed in the summary, and a file's name in the
    // diagnostics: neither may redraw the terminal or forge a line.
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    let titled = ANY_EXE.replace("Any exe", "\"Any\\e[2J\\nFORGED\"");
    std::fs::write(&rule, titled).unwrap();
    let events = dir.path().join("ev");
    std::fs::create_dir(&events).unwrap();
    std::fs::write(events.join("good.jsonl"), "{\"Image\": \"a.exe\"}\n").unwrap();
    std::fs::write(events.join("bad\u{1b}[2J\n.jsonl"), "{bad\n").unwrap();
    let out = matching(&["-v"], &rule, &events);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains(['\u{1b}', '\r']), "{err:?}");
    assert!(
        err.contains(r"bad\u{1b}[2J\n.jsonl:1:2: invalid JSON"),
        "{err}"
    );
    assert!(err.contains(r"1 × Any\u{1b}[2J\nFORGED"), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("FORGED")), "{err}");
}

#[test]
fn strict_exits_1_on_any_lost_record() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, ANY_EXE).unwrap();
    for (case, lost) in [
        ("bad_first_line.jsonl", true),
        ("bad_utf8_line2.jsonl", false),
    ] {
        let out = matching(
            &["--strict", "-f", "jsonl"],
            &rule,
            &invalid("events").join(case),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(if lost { 1 } else { 0 }),
            "{case}: {err}"
        );
        assert_eq!(err.contains("unreadable record"), lost, "{err}");
    }
}

#[test]
fn a_flood_of_bad_records_is_counted_whole_and_listed_in_part() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, ANY_EXE).unwrap();
    let events = dir.path().join("flood.jsonl");
    let mut text: String = (1..=250).map(|i| format!("{{\"bad\": {i}x}}\n")).collect();
    text.push_str("{\"Image\": \"C:\\\\a.exe\"}\n");
    std::fs::write(&events, text).unwrap();
    let per_line = |err: &str| err.lines().filter(|l| l.contains("invalid JSON")).count();
    let out = matching(&["--strict", "-f", "jsonl"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(per_line(&err), Diagnostics::KEPT_PER_FILE, "{err}");
    assert!(
        err.contains("flood.jsonl: 150 more like the 100 above (lines 101 to 250), counted but not listed one by one (--verbose lists them)"),
        "{err}"
    );
    assert!(
        err.contains("1 event read from 1 file (250 unreadable records lost"),
        "{err}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = matching(&["-v", "-f", "jsonl"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(per_line(&err), 250, "{err}");
    assert!(!err.contains("more like the"), "{err}");
}

#[test]
fn a_closed_pipe_ends_quietly_and_other_write_errors_fail() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, ANY_EXE).unwrap();
    let events = dir.path().join("many.jsonl");
    let line = "{\"Image\": \"C:\\\\x.exe\"}\n";
    std::fs::write(&events, line.repeat(50_000)).unwrap();
    for format in ["table", "json", "jsonl", "csv"] {
        let mut child = bin()
            .args(["match", "-q", "-f", format, "--rules"])
            .arg(&rule)
            .arg("--")
            .arg(&events)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once, as `| head -0` would.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{format}: {err}");
        assert!(!err.contains("Broken pipe"), "{format}: {err}");
    }
    if Path::new("/dev/full").exists() {
        let out = bin()
            .args(["match", "-q", "-f", "jsonl", "--rules"])
            .arg(&rule)
            .arg("--")
            .arg(&events)
            .stdout(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open("/dev/full")
                    .unwrap(),
            )
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("cannot write output"), "{err}");
    }
}

#[test]
fn command_line_values_are_checked_and_skips_explained() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, ANY_EXE).unwrap();
    let events = invalid("events").join("control_chars.jsonl");
    for (flag, bad) in [("--level", "hgh"), ("--status", "tset")] {
        let out = matching(&[flag, bad], &rule, &events);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("possible values"), "{err}");
    }
    let out = matching(&["--level", "HIGH"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no rule can run: none of the 1 rule documents read passes"),
        "{err}"
    );
    let huge = dir.path().join("huge.yml");
    std::fs::write(
        &huge,
        ANY_EXE.replace("Image|endswith: '.exe'", "Image|re: '(\\w{1000}){1000}'"),
    )
    .unwrap();
    let out = matching(&[], &huge, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no rule can run: 1 skipped (1 × "), "{err}");
}

#[test]
fn tags_are_searched_as_rules_write_them_and_unmet_ones_said() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    let tagged = ANY_EXE.replace("logsource:", "tags:\n  - attack.execution\nlogsource:");
    std::fs::write(&rule, tagged).unwrap();
    let events = invalid("events").join("control_chars.jsonl");
    for tag in ["TA0002", "execution", "attack.execution"] {
        let out = matching(&["-q", "--tag", tag], &rule, &events);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{tag}: {err}");
        assert!(!err.contains("warning"), "{tag}: {err}");
    }
    let out = matching(&["--tag", "execution", "--tag", "TA0040"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning[match]: --tag attack.impact: no rule read has this tag"),
        "{err}"
    );
    let out = matching(&["--tag", "TA0099"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("TA0099 is no ATT&CK tactic"), "{err}");
}

#[test]
fn a_product_no_rule_has_is_said() {
    // `--product windwos` would otherwise leave only "no rule can run".
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(&rule, ANY_EXE).unwrap();
    let events = invalid("events").join("control_chars.jsonl");
    let out = matching(&["-q", "--product", "TEST"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("warning"), "{err}");
    let out = matching(&["--product", "tset", "--product", "test"], &rule, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning[match]: --product tset: no rule read has this logsource product"),
        "{err}"
    );
    assert!(!err.contains("--product test:"), "{err}");
}

#[test]
fn filters_in_their_own_folder_apply_to_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    let filters = dir.path().join("filters");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&filters).unwrap();
    std::fs::write(rules.join("r.yml"), ANY_EXE).unwrap();
    std::fs::write(
        filters.join("mf_admin_tools.yml"),
        "title: Admin tools are expected\nlogsource:\n  product: test\nfilter:\n  rules:\n    - 44444444-4444-4444-4444-444444444444\n    - no-such-rule\n  admin:\n    Image|startswith: 'C:\\Admin\\'\n  condition: not admin\n",
    )
    .unwrap();
    let events = dir.path().join("e.jsonl");
    std::fs::write(
        &events,
        "{\"Image\": \"C:\\\\Admin\\\\tool.exe\"}\n{\"Image\": \"C:\\\\Users\\\\evil.exe\"}\n",
    )
    .unwrap();
    let out = bin()
        .args(["match", "-f", "jsonl", "--rules"])
        .arg(&rules)
        .arg(&filters)
        .arg("--")
        .arg(&events)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{err}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("evil.exe"), "{text}");
    assert!(
        err.contains("mf_admin_tools.yml:1: filter names `no-such-rule`, which is no loaded rule's id or name"),
        "{err}"
    );
}

#[test]
fn an_event_too_large_to_hold_is_read_in_part_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    // A keyword reads every field: the reader keeps them all.
    let any_field = ANY_EXE.replace(
        "condition: sel",
        "words:\n    - 'no such word'\n  condition: sel or words",
    );
    std::fs::write(&rule, any_field).unwrap();
    let n = 100_000;
    let zeros = vec!["0"; n].join(",");
    let data: String = (0..n)
        .map(|i| format!("<Data Name=\"n{i}\">0</Data>"))
        .collect();
    let item = r#"{"a": "x", "b": "y"}"#;
    let items = vec![item; 40_000].join(",");
    let key = "k".repeat(1_000);
    let cases = [
        (
            "values.jsonl",
            format!("{{\"Image\": \"C:\\\\a.exe\", \"n\": [{zeros}]}}\n"),
            format!("values.jsonl:1: {} values were not read", n + 1 - 65_536),
        ),
        (
            "names.jsonl",
            format!("{{\"Image\": \"C:\\\\a.exe\", \"{key}\": [{items}]}}\n"),
            "names.jsonl:1: ".to_string(),
        ),
        (
            "values.xml",
            format!(
                "<Events><Event><System><EventID>1</EventID></System><EventData><Data Name=\"Image\">C:\\a.exe</Data>{data}</EventData></Event></Events>"
            ),
            "values.xml: event 1: ".to_string(),
        ),
        (
            "values.csv",
            format!(
                "Image,{}\nC:\\a.exe,{}\n",
                (1..n)
                    .map(|i| format!("c{i}"))
                    .collect::<Vec<_>>()
                    .join(","),
                vec!["0"; n - 1].join(",")
            ),
            format!("values.csv:2: {} values were not read", n - 65_536),
        ),
    ];
    for (name, text, said) in cases {
        let events = dir.path().join(name);
        std::fs::write(&events, text).unwrap();
        // Read in part, not lost: a warning, which --strict allows.
        let out = matching(&["--strict", "-f", "jsonl"], &rule, &events);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        let warning = err.lines().find(|l| l.contains(&said)).unwrap_or_default();
        assert!(
            warning.ends_with("values were not read: an event holds at most 65536 values and 64 MiB of text (names, values and their lower-case forms)"),
            "{name}: {err}"
        );
        let out = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.lines().count(), 1, "{name}: the event is matched");
        assert!(out.contains(r#""Image":"C:\\a.exe""#), "{name}: {out}");
    }
}
