//! The matcher against data no one here wrote: every SigmaHQ regression case
//! in the shared data must fire its rule, on the `.evtx`, on the `.json`, on
//! the events as Windows writes them in XML, and on that event as Winlogbeat,
//! Velociraptor, an XML-to-JSON converter and EvtxECmd (JSON and CSV) write it, and as a
//! search response of Elasticsearch holds Winlogbeat's documents, with all rule trees
//! loaded; every record of the EVTX corpus reads alike from its XML; the
//! prefilter never changes what fires; and the unsupported rules are named,
//! not fatal.

use crate::common;

use sigma_engine::diag::Diagnostics;
use sigma_engine::matcher::mapping::Mapping;
use sigma_engine::matcher::{Engine, EngineOptions, scan};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Mutex;
use walkdir::WalkDir;

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn every_regression_case_fires_on_evtx_and_json() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let sigma = data.join("sigma");
    let ds = Diagnostics::new();
    let set = sigma_engine::sigma::load(
        &common::SIGMA_TREES
            .iter()
            .map(|t| sigma.join(t))
            .collect::<Vec<_>>(),
        &ds,
    );
    assert_eq!(set.rejected, 0);
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    let mut cases = 0;
    let mut failures = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    for e in WalkDir::new(sigma.join("regression_data"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if e.file_name() != "info.yml" {
            continue;
        }
        let info: serde_json::Value =
            serde_saphyr::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
        let rule_id = info["rule_metadata"][0]["id"].as_str().unwrap().to_string();
        let dir = e.path().parent().unwrap();
        let files = |ext: &str| -> Vec<PathBuf> {
            std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|x| x.ok().map(|x| x.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect()
        };
        let (evtx, json) = (files("evtx"), files("json"));
        if evtx.is_empty() {
            continue; // A case recorded in another format (e.g. raw syslog).
        }
        cases += 1;
        let xml: Vec<PathBuf> = evtx.iter().map(|f| as_xml(f, tmp.path())).collect();
        let (winlogbeat, velociraptor, from_xml) = (
            reshaped(&json, tmp.path(), "winlogbeat", as_winlogbeat),
            reshaped(&json, tmp.path(), "velociraptor", as_velociraptor),
            reshaped(&json, tmp.path(), "from-xml", as_converted_from_xml),
        );
        let evtxecmd = reshaped(&json, tmp.path(), "evtxecmd", as_evtxecmd);
        let evtxecmd_csv = evtxecmd.iter().map(|f| as_csv(f, tmp.path())).collect();
        let search = winlogbeat
            .iter()
            .map(|f| as_search_response(f, tmp.path()))
            .collect();
        let kinds = [
            ("evtx", evtx),
            ("json", json),
            ("xml", xml),
            ("winlogbeat", winlogbeat),
            ("velociraptor", velociraptor),
            ("from-xml", from_xml),
            ("search-response", search),
            ("evtxecmd", evtxecmd),
            ("evtxecmd-csv", evtxecmd_csv),
        ];
        for (kind, f) in kinds {
            let fired = Mutex::new(HashSet::new());
            scan(&engine, &f, &ds, |_, dets| {
                let mut g = fired.lock().unwrap();
                for d in dets {
                    g.insert(engine.rules[d.rule].id.clone().unwrap_or_default());
                }
            });
            if !fired.into_inner().unwrap().contains(&rule_id) {
                failures.push(format!("{kind}: {rule_id} in {}", dir.display()));
            }
        }
    }
    eprintln!("{cases} regression cases, {} failures", failures.len());
    assert!(
        cases >= 100,
        "the shared data holds about half of the upstream cases"
    );
    assert!(
        failures.is_empty(),
        "rules that did not fire on their regression case:\n{}",
        failures.join("\n")
    );
}

/// An EVTX file's records as Windows writes them in XML (`wevtutil qe
/// /e:Events`), rendered by the `evtx` crate, in a file under `dir`.
fn as_xml(evtx: &std::path::Path, dir: &std::path::Path) -> PathBuf {
    let mut parser = evtx::EvtxParser::from_path(evtx).unwrap();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>\n");
    for r in parser.records() {
        let Ok(r) = r else { continue };
        // Each record is rendered as a document of its own.
        let body = r.data.trim_start();
        let body = match body.strip_prefix("<?xml") {
            Some(rest) => &rest[rest.find("?>").unwrap() + 2..],
            None => body,
        };
        xml.push_str(body.trim());
        xml.push('\n');
    }
    xml.push_str("</Events>\n");
    let out = dir.join(format!(
        "{}.xml",
        evtx.file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&out, xml).unwrap();
    out
}

/// A value as XML can hold it: the characters XML does not allow (C0
/// controls but tab, LF and CR; U+FFFE, U+FFFF) are written `_`, by Windows
/// as by the `evtx` crate.
fn as_in_xml(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '_',
            c => c,
        })
        .collect()
}

