//! Running plugin operations: admission (a place among the tenant's and
//! the runtime's, see [`crate::options`]), then a fresh instance per
//! operation from an `InstancePre` (from the pool when there is one), a
//! memory cap, an epoch deadline inside wasm plus a wall-clock timeout
//! around everything (epochs do not fire in host calls), and traps turned
//! into errors so the host carries on.
//!
//! Many tenants run at once on the async executor: a guest yields every
//! epoch tick, a host import that waits (an HTTP request, a 429 wait
//! between sync steps) is an await, so a few threads serve every tenant.
//! Time spent waiting for admission does not count against a deadline.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::Linker;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

use crate::admission::{Admission, Admitted};
use crate::backend::Backends;
use crate::bindings::{ContractGap, Plugin, PluginPre};
use crate::interfaces::outbound::Outbound;
use crate::options::{Allocation, RuntimeOptions};
use crate::policy::{EPOCH_TICK, Limits};
use crate::state::{PluginState, Scope};

/// Why the host could not complete a plugin call. Distinct from the
/// plugin's own typed errors, which calls return as values.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The component could not be read, compiled or linked.
    #[error("cannot load the plugin: {0}")]
    Load(String),
    /// The component speaks another contract version.
    #[error("contract mismatch: {detail}")]
    ContractMismatch {
        /// Version the component carries.
        found: String,
        /// Version this harness supports.
        supported: String,
        /// A sentence for the operator.
        detail: String,
    },
    /// The call ran past its deadline and was stopped.
    #[error("the plugin did not finish within {0:?} and was stopped")]
    Deadline(Duration),
    /// The instance asked for more memory than its cap.
    #[error("the plugin exceeded its memory cap of {0} MiB and was stopped")]
    MemoryCap(usize),
    /// The instance trapped (panic, stack overflow, ...).
    #[error("the plugin crashed: {0}")]
    Trap(String),
    /// The host's own store (installations, leases) failed.
    #[error("the host's store failed: {0}")]
    Backend(String),
    /// Another host process is running this config's sync (its run lease).
    #[error("{0}")]
    Busy(String),
    /// The instance pool had no free slot. The runtime admits no more
    /// operations than it has slots, so this means a component needs more
    /// of a slot than the pool reserves (more memories, tables or core
    /// instances): run it with `pool_slots: 0`.
    #[error("the instance pool has no free slot: {0}")]
    PoolExhausted(String),
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker(Arc<AtomicBool>);

impl EpochTicker {
    fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawn the epoch ticker");
        EpochTicker(stop)
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Epoch ticks a guest runs before it yields to the async executor: with
/// many tenants on a few threads, a long step of one (mapping a page of
/// thousands of users) gives the others their turn every few milliseconds.
const YIELD_EVERY_TICKS: u64 = 1;

/// Give the store's next guest call `deadline` of wall time: the guest
/// yields to the executor every [`YIELD_EVERY_TICKS`] and traps with
/// `Interrupt` once the deadline has passed. Time parked in a yield counts,
/// so a call's deadline bounds it whatever the other tenants do.
fn arm_deadline(store: &mut Store<PluginState>, deadline: Duration) {
    let ends = std::time::Instant::now() + deadline;
    store.set_epoch_deadline(YIELD_EVERY_TICKS);
    store.epoch_deadline_callback(move |_| {
        if std::time::Instant::now() >= ends {
            Err(Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::Yield(YIELD_EVERY_TICKS))
        }
    });
}

/// A loaded plugin, ready to run operations, serving one tenant's
/// backends. [`Runtime::for_tenant`] gives another tenant (a platform's
/// customer with data of its own) a handle on the same engine, instance
/// pool and admission caps.
pub struct Runtime {
    shared: Arc<Shared>,
    backends: Backends,
    /// Which tenant's backends these are: admission's per-tenant queues
    /// are keyed by it and the config, so two tenants' configs of one
    /// name do not share a queue.
    tenant: Option<Arc<str>>,
    /// A place taken before this handle was made ([`Runtime::for_tenant_in`]):
    /// its first operation runs in it instead of queueing.
    place: std::sync::Mutex<Option<Admitted>>,
}

/// A place for one operation of a tenant's config among the runtime's
/// ([`Runtime::place`]), taken before the operation's backends are opened
/// and handed to the handle that runs it ([`Runtime::for_tenant_in`]).
/// Dropped unused, it is given back.
pub struct Place(Admitted);

impl std::fmt::Debug for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Place").finish_non_exhaustive()
    }
}

