//! `attack-vault fetch`: the three upstreams in one cache folder, pinned and
//! verified.
//!
//! ATT&CK bundles are found through the release index of
//! mitre-attack/attack-stix-data (a version, or the latest, per domain);
//! Sigma rules come as SigmaHQ's `sigma_all_rules.zip`, Atomic Red Team
//! tests as the repository's archive (each replaceable by another URL, a
//! local zip or a folder). Every download lands in a temporary file and
//! replaces the cached copy only once complete and verified (a bundle must
//! parse as STIX of the expected domain and version; an archive must open
//! and hold rules or tests). The lock file ([`lock::Lock`]) records what the
//! cache holds; its ETag and Last-Modified make the next fetch conditional,
//! so that nothing is downloaded when nothing changed. `build --from-cache`
//! reads the lock file ([`cached_inputs`]).

mod archive;
mod attack_index;
pub mod error;
mod http;
pub mod lock;
mod sums;
use error::FetchError;

use crate::output::{Access, WriterLock};
use http::{Client, Got, Validators};
use lock::{Entry, Lock};
use sigma_engine::diag::{Diagnostic, Diagnostics};
use std::fs;
use std::path::{Path, PathBuf};

/// Where the release index of ATT&CK lives.
pub const ATTACK_INDEX: &str =
    "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/index.json";
/// SigmaHQ's latest release, every rule tree.
pub const SIGMA_URL: &str =
    "https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip";
/// Atomic Red Team's default branch.
pub const ATOMICS_URL: &str =
    "https://github.com/redcanaryco/atomic-red-team/archive/refs/heads/master.zip";

/// An ATT&CK domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    Enterprise,
    Mobile,
    Ics,
}

impl Domain {
    pub const ALL: [Domain; 3] = [Domain::Enterprise, Domain::Mobile, Domain::Ics];

    /// The STIX domain name (`enterprise-attack`).
    pub fn stix(self) -> &'static str {
        match self {
            Domain::Enterprise => "enterprise-attack",
            Domain::Mobile => "mobile-attack",
            Domain::Ics => "ics-attack",
        }
    }

    /// The collection's name in the index.
    pub fn collection(self) -> &'static str {
        match self {
            Domain::Enterprise => "Enterprise ATT&CK",
            Domain::Mobile => "Mobile ATT&CK",
            Domain::Ics => "ICS ATT&CK",
        }
    }

    fn matches_collection(self, name: &str) -> bool {
        let word = match self {
            Domain::Enterprise => "enterprise",
            Domain::Mobile => "mobile",
            Domain::Ics => "ics",
        };
        name.to_lowercase().split_whitespace().any(|w| w == word)
    }
}

impl std::str::FromStr for Domain {
    type Err = String;
    fn from_str(s: &str) -> Result<Domain, String> {
        match s.trim().to_lowercase().as_str() {
            "enterprise" | "enterprise-attack" => Ok(Domain::Enterprise),
            "mobile" | "mobile-attack" => Ok(Domain::Mobile),
            "ics" | "ics-attack" => Ok(Domain::Ics),
            other => Err(format!(
                "unknown domain {other:?} (enterprise, mobile or ics)"
            )),
        }
    }
}

/// What to fetch, from where, into where.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub cache: PathBuf,
    /// An ATT&CK version (`18.1`) or `latest`.
    pub attack_version: String,
    pub domains: Vec<Domain>,
    pub attack_index: String,
    pub sigma_url: String,
    pub atomics_url: String,
    pub offline: bool,
    pub progress: bool,
    /// The first wait before retrying a failed download (doubled each time).
    pub retry_wait: std::time::Duration,
    /// The most one download may bring ([`MAX_DOWNLOAD`] by default).
    pub max_download: u64,
}

/// The most one download may bring. ATT&CK's largest bundle is about 50 MB,
/// SigmaHQ's rule archive 10 MB, Atomic Red Team's whole repository a few
/// hundred: a server sending without end is stopped here, not by a full
/// disk.
pub const MAX_DOWNLOAD: u64 = 2 << 30;

impl FetchConfig {
    /// The defaults: every domain, the latest version, the upstream URLs.
    pub fn new(cache: PathBuf) -> FetchConfig {
        FetchConfig {
            cache,
            attack_version: "latest".into(),
            domains: Domain::ALL.to_vec(),
            attack_index: ATTACK_INDEX.into(),
            sigma_url: SIGMA_URL.into(),
            atomics_url: ATOMICS_URL.into(),
            offline: false,
            progress: false,
            retry_wait: std::time::Duration::from_secs(1),
            max_download: MAX_DOWNLOAD,
        }
    }
}

