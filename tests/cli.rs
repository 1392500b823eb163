//! The command line: error reporting, summaries and exit codes.

use crate::common::{matching, succeeded};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attack-vault"))
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

#[test]
fn broken_rules_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["build", "--quiet", "--sigma"])
        .arg(fixtures().join("rules"))
        .arg("--atomics")
        .arg(fixtures().join("atomics"))
        .arg("--out")
        .arg(dir.path().join("v"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a broken rule never stops a build: {err}"
    );
    for (file, line, what) in [
        ("unknown_modifier.yml", "6:9", "unknown modifier `endwith`"),
        ("broken_yaml.yml", "", "YAML error"),
        ("bad_condition.yml", "7:", "malformed condition"),
        ("bad_date.yml", "2:", "must be a date"),
        (
            "missing_logsource.yml",
            "1:",
            "missing required field `logsource`",
        ),
    ] {
        let l = err
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} reported: {err}"));
        assert!(l.contains(what), "{l}");
        assert!(l.contains(&format!("{file}:{line}")), "position in {l}");
    }
    let v = dir.path().join("v");
    assert!(v.join("Detection Rules/Fixture Python Inline.md").is_file());
    assert!(!v.join("Detection Rules/Bad Modifier.md").exists());
    assert!(v.join("atomics/T1059.006-1 Fixture test.md").is_file());
}

#[test]
fn retired_rules_are_left_out_of_the_vault_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let build = |out: &str, more: &[&str]| {
        let o = bin()
            .args(["build", "--strict", "--sigma"])
            .arg(fixtures().join("rules/good"))
            .arg(fixtures().join("rules/retired"))
            .args(more)
            .arg("--out")
            .arg(dir.path().join(out))
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    let (code, err) = build("v", &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(
            "2 rules of status deprecated or unsupported left out (--include-deprecated keeps them)"
        ),
        "{err}"
    );
    assert!(
        !err.contains("count()"),
        "a rule left out is not read: {err}"
    );
    let rules = dir.path().join("v/Detection Rules");
    assert!(rules.join("Fixture Python Inline.md").is_file());
    assert!(!rules.join("Fixture Python Deprecated.md").exists());
    let (code, err) = build("w", &["--include-deprecated"]);
    assert_eq!(
        code,
        Some(1),
        "the unsupported rule's syntax is an error: {err}"
    );
    assert!(err.contains("unsupported_count.yml:12:26"), "{err}");
    let kept = dir
        .path()
        .join("w/Detection Rules/Fixture Python Deprecated.md");
    assert!(kept.is_file());
}

#[test]
fn strict_turns_errors_into_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let status = bin()
        .args(["build", "--quiet", "--strict", "--sigma"])
        .arg(fixtures().join("rules"))
        .arg("--out")
        .arg(dir.path().join("v"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let status = bin()
        .args(["build", "--quiet", "--strict", "--sigma"])
        .arg(fixtures().join("rules/good"))
        .arg("--out")
        .arg(dir.path().join("w"))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn unreadable_bundle_fails_without_writing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"objects\": [\n  {\"type\": }\n]}").unwrap();
    let out = bin()
        .args(["build", "--attack"])
        .arg(&bad)
        .arg("--out")
        .arg(dir.path().join("v"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.json:2:"), "{err}");
    assert!(!dir.path().join("v").exists());
}

#[test]
fn check_command_reports_broken_links() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.md"), "[[nowhere]]").unwrap();
    let out = bin().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unresolved link [[nowhere]]"));
}

#[test]
fn dataview_flag_writes_live_queries() {
    let dir = tempfile::tempdir().unwrap();
    let status = bin()
        .args(["build", "--quiet", "--dataview", "--out"])
        .arg(dir.path().join("v"))
        .status()
        .unwrap();
    assert!(status.success());
    let t = std::fs::read_to_string(dir.path().join("v/Techniques/T1059.006 Python.md")).unwrap();
    assert!(t.contains("```dataview\nTABLE WITHOUT ID\nfile.link AS \"Name\""));
    assert!(t.contains("FROM #detection_rule AND #T1059_006"));
    assert!(t.contains("FROM #atomic_test AND #T1059_006"));
    // Sorted by severity as the precomputed table is, not by level as text
    // (which puts informational before low and medium).
    assert!(
        t.contains("SORT choice(level = \"critical\", 0, choice(level = \"high\", 1, choice(level = \"medium\", 2, choice(level = \"low\", 3, choice(level = \"informational\", 4, 5))))) ASC, title ASC"),
        "{t}"
    );
    let p = std::fs::read_to_string(
        dir.path()
            .join("v/Techniques/T1059 Command and Scripting Interpreter.md"),
    )
    .unwrap();
    assert!(
        p.contains("AND (#T1059 OR #T1059_001 OR #T1059_006)"),
        "parents query their sub-techniques too"
    );
}

#[test]
fn match_reports_detections_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        concat!(
            r##"{"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": "pc1", "EventRecordID": 7, "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00Z"}}}, "EventData": {"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c \"import os\"", "ParentImage": "C:\\Windows\\explorer.exe"}}}"##,
            "\n",
            r#"{"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Computer": "pc1"}, "EventData": {"Image": "C:\\Windows\\notepad.exe", "CommandLine": "notepad"}}}"#,
            "\n"
        ),
    )
    .unwrap();
    let rules = fixtures().join("rules/good");
    for (format, expect) in [
        ("table", "Fixture Python Inline"),
        ("json", "\"rule\": \"Fixture Python Inline\""),
        ("jsonl", "\"rule\":\"Fixture Python Inline\""),
        ("csv", "timestamp,level,rule"),
    ] {
        let out = succeeded(matching(&["-q", "--format", format], &rules, &events));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(expect), "{format}: {stdout}");
        assert!(!stdout.contains("notepad"), "{format}");
    }
    let out = matching(&["--format", "jsonl"], &fixtures().join("rules"), &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 events read from 1 file"), "{err}");
    assert!(
        err.contains("unknown_modifier.yml:6:9"),
        "broken rules are named: {err}"
    );
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["computer"], "pc1");
    assert_eq!(v["fields"]["CommandLine"], "python.exe -c \"import os\"");
    let out = matching(&["-q", "--level", "high"], &rules, &events);
    assert!(out.stdout.is_empty(), "level filter");
}

