//! Events to match rules against: Windows EVTX files (through the `evtx`
//! crate), Windows events as XML, JSON (one object, an array, or
//! concatenated objects; UTF-8 or UTF-16; a CloudTrail log's or a search
//! response's list of them), JSONL, W3C web server, Apache and nginx access,
//! Zeek, Linux audit and syslog logs (FortiGate records among them), recognised by content rather
//! than by extension, and CSV, known by its name (`.csv`). Every event is flattened
//! into field → values, so that `Image` is found in an EVTX rendering
//! (`Event.EventData.Image`), `Provider_Name` in its System attributes, fields
//! under `UserData`, and dotted paths (`process.executable`) in nested JSON.
//! Readers keep only the fields the loaded rules read ([`Wanted`]), and
//! account for every record they cannot read ([`FileRead::lost`]).

mod access_log;
mod auditd;
mod batch;
mod csv;
mod event;
pub(crate) use event::input_hash;
mod evtx;
mod fortinet;
mod journald;
mod json;
mod json_parts;
mod json_text;
mod key_value;
mod log_lines;
mod mend;
mod parts;
mod read;
mod syslog;
mod w3c;
mod xml;
mod xml_parts;
mod xml_tree;

pub use batch::{Batch, Item, LineBatch};
pub(crate) use event::is_zeek_dns;
pub use event::{
    Event, EventFields, EventMeta, FieldValue, MOST_TEXT, MOST_VALUES, Source, Values, time_fields,
};
pub use json::{Wanted, event_from_value};
#[doc(hidden)]
pub use json_parts::read_in_parts as read_json_in_parts;
pub use json_text::Pending;
#[cfg(test)]
pub(crate) use read::is_large;
pub use read::{
    EventFormat, event_files, event_from_line, is_jsonl, is_stream, name_of, read_batched,
    read_file, read_lines, read_text, sniff,
};
#[doc(hidden)]
pub use xml_parts::read_in_parts as read_xml_in_parts;

/// The longest text one event is read from (a line, a row): no event is
/// that large, and a longer one would only fill the memory.
pub(crate) const MAX_EVENT: usize = 256 << 20;

/// At most this much of a stream is held to be read whole (a JSON text,
/// an EVTX file): what a pipe or a small gzip file can pour is unbounded.
pub(crate) const MAX_WHOLE: u64 = 4 << 30;

/// Whether a zone is written as an offset from UTC, `-0700` (logs that
/// write it so: Apache's, FortiOS's `tz`).
pub(crate) fn is_hhmm_offset(zone: &str) -> bool {
    let b = zone.as_bytes();
    b.len() == 5 && matches!(b[0], b'+' | b'-') && b[1..].iter().all(u8::is_ascii_digit)
}

/// What reading one file gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileRead {
    pub events: u64,
    /// Records that were there but could not be read.
    pub lost: u64,
}

impl Event {
    /// Flatten a JSON value (every field kept).
    pub fn from_json(json: &serde_json::Value, meta: EventMeta) -> Event {
        event_from_value(json, meta.clone(), None).unwrap_or_else(|| Event::with_meta(meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
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
        assert_eq!(
            e.get("ProcessId").unwrap().first().unwrap().number(),
            Some(42.0)
        );
        assert_eq!(
            e.text("ThreatName"),
            Some("Evil"),
            "spaces dropped from names"
        );
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
        let read = |p: &std::path::Path, sink: &mut dyn FnMut(Event)| read_file(p, None, &ds, sink);
        assert_eq!(
            read(&p, &mut |e| seen.push(e.text("a").unwrap().to_string())),
            Some(FileRead { events: 3, lost: 0 })
        );
        assert_eq!(
            read(&p2, &mut |_| {}),
            Some(FileRead { events: 2, lost: 0 })
        );
        assert_eq!(seen, vec!["1", "2", "3"]);
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(&bad, "{\"a\": 1}\n{\"a\": \n").unwrap();
        assert_eq!(
            read(&bad, &mut |_| {}),
            Some(FileRead { events: 1, lost: 1 })
        );
        assert_eq!(ds.count(crate::diag::Severity::Error), 1);
        // A search response saved from Elasticsearch, a hit a line: its hits,
        // not lines of JSONL of which two are lost.
        let hits = dir.path().join("hits.json");
        std::fs::write(
            &hits,
            "{\"took\": 3, \"hits\": {\"total\": 2, \"hits\": [\n{\"_source\": {\"a\": 1}},\n{\"_source\": {\"a\": 2}}\n]}}\n",
        )
        .unwrap();
        let mut seen = Vec::new();
        assert_eq!(
            read(&hits, &mut |e| seen.push(e.text("a").unwrap().to_string())),
            Some(FileRead { events: 2, lost: 0 })
        );
        assert_eq!(seen, ["1", "2"]);
        assert_eq!(ds.count(crate::diag::Severity::Error), 1, "no new error");
    }
}
