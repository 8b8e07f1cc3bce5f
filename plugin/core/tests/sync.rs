//! The sync engine against a fake Okta org and a fake Infraon directory:
//! what lands, what a second run changes, incremental, resume, dry-run,
//! conflicts, request counts.

mod common;

use common::TOKEN;
use common::world::{CONFIG, World, gid, profile, uid};
use fake_okta::model::{GroupType, GroupView, UserStatus};
use plugin_core::sync::{self, ReasonCode};
use plugin_core::{PersonStatus, RunOutcome, StepStatus, SyncError, SyncMode, SyncRun, SyncTarget};
use serde_json::json;

const MIN: u64 = 60_000;

/// One user in each Okta status, groups that map to roles and one that does not.
fn lifecycle_org(w: &mut World) {
    w.okta.add_group("00gCM", "change manager");
    w.okta.add_group("00gSD", "Service Desk Agent");
    w.okta.add_group("00gEN", "Engineering");
    let statuses = [
        "ACTIVE",
        "RECOVERY",
        "PASSWORD_EXPIRED",
        "STAGED",
        "PROVISIONED",
        "SUSPENDED",
        "LOCKED_OUT",
        "DEPROVISIONED",
    ];
    for (i, s) in statuses.iter().enumerate() {
        w.okta.add_user(&uid(i), s, profile(i));
    }
    w.okta.add_member("00gCM", &uid(0));
    w.okta.add_member("00gEN", &uid(0));
    w.okta.add_member("00gSD", &uid(1));
    w.okta.add_member("00gEN", &uid(7));
    w.advance(5 * MIN);
}

#[test]
fn first_full_sync_lands_everyone_and_a_second_changes_nothing() {
    let mut w = World::new(SyncTarget::Users);
    w.roles_by_group_name();
    lifecycle_org(&mut w);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!((r.counts.fetched, r.counts.created), (8, 8));
    assert_eq!((r.counts.unsynced, r.counts.deactivated), (0, 0));
    assert_eq!(r.counts.role_changes, 8);
    assert_eq!(r.requests, 1 + 3 + 1 + 1);
    // Every page after the first was asked for early, and each of those
    // early requests was sent: nothing extra.
    assert_eq!((w.okta.prefetch_used, w.okta.prefetch_dropped()), (5, 0));
    assert!(w.okta.prefetched().is_empty());
    assert_eq!(r.mode, SyncMode::Full);
    assert!(r.ended_at.is_some());

    let want = [
        PersonStatus::Active,
        PersonStatus::Active,
        PersonStatus::Active,
        PersonStatus::Pending,
        PersonStatus::Pending,
        PersonStatus::Suspended,
        PersonStatus::Active,
        PersonStatus::Deactivated,
    ];
    for (i, s) in want.iter().enumerate() {
        assert_eq!(w.person(&uid(i)).status, *s, "user {i}");
    }
    let p0 = w.person(&uid(0)).clone();
    assert_eq!(p0.config, CONFIG);
    assert_eq!(p0.kind, SyncTarget::Users);
    assert_eq!(p0.login, "user0@acme.com");
    assert_eq!(p0.email, "user0@acme.com");
    assert_eq!(
        (p0.first_name.as_str(), p0.last_name.as_str()),
        ("First0", "Last0")
    );
    assert_eq!(p0.display_name, "First0 Last0");
    let f = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        p0.fields,
        vec![
            f("custom.badgeNumber", "1000"),
            f("custom.officeLocation", "Pune"),
            f("department", "Ops"),
            f("employee_number", "E00000"),
            f("manager", "Boss"),
            f("phone", "+1 555 0000"),
            f("title", "Engineer"),
        ]
    );
    assert_eq!(p0.roles, vec!["Change Manager"]);
    assert_eq!(w.person(&uid(1)).roles, vec!["Service Desk Agent"]);
    assert_eq!(w.person(&uid(7)).roles, vec!["Technician"]);
    // One batch per users page: the visible page and the deprovisioned page,
    // each looked up in one call too.
    assert_eq!(w.dir.calls.upsert_batch, 2);
    assert_eq!(w.dir.calls.upsert, 0);
    assert_eq!(w.dir.calls.find_batch, 2);

    let before = w.people();
    let again = w.run(SyncMode::Full);
    assert_eq!(again.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(again.counts.unchanged, 8);
    assert_eq!(
        again.counts.created + again.counts.updated + again.counts.deactivated,
        0
    );
    assert_eq!(again.counts.role_changes + again.counts.reactivated, 0);
    assert_eq!(w.people(), before);
    assert!(again.id > r.id);

    // Nothing of a finished run's scratch is left, and no secret anywhere.
    let keys: Vec<&String> = w.storage.map.keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains("/work/") && !k.ends_with("checkpoint")),
        "{keys:?}"
    );
    let text: String = w
        .storage
        .map
        .values()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect();
    assert!(!text.contains(TOKEN));
}

