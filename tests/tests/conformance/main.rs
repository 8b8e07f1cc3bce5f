//! The conformance suite: one test binary that drives a built component
//! through the host, against the fake Okta and the fake Infraon, with a
//! module per interface of the contract (`wit/`).
//!
//! The component under test is the plugin built with this workspace, or
//! the one `OKTA_CONFORMANCE_COMPONENT` names (a path to any component that
//! claims the `okta-plugin` world): `OKTA_CONFORMANCE_COMPONENT=x.wasm
//! cargo test -p conformance`. The sandbox module runs the probe guest,
//! whatever the component under test, and checks at compile time that
//! every probe case has its test.
//!
//! Browser tests (Debian's headless Chromium) are `#[ignore]`d here and
//! run by `scripts/test` with `--ignored`.

mod browserless;
mod common;

/// The web console over HTTP and in Chromium.
mod console;
/// Both contract versions in one host.
mod contract_versions;
/// `events` (Okta Event Hooks).
mod events;
/// The host's records (`storage`, `secrets`, `directory`, `log`) under failure.
mod host_records;
/// `install` (forms, update, uninstall; service apps).
mod install;
/// `%map` (field mapping, role rules, schema).
mod map;
/// The sandbox, with the probe guest.
mod sandbox;
/// The `scheduler` import, the console and `serve`.
mod scheduler;
/// `sso` (Sign in with Okta).
mod sso;
/// `sync` (runs, lifecycle, safeguard, change lists, scope, many tenants).
mod sync;
/// `verify` (forms and installed configs).
mod verify;