/// Every record of every EVTX file of the corpus reads from its XML with
/// the same fields and values as from the EVTX file.
#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn every_evtx_record_reads_alike_from_its_xml() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (mut files, mut records, mut differ) = (0, 0, Vec::new());
    for e in WalkDir::new(data.join("events"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "evtx"))
    {
        let events = |p: &std::path::Path| {
            let ds = Diagnostics::new();
            let mut got = Vec::new();
            sigma_engine::events::read_file(p, None, &ds, &mut |ev| {
                // Null and empty differ to a rule (`x: null`, `x: ''`).
                let mut fields: Vec<(String, String, bool)> = ev
                    .fields()
                    .zip(ev.all_values())
                    .map(|((n, v), value)| (n.to_string(), as_in_xml(v), value.is_null))
                    .collect();
                fields.sort();
                got.push((ev.meta.clone(), fields));
            });
            got
        };
        let xml = as_xml(e.path(), tmp.path());
        let (from_evtx, from_xml) = (events(e.path()), events(&xml));
        files += 1;
        records += from_evtx.len();
        let (mut a, mut b) = (from_evtx.into_iter(), from_xml.into_iter());
        loop {
            match (a.next(), b.next()) {
                (None, None) => break,
                (x, y)
                    if x.as_ref().map(|(m, f)| (&m.record, f))
                        == y.as_ref().map(|(m, f)| (&m.record, f)) => {}
                (x, y) => {
                    differ.push(format!(
                        "{}:\n  evtx {x:?}\n  xml  {y:?}",
                        e.path().display()
                    ));
                    break;
                }
            }
        }
    }
    eprintln!(
        "{files} EVTX files, {records} records, {} differ",
        differ.len()
    );
    assert!(
        files > 200 && records > 8_000,
        "the corpus is about 280 files"
    );
    assert!(
        differ.is_empty(),
        "{}",
        differ[..differ.len().min(5)].join("\n")
    );
}

/// The events of `files` (EVTX renderings, `{"Event": …}`, one or several
/// a file) in another tool's shape, a file of lines each, under `dir`.
fn reshaped(
    files: &[PathBuf],
    dir: &std::path::Path,
    kind: &str,
    shape: fn(&serde_json::Value) -> serde_json::Value,
) -> Vec<PathBuf> {
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let lines: String = serde_json::Deserializer::from_str(&text)
                .into_iter::<serde_json::Value>()
                .map(|v| format!("{}\n", shape(&v.unwrap())))
                .collect();
            let name = format!("{kind}-{}", f.file_name().unwrap().to_string_lossy());
            let out = dir.join(name);
            std::fs::write(&out, lines).unwrap();
            out
        })
        .collect()
}

/// Winlogbeat documents (a file of lines) as an Elasticsearch search
/// response holding them as its hits, pretty-printed, in a file under `dir`.
fn as_search_response(lines: &std::path::Path, dir: &std::path::Path) -> PathBuf {
    let hits: Vec<serde_json::Value> = std::fs::read_to_string(lines)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let doc: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::json!({"_index": "winlogbeat-8", "_id": i.to_string(), "_score": 1.0, "_source": doc})
        })
        .collect();
    let response = serde_json::json!({
        "took": 4, "timed_out": false,
        "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": 1.0, "hits": hits},
        "aggregations": {"hosts": {"buckets": []}},
    });
    let name = format!("search-{}", lines.file_name().unwrap().to_string_lossy());
    let out = dir.join(name);
    std::fs::write(&out, serde_json::to_string_pretty(&response).unwrap()).unwrap();
    out
}

