//! The host's own records of installed configs: looked up by name as the
//! plugin compares names (ignoring case), and a failing store reported as
//! the host's failure — never turned into "no egress" or a load error.

use crate::common;

use host_harness::HostError;
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};

#[tokio::test(flavor = "multi_thread")]
async fn a_config_name_in_another_case_reaches_its_okta() {
    let w = common::world(20, 2).await;
    w.runtime
        .install(&w.good_form("acme"), common::DEV)
        .await
        .unwrap()
        .unwrap();
    let report = w.runtime.verify_installed("ACME").await.unwrap().unwrap();
    assert!(report.requests > 0);
    let run = w
        .runtime
        .sync("Acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(run.config, "acme");
    w.runtime.uninstall("ACME").await.unwrap().unwrap();
    assert!(
        w.infraon()
            .installation_get(host_harness::PLUGIN_ID, "acme")
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_host_store_is_the_hosts_error_not_no_egress() {
    let w = common::world(5, 1).await;
    w.runtime
        .install(&w.good_form("acme"), common::DEV)
        .await
        .unwrap()
        .unwrap();
    // Break the host's record of installations behind its back.
    let db = rusqlite::Connection::open(w.state.path().join(fake_infraon::DATABASE_FILE)).unwrap();
    db.execute_batch("DROP TABLE installations").unwrap();
    let err = w.runtime.verify_installed("acme").await.unwrap_err();
    assert!(
        matches!(&err, HostError::Backend(m) if m.contains("installed configs")),
        "{err:?}"
    );
    let err = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::Backend(_)), "{err:?}");
}