#[test]
fn winlogbeat_and_velociraptor_exports_meet_windows_rules_as_evtx_events_do() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("winlogbeat.jsonl");
    std::fs::write(
        &events,
        concat!(
            r#"{"@timestamp": "2024-05-01T10:00:00Z", "host": {"name": "pc1"}, "winlog": {"channel": "Microsoft-Windows-Sysmon/Operational", "event_id": "1", "record_id": "7", "computer_name": "pc1", "task": "Process Create", "event_data": {"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c \"import os\"", "ParentImage": "C:\\Windows\\explorer.exe"}}}"#,
            "\n",
            // Another channel: the logsource mapping keeps the rule away.
            r#"{"winlog": {"channel": "Security", "event_id": 1, "event_data": {"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c x"}}}"#,
            "\n",
            r#"{"System": {"EventID": {"Value": 1}, "EventRecordID": 8, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "pc2"}, "EventData": {"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c \"import sys\""}}"#,
            "\n",
            // No channel: no Windows event-log record, whatever its fields.
            r#"{"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c \"import re\""}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = matching(
        &["--format", "jsonl"],
        &fixtures().join("rules/good"),
        &events,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        err.contains("2 events read by no rule: no loaded rule's logsource selects them; 1 has no `Channel`, so no Windows rule reads it"),
        "{err}"
    );
    for (v, record, computer, code) in [(&lines[0], 7, "pc1", "os"), (&lines[1], 8, "pc2", "sys")] {
        assert_eq!(v["rule"], "Fixture Python Inline");
        assert_eq!(v["record"], record);
        assert_eq!(v["computer"], computer);
        assert_eq!(v["channel"], "Microsoft-Windows-Sysmon/Operational");
        assert_eq!(
            v["fields"]["CommandLine"],
            format!("python.exe -c \"import {code}\"")
        );
    }
}

