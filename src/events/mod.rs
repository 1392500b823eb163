//! Events to match rules against: Windows EVTX files (through the `evtx`
//! crate), JSON (one object, an array, or concatenated objects) and JSONL,
//! recognised by content rather than by extension. Every event is flattened
//! into field → values, so that `Image` is found in an EVTX rendering
//! (`Event.EventData.Image`), `Provider_Name` in its System attributes, fields
//! under `UserData`, and dotted paths (`process.executable`) in nested JSON.

use crate::diag::{Diagnostic, Diagnostics};
use rustc_hash::FxHashMap;
use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use walkdir::WalkDir;

/// One value of a field, with the forms the matcher compares.
#[derive(Debug, Clone)]
pub struct FieldValue {
    /// The value as text (numbers in decimal, booleans as `true`/`false`).
    pub text: String,
    /// Lower-cased text, computed on first use: most fields of an event are
    /// never compared.
    lower: std::sync::OnceLock<String>,
    /// The value as a number, when it is one (or text that parses as one).
    pub number: Option<f64>,
    /// Whether the JSON value was `null`.
    pub is_null: bool,
}

impl FieldValue {
    pub fn new(text: String, number: Option<f64>, is_null: bool) -> Self {
        let number = number.or_else(|| {
            let t = text.trim();
            // Only text that starts like a number can be one.
            t.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.')
                .then(|| t.parse::<f64>().ok())
                .flatten()
        });
        FieldValue {
            text,
            lower: std::sync::OnceLock::new(),
            number,
            is_null,
        }
    }

    /// The lower-cased text (for case-insensitive comparisons).
    pub fn lower(&self) -> &str {
        self.lower.get_or_init(|| {
            if self
                .text
                .bytes()
                .any(|b| b.is_ascii_uppercase() || b >= 0x80)
            {
                self.text.to_lowercase()
            } else {
                self.text.clone()
            }
        })
    }
}

/// Where an event came from and when it happened.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EventMeta {
    pub file: Arc<str>,
    /// EVTX record id, or the 1-based position of the event in a JSON file.
    pub record: u64,
    pub timestamp: Option<String>,
    pub computer: Option<String>,
    pub channel: Option<String>,
    pub event_id: Option<String>,
}

/// A flattened event.
#[derive(Debug, Clone, Default)]
pub struct Event {
    pub meta: EventMeta,
    pub fields: FxHashMap<String, Vec<FieldValue>>,
}

impl Event {
    /// Values of a field (exact, case-sensitive name).
    pub fn get(&self, field: &str) -> Option<&[FieldValue]> {
        match self.fields.get(field) {
            Some(v) => Some(v.as_slice()),
            // Full paths into an EVTX rendering (`Event.EventData.Image`,
            // `Event.System.EventID`) name the same fields as their leaf.
            None if field.starts_with("Event.") => {
                let leaf = field.rsplit('.').next()?;
                self.fields.get(leaf).map(Vec::as_slice)
            }
            None => None,
        }
    }