/// The platform's user cache folder, plus `attack-vault`.
pub fn default_cache() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.cache_dir().join("attack-vault"))
        .unwrap_or_else(|| PathBuf::from(".attack-vault-cache"))
}

/// What happened to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// Downloaded, verified and now in the cache.
    New {
        key: String,
        version: String,
        size: u64,
    },
    /// Copied from a local folder, checked and now in the cache.
    Copied {
        key: String,
        version: String,
        files: usize,
    },
    /// The server said nothing changed; nothing was downloaded.
    Unchanged { key: String, version: String },
}

/// Fetch every source; each failure is reported and leaves that source's
/// cached copy as it was. The lock file then records what the cache holds.
pub fn fetch(cfg: &FetchConfig, diags: &Diagnostics) -> Result<Vec<Fetched>, Diagnostic> {
    refuse_other_folder(&cfg.cache)?;
    let tmp = cfg.cache.join(".tmp");
    fs::create_dir_all(&tmp).map_err(|e| {
        Diagnostic::error("fetch", format!("cannot create the cache: {e}")).in_file(&tmp)
    })?;
    // One fetch at a time per cache: they share its temporary folder.
    let _lock = WriterLock::acquire_in(&cfg.cache, &cfg.cache, Access::Write, true)?;
    let mut lock = Lock::read(&cfg.cache);
    let client = Client::new(cfg.progress, cfg.retry_wait, cfg.max_download);
    let mut done = Vec::new();
    let mut step = |r: Result<Fetched, Diagnostic>| match r {
        Ok(f) => done.push(f),
        Err(e) => diags.push(e),
    };
    match fetch_index(cfg, &client, &mut lock, &tmp) {
        Ok(index) => {
            for &d in &cfg.domains {
                step(fetch_bundle(cfg, &client, &index, d, &mut lock, &tmp));
            }
        }
        Err(e) => diags.push(e),
    }
    for tree in [Tree::Sigma, Tree::Atomics] {
        step(fetch_tree(cfg, &client, tree, &mut lock, &tmp, diags));
    }
    let _ = fs::remove_dir_all(&tmp);
    lock.write(&cfg.cache)?;
    Ok(done)
}

/// Whether a name is one a cache folder holds: the lock file, the writers'
/// lock, the trees and bundles, their sums, and what a fetch leaves while
/// it replaces them.
fn is_cache_entry(name: &str) -> bool {
    const NAMES: [&str; 5] = ["attack", "sigma", "atomics", "lock", lock::LOCK_FILE];
    let base = name
        .strip_suffix(".tmp")
        .or_else(|| name.strip_suffix(".old"))
        .unwrap_or(name);
    let base = base.strip_suffix(".sha256").unwrap_or(base);
    // The lock file's temporary name drops its `.json`.
    let lock_tmp = lock::LOCK_FILE.strip_suffix(".json");
    name == ".tmp" || NAMES.contains(&base) || Some(base) == lock_tmp
}

