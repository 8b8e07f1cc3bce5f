//! The host side of the contract: one module per imported WIT interface.

pub mod directory;
pub mod http;
pub mod log;
pub mod outbound;
pub mod scheduler;
pub mod secrets;
pub mod signing;
pub mod storage;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::infraon::okta;
use crate::state::PluginState;

/// Add every import of the world to a linker: WASI (no files, no sockets),
/// `wasi:http` behind the egress guard, and our own interfaces in every
/// supported contract version.
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)?;
    type Data = HasSelf<PluginState>;
    okta::types::add_to_linker::<_, Data>(linker, |s| s)?;
    okta::storage::add_to_linker::<_, Data>(linker, |s| s)?;
    okta::secrets::add_to_linker::<_, Data>(linker, |s| s)?;
    okta::directory::add_to_linker::<_, Data>(linker, |s| s)?;
    okta::scheduler::add_to_linker::<_, Data>(linker, |s| s)?;
    okta::log::add_to_linker::<_, Data>(linker, |s| s)?;
    okta::signing::add_to_linker::<_, Data>(linker, |s| s)?;
    // A 0.1.0 component imports the same interfaces under 0.1.0 names.
    crate::bindings::v0_1_0::add_to_linker(linker)?;
    Ok(())
}

impl okta::types::Host for PluginState {}

/// Run a backend call that may block (a database behind a lock, a writer
/// thread to join) without holding up the async executor when it would
/// wait: on a multi-threaded tokio runtime the worker then hands its other
/// tasks to another thread for the call's duration, so a tenant waiting on
/// Infraon's database does not stall the tenants whose guests could run
/// meanwhile. A call that would not wait (`would_wait` false) runs here:
/// the hand-over wakes a thread and moves the worker's queue twice, which
/// cost more than a short database call (200 tenants' syncs at once spent
/// some 6 % more CPU when every storage call handed over). Anywhere else (a
/// current-thread runtime, no runtime) the call simply runs here.
pub(crate) fn blocking<T>(would_wait: bool, call: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if would_wait && h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(call)
        }
        _ => call(),
    }
}
