//! The promises about the output folder, each tried against a real run of the
//! binary: a run killed at any moment leaves the next run a whole vault; two
//! writers take turns; nothing outside the folder is written or deleted;
//! a failed commit says truthfully that nothing changed.
use crate::common::{succeeded, tree};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attack-vault"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Two builds whose vaults differ in written, changed and removed notes: the
/// demo, and the fixture rules and atomics.
#[derive(Clone, Copy, Debug)]
enum Inputs {
    Demo,
    Fixtures,
}

fn build(inputs: Inputs, out: &Path) -> Command {
    let mut c = bin();
    c.args(["build", "-q", "--out"]).arg(out);
    if let Inputs::Fixtures = inputs {
        c.arg("--sigma")
            .arg(fixtures().join("rules/good"))
            .arg("--atomics")
            .arg(fixtures().join("atomics"));
    }
    c
}

fn run(mut c: Command) -> Output {
    succeeded(c.output().unwrap())
}

fn names(t: &[(String, Vec<u8>)]) -> Vec<&str> {
    t.iter().map(|(n, _)| n.as_str()).collect()
}

/// The vault a clean build of `inputs` gives.
fn clean(inputs: Inputs) -> Vec<(String, Vec<u8>)> {
    let dir = tempfile::tempdir().unwrap();
    run(build(inputs, &dir.path().join("v")));
    tree(&dir.path().join("v"))
}

/// The vault without its history (Changes notes, redirects, the names and
/// snapshot state, the bookmark of the newest Changes note), which records whether a killed run's commit was
/// completed or undone: both are whole vaults.
fn without_history(t: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let redirects: Vec<String> = t
        .iter()
        .filter(|(_, c)| c.starts_with(b"---\ntype: \"redirect\""))
        .map(|(p, _)| p.clone())
        .collect();
    t.into_iter()
        .filter(|(p, _)| {
            !(p.starts_with("Changes")
                || p.starts_with(".attack-vault/base/Changes")
                || p == ".attack-vault/names.json"
                || p == ".attack-vault/snapshot.json"
                || p == ".attack-vault/obsidian.json"
                || p == ".obsidian/bookmarks.json"
                || redirects
                    .iter()
                    .any(|r| p == r || *p == format!(".attack-vault/base/{r}.gz")))
        })
        .map(|(p, c)| {
            if p != ".attack-vault/manifest.txt" {
                return (p, c);
            }
            let kept: String = String::from_utf8_lossy(&c)
                .lines()
                .filter(|l| !l.starts_with("Changes") && !redirects.iter().any(|r| r == l))
                .map(|l| format!("{l}\n"))
                .collect();
            (p, kept.into_bytes())
        })
        .collect()
}

fn assert_whole(vault: &Path, expected: &[(String, Vec<u8>)], context: &str) {
    let got = without_history(tree(vault));
    let expected = without_history(expected.to_vec());
    let expected = expected.as_slice();
    assert_eq!(names(&got), names(expected), "{context}: files differ");
    for ((name, a), (_, b)) in got.iter().zip(expected) {
        assert!(a == b, "{context}: {name} differs");
    }
}

/// Kills the demo → fixtures rebuild at `point`; false when the run got
/// past every point of that name (it then completed).
fn killed_then_rebuilt(point: &str, next: Inputs, expected: &[(String, Vec<u8>)]) -> bool {
    let (_dir, v) = demo_vault();
    let mut killed = build(Inputs::Fixtures, &v);
    killed.env("ATTACK_VAULT_CRASH_AT", point);
    if killed.output().unwrap().status.success() {
        return false;
    }
    let out = run(build(next, &v));
    let context = format!("killed at {point}, then {next:?}");
    assert_whole(&v, expected, &context);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("interrupted run"),
        "{context}: not reported: {err}"
    );
    true
}