    /// The first value's text.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field)
            .and_then(|v| v.first())
            .map(|v| v.text.as_str())
    }

    /// Flatten a JSON event. EVTX-shaped events (`Event.System`,
    /// `Event.EventData`, `Event.UserData`) get Windows field names; every
    /// leaf is also reachable by its dotted path.
    pub fn from_json(json: &Json, meta: EventMeta) -> Event {
        let mut e = Event {
            meta,
            fields: FxHashMap::default(),
        };
        let root = json.get("Event").filter(|v| v.is_object());
        if let Some(ev) = root {
            if let Some(sys) = ev.get("System").and_then(Json::as_object) {
                for (k, v) in sys {
                    match v {
                        Json::Object(o) => {
                            if let Some(attrs) = o.get("#attributes").and_then(Json::as_object) {
                                for (a, av) in attrs {
                                    e.push_json(&format!("{k}_{a}"), av);
                                }
                            }
                            if let Some(t) = o.get("#text") {
                                e.push_json(k, t);
                            }
                        }
                        other => e.push_json(k, other),
                    }
                }
            }
            for section in ["EventData", "UserData"] {
                if let Some(d) = ev.get(section) {
                    e.flatten_named(d, 0);
                }
            }
        }
        match (root, json.as_object()) {
            // An EVTX rendering: its fields are already reachable by name; keep
            // dotted paths for any other top-level keys only.
            (Some(_), Some(obj)) => {
                for (k, v) in obj.iter().filter(|(k, _)| k.as_str() != "Event") {
                    e.flatten_paths(k, v);
                }
            }
            _ => e.flatten_paths("", json),
        }
        // The EVTX record id, when the rendering carries it.
        if let Some(r) = e.text("EventRecordID").and_then(|r| r.parse::<u64>().ok()) {
            e.meta.record = r;
        }
        if e.meta.channel.is_none() {
            e.meta.channel = e.text("Channel").map(str::to_string);
        }
        if e.meta.computer.is_none() {
            e.meta.computer = e
                .text("Computer")
                .or_else(|| e.text("host.name"))
                .map(str::to_string);
        }
        if e.meta.event_id.is_none() {
            e.meta.event_id = e.text("EventID").map(str::to_string);
        }
        if e.meta.timestamp.is_none() {
            e.meta.timestamp = [
                "TimeCreated_SystemTime",
                "@timestamp",
                "timestamp",
                "UtcTime",
                "time",
            ]
            .iter()
            .find_map(|f| e.text(f))
            .map(str::to_string);
        }
        e
    }

    fn push_json(&mut self, name: &str, v: &Json) {
        let fv = match v {
            Json::Null => FieldValue::new(String::new(), None, true),
            Json::Bool(b) => FieldValue::new(b.to_string(), None, false),
            Json::Number(n) => FieldValue::new(n.to_string(), n.as_f64(), false),
            Json::String(s) => FieldValue::new(s.clone(), None, false),
            Json::Array(a) => {
                for x in a {
                    if !x.is_object() && !x.is_array() {
                        self.push_json(name, x);
                    }
                }
                return;
            }
            Json::Object(o) => match o.get("#text") {
                Some(t) => return self.push_json(name, t),
                None => return,
            },
        };
        let slot = self.fields.entry(name.to_string()).or_default();
        if !slot
            .iter()
            .any(|x| x.text == fv.text && x.is_null == fv.is_null)
        {
            slot.push(fv);
        }
    }

    /// Leaves of EventData / UserData under their own (leaf) names.
    fn flatten_named(&mut self, v: &Json, depth: usize) {
        let Json::Object(o) = v else { return };
        if depth > 8 {
            return;
        }
        for (k, x) in o {
            if k == "#attributes" {
                continue;
            }
            match x {
                Json::Object(inner) if !inner.contains_key("#text") => {
                    self.flatten_named(x, depth + 1)
                }
                _ => self.push_json(k, x),
            }
        }
    }

    /// Every leaf under its dotted path (`Event.EventData.Image`, `process.pid`).
    fn flatten_paths(&mut self, prefix: &str, v: &Json) {
        match v {
            Json::Object(o) => {
                if prefix.len() > 512 {
                    return;
                }
                for (k, x) in o {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    self.flatten_paths(&key, x);
                }
            }
            _ if !prefix.is_empty() => self.push_json(prefix, v),
            _ => {}
        }
    }

    /// Build an event from `field → value` pairs (tests and synthetic data).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Event {
        let mut e = Event::default();
        for (k, v) in pairs {
            e.fields
                .entry(k.to_string())
                .or_default()
                .push(FieldValue::new(v.to_string(), None, false));
        }
        e
    }
}

/// The kind of an events file, told from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Evtx,
    /// JSON: one object, an array of objects, or a stream of objects
    /// (which covers JSONL).
    Json,
}

/// Sniff the format of a file from its content.
pub fn sniff(path: &Path) -> std::io::Result<Option<Format>> {
    let mut f = std::fs::File::open(path)?;
    let mut head = [0u8; 64];
    let n = f.read(&mut head)?;
    let head = &head[..n];
    if head.starts_with(b"ElfFile\0") {
        return Ok(Some(Format::Evtx));
    }
    let first = head
        .iter()
        .find(|b| !(b.is_ascii_whitespace() || **b == 0xEF || **b == 0xBB || **b == 0xBF));
    Ok(match first {
        Some(b'{') | Some(b'[') => Some(Format::Json),
        _ => None,
    })
}

/// Every file under the given paths (folders walked, sorted).
pub fn event_files(paths: &[PathBuf], diags: &Diagnostics) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_file() {
            out.push(p.clone());
        } else if p.is_dir() {
            for e in WalkDir::new(p)
                .sort_by_file_name()
                .into_iter()
                .filter_map(Result::ok)
            {
                if e.file_type().is_file() {
                    let name = e.file_name().to_string_lossy();
                    // Sidecar files of test cases (info.yml, README) are not events.
                    if name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".md") {
                        continue;
                    }
                    out.push(e.into_path());
                }
            }
        } else {
            diags.push(Diagnostic::error("events", "no such file or folder").in_file(p));
        }
    }
    out
}

