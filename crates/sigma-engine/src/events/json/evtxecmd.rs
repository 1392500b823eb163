//! EvtxECmd's JSON (`EvtxECmd --json`, common in KAPE collections): one
//! object per record, the System values as columns of their own
//! (`EventId`, `Provider`, `Channel`, `Computer`, `ProcessId`, ...) and the
//! event's data as `Payload`, a JSON *string* holding the XML converted to
//! JSON: `{"EventData": {"Data": [{"@Name": "Image", "#text": "…"}]}}`.
//!
//! The payload's EventData and UserData are read as an EVTX event's, and
//! the System columns also under their EVTX names, so that Windows rules and
//! the logsource mapping meet these records as they meet the EVTX file. The
//! columns EvtxECmd derives (`MapDescription`, `PayloadData1`, `UserName`,
//! `RemoteHost`, ...) keep their own names. Keys may come in any order: the
//! System columns are held until the whole record is read, since only a
//! payload tells an EvtxECmd record from another log with an `EventId` key.

use super::{Builder, Mode, Node};
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::fmt;

/// A System column: its EvtxECmd key, its EVTX name, and whether it keeps
/// its key as a name too. `ProcessId`, `ThreadId` and `UserId` do not: in
/// an EvtxECmd record they are the writer's (`Execution_ProcessID`), while
/// Sysmon's event data has a `ProcessId` of its own that rules read.
const COLUMNS: [(&str, &str, bool); 6] = [
    ("EventId", "EventID", true),
    ("Provider", "Provider_Name", true),
    ("EventRecordId", "EventRecordID", true),
    ("ProcessId", "Execution_ProcessID", false),
    ("ThreadId", "Execution_ThreadID", false),
    ("UserId", "Security_UserID", false),
];

/// A top-level value held until the record is read (see the module
/// overview), by its index in [`COLUMNS`].
pub(super) type Held = (usize, serde_json::Value);

/// The column a top-level key is, if it is one some rule reads under
/// either name.
pub(super) fn column(b: &Builder<'_>, key: &str) -> Option<usize> {
    let i = COLUMNS.iter().position(|(k, _, _)| *k == key)?;
    let (k, evtx, _) = COLUMNS[i];
    (b.wants(k) || b.wants(evtx)).then_some(i)
}

/// The held columns, once the record is read: under the EVTX name where a
/// payload made it an EvtxECmd record (EvtxECmd's columns are scalars), and
/// by their own path, as any top-level value is, where it did not, where
/// they keep it, or where the value is no scalar (another log's `Provider`
/// object keeps its `Provider.Name`).
pub(super) fn put_held(b: &mut Builder<'_>) {
    for (i, v) in std::mem::take(&mut b.held) {
        let (key, evtx, keeps) = COLUMNS[i];
        let scalar = !v.is_object() && !v.is_array();
        // A value tree always deserializes.
        if b.evtxecmd && scalar {
            let node = Node {
                b: &mut *b,
                mode: Mode::Named,
                name: evtx,
                depth: 1,
            };
            let _ = node.deserialize(&v);
        }
        if keeps || !b.evtxecmd || !scalar {
            b.path.clear();
            b.path.push_str(key);
            let node = Node {
                b: &mut *b,
                mode: Mode::Path,
                name: "",
                depth: 0,
            };
            let _ = node.deserialize(&v);
        }
    }
}

/// A top-level `Payload`: kept by its path as any value is, and, where it is
/// a string holding EventData or UserData as JSON, read as the event's data.
/// A payload that says it holds them but is no JSON is read up to where it
/// breaks, and flagged (the reader warns).
pub(super) fn payload<'de, A: MapAccess<'de>>(
    map: &mut A,
    b: &mut Builder<'_>,
) -> Result<(), A::Error> {
    // Read once by its path, as any value is; its text is taken apart after.
    let text: Option<String> = if b.text {
        let raw: &'de RawValue = map.next_value()?;
        let text = raw
            .get()
            .starts_with('"')
            .then(|| serde_json::from_str(raw.get()));
        let mut de = serde_json::Deserializer::from_str(raw.get());
        path_node(b)
            .deserialize(&mut de)
            .map_err(serde::de::Error::custom)?;
        text.and_then(Result::ok)
    } else {
        let v: serde_json::Value = map.next_value()?;
        path_node(b)
            .deserialize(&v)
            .map_err(serde::de::Error::custom)?;
        v.as_str().map(str::to_string)
    };
    let Some(text) = text.filter(|t| t.trim_start().starts_with('{')) else {
        return Ok(());
    };
    let text_before = std::mem::replace(&mut b.text, true);
    let mut de = serde_json::Deserializer::from_str(&text);
    let read = Parts(&mut *b).deserialize(&mut de).and_then(|()| de.end());
    b.text = text_before;
    if let Err(e) = read
        && (text.contains("EventData") || text.contains("UserData"))
    {
        let at = format!("{e} of it");
        b.event.payload_error = Some(at.into());
    }
    Ok(())
}

/// The node that keeps the payload by its path (`Payload`).
fn path_node<'b, 'w>(b: &'b mut Builder<'w>) -> Node<'b, 'w, 'static> {
    b.path.clear();
    b.path.push_str("Payload");
    Node {
        b,
        mode: Mode::Path,
        name: "",
        depth: 0,
    }
}

/// The object a payload holds: its EventData and UserData read as an EVTX
/// event's; anything else in it is not the event's data.
struct Parts<'b, 'w>(&'b mut Builder<'w>);