#[test]
fn a_run_killed_at_any_commit_point_leaves_the_next_run_a_whole_vault() {
    let demo = clean(Inputs::Demo);
    let fixtures = clean(Inputs::Fixtures);
    for (next, expected) in [(Inputs::Demo, &demo), (Inputs::Fixtures, &fixtures)] {
        for point in ["staged", "journal", "manifest"] {
            assert!(
                killed_then_rebuilt(point, next, expected),
                "{point} not reached"
            );
        }
        // After every single file moved into place.
        let mut moves = 0;
        while killed_then_rebuilt(&format!("move:{}", moves + 1), next, expected) {
            moves += 1;
        }
        assert!(
            moves >= 5,
            "only {moves} moves: the two builds barely differ"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_run_killed_by_a_signal_at_any_moment_leaves_the_next_run_a_whole_vault() {
    let fixtures = clean(Inputs::Fixtures);
    for delay_ms in [0, 5, 10, 20, 30, 45, 60, 80, 120] {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path().join("v");
        run(build(Inputs::Demo, &v));
        let mut child = build(Inputs::Fixtures, &v).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        run(build(Inputs::Fixtures, &v));
        assert_whole(&v, &fixtures, &format!("SIGKILL after {delay_ms} ms"));
    }
}

#[test]
fn concurrent_builds_take_turns() {
    let expected = clean(Inputs::Demo);
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(build(Inputs::Fixtures, &v));
    let children: Vec<_> = (0..4)
        .map(|i| {
            let inputs = if i % 2 == 0 {
                Inputs::Fixtures
            } else {
                Inputs::Demo
            };
            build(inputs, &v).spawn().unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    // Whichever finished last, the vault is whole: rebuilding the demo gives
    // exactly a clean demo vault.
    run(build(Inputs::Demo, &v));
    assert_whole(&v, &expected, "after four concurrent builds");
}

/// Takes the vault's writer lock, as another run would.
fn hold_lock(vault: &Path) -> std::fs::File {
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(vault.join(".attack-vault/lock"))
        .unwrap();
    lock.lock().unwrap();
    lock
}

#[test]
fn a_second_writer_waits_or_refuses() {
    let (_dir, v) = demo_vault();
    let lock = hold_lock(&v);
    let mut refused = build(Inputs::Fixtures, &v);
    refused.arg("--no-wait");
    let out = refused.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another attack-vault run is reading or writing"),
        "{err}"
    );

    let mut waiting = build(Inputs::Fixtures, &v)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(waiting.try_wait().unwrap().is_none(), "did not wait");
    lock.unlock().unwrap();
    let out = waiting.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("waiting for another attack-vault run"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_manifest_naming_a_path_through_a_link_deletes_nothing_outside() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("precious.md"), "mine").unwrap();
    run(build(Inputs::Demo, &v));
    std::os::unix::fs::symlink(&outside, v.join("escape")).unwrap();
    let manifest = v.join(".attack-vault/manifest.txt");
    let mut m = std::fs::read_to_string(&manifest).unwrap();
    m.push_str("escape/precious.md\n../outside/precious.md\n/tmp/x\n");
    std::fs::write(&manifest, m).unwrap();
    run(build(Inputs::Fixtures, &v));
    assert_eq!(
        std::fs::read_to_string(outside.join("precious.md")).unwrap(),
        "mine"
    );
    assert!(
        v.join("escape").symlink_metadata().is_ok(),
        "the analyst's link stays"
    );
}

#[cfg(unix)]
#[test]
fn writes_never_follow_a_symlinked_folder() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let outside = dir.path().join("outside");
    run(build(Inputs::Demo, &v));
    std::fs::rename(v.join("Techniques"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, v.join("Techniques")).unwrap();
    let before_outside = tree(&outside);
    let before = tree(&v);
    // With the live queries every technique note changes.
    let out = build(Inputs::Demo, &v).arg("--dataview").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(tree(&v) == before, "the vault changed");
    assert!(tree(&outside) == before_outside, "a file outside changed");
}

#[cfg(unix)]
#[test]
fn a_note_replaced_by_a_symlink_is_left_alone_and_said_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let outside = dir.path().join("outside.md");
    run(build(Inputs::Demo, &v));
    let note = v.join("Techniques/T1059.001 PowerShell.md");
    std::fs::write(&outside, "mine").unwrap();
    std::fs::remove_file(&note).unwrap();
    std::os::unix::fs::symlink(&outside, &note).unwrap();
    for _ in 0..2 {
        let out = build(Inputs::Demo, &v).arg("--dataview").output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert_eq!(err.matches("T1059.001 PowerShell.md").count(), 1, "{err}");
        assert!(
            err.contains("a symbolic link stands where a note goes"),
            "{err}"
        );
        assert!(!err.contains("no longer generated"), "{err}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "mine");
        assert!(note.symlink_metadata().unwrap().file_type().is_symlink());
    }
}

/// The output of `c`, which must end within a minute: a run that opened a
/// named pipe would wait for a writer for ever.
#[cfg(unix)]
fn finished(mut c: Command) -> Output {
    use std::process::Stdio;
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("still running after a minute: {c:?}");
}

#[cfg(unix)]
#[test]
fn a_pipe_in_the_vault_is_never_opened() {
    let (dir, v) = demo_vault();
    let note = v.join("Techniques/T1059.001 PowerShell.md");
    // A demo rule's note, which the second build no longer generates.
    let stale = v.join("Detection Rules/PowerShell Encoded Command.md");
    for gone in [&note, &stale] {
        std::fs::remove_file(gone).unwrap();
    }
    for pipe in [&note, &stale, &v.join("Case notes.md")] {
        let made = Command::new("mkfifo").arg(pipe).status().unwrap();
        assert!(made.success());
    }
    let out = finished(build(Inputs::Fixtures, &v));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains(
            "T1059.001 PowerShell.md: a pipe, device or socket stands where a note goes; left alone"
        ),
        "{err}"
    );
    let mut check = bin();
    check.arg("check").arg(&v);
    let checked = finished(check);
    let said = String::from_utf8_lossy(&checked.stdout) + String::from_utf8_lossy(&checked.stderr);
    assert!(said.contains("links checked"), "{said}");
    assert!(
        said.contains("Case notes.md: a pipe, device or socket, not a file: not read"),
        "{said}"
    );
    let mut export = bin();
    export
        .args(["export", "-q", "--out"])
        .arg(dir.path().join("site"))
        .arg(&v);
    let exported = finished(export);
    assert!(exported.status.success(), "{exported:?}");
    let err = String::from_utf8_lossy(&exported.stderr);
    assert!(
        err.contains("Case notes.md: a pipe, device or socket"),
        "{err}"
    );
    let laid = finished(crate::common::layer(&v, &dir.path().join("layers")));
    let err = String::from_utf8_lossy(&laid.stderr);
    assert!(laid.status.success(), "{err}");
    assert!(
        err.contains("T1059.001 PowerShell.md: a pipe, device or socket, not a file: not read"),
        "{err}"
    );
    for pipe in [&note, &stale] {
        let kind = pipe.symlink_metadata().unwrap().file_type();
        assert!(
            std::os::unix::fs::FileTypeExt::is_fifo(&kind),
            "left as it was"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_read_only_folder_means_nothing_changes_and_the_message_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, v) = demo_vault();
    let techniques = v.join("Techniques");
    std::fs::set_permissions(&techniques, std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = tree(&v);
    let out = build(Inputs::Demo, &v).arg("--dataview").output().unwrap();
    std::fs::set_permissions(&techniques, std::fs::Permissions::from_mode(0o755)).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("read-only; nothing was changed"), "{err}");
    assert!(tree(&v) == before, "the vault changed");
}

#[test]
fn a_template_failing_on_a_note_fails_the_build_and_changes_nothing() {
    let (dir, v) = demo_vault();
    let before = tree(&v);
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    for (text, culprit) in [
        (
            "# {{ name }}\n\n{{ no_such_variable }}\n",
            "no_such_variable",
        ),
        (
            "# {{ name }}\n\n{{ name | no_such_filter }}\n",
            "no_such_filter",
        ),
    ] {
        std::fs::write(templates.join("technique.md"), text).unwrap();
        let out = build(Inputs::Demo, &v)
            .arg("--templates")
            .arg(&templates)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("technique.md:3"), "no template line: {err}");
        assert!(err.contains(culprit), "{err}");
        assert!(
            err.contains("while rendering Techniques/"),
            "no note: {err}"
        );
        assert!(tree(&v) == before, "the vault changed");
    }
}

#[test]
fn data_never_becomes_markup() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let mut c = bin();
    c.args(["build", "-q", "--strict", "--sigma"])
        .arg(fixtures().join("hostile/rules.yml"))
        .arg("--out")
        .arg(&v);
    run(c);
    let check = bin().arg("check").arg(&v).output().unwrap();
    assert!(
        check.status.success(),
        "links the data made: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let rules: Vec<_> = std::fs::read_dir(v.join("Detection Rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rules.len(), 4);
    // Obsidian reads `[[…]]` in a property as a link: none is written there.
    let evil = rules
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .find(|t| t.contains("Nowhere"))
        .unwrap();
    let properties = evil.split("---\n").nth(1).unwrap();
    assert!(
        properties.contains("title: \"Evil ((Home)) ((Nowhere)) | pipe <b>bold</b>\""),
        "{properties}"
    );
    assert!(
        properties.contains("- \"!((Nowhere.png))\""),
        "{properties}"
    );
    assert!(
        rules
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".md.md"))
    );
    for p in rules
        .iter()
        .chain([&v.join("Techniques/T1059.006 Python.md")])
    {
        let md = std::fs::read_to_string(p).unwrap();
        let opts = attack_vault::site::markdown::options();
        let mut html = String::new();
        let body = md.splitn(3, "---\n").nth(2).unwrap();
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(body, opts));
        assert_eq!(html.matches("<h1>").count(), 1, "{}: {html}", p.display());
        for markup in [
            "<b>",
            "<script",
            "href=\"Home\"",
            "href=\"Link\"",
            "href=\"Nowhere\"",
        ] {
            assert!(
                !html.contains(markup),
                "{}: {markup} in {html}",
                p.display()
            );
        }
    }
}

