//! Install, update, uninstall and list through the built component; install
//! is blocked unless verify passes; the token never leaks.

mod service_app;

use crate::common;

use common::{DEV, form, world};
use host_harness::bindings::exports::infraon::okta::install::InstallError;
use host_harness::bindings::infraon::okta::types::OktaFailure;
use host_harness::render;

#[tokio::test(flavor = "multi_thread")]
async fn install_is_blocked_when_verify_fails_and_nothing_is_kept() {
    let w = world(10, 2).await;
    let outcome = w
        .runtime
        .install(&form("acme", &w.okta.url(), "00wrong"), DEV)
        .await
        .unwrap();
    assert!(
        matches!(
            &outcome,
            Err(InstallError::VerificationFailed(OktaFailure::InvalidToken(
                _
            )))
        ),
        "{outcome:?}"
    );
    assert!(w.runtime.configs().await.unwrap().unwrap().is_empty());
    assert!(
        w.infraon()
            .storage_list_keys(host_harness::PLUGIN_ID, "")
            .unwrap()
            .is_empty()
    );
    assert!(
        w.infraon()
            .installation_get(host_harness::PLUGIN_ID, "acme")
            .unwrap()
            .is_none()
    );

    w.okta.faults().fail_always(500);
    let outcome = w.runtime.install(&w.good_form("acme"), DEV).await.unwrap();
    assert!(
        matches!(
            &outcome,
            Err(InstallError::VerificationFailed(OktaFailure::ServerError(
                500
            )))
        ),
        "{outcome:?}"
    );
    assert!(w.runtime.configs().await.unwrap().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn install_list_update_verify_uninstall_round_trip() {
    let w = world(10, 2).await;
    let summary = w
        .runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(summary.okta_origin, w.okta.url());
    assert!(summary.development_mode);
    let grant = w
        .infraon()
        .installation_get(host_harness::PLUGIN_ID, "acme")
        .unwrap()
        .unwrap();
    assert_eq!(
        grant.okta_origin,
        w.okta.url(),
        "the host records the egress it granted"
    );

    let dup = w.runtime.install(&w.good_form("ACME"), DEV).await.unwrap();
    assert!(
        matches!(dup, Err(InstallError::DuplicateName(_))),
        "names are unique ignoring case: {dup:?}"
    );

    w.runtime
        .install(&w.good_form("beta"), DEV)
        .await
        .unwrap()
        .unwrap();
    let names: Vec<_> = w
        .runtime
        .configs()
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["acme", "beta"]);

    // A blank token keeps the stored one: the update still verifies.
    let mut keep = w.good_form("acme");
    keep.api_token.clear();
    keep.sync_target = host_harness::bindings::infraon::okta::types::SyncTarget::Requesters;
    let updated = w.runtime.update(&keep, DEV).await.unwrap().unwrap();
    assert_eq!(
        updated.sync_target,
        host_harness::bindings::infraon::okta::types::SyncTarget::Requesters
    );

    let report = w.runtime.verify_installed("acme").await.unwrap().unwrap();
    assert_eq!(report.requests, 2);

    // Revoking the token in Okta makes the installed config fail verify.
    w.okta.faults().revoke_token();
    let err = w
        .runtime
        .verify_installed("acme")
        .await
        .unwrap()
        .unwrap_err();
    assert!(render::verify_error(&err).contains("E0000011"), "{err:?}");
    w.okta.faults().clear();

    w.runtime.uninstall("acme").await.unwrap().unwrap();
    let names: Vec<_> = w
        .runtime
        .configs()
        .await
        .unwrap()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["beta"]);
    assert!(
        w.infraon()
            .installation_get(host_harness::PLUGIN_ID, "acme")
            .unwrap()
            .is_none()
    );
    assert!(
        w.infraon()
            .secret_get(host_harness::PLUGIN_ID, "token/acme")
            .unwrap()
            .is_none()
    );
    let gone = w.runtime.verify_installed("acme").await.unwrap();
    assert!(matches!(
        gone,
        Err(host_harness::bindings::exports::infraon::okta::verify::VerifyError::UnknownConfig(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_never_appears_in_logs_errors_storage_or_the_raw_database() {
    let w = world(10, 2).await;
    let token = w.okta.api_token().to_string();
    let mut error_texts = Vec::new();

    // Failures of every kind with the real token, so it travels everywhere.
    for fault in 0..4 {
        match fault {
            0 => w.okta.faults().deny_permission(),
            1 => w.okta.faults().non_json(),
            2 => w.okta.faults().fail_always(503),
            _ => w.okta.faults().wrong_url(),
        }
        let err = w
            .runtime
            .install(&w.good_form("acme"), DEV)
            .await
            .unwrap()
            .unwrap_err();
        error_texts.push(format!("{} {err:?}", render::install_error(&err)));
        w.okta.faults().clear();
    }
    // The token pasted into the domain field must not be echoed back either.
    let err = w
        .runtime
        .verify_form(&form("acme", &token, &token), DEV)
        .await
        .unwrap()
        .unwrap_err();
    error_texts.push(format!("{} {err:?}", render::verify_error(&err)));

    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    w.runtime.verify_installed("acme").await.unwrap().unwrap();
    let listed = serde_json::to_string(&w.runtime.configs().await.unwrap().unwrap()).unwrap();

    for text in &error_texts {
        assert!(!text.contains(&token), "token in error text: {text}");
    }
    assert!(!listed.contains(&token), "token in the config list");
    assert!(!w.all_log_text().contains(&token), "token in a log line");
    assert!(!w.all_storage_text().contains(&token), "token in storage");
    let raw = w.raw_state_bytes();
    assert!(
        !raw.windows(token.len()).any(|win| win == token.as_bytes()),
        "token in clear in the state directory"
    );
    // ...yet the secret store gives it back to the plugin.
    assert_eq!(
        w.infraon()
            .secret_get(host_harness::PLUGIN_ID, "token/acme")
            .unwrap()
            .as_deref(),
        Some(token.as_str())
    );
}
