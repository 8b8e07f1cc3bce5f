//! Two host processes on one state directory: a config's sync runs in one
//! of them at a time (its run lease), the other is told so (exit 3); when
//! the holder is killed, its lease expires and the other process takes the
//! run over, resuming it from the plugin's checkpoint. Leases last 2 s
//! here (`common::FAST_LEASE_TTL_SECS`, a faster profile than the default
//! 90 s) so that the expiry fits in the test.

mod common;

use std::time::{Duration, Instant};

use common::{directory, harness, installed, is_busy, sync_until_not_busy};
use fake_infraon::Infraon;

#[tokio::test(flavor = "multi_thread")]
async fn one_process_syncs_a_config_and_the_other_takes_over_after_a_crash() {
    let (okta, cache, expected) = common::org_with_clean_directory().await;

    // Slow answers make the run last seconds.
    okta.faults().latency(Duration::from_millis(250));
    let state = installed(&okta, cache.path());
    let mut first = harness(state.path())
        .args(["sync", "--name", "acme"])
        .spawn()
        .unwrap();
    // Wait until the first process holds the lease (it has started its run).
    let infraon = Infraon::open(state.path()).unwrap();
    let started = Instant::now();
    while infraon.lease_get("okta/acme").unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no lease taken"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // A second process is refused while the first is alive, and changes nothing.
    let second = harness(state.path())
        .args(["sync", "--name", "ACME"])
        .status()
        .unwrap();
    assert!(
        is_busy(second),
        "the second process was not refused: {second}"
    );
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run ended before the second was refused; nothing was tested"
    );

    // The holder dies without releasing; the other takes over once the
    // lease has expired, and resumes the same run.
    first.kill().unwrap();
    let _ = first.wait();
    let lease = infraon
        .lease_get("okta/acme")
        .unwrap()
        .expect("left behind");
    sync_until_not_busy(state.path());
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        now_ms >= lease.expires_at_ms,
        "taken before the lease expired"
    );
    assert!(directory(state.path()) == expected, "the directory differs");

    // One run, resumed, not a second one started beside it.
    let runs = harness(state.path())
        .args(["--json", "runs", "--name", "acme"])
        .stdout(std::process::Stdio::piped())
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    let runs = runs["ok"].as_array().expect("a list of runs");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0]["outcome"], "Succeeded", "{runs:?}");
    assert_eq!(infraon.lease_get("okta/acme").unwrap(), None, "released");
    okta.shutdown().await;
}
