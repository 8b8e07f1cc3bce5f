//! Okta Event Hooks natively: a delivery re-reads the users its events
//! name and applies them as a sync would — against the fake Okta and the
//! fake directory of the sync tests.

mod common;

use common::world::{World, profile, uid};
use plugin_core::events::{self, EventOutcome, EventTarget, OktaEvent};
use plugin_core::{PersonStatus, SyncMode, SyncTarget};
use serde_json::json;

fn ev(uuid: &str, published: &str, kind: &str, user: &str) -> OktaEvent {
    OktaEvent {
        uuid: uuid.into(),
        published: published.into(),
        event_type: kind.into(),
        targets: vec![EventTarget {
            id: user.into(),
            kind: "User".into(),
            ..Default::default()
        }],
    }
}

/// Three active users, user 0 in a group that maps to a role; synced once.
fn synced() -> World {
    let mut w = World::new(SyncTarget::Users);
    // Roles by group name are a rule the admin adds (safe role defaults).
    w.roles_by_group_name();
    w.okta.add_group("00gCM", "change manager");
    w.okta.add_group("00gEN", "Engineering");
    for i in 0..3 {
        w.okta.add_user(&uid(i), "ACTIVE", profile(i));
    }
    w.okta.add_member("00gCM", &uid(0));
    w.run(SyncMode::Full);
    w
}

fn deliver(w: &mut World, events: &[OktaEvent]) -> events::DeliveryReport {
    events::deliver(&mut w.host(), common::world::CONFIG, events).unwrap()
}

#[test]
fn a_deactivation_applies_once_and_its_redelivery_changes_nothing() {
    let mut w = synced();
    w.okta.set_status(&uid(1), "DEPROVISIONED");
    let e = ev(
        "e1",
        "2026-11-30T10:00:00.000Z",
        "user.lifecycle.deactivate",
        &uid(1),
    );
    let r = deliver(&mut w, std::slice::from_ref(&e));
    assert_eq!(w.person(&uid(1)).status, PersonStatus::Deactivated);
    assert_eq!((r.deactivated, r.users_fetched, r.requests), (1, 1, 2));
    assert_eq!(r.events[0].outcome, EventOutcome::Applied);
    // Nobody else was touched.
    assert_eq!(w.person(&uid(2)).status, PersonStatus::Active);

    let sent = w.okta.log.len();
    let again = deliver(&mut w, &[e]);
    assert_eq!(again.events[0].outcome, EventOutcome::Duplicate);
    assert_eq!((again.requests, again.people_changed), (0, 0));
    assert_eq!(w.okta.log.len(), sent, "a duplicate sends nothing to Okta");
}

#[test]
fn out_of_order_events_end_in_okta_s_current_state() {
    let mut w = synced();
    // Suspended, then unsuspended: Okta says ACTIVE now.
    w.okta.set_status(&uid(1), "SUSPENDED");
    w.okta.set_status(&uid(1), "ACTIVE");
    let suspend = ev(
        "s",
        "2026-11-30T10:00:00.000Z",
        "user.lifecycle.suspend",
        &uid(1),
    );
    let unsuspend = ev(
        "u",
        "2026-11-30T10:00:01.000Z",
        "user.lifecycle.unsuspend",
        &uid(1),
    );
    deliver(&mut w, &[unsuspend]);
    deliver(&mut w, &[suspend]);
    assert_eq!(w.person(&uid(1)).status, PersonStatus::Active);
    // In one delivery, ordered by `published`, each user read once.
    w.okta.set_status(&uid(2), "SUSPENDED");
    let a = ev(
        "a",
        "2026-11-30T10:00:03.000Z",
        "user.account.update_profile",
        &uid(2),
    );
    let b = ev(
        "b",
        "2026-11-30T10:00:02.000Z",
        "user.lifecycle.suspend",
        &uid(2),
    );
    let r = deliver(&mut w, &[a, b]);
    let order: Vec<&str> = r.events.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(order, ["b", "a"]);
    assert_eq!((r.users_fetched, r.requests), (1, 2));
    assert_eq!(w.person(&uid(2)).status, PersonStatus::Suspended);
}

#[test]
fn profile_and_membership_changes_apply_through_the_mapping_and_role_rules() {
    let mut w = synced();
    let before = w.person(&uid(2)).roles.clone();
    w.okta.set_profile(&uid(2), "lastName", json!("Renamed"));
    w.okta.add_member("00gCM", &uid(2));
    let events = [
        ev(
            "p",
            "2026-11-30T10:00:00Z",
            "user.account.update_profile",
            &uid(2),
        ),
        ev(
            "m",
            "2026-11-30T10:00:01Z",
            "group.user_membership.add",
            &uid(2),
        ),
    ];
    let r = deliver(&mut w, &events);
    let p = w.person(&uid(2));
    assert_eq!(p.last_name, "Renamed");
    assert_ne!(p.roles, before);
    assert_eq!(
        p.roles,
        w.person(&uid(0)).roles,
        "the same role rule as user 0"
    );
    assert_eq!(r.people_changed, 1);
}

#[test]
fn a_user_okta_no_longer_has_is_deactivated_and_foreign_events_are_ignored() {
    let mut w = synced();
    w.okta.delete_user(&uid(0));
    let gone = ev(
        "d",
        "2026-11-30T10:00:00Z",
        "user.lifecycle.delete.initiated",
        &uid(0),
    );
    let mut other = ev(
        "x",
        "2026-11-30T10:00:00Z",
        "application.lifecycle.update",
        "0oa1",
    );
    other.targets[0].kind = "AppInstance".into();
    let r = deliver(&mut w, &[gone, other]);
    assert_eq!(w.person(&uid(0)).status, PersonStatus::Deactivated);
    assert_eq!(r.events[1].outcome, EventOutcome::Ignored);
}

#[test]
fn okta_failing_defers_the_event_and_a_redelivery_applies_it() {
    let mut w = synced();
    w.okta.set_status(&uid(1), "SUSPENDED");
    w.okta.faults.push_back((
        format!("/api/v1/users/{}", uid(1)),
        common::okta::Fault::Status(500),
    ));
    let e = ev(
        "f",
        "2026-11-30T10:00:00Z",
        "user.lifecycle.suspend",
        &uid(1),
    );
    let r = deliver(&mut w, std::slice::from_ref(&e));
    assert_eq!(r.events[0].outcome, EventOutcome::Deferred);
    assert_eq!(w.person(&uid(1)).status, PersonStatus::Active);
    let r = deliver(&mut w, &[e]);
    assert_eq!(r.events[0].outcome, EventOutcome::Applied);
    assert_eq!(w.person(&uid(1)).status, PersonStatus::Suspended);
}

#[test]
fn a_deleted_group_re_reads_its_last_known_members() {
    let mut w = synced();
    let granted = w.person(&uid(0)).roles.clone();
    w.okta.remove_member("00gCM", &uid(0));
    let mut e = ev("g", "2026-11-30T10:00:00Z", events::GROUP_DELETED, "00gCM");
    e.targets[0].kind = "UserGroup".into();
    let r = deliver(&mut w, &[e]);
    assert_eq!(r.events[0].outcome, EventOutcome::Applied, "{:?}", r.events);
    assert_ne!(w.person(&uid(0)).roles, granted);
}
