//! RFC 3339 without a date crate: UTC output, and reading back the UTC
//! timestamps Okta sends.

/// Format Unix seconds as RFC 3339 UTC, e.g. `2026-11-28T17:00:00Z`.
pub fn rfc3339_from_unix_secs(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Format Unix milliseconds as RFC 3339 UTC at whole seconds.
pub fn rfc3339_from_unix_ms(ms: u64) -> String {
    rfc3339_from_unix_secs(ms / 1000)
}

/// Format Unix milliseconds as RFC 3339 UTC with milliseconds, e.g.
/// `2026-11-28T17:00:00.250Z`, the form Okta's filters document.
pub fn rfc3339_millis_from_unix_ms(ms: u64) -> String {
    let secs = rfc3339_from_unix_secs(ms / 1000);
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), ms % 1000)
}

/// Unix milliseconds of an RFC 3339 UTC timestamp as Okta writes them
/// (`2026-11-28T17:00:00.000Z`, fraction optional); `None` for anything
/// else, which callers treat as "unknown".
pub fn unix_ms_from_rfc3339(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix('z'))?;
    let (date, time) = s.split_once(['T', 't'])?;
    let num = |t: &str, len: usize| -> Option<u64> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let mut d = date.split('-');
    let (y, m, day) = (num(d.next()?, 4)?, num(d.next()?, 2)?, num(d.next()?, 2)?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let (h, min, sec) = (num(t.next()?, 2)?, num(t.next()?, 2)?, num(t.next()?, 2)?);
    if d.next().is_some() || t.next().is_some() || !(1..=12).contains(&m) || day == 0 {
        return None;
    }
    let ms = match frac.len() {
        0 => 0,
        n if frac.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = &frac[..n.min(3)];
            digits.parse::<u64>().ok()? * 10u64.pow(3 - digits.len() as u32)
        }
        _ => return None,
    };
    let days = days_from_civil(y, m, day)?;
    Some(((days * 24 + h) * 60 + min) * 60_000 + sec * 1000 + ms)
}

/// Howard Hinnant's `days_from_civil`, for dates on or after 1970.
fn days_from_civil(y: u64, m: u64, d: u64) -> Option<u64> {
    let y = if m <= 2 { y.checked_sub(1)? } else { y };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// Howard Hinnant's `civil_from_days`, restricted to dates on or after 1970
/// (the clock is unsigned), so all arithmetic stays in `u64`.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339_from_unix_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_from_unix_secs(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            rfc3339_from_unix_secs(1_795_885_200),
            "2026-11-28T17:00:00Z"
        );
        assert_eq!(
            rfc3339_from_unix_ms(4_102_444_799_999),
            "2099-12-31T23:59:59Z"
        );
    }

    #[test]
    fn reads_back_what_it_writes_and_okta_sends() {
        for ms in [0, 951_782_400_000, 1_795_885_200_250, 4_102_444_799_999] {
            assert_eq!(
                unix_ms_from_rfc3339(&rfc3339_millis_from_unix_ms(ms)),
                Some(ms)
            );
        }
        assert_eq!(
            unix_ms_from_rfc3339("2026-11-28T17:00:00Z"),
            Some(1_795_885_200_000)
        );
        for bad in [
            "",
            "2026-11-28",
            "2026-13-01T00:00:00Z",
            "2026-11-28T17:00:00+01:00",
        ] {
            assert_eq!(unix_ms_from_rfc3339(bad), None, "{bad}");
        }
    }
}