/// A System child's attributes and text: `{"#attributes": {"Name": n}}` is
/// `n` under `Name`, `{"#text": t}` is `t`.
fn attribute<'a>(system: &'a serde_json::Value, child: &str, name: &str) -> &'a serde_json::Value {
    &system[child]["#attributes"][name]
}

/// As EvtxECmd writes it (`--json`): the System values as columns, the
/// event data as the XML converted to JSON, in a string (`Payload`), and
/// columns of its own (`MapDescription`, `PayloadData1`, ...).
fn as_evtxecmd(v: &serde_json::Value) -> serde_json::Value {
    let converted = as_converted_from_xml(v);
    let system = &v["Event"]["System"];
    let mut payload = serde_json::Map::new();
    for part in ["EventData", "UserData"] {
        if let Some(p) = converted["Event"].get(part) {
            payload.insert(part.to_string(), p.clone());
        }
    }
    let id = system["EventID"].get("#text").unwrap_or(&system["EventID"]);
    serde_json::json!({
        "PayloadData1": "", "UserName": "", "MapDescription": "", "ChunkNumber": 0,
        "Computer": system["Computer"], "Payload": serde_json::Value::Object(payload).to_string(),
        "Channel": system["Channel"], "Provider": attribute(system, "Provider", "Name"),
        "EventId": id, "EventRecordId": system["EventRecordID"].to_string(),
        "ProcessId": attribute(system, "Execution", "ProcessID"),
        "ThreadId": attribute(system, "Execution", "ThreadID"),
        "Level": "Info", "Keywords": "Classic", "SourceFile": "case.evtx",
        "ExtraDataOffset": 0, "HiddenRecord": false,
        "TimeCreated": attribute(system, "TimeCreated", "SystemTime"),
    })
}

