//! Sync through the built component into the SQLite directory, against the
//! fake Okta: what lands, what a second run changes, incremental runs,
//! resume after a crash, failure and mass-deactivation safety, requests.

mod preview;
mod scope;
mod tenants;

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{DEV, World, world};
use fake_infraon::{PersonStatus, SyncTarget};
use fake_okta::UserStatus;
use host_harness::bindings::exports::infraon::okta::sync::{
    RunOutcome, RunRecord, SyncMode, Trigger,
};

async fn installed(users: usize, groups: usize) -> World {
    let w = world(users, groups).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    w
}

async fn sync(w: &World, mode: SyncMode) -> RunRecord {
    w.runtime
        .sync("acme", mode, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap()
}

/// The directory as comparable data: (okta id) -> (email, status, roles, fields).
fn directory(w: &World) -> BTreeMap<String, String> {
    let people = w.infraon().people(SyncTarget::Users).unwrap();
    people
        .into_iter()
        .map(|p| {
            (
                p.external_id.clone(),
                format!("{} {:?} {:?} {:?}", p.email, p.status, p.roles, p.fields),
            )
        })
        .collect()
}

fn expected_status(s: UserStatus) -> PersonStatus {
    match s {
        UserStatus::Active
        | UserStatus::Recovery
        | UserStatus::PasswordExpired
        | UserStatus::LockedOut => PersonStatus::Active,
        UserStatus::Staged | UserStatus::Provisioned => PersonStatus::Pending,
        UserStatus::Suspended => PersonStatus::Suspended,
        UserStatus::Deprovisioned => PersonStatus::Deactivated,
    }
}

/// Requests of a full sync at the paging minimum at Okta's page sizes, the
/// Everyone group's members not listed (no rule grants from it).
fn paging_minimum(w: &World) -> u64 {
    let roles = host_harness::bench::default_roles().unwrap();
    host_harness::bench::paging_minimum(&w.okta, &roles)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_full_sync_lands_every_person_and_a_second_changes_nothing() {
    let w = installed(120, 6).await;
    let admins = w
        .okta
        .add_group("Administrator", "named like a privileged Infraon role");
    let org = w.okta.org();
    let first_active = org
        .first_with_status(UserStatus::Active)
        .unwrap()
        .id
        .clone();
    w.okta.add_group_member(&admins, &first_active).unwrap();

    let run = sync(&w, SyncMode::Full).await;
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded), "{run:?}");
    let org = w.okta.org();
    assert_eq!(run.counts.fetched as usize, org.users.len());
    assert_eq!(run.counts.created as usize, org.users.len());

    for user in &org.users {
        let person = w
            .infraon()
            .find_by_external_id(SyncTarget::Users, &user.id)
            .unwrap()
            .expect("every Okta user lands");
        assert_eq!(
            person.status,
            expected_status(user.status),
            "{}",
            user.login
        );
        assert_eq!(person.login, user.login);
        let profile = w.okta.user_json(&user.id).unwrap()["profile"].clone();
        assert_eq!(person.email, profile["email"].as_str().unwrap());
        assert_eq!(person.first_name, profile["firstName"].as_str().unwrap());
        assert_eq!(person.last_name, profile["lastName"].as_str().unwrap());
        if let Some(dept) = profile["department"].as_str() {
            assert!(
                person.fields.contains(&("department".into(), dept.into())),
                "{:?}",
                person.fields
            );
        }
        // Safe role defaults: the default mapping grants only the default
        // role, even to a member of a group named like a privileged role.
        assert_eq!(person.roles, ["Technician"], "{}", user.login);
    }

    let before = directory(&w);
    let second = sync(&w, SyncMode::Full).await;
    assert_eq!(
        second.counts.unchanged as usize,
        org.users.len(),
        "{second:?}"
    );
    assert_eq!(
        (
            second.counts.created,
            second.counts.updated,
            second.counts.deactivated
        ),
        (0, 0, 0)
    );
    assert_eq!(directory(&w), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn full_sync_requests_equal_the_paging_minimum() {
    // Every org has Everyone (all users, BUILT_IN); 1,500 users make it and
    // some app groups large, and the listing of Everyone would be two pages.
    for (users, groups) in [(30, 3), (450, 4), (1000, 12), (1_500, 20)] {
        let w = installed(users, groups).await;
        w.okta.clear_request_log();
        let before = w.okta.request_count();
        let run = sync(&w, SyncMode::Full).await;
        let made = w.okta.request_count() - before;
        assert_eq!(made, paging_minimum(&w), "{users} users, {groups} groups");
        let log = w.okta.request_log();
        assert_eq!(log.len() as u64, made);
        let org = w.okta.org();
        let everyone = &org
            .groups
            .iter()
            .find(|g| g.group_type == "BUILT_IN")
            .unwrap()
            .id;
        assert!(
            log.iter()
                .all(|l| l.status == 200 && !l.path_and_query.contains(everyone.as_str())),
            "{log:?}"
        );
        assert!(
            log.iter()
                .any(|l| l.path_and_query == "/api/v1/groups?limit=10000")
        );
        assert_eq!(
            u64::from(run.requests),
            made,
            "the run record counts what was sent"
        );
    }
}

/// The runtime keeps its connections alive (a pool per operation): a
/// sync's requests reuse them, where wasmtime's own client opened one per
/// request (against a real org, a TCP and a TLS handshake each). It opens
/// no more than it ever has requests in flight at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_sync_reuses_its_connections_to_okta() {
    let w = installed(8_000, 80).await;
    let (requests, connections) = (w.okta.request_count(), w.okta.connection_count());
    sync(&w, SyncMode::Full).await;
    let requests = w.okta.request_count() - requests;
    let connections = w.okta.connection_count() - connections;
    assert!(requests >= 80, "{requests} requests");
    // The plugin keeps at most 21 requests in flight (16 members' pages,
    // the users listing and its read-ahead).
    assert!(
        connections <= 21,
        "{connections} connections for {requests} requests"
    );
    assert!(
        connections * 4 <= requests,
        "{connections} connections for {requests} requests"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_applies_exactly_the_changes_and_deactivates_deleted_and_deprovisioned() {
    let w = installed(80, 5).await;
    sync(&w, SyncMode::Full).await;
    let org = w.okta.org();
    let active: Vec<_> = org
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| u.id.clone())
        .collect();
    let (renamed, deprovisioned, deleted) = (&active[0], &active[1], &active[2]);
    let mut changes = serde_json::Map::new();
    changes.insert("title".into(), "Head of Incidents".into());
    w.okta.update_user_profile(renamed, changes).unwrap();
    w.okta
        .set_user_status(deprovisioned, UserStatus::Deprovisioned)
        .unwrap();

    let before = w.okta.request_count();
    let run = sync(&w, SyncMode::Incremental).await;
    assert_eq!(run.mode, SyncMode::Incremental);
    assert_eq!(run.counts.fetched, 2, "only the two changed users: {run:?}");
    assert!(
        w.okta.request_count() - before < paging_minimum(&w),
        "incremental costs less than a full run"
    );
    let p = w
        .infraon()
        .find_by_external_id(SyncTarget::Users, renamed)
        .unwrap()
        .unwrap();
    assert!(
        p.fields
            .contains(&("title".into(), "Head of Incidents".into()))
    );
    let p = w
        .infraon()
        .find_by_external_id(SyncTarget::Users, deprovisioned)
        .unwrap()
        .unwrap();
    assert_eq!(p.status, PersonStatus::Deactivated);

    // Deletion is seen only by a complete listing: incremental leaves them be.
    w.okta.delete_user(deleted).unwrap();
    sync(&w, SyncMode::Incremental).await;
    let p = w
        .infraon()
        .find_by_external_id(SyncTarget::Users, deleted)
        .unwrap()
        .unwrap();
    assert_ne!(p.status, PersonStatus::Deactivated);
    let run = sync(&w, SyncMode::Full).await;
    assert_eq!(run.counts.deactivated, 1, "{run:?}");
    let p = w
        .infraon()
        .find_by_external_id(SyncTarget::Users, deleted)
        .unwrap()
        .unwrap();
    assert_eq!(p.status, PersonStatus::Deactivated);

    // Reactivation follows Okta too.
    w.okta
        .set_user_status(deprovisioned, UserStatus::Active)
        .unwrap();
    let run = sync(&w, SyncMode::Incremental).await;
    assert_eq!(run.counts.reactivated, 1, "{run:?}");
    let p = w
        .infraon()
        .find_by_external_id(SyncTarget::Users, deprovisioned)
        .unwrap()
        .unwrap();
    assert_eq!(p.status, PersonStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_after_k_steps_resumes_to_the_same_directory() {
    let reference = installed(450, 4).await;
    sync(&reference, SyncMode::Full).await;
    let expected = directory(&reference);
    for k in [1, 3, 6, 9] {
        let w = installed(450, 4).await;
        let partial = w
            .runtime
            .sync_partially("acme", SyncMode::Full, k)
            .await
            .unwrap()
            .unwrap();
        assert!(
            partial.is_some_and(|r| r.outcome.is_none()),
            "still running after {k} steps"
        );
        // The instance is gone, as after SIGKILL; the next Sync Now resumes.
        let run = sync(&w, SyncMode::Full).await;
        assert_eq!(run.outcome, Some(RunOutcome::Succeeded), "k={k}: {run:?}");
        assert_eq!(directory(&w), expected, "k={k}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_fails_half_way_deactivates_nobody() {
    let w = installed(450, 3).await;
    sync(&w, SyncMode::Full).await;
    let linked_before = w.infraon().people(SyncTarget::Users).unwrap();
    // Every user is deleted in Okta, and the listing then fails mid-way.
    for u in w.okta.org().users {
        w.okta.delete_user(&u.id).unwrap();
    }
    w.okta.faults().fail_always(503);
    let outcome = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap();
    assert!(outcome.is_err(), "{outcome:?}");
    let history = w.runtime.sync_history("acme", 1).await.unwrap().unwrap();
    assert_eq!(history[0].outcome, Some(RunOutcome::Failed));
    assert!(
        history[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{:?}",
        history[0].error
    );
    assert_eq!(
        w.infraon().people(SyncTarget::Users).unwrap(),
        linked_before,
        "nobody changed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_would_deactivate_half_the_people_is_held_until_approved() {
    let w = installed(60, 3).await;
    sync(&w, SyncMode::Full).await;
    let gone: Vec<_> = w
        .okta
        .org()
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .take(30)
        .map(|u| u.id.clone())
        .collect();
    for id in &gone {
        w.okta.delete_user(id).unwrap();
    }
    let held = sync(&w, SyncMode::Full).await;
    assert_eq!(held.outcome, Some(RunOutcome::Held), "{held:?}");
    assert_eq!(held.counts.deactivated, 0);
    for id in &gone {
        let p = w
            .infraon()
            .find_by_external_id(SyncTarget::Users, id)
            .unwrap()
            .unwrap();
        assert_ne!(p.status, PersonStatus::Deactivated, "held, not applied");
    }
    let approved = w
        .runtime
        .approve_held("acme", held.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(approved.counts.deactivated as usize, gone.len());
    for id in &gone {
        let p = w
            .infraon()
            .find_by_external_id(SyncTarget::Users, id)
            .unwrap()
            .unwrap();
        assert_eq!(p.status, PersonStatus::Deactivated);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_the_diff_and_writes_nothing() {
    let w = installed(50, 3).await;
    let run = sync(&w, SyncMode::DryRun).await;
    assert_eq!(run.counts.created, 50, "{run:?}");
    assert!(w.infraon().people(SyncTarget::Users).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_answers_are_waited_out() {
    let w = installed(30, 2).await;
    w.okta.faults().rate_limit_for(Duration::from_secs(2));
    let started = std::time::Instant::now();
    let run = sync(&w, SyncMode::Full).await;
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded), "{run:?}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the run waited for the reset"
    );
    assert_eq!(w.infraon().people(SyncTarget::Users).unwrap().len(), 30);
}

/// Production limits (60 s per plugin call): a 429 whose window resets a
/// minute later, and a proxy's 429 without any rate-limit header (the
/// plugin's default minute), are waited out by the host between steps, in
/// real time, and the runs succeed. Each takes a minute.
#[tokio::test(flavor = "multi_thread")]
async fn a_minute_long_429_and_a_429_without_reset_end_in_succeeded_runs() {
    let (with_reset, without) = (installed(30, 2).await, installed(30, 2).await);
    with_reset
        .okta
        .faults()
        .rate_limit_for(Duration::from_secs(60));
    without.okta.faults().fail_next(429, 1);
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(
        sync(&with_reset, SyncMode::Full),
        sync(&without, SyncMode::Full)
    );
    for (run, w) in [(a, &with_reset), (b, &without)] {
        assert_eq!(run.outcome, Some(RunOutcome::Succeeded), "{run:?}");
        assert_eq!(w.infraon().people(SyncTarget::Users).unwrap().len(), 30);
    }
    assert!(started.elapsed() >= Duration::from_secs(59));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infraon_person_with_the_same_email_is_not_taken_over() {
    let w = installed(20, 2).await;
    let victim = w
        .okta
        .org()
        .first_with_status(UserStatus::Active)
        .unwrap()
        .id
        .clone();
    let email = w.okta.user_json(&victim).unwrap()["profile"]["email"]
        .as_str()
        .unwrap()
        .to_string();
    w.infraon()
        .add_unlinked_person(SyncTarget::Users, &email, "local.admin", "Local Admin")
        .unwrap();
    let run = sync(&w, SyncMode::Full).await;
    assert_eq!(run.outcome, Some(RunOutcome::Partial), "{run:?}");
    assert_eq!(run.counts.unsynced, 1);
    assert!(
        w.infraon()
            .find_by_external_id(SyncTarget::Users, &victim)
            .unwrap()
            .is_none()
    );
    let local = w
        .infraon()
        .find_by_email(SyncTarget::Users, &email)
        .unwrap()
        .unwrap();
    assert_eq!(
        local.login, "local.admin",
        "the existing account is untouched"
    );
}

/// Through the component and the host: switching a synced config to
/// Requesters is refused without a migration; `move` then a sync leaves
/// every person a requester, once.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_switched_to_requesters_moves_its_people_only_when_confirmed() {
    use host_harness::bindings::exports::infraon::okta::install::{InstallError, Migration};
    use host_harness::bindings::infraon::okta::types::SyncTarget as Target;
    let w = installed(25, 2).await;
    sync(&w, SyncMode::Full).await;
    let mut form = w.good_form("acme");
    form.sync_target = Target::Requesters;
    form.api_token.clear();
    match w.runtime.update(&form, DEV).await.unwrap() {
        Err(InstallError::InvalidConfig(errors)) => assert_eq!(errors[0].field, "sync-target"),
        other => panic!("not refused: {other:?}"),
    }
    assert_eq!(
        w.infraon()
            .list_linked("acme", SyncTarget::Users)
            .unwrap()
            .len(),
        25
    );
    w.runtime
        .update_migrating(&form, DEV, Migration::Move)
        .await
        .unwrap()
        .unwrap();
    let run = sync(&w, SyncMode::Full).await;
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded), "{run:?}");
    assert_eq!(run.counts.created, 0);
    assert!(w.infraon().people(SyncTarget::Users).unwrap().is_empty());
    let requesters = w.infraon().people(SyncTarget::Requesters).unwrap();
    assert_eq!(requesters.len(), 25);
    assert!(
        requesters
            .iter()
            .all(|p| p.config == "acme" && !p.roles.is_empty())
    );
}
