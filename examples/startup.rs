use attack_vault::diag::Diagnostics;
use attack_vault::matcher::{Engine, EngineOptions, mapping::Mapping};
use std::path::PathBuf;
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<u64>()
        .unwrap()
        * 4
        / 1024
}
fn main() {
    let data = PathBuf::from("../shared/data/sigma");
    let d = Diagnostics::new();
    let trees: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|t| data.join(t))
        .collect();
    let t = std::time::Instant::now();
    let files = attack_vault::sigma::rule_files(&trees, &d);
    let texts: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| (f.clone(), std::fs::read_to_string(f).unwrap()))
        .collect();
    let t1 = t.elapsed();
    let mut docs = 0;
    for (_, x) in &texts {
        docs += attack_vault::yaml::parse_documents(x).unwrap().len();
    }
    let t2 = t.elapsed();
    let mut rules = Vec::new();
    for (p, x) in &texts {
        rules.extend(attack_vault::sigma::parse_rules(p, x, &d).0);
    }
    let t3 = t.elapsed();
    eprintln!("rss after parse {} MB", rss());
    let win: Vec<_> = rules
        .into_iter()
        .filter(|r| {
            r.logsource.product.as_deref() == Some("windows")
                || r.logsource.category.as_deref() == Some("antivirus")
        })
        .collect();
    let n = win.len();
    let t4 = t.elapsed();
    let e = Engine::new(win, &Mapping::builtin(), &EngineOptions::default());
    let t5 = t.elapsed();
    eprintln!("rss after engine {} MB", rss());
    drop(texts);
    eprintln!("rss after dropping texts {} MB", rss());
    eprintln!(
        "read {:?}, yaml {:?} ({docs} docs), yaml+model {:?}, {n} windows rules, compile {:?}, runnable {}",
        t1,
        t2 - t1,
        t3 - t2,
        t5 - t4,
        e.runnable()
    );
}
