//! The living vault: rebuilds for new upstream data keep what the analyst
//! wrote (merged, kept, or set aside in a conflict), keep their links
//! resolving through renames, and record what changed.
use attack_vault::vault::check::{MissingAnchor, check_vault};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Builds `out` from the demo (no rules) or from a rules folder.
fn build(out: &Path, rules: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_attack-vault"));
    c.args(["build", "--out"]).arg(out);
    if let Some(r) = rules {
        c.arg("--sigma")
            .arg(r)
            .arg("--atomics")
            .arg(fixtures().join("atomics"));
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap();
    let new = f(text.clone());
    assert_ne!(new, text, "the edit changed nothing in {}", path.display());
    fs::write(path, new).unwrap();
}

/// A build of `rules` linked to the ATT&CK `bundle`, which succeeds.
fn build_with_attack(out: &Path, rules: &Path, bundle: &Path) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "--out"])
        .arg(out)
        .arg("--sigma")
        .arg(rules)
        .arg("--attack")
        .arg(bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

/// The text of the one Changes note a vault holds after its second build.
fn first_changes_note(v: &Path) -> String {
    let mut notes = fs::read_dir(v.join("Changes")).unwrap();
    read(&notes.next().unwrap().unwrap().path())
}

const PYTHON: &str = "Techniques/T1059.006 Python.md";

/// The analyst's edits to the Python technique note.
fn edit_python(v: &Path) {
    edit(&v.join(PYTHON), |t| {
        t.replacen("version: ", "owner: \"alice\"\nversion: ", 1)
            .replacen(
                "  - \"techniques\"\n",
                "  - \"techniques\"\n  - \"case-12\"\n",
                1,
            )
            .replacen(
                "\n## Description\n\n",
                "\n## Description\n\nAnalyst: seen in case 12.\n\n",
                1,
            )
            .replacen(
                "Remove Python from systems that do not need it. |",
                "Remove Python from systems that do not need it. Done on our servers (case 12). |",
                1,
            )
            + "\n## Notes\n\nMy closing words.\n"
    });
}

fn assert_python_edits(v: &Path, context: &str) {
    let t = read(&v.join(PYTHON));
    for kept in [
        "owner: \"alice\"",
        "  - \"case-12\"",
        "Analyst: seen in case 12.",
        "Done on our servers (case 12). |",
        "My closing words.",
    ] {
        assert!(t.contains(kept), "{context}: lost {kept:?}\n{t}");
    }
}

#[test]
fn edits_survive_rebuilds_for_other_data_and_generated_parts_update() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    edit_python(&v);
    fs::write(v.join("My notes.md"), "mine [[T1059.006 Python]]\n").unwrap();
    let rules = fixtures().join("rules/good");
    let o = build(&v, Some(&rules));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 note(s) merged"));
    assert_python_edits(&v, "after the fixtures build");
    let t = read(&v.join(PYTHON));
    assert!(
        t.contains("[[Fixture Python Inline]]"),
        "generated table not updated"
    );
    assert!(t.contains("rules: 1\n"), "generated property not updated");
    build(&v, None);
    build(&v, Some(&rules));
    build(&v, Some(&rules));
    assert_python_edits(&v, "after three more builds");
    assert_eq!(read(&v.join("My notes.md")), "mine [[T1059.006 Python]]\n");
    let changes: Vec<_> = fs::read_dir(v.join("Changes")).unwrap().collect();
    assert_eq!(
        changes.len(),
        3,
        "one Changes note per build that changed something"
    );
    assert!(read(&v.join("Changes.md")).matches("- [[").count() == 3);
    let r = check_vault(&v);
    assert!(r.is_clean(), "links: {:?}", r.unresolved);
}

