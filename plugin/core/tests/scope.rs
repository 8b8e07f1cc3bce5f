//! Scope per config and populations by group (issue 15), against the fake
//! Okta org and the fake Infraon directory: who lands, who leaves, who
//! moves, what each run lists, and what the admin is told before saving.

mod common;

use common::world::{CONFIG, World, profile, uid};
use plugin_core::sync::scope::{self, PopulationInput, ScopeInput};
use plugin_core::sync::{self, Settings};
use plugin_core::{PersonStatus, RunOutcome, SyncMode, SyncTarget};
use serde_json::{Value, json};

const MIN: u64 = 60_000;
const IT: &str = "00gIT";
const SALES: &str = "00gSALES";

/// 30 active users: 0..10 in IT-Staff (department IT), the rest in Sales;
/// user 30 is DEPROVISIONED and still in IT-Staff, as Okta keeps them.
fn org(kind: SyncTarget) -> World {
    let mut w = World::new(kind);
    w.okta.add_typed_group("00gEVERY", "Everyone", "BUILT_IN");
    w.okta.add_group(IT, "IT-Staff");
    w.okta.add_group(SALES, "Sales");
    for i in 0..30 {
        let mut p = profile(i);
        p["department"] = Value::from(if i < 10 { "IT" } else { "Sales" });
        w.okta.add_user(&uid(i), "ACTIVE", p);
        w.okta.add_member(if i < 10 { IT } else { SALES }, &uid(i));
    }
    let mut gone = profile(30);
    gone["department"] = json!("IT");
    w.okta.add_user(&uid(30), "DEPROVISIONED", gone);
    w.okta.add_member(IT, &uid(30));
    w.advance(5 * MIN);
    w
}

fn groups(names: &[&str]) -> ScopeInput {
    ScopeInput {
        groups: names.iter().map(|n| n.to_string()).collect(),
        filter: None,
    }
}

fn filter(expr: &str) -> ScopeInput {
    ScopeInput {
        groups: Vec::new(),
        filter: Some(expr.into()),
    }
}

/// Everyone linked to the config, by population and status.
fn linked(w: &World, kind: SyncTarget, status: PersonStatus) -> Vec<String> {
    w.dir
        .people
        .values()
        .filter(|p| p.config == CONFIG && p.kind == kind && p.status == status)
        .map(|p| p.external_id.clone())
        .collect()
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(uid).collect()
}

fn user_listings(w: &World) -> usize {
    w.okta
        .log
        .iter()
        .filter(|l| l.url.contains("/api/v1/users?"))
        .count()
}

#[test]
fn a_group_scoped_config_syncs_exactly_its_members_and_deactivates_who_leaves() {
    let mut w = org(SyncTarget::Users);
    // The count before saving is what the run then lands.
    let counted = scope::count_scope(&mut w.host(), CONFIG, &groups(&["it-staff"])).unwrap();
    assert_eq!(counted, 10);
    let saved = scope::set_scope(&mut w.host(), CONFIG, &groups(&["IT-Staff"])).unwrap();
    assert_eq!(saved, counted);
    assert_eq!(
        scope::get_scope(&mut w.host(), CONFIG).unwrap(),
        groups(&["IT-Staff"])
    );

    w.okta.log.clear();
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active),
        ids(0..10)
    );
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active).len() as u32,
        counted
    );
    // The deprovisioned member is known as deactivated; nobody from Sales.
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Deactivated),
        vec![uid(30)]
    );
    assert!(
        w.dir
            .people
            .values()
            .all(|p| p.external_id < uid(10) || p.external_id == uid(30))
    );
    // The plan: the groups, the members of the groups that decide anything
    // (twice for IT-Staff: its ids for memberships, its users to apply) and
    // never the whole user listing (5 of 31 users would be 1 page of 200
    // here, but 25 for an org of 5,000).
    assert_eq!(user_listings(&w), 0, "{:?}", w.okta.log);
    let members_of_it = w
        .okta
        .log
        .iter()
        .filter(|l| l.url.contains(&format!("/groups/{IT}/users")))
        .count();
    assert_eq!(members_of_it, 2);

    // A member removed from the group is deactivated by the next run, an
    // incremental one.
    w.okta.remove_member(IT, &uid(3));
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Incremental);
    assert_eq!(r.mode, SyncMode::Incremental);
    assert_eq!(r.counts.deactivated, 1);
    assert_eq!(w.person(&uid(3)).status, PersonStatus::Deactivated);
    assert_eq!(linked(&w, SyncTarget::Users, PersonStatus::Active).len(), 9);

    // Six more leave at once: more than the safeguard's 20 % and 5, so the
    // full run holds them until approved.
    for i in 4..10 {
        w.okta.remove_member(IT, &uid(i));
    }
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held));
    assert_eq!(linked(&w, SyncTarget::Users, PersonStatus::Active).len(), 9);
    let approved = sync::approve_held(&mut w.host(), CONFIG, r.id).unwrap();
    assert_eq!(approved.counts.deactivated, 6);
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active),
        ids(0..3)
    );
}

