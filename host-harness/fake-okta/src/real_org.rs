//! How a real org answers besides its data: every request takes time
//! ([`Latency`], fixed plus jitter), and only so many may be in flight at
//! once across the whole org ([`ConcurrencyLimit`]), beyond which Okta
//! answers 429 `E0000047` with the concurrent limit in its
//! `X-Rate-Limit-*` headers. Both are off by default, so tests stay fast.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Time Okta takes to answer each request: `fixed` plus a uniform draw in
/// `0..=jitter`, from a seeded RNG so runs repeat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    /// Added to every request.
    pub fixed: Duration,
    /// Upper bound of the random part.
    pub jitter: Duration,
}

impl Latency {
    /// `fixed_ms` plus up to `jitter_ms` per request.
    pub fn ms(fixed_ms: u64, jitter_ms: u64) -> Self {
        Latency {
            fixed: Duration::from_millis(fixed_ms),
            jitter: Duration::from_millis(jitter_ms),
        }
    }
}

/// The latency in force and the RNG its jitter is drawn from.
pub(crate) struct LatencyDraw {
    latency: Latency,
    rng: ChaCha8Rng,
}

impl LatencyDraw {
    pub(crate) fn new(latency: Latency, seed: u64) -> Self {
        LatencyDraw {
            latency,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x6c61_7465_6e63_7900),
        }
    }

    pub(crate) fn set(&mut self, latency: Latency) {
        self.latency = latency;
    }

    /// This request's delay.
    pub(crate) fn draw(&mut self) -> Duration {
        let jitter = self.latency.jitter.as_micros() as u64;
        let extra = if jitter == 0 {
            0
        } else {
            self.rng.random_range(0..=jitter)
        };
        self.latency.fixed + Duration::from_micros(extra)
    }
}

/// Requests in flight across the org, against a limit (0: none).
#[derive(Debug, Default)]
pub(crate) struct ConcurrencyLimit {
    limit: AtomicU32,
    in_flight: Arc<AtomicU32>,
}

/// One request's place among those in flight, given back when dropped.
pub(crate) struct Slot(Arc<AtomicU32>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ConcurrencyLimit {
    pub(crate) fn new(limit: u32) -> Self {
        ConcurrencyLimit {
            limit: AtomicU32::new(limit),
            in_flight: Arc::default(),
        }
    }

    pub(crate) fn set(&self, limit: u32) {
        self.limit.store(limit, Ordering::Release);
    }

    /// A place for one more request, or `Err(limit)` when `limit` are
    /// already in flight (the refused request takes none).
    pub(crate) fn enter(&self) -> Result<Slot, u32> {
        let now = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        let slot = Slot(self.in_flight.clone());
        let limit = self.limit.load(Ordering::Acquire);
        if limit != 0 && now > limit {
            return Err(limit);
        }
        Ok(slot)
    }

    /// Requests in flight now.
    pub(crate) fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_bounds_and_repeats() {
        let mut a = LatencyDraw::new(Latency::ms(100, 20), 7);
        let mut b = LatencyDraw::new(Latency::ms(100, 20), 7);
        let draws: Vec<Duration> = (0..200).map(|_| a.draw()).collect();
        assert!(
            draws
                .iter()
                .all(|d| (Duration::from_millis(100)..=Duration::from_millis(120)).contains(d))
        );
        assert!(draws.iter().any(|d| *d != draws[0]), "jitter varies");
        assert_eq!(draws, (0..200).map(|_| b.draw()).collect::<Vec<_>>());
    }

    #[test]
    fn the_request_beyond_the_limit_is_refused_and_takes_no_place() {
        let c = ConcurrencyLimit::new(2);
        let first = c.enter().expect("first");
        let _second = c.enter().expect("second");
        assert_eq!(c.enter().err(), Some(2));
        assert_eq!(c.in_flight(), 2);
        drop(first);
        assert!(c.enter().is_ok());
    }
}
