//! The vault as Obsidian sees it: starter settings that never overwrite the
//! analyst's, one casing per tag, live Bases in Obsidian's documented
//! format, Home reaching every note, and the lean build options.
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(out: &Path, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "-q", "--out"])
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

pub(crate) fn notes(v: &Path) -> Vec<(String, String)> {
    walkdir::WalkDir::new(v)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(v)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, fs::read_to_string(e.path()).unwrap())
        })
        .collect()
}

fn frontmatter(note: &str) -> serde_json::Map<String, Value> {
    let Some(rest) = note.strip_prefix("---\n") else {
        return Default::default();
    };
    let end = rest.find("\n---\n").unwrap();
    serde_saphyr::from_str(&rest[..end]).unwrap()
}

/// Every tag of the vault: frontmatter lists and `#tags` in the text.
pub(crate) fn all_tags(v: &Path) -> Vec<String> {
    let mut tags = Vec::new();
    for (_, text) in notes(v) {
        tags.extend(listed_tags(&frontmatter(&text)));
        let body = attack_vault::vault::literal::without_code(&text);
        let b = body.as_bytes();
        for (i, _) in body.match_indices('#') {
            let starts = i == 0 || b[i - 1].is_ascii_whitespace();
            let word: String = body[i + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/'))
                .collect();
            if starts && word.chars().any(|c| !c.is_ascii_digit()) {
                tags.push(word);
            }
        }
    }
    tags
}

#[test]
fn starter_settings_are_written_once_and_never_over_the_analysts() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    fs::create_dir_all(v.join(".obsidian")).unwrap();
    fs::write(v.join(".obsidian/graph.json"), "{\"mine\": true}").unwrap();
    run(&v, &[]);
    assert_eq!(read(&v, ".obsidian/graph.json"), "{\"mine\": true}");
    let types: Value = serde_json::from_str(&read(&v, ".obsidian/types.json")).unwrap();
    // Every property any note carries has its declared type.
    for (path, text) in notes(&v) {
        for key in frontmatter(&text).keys() {
            assert!(types["types"][key].is_string(), "{path}: {key} has no type");
        }
    }
    assert_eq!(types["types"]["created"], "date");
    assert_eq!(types["types"]["tags"], "tags");
    let appearance = read(&v, ".obsidian/appearance.json");
    assert!(appearance.contains("attack-vault"), "{appearance}");
    assert!(v.join(".obsidian/snippets/attack-vault.css").is_file());
    let matrix = read(&v, "Matrices/enterprise-attack Enterprise ATT&CK.md");
    assert!(matrix.contains("cssclasses:\n  - \"av-wide\""), "{matrix}");
    // The analyst changes the bookmarks; a rebuild that has something new
    // to bookmark (a Changes note) leaves them, and updates the untouched
    // appearance file only if it changed (it did not).
    fs::write(v.join(".obsidian/bookmarks.json"), "{\"items\": []}").unwrap();
    run(&v, &["--levels", "high"]);
    assert_eq!(read(&v, ".obsidian/bookmarks.json"), "{\"items\": []}");
    assert_eq!(read(&v, ".obsidian/appearance.json"), appearance);
    assert_eq!(read(&v, ".obsidian/graph.json"), "{\"mine\": true}");
}

#[test]
fn untouched_bookmarks_follow_the_newest_changes_note() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &[]);
    assert!(!read(&v, ".obsidian/bookmarks.json").contains("Changes/"));
    run(&v, &["--levels", "high"]);
    let marks = read(&v, ".obsidian/bookmarks.json");
    let changes: Vec<_> = fs::read_dir(v.join("Changes")).unwrap().collect();
    assert_eq!(changes.len(), 1);
    assert!(marks.contains("\"path\": \"Changes/"), "{marks}");
}

#[cfg(unix)]
#[test]
fn a_linked_settings_folder_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    fs::create_dir_all(&v).unwrap();
    std::os::unix::fs::symlink(outside.path(), v.join(".obsidian")).unwrap();
    run(&v, &[]);
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

