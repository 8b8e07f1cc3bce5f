//! The sync engine under faults: failures deactivate nobody, mass
//! deactivations wait for approval, rate limits are respected, transient
//! errors are retried within bounds.

mod common;

use common::TOKEN;
use common::okta::Fault;
use common::world::{CONFIG, World, uid};
use plugin_core::sync::{self, Settings, Wait};
use plugin_core::{
    OktaFailure, PersonStatus, RunOutcome, StepStatus, SyncError, SyncMode, SyncRun, SyncTarget,
    TransportError,
};
use serde_json::json;

const MIN: u64 = 60_000;

fn synced(users: usize, groups: usize) -> World {
    let mut w = World::new(SyncTarget::Users);
    w.seed(users, groups);
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    w.advance(5 * MIN);
    w
}

fn active(w: &World) -> usize {
    w.people()
        .iter()
        .filter(|p| p.status == PersonStatus::Active)
        .count()
}

#[test]
fn a_run_that_fails_half_way_deactivates_nobody() {
    let mut w = synced(20, 2);
    let watermark = w.storage.map.get("state/acme/watermark").cloned();
    for i in 0..3 {
        w.okta.delete_user(&uid(i));
    }
    w.okta.set_status(&uid(5), "DEPROVISIONED");
    w.okta.sticky = Some(("DEPROVISIONED".into(), Fault::Status(503)));
    let before = w.clock.0.get();
    let err = w.try_run(SyncMode::Full).unwrap_err();
    assert_eq!(err, SyncError::Okta(OktaFailure::ServerError(503)));
    assert_eq!(active(&w), 20);
    // 1 + 3 retries of the failing page, after 1 s, 2 s and 4 s.
    let tries = w.okta.log.iter().filter(|l| l.status == 503).count();
    assert_eq!(tries, 4);
    assert!(w.clock.0.get() - before >= 7_000);
    let rec = &sync::history(&mut w.host(), CONFIG, 1).unwrap()[0];
    assert_eq!(rec.outcome, Some(RunOutcome::Failed));
    assert!(rec.error.as_deref().unwrap().contains("503"));
    assert!(!rec.error.as_deref().unwrap().contains(TOKEN));
    assert_eq!(rec.requests, 1 + 2 + 1 + 4);
    assert_eq!(
        w.storage.map.get("state/acme/watermark").cloned(),
        watermark
    );
    assert!(SyncRun::resume(&mut w.host(), CONFIG).unwrap().is_none());

    w.okta.sticky = None;
    let r = w.run(SyncMode::Full);
    assert_eq!(r.counts.deactivated, 4);
    assert_eq!(active(&w), 16);
}

#[test]
fn transient_faults_are_retried_and_auth_failures_are_not() {
    let mut w = synced(5, 2);
    w.okta
        .faults
        .push_back(("/groups/".into(), Fault::Status(502)));
    w.okta.faults.push_back((
        "/groups/".into(),
        Fault::Transport(TransportError::Timeout("slow".into())),
    ));
    w.okta.faults.push_back((
        "/api/v1/users".into(),
        Fault::Transport(TransportError::Connection("reset".into())),
    ));
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.requests, 1 + 2 + 1 + 1 + 3);

    w.okta.faults.push_back(("/".into(), Fault::Status(401)));
    w.okta.log.clear();
    let err = w.try_run(SyncMode::Full).unwrap_err();
    assert!(matches!(err, SyncError::Okta(OktaFailure::InvalidToken(_))));
    assert_eq!(w.okta.log.len(), 1);
    let rec = &sync::history(&mut w.host(), CONFIG, 1).unwrap()[0];
    assert_eq!((rec.outcome, rec.requests), (Some(RunOutcome::Failed), 1));
}

#[test]
fn a_host_failure_leaves_the_run_resumable() {
    let mut w = synced(250, 1);
    w.okta.set_profile(&uid(1), "title", json!("Lead"));
    let mut run = w.start(SyncMode::Full).unwrap();
    w.step(&mut run).unwrap(); // groups
    w.step(&mut run).unwrap(); // members, 2 pages
    w.step(&mut run).unwrap();
    w.dir.down = true;
    assert!(matches!(w.step(&mut run), Err(SyncError::Host(_))));
    w.dir.down = false;
    // A new instance picks the run up where its checkpoint was.
    let mut run = SyncRun::resume(&mut w.host(), CONFIG).unwrap().unwrap();
    let r = w.finish(&mut run).unwrap();
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!((r.counts.updated, r.counts.unchanged), (1, 249));
}