#[test]
fn an_edited_note_no_longer_generated_stays_and_leaves_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    let rule = v.join("Detection Rules/PowerShell Encoded Command.md");
    let untouched = v.join("Detection Rules/Python Reverse Shell Pattern.md");
    edit(&rule, |t| t + "\nTuned for our fleet.\n");
    let o = build(&v, Some(&fixtures().join("rules/good")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no longer generated, but you edited it"),
        "{err}"
    );
    assert!(read(&rule).ends_with("Tuned for our fleet.\n"));
    assert!(!untouched.exists(), "an untouched stale note is removed");
    let manifest = read(&v.join(".attack-vault/manifest.txt"));
    assert!(!manifest.contains("PowerShell Encoded Command"));
    let changes = first_changes_note(&v);
    assert!(changes.contains("### No longer generated, kept because you edited them"));
    assert!(changes.contains("**PowerShell Encoded Command**"));
    let base = v.join(".attack-vault/base/Detection Rules/PowerShell Encoded Command.md.gz");
    assert!(
        base.is_file(),
        "a released note keeps its base while it stands"
    );

    // Generated again (the rule is back): the tool's again, merged.
    build(&v, Some(&fixtures().join("rules/good")));
    let o = build(&v, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("was not generated"), "{err}");
    let note = read(&rule);
    assert!(note.ends_with("Tuned for our fleet.\n"), "{note}");
    assert!(note.contains("title: \"PowerShell Encoded Command\""));
    let manifest = read(&v.join(".attack-vault/manifest.txt"));
    assert!(manifest.contains("Detection Rules/PowerShell Encoded Command.md\n"));

    // Released, then replaced by a text of the analyst's own: generated
    // again, it is never changed.
    build(&v, Some(&fixtures().join("rules/good")));
    fs::write(&rule, "Entirely my own note.\n").unwrap();
    build(&v, None);
    assert_eq!(read(&rule), "Entirely my own note.\n");

    // Released again and then deleted by the analyst: its base goes.
    build(&v, Some(&fixtures().join("rules/good")));
    assert!(base.is_file());
    fs::remove_file(&rule).unwrap();
    build(&v, Some(&fixtures().join("rules/good")));
    assert!(
        !base.exists(),
        "the base of a note the analyst deleted goes"
    );
}

#[test]
fn a_note_deleted_by_the_analyst_is_written_again_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    fs::remove_file(v.join(PYTHON)).unwrap();
    let o = build(&v, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("1 file(s) the last build wrote were gone and are written again: Techniques/T1059.006 Python.md"),
        "{err}"
    );
    assert!(v.join(PYTHON).is_file());
    let o = build(&v, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("were gone"), "said once: {err}");
}

#[test]
fn the_same_lines_changed_on_both_sides_keep_the_analysts_file_and_the_new_one_aside() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    let row = "| [[Python Inline Command Execution]] | test | medium | windows |";
    edit(&v.join(PYTHON), |t| {
        t.replacen(
            row,
            "| [[Python Inline Command Execution]] | test | medium | windows (tuned) |",
            1,
        )
    });
    let mine = read(&v.join(PYTHON));
    let o = build(&v, Some(&fixtures().join("rules/good")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("change the same lines"), "{err}");
    assert_eq!(read(&v.join(PYTHON)), mine, "the analyst's file stands");
    let aside = read(&v.join(".attack-vault/conflicts").join(PYTHON));
    assert!(aside.contains("[[Fixture Python Inline]]"));
    // The Changes note shows, inside Obsidian, what the new version would
    // change: the analyst's tuned row out, the new rows in.
    let changes = first_changes_note(&v);
    let folded = "> [!warning]- **T1059.006 Python**: what the new version changes\n> ```diff\n> --- yours\n> +++ new version\n";
    assert!(changes.contains(folded), "{changes}");
    assert!(
        changes.contains(
            "\n> -| [[Python Inline Command Execution]] | test | medium | windows (tuned) |\n"
        ),
        "{changes}"
    );
    assert!(
        changes.contains("\n> +| [[Fixture Python Inline]]"),
        "{changes}"
    );
    // Once the analyst takes the new version, the copy aside goes.
    fs::copy(
        v.join(".attack-vault/conflicts").join(PYTHON),
        v.join(PYTHON),
    )
    .unwrap();
    build(&v, Some(&fixtures().join("rules/good")));
    assert!(!v.join(".attack-vault/conflicts").join(PYTHON).exists());
}

