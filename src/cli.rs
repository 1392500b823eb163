//! The command line: argument definitions and the dispatch to the library.

use crate::build::{BuildConfig, build};
use crate::output::WriteOptions;
use crate::vault::RenderOptions;
use clap::{Args, Parser, Subcommand};
use sigma_engine::diag::{Diagnostics, Severity, counted};
use sigma_engine::matcher::Window;
use sigma_engine::sigma::vocab::{Level, Status};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Turn MITRE ATT&CK into a linked Obsidian vault.
#[derive(Debug, Parser)]
#[command(name = "attack-vault", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download ATT&CK, the Sigma rules and the Atomic Red Team tests into
    /// the cache (verified, pinned in its lock file), for `build --from-cache`.
    Fetch(FetchArgs),
    /// Build the vault. With no inputs at all, builds the example vault from
    /// the embedded demo dataset (ATT&CK slice, rules and atomic tests); with
    /// rules or tests but no `--attack`, the demo ATT&CK slice is used.
    ///
    /// Exit codes: 0 success (warnings allowed); 1 input problems with --strict;
    /// 2 the build failed (nothing was written).
    Build(BuildArgs),
    /// Run Sigma rules over event files (EVTX, XML, JSON, JSONL, CSV, W3C web, Zeek,
    /// Linux audit and syslog logs; folders walked) and report what fired.
    ///
    /// Exit codes: 0 the hunt ran (with or without detections); 1 some input
    /// could not be read and --strict was given; 2 nothing could run (no
    /// usable rule, unreadable mapping).
    #[command(
        override_usage = "attack-vault match [OPTIONS] <EVENTS>... --rules <PATH>...\n       \
                                attack-vault match [OPTIONS] --rules <PATH>... -- <EVENTS>..."
    )]
    Match(MatchArgs),
    /// Run the rules' regression tests: each rule that names one
    /// (`regression_tests_path`, SigmaHQ's `info.yml`) must fire on its
    /// test's events as often as `match_count` says (at least once without
    /// it). Fewer fail; more pass, said so that the count is brought up to date.
    ///
    /// Exit codes: 0 every test passed; 1 a test failed or could not run (with
    /// --strict, also a stale count, a test not run or an input problem); 2
    /// nothing could run (no rule read, no rule with a test, unreadable mapping).
    Test(TestArgs),
    /// Export a vault as a static HTML website (search, backlinks, graph, tag
    /// pages; relative URLs, works from file://).
    ///
    /// Exit codes: 0 exported; 1 unresolved links and --strict; 2 failed
    /// (nothing written).
    Export(ExportArgs),
    /// Write ATT&CK Navigator layers (one per domain) from a built vault's
    /// technique notes, without rebuilding anything.
    ///
    /// Exit codes: 0 written; 1 a note could not be read, or a domain is
    /// no domain's name, and --strict; 2 the vault has no coverage
    /// properties.
    Layer {
        #[command(flatten)]
        vault: VaultArg,
        /// Folder to write `<domain>-coverage.json` into.
        #[arg(long, short, default_value = ".")]
        out: PathBuf,
        /// Replace a file of that name that is no layer attack-vault wrote.
        #[arg(long)]
        force: bool,
        /// Exit with status 1 when any problem was reported.
        #[arg(long)]
        strict: bool,
    },
    /// Check a vault: every wikilink, Markdown link to a note or file and
    /// footnote resolves, every note's properties are valid YAML, no ATT&CK
    /// citation or raw attack.mitre.org link to a note is left.
    ///
    /// Exit codes: 0 clean; 1 problems found; 2 no such vault folder, or no
    /// note in it.
    Check {
        #[command(flatten)]
        vault: VaultArg,
    },
}

/// The vault a command reads, named alike by `check`, `layer` and `export`:
/// `attack-vault check my-vault` or `--vault my-vault`.
#[derive(Debug, Args)]
pub struct VaultArg {
    /// The vault folder [default: vault].
    #[arg(value_name = "VAULT")]
    positional: Option<PathBuf>,
    /// The vault folder, as an option.
    #[arg(long = "vault", value_name = "VAULT", conflicts_with = "positional")]
    flag: Option<PathBuf>,
}