/// `export --no-wait` of `vault` into `site`.
fn export_no_wait(vault: &Path, site: &Path) -> Output {
    bin()
        .args(["export", "-q", "--no-wait", "--vault"])
        .arg(vault)
        .arg("--out")
        .arg(site)
        .output()
        .unwrap()
}

/// A vault built from the demo data in a new temporary folder.
fn demo_vault() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(build(Inputs::Demo, &v));
    (dir, v)
}

/// Adds the analyst's words to a note; its text after.
fn add_words(note: &Path) -> String {
    let text = std::fs::read_to_string(note).unwrap() + "\nMy own words.\n";
    std::fs::write(note, &text).unwrap();
    text
}

#[test]
fn export_waits_for_a_build_writing_its_vault() {
    let (dir, v) = demo_vault();
    let _lock = hold_lock(&v);
    let out = export_no_wait(&v, &dir.path().join("site"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("another attack-vault run is writing"), "{err}");
    assert!(!dir.path().join("site").join("index.html").exists());
}

#[test]
fn exports_share_a_vault_that_no_build_changes_meanwhile() {
    let (dir, v) = demo_vault();
    // As an export reading the vault holds it.
    let reading = std::fs::File::open(v.join(".attack-vault/lock")).unwrap();
    reading.lock_shared().unwrap();
    succeeded(export_no_wait(&v, &dir.path().join("site")));
    let mut refused = build(Inputs::Fixtures, &v);
    let out = refused.arg("--no-wait").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another attack-vault run is reading or writing"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_tampered_journal_or_a_planted_link_reaches_nothing_outside() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let outside = dir.path().join("outside.md");
    std::fs::write(&outside, "mine").unwrap();
    run(build(Inputs::Demo, &v));
    let state = v.join(".attack-vault");
    // A link where the journal's temporary file goes.
    std::os::unix::fs::symlink(&outside, state.join("journal.tmp")).unwrap();
    run(build(Inputs::Fixtures, &v));
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "mine");
    // A journal naming paths outside the vault.
    std::fs::write(
        state.join("journal.json"),
        r#"{"moves": ["../outside.md"], "deletes": ["../outside.md"]}"#,
    )
    .unwrap();
    let out = build(Inputs::Demo, &v).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("journal.json"), "{err}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "mine");
}