/// A fetch replaces the `attack`, `sigma` and `atomics` folders of its
/// cache whole: a folder holding anything else (a vault, whose `atomics/`
/// holds the analyst's notes) is refused before anything is written.
fn refuse_other_folder(cache: &Path) -> Result<(), Diagnostic> {
    if let Some(why) = not_a_cache_folder(cache) {
        return Err(Diagnostic::error("fetch", why).in_file(cache));
    }
    let mut other = crate::paths::entry_names(cache).unwrap_or_default();
    other.retain(|n| !is_cache_entry(n));
    if other.is_empty() {
        return Ok(());
    }
    let msg = format!(
        "not a cache folder (it holds {}), and a fetch replaces its `attack`, `sigma` and `atomics` folders whole: nothing was changed; give a new or empty folder, or the cache a fetch made (--cache)",
        sigma_engine::diag::first_of(&other, 3)
    );
    Err(Diagnostic::error("fetch", msg).in_file(cache))
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Get `source` (a URL or a local file) into `dest`; conditional on the
/// cached entry's validators when its copy still exists.
fn obtain(
    client: &Client,
    source: &str,
    known: Option<&Validators>,
    dest: &Path,
) -> Result<Got, FetchError> {
    if is_url(source) {
        return client.get(source, known, dest);
    }
    fs::copy(source, dest).map_err(FetchError::file("cannot read", Path::new(source)))?;
    let (size, sha256) = http::sha256_file(dest).map_err(FetchError::file("cannot read", dest))?;
    Ok(Got::Body {
        size,
        sha256,
        validators: Validators::default(),
        url: source.to_string(),
    })
}

fn fail(source: &str, what: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error("fetch", format!("{source}: {what}"))
}

/// The release index, kept in the cache so that an unchanged one is not
/// downloaded again.
fn fetch_index(
    cfg: &FetchConfig,
    client: &Client,
    lock: &mut Lock,
    tmp: &Path,
) -> Result<attack_index::Index, Diagnostic> {
    const KEY: &str = "attack/index";
    const REL: &str = "attack/index.json";
    let src = &cfg.attack_index;
    let dest = tmp.join("index.json");
    let known = validators(&cfg.cache, lock.sources.get(KEY), src);
    let got = obtain(client, src, known.as_ref(), &dest).map_err(|e| fail(src, e))?;
    let path = match &got {
        Got::NotModified => cfg.cache.join(REL),
        Got::Body { .. } => dest.clone(),
    };
    let text = fs::read_to_string(&path).map_err(|e| fail(src, e))?;
    let index = attack_index::Index::parse(&text).map_err(|e| fail(src, e))?;
    if let Got::Body {
        size,
        sha256,
        validators,
        ..
    } = got
    {
        fs::create_dir_all(cfg.cache.join("attack")).map_err(|e| fail(REL, e))?;
        fs::rename(&dest, cfg.cache.join(REL)).map_err(|e| fail(REL, e))?;
        lock.sources.insert(
            KEY.to_string(),
            Entry {
                url: src.clone(),
                version: String::new(),
                fetched: now(),
                size,
                sha256,
                etag: validators.etag,
                last_modified: validators.last_modified,
                path: REL.to_string(),
                sums: None,
            },
        );
    }
    Ok(index)
}

/// The cached entry's validators, when its copy is still there.
fn validators(cache: &Path, e: Option<&Entry>, url: &str) -> Option<Validators> {
    let e = e.filter(|e| e.url == url && cache.join(&e.path).exists())?;
    // A cached copy that changed since is downloaded again, not kept as
    // "unchanged".
    if verify(cache, e).is_err() {
        return None;
    }
    Some(Validators {
        etag: e.etag.clone(),
        last_modified: e.last_modified.clone(),
    })
}

fn fetch_bundle(
    cfg: &FetchConfig,
    client: &Client,
    index: &attack_index::Index,
    domain: Domain,
    lock: &mut Lock,
    tmp: &Path,
) -> Result<Fetched, Diagnostic> {
    let release = index
        .release(domain, &cfg.attack_version)
        .map_err(|e| fail(&cfg.attack_index, e))?;
    // An index from the web names web addresses: one naming a local file
    // would have the fetch read it (a device could never end).
    if is_url(&cfg.attack_index) && !is_url(&release.url) {
        let what = format!(
            "the index names `{}` for {} {}, not a web address: refused",
            sigma_engine::text::excerpt(&release.url, 200),
            domain.collection(),
            release.version
        );
        return Err(fail(&cfg.attack_index, what));
    }
    let key = format!("attack/{}", domain.stix());
    let known = validators(&cfg.cache, lock.sources.get(&key), &release.url);
    let dest = tmp.join(format!("{}.json", domain.stix()));
    let got =
        obtain(client, &release.url, known.as_ref(), &dest).map_err(|e| fail(&release.url, e))?;
    let Got::Body {
        size,
        sha256,
        validators,
        ..
    } = got
    else {
        return Ok(Fetched::Unchanged {
            key,
            version: release.version,
        });
    };
    verify_bundle(&dest, domain, &release.version).map_err(|e| fail(&release.url, e))?;
    let rel = format!("attack/{}/{}.json", release.version, domain.stix());
    let final_path = cfg.cache.join(&rel);
    fs::create_dir_all(final_path.parent().unwrap_or(&cfg.cache)).map_err(|e| fail(&rel, e))?;
    fs::rename(&dest, &final_path).map_err(|e| fail(&rel, e))?;
    lock.sources.insert(
        key.clone(),
        Entry {
            url: release.url.clone(),
            version: release.version.clone(),
            fetched: now(),
            size,
            sha256,
            etag: validators.etag,
            last_modified: validators.last_modified,
            path: rel,
            sums: None,
        },
    );
    Ok(Fetched::New {
        key,
        version: release.version,
        size,
    })
}

/// A bundle must parse as STIX of `domain`, and name `version` where it
/// names one (the collection object of attack-stix-data bundles).
fn verify_bundle(path: &Path, domain: Domain, version: &str) -> Result<(), FetchError> {
    let bad = FetchError::Content;
    let text = fs::read_to_string(path).map_err(FetchError::file("unreadable download", path))?;
    let diags = Diagnostics::new();
    let bundle = crate::attack::parse_bundle(&path.display().to_string(), &text, &diags)
        .map_err(|e| bad(format!("not a usable ATT&CK bundle: {}", e.message)))?;
    if bundle.objects.is_empty() {
        return Err(bad("the bundle holds no ATT&CK object".into()));
    }
    if bundle.domain != domain.stix() {
        return Err(bad(format!(
            "a bundle of {}, not {}",
            bundle.domain,
            domain.stix()
        )));
    }
    match bundle.release {
        Some(v) if v != version => Err(bad(format!("the bundle is version {v}, not {version}"))),
        _ => Ok(()),
    }
}

/// The two archive sources.
#[derive(Debug, Clone, Copy)]
enum Tree {
    Sigma,
    Atomics,
}

impl Tree {
    fn key(self) -> &'static str {
        match self {
            Tree::Sigma => "sigma",
            Tree::Atomics => "atomics",
        }
    }
    fn source(self, cfg: &FetchConfig) -> &str {
        match self {
            Tree::Sigma => &cfg.sigma_url,
            Tree::Atomics => &cfg.atomics_url,
        }
    }
}

