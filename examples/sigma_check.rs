fn main() {
    let paths: Vec<std::path::PathBuf> = std::env::args().skip(1).map(Into::into).collect();
    let d = attack_vault::diag::Diagnostics::new();
    let t = std::time::Instant::now();
    let set = attack_vault::sigma::load(&paths, &d);
    eprintln!(
        "{} files, {} rules, {} rejected in {:?}",
        set.files,
        set.rules.len(),
        set.rejected,
        t.elapsed()
    );
    for x in d.sorted().iter().take(60) {
        eprintln!("{x}");
    }
}