/// A site exported into a vault's folder would take its notes for stale
/// pages and remove them, the analyst's edited ones too; a vault built into
/// a site's folder would remove its pages. Both are refused, nothing
/// changed.
#[test]
fn a_site_is_never_written_over_a_vault_nor_a_vault_over_a_site() {
    let dir = tempfile::tempdir().unwrap();
    let (v, site) = (dir.path().join("v"), dir.path().join("site"));
    run(build(Inputs::Demo, &v));
    add_words(&v.join("Techniques/T1059.001 PowerShell.md"));
    let other = dir.path().join("other");
    run(build(Inputs::Fixtures, &other));
    let mut export = bin();
    export.args(["export", "-q", "--out"]).arg(&v).arg(&other);
    let before = tree(&v);
    let out = export.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds a vault attack-vault built: a site written here would remove its notes; nothing was changed"),
        "{err}"
    );
    assert!(tree(&v) == before, "the vault changed");

    let mut export = bin();
    export.args(["export", "-q", "--out"]).arg(&site).arg(&v);
    run(export);
    let before = tree(&site);
    let out = build(Inputs::Demo, &site).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "holds a site attack-vault exported: a vault written here would remove its pages"
        ),
        "{err}"
    );
    assert!(tree(&site) == before, "the site changed");
}