/// What every tenant's handle shares: the compiled plugin, the pool and
/// the caps over all of them.
struct Shared {
    pre: PluginPre,
    limits: Limits,
    from_cache: bool,
    contract_version: String,
    lease_holder: String,
    allocation: Allocation,
    admission: Admission,
    /// How operations connect to their Okta orgs (TLS settings built once;
    /// each operation gets a connection pool of its own from it).
    outbound: Outbound,
    _ticker: EpochTicker,
}

impl Runtime {
    /// Load `wasm` (compiled-component cache in `cache_dir`), check its
    /// contract, link the imports, and pre-instantiate. Every operation's
    /// imports are served by `backends`. The default sharing between
    /// tenants ([`RuntimeOptions::with_limits`]).
    pub fn new(
        wasm: &Path,
        cache_dir: Option<&Path>,
        backends: Backends,
        limits: Limits,
    ) -> Result<Self, HostError> {
        Self::with_options(
            wasm,
            cache_dir,
            backends,
            RuntimeOptions::with_limits(limits),
        )
    }

    /// [`Runtime::new`] with the embedder's choice of instance pool and
    /// concurrency caps.
    pub fn with_options(
        wasm: &Path,
        cache_dir: Option<&Path>,
        backends: Backends,
        options: RuntimeOptions,
    ) -> Result<Self, HostError> {
        let (engine, allocation) = crate::component::engine(&options)?;
        let loaded = crate::component::load(&engine, wasm, cache_dir)?;
        let mut linker = Linker::new(&engine);
        crate::interfaces::add_to_linker(&mut linker)
            .map_err(|e| HostError::Load(format!("{e:#}")))?;
        let pre =
            PluginPre::new(&linker, &loaded.component, &loaded.contract_version).map_err(|e| {
                HostError::Load(format!(
                    "the component's imports do not match the contract: {e:#}"
                ))
            })?;
        Ok(Runtime {
            shared: Arc::new(Shared {
                pre,
                admission: Admission::new(
                    options.effective_max_concurrent(),
                    options.effective_per_tenant(),
                ),
                allocation,
                outbound: Outbound::new(options.limits.request_timeout),
                limits: options.limits,
                from_cache: loaded.from_cache,
                contract_version: loaded.contract_version,
                lease_holder: format!("pid{}-{:016x}", std::process::id(), rand::random::<u64>()),
                _ticker: EpochTicker::start(engine),
            }),
            backends,
            tenant: None,
            place: Default::default(),
        })
    }

    /// A handle for `tenant`, whose imports `backends` serve, on this
    /// runtime's engine, instance pool and caps: a platform hosting many
    /// customers keeps each one's directory, storage and secrets apart
    /// and still compiles the plugin once. `tenant` names the customer
    /// (its per-tenant admission queue is its own); the handle is cheap,
    /// and may be made for each operation.
    pub fn for_tenant(&self, tenant: &str, backends: Backends) -> Runtime {
        Runtime {
            shared: self.shared.clone(),
            backends,
            tenant: Some(tenant.into()),
            place: Default::default(),
        }
    }

    /// Wait for a place for one operation of `tenant`'s `config`, in its
    /// queue and then the runtime's, as the operation itself would wait.
    /// A platform with many customers takes the place first and opens the
    /// customer's backends (its database connection) only then: a
    /// thousand operations queued for a few places would otherwise hold a
    /// thousand open connections, and the threads that opened them, while
    /// they wait. Pass it to [`Runtime::for_tenant_in`].
    pub async fn place(&self, tenant: &str, config: &str) -> Place {
        Place(
            self.shared
                .admission
                .admit(Some(tenant), Some(config))
                .await,
        )
    }

    /// [`Runtime::for_tenant`] whose next operation runs in `place` without
    /// queueing again, and gives it back when it ends. A place taken for
    /// another tenant or config is given back at once, and the operation
    /// queues as usual. An operation refused before it reaches the plugin
    /// (a config not installed, a run lease held elsewhere) leaves the
    /// place with the handle until the handle is dropped: make the handle
    /// for one operation and drop it after.
    pub fn for_tenant_in(&self, tenant: &str, backends: Backends, place: Place) -> Runtime {
        let rt = self.for_tenant(tenant, backends);
        *rt.place.lock().unwrap_or_else(|p| p.into_inner()) = Some(place.0);
        rt
    }

    /// The backends behind the imports.
    pub fn backends(&self) -> &Backends {
        &self.backends
    }

