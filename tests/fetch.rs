//! `fetch` against an HTTP server on 127.0.0.1 that the tests start and
//! fill: an ATT&CK release index, bundles and archives written here. The
//! server honours ETags (304) and can cut a body short.
use attack_vault::fetch::{self, Domain, FetchConfig, Fetched, lock::Lock};
use sigma_engine::diag::Diagnostics;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

/// How the server answers one path.
#[derive(Clone)]
struct Route {
    status: u16,
    body: Vec<u8>,
    /// Announce the whole length, send half, and close.
    truncate: bool,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// (path, status, body bytes sent)
    log: Vec<(String, u16, usize)>,
}

struct Server {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state: Arc<Mutex<State>> = Arc::default();
        let st = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut first = String::new();
                let _ = r.read_line(&mut first);
                let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut etag_sent = None;
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':')
                        && k.eq_ignore_ascii_case("if-none-match")
                    {
                        etag_sent = Some(v.trim().to_string());
                    }
                }
                let route = st.lock().unwrap().routes.get(&path).cloned();
                let (status, body, truncate) = match route {
                    None => (404, b"not found".to_vec(), false),
                    Some(r) => (r.status, r.body, r.truncate),
                };
                use sha2::Digest;
                let digest = sha2::Sha256::digest(&body);
                let etag: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
                let etag = format!("\"{etag}\"");
                let status = if status == 200 && etag_sent.as_deref() == Some(etag.as_str()) {
                    304
                } else {
                    status
                };
                let sent: &[u8] = match (status, truncate) {
                    (304, _) => &[],
                    (_, true) => &body[..body.len() / 2],
                    _ => &body,
                };
                let length = if status == 304 { 0 } else { body.len() };
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nETag: {etag}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
                );
                let _ = s.write_all(sent);
                st.lock().unwrap().log.push((path, status, sent.len()));
            }
        });
        Server { port, state }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn serve(&self, path: &str, status: u16, body: Vec<u8>, truncate: bool) {
        self.state.lock().unwrap().routes.insert(
            path.to_string(),
            Route {
                status,
                body,
                truncate,
            },
        );
    }

    /// Body bytes sent since the last call.
    fn take_log(&self) -> Vec<(String, u16, usize)> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The demo Enterprise bundle, named as release `version`.
fn bundle(version: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(repo().join("demo/enterprise-attack.json")).unwrap();
    let collection = format!(
        r#"{{"type": "x-mitre-collection", "id": "x-mitre-collection--1", "name": "Enterprise ATT&CK", "x_mitre_version": "{version}", "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z"}},"#
    );
    text.replacen("\"objects\": [", &format!("\"objects\": [{collection}"), 1)
        .into_bytes()
}

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    for (name, data) in files {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
    buf.into_inner()
}

fn rules_zip() -> Vec<u8> {
    let rule = std::fs::read(repo().join("tests/fixtures/rules/good/python_c.yml")).unwrap();
    zip_of(&[
        ("rules/windows/python_c.yml", &rule),
        ("README.md", b"rules"),
    ])
}

fn atomics_zip() -> Vec<u8> {
    let test =
        std::fs::read(repo().join("tests/fixtures/atomics/T1059.006/T1059.006.yaml")).unwrap();
    zip_of(&[(
        "atomic-red-team-master/atomics/T1059.006/T1059.006.yaml",
        &test,
    )])
}

/// A server with two Enterprise releases, rules and atomics.
fn upstream() -> Server {
    let s = Server::start();
    let index = format!(
        r#"{{"collections": [{{"name": "Enterprise ATT&CK", "versions": [
            {{"version": "17.1", "url": "{}", "modified": "2025-04-25"}},
            {{"version": "18.1", "url": "{}", "modified": "2025-11-12"}}]}}]}}"#,
        s.url("/enterprise-17.1.json"),
        s.url("/enterprise-18.1.json")
    );
    s.serve("/index.json", 200, index.into_bytes(), false);
    s.serve("/enterprise-17.1.json", 200, bundle("17.1"), false);
    s.serve("/enterprise-18.1.json", 200, bundle("18.1"), false);
    s.serve("/sigma_all_rules.zip", 200, rules_zip(), false);
    s.serve("/atomics.zip", 200, atomics_zip(), false);
    s
}

fn config(s: &Server, cache: &Path) -> FetchConfig {
    let mut c = FetchConfig::new(cache.to_path_buf());
    c.domains = vec![Domain::Enterprise];
    c.attack_index = s.url("/index.json");
    c.sigma_url = s.url("/sigma_all_rules.zip");
    c.atomics_url = s.url("/atomics.zip");
    c.retry_wait = std::time::Duration::from_millis(10);
    c
}