/// Records of one shape (a file of lines) as the CSV EvtxECmd writes by
/// default: a byte order mark, a header of every column, CR LF.
fn as_csv(lines: &std::path::Path, dir: &std::path::Path) -> PathBuf {
    let records: Vec<serde_json::Map<String, serde_json::Value>> = std::fs::read_to_string(lines)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for k in records.iter().flat_map(|r| r.keys()) {
        if !columns.contains(k) {
            columns.push(k.clone());
        }
    }
    let name = format!("{}.csv", lines.file_name().unwrap().to_string_lossy());
    let out = dir.join(name);
    let mut file = std::fs::File::create(&out).unwrap();
    std::io::Write::write_all(&mut file, b"\xEF\xBB\xBF").unwrap();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(file);
    w.write_record(&columns).unwrap();
    for r in &records {
        w.write_record(columns.iter().map(|c| match r.get(c) {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(serde_json::Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        }))
        .unwrap();
    }
    w.flush().unwrap();
    out
}

/// As Winlogbeat ships it: `winlog.channel`, `winlog.event_data`, ...
fn as_winlogbeat(v: &serde_json::Value) -> serde_json::Value {
    let (event, system) = (&v["Event"], &v["Event"]["System"]);
    let id = match &system["EventID"] {
        serde_json::Value::Object(o) => o["#text"].clone(),
        other => other.clone(),
    };
    let mut winlog = serde_json::json!({
        "channel": system["Channel"],
        "event_id": id.to_string().trim_matches('"'),
        "provider_name": attribute(system, "Provider", "Name"),
        "computer_name": system["Computer"],
        "record_id": system["EventRecordID"],
        "task": "(display name)",
    });
    for (from, to) in [("EventData", "event_data"), ("UserData", "user_data")] {
        if let Some(d) = event.get(from) {
            winlog[to] = d.clone();
        }
    }
    serde_json::json!({
        "@timestamp": attribute(system, "TimeCreated", "SystemTime"),
        "agent": {"type": "winlogbeat"},
        "winlog": winlog,
    })
}

/// As Velociraptor's `parse_evtx` rows: `System` and `EventData` at the top,
/// a System child's attributes as plain keys and its text as `Value`.
fn as_velociraptor(v: &serde_json::Value) -> serde_json::Value {
    let event = &v["Event"];
    let mut system = serde_json::Map::new();
    for (k, child) in event["System"].as_object().unwrap() {
        let flat = match child {
            serde_json::Value::Object(o) => {
                let mut m = o
                    .get("#attributes")
                    .and_then(|a| a.as_object().cloned())
                    .unwrap_or_default();
                if let Some(t) = o.get("#text") {
                    m.insert("Value".into(), t.clone());
                }
                serde_json::Value::Object(m)
            }
            serde_json::Value::Number(_) if k == "EventID" => serde_json::json!({"Value": child}),
            other => other.clone(),
        };
        system.insert(k.clone(), flat);
    }
    let mut row = serde_json::json!({"System": system, "Message": "(rendered)"});
    for part in ["EventData", "UserData"] {
        if let Some(d) = event.get(part) {
            row[part] = d.clone();
        }
    }
    row
}

/// As an XML-to-JSON converter (xmltodict) writes the event's XML: every
/// value a string, attributes as `@Name` keys, and EventData as the list of
/// its `<Data Name="…">` elements.
fn as_converted_from_xml(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let element = |v: &Value| -> Value {
        let Value::Object(o) = v else {
            return if v.is_null() {
                Value::Null
            } else {
                json!(text(v))
            };
        };
        let mut m = Map::new();
        for (k, a) in o
            .get("#attributes")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            m.insert(format!("@{k}"), json!(text(a)));
        }
        if let Some(t) = o.get("#text") {
            m.insert("#text".into(), json!(text(t)));
        }
        Value::Object(m)
    };
    let event = &v["Event"];
    let system: Map<String, Value> = event["System"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, c)| (k.clone(), element(c)))
        .collect();
    let mut out = json!({"@xmlns": "http://schemas.microsoft.com/win/2004/08/events/event", "System": system});
    if let Some(Value::Object(data)) = event.get("EventData") {
        let items: Vec<Value> = data
            .iter()
            .map(|(name, value)| {
                let inner = value.get("#text").unwrap_or(value);
                match inner {
                    // xmltodict writes an empty element without `#text`.
                    Value::Null => json!({"@Name": name}),
                    Value::String(s) if s.is_empty() => json!({"@Name": name}),
                    Value::Array(parts) => json!({"@Name": name, "#text": parts.iter().map(text).collect::<Vec<_>>().join("\n")}),
                    other => json!({"@Name": name, "#text": text(other)}),
                }
            })
            .collect();
        // A lone element is an object, not a list of one, as xmltodict and
        // EvtxECmd write it.
        let data = match <[Value; 1]>::try_from(items) {
            Ok([one]) => one,
            Err(items) => Value::Array(items),
        };
        out["EventData"] = json!({ "Data": data });
    }
    if let Some(u) = event.get("UserData") {
        out["UserData"] = u.clone();
    }
    json!({"Event": out})
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn unsupported_rules_are_counted_and_named() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let ds = Diagnostics::new();
    let set = sigma_engine::sigma::load(&[data.join("sigma/unsupported")], &ds);
    assert!(set.rejected > 0);
    let named: Vec<_> = ds
        .sorted()
        .into_iter()
        .filter(|d| d.message.contains("aggregation"))
        .collect();
    assert!(!named.is_empty());
    assert!(named.iter().all(|d| d.file.is_some() && d.line.is_some()));
    // The rules that did load still run.
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    let stats = scan(
        &engine,
        &[data.join("events/evtx-attack-samples/Execution")],
        &ds,
        |_, _| {},
    );
    assert!(stats.events > 0);
}

