//! The data of one plugin instance's store: WASI contexts, the egress guard,
//! the memory cap, and the backends the imports write to.

use std::time::Duration;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::backend::Backends;
use crate::interfaces::outbound::Outbound;
use crate::policy::Origin;

/// Who an operation runs for: tags log lines and scopes egress.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The config being served, when the operation concerns one.
    pub config: Option<String>,
    /// The one origin the plugin may reach during this operation.
    pub allowed_origin: Option<Origin>,
}

/// Store data of one plugin instance.
pub struct PluginState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) egress: crate::interfaces::http::EgressGuard,
    pub(crate) memory: MemoryCap,
    pub(crate) backends: Backends,
    pub(crate) scope: Scope,
    /// Table reps of the directory batches started and not yet finished
    /// or dropped (see `interfaces::directory`).
    pub(crate) pending_batches: Vec<u32>,
    /// The thread writing this operation's directory batches, once one
    /// was started.
    pub(crate) batch_writer: Option<crate::interfaces::directory::BatchWriter>,
}

impl PluginState {
    /// A state with no filesystem, no environment, no sockets: the plugin
    /// reaches the world only through the imports of its contract.
    pub fn new(
        backends: Backends,
        scope: Scope,
        memory_bytes: usize,
        request_timeout: Duration,
    ) -> Self {
        Self::with_outbound(
            backends,
            scope,
            memory_bytes,
            request_timeout,
            Outbound::new(request_timeout),
        )
    }

    /// [`PluginState::new`] connecting as `outbound` says (the runtime's,
    /// built once); the state's HTTP goes out on a pool of its own, closed
    /// with it.
    pub fn with_outbound(
        backends: Backends,
        scope: Scope,
        memory_bytes: usize,
        request_timeout: Duration,
        outbound: Outbound,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let egress = crate::interfaces::http::EgressGuard::new(
            scope.allowed_origin.clone(),
            scope.config.clone(),
            request_timeout,
            backends.log.clone(),
            outbound,
        );
        PluginState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            egress,
            memory: MemoryCap {
                max_bytes: memory_bytes,
                hit: false,
            },
            backends,
            scope,
            pending_batches: Vec::new(),
            batch_writer: None,
        }
    }

    /// Directory batches started and not yet finished or dropped.
    pub fn unfinished_batches(&self) -> usize {
        self.pending_batches.len()
    }

    /// Whether the instance was refused memory beyond its cap.
    pub fn memory_cap_hit(&self) -> bool {
        self.memory.hit
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for PluginState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.egress,
        }
    }
}

/// A linear-memory cap that remembers it refused a growth, so a trap that
/// follows (the guest's allocator aborts) is reported as "memory cap".
pub struct MemoryCap {
    max_bytes: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allow = desired <= self.max_bytes;
        self.hit |= !allow;
        Ok(allow)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= crate::policy::MAX_TABLE_ELEMENTS)
    }
}
