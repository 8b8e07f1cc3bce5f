//! Runtime fault injection: tests flip these while the server runs.
//!
//! A fault is a [`FaultRule`]: what goes wrong ([`FaultKind`]), on which
//! paths, and for how many requests. Rules are checked in the order they
//! were set; every matching [`FaultKind::Latency`] rule adds its delay, and
//! the first matching rule of any other kind decides the answer.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What goes wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// The token was revoked: 401 `E0000011` "Invalid token provided".
    /// OIDC endpoints take no API token, so they ignore this one.
    RevokeToken,
    /// The token lacks the needed scope or admin role: 403 `E0000006`.
    Forbidden,
    /// The base URL points at some other web server: a 404 HTML page with
    /// none of Okta's headers.
    WrongUrl,
    /// The given status. 500 comes from Okta itself (JSON `E0000009`, Okta
    /// headers); any other status comes from a gateway in front of it
    /// (short HTML page, no Okta headers), as 502/503/504 do in practice.
    Status(u16),
    /// 429 `E0000047` with `X-Rate-Limit-Remaining: 0` and the given
    /// `X-Rate-Limit-Reset` (epoch seconds). The rule lapses by itself once
    /// that moment passes, so a client that honours the reset recovers.
    RateLimited {
        /// Epoch seconds sent as `X-Rate-Limit-Reset`.
        reset_epoch_secs: u64,
    },
    /// 429 from a proxy in front of Okta: a short HTML page with none of
    /// Okta's headers, so no `X-Rate-Limit-Reset` to wait for.
    ProxyRateLimited,
    /// 200 with an HTML body (`Content-Type: text/html`), as a captive
    /// portal or sign-in page would answer.
    NonJson,
    /// The real answer, with its JSON body cut off halfway.
    TruncatedJson,
    /// Waits this long before answering; combines with other rules.
    Latency(Duration),
    /// The answer's headers, then the connection drops mid-body.
    ResetConnection,
    /// The real answer with this `Content-Type` instead of JSON's.
    ContentType(String),
    /// Lists serve `served` items a page whatever the client asked, and
    /// `next` links ask for `advertised`: with `served > advertised` every
    /// page after the first is larger than asked. Combines with other rules
    /// (small pages give the paging faults pages to work on).
    PageSize {
        /// Items actually served per page.
        served: u32,
        /// The `limit` written into `next` links.
        advertised: u32,
    },
    /// Every `next` link points back at the first page: paging never ends
    /// for a client that follows links blindly.
    LinkLoop,
    /// Every `next` cursor starts one item early, so the last item of each
    /// page is also the first of the next: the same user on two pages.
    OverlapPages,
    /// Invalid UTF-8 bytes inside the first `firstName` string of the body.
    InvalidUtf8,
}

/// One fault: a kind, an optional path prefix, and an optional count.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FaultRule {
    /// Only requests whose path starts with this are affected; `None` = all.
    pub path_prefix: Option<String>,
    /// What goes wrong.
    pub kind: FaultKind,
    /// How many more requests this rule affects; `None` = until cleared.
    pub remaining: Option<u32>,
    /// Affect only this many matching requests in 1000, drawn from `seed`.
    pub rate_per_mille: Option<u16>,
    /// State of the rule's deterministic draw (SplitMix64), so a seed
    /// reproduces the same faulty requests run after run.
    pub seed: u64,
}

impl FaultRule {
    /// A rule affecting every request until cleared.
    pub fn new(kind: FaultKind) -> Self {
        FaultRule {
            path_prefix: None,
            kind,
            remaining: None,
            rate_per_mille: None,
            seed: 0,
        }
    }

    /// Affects each matching request with probability `per_mille / 1000`,
    /// drawn deterministically from `seed`.
    pub fn at_rate(mut self, per_mille: u16, seed: u64) -> Self {
        self.rate_per_mille = Some(per_mille.min(1000));
        self.seed = seed;
        self
    }

    /// Whether this matching request is one the rate picks (always, without a rate).
    fn draw(&mut self) -> bool {
        let Some(per_mille) = self.rate_per_mille else {
            return true;
        };
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        z % 1000 < u64::from(per_mille)
    }

    /// Restricts the rule to paths starting with `prefix` (e.g. `/api/v1/groups`).
    pub fn on_path(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = Some(prefix.into());
        self
    }

    /// Limits the rule to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }
}

/// The fault rules, shared between the test and the server.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<FaultRule>>>,
}