fn read(v: &Path, rel: &str) -> String {
    fs::read_to_string(v.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn one_casing_per_tag_and_no_tags_from_ids_or_citations() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &[]);
    let tags = all_tags(&v);
    let mut casings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for t in &tags {
        casings.entry(t.to_lowercase()).or_default().insert(t);
    }
    let two: Vec<_> = casings.values().filter(|c| c.len() > 1).collect();
    assert!(two.is_empty(), "{two:?}");
    for not_a_tag in ["G0016", "S0192", "C0024", "M1038", "TA0002", "DET0455"] {
        assert!(!tags.iter().any(|t| t == not_a_tag), "{not_a_tag}");
    }
    // The seed's query still finds the rules: technique tag on technique,
    // rules and tests alike.
    let tagged = |folder: &str| {
        notes(&v)
            .into_iter()
            .filter(|(p, t)| {
                p.starts_with(folder) && t.contains("tags:\n") && t.contains("  - \"T1059_006\"")
            })
            .count()
    };
    assert!(tagged("Detection Rules/") >= 2);
    assert!(tagged("atomics/") >= 1);
    assert_eq!(tagged("Techniques/T1059.006"), 1);
    assert!(tags.iter().any(|t| t == "execution"));
    assert!(!tags.iter().any(|t| t == "Execution"));
}

