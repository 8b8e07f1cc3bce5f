//! Crash safety: the `harness` binary killed with SIGKILL in the middle of a
//! `harness sync`, at several points, then run again, ends with the same
//! directory as an uninterrupted run.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{directory, harness, installed, sync_until_not_busy};

/// Starts a sync and SIGKILLs it after `after`; panics if it had already
/// finished, since then nothing was tested.
fn sync_killed_after(state: &Path, after: Duration) {
    // The previous kill's lease must expire first, or this one is refused.
    common::wait_until_lease_free(state);
    let mut child = harness(state)
        .args(["sync", "--name", "acme"])
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the sync finished within {after:?}, before the kill"
    );
    // `Child::kill` is SIGKILL on Unix: no destructor, no flush, no cleanup.
    child.kill().unwrap();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_killed_at_any_point_and_rerun_equals_an_uninterrupted_one() {
    let (okta, cache, expected) = common::org_with_clean_directory().await;
    assert_eq!(expected.len(), 1_000);

    // Slow answers spread the run out so the kills land in different phases
    // (before the first step, among groups and members, mid-users, late).
    // 19 requests at 250 ms take about 4.8 s: longer than the latest kill,
    // and than the three kills in a row, even on an idle machine.
    okta.faults().latency(Duration::from_millis(250));
    let org = &okta;
    let cache = cache.path();
    std::thread::scope(|s| {
        let points = [100u64, 700, 1_300, 1_900];
        let runs: Vec<_> = points
            .iter()
            .map(|&ms| {
                s.spawn(move || {
                    let state = installed(org, cache);
                    sync_killed_after(state.path(), Duration::from_millis(ms));
                    sync_until_not_busy(state.path());
                    (ms, directory(state.path()))
                })
            })
            .collect();
        // Killed again and again in the same directory before finishing.
        let repeated = s.spawn(move || {
            let state = installed(org, cache);
            for ms in [900, 1_100, 1_300] {
                sync_killed_after(state.path(), Duration::from_millis(ms));
            }
            sync_until_not_busy(state.path());
            directory(state.path())
        });
        for run in runs {
            let (ms, got) = run.join().unwrap();
            assert!(
                got == expected,
                "killed after {ms} ms: the directory differs"
            );
        }
        assert!(
            repeated.join().unwrap() == expected,
            "killed three times: the directory differs"
        );
    });
    okta.shutdown().await;
}