/// `layer` writes only its own files in its folder: never through a
/// symbolic link (which could lead outside), never over a file of the
/// analyst's unless `--force`; a layer of its own is replaced whole.
#[cfg(unix)]
#[test]
fn layer_never_writes_through_a_link_nor_over_a_file_of_ones_own() {
    let (dir, v) = demo_vault();
    let (out, outside) = (dir.path().join("layers"), dir.path().join("outside.txt"));
    std::fs::create_dir(&out).unwrap();
    std::fs::write(&outside, "precious").unwrap();
    let layer = out.join("enterprise-attack-coverage.json");
    std::os::unix::fs::symlink(&outside, &layer).unwrap();
    let laid = |extra: &[&str]| crate::common::layer(&v, &out).args(extra).output().unwrap();
    let o = laid(&["--force"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("not a file (a symbolic link, folder or pipe): left alone"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    // A file of the analyst's named as a temporary file might be.
    let tmp = out.join("enterprise-attack-coverage.tmp");
    std::fs::write(&tmp, "mine too").unwrap();

    std::fs::remove_file(&layer).unwrap();
    std::fs::write(&layer, "my own notes").unwrap();
    let err = String::from_utf8_lossy(&laid(&[]).stderr).into_owned();
    assert!(
        err.contains("a file that is no layer attack-vault wrote: left alone"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&layer).unwrap(), "my own notes");
    assert!(laid(&["--force"]).status.success());
    let first = std::fs::read_to_string(&layer).unwrap();
    assert!(first.contains("\"name\": \"attack-vault coverage (enterprise-attack)\""));
    let again = laid(&[]);
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("wrote "),
        "its own layer is replaced"
    );
    assert_eq!(std::fs::read_to_string(&layer).unwrap(), first);
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary file left: {names:?}");
    assert_eq!(std::fs::read_to_string(&tmp).unwrap(), "mine too");
}

/// A technique note's `domains` names a layer's file: one edited to climb
/// out (`../../outside`) gets no layer, and is said.
#[test]
fn layer_never_names_a_file_by_a_domain_that_leads_out() {
    let (dir, v) = demo_vault();
    let note = v.join("Techniques/T1059.001 PowerShell.md");
    let text = std::fs::read_to_string(&note).unwrap();
    let climbing = text.replace("  - \"enterprise-attack\"", "  - \"../../outside\"");
    assert_ne!(text, climbing);
    std::fs::write(&note, climbing).unwrap();
    let out = dir.path().join("a/b");
    let o = crate::common::layer(&v, &out).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("domains [\"../../outside\"] not shaped as an ATT&CK domain"),
        "{err}"
    );
    assert!(!dir.path().join("outside-coverage.json").exists());
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["enterprise-attack-coverage.json"]);
    let strict = crate::common::layer(&v, &out)
        .arg("--strict")
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(1), "a problem said is an exit 1");
}

/// The manifest is read as untrusted: a line naming a note outside the
/// vault (`../Outside.md`, an absolute path) brings nothing into a layer.
#[test]
fn layer_reads_no_note_outside_the_vault_that_the_manifest_names() {
    let (dir, v) = demo_vault();
    let text = std::fs::read_to_string(v.join("Techniques/T1059.001 PowerShell.md")).unwrap();
    let outside = dir.path().join("Outside.md");
    std::fs::write(&outside, text.replace("T1059.001", "T1999.001")).unwrap();
    let manifest = v.join(".attack-vault/manifest.txt");
    let listed = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{listed}../Outside.md\n{}\n", outside.display()),
    )
    .unwrap();
    let out = dir.path().join("layers");
    let o = crate::common::layer(&v, &out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let layer = std::fs::read_to_string(out.join("enterprise-attack-coverage.json")).unwrap();
    assert!(
        layer.contains("T1059.001") && !layer.contains("T1999"),
        "{layer}"
    );
}

