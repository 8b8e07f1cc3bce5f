//! Builds the guest components (the Okta plugin and the sandbox probes) for
//! `wasm32-wasip2` into their own target directory and hands their paths to
//! the harness as compile-time constants, so `cargo build` / `cargo test` at
//! the root need no manual step (the pattern of wasmtime's test programs).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

/// Guest crates: (manifest relative to the workspace root, artefact stem, env var).
const GUESTS: &[(&str, &str, &str)] = &[
    ("plugin/Cargo.toml", "okta_plugin", "OKTA_PLUGIN_WASM"),
    (
        "host-harness/probes/Cargo.toml",
        "sandbox_probes",
        "SANDBOX_PROBES_WASM",
    ),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host-harness lives in the workspace root");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target_dir = guest_target_dir(&out_dir);

    for watched in [
        "plugin/src",
        "plugin/core/src",
        "plugin/core/Cargo.toml",
        "plugin/Cargo.toml",
        "wit",
        "host-harness/probes/src",
        "host-harness/probes/Cargo.toml",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    let mut target_checked = false;
    for (manifest, stem, var) in GUESTS {
        // A prebuilt component (e.g. the one the Marketplace signed) may be
        // named instead of building the guest here.
        println!("cargo:rerun-if-env-changed={var}");
        let wasm = match env::var_os(var).map(PathBuf::from).filter(|p| p.is_file()) {
            Some(prebuilt) => prebuilt,
            None => {
                if !target_checked {
                    ensure_wasm_target();
                    target_checked = true;
                }
                build_guest(&cargo(), &root.join(manifest), &target_dir, stem)
            }
        };
        println!("cargo:rustc-env={var}={}", wasm.display());
    }
}

/// `<workspace target>/guests`: beside, not inside, the host's own profile
/// dirs, so the inner cargo never waits on the outer one's lock.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR = <target>/<profile>/build/<pkg>-<hash>/out (or with a triple).
    out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .and_then(|build| build.parent())
        .and_then(|profile| profile.parent())
        .map(|target| target.join("guests"))
        .unwrap_or_else(|| out_dir.join("guests"))
}

fn cargo() -> String {
    env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A fresh machine has only the native target and `RUSTUP_AUTO_INSTALL=0`, so
/// the toolchain file alone will not fetch the wasm target: add it here.
fn ensure_wasm_target() {
    let sysroot = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if sysroot.is_some_and(|s| s.join("lib/rustlib").join(TARGET).exists()) {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        panic!(
            "\n\nThe Rust target `{TARGET}` is not installed and `rustup target add {TARGET}` \
             failed ({status:?}).\nInstall it by hand (`rustup target add {TARGET}`) and build again.\n"
        );
    }
}

fn build_guest(cargo: &str, manifest: &Path, target_dir: &Path, stem: &str) -> PathBuf {
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    // The outer build's flags and jobserver are for the host, not the guest.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    // Stdout of a build script is parsed by cargo: keep the inner build on stderr.
    cmd.stdout(std::process::Stdio::from(std::io::stderr()));
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo for {manifest:?}: {e}"));
    assert!(
        status.success(),
        "building the guest {manifest:?} for {TARGET} failed"
    );
    let wasm = target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{stem}.wasm"));
    assert!(wasm.exists(), "the guest build did not produce {wasm:?}");
    wasm
}
