//! The EVTX reader on arbitrary bytes: every record readable is read, every
//! loss counted, no panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("attack-vault-fuzz-{}.evtx", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let diags = Diagnostics::new();
    let _ = sigma_engine::events::read_file(&path, None, &diags, &mut |_| {});
    // One file per run would be left behind in the temporary folder.
    let _ = std::fs::remove_file(&path);
});
