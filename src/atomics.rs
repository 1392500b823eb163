//! Atomic Red Team tests: reading an `atomics/` folder (`T*/T*.yaml`).

use crate::tags::technique_id;
use rayon::prelude::*;
use sigma_engine::diag::{Diagnostic, Diagnostics};
use sigma_engine::yaml::{Node, Yaml};
use std::path::{Path, PathBuf};

/// An input argument of a test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct InputArgument {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub default: String,
}

/// A prerequisite of a test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Dependency {
    pub description: String,
    pub prereq_command: String,
    pub get_prereq_command: String,
}

/// One atomic test.
#[derive(Debug, Clone, PartialEq)]
pub struct AtomicTest {
    /// The technique, normalised (`T1059.006`).
    pub technique: String,
    /// The file's `display_name`.
    pub technique_name: String,
    pub file: PathBuf,
    /// Position of the test in its file, from 1 (as in `Invoke-AtomicTest -TestNumbers`).
    pub number: usize,
    pub line: usize,
    pub name: String,
    pub guid: String,
    pub description: String,
    pub platforms: Vec<String>,
    pub input_arguments: Vec<InputArgument>,
    pub dependency_executor: Option<String>,
    pub dependencies: Vec<Dependency>,
    /// Executor name: `powershell`, `command_prompt`, `sh`, `bash`, `manual`.
    pub executor: String,
    pub command: Option<String>,
    pub cleanup_command: Option<String>,
    /// Steps of a manual test.
    pub steps: Option<String>,
    pub elevation_required: bool,
}

fn text(n: Option<&Node>) -> String {
    n.and_then(Node::as_scalar_text).unwrap_or_default()
}

fn opt_text(n: Option<&Node>) -> Option<String> {
    n.and_then(Node::as_scalar_text)
        .filter(|s| !s.trim().is_empty())
}

/// Read the tests of one technique file.
pub fn parse_file(path: &Path, content: &str, diags: &Diagnostics) -> Vec<AtomicTest> {
    let doc = match sigma_engine::yaml::parse_document(content) {
        Ok(d) => d,
        Err(e) => {
            diags.push(e.diagnostic("atomics", path));
            return Vec::new();
        }
    };
    let at = |n: &Node, msg: String| {
        Diagnostic::error("atomics", msg)
            .in_file(path)
            .at(Some(n.line), Some(n.column))
    };
    let Some(technique) = doc
        .get("attack_technique")
        .and_then(Node::as_scalar_text)
        .and_then(|t| technique_id(&t))
    else {
        diags.push(at(&doc, "missing or invalid `attack_technique`".into()));
        return Vec::new();
    };
    warn_other_name(path, &technique, &doc, diags);
    let technique_name = text(doc.get("display_name"));
    let tests = match doc.get("atomic_tests") {
        Some(Node {
            value: Yaml::Seq(tests),
            ..
        }) => tests,
        Some(n) => {
            let msg = format!("`atomic_tests` must be a list, not a {}", n.type_name());
            diags.push(at(n, msg));
            return Vec::new();
        }
        None => {
            diags.push(at(&doc, "missing `atomic_tests` list".into()));
            return Vec::new();
        }
    };
    let file = FileTests {
        path,
        technique,
        technique_name,
    };
    let read = |(i, t): (usize, &Node)| {
        file.test(i + 1, t)
            .map_err(|msg| diags.push(at(t, msg)))
            .ok()
    };
    tests.iter().enumerate().filter_map(read).collect()
}

/// Warns of a technique file named for another technique than the one it
/// declares (a file copied and not renamed): its tests go to the declared one.
fn warn_other_name(path: &Path, technique: &str, doc: &Node, diags: &Diagnostics) {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    if technique_id(&stem).is_some_and(|named| named != technique) {
        let msg = format!(
            "declares `attack_technique: {technique}` but is named for {stem}; its tests are linked to {technique}"
        );
        let n = doc.get("attack_technique").unwrap_or(doc);
        diags.push(
            Diagnostic::warning("atomics", msg)
                .in_file(path)
                .at(Some(n.line), Some(n.column)),
        );
    }
}

/// What the tests of one technique file share.
struct FileTests<'a> {
    path: &'a Path,
    technique: String,
    technique_name: String,
}