#[test]
fn mass_deactivation_is_held_until_approved() {
    let mut w = synced(20, 2);
    for i in 0..10 {
        w.okta.delete_user(&uid(i));
    }
    w.okta.set_profile(&uid(15), "title", json!("Lead"));
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held));
    assert_eq!((r.counts.deactivated, r.counts.updated), (0, 1));
    assert_eq!(active(&w), 20);
    assert_eq!(
        w.person(&uid(15))
            .fields
            .iter()
            .find(|f| f.0 == "title")
            .unwrap()
            .1,
        "Lead"
    );
    let approved = sync::approve_held(&mut w.host(), CONFIG, r.id).unwrap();
    assert_eq!(approved.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(approved.counts.deactivated, 10);
    assert_eq!(active(&w), 10);
    assert_eq!(
        sync::history(&mut w.host(), CONFIG, 1).unwrap()[0],
        approved
    );
    assert!(matches!(
        sync::approve_held(&mut w.host(), CONFIG, r.id),
        Err(SyncError::Other(_))
    ));
}

#[test]
fn held_deactivations_can_be_rejected_and_thresholds_configured() {
    let mut w = synced(20, 2);
    for i in 0..6 {
        w.okta.delete_user(&uid(i));
    }
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held));
    let rejected = sync::reject_held(&mut w.host(), CONFIG, r.id).unwrap();
    assert_eq!(rejected.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(active(&w), 20);
    assert!(matches!(
        sync::approve_held(&mut w.host(), CONFIG, r.id),
        Err(SyncError::Other(_))
    ));

    // A later run supersedes a held one.
    let held = w.run(SyncMode::Full);
    assert_eq!(held.outcome, Some(RunOutcome::Held));
    w.run(SyncMode::DryRun);
    let later = w.run(SyncMode::Incremental);
    assert!(matches!(
        sync::approve_held(&mut w.host(), CONFIG, held.id),
        Err(SyncError::Other(m)) if m.contains(&later.id.to_string())
    ));

    // 6 of 20 is 30%: allowed once the share is raised.
    w.settings(Settings {
        deactivation_share_percent: 40,
        ..Settings::default()
    });
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.counts.deactivated, 6);
    assert_eq!(active(&w), 14);
}

#[test]
fn small_deactivations_under_the_minimum_are_not_held() {
    let mut w = synced(6, 1);
    for i in 0..5 {
        w.okta.delete_user(&uid(i));
    }
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.counts.deactivated, 5);
}

#[test]
fn no_request_is_sent_while_the_budget_is_exhausted() {
    for (limit, reserve) in [(4, 0), (10, 10), (20, 25)] {
        let mut w = World::new(SyncTarget::Users);
        w.seed(900, 12);
        w.okta.limit = limit;
        w.settings(Settings {
            rate_limit_reserve_percent: reserve,
            ..Settings::default()
        });
        let start = w.clock.0.get();
        let r = w.run(SyncMode::Full);
        assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
        assert_eq!(w.okta.violations, 0, "limit {limit}");
        assert!(w.okta.log.iter().all(|l| l.status == 200), "limit {limit}");
        assert_eq!(r.requests, 1 + 12 + 5 + 1);
        // Waited for windows to reset rather than spending the reserve.
        let kept = u64::from(limit * reserve).div_ceil(100);
        let per_window = u64::from(limit) - kept;
        let windows = u64::from(r.requests).div_ceil(per_window);
        let mut seen: Vec<u64> = w.okta.log.iter().map(|l| l.at_ms / MIN).collect();
        seen.dedup();
        assert_eq!(seen.len() as u64, windows, "limit {limit}");
        assert!(w.clock.0.get() - start >= (windows - 1) * MIN);
    }
}