fn fetch_tree(
    cfg: &FetchConfig,
    client: &Client,
    tree: Tree,
    lock: &mut Lock,
    tmp: &Path,
    diags: &Diagnostics,
) -> Result<Fetched, Diagnostic> {
    let (key, source) = (tree.key().to_string(), tree.source(cfg).to_string());
    let unpacked = tmp.join(format!("{key}-new"));
    let _ = fs::remove_dir_all(&unpacked);
    let known = validators(&cfg.cache, lock.sources.get(&key), &source);
    let Some(arrived) = bring(client, &source, known.as_ref(), tmp, &unpacked, &key, diags)? else {
        let mut version = String::new();
        if let Some(e) = lock.sources.get_mut(&key) {
            version.clone_from(&e.version);
            // A tree cached before trees had sums gets them now.
            if e.sums.is_none() {
                e.sums = Some(write_sums(&cfg.cache, &key, &e.path)?);
            }
        }
        return Ok(Fetched::Unchanged { key, version });
    };
    let path = install(tree, &unpacked, &cfg.cache, &key, &source)?;
    let sums = write_sums(&cfg.cache, &key, &path)?;
    let Arrived {
        files,
        size,
        sha256,
        validators,
        from,
    } = arrived;
    let version = tree_version(&from, validators.last_modified.as_deref());
    let entry = Entry {
        url: source,
        version: version.clone(),
        fetched: now(),
        size,
        sha256,
        etag: validators.etag,
        last_modified: validators.last_modified,
        path,
        sums: Some(sums),
    };
    lock.sources.insert(key.clone(), entry);
    Ok(match files {
        Some(files) => Fetched::Copied {
            key,
            version,
            files,
        },
        None => Fetched::New { key, version, size },
    })
}

/// Writes the sums of the tree cached at `path` (see [`sums`]); their
/// file's path, relative to the cache.
fn write_sums(cache: &Path, key: &str, path: &str) -> Result<String, Diagnostic> {
    let sums = format!("{key}.sha256");
    sums::write(&cache.join(path), &cache.join(&sums))?;
    Ok(sums)
}

/// A rule or test tree brought into `unpacked`.
struct Arrived {
    /// Files copied, from a local folder.
    files: Option<usize>,
    /// The archive downloaded, and how the server knows it.
    size: u64,
    sha256: String,
    validators: Validators,
    /// Where it came from, after redirects.
    from: String,
}