#[test]
fn requesters_get_requester_roles() {
    let mut w = World::new(SyncTarget::Requesters);
    w.roles_by_group_name();
    w.okta.add_group("00gV", "VIP Requester");
    w.okta.add_group("00gT", "Technician");
    w.okta.add_user(&uid(0), "ACTIVE", profile(0));
    w.okta.add_user(&uid(1), "ACTIVE", profile(1));
    w.okta.add_member("00gV", &uid(0));
    w.okta.add_member("00gT", &uid(1));
    w.run(SyncMode::Full);
    assert_eq!(w.person(&uid(0)).roles, vec!["VIP Requester"]);
    assert_eq!(w.person(&uid(1)).roles, vec!["Requester"]);
}

/// Requests of a full sync at Okta's page sizes (groups 10,000, members
/// 1,000, users 200): every groups page, the members pages of the groups
/// whose membership can grant a role (`walked`: every `OKTA_GROUP`, and the
/// `BUILT_IN` and `APP_GROUP` groups a rule grants from), and the users and
/// `DEPROVISIONED` users pages. An empty listing is still one page.
fn paging_minimum(w: &World, walked: impl Fn(&GroupView) -> bool) -> u32 {
    let pages = |n: usize, size: usize| n.div_ceil(size).max(1) as u32;
    let visible = w
        .okta
        .org
        .users()
        .filter(|(_, status)| *status != UserStatus::Deprovisioned)
        .count();
    let deprovisioned = w.okta.org.users().count() - visible;
    pages(w.okta.org.groups().count(), 10_000)
        + w.okta
            .org
            .groups()
            .filter(|g| g.kind == GroupType::Okta || walked(g))
            .map(|g| pages(g.members, 1_000))
            .sum::<u32>()
        + pages(visible, 200)
        + pages(deprovisioned, 200)
}

#[test]
fn a_full_sync_makes_exactly_the_paging_minimum_of_requests() {
    // (users, deprovisioned, groups, an Everyone group, an app group's members)
    for (users, deprovisioned, groups, everyone, app_group) in [
        (0, 0, 0, false, 0),
        (1, 0, 1, false, 0),
        (200, 0, 3, true, 0),
        (201, 5, 2, false, 0),
        (450, 201, 250, true, 0),
        (2_450, 0, 2, true, 1_450),
        (650, 0, 2, false, 450),
    ] {
        let mut w = World::new(SyncTarget::Users);
        if everyone {
            w.okta
                .add_typed_group("00gEVERYONE", "Everyone", "BUILT_IN");
        }
        w.seed(users, groups);
        for i in 0..deprovisioned {
            w.okta.set_status(&uid(i), "DEPROVISIONED");
        }
        if app_group > 0 {
            w.okta.add_typed_group("00gAPP", "AD Sales", "APP_GROUP");
            for i in 0..app_group {
                w.okta.add_member("00gAPP", &uid(i));
            }
        }
        let r = w.run(SyncMode::Full);
        // No rule grants a role from Everyone or "AD Sales" (Infraon has no
        // such role): their members are never listed.
        let want = paging_minimum(&w, |_| false);
        let shape = format!("{users} users, {groups} groups, Everyone {everyone}");
        assert_eq!(r.requests, want, "{shape}");
        assert_eq!(w.okta.log.len() as u32, want, "{shape}");
        assert!(
            !w.okta.log.iter().any(
                |l| l.url.contains("/groups/00gEVERYONE/") || l.url.contains("/groups/00gAPP/")
            )
        );
        assert_eq!(r.counts.fetched as usize, users);
        assert_eq!(w.dir.people.len(), users);
        assert!(w.okta.log.iter().all(|l| l.status == 200));
    }
}

