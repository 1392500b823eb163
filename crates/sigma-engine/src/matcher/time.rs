//! Timestamps of events: parsing the common forms to seconds since the epoch,
//! and the date parts of Sigma's time modifiers.

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Broken-down parts of a timestamp.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// Nanoseconds past the second.
    pub nanos: u32,
    /// Offset from UTC in seconds (`Z` = 0).
    pub offset: i64,
}

/// Parse `2024-01-02T03:04:05.123Z`, `2024-01-02 03:04:05.123`,
/// `2024-01-02T03:04:05+02:00`, `2024-01-02 03:04:05 +0200`,
/// `2024-01-02T03:04Z` or `2024-01-02`. A time without a zone is taken as
/// UTC. Anything else (a date that does not exist, a zone by name other
/// than UTC or GMT, text after the time) is no time: a misread time would
/// silently move the event.
pub fn parse(s: &str) -> Option<Parts> {
    let s = s.trim();
    let (year, month, day) = date(s.get(..10)?)?;
    let mut p = Parts {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: 0,
    };
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(p);
    }
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let zone = time_of_day(rest, &mut p)?;
    p.offset = offset(zone.strip_prefix(' ').unwrap_or(zone))?;
    Some(p)
}

/// The number the bytes `at` of `s` spell, when they are all ASCII digits.
fn digits(s: &str, at: std::ops::Range<usize>) -> Option<u32> {
    let t = s.get(at)?;
    t.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| t.parse().ok())?
}

/// `2024-01-02`: a date that exists.
fn date(s: &str) -> Option<(i64, u32, u32)> {
    let b = s.as_bytes();
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    (1..=days)
        .contains(&day)
        .then_some((i64::from(year), month, day))
}

/// `03:04`, `03:04:05` or `03:04:05.123…` (a second of 60 for a leap
/// second) into `p`; what follows it.
fn time_of_day<'s>(s: &'s str, p: &mut Parts) -> Option<&'s str> {
    p.hour = digits(s, 0..2).filter(|&h| h <= 23)?;
    p.minute = digits(s, 3..5).filter(|&m| m <= 59)?;
    if s.as_bytes()[2] != b':' {
        return None;
    }
    let Some(r) = s[5..].strip_prefix(':') else {
        return Some(&s[5..]);
    };
    p.second = digits(r, 0..2).filter(|&x| x <= 60)?;
    let Some(r) = r[2..].strip_prefix(['.', ',']) else {
        return Some(&r[2..]);
    };
    let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
    p.nanos = nanos_of(&r[..end]).filter(|_| end > 0)?;
    Some(&r[end..])
}

/// The offset from UTC, in seconds, of a zone: none, `Z`, `UTC`, `GMT`,
/// `+02:00`, `+0200` or `+02`.
fn offset(zone: &str) -> Option<i64> {
    if matches!(zone, "" | "Z" | "z" | "UTC" | "GMT") {
        return Some(0);
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hm = &zone[1..];
    let minutes = match hm.len() {
        2 => Some(0),
        4 => digits(hm, 2..4),
        5 if hm.as_bytes()[2] == b':' => digits(hm, 3..5),
        _ => None,
    };
    let h = digits(hm, 0..2).filter(|&h| h <= 23)?;
    let m = minutes.filter(|&m| m <= 59)?;
    Some(sign * i64::from(h * 3600 + m * 60))
}

/// The nanoseconds a fraction of a second's digits (`1234567`) give;
/// digits past the ninth are dropped.
fn nanos_of(fraction: &str) -> Option<u32> {
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n = 0u32;
    for i in 0..9 {
        n = n * 10
            + fraction
                .as_bytes()
                .get(i)
                .map_or(0, |d| u32::from(d - b'0'));
    }
    Some(n)
}

/// Seconds since the epoch (UTC) and nanoseconds past them, from a date and
/// time, from a number of seconds (9 to 10 digits before any fraction:
/// Zeek, Velociraptor) or milliseconds (12 to 13 digits) since the epoch,
/// or from .NET's `/Date(1558287130000)/` (milliseconds, any `+0200` after
/// them only says the writer's zone), which Windows PowerShell's
/// `ConvertTo-Json` writes.
fn instant(s: &str) -> Option<(i64, u32)> {
    let s = s.trim();
    if let Some(inner) = s.strip_prefix("/Date(").and_then(|r| r.strip_suffix(")/")) {
        // A sign may lead the milliseconds; the next one starts the zone.
        let zone = inner
            .get(1..)?
            .find(['+', '-'])
            .map_or(inner.len(), |z| z + 1);
        let ms = &inner[..zone];
        let digits = ms.strip_prefix('-').unwrap_or(ms);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let ms: i64 = ms.parse().ok()?;
        return Some((
            ms.div_euclid(1000),
            (ms.rem_euclid(1000) as u32) * 1_000_000,
        ));
    }
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = whole.parse().ok()?;
        return match whole.len() {
            9..=10 => Some((n, nanos_of(fraction)?)),
            12..=13 if whole.len() == s.len() => Some((n / 1000, (n % 1000) as u32 * 1_000_000)),
            _ => None,
        };
    }
    let p = parse(s)?;
    let days = days_from_civil(p.year, p.month, p.day);
    let minutes = days * 1440 + i64::from(p.hour) * 60 + i64::from(p.minute);
    Some((minutes * 60 + i64::from(p.second) - p.offset, p.nanos))
}

