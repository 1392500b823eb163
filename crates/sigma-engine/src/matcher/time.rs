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
    pub second: f64,
    /// Offset from UTC in seconds (`Z` = 0).
    pub offset: i64,
}

/// Parse `2024-01-02T03:04:05.123Z`, `2024-01-02 03:04:05.123`,
/// `2024-01-02T03:04:05+02:00` or `2024-01-02`.
pub fn parse(s: &str) -> Option<Parts> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> { s.get(r)?.parse().ok() };
    let year: i64 = s.get(0..4)?.parse().ok()?;
    let month = num(5..7)?;
    let day = num(8..10)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut p = Parts {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0.0,
        offset: 0,
    };
    if b.len() >= 19 && (b[10] == b'T' || b[10] == b' ') {
        p.hour = num(11..13)?;
        p.minute = num(14..16)?;
        let rest = &s[17..];
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        p.second = rest[..end].parse().ok()?;
        let tz = &rest[end..];
        if let Some(sign) = tz.chars().next().filter(|c| *c == '+' || *c == '-') {
            let digits: String = tz[1..].chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 4 {
                let h: i64 = digits[0..2].parse().ok()?;
                let m: i64 = digits[2..4].parse().ok()?;
                p.offset = (h * 3600 + m * 60) * if sign == '-' { -1 } else { 1 };
            }
        }
    }
    Some(p)
}

/// Seconds since the epoch (UTC), from a date and time or from a number of
/// seconds (9 to 10 digits before any fraction: Zeek, Velociraptor) or
/// milliseconds (12 to 13 digits) since the epoch.
pub fn epoch(s: &str) -> Option<f64> {
    let s = s.trim();
    let whole = s.split_once('.').map_or(s, |(w, _)| w);
    if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) {
        let n: f64 = s.parse().ok()?;
        return match whole.len() {
            9..=10 => Some(n),
            12..=13 if whole.len() == s.len() => Some(n / 1000.0),
            _ => None,
        };
    }
    let p = parse(s)?;
    let days = days_from_civil(p.year, p.month, p.day);
    Some((days * 86_400 + p.hour as i64 * 3600 + p.minute as i64 * 60 - p.offset) as f64 + p.second)
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
        assert_eq!(epoch("1565791604.25"), Some(1_565_791_604.25));
        assert_eq!(epoch(" 1565791604 "), Some(1_565_791_604.0));
        assert_eq!(epoch("1565791604250"), Some(1_565_791_604.25));
        for odd in [
            "12",
            "1565791604250.5",
            "15657916042",
            "1e9",
            "-1565791604",
            "",
        ] {
            assert_eq!(epoch(odd), None, "{odd}");
        }
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