/// Whether a JSON file is JSONL (one complete object on its first line), so
/// that its lines can be parsed independently and in parallel.
pub fn is_jsonl(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut first = String::new();
    let mut r = BufReader::new(f);
    while first.trim().is_empty() {
        first.clear();
        match r.read_line(&mut first) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
    }
    let t = first.trim();
    t.starts_with('{')
        && t.ends_with('}')
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// Read a JSONL file in batches of raw lines (with their line numbers), for
/// parsing in parallel with [`event_from_line`].
pub fn read_lines(
    path: &Path,
    batch: usize,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Vec<(u64, String)>),
) {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path));
            return;
        }
    };
    let mut buf = Vec::with_capacity(batch);
    for (i, line) in BufReader::with_capacity(1 << 16, f).lines().enumerate() {
        match line {
            Ok(l) if l.trim().is_empty() => {}
            Ok(l) => buf.push((i as u64 + 1, l)),
            Err(e) => {
                diags.push(
                    Diagnostic::error("events", format!("cannot read: {e}"))
                        .in_file(path)
                        .at(Some(i + 1), None),
                );
                break;
            }
        }
        if buf.len() >= batch {
            sink(std::mem::replace(&mut buf, Vec::with_capacity(batch)));
        }
    }
    if !buf.is_empty() {
        sink(buf);
    }
}

/// Parse one JSONL line into an event; a bad line is reported and skipped.
pub fn event_from_line(
    file: &Arc<str>,
    line_no: u64,
    line: &str,
    diags: &Diagnostics,
) -> Option<Event> {
    match serde_json::from_str::<Json>(line) {
        Ok(v) if v.is_object() => Some(Event::from_json(
            &v,
            EventMeta {
                file: file.clone(),
                record: line_no,
                ..Default::default()
            },
        )),
        Ok(_) => None,
        Err(e) => {
            diags.push(
                Diagnostic::error("events", format!("invalid JSON line skipped: {e}"))
                    .in_file(&**file)
                    .at(Some(line_no as usize), Some(e.column())),
            );
            None
        }
    }
}

/// Read one file's events, calling `sink` for each (streaming; nothing is
/// kept). Returns the number of events read, or `None` when the file is not an
/// events file at all. Bad records are reported and skipped.
pub fn read_file(path: &Path, diags: &Diagnostics, sink: &mut dyn FnMut(Event)) -> Option<u64> {
    let format = match sniff(path) {
        Ok(Some(f)) => f,
        Ok(None) => {
            diags.push(
                Diagnostic::warning("events", "not an EVTX or JSON file; skipped").in_file(path),
            );
            return None;
        }
        Err(e) => {
            diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path));
            return None;
        }
    };
    let file: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    match format {
        Format::Evtx => read_evtx(path, file, diags, sink),
        Format::Json => read_json(path, file, diags, sink),
    }
}

/// Read the events of an in-memory JSON / JSONL text (embedded demo data).
pub fn read_text(name: &str, text: &str, diags: &Diagnostics, sink: &mut dyn FnMut(Event)) -> u64 {
    stream_objects(
        serde_json::Deserializer::from_str(text),
        &Arc::from(name),
        diags,
        sink,
    )
}