#[test]
fn a_private_note_in_conflict_keeps_its_words_out_of_the_changes_note() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    edit(&v.join(PYTHON), |t| {
        t.replacen("version: ", "publish: false\nversion: ", 1)
            .replacen(
                "| medium | windows |",
                "| medium | our secret host list |",
                1,
            )
    });
    let o = build(&v, Some(&fixtures().join("rules/good")));
    assert!(String::from_utf8_lossy(&o.stderr).contains("change the same lines"));
    let changes = first_changes_note(&v);
    assert!(
        changes.contains(
            "**T1059.006 Python**: private (`publish: false` or `draft: true`), so not shown here"
        ),
        "{changes}"
    );
    assert!(!changes.contains("secret host"), "{changes}");
}

/// A vault built from a rules folder that holds the Python fixture rule as
/// `r.yml`: the vault, the rules folder and the rule's text.
fn built_on_python_rule(dir: &Path) -> (PathBuf, PathBuf, String) {
    let v = dir.join("v");
    let rules = dir.join("rules");
    fs::create_dir(&rules).unwrap();
    let rule = fs::read_to_string(fixtures().join("rules/good/python_c.yml")).unwrap();
    fs::write(rules.join("r.yml"), &rule).unwrap();
    build(&v, Some(&rules));
    (v, rules, rule)
}

#[test]
fn a_renamed_rule_leaves_a_redirect_so_links_keep_resolving() {
    let dir = tempfile::tempdir().unwrap();
    let (v, rules, rule) = built_on_python_rule(dir.path());
    fs::write(v.join("Case 12.md"), "See [[Fixture Python Inline]].\n").unwrap();
    fs::write(
        v.join("Case 13.md"),
        "[[Fixture Python Inline#Rule]] [[Fixture Python Inline#Gone]]\n",
    )
    .unwrap();
    edit(&v.join("Detection Rules/Fixture Python Inline.md"), |t| {
        t.replacen("## Rule\n", "Tuned in case 12.\n\n## Rule\n", 1)
    });
    fs::write(
        rules.join("r.yml"),
        rule.replace("Fixture Python Inline", "Fixture Python One-Liner"),
    )
    .unwrap();
    build(&v, Some(&rules));
    let redirect = read(&v.join("Detection Rules/Fixture Python Inline.md"));
    assert!(redirect.contains("type: \"redirect\""));
    assert!(redirect.contains("[[Fixture Python One-Liner]]"));
    let renamed = read(&v.join("Detection Rules/Fixture Python One-Liner.md"));
    assert!(
        renamed.contains("Tuned in case 12."),
        "edits follow the note: {renamed}"
    );
    assert!(!redirect.contains("Tuned in case 12."));
    let r = check_vault(&v);
    assert!(r.unresolved.is_empty(), "links: {:?}", r.unresolved);
    // A link to a heading lands on the redirect, which has none of the
    // note's headings: check names where the note went.
    let renamed = |heading: &str, lands: bool| MissingAnchor {
        note: "Case 13.md".into(),
        link: format!("[[Fixture Python Inline#{heading}]]"),
        renamed: Some(("Fixture Python One-Liner".into(), lands)),
    };
    assert_eq!(
        r.missing_anchors,
        [renamed("Rule", true), renamed("Gone", false)]
    );
    let out = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["check", "--vault"])
        .arg(&v)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("Case 13.md: [[Fixture Python Inline#Rule]] names a heading or block of a note since renamed: [[Fixture Python One-Liner]] has it"),
        "{said}"
    );
    fs::remove_file(v.join("Case 13.md")).unwrap();
    let changes = first_changes_note(&v);
    assert!(
        changes.contains("- Fixture Python Inline → **Fixture Python One-Liner**"),
        "{changes}"
    );
    // Renamed back: the note returns to its first name, and the second
    // name redirects to it.
    fs::write(rules.join("r.yml"), &rule).unwrap();
    build(&v, Some(&rules));
    let back = read(&v.join("Detection Rules/Fixture Python Inline.md"));
    assert!(!back.contains("redirect") && back.contains("Tuned in case 12."));
    assert!(read(&v.join("Detection Rules/Fixture Python One-Liner.md")).contains("redirect"));
    assert!(check_vault(&v).is_clean());
}

