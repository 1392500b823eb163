//! Write a JSONL stream of at least N events (default 1,000,000) by repeating
//! the records of an EVTX folder: `cargo run --release --example make_stream -- DIR OUT [N]`.
//! An OUT ending in `.xml` is written as Windows events in XML instead, in
//! an `<Events>` root, as Event Viewer saves them.
use std::io::Write;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, out) = (&args[1], &args[2]);
    let n: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut lines = Vec::new();
    for e in walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.path().extension().is_some_and(|x| x == "evtx")
            && let Ok(mut p) = evtx::EvtxParser::from_path(e.path())
        {
            if out.ends_with(".xml") {
                for r in p.records().flatten() {
                    // Each record's XML without its own declaration.
                    let xml = r.data.trim_start();
                    let body = match xml.strip_prefix("<?xml") {
                        Some(rest) => rest.split_once("?>").map_or(rest, |(_, b)| b),
                        None => xml,
                    };
                    lines.push(body.trim().to_string());
                }
            } else {
                for r in p.records_json_value().flatten() {
                    lines.push(serde_json::to_string(&r.data).unwrap());
                }
            }
        }
    }
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let xml = out.ends_with(".xml");
    if xml {
        writeln!(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>").unwrap();
    }
    let mut written = 0u64;
    while written < n {
        for l in &lines {
            writeln!(w, "{l}").unwrap();
            written += 1;
        }
    }
    if xml {
        writeln!(w, "</Events>").unwrap();
    }
    eprintln!("{written} events written to {out}");
}
