//! OAuth 2.0 service apps through the built component: the host's keys,
//! the signing import, install / verify / sync with Bearer and DPoP, key
//! rotation without downtime, Verify naming what is wrong, and no private
//! key or access token anywhere it could leak.

use crate::common;

use common::{DEV, World, world};
use fake_okta::ServiceApp as OktaApp;
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use host_harness::bindings::exports::infraon::okta::verify::VerifyError;
use host_harness::bindings::infraon::okta::types::{
    ConfigForm, OktaFailure, ServiceApp, ServiceAppFailure, SyncTarget,
};
use host_harness::keys::KeyRing;
use host_harness::reliability::Leaks;
use host_harness::render;

const APP: &str = "0oaconformance00000";
const ALL: [&str; 3] = ["okta.users.read", "okta.groups.read", "okta.schemas.read"];

fn form(w: &World, dpop: bool) -> ConfigForm {
    ConfigForm {
        name: "acme".into(),
        okta_domain: w.okta.url(),
        api_token: String::new(),
        sync_target: SyncTarget::Users,
        service_app: Some(ServiceApp {
            client_id: APP.into(),
            dpop,
        }),
    }
}

/// The admin's steps: a key from the host, the app in Okta with that
/// public JWK, `scopes` granted, DPoP required or not.
fn register(w: &World, scopes: &[&str], dpop: bool) {
    let key = KeyRing::add(w.infraon(), "acme").expect("key");
    w.okta.register_service_app(OktaApp {
        client_id: APP.into(),
        jwks: vec![key.jwk],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        dpop,
    });
}

async fn full_sync(w: &World) -> RunOutcome {
    let record = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .expect("host")
        .expect("sync");
    record.outcome.expect("finished")
}

fn api_schemes(w: &World) -> Vec<String> {
    w.okta
        .auth_log()
        .into_iter()
        .filter(|e| e.path.starts_with("/api/"))
        .map(|e| e.scheme)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_app_installs_and_syncs_with_bearer_tokens_only() {
    let w = world(40, 5).await;
    register(&w, &ALL, false);
    let summary = w
        .runtime
        .install(&form(&w, false), DEV)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        summary.service_app.map(|a| a.client_id).as_deref(),
        Some(APP)
    );
    assert_eq!(full_sync(&w).await, RunOutcome::Succeeded);
    let schemes = api_schemes(&w);
    assert!(!schemes.is_empty());
    assert!(schemes.iter().all(|s| s == "Bearer"), "{schemes:?}");
    assert!(w.okta.auth_log().iter().all(|e| e.scheme != "SSWS"));
    assert!(w.okta.refused_assertions().is_empty());
    assert!(w.runtime.verify_installed("acme").await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dpop_app_syncs_with_a_proof_on_every_request() {
    let w = world(40, 5).await;
    register(&w, &ALL, true);
    w.runtime
        .install(&form(&w, true), DEV)
        .await
        .unwrap()
        .unwrap();
    w.okta.rotate_dpop_nonce();
    assert_eq!(full_sync(&w).await, RunOutcome::Succeeded);
    let log = w.okta.auth_log();
    let api: Vec<_> = log.iter().filter(|e| e.path.starts_with("/api/")).collect();
    assert!(
        api.iter().all(|e| e.scheme == "DPoP" && e.dpop_proof),
        "{api:?}"
    );
    assert!(w.okta.refused_assertions().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_names_a_missing_scope_and_a_missing_key() {
    let w = world(10, 2).await;
    let no_key = w.runtime.verify_form(&form(&w, false), DEV).await.unwrap();
    match no_key {
        Err(VerifyError::Okta(OktaFailure::ServiceApp(ServiceAppFailure::Signing(m)))) => {
            assert!(m.contains("harness keys add"), "{m}")
        }
        other => panic!("expected a signing failure, got {other:?}"),
    }
    register(&w, &["okta.users.read", "okta.groups.read"], false);
    let outcome = w.runtime.verify_form(&form(&w, false), DEV).await.unwrap();
    let Err(VerifyError::Okta(f)) = outcome else {
        panic!("verify must fail, got {outcome:?}");
    };
    match &f {
        OktaFailure::ServiceApp(ServiceAppFailure::ScopeNotGranted(s)) => {
            assert_eq!(s, &vec!["okta.schemas.read".to_owned()])
        }
        other => panic!("expected a missing scope, got {other:?}"),
    }
    let text = render::verify_error(&VerifyError::Okta(f));
    assert!(text.contains("okta.schemas.read"), "{text}");
    // Nothing was installed, and the refused form left no token behind.
    assert!(w.runtime.configs().await.unwrap().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_is_rotated_without_downtime() {
    let w = world(20, 3).await;
    register(&w, &ALL, false);
    w.runtime
        .install(&form(&w, false), DEV)
        .await
        .unwrap()
        .unwrap();
    let old = KeyRing::load(w.infraon(), "acme").unwrap().shown().unwrap()[0].clone();
    // A new key waits: the old one keeps signing, Okta needs nothing yet.
    let new = KeyRing::add(w.infraon(), "acme").unwrap();
    assert!(!new.signing);
    assert_eq!(full_sync(&w).await, RunOutcome::Succeeded);
    // The admin pastes the new key beside the old one, then retires the old.
    let mut app = w.okta.service_app(APP).unwrap();
    app.jwks.push(new.jwk.clone());
    w.okta.register_service_app(app.clone());
    KeyRing::retire(w.infraon(), "acme", &old.kid).unwrap();
    assert_eq!(full_sync(&w).await, RunOutcome::Succeeded);
    // Okta forgets the old key; the config never needed it again.
    app.jwks.retain(|k| k["kid"] != old.kid.as_str());
    w.okta.register_service_app(app);
    assert_eq!(full_sync(&w).await, RunOutcome::Succeeded);
    assert!(w.okta.refused_assertions().is_empty());
    assert!(
        KeyRing::retire(w.infraon(), "acme", &new.kid).is_err(),
        "never the last key"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_private_keys_and_access_tokens_never_leak() {
    let w = world(30, 4).await;
    register(&w, &ALL, true);
    let installed = w.runtime.install(&form(&w, true), DEV).await.unwrap();
    let run = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap();
    let verify = w.runtime.verify_installed("acme").await.unwrap();
    // A failing verify too: its error text must not carry the token either.
    w.okta.grant_service_scopes(APP, &["okta.users.read"]);
    let failed = w.runtime.verify_installed("acme").await.unwrap();
    assert!(failed.is_err());
    let mut secrets = KeyRing::private_material(w.infraon(), "acme").unwrap();
    assert_eq!(secrets.len(), 4, "the assertion key and the DPoP key");
    let tokens = w.okta.issued_service_tokens();
    assert!(tokens.len() >= 2);
    secrets.extend(tokens);
    let mut leaks = Leaks::default();
    leaks.search_logs(w.infraon(), &secrets).unwrap();
    for (place, text) in [
        ("install", format!("{installed:?}")),
        ("sync", format!("{run:?}")),
        ("verify", format!("{verify:?}")),
        ("failed verify", format!("{failed:?}")),
        ("storage", w.all_storage_text()),
    ] {
        leaks.search(place, text.as_bytes(), &secrets);
    }
    leaks.search_files(w.state.path(), &secrets).unwrap();
    assert!(leaks.0.is_empty(), "found in {:?}", leaks.0);
}
