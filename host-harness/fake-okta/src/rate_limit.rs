//! Per-minute request budgets with Okta's `X-Rate-Limit-*` headers, one per
//! endpoint family as Okta keeps them: spending the users listing's budget
//! leaves the groups listing's whole.
//!
//! A window starts at the first request after the previous one ended (not
//! on a wall-clock minute), so tests that spend a budget never straddle a
//! reset by accident; [`RateLimiter::on_the_minute`] gives windows that
//! start on each minute instead, for a caller whose clock is its own.
//!
//! Pure: time is passed in (epoch seconds), so an in-memory client can run
//! it on a virtual clock.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the `X-Rate-Limit-*` headers of one answer say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateHeaders {
    /// `X-Rate-Limit-Limit`: the window's budget.
    pub limit: u32,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: u32,
    /// `X-Rate-Limit-Reset`: epoch seconds when the window ends.
    pub reset: u64,
}

pub(crate) fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The endpoint family (rate-limit bucket) of a request path.
pub fn family(path: &str) -> &'static str {
    if crate::oidc::is_oidc_path(path) {
        return "oidc";
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        ["api", "v1", "users"] => "users",
        ["api", "v1", "users", ..] => "user",
        ["api", "v1", "groups"] => "groups",
        ["api", "v1", "groups", _, "users"] => "group-members",
        ["api", "v1", "groups", ..] => "group",
        _ => "other",
    }
}

#[derive(Debug, Default)]
struct Bucket {
    used: u32,
    window_end: u64,
}

/// Per-minute budgets by endpoint family (any name; [`family`] gives
/// Okta's for a path).
#[derive(Debug)]
pub struct RateLimiter {
    /// The budget of a family without one of its own.
    limit: u32,
    /// Windows start on each minute rather than at a first request.
    on_the_minute: bool,
    limits: HashMap<&'static str, u32>,
    buckets: HashMap<&'static str, Bucket>,
}

impl RateLimiter {
    /// `limit` requests a window for every family; a window starts at the
    /// first request after the previous one ended.
    pub fn new(limit: u32) -> Self {
        RateLimiter {
            limit,
            on_the_minute: false,
            limits: HashMap::new(),
            buckets: HashMap::new(),
        }
    }

    /// Like [`RateLimiter::new`], with windows that start on each minute
    /// (`:00` to `:59`), as a virtual clock's tests count them.
    pub fn on_the_minute(limit: u32) -> Self {
        RateLimiter {
            on_the_minute: true,
            ..RateLimiter::new(limit)
        }
    }

    fn limit_of(&self, family: &str) -> u32 {
        self.limits.get(family).copied().unwrap_or(self.limit)
    }

    /// The family's bucket, its window rolled over if it ended.
    fn bucket(&mut self, family: &'static str, now: u64) -> &mut Bucket {
        let start = if self.on_the_minute {
            now - now % 60
        } else {
            now
        };
        let b = self.buckets.entry(family).or_default();
        if now >= b.window_end {
            b.used = 0;
            b.window_end = start + 60;
        }
        b
    }

    fn headers(&mut self, family: &'static str, now: u64) -> RateHeaders {
        let limit = self.limit_of(family);
        let b = self.bucket(family, now);
        RateHeaders {
            limit,
            remaining: limit.saturating_sub(b.used),
            reset: b.window_end,
        }
    }

    /// The family's state without spending anything (for 401s and faults).
    pub fn peek(&mut self, family: &'static str, now: u64) -> RateHeaders {
        self.headers(family, now)
    }

    /// Spends one request of the family; `Err` when its window's budget is
    /// gone.
    pub fn acquire(&mut self, family: &'static str, now: u64) -> Result<RateHeaders, RateHeaders> {
        let limit = self.limit_of(family);
        let b = self.bucket(family, now);
        if b.used >= limit {
            return Err(self.headers(family, now));
        }
        b.used += 1;
        Ok(self.headers(family, now))
    }

    /// The budget of every family without one of its own.
    pub fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    /// One family's budget.
    pub fn set_family_limit(&mut self, family: &str, limit: u32) {
        let family = ["users", "user", "groups", "group", "group-members", "oidc"]
            .into_iter()
            .find(|f| *f == family)
            .unwrap_or("other");
        self.limits.insert(family, limit);
    }

    /// Starts fresh windows at the next request.
    pub fn reset(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_and_window() {
        let mut r = RateLimiter::new(2);
        assert_eq!(r.acquire("users", 100).map(|h| h.remaining), Ok(1));
        assert_eq!(r.acquire("users", 110).map(|h| h.remaining), Ok(0));
        let denied = r.acquire("users", 159).unwrap_err();
        assert_eq!((denied.remaining, denied.reset), (0, 160));
        assert_eq!(
            r.acquire("users", 160).map(|h| (h.remaining, h.reset)),
            Ok((1, 220))
        );
    }

    #[test]
    fn windows_on_the_minute() {
        let mut r = RateLimiter::on_the_minute(1);
        assert_eq!(r.acquire("users", 130).map(|h| h.reset), Ok(180));
        assert_eq!(r.acquire("users", 179).unwrap_err().reset, 180);
        assert_eq!(r.acquire("users", 180).map(|h| h.reset), Ok(240));
    }

    #[test]
    fn families_have_their_own_budgets() {
        let mut r = RateLimiter::new(1);
        r.set_family_limit("group-members", 3);
        assert!(r.acquire("users", 100).is_ok());
        assert!(r.acquire("users", 100).is_err());
        assert_eq!(r.acquire("groups", 100).map(|h| h.limit), Ok(1));
        for left in [2, 1, 0] {
            assert_eq!(
                r.acquire("group-members", 100).map(|h| h.remaining),
                Ok(left)
            );
        }
        assert!(r.acquire("group-members", 100).is_err());
        assert_eq!(family("/api/v1/groups/00g1/users"), "group-members");
        assert_eq!(family("/api/v1/users/00u1/groups"), "user");
        assert_eq!(family("/api/v1/meta/schemas/user/default"), "other");
    }
}
