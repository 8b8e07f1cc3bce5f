//! Seeing who before it happens (issue 15): a dry run's and a held run's
//! list of people, person by person, against what the run and Approve then
//! apply; Approve and Reject recorded with who and when; provisioning one
//! person on demand; the rehire policy as the admin sets it.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::TOKEN;
use common::world::{CONFIG, World, gid, profile, uid};
use plugin_core::sync::{self, ChangeAction, PersonChange, Rehire};
use plugin_core::{Person, PersonStatus, RunOutcome, SyncError, SyncMode, SyncTarget};
use serde_json::json;

const MIN: u64 = 60_000;

/// A synced org where group names grant roles, with a "Change Manager" group.
fn synced(users: usize) -> World {
    let mut w = World::new(SyncTarget::Users);
    w.seed(users, 2);
    w.okta.add_group("00gcm", "Change Manager");
    w.roles_by_group_name();
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    w.advance(5 * MIN);
    w
}

/// Every person of run `id`'s list, read in pages of `page`.
fn listed(w: &mut World, id: u64, page: u32) -> Vec<PersonChange> {
    let mut out = Vec::new();
    loop {
        let p = sync::run_changes(&mut w.host(), CONFIG, id, out.len() as u64, page).unwrap();
        assert!(p.changes.len() <= page as usize);
        if p.changes.is_empty() {
            assert_eq!(out.len() as u64, p.total);
            return out;
        }
        out.extend(p.changes);
    }
}

fn by_id(people: Vec<Person>) -> BTreeMap<String, Person> {
    people
        .into_iter()
        .map(|p| (p.external_id.clone(), p))
        .collect()
}

/// Who differs between two snapshots of the directory.
fn differing(
    before: &BTreeMap<String, Person>,
    after: &BTreeMap<String, Person>,
) -> BTreeSet<String> {
    before
        .keys()
        .chain(after.keys())
        .filter(|id| before.get(*id) != after.get(*id))
        .cloned()
        .collect()
}

fn field<'a>(c: &'a PersonChange, name: &str) -> Option<(&'a str, &'a str)> {
    c.fields
        .iter()
        .find(|f| f.field == name)
        .map(|f| (f.old.as_str(), f.new.as_str()))
}

#[test]
fn a_held_runs_list_is_person_by_person_what_approve_applies() {
    let mut w = synced(20);
    for i in 0..10 {
        w.okta.delete_user(&uid(i));
    }
    w.okta.set_profile(&uid(15), "title", json!("Lead"));
    w.okta.add_member("00gcm", &uid(16));
    w.okta.add_user(&uid(100), "ACTIVE", profile(100));
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held));

    // Pages of 3 cross every boundary; the list is the run's, in its order.
    let list = listed(&mut w, r.id, 3);
    assert_eq!(list, listed(&mut w, r.id, 1000));
    let held: BTreeSet<String> = list
        .iter()
        .filter(|c| c.held)
        .map(|c| c.okta_id.clone())
        .collect();
    assert_eq!(held, (0..10).map(uid).collect());
    for c in list.iter().filter(|c| c.held) {
        assert_eq!(c.action, ChangeAction::Deactivate);
        let p = w.person(&c.okta_id);
        assert_eq!((&c.login, &c.email), (&p.login, &p.email));
        assert_eq!(field(c, "status"), Some(("active", "deactivated")));
    }
    let applied: Vec<&PersonChange> = list.iter().filter(|c| !c.held).collect();
    assert_eq!(applied.len(), 3, "{applied:#?}");
    let title = applied.iter().find(|c| c.okta_id == uid(15)).unwrap();
    assert_eq!(title.action, ChangeAction::Update);
    assert_eq!(field(title, "title"), Some(("Engineer", "Lead")));
    assert!(title.roles_added.is_empty() && title.roles_removed.is_empty());
    let promoted = applied.iter().find(|c| c.okta_id == uid(16)).unwrap();
    assert_eq!(promoted.roles_added, ["Change Manager"]);
    assert!(promoted.fields.is_empty());
    let new = applied.iter().find(|c| c.okta_id == uid(100)).unwrap();
    assert_eq!(new.action, ChangeAction::Create);
    assert_eq!(new.login, "user100@acme.com");
    assert!(new.fields.is_empty(), "a new person's values are all new");
    assert_eq!(new.roles_added, w.person(&uid(100)).roles);

    // Approve applies exactly the held people of the list, nobody else.
    let before = by_id(w.people());
    w.advance(MIN);
    let approved = sync::approve_held_by(&mut w.host(), CONFIG, r.id, "Ada Admin").unwrap();
    let after = by_id(w.people());
    assert_eq!(differing(&before, &after), held);
    for id in &held {
        assert_eq!(after[id].status, PersonStatus::Deactivated);
        let mut was = before[id].clone();
        was.status = PersonStatus::Deactivated;
        assert_eq!(after[id], was, "only the status changes");
    }
    assert_eq!(approved.counts.deactivated, 10);
    assert_eq!(approved.outcome, Some(RunOutcome::Succeeded));

    // Recorded with who and when; the list stays readable, as it was.
    let d = sync::decisions(&mut w.host(), CONFIG, 10).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].run_id, d[0].approved), (r.id, true));
    assert_eq!(d[0].by, "Ada Admin");
    assert_eq!(
        d[0].at,
        plugin_core::time::rfc3339_from_unix_ms(w.clock.0.get())
    );
    assert_eq!(d[0].people, 10);
    assert_eq!(listed(&mut w, r.id, 7), list);
}