impl<'de> DeserializeSeed<'de> for Parts<'_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Parts<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object holding EventData or UserData")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if matches!(key.as_ref(), "EventData" | "UserData") {
                self.0.evtxecmd = true;
                map.next_value_seed(Node {
                    b: &mut *self.0,
                    mode: Mode::Named,
                    name: "",
                    depth: 1,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::events::{Event, EventMeta, Wanted, event_from_value};
    use serde_json::json;

    /// A record as EvtxECmd writes it (keys in its order).
    fn record() -> serde_json::Value {
        let payload = json!({"EventData": {"Data": [
            {"@Name": "ProcessId", "#text": "4242"},
            {"@Name": "Image", "#text": "C:\\Windows\\System32\\cmd.exe"},
            {"@Name": "CommandLine", "#text": "cmd /c whoami"},
            {"@Name": "StartModule"}
        ]}});
        json!({"PayloadData1": "ProcessID: 4242", "UserName": "NT AUTHORITY\\SYSTEM",
            "MapDescription": "Process creation", "ChunkNumber": 0, "Computer": "ws1",
            "Payload": payload.to_string(), "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Provider": "Microsoft-Windows-Sysmon", "EventId": 1, "EventRecordId": "77",
            "ProcessId": 3000, "ThreadId": 4000, "Level": "Info", "Keywords": "Classic",
            "SourceFile": "C:\\logs\\sysmon.evtx", "ExtraDataOffset": 0, "HiddenRecord": false,
            "TimeCreated": "2024-05-01T10:00:00.0000000+00:00", "RecordNumber": 77})
    }

    fn read(v: &serde_json::Value, wanted: Option<&Wanted>) -> Event {
        event_from_value(v, EventMeta::default(), wanted).unwrap()
    }

    #[test]
    fn a_record_reads_as_its_evtx_event() {
        let e = read(&record(), None);
        assert_eq!(e.text("Image"), Some("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(e.text("StartModule"), Some(""), "an empty element");
        assert_eq!(e.text("EventID"), Some("1"));
        assert_eq!(e.text("EventId"), Some("1"));
        assert_eq!(e.text("Provider_Name"), Some("Microsoft-Windows-Sysmon"));
        assert_eq!(e.text("EventRecordID"), Some("77"));
        assert_eq!(e.text("MapDescription"), Some("Process creation"));
        let pids: Vec<&str> = e.get("ProcessId").unwrap().iter().map(|v| v.text).collect();
        assert_eq!(pids, ["4242"], "the event's, not the writer's");
        assert_eq!(e.text("Execution_ProcessID"), Some("3000"));
        assert_eq!(
            e.meta.channel.as_deref(),
            Some("Microsoft-Windows-Sysmon/Operational")
        );
        assert_eq!(e.meta.event_id.as_deref(), Some("1"));
        assert!(e.meta.timestamp.is_some());
        assert!(
            e.text("Payload")
                .is_some_and(|p| p.contains("cmd /c whoami"))
        );
    }

    #[test]
    fn keys_in_any_order_and_only_wanted_fields() {
        // As `jq -S` writes it: EventId before Payload.
        let sorted: serde_json::Value = serde_json::from_str(&record().to_string()).unwrap();
        let mut keys: Vec<_> = sorted.as_object().unwrap().iter().collect();
        keys.sort_by_key(|(k, _)| k.to_string());
        let sorted = serde_json::Value::Object(
            keys.into_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let w = Wanted::new(["EventID", "Image", "ProcessId"]);
        let e = read(&sorted, Some(&w));
        assert_eq!(e.text("EventID"), Some("1"));
        assert_eq!(e.text("Image"), Some("C:\\Windows\\System32\\cmd.exe"));
        assert_eq!(e.get("ProcessId").map(|v| v.len()), Some(1));
        assert!(e.get("CommandLine").is_none() && e.get("Execution_ProcessID").is_none());
    }

    #[test]
    fn other_logs_keep_their_columns_and_a_broken_payload_is_flagged() {
        let other = json!({"EventId": 5, "ProcessId": 9, "Payload": "not json"});
        let e = read(&other, None);
        assert_eq!(e.text("ProcessId"), Some("9"), "no payload: its own column");
        assert!(e.get("Execution_ProcessID").is_none() && e.payload_error.is_none());
        let broken = json!({"EventId": 1, "Payload": "{\"EventData\": {\"Data\": [oops"});
        let e = read(&broken, None);
        assert!(e.payload_error.is_some());
        assert_eq!(e.text("EventId"), Some("1"));
        // Another log's objects under these keys keep their paths, also
        // where a rule reads the EVTX name.
        let cloud = json!({"Provider": {"Name": "acme"}, "ProcessId": [1, 2]});
        let w = Wanted::new(["Provider_Name", "Provider.Name", "ProcessId"]);
        for e in [read(&cloud, None), read(&cloud, Some(&w))] {
            assert_eq!(e.text("Provider.Name"), Some("acme"));
            assert!(e.get("Provider_Name").is_none() && e.get("Name").is_none());
            assert_eq!(e.get("ProcessId").map(|v| v.len()), Some(2));
        }
        let user = json!({"Payload": "{\"UserData\":{\"LogFileCleared\":{\"SubjectUserName\":\"bob\"}}}",
            "EventId": 104, "Channel": "System"});
        let e = read(&user, None);
        assert_eq!(e.text("SubjectUserName"), Some("bob"));
        assert_eq!(e.text("EventID"), Some("104"));
    }
}
