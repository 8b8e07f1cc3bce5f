//! The embeddable host of the Okta plugin: everything a platform (the
//! Infraon Marketplace, the harness) needs to load the component and run
//! its operations for many tenants, and nothing about how the platform
//! stores data or talks to its operators.
//!
//! - [`backend`]: the traits a platform implements (storage, secrets,
//!   directory, schedules, log, installations, run leases);
//! - [`component`]: the engine, the compiled-component cache, the contract check;
//! - [`runtime`]: a fresh, limited instance per operation; traps become errors;
//! - [`options`]: how many tenants share the runtime: the instance pool,
//!   the global and per-tenant caps on operations at once;
//! - [`policy`]: every limit and the egress allowlist in one place;
//! - [`bindings`]: one module per supported contract version, the
//!   WIT-generated types kept at that edge;
//! - [`interfaces`]: the WIT imports, each over its backend trait;
//! - [`ops`]: the typed operations a platform drives (install, verify, sync, ...);
//! - [`scheduler`], [`keys`], [`hooks`]: the host's own schedules,
//!   service-app keys and Okta event-hook secrets.
//!
//! `examples/embed.rs` shows a platform plugging in its own backends.

mod admission;
pub mod backend;
pub mod bindings;
pub mod component;
pub mod hooks;
pub mod interfaces;
pub mod keys;
pub mod memory;
pub mod ops;
pub mod options;
pub mod policy;
pub mod runtime;
pub mod scheduler;
pub mod state;

pub use backend::Backends;
pub use options::{Allocation, RuntimeOptions};
pub use runtime::{HostError, Place, Runtime};

/// The plugin id the platform keeps this plugin's state under.
pub const PLUGIN_ID: &str = "okta";