#[test]
fn a_note_renamed_with_its_text_unchanged_takes_the_analysts_edits_along() {
    // A second rule of the same title: both notes are then named apart by
    // their ids, the first one's text unchanged.
    let dir = tempfile::tempdir().unwrap();
    let (v, rules, rule) = built_on_python_rule(dir.path());
    let first = v.join("Detection Rules/Fixture Python Inline.md");
    edit(&first, |t| t + "\nTuned in case 12.\n");
    let twin = rule
        .replace("11111111-2222", "00000000-2222")
        .replace("python.exe", "pythonw.exe");
    fs::write(rules.join("a.yml"), twin).unwrap();
    build(&v, Some(&rules));
    let moved = read(&v.join("Detection Rules/Fixture Python Inline (11111111).md"));
    assert!(moved.contains("Tuned in case 12."), "{moved}");
    let redirect = read(&first);
    assert!(
        redirect.contains("type: \"redirect\"") && !redirect.contains("Tuned"),
        "{redirect}"
    );
    assert!(check_vault(&v).is_clean());
}

#[test]
fn rules_sharing_an_id_never_trade_the_analysts_edits() {
    // A rule copied to be tuned often keeps its id. Its note's name sorts
    // before the original's or after it.
    for title in ["Fixture Python Inline Tuned", "Fixture Python Inline_Tuned"] {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path().join("v");
        let rules = dir.path().join("rules");
        fs::create_dir(&rules).unwrap();
        let rule = fs::read_to_string(fixtures().join("rules/good/python_c.yml")).unwrap();
        fs::write(rules.join("a.yml"), &rule).unwrap();
        fs::write(
            rules.join("b.yml"),
            rule.replace("Fixture Python Inline", title),
        )
        .unwrap();
        let out = build(&v, Some(&rules));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("b.yml:1: rule id `")
                && err.contains("is also that of `Fixture Python Inline`"),
            "{err}"
        );
        let tuned = v.join(format!("Detection Rules/{title}.md"));
        edit(&tuned, |t| t + "\nWhy we tuned it: case 12.\n");
        // The copy goes; its edited note stays as it is, and the other
        // rule's note neither takes its words nor becomes its redirect.
        fs::remove_file(rules.join("b.yml")).unwrap();
        build(&v, Some(&rules));
        let kept = read(&tuned);
        assert!(
            kept.contains("Why we tuned it") && !kept.contains("redirect"),
            "{title}: {kept}"
        );
        let other = read(&v.join("Detection Rules/Fixture Python Inline.md"));
        assert!(!other.contains("Why we tuned it"), "{title}: {other}");
    }
}

/// A folder `rules` in `dir` holding the fixture rule `python_c.yml` with
/// its tags changed by `retag`.
fn retagged_rule(dir: &Path, retag: impl Fn(String) -> String) -> PathBuf {
    let rules = dir.join("rules");
    fs::create_dir(&rules).unwrap();
    let rule = fs::read_to_string(fixtures().join("rules/good/python_c.yml")).unwrap();
    fs::write(rules.join("r.yml"), retag(rule)).unwrap();
    rules
}

#[test]
fn rules_of_a_later_attack_release_are_said_loudly_and_get_stub_notes() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let rules = retagged_rule(dir.path(), |r| {
        r.replace("attack.execution", "attack.stealth")
            .replace("attack.t1059.006", "attack.t1685")
    });
    // Linked to the demo slice (no --attack), what it lacks is the slice's.
    let o = build(&v, Some(&rules));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "no --attack given: the rules and tests are linked to the embedded demo slice"
        ) && err.contains("T1685")
            && err.contains("attack.stealth")
            && err.contains("build with ATT&CK v19 or later"),
        "{err}"
    );
    let report = read(&v.join("Link report.md"));
    assert!(report.contains("Linked to the demo slice of ATT&CK") && report.contains("v19"));
    // The same bundle given with --attack is a release: T1685 is beyond it.
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/enterprise-attack.json");
    let o = build_with_attack(&v, &rules, &bundle);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("follow a later ATT&CK release than the one loaded")
            && err.contains("T1685")
            && err.contains("attack.stealth"),
        "{err}"
    );
    let tactic = read(&v.join("Tactics/Stealth.md"));
    assert!(tactic.contains("`attack.stealth` is a tactic the loaded ATT&CK data lacks"));
    assert!(tactic.contains("[[Fixture Python Inline]]"));
    let stub = read(&v.join("Techniques/T1685 Unknown technique.md"));
    assert!(stub.contains("an ID of a later ATT&CK release"), "{stub}");
    let report = read(&v.join("Link report.md"));
    assert!(
        report.contains("follow a later ATT&CK release") && report.contains("ATT&CK v19 or later")
    );
    assert!(err.contains("build with ATT&CK v19 or later"), "{err}");
    assert!(check_vault(&v).is_clean());
}