#[test]
fn a_time_window_keeps_the_events_of_its_span_and_tells_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    let event = |record: u32, time: Option<&str>| {
        let time = time.map_or(String::new(), |t| {
            format!(r##", "TimeCreated": {{"#attributes": {{"SystemTime": "{t}"}}}}"##)
        });
        format!(
            r##"{{"Event": {{"System": {{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "EventRecordID": {record}{time}}}, "EventData": {{"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c \"import os\""}}}}}}"##
        )
    };
    let lines = [
        event(1, Some("2024-04-30T23:59:59.9999999Z")),
        event(2, Some("2024-05-01T00:00:00Z")),
        event(3, Some("2024-05-01T12:00:00+02:00")),
        event(4, Some("2024-05-01T23:59:59.9999999Z")),
        event(5, Some("2024-05-02T00:00:00Z")),
        event(6, None),
    ];
    std::fs::write(&events, lines.join("\n")).unwrap();
    let run = |window: &[&str]| {
        let out = bin()
            .args(["match", "--format", "jsonl"])
            .args(window)
            .arg(&events)
            .arg("--rules")
            .arg(fixtures().join("rules/good"))
            .output()
            .unwrap();
        let records: Vec<u64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["record"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        (
            out.status.code(),
            records,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, records, err) = run(&[]);
    assert_eq!((code, records), (Some(0), vec![1, 2, 3, 4, 5, 6]), "{err}");
    // The summary tells the detections by level and by rule.
    assert!(err.contains("  detections by level: 6 medium\n"), "{err}");
    assert!(
        err.contains("  rules that fired (1):\n          6 × Fixture Python Inline\n"),
        "{err}"
    );
    // A date alone ends at the end of its day; both ends are included.
    let (code, records, err) = run(&["--from", "2024-05-01", "--to", "2024-05-01"]);
    assert_eq!((code, records), (Some(0), vec![2, 3, 4]), "{err}");
    assert!(
        err.contains("6 events read from 1 file (2 outside --from/--to, 1 without a time)"),
        "{err}"
    );
    assert!(
        err.contains("events.jsonl: 1 event has no readable time"),
        "{err}"
    );
    let (_, records, _) = run(&["--from", "2024-05-01T10:00+02:00"]);
    assert_eq!(records, vec![3, 4, 5]);
    let (_, records, _) = run(&["--to", "2024-05-01 00:00:00"]);
    assert_eq!(records, vec![1, 2]);
    for bad in [
        &["--from", "2024-05-32"][..],
        &["--to", "May 1st"],
        &["--from", "2024-05-02", "--to", "2024-05-01"],
    ] {
        let (code, records, err) = run(bad);
        assert_eq!((code, records.len()), (Some(2), 0), "{bad:?}: {err}");
        assert!(
            err.contains(bad[1]) || err.contains("--from is later than --to"),
            "{err}"
        );
    }
}

/// `match` with events from standard input (`-`), written by another
/// process as it runs.
fn match_stdin(input: &[u8], args: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, String) {
    use std::io::Write;
    let mut child = bin()
        .args(["match", "--format", "jsonl", "-"])
        .args(args)
        .arg("--rules")
        .arg(fixtures().join("rules/good"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The reader may stop early (EVTX is refused): a closed pipe is fine.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let hits = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code(),
        hits,
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn gzip_compressed_events_are_read_however_named_and_a_broken_one_is_said() {
    use std::io::Write;
    let gz = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let event = |image: &str| {
        format!(
            r#"{{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "Image": "{image}", "CommandLine": "python.exe -c \"import os\""}}"#
        )
    };
    let python = event(r"C:\\Python\\python.exe");
    let dir = tempfile::tempdir().unwrap();
    // Two members appended, as log rotation and `cat a.gz b.gz` make.
    let lines = [python.clone(), event("x")].join("\n") + "\n";
    let two = [gz(&lines), gz(&lines)].concat();
    std::fs::write(dir.path().join("rotated.log"), &two).unwrap();
    std::fs::write(dir.path().join("array.json.gz"), gz(&format!("[{python}]"))).unwrap();
    // The second member cut short.
    std::fs::write(dir.path().join("broken.gz"), &two[..two.len() / 2 + 20]).unwrap();
    // A tar archive of event files, compressed or not, says so at 257.
    let mut tar = b"events.jsonl".to_vec();
    tar.resize(257, 0);
    tar.extend_from_slice(b"ustar\x0000");
    tar.resize(1024, 0);
    let gz_tar = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&tar).unwrap();
        e.finish().unwrap()
    };
    let out = matching(&["-f", "jsonl"], &fixtures().join("rules/good"), dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    let hits: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let files: Vec<&str> = hits.iter().map(|h| h["file"].as_str().unwrap()).collect();
    let name = |f: &str| dir.path().join(f).display().to_string();
    assert_eq!(
        files.iter().filter(|f| **f == name("rotated.log")).count(),
        2,
        "one per member: {stdout}{err}"
    );
    assert!(
        files.contains(&name("array.json.gz").as_str()),
        "{stdout}{err}"
    );
    assert!(err.contains("broken.gz:"), "{err}");
    for (name, bytes, said) in [
        (
            "evidence.zip",
            &b"PK\x03\x04 an archive"[..],
            "a zip archive: extract or decompress it first",
        ),
        (
            "events.xz",
            b"\xFD7zXZ\x00 compressed",
            "xz-compressed: extract or decompress it first",
        ),
        ("empty.json", b"", "empty file; skipped"),
        (
            "logs.tar",
            &tar,
            "a tar archive: extract or decompress it first",
        ),
        (
            "logs.tgz",
            &gz_tar,
            "a tar archive: extract or decompress it first",
        ),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let out = matching(&[], &fixtures().join("rules/good"), &p);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("warning[events]: {}: {said}", p.display())),
            "{err}"
        );
    }
    let (code, hits, err) = match_stdin(&gz(&lines), &[]);
    assert_eq!((code, hits.len()), (Some(0), 1), "{err}");
}

#[test]
fn events_are_read_from_standard_input_and_pipes() {
    let event = |record: u32, image: &str| {
        format!(
            r#"{{"Event": {{"System": {{"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1, "EventRecordID": {record}}}, "EventData": {{"Image": "{image}", "CommandLine": "python.exe -c \"import os\""}}}}}}"#
        )
    };
    let python = r"C:\\Python\\python.exe";
    // JSONL, longer than what is read ahead to tell its format.
    let mut lines: Vec<String> = (1..=3000).map(|i| event(i, r"C:\\x.exe")).collect();
    lines[0] = event(1, python);
    lines[2999] = event(3000, python);
    lines.insert(1500, "{broken".to_string());
    let (code, hits, err) = match_stdin(lines.join("\n").as_bytes(), &[]);
    assert_eq!(code, Some(0), "{err}");
    let records: Vec<&serde_json::Value> = hits.iter().map(|h| &h["record"]).collect();
    assert_eq!(records, [1, 3000], "{err}");
    assert!(hits.iter().all(|h| h["file"] == "-"));
    assert!(
        err.contains("-:1501:2: invalid JSON, 1 record lost"),
        "{err}"
    );
    assert!(
        err.contains("3000 events read from 1 file (1 unreadable record lost"),
        "{err}"
    );
    // A JSON array, pretty-printed.
    let array = format!(
        "[\n  {},\n  {}\n]\n",
        event(7, python),
        event(8, r"C:\\x.exe")
    );
    let (code, hits, err) = match_stdin(array.as_bytes(), &[]);
    assert_eq!((code, hits.len()), (Some(0), 1), "{err}");
    assert_eq!(hits[0]["record"], 7);
    // EVTX is read whole, then as a file: a broken one is said, and is an
    // error for --strict (real EVTX through a pipe: `real_matcher`).
    let (code, hits, err) = match_stdin(b"ElfFile\0 and the rest", &["--strict"]);
    assert_eq!((code, hits.len()), (Some(1), 0), "{err}");
    assert!(
        err.contains("-: cannot open EVTX: the file header is cut or broken"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_when_given_and_skipped_with_a_word_inside_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let line = r#"{"Event": {"System": {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1}, "EventData": {"Image": "C:\\Python\\python.exe", "CommandLine": "python.exe -c \"import os\""}}}"#;
    let writer = {
        let (fifo, line) = (fifo.clone(), line.to_string());
        std::thread::spawn(move || std::fs::write(fifo, format!("{line}\n{line}\n")).unwrap())
    };
    let out = matching(
        &["--format", "jsonl"],
        &fixtures().join("rules/good"),
        &fifo,
    );
    writer.join().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        2,
        "{err}"
    );
    // In a folder, a pipe would wait for a writer: skipped, and said.
    std::fs::write(dir.path().join("one.jsonl"), format!("{line}\n")).unwrap();
    let out = matching(
        &["--format", "jsonl"],
        &fixtures().join("rules/good"),
        dir.path(),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        1,
        "{err}"
    );
    assert!(
        err.contains("events.pipe: not a file or folder (a pipe, device or socket)"),
        "{err}"
    );
    // Rules are files: a device given as rules is an error, not nothing.
    let out = bin()
        .args(["match", "--rules", "/dev/null", "--"])
        .arg(dir.path().join("one.jsonl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("/dev/null: not a file or folder"), "{err}");
}

/// Every file under a folder with its content, to show nothing changed.
fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

/// The demo vault built into `<temp>/v`.
fn demo_vault() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("v");
    build_demo(&vault);
    (dir, vault)
}

/// The demo vault built (again) into `vault`.
fn build_demo(vault: &std::path::Path) {
    succeeded(
        bin()
            .args(["build", "-q", "--out"])
            .arg(vault)
            .output()
            .unwrap(),
    );
}

#[test]
fn export_never_writes_over_or_around_its_vault() {
    let (dir, vault) = demo_vault();
    let before = snapshot(dir.path());
    for site in [vault.clone(), vault.join("site"), dir.path().to_path_buf()] {
        let out = bin()
            .args(["export", "-q", "--vault"])
            .arg(&vault)
            .arg("--out")
            .arg(&site)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", site.display());
        assert!(
            err.contains("exporting would overwrite or delete notes"),
            "{err}"
        );
        assert_eq!(snapshot(dir.path()), before, "nothing changed");
    }
}

#[test]
fn check_layer_and_export_name_their_vault_alike() {
    let (dir, vault) = demo_vault();
    for (cmd, out) in [("check", None), ("layer", Some("l")), ("export", Some("s"))] {
        for by_flag in [false, true] {
            let mut c = bin();
            c.arg(cmd).current_dir(dir.path());
            if let Some(o) = out {
                c.args(["--out", &format!("{o}-{by_flag}")]);
            }
            if by_flag {
                c.arg("--vault");
            }
            let run = c.arg(&vault).output().unwrap();
            let err = String::from_utf8_lossy(&run.stderr);
            assert!(run.status.success(), "{cmd} (flag {by_flag}): {err}");
        }
        let both = bin().args([cmd, "v", "--vault", "v"]).output().unwrap();
        assert_eq!(both.status.code(), Some(2), "{cmd}");
        // A note given for its vault, and a vault that is not there.
        let note = vault.join("Home.md");
        for (wrong, why) in [
            (note, "not a folder: a vault is a folder of notes"),
            (dir.path().join("gone"), "no such vault folder"),
        ] {
            let mut c = bin();
            c.arg(cmd).arg(&wrong).current_dir(dir.path());
            if let Some(o) = out {
                c.args(["--out", &format!("{o}-wrong")]);
            }
            let run = c.output().unwrap();
            let err = String::from_utf8_lossy(&run.stderr);
            assert_eq!(run.status.code(), Some(2), "{cmd}: {err}");
            assert!(err.contains(why), "{cmd}: {err}");
        }
    }
    assert!(
        dir.path()
            .join("l-false/enterprise-attack-coverage.json")
            .is_file()
    );
    assert!(dir.path().join("s-true/index.html").is_file());
}

#[test]
fn build_refuses_inputs_inside_its_output() {
    let (dir, vault) = demo_vault();
    let before = snapshot(dir.path());
    for (flag, input) in [
        ("--events", vault.join("Navigator")),
        ("--events", vault.clone()),
        ("--sigma", vault.join("Detection Rules")),
    ] {
        let out = bin()
            .args(["build", "-q", flag])
            .arg(&input)
            .arg("--out")
            .arg(&vault)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(
            err.contains("this input lies inside the output folder"),
            "{err}"
        );
        assert_eq!(snapshot(dir.path()), before, "nothing changed");
    }
}

#[test]
fn rules_and_atomics_saved_in_utf16_by_windows_powershell_are_read() {
    let dir = tempfile::tempdir().unwrap();
    // Windows PowerShell's `Out-File` writes UTF-16 LE with a byte-order mark.
    let utf16 = |s: &str| -> Vec<u8> {
        let mut v = vec![0xFF, 0xFE];
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    };
    let rule = "title: Saved by PowerShell\nid: 3f0c2b1a-9e8d-4c7b-a6f5-e4d3c2b1a098\nlogsource:\n  product: test\ndetection:\n  sel:\n    Image|endswith: '\\cmd.exe'\n  condition: sel\nlevel: high\ntags: [attack.t1059.003]\n";
    std::fs::write(dir.path().join("r.yml"), utf16(rule)).unwrap();
    std::fs::write(
        dir.path().join("e.jsonl"),
        r#"{"Image": "C:\\Windows\\System32\\cmd.exe"}"#,
    )
    .unwrap();
    let out = matching(
        &["-f", "jsonl"],
        &dir.path().join("r.yml"),
        &dir.path().join("e.jsonl"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Saved by PowerShell"), "{stdout}");
    let atomics = dir.path().join("atomics/T1059.003");
    std::fs::create_dir_all(&atomics).unwrap();
    let test = "attack_technique: T1059.003\ndisplay_name: Windows Command Shell\natomic_tests:\n- name: Saved by PowerShell too\n  auto_generated_guid: 0d1c2b3a-4f5e-6d7c-8b9a-0f1e2d3c4b5a\n  description: d\n  supported_platforms: [windows]\n  executor:\n    name: command_prompt\n    command: whoami\n";
    std::fs::write(atomics.join("T1059.003.yaml"), utf16(test)).unwrap();
    let vault = dir.path().join("v");
    succeeded(
        bin()
            .args(["build", "-q", "--atomics"])
            .arg(dir.path().join("atomics"))
            .arg("--sigma")
            .arg(dir.path().join("r.yml"))
            .arg("--out")
            .arg(&vault)
            .output()
            .unwrap(),
    );
    let notes: Vec<String> = walkdir::WalkDir::new(&vault)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    for note in [
        "Saved by PowerShell.md",
        "T1059.003-1 Saved by PowerShell too.md",
    ] {
        assert!(notes.iter().any(|n| n == note), "{note} in {notes:?}");
    }
}

#[test]
fn check_of_a_missing_or_empty_vault_says_so_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("check")
        .arg(dir.path().join("nowhere"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("nowhere: no such vault folder"), "{err}");
    for (command, out_flag) in [("export", "--out"), ("layer", "--out")] {
        let out = bin()
            .arg(command)
            .arg(dir.path().join("nowhere"))
            .arg(out_flag)
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains(&format!(
                "error[{command}]: {}: no such vault folder",
                dir.path().join("nowhere").display()
            )),
            "{err}"
        );
        assert!(!dir.path().join("out").exists(), "{command} wrote nothing");
    }
    let out = bin().arg("check").arg(dir.path()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no notes (.md files) in the folder"), "{err}");
}

#[test]
fn layer_finds_the_notes_where_the_analyst_moved_them() {
    // Techniques moved under a folder of one's own, a matrix renamed: the
    // build follows them, and so does layer, with the same layer.
    let (dir, v) = demo_vault();
    let layer = |out: &str| {
        succeeded(
            crate::common::layer(&v, &dir.path().join(out))
                .output()
                .unwrap(),
        );
        std::fs::read_to_string(dir.path().join(out).join("enterprise-attack-coverage.json"))
            .unwrap()
    };
    let before = layer("before");
    std::fs::create_dir(v.join("ATT&CK")).unwrap();
    std::fs::rename(v.join("Techniques"), v.join("ATT&CK/Techniques")).unwrap();
    let matrix = std::fs::read_dir(v.join("Matrices"))
        .unwrap()
        .next()
        .unwrap();
    std::fs::rename(matrix.unwrap().path(), v.join("Matrices/The matrix.md")).unwrap();
    build_demo(&v);
    assert!(!v.join("Techniques").exists(), "the build followed them");
    // A moved note saved again by Notepad, with a byte order mark, is still
    // told a technique by its properties.
    let moved = v.join("ATT&CK/Techniques/T1059.001 PowerShell.md");
    let text = std::fs::read_to_string(&moved).unwrap();
    std::fs::write(&moved, format!("\u{feff}{text}")).unwrap();
    let after = layer("after");
    assert_eq!(after, before);
    assert!(after.contains("\"techniqueID\": \"T1059.001\""), "{after}");
}

#[test]
fn layer_names_the_technique_notes_it_cannot_read() {
    let (dir, v) = demo_vault();
    let note = std::fs::read_dir(v.join("Techniques"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("\ncoverage:")))
        .unwrap();
    let text = std::fs::read_to_string(&note).unwrap();
    std::fs::write(&note, text.replacen("---\n", "---\nbroken: [unclosed\n", 1)).unwrap();
    let out = crate::common::layer(&v, &dir.path().join("layers"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let name = note.file_name().unwrap().to_string_lossy().to_string();
    let line = err
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.starts_with("warning[layer]:")
            && line.contains(".md:3:3: properties not read (")
            && line.contains("left out of the layers"),
        "{line}"
    );
    let out = crate::common::layer(&dir.path().join("layers"), &dir.path().join("again"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no technique notes: not a vault attack-vault built"),
        "{err}"
    );
}

#[test]
fn times_and_hosts_of_nxlog_powershell_defender_and_splunk_exports_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.yml");
    std::fs::write(
        &rule,
        "title: Any one\nid: 5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d\nlogsource:\n  product: test\ndetection:\n  sel:\n    Mark: 1\n  condition: sel\n",
    )
    .unwrap();
    let events = dir.path().join("e.jsonl");
    std::fs::write(
        &events,
        [
            // NXLog's im_msvistalog
            r#"{"Mark": 1, "EventTime": "2019-05-19 17:32:10", "Hostname": "nx-host"}"#,
            // Windows PowerShell's Get-WinEvent | ConvertTo-Json
            r#"{"Mark": 1, "TimeCreated": "/Date(1558287131000)/", "MachineName": "ps-host"}"#,
            // Microsoft Defender advanced hunting
            r#"{"Mark": 1, "Timestamp": "2019-05-19T17:32:12Z", "DeviceName": "md-host"}"#,
            // Splunk export
            r#"{"Mark": 1, "_time": "2019-05-19T17:32:13.000+00:00", "host": "sp-host"}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let out = matching(
        &["-f", "csv", "--from", "2019-05-19T17:32:11Z"],
        &rule,
        &events,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    let rows: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(
        rows.len(),
        3,
        "the NXLog event is before --from: {stdout}{err}"
    );
    assert!(rows[0].starts_with("/Date(1558287131000)/,"), "{stdout}");
    assert!(rows[1].starts_with("2019-05-19T17:32:12Z,"), "{stdout}");
    assert!(
        rows[2].starts_with("2019-05-19T17:32:13.000+00:00,"),
        "{stdout}"
    );
    assert!(err.contains("(1 outside --from/--to)"), "{err}");
    let out = matching(&["-f", "csv"], &rule, &events);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for host in [",nx-host,", ",ps-host,", ",md-host,"] {
        assert!(stdout.contains(host), "{host} in {stdout}");
    }
}

#[test]
fn the_sites_base_url_is_an_http_address_and_escaped_in_the_sitemap() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    assert!(
        bin()
            .args(["build", "-q", "--out"])
            .arg(&v)
            .status()
            .unwrap()
            .success()
    );
    let export = |url: &str| {
        bin()
            .args(["export", "-q", "--vault"])
            .arg(&v)
            .arg("--out")
            .arg(dir.path().join("s"))
            .args(["--base-url", url])
            .output()
            .unwrap()
    };
    for bad in ["javascript:alert(1)", "site/", "https://example.org/?a=1"] {
        let out = export(bad);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(
            err.contains(&format!("invalid value '{bad}' for '--base-url")),
            "{err}"
        );
    }
    succeeded(export("https://example.org/a&b\"<c>/"));
    let sitemap = std::fs::read_to_string(dir.path().join("s/sitemap.xml")).unwrap();
    let first = sitemap.split("<loc>").nth(1).unwrap();
    assert!(
        first.starts_with("https://example.org/a&amp;b%22%3Cc%3E/"),
        "{sitemap}"
    );
    assert!(
        !sitemap.contains("&b") && !sitemap.contains("<c>"),
        "{sitemap}"
    );
}

#[test]
fn placeholders_that_are_not_a_map_are_refused_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let ph = dir.path().join("ph.yml");
    std::fs::write(&ph, "- admins\n- users\n").unwrap();
    let out = bin()
        .args(["match", "-"])
        .arg("--rules")
        .arg(fixtures().join("rules/good"))
        .arg("--placeholders")
        .arg(&ph)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("ph.yml:1:1: must be a map of name → list of values, not a list"),
        "{err}"
    );
}

/// A rule of failed logons (EventID 4625) and a correlation of two of
/// them by `User` within a minute, which shows their detections too.
fn failed_logon_rules(dir: &std::path::Path) -> std::path::PathBuf {
    let rules = dir.join("rules.yml");
    std::fs::write(
        &rules,
        "title: Failed logon\nname: failed_logon\nlogsource: {category: test}\n\
         detection:\n  sel: {EventID: 4625}\n  condition: sel\n---\n\
         title: Many failed logons\nlevel: high\ncorrelation:\n  type: event_count\n  \
         rules: [failed_logon]\n  group-by: [User]\n  timespan: 1m\n  condition: {gte: 2}\n  generate: true\n",
    )
    .unwrap();
    rules
}

#[test]
fn csv_rows_are_spreadsheet_safe_and_correlations_have_rows_too() {
    let dir = tempfile::tempdir().unwrap();
    let rules = failed_logon_rules(dir.path());
    let events = dir.path().join("e.jsonl");
    let event = |s: u32, computer: &str| {
        serde_json::json!({"EventID": 4625, "User": "bob, \"the\" admin",
            "Computer": computer, "@timestamp": format!("2024-01-01T00:00:0{s}Z")})
        .to_string()
    };
    std::fs::write(
        &events,
        [event(1, "=HYPERLINK(\"http://x\")"), event(2, "ws1")].join("\n"),
    )
    .unwrap();
    let out = succeeded(matching(&["-q", "-f", "csv"], &rules, &events));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        rows.len(),
        4,
        "header, two detections, one correlation: {stdout}"
    );
    assert_eq!(
        rows[0],
        "timestamp,level,rule,rule_id,computer,channel,event_id,file,record,fields"
    );
    assert!(
        rows[1].contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
        "a formula is shown as text: {}",
        rows[1]
    );
    assert!(rows[1].ends_with("/e.jsonl,1,EventID=4625"), "{}", rows[1]);
    assert_eq!(
        rows[3],
        "2024-01-01T00:00:01Z,high,Many failed logons,,,,,,,\"correlation: 2 events; value=2; last=2024-01-01T00:00:02Z; User=bob, \"\"the\"\" admin\""
    );
}

#[test]
fn deprecated_rules_run_only_when_their_status_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    let rule = |title: &str, status: &str| {
        format!(
            "title: {title}\nstatus: {status}\nlogsource: {{category: test}}\n\
             detection:\n  sel: {{A: x}}\n  condition: sel\n"
        )
    };
    std::fs::write(
        &rules,
        [
            rule("Current", "test"),
            rule("Old", "deprecated"),
            rule("Odd", "unsupported"),
        ]
        .join("---\n"),
    )
    .unwrap();
    let events = dir.path().join("e.jsonl");
    std::fs::write(&events, "{\"A\": \"x\"}\n").unwrap();
    let out = matching(&["-f", "jsonl"], &rules, &events);
    let (stdout, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("\"rule\":\"Current\""), "{stdout}");
    assert!(
        err.contains("2 rules deprecated or unsupported: not run (`--status deprecated,unsupported` runs them)"),
        "{err}"
    );
    let out = matching(
        &["-f", "jsonl", "--status", "deprecated,unsupported"],
        &rules,
        &events,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(!stdout.contains("Current"), "{stdout}");

    // An unsupported rule in a syntax Sigma dropped is not read, so not
    // reported, unless it is asked for.
    let old_syntax = rule("Aggregated", "unsupported")
        .replace("condition: sel", "condition: sel | count() by A > 5");
    std::fs::write(&rules, [rule("Current", "test"), old_syntax].join("---\n")).unwrap();
    // An old collection: its global document gives the next its status.
    let collection = dir.path().join("collection.yml");
    std::fs::write(
        &collection,
        "action: global\ntitle: Old\nstatus: unsupported\nlogsource: {category: test}\n\
         ---\ndetection:\n  sel: {A: x}\n  condition: sel\n",
    )
    .unwrap();
    let out = matching(&["-f", "jsonl"], &collection, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("error[sigma]"), "{err}");
    assert!(err.contains("no rule can run"), "{err}");
    let out = matching(&["--strict", "-f", "jsonl"], &rules, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("error"), "{err}");
    assert!(
        err.contains("1 rule deprecated or unsupported: not run"),
        "{err}"
    );
    let out = matching(&["-f", "jsonl", "--status", "unsupported"], &rules, &events);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("aggregation expressions"), "{err}");
}

#[test]
fn events_swallowed_by_the_rules_list_are_explained() {
    let rules = fixtures().join("rules/good");
    let events = fixtures().join("events");
    let out = bin()
        .args(["match", "--rules"])
        .arg(&rules)
        .arg(&events)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "no event file given: `--rules` takes every path after it, so give the events first"
        ),
        "{err}"
    );
}

#[test]
fn a_rule_only_correlations_count_fires_through_them_alone() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    let base = "title: Failed logon\nname: failed_logon\nlogsource: {category: test}\ndetection:\n  sel: {EventID: 4625}\n  condition: sel\n";
    let correlation = "title: Many failed logons\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  timespan: 1m\n  condition: {gte: 2}\n";
    let events = dir.path().join("e.jsonl");
    let event = |s: u32| {
        serde_json::json!({"EventID": 4625, "@timestamp": format!("2024-01-01T00:00:0{s}Z")})
            .to_string()
    };
    std::fs::write(&events, [event(1), event(2)].join("\n")).unwrap();
    let run = |yaml: String| {
        std::fs::write(&rules, yaml).unwrap();
        let out = matching(&["-f", "jsonl"], &rules, &events);
        let rows: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["rule"].to_string())
            .collect();
        (rows, String::from_utf8_lossy(&out.stderr).to_string())
    };
    // As the specification says, by default only the correlation is generated.
    let (rows, err) = run(format!("{base}---\n{correlation}"));
    assert_eq!(rows, ["\"Many failed logons\""], "{err}");
    assert!(err.contains("0 detections, 1 correlation match"), "{err}");
    assert!(
        err.contains("2 detections of rules only correlations count, not shown (a correlation with `generate: true` shows its rules' own)"),
        "{err}"
    );
    let (rows, err) = run(format!("{base}---\n{correlation}  generate: true\n"));
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(err.contains("2 detections, 1 correlation match"), "{err}");
    // A rule no correlation counts is shown as any other.
    let (rows, _) = run(base.to_string());
    assert_eq!(rows.len(), 2);
}

