//! How busy the one connection's lock is: every call of the fake Infraon
//! takes it, so with many tenants it is what they queue on, and the bench
//! reports its share of the time rather than leaving it to a profiler.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::checkpoint::Checkpointer;

/// Totals since the Infraon was opened (see [`crate::Infraon::lock_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LockStats {
    /// Times the lock was taken.
    pub taken: u64,
    /// Time it was held, summed over every holder.
    pub held: Duration,
    /// Time callers waited for it, summed over every waiter (several wait
    /// at once, so this can exceed the wall time).
    pub waited: Duration,
}

impl LockStats {
    /// What happened between `earlier` and `self`.
    pub fn since(&self, earlier: &LockStats) -> LockStats {
        LockStats {
            taken: self.taken.saturating_sub(earlier.taken),
            held: self.held.saturating_sub(earlier.held),
            waited: self.waited.saturating_sub(earlier.waited),
        }
    }

    /// Both totals together (two Infraons' locks, summed).
    pub fn plus(&self, other: &LockStats) -> LockStats {
        LockStats {
            taken: self.taken + other.taken,
            held: self.held + other.held,
            waited: self.waited + other.waited,
        }
    }
}

/// The counters behind [`LockStats`], in nanoseconds.
#[derive(Debug, Default)]
pub(crate) struct LockCounters {
    taken: AtomicU64,
    held_ns: AtomicU64,
    waited_ns: AtomicU64,
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl LockCounters {
    /// Take `lock`, counting the wait, recovering from a poisoned lock (a
    /// panic mid-call has already rolled back its transaction when its
    /// guard dropped, so the connection is still consistent).
    pub(crate) fn take<'a>(
        &'a self,
        lock: &'a Mutex<Connection>,
        checkpointer: Option<&'a Checkpointer>,
    ) -> ConnGuard<'a> {
        let asked = Instant::now();
        let guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        let since = Instant::now();
        self.waited_ns
            .fetch_add(nanos(since - asked), Ordering::Relaxed);
        self.taken.fetch_add(1, Ordering::Relaxed);
        ConnGuard {
            guard,
            since,
            counters: self,
            checkpointer,
        }
    }

    pub(crate) fn snapshot(&self) -> LockStats {
        LockStats {
            taken: self.taken.load(Ordering::Relaxed),
            held: Duration::from_nanos(self.held_ns.load(Ordering::Relaxed)),
            waited: Duration::from_nanos(self.waited_ns.load(Ordering::Relaxed)),
        }
    }
}

/// The connection while its lock is held; the time held is counted when
/// it is dropped.
pub(crate) struct ConnGuard<'a> {
    guard: MutexGuard<'a, Connection>,
    since: Instant,
    counters: &'a LockCounters,
    /// Told when the call is over, to checkpoint a log it left large.
    checkpointer: Option<&'a Checkpointer>,
}

impl Deref for ConnGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.guard
    }
}

impl DerefMut for ConnGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.guard
    }
}

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.counters
            .held_ns
            .fetch_add(nanos(self.since.elapsed()), Ordering::Relaxed);
        if let Some(checkpointer) = self.checkpointer {
            checkpointer.after_call();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn holding_and_waiting_are_counted() {
        let lock = Arc::new(Mutex::new(Connection::open_in_memory().unwrap()));
        let counters = Arc::new(LockCounters::default());
        let held = counters.take(&lock, None);
        let (l, c) = (lock.clone(), counters.clone());
        let waiter = std::thread::spawn(move || drop(c.take(&l, None)));
        std::thread::sleep(Duration::from_millis(50));
        drop(held);
        waiter.join().unwrap();
        let stats = counters.snapshot();
        assert_eq!(stats.taken, 2);
        assert!(stats.held >= Duration::from_millis(50), "{stats:?}");
        assert!(stats.waited >= Duration::from_millis(40), "{stats:?}");
        let later = LockStats { taken: 5, ..stats };
        assert_eq!(later.since(&stats).taken, 3);
    }
}
