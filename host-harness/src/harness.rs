//! The runtime as the harness runs it: every backend is the fake Infraon,
//! which the CLI, the console and the tests also read directly (people,
//! log lines, schedules).

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use fake_infraon::Infraon;
use okta_host_runtime::policy::Limits;
use okta_host_runtime::{Backends, HostError, RuntimeOptions};

/// Every capability served by the fake Infraon.
pub fn backends(infraon: &Arc<Infraon>) -> Backends {
    Backends::all(infraon.clone())
}

/// [`okta_host_runtime::Runtime`] over the fake Infraon; derefs to it, so
/// every operation (`install`, `sync`, ...) is called on this directly.
pub struct Runtime {
    inner: okta_host_runtime::Runtime,
    infraon: Arc<Infraon>,
}

impl Runtime {
    /// Load `wasm` (compiled-component cache in `cache_dir`) with the fake
    /// Infraon behind every import.
    pub fn new(
        wasm: &Path,
        cache_dir: Option<&Path>,
        infraon: Arc<Infraon>,
        limits: Limits,
    ) -> Result<Self, HostError> {
        Self::with_options(
            wasm,
            cache_dir,
            infraon,
            RuntimeOptions::with_limits(limits),
        )
    }

    /// [`Runtime::new`] with a chosen instance pool and concurrency caps.
    pub fn with_options(
        wasm: &Path,
        cache_dir: Option<&Path>,
        infraon: Arc<Infraon>,
        options: RuntimeOptions,
    ) -> Result<Self, HostError> {
        let inner =
            okta_host_runtime::Runtime::with_options(wasm, cache_dir, backends(&infraon), options)?;
        Ok(Runtime { inner, infraon })
    }

    /// A handle for `tenant`, another Infraon customer whose own fake
    /// Infraon serves its imports, on this runtime's engine, pool and caps
    /// ([`okta_host_runtime::Runtime::for_tenant`]).
    pub fn for_tenant(&self, tenant: &str, infraon: Arc<Infraon>) -> Runtime {
        Runtime {
            inner: self.inner.for_tenant(tenant, backends(&infraon)),
            infraon,
        }
    }

    /// [`Runtime::for_tenant`] whose next operation runs in `place`, taken
    /// before `infraon` was opened
    /// ([`okta_host_runtime::Runtime::for_tenant_in`]).
    pub fn for_tenant_in(
        &self,
        tenant: &str,
        infraon: Arc<Infraon>,
        place: okta_host_runtime::Place,
    ) -> Runtime {
        Runtime {
            inner: self.inner.for_tenant_in(tenant, backends(&infraon), place),
            infraon,
        }
    }

    /// The fake Infraon behind the imports.
    pub fn infraon(&self) -> &Arc<Infraon> {
        &self.infraon
    }
}

impl Deref for Runtime {
    type Target = okta_host_runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}