#[test]
fn members_of_many_groups_are_asked_for_at_once_within_the_budget() {
    // Okta's budget: the members lists of MEMBERS_IN_FLIGHT groups are on
    // their way together once Okta has told the family's headroom.
    let mut w = World::new(SyncTarget::Users);
    w.seed(300, 40);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.requests, 1 + 40 + 2 + 1);
    // (and the first pages of the users and DEPROVISIONED listings that
    // follow, asked for while the members are listed)
    assert_eq!(
        w.okta.most_prefetched,
        plugin_core::ports::MEMBERS_IN_FLIGHT + 2
    );
    assert_eq!((w.okta.prefetch_dropped(), w.okta.overcommitted), (0, 0));
    assert!(w.okta.prefetched().is_empty());

    // A small budget: fewer lists at once, none beyond what it allows.
    let mut w = World::new(SyncTarget::Users);
    w.seed(300, 40);
    w.okta.limit = 30;
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.requests, 1 + 40 + 2 + 1);
    assert_eq!((w.okta.violations, w.okta.overcommitted), (0, 0));
    assert!(w.okta.most_prefetched < plugin_core::ports::MEMBERS_IN_FLIGHT);
    assert!(w.okta.log.iter().all(|l| l.status == 200));
}

#[test]
fn the_users_page_after_the_next_is_asked_for_once_its_link_is_read() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(1_000, 0);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.requests, 1 + 5 + 1);
    // Every page after the first was asked for early (pages 3 to 5 as soon
    // as the link to each was read, while the page before was mapped), none
    // twice, and every one was used: nothing extra.
    assert!(
        w.okta.repeated_urls.is_empty(),
        "{:?}",
        w.okta.repeated_urls
    );
    assert_eq!(w.okta.prefetch_dropped(), 0);
    assert_eq!(w.okta.prefetch_used, r.requests - 1);
    assert!(w.okta.prefetched().is_empty());
}

#[test]
fn a_429_is_waited_out_until_the_reset() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(300, 2);
    w.okta.faults.push_back((
        "/api/v1/users?limit".into(),
        Fault::RateLimited { secs: 30 },
    ));
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.requests, 1 + 2 + 2 + 1 + 1);
    let at = w.okta.log.iter().position(|l| l.status == 429).unwrap();
    let reset_ms = (w.okta.log[at].at_ms / 1000 + 30) * 1000;
    assert!(w.okta.log[at + 1].at_ms >= reset_ms);
    assert_eq!(w.okta.log[at + 1].url, w.okta.log[at].url);

    // Budget spent by the org's other apps: the first answer is a 429, and
    // nothing more is sent before the window resets.
    let mut w = World::new(SyncTarget::Users);
    w.seed(10, 1);
    w.okta.exhaust();
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(w.okta.violations, 0);
    assert_eq!(r.requests, 4 + 1);
}

