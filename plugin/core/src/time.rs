//! RFC 3339 formatting without a date crate: only UTC output is needed.

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
}
