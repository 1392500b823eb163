use attack_vault::diag::Diagnostics;
use attack_vault::matcher::{Engine, EngineOptions, mapping::Mapping};
use std::path::PathBuf;
fn main() {
    let data = PathBuf::from("../shared/data/sigma");
    let d = Diagnostics::new();
    let t = std::time::Instant::now();
    let trees: Vec<PathBuf> = [
        "rules",
        "rules-emerging-threats",
        "rules-threat-hunting",
        "rules-placeholder",
        "rules-compliance",
    ]
    .iter()
    .map(|t| data.join(t))
    .collect();
    let set = attack_vault::sigma::load(&trees, &d);
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    eprintln!(
        "{} rules, {} runnable, {} skipped, {:?}",
        engine.rules.len(),
        engine.runnable(),
        engine.skipped.len(),
        t.elapsed()
    );
    let mut reasons = std::collections::BTreeMap::new();
    for s in &engine.skipped {
        *reasons.entry(s.reason.clone()).or_insert(0) += 1;
    }
    for (r, n) in reasons.iter().take(20) {
        eprintln!("  {n} {r}");
    }
    let mut pass = 0;
    let mut fail = 0;
    for e in walkdir::WalkDir::new(data.join("regression_data"))
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_name() != "info.yml" {
            continue;
        }
        let info: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        let rid = info["rule_metadata"][0]["id"].as_str().unwrap().to_string();
        let dir = e.path().parent().unwrap();
        for ext in ["evtx", "json"] {
            let files: Vec<PathBuf> = std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|x| x.ok().map(|x| x.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect();
            let fired = std::sync::Mutex::new(std::collections::HashSet::new());
            attack_vault::matcher::scan(&engine, &files, &d, |_, dets| {
                for x in dets {
                    fired
                        .lock()
                        .unwrap()
                        .insert(engine.rules[x.rule].id.clone().unwrap_or_default());
                }
            });
            if fired.lock().unwrap().contains(&rid) {
                pass += 1
            } else {
                fail += 1;
                eprintln!("FAIL {ext} {} {}", rid, dir.display());
            }
        }
    }
    eprintln!("pass {pass} fail {fail} in {:?}", t.elapsed());
}