#[test]
fn a_429_on_either_listing_read_at_once_is_waited_out_and_ends_the_same() {
    let world = |faults: bool| {
        let mut w = World::new(SyncTarget::Users);
        w.seed(700, 3);
        for i in 0..300 {
            w.okta.set_status(&uid(i * 2), "DEPROVISIONED");
        }
        w.okta.interleave = true;
        if faults {
            for page in [
                "DEPROVISIONED%22&limit=200&after",
                "/api/v1/users?limit=200&after",
            ] {
                w.okta
                    .faults
                    .push_back((page.into(), Fault::RateLimited { secs: 30 }));
            }
        }
        w
    };
    let mut reference = world(false);
    let want = reference.run(SyncMode::Full);
    let mut w = world(true);
    let got = w.run(SyncMode::Full);
    assert_eq!(got.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(w.people(), reference.people());
    assert_eq!(got.counts, want.counts);
    // Each 429 is one request more, sent again once its window reset.
    assert_eq!(got.requests, want.requests + 2);
    assert_eq!(w.okta.log.len(), reference.okta.log.len() + 2);
    for at in w
        .okta
        .log
        .iter()
        .enumerate()
        .filter(|(_, l)| l.status == 429)
        .map(|(i, _)| i)
    {
        let reset_ms = (w.okta.log[at].at_ms / 1000 + 30) * 1000;
        let again = w.okta.log[at + 1..]
            .iter()
            .find(|l| l.url == w.okta.log[at].url)
            .unwrap();
        assert!(again.at_ms >= reset_ms);
    }
}

#[test]
fn endless_429s_fail_the_run_without_deactivating() {
    let mut w = synced(10, 1);
    w.okta.delete_user(&uid(0));
    w.okta.sticky = Some(("/api/v1/users".into(), Fault::RateLimited { secs: 5 }));
    let mut run = w.start(SyncMode::Full).unwrap();
    let err = loop {
        match w.step(&mut run) {
            Ok(StepStatus::Working(..)) => {}
            Ok(StepStatus::Waiting(_, wait)) => w.wait_out(&mut run, &wait),
            Ok(StepStatus::Finished(r)) => panic!("finished: {r:?}"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SyncError::Okta(OktaFailure::RateLimited(_))));
    assert_eq!(active(&w), 10);
}

/// Step a run to its end, collecting its waits (each checked and waited out
/// as a host does, see [`World::wait_out`]).
fn run_collecting_waits(w: &mut World, mode: SyncMode) -> (plugin_core::RunRecord, Vec<Wait>) {
    let mut run = w.start(mode).unwrap();
    let mut waits = Vec::new();
    loop {
        match w.step(&mut run).unwrap() {
            StepStatus::Finished(r) => return (r, waits),
            StepStatus::Waiting(_, wait) => {
                w.wait_out(&mut run, &wait);
                waits.push(wait);
            }
            StepStatus::Working(..) => {}
        }
    }
}

#[test]
fn a_429_resetting_a_minute_later_is_waited_out_by_the_host_and_the_run_succeeds() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(300, 2);
    w.okta.faults.push_back((
        "/api/v1/users?limit".into(),
        Fault::RateLimited { secs: 60 },
    ));
    let (r, waits) = run_collecting_waits(&mut w, SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded), "{r:?}");
    assert_eq!(waits.len(), 1, "{waits:?}");
    let at = w.okta.log.iter().position(|l| l.status == 429).unwrap();
    let reset_ms = (w.okta.log[at].at_ms / 1000 + 60) * 1000;
    assert_eq!(waits[0].until_unix_ms, reset_ms + 1_000);
    assert_eq!(waits[0].phase, "users");
    assert!(waits[0].reason.contains("users"), "{}", waits[0].reason);
    assert!(w.okta.log[at + 1].at_ms >= reset_ms + 1_000);
    assert_eq!(w.okta.log[at + 1].url, w.okta.log[at].url);
    assert_eq!(w.person(&uid(299)).status, PersonStatus::Active);
}

#[test]
fn a_429_without_reset_headers_waits_the_default_minute_and_the_run_succeeds() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(30, 2);
    w.okta
        .faults
        .push_back(("/api/v1/groups?".into(), Fault::RateLimitedBare));
    let (r, waits) = run_collecting_waits(&mut w, SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded), "{r:?}");
    assert_eq!(waits.len(), 1, "{waits:?}");
    let at = w.okta.log.iter().position(|l| l.status == 429).unwrap();
    let sent = w.okta.log[at].at_ms;
    assert!(
        (sent + 60_000..sent + 60_100).contains(&waits[0].until_unix_ms),
        "{waits:?}"
    );
    assert!(w.okta.log[at + 1].at_ms >= sent + 60_000);
    assert_eq!(r.counts.created, 30);
}

#[test]
fn a_wait_survives_a_resume_and_an_early_step_sends_nothing() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(10, 1);
    w.okta
        .faults
        .push_back(("/api/v1/groups?".into(), Fault::RateLimited { secs: 60 }));
    let mut run = w.start(SyncMode::Full).unwrap();
    let StepStatus::Waiting(_, wait) = w.step(&mut run).unwrap() else {
        panic!("the 429 did not make the run wait");
    };
    drop(run);
    // Another instance picks the run up: the wait is in the checkpoint.
    let mut run = SyncRun::resume(&mut w.host(), CONFIG).unwrap().unwrap();
    let sent = w.okta.log.len();
    w.advance(30_000);
    assert_eq!(
        w.step(&mut run).unwrap(),
        StepStatus::Waiting(run.record().clone(), wait.clone())
    );
    assert_eq!(w.okta.log.len(), sent);
    w.wait_out(&mut run, &wait);
    let r = w.finish(&mut run).unwrap();
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
}

