//! The W3C, Zeek, audit, syslog, FortiGate and access-log readers on raw bytes (a file whose first line makes
//! it a log): no panic, and the events it counts are the events it hands out.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sigma_engine::diag::Diagnostics;

fuzz_target!(|data: &[u8]| {
    let diags = Diagnostics::new();
    let path = std::env::temp_dir().join(format!("attack-vault-fuzz-{}.log", std::process::id()));
    // Most inputs would start as no log: the first byte picks a first line.
    let (first, rest) = data.split_first().unwrap_or((&0, &[]));
    let head: &[u8] = match first % 8 {
        0 => b"#Fields: ",
        1 => b"#separator \\x09\n",
        2 => b"type=SYSCALL msg=audit(",
        3 => b"Mar  1 10:00:00 ",
        4 => b"<13>1 2024-03-01T10:00:00Z ",
        6 => b"<189>date=2025-04-10 time=05:01:53 logid=\"1\" ",
        7 => b"192.0.2.1 - - [10/Oct/2024:13:55:36 +0000] \"",
        _ => b"",
    };
    if std::fs::write(&path, [head, rest].concat()).is_ok() {
        let mut seen = 0u64;
        if let Some(read) = sigma_engine::events::read_file(&path, None, &diags, &mut |_| seen += 1)
        {
            assert_eq!(read.events, seen);
        }
        // One file per run would be left behind in the temporary folder.
        let _ = std::fs::remove_file(&path);
    }
});
