//! Timestamps for mutations: wall clock or pinned, but always increasing.

use chrono::{DateTime, SecondsFormat, Utc};

/// Epoch milliseconds.
pub(crate) type Millis = i64;

/// Hands out strictly increasing timestamps, so every mutation is visible to
/// a `lastUpdated gt "<previous high-water mark>"` filter even when two happen
/// within the same millisecond or the clock is pinned.
#[derive(Debug)]
pub(crate) struct Clock {
    pinned: Option<Millis>,
    /// A caller's own (virtual) time: every stamp is exactly it, as a test
    /// that keeps its own clock expects.
    exact: Option<Millis>,
    last: Millis,
}

impl Clock {
    pub(crate) fn new(last: Millis) -> Self {
        Clock {
            pinned: None,
            exact: None,
            last,
        }
    }

    pub(crate) fn tick(&mut self) -> Millis {
        if let Some(at) = self.exact {
            self.last = self.last.max(at);
            return at;
        }
        let base = self.pinned.unwrap_or_else(|| Utc::now().timestamp_millis());
        self.last = base.max(self.last + 1);
        self.last
    }

    pub(crate) fn set_exact(&mut self, at: Millis) {
        self.exact = Some(at);
    }

    pub(crate) fn pin(&mut self, at: Option<DateTime<Utc>>) {
        self.pinned = at.map(|t| t.timestamp_millis());
    }
}

/// Okta's timestamp shape: `2026-01-02T03:04:05.000Z`.
pub(crate) fn fmt(ms: Millis) -> String {
    to_dt(ms).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// [`fmt`] written as a JSON string without a `String` of its own: a list
/// page writes five of these per user, and the allocation and chrono's
/// formatter were a share of the fake's CPU worth sparing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp(pub(crate) Millis);

impl serde::Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use chrono::{Datelike, Timelike};
        let t = to_dt(self.0);
        let Ok(year) = u32::try_from(t.year()) else {
            return s.serialize_str(&fmt(self.0));
        };
        if year > 9999 {
            return s.serialize_str(&fmt(self.0));
        }
        let mut b = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut n: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, t.month());
        put(8, 2, t.day());
        put(11, 2, t.hour());
        put(14, 2, t.minute());
        put(17, 2, t.second());
        put(20, 3, t.timestamp_subsec_millis().min(999));
        s.serialize_str(std::str::from_utf8(&b).expect("ASCII digits"))
    }
}

pub(crate) fn to_dt(ms: Millis) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub(crate) fn fmt_opt(ms: Option<Millis>) -> serde_json::Value {
    ms.map_or(serde_json::Value::Null, |m| fmt(m).into())
}

/// Parses a filter literal; Okta accepts any RFC 3339 offset.
pub(crate) fn parse(s: &str) -> Option<Millis> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_writes_what_fmt_writes() {
        let mut at: Millis = -62_135_596_800_000; // 0001-01-01
        let step = 7_919_999_321; // some 92 days less a bit: every field moves
        while at < 253_402_300_800_000 + 10 * step {
            let want = serde_json::Value::String(fmt(at)).to_string();
            assert_eq!(serde_json::to_string(&Stamp(at)).unwrap(), want, "{at}");
            at += step;
        }
        for at in [0, 999, 1_000, 1_767_225_599_999, -1] {
            let want = serde_json::Value::String(fmt(at)).to_string();
            assert_eq!(serde_json::to_string(&Stamp(at)).unwrap(), want, "{at}");
        }
    }
}
