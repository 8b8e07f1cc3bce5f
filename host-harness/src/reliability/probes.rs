//! The sandbox probe cases: the misbehaving guest runs on the same fake
//! Infraon as a synced plugin, so the directory it could damage is real;
//! time to recover is until the same runtime serves a good call again.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::Runtime;
use crate::bindings::exports::infraon::okta::verify::{VerifyError, VerifyReport};
use crate::bindings::infraon::okta::types::{ConfigForm, InstallOptions, SyncTarget};
use crate::ops::Outcome;
use crate::policy::{Limits, granted_origin};
use crate::state::Scope;

use super::check::{Directory, Leaks, merged};
use super::world;
use super::{Case, Row};

/// The production limits, as the plugin's cases run.
fn limits() -> Limits {
    world::limits()
}

/// The probes misbehave according to the config name of a verify form.
async fn probe(rt: &Runtime, name: &str, target: &str) -> Outcome<VerifyReport, VerifyError> {
    let form = ConfigForm {
        name: name.into(),
        okta_domain: target.into(),
        api_token: "00t".into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    };
    let scope = Scope {
        config: Some(world::CONFIG.into()),
        allowed_origin: granted_origin("https://acme.okta.com", false),
    };
    rt.call(scope, async |store, plugin| {
        plugin
            .verify_form(
                store,
                &form,
                InstallOptions {
                    development_mode: true,
                },
            )
            .await
    })
    .await
}

pub(super) async fn run(case: Case, cache: &Path) -> anyhow::Result<Row> {
    let okta = world::okta().await?;
    let secrets = vec![okta.api_token().to_owned()];
    let (rt, state) = world::installed(&okta, cache).await?;
    let first = world::full_sync(&rt, |_, _| {}).await;
    anyhow::ensure!(
        world::succeeded(&first),
        "the clean first run failed: {first:?}"
    );
    let before = Directory::read(rt.infraon())?;

    let probes = Runtime::new(
        Path::new(crate::SANDBOX_PROBES_WASM),
        Some(cache),
        Arc::clone(rt.infraon()),
        limits(),
    )?;
    let (name, target) = match case {
        Case::ProbeLoop => ("loop", ""),
        Case::ProbeAlloc => ("alloc", ""),
        Case::ProbePanic => ("panic", ""),
        Case::ProbeStack => ("stack", ""),
        Case::ProbeEgress => ("egress", "exfiltrate.example:80"),
        Case::ProbeOrder => ("order", ""),
        _ => anyhow::bail!("{case:?} is not a probe"),
    };
    let started = Instant::now();
    let outcome = probe(&probes, name, target).await;
    let ended = Instant::now();
    let (text, typed) = world::describe_verify(&outcome);
    let text = format!("{text} after {} ms", (ended - started).as_millis());

    let mut recover = None;
    for _ in 0..3 {
        if matches!(probe(&probes, "storage", "").await, Ok(Ok(_))) {
            recover = Some(ended.elapsed());
            break;
        }
    }
    let after = Directory::read(rt.infraon())?;
    let second = world::full_sync(&rt, |_, _| {}).await;
    anyhow::ensure!(
        world::succeeded(&second),
        "the plugin failed after the probe: {second:?}"
    );
    let after_sync = Directory::read(rt.infraon())?;

    let lost = merged(after.lost_from(&before), after_sync.lost_from(&before));
    let wrong = merged(
        after.wrongly_deactivated(&before),
        after_sync.wrongly_deactivated(&before),
    );
    let mut leaks = Leaks::default();
    leaks.search_logs(rt.infraon(), &secrets)?;
    leaks.search("probe outcome", format!("{outcome:?}").as_bytes(), &secrets);
    leaks.search_files(state.path(), &secrets)?;
    okta.shutdown().await;
    Ok(Row {
        case,
        name: case.name().into(),
        verify: text,
        outcome: String::new(),
        sso: String::new(),
        typed,
        lost: lost.len(),
        wrongly_deactivated: wrong.len(),
        leaked: leaks.0.len(),
        recover_ms: recover.map(|d| d.as_millis() as u64),
    })
}