impl VaultArg {
    pub fn path(self) -> PathBuf {
        self.positional
            .or(self.flag)
            .unwrap_or_else(|| PathBuf::from("vault"))
    }
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// ATT&CK STIX bundle(s) (STIX 2.0 or 2.1; Enterprise, Mobile, ICS).
    /// Bundles of several domains merge into one vault; of two releases of
    /// one domain, the newer is used.
    #[arg(long = "attack", value_name = "FILE", num_args = 1..)]
    pub attack: Vec<PathBuf>,
    /// Sigma rule files or folders (walked recursively for .yml/.yaml);
    /// `--rules`, as `match` calls them, is the same.
    #[arg(long = "sigma", visible_alias = "rules", value_name = "PATH", num_args = 1..)]
    pub sigma: Vec<PathBuf>,
    /// An Atomic Red Team `atomics/` folder (T*/T*.yaml), or the checkout holding it.
    #[arg(long, value_name = "DIR")]
    pub atomics: Option<PathBuf>,
    /// Sample events (EVTX, XML, JSON, JSONL, CSV, W3C web, Zeek, Linux audit and
    /// syslog logs; files or folders): every rule runs over
    /// them and the vault shows what fired, per rule and per technique.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub events: Vec<PathBuf>,
    /// Logsource mapping for the matcher (default: the built-in Windows one).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Output folder of the vault.
    #[arg(long, short, value_name = "DIR", default_value = "vault")]
    pub out: PathBuf,
    /// Keep deprecated ATT&CK objects (marked `deprecated: true`) and Sigma rules whose status is
    /// deprecated or unsupported, instead of leaving them out.
    #[arg(long)]
    pub include_deprecated: bool,
    /// Also write the live Dataview query under each precomputed table.
    #[arg(long)]
    pub dataview: bool,
    /// Only the ATT&CK domains listed; bundles of others are left out.
    #[arg(long, value_name = "DOMAINS", value_delimiter = ',')]
    pub domains: Vec<crate::fetch::Domain>,
    /// Only rules of the levels listed (`critical,high`), for a smaller vault.
    #[arg(long, value_name = "LEVELS", value_delimiter = ',', ignore_case = true,
          value_parser = vocabulary(Level::ALL, Level::as_str, Level::parse))]
    pub levels: Vec<Level>,
    /// Also write live Obsidian Bases: a `base` block under each precomputed
    /// table, and `.base` files in `Bases/`.
    #[arg(long)]
    pub bases: bool,
    /// Put each analytic inside its detection strategy's note instead of a
    /// note of its own: a smaller graph.
    #[arg(long)]
    pub fold_analytics: bool,
    /// Nest every generated tag under PREFIX (`attack` → `#attack/T1059_006`),
    /// apart from your own tags.
    #[arg(long, value_name = "PREFIX", value_parser = |p: &str| crate::tags::TagStyle::new(Some(p)))]
    pub tag_prefix: Option<crate::tags::TagStyle>,
    /// Folder of templates overriding the built-in ones by file name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Overwrite existing files that attack-vault did not generate.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cached: CacheFlags,
    /// Also export the vault as a static website into this folder.
    #[arg(long, value_name = "SITE")]
    pub site: Option<PathBuf>,
    #[command(flatten)]
    pub writing: WriteFlags,
    #[command(flatten)]
    pub report: ReportFlags,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The cache folder (default: the user cache folder, plus `attack-vault`).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// The ATT&CK version to fetch (`18.1`), or `latest`.
    #[arg(long, value_name = "VERSION", default_value = "latest")]
    pub attack_version: String,
    /// The ATT&CK domains to fetch.
    #[arg(
        long,
        value_name = "DOMAINS",
        value_delimiter = ',',
        default_value = "enterprise,mobile,ics"
    )]
    pub domains: Vec<crate::fetch::Domain>,
    /// The index of ATT&CK releases (a URL or a local file).
    #[arg(long, value_name = "URL", default_value = crate::fetch::ATTACK_INDEX)]
    pub attack_index: String,
    /// The Sigma rules: an archive URL, a local zip or a folder.
    #[arg(long, value_name = "URL", default_value = crate::fetch::SIGMA_URL)]
    pub sigma_url: String,
    /// The Atomic Red Team tests: an archive URL, a local zip or a folder.
    #[arg(long, value_name = "URL", default_value = crate::fetch::ATOMICS_URL)]
    pub atomics_url: String,
    /// Fetch nothing: say what the cache holds.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub report: ReportFlags,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The vault to export (any Obsidian vault attack-vault wrote, with or
    /// without your own notes).
    #[command(flatten)]
    pub vault: VaultArg,
    /// Output folder of the site.
    #[arg(long, short, value_name = "SITE", default_value = "site")]
    pub out: PathBuf,
    /// Absolute URL the site is published at (for sitemap.xml): http or https.
    #[arg(long, value_name = "URL", value_parser = site_url)]
    pub base_url: Option<String>,
    /// Folder with `page.html` / `style.css` overriding the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[command(flatten)]
    pub writing: WriteFlags,
    #[command(flatten)]
    pub report: ReportFlags,
}

