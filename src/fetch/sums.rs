//! The sums of an unpacked tree: the sha256 of each YAML file a build reads
//! from it, kept beside it in `sha256sum`'s format (`sha256sum -c` checks
//! it too). An archive's own sum says nothing of the files unpacked from
//! it once they sit in the cache; these do.

use rayon::prelude::*;
use sigma_engine::diag::Diagnostic;
use sigma_engine::walk::{Hidden, tree};
use std::collections::BTreeMap;
use std::path::Path;

/// What a build reads of a tree: Sigma rules, Atomic Red Team tests.
fn is_read(rel: &str) -> bool {
    rel.ends_with(".yml") || rel.ends_with(".yaml")
}

/// Each YAML file under `root` by its `/`-separated path below it, with
/// its sha256 (`None`: it could not be read).
fn sums_of(root: &Path) -> BTreeMap<String, Option<String>> {
    let files: Vec<_> = tree(root, Hidden::Keep)
        .into_iter()
        .filter(|e| e.is_file() && is_read(&e.rel))
        .collect();
    files
        .into_par_iter()
        .map(|e| {
            let sum = super::http::sha256_file(&e.path).ok().map(|(_, s)| s);
            (e.rel, sum)
        })
        .collect()
}

/// Writes the sums of `root` to `to`, whole.
pub fn write(root: &Path, to: &Path) -> Result<(), Diagnostic> {
    let mut text = String::new();
    for (rel, sum) in sums_of(root) {
        let Some(sum) = sum else {
            let d = Diagnostic::error("fetch", "cannot be read: no sum taken");
            return Err(d.in_file(root.join(&rel)));
        };
        text.push_str(&line(&sum, &rel));
    }
    crate::output::write_durably(to, text.as_bytes())
}

/// One line of sums; a name with a line break or a backslash escaped as
/// `sha256sum` escapes it (the line then starts with a backslash).
fn line(sum: &str, rel: &str) -> String {
    if rel.contains(['\\', '\n', '\r']) {
        let rel = rel
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{sum}  {rel}\n")
    } else {
        format!("{sum}  {rel}\n")
    }
}

/// A line of sums read back: the sum and the name.
fn parse_line(line: &str) -> Option<(&str, String)> {
    match line.strip_prefix('\\') {
        Some(escaped) => {
            let (sum, rel) = escaped.split_once("  ")?;
            let mut out = String::with_capacity(rel.len());
            let mut chars = rel.chars();
            while let Some(c) = chars.next() {
                match (c, c == '\\') {
                    (_, true) => match chars.next()? {
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        '\\' => out.push('\\'),
                        _ => return None,
                    },
                    (c, false) => out.push(c),
                }
            }
            Some((sum, out))
        }
        None => line.split_once("  ").map(|(s, r)| (s, r.to_string())),
    }
}

/// How a tree differs from its sums: each file that changed, was added or
/// went missing, with what became of it, in path order.
pub fn differences(root: &Path, sums: &Path) -> std::io::Result<Vec<String>> {
    let text = std::fs::read_to_string(sums)?;
    let mut kept: BTreeMap<String, &str> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let (sum, rel) = parse_line(line).ok_or_else(|| {
            let at = format!("{}:{}: not a line of sums", sums.display(), n + 1);
            std::io::Error::new(std::io::ErrorKind::InvalidData, at)
        })?;
        kept.insert(rel, sum);
    }
    let mut out = Vec::new();
    let now = sums_of(root);
    for (rel, sum) in &now {
        match (kept.remove(rel), sum) {
            (Some(was), Some(is)) if was == is => {}
            (Some(_), Some(_)) => out.push(format!("{rel} (changed)")),
            (_, None) => out.push(format!("{rel} (unreadable)")),
            (None, Some(_)) => out.push(format!("{rel} (added)")),
        }
    }
    out.extend(kept.into_keys().map(|rel| format!("{rel} (missing)")));
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_matches_its_sums_until_a_file_it_reads_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("rules/sub")).unwrap();
        std::fs::write(root.join("rules/a.yml"), "title: a\n").unwrap();
        std::fs::write(root.join("rules/sub/b.yaml"), "title: b\n").unwrap();
        std::fs::write(root.join("README.md"), "read me\n").unwrap();
        let sums = dir.path().join("tree.sha256");
        write(&root, &sums).unwrap();
        let text = std::fs::read_to_string(&sums).unwrap();
        assert_eq!(text.lines().count(), 2, "only what a build reads: {text}");
        assert!(text.ends_with("  rules/sub/b.yaml\n"), "{text}");
        assert!(differences(&root, &sums).unwrap().is_empty());

        std::fs::write(root.join("README.md"), "changed\n").unwrap();
        assert!(differences(&root, &sums).unwrap().is_empty());
        std::fs::write(root.join("rules/a.yml"), "title: A\n").unwrap();
        std::fs::remove_file(root.join("rules/sub/b.yaml")).unwrap();
        std::fs::write(root.join("rules/c.yml"), "title: c\n").unwrap();
        assert_eq!(
            differences(&root, &sums).unwrap(),
            [
                "rules/a.yml (changed)",
                "rules/c.yml (added)",
                "rules/sub/b.yaml (missing)"
            ]
        );
    }

    #[test]
    fn a_damaged_sums_file_is_an_error_naming_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let sums = dir.path().join("t.sha256");
        std::fs::write(&sums, "abc  a.yml\nnonsense\n").unwrap();
        let e = differences(dir.path(), &sums).unwrap_err();
        assert!(
            e.to_string().ends_with("t.sha256:2: not a line of sums"),
            "{e}"
        );
    }

    #[test]
    fn names_with_line_breaks_and_backslashes_come_back_whole() {
        for rel in ["a.yml", "a  b.yml", "a\nb.yml", "a\\b\r.yml"] {
            let l = line("ff", rel);
            assert_eq!(l.matches('\n').count(), 1, "{l:?}");
            let back = parse_line(l.trim_end_matches('\n'));
            assert_eq!(back, Some(("ff", rel.to_string())));
        }
    }
}
