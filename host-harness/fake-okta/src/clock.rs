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