/// The kept last versions (`.attack-vault/base/`) are what tells the
/// analyst's lines from the tool's. Where one is gone (damaged, removed,
/// left behind by a sync), the note is taken as the analyst's: never
/// overwritten, never deleted, and said once.
#[test]
fn a_note_whose_kept_version_is_gone_is_never_overwritten_nor_deleted() {
    let (_dir, v) = demo_vault();
    let still = "Techniques/T1059.001 PowerShell.md";
    let gone = "Detection Rules/PowerShell Encoded Command.md";
    let mut kept = Vec::new();
    for rel in [still, gone] {
        let p = v.join(rel);
        let text = add_words(&p);
        std::fs::remove_file(v.join(format!(".attack-vault/base/{rel}.gz"))).unwrap();
        kept.push((p, text));
    }
    let out = build(Inputs::Fixtures, &v).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for (p, text) in &kept {
        assert_eq!(
            &std::fs::read_to_string(p).unwrap(),
            text,
            "{}",
            p.display()
        );
    }
    let said = format!(
        "2 note(s) the last build wrote have lost their kept last version (.attack-vault/base/, damaged or removed), so nothing tells your edits in them: each is taken as yours, left as it is, the new version under .attack-vault/conflicts/ where it changed (delete such a note to have the new version written): {gone}, {still}"
    );
    assert!(err.contains(&said), "{err}");
    assert!(v.join(".attack-vault/conflicts").join(still).is_file());
}

/// A first build or export goes only where nothing else lives, or, for a
/// vault, into a vault (`.obsidian/`, or notes at its top): never among a
/// home folder's or a project's files.
#[test]
fn a_first_run_into_a_folder_of_other_files_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("project");
    std::fs::create_dir_all(f.join("docs")).unwrap();
    std::fs::write(f.join("docs/thesis.md"), "mine\n").unwrap();
    std::fs::write(f.join("notes.txt"), "mine\n").unwrap();
    let before = tree(&f);
    let out = build(Inputs::Demo, &f).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let said = "holds files of its own (docs, notes.txt) and is no vault (no .obsidian/, no notes at its top): the vault's notes would be scattered among them; nothing was changed";
    assert!(err.contains(said), "{err}");
    let (_d, vault) = demo_vault();
    let out = export_no_wait(&vault, &f);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds files attack-vault did not export (docs, notes.txt)"),
        "{err}"
    );
    assert_eq!(tree(&f), before, "nothing written, not even a state folder");
    assert!(!f.join(".attack-vault").exists());

    // Hidden files alone (a Git checkout) are no files of its own; an
    // Obsidian vault, or a folder of notes, takes the vault beside them.
    let git = dir.path().join("git");
    std::fs::create_dir_all(git.join(".git")).unwrap();
    run(build(Inputs::Demo, &git));
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join(".git")).unwrap();
    succeeded(export_no_wait(&vault, &site));
    for own in [".obsidian/app.json", "Home of mine.md"] {
        let v = dir.path().join(own.replace(['.', '/', ' '], "_"));
        std::fs::create_dir_all(v.join(own).parent().unwrap()).unwrap();
        std::fs::write(v.join(own), "{}").unwrap();
        run(build(Inputs::Demo, &v));
        assert_eq!(std::fs::read_to_string(v.join(own)).unwrap(), "{}");
        assert!(v.join("Home.md").is_file(), "{own}");
    }
}