/// Read an EVTX file (every field), returning (events, lost, diagnostics).
fn read_evtx(p: &std::path::Path) -> (u64, u64, Vec<String>) {
    let ds = Diagnostics::new();
    let r = sigma_engine::events::read_file(p, None, &ds, &mut |_| {}).unwrap();
    let d = ds.sorted().iter().map(|d| d.to_string()).collect();
    (r.events, r.lost, d)
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn cut_evtx_files_keep_every_record_before_the_cut_and_count_the_rest() {
    let src = data_or_skip!(
        "events/evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
    );
    let bytes = std::fs::read(&src).unwrap();
    let (total, lost, _) = read_evtx(&src);
    assert_eq!((total, lost), (565, 0));
    let dir = tempfile::tempdir().unwrap();
    // The last chunk that holds records is chunk 14.
    let last = 4096 + 14 * 65536;
    let mut previous = 0;
    for cut in [
        last + 1,
        last + 100,
        last + 512,
        last + 3000,
        last + 20_000,
        last + 65_535,
    ] {
        let p = dir.path().join(format!("cut{cut}.evtx"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let (events, lost, diags) = read_evtx(&p);
        assert_eq!(
            events + lost,
            total,
            "cut at {cut}: every record read or counted"
        );
        assert!(
            events >= 558 - 1,
            "records of the whole chunks stay: {events}"
        );
        assert!(events >= previous, "a later cut never reads less");
        previous = events;
        let file = p.display().to_string();
        assert!(
            diags.iter().any(|d| d.starts_with(&format!(
                "warning[events]: {file}: the file ends inside chunk 14 (at byte offset {cut})"
            ))),
            "{diags:?}"
        );
        if lost > 0 {
            assert!(
                diags
                    .iter()
                    .any(|d| d.contains(&format!("{lost} of {total} records lost"))),
                "{diags:?}"
            );
        }
    }
    assert!(previous > 558, "a late cut keeps records of the cut chunk");
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn a_zeroed_evtx_chunk_is_reported_with_its_records() {
    let src = data_or_skip!(
        "events/evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
    );
    let mut bytes = std::fs::read(&src).unwrap();
    let at = 4096 + 3 * 65536;
    let header = evtx::EvtxChunkHeader::from_bytes(&bytes[at..at + 512]).unwrap();
    let in_chunk = header.last_event_record_id - header.first_event_record_id + 1;
    bytes[at..at + 65536].fill(0);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("zeroed.evtx");
    std::fs::write(&p, &bytes).unwrap();
    let (events, lost, diags) = read_evtx(&p);
    assert_eq!((events, lost), (565 - in_chunk, in_chunk));
    let file = p.display().to_string();
    assert!(
        diags.contains(&format!(
            "error[events]: {file}: chunk 3 (from byte offset {at}) unreadable: all zeros"
        )),
        "{diags:?}"
    );
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn defender_fields_with_spaces_match_rule_names_without() {
    let file = data_or_skip!(
        "events/evtx-attack-samples/AutomatedTestingTools/WinDefender_Events_1117_1116_AtomicRedTeam.evtx"
    );
    // Counted straight from the file, by the spaced names Defender writes.
    let mut parser = evtx::EvtxParser::from_path(&file).unwrap();
    let expected = parser
        .records_json_value()
        .filter_map(Result::ok)
        .filter(|r| {
            let d = &r.data["Event"]["EventData"];
            d["Threat Name"].is_string()
                && d["Process Name"].as_str().is_some_and(|p| p.contains('\\'))
                && d["Source Name"] == "%%818"
        })
        .count();
    assert!(expected > 0);
    let ds = Diagnostics::new();
    let (rules, _) = sigma_engine::sigma::parse_rules(
        std::path::Path::new("defender.yml"),
        "title: Defender threat\nlogsource:\n  product: windows\n  service: windefend\ndetection:\n  sel:\n    ThreatName|exists: true\n    ProcessName|contains: '\\'\n    SourceName: '%%818'\n  condition: sel\n",
        &ds,
    );
    let engine = Engine::new(rules, &Mapping::builtin(), &EngineOptions::default());
    let hits = Mutex::new(0usize);
    scan(&engine, &[file], &ds, |_, d| {
        *hits.lock().unwrap() += d.len()
    });
    let hits = hits.into_inner().unwrap();
    assert_eq!(hits, expected);
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn hostile_evtx_headers_are_reported_not_fatal() {
    let src = data_or_skip!(
        "events/evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
    );
    let bytes = std::fs::read(&src).unwrap();
    let one_chunk = bytes[..4096 + 65536].to_vec();
    let mut many_chunks = one_chunk.clone();
    many_chunks[42..44].copy_from_slice(&u16::MAX.to_le_bytes());
    let mut huge_ids = one_chunk.clone();
    huge_ids[4096 + 32..4096 + 40].copy_from_slice(&u64::MAX.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    for (name, data, opens) in [
        ("header_only_part.evtx", bytes[..100].to_vec(), false),
        ("header_only.evtx", bytes[..4096].to_vec(), true),
        ("chunk_count_65535.evtx", many_chunks, true),
        ("last_id_max.evtx", huge_ids, true),
    ] {
        let p = dir.path().join(name);
        std::fs::write(&p, &data).unwrap();
        let ds = Diagnostics::new();
        let read = sigma_engine::events::read_file(&p, None, &ds, &mut |_| {});
        assert_eq!(read.is_some(), opens, "{name}");
        assert!(
            ds.sorted()
                .iter()
                .any(|d| d.severity == sigma_engine::diag::Severity::Error),
            "{name}: the damage is reported"
        );
    }
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn evtx_through_a_pipe_gives_what_its_file_gives() {
    let src = data_or_skip!(
        "events/evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"
    );
    let rules = common::data_dir().unwrap().join("sigma/rules/windows");
    let run = |events: &str, stdin: std::process::Stdio| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_attack-vault"))
            .args(["match", "-q", "--format", "jsonl", events, "--rules"])
            .arg(&rules)
            .stdin(stdin)
            .output()
            .unwrap();
        let out = crate::common::succeeded(out);
        let mut hits: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("file");
                v
            })
            .collect();
        hits.sort_by_key(|v| v.to_string());
        hits
    };
    let from_file = run(src.to_str().unwrap(), std::process::Stdio::null());
    let piped = run("-", std::fs::File::open(&src).unwrap().into());
    assert!(
        from_file.len() > 10,
        "the file fires rules ({})",
        from_file.len()
    );
    assert_eq!(piped, from_file);
    // Compressed, as a file and through the pipe.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("sample.evtx.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut std::fs::File::open(&src).unwrap(), &mut enc).unwrap();
    enc.finish().unwrap();
    assert_eq!(
        run(gz.to_str().unwrap(), std::process::Stdio::null()),
        from_file
    );
    assert_eq!(
        run("-", std::fs::File::open(&gz).unwrap().into()),
        from_file
    );
}

#[test]
#[ignore = "needs the shared data (ATTACK_VAULT_DATA, default ../shared/data); .ci/run runs it"]
fn the_prefilter_never_changes_what_fires_on_real_events() {
    let Some(data) = common::data_dir() else {
        return;
    };
    let sigma = data.join("sigma");
    let ds = Diagnostics::new();
    let trees: Vec<PathBuf> = common::SIGMA_TREES.iter().map(|t| sigma.join(t)).collect();
    let set = sigma_engine::sigma::load(&trees, &ds);
    let engine = Engine::new(set.rules, &Mapping::builtin(), &EngineOptions::default());
    let wanted = engine.wanted();
    // SigmaHQ's regression events, the EVTX corpus, and the
    // repository's own logs of every kind (web, audit, syslog, Zeek,
    // FortiGate, CloudTrail, journald).
    let inputs = [
        sigma.join("regression_data"),
        data.join("events/evtx-attack-samples"),
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/invalid/events"),
    ];
    let (mut events, mut detections, mut differ) = (0, 0, Vec::new());
    for input in &inputs {
        for f in WalkDir::new(input)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
        {
            if !f.file_type().is_file() || f.path().extension().is_some_and(|x| x == "expected") {
                continue;
            }
            sigma_engine::events::read_file(
                f.path(),
                Some(&wanted),
                &Diagnostics::new(),
                &mut |e| {
                    let rules = |hits: Vec<sigma_engine::matcher::Hit>| {
                        hits.into_iter().map(|h| h.rule).collect::<Vec<_>>()
                    };
                    let (got, all) = (
                        rules(engine.match_event(&e)),
                        rules(engine.match_event_unfiltered(&e)),
                    );
                    events += 1;
                    detections += got.len();
                    if got != all {
                        differ.push(format!("{}: {got:?} against {all:?}", f.path().display()));
                    }
                },
            );
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
    assert!(
        events > 5_000 && detections > 1_000,
        "{events} events, {detections} detections"
    );
}
