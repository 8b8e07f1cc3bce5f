//! The components the runtime's tests (and the embed example's test) load:
//! the plugin (`OKTA_PLUGIN_WASM` when set: any component claiming the
//! world) and the sandbox probe guest (`SANDBOX_PROBES_WASM`), else the
//! workspace's guests, built here when missing or stale — the runtime
//! itself never builds guests, so an embedder's build does not.

#![allow(dead_code)] // each test binary uses one or both guests

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The plugin's path, built at most once per test binary.
pub fn plugin_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| guest("OKTA_PLUGIN_WASM", "plugin/Cargo.toml", "okta_plugin"))
        .clone()
}

/// The probe guest's path (a small 0.1.0 component that misbehaves on
/// request: `alloc` grows memory without end, `storage` is well behaved).
pub fn probes_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        guest(
            "SANDBOX_PROBES_WASM",
            "host-harness/probes/Cargo.toml",
            "sandbox_probes",
        )
    })
    .clone()
}

fn guest(var: &str, manifest: &str, stem: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = root.join("target/guests");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(root.join(manifest))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .expect("run cargo for the guest");
    assert!(status.success(), "building the guest {manifest} failed");
    target.join(format!("wasm32-wasip2/release/{stem}.wasm"))
}
