//! Both supported contracts in one host process: the frozen 0.1.0 (the
//! sandbox probe guest is a small 0.1.0 component) and the latest 0.2.0
//! (the plugin), sharing one fake Infraon.

use crate::common;

use std::path::Path;
use std::sync::Arc;

use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use host_harness::bindings::exports::infraon::okta::verify::VerifyError;
use host_harness::bindings::infraon::okta::types::OktaFailure;
use host_harness::policy::granted_origin;
use host_harness::state::Scope;
use host_harness::{Runtime, bindings};

#[tokio::test(flavor = "multi_thread")]
async fn a_0_1_0_guest_and_the_0_2_0_plugin_run_side_by_side() {
    let w = common::world(30, 4).await;
    let old = Runtime::new(
        Path::new(host_harness::SANDBOX_PROBES_WASM),
        Some(&common::shared_cache()),
        Arc::clone(w.infraon()),
        common::test_limits(),
    )
    .unwrap();
    assert_eq!(old.contract_version(), "0.1.0");
    assert_eq!(w.runtime.contract_version(), bindings::CONTRACT_VERSION);

    // The 0.1.0 guest writes and reads storage through the 0.1.0 imports.
    let probe = |name: &str| common::form(name, "http://127.0.0.1:9", "00t");
    let scope = Scope {
        config: Some("storage".into()),
        allowed_origin: None,
    };
    let report = old
        .call(scope, async |store, plugin| {
            plugin
                .verify_form(store, &probe("storage"), common::DEV)
                .await
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.requests, "alive".len() as u32);
    let kept = w
        .infraon()
        .storage_get(host_harness::PLUGIN_ID, "probe")
        .unwrap();
    assert_eq!(kept.as_deref(), Some(&b"alive"[..]));

    // Its wasi:http goes through the same egress guard, answered as a value.
    let scope = Scope {
        config: Some("acme".into()),
        allowed_origin: granted_origin("https://acme.okta.com", false),
    };
    let mut form = probe("egress");
    form.okta_domain = "exfiltrate.example:80".into();
    let denied = old
        .call(scope, async |store, plugin| {
            plugin.verify_form(store, &form, common::DEV).await
        })
        .await
        .unwrap();
    match denied {
        Err(VerifyError::Okta(OktaFailure::EgressDenied(code))) => {
            assert!(code.contains("HttpRequestDenied"), "{code}")
        }
        other => panic!("expected HttpRequestDenied, got {other:?}"),
    }

    // Meanwhile the 0.2.0 plugin installs and syncs in the same process.
    let installed = w
        .runtime
        .install(&w.good_form("acme"), common::DEV)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(installed.name, "acme");
    let run = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(run.counts.created, 30);

    // And the 0.1.0 guest still answers after the other's run.
    let again = old
        .call(Scope::default(), async |store, plugin| {
            plugin
                .verify_form(store, &probe("storage"), common::DEV)
                .await
        })
        .await
        .unwrap();
    assert!(again.is_ok(), "{again:?}");

    // 0.1.0 has no `events`: a delivery is a contract error, never a trap,
    // and the same instance kind keeps answering.
    let gap = old.deliver_events("storage", &[]).await.unwrap_err();
    assert!(
        matches!(&gap, host_harness::HostError::ContractMismatch { detail, .. } if detail.contains("Event Hooks")),
        "{gap:?}"
    );

    // Nor issue 15's `sync` calls: each a contract error naming what is missing.
    let mismatch = |e: host_harness::HostError, what: &str| {
        assert!(
            matches!(&e, host_harness::HostError::ContractMismatch { detail, .. } if detail.contains(what)),
            "{e:?}"
        )
    };
    mismatch(
        old.run_changes("storage", 1, 0, 10).await.unwrap_err(),
        "who a run changes",
    );
    mismatch(
        old.decide_held_by("storage", 1, true, "Ada")
            .await
            .unwrap_err(),
        "who approves",
    );
    mismatch(
        old.decisions("storage", 5).await.unwrap_err(),
        "who approves",
    );
    mismatch(
        old.provision("storage", "ada@example.com")
            .await
            .unwrap_err(),
        "provisioning of one person",
    );
    mismatch(old.rehire("storage").await.unwrap_err(), "rehire policy");

    // Nor `scope` (issue 15): counting, saving and population rules are
    // contract errors too.
    let wanted = host_harness::bindings::exports::infraon::okta::scope::Scope {
        groups: vec!["IT-Staff".into()],
        filter: None,
    };
    for gap in [
        old.count_scope("storage", &wanted).await.unwrap_err(),
        old.set_scope("storage", &wanted).await.unwrap_err(),
        old.populations("storage").await.unwrap_err(),
    ] {
        assert!(
            matches!(&gap, host_harness::HostError::ContractMismatch { detail, .. } if detail.contains("no scope or population rules")),
            "{gap:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_value_0_1_0_cannot_carry_is_a_contract_error_not_a_crash() {
    // A `waiting` step (0.2.0 only) has no 0.1.0 form: converting it is a
    // typed gap, which the runtime reports as a contract mismatch.
    let latest = bindings::exports::infraon::okta::sync::StepStatus::Waiting((
        host_harness::bindings::exports::infraon::okta::sync::RunRecord {
            id: 1,
            config: "acme".into(),
            mode: SyncMode::Full,
            trigger: Trigger::Manual,
            started_at: String::new(),
            ended_at: None,
            counts: bindings::exports::infraon::okta::sync::Counts {
                fetched: 0,
                created: 0,
                updated: 0,
                unchanged: 0,
                deactivated: 0,
                reactivated: 0,
                role_changes: 0,
                unsynced: 0,
            },
            requests: 0,
            duration_ms: 0,
            outcome: None,
            error: None,
        },
        bindings::exports::infraon::okta::sync::Wait {
            phase: "users".into(),
            until_unix_ms: 1,
            reason: "429".into(),
        },
    ));
    let old: Result<bindings::v0_1_0::exports::infraon::okta::sync::StepStatus, _> =
        bindings::v0_1_0::convert(&latest);
    let err = old.unwrap_err();
    assert!(
        err.to_string().contains("0.1.0 plugin cannot carry"),
        "{err}"
    );
}