#[test]
fn a_filter_scoped_config_syncs_exactly_the_matches_and_deactivates_who_stops_matching() {
    let mut w = org(SyncTarget::Users);
    let expr = r#"profile.department eq "IT""#;
    let counted = scope::set_scope(&mut w.host(), CONFIG, &filter(expr)).unwrap();
    assert_eq!(counted, 10);
    w.okta.log.clear();
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active),
        ids(0..10)
    );
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Deactivated),
        vec![uid(30)]
    );
    // One search listing (deprovisioned included): no separate listing of
    // the deprovisioned, no unfiltered listing.
    let users: Vec<&str> = w
        .okta
        .log
        .iter()
        .filter(|l| l.url.contains("/api/v1/users?"))
        .map(|l| l.url.as_str())
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0].contains("search=profile.department%20eq%20%22IT%22"));

    // An incremental run lists only changed matches.
    w.okta.set_profile(&uid(1), "title", json!("Lead"));
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Incremental);
    assert_eq!(
        (r.mode, r.counts.fetched, r.counts.updated),
        (SyncMode::Incremental, 1, 1)
    );

    // Who stops matching is deactivated by the next full run (a search is
    // eventually consistent, so no run concludes absence from a partial one).
    w.okta.set_profile(&uid(2), "department", json!("Sales"));
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.counts.deactivated, 1);
    assert_eq!(w.person(&uid(2)).status, PersonStatus::Deactivated);
    assert_eq!(linked(&w, SyncTarget::Users, PersonStatus::Active).len(), 9);
}

#[test]
fn groups_and_a_filter_together_sync_the_members_who_match() {
    let mut w = org(SyncTarget::Users);
    w.okta.set_profile(&uid(12), "department", json!("IT"));
    let both = ScopeInput {
        groups: vec!["Sales".into()],
        filter: Some(r#"profile.department eq "IT""#.into()),
    };
    assert_eq!(scope::set_scope(&mut w.host(), CONFIG, &both).unwrap(), 1);
    w.run(SyncMode::Full);
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active),
        vec![uid(12)]
    );
    assert_eq!(w.dir.people.len(), 1);
}

#[test]
fn a_scope_change_forces_a_full_run_and_incremental_runs_stay_incremental_otherwise() {
    let mut w = org(SyncTarget::Users);
    assert_eq!(w.run(SyncMode::Full).counts.created, 31);
    w.advance(5 * MIN);
    assert_eq!(w.run(SyncMode::Incremental).mode, SyncMode::Incremental);

    scope::set_scope(&mut w.host(), CONFIG, &groups(&[IT])).unwrap();
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Incremental);
    assert_eq!(r.mode, SyncMode::Full, "the scope changed");
    // Sales left the scope: 20 deactivations, held by the safeguard.
    assert_eq!(r.outcome, Some(RunOutcome::Held));
    sync::approve_held(&mut w.host(), CONFIG, r.id).unwrap();
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active),
        ids(0..10)
    );

    w.advance(5 * MIN);
    assert_eq!(w.run(SyncMode::Incremental).mode, SyncMode::Incremental);
    // Population rules are part of it too.
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: "IT-Staff".into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    w.advance(5 * MIN);
    assert_eq!(w.run(SyncMode::Incremental).mode, SyncMode::Full);
}