fn run(cfg: &FetchConfig) -> (Vec<Fetched>, Vec<String>) {
    let diags = Diagnostics::new();
    let done = fetch::fetch(cfg, &diags).unwrap();
    let errors = diags.sorted().iter().map(|d| d.to_string()).collect();
    (done, errors)
}

#[test]
fn a_fresh_fetch_then_a_second_with_nothing_new_downloads_nothing() {
    let s = upstream();
    let cache = tempfile::tempdir().unwrap();
    let (done, errors) = run(&config(&s, cache.path()));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(done.len(), 3);
    let lock = Lock::read(cache.path());
    let e = &lock.sources["attack/enterprise-attack"];
    assert_eq!(e.version, "18.1", "latest by default");
    assert_eq!(e.size, bundle("18.1").len() as u64);
    assert_eq!(e.sha256.len(), 64);
    assert!(cache.path().join(&e.path).is_file());
    assert!(lock.sources["sigma"].size > 0);
    assert!(
        cache
            .path()
            .join(&lock.sources["atomics"].path)
            .join("T1059.006")
            .is_dir()
    );
    s.take_log();
    let (done, errors) = run(&config(&s, cache.path()));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        done.iter().all(|f| matches!(f, Fetched::Unchanged { .. })),
        "{done:?}"
    );
    let log = s.take_log();
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(
        log.iter()
            .all(|(_, status, bytes)| *status == 304 && *bytes == 0),
        "{log:?}"
    );

    // A tree cached before trees had sums gets them, with nothing downloaded.
    let mut old = Lock::read(cache.path());
    old.sources.get_mut("sigma").unwrap().sums = None;
    old.write(cache.path()).unwrap();
    std::fs::remove_file(cache.path().join("sigma.sha256")).unwrap();
    let (done, errors) = run(&config(&s, cache.path()));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(done.iter().all(|f| matches!(f, Fetched::Unchanged { .. })));
    let sums = Lock::read(cache.path()).sources["sigma"].sums.clone();
    assert_eq!(sums.as_deref(), Some("sigma.sha256"));
    let text = std::fs::read_to_string(cache.path().join("sigma.sha256")).unwrap();
    assert!(text.ends_with("  rules/windows/python_c.yml\n"), "{text}");
    s.take_log();

    // A cached bundle damaged since is downloaded again, not kept.
    let cached = cache.path().join(&e.path);
    std::fs::write(&cached, b"{}").unwrap();
    let (_, errors) = run(&config(&s, cache.path()));
    assert!(errors.is_empty(), "{errors:?}");
    let log = s.take_log();
    assert!(
        log.iter()
            .any(|(p, status, _)| p == "/enterprise-18.1.json" && *status == 200),
        "{log:?}"
    );
    assert_eq!(std::fs::read(&cached).unwrap(), bundle("18.1"));

    // So is a cached tree whose rules changed since.
    let rule = cache.path().join("sigma/rules/windows/python_c.yml");
    std::fs::write(&rule, "title: edited\n").unwrap();
    let (_, errors) = run(&config(&s, cache.path()));
    assert!(errors.is_empty(), "{errors:?}");
    let log = s.take_log();
    assert!(
        log.iter()
            .any(|(p, status, _)| p == "/sigma_all_rules.zip" && *status == 200),
        "{log:?}"
    );
    assert_ne!(std::fs::read_to_string(&rule).unwrap(), "title: edited\n");

    // Sums gone: a build is refused, and a fetch brings the tree back.
    std::fs::remove_file(cache.path().join("sigma.sha256")).unwrap();
    let e = fetch::cached_inputs(cache.path()).unwrap_err().to_string();
    assert!(e.contains("the cached tree's sums cannot be read ("), "{e}");
    let (_, errors) = run(&config(&s, cache.path()));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(fetch::cached_inputs(cache.path()).is_ok());
}