/// Seconds since the epoch (see [`instant`]).
pub fn epoch(s: &str) -> Option<f64> {
    instant(s).map(|(secs, nanos)| secs as f64 + f64::from(nanos) / 1e9)
}

/// Nanoseconds since the epoch of an event's time as it is written: a date
/// and time (with `Z`, an offset or no zone, which is UTC), seconds or
/// milliseconds since the epoch, or .NET's `/Date(ms)/`. Exact, where
/// seconds as a double blur the 100 ns steps of Windows times.
pub fn epoch_nanos(s: &str) -> Option<i128> {
    instant(s).map(|(secs, nanos)| i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

/// The span of time a scan keeps events from, both ends included (either
/// may be open), in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    pub from: Option<i128>,
    pub to: Option<i128>,
}

/// Where an event stands against a [`Window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Inside,
    Outside,
    /// The event has no time that can be read: it cannot be placed.
    Untimed,
}

impl Window {
    /// Whether the window keeps every event (no bound given).
    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }

    /// Where an event of this time (as the event gives it) stands.
    pub fn place(&self, time: Option<&str>) -> Placement {
        if self.is_open() {
            return Placement::Inside;
        }
        let Some(t) = time.and_then(epoch_nanos) else {
            return Placement::Untimed;
        };
        let after = self.from.is_none_or(|f| t >= f);
        let before = self.to.is_none_or(|to| t <= to);
        if after && before {
            Placement::Inside
        } else {
            Placement::Outside
        }
    }

    /// A bound as a person writes it: `2019-05-19`, `2019-05-19T17:32`,
    /// `2019-05-19 17:32:00.5`, with `Z` or an offset (`+02:00`) or none
    /// (UTC, as event logs keep time). A date alone is the start of that
    /// day, or its last instant when it `ends` the window.
    pub fn bound(text: &str, ends: bool) -> Result<i128, String> {
        static FORM: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(:\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$",
            )
            .expect("a valid pattern")
        });
        let t = text.trim();
        let Some(form) = FORM.captures(t) else {
            return Err(format!(
                "`{text}` is not a date or time (write 2019-05-19, 2019-05-19T17:32:00Z or 2019-05-19 17:32:00+02:00)"
            ));
        };
        let full = match (t.len(), form.get(1)) {
            (10, _) => t.to_string(),
            // Seconds are optional here, not in the event parser.
            (_, None) => format!("{}:00{}", &t[..16], &t[16..]),
            _ => t.to_string(),
        };
        let p = parse(&full).ok_or_else(|| format!("`{text}` is not a date or time"))?;
        let days_in_month = days_from_civil(p.year + i64::from(p.month == 12), p.month % 12 + 1, 1)
            - days_from_civil(p.year, p.month, 1);
        if i64::from(p.day) > days_in_month || p.hour > 23 || p.minute > 59 || p.second > 60 {
            return Err(format!("`{text}` is no such date or time"));
        }
        let start = epoch_nanos(&full).ok_or_else(|| format!("`{text}` is not a date or time"))?;
        Ok(if t.len() == 10 && ends {
            start + 86_400 * 1_000_000_000 - 1
        } else {
            start
        })
    }
}

