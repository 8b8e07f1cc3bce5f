//! The host harness: a platform that plays Infraon for the Okta plugin, as
//! one user of the embeddable runtime ([`okta_host_runtime`]).
//!
//! The runtime (engine, contract versions, sandbox policy, WIT imports,
//! typed operations) lives in `host-harness/runtime` and knows nothing of
//! what is here. This crate adds:
//!
//! - [`Runtime`]: the runtime with the fake Infraon (SQLite) as every
//!   backend, so the CLI, console and tests can also read the fake's tables;
//! - [`cli`](../harness/index.html), [`web`], [`serve`], [`bench`],
//!   [`reliability`], [`demo`], [`render`]: the operator-facing tools.
//!
//! The runtime's modules are re-exported under their own names
//! (`host_harness::bindings`, `host_harness::ops`, ...), so harness code
//! and tests name them as before the split.

pub mod bench;
pub mod demo;
mod harness;
pub mod reliability;
pub mod render;
pub mod serve;
pub mod web;

pub use okta_host_runtime::{
    backend, bindings, component, hooks, interfaces, keys, ops, options, policy, scheduler, state,
};

/// The runtime's [`okta_host_runtime::runtime`] module, with [`Runtime`]
/// being the harness's (the runtime over the fake Infraon).
pub mod runtime {
    pub use crate::harness::Runtime;
    pub use okta_host_runtime::runtime::*;
}

pub use fake_infraon::Infraon;
pub use harness::{Runtime, backends};
pub use okta_host_runtime::{Allocation, HostError, PLUGIN_ID, RuntimeOptions};

/// The plugin component built by `build.rs` for this harness.
pub const OKTA_PLUGIN_WASM: &str = env!("OKTA_PLUGIN_WASM");
// `foreach_probe_case!`: the probe guest's cases, for the tests that must
// cover each (the guest includes the same file).
include!("../probes/cases.rs");

/// The sandbox probe component built by `build.rs` (tests only).
pub const SANDBOX_PROBES_WASM: &str = env!("SANDBOX_PROBES_WASM");