#[derive(Debug, Args)]
pub struct MatchArgs {
    /// Sigma rule files or folders. Every path after it is a rule's: give
    /// the events first, or end the rules with `--`.
    #[arg(long, short, visible_alias = "sigma", value_name = "PATH", num_args = 1..,
          required_unless_present = "from_cache")]
    pub rules: Vec<PathBuf>,
    /// Event files or folders (EVTX, Windows XML, JSON, JSONL, W3C web, Zeek, Linux
    /// audit and syslog logs, gzip-compressed or not, recognised by content; CSV, known by its name);
    /// `-` reads standard input, and a named pipe is read as it comes.
    // Checked in `run_match`, which says why they may be missing.
    #[arg(value_name = "EVENTS")]
    pub events: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub format: FormatArg,
    #[command(flatten)]
    pub output: OutputFlags,
    /// Only rules of this level or higher.
    #[arg(long, value_name = "LEVEL", ignore_case = true,
          value_parser = vocabulary(Level::ALL, Level::as_str, Level::parse))]
    pub level: Option<Level>,
    /// Only rules with one of these statuses (repeatable, or comma-separated).
    /// Without it, every rule runs but the deprecated and unsupported ones.
    #[arg(long, value_name = "STATUS", ignore_case = true, value_delimiter = ',',
          value_parser = vocabulary(Status::ALL, Status::as_str, Status::parse))]
    pub status: Vec<Status>,
    /// Only rules with one of these tags, e.g. `attack.t1059`, `T1059.001` (a
    /// technique takes its sub-techniques too), a tactic (`attack.execution`,
    /// `execution` or `TA0002`), `cve.2021-1675` (repeatable).
    #[arg(long, value_name = "TAG", value_parser = crate::tags::parse_wanted_tag)]
    pub tag: Vec<crate::tags::TagRef>,
    /// Only rules whose logsource product is this, e.g. `windows` (repeatable).
    #[arg(long, value_name = "PRODUCT")]
    pub product: Vec<String>,
    #[command(flatten)]
    pub engine: EngineFlags,
    /// Only events at or after this time: `2019-05-19`, `2019-05-19T17:32:00Z`,
    /// `2019-05-19 19:32:00+02:00` (no zone: UTC).
    #[arg(long, value_name = "TIME", value_parser = |t: &str| Window::bound(t, false))]
    pub from: Option<i128>,
    /// Only events at or before this time (a date alone: to the end of that day).
    #[arg(long, value_name = "TIME", value_parser = |t: &str| Window::bound(t, true))]
    pub to: Option<i128>,
    /// With each detection, its whole event: every field it holds, as read
    /// (`event` in the json and jsonl formats, a last column in csv).
    #[arg(long)]
    pub all_fields: bool,
    #[command(flatten)]
    pub cached: CacheFlags,
    #[command(flatten)]
    pub report: ReportFlags,
}

/// How the rules meet the events, alike for `match` and `test`.
#[derive(Debug, Args)]
pub struct EngineFlags {
    /// Logsource mapping replacing the built-in one (see crates/sigma-engine/mappings/builtin.yml).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Mapping entries added to the built-in (or --mapping) ones (repeatable).
    #[arg(long, value_name = "FILE")]
    pub extra_mapping: Vec<PathBuf>,
    /// Values of `expand` placeholders: YAML map of name → list of values.
    #[arg(long, value_name = "FILE")]
    pub placeholders: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Sigma rule files or folders: every rule that names a regression test
    /// (`regression_tests_path`) is run over its test's events; the other
    /// rules run alongside (a correlation counts them, a filter acts on them).
    #[arg(long, short, visible_alias = "sigma", value_name = "PATH", num_args = 1..,
          required_unless_present = "from_cache")]
    pub rules: Vec<PathBuf>,
    /// How the cases are reported: text (a line per case that did not pass;
    /// every case with -v), jsonl (an object per case) or junit (a JUnit XML
    /// report, as CI systems show test results).
    #[arg(long, short, value_enum, default_value = "text")]
    pub format: crate::regression::TestFormat,
    #[command(flatten)]
    pub output: OutputFlags,
    #[command(flatten)]
    pub engine: EngineFlags,
    #[command(flatten)]
    pub cached: CacheFlags,
    #[command(flatten)]
    pub report: ReportFlags,
}

/// Where a command's report goes, alike for `match` and `test`.
#[derive(Debug, Args)]
pub struct OutputFlags {
    /// Write the report to this file instead of standard output (`-`): whole
    /// or not at all (written beside it, then moved into place).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the --output file if one stands there.
    #[arg(long, requires = "output")]
    pub force: bool,
}

impl OutputFlags {
    /// The report's file, or `None` for standard output. No file the run
    /// reads (of `events` and `rules`, given or found in their folders) is
    /// replaced, nor read as its input.
    fn open(
        &self,
        events: &[PathBuf],
        rules: &[PathBuf],
    ) -> Result<Option<crate::output::ReportFile>, sigma_engine::diag::Diagnostic> {
        let Some(p) = self.output.as_ref().filter(|p| p.as_os_str() != "-") else {
            return Ok(None);
        };
        let reads = |p: &std::path::Path| crate::paths::read_by_run(p, events, rules);
        crate::output::ReportFile::create(p, self.force, &reads).map(Some)
    }
}