#[test]
fn a_dry_runs_list_is_what_the_same_full_run_applies() {
    let mut w = synced(30);
    w.okta.delete_user(&uid(1));
    w.okta.delete_user(&uid(2));
    w.okta.set_status(&uid(3), "DEPROVISIONED");
    w.okta.set_status(&uid(4), "SUSPENDED");
    w.okta.set_profile(&uid(5), "title", json!("Lead"));
    w.okta.set_profile(&uid(6), "lastName", json!("Lovelace"));
    w.okta.remove_member(&gid(1), &uid(7));
    w.okta.add_member("00gcm", &uid(7));
    w.okta.add_user(&uid(200), "ACTIVE", profile(200));
    w.okta.add_user(&uid(201), "STAGED", profile(201));
    // The same email as user 8: unsynced, with why.
    let mut twin = profile(202);
    twin["email"] = json!("user8@acme.com");
    w.okta.add_user(&uid(202), "ACTIVE", twin);

    let before = by_id(w.people());
    let dry = w.run(SyncMode::DryRun);
    assert_eq!(by_id(w.people()), before, "a dry run changes nobody");
    let planned = listed(&mut w, dry.id, 4);
    let full = w.run(SyncMode::Full);
    assert_eq!(full.outcome, Some(RunOutcome::Partial));
    let applied = listed(&mut w, full.id, 1000);
    assert_eq!(planned, applied, "the dry run's list is the full run's");

    let actions: BTreeMap<String, ChangeAction> = applied
        .iter()
        .map(|c| (c.okta_id.clone(), c.action))
        .collect();
    let want: BTreeMap<String, ChangeAction> = [
        (uid(1), ChangeAction::Deactivate),
        (uid(2), ChangeAction::Deactivate),
        (uid(3), ChangeAction::Deactivate),
        (uid(4), ChangeAction::Update),
        (uid(5), ChangeAction::Update),
        (uid(6), ChangeAction::Update),
        (uid(7), ChangeAction::Update),
        (uid(200), ChangeAction::Create),
        (uid(201), ChangeAction::Create),
        (uid(202), ChangeAction::Unsynced),
    ]
    .into_iter()
    .collect();
    assert_eq!(actions, want);
    let twin = applied.iter().find(|c| c.okta_id == uid(202)).unwrap();
    assert!(
        twin.reason
            .as_deref()
            .unwrap()
            .starts_with("duplicate-email")
    );
    let moved = applied.iter().find(|c| c.okta_id == uid(7)).unwrap();
    assert_eq!(
        (moved.roles_added.clone(), moved.roles_removed.clone()),
        (
            vec!["Change Manager".to_string()],
            vec!["Technician".to_string()]
        )
    );
    assert_eq!(
        field(
            applied.iter().find(|c| c.okta_id == uid(4)).unwrap(),
            "status"
        ),
        Some(("active", "suspended"))
    );

    // What the list says is what Infraon now has, and nobody else changed.
    let after = by_id(w.people());
    let changed: BTreeSet<String> = applied
        .iter()
        .filter(|c| c.action != ChangeAction::Unsynced)
        .map(|c| c.okta_id.clone())
        .collect();
    assert_eq!(differing(&before, &after), changed);
    for c in applied
        .iter()
        .filter(|c| c.action != ChangeAction::Unsynced)
    {
        let p = &after[&c.okta_id];
        for f in &c.fields {
            let now = match f.field.as_str() {
                "login" => p.login.clone(),
                "email" => p.email.clone(),
                "first-name" => p.first_name.clone(),
                "last-name" => p.last_name.clone(),
                "display-name" => p.display_name.clone(),
                "status" => p.status.as_str().to_owned(),
                other => p
                    .fields
                    .iter()
                    .find(|(k, _)| k == other)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            };
            assert_eq!(now, f.new, "{} {}", c.okta_id, f.field);
        }
        for role in &c.roles_added {
            assert!(p.roles.contains(role));
        }
        for role in &c.roles_removed {
            assert!(!p.roles.contains(role));
        }
    }
}