#[test]
fn build_says_which_sample_events_no_rule_reads() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("mine.jsonl");
    std::fs::write(
        &events,
        "{\"CommandLine\": \"python -c x\"}\n{\"Channel\": \"Security\", \"EventID\": 1}\n",
    )
    .unwrap();
    let out = bin()
        .args(["build", "--sigma"])
        .arg(fixtures().join("rules/good"))
        .arg("--events")
        .arg(&events)
        .arg("--out")
        .arg(dir.path().join("v"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("2 events read by no rule: no loaded rule's logsource selects them; 1 has no `Channel`, so no Windows rule reads it"),
        "{err}"
    );
}

#[test]
fn sample_events_named_without_a_folder_are_named_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.jsonl"),
        "{\"Channel\": \"Security\", \"EventID\": 1}\n",
    )
    .unwrap();
    succeeded(
        bin()
            .current_dir(dir.path())
            .args(["build", "-q", "--sigma"])
            .arg(fixtures().join("rules/good"))
            .args(["--events", "mine.jsonl", "--out", "v"])
            .output()
            .unwrap(),
    );
    let notes: Vec<String> = std::fs::read_dir(dir.path().join("v/Sample Events"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(notes, ["mine.jsonl.md"]);
}

#[test]
fn correlations_count_as_run_and_those_in_a_cycle_as_skipped_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("r.yml");
    std::fs::write(
        &rules,
        "title: Login\nname: login\nlogsource: {product: test}\ndetection: {sel: {eventName: ConsoleLogin}, condition: sel}\n---\n\
         title: Logins\ncorrelation: {type: event_count, rules: [login], group-by: [user], timespan: 1m, condition: {gte: 1}}\n---\n\
         title: Self\nname: self\ncorrelation: {type: event_count, rules: [self], group-by: [user], timespan: 1m, condition: {gte: 1}}\n",
    )
    .unwrap();
    let events = dir.path().join("e.jsonl");
    std::fs::write(&events, "{\"eventName\": \"ConsoleLogin\", \"user\": \"a\", \"eventTime\": \"2024-05-01T00:00:00Z\"}\n").unwrap();
    let out = succeeded(matching(&["-v"], &rules, &events));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("; 3 rules loaded, 2 run, 1 skipped; 0 detections, 1 correlation match in "),
        "{err}"
    );
    assert!(
        err.contains("\n  skipped: Self: its references lead into a cycle"),
        "{err}"
    );
}

