//! The sandbox, tested with the probe guest: egress outside the allowlist is
//! denied as a value, runaway guests are stopped and reported as typed host
//! errors, and the host carries on; the compiled component is cached.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use host_harness::bindings::exports::infraon::okta::verify::{VerifyError, VerifyReport};
use host_harness::bindings::infraon::okta::types::{
    ConfigForm, InstallOptions, OktaFailure, SyncTarget,
};
use host_harness::policy::{Limits, granted_origin};
use host_harness::state::Scope;
use host_harness::{HostError, Infraon, Runtime};

fn probes(state: &Path, limits: Limits) -> Runtime {
    let infraon = Arc::new(Infraon::open(state).unwrap());
    Runtime::new(
        Path::new(host_harness::SANDBOX_PROBES_WASM),
        Some(&state.join("cache")),
        infraon,
        limits,
    )
    .unwrap()
}

fn limits() -> Limits {
    Limits {
        memory_bytes: 32 << 20,
        call_deadline: Duration::from_secs(2),
        request_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

async fn probe(
    rt: &Runtime,
    scope: Scope,
    name: &str,
    target: &str,
) -> Result<Result<VerifyReport, VerifyError>, HostError> {
    let form = ConfigForm {
        name: name.into(),
        okta_domain: target.into(),
        api_token: "00t".into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    };
    let options = InstallOptions {
        development_mode: true,
    };
    rt.call(scope, async |store, plugin| {
        plugin.verify_form(store, &form, options).await
    })
    .await
}

/// After any misbehaviour the same runtime still serves a well-behaved call.
async fn still_serves(rt: &Runtime) {
    let ok = probe(rt, Scope::default(), "storage", "")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ok.requests, 5, "the probe read back the 5 bytes it stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_outside_the_allowlist_is_denied_as_a_value_and_logged() {
    let state = tempfile::tempdir().unwrap();
    let rt = probes(state.path(), limits());
    let scope = Scope {
        config: Some("acme".into()),
        allowed_origin: granted_origin("https://acme.okta.com", false),
    };
    let outcome = probe(&rt, scope, "egress", "exfiltrate.example:80")
        .await
        .unwrap();
    match outcome {
        Err(VerifyError::Okta(OktaFailure::EgressDenied(code))) => {
            assert!(code.contains("HttpRequestDenied"), "{code}")
        }
        other => panic!("expected HttpRequestDenied, got {other:?}"),
    }
    let lines = rt.infraon().log_lines(host_harness::PLUGIN_ID).unwrap();
    let denial = lines
        .iter()
        .find(|l| l.message.contains("egress denied"))
        .expect("a log line for the denial");
    assert!(
        denial.message.contains("exfiltrate.example"),
        "{}",
        denial.message
    );
    assert!(
        denial.message.contains("https://acme.okta.com"),
        "{}",
        denial.message
    );
    assert_eq!(denial.config.as_deref(), Some("acme"));

    // No grant at all: nothing is reachable.
    let outcome = probe(&rt, Scope::default(), "egress", "127.0.0.1:9")
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            Err(VerifyError::Okta(OktaFailure::EgressDenied(_)))
        ),
        "{outcome:?}"
    );
    still_serves(&rt).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_that_loops_forever_is_stopped_within_the_deadline() {
    let state = tempfile::tempdir().unwrap();
    let rt = probes(state.path(), limits());
    let started = Instant::now();
    let err = probe(&rt, Scope::default(), "loop", "").await.unwrap_err();
    let took = started.elapsed();
    assert!(
        matches!(err, HostError::Deadline(d) if d == Duration::from_secs(2)),
        "{err:?}"
    );
    assert!(
        took < Duration::from_secs(4),
        "stopped after {took:?}, deadline 2 s"
    );
    still_serves(&rt).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guest_that_exceeds_the_memory_cap_fails_cleanly() {
    let state = tempfile::tempdir().unwrap();
    let rt = probes(state.path(), limits());
    let err = probe(&rt, Scope::default(), "alloc", "").await.unwrap_err();
    assert!(matches!(err, HostError::MemoryCap(32)), "{err:?}");
    assert!(err.to_string().contains("memory cap of 32 MiB"), "{err}");
    still_serves(&rt).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_and_a_stack_overflow_are_reported_and_the_host_carries_on() {
    let state = tempfile::tempdir().unwrap();
    let rt = probes(state.path(), limits());
    let err = probe(&rt, Scope::default(), "panic", "").await.unwrap_err();
    assert!(
        matches!(&err, HostError::Trap(m) if m.contains("panicked")),
        "{err:?}"
    );
    let err = probe(&rt, Scope::default(), "stack", "").await.unwrap_err();
    assert!(
        matches!(&err, HostError::Trap(m) if m.contains("stack overflow")),
        "{err:?}"
    );
    still_serves(&rt).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_called_out_of_order_are_refused_and_the_host_carries_on() {
    let state = tempfile::tempdir().unwrap();
    let rt = probes(state.path(), limits());
    let before = rt
        .infraon()
        .people(fake_infraon::SyncTarget::Users)
        .unwrap();
    let err = probe(&rt, Scope::default(), "order", "").await.unwrap_err();
    assert!(
        matches!(&err, HostError::Trap(m) if m.contains("children")),
        "{err:?}"
    );
    assert_eq!(
        rt.infraon()
            .people(fake_infraon::SyncTarget::Users)
            .unwrap(),
        before
    );
    still_serves(&rt).await;
}

#[test]
fn the_second_load_uses_the_compiled_cache() {
    let state = tempfile::tempdir().unwrap();
    let first = probes(state.path(), limits());
    assert!(!first.loaded_from_cache());
    let cached: Vec<_> = std::fs::read_dir(state.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1, "one compiled artefact is kept");
    let second = probes(state.path(), limits());
    assert!(second.loaded_from_cache());
    assert_eq!(second.contract_version(), "0.1.0");
}

#[test]
fn a_corrupt_cache_entry_is_recompiled_not_trusted() {
    let state = tempfile::tempdir().unwrap();
    drop(probes(state.path(), limits()));
    for entry in std::fs::read_dir(state.path().join("cache")).unwrap() {
        std::fs::write(entry.unwrap().path(), b"not a compiled component").unwrap();
    }
    let rt = probes(state.path(), limits());
    assert!(!rt.loaded_from_cache());
}

/// The test of each probe case. A case added to `foreach_probe_case!`
/// without a line here does not compile.
macro_rules! test_of {
    (spin) => {
        a_guest_that_loops_forever_is_stopped_within_the_deadline
    };
    (alloc) => {
        a_guest_that_exceeds_the_memory_cap_fails_cleanly
    };
    (panic) => {
        a_panic_and_a_stack_overflow_are_reported_and_the_host_carries_on
    };
    (stack) => {
        a_panic_and_a_stack_overflow_are_reported_and_the_host_carries_on
    };
    (egress) => {
        a_request_outside_the_allowlist_is_denied_as_a_value_and_logged
    };
    (order) => {
        imports_called_out_of_order_are_refused_and_the_host_carries_on
    };
    (storage) => {
        // Every runaway case ends by checking the host still serves storage.
        a_panic_and_a_stack_overflow_are_reported_and_the_host_carries_on
    };
}

macro_rules! every_case_has_its_test {
    ($($case:ident: $name:literal,)*) => {
        /// Each probe case names its test (checked when this compiles),
        /// and no two cases share the name the guest dispatches on.
        #[test]
        fn every_probe_case_has_its_test() {
            let tested: Vec<(&str, fn())> = vec![$(($name, test_of!($case) as fn()),)*];
            let names: std::collections::BTreeSet<&str> = tested.iter().map(|(n, _)| *n).collect();
            assert_eq!(names.len(), tested.len(), "two probe cases share a name");
        }
    };
}
host_harness::foreach_probe_case!(every_case_has_its_test);
