//! Host bindings of the `infraon:okta` world, one module per supported
//! contract version, in the way Zed's extension host keeps `since_vX`
//! modules over a `latest`:
//!
//! - this module is the **latest** contract (`wit/v0.2.0`): the imports in
//!   [`crate::interfaces`] implement its traits, and the harness speaks its
//!   types;
//! - [`v0_1_0`] has its own bindings of the frozen `wit/v0.1.0`, its imports
//!   delegating to the latest ones and its exports converted to the latest
//!   types, so a 0.1.0 component keeps loading and running;
//! - [`Plugin`] / [`PluginPre`] are an instance of either, with one method
//!   per export function, so the rest of the harness never asks which.
//!
//! Adding a contract version: a new `wit/vX` folder, this module's bindgen
//! moves to it, the previous latest becomes a `vY` module like [`v0_1_0`],
//! and [`SUPPORTED_VERSIONS`] names it.
//!
//! `wasi:*` interfaces are mapped to wasmtime's own implementations, so the
//! HTTP capability is the standard one and only our interfaces are ours.

wasmtime::component::bindgen!({
    path: "../../wit/v0.2.0",
    world: "infraon:okta/okta-plugin",
    exports: { default: async },
    require_store_data_send: true,
    additional_derives: [serde::Serialize, serde::Deserialize],
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

mod events;
mod plugin;
mod preview;
mod scope;
pub mod v0_1_0;

pub use plugin::{ContractGap, Plugin, PluginPre};

/// The contract package.
pub const CONTRACT_PACKAGE: &str = "infraon:okta";
/// The latest contract version, the one the harness speaks.
pub const CONTRACT_VERSION: &str = "0.2.0";
/// Every contract version this host loads, oldest first (patch releases of
/// each are accepted too).
pub const SUPPORTED_VERSIONS: &[&str] = &["0.1.0", CONTRACT_VERSION];