#[test]
fn a_rules_log_source_names_what_it_has_and_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    for (name, logsource) in [
        ("Category Only", "category: webserver"),
        ("Service Only", "service: security"),
        ("Product And Service", "product: windows\n  service: sysmon"),
    ] {
        let rule = format!(
            "title: {name}\nlogsource:\n  {logsource}\ntags: [attack.t1059.006]\ndetection:\n  sel: {{Image: x}}\n  condition: sel\n"
        );
        std::fs::write(rules.join(format!("{}.yml", name.replace(' ', "_"))), rule).unwrap();
    }
    let v = dir.path().join("v");
    let status = bin()
        .args(["build", "--quiet", "--sigma"])
        .arg(&rules)
        .arg("--out")
        .arg(&v)
        .status()
        .unwrap();
    assert!(status.success());
    for (name, line) in [
        ("Category Only", "> **Log source:** category `webserver`\n"),
        ("Service Only", "> **Log source:** service `security`\n"),
        (
            "Product And Service",
            "> **Log source:** product `windows` · service `sysmon`\n",
        ),
    ] {
        let note = std::fs::read_to_string(v.join(format!("Detection Rules/{name}.md"))).unwrap();
        assert!(note.contains(line), "{name}: {note}");
    }
    // A correlation has no log source of its own: no line for one.
    let burst = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("vault/Detection Rules/Burst of Python Inline Commands.md"),
    )
    .unwrap();
    assert!(!burst.contains("Log source"), "{burst}");
}

