//! A per-minute request budget with Okta's `X-Rate-Limit-*` headers.
//!
//! Real Okta keeps one bucket per endpoint family; the fake keeps a single
//! org-wide bucket, which is stricter and so safe for a client to satisfy.
//! The window starts at the first request after the previous one ended (not
//! on a wall-clock minute), so tests that spend a budget never straddle a
//! reset by accident.

use std::time::{SystemTime, UNIX_EPOCH};

/// What the `X-Rate-Limit-*` headers of one answer say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds when the window ends.
    pub reset: u64,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: u32,
    used: u32,
    window_end: u64,
}

pub(crate) fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl RateLimiter {
    pub(crate) fn new(limit: u32) -> Self {
        RateLimiter {
            limit,
            used: 0,
            window_end: 0,
        }
    }

    fn roll(&mut self, now: u64) {
        if now >= self.window_end {
            self.used = 0;
            self.window_end = now + 60;
        }
    }

    fn headers(&self) -> RateHeaders {
        RateHeaders {
            limit: self.limit,
            remaining: self.limit.saturating_sub(self.used),
            reset: self.window_end,
        }
    }

    /// The current state without spending anything (for 401s and faults).
    pub(crate) fn peek(&mut self, now: u64) -> RateHeaders {
        self.roll(now);
        self.headers()
    }

    /// Spends one request; `Err` when the window's budget is gone.
    pub(crate) fn acquire(&mut self, now: u64) -> Result<RateHeaders, RateHeaders> {
        self.roll(now);
        if self.used >= self.limit {
            return Err(self.headers());
        }
        self.used += 1;
        Ok(self.headers())
    }

    pub(crate) fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// Starts a fresh window at the next request.
    pub(crate) fn reset(&mut self) {
        self.used = 0;
        self.window_end = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_window() {
        let mut r = RateLimiter::new(2);
        assert_eq!(r.acquire(100).map(|h| h.remaining), Ok(1));
        assert_eq!(r.acquire(110).map(|h| h.remaining), Ok(0));
        let denied = r.acquire(159).unwrap_err();
        assert_eq!((denied.remaining, denied.reset), (0, 160));
        assert_eq!(r.acquire(160).map(|h| (h.remaining, h.reset)), Ok((1, 220)));
    }
}
