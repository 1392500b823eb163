//! The command line: argument definitions and the dispatch to the library.

use crate::build::{BuildConfig, build};
use crate::diag::{Diagnostics, Severity};
use crate::vault::RenderOptions;
use crate::vault::write::WriteOptions;
use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
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
    /// Build the vault. With no inputs, builds the example vault from the
    /// embedded demo dataset.
    ///
    /// Exit codes: 0 success (warnings allowed); 1 input problems with --strict;
    /// 2 the build failed (nothing was written).
    Build(BuildArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// ATT&CK STIX bundle(s) (STIX 2.0 or 2.1; Enterprise, Mobile, ICS). Several
    /// bundles merge into one vault.
    #[arg(long = "attack", value_name = "FILE", num_args = 1..)]
    pub attack: Vec<PathBuf>,
    /// Output folder of the vault.
    #[arg(long, short, value_name = "DIR", default_value = "vault")]
    pub out: PathBuf,
    /// Keep deprecated objects (marked `deprecated: true`) instead of leaving them out.
    #[arg(long)]
    pub include_deprecated: bool,
    /// Also write the live Dataview query under each precomputed table.
    #[arg(long)]
    pub dataview: bool,
    /// Folder of templates overriding the built-in ones by file name.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Overwrite existing files that attack-vault did not generate.
    #[arg(long)]
    pub force: bool,
    /// Exit with status 1 if any input problem (error) was reported.
    #[arg(long)]
    pub strict: bool,
    /// Print every warning, not only the first ones of each kind.
    #[arg(long, short)]
    pub verbose: bool,
    /// No progress display and no summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// How many diagnostics of one category to print before summarising.
const SHOW_PER_CATEGORY: usize = 20;

/// Run a parsed command line and return the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Build(a) => run_build(a),
    }
}

fn run_build(a: BuildArgs) -> ExitCode {
    let cfg = BuildConfig {
        attack: a.attack,
        out: a.out,
        include_deprecated: a.include_deprecated,
        render: RenderOptions {
            dataview: a.dataview,
            templates: a.templates,
        },
        write: WriteOptions { force: a.force },
        progress: !a.quiet && std::io::stderr().is_terminal(),
    };
    let diags = Diagnostics::new();
    let result = build(&cfg, &diags);
    print_diagnostics(&diags, a.verbose);
    match result {
        Ok(s) => {
            if !a.quiet {
                let kinds: Vec<String> = s
                    .per_kind
                    .iter()
                    .map(|(k, n)| format!("{n} {}", k.folder().to_lowercase()))
                    .collect();
                eprintln!(
                    "built {} notes in {} ({}) in {:.2?}: {} written, {} unchanged, {} removed",
                    s.notes,
                    cfg.out.display(),
                    kinds.join(", "),
                    s.elapsed,
                    s.write.written,
                    s.write.unchanged,
                    s.write.removed
                );
                eprintln!(
                    "{} error(s), {} warning(s)",
                    diags.count(Severity::Error),
                    diags.count(Severity::Warning)
                );
            }
            if a.strict && diags.count(Severity::Error) > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("{e}");
            eprintln!("build failed; the output folder was not changed");
            ExitCode::from(2)
        }
    }
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
            *hidden.entry(d.category).or_default() += 1;
        }
    }
    for (cat, n) in hidden {
        eprintln!("... and {n} more [{cat}] warning(s) (--verbose shows all)");
    }
}