#[test]
fn zeeks_dns_log_meets_the_rules_for_sigmas_dns_category_under_its_names() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    let rule = |title: &str, detection: &str| {
        format!("title: {title}\nlogsource:\n  category: dns\ndetection:\n{detection}\n")
    };
    let text = [
        rule(
            "Onion",
            "  sel:\n    query|endswith: '.onion'\n  condition: sel",
        ),
        rule(
            "TXT answer with a command",
            "  sel:\n    record_type: TXT\n    answer|contains: 'powershell'\n  condition: sel",
        ),
        // Every DNS event meets it: no event of another log may.
        rule(
            "Any query",
            "  sel:\n    query: 'never.example'\n  condition: not sel",
        ),
    ]
    .join("---\n");
    std::fs::write(&rules, text).unwrap();
    let events = dir.path().join("logs");
    std::fs::create_dir(&events).unwrap();
    let header = |path: &str, fields: &str, types: &str| {
        format!(
            "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\t{path}\n#fields\t{fields}\n#types\t{types}\n"
        )
    };
    let dns = header(
        "dns",
        "ts\tquery\tqtype_name\tanswers",
        "time\tstring\tstring\tvector[string]",
    ) + "1709287201.1\tabc.onion\tA\t1.2.3.4\n\
         1709287202.2\tt.example\tTXT\tx,powershell -enc AAA\n";
    std::fs::write(events.join("dns.log"), dns).unwrap();
    let conn =
        header("conn", "ts\tuid\tquery", "time\tstring\tstring") + "1709287203.3\tC1\tabc.onion\n";
    std::fs::write(events.join("conn.log"), conn).unwrap();
    let json = r#"{"_path":"dns","ts":1709287204.4,"query":"t2.example","qtype_name":"TXT","answers":["IEX powershell"]}"#;
    std::fs::write(events.join("corelight.json"), format!("{json}\n")).unwrap();
    let out = matching(&["-f", "jsonl", "--all-fields"], &rules, &events);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut fired: Vec<(String, String, u64)> = Vec::new();
    for l in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let file = v["file"].as_str().unwrap().rsplit('/').next().unwrap();
        let rule = v["rule"].as_str().unwrap().to_string();
        fired.push((rule, file.to_string(), v["record"].as_u64().unwrap()));
        // Sigma's names are found, not written as the event's own fields.
        let event = v["event"].as_object().unwrap();
        assert!(
            event.contains_key("qtype_name") && !event.contains_key("record_type"),
            "{l}"
        );
        assert!(
            event.contains_key("answers") && !event.contains_key("answer"),
            "{l}"
        );
    }
    fired.sort();
    let f = |r: &str, file: &str, n: u64| (r.to_string(), file.to_string(), n);
    assert_eq!(
        fired,
        [
            f("Any query", "corelight.json", 1),
            f("Any query", "dns.log", 8),
            f("Any query", "dns.log", 9),
            f("Onion", "dns.log", 8),
            f("TXT answer with a command", "corelight.json", 1),
            f("TXT answer with a command", "dns.log", 9),
        ]
    );
}