#[test]
fn archive_entries_that_climb_out_or_link_are_left_out_and_named() {
    let s = upstream();
    let rule = std::fs::read(repo().join("tests/fixtures/rules/good/python_c.yml")).unwrap();
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("rules/windows/python_c.yml", opts).unwrap();
    z.write_all(&rule).unwrap();
    z.start_file("rules/../../escaped.yml", opts).unwrap();
    z.write_all(&rule).unwrap();
    z.add_symlink("rules/etc", "/etc", opts).unwrap();
    z.finish().unwrap();
    s.serve("/sigma_all_rules.zip", 200, buf.into_inner(), false);
    let cache = tempfile::tempdir().unwrap();
    let (_, said) = run(&config(&s, cache.path()));
    assert_eq!(
        said,
        [format!(
            "warning[fetch]: {}: 2 entries left out: `rules/../../escaped.yml` (outside the folder), `rules/etc` (a symbolic link)",
            s.url("/sigma_all_rules.zip")
        )]
    );
    let sigma = cache.path().join("sigma");
    assert!(sigma.join("rules/windows/python_c.yml").is_file());
    assert!(!sigma.join("rules/etc").exists() && !cache.path().join("escaped.yml").exists());
}

#[test]
fn a_local_folder_is_copied_and_said_so() {
    let s = upstream();
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = config(&s, cache.path());
    cfg.atomics_url = repo().join("tests/fixtures/atomics").display().to_string();
    let (done, said) = run(&cfg);
    assert!(said.is_empty(), "{said:?}");
    let files = walkdir::WalkDir::new(repo().join("tests/fixtures/atomics"))
        .into_iter()
        .filter(|e| e.as_ref().unwrap().file_type().is_file())
        .count();
    assert!(
        done.iter().any(|f| matches!(f, Fetched::Copied { key, files: n, .. } if key == "atomics" && *n == files)),
        "{done:?}"
    );
}

#[test]
fn a_download_beyond_the_limit_is_refused() {
    let s = upstream();
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = config(&s, cache.path());
    cfg.max_download = rules_zip().len() as u64 - 1;
    cfg.attack_index = repo()
        .join("tests/fixtures/none.json")
        .display()
        .to_string();
    let (done, said) = run(&cfg);
    let sigma = s.url("/sigma_all_rules.zip");
    assert!(
        said.contains(&format!(
            "error[fetch]: {sigma}: the download is larger than {} bytes: refused",
            cfg.max_download
        )),
        "{said:?}"
    );
    assert!(
        !done
            .iter()
            .any(|f| matches!(f, Fetched::New { key, .. } if key == "sigma"))
    );
    assert!(!cache.path().join("sigma").exists());
}

#[test]
fn a_version_can_be_pinned_and_a_missing_one_is_named() {
    let s = upstream();
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = config(&s, cache.path());
    cfg.attack_version = "17.1".into();
    let (_, errors) = run(&cfg);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        Lock::read(cache.path()).sources["attack/enterprise-attack"].version,
        "17.1"
    );
    cfg.attack_version = "12.0".into();
    let (_, errors) = run(&cfg);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("no version 12.0") && e.contains("17.1, 18.1")),
        "{errors:?}"
    );
    assert_eq!(
        Lock::read(cache.path()).sources["attack/enterprise-attack"].version,
        "17.1"
    );
}

/// Every bad download leaves the good cached copy as it was.
#[test]
fn truncated_corrupt_wrong_and_failing_downloads_never_replace_a_good_copy() {
    let s = upstream();
    let cache = tempfile::tempdir().unwrap();
    let cfg = config(&s, cache.path());
    run(&cfg);
    let before = Lock::read(cache.path());
    let bundle_path = cache
        .path()
        .join(&before.sources["attack/enterprise-attack"].path);
    let good = std::fs::read(&bundle_path).unwrap();
    let cases: [(&str, u16, Vec<u8>, bool, &str); 6] = [
        (
            "/enterprise-18.1.json",
            200,
            [bundle("18.1"), b"\n".to_vec()].concat(),
            true,
            "cut short",
        ),
        (
            "/enterprise-18.1.json",
            200,
            b"{\"type\": \"bundle\", \"objects\": [".to_vec(),
            false,
            "not a usable ATT&CK bundle",
        ),
        (
            "/enterprise-18.1.json",
            200,
            bundle("17.1"),
            false,
            "version 17.1, not 18.1",
        ),
        (
            "/enterprise-18.1.json",
            500,
            b"oops".to_vec(),
            false,
            "HTTP 500",
        ),
        (
            "/sigma_all_rules.zip",
            200,
            zip_of(&[("README.md", b"no rules")]),
            false,
            "no Sigma rule",
        ),
        (
            "/atomics.zip",
            200,
            b"PK garbage".to_vec(),
            false,
            "not a zip archive",
        ),
    ];
    for (path, status, body, truncate, expected) in cases {
        s.serve(path, status, body, truncate);
        let (_, errors) = run(&cfg);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{expected}: {errors:?}"
        );
        assert_eq!(
            Lock::read(cache.path()),
            before,
            "{expected}: the lock file changed"
        );
        assert_eq!(std::fs::read(&bundle_path).unwrap(), good);
        assert!(
            cache
                .path()
                .join(&before.sources["sigma"].path)
                .join("rules/windows/python_c.yml")
                .is_file()
        );
        // Back to a good answer for the next case.
        let fresh = upstream_body(path);
        s.serve(path, 200, fresh, false);
    }
}