/// What the server should do to one request.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub latency: Duration,
    pub kind: Option<FaultKind>,
    /// A [`FaultKind::PageSize`] rule: combines with the others, like latency.
    pub page_size: Option<FaultKind>,
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Vec<FaultRule>> {
        // A panicking test thread must not wedge the server.
        self.rules.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule after the existing ones.
    pub fn set(&self, rule: FaultRule) {
        self.lock().push(rule);
    }

    /// Removes every rule: the org behaves normally again.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The rules still active (counted rules vanish when used up).
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().clone()
    }

    /// Every request gets 401 `E0000011` until [`Faults::clear`].
    pub fn revoke_token(&self) {
        self.set(FaultRule::new(FaultKind::RevokeToken));
    }

    /// Every request gets 403 `E0000006` until cleared.
    pub fn deny_permission(&self) {
        self.set(FaultRule::new(FaultKind::Forbidden));
    }

    /// Every request gets a non-Okta 404 HTML page until cleared.
    pub fn wrong_url(&self) {
        self.set(FaultRule::new(FaultKind::WrongUrl));
    }

    /// The next `n` requests get `status` (see [`FaultKind::Status`]).
    pub fn fail_next(&self, status: u16, n: u32) {
        self.set(FaultRule::new(FaultKind::Status(status)).times(n));
    }

    /// Every request gets `status` until cleared.
    pub fn fail_always(&self, status: u16) {
        self.set(FaultRule::new(FaultKind::Status(status)));
    }

    /// Every request gets 429 `E0000047` until `reset_in` from now.
    pub fn rate_limit_for(&self, reset_in: Duration) {
        let reset_epoch_secs = epoch_secs() + reset_in.as_secs().max(1);
        self.set(FaultRule::new(FaultKind::RateLimited { reset_epoch_secs }));
    }

    /// Every request gets a 200 HTML page until cleared.
    pub fn non_json(&self) {
        self.set(FaultRule::new(FaultKind::NonJson));
    }

    /// Every JSON answer is cut off halfway until cleared.
    pub fn truncated_json(&self) {
        self.set(FaultRule::new(FaultKind::TruncatedJson));
    }

    /// Every request waits `delay` first, until cleared.
    pub fn latency(&self, delay: Duration) {
        self.set(FaultRule::new(FaultKind::Latency(delay)));
    }

    /// Every list serves `served` items a page and advertises `advertised`
    /// in its `next` links (see [`FaultKind::PageSize`]), until cleared.
    pub fn page_size(&self, served: u32, advertised: u32) {
        self.set(FaultRule::new(FaultKind::PageSize { served, advertised }));
    }

    /// Applies the rules to one request, using up counted ones.
    pub(crate) fn decide(&self, path: &str) -> Decision {
        let now = epoch_secs();
        let mut rules = self.lock();
        rules.retain(|r| {
            !matches!(r.kind, FaultKind::RateLimited { reset_epoch_secs } if now >= reset_epoch_secs)
        });
        let mut d = Decision::default();
        for rule in rules.iter_mut() {
            if rule
                .path_prefix
                .as_deref()
                .is_some_and(|p| !path.starts_with(p))
                || !rule.draw()
            {
                continue;
            }
            let used = match &rule.kind {
                FaultKind::Latency(l) => {
                    d.latency += *l;
                    true
                }
                k @ FaultKind::PageSize { .. } if d.page_size.is_none() => {
                    d.page_size = Some(k.clone());
                    true
                }
                k if d.kind.is_none() => {
                    d.kind = Some(k.clone());
                    true
                }
                _ => false,
            };
            if used && let Some(n) = rule.remaining.as_mut() {
                *n = n.saturating_sub(1);
            }
        }
        rules.retain(|r| r.remaining != Some(0));
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_picks_about_that_share_and_a_seed_repeats_the_picks() {
        let picks = |seed| {
            let f = Faults::default();
            f.set(
                FaultRule::new(FaultKind::Status(502))
                    .on_path("/api/v1/users")
                    .at_rate(300, seed),
            );
            (0..1000)
                .map(|_| f.decide("/api/v1/users").kind.is_some())
                .collect::<Vec<_>>()
        };
        let a = picks(7);
        let hits = a.iter().filter(|h| **h).count();
        assert!((250..350).contains(&hits), "{hits} of 1000 at 30 %");
        assert_eq!(a, picks(7), "the same seed picks the same requests");
        assert_ne!(a, picks(8));
    }

    #[test]
    fn counted_rules_expire_and_prefixes_match() {
        let f = Faults::default();
        f.set(
            FaultRule::new(FaultKind::Status(503))
                .on_path("/api/v1/groups")
                .times(2),
        );
        f.set(FaultRule::new(FaultKind::Forbidden).times(1));
        assert_eq!(f.decide("/api/v1/users").kind, Some(FaultKind::Forbidden));
        assert_eq!(f.decide("/api/v1/users").kind, None);
        assert_eq!(
            f.decide("/api/v1/groups").kind,
            Some(FaultKind::Status(503))
        );
        assert_eq!(
            f.decide("/api/v1/groups/x").kind,
            Some(FaultKind::Status(503))
        );
        assert_eq!(f.decide("/api/v1/groups").kind, None);
        assert!(f.rules().is_empty());
    }

    #[test]
    fn latency_adds_up_and_rate_limit_lapses() {
        let f = Faults::default();
        f.latency(Duration::from_millis(5));
        f.set(FaultRule::new(FaultKind::Latency(Duration::from_millis(7))).times(1));
        f.set(FaultRule::new(FaultKind::RateLimited {
            reset_epoch_secs: 1,
        }));
        let d = f.decide("/");
        assert_eq!((d.latency, d.kind), (Duration::from_millis(12), None));
        assert_eq!(f.rules().len(), 1);
    }

    #[test]
    fn hostile_kinds_are_decided_like_the_others() {
        let f = Faults::default();
        f.page_size(5, 3);
        f.set(FaultRule::new(FaultKind::LinkLoop).times(1));
        let d = f.decide("/api/v1/users");
        assert_eq!(d.kind, Some(FaultKind::LinkLoop));
        assert_eq!(
            d.page_size,
            Some(FaultKind::PageSize {
                served: 5,
                advertised: 3
            })
        );
        f.clear();
        f.set(FaultRule::new(FaultKind::LinkLoop).times(1));
        assert_eq!(f.decide("/").kind, Some(FaultKind::LinkLoop));
        assert!(f.rules().is_empty());
    }
}
