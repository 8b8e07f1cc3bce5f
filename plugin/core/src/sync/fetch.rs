//! Okta GETs for the sync: the rate-limit reserve of each endpoint family,
//! 429s and bounded retries of transient faults, around [`OktaClient`].
//!
//! Nothing here sleeps. A GET that must wait (the reserve, a 429, a retry's
//! backoff) answers [`Halt::Wait`] with the instant it may be sent; the run
//! keeps that instant, its retry counters and the rate-limit state in its
//! checkpoint and returns to the host, which steps again after it. A host's
//! deadline per call then bounds work, never a wait.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::okta_client::{OktaClient, OktaResponse};
use crate::okta_error::{JsonBody, OktaFailure, RateLimit};
use crate::ports::{Clock, Started};
use crate::time::rfc3339_from_unix_ms;

/// Retries of a 5xx, timeout or connection failure, each after twice the
/// previous wait: 1 s, 2 s, 4 s.
pub const TRANSIENT_RETRIES: u32 = 3;
/// First backoff, in ms.
pub const FIRST_BACKOFF_MS: u64 = 1_000;
/// 429s in a row for one request before giving up: each already waited for
/// the window to reset, so more means something else is eating the budget.
pub const RATE_LIMIT_RETRIES: u32 = 5;
/// Margin after `X-Rate-Limit-Reset`, for clock skew between us and Okta.
pub const RESET_MARGIN_MS: u64 = 1_000;
/// Wait when a 429 carries no reset time (Okta windows are a minute).
pub const DEFAULT_RATE_WAIT_MS: u64 = 60_000;

/// An Okta rate-limit bucket: Okta budgets each endpoint family apart, so
/// the sync keeps the headers of each apart and spends each one's reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    /// `GET /api/v1/users` (the listings).
    Users,
    /// `GET /api/v1/users/{id}` and below.
    User,
    /// `GET /api/v1/groups` (the listing).
    Groups,
    /// `GET /api/v1/groups/{id}/users`.
    GroupMembers,
    /// `GET /api/v1/groups/{id}`.
    Group,
    /// Anything else.
    Other,
}

impl Family {
    /// The family of a path or absolute URL (query ignored).
    pub fn of(url: &str) -> Family {
        let rest = match url.find("://") {
            Some(i) => url[i + 3..].find('/').map_or("", |j| &url[i + 3 + j..]),
            None => url,
        };
        let path = rest.split(['?', '#']).next().unwrap_or("");
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segs.as_slice() {
            ["api", "v1", "users"] => Family::Users,
            ["api", "v1", "users", ..] => Family::User,
            ["api", "v1", "groups"] => Family::Groups,
            ["api", "v1", "groups", _, "users"] => Family::GroupMembers,
            ["api", "v1", "groups", ..] => Family::Group,
            _ => Family::Other,
        }
    }

    /// Its key in the checkpoint and its name in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Users => "users",
            Family::User => "user",
            Family::Groups => "groups",
            Family::GroupMembers => "group-members",
            Family::Group => "group",
            Family::Other => "other",
        }
    }
}

