//! FortiGate's log records (FortiOS's own format, the default of its
//! syslog and of its log downloads), read by Sigma's `product: fortigate`
//! and `product: fortios` rules: `date=2025-04-10 time=05:01:53
//! tz="-0700" logid="0100044547" type="event" subtype="system" ...
//! action="Add" cfgpath="firewall.policy" ...`, each `key=value` a field.
//!
//! - A value in double quotes is one value, a backslash keeping the
//!   character after it: text an attacker put in a URL or a user name
//!   (`url="/a?x action=Add"`) adds no field.
//! - The time is `date` and `time`, in the zone `tz` gives as an offset
//!   (`-0700`); the computer is `devname`, else the host of a syslog
//!   header; `type` (`event`, `traffic`, `utm`) is Sigma's `service`.
//!
//! A record is a line of its own, after a `<PRI>`, or after a syslog
//! header: the syslog reader finds it ([`is_record`]).

use super::event::{Event, EventMeta, Source};
use super::key_value::{Quoting, pairs};
use std::sync::Arc;

/// Whether `text` is a FortiOS record: `date=YYYY-MM-DD time=` first (the
/// date quoted or not), and a `logid`.
pub(super) fn is_record(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("date=") else {
        return false;
    };
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let b = rest.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let date = digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7) && b.get(7) == Some(&b'-');
    let rest = rest.get(10..).unwrap_or_default();
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    date && digits(8..10) && rest.starts_with(" time=") && rest.contains(" logid=")
}

/// The event of a record: its pairs (those `keeps` keeps), its time, its
/// device, its type. `host` is a syslog header's, if it had one.
pub(super) fn event(
    mut meta: EventMeta,
    record: &str,
    host: Option<&str>,
    keeps: &dyn Fn(&str) -> bool,
) -> Event {
    let all = pairs(record.as_bytes(), Quoting::Escaped);
    let value = |key: &str| all.iter().find(|p| p.key == key).map(|p| p.text());
    meta.timestamp = time(
        value("date").as_deref(),
        value("time").as_deref(),
        value("tz").as_deref(),
    );
    meta.computer = value("devname")
        .map(|d| d.into_owned())
        .or(host.map(str::to_string));
    meta.source = Some(Source::Fortinet(Arc::from(
        value("type").as_deref().unwrap_or(""),
    )));
    let kept = all.iter().filter(|p| keeps(p.key));
    Event::of_texts(meta, record.len() * 2, kept.map(|p| (p.key, p.text())))
}

/// `2025-04-10 05:01:53 -0700`: the zone where `tz` is an offset (older
/// releases write none, or a name, which is left out: the time as written).
fn time(date: Option<&str>, time: Option<&str>, tz: Option<&str>) -> Option<String> {
    let (date, time) = (date?, time?);
    let offset = tz.filter(|z| super::is_hhmm_offset(z));
    Some(match offset {
        Some(z) => format!("{date} {time} {z}"),
        None => format!("{date} {time}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"date=2025-04-10 time=05:01:53 devname="FG100F" devid="FG100FTK19000000" eventtime=1744286513150014241 tz="-0700" logid="0100044547" type="event" subtype="system" level="information" vd="root" logdesc="Object attribute configured" user="admin" ui="GUI(10.32.22.115)" action="Add" cfgtid=126746708 cfgpath="user.local" cfgobj="backdoor" cfgattr="type[password]" msg="Add user.local \"backdoor\"""#;

    #[test]
    fn a_record_is_date_then_time_with_a_logid() {
        assert!(is_record(RECORD));
        assert!(is_record(
            r#"date="2016-06-16" time=16:22:34 devname=fw logid=0100032001 type=event"#
        ));
        for not in [
            "date=2025-04-10 time=05:01:53 level=info msg=x",
            "date=today time=05:01:53 logid=1",
            "time=05:01:53 date=2025-04-10 logid=1",
            "date=2025-04-1",
            "level=info date=2025-04-10 time=05:01:53 logid=1",
        ] {
            assert!(!is_record(not), "{not}");
        }
    }

    #[test]
    fn each_pair_is_a_field_and_the_record_says_its_time_device_and_type() {
        let e = event(EventMeta::default(), RECORD, Some("10.0.0.1"), &|_| true);
        assert_eq!(e.text("action"), Some("Add"));
        assert_eq!(e.text("cfgpath"), Some("user.local"));
        assert_eq!(e.text("msg"), Some(r#"Add user.local "backdoor""#));
        assert_eq!(e.text("cfgtid"), Some("126746708"));
        assert_eq!(
            e.meta.timestamp.as_deref(),
            Some("2025-04-10 05:01:53 -0700")
        );
        assert_eq!(e.meta.computer.as_deref(), Some("FG100F"));
        assert_eq!(e.meta.source, Some(Source::Fortinet("event".into())));
        let old = "date=2016-06-16 time=16:22:34 logid=0100032001 type=event tz=CET";
        let e = event(EventMeta::default(), old, Some("10.0.0.1"), &|k| {
            k == "type"
        });
        assert_eq!(e.meta.timestamp.as_deref(), Some("2016-06-16 16:22:34"));
        assert_eq!(e.meta.computer.as_deref(), Some("10.0.0.1"));
        assert!(e.get("logid").is_none(), "only the fields kept");
    }

    #[test]
    fn text_inside_a_quoted_value_adds_no_field() {
        let hostile = r#"date=2025-04-10 time=05:01:53 logid="0000000013" type="traffic" url="/x?a=1 action=\"Add\" cfgpath=user.local" action="deny""#;
        let e = event(EventMeta::default(), hostile, None, &|_| true);
        let actions: Vec<&str> = e.get("action").unwrap().iter().map(|v| v.text).collect();
        assert_eq!(actions, ["deny"]);
        assert!(e.get("cfgpath").is_none());
        assert_eq!(e.meta.source, Some(Source::Fortinet("traffic".into())));
    }
}
