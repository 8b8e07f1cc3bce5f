//! Embedding the runtime in a platform: its own backends, then install,
//! verify and a sync of one config.
//!
//! `cargo run -p okta-host-runtime --example embed -- PLUGIN.wasm https://acme.okta.com TOKEN`
//!
//! The platform here keeps everything in memory ([`MemoryBackend`]) except
//! its log, which it serves itself: a capability is swapped by replacing
//! one field of [`Backends`]. A real platform does the same with its
//! database, vault and directory. `cargo test` runs [`embed`] against the
//! fake Okta (this example is a test target, see the crate's Cargo.toml).

use std::path::Path;
use std::sync::{Arc, Mutex};

use okta_host_runtime::backend::{BackendError, Log, SyncTarget};
use okta_host_runtime::bindings::exports::infraon::okta::sync::{RunRecord, SyncMode, Trigger};
use okta_host_runtime::bindings::infraon::okta::types as wit;
use okta_host_runtime::memory::MemoryBackend;
use okta_host_runtime::{Backends, Runtime, policy::Limits};

/// The platform's own log: here, lines in a vector.
#[derive(Default)]
struct PlatformLog(Mutex<Vec<String>>);

impl Log for PlatformLog {
    fn append(
        &self,
        _: &str,
        config: Option<&str>,
        level: &str,
        msg: &str,
        _: &str,
    ) -> Result<(), BackendError> {
        let line = format!("[{level}] {}: {msg}", config.unwrap_or("-"));
        self.0.lock().unwrap().push(line);
        Ok(())
    }
}

/// Install `acme`, verify it and sync it; the run and the people synced.
async fn embed(wasm: &Path, okta: &str, token: &str) -> anyhow::Result<(RunRecord, usize)> {
    let store = Arc::new(MemoryBackend::new());
    let mut backends = Backends::all(store.clone());
    backends.log = Arc::new(PlatformLog::default());
    let runtime = Runtime::new(wasm, None, backends, Limits::default())?;

    let form = wit::ConfigForm {
        name: "acme".into(),
        okta_domain: okta.into(),
        api_token: token.into(),
        sync_target: wit::SyncTarget::Users,
        service_app: None,
    };
    // Plain http is allowed only in development mode (the fake Okta).
    let options = wit::InstallOptions {
        development_mode: okta.starts_with("http://"),
    };
    let installed = runtime.install(&form, options).await?;
    installed.map_err(|e| anyhow::anyhow!("install refused: {e:?}"))?;
    runtime
        .verify_installed("acme")
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let run = runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, phase| {
            eprintln!("{phase}")
        })
        .await?
        .map_err(|e| anyhow::anyhow!("sync failed: {e:?}"))?;
    Ok((run, store.people(SyncTarget::Users).len()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [wasm, okta, token] = args.as_slice() else {
        anyhow::bail!("usage: embed PLUGIN.wasm OKTA_DOMAIN API_TOKEN");
    };
    let (run, people) = embed(Path::new(wasm), okta, token).await?;
    println!(
        "run {} {:?}: {people} people in the directory",
        run.id, run.outcome
    );
    Ok(())
}

#[cfg(test)]
#[path = "../tests/common/guest.rs"]
mod guest;

#[cfg(test)]
mod tests {
    use super::guest;
    use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec};

    #[tokio::test(flavor = "multi_thread")]
    async fn a_platform_with_its_own_backends_installs_verifies_and_syncs() {
        let org = OrgSpec {
            users: 40,
            groups: 3,
            ..Default::default()
        };
        let okta = FakeOkta::start(FakeOktaOptions {
            org,
            ..Default::default()
        })
        .await
        .unwrap();
        let (run, people) = super::embed(&guest::plugin_wasm(), &okta.url(), okta.api_token())
            .await
            .unwrap();
        assert_eq!(
            run.counts.fetched as usize,
            okta.org().users.len(),
            "{run:?}"
        );
        assert_eq!(people, okta.org().users.len());
    }
}
