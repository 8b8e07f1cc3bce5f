//! The Okta integration for Infraon as a WebAssembly component.
//!
//! This crate is only glue: the exports convert WIT values and call
//! `plugin_core`, whose ports are backed here by the host imports
//! (`wasi:http`, `storage`, `secrets`, `log`). All logic lives in, and is
//! tested natively in, `plugin-core`.

wit_bindgen::generate!({
    path: "../wit/v0.2.0",
    world: "infraon:okta/okta-plugin@0.2.0",
    // WASI comes from the `wasi` crate (one set of bindings for every guest
    // of the project), not from copies generated here.
    with: {
        "wasi:http/types@0.2.12": wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
    },
});

/// Talc instead of the default dlmalloc: freeing is the plugin's single
/// largest cost in a sync otherwise (see README, Benchmarks).
#[cfg(all(not(target_feature = "atomics"), target_family = "wasm"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod convert;
mod directory;
mod events;
mod host;
mod http;
mod map;
mod scope;
mod sso;
mod sync;

use exports::infraon::okta::{install, verify};
use host::with_host;
use infraon::okta::types::{ConfigForm, ConfigSummary, InstallOptions};

/// The component's export implementations.
struct Plugin;

impl install::Guest for Plugin {
    fn install(
        form: ConfigForm,
        options: InstallOptions,
    ) -> Result<ConfigSummary, install::InstallError> {
        let (form, options) = (convert::form(form), convert::options(options));
        with_host(|h| plugin_core::install::install(h, &form, &options))
            .map(convert::summary)
            .map_err(convert::install_error)
    }

    fn update(
        form: ConfigForm,
        options: InstallOptions,
    ) -> Result<ConfigSummary, install::InstallError> {
        let (form, options) = (convert::form(form), convert::options(options));
        with_host(|h| plugin_core::install::update(h, &form, &options))
            .map(convert::summary)
            .map_err(convert::install_error)
    }

    fn update_migrating(
        form: ConfigForm,
        options: InstallOptions,
        migration: install::Migration,
    ) -> Result<ConfigSummary, install::InstallError> {
        let (form, options) = (convert::form(form), convert::options(options));
        let migration = match migration {
            install::Migration::Move => plugin_core::migration::Migration::Move,
            install::Migration::Deactivate => plugin_core::migration::Migration::Deactivate,
        };
        with_host(|h| plugin_core::install::update_migrating(h, &form, &options, Some(migration)))
            .map(convert::summary)
            .map_err(convert::install_error)
    }

    fn uninstall(name: String) -> Result<(), install::InstallError> {
        with_host(|h| {
            plugin_core::install::uninstall(h, &name)?;
            // The SSO client secret lives outside the config's storage prefix.
            plugin_sso::forget(h, &name)
                .map_err(|e| plugin_core::InstallError::Storage(e.to_string()))
        })
        .map_err(convert::install_error)
    }

    fn list() -> Result<Vec<ConfigSummary>, install::InstallError> {
        with_host(plugin_core::install::list)
            .map(|configs| configs.into_iter().map(convert::summary).collect())
            .map_err(convert::install_error)
    }
}

impl verify::Guest for Plugin {
    fn verify_form(
        form: ConfigForm,
        options: InstallOptions,
    ) -> Result<verify::VerifyReport, verify::VerifyError> {
        let (form, options) = (convert::form(form), convert::options(options));
        with_host(|h| plugin_core::install::verify_form(h, &form, &options))
            .map(convert::report)
            .map_err(convert::verify_error)
    }

    fn verify_installed(name: String) -> Result<verify::VerifyReport, verify::VerifyError> {
        with_host(|h| plugin_core::install::verify_installed(h, &name))
            .map(convert::report)
            .map_err(convert::verify_error)
    }
}

export!(Plugin);
