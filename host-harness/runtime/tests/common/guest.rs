//! The plugin component the runtime's tests (and the embed example's test)
//! load: `OKTA_PLUGIN_WASM` when set (any component claiming the world),
//! else the workspace's guest, built here when missing or stale — the
//! runtime itself never builds guests, so an embedder's build does not.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The component's path, built at most once per test binary.
pub fn plugin_wasm() -> PathBuf {
    static WASM: OnceLock<PathBuf> = OnceLock::new();
    WASM.get_or_init(|| {
        if let Some(p) = std::env::var_os("OKTA_PLUGIN_WASM") {
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
            .arg(root.join("plugin/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("run cargo for the guest");
        assert!(status.success(), "building the plugin guest failed");
        target.join("wasm32-wasip2/release/okta_plugin.wasm")
    })
    .clone()
}
