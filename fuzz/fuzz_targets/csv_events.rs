//! The CSV event reader on raw bytes (a file named `.csv`): no panic, and
//! every row it hands out an event.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;

fuzz_target!(|data: &[u8]| {
    let diags = Diagnostics::new();
    let path = std::env::temp_dir().join(format!("attack-vault-fuzz-{}.csv", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = sigma_engine::events::read_file(&path, None, &diags, &mut |_| {});
        // One file per run would be left behind in the temporary folder.
        let _ = std::fs::remove_file(&path);
    }
});