#[test]
fn web_server_zeek_audit_and_syslog_logs_meet_the_rules_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    let rule = |title: &str, logsource: &str, detection: &str| {
        format!("title: {title}\nlogsource: {{{logsource}}}\ndetection:\n{detection}\n")
    };
    let text = [
        rule(
            "Webshell",
            "category: webserver",
            "  sel:\n    cs-method: POST\n    cs-uri-stem|endswith: '.aspx'\n  condition: sel",
        ),
        rule(
            "Recon tool",
            "category: webserver",
            "  sel:\n    cs-user-agent|startswith: 'sqlmap/'\n  condition: sel",
        ),
        rule(
            "Mining pool",
            "product: zeek, service: dns",
            "  sel:\n    query|endswith: '.minergate.com'\n  condition: sel",
        ),
        rule(
            "Shell one-liner",
            "product: linux, service: auditd",
            "  sel:\n    type: EXECVE\n    a1: '-c'\n    a2|contains: '&& id'\n  condition: sel",
        ),
        rule(
            "Base64 decode by sudo",
            "product: linux",
            "  keywords:\n    - 'base64 -d'\n  condition: keywords",
        ),
        rule(
            "Failed SSH password",
            "product: linux, service: sshd",
            "  keywords:\n    - 'Failed password'\n  condition: keywords",
        ),
        rule(
            "Logs cleared on a router",
            "product: cisco, service: aaa",
            "  keywords:\n    - 'clear logging'\n  condition: keywords",
        ),
        rule(
            "Curl on Linux",
            "product: linux, category: process_creation",
            "  sel:\n    Image|endswith: /curl\n  condition: sel",
        ),
        rule(
            "Local user added on a firewall",
            "product: fortigate, service: event",
            "  sel:\n    action: Add\n    cfgpath: user.local\n  condition: sel",
        ),
        // A condition every event of another kind would meet.
        rule(
            "Public RDP",
            "product: zeek, service: rdp",
            "  sel:\n    id.orig_h|cidr: '10.0.0.0/8'\n  condition: not sel",
        ),
    ]
    .join("---\n");
    std::fs::write(&rules, text).unwrap();
    let events = dir.path().join("logs");
    std::fs::create_dir(&events).unwrap();
    let fixture = |name: &str| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::read(dir.join("tests/fixtures/invalid/events").join(name)).unwrap()
    };
    // As IIS names its logs; the Zeek log gzip-compressed, as rotated.
    std::fs::write(
        events.join("u_ex240301.log"),
        fixture("iis_restarted_and_cut.log"),
    )
    .unwrap();
    let auth = fixture("auth_log_with_a_continuation.log");
    std::fs::write(events.join("auth.log"), auth).unwrap();
    let audit = fixture("audit_hex_and_a_stray_line.log");
    std::fs::write(events.join("audit.log"), audit).unwrap();
    let zeek = fixture("zeek_escapes_and_bytes.log");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &zeek).unwrap();
    std::fs::write(events.join("dns.2024-03-01.log.gz"), gz.finish().unwrap()).unwrap();
    // Zeek's JSON logs: named as Zeek names them, or saying their `_path`
    // (json-streaming-logs); a JSON log of another program meets every rule.
    let zeek_json = |extra: &str, query: &str| {
        format!(
            r#"{{"ts":1709290800.5,{extra}"uid":"C1","id.orig_h":"203.0.113.9","id.resp_p":3389,"query":"{query}"}}"#
        )
    };
    let dns = zeek_json("", "pool.minergate.com");
    std::fs::write(events.join("dns.log"), dns).unwrap();
    let rdp = zeek_json(r#""_path":"rdp","#, "-");
    std::fs::write(events.join("corelight.json"), rdp).unwrap();
    std::fs::write(events.join("app.log"), zeek_json("", "-")).unwrap();
    // A Cisco device's messages, as it sends them and as a collector wrote
    // them: for the Cisco rules, not the Linux ones ('base64 -d').
    let router = "*Mar  1 00:03:47.535: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin  logged command:clear logging\nMar  1 10:00:00 10.0.0.1 42: %PARSER-5-CFGLOG_LOGGEDCMD: User:admin  logged command:base64 -d\n";
    std::fs::write(events.join("router.log"), router).unwrap();
    // FortiGate records as the device sends them: for the FortiGate rules
    // of their type; text in a quoted value is no field of its own.
    let firewall = concat!(
        r#"<189>date=2025-04-10 time=05:01:53 devname="FG1" tz="-0700" logid="0100044547" type="event" subtype="system" action="Add" cfgpath="user.local" msg="base64 -d""#,
        "\n",
        r#"<189>date=2025-04-10 time=05:02:00 devname="FG1" tz="-0700" logid="0000000013" type="event" url="/x?action=Add cfgpath=user.local" action="deny""#,
        "\n",
    );
    std::fs::write(events.join("firewall.log"), firewall).unwrap();
    // `journalctl -o json`: an sshd line, and a Sysmon for Linux event in
    // XML, which meets the rules of its EventID as from a syslog file.
    let journal = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/invalid/events/journald_json_with_sysmon.jsonl"),
    )
    .unwrap();
    let journal: Vec<&str> = journal.lines().collect();
    let journal = format!("{}\n{}\n", journal[1], journal[3]);
    std::fs::write(events.join("journal.json"), journal).unwrap();
    // nginx's access log: for the web server rules, under their names.
    let access = concat!(
        r#"198.51.100.7 - - [01/Mar/2024:10:00:05 +0000] "GET / HTTP/1.1" 200 612 "-" "sqlmap/1.7.2#stable""#,
        "\n",
        r#"198.51.100.7 - - [01/Mar/2024:10:00:06 +0000] "POST /upload/cmd.aspx HTTP/1.1" 200 17 "-" "curl/8.0""#,
        "\n",
    );
    std::fs::write(events.join("access.log"), access).unwrap();
    let out = matching(&["-f", "jsonl"], &rules, &events);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut fired: Vec<(String, String, u64)> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let file = v["file"].as_str().unwrap().rsplit('/').next().unwrap();
            let rule = v["rule"].as_str().unwrap().to_string();
            (rule, file.to_string(), v["record"].as_u64().unwrap())
        })
        .collect();
    fired.sort();
    assert_eq!(
        fired,
        [
            ("Base64 decode by sudo".into(), "auth.log".into(), 2),
            ("Curl on Linux".into(), "journal.json".into(), 1),
            ("Failed SSH password".into(), "auth.log".into(), 1),
            ("Failed SSH password".into(), "journal.json".into(), 2),
            (
                "Local user added on a firewall".into(),
                "firewall.log".into(),
                1
            ),
            ("Logs cleared on a router".into(), "router.log".into(), 1),
            ("Mining pool".into(), "dns.2024-03-01.log.gz".into(), 8),
            ("Mining pool".into(), "dns.log".into(), 1),
            ("Public RDP".into(), "app.log".into(), 1),
            ("Public RDP".into(), "corelight.json".into(), 1),
            ("Recon tool".into(), "access.log".into(), 1),
            ("Recon tool".into(), "u_ex240301.log".into(), 6),
            ("Shell one-liner".into(), "audit.log".into(), 2),
            ("Webshell".into(), "access.log".into(), 2),
            ("Webshell".into(), "u_ex240301.log".into(), 11),
        ],
        "{stderr}"
    );
    assert!(stderr.contains("25 events read from 11 files"), "{stderr}");
    assert!(
        stdout.contains("\"timestamp\":\"2024-03-01T11:00:03Z\""),
        "a W3C line's time is its date and time: {stdout}"
    );
}