#[test]
fn rules_beside_only_mobile_or_ics_attack_are_told_to_load_enterprise() {
    // Rules name Enterprise techniques: beside a Mobile bundle alone, an ID
    // above Mobile's highest is of the missing domain, not of a later
    // release (which was said, and stubs called them so).
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let rules = retagged_rule(dir.path(), |r| {
        r.replace("attack.t1059.006", "attack.t1690")
    });
    let o = build_with_attack(&v, &rules, &fixtures().join("attack/mobile-mini.json"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds mobile-attack but not Enterprise ATT&CK")
            && err.contains("T1690")
            && err.contains("build with Enterprise ATT&CK as well")
            && !err.contains("later ATT&CK release"),
        "{err}"
    );
    let stub = read(&v.join("Techniques/T1690 Unknown technique.md"));
    assert!(
        stub.contains("holds mobile-attack but not Enterprise ATT&CK"),
        "{stub}"
    );
    assert!(!stub.contains("later ATT&CK release"), "{stub}");
    let report = read(&v.join("Link report.md"));
    assert!(
        report.contains("No Enterprise ATT&CK loaded") && !report.contains("later ATT&CK release"),
        "{report}"
    );
    // Enterprise given but left out by --domains: that is what to change.
    let enterprise = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/enterprise-attack.json");
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "--domains", "mobile-attack", "--out"])
        .arg(&v)
        .arg("--sigma")
        .arg(&rules)
        .arg("--attack")
        .arg(&enterprise)
        .arg(fixtures().join("attack/mobile-mini.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("build with enterprise-attack in --domains as well"),
        "{err}"
    );
}

/// Notes name their sources from the input root (never the build machine's
/// folders), write no empty lists, and give a rule one References heading.
#[test]
fn sources_are_relative_lists_never_empty_and_references_one_heading() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let rules = fixtures().join("rules/good").canonicalize().unwrap();
    build(&v, Some(&rules));
    let rule = read(&v.join("Detection Rules/Fixture Python Inline.md"));
    assert!(rule.contains("source: \"good/python_c.yml\""), "{rule}");
    assert!(!rule.contains(&*dir.path().to_string_lossy()));
    let test = read(&v.join("atomics/T1059.006-1 Fixture test.md"));
    assert!(
        test.contains("source: \"atomics/T1059.006/T1059.006.yaml\""),
        "{test}"
    );
    for e in walkdir::WalkDir::new(&v).into_iter().filter_map(Result::ok) {
        if e.path().extension().is_some_and(|x| x == "md") {
            let t = read(e.path());
            assert!(!t.contains(": []\n"), "{}", e.path().display());
            assert!(
                t.matches("\n## References\n").count() <= 1,
                "{}",
                e.path().display()
            );
        }
    }
}

/// A rule of Enterprise techniques appears on the Enterprise Coverage note
/// only, whatever other domains the vault holds.
#[test]
fn each_coverage_note_lists_its_own_domains_rules() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "-q", "--out"])
        .arg(&v)
        .arg("--attack")
        .arg(repo.join("demo/enterprise-attack.json"))
        .arg(fixtures().join("attack/mobile-mini.json"))
        .arg("--sigma")
        .arg(fixtures().join("rules/good"))
        .arg("--events")
        .arg(repo.join("demo/events"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let enterprise = read(&v.join("Coverage enterprise-attack.md"));
    let mobile = read(&v.join("Coverage mobile-attack.md"));
    assert!(enterprise.contains(": 1 rule fired"), "{enterprise}");
    assert!(mobile.contains(": 0 rules fired"), "{mobile}");
    assert!(!mobile.contains("Fixture Python Inline"), "{mobile}");
}

#[test]
fn a_damaged_state_file_is_said_and_the_build_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    fs::write(v.join(".attack-vault/snapshot.json"), "{ not json").unwrap();
    let o = build(&v, Some(&fixtures().join("rules/good")));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("snapshot.json") && err.contains("state file not readable"),
        "{err}"
    );
    assert!(v.join(PYTHON).is_file());
}