#[test]
fn a_tag_prefix_nests_every_generated_tag() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &["--tag-prefix", "attack", "--dataview"]);
    for (path, text) in notes(&v) {
        if let Some(Value::Array(t)) = frontmatter(&text).get("tags") {
            for tag in t {
                let tag = tag.as_str().unwrap();
                assert!(tag.starts_with("attack/"), "{path}: {tag}");
            }
        }
    }
    let t = read(&v, "Techniques/T1059.006 Python.md");
    assert!(
        t.contains("#attack/T1059_006"),
        "the Dataview query follows the prefix"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "--tag-prefix", "a b", "--out"])
        .arg(dir.path().join("w"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

/// Keys Obsidian's help documents for a base, by where they appear.
fn check_base(yaml: &str, at: &str) {
    let v: Value = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{at}: {e}\n{yaml}"));
    let keys = |o: &Value, allowed: &[&str], what: &str| {
        let m = o
            .as_object()
            .unwrap_or_else(|| panic!("{at}: {what} is not a mapping"));
        for k in m.keys() {
            assert!(allowed.contains(&k.as_str()), "{at}: {what} has {k}");
        }
    };
    keys(
        &v,
        &["filters", "formulas", "properties", "views", "summaries"],
        "base",
    );
    fn filter(f: &Value, at: &str) {
        match f {
            Value::String(s) => assert!(s.starts_with("file.hasTag(\""), "{at}: {s}"),
            Value::Object(m) => {
                assert_eq!(m.len(), 1, "{at}");
                let (k, list) = m.iter().next().unwrap();
                assert!(["and", "or", "not"].contains(&k.as_str()), "{at}: {k}");
                for x in list.as_array().unwrap() {
                    filter(x, at);
                }
            }
            other => panic!("{at}: filter {other}"),
        }
    }
    filter(&v["filters"], at);
    for (_, p) in v["properties"].as_object().unwrap() {
        keys(p, &["displayName"], "property");
    }
    for view in v["views"].as_array().unwrap() {
        keys(
            view,
            &[
                "type",
                "name",
                "limit",
                "filters",
                "order",
                "sort",
                "groupBy",
                "summaries",
            ],
            "view",
        );
        assert_eq!(view["type"], "table", "{at}");
        for s in view["sort"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(view.get("groupBy"))
        {
            keys(s, &["property", "direction"], "sort");
            let by = s["property"].as_str().unwrap();
            let defined = |f: &str| v["formulas"].get(f).is_some_and(Value::is_string);
            assert!(
                by.starts_with("file.")
                    || by.starts_with("note.")
                    || by.strip_prefix("formula.").is_some_and(defined),
                "{at}: sorted by {by}"
            );
            assert!(
                ["ASC", "DESC"].contains(&s["direction"].as_str().unwrap()),
                "{at}"
            );
        }
        for col in view["order"].as_array().unwrap() {
            let c = col.as_str().unwrap();
            assert!(
                c.starts_with("file.") || c.starts_with("note."),
                "{at}: {c}"
            );
        }
    }
}

#[test]
fn bases_parse_and_use_only_documented_keys() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &["--bases"]);
    let mut blocks = 0;
    for (path, text) in notes(&v) {
        let mut rest = text.as_str();
        while let Some(i) = rest.find("```base\n") {
            let body = &rest[i + 8..];
            let end = body.find("\n```").unwrap();
            check_base(&body[..end + 1], &path);
            blocks += 1;
            rest = &body[end..];
        }
    }
    assert!(blocks >= 6, "{blocks} base blocks");
    let t = read(&v, "Techniques/T1059.006 Python.md");
    assert!(t.contains("  - file.hasTag(\"detection_rule\")\n  - file.hasTag(\"T1059_006\")"));
    let files: Vec<PathBuf> = fs::read_dir(v.join("Bases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 3);
    for f in files {
        check_base(&fs::read_to_string(&f).unwrap(), &f.display().to_string());
    }
    // Without the flag: no blocks, no files.
    let w = dir.path().join("w");
    run(&w, &[]);
    assert!(!read(&w, "Techniques/T1059.006 Python.md").contains("```base"));
    assert!(!w.join("Bases").exists());
}

/// The tags a note's properties list.
fn listed_tags(fm: &serde_json::Map<String, Value>) -> Vec<String> {
    let tags = fm
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    tags.filter_map(|t| t.as_str().map(String::from)).collect()
}

/// A note's tags as Obsidian's `file.hasTag` and Dataview's `#tag` read
/// them: the tag itself or one nested under it, in any case.
fn has_tag(tags: &[String], tag: &str) -> bool {
    let tag = tag.to_lowercase();
    tags.iter().any(|t| {
        let t = t.to_lowercase();
        t == tag || t.starts_with(&format!("{tag}/"))
    })
}

/// Whether a base's filter selects a note with these tags (the statements
/// the vault writes: `file.hasTag`, under `and`, `or` and `not`).
fn base_selects(f: &Value, tags: &[String]) -> bool {
    match f {
        Value::String(s) => {
            let t = s
                .strip_prefix("file.hasTag(")
                .and_then(|r| r.strip_suffix(')'));
            let t: String = serde_json::from_str(t.unwrap_or_else(|| panic!("{s}"))).unwrap();
            has_tag(tags, &t)
        }
        Value::Object(m) => {
            let (k, list) = m.iter().next().unwrap();
            let mut each = list
                .as_array()
                .unwrap()
                .iter()
                .map(|x| base_selects(x, tags));
            match k.as_str() {
                "and" => each.all(|b| b),
                "or" => each.any(|b| b),
                _ => !each.any(|b| b),
            }
        }
        other => panic!("filter {other}"),
    }
}

/// Whether a Dataview `FROM` source (`#a AND (#b OR #c)`, as the vault
/// writes it) selects a note with these tags.
fn dataview_selects(from: &str, tags: &[String]) -> bool {
    from.split(" AND ").all(|part| {
        let part = part.trim_start_matches('(').trim_end_matches(')');
        part.split(" OR ").any(|t| {
            let t = t.strip_prefix('#').unwrap_or_else(|| panic!("source {t}"));
            has_tag(tags, t)
        })
    })
}

/// The notes a table's rows link first, by file name.
fn table_rows(table: &str) -> BTreeSet<String> {
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| [["))
        .map(|l| l[..l.find(['|', '\\', ']']).unwrap()].to_string())
        .collect()
}

#[test]
fn live_views_select_their_tables_rows_wherever_the_analyst_moves_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &["--bases", "--dataview"]);
    // The analyst files the notes away; Obsidian's views keep finding them.
    fs::create_dir_all(v.join("Library")).unwrap();
    for f in ["Detection Rules", "atomics", "Techniques"] {
        fs::rename(v.join(f), v.join("Library").join(f)).unwrap();
    }
    let all = notes(&v);
    let tagged: Vec<(String, Vec<String>, Value)> = all
        .iter()
        .map(|(path, text)| {
            let fm = frontmatter(text);
            let tags = listed_tags(&fm);
            let stem = path.rsplit('/').next().unwrap().trim_end_matches(".md");
            (
                stem.to_string(),
                tags,
                fm.get("type").cloned().unwrap_or_default(),
            )
        })
        .collect();
    let select = |pick: &dyn Fn(&[String]) -> bool| -> BTreeSet<String> {
        tagged
            .iter()
            .filter(|(_, t, _)| pick(t))
            .map(|(s, ..)| s.clone())
            .collect()
    };
    let mut views = 0;
    for (path, text) in &all {
        // Each table is followed by its live query and its live base.
        for part in text.split("\n### ").skip(1) {
            let Some((table, live)) = part.split_once("```dataview\n") else {
                continue;
            };
            let rows = table_rows(table);
            let from = live.lines().find_map(|l| l.strip_prefix("FROM ")).unwrap();
            assert_eq!(
                select(&|t| dataview_selects(from, t)),
                rows,
                "{path}: FROM {from}"
            );
            let base = &live[live.find("```base\n").unwrap() + 8..];
            let base: Value = serde_saphyr::from_str(&base[..base.find("```").unwrap()]).unwrap();
            assert_eq!(
                select(&|t| base_selects(&base["filters"], t)),
                rows,
                "{path}"
            );
            views += 1;
        }
    }
    assert!(views >= 6, "{views} live views");
    // The .base files select every note of their kind, and only those.
    for (file, kind) in [
        ("Detection Rules", "detection_rule"),
        ("Atomic Tests", "atomic_test"),
        ("Techniques", "technique"),
    ] {
        let base: Value = serde_saphyr::from_str(&read(&v, &format!("Bases/{file}.base"))).unwrap();
        let kind_notes: BTreeSet<String> = tagged
            .iter()
            .filter(|(.., k)| k == kind)
            .map(|(s, ..)| s.clone())
            .collect();
        assert!(!kind_notes.is_empty(), "{kind}");
        assert_eq!(
            select(&|t| base_selects(&base["filters"], t)),
            kind_notes,
            "{file}"
        );
    }
}

#[test]
fn the_graph_colours_every_kind_of_note_wherever_it_lies() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &["--tag-prefix", "attack"]);
    fs::create_dir_all(v.join("Library")).unwrap();
    fs::rename(v.join("Techniques"), v.join("Library/Techniques")).unwrap();
    let graph: Value = serde_json::from_str(&read(&v, ".obsidian/graph.json")).unwrap();
    let groups: Vec<String> = graph["colorGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            let q = g["query"].as_str().unwrap();
            q.strip_prefix("tag:#")
                .unwrap_or_else(|| panic!("{q}"))
                .to_string()
        })
        .collect();
    // Each group colours notes of one kind, and each kind has its group.
    let mut kinds_of: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut uncoloured = Vec::new();
    for (path, text) in notes(&v) {
        let fm = frontmatter(&text);
        let Some(kind) = fm.get("type").and_then(Value::as_str).map(String::from) else {
            continue;
        };
        let tags = listed_tags(&fm);
        let mut coloured = false;
        for g in &groups {
            if has_tag(&tags, g) {
                kinds_of.entry(g).or_default().insert(kind.clone());
                coloured = true;
            }
        }
        if !coloured {
            uncoloured.push(format!("{path} ({kind})"));
        }
    }
    for (g, kinds) in &kinds_of {
        assert_eq!(kinds.len(), 1, "{g} colours {kinds:?}");
    }
    for kind in [
        "technique",
        "tactic",
        "group",
        "detection_rule",
        "atomic_test",
        "sample_events",
    ] {
        assert!(
            kinds_of.values().any(|k| k.contains(kind)),
            "no colour for {kind}: {kinds_of:?}"
        );
    }
    // Notes of their own kind, one or a few each: no colour group.
    let expected: BTreeSet<&str> = [
        "matrix",
        "coverage",
        "home",
        "index",
        "report",
        "changes_index",
        "changes",
    ]
    .into();
    for u in &uncoloured {
        let kind = u.rsplit('(').next().unwrap().trim_end_matches(')');
        assert!(expected.contains(kind), "{u} has no colour");
    }
}

