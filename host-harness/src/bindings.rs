//! Host bindings of the `infraon:okta` world, generated from `wit/`.
//!
//! `wasi:*` interfaces are mapped to wasmtime's own implementations, so the
//! HTTP capability is the standard one and only our interfaces are ours.

wasmtime::component::bindgen!({
    path: "../wit/v0.1.0",
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

/// The contract package and version this harness was built against.
pub const CONTRACT_PACKAGE: &str = "infraon:okta";
/// See [`CONTRACT_PACKAGE`].
pub const CONTRACT_VERSION: &str = "0.1.0";