/// The last rate-limit headers seen of one family, kept in the checkpoint
/// so that a resumed run still honours them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RateState {
    /// `X-Rate-Limit-Limit`.
    pub limit: Option<u32>,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-Rate-Limit-Reset`, Unix seconds.
    pub reset_at: Option<u64>,
}

impl RateState {
    fn update(&mut self, rl: RateLimit) {
        // Answers without the headers (a proxy's 502) say nothing new.
        if rl.remaining.is_some() {
            *self = RateState {
                limit: rl.limit,
                remaining: rl.remaining,
                reset_at: rl.reset_at,
            };
        }
    }

    /// Whether what is left of the window is the reserve.
    fn in_reserve(&self, reserve_percent: u32) -> bool {
        let (Some(remaining), Some(_)) = (self.remaining, self.reset_at) else {
            return false;
        };
        let limit = u64::from(self.limit.unwrap_or(0));
        let reserve = (limit * u64::from(reserve_percent)).div_ceil(100);
        u64::from(remaining) <= reserve
    }
}

/// Rate-limit state by [`Family::as_str`].
pub type Rates = BTreeMap<String, RateState>;

/// Failed tries of the GET the run is on, kept across steps (and in the
/// checkpoint) so that the bounds hold however the tries are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Retries {
    /// Transient faults in a row.
    pub transient: u32,
    /// 429s in a row.
    pub limited: u32,
}

/// Why a GET gave no page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Halt {
    /// Okta failed in a way retries did not cure.
    Failed(OktaFailure),
    /// Send nothing before `until_ms` (Unix ms), for `reason`.
    Wait {
        /// The instant.
        until_ms: u64,
        /// Why, for an operator.
        reason: String,
    },
}

/// One try of a GET and the rate-limit headers it came with, read ahead of
/// the step that handles it (see [`Fetcher::receive`]).
#[derive(Debug)]
pub struct Attempt<B> {
    /// The answer, or why there is none.
    pub result: Result<OktaResponse<B>, OktaFailure>,
    /// The rate-limit headers of that answer.
    pub rate_limit: RateLimit,
}

/// Sends the sync's GETs through one [`OktaClient`], pacing and retrying.
pub struct Fetcher<'a> {
    client: OktaClient<'a>,
    clock: &'a dyn Clock,
    /// Rate-limit state, read back into the checkpoint after the step.
    pub rates: Rates,
    /// Retry counters, read back into the checkpoint after the step.
    pub retries: Retries,
    reserve_percent: u32,
}

impl<'a> Fetcher<'a> {
    /// A fetcher over `client`, starting from the checkpointed state.
    pub fn new(
        client: OktaClient<'a>,
        clock: &'a dyn Clock,
        rates: Rates,
        retries: Retries,
        reserve_percent: u32,
    ) -> Self {
        Fetcher {
            client,
            clock,
            rates,
            retries,
            reserve_percent,
        }
    }

    /// Requests sent, failed ones included.
    pub fn requests(&self) -> u32 {
        self.client.requests()
    }

    /// GET `next` (a `Link` URL) when given, else the first page `path`:
    /// one try at most, or none when the family's reserve says wait. With
    /// `first`, a try started earlier and read ([`Fetcher::receive`]), that
    /// answer is handled as if it had just come, and nothing is sent.
    pub fn get<B: JsonBody>(
        &mut self,
        path: &str,
        next: Option<&str>,
        first: Option<Attempt<B>>,
    ) -> Result<OktaResponse<B>, Halt> {
        let family = Family::of(next.unwrap_or(path));
        let (result, rate_limit) = match first {
            Some(early) => (early.result, early.rate_limit),
            None => {
                if let Some(until_ms) = self.reserve_wait(family) {
                    return Err(Halt::Wait {
                        until_ms,
                        reason: format!(
                            "the rate-limit reserve of Okta's {} endpoints is reached; their window resets at {}",
                            family.as_str(),
                            rfc3339_from_unix_ms(until_ms)
                        ),
                    });
                }
                let result = self.client.get(next.unwrap_or(path));
                (result, self.client.last_rate_limit())
            }
        };
        // Unchanged after a transport failure, so this only ever learns.
        self.state(family).update(rate_limit);
        let now = self.clock.now_unix_ms();
        match result {
            Ok(resp) => {
                self.retries = Retries::default();
                Ok(resp)
            }
            Err(OktaFailure::RateLimited(rl)) if self.retries.limited < RATE_LIMIT_RETRIES => {
                self.retries.limited += 1;
                self.state(family).remaining = Some(0);
                let (until_ms, when) = match rl.reset_at {
                    Some(reset) => {
                        let at = reset * 1000 + RESET_MARGIN_MS;
                        (
                            at.max(now),
                            format!("its window resets at {}", rfc3339_from_unix_ms(at)),
                        )
                    }
                    None => (
                        now + DEFAULT_RATE_WAIT_MS,
                        "the answer gave no reset time, so the sync waits a minute".to_owned(),
                    ),
                };
                Err(Halt::Wait {
                    until_ms,
                    reason: format!(
                        "Okta rate limit of the {} endpoints (429); {when}",
                        family.as_str()
                    ),
                })
            }
            Err(f) if is_transient(&f) && self.retries.transient < TRANSIENT_RETRIES => {
                let backoff = FIRST_BACKOFF_MS << self.retries.transient;
                self.retries.transient += 1;
                Err(Halt::Wait {
                    until_ms: now + backoff,
                    reason: format!(
                        "retry {} of {TRANSIENT_RETRIES} after a transient failure ({}), in {} s",
                        self.retries.transient,
                        f.kind(),
                        backoff / 1000
                    ),
                })
            }
            Err(f) => Err(Halt::Failed(f)),
        }
    }

    /// Start the GET [`Fetcher::get`] would send for `path` / `next` and
    /// return at once, its answer on the way; `None` (nothing sent) when
    /// the family's reserve would make that GET wait first.
    pub fn start(&mut self, path: &str, next: Option<&str>) -> Option<Started> {
        if self.would_wait(Family::of(next.unwrap_or(path))) {
            return None;
        }
        self.client.start(next.unwrap_or(path))
    }

    /// Read the answer of a GET [`Fetcher::start`]ed, for [`Fetcher::get`]
    /// to handle later. Its rate-limit headers count now, so that a GET
    /// started after it sees the family's budget as it is.
    pub fn receive<B: JsonBody>(&mut self, started: Started) -> Attempt<B> {
        let family = Family::of(&started.request.url);
        let result = self.client.receive(started);
        let rate_limit = self.client.last_rate_limit();
        self.state(family).update(rate_limit);
        Attempt { result, rate_limit }
    }

    /// Of several GETs started, the index of the first whose answer
    /// arrives, waited for; `started` is not empty.
    pub fn first_arrived(&mut self, started: &[&Started]) -> usize {
        self.client.first_arrived(started)
    }

    /// Whether the answer of a GET started has arrived.
    pub fn has_arrived(&mut self, started: &Started) -> bool {
        self.client.has_arrived(started)
    }

    /// How many GETs of `family` may still be sent before its window's
    /// reserve, as its last answer told (the whole budget but the reserve
    /// once that window is over); `None` before any answer of it.
    pub fn headroom(&self, family: Family) -> Option<u32> {
        let s = self.rates.get(family.as_str())?;
        let limit = s.limit?;
        let reserve = (u64::from(limit) * u64::from(self.reserve_percent)).div_ceil(100) as u32;
        let over = s
            .reset_at
            .is_some_and(|r| self.clock.now_unix_ms() >= r * 1000 + RESET_MARGIN_MS);
        let remaining = if over { limit } else { s.remaining? };
        Some(remaining.saturating_sub(reserve))
    }

    fn state(&mut self, family: Family) -> &mut RateState {
        self.rates.entry(family.as_str().to_owned()).or_default()
    }

    /// Whether the GET of `path` / `next` must wait for its family's
    /// reserve before it is sent (or, started early, before it is read).
    pub fn must_wait(&self, path: &str, next: Option<&str>) -> bool {
        self.would_wait(Family::of(next.unwrap_or(path)))
    }

    /// Whether a GET of `family` sent now would first wait for the reserve.
    fn would_wait(&self, family: Family) -> bool {
        self.rates.get(family.as_str()).is_some_and(|s| {
            s.in_reserve(self.reserve_percent)
                && s.reset_at
                    .is_some_and(|r| self.clock.now_unix_ms() < r * 1000 + RESET_MARGIN_MS)
        })
    }

    /// Until when a GET of `family` must wait because what is left of its
    /// window is the reserve; a window that is over is forgotten.
    fn reserve_wait(&mut self, family: Family) -> Option<u64> {
        let reserve = self.reserve_percent;
        let now = self.clock.now_unix_ms();
        let state = self.rates.get_mut(family.as_str())?;
        let reset = state.reset_at?;
        if !state.in_reserve(reserve) {
            return None;
        }
        let until = reset * 1000 + RESET_MARGIN_MS;
        if now < until {
            return Some(until);
        }
        // The headers describe a window that is over now.
        state.remaining = None;
        None
    }
}

/// Faults worth retrying: Okta or the way to it was briefly unwell.
fn is_transient(f: &OktaFailure) -> bool {
    matches!(
        f,
        OktaFailure::ServerError(_) | OktaFailure::Timeout(_) | OktaFailure::ConnectionFailed(_)
    )
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::origin::parse_okta_domain;
    use crate::ports::{Http, HttpRequest, HttpResponse, TransportError};
    use crate::sync::records::{Listing, OktaMember};

    /// Answers every GET with an empty page whose rate-limit headers are
    /// those of the URL's family: the users listing's budget is down to its
    /// reserve, the others' are whole.
    #[derive(Default)]
    struct Budgets {
        sent: Vec<String>,
    }

    impl Http for Budgets {
        fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
            self.sent.push(req.url.clone());
            let remaining = match Family::of(&req.url) {
                Family::Users => "5",
                _ => "600",
            };
            Ok(HttpResponse {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-Rate-Limit-Limit".into(), "600".into()),
                    ("X-Rate-Limit-Remaining".into(), remaining.into()),
                    ("X-Rate-Limit-Reset".into(), "1060".into()),
                ],
                body: b"[]".to_vec(),
            })
        }
    }

    struct At(Cell<u64>);

    impl Clock for At {
        fn now_unix_ms(&self) -> u64 {
            self.0.get()
        }
        fn sleep_ms(&self, _: u64) {
            panic!("the fetcher never sleeps");
        }
    }

    #[test]
    fn each_family_keeps_its_own_reserve() {
        let origin = parse_okta_domain("acme.okta.com", false).unwrap();
        let mut http = Budgets::default();
        let clock = At(Cell::new(1_000_000));
        let client = OktaClient::new(&mut http, &origin, "token");
        let mut f = Fetcher::new(client, &clock, Rates::new(), Retries::default(), 10);
        let page = |r: Result<OktaResponse<Listing<OktaMember>>, Halt>| r.map(|_| ());
        // The users listing answers that only its reserve is left...
        assert_eq!(page(f.get("/api/v1/users?limit=200", None, None)), Ok(()));
        // ...so the next users GET waits for that family's reset,
        match page(f.get("/api/v1/users?limit=200", None, None)) {
            Err(Halt::Wait { until_ms, reason }) => {
                assert_eq!(until_ms, 1_061_000);
                assert!(reason.contains("users"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(f.start("/api/v1/users?limit=200", None).is_none());
        // while the groups and group-members families go on.
        assert_eq!(
            page(f.get("/api/v1/groups?limit=10000", None, None)),
            Ok(())
        );
        assert_eq!(
            page(f.get("/api/v1/groups/00g1/users?limit=1000", None, None)),
            Ok(())
        );
        assert_eq!(f.requests(), 3);
        assert_eq!(f.rates.len(), 3);
        // After the reset, the users family is asked again.
        clock.0.set(1_061_000);
        assert_eq!(page(f.get("/api/v1/users?limit=200", None, None)), Ok(()));
    }

    #[test]
    fn families_follow_okta_buckets() {
        for (url, want) in [
            ("/api/v1/users?limit=200", Family::Users),
            (
                "https://acme.okta.com/api/v1/users?after=x&limit=200",
                Family::Users,
            ),
            ("/api/v1/users/00u1/groups", Family::User),
            ("/api/v1/groups?limit=10000", Family::Groups),
            (
                "https://acme.okta.com/api/v1/groups/00g1/users?limit=1000",
                Family::GroupMembers,
            ),
            ("/api/v1/groups/00g1", Family::Group),
            ("/api/v1/meta/schemas/user/default", Family::Other),
        ] {
            assert_eq!(Family::of(url), want, "{url}");
        }
    }
}