#[test]
fn everyone_and_app_groups_are_listed_member_by_member_only_when_a_rule_grants_from_them() {
    use plugin_core::mapping::{self, GroupMatcher, RoleRule};
    for matcher in [
        GroupMatcher::Name("everyone".into()),
        GroupMatcher::Id("00gEVERYONE".into()),
        GroupMatcher::NamePattern("Every*".into()),
    ] {
        let mut w = World::new(SyncTarget::Users);
        w.okta
            .add_typed_group("00gEVERYONE", "Everyone", "BUILT_IN");
        w.seed(1_200, 2);
        w.okta.add_typed_group("00gAPP", "AD Sales", "APP_GROUP");
        w.okta.add_member("00gAPP", &uid(3));
        let mut m = mapping::get(&mut w.host(), CONFIG).unwrap();
        m.role_rules.push(RoleRule {
            matcher: matcher.clone(),
            role: "Service Desk Agent".into(),
            priority: 1,
            kind: SyncTarget::Users,
        });
        mapping::set(&mut w.host(), CONFIG, m).unwrap();
        let r = w.run(SyncMode::Full);
        assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
        let want = paging_minimum(&w, |g| g.kind == GroupType::BuiltIn);
        assert_eq!(r.requests, want, "{matcher:?}");
        // Two pages of Everyone's 1,200 members, none of the app group's.
        let everyone = w
            .okta
            .log
            .iter()
            .filter(|l| l.url.contains("/00gEVERYONE/"));
        assert_eq!(everyone.count(), 2, "{matcher:?}");
        assert!(
            w.person(&uid(0))
                .roles
                .contains(&"Service Desk Agent".to_string())
        );
    }
}

#[test]
fn a_user_reactivated_just_before_a_run_is_not_deactivated_by_a_stale_search() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(10, 1);
    w.okta.set_status(&uid(4), "DEPROVISIONED");
    w.advance(5 * MIN);
    w.run(SyncMode::Full);
    assert_eq!(w.person(&uid(4)).status, PersonStatus::Deactivated);
    // Reactivated in Okta; its search index still says DEPROVISIONED.
    w.okta.set_status(&uid(4), "ACTIVE");
    w.okta.stale_search.insert(uid(4), "DEPROVISIONED".into());
    w.advance(MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!((r.counts.reactivated, r.counts.deactivated), (1, 0));
    assert_eq!(w.person(&uid(4)).status, PersonStatus::Active);
    assert!(w.okta.log.iter().all(|l| !l.url.contains("search=")));
}

#[test]
fn a_group_deleted_in_okta_loses_its_roles_on_the_next_incremental_run() {
    let mut w = World::new(SyncTarget::Users);
    w.roles_by_group_name();
    w.seed(20, 2);
    w.okta.add_group("00gCM", "Change Manager");
    w.okta.add_member("00gCM", &uid(1));
    w.okta.add_member("00gCM", &uid(2));
    w.advance(5 * MIN);
    w.run(SyncMode::Full);
    assert_eq!(w.person(&uid(1)).roles, vec!["Change Manager"]);

    w.advance(10 * MIN);
    w.okta.delete_group("00gCM");
    w.advance(MIN);
    w.okta.log.clear();
    let r = w.run(SyncMode::Incremental);
    assert_eq!(r.mode, SyncMode::Incremental);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!((r.counts.updated, r.counts.role_changes), (2, 4));
    for i in [1, 2] {
        assert_eq!(w.person(&uid(i)).roles, vec!["Technician"], "user {i}");
    }
    // One groups page and the (empty) changed users: no members listed.
    assert_eq!(r.requests, 2);
    // Forgotten: the next incremental run has nothing to re-derive.
    w.advance(5 * MIN);
    let quiet = w.run(SyncMode::Incremental);
    assert_eq!((quiet.counts.updated, quiet.requests), (0, 2));
}