/// Every note (`.md`) of a vault, by path.
fn notes_of(v: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(v)
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect()
}

/// A note renamed as Obsidian renames it: the file moves, and the links
/// of every note to it name it anew.
fn rename_in_obsidian(v: &Path, from: &str, to: &str) {
    fs::rename(v.join(from), v.join(to)).unwrap();
    let stem = |p: &str| {
        p.rsplit('/')
            .next()
            .unwrap()
            .trim_end_matches(".md")
            .to_string()
    };
    let (old, new) = (stem(from), stem(to));
    for note in notes_of(v) {
        let text = read(&note);
        let mut out = text.clone();
        for end in ["]]", "|", "#", "\\|"] {
            out = out.replace(&format!("[[{old}{end}"), &format!("[[{new}{end}"));
        }
        if out != text {
            fs::write(&note, out).unwrap();
        }
    }
}

#[test]
fn a_note_renamed_or_moved_in_obsidian_is_followed_with_its_edits() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    let ours = "Techniques/T1059.006 Python (ours).md";
    rename_in_obsidian(&v, PYTHON, ours);
    edit(&v.join(ours), |t| t + "\nWhy it matters: case 12.\n");
    let o = build(&v, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("followed 1 note you renamed or moved: Techniques/T1059.006 Python (ours).md"),
        "{err}"
    );
    assert!(!err.contains("written again"), "{err}");
    assert!(
        !v.join(PYTHON).exists(),
        "no second note under the tool's name"
    );
    let changes = first_changes_note(&v);
    assert!(changes.contains("Renamed or moved by you"), "{changes}");
    // Its edit stays through later builds, whose links name it as the
    // analyst does, and which change nothing more.
    for _ in 0..2 {
        build(&v, None);
        assert!(read(&v.join(ours)).contains("Why it matters: case 12."));
        assert!(check_vault(&v).is_clean());
    }
    let before: Vec<(PathBuf, String)> = notes_of(&v)
        .into_iter()
        .map(|p| (p.clone(), read(&p)))
        .collect();
    build(&v, None);
    for (p, text) in &before {
        assert_eq!(&read(p), text, "{} changed", p.display());
    }
    // Moved to another folder without its links (Obsidian set not to
    // update them): followed there, and the build's links name it.
    let moved = "Groups/Python, ours.md";
    fs::rename(v.join(ours), v.join(moved)).unwrap();
    build(&v, None);
    assert!(read(&v.join(moved)).contains("Why it matters: case 12."));
    assert!(!v.join(ours).exists() && !v.join(PYTHON).exists());
    let report = check_vault(&v);
    assert!(report.is_clean(), "{:?}", report.unresolved);
    let t1059 = read(&v.join("Techniques/T1059 Command and Scripting Interpreter.md"));
    assert!(t1059.contains("[[Python, ours"), "{t1059}");
}

#[test]
fn two_copies_of_a_renamed_note_are_both_left_and_the_note_written_again() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    let a = v.join("Techniques/Python A.md");
    let b = v.join("Techniques/Python B.md");
    fs::copy(v.join(PYTHON), &a).unwrap();
    fs::rename(v.join(PYTHON), &b).unwrap();
    let (text_a, text_b) = (read(&a), read(&b));
    let o = build(&v, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("written again"), "{err}");
    assert!(v.join(PYTHON).exists());
    assert_eq!(
        (read(&a), read(&b)),
        (text_a, text_b),
        "neither copy is touched"
    );
}

