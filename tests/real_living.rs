//! A vault lived in across an ATT&CK release, on the real data: built with
//! Enterprise v17.1 and a set of SigmaHQ rules, edited by the analyst,
//! rebuilt with v18.1 and a changed rule set. What ATT&CK added and renamed
//! between the two releases is computed here from the raw bundles.

use crate::common;
use attack_vault::vault::check::check_vault;
use common::{active, attack_id, objects};
use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

/// Active technique ID → name.
fn techniques(bundle: &Path) -> BTreeMap<String, String> {
    objects(bundle)
        .iter()
        .filter(|o| o["type"] == "attack-pattern" && active(o))
        .filter_map(|o| Some((attack_id(o)?, o["name"].as_str()?.to_string())))
        .collect()
}

fn build(bundle: &Path, rules: &Path, out: &Path) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "-q", "--attack"])
        .arg(bundle)
        .arg("--sigma")
        .arg(rules)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    err
}

fn edit(path: &Path, f: impl FnOnce(String) -> String) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let new = f(text.clone());
    assert_ne!(new, text, "the edit changed nothing in {}", path.display());
    fs::write(path, new).unwrap();
}

/// Copy the process-creation rules whose file names start with one of
/// `prefixes` into `to`.
fn copy_rules(from: &Path, to: &Path, prefixes: &[&str]) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().to_string();
        if prefixes.iter().any(|p| name.starts_with(p)) {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

const SQUIRREL: &str = "proc_creation_win_squirrel_download.yml";
const DEVINIT: &str = "proc_creation_win_devinit_lolbin_usage.yml";

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn an_analysts_vault_follows_attack_from_v17_1_to_v18_1() {
    let v17 = data_or_skip!("attack/v17.1/enterprise-attack.json");
    let v18 = data_or_skip!("attack/v18.1/enterprise-attack.json");
    let proc = data_or_skip!("sigma/rules/windows/process_creation");
    let (t17, t18) = (techniques(&v17), techniques(&v18));
    let added: Vec<&String> = t18.keys().filter(|id| !t17.contains_key(*id)).collect();
    let renamed: Vec<(&String, &String, &String)> = t17
        .iter()
        .filter_map(|(id, old)| Some((id, old, t18.get(id).filter(|new| *new != old)?)))
        .collect();
    assert!(renamed.len() >= 2, "the releases rename techniques");

    let dir = tempfile::tempdir().unwrap();
    let (a, b, v) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("v"),
    );
    copy_rules(&proc, &a, &["proc_creation_win_d", "proc_creation_win_s"]);
    copy_rules(
        &proc,
        &b,
        &[
            "proc_creation_win_d",
            "proc_creation_win_s",
            "proc_creation_win_e",
        ],
    );
    build(&v17, &a, &v);

    // The analyst's edits: a renamed technique gets a property, a tag, a
    // paragraph in the middle and a Notes section; the other renamed one a
    // paragraph; a rule that will be retitled and one that will be removed
    // get text; a data component (named differently in v18) gets text.
    let tech = |id: &str, name: &str| v.join(format!("Techniques/{id} {name}.md"));
    let (id1, old1, new1) = renamed[0];
    let (id2, old2, new2) = renamed[1];
    edit(&tech(id1, old1), |t| {
        t.replacen("\nversion: ", "\nowner: \"alice\"\nversion: ", 1)
            .replacen(
                "  - \"techniques\"\n",
                "  - \"techniques\"\n  - \"case-12\"\n",
                1,
            )
            .replacen(
                "\n## Procedure Examples",
                "\nAnalyst: seen on host X.\n\n## Procedure Examples",
                1,
            )
            + "\n## Notes\n\nOur detection: DET-42.\n"
    });
    edit(&tech(id2, old2), |t| {
        t.replacen(
            "## Description\n\n",
            "## Description\n\nAnalyst: sample 7.\n\n",
            1,
        )
    });
    let rules = v.join("Detection Rules");
    edit(
        &rules.join("Arbitrary File Download Via Squirrel.EXE.md"),
        |t| t.replacen("## Rule\n", "Analyst: noisy on dev boxes.\n\n## Rule\n", 1),
    );
    edit(
        &rules.join("Arbitrary MSI Download Via Devinit.EXE.md"),
        |t| t + "\nTuned: excluded our updater.\n",
    );
    let component = v.join("Data Components/Process - Process Creation.md");
    edit(&component, |t| t + "\nAnalyst: our EDR covers this.\n");
    let mine = format!(
        "# Case 12\n\n[[{id1} {old1}]], [[{id2} {old2}|sandbox]], [[Process - Process Creation]], [[Command - Command Execution]], [[Arbitrary File Download Via Squirrel.EXE]], [[Arbitrary MSI Download Via Devinit.EXE]], [[Techniques/{id1} {old1}.md|by path]]\n"
    );
    fs::write(v.join("Case 12.md"), &mine).unwrap();

    // The new release and a changed rule set: one rule removed, one retitled.
    fs::remove_file(b.join(DEVINIT)).unwrap();
    let squirrel = fs::read_to_string(b.join(SQUIRREL)).unwrap();
    fs::write(
        b.join(SQUIRREL),
        squirrel.replace(
            "title: Arbitrary File Download Via Squirrel.EXE",
            "title: File Download Via Squirrel Updater",
        ),
    )
    .unwrap();
    let err = build(&v18, &b, &v);

    let read = |p: &Path| fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let t1 = read(&tech(id1, new1));
    for kept in [
        "owner: \"alice\"",
        "  - \"case-12\"",
        "Analyst: seen on host X.",
        "Our detection: DET-42.",
    ] {
        assert!(t1.contains(kept), "{id1}: lost {kept:?}\n{t1}");
    }
    assert!(read(&tech(id2, new2)).contains("Analyst: sample 7."));
    assert!(
        read(&rules.join("File Download Via Squirrel Updater.md"))
            .contains("Analyst: noisy on dev boxes.")
    );
    assert!(
        read(&rules.join("Arbitrary MSI Download Via Devinit.EXE.md"))
            .ends_with("Tuned: excluded our updater.\n")
    );
    assert!(
        err.contains("no longer generated, but you edited it"),
        "{err}"
    );
    let dc = read(&v.join("Data Components/DC0032 Process Creation.md"));
    assert!(dc.contains("Analyst: our EDR covers this."));
    assert!(read(&tech(id1, old1)).contains("type: \"redirect\""));
    assert!(read(&component).contains("[[DC0032 Process Creation]]"));
    assert_eq!(read(&v.join("Case 12.md")), mine);
    let report = check_vault(&v);
    assert!(report.is_clean(), "{}", common::describe(&report));

    let changes_dir = v.join("Changes");
    let mut notes = fs::read_dir(&changes_dir).unwrap();
    let changes = read(&notes.next().unwrap().unwrap().path());
    assert!(notes.next().is_none(), "one Changes note");
    let techniques = common::section(&changes, "technique");
    assert!(
        techniques.contains(&format!("### Added ({})", added.len())),
        "{techniques}"
    );
    // Note names replace characters a file name cannot hold (`/`), so the
    // lines are found by ID.
    let listed = |id: &str| {
        techniques
            .lines()
            .any(|l| l.starts_with(&format!("- **{id} ")))
    };
    for id in &added {
        assert!(listed(id), "{id} ({}) not added", t18[*id]);
    }
    assert!(techniques.contains(&format!("### Renamed ({})", renamed.len())));
    for (id, old, new) in &renamed {
        assert!(
            techniques.contains(&format!("- {id} {old} → **{id} {new}**")),
            "{id} not renamed"
        );
    }
    eprintln!(
        "v17.1 → v18.1: {} techniques added, {} renamed; {} notes, {} links resolve",
        added.len(),
        renamed.len(),
        report.notes,
        report.links
    );
}