#[test]
fn a_bad_filter_or_an_unknown_group_is_refused_with_a_clear_message_and_not_saved() {
    let mut w = org(SyncTarget::Users);
    scope::set_scope(&mut w.host(), CONFIG, &groups(&["IT-Staff"])).unwrap();
    let e = scope::set_scope(&mut w.host(), CONFIG, &filter("profile.department eq"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Okta refuses the filter expression `profile.department eq`")
            && e.contains("E0000031")
            && e.contains("nothing was saved"),
        "{e}"
    );
    let e = scope::count_scope(&mut w.host(), CONFIG, &groups(&["Nobody"]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no group named or with the id `Nobody`"), "{e}");
    assert_eq!(
        scope::get_scope(&mut w.host(), CONFIG).unwrap(),
        groups(&["IT-Staff"])
    );
    // The token never reaches a message.
    assert!(!e.contains(common::TOKEN));
}

#[test]
fn a_population_rule_splits_one_config_and_moves_who_leaves_the_group() {
    // Sync field: Requesters, the default population.
    let mut w = org(SyncTarget::Requesters);
    w.settings(Settings {
        deactivation_minimum: 50,
        ..Settings::default()
    });
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: "IT-Staff".into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    assert_eq!(
        scope::get_populations(&mut w.host(), CONFIG).unwrap(),
        vec![PopulationInput {
            group: "IT-Staff".into(),
            population: SyncTarget::Users,
        }]
    );
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Active),
        ids(0..10)
    );
    assert_eq!(
        linked(&w, SyncTarget::Requesters, PersonStatus::Active),
        ids(10..30)
    );
    let tech = w.dir.get(SyncTarget::Users, &uid(0)).unwrap();
    assert_eq!(tech.roles, vec!["Technician".to_string()]);
    let req = w.dir.get(SyncTarget::Requesters, &uid(10)).unwrap();
    assert_eq!(req.roles, vec!["Requester".to_string()]);

    // Removed from IT-Staff (in no group now): moved to Requesters by the
    // next (incremental) run, the same person, never two.
    w.okta.remove_member(IT, &uid(3));
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Incremental);
    assert_eq!(r.mode, SyncMode::Incremental);
    assert_eq!(r.counts.deactivated, 0);
    assert!(w.dir.get(SyncTarget::Users, &uid(3)).is_none());
    let moved = w.dir.get(SyncTarget::Requesters, &uid(3)).unwrap();
    assert_eq!(moved.status, PersonStatus::Active);
    assert_eq!(moved.roles, vec!["Requester".to_string()]);
    assert_eq!(
        w.dir
            .people
            .values()
            .filter(|p| p.external_id == uid(3))
            .count(),
        1
    );

    // A full run moves the same way (and back, when they rejoin).
    w.okta.remove_member(IT, &uid(4));
    w.okta.add_member(IT, &uid(3));
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(
        (r.outcome, r.counts.created, r.counts.deactivated),
        (Some(RunOutcome::Succeeded), 0, 0)
    );
    assert!(w.dir.get(SyncTarget::Users, &uid(4)).is_none());
    assert_eq!(
        w.dir.get(SyncTarget::Requesters, &uid(4)).unwrap().status,
        PersonStatus::Active
    );
    assert_eq!(
        w.dir.get(SyncTarget::Users, &uid(3)).unwrap().roles,
        vec!["Technician".to_string()]
    );
    assert!(w.dir.get(SyncTarget::Requesters, &uid(3)).is_none());
    assert_eq!(w.dir.people.len(), 31);
    assert_eq!(w.dir.calls.moves, 3);

    // A dry run moves nobody.
    w.okta.remove_member(IT, &uid(5));
    w.advance(5 * MIN);
    w.run(SyncMode::DryRun);
    assert!(w.dir.get(SyncTarget::Users, &uid(5)).is_some());
    assert_eq!(w.dir.calls.moves, 3);
}

#[test]
fn people_who_leave_okta_are_deactivated_in_whichever_population_they_are() {
    let mut w = org(SyncTarget::Requesters);
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: IT.into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    w.run(SyncMode::Full);
    w.okta.delete_user(&uid(1));
    w.okta.delete_user(&uid(11));
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.counts.deactivated, 2);
    assert_eq!(
        w.dir.get(SyncTarget::Users, &uid(1)).unwrap().status,
        PersonStatus::Deactivated
    );
    assert_eq!(
        w.dir.get(SyncTarget::Requesters, &uid(11)).unwrap().status,
        PersonStatus::Deactivated
    );
}

fn event(uuid: &str, kind: &str, user: &str) -> plugin_core::events::OktaEvent {
    plugin_core::events::OktaEvent {
        uuid: uuid.into(),
        published: "2026-11-30T10:00:00.000Z".into(),
        event_type: kind.into(),
        targets: vec![plugin_core::events::EventTarget {
            id: user.into(),
            kind: "User".into(),
            ..Default::default()
        }],
    }
}

