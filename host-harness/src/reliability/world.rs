//! One case's world: a fake Okta, a fresh fake Infraon in a temporary state
//! directory, and the plugin installed against it, under the production
//! limits (60 s calls, 20 s requests): the report shows what users meet.

use std::path::Path;
use std::sync::Arc;

use fake_infraon::Infraon;
use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec};

use crate::Runtime;
use crate::bindings::exports::infraon::okta::sync::Trigger;
use crate::bindings::exports::infraon::okta::sync::{RunOutcome, RunRecord, SyncError, SyncMode};
use crate::bindings::exports::infraon::okta::verify::{VerifyError, VerifyReport};
use crate::bindings::infraon::okta::types::{ConfigForm, InstallOptions, OktaFailure, SyncTarget};
use crate::ops::Outcome;
use crate::policy::Limits;

/// The config every case installs.
pub const CONFIG: &str = "acme";

/// Users and groups of the org every case starts from.
pub const USERS: usize = 40;
const GROUPS: usize = 3;

/// The production limits, exactly as `harness sync` runs: every case,
/// faults of a minute included, must end well under them.
pub fn limits() -> Limits {
    Limits::default()
}

/// Loads the plugin once so the compiled component is in `cache`.
pub fn warm(cache: &Path) -> anyhow::Result<()> {
    let state = tempfile_dir()?;
    let infraon = Arc::new(Infraon::open(state.path())?);
    Runtime::new(
        Path::new(crate::OKTA_PLUGIN_WASM),
        Some(cache),
        infraon.clone(),
        limits(),
    )?;
    Runtime::new(
        Path::new(crate::SANDBOX_PROBES_WASM),
        Some(cache),
        infraon,
        limits(),
    )?;
    Ok(())
}

/// A temporary directory removed when dropped.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty temporary directory.
pub fn tempfile_dir() -> anyhow::Result<TempDir> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "okta-reliability-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(TempDir(dir))
}

/// A fake Okta with the standard org.
pub async fn okta() -> anyhow::Result<FakeOkta> {
    FakeOkta::start(FakeOktaOptions {
        org: OrgSpec {
            users: USERS,
            groups: GROUPS,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
}

/// The plugin over a fresh state directory, installed against `okta`.
pub async fn installed(okta: &FakeOkta, cache: &Path) -> anyhow::Result<(Runtime, TempDir)> {
    let state = tempfile_dir()?;
    let infraon = Arc::new(Infraon::open(state.path())?);
    let rt = Runtime::new(
        Path::new(crate::OKTA_PLUGIN_WASM),
        Some(cache),
        infraon,
        limits(),
    )?;
    install_against(&rt, okta, CONFIG).await?;
    Ok((rt, state))
}

/// Install config `name` (Users) against `okta`, in development mode so
/// that its loopback `http://` origin is allowed.
pub async fn install_against(rt: &Runtime, okta: &FakeOkta, name: &str) -> anyhow::Result<()> {
    let form = ConfigForm {
        name: name.into(),
        okta_domain: okta.url(),
        api_token: okta.api_token().into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    };
    rt.install(
        &form,
        InstallOptions {
            development_mode: true,
        },
    )
    .await?
    .map_err(|e| anyhow::anyhow!("install refused: {e:?}"))?;
    Ok(())
}

/// A full sync of the case's config, reporting every step to `progress`.
pub async fn full_sync(
    rt: &Runtime,
    progress: impl FnMut(&RunRecord, &str) + Send,
) -> Outcome<RunRecord, SyncError> {
    rt.sync(CONFIG, SyncMode::Full, Trigger::Manual, progress)
        .await
}

/// Whether a sync ended in success.
pub fn succeeded(o: &Outcome<RunRecord, SyncError>) -> bool {
    matches!(o, Ok(Ok(r)) if matches!(r.outcome, Some(RunOutcome::Succeeded | RunOutcome::Partial)))
}

/// A sync outcome as a line, and whether it is typed.
pub fn describe_sync(o: &Outcome<RunRecord, SyncError>) -> (String, bool) {
    match o {
        Ok(Ok(r)) => {
            let outcome = match r.outcome {
                None => "unfinished",
                Some(RunOutcome::Succeeded) => "succeeded",
                Some(RunOutcome::Partial) => "partial",
                Some(RunOutcome::Failed) => "failed",
                Some(RunOutcome::Cancelled) => "cancelled",
                Some(RunOutcome::Held) => "held",
            };
            let text = match &r.error {
                Some(e) => format!("{outcome}: {e}"),
                None => format!(
                    "{outcome}, {} requests, {} unsynced",
                    r.requests, r.counts.unsynced
                ),
            };
            (text, r.outcome.is_some())
        }
        Ok(Err(e)) => (
            compact(&format!("{e:?}")),
            !matches!(e, SyncError::Other(_)),
        ),
        Err(e) => (format!("host: {e}"), true),
    }
}

/// A verify outcome as a line, and whether it is typed.
pub fn describe_verify(o: &Outcome<VerifyReport, VerifyError>) -> (String, bool) {
    match o {
        Ok(Ok(_)) => ("ok".into(), true),
        Ok(Err(e)) => {
            let typed = !matches!(
                e,
                VerifyError::Other(_) | VerifyError::Okta(OktaFailure::Other(_))
            );
            (compact(&format!("{e:?}")), typed)
        }
        Err(e) => (format!("host: {e}"), true),
    }
}

/// `SyncError::Okta(OktaFailure::ServerError(503))` → `okta ServerError(503)`:
/// the variants, without the binding's module paths.
fn compact(debug: &str) -> String {
    for prefix in [
        "SyncError::Okta(OktaFailure::",
        "VerifyError::Okta(OktaFailure::",
    ] {
        if let Some(inner) = debug.strip_prefix(prefix) {
            return format!("okta {}", inner.strip_suffix(')').unwrap_or(inner));
        }
    }
    debug
        .replace("SyncError::", "")
        .replace("VerifyError::", "")
}