/// Copies a local folder, or downloads and unpacks an archive, into
/// `unpacked`; `None` when the server says the cached one is current.
fn bring(
    client: &Client,
    source: &str,
    known: Option<&Validators>,
    tmp: &Path,
    unpacked: &Path,
    key: &str,
    diags: &Diagnostics,
) -> Result<Option<Arrived>, Diagnostic> {
    if !is_url(source) && Path::new(source).is_dir() {
        let copied =
            archive::copy_tree(Path::new(source), unpacked).map_err(|e| fail(source, e))?;
        told_skipped(source, &copied.skipped, diags);
        return Ok(Some(Arrived {
            files: Some(copied.files),
            size: 0,
            sha256: String::new(),
            validators: Validators::default(),
            from: source.to_string(),
        }));
    }
    let zip = tmp.join(format!("{key}.zip"));
    match obtain(client, source, known, &zip).map_err(|e| fail(source, e))? {
        Got::NotModified => Ok(None),
        Got::Body {
            size,
            sha256,
            validators,
            url,
        } => {
            let unzipped = archive::unzip(&zip, unpacked).map_err(|e| fail(source, e))?;
            told_skipped(source, &unzipped.skipped, diags);
            Ok(Some(Arrived {
                files: None,
                size,
                sha256,
                validators,
                from: url,
            }))
        }
    }
}

/// Checks that `unpacked` holds what `tree` needs and moves it into the
/// cache under `key`; the path of its rules or atomics there, as the lock
/// records it.
fn install(
    tree: Tree,
    unpacked: &Path,
    cache: &Path,
    key: &str,
    source: &str,
) -> Result<String, Diagnostic> {
    let inner = match tree {
        Tree::Sigma => archive::rule_trees(unpacked).map(|_| unpacked.to_path_buf()),
        Tree::Atomics => archive::atomics_dir(unpacked),
    }
    .map_err(|e| fail(source, e))?;
    let rel_inner = inner
        .strip_prefix(unpacked)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    replace_dir(unpacked, &cache.join(key)).map_err(|e| fail(key, e))?;
    Ok(Path::new(key)
        .join(rel_inner)
        .to_string_lossy()
        .replace('\\', "/"))
}

/// Warns of the entries an unpacking or a copy left out, naming the first.
fn told_skipped(source: &str, skipped: &[archive::Skipped], diags: &Diagnostics) {
    if skipped.is_empty() {
        return;
    }
    let n = skipped.len();
    let msg = format!(
        "{source}: {n} {} left out: {}",
        if n == 1 { "entry" } else { "entries" },
        sigma_engine::diag::first_of(skipped, 5)
    );
    diags.push(Diagnostic::warning("fetch", msg));
}

/// A release tag named in the URL (`/download/r2025-01-01/`), else the
/// archive's date (Last-Modified) or today.
fn tree_version(source: &str, last_modified: Option<&str>) -> String {
    if let Some(tag) = source
        .split("/download/")
        .nth(1)
        .and_then(|rest| rest.split_once('/').map(|(tag, _)| tag))
        .filter(|t| !t.is_empty() && *t != "latest")
    {
        return tag.to_string();
    }
    last_modified
        .and_then(|m| jiff::fmt::rfc2822::parse(m).ok())
        .map(|z| z.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|| jiff::Timestamp::now().strftime("%Y-%m-%d").to_string())
}

/// Put the verified folder `new` where `dest` was, in two renames.
fn replace_dir(new: &Path, dest: &Path) -> std::io::Result<()> {
    let old = dest.with_extension("old");
    let _ = fs::remove_dir_all(&old);
    if dest.exists() {
        fs::rename(dest, &old)?;
    }
    fs::rename(new, dest)?;
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// The inputs a build takes from the cache.
#[derive(Debug, Clone, Default)]
pub struct CachedInputs {
    pub attack: Vec<PathBuf>,
    pub sigma: Vec<PathBuf>,
    pub atomics: Option<PathBuf>,
}

/// Whether a cached copy is still what was fetched: a bundle or a tree
/// changed since (damaged, or edited) is refused, with what changed.
fn verify(cache: &Path, e: &Entry) -> Result<(), Diagnostic> {
    let path = cache.join(e.path.trim_end_matches('/'));
    if let Some(sums) = &e.sums {
        return verify_tree(&path, &cache.join(sums));
    }
    if e.sha256.is_empty() || path.is_dir() {
        return Ok(());
    }
    let (_, sha256) = http::sha256_file(&path).map_err(|err| fail(&e.path, err))?;
    if sha256 == e.sha256 {
        return Ok(());
    }
    let msg = format!(
        "the cached copy changed since it was fetched (sha256 {sha256}, not {} as the lock file records): run `attack-vault fetch` again",
        e.sha256
    );
    Err(Diagnostic::error("fetch", msg).in_file(path))
}

/// Whether the YAML files of a cached tree are those its sums record.
fn verify_tree(root: &Path, sums: &Path) -> Result<(), Diagnostic> {
    let differ = sums::differences(root, sums).map_err(|e| {
        let msg =
            format!("the cached tree's sums cannot be read ({e}): run `attack-vault fetch` again");
        Diagnostic::error("fetch", msg).in_file(sums)
    })?;
    if differ.is_empty() {
        return Ok(());
    }
    let msg = format!(
        "the cached tree changed since it was fetched: {} file(s) differ from its sums ({}): run `attack-vault fetch` again (or read your own copy with --sigma or --atomics)",
        differ.len(),
        sigma_engine::diag::first_of(&differ, 5)
    );
    Err(Diagnostic::error("fetch", msg).in_file(root))
}

/// Why `cache` cannot be a cache, if it cannot: it is a file.
pub fn not_a_cache_folder(cache: &Path) -> Option<&'static str> {
    fs::metadata(cache)
        .is_ok_and(|m| !m.is_dir())
        .then_some("not a folder: the cache is a folder (--cache)")
}