impl FileTests<'_> {
    /// Test `number` (from 1) of the file, or why it is skipped.
    fn test(&self, number: usize, t: &Node) -> Result<AtomicTest, String> {
        if !matches!(t.value, Yaml::Map(_)) {
            return Err(format!(
                "test {number} is a {}, not a map; skipped",
                t.type_name()
            ));
        }
        let name = text(t.get("name"));
        let Some(exec) = t.get("executor") else {
            return Err(format!("test {number} `{name}` has no `executor`; skipped"));
        };
        if exec.get("name").and_then(Node::as_scalar_text).is_none() {
            return Err(format!(
                "test {number} `{name}`: `executor` must be a map with a `name` (sh, powershell, manual, ...); skipped"
            ));
        }
        if name.is_empty() {
            return Err(format!("test {number} has no `name`; skipped"));
        }
        Ok(AtomicTest {
            technique: self.technique.clone(),
            technique_name: self.technique_name.clone(),
            file: self.path.to_path_buf(),
            number,
            line: t.line,
            name,
            guid: text(t.get("auto_generated_guid")),
            description: text(t.get("description")),
            platforms: match t.get("supported_platforms").map(|n| &n.value) {
                Some(Yaml::Seq(p)) => p.iter().filter_map(Node::as_scalar_text).collect(),
                _ => Vec::new(),
            },
            input_arguments: input_arguments(t),
            dependency_executor: opt_text(t.get("dependency_executor_name")),
            dependencies: dependencies(t),
            executor: text(exec.get("name")),
            command: opt_text(exec.get("command")),
            cleanup_command: opt_text(exec.get("cleanup_command")),
            steps: opt_text(exec.get("steps")),
            elevation_required: matches!(
                exec.get("elevation_required").map(|n| &n.value),
                Some(Yaml::Bool(true))
            ),
        })
    }
}

fn input_arguments(t: &Node) -> Vec<InputArgument> {
    let Some(Yaml::Map(m)) = t.get("input_arguments").map(|n| &n.value) else {
        return Vec::new();
    };
    m.iter()
        .map(|(k, v)| InputArgument {
            name: text(Some(k)),
            description: text(v.get("description")),
            kind: text(v.get("type")),
            default: text(v.get("default")),
        })
        .collect()
}

fn dependencies(t: &Node) -> Vec<Dependency> {
    let Some(Yaml::Seq(d)) = t.get("dependencies").map(|n| &n.value) else {
        return Vec::new();
    };
    d.iter()
        .map(|d| Dependency {
            description: text(d.get("description")),
            prereq_command: text(d.get("prereq_command")),
            get_prereq_command: text(d.get("get_prereq_command")),
        })
        .collect()
}

/// Read every `T*/T*.yaml` under an `atomics/` folder, or under the
/// `atomics/` folder of the Atomic Red Team checkout `dir` is.
pub fn load(dir: &Path, diags: &Diagnostics) -> Vec<AtomicTest> {
    if !dir.is_dir() {
        diags.push(Diagnostic::error("atomics", "no such folder").in_file(dir));
        return Vec::new();
    }
    let technique_file = |p: &Path| {
        let n = p.file_name().unwrap_or_default().to_string_lossy();
        n.starts_with('T') && (n.ends_with(".yaml") || n.ends_with(".yml"))
    };
    let walk = sigma_engine::walk::Walk {
        category: "atomics",
        max_depth: Some(2),
        keep: &technique_file,
        streams: false,
    };
    let files = walk.files(&[dir.to_path_buf()], diags);
    let inner = dir.join("atomics");
    if files.is_empty() && inner.is_dir() {
        // The root of an Atomic Red Team checkout: its tests are one down.
        return load(&inner, diags);
    }
    if files.is_empty() {
        diags.push(
            Diagnostic::warning("atomics", "no T*/T*.yaml technique files found").in_file(dir),
        );
    }
    let tests: Vec<AtomicTest> = files
        .par_iter()
        .flat_map_iter(|f| {
            match sigma_engine::text::read_file_at_most(f, sigma_engine::text::MOST_YAML) {
                Ok(t) => parse_file(f, &t, diags),
                Err(e) => {
                    diags.push(e.diagnostic("atomics", f));
                    Vec::new()
                }
            }
        })
        .collect();
    warn_shared_guids(&tests, diags);
    tests
}