#[test]
fn event_hook_deliveries_respect_the_scope_and_the_populations() {
    let mut w = org(SyncTarget::Requesters);
    scope::set_scope(&mut w.host(), CONFIG, &groups(&["IT-Staff", "Sales"])).unwrap();
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: "IT-Staff".into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    w.run(SyncMode::Full);
    // Out of every group now: the event deactivates them, not updates them.
    w.okta.remove_member(SALES, &uid(15));
    w.okta.set_profile(&uid(15), "title", json!("Gone"));
    // A newcomer outside the scope is not created by an event.
    w.okta.add_user(&uid(40), "ACTIVE", profile(40));
    // Moved into IT-Staff: moved to Users by the event.
    w.okta.remove_member(SALES, &uid(16));
    w.okta.add_member(IT, &uid(16));
    let report = plugin_core::events::deliver(
        &mut w.host(),
        CONFIG,
        &[
            event("e1", "user.lifecycle.update", &uid(15)),
            event("e2", "user.lifecycle.create", &uid(40)),
            event("e3", "group.user_membership.add", &uid(16)),
        ],
    )
    .unwrap();
    assert_eq!(report.deactivated, 1, "{report:?}");
    let p15 = w.dir.get(SyncTarget::Requesters, &uid(15)).unwrap();
    assert_eq!(
        (p15.status, p15.fields.iter().any(|(_, v)| v == "Gone")),
        (PersonStatus::Deactivated, false)
    );
    assert!(w.dir.people.values().all(|p| p.external_id != uid(40)));
    assert!(w.dir.get(SyncTarget::Requesters, &uid(16)).is_none());
    assert_eq!(
        w.dir.get(SyncTarget::Users, &uid(16)).unwrap().roles,
        vec!["Technician".to_string()]
    );
}

#[test]
fn event_hook_deliveries_check_the_filter_with_one_search_per_user() {
    let mut w = org(SyncTarget::Users);
    scope::set_scope(
        &mut w.host(),
        CONFIG,
        &filter(r#"profile.department eq "IT""#),
    )
    .unwrap();
    w.run(SyncMode::Full);
    w.okta.set_profile(&uid(2), "department", json!("Sales"));
    w.okta.set_profile(&uid(20), "department", json!("IT"));
    w.okta.log.clear();
    let report = plugin_core::events::deliver(
        &mut w.host(),
        CONFIG,
        &[
            event("e1", "user.account.update_profile", &uid(2)),
            event("e2", "user.account.update_profile", &uid(20)),
        ],
    )
    .unwrap();
    assert_eq!(report.deactivated, 1, "{report:?}");
    assert_eq!(w.person(&uid(2)).status, PersonStatus::Deactivated);
    assert_eq!(w.person(&uid(20)).status, PersonStatus::Active);
    let searches = w
        .okta
        .log
        .iter()
        .filter(|l| l.url.contains("search="))
        .count();
    assert_eq!(searches, 2);
}

#[test]
fn provisioning_one_person_on_demand_applies_the_scope_and_the_population_rules() {
    let mut w = org(SyncTarget::Requesters);
    scope::set_scope(&mut w.host(), CONFIG, &groups(&["IT-Staff", "Sales"])).unwrap();
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: "IT-Staff".into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    // In IT-Staff: lands in Users (the rule), not Requesters (the Sync field).
    let r = sync::provision(&mut w.host(), CONFIG, &uid(3)).unwrap();
    assert_eq!(r.changes.len(), 1, "{r:?}");
    assert_eq!(
        w.dir.get(SyncTarget::Users, &uid(3)).unwrap().roles,
        vec!["Technician".to_string()]
    );
    assert!(w.dir.get(SyncTarget::Requesters, &uid(3)).is_none());
    // In Sales: the Sync field's population.
    sync::provision(&mut w.host(), CONFIG, &uid(12)).unwrap();
    assert!(w.dir.get(SyncTarget::Requesters, &uid(12)).is_some());
    // In no scope group: refused with the reason, nobody written.
    w.okta.add_user(&uid(40), "ACTIVE", profile(40));
    let before = w.dir.people.len();
    let e = sync::provision(&mut w.host(), CONFIG, &uid(40)).unwrap_err();
    assert!(e.to_string().contains("outside this config's scope"), "{e}");
    assert_eq!(w.dir.people.len(), before);
    // Moved out of IT-Staff into Sales: moved to Requesters, not duplicated.
    w.okta.remove_member(IT, &uid(3));
    w.okta.add_member(SALES, &uid(3));
    sync::provision(&mut w.host(), CONFIG, &uid(3)).unwrap();
    assert!(w.dir.get(SyncTarget::Users, &uid(3)).is_none());
    assert_eq!(
        w.dir.get(SyncTarget::Requesters, &uid(3)).unwrap().status,
        PersonStatus::Active
    );
    // Left every scope group while managed: deactivated, as a sync would.
    w.okta.remove_member(SALES, &uid(12));
    let r = sync::provision(&mut w.host(), CONFIG, &uid(12)).unwrap();
    assert_eq!(r.changes[0].action.as_str(), "deactivate", "{r:?}");
    assert_eq!(
        w.dir.get(SyncTarget::Requesters, &uid(12)).unwrap().status,
        PersonStatus::Deactivated
    );
}

#[test]
fn provisioning_on_demand_asks_okta_whether_the_user_matches_the_expression() {
    let mut w = org(SyncTarget::Users);
    scope::set_scope(
        &mut w.host(),
        CONFIG,
        &filter(r#"profile.department eq "IT""#),
    )
    .unwrap();
    sync::provision(&mut w.host(), CONFIG, &uid(2)).unwrap();
    assert!(w.dir.get(SyncTarget::Users, &uid(2)).is_some());
    let e = sync::provision(&mut w.host(), CONFIG, &uid(20)).unwrap_err();
    assert!(e.to_string().contains("outside this config's scope"), "{e}");
    assert!(w.dir.get(SyncTarget::Users, &uid(20)).is_none());
}

#[test]
fn a_held_run_lists_leavers_of_both_populations_and_approve_deactivates_each_where_they_are() {
    let mut w = org(SyncTarget::Requesters);
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: IT.into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    w.run(SyncMode::Full);
    // Over the safeguard (default 10 people and a share): held.
    let gone: Vec<String> = (0..6).chain(10..16).map(uid).collect();
    for id in &gone {
        w.okta.delete_user(id);
    }
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held), "{r:?}");
    let page = sync::run_changes(&mut w.host(), CONFIG, r.id, 0, 100).unwrap();
    let mut held: Vec<String> = page
        .changes
        .iter()
        .filter(|c| c.held)
        .map(|c| c.okta_id.clone())
        .collect();
    held.sort();
    let mut want = gone.clone();
    want.sort();
    assert_eq!(held, want);
    // Only user 30, DEPROVISIONED from the start, is deactivated so far.
    assert_eq!(
        linked(&w, SyncTarget::Users, PersonStatus::Deactivated),
        vec![uid(30)]
    );
    sync::approve_held_by(&mut w.host(), CONFIG, r.id, "Ada Admin").unwrap();
    let mut users = linked(&w, SyncTarget::Users, PersonStatus::Deactivated);
    users.sort();
    let mut requesters = linked(&w, SyncTarget::Requesters, PersonStatus::Deactivated);
    requesters.sort();
    let mut want_users = ids(0..6);
    want_users.push(uid(30));
    want_users.sort();
    assert_eq!(users, want_users);
    assert_eq!(requesters, ids(10..16));
}

