//! Okta GETs for the sync: the rate-limit reserve, waiting out 429s, and
//! bounded retries of transient faults, around [`OktaClient`].

use serde::{Deserialize, Serialize};

use crate::okta_client::{OktaClient, OktaResponse};
use crate::okta_error::{JsonBody, OktaFailure, RateLimit};
use crate::ports::Clock;

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

/// The last rate-limit headers seen, kept in the checkpoint so that a
/// resumed run still honours them.
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
}

/// One try of a GET and the rate-limit headers it came with, sent ahead of
/// the step that handles it (see [`Fetcher::attempt`]).
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
    pub rate: RateState,
    reserve_percent: u32,
}

impl<'a> Fetcher<'a> {
    /// A fetcher over `client`, starting from the checkpointed `rate`.
    pub fn new(
        client: OktaClient<'a>,
        clock: &'a dyn Clock,
        rate: RateState,
        reserve_percent: u32,
    ) -> Self {
        Fetcher {
            client,
            clock,
            rate,
            reserve_percent,
        }
    }

    /// Requests sent, retries included.
    pub fn requests(&self) -> u32 {
        self.client.requests()
    }

    /// GET `next` (a `Link` URL) when given, else the first page `path`.
    pub fn get<B: JsonBody>(
        &mut self,
        path: &str,
        next: Option<&str>,
    ) -> Result<OktaResponse<B>, OktaFailure> {
        self.get_after(path, next, None)
    }

    /// [`Fetcher::get`] whose first try was sent earlier ([`Fetcher::attempt`]):
    /// its answer is handled as if it had just come, then retried as usual.
    pub fn get_after<B: JsonBody>(
        &mut self,
        path: &str,
        next: Option<&str>,
        mut first: Option<Attempt<B>>,
    ) -> Result<OktaResponse<B>, OktaFailure> {
        let mut transient = 0;
        let mut limited = 0;
        loop {
            let (result, rate_limit) = match first.take() {
                Some(early) => (early.result, early.rate_limit),
                None => {
                    self.wait_for_budget();
                    let result = self.send(path, next);
                    (result, self.client.last_rate_limit())
                }
            };
            // Unchanged after a transport failure, so this only ever learns.
            self.rate.update(rate_limit);
            match result {
                Ok(resp) => return Ok(resp),
                Err(OktaFailure::RateLimited(rl)) if limited < RATE_LIMIT_RETRIES => {
                    limited += 1;
                    self.rate.remaining = Some(0);
                    let wait = match rl.reset_at {
                        Some(reset) => self.until(reset),
                        None => DEFAULT_RATE_WAIT_MS,
                    };
                    self.clock.sleep_ms(wait);
                }
                Err(f) if is_transient(&f) && transient < TRANSIENT_RETRIES => {
                    self.clock.sleep_ms(FIRST_BACKOFF_MS << transient);
                    transient += 1;
                }
                Err(f) => return Err(f),
            }
        }
    }

    /// The first try of [`Fetcher::get`], sent now and handled later by
    /// [`Fetcher::get_after`]; `None` (nothing sent) when the rate-limit
    /// reserve would make that GET wait first.
    pub fn attempt<B: JsonBody>(&mut self, path: &str, next: Option<&str>) -> Option<Attempt<B>> {
        if self.must_wait() {
            return None;
        }
        let result = self.send(path, next);
        Some(Attempt {
            result,
            rate_limit: self.client.last_rate_limit(),
        })
    }

    fn send<B: JsonBody>(
        &mut self,
        path: &str,
        next: Option<&str>,
    ) -> Result<OktaResponse<B>, OktaFailure> {
        match next {
            Some(url) => self.client.get_url_as(url),
            None => self.client.get_as(path),
        }
    }

    /// Start the GET [`Fetcher::get`] would send first for `path` / `next`
    /// without waiting for it (see [`crate::ports::Http::prefetch`]); nothing
    /// when the rate-limit reserve would make that GET wait first.
    pub fn prefetch(&mut self, path: &str, next: Option<&str>) {
        if self.must_wait() {
            return;
        }
        match next {
            Some(url) => self.client.prefetch_url(url),
            None => self.client.prefetch(path),
        }
    }

    /// Whether what is left of the window is the reserve.
    fn must_wait(&self) -> bool {
        let (Some(remaining), Some(_)) = (self.rate.remaining, self.rate.reset_at) else {
            return false;
        };
        let limit = u64::from(self.rate.limit.unwrap_or(0));
        let reserve = (limit * u64::from(self.reserve_percent)).div_ceil(100);
        u64::from(remaining) <= reserve
    }

    /// Milliseconds until just after `reset` (Unix seconds).
    fn until(&self, reset: u64) -> u64 {
        (reset * 1000 + RESET_MARGIN_MS).saturating_sub(self.clock.now_unix_ms())
    }

    /// Sleep until the window resets when what is left is the reserve.
    fn wait_for_budget(&mut self) {
        let Some(reset) = self.rate.reset_at else {
            return;
        };
        if self.must_wait() {
            let wait = self.until(reset);
            if wait > 0 {
                self.clock.sleep_ms(wait);
            }
            // The headers describe a window that is over now.
            self.rate.remaining = None;
        }
    }
}

/// Faults worth retrying: Okta or the way to it was briefly unwell.
fn is_transient(f: &OktaFailure) -> bool {
    matches!(
        f,
        OktaFailure::ServerError(_) | OktaFailure::Timeout(_) | OktaFailure::ConnectionFailed(_)
    )
}