/// Warns of tests that share an `auto_generated_guid` (a test copied into
/// one's own atomics with its GUID): the GUID is both notes' alias, so a
/// search or a link by it finds either.
fn warn_shared_guids(tests: &[AtomicTest], diags: &Diagnostics) {
    let mut by_guid: std::collections::BTreeMap<&str, Vec<&AtomicTest>> = Default::default();
    for t in tests.iter().filter(|t| !t.guid.trim().is_empty()) {
        by_guid.entry(t.guid.trim()).or_default().push(t);
    }
    for (guid, same) in by_guid.iter().filter(|(_, v)| v.len() > 1) {
        let names: Vec<String> = same
            .iter()
            .map(|t| format!("{}-{} `{}`", t.technique, t.number, t.name))
            .collect();
        let msg = format!(
            "{} tests share the GUID {guid}: {}; give each its own",
            same.len(),
            names.join(", ")
        );
        let first = same[0];
        diags.push(
            Diagnostic::warning("atomics", msg)
                .in_file(&first.file)
                .at(Some(first.line), None),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tests_of_the_wrong_shape_and_a_file_named_for_another_technique_are_said() {
        let ds = Diagnostics::new();
        let y = "attack_technique: T1059.006\ndisplay_name: P\natomic_tests:\n- just text\n- name: Str\n  executor: sh\n- name: Ok\n  executor: {name: sh, command: x}\n";
        let tests = parse_file(Path::new("T1059.yaml"), y, &ds);
        assert_eq!(tests.len(), 1);
        assert_eq!((tests[0].name.as_str(), tests[0].number), ("Ok", 3));
        let said: Vec<String> = ds.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            said,
            [
                "error[atomics]: T1059.yaml:4:3: test 1 is a string, not a map; skipped",
                "error[atomics]: T1059.yaml:5:3: test 2 `Str`: `executor` must be a map with a `name` (sh, powershell, manual, ...); skipped",
                "warning[atomics]: T1059.yaml:1:19: declares `attack_technique: T1059.006` but is named for T1059; its tests are linked to T1059.006",
            ]
        );
        let ds = Diagnostics::new();
        parse_file(Path::new("T1059.006.yaml"), y, &ds);
        assert_eq!(ds.sorted().len(), 2, "a file named for its technique");
    }

    #[test]
    fn a_list_that_is_none_and_a_shared_guid_are_said_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("T1003");
        std::fs::create_dir_all(&t).unwrap();
        std::fs::write(
            t.join("T1003.yaml"),
            "attack_technique: T1003\ndisplay_name: D\natomic_tests: nope\n",
        )
        .unwrap();
        let t = dir.path().join("T1059.006");
        std::fs::create_dir_all(&t).unwrap();
        let test = "- name: NAME\n  auto_generated_guid: abc\n  executor: {name: sh, command: x}\n";
        let y = format!(
            "attack_technique: T1059.006\ndisplay_name: P\natomic_tests:\n{}{}",
            test.replace("NAME", "One"),
            test.replace("NAME", "Two")
        );
        std::fs::write(t.join("T1059.006.yaml"), y).unwrap();
        let diags = Diagnostics::new();
        assert_eq!(load(dir.path(), &diags).len(), 2);
        let said: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].ends_with("T1003.yaml:3:15: `atomic_tests` must be a list, not a string"),
            "{said:?}"
        );
        assert!(
            said[1].ends_with(
                "T1059.006.yaml:4: 2 tests share the GUID abc: T1059.006-1 `One`, \
                 T1059.006-2 `Two`; give each its own"
            ),
            "{said:?}"
        );
    }

    #[test]
    fn a_checkout_root_is_read_through_its_atomics_folder() {
        let root = tempfile::tempdir().unwrap();
        let t = root.path().join("atomics/T1059.006");
        std::fs::create_dir_all(&t).unwrap();
        let y = "attack_technique: T1059.006\ndisplay_name: P\natomic_tests:\n- name: Run\n  auto_generated_guid: abc\n  supported_platforms: [linux]\n  executor: {name: sh, command: x}\n";
        std::fs::write(t.join("T1059.006.yaml"), y).unwrap();
        let diags = Diagnostics::new();
        let tests = load(root.path(), &diags);
        assert_eq!(tests.len(), 1);
        assert!(diags.sorted().is_empty(), "{:?}", diags.sorted());
        let empty = tempfile::tempdir().unwrap();
        assert!(load(empty.path(), &diags).is_empty());
        assert_eq!(diags.sorted().len(), 1, "an empty folder is still said");
    }

    #[test]
    fn reads_tests_with_arguments() {
        let y = "attack_technique: T1059.006\ndisplay_name: 'Python'\natomic_tests:\n- name: Run\n  auto_generated_guid: abc\n  description: d\n  supported_platforms: [linux]\n  input_arguments:\n    url:\n      description: u\n      type: url\n      default: http://x\n  executor:\n    name: sh\n    elevation_required: true\n    command: |\n      python -c 'print(1)'\n- name: NoExec\n";
        let ds = Diagnostics::new();
        let t = parse_file(Path::new("T1059.006.yaml"), y, &ds);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].technique, "T1059.006");
        assert_eq!(t[0].input_arguments[0].default, "http://x");
        assert!(t[0].elevation_required);
        assert_eq!(
            ds.sorted().len(),
            1,
            "the test without executor is reported"
        );
    }
}