#[test]
fn incremental_applies_exactly_the_changes() {
    let mut w = World::new(SyncTarget::Users);
    w.roles_by_group_name();
    w.seed(30, 3);
    w.okta.add_group("00gCM", "Change Manager");
    w.okta.add_member("00gCM", &uid(1));
    w.okta.set_status(&uid(7), "DEPROVISIONED");
    w.advance(5 * MIN);
    let base = w.run(SyncMode::Full);
    assert_eq!(base.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(w.person(&uid(7)).status, PersonStatus::Deactivated);
    assert_eq!(w.person(&uid(1)).roles, vec!["Change Manager"]);

    w.advance(10 * MIN);
    w.okta.set_profile(&uid(2), "title", json!("Lead"));
    w.okta.set_status(&uid(3), "SUSPENDED");
    w.okta.set_status(&uid(4), "DEPROVISIONED");
    w.okta.add_member("00gCM", &uid(5));
    w.okta.remove_member("00gCM", &uid(1));
    w.okta.add_user(&uid(99), "ACTIVE", profile(99));
    w.okta.delete_user(&uid(6));
    w.okta.set_status(&uid(7), "ACTIVE");
    let before = w.people();
    w.advance(MIN);
    w.okta.log.clear();

    let r = w.run(SyncMode::Incremental);
    assert_eq!(r.mode, SyncMode::Incremental);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    let c = r.counts;
    assert_eq!(c.fetched, 5, "{c:?}"); // u2 u3 u4 u7 u99
    assert_eq!(c.created, 1);
    assert_eq!(c.updated, 4, "{c:?}"); // u2 u3, and u1 u5 by membership
    assert_eq!(c.reactivated, 1);
    assert_eq!(c.deactivated, 1);
    assert_eq!(c.unchanged, 1); // u4, whose deactivation is counted apart
    assert_eq!(c.role_changes, 1 + 2 + 2);
    // Changed groups: Change Manager and Group 0 (u6 left it when deleted).
    assert_eq!(r.requests, 1 + 2 + 1);
    assert!(
        w.okta
            .log
            .iter()
            .all(|l| l.url.ends_with("/groups?limit=10000")
                || l.url.contains("/users?filter=")
                || l.url.contains("/users?limit=1000") && l.url.contains("/groups/"))
    );

    assert_eq!(
        w.person(&uid(2))
            .fields
            .iter()
            .find(|f| f.0 == "title")
            .unwrap()
            .1,
        "Lead"
    );
    assert_eq!(w.person(&uid(3)).status, PersonStatus::Suspended);
    assert_eq!(w.person(&uid(4)).status, PersonStatus::Deactivated);
    assert_eq!(w.person(&uid(5)).roles, vec!["Change Manager"]);
    assert_eq!(w.person(&uid(1)).roles, vec!["Technician"]);
    assert_eq!(w.person(&uid(99)).status, PersonStatus::Active);
    assert_eq!(w.person(&uid(7)).status, PersonStatus::Active);
    // Nobody else moved; the deleted user waits for a full listing.
    let changed = [1, 2, 3, 4, 5, 7, 99].map(uid);
    for p in before.iter().filter(|p| !changed.contains(&p.external_id)) {
        assert_eq!(w.person(&p.external_id), p);
    }
    assert_eq!(w.person(&uid(6)).status, PersonStatus::Active);

    // The watermark moved: nothing to do now.
    w.advance(5 * MIN);
    let quiet = w.run(SyncMode::Incremental);
    assert_eq!(quiet.counts.fetched + quiet.counts.updated, 0);
    assert_eq!(quiet.requests, 2);

    let full = w.run(SyncMode::Full);
    assert_eq!(full.counts.deactivated, 1);
    assert_eq!(w.person(&uid(6)).status, PersonStatus::Deactivated);
    assert_eq!(full.counts.unchanged, 30);
}

#[test]
fn incremental_without_a_previous_success_runs_full() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(3, 1);
    let r = w.run(SyncMode::Incremental);
    assert_eq!(r.mode, SyncMode::Full);
    assert_eq!(r.counts.created, 3);
}

/// Build the same org in a world, sync it, then change it.
fn resumable_world() -> World {
    let mut w = World::new(SyncTarget::Users);
    w.seed(450, 4);
    w.okta.add_group("00gCM", "Change Manager");
    for i in (0..450).step_by(7) {
        w.okta.add_member("00gCM", &uid(i));
    }
    for i in 0..210 {
        w.okta.set_status(&uid(i * 2), "DEPROVISIONED");
    }
    w.advance(5 * MIN);
    w.run(SyncMode::Full);
    w.advance(5 * MIN);
    for i in [401, 403, 405, 407] {
        w.okta.delete_user(&uid(i));
    }
    for i in 0..20 {
        w.okta.set_status(&uid(i * 2), "ACTIVE");
        w.okta
            .set_profile(&uid(i * 2 + 1), "department", json!("Sales"));
    }
    w.okta.add_user(&uid(777), "STAGED", profile(777));
    w
}

#[test]
fn a_run_killed_after_k_steps_and_resumed_ends_like_an_uninterrupted_one() {
    let mut reference = resumable_world();
    let want = reference.run(SyncMode::Full);
    assert_eq!(want.counts.deactivated, 4);
    let want_people = reference.people();
    for k in [1, 2, 3, 5, 6, 7, 8, 9] {
        let mut w = resumable_world();
        let mut run = w.start(SyncMode::Full).unwrap();
        for _ in 0..k {
            assert!(matches!(w.step(&mut run).unwrap(), StepStatus::Working(..)));
        }
        drop(run);
        assert!(matches!(
            w.start(SyncMode::Full),
            Err(SyncError::AlreadyRunning(_))
        ));
        let mut resumed = SyncRun::resume(&mut w.host(), CONFIG).unwrap().unwrap();
        let got = w.finish(&mut resumed).unwrap();
        assert_eq!(w.people(), want_people, "k = {k}");
        assert_eq!(got.counts, want.counts, "k = {k}");
        assert_eq!(got.requests, want.requests, "k = {k}");
        assert!(SyncRun::resume(&mut w.host(), CONFIG).unwrap().is_none());
    }
}

