//! The runtime over the in-memory backend alone (no SQLite, no HTTP server
//! but the fake Okta): install, verify, a full sync, an incremental sync
//! and a held run behave as they do over the fake Infraon, which shows the
//! backend traits carry everything the plugin needs.

#[path = "common/guest.rs"]
mod guest;

use std::sync::Arc;
use std::time::Duration;

use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec, UserStatus};
use okta_host_runtime::backend::{Directory, PersonStatus, SyncTarget};
use okta_host_runtime::bindings::exports::infraon::okta::sync::{
    RunOutcome, RunRecord, SyncMode, Trigger,
};
use okta_host_runtime::bindings::infraon::okta::types::{ConfigForm, InstallOptions};
use okta_host_runtime::memory::MemoryBackend;
use okta_host_runtime::policy::Limits;
use okta_host_runtime::{Backends, Runtime};

struct World {
    okta: FakeOkta,
    store: Arc<MemoryBackend>,
    runtime: Runtime,
}

async fn installed(users: usize) -> World {
    let org = OrgSpec {
        users,
        groups: 3,
        ..Default::default()
    };
    let okta = FakeOkta::start(FakeOktaOptions {
        org,
        ..Default::default()
    })
    .await
    .unwrap();
    let store = Arc::new(MemoryBackend::new());
    let limits = Limits {
        request_timeout: Duration::from_secs(2),
        call_deadline: Duration::from_secs(20),
        ..Limits::default()
    };
    let runtime = Runtime::new(
        &guest::plugin_wasm(),
        None,
        Backends::all(store.clone()),
        limits,
    )
    .unwrap();
    let form = ConfigForm {
        name: "acme".into(),
        okta_domain: okta.url(),
        api_token: okta.api_token().into(),
        sync_target: okta_host_runtime::bindings::infraon::okta::types::SyncTarget::Users,
        service_app: None,
    };
    let dev = InstallOptions {
        development_mode: true,
    };
    runtime.install(&form, dev).await.unwrap().unwrap();
    World {
        okta,
        store,
        runtime,
    }
}

async fn sync(w: &World, mode: SyncMode) -> RunRecord {
    w.runtime
        .sync("acme", mode, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap()
}

fn status_of(w: &World, id: &str) -> PersonStatus {
    w.store
        .find_by_external_id(SyncTarget::Users, id)
        .unwrap()
        .expect("linked")
        .status
}

fn active_ids(w: &World, n: usize) -> Vec<String> {
    w.okta
        .org()
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .take(n)
        .map(|u| u.id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn install_and_verify_keep_the_grant_and_the_token_in_the_backends() {
    let w = installed(10).await;
    let report = w.runtime.verify_installed("ACME").await.unwrap().unwrap();
    assert_eq!(report.okta_origin, w.okta.url());
    assert!(report.requests >= 1, "{report:?}");
    let configs = w.runtime.configs().await.unwrap().unwrap();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0].name, "acme");
    assert!(
        w.store
            .secret_values()
            .iter()
            .any(|s| s.contains(w.okta.api_token())),
        "the token is kept through the secrets backend"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_then_an_incremental_sync_land_exactly_okta_s_changes() {
    let w = installed(60).await;
    let run = sync(&w, SyncMode::Full).await;
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded), "{run:?}");
    let org = w.okta.org();
    assert_eq!(run.counts.created as usize, org.users.len());
    for user in &org.users {
        let p = w
            .store
            .find_by_external_id(SyncTarget::Users, &user.id)
            .unwrap()
            .expect("every Okta user lands");
        assert_eq!(p.login, user.login);
    }
    let again = sync(&w, SyncMode::Full).await;
    assert_eq!(again.counts.created + again.counts.updated, 0, "{again:?}");

    let ids = active_ids(&w, 2);
    let mut changes = serde_json::Map::new();
    changes.insert("title".into(), "Head of Incidents".into());
    w.okta.update_user_profile(&ids[0], changes).unwrap();
    w.okta
        .set_user_status(&ids[1], UserStatus::Deprovisioned)
        .unwrap();
    let run = sync(&w, SyncMode::Incremental).await;
    assert_eq!(run.counts.fetched, 2, "only the two changed users: {run:?}");
    let renamed = w
        .store
        .find_by_external_id(SyncTarget::Users, &ids[0])
        .unwrap()
        .unwrap();
    assert!(
        renamed
            .fields
            .contains(&("title".into(), "Head of Incidents".into()))
    );
    assert_eq!(status_of(&w, &ids[1]), PersonStatus::Deactivated);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mass_deactivation_is_held_until_approved() {
    let w = installed(40).await;
    sync(&w, SyncMode::Full).await;
    let gone = active_ids(&w, 20);
    for id in &gone {
        w.okta.delete_user(id).unwrap();
    }
    let held = sync(&w, SyncMode::Full).await;
    assert_eq!(held.outcome, Some(RunOutcome::Held), "{held:?}");
    assert!(
        gone.iter()
            .all(|id| status_of(&w, id) != PersonStatus::Deactivated)
    );
    let approved = w
        .runtime
        .approve_held("acme", held.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(approved.counts.deactivated as usize, gone.len());
    assert!(
        gone.iter()
            .all(|id| status_of(&w, id) == PersonStatus::Deactivated)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plugin_logs_through_the_log_backend() {
    let w = installed(5).await;
    sync(&w, SyncMode::Full).await;
    let lines = w.store.log_lines();
    assert!(
        lines
            .iter()
            .any(|(config, ..)| config.as_deref() == Some("acme")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|(_, _, msg, fields)| !msg.contains(w.okta.api_token())
                && !fields.contains(w.okta.api_token())),
        "no token in a log line"
    );
}