/// How every command reports and judges problems.
#[derive(Debug, Args)]
pub struct ReportFlags {
    /// Exit with status 1 when any problem was reported: an input error, a
    /// lost event record, an unresolved link.
    #[arg(long)]
    pub strict: bool,
    /// Show every warning, skipped rule, rule that fired, unresolved link
    /// and problem of a file, not only the first ones of each kind.
    #[arg(long, short)]
    pub verbose: bool,
    /// No progress display and no summary (warnings and errors still show).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Inputs from what `attack-vault fetch` put in its cache.
#[derive(Debug, Args)]
pub struct CacheFlags {
    /// Read what `attack-vault fetch` put in the cache: `build` every cached
    /// domain, rule tree and the atomics, `match` the rule trees; the flags
    /// naming inputs (`--attack`, `--sigma`/`--rules`, `--atomics`) still win.
    #[arg(long)]
    pub from_cache: bool,
    /// The cache folder `--from-cache` reads (default: as for `fetch`).
    #[arg(long, value_name = "DIR", requires = "from_cache")]
    pub cache: Option<PathBuf>,
}

impl CacheFlags {
    /// The cache's inputs, verified, and its lock taken for reading: held
    /// through the run, so that no fetch replaces what it reads meanwhile.
    /// `None` without `--from-cache`.
    fn read(
        &self,
        wait: bool,
    ) -> Result<
        Option<(crate::fetch::CachedInputs, crate::output::WriterLock)>,
        sigma_engine::diag::Diagnostic,
    > {
        if !self.from_cache {
            return Ok(None);
        }
        let cache = self
            .cache
            .clone()
            .unwrap_or_else(crate::fetch::default_cache);
        if !cache.is_dir() {
            // Said as an empty cache is: run `fetch` first.
            crate::fetch::cached_inputs(&cache)?;
        }
        let read = crate::output::Access::Read;
        let lock = crate::output::WriterLock::acquire_in(&cache, &cache, read, wait)?;
        Ok(Some((crate::fetch::cached_inputs(&cache)?, lock)))
    }
}

impl CacheFlags {
    /// With `--from-cache`, the cached rule trees where no rules were
    /// named, and the cache's lock, held through the run.
    fn rules_into(
        &self,
        rules: &mut Vec<PathBuf>,
    ) -> Result<Option<crate::output::WriterLock>, sigma_engine::diag::Diagnostic> {
        let Some((cached, lock)) = self.read(true)? else {
            return Ok(None);
        };
        if rules.is_empty() {
            *rules = cached.sigma;
        }
        Ok(Some(lock))
    }
}

/// How a command that writes a folder shares it with other runs.
#[derive(Debug, Args)]
pub struct WriteFlags {
    /// Refuse, instead of waiting, when another run is writing to the same
    /// folder.
    #[arg(long)]
    pub no_wait: bool,
}

/// How many diagnostics of one category to print before summarising.
const SHOW_PER_CATEGORY: usize = 20;

/// A site's public address: an absolute http(s) URL with a host, as a
/// sitemap requires (`javascript:` or a relative path is refused, naming it).
fn site_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not an absolute URL: {e}"))?;
    match (url.scheme(), url.host_str()) {
        _ if url.query().is_some() || url.fragment().is_some() => {
            Err("the site's address takes no query (`?`) nor fragment (`#`)".to_string())
        }
        ("http" | "https", Some(_)) => Ok(url.to_string()),
        _ => Err("the site's address must be an http or https URL with a host".to_string()),
    }
}

/// Run a parsed command line and return the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Build(a) => run_build(a),
        Command::Fetch(a) => run_fetch(a),
        Command::Check { vault } => run_check(&vault.path()),
        Command::Match(a) => run_match(a),
        Command::Test(a) => run_test(a),
        Command::Export(a) => run_export(a),
        Command::Layer {
            vault,
            out,
            force,
            strict,
        } => run_layer(&vault.path(), &out, force, strict),
    }
}

