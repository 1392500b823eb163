use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = attack_vault::cli::Cli::parse();
    attack_vault::cli::run(cli)
}