#[test]
fn a_note_of_ones_own_about_the_same_object_is_never_taken_for_a_renamed_one() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    let research = v.join("Research on Python.md");
    let text =
        "---\ntype: \"technique\"\nid: \"T1059.006\"\n---\n\n# Our research\n\nSeen twice.\n";
    fs::write(&research, text).unwrap();
    fs::remove_file(v.join(PYTHON)).unwrap();
    build(&v, None);
    assert_eq!(read(&research), text);
    assert!(v.join(PYTHON).is_file(), "the note is written again");
    build(&v, None);
    assert_eq!(read(&research), text);
}

#[test]
fn a_note_of_ones_own_with_a_generated_notes_name_is_left_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    // Obsidian resolves `[[T1059.006 Python]]` to one of two such notes.
    fs::create_dir(v.join("Cases")).unwrap();
    let own = v.join("Cases/t1059.006 python.md");
    fs::write(&own, "My own notes.\n").unwrap();
    let err = String::from_utf8(build(&v, None).stderr).unwrap();
    let said = format!(
        "{}: your note has the name of the generated note `{PYTHON}`",
        own.display()
    );
    assert!(err.contains(&said), "{err}");
    assert!(
        err.contains("links meant for one may open the other; rename your note"),
        "{err}"
    );
    assert_eq!(read(&own), "My own notes.\n");
    assert!(v.join(PYTHON).is_file());

    // A generated note moved to another folder is the same note: no clash.
    fs::remove_file(&own).unwrap();
    fs::rename(v.join(PYTHON), v.join("Cases/T1059.006 Python.md")).unwrap();
    let err = String::from_utf8(build(&v, None).stderr).unwrap();
    assert!(
        err.contains("followed 1 note you renamed or moved"),
        "{err}"
    );
    assert!(!err.contains("has the name of"), "{err}");
    assert!(!v.join(PYTHON).exists());
}

#[test]
fn a_renamed_note_in_conflict_stays_the_analysts_through_later_builds() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let rules = dir.path().join("rules");
    fs::create_dir(&rules).unwrap();
    let rule = read(&fixtures().join("rules/good/python_c.yml"));
    fs::write(rules.join("r.yml"), &rule).unwrap();
    build(&v, Some(&rules));
    let ours = v.join("Detection Rules/Our Python rule.md");
    fs::rename(v.join("Detection Rules/Fixture Python Inline.md"), &ours).unwrap();
    edit(&ours, |t| {
        t.replacen("level **medium**", "level **medium** (we page on it)", 1)
    });
    let mine = read(&ours);
    // Upstream changes the same line.
    fs::write(
        rules.join("r.yml"),
        rule.replace("level: medium", "level: high"),
    )
    .unwrap();
    let o = build(&v, Some(&rules));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("change the same lines"), "{err}");
    assert_eq!(read(&ours), mine, "the analyst's file stands");
    let aside = v.join(".attack-vault/conflicts/Detection Rules/Our Python rule.md");
    assert!(read(&aside).contains("level **high**"));
    for _ in 0..2 {
        build(&v, Some(&rules));
        assert_eq!(read(&ours), mine, "and stands at every later build");
        assert!(!v.join("Detection Rules/Fixture Python Inline.md").exists());
    }
}

#[test]
fn a_renames_file_naming_files_the_tool_never_wrote_changes_none_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    fs::write(v.join("Mine.md"), "my own words\n").unwrap();
    fs::write(v.join(".obsidian/app.json"), "{}\n").unwrap();
    for target in ["Mine.md", ".obsidian/app.json", "../outside.md"] {
        let renames = format!("{{\"technique:T1059.006\": \"{target}\"}}");
        fs::write(v.join(".attack-vault/renames.json"), renames).unwrap();
        build(&v, None);
        assert_eq!(read(&v.join("Mine.md")), "my own words\n", "{target}");
        assert_eq!(read(&v.join(".obsidian/app.json")), "{}\n", "{target}");
        assert!(read(&v.join(PYTHON)).contains("T1059.006"), "{target}");
        assert!(!dir.path().join("outside.md").exists());
    }
}