/// An org whose users and `DEPROVISIONED` listings are both several pages,
/// its answers arriving interleaved when `interleave`.
fn two_listings_world(interleave: bool) -> World {
    let mut w = resumable_world();
    for i in 0..150 {
        w.okta
            .add_user(&uid(1_000 + i), "DEPROVISIONED", profile(1_000 + i));
    }
    w.okta.interleave = interleave;
    w
}

#[test]
fn the_deprovisioned_listing_is_read_beside_the_users_listing_at_the_paging_minimum() {
    let mut reference = two_listings_world(false);
    let want = reference.run(SyncMode::Full);
    let mut w = two_listings_world(true);
    let sent_before = w.okta.log.len();
    let got = w.run(SyncMode::Full);
    assert_eq!(got.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(w.people(), reference.people());
    assert_eq!(got.counts, want.counts);
    let minimum = paging_minimum(&w, |_| false);
    let urls: Vec<&str> = w.okta.log[sent_before..]
        .iter()
        .map(|l| l.url.as_str())
        .collect();
    assert_eq!(got.requests, minimum, "{urls:#?}");
    assert_eq!(
        (w.okta.log.len() - sent_before) as u32,
        minimum,
        "{urls:#?}"
    );
    // The two listings interleaved: a DEPROVISIONED page was read before
    // the users listing's last page, and every request was answered 200.
    let run_log = &w.okta.log[sent_before..];
    let last_users = run_log
        .iter()
        .rposition(|l| l.url.contains("/users?") && !l.url.contains("filter="))
        .unwrap();
    let first_deprovisioned = run_log
        .iter()
        .position(|l| l.url.contains("DEPROVISIONED"))
        .unwrap();
    assert!(first_deprovisioned < last_users, "{run_log:?}");
    // Both listings began while the members were still listed.
    let last_members = run_log
        .iter()
        .rposition(|l| l.url.contains("/groups/"))
        .unwrap();
    let first_users = run_log
        .iter()
        .position(|l| l.url.contains("/users?limit"))
        .unwrap();
    assert!(first_users < last_members, "{run_log:?}");
    assert!(first_deprovisioned < last_members, "{run_log:?}");
    assert!(run_log.iter().all(|l| l.status == 200));
    assert!(
        w.okta.prefetched().is_empty(),
        "every early request was used: {:?}",
        w.okta
            .prefetched()
            .iter()
            .map(|r| r.url.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_run_killed_between_interleaved_pages_resumes_to_the_same_result() {
    let mut reference = two_listings_world(true);
    let want = reference.run(SyncMode::Full);
    let want_people = reference.people();
    // Every step of the run but its last, which finishes it.
    let steps = {
        let mut w = two_listings_world(true);
        let mut run = w.start(SyncMode::Full).unwrap();
        let mut steps = 0;
        while matches!(w.step(&mut run).unwrap(), StepStatus::Working(..)) {
            steps += 1;
        }
        steps
    };
    assert!(steps >= 10, "{steps}");
    for k in 1..=steps {
        let mut w = two_listings_world(true);
        let mut run = w.start(SyncMode::Full).unwrap();
        for _ in 0..k {
            assert!(matches!(w.step(&mut run).unwrap(), StepStatus::Working(..)));
        }
        drop(run);
        let mut resumed = SyncRun::resume(&mut w.host(), CONFIG).unwrap().unwrap();
        let got = w.finish(&mut resumed).unwrap();
        assert_eq!(w.people(), want_people, "k = {k}");
        assert_eq!(got.counts, want.counts, "k = {k}");
        assert_eq!(got.requests, want.requests, "k = {k}");
    }
}

#[test]
fn dry_run_reports_the_diff_and_writes_nothing() {
    let mut w = World::new(SyncTarget::Users);
    w.roles_by_group_name();
    w.seed(10, 2);
    w.advance(5 * MIN);
    let base = w.run(SyncMode::Full);
    w.advance(5 * MIN);
    w.okta.set_profile(&uid(1), "title", json!("Boss"));
    w.okta.delete_user(&uid(2));
    w.okta.set_status(&uid(3), "DEPROVISIONED");
    w.okta.add_user(&uid(50), "ACTIVE", profile(50));
    w.okta.add_group("00gCM", "Change Manager");
    w.okta.add_member("00gCM", &uid(4));
    let people = w.people();
    let writes = w.dir.writes();
    let watermark = w.storage.map.get("state/acme/watermark").cloned();
    let snapshot: Vec<_> = w
        .storage
        .map
        .iter()
        .filter(|(k, _)| k.starts_with("state/acme/groups/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();

    let r = w.run(SyncMode::DryRun);
    assert_eq!(r.mode, SyncMode::DryRun);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    let c = r.counts;
    assert_eq!((c.created, c.updated, c.deactivated), (1, 2, 2), "{c:?}");
    assert_eq!(c.unchanged, 7, "{c:?}");
    assert_eq!(c.role_changes, 1 + 2);
    assert_eq!(w.people(), people);
    assert_eq!(w.dir.writes(), writes);
    assert_eq!(
        w.storage.map.get("state/acme/watermark").cloned(),
        watermark
    );
    let after: Vec<_> = w
        .storage
        .map
        .iter()
        .filter(|(k, _)| k.starts_with("state/acme/groups/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(after, snapshot);
    assert!(r.id > base.id);
}

#[test]
fn conflicts_and_bad_records_become_unsynced_and_the_run_goes_on() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(8, 1);
    // An Infraon account nobody linked, with user 1's email.
    let mut owner = plugin_core::Person {
        external_id: String::new(),
        config: String::new(),
        kind: SyncTarget::Users,
        login: "someone".into(),
        email: "USER1@acme.com".into(),
        first_name: "S".into(),
        last_name: "O".into(),
        display_name: "S O".into(),
        fields: vec![],
        roles: vec![],
        status: PersonStatus::Active,
    };
    w.dir.unlinked.push(owner.clone());
    w.okta
        .set_profile(&uid(2), "email", json!("user0@acme.com"));
    w.okta.set_profile(&uid(3), "email", json!(null));
    w.okta
        .set_profile(&uid(4), "title", json!("x".repeat(2000)));
    w.okta.set_status(&uid(5), "SOMETHING_NEW");
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Partial));
    assert_eq!(r.counts.unsynced, 5);
    assert_eq!(r.counts.created, 3);
    let rows = sync::unsynced(&mut w.host(), CONFIG, None).unwrap();
    let mut codes: Vec<(String, ReasonCode)> =
        rows.iter().map(|u| (u.okta_id.clone(), u.reason)).collect();
    codes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        codes,
        vec![
            (uid(1), ReasonCode::EmailConflict),
            (uid(2), ReasonCode::DuplicateEmail),
            (uid(3), ReasonCode::MissingRequiredField),
            (uid(4), ReasonCode::RejectedByInfraon),
            (uid(5), ReasonCode::UnknownStatus),
        ]
    );
    let row = rows.iter().find(|u| u.okta_id == uid(1)).unwrap();
    assert_eq!(row.login, "user1@acme.com");
    assert_eq!(row.display_name, "First1 Last1");
    assert_eq!(row.run_id, r.id);
    assert!(!row.reason_text.is_empty() && !row.at.is_empty());
    assert!(rows.iter().any(|u| u.reason_text.contains("title")));
    // The unlinked account is untouched; nobody took it over.
    owner.email = "USER1@acme.com".into();
    assert_eq!(w.dir.unlinked, vec![owner]);
    assert!(w.dir.get(SyncTarget::Users, &uid(1)).is_none());
    assert_eq!(
        sync::unsynced(&mut w.host(), CONFIG, Some(r.id)).unwrap(),
        rows
    );
    assert!(matches!(
        sync::unsynced(&mut w.host(), CONFIG, Some(9999)),
        Err(SyncError::UnknownRun(9999))
    ));
}

#[test]
fn one_run_at_a_time_cancel_and_history() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(5, 2);
    w.advance(5 * MIN);
    let first = w.run(SyncMode::Full);
    for i in 0..5 {
        w.okta.delete_user(&uid(i));
    }
    w.okta.add_group(&gid(9), "Late");
    let mut run = w.start(SyncMode::Full).unwrap();
    w.step(&mut run).unwrap();
    assert_eq!(
        w.start(SyncMode::Incremental).unwrap_err(),
        SyncError::AlreadyRunning(run.id())
    );
    let cancelled = run.cancel(&mut w.host()).unwrap();
    assert_eq!(cancelled.outcome, Some(RunOutcome::Cancelled));
    assert!(w.people().iter().all(|p| p.status == PersonStatus::Active));
    assert!(matches!(
        run.step(&mut w.host()).unwrap(),
        StepStatus::Finished(_)
    ));
    let dry = w.run(SyncMode::DryRun);
    assert_eq!(dry.counts.deactivated, 5);
    let hist = sync::history(&mut w.host(), CONFIG, 10).unwrap();
    let ids: Vec<u64> = hist.iter().map(|r| r.id).collect();
    assert_eq!(ids, vec![dry.id, cancelled.id, first.id]);
    assert_eq!(sync::history(&mut w.host(), CONFIG, 1).unwrap().len(), 1);
    assert!(matches!(
        sync::history(&mut w.host(), "nope", 1),
        Err(SyncError::UnknownConfig(_))
    ));
}

fn incremental_world() -> World {
    let mut w = World::new(SyncTarget::Users);
    w.roles_by_group_name();
    w.seed(40, 2);
    w.okta.add_group("00gCM", "Change Manager");
    w.advance(5 * MIN);
    w.run(SyncMode::Full);
    w.advance(5 * MIN);
    for i in 0..10 {
        w.okta.add_member("00gCM", &uid(i));
    }
    w.okta.set_profile(&uid(20), "title", json!("Lead"));
    w.okta.set_status(&uid(21), "DEPROVISIONED");
    w.advance(MIN);
    w
}

#[test]
fn an_incremental_run_resumed_after_k_steps_ends_like_an_uninterrupted_one() {
    let mut reference = incremental_world();
    let want = reference.run(SyncMode::Incremental);
    assert_eq!(want.mode, SyncMode::Incremental);
    assert_eq!((want.counts.updated, want.counts.deactivated), (11, 1));
    for k in 1..=4 {
        let mut w = incremental_world();
        let mut run = w.start(SyncMode::Incremental).unwrap();
        for _ in 0..k {
            assert!(matches!(w.step(&mut run).unwrap(), StepStatus::Working(..)));
        }
        drop(run);
        let mut resumed = SyncRun::resume(&mut w.host(), CONFIG).unwrap().unwrap();
        let got = w.finish(&mut resumed).unwrap();
        assert_eq!(w.people(), reference.people(), "k = {k}");
        assert_eq!(got.counts, want.counts, "k = {k}");
    }
}

/// u3 left (DEPROVISIONED, deactivated in Infraon) and comes back under a
/// new Okta account u50 with the same email and login; u4 stays, and u51 is
/// a new account reusing u4's login.
fn rehired(w: &mut World) {
    w.seed(10, 1);
    w.okta.set_status(&uid(3), "DEPROVISIONED");
    w.advance(5 * MIN);
    w.run(SyncMode::Full);
    assert_eq!(w.person(&uid(3)).status, PersonStatus::Deactivated);
    w.advance(5 * MIN);
    w.okta.add_user(&uid(50), "ACTIVE", profile(3));
    w.okta.add_member(&gid(0), &uid(50));
    let mut taken = profile(51);
    taken["login"] = json!("user4@acme.com");
    w.okta.add_user(&uid(51), "ACTIVE", taken);
    w.advance(MIN);
}

#[test]
fn a_rehired_person_is_relinked_and_reactivated_by_default() {
    let mut w = World::new(SyncTarget::Users);
    rehired(&mut w);
    let people = w.dir.people.len();
    let r = w.run(SyncMode::Full);
    // u51 takes an active person's login: the conflict rule holds.
    assert_eq!(r.counts.unsynced, 1, "{r:?}");
    let csv = sync::unsynced(&mut w.host(), CONFIG, Some(r.id)).unwrap();
    assert_eq!(csv.len(), 1);
    assert_eq!(
        (csv[0].okta_id.as_str(), csv[0].reason),
        (uid(51).as_str(), ReasonCode::EmailConflict)
    );
    assert_eq!((r.counts.reactivated, r.counts.created), (1, 0), "{r:?}");
    let back = w.person(&uid(50));
    assert_eq!(
        (back.status, back.email.as_str()),
        (PersonStatus::Active, "user3@acme.com")
    );
    assert!(
        w.dir.get(SyncTarget::Users, &uid(3)).is_none(),
        "one person, relinked"
    );
    assert_eq!(w.dir.people.len(), people);

    // Without u51, the run succeeds; the old account, still DEPROVISIONED in
    // Okta, creates nobody.
    w.okta.delete_user(&uid(51));
    w.advance(MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded), "{r:?}");
    assert_eq!(w.dir.people.len(), people);
    assert_eq!(w.person(&uid(50)).status, PersonStatus::Active);
}

#[test]
fn a_rehired_person_gets_a_new_person_under_the_new_person_policy() {
    let mut w = World::new(SyncTarget::Users);
    rehired(&mut w);
    w.okta.delete_user(&uid(51));
    w.settings(sync::Settings {
        rehire: sync::Rehire::NewPerson,
        ..sync::Settings::default()
    });
    let dry = w.run(SyncMode::DryRun);
    assert_eq!((dry.counts.created, dry.counts.unsynced), (1, 0), "{dry:?}");
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded), "{r:?}");
    assert_eq!((r.counts.created, r.counts.reactivated), (1, 0));
    assert_eq!(w.person(&uid(50)).email, "user3@acme.com");
    assert_eq!(w.person(&uid(50)).status, PersonStatus::Active);
    // The former person stays, deactivated and unlinked, under a released
    // identity; the old account (DEPROVISIONED in Okta) touches nobody.
    assert!(w.dir.get(SyncTarget::Users, &uid(3)).is_none());
    let former = w
        .dir
        .unlinked
        .iter()
        .find(|p| p.first_name == "First3")
        .unwrap();
    assert_eq!(former.status, PersonStatus::Deactivated);
    assert_eq!(former.email, format!("user3+released.{}@acme.com", uid(3)));
    let again = w.run(SyncMode::Full);
    assert_eq!(
        (again.outcome, again.counts.unchanged),
        (Some(RunOutcome::Succeeded), 11)
    );
}

