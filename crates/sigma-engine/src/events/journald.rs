//! journald's records as `journalctl -o json` writes them: JSON objects,
//! read by the JSON readers, that are syslog lines under journald's names
//! (`__REALTIME_TIMESTAMP`, `SYSLOG_IDENTIFIER`, `_HOSTNAME`, `MESSAGE`;
//! their metadata is filled as the event's is, [`Event::journal_message`]).
//! One whose message is a Sysmon for Linux event in XML is that event, as
//! the syslog reader reads it from a syslog line.

use super::event::Event;
use super::json::Wanted;
use super::mend::Mended;

/// The event a JSON object read from a log is, with what the reader
/// should warn of: a journald record's Sysmon event where it holds one
/// (what of it was not read said too), else itself. A journald record's
/// field that is no printable UTF-8 (a
/// message with a terminal's colour codes, or bytes of another encoding) is
/// written as an array of its bytes' values, and read as their text. A
/// field over 4096 bytes is written as `null` unless `journalctl` is given
/// `--all`: a warning names such fields of the record (those the rules
/// read).
pub(super) fn logged(m: Mended, wanted: Option<&Wanted>) -> (Option<Event>, Vec<String>) {
    let mut warnings = m.warnings();
    let e = match m.event {
        Some(e) if e.is_journal_record() => e,
        other => return (other, warnings),
    };
    let e = e.with_byte_fields_as_text();
    let left_out = e.null_fields();
    if !left_out.is_empty() {
        warnings.push(format!(
            "journald record with {} written as null: journalctl writes a field over 4096 bytes so (export with `journalctl -o json --all` to keep them)",
            left_out.join(", ")
        ));
    }
    let sysmon = e
        .journal_message()
        .filter(|m| m.starts_with("<Event"))
        .and_then(|xml| super::xml::whole_event(xml, &e.meta.file, e.meta.record, wanted));
    warnings.extend(sysmon.iter().flat_map(super::json::partly_read));
    (Some(sysmon.unwrap_or(e)), warnings)
}

#[cfg(test)]
mod tests {
    use crate::diag::Diagnostics;

    fn read(text: &str) -> Vec<crate::events::Event> {
        let mut got = Vec::new();
        crate::events::read_text("j.json", text, &Diagnostics::new(), &mut |e| got.push(e));
        got
    }

    #[test]
    fn a_journald_field_written_as_bytes_is_their_text_and_other_numbers_stay() {
        let got = read(concat!(
            r#"{"__REALTIME_TIMESTAMP":"1709287201000000","SYSLOG_IDENTIFIER":"sshd","PRIORITY":"6","_PID":"7","SYSLOG_FACILITY":4,"MESSAGE":[27,91,109,112,97,115,115,255]}"#,
            "\n",
            r#"{"ts":"x","ports":[1,1,2],"id":7}"#,
            "\n",
        ));
        let e = &got[0];
        assert_eq!(e.text("MESSAGE"), Some("\u{1b}[mpass\u{fffd}"));
        assert_eq!(e.get("MESSAGE").unwrap().len(), 1);
        assert_eq!((e.text("PRIORITY"), e.text("_PID")), (Some("6"), Some("7")));
        // A lone number, as a forwarder may write one, stays a number.
        assert_eq!(e.text("SYSLOG_FACILITY"), Some("4"));
        assert_eq!(e.meta.timestamp.as_deref(), Some("1709287201.000000"));
        assert_eq!(
            e.meta.source,
            Some(crate::events::Source::Syslog("sshd".into()))
        );
        // Elsewhere numbers are numbers, each kept, repeats too.
        let texts: Vec<&str> = got[1]
            .get("ports")
            .unwrap()
            .iter()
            .map(|v| v.text)
            .collect();
        assert_eq!(texts, ["1", "1", "2"]);
    }

    #[test]
    fn a_sysmon_event_read_in_part_from_a_record_is_said() {
        let deep = format!(
            "<Event><System><EventID>1</EventID></System><EventData><Data Name=\\\"Image\\\">C:\\\\a.exe</Data>{}x{}</EventData></Event>",
            "<u>".repeat(40),
            "</u>".repeat(40)
        );
        let line = format!(
            r#"{{"__REALTIME_TIMESTAMP":"1709287201000000","SYSLOG_IDENTIFIER":"sysmon","MESSAGE":"{deep}"}}"#
        );
        let diags = Diagnostics::new();
        let mut got = Vec::new();
        crate::events::read_text("j.json", &line, &diags, &mut |e| got.push(e));
        assert_eq!(got[0].text("Image"), Some("C:\\a.exe"));
        let said: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            said,
            [
                "warning[events]: j.json:1:1: objects nested deeper than 32 levels were not read (the rest of the event was)"
            ]
        );
    }
}