#[test]
fn reject_is_recorded_with_who_and_when_and_a_blank_name_is_refused() {
    let mut w = synced(20);
    for i in 0..6 {
        w.okta.delete_user(&uid(i));
    }
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Held));
    assert!(matches!(
        sync::reject_held_by(&mut w.host(), CONFIG, r.id, " \n "),
        Err(SyncError::Other(m)) if m.contains("who")
    ));
    let before = by_id(w.people());
    sync::reject_held_by(&mut w.host(), CONFIG, r.id, "Grace\u{7} Hopper ").unwrap();
    assert_eq!(by_id(w.people()), before);
    let d = &sync::decisions(&mut w.host(), CONFIG, 10).unwrap()[0];
    assert_eq!((d.run_id, d.approved, d.people), (r.id, false, 6));
    assert_eq!(d.by, "Grace Hopper");
    assert_eq!(
        d.at,
        plugin_core::time::rfc3339_from_unix_ms(w.clock.0.get())
    );
    // The plain call still decides, naming nobody.
    let r2 = w.run(SyncMode::Full);
    sync::approve_held(&mut w.host(), CONFIG, r2.id).unwrap();
    let d = sync::decisions(&mut w.host(), CONFIG, 10).unwrap();
    assert_eq!((d[0].run_id, d[0].by.as_str()), (r2.id, ""));
    assert_eq!(d[1].run_id, r.id);
}

#[test]
fn provisioning_one_person_creates_exactly_them_with_their_roles() {
    let mut w = synced(10);
    w.okta.add_user(&uid(50), "ACTIVE", profile(50));
    w.okta.add_member("00gcm", &uid(50));
    w.okta.add_user(&uid(51), "ACTIVE", profile(51));
    w.okta.set_profile(&uid(3), "title", json!("Lead"));
    let before = by_id(w.people());
    let sent = w.okta.log.len();

    let r = sync::provision(&mut w.host(), CONFIG, " user50@acme.com ").unwrap();
    assert_eq!(
        (r.okta_id.as_str(), r.login.as_str()),
        (uid(50).as_str(), "user50@acme.com")
    );
    assert_eq!(r.groups, ["Change Manager"]);
    assert_eq!(r.changes.len(), 1);
    assert_eq!(r.changes[0].action, ChangeAction::Create);
    let after = by_id(w.people());
    assert_eq!(differing(&before, &after), BTreeSet::from([uid(50)]));
    let p = &after[&uid(50)];
    assert_eq!(p.roles, ["Change Manager"]);
    assert_eq!(r.changes[0].roles_added, p.roles);
    assert_eq!(p.status, PersonStatus::Active);
    // One user and their groups: nobody else was read.
    let paths: Vec<String> = w.okta.log[sent..].iter().map(|l| l.url.clone()).collect();
    assert_eq!(r.requests, 2);
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(paths[1].contains(&format!("/users/{}/groups", uid(50))));

    // Again: up to date. By id: only that person's change.
    assert!(
        sync::provision(&mut w.host(), CONFIG, &uid(50))
            .unwrap()
            .changes
            .is_empty()
    );
    let r = sync::provision(&mut w.host(), CONFIG, &uid(3)).unwrap();
    assert_eq!(r.changes.len(), 1);
    assert_eq!(field(&r.changes[0], "title"), Some(("Engineer", "Lead")));
    let again = by_id(w.people());
    assert_eq!(differing(&after, &again), BTreeSet::from([uid(3)]));
    assert!(!again.contains_key(&uid(51)));

    // Deprovisioned in Okta: deactivated now; unknown: refused, nothing written.
    w.okta.set_status(&uid(4), "DEPROVISIONED");
    let r = sync::provision(&mut w.host(), CONFIG, &uid(4)).unwrap();
    assert_eq!(r.changes.last().unwrap().action, ChangeAction::Deactivate);
    assert_eq!(w.person(&uid(4)).status, PersonStatus::Deactivated);
    let writes = w.dir.writes();
    assert!(matches!(
        sync::provision(&mut w.host(), CONFIG, "nobody@acme.com"),
        Err(SyncError::Other(m)) if m.contains("nobody@acme.com")
    ));
    assert_eq!(w.dir.writes(), writes);
    assert!(!w.log.text().contains(TOKEN));
}

#[test]
fn the_rehire_policy_is_the_admins_to_set() {
    let mut w = synced(3);
    assert_eq!(
        sync::get_rehire(&mut w.host(), CONFIG).unwrap(),
        Rehire::Relink
    );
    sync::set_rehire(&mut w.host(), CONFIG, Rehire::NewPerson).unwrap();
    assert_eq!(
        sync::get_rehire(&mut w.host(), CONFIG).unwrap(),
        Rehire::NewPerson
    );
    let s = sync::load_settings(&mut w.storage, CONFIG).unwrap();
    assert_eq!(s.rehire, Rehire::NewPerson);
    assert_eq!(s.deactivation_minimum, 5, "other settings kept");
    assert!(matches!(
        sync::set_rehire(&mut w.host(), "nope", Rehire::Relink),
        Err(SyncError::UnknownConfig(_))
    ));
}
