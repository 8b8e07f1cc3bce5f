//! Per-minute request budgets with Okta's `X-Rate-Limit-*` headers, one per
//! endpoint family as Okta keeps them: spending the users listing's budget
//! leaves the groups listing's whole.
//!
//! A window starts at the first request after the previous one ended (not
//! on a wall-clock minute), so tests that spend a budget never straddle a
//! reset by accident.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// What the `X-Rate-Limit-*` headers of one answer say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateHeaders {
    pub limit: u32,
    pub remaining: u32,
    /// Epoch seconds when the window ends.
    pub reset: u64,
}

pub(crate) fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The endpoint family (rate-limit bucket) of a request path.
pub(crate) fn family(path: &str) -> &'static str {
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

#[derive(Debug)]
pub(crate) struct RateLimiter {
    /// The budget of a family without one of its own.
    limit: u32,
    limits: HashMap<&'static str, u32>,
    buckets: HashMap<&'static str, Bucket>,
}

impl RateLimiter {
    pub(crate) fn new(limit: u32) -> Self {
        RateLimiter {
            limit,
            limits: HashMap::new(),
            buckets: HashMap::new(),
        }
    }

    fn limit_of(&self, family: &str) -> u32 {
        self.limits.get(family).copied().unwrap_or(self.limit)
    }

    /// The family's bucket, its window rolled over if it ended.
    fn bucket(&mut self, family: &'static str, now: u64) -> &mut Bucket {
        let b = self.buckets.entry(family).or_default();
        if now >= b.window_end {
            b.used = 0;
            b.window_end = now + 60;
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
    pub(crate) fn peek(&mut self, family: &'static str, now: u64) -> RateHeaders {
        self.headers(family, now)
    }

    /// Spends one request of the family; `Err` when its window's budget is
    /// gone.
    pub(crate) fn acquire(
        &mut self,
        family: &'static str,
        now: u64,
    ) -> Result<RateHeaders, RateHeaders> {
        let limit = self.limit_of(family);
        let b = self.bucket(family, now);
        if b.used >= limit {
            return Err(self.headers(family, now));
        }
        b.used += 1;
        Ok(self.headers(family, now))
    }

    pub(crate) fn set_limit(&mut self, limit: u32) {
        self.limit = limit;
    }

    pub(crate) fn set_family_limit(&mut self, family: &str, limit: u32) {
        let family = ["users", "user", "groups", "group", "group-members", "oidc"]
            .into_iter()
            .find(|f| *f == family)
            .unwrap_or("other");
        self.limits.insert(family, limit);
    }

    /// Starts fresh windows at the next request.
    pub(crate) fn reset(&mut self) {
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