#[test]
fn users_read_while_members_are_listed_take_the_population_of_groups_listed_after_them() {
    // Requesters by default; members of "Group 2" are Users. Answers arrive
    // at once (`interleave`), so users pages are read while the members of
    // the three groups are still being listed, before "Group 2"'s.
    let mut w = World::new(SyncTarget::Requesters);
    w.seed(700, 3);
    w.okta.interleave = true;
    scope::set_populations(
        &mut w.host(),
        CONFIG,
        &[PopulationInput {
            group: "Group 2".into(),
            population: SyncTarget::Users,
        }],
    )
    .unwrap();
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    let log = &w.okta.log;
    let first_users = log.iter().position(|l| l.url.contains("/api/v1/users?"));
    let last_members = log.iter().rposition(|l| l.url.contains("/api/v1/groups/"));
    assert!(
        first_users < last_members,
        "no users page was read while members were listed"
    );
    let users: Vec<String> = (0..700).filter(|i| i % 3 == 2).map(uid).collect();
    let requesters: Vec<String> = (0..700).filter(|i| i % 3 != 2).map(uid).collect();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(linked(&w, SyncTarget::Users, PersonStatus::Active)),
        users
    );
    assert_eq!(
        sorted(linked(&w, SyncTarget::Requesters, PersonStatus::Active)),
        requesters
    );
    let tech = w.dir.get(SyncTarget::Users, &uid(2)).unwrap();
    assert_eq!(tech.roles, vec!["Technician".to_string()]);
    let req = w.dir.get(SyncTarget::Requesters, &uid(0)).unwrap();
    assert_eq!(req.roles, vec!["Requester".to_string()]);
}