#[test]
fn a_cloudtrail_log_file_is_read_as_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yml");
    // And a rule of another product that every event without its field
    // would meet: a CloudTrail log says what its records are.
    let rule = "title: Access key created\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventSource: iam.amazonaws.com\n    eventName: CreateAccessKey\n  condition: sel\n---\ntitle: Public RDP\nlogsource: {product: zeek, service: rdp}\ndetection:\n  sel:\n    id.orig_h|cidr: 10.0.0.0/8\n  condition: not sel\n";
    std::fs::write(&rules, rule).unwrap();
    let events = dir.path().join("logs");
    std::fs::create_dir(&events).unwrap();
    // As CloudTrail delivers it: one line, gzip-compressed. Read as its
    // records, only the third fires: the second holds the name alone.
    let record = |source: &str, name: &str, minute: u32| {
        format!(
            r#"{{"eventTime":"2024-03-01T10:{minute:02}:00Z","eventSource":"{source}","eventName":"{name}","userIdentity":{{"arn":"arn:aws:iam::1:user/a"}}}}"#
        )
    };
    let log = format!(
        r#"{{"Records":[{},{},{}]}}"#,
        record("iam.amazonaws.com", "ListUsers", 0),
        record("s3.amazonaws.com", "CreateAccessKey", 1),
        record("iam.amazonaws.com", "CreateAccessKey", 2),
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, log.as_bytes()).unwrap();
    let name = "1_CloudTrail_us-east-1_20240301T1000Z_x.json.gz";
    std::fs::write(events.join(name), gz.finish().unwrap()).unwrap();
    let out = matching(&["-f", "jsonl"], &rules, &events);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let fired: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(fired.len(), 1, "{stdout}{stderr}");
    assert_eq!(fired[0]["record"], 3);
    assert_eq!(fired[0]["timestamp"], "2024-03-01T10:02:00Z");
    assert!(stderr.contains("3 events read from 1 file"), "{stderr}");
}

#[test]
fn all_fields_shows_each_detections_whole_event() {
    let dir = tempfile::tempdir().unwrap();
    let rules = failed_logon_rules(dir.path());
    let events = dir.path().join("e.jsonl");
    let event = |s: u32| {
        serde_json::json!({"EventID": 4625, "User": "bob", "@timestamp": format!("2024-01-01T00:00:0{s}Z"),
            "Hashes": ["SHA1=AA", "MD5=BB"], "Workstation": null, "Threat Name": "Eicar"})
        .to_string()
    };
    std::fs::write(&events, [event(1), event(2)].join("\n")).unwrap();
    let out = succeeded(matching(
        &["-q", "-f", "jsonl", "--all-fields"],
        &rules,
        &events,
    ));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "two detections and the correlation");
    assert_eq!(
        rows[0]["event"],
        serde_json::json!({"EventID": "4625", "User": "bob", "@timestamp": "2024-01-01T00:00:01Z",
            "Hashes": ["SHA1=AA", "MD5=BB"], "Workstation": null, "Threat Name": "Eicar"}),
        "every field, each under its own name only, in the event's order"
    );
    assert_eq!(rows[0]["fields"], serde_json::json!({"EventID": "4625"}));
    let plain = succeeded(matching(&["-q", "-f", "jsonl"], &rules, &events));
    let first: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&plain.stdout)
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert!(first.get("event").is_none(), "{first}");

    let out = succeeded(matching(
        &["-q", "-f", "csv", "--all-fields"],
        &rules,
        &events,
    ));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        rows[0],
        "timestamp,level,rule,rule_id,computer,channel,event_id,file,record,fields,event"
    );
    assert!(
        rows[1].ends_with(",EventID=4625,\"{\"\"EventID\"\":\"\"4625\"\",\"\"User\"\":\"\"bob\"\",\"\"@timestamp\"\":\"\"2024-01-01T00:00:01Z\"\",\"\"Hashes\"\":[\"\"SHA1=AA\"\",\"\"MD5=BB\"\"],\"\"Workstation\"\":null,\"\"Threat Name\"\":\"\"Eicar\"\"}\""),
        "{}",
        rows[1]
    );
    assert!(
        rows[3].starts_with("2024-01-01T00:00:01Z,high,Many failed logons,"),
        "{}",
        rows[3]
    );
    assert!(
        rows[3].ends_with(",correlation: 2 events; value=2; last=2024-01-01T00:00:02Z; User=bob,"),
        "{}",
        rows[3]
    );

    let table = matching(&["--all-fields"], &rules, &events);
    assert_eq!(table.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&table.stderr)
            .contains("--all-fields shows whole events in the json, jsonl and csv formats"),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
}