fn run_fetch(a: FetchArgs) -> ExitCode {
    let mut cfg =
        crate::fetch::FetchConfig::new(a.cache.unwrap_or_else(crate::fetch::default_cache));
    if a.offline {
        if let Some(why) = crate::fetch::not_a_cache_folder(&cfg.cache) {
            say(&format!("error: {}: {why}", cfg.cache.display()));
            return ExitCode::from(2);
        }
        let held = crate::fetch::describe(&cfg.cache);
        if held.is_empty() {
            eprintln!("the cache {} holds nothing yet", cfg.cache.display());
        }
        for line in held {
            println!("{line}");
        }
        return ExitCode::SUCCESS;
    }
    cfg.attack_version = a.attack_version;
    cfg.domains = a.domains;
    cfg.attack_index = a.attack_index;
    cfg.sigma_url = a.sigma_url;
    cfg.atomics_url = a.atomics_url;
    cfg.progress = !a.report.quiet && std::io::stderr().is_terminal();
    let diags = collector(a.report.verbose);
    let result = crate::fetch::fetch(&cfg, &diags);
    print_diagnostics(&diags, a.report.verbose);
    let done = match result {
        Ok(done) => done,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    if !a.report.quiet {
        for f in &done {
            match f {
                crate::fetch::Fetched::New { key, version, size } => {
                    eprintln!("{key}: {version}, {size} bytes fetched")
                }
                crate::fetch::Fetched::Copied {
                    key,
                    version,
                    files,
                } => {
                    let files = counted(*files as u64, "file", "files");
                    eprintln!("{key}: {version}, {files} copied")
                }
                crate::fetch::Fetched::Unchanged { key, version } => {
                    eprintln!("{key}: {version}, unchanged (nothing downloaded)")
                }
            }
        }
        eprintln!("cache: {}", cfg.cache.display());
    }
    if diags.count(Severity::Error) > 0 {
        eprintln!("fetch failed for some sources; their cached copies (if any) are unchanged");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_build(a: BuildArgs) -> ExitCode {
    let mut a = a;
    // Held through the build: no fetch replaces what it reads meanwhile.
    let _cache = match inputs_from_cache(&mut a) {
        Ok(lock) => lock,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let cfg = build_config(&a);
    let diags = collector(a.report.verbose);
    let result = build(&cfg, &diags);
    print_diagnostics(&diags, a.report.verbose);
    let s = match result {
        Ok(s) => s,
        Err(e) => {
            say(&e.to_string());
            eprintln!("build failed; the output folder was not changed");
            return ExitCode::from(2);
        }
    };
    if !a.report.quiet {
        print_build_summary(&s, &cfg, &diags);
    }
    if let Some(site) = &a.site {
        let cfg = crate::site::ExportConfig {
            vault: cfg.out.clone(),
            out: site.clone(),
            base_url: None,
            templates: cfg.render.templates.clone(),
            no_wait: a.writing.no_wait,
        };
        let code = export_and_report(&cfg, false, a.report.verbose, a.report.quiet);
        if code != ExitCode::SUCCESS {
            return code;
        }
    }
    if a.report.strict && diags.count(Severity::Error) > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--from-cache`: every cached source the flags do not name, and the
/// cache's lock, taken for reading.
fn inputs_from_cache(
    a: &mut BuildArgs,
) -> Result<Option<crate::output::WriterLock>, sigma_engine::diag::Diagnostic> {
    let Some((c, lock)) = a.cached.read(!a.writing.no_wait)? else {
        return Ok(None);
    };
    if a.attack.is_empty() {
        a.attack = c.attack;
    }
    if a.sigma.is_empty() {
        a.sigma = c.sigma;
    }
    if a.atomics.is_none() {
        a.atomics = c.atomics;
    }
    Ok(Some(lock))
}

fn build_config(a: &BuildArgs) -> BuildConfig {
    BuildConfig {
        attack: a.attack.clone(),
        sigma: a.sigma.clone(),
        atomics: a.atomics.clone(),
        events: a.events.clone(),
        mapping: a.mapping.clone(),
        out: a.out.clone(),
        include_deprecated: a.include_deprecated,
        domains: a.domains.iter().map(|d| d.stix().to_string()).collect(),
        levels: a.levels.clone(),
        render: RenderOptions {
            dataview: a.dataview,
            templates: a.templates.clone(),
            tags: a.tag_prefix.clone().unwrap_or_default(),
            bases: a.bases,
            fold_analytics: a.fold_analytics,
        },
        write: WriteOptions {
            force: a.force,
            no_wait: a.writing.no_wait,
        },
        progress: !a.report.quiet && std::io::stderr().is_terminal(),
    }
}

/// What a build did, on stderr: notes by kind, the analyst's edits, rules
/// and tests linked, what was left out, events matched, missing IDs.
fn print_build_summary(s: &crate::build::BuildSummary, cfg: &BuildConfig, diags: &Diagnostics) {
    let lines = written_lines(s, cfg)
        .into_iter()
        .chain(read_lines(s))
        .chain(event_lines(s));
    for line in lines {
        say(&line);
    }
    eprintln!(
        "{} error(s), {} warning(s)",
        diags.count(Severity::Error),
        diags.count(Severity::Warning)
    );
}

/// What a build wrote, and what became of the analyst's edits.
fn written_lines(s: &crate::build::BuildSummary, cfg: &BuildConfig) -> Vec<String> {
    let kinds: Vec<String> = s
        .per_kind
        .iter()
        .map(|(k, n)| format!("{n} {}", k.folder().to_lowercase()))
        .collect();
    let w = &s.write;
    let mut lines = vec![format!(
        "built {} in {} ({}) in {:.2?}: {} written, {} unchanged, {} removed",
        counted(s.notes as u64, "note", "notes"),
        cfg.out.display(),
        kinds.join(", "),
        s.elapsed,
        w.written,
        w.unchanged,
        w.removed
    )];
    if !w.followed.is_empty() {
        let names: Vec<String> = w.followed.iter().map(|(_, new)| new.clone()).collect();
        lines.push(format!(
            "followed {} you renamed or moved: {}",
            counted(names.len() as u64, "note", "notes"),
            sigma_engine::diag::first_of(&names, 3)
        ));
    }
    if !w.merged.is_empty() || !w.conflicts.is_empty() || !w.released.is_empty() {
        lines.push(format!(
            "your edits: {} note(s) merged with the new version, {} in conflict (kept as you left them), {} no longer generated (kept)",
            w.merged.len(),
            w.conflicts.len(),
            w.released.len()
        ));
    }
    lines
}

/// What a build linked of the rules and tests read, and what it left out.
fn read_lines(s: &crate::build::BuildSummary) -> Vec<String> {
    let mut lines = Vec::new();
    if s.rules > 0 || s.tests > 0 {
        lines.push(format!(
            "{}, {} linked",
            counted(s.rules as u64, "Sigma rule", "Sigma rules"),
            counted(s.tests as u64, "atomic test", "atomic tests")
        ));
    }
    if s.left_out.rules > 0 {
        let rules = counted(s.left_out.rules as u64, "rule", "rules");
        lines.push(format!("{rules} left out by --levels"));
    }
    if s.left_out.retired > 0 {
        let rules = counted(s.left_out.retired as u64, "rule", "rules");
        lines.push(format!(
            "{rules} of status deprecated or unsupported left out (--include-deprecated keeps them)"
        ));
    }
    if !s.left_out.bundles.is_empty() {
        lines.push(format!(
            "left out by --domains: {}",
            (s.left_out.bundles.iter().map(ToString::to_string))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    lines
}

/// The sample events matched, and the technique IDs ATT&CK lacks.
fn event_lines(s: &crate::build::BuildSummary) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = &s.events {
        let lost = crate::hunt::summary::lost_note(e.lost);
        lines.push(format!(
            "{}{lost}, {} (matching took {:.2?})",
            counted(e.events, "sample event", "sample events"),
            counted(e.detections, "detection", "detections"),
            e.elapsed
        ));
        lines.extend(crate::hunt::summary::unserved_line(e.unserved));
    }
    if !s.missing_techniques.is_empty() {
        lines.push(format!(
            "{} technique ID(s) named by rules or tests are not in the ATT&CK data (stub notes, see \"Link report\"): {}",
            s.missing_techniques.len(),
            sigma_engine::diag::first_of(&s.missing_techniques, 12)
        ));
    }
    lines
}

/// Where a command's diagnostics go: with `--verbose`, every one is kept.
fn collector(verbose: bool) -> Diagnostics {
    if verbose {
        Diagnostics::unbounded()
    } else {
        Diagnostics::new()
    }
}

/// One line on stderr that quotes input (titles, note names, links), shown
/// escaped so that it cannot redraw the terminal or forge lines.
fn say(line: &str) {
    eprintln!("{}", sigma_engine::text::printable(line));
}

fn print_diagnostics(diags: &Diagnostics, verbose: bool) {
    let mut shown: std::collections::HashMap<(&'static str, Severity), usize> = Default::default();
    let mut hidden: std::collections::BTreeMap<&'static str, usize> = Default::default();
    for d in diags.sorted() {
        let n = shown.entry((d.category, d.severity)).or_default();
        *n += 1;
        if verbose || d.severity == Severity::Error || *n <= SHOW_PER_CATEGORY {
            eprintln!("{d}");
        } else {
            *hidden.entry(d.category).or_default() += 1 + d.others;
        }
    }
    for (cat, n) in hidden {
        eprintln!("... and {n} more [{cat}] warning(s) (--verbose shows all)");
    }
}

fn run_check(vault: &std::path::Path) -> ExitCode {
    if let Some(why) = crate::paths::not_a_vault(vault) {
        say(&format!("error: {}: {why}", vault.display()));
        return ExitCode::from(2);
    }
    let r = crate::vault::check::check_vault(vault);
    if r.notes == 0 && r.unreadable.is_empty() {
        eprintln!(
            "error: {}: no notes (.md files) in the folder",
            vault.display()
        );
        return ExitCode::from(2);
    }
    for (note, problem) in r.unreadable.iter().chain(&r.bad_properties) {
        say(&format!("{note}: {problem}"));
    }
    for (note, link) in &r.unresolved {
        say(&format!("{note}: unresolved link {link}"));
    }
    for a in &r.aliases {
        say(&format!(
            "{}: {} names an alias of [[{}]], not a note, and Obsidian leaves it unresolved: link it as [[{}|{}]]",
            a.note, a.link, a.of, a.of, a.alias
        ));
    }
    for m in &r.missing_anchors {
        let (note, link) = (&m.note, &m.link);
        say(&match &m.renamed {
            None => format!("{note}: {link} names a heading or block its note does not have"),
            Some((to, true)) => format!(
                "{note}: {link} names a heading or block of a note since renamed: [[{to}]] has it"
            ),
            Some((to, false)) => format!(
                "{note}: {link} names a heading or block of a note since renamed to [[{to}]], which does not have it either"
            ),
        });
    }
    for (note, label) in &r.missing_footnotes {
        say(&format!("{note}: footnote [^{label}] has no definition"));
    }
    for note in &r.citations_left {
        say(&format!("{note}: contains an unconverted (Citation: ...)"));
    }
    for (note, url) in &r.raw_links_to_notes {
        say(&format!(
            "{note}: raw link {url} points at a note of the vault"
        ));
    }
    eprintln!(
        "{}, {} checked",
        counted(r.notes as u64, "note", "notes"),
        counted(r.links as u64, "link", "links")
    );
    if r.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_match(mut a: MatchArgs) -> ExitCode {
    // Held through the run, as for `build --from-cache`.
    let _cache = match a.cached.rules_into(&mut a.rules) {
        Ok(lock) => lock,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    if let Err(why) = a.check() {
        eprintln!("error: {why}");
        return ExitCode::from(2);
    }
    let (verbose, quiet, strict) = (a.report.verbose, a.report.quiet, a.report.strict);
    let cfg = a.config();
    let report = match a.output.open(&cfg.events, &cfg.rules) {
        Ok(r) => r,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let diags = collector(verbose);
    // A file has no terminal's width: the table's columns are fixed.
    let cfg = crate::hunt::HuntConfig {
        table_width: cfg.table_width.filter(|_| report.is_none()),
        ..cfg
    };
    let result = to_report(report, "match", |out| crate::hunt::run(&cfg, &diags, out));
    print_diagnostics(&diags, verbose);
    match result {
        Ok(s) => {
            if !quiet && !s.output_closed {
                for line in s.report(verbose) {
                    say(&line);
                }
            }
            if strict && (crate::hunt::had_errors(&diags) || s.lost > 0) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            say(&e.to_string());
            ExitCode::from(2)
        }
    }
}

impl MatchArgs {
    /// What the arguments cannot mean together, said before anything runs.
    fn check(&self) -> Result<(), &'static str> {
        if self.events.is_empty() {
            return Err(
                "no event file given: `--rules` takes every path after it, so give the events first (`match EVENTS --rules RULES`) or end the rules with `--` (`match --rules RULES -- EVENTS`)",
            );
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err("--from is later than --to: no event can lie between them");
        }
        if self.all_fields && matches!(self.format, FormatArg::Table) {
            return Err(
                "--all-fields shows whole events in the json, jsonl and csv formats: add --format json (or jsonl, csv)",
            );
        }
        Ok(())
    }

    /// The run the arguments ask for.
    fn config(&mut self) -> crate::hunt::HuntConfig {
        use std::mem::take;
        crate::hunt::HuntConfig {
            rules: take(&mut self.rules),
            events: take(&mut self.events),
            format: self.format.into(),
            min_level: self.level,
            status: take(&mut self.status),
            tags: take(&mut self.tag),
            products: take(&mut self.product),
            mapping: self.engine.mapping.take(),
            extra_mapping: take(&mut self.engine.extra_mapping),
            placeholders: self.engine.placeholders.take(),
            window: Window {
                from: self.from,
                to: self.to,
            },
            all_fields: self.all_fields,
            progress: !self.report.quiet && std::io::stderr().is_terminal(),
            table_width: terminal_size::terminal_size_of(std::io::stdout())
                .map(|(w, _)| usize::from(w.0)),
            exit_after: true,
        }
    }
}

fn run_test(mut a: TestArgs) -> ExitCode {
    let _cache = match a.cached.rules_into(&mut a.rules) {
        Ok(lock) => lock,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let cfg = crate::regression::TestConfig {
        rules: a.rules,
        mapping: a.engine.mapping,
        extra_mapping: a.engine.extra_mapping,
        placeholders: a.engine.placeholders,
    };
    let report = match a.output.open(&[], &cfg.rules) {
        Ok(r) => r,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    let diags = collector(a.report.verbose);
    let result = crate::regression::run(&cfg, &diags);
    print_diagnostics(&diags, a.report.verbose);
    let s = match result {
        Ok(s) => s,
        Err(e) => {
            say(&e.to_string());
            return ExitCode::from(2);
        }
    };
    // The event and test files the tests name are known only now.
    let read = s.files_read();
    let reads = |p: &std::path::Path| crate::paths::read_by_run(p, &read, &[]);
    if let Some(Err(e)) = report.as_ref().map(|r| r.not_read_by(&reads)) {
        say(&e.to_string());
        return ExitCode::from(2);
    }
    let (verbose, strict) = (a.report.verbose, a.report.strict);
    let written = to_report(report, "test", |out| {
        crate::hunt::closed_output(s.write(a.format, (verbose, strict), out), "test").map(drop)
    });
    if let Err(e) = written {
        say(&e.to_string());
        return ExitCode::from(2);
    }
    if !a.report.quiet {
        say(&s.report());
    }
    let failed = s.results.iter().any(|r| r.outcome.fails(strict));
    if failed || (strict && crate::hunt::had_errors(&diags)) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs `write` on where the report goes: its file, which takes its name
/// once the report is whole, or standard output. A closed standard output
/// (`| head`) ends the report quietly; any other write error fails.
fn to_report<T>(
    report: Option<crate::output::ReportFile>,
    command: &'static str,
    write: impl FnOnce(&mut (dyn Write + Send)) -> Result<T, sigma_engine::diag::Diagnostic>,
) -> Result<T, sigma_engine::diag::Diagnostic> {
    let Some(mut file) = report else {
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let value = write(&mut out)?;
        crate::hunt::closed_output(out.flush(), command)?;
        return Ok(value);
    };
    let mut out = std::io::BufWriter::new(file.file());
    let value = write(&mut out)?;
    let flushed = out.flush();
    drop(out);
    crate::hunt::closed_output(flushed, command)?;
    file.commit()?;
    Ok(value)
}

fn run_layer(
    vault: &std::path::Path,
    out: &std::path::Path,
    force: bool,
    strict: bool,
) -> ExitCode {
    use crate::vault::navigator;
    let diags = collector(false);
    let written = navigator::layers_from_vault(vault, &diags)
        .and_then(|layers| navigator::write_layers(out, &layers, force, &diags));
    print_diagnostics(&diags, false);
    match written {
        Ok(paths) => {
            for p in paths {
                eprintln!("wrote {}", p.display());
            }
            let problems = diags.count(Severity::Warning) + diags.count(Severity::Error);
            if strict && problems > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            say(&e.to_string());
            ExitCode::from(2)
        }
    }
}

fn run_export(a: ExportArgs) -> ExitCode {
    let cfg = crate::site::ExportConfig {
        vault: a.vault.path(),
        out: a.out,
        base_url: a.base_url,
        templates: a.templates,
        no_wait: a.writing.no_wait,
    };
    export_and_report(&cfg, a.report.strict, a.report.verbose, a.report.quiet)
}

fn export_and_report(
    cfg: &crate::site::ExportConfig,
    strict: bool,
    verbose: bool,
    quiet: bool,
) -> ExitCode {
    let diags = collector(verbose);
    let r = crate::site::export(cfg, &diags);
    print_diagnostics(&diags, verbose);
    match r {
        Ok(s) => {
            let shown = match (quiet, verbose) {
                (_, true) => usize::MAX,
                (true, false) => 0,
                (false, false) => 20,
            };
            for (page, target) in s.unresolved.iter().take(shown) {
                match s.aliases.get(target) {
                    Some(of) => eprintln!(
                        "unresolved link in {page}: [[{target}]] names an alias of [[{of}]], not a note: link it as [[{of}|{target}]]"
                    ),
                    None => eprintln!("unresolved link in {page}: [[{target}]]"),
                }
            }
            for (page, target) in s.unpublished.iter().take(shown) {
                eprintln!("not in the site, named in {page}: {target} (shown as text)");
            }
            if !s.unpublished.is_empty() && shown > 0 {
                eprintln!("  {}", crate::site::PUBLISHED_FILES);
            }
            if !quiet {
                let unpublished = match s.unpublished.len() {
                    0 => String::new(),
                    n => format!(
                        ", {}",
                        counted(
                            n as u64,
                            "link to a file not published",
                            "links to files not published"
                        )
                    ),
                };
                eprintln!(
                    "exported {} and {} to {} in {:.2?}: {} written, {} unchanged, {} removed; {}{unpublished}",
                    counted(s.pages as u64, "page", "pages"),
                    counted(s.tags as u64, "tag page", "tag pages"),
                    cfg.out.display(),
                    s.elapsed,
                    s.write.written,
                    s.write.unchanged,
                    s.write.removed,
                    counted(
                        s.unresolved.len() as u64,
                        "unresolved link",
                        "unresolved links"
                    )
                );
            }
            if strict && !s.unresolved.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            say(&e.to_string());
            ExitCode::from(2)
        }
    }
}

/// `match --format`: the command line's names of the hunt's output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Jsonl,
    Csv,
}

impl From<FormatArg> for crate::hunt::OutputFormat {
    fn from(f: FormatArg) -> Self {
        use crate::hunt::OutputFormat as Format;
        match f {
            FormatArg::Table => Format::Table,
            FormatArg::Json => Format::Json,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Csv => Format::Csv,
        }
    }
}

/// A flag whose values are the words of a Sigma vocabulary, in any case;
/// `--help` and errors list the words.
fn vocabulary<T: Copy + Send + Sync + 'static>(
    all: &'static [T],
    word: fn(T) -> &'static str,
    parse: fn(&str) -> Option<T>,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(all.iter().map(|&v| word(v)))
        .try_map(move |s| parse(&s.to_ascii_lowercase()).ok_or("not a word of the vocabulary"))
}