#[test]
fn home_reaches_every_entry_and_no_note_is_an_orphan() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &[]);
    let home = read(&v, "Home.md");
    for link in [
        "[[Coverage enterprise-attack]]",
        "[[enterprise-attack Enterprise ATT&CK|",
        "(<Navigator/enterprise-attack-coverage.json>)",
        "[[TA0002 Execution|Execution]]",
        "[[Link report]]",
        "[[Changes]]",
        "[[Techniques]]",
        "[[Detection Rules]]",
        "[[Atomic Tests]]",
    ] {
        assert!(home.contains(link), "{link} in {home}");
    }
    let all = notes(&v);
    let mut linked: BTreeSet<String> = BTreeSet::new();
    for (_, text) in &all {
        for t in attack_vault::vault::check::wikilink_targets(text) {
            linked.insert(t.to_lowercase());
        }
    }
    // Redirect notes (revoked objects, old names) exist for links made
    // elsewhere, not to be reached from Home.
    let orphans: Vec<&String> = all
        .iter()
        .filter(|(_, t)| {
            let fm = frontmatter(t);
            fm.get("revoked") != Some(&Value::Bool(true))
                && fm.get("type") != Some(&Value::from("redirect"))
        })
        .map(|(p, _)| p)
        .filter(|p| {
            let stem = Path::new(p.as_str())
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .to_lowercase();
            stem != "home" && !linked.contains(&stem)
        })
        .collect();
    assert!(orphans.is_empty(), "no incoming link: {orphans:?}");
}

