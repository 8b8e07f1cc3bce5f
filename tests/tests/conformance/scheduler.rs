//! Scheduled syncs through the host's scheduler loop, with a clock the test
//! moves: fires at local time, overlapping fires skipped and recorded,
//! missed fires coalesced into one catch-up run.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{DEV, world};
use host_harness::bindings::exports::infraon::okta::sync::Trigger;
use host_harness::scheduler::Entry;
use host_harness::scheduler::{LocalTime, Schedule};
use host_harness::serve::{FireOutcome, ScheduleLoop};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn wait_idle(lp: &ScheduleLoop, config: &str) {
    for _ in 0..600 {
        if !lp.is_running(config) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the scheduled run did not finish");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_schedule_fires_runs_skips_overlaps_and_catches_up() {
    let w = world(40, 3).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    // Daily at 02:00 London time, set on 2026-03-27 (before the spring change).
    let schedule = Schedule::Daily(LocalTime {
        hour: 2,
        minute: 0,
        time_zone: "Europe/London".into(),
    });
    let entry = Entry::new(schedule, utc("2026-03-27T12:00:00Z"));
    w.infraon()
        .schedule_set(
            host_harness::PLUGIN_ID,
            "acme",
            &serde_json::to_string(&entry).unwrap(),
        )
        .unwrap();

    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let lp = ScheduleLoop::new(runtime.clone());

    assert!(
        lp.tick(utc("2026-03-28T01:59:00Z")).unwrap().is_empty(),
        "not yet 02:00 GMT"
    );
    let fired = lp.tick(utc("2026-03-28T02:00:00Z")).unwrap();
    assert_eq!(
        fired,
        vec![FireOutcome::Started {
            config: "acme".into(),
            at: utc("2026-03-28T02:00:00Z"),
            missed: 0
        }]
    );
    wait_idle(&lp, "acme").await;
    let runs = runtime.sync_history("acme", 5).await.unwrap().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger, Trigger::Scheduled);
    assert_eq!(runs[0].counts.created, 40);

    // After the change to BST, 02:00 London is 01:00 UTC; Sync Now is running then.
    lp.set_running("acme", true);
    let fired = lp.tick(utc("2026-03-29T01:00:00Z")).unwrap();
    assert_eq!(
        fired,
        vec![FireOutcome::Skipped {
            config: "acme".into(),
            at: utc("2026-03-29T01:00:00Z")
        }]
    );
    lp.set_running("acme", false);
    let lines = w.infraon().log_lines(host_harness::PLUGIN_ID).unwrap();
    assert!(lines.iter().any(|l| l.message.contains("skipped") && l.fields_json.contains("2026-03-29T01:00:00")), "recorded");

    // The host was down for three days: one catch-up run, the misses counted.
    let fired = lp.tick(utc("2026-04-02T09:00:00Z")).unwrap();
    assert_eq!(
        fired,
        vec![FireOutcome::Started {
            config: "acme".into(),
            at: utc("2026-04-02T01:00:00Z"),
            missed: 3
        }]
    );
    wait_idle(&lp, "acme").await;
    assert_eq!(
        runtime
            .sync_history("acme", 5)
            .await
            .unwrap()
            .unwrap()
            .len(),
        2
    );
    assert!(lp.tick(utc("2026-04-02T09:30:00Z")).unwrap().is_empty());
}

/// The scheduler import (what the plugin calls), the console's reading of
/// a schedule and `serve`'s loop all use one format: a schedule set through
/// the import, under the config's name in another case, is shown and fires.
#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_set_through_the_import_is_shown_and_fires() {
    use host_harness::bindings::infraon::okta::scheduler::{self as wit, Host};
    use host_harness::state::{PluginState, Scope};

    let w = world(10, 2).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let mut plugin_side = PluginState::new(
        host_harness::backends(w.infraon()),
        Scope::default(),
        16 << 20,
        Duration::from_secs(2),
    );
    let every_hour = wit::Schedule::EveryHours(1);
    plugin_side.set("ACME".into(), every_hour).unwrap();
    assert!(matches!(
        plugin_side.get("acme".into()).unwrap(),
        Some(wit::Schedule::EveryHours(1))
    ));

    // What the console and `schedule show` read.
    let entry =
        host_harness::interfaces::scheduler::load(&host_harness::backends(w.infraon()), "acme")
            .unwrap()
            .expect("the schedule is kept under the installed name");
    assert_eq!(entry.schedule, Schedule::EveryHours(1));
    let next = entry.next_fire().unwrap();

    // What `serve` fires.
    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let lp = ScheduleLoop::new(runtime.clone());
    assert!(
        lp.tick(next - chrono::Duration::seconds(1))
            .unwrap()
            .is_empty()
    );
    let fired = lp.tick(next).unwrap();
    assert!(
        matches!(&fired[..], [FireOutcome::Started { config, .. }] if config == "acme"),
        "{fired:?}"
    );
    wait_idle(&lp, "acme").await;
    let runs = runtime.sync_history("acme", 5).await.unwrap().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger, Trigger::Scheduled);

    plugin_side.clear("Acme".into()).unwrap();
    assert!(
        host_harness::interfaces::scheduler::load(&host_harness::backends(w.infraon()), "acme")
            .unwrap()
            .is_none()
    );
}
