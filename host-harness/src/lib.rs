//! The host harness: a wasmtime host that plays Infraon for the Okta plugin.
//!
//! - [`component`] loads the plugin (cached compilation, contract check);
//! - [`runtime`] runs each operation in a fresh, limited instance;
//! - [`policy`] holds every limit and the egress allowlist in one place;
//! - [`interfaces`] implements the WIT imports, one module per interface,
//!   over the fake Infraon (SQLite);
//! - [`ops`] is the typed API the CLI and the tests drive.

pub mod bench;
pub mod bindings;
pub mod component;
pub mod demo;
pub mod hooks;
pub mod interfaces;
pub mod keys;
pub mod ops;
pub mod policy;
pub mod reliability;
pub mod render;
pub mod runtime;
pub mod scheduler;
pub mod serve;
pub mod state;
pub mod web;

pub use fake_infraon::Infraon;
pub use runtime::{HostError, Runtime};

/// The plugin component built by `build.rs` for this harness.
pub const OKTA_PLUGIN_WASM: &str = env!("OKTA_PLUGIN_WASM");
// `foreach_probe_case!`: the probe guest's cases, for the tests that must
// cover each (the guest includes the same file).
include!("../probes/cases.rs");

/// The sandbox probe component built by `build.rs` (tests only).
pub const SANDBOX_PROBES_WASM: &str = env!("SANDBOX_PROBES_WASM");
/// The plugin id the fake Infraon keeps this plugin's state under.
pub const PLUGIN_ID: &str = "okta";