#[test]
fn levels_and_domains_make_a_leaner_vault() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    let o = run(&v, &["--levels", "high,critical"]);
    // The demo's correlation is high, the rule it counts medium: it is said.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.lines().all(|l| l.contains("left out")
            || l.contains("correlation references `9b4f0a3e-5c1d-4e7a-8f2b-1a6c3d9e0f11`")),
        "{err}"
    );
    let rules: Vec<_> = notes(&v)
        .into_iter()
        .filter(|(p, _)| p.starts_with("Detection Rules/"))
        .collect();
    assert!(!rules.is_empty());
    for (p, text) in rules {
        assert_eq!(frontmatter(&text)["level"], "high", "{p}");
    }
    let w = dir.path().join("w");
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "--domains", "mobile", "--out"])
        .arg(&w)
        .arg("--attack")
        .arg(repo().join("demo/enterprise-attack.json"))
        .arg(repo().join("tests/fixtures/attack/mobile-mini.json"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("left out by --domains: enterprise-attack"),
        "{err}"
    );
    assert!(w.join("Coverage mobile-attack.md").exists());
    assert!(!w.join("Coverage enterprise-attack.md").exists());
    let bad = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["build", "--levels", "hgh", "--out"])
        .arg(dir.path().join("x"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[test]
fn folded_analytics_live_in_their_strategies_and_links_still_land() {
    let dir = tempfile::tempdir().unwrap();
    let v = dir.path().join("v");
    run(&v, &["--fold-analytics"]);
    assert!(!v.join("Analytics").exists());
    let strategy = read(
        &v,
        "Detection Strategies/DET0455 Detection of Python Interpreter Abuse.md",
    );
    assert!(strategy.contains("### AN1264 Detection of Python Interpreter Abuse (Linux, macOS)\n"));
    assert!(
        strategy.contains("| AllowedParents |"),
        "mutable elements are kept"
    );
    let component = read(&v, "Data Components/DC0032 Process Creation.md");
    assert!(component.contains(
        "[[DET0455 Detection of Python Interpreter Abuse#AN1264 Detection of Python Interpreter Abuse (Linux, macOS)\\|AN1264]]"
    ));
    let report = attack_vault::vault::check::check_vault(&v);
    assert!(report.is_clean(), "{}", common_describe(&report));
    let site = dir.path().join("site");
    let o = Command::new(env!("CARGO_BIN_EXE_attack-vault"))
        .args(["export", "--strict", "--vault"])
        .arg(&v)
        .arg("--out")
        .arg(&site)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page =
        fs::read_to_string(site.join("data-components/dc0032-process-creation.html")).unwrap();
    let anchor = "an1264-detection-of-python-interpreter-abuse-linux-macos";
    assert!(
        page.contains(&format!("abuse.html#{anchor}\"")),
        "links land on the section"
    );
    let host = fs::read_to_string(
        site.join("detection-strategies/det0455-detection-of-python-interpreter-abuse.html"),
    )
    .unwrap();
    assert!(host.contains(&format!("id=\"{anchor}\"")));
}

fn common_describe(r: &attack_vault::vault::check::CheckReport) -> String {
    format!("{r:?}")
}