/// What `cache` holds, by its lock file.
pub fn cached_inputs(cache: &Path) -> Result<CachedInputs, Diagnostic> {
    if let Some(why) = not_a_cache_folder(cache) {
        return Err(Diagnostic::error("fetch", why).in_file(cache));
    }
    let lock = Lock::read(cache);
    if lock.sources.is_empty() {
        return Err(Diagnostic::error(
            "fetch",
            "the cache holds nothing yet: run `attack-vault fetch` first",
        )
        .in_file(cache));
    }
    let mut inputs = CachedInputs::default();
    // Domains in ATT&CK's own order (Enterprise, Mobile, ICS), as Home lists them.
    let mut sources: Vec<(&String, &Entry)> = lock.sources.iter().collect();
    sources.sort_by_key(|(k, _)| {
        Domain::ALL
            .iter()
            .position(|d| k.ends_with(d.stix()))
            .unwrap_or(Domain::ALL.len())
    });
    for (key, e) in sources {
        let p = cache.join(&e.path);
        match key.as_str() {
            "attack/index" => {}
            k if k.starts_with("attack/") => {
                verify(cache, e)?;
                inputs.attack.push(p)
            }
            "sigma" => {
                verify(cache, e)?;
                inputs.sigma = archive::rule_trees(&p).map_err(|m| fail(&e.path, m))?
            }
            "atomics" => {
                verify(cache, e)?;
                inputs.atomics = Some(p)
            }
            _ => {}
        }
    }
    Ok(inputs)
}

/// One line per cached source (for `--offline`).
pub fn describe(cache: &Path) -> Vec<String> {
    Lock::read(cache)
        .sources
        .iter()
        .filter(|(k, _)| *k != "attack/index")
        .map(|(k, e)| {
            let changed = match verify(cache, e).is_err() {
                true => "; CHANGED since: `attack-vault fetch` gets it again",
                false => "",
            };
            format!(
                "{k}: {} ({} bytes, sha256 {}), fetched {} from {}{changed}",
                e.version, e.size, e.sha256, e.fetched, e.url
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_fetch_leaves_is_a_cache_and_nothing_else_is() {
        for name in [
            "attack",
            "sigma",
            "atomics",
            "lock",
            ".tmp",
            "attack-vault.lock.json",
            "attack-vault.lock.tmp",
            "sigma.sha256",
            "sigma.tmp",
            "atomics.old",
        ] {
            assert!(is_cache_entry(name), "{name}");
        }
        for name in [
            "Home.md",
            ".attack-vault",
            ".obsidian",
            "Techniques",
            "notes.tmp",
        ] {
            assert!(!is_cache_entry(name), "{name}");
        }
    }

    #[test]
    fn a_release_tag_in_the_final_url_names_the_version_else_the_archive_date() {
        let tagged =
            "https://github.com/SigmaHQ/sigma/releases/download/r2025-11-10/sigma_all_rules.zip";
        assert_eq!(tree_version(tagged, None), "r2025-11-10");
        assert_eq!(
            tree_version(SIGMA_URL, Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            "2015-10-21"
        );
    }

    #[test]
    fn latest_is_the_highest_version_as_numbers() {
        let index = attack_index::Index::parse(
            r#"{"collections": [{"name": "Enterprise ATT&CK", "versions": [
                {"version": "9.0", "url": "a"}, {"version": "18.1", "url": "b"}, {"version": "18.0", "url": "c"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            index.release(Domain::Enterprise, "latest").unwrap().url,
            "b"
        );
        assert!(index.release(Domain::Mobile, "latest").is_err());
        assert_eq!("ICS".parse::<Domain>(), Ok(Domain::Ics));
        assert!("cloud".parse::<Domain>().is_err());
    }
}
