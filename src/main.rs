use clap::Parser;

/// mimalloc rather than the system allocator: rendering and matching
/// allocate many small strings from several threads (see the README's
/// dependency table for the measurement).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = attack_vault::cli::Cli::parse();
    attack_vault::cli::run(cli)
}