#[test]
fn an_unlinked_former_person_keeps_the_conflict_rule() {
    let mut w = World::new(SyncTarget::Users);
    rehired(&mut w);
    w.okta.delete_user(&uid(51));
    // The former u3 was unlinked in Infraon: not ours to relink.
    let mut former = w.dir.people.remove(&("users".to_string(), uid(3))).unwrap();
    former.external_id.clear();
    former.config.clear();
    w.dir.unlinked.push(former);
    let r = w.run(SyncMode::Full);
    assert_eq!(
        (r.outcome, r.counts.unsynced),
        (Some(RunOutcome::Partial), 1)
    );
    assert!(w.dir.get(SyncTarget::Users, &uid(50)).is_none());
}

/// Users gone from Okta on either side of the finish's pages of linked
/// people (1,000 a page) and of its lookups (1,000 a call).
const GONE_ACROSS_PAGES: [usize; 8] = [0, 999, 1000, 1001, 1999, 2000, 2001, 2499];

/// 2,500 people synced, then those of [`GONE_ACROSS_PAGES`] deleted in Okta.
fn org_past_a_page_of_linked() -> World {
    let mut w = World::new(SyncTarget::Users);
    w.seed(2500, 5);
    w.advance(5 * MIN);
    assert_eq!(w.run(SyncMode::Full).counts.created, 2500);
    w.advance(5 * MIN);
    for i in GONE_ACROSS_PAGES {
        w.okta.delete_user(&uid(i));
    }
    w
}

