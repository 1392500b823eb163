//! journald's records as `journalctl -o json` writes them: JSON objects,
//! read by the JSON readers, that are syslog lines under journald's names
//! (`__REALTIME_TIMESTAMP`, `SYSLOG_IDENTIFIER`, `_HOSTNAME`, `MESSAGE`;
//! their metadata is filled as the event's is, [`Event::journal_message`]).
//! One whose message is a Sysmon for Linux event in XML is that event, as
//! the syslog reader reads it from a syslog line.

use super::event::Event;
use super::json::Wanted;

/// The event a JSON object read from a log is: a journald record's Sysmon
/// event where it holds one, else itself.
pub(super) fn logged(e: Event, wanted: Option<&Wanted>) -> Event {
    let sysmon = e
        .journal_message()
        .filter(|m| m.starts_with("<Event"))
        .and_then(|xml| super::xml::whole_event(xml, &e.meta.file, e.meta.record, wanted));
    sysmon.unwrap_or(e)
}
