//! Crash safety: the `harness` binary killed with SIGKILL in the middle of a
//! `harness sync`, at several points, then run again, ends with the same
//! directory as an uninterrupted run.
//!
//! The kill points are counted in Okta requests, not in milliseconds: a
//! process is killed once its sync has sent the n-th request, which is then
//! still in flight (each answer takes 250 ms). A sync that reads ahead
//! finishes in a few round trips, so a timer would land in different phases
//! on different machines, or after the end.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{directory, harness, installed, sync_until_not_busy};
use fake_okta::FakeOkta;

/// Starts a sync and SIGKILLs it once it has sent `requests` more requests
/// to `okta`; panics if it ended first, since then nothing was tested.
fn sync_killed_after(state: &Path, okta: &FakeOkta, requests: u64) {
    // The previous kill's lease must expire first, or this one is refused.
    common::wait_until_lease_free(state);
    let before = okta.request_count();
    let mut child = harness(state)
        .args(["sync", "--name", "acme"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    while okta.request_count() < before + requests {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the sync ended ({status}) after {} of {requests} requests, before the kill",
                okta.request_count() - before
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sync sent {} of {requests} requests in 60 s",
            okta.request_count() - before
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no cleanup.
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_any_point_and_rerun_equals_an_uninterrupted_one() {
    let (clean, cache, expected) = common::org_with_clean_directory().await;
    assert_eq!(expected.len(), 1_000);
    // The requests of a whole sync: the unit the kill points are spread on.
    let total = clean.request_count();
    assert!(total >= 10, "a whole sync sent only {total} requests");

    // Each scenario has an org of its own (the same people), so that its
    // request count is its own sync's. Slow answers keep the n-th request
    // in flight while the process is killed.
    let points = [1, total / 4, total / 2, total * 3 / 4];
    let mut orgs = Vec::new();
    for _ in 0..=points.len() {
        let okta = common::start_org().await;
        okta.faults().latency(Duration::from_millis(250));
        orgs.push(okta);
    }
    let cache = cache.path();
    std::thread::scope(|s| {
        let runs: Vec<_> = points
            .iter()
            .zip(&orgs)
            .map(|(&n, okta)| {
                s.spawn(move || {
                    let state = installed(okta, cache);
                    sync_killed_after(state.path(), okta, n);
                    sync_until_not_busy(state.path());
                    (n, directory(state.path()))
                })
            })
            .collect();
        // Killed again and again in the same directory before finishing:
        // each resumed run is killed after a fifth of a whole sync's requests.
        let okta = &orgs[points.len()];
        let repeated = s.spawn(move || {
            let state = installed(okta, cache);
            for _ in 0..3 {
                sync_killed_after(state.path(), okta, (total / 5).max(1));
            }
            sync_until_not_busy(state.path());
            directory(state.path())
        });
        for run in runs {
            let (n, got) = run.join().unwrap();
            assert!(
                got == expected,
                "killed at request {n} of {total}: the directory differs"
            );
        }
        assert!(
            repeated.join().unwrap() == expected,
            "killed three times: the directory differs"
        );
    });
    for okta in orgs {
        okta.shutdown().await;
    }
    clean.shutdown().await;
}