#[test]
fn ta0005_meets_its_rules_by_its_old_name_and_by_its_v19_name() {
    let dir = tempfile::tempdir().unwrap();
    let (v, rules) = (dir.path().join("v"), dir.path().join("rules"));
    fs::create_dir(&rules).unwrap();
    let rule = fs::read_to_string(fixtures().join("rules/good/python_c.yml")).unwrap();
    let tagged = [
        ("Old Name", "attack.defense-evasion", "1"),
        ("New Name", "attack.stealth", "2"),
        ("Split Off", "attack.defense-impairment", "3"),
    ];
    for (title, tactic, n) in tagged {
        let text = rule
            .replace("Fixture Python Inline", title)
            .replace("attack.execution", tactic)
            .replace("attack.t1059.006", "attack.t1036")
            .replace("555555555555", &format!("55555555555{n}"));
        fs::write(rules.join(format!("{n}.yml")), text).unwrap();
    }
    // Built first on the demo slice, which has no TA0005: each name gets a
    // stub note, which the analyst links.
    build(&v, Some(&rules));
    assert!(v.join("Tactics/Stealth.md").exists() && v.join("Tactics/Defense Evasion.md").exists());
    fs::write(
        v.join("Case.md"),
        "# Case\n\n[[Stealth]], [[Defense Evasion]]\n",
    )
    .unwrap();
    // And writes in one of them: the redirect that replaces it keeps it.
    let stealth = v.join("Tactics/Stealth.md");
    let stub = fs::read_to_string(&stealth).unwrap();
    fs::write(&stealth, format!("{stub}\n## Our take\n\nWatch LOLBins.\n")).unwrap();
    // Then on ATT&CK before v19, whose TA0005 is `defense-evasion`.
    let bundle = fixtures().join("attack/enterprise-ta0005-v18.json");
    build_with_attack(&v, &rules, &bundle);
    let ta0005 = read(&v.join("Tactics/TA0005 Defense Evasion.md"));
    assert!(
        ta0005.contains("[[Old Name]]") && ta0005.contains("[[New Name]]"),
        "{ta0005}"
    );
    assert!(
        !ta0005.contains("[[Split Off]]"),
        "TA0112 is a tactic of its own"
    );
    // The stubs' paths now lead to TA0005: the analyst's links still land.
    for stub in ["Stealth", "Defense Evasion"] {
        let note = read(&v.join(format!("Tactics/{stub}.md")));
        assert!(
            note.contains("type: \"redirect\"") && note.contains("[[TA0005 Defense Evasion]]"),
            "{stub}: {note}"
        );
    }
    assert!(
        read(&stealth).contains("Watch LOLBins."),
        "the analyst's words stay"
    );
    let stub = read(&v.join("Tactics/Defense Impairment.md"));
    assert!(stub.contains("[[Split Off]]"), "{stub}");
    let report = check_vault(&v);
    assert!(report.is_clean(), "{:?}", report.unresolved);
    // A vault built on that data from the start has no stub beside TA0005.
    let fresh = dir.path().join("fresh");
    build_with_attack(&fresh, &rules, &bundle);
    assert!(!fresh.join("Tactics/Stealth.md").exists());
}

#[test]
fn a_new_version_of_the_notes_alone_says_that_no_data_changed() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    build(&v, None);
    edit(&v.join(PYTHON), |t| t + "\nMy own words.\n");
    // The same data through a changed template: only the notes' own
    // words change, and the analyst's are merged into them.
    let templates = dir.path().join("templates");
    fs::create_dir_all(&templates).unwrap();
    let technique =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/technique.md"))
            .unwrap();
    // Saved by Notepad, with a byte order mark: no part of the notes.
    fs::write(
        templates.join("technique.md"),
        format!(
            "\u{feff}{}",
            technique.replacen("**Platforms:**", "**Runs on:**", 1)
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "--out"])
        .arg(&v)
        .arg("--templates")
        .arg(&templates)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let python = read(&v.join(PYTHON));
    assert!(python.contains("**Runs on:**") && python.contains("My own words."));
    assert!(python.starts_with("---\n"), "{python}");
    let changes = first_changes_note(&v);
    assert!(
        changes.contains("## Summary\n\nNo note of ATT&CK, rules or tests was added, removed, renamed or changed.\n"),
        "{changes}"
    );
    assert!(!changes.contains("| Kind |"), "no empty table: {changes}");
    assert!(changes.contains("- **T1059.006 Python**"), "{changes}");
}