    /// This runtime's id as a run-lease holder: unique per process and
    /// runtime, so two runtimes never share a lease.
    pub fn lease_holder(&self) -> &str {
        &self.shared.lease_holder
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    /// How instances are allocated: from the pool, or on demand (and why).
    pub fn allocation(&self) -> &Allocation {
        &self.shared.allocation
    }

    /// Operations that could start now over all tenants (a gauge for the
    /// platform's metrics).
    pub fn free_places(&self) -> usize {
        self.shared.admission.free()
    }

    /// Whether the compiled component came from the on-disk cache.
    pub fn loaded_from_cache(&self) -> bool {
        self.shared.from_cache
    }

    /// The contract version the component was built against.
    pub fn contract_version(&self) -> &str {
        &self.shared.contract_version
    }

    /// Run one operation in a fresh instance, once its tenant (the scope's
    /// config) and the runtime have a place for it. `f` gets the store and
    /// the instance; the instance is dropped afterwards whatever happened.
    pub async fn call<R>(
        &self,
        scope: Scope,
        f: impl AsyncFnOnce(&mut Store<PluginState>, &Plugin) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        self.call_within(scope, self.shared.limits.call_deadline, f)
            .await
    }

    /// [`Runtime::call`] for an operation of many calls (a sync run): the
    /// whole operation gets `overall`; `f` gives each call its own deadline
    /// with [`Runtime::guard_step`].
    pub async fn call_within<R>(
        &self,
        scope: Scope,
        overall: Duration,
        f: impl AsyncFnOnce(&mut Store<PluginState>, &Plugin) -> wasmtime::Result<R>,
    ) -> Result<R, HostError> {
        let shared = &self.shared;
        let (tenant, config) = (self.tenant.as_deref(), scope.config.as_deref());
        let held = self.place.lock().unwrap_or_else(|p| p.into_inner()).take();
        let _admitted = match held {
            Some(place) if place.is_for(tenant, config) => place,
            other => {
                drop(other);
                shared.admission.admit(tenant, config).await
            }
        };
        let state = PluginState::with_outbound(
            self.backends.clone(),
            scope,
            shared.limits.memory_bytes,
            shared.limits.request_timeout,
            shared.outbound.clone(),
        );
        let mut store = Store::new(shared.pre.engine(), state);
        store.limiter(|s| &mut s.memory);
        arm_deadline(&mut store, shared.limits.call_deadline);
        let outcome = {
            let run = async {
                let plugin = shared.pre.instantiate_async(&mut store).await?;
                f(&mut store, &plugin).await
            };
            // The epoch deadline stops guest code; this stops a call stuck in
            // a host import (a slow Okta) where epochs are not checked.
            tokio::time::timeout(overall + EPOCH_TICK * 10, run).await
        };
        match outcome {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.classify(e, &store)),
            Err(_) => Err(HostError::Deadline(overall)),
        }
    }

    /// Give one call of a multi-call operation the per-call deadline: the
    /// epoch deadline is reset, and the wall clock bounds time in host calls.
    pub async fn guard_step<R>(
        &self,
        store: &mut Store<PluginState>,
        step: impl AsyncFnOnce(&mut Store<PluginState>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let deadline = self.shared.limits.call_deadline;
        arm_deadline(store, deadline);
        match tokio::time::timeout(deadline + EPOCH_TICK * 10, step(store)).await {
            Ok(r) => r,
            Err(_) => Err(wasmtime::Trap::Interrupt.into()),
        }
    }

    fn classify(&self, e: wasmtime::Error, store: &Store<PluginState>) -> HostError {
        if store.data().memory_cap_hit() {
            return HostError::MemoryCap(self.shared.limits.memory_bytes >> 20);
        }
        // The host's own refusals inside an operation (a lost run lease)
        // come back as they were raised.
        let e = match e.downcast::<HostError>() {
            Ok(host) => return host,
            Err(e) => e,
        };
        if e.chain()
            .any(|c| c.is::<wasmtime::PoolConcurrencyLimitError>())
        {
            return HostError::PoolExhausted(format!("{e:#}"));
        }
        if let Some(gap) = e.downcast_ref::<ContractGap>() {
            return HostError::ContractMismatch {
                found: self.shared.contract_version.clone(),
                supported: crate::bindings::CONTRACT_VERSION.into(),
                detail: gap.to_string(),
            };
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => HostError::Deadline(self.shared.limits.call_deadline),
            Some(Trap::StackOverflow) => HostError::Trap("stack overflow".into()),
            // Rust guests keep their stack in linear memory: overflowing it
            // runs below address 0 rather than hitting wasm's own stack limit.
            Some(Trap::MemoryOutOfBounds) => HostError::Trap(
                "out-of-bounds memory access (a stack overflow or memory corruption in the plugin)"
                    .into(),
            ),
            Some(Trap::UnreachableCodeReached) => {
                HostError::Trap("the plugin panicked or aborted".into())
            }
            Some(t) => HostError::Trap(t.to_string()),
            None => HostError::Trap(format!("{e:#}")),
        }
    }
}