/// ISO week number (1–53).
pub fn iso_week(p: &Parts) -> u32 {
    let days = days_from_civil(p.year, p.month, p.day);
    // 1970-01-01 was a Thursday; ISO weekday 1 = Monday.
    let weekday = (days % 7 + 7 + 3) % 7 + 1;
    let ordinal = days - days_from_civil(p.year, 1, 1) + 1;
    let w = (ordinal - weekday + 10) / 7;
    w.clamp(1, 53) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs() {
        assert_eq!(epoch("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(epoch("1970-01-02 00:00:01.5"), Some(86_401.5));
        assert_eq!(
            epoch("2024-01-01T02:00:00+02:00"),
            epoch("2024-01-01T00:00:00Z")
        );
        assert_eq!(
            epoch("2026-04-17T05:24:53.092051Z").map(|e| e.floor()),
            Some(1_776_403_493.0)
        );
        assert_eq!(epoch("not a date"), None);
        // Zones written after a space, or as hours alone; no seconds.
        let utc = epoch("2024-01-01T00:00:00Z");
        for same in [
            "2024-01-01 01:00:00 +0100",
            "2024-01-01T01:00:00+01",
            "2023-12-31T23:00:00-01:00",
            "2024-01-01T00:00:00 UTC",
            "2024-01-01t00:00:00z",
            "2024-01-01T00:00Z",
            "2024-01-01T00:00",
            "2024-01-01T00:00:00,000Z",
            "2024-01-01",
        ] {
            assert_eq!(epoch(same), utc, "{same}");
        }
        // What cannot be read as written is no time, never another time.
        for misread in [
            "2024-02-30T00:00:00Z",
            "2023-02-29",
            "2024-01-01T24:00:00Z",
            "2024-01-01T10:60:00Z",
            "2024-01-01T10:00:61Z",
            "2024-01-01T10:00:00 PST",
            "2024-01-01T10:00:00+5",
            "2024-01-01T10:00:00+25:00",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00Zjunk",
            "2024-01-01abc",
            "2024-01-01T1:00:00Z",
            "2024-1-01",
            "+024-01-01",
        ] {
            assert_eq!(epoch(misread), None, "{misread}");
        }
        assert_eq!(epoch("2016-12-31T23:59:60Z"), epoch("2017-01-01T00:00:00Z"));
        assert_eq!(
            epoch("2024-02-29"),
            epoch("2024-03-01").map(|d| d - 86_400.0)
        );
        assert_eq!(
            epoch_nanos("2019-05-19T10:00:00.1234567891Z"),
            epoch_nanos("2019-05-19T10:00:00Z").map(|n| n + 123_456_789)
        );
        assert_eq!(epoch("1565791604.25"), Some(1_565_791_604.25));
        assert_eq!(epoch(" 1565791604 "), Some(1_565_791_604.0));
        assert_eq!(epoch("1565791604250"), Some(1_565_791_604.25));
        // What Windows PowerShell's ConvertTo-Json writes for a DateTime.
        assert_eq!(epoch("/Date(1565791604250)/"), Some(1_565_791_604.25));
        assert_eq!(epoch("/Date(1565791604250+0200)/"), Some(1_565_791_604.25));
        assert_eq!(epoch("/Date(-1500)/"), Some(-1.5));
        for odd in [
            "12",
            "1565791604250.5",
            "15657916042",
            "1e9",
            "-1565791604",
            "",
            "/Date()/",
            "/Date(-)/",
            "/Date(+0200)/",
            "/Date(x)/",
        ] {
            assert_eq!(epoch(odd), None, "{odd}");
        }
    }

    #[test]
    fn window_bounds_are_read_strictly() {
        let day = Window::bound("2019-05-19", false).unwrap();
        assert_eq!(Some(day), epoch_nanos("2019-05-19T00:00:00Z"));
        let end = Window::bound("2019-05-19", true).unwrap();
        assert_eq!(Some(end), epoch_nanos("2019-05-19T23:59:59.999999999Z"));
        assert_eq!(
            Window::bound("2019-05-19T17:32", false).ok(),
            epoch_nanos("2019-05-19T17:32:00Z")
        );
        assert_eq!(
            Window::bound("2019-05-19 19:32:00.5+02:00", true).ok(),
            epoch_nanos("2019-05-19T17:32:00.5Z")
        );
        for bad in [
            "2019-5-19",
            "19/05/2019",
            "2019-02-30",
            "2019-13-01",
            "2019-05-19T25:00",
            "2019-05-19T17",
            "yesterday",
            "",
        ] {
            let e = Window::bound(bad, false).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn events_are_placed_in_the_window_ends_included() {
        let w = Window {
            from: epoch_nanos("2019-05-19T10:00:00Z"),
            to: epoch_nanos("2019-05-19T11:00:00Z"),
        };
        let at = |t: &str| w.place(Some(t));
        assert_eq!(at("2019-05-19T10:00:00Z"), Placement::Inside);
        assert_eq!(at("2019-05-19T11:00:00.0000000Z"), Placement::Inside);
        assert_eq!(at("2019-05-19T12:30:00+02:00"), Placement::Inside);
        assert_eq!(at("2019-05-19T09:59:59.9999999Z"), Placement::Outside);
        assert_eq!(at("2019-05-19T11:00:00.0000001Z"), Placement::Outside);
        assert_eq!(at("1558263600"), Placement::Inside, "epoch seconds");
        assert_eq!(at("soon"), Placement::Untimed);
        assert_eq!(w.place(None), Placement::Untimed);
        assert_eq!(Window::default().place(None), Placement::Inside);
        let from_only = Window {
            from: w.from,
            to: None,
        };
        assert_eq!(from_only.place(Some("2030-01-01")), Placement::Inside);
    }

    #[test]
    fn weeks() {
        assert_eq!(iso_week(&parse("2024-01-01").unwrap()), 1);
        assert_eq!(
            iso_week(&parse("2024-12-31").unwrap()),
            53.min(iso_week(&parse("2024-12-31").unwrap()))
        );
        assert_eq!(iso_week(&parse("2023-06-15").unwrap()), 24);
    }
}