fn assert_exactly_the_gone_are_deactivated(w: &World, r: &plugin_core::RunRecord) {
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(r.counts.deactivated, GONE_ACROSS_PAGES.len() as u32);
    for i in 0..2500 {
        let want = match GONE_ACROSS_PAGES.contains(&i) {
            true => PersonStatus::Deactivated,
            false => PersonStatus::Active,
        };
        assert_eq!(w.person(&uid(i)).status, want, "user {i}");
    }
}

#[test]
fn a_full_run_deactivates_exactly_those_not_seen_reading_linked_people_a_page_at_a_time() {
    let mut w = org_past_a_page_of_linked();
    let before = w.dir.calls;
    let r = w.run(SyncMode::Full);
    assert_exactly_the_gone_are_deactivated(&w, &r);
    // The whole linked list is never asked for: its pages are, for the
    // absent (3 pages of Users, 1 empty of Requesters), for the safeguard's
    // count of the active (as many again) and to know whether anyone is in
    // the other population (1).
    let calls = w.dir.calls;
    assert_eq!(calls.list_linked, before.list_linked);
    assert_eq!(calls.linked_pages - before.linked_pages, 4 + 4 + 1);
}

#[test]
fn a_full_run_killed_in_its_listing_and_resumed_deactivates_exactly_those_not_seen() {
    let mut reference = org_past_a_page_of_linked();
    let want = reference.run(SyncMode::Full);
    for k in [3, 14] {
        let mut w = org_past_a_page_of_linked();
        let mut run = w.start(SyncMode::Full).unwrap();
        for _ in 0..k {
            assert!(matches!(w.step(&mut run).unwrap(), StepStatus::Working(..)));
        }
        drop(run);
        let mut resumed = SyncRun::resume(&mut w.host(), CONFIG).unwrap().unwrap();
        let got = w.finish(&mut resumed).unwrap();
        assert_exactly_the_gone_are_deactivated(&w, &got);
        assert_eq!(got.counts, want.counts, "k = {k}");
    }
}

#[test]
fn the_safeguard_counts_the_active_linked_across_pages() {
    let mut w = World::new(SyncTarget::Users);
    w.seed(2500, 5);
    // 1,200 departed: linked and deactivated, not protected by the safeguard.
    for i in 0..1200 {
        w.okta.set_status(&uid(i * 2), "DEPROVISIONED");
    }
    w.advance(5 * MIN);
    w.run(SyncMode::Full);
    w.advance(5 * MIN);
    // 300 of the 1,300 active gone: 12 % of everyone linked, 23 % of the
    // active, over the default 20 %.
    for i in 0..300 {
        w.okta.delete_user(&uid(i * 2 + 1));
    }
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held));
    assert_eq!(r.counts.deactivated, 0);
    assert_eq!(w.person(&uid(1)).status, PersonStatus::Active);
}
