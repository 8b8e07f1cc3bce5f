//! How one runtime shares the machine between tenants: the limits of each
//! instance, the instance slots reserved up front, and how many operations
//! run at once, in all and per tenant.
//!
//! A **tenant** is one config (compared ignoring case, as config names
//! are); the host's own operations that name no config (listing the
//! configs) count as one more tenant.

use crate::policy::Limits;

/// What an embedder chooses when it builds a [`crate::Runtime`].
///
/// ```
/// use okta_host_runtime::RuntimeOptions;
/// use okta_host_runtime::policy::Limits;
///
/// let options = RuntimeOptions {
///     pool_slots: 200,
///     per_tenant: 2,
///     ..RuntimeOptions::with_limits(Limits::default())
/// };
/// assert_eq!(options.effective_max_concurrent(), 64);
/// ```
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// The limits every instance runs under; `limits.memory_bytes` is also
    /// the size of each pool slot's linear memory.
    pub limits: Limits,
    /// Instances the pooling allocator reserves up front (one operation
    /// holds one instance). Reserving is virtual address space only, about
    /// 4 GiB per slot on 64-bit hosts, not resident memory. `0` allocates
    /// every instance on demand. When the reservation fails (a host with a
    /// small address-space limit), the runtime logs a warning and allocates
    /// on demand; [`crate::Runtime::allocation`] says which one runs.
    pub pool_slots: u32,
    /// Operations running at once over all tenants. With a pool it is at
    /// most `pool_slots`, so an operation waits for a free slot (first come,
    /// first served) instead of failing on a full pool.
    pub max_concurrent: usize,
    /// Operations running at once for one tenant: a tenant's burst (or its
    /// long sync waiting out Okta's rate limit) holds at most this many of
    /// the global slots, and its further operations queue behind its own.
    pub per_tenant: usize,
}

impl RuntimeOptions {
    /// The default sharing (64 slots, 64 at once, 4 per tenant) with these
    /// limits.
    pub fn with_limits(limits: Limits) -> Self {
        RuntimeOptions {
            limits,
            pool_slots: 64,
            max_concurrent: 64,
            per_tenant: 4,
        }
    }

    /// How many operations run at once over all tenants: `max_concurrent`,
    /// no more than the pool's slots when there is a pool, and at least one.
    pub fn effective_max_concurrent(&self) -> usize {
        let cap = if self.pool_slots > 0 {
            self.max_concurrent.min(self.pool_slots as usize)
        } else {
            self.max_concurrent
        };
        cap.max(1)
    }

    /// How many operations of one tenant run at once (at least one).
    pub fn effective_per_tenant(&self) -> usize {
        self.per_tenant.max(1)
    }
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self::with_limits(Limits::default())
    }
}

/// How the runtime allocates instances, as it turned out at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allocation {
    /// From a pool of this many reserved slots.
    Pooling {
        /// Reserved instance slots.
        slots: u32,
    },
    /// Each instance on demand.
    OnDemand {
        /// Why not from a pool: `None` when the embedder asked for no pool,
        /// else why reserving it failed.
        pool_refused: Option<String>,
    },
}
