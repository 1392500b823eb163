//! How two paths on disk relate, for refusing to read a tool's own output as
//! its input, or to write an output over its input; and what a folder
//! holds, for refusing to write where other files live.

use std::path::{Path, PathBuf};

/// Where `a` lies with respect to `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Same,
    /// `a` is inside `b`.
    Inside,
    /// `a` contains `b`.
    Contains,
    Apart,
}

/// The absolute form of a path that may not exist yet: its nearest existing
/// ancestor resolved (symbolic links followed), the rest appended.
fn resolved(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut tail = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = cur.canonicalize() {
            return tail.iter().rev().fold(c, |acc: PathBuf, t| acc.join(t));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_os_string());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

/// How `a` relates to `b`.
pub fn relation(a: &Path, b: &Path) -> Relation {
    let (a, b) = (resolved(a), resolved(b));
    if a == b {
        Relation::Same
    } else if a.starts_with(&b) {
        Relation::Inside
    } else if b.starts_with(&a) {
        Relation::Contains
    } else {
        Relation::Apart
    }
}

/// Whether a run reading `events` and `rules` (files or folders) reads a
/// file at `p`: one given, or one its walk finds. Every file in a folder of
/// events is read (a report's partial file too), in a folder of rules only
/// the YAML ones.
pub fn read_by_run(p: &Path, events: &[PathBuf], rules: &[PathBuf]) -> bool {
    let within = |i: &PathBuf| relation(p, i);
    events
        .iter()
        .any(|i| matches!(within(i), Relation::Same | Relation::Inside))
        || rules.iter().any(|i| match within(i) {
            Relation::Same => true,
            Relation::Inside => sigma_engine::sigma::is_rule_file(p),
            Relation::Contains | Relation::Apart => false,
        })
}

/// Why `vault` cannot be read as a vault, if it cannot: it does not exist,
/// or it is a file and not a folder.
pub fn not_a_vault(vault: &Path) -> Option<&'static str> {
    match std::fs::metadata(vault) {
        Ok(m) if m.is_dir() => None,
        Ok(_) => Some("not a folder: a vault is a folder of notes"),
        Err(_) => Some("no such vault folder"),
    }
}

/// The names of the entries of folder `dir`, sorted; `None` when it cannot
/// be listed (it does not exist yet).
pub fn entry_names(dir: &Path) -> Option<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_through_dots_links_and_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let v = dir.path().join("vault");
        std::fs::create_dir_all(v.join("Notes")).unwrap();
        assert_eq!(relation(&v, &v.join("../vault")), Relation::Same);
        assert_eq!(relation(&v.join("Notes"), &v), Relation::Inside);
        assert_eq!(relation(&v.join("site/new"), &v), Relation::Inside);
        assert_eq!(relation(dir.path(), &v), Relation::Contains);
        assert_eq!(relation(&dir.path().join("other"), &v), Relation::Apart);
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&v, &link).unwrap();
            assert_eq!(relation(&link.join("x"), &v), Relation::Inside);
        }
    }

    #[test]
    fn a_run_reads_every_file_of_its_event_folders_and_the_yaml_of_its_rule_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (events, rules) = (dir.path().join("events"), dir.path().join("rules"));
        std::fs::create_dir_all(&events).unwrap();
        std::fs::create_dir_all(&rules).unwrap();
        let one = dir.path().join("one.jsonl");
        let given = [events.clone(), one.clone()];
        let reads = |p: &Path| read_by_run(p, &given, std::slice::from_ref(&rules));
        assert!(
            reads(&events.join("new-report.txt")),
            "a new file in an event folder"
        );
        assert!(
            reads(&dir.path().join("./one.jsonl")),
            "an event file given"
        );
        assert!(reads(&rules.join("sub/report.yml")), "a rule file's name");
        assert!(!reads(&rules.join("report.xml")));
        assert!(!reads(&dir.path().join("report.jsonl")));
    }
}