/// A file attack-vault did not write, where a note goes, is left alone and
/// said; `--force` replaces it with the note.
#[test]
fn a_file_of_ones_own_where_a_note_goes_is_left_unless_force() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let note = v.join("Techniques/T1059.001 PowerShell.md");
    std::fs::create_dir_all(note.parent().unwrap()).unwrap();
    // The analyst's Obsidian vault, a note of theirs where one goes.
    std::fs::create_dir_all(v.join(".obsidian")).unwrap();
    std::fs::write(&note, "mine\n").unwrap();
    let out = build(Inputs::Demo, &v).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("file exists and was not generated by attack-vault; left alone"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&note).unwrap(), "mine\n");
    let mut forced = build(Inputs::Demo, &v);
    forced.arg("--force");
    run(forced);
    let text = std::fs::read_to_string(&note).unwrap();
    assert!(text.starts_with("---\nid: \"T1059.001\""), "{text}");
    assert!(
        v.join(".attack-vault/base/Techniques/T1059.001 PowerShell.md.gz")
            .is_file()
    );
}

/// A folder where a note goes (made in Obsidian, or by a script) is left
/// alone with what is in it, and said; the rest of the build lands. The
/// commit never starts moving files it cannot finish.
#[test]
fn a_folder_where_a_note_goes_is_left_alone() {
    let (_dir, v) = demo_vault();
    let note = v.join("Techniques/T1059.001 PowerShell.md");
    std::fs::remove_file(&note).unwrap();
    std::fs::create_dir_all(note.join("inner")).unwrap();
    std::fs::write(note.join("inner/x.txt"), "keep").unwrap();
    let out = build(Inputs::Fixtures, &v).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("T1059.001 PowerShell.md: a folder stands where a note goes; left alone"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(note.join("inner/x.txt")).unwrap(),
        "keep"
    );
    assert!(
        !v.join(".attack-vault/journal.json").exists(),
        "no commit left half done"
    );
    run(build(Inputs::Fixtures, &v));
}

/// A note that cannot be read (its permissions, say) cannot be merged: it
/// is left alone and said, never replaced. Root reads anything, so as root
/// the builds run as `nobody` (through `setpriv`), with a copy of the
/// binary in the test's own world-readable folder.
#[cfg(unix)]
#[test]
fn a_note_that_cannot_be_read_is_never_replaced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(dir.path(), 0o777).unwrap();
    let exe = dir.path().join("attack-vault");
    std::fs::copy(env!("CARGO_BIN_EXE_attack-vault"), &exe).unwrap();
    mode(&exe, 0o755).unwrap();
    let v = dir.path().join("v");
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let build = || {
        let mut c = match root {
            true => {
                let mut s = Command::new("setpriv");
                s.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                    .arg(&exe);
                s
            }
            false => Command::new(&exe),
        };
        c.args(["build", "-q", "--out"]).arg(&v);
        c
    };
    run(build());
    let note = v.join("Techniques/T1059.001 PowerShell.md");
    let text = std::fs::read_to_string(&note).unwrap() + "\nMy own words.\n";
    std::fs::write(&note, &text).unwrap();
    mode(&note, 0o000).unwrap();
    let out = build().output().unwrap();
    mode(&note, 0o644).unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("T1059.001 PowerShell.md: cannot be read ("),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&note).unwrap(), text);
}

/// A note saved in another encoding (an editor writing Latin-1) cannot be
/// merged line by line; it stands, whether the new build changes it or no
/// longer generates it.
#[test]
fn a_note_saved_in_another_encoding_is_never_replaced_nor_deleted() {
    let (_dir, v) = demo_vault();
    let mut kept = Vec::new();
    for rel in [
        "Techniques/T1059.001 PowerShell.md",
        "Detection Rules/PowerShell Encoded Command.md",
    ] {
        let p = v.join(rel);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.extend_from_slice(b"\nCaf\xe9 notes.\n");
        std::fs::write(&p, &bytes).unwrap();
        kept.push((p, bytes));
    }
    let out = build(Inputs::Fixtures, &v).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (p, bytes) in kept {
        assert_eq!(std::fs::read(&p).unwrap(), bytes, "{}", p.display());
    }
}

#[test]
fn an_output_that_is_a_file_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.md");
    std::fs::write(&file, "my notes\n").unwrap();
    let vault = dir.path().join("v");
    run(build(Inputs::Demo, &vault));
    for args in [
        vec![
            "build".into(),
            "-q".into(),
            "--out".into(),
            file.clone().into_os_string(),
        ],
        vec![
            "export".into(),
            vault.clone().into_os_string(),
            "-q".into(),
            "-o".into(),
            file.clone().into_os_string(),
        ],
    ] {
        let o = bin().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("notes.md: not a folder: a file of that name is in the way"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "my notes\n");
    }
}