fn upstream_body(path: &str) -> Vec<u8> {
    match path {
        "/sigma_all_rules.zip" => rules_zip(),
        "/atomics.zip" => atomics_zip(),
        _ => bundle("18.1"),
    }
}

/// `build --from-cache` of `cache` into `out`, with `flags` before it.
fn build_from_cache(cache: &Path, out: &Path, flags: &[&str]) -> std::process::Output {
    bin()
        .args(["build", "-q"])
        .args(flags)
        .args(["--from-cache", "--cache"])
        .arg(cache)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// What `fetch --offline` lists of `cache`.
fn offline(cache: &Path) -> String {
    let o = bin()
        .args(["fetch", "--offline", "--cache"])
        .arg(cache)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_attack-vault"))
}

#[test]
fn the_command_fails_loudly_says_what_it_holds_offline_and_builds_from_the_cache() {
    let s = upstream();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let fetch_cmd = |sigma: &str| {
        bin()
            .args(["fetch", "-q", "--domains", "enterprise", "--cache"])
            .arg(&cache)
            .args(["--attack-index", &s.url("/index.json")])
            .args(["--sigma-url", sigma])
            .args(["--atomics-url", &s.url("/atomics.zip")])
            .output()
            .unwrap()
    };
    let ok = fetch_cmd(&s.url("/sigma_all_rules.zip"));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = fetch_cmd(&s.url("/nowhere.zip"));
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("HTTP 404"));
    let listed = offline(&cache);
    assert!(
        listed.contains("attack/enterprise-attack: 18.1") && listed.contains("sigma:"),
        "{listed}"
    );
    let from_cache = dir.path().join("a");
    let o = build_from_cache(&cache, &from_cache, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let lock = Lock::read(&cache);
    let explicit = dir.path().join("b");
    let o = bin()
        .args(["build", "-q", "--attack"])
        .arg(cache.join(&lock.sources["attack/enterprise-attack"].path))
        .arg("--sigma")
        .arg(cache.join("sigma/rules"))
        .arg("--atomics")
        .arg(cache.join(&lock.sources["atomics"].path))
        .arg("--out")
        .arg(&explicit)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(crate::common::tree(&from_cache) == crate::common::tree(&explicit));
    assert!(
        from_cache
            .join("Detection Rules/Fixture Python Inline.md")
            .is_file()
    );
    // The release the bundle names is said on Home and in the layers.
    let home = std::fs::read_to_string(from_cache.join("Home.md")).unwrap();
    assert!(home.contains("\n- ATT&CK release: 18.1\n"), "{home}");
    let layer =
        std::fs::read_to_string(from_cache.join("Navigator/enterprise-attack-coverage.json"));
    let layer: serde_json::Value = serde_json::from_str(&layer.unwrap()).unwrap();
    assert_eq!(layer["versions"]["attack"], "18");
    let from_notes =
        attack_vault::vault::navigator::layers_from_vault(&from_cache, &Default::default());
    let from_notes = serde_json::to_value(&from_notes.unwrap()[0].1).unwrap();
    assert_eq!(from_notes, layer);

    // `match --from-cache` runs the cached rules.
    let o = bin()
        .args(["match", "-f", "jsonl", "--from-cache", "--cache"])
        .arg(&cache)
        .arg(repo().join("demo/events/demo-events.jsonl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let hits = String::from_utf8_lossy(&o.stdout);
    assert!(
        hits.contains("\"rule\":\"Fixture Python Inline\""),
        "{hits}\n{err}"
    );

    // While a fetch writes the cache, a build reading it waits or refuses.
    let write = attack_vault::output::Access::Write;
    let fetching =
        attack_vault::output::WriterLock::acquire_in(&cache, &cache, write, false).unwrap();
    let o = build_from_cache(&cache, &from_cache, &["--no-wait"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "{}: another attack-vault run is writing",
            cache.display()
        )),
        "{err}"
    );
    drop(fetching);

    // A cached bundle changed since it was fetched is refused.
    let bundle = cache.join(&lock.sources["attack/enterprise-attack"].path);
    let mut text = std::fs::read(&bundle).unwrap();
    text.push(b' ');
    std::fs::write(&bundle, text).unwrap();
    let o = build_from_cache(&cache, &from_cache, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the cached copy changed since it was fetched (sha256 "),
        "{err}"
    );
    let listed = offline(&cache);
    let line = listed
        .lines()
        .find(|l| l.starts_with("attack/enterprise-attack"))
        .unwrap();
    assert!(
        line.ends_with("; CHANGED since: `attack-vault fetch` gets it again"),
        "{line}"
    );
    assert!(
        !listed
            .lines()
            .any(|l| l.starts_with("sigma") && l.contains("CHANGED"))
    );

    // So is a cached tree whose rules changed, went or came since.
    let fresh = fetch_cmd(&s.url("/sigma_all_rules.zip"));
    assert!(fresh.status.success());
    let rules = cache.join("sigma/rules/windows");
    std::fs::write(rules.join("python_c.yml"), "title: edited\n").unwrap();
    std::fs::write(rules.join("mine.yml"), "title: mine\n").unwrap();
    let o = build_from_cache(&cache, &from_cache, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let said = format!(
        "error[fetch]: {}: the cached tree changed since it was fetched: 2 file(s) differ from its sums (rules/windows/mine.yml (added), rules/windows/python_c.yml (changed))",
        cache.join("sigma").display()
    );
    assert!(err.contains(&said), "{err}");
    assert!(
        offline(&cache)
            .lines()
            .any(|l| l.starts_with("sigma") && l.contains("CHANGED"))
    );
}

/// A fetch replaces its cache's `atomics` folder whole: pointed at a vault,
/// whose `atomics/` holds the analyst's notes, it refuses and changes nothing.
#[test]
fn a_fetch_into_a_folder_that_is_no_cache_changes_nothing() {
    let s = upstream();
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    let built = bin()
        .args(["build", "-q", "--atomics"])
        .arg(repo().join("tests/fixtures/atomics"))
        .arg("--out")
        .arg(&vault)
        .output()
        .unwrap();
    assert!(built.status.success());
    let before = crate::common::tree(&vault);
    let diags = Diagnostics::new();
    let e = fetch::fetch(&config(&s, &vault), &diags)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a cache folder (it holds .attack-vault, .obsidian, Analytics, and "),
        "{e}"
    );
    assert!(e.contains("nothing was changed"), "{e}");
    assert!(crate::common::tree(&vault) == before, "the vault changed");
    assert!(s.take_log().is_empty(), "nothing was downloaded");
    // A file given for the cache is said to be one, to fetch and to build.
    let note = vault.join("Home.md");
    let e = fetch::fetch(&config(&s, &note), &diags)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a folder: the cache is a folder"), "{e}");
    let e = fetch::cached_inputs(&note).unwrap_err().to_string();
    assert!(e.contains("not a folder: the cache is a folder"), "{e}");
    assert!(s.take_log().is_empty(), "nothing was downloaded");
}

#[test]
fn an_index_naming_a_path_for_its_version_or_a_local_file_is_refused() {
    // A release index downloaded from the web names where each bundle is
    // and its version, which names the bundle's folder in the cache:
    // neither may lead the fetch outside the cache or into local files.
    let s = upstream();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let secret = dir.path().join("secret.json");
    std::fs::write(&secret, bundle("18.1")).unwrap();
    let plain = std::fs::read_to_string(repo().join("demo/enterprise-attack.json")).unwrap();
    s.serve("/plain.json", 200, plain.into_bytes(), false);
    let cases = [
        ("../../escaped", s.url("/plain.json"), "no ATT&CK version"),
        (
            "18.1/../../../escaped",
            s.url("/plain.json"),
            "no ATT&CK version",
        ),
        ("18.1", secret.display().to_string(), "not a web address"),
        (
            "18.1",
            format!("file://{}", secret.display()),
            "not a web address",
        ),
    ];
    for (version, url, expected) in cases {
        let index = format!(
            r#"{{"collections": [{{"name": "Enterprise ATT&CK", "versions": [{{"version": "{version}", "url": "{url}"}}]}}]}}"#
        );
        s.serve("/index.json", 200, index.into_bytes(), false);
        let (_, errors) = run(&config(&s, &cache));
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{version} {url}: {errors:?}"
        );
        assert!(!dir.path().join("escaped").exists(), "{version}");
        let everywhere = sigma_engine::walk::tree(dir.path(), sigma_engine::walk::Hidden::Keep);
        let bundles = everywhere
            .iter()
            .filter(|e| e.rel.ends_with("enterprise-attack.json"))
            .count();
        assert_eq!(bundles, 0, "{version} {url}: a bundle was kept");
    }
}