#[test]
fn a_hung_okta_is_retried_one_timeout_per_step_then_fails_the_run() {
    let mut w = synced(10, 1);
    w.okta.sticky = Some((
        "/api/v1/users?".into(),
        Fault::Transport(TransportError::Timeout("no answer in 20 s".into())),
    ));
    let mut run = w.start(SyncMode::Full).unwrap();
    let mut backoffs = Vec::new();
    let err = loop {
        let sent = w.okta.log.len();
        let status = w.step(&mut run);
        let timeouts = w.okta.log[sent..].iter().filter(|l| l.status == 0).count();
        assert!(timeouts <= 1, "{timeouts} timeouts in one call");
        match status {
            Ok(StepStatus::Working(..)) => {}
            Ok(StepStatus::Waiting(_, wait)) => {
                backoffs.push(wait.until_unix_ms - w.okta.log.last().unwrap().at_ms);
                w.wait_out(&mut run, &wait);
            }
            Ok(StepStatus::Finished(r)) => panic!("finished: {r:?}"),
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SyncError::Okta(OktaFailure::Timeout(_))));
    // 1 s, 2 s, 4 s after the try (give or take the clock's 5 ms readings).
    assert_eq!(backoffs.len(), 3);
    for (got, want) in backoffs.iter().zip([1_000, 2_000, 4_000]) {
        assert!((want..want + 50).contains(got), "{backoffs:?}");
    }
    assert_eq!(active(&w), 10);
}

#[test]
fn the_safeguard_measures_against_the_people_still_active() {
    // 100 linked, 60 of them deactivated over time: 12 more is 30% of the
    // 40 still active (12% of everyone linked, which would pass).
    let mut w = synced(100, 2);
    for i in 0..60 {
        w.okta.set_status(&uid(i), "DEPROVISIONED");
    }
    w.settings(Settings {
        deactivation_share_percent: 100,
        ..Settings::default()
    });
    w.advance(MIN);
    assert_eq!(w.run(SyncMode::Full).counts.deactivated, 60);
    w.settings(Settings::default());
    for i in 60..72 {
        w.okta.delete_user(&uid(i));
    }
    w.advance(MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held), "{r:?}");
    assert_eq!((r.counts.deactivated, active(&w)), (0, 40));
    let approved = sync::approve_held(&mut w.host(), CONFIG, r.id).unwrap();
    assert_eq!(approved.counts.deactivated, 12);
    assert_eq!(active(&w), 28);
}

#[test]
fn the_safeguard_is_edited_kept_with_the_other_settings_and_validated() {
    use plugin_core::sync::{Rehire, Safeguard, get_safeguard, set_safeguard};
    let mut w = synced(20, 2);
    w.settings(Settings {
        rehire: Rehire::NewPerson,
        ..Settings::default()
    });
    assert_eq!(
        get_safeguard(&mut w.host(), CONFIG).unwrap(),
        Safeguard {
            deactivation_share_percent: 20,
            deactivation_minimum: 5
        }
    );
    for bad in [(0, 5), (101, 5), (20, 10_000_001)] {
        let s = Safeguard {
            deactivation_share_percent: bad.0,
            deactivation_minimum: bad.1,
        };
        assert!(
            matches!(
                set_safeguard(&mut w.host(), CONFIG, s),
                Err(SyncError::Other(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        get_safeguard(&mut w.host(), "nope"),
        Err(SyncError::UnknownConfig(_))
    ));
    // 6 of 20 (30 %) is held at 20 %, not at 40 %.
    let raised = Safeguard {
        deactivation_share_percent: 40,
        deactivation_minimum: 5,
    };
    set_safeguard(&mut w.host(), CONFIG, raised).unwrap();
    assert_eq!(get_safeguard(&mut w.host(), CONFIG).unwrap(), raised);
    let kept = sync::load_settings(&mut w.storage, CONFIG).unwrap();
    assert_eq!(kept.rehire, Rehire::NewPerson);
    for i in 0..6 {
        w.okta.delete_user(&uid(i));
    }
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.counts.deactivated, 6);
}