/// An interrupted run (Ctrl-C) removes its report's partial file, as a
/// failed one does: nothing is left beside FILE, hidden or not.
#[cfg(target_os = "linux")]
#[test]
fn an_interrupted_report_leaves_no_partial_file() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let rules = dir.path().join("failed-logon.yml");
    let rule = "title: Failed logon\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection\n";
    std::fs::write(&rules, rule).unwrap();
    let report = dir.path().join("report.jsonl");
    let mut child = bin()
        .args(["match", "-q", "-f", "jsonl", "-o"])
        .arg(&report)
        .arg(&fifo)
        .arg("--rules")
        .arg(&rules)
        .spawn()
        .unwrap();
    // Opened once the run reads the pipe, after the report began; held open,
    // so that the run waits for more events.
    let mut events = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writeln!(events, r#"{{"Channel":"Security","EventID":4625}}"#).unwrap();
    events.flush().unwrap();
    let names = || -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert!(
        names().iter().any(|n| n.ends_with(".partial")),
        "the report is being written: {:?}",
        names()
    );
    // SAFETY: a signal to the child just spawned, still running.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0);
    let status = child.wait().unwrap();
    drop(events);
    assert_eq!(status.code(), Some(130), "ended as interrupted");
    let mut left = names();
    left.sort();
    assert_eq!(
        left,
        ["events.pipe", "failed-logon.yml"],
        "no report, no partial file"
    );
}

/// `match -o` (and `test -o`): the report takes its name whole or not at
/// all, never over a file the analyst did not say to replace, and never
/// over what the run reads.
#[test]
fn a_report_file_never_replaces_an_analysts_file_nor_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events");
    std::fs::create_dir(&events).unwrap();
    let ev = events.join("ev.jsonl");
    std::fs::write(&ev, r#"{"Channel":"Security","EventID":4625}"#).unwrap();
    let rules = dir.path().join("failed-logon.yml");
    let rule = "title: Failed logon\nlogsource:\n  product: windows\n  service: security\ndetection:\n  selection:\n    EventID: 4625\n  condition: selection\n";
    std::fs::write(&rules, rule).unwrap();
    let hunt = |out: &Path, force: bool| {
        let mut c = bin();
        c.args(["match", "-q", "-f", "jsonl", "-o"]).arg(out);
        if force {
            c.arg("--force");
        }
        c.arg(&events).arg("--rules").arg(&rules).output().unwrap()
    };
    let mine = dir.path().join("mine.jsonl");
    std::fs::write(&mine, "my notes").unwrap();
    let refused = hunt(&mine, false);
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("mine.jsonl: exists: --force replaces it"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my notes");
    // An input, even with --force: the event file, or a file in the folder read.
    for input in [ev.clone(), events.join("old-report.jsonl")] {
        std::fs::write(&input, r#"{"Channel":"Security","EventID":4625}"#).unwrap();
        let before = std::fs::read(&input).unwrap();
        let out = hunt(&input, true);
        assert_eq!(out.status.code(), Some(2), "{}", input.display());
        assert_eq!(std::fs::read(&input).unwrap(), before);
    }
    // A new file in the folder read: the run would read its own report.
    let inside = events.join("new-report.jsonl");
    let out = hunt(&inside, true);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("new-report.jsonl: is read by this run"),
        "{err}"
    );
    let read: Vec<_> = std::fs::read_dir(&events).unwrap().collect();
    assert_eq!(
        read.len(),
        2,
        "no report and no partial file among the events"
    );
    // Replaced when asked; a run that cannot run leaves it, and nothing beside it.
    succeeded(hunt(&mine, true));
    assert!(std::fs::read_to_string(&mine).unwrap().starts_with('{'));
    let report = std::fs::read(&mine).unwrap();
    let failed = bin()
        .args(["match", "-q", "--force", "-o"])
        .arg(&mine)
        .arg(&events)
        .args(["--rules"])
        .arg(dir.path().join("no-rules-here"))
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
    assert_eq!(std::fs::read(&mine).unwrap(), report);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "no partial report left: {names:?}");
}