/// The objects of a stream of JSON values (JSONL or concatenated objects) as
/// events. A stream cannot resynchronise after a syntax error: it is reported
/// and the rest is skipped.
fn stream_objects<'de, R: serde_json::de::Read<'de>>(
    de: serde_json::Deserializer<R>,
    file: &Arc<str>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> u64 {
    let mut n = 0u64;
    for v in de.into_iter::<Json>() {
        match v {
            Ok(v) if v.is_object() => {
                n += 1;
                let meta = EventMeta {
                    file: file.clone(),
                    record: n,
                    ..Default::default()
                };
                sink(Event::from_json(&v, meta));
            }
            Ok(_) => {}
            Err(e) => {
                diags.push(
                    Diagnostic::error("events", format!("invalid JSON, rest of file skipped: {e}"))
                        .in_file(&**file)
                        .at(Some(e.line()), Some(e.column())),
                );
                break;
            }
        }
    }
    n
}

fn read_evtx(
    path: &Path,
    file: Arc<str>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> Option<u64> {
    let settings = evtx::ParserSettings::new().num_threads(1);
    let mut parser = match evtx::EvtxParser::from_path(path) {
        Ok(p) => p.with_configuration(settings),
        Err(e) => {
            diags.push(Diagnostic::error("events", format!("cannot open EVTX: {e}")).in_file(path));
            return None;
        }
    };
    let mut n = 0;
    let mut bad = 0;
    for r in parser.records_json_value() {
        match r {
            Ok(rec) => {
                n += 1;
                let meta = EventMeta {
                    file: file.clone(),
                    record: rec.event_record_id,
                    ..Default::default()
                };
                sink(Event::from_json(&rec.data, meta));
            }
            Err(e) => {
                bad += 1;
                if bad <= 3 {
                    diags.push(
                        Diagnostic::warning("events", format!("bad EVTX record skipped: {e}"))
                            .in_file(path),
                    );
                }
            }
        }
    }
    if bad > 3 {
        diags.push(
            Diagnostic::warning(
                "events",
                format!("{} more bad EVTX records skipped", bad - 3),
            )
            .in_file(path),
        );
    }
    Some(n)
}

fn read_json(
    path: &Path,
    file: Arc<str>,
    diags: &Diagnostics,
    sink: &mut dyn FnMut(Event),
) -> Option<u64> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error("events", format!("cannot read: {e}")).in_file(path));
            return None;
        }
    };
    let mut reader = BufReader::with_capacity(1 << 16, f);
    // An array is read whole (it is one JSON value); objects stream.
    let starts_with_array = {
        let buf = reader.fill_buf().ok()?;
        buf.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[')
    };
    let mut n = 0u64;
    let mut emit = |v: &Json, n: &mut u64| {
        *n += 1;
        let meta = EventMeta {
            file: file.clone(),
            record: *n,
            ..Default::default()
        };
        sink(Event::from_json(v, meta));
    };
    if starts_with_array {
        match serde_json::from_reader::<_, Json>(reader) {
            Ok(Json::Array(items)) => items
                .iter()
                .filter(|v| v.is_object())
                .for_each(|v| emit(v, &mut n)),
            Ok(_) => {}
            Err(e) => {
                diags.push(
                    Diagnostic::error("events", format!("invalid JSON: {e}"))
                        .in_file(path)
                        .at(Some(e.line()), Some(e.column())),
                );
                return Some(n);
            }
        }
        return Some(n);
    }
    Some(stream_objects(
        serde_json::Deserializer::from_reader(reader),
        &file,
        diags,
        sink,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evtx_shaped_json_gets_windows_field_names() {
        let j = json!({"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "pc1",
            "TimeCreated": {"#attributes": {"SystemTime": "2024-01-01T00:00:00Z"}}},
            "EventData": {"Image": "C:\\x.exe", "ProcessId": 42, "Threat Name": "Evil"},
            "UserData": {"LogFileCleared": {"SubjectUserName": "bob"}}}});
        let e = Event::from_json(&j, EventMeta::default());
        assert_eq!(e.text("Image"), Some("C:\\x.exe"));
        assert_eq!(e.text("Event.EventData.Image"), Some("C:\\x.exe"));
        assert_eq!(e.text("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(e.text("Threat Name"), Some("Evil"));
        assert_eq!(e.text("SubjectUserName"), Some("bob"));
        assert_eq!(e.get("ProcessId").unwrap()[0].number, Some(42.0));
        assert!(
            e.get("ProcessID").is_none(),
            "field names are case-sensitive"
        );
        assert_eq!(e.meta.timestamp.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert_eq!(
            e.meta.channel.as_deref(),
            Some("Microsoft-Windows-Sysmon/Operational")
        );
    }

    #[test]
    fn event_id_with_qualifiers() {
        let j = json!({"Event": {"System": {"EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 7045}}}});
        let e = Event::from_json(&j, EventMeta::default());
        assert_eq!(e.text("EventID"), Some("7045"));
        assert_eq!(e.text("EventID_Qualifiers"), Some("16384"));
    }

    #[test]
    fn nested_json_by_dotted_path() {
        let j = json!({"process": {"executable": "/usr/bin/python3", "args": ["-c", "x"]}});
        let e = Event::from_json(&j, EventMeta::default());
        assert_eq!(e.text("process.executable"), Some("/usr/bin/python3"));
        assert_eq!(e.get("process.args").unwrap().len(), 2);
    }

    #[test]
    fn json_files_stream_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("events.log");
        std::fs::write(&p, "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3}\n").unwrap();
        let p2 = dir.path().join("arr.txt");
        std::fs::write(&p2, "[{\"a\": 1}, {\"a\": 2}]").unwrap();
        let ds = Diagnostics::new();
        let mut seen = Vec::new();
        assert_eq!(
            read_file(&p, &ds, &mut |e| seen
                .push(e.text("a").unwrap().to_string())),
            Some(3)
        );
        assert_eq!(read_file(&p2, &ds, &mut |_| {}), Some(2));
        assert_eq!(seen, vec!["1", "2", "3"]);
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, "{\"a\": 1}\n{\"a\": \n").unwrap();
        assert_eq!(read_file(&bad, &ds, &mut |_| {}), Some(1));
        assert_eq!(ds.count(crate::diag::Severity::Error), 1);
    }
}
