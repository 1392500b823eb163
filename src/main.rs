use clap::Parser;

/// mimalloc rather than the system allocator: rendering and matching
/// allocate many small strings from several threads (see the README's
/// dependency table for the measurement).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    no_huge_pages();
    let cli = attack_vault::cli::Cli::parse();
    attack_vault::cli::run(cli)
}

/// mimalloc asks the kernel for transparent huge pages, which for a
/// short run that allocates and frees in bursts mostly add resident memory:
/// without them (measured with mimalloc's v3 line) an export of the full
/// vault peaked at 165-177 MiB instead of 188-208, for 2-8 % more CPU time;
/// with the v2 line used now, `match` over the EVTX corpus with every
/// Windows rule peaks at 75-78 MiB instead of 91-95. The setting holds for
/// the pages this process touches from now on.
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes an integer flag and touches no memory
    // of ours; a kernel without it returns an error, which changes nothing.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
