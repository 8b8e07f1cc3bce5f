//! An update that changes a config's Sync target or Okta org while people
//! are linked: refused without a migration; each migration, followed by a
//! sync, leaves nobody orphaned.

mod common;

use common::okta::{ORIGIN, ORIGIN_2};
use common::world::{CONFIG, World, profile, uid};
use plugin_core::install::{update, update_migrating};
use plugin_core::migration::Migration;
use plugin_core::{
    ConfigForm, Directory, InstallError, InstallOptions, Person, PersonStatus, RunOutcome,
    SyncMode, SyncTarget,
};

const MIN: u64 = 60_000;

fn synced() -> World {
    let mut w = World::new(SyncTarget::Users);
    w.seed(12, 2);
    w.advance(5 * MIN);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    w.advance(MIN);
    w
}

fn form(origin: &str, target: SyncTarget) -> ConfigForm {
    ConfigForm {
        name: CONFIG.into(),
        okta_domain: origin.into(),
        api_token: String::new(),
        sync_target: target,
        service_app: None,
    }
}

/// Everyone the directory has who came from this config: each is either
/// managed (linked in the config's current population) or deactivated.
fn orphans(w: &mut World, target: SyncTarget) -> Vec<Person> {
    let managed = w.dir.list_linked(CONFIG, target).unwrap();
    w.dir
        .people
        .values()
        .chain(w.dir.unlinked.iter())
        .filter(|p| p.status != PersonStatus::Deactivated)
        .filter(|p| !(p.kind == target && managed.contains(&p.external_id)))
        .cloned()
        .collect()
}

fn refused(w: &mut World, f: &ConfigForm, field: &str) {
    match update(&mut w.host(), f, &InstallOptions::default()) {
        Err(InstallError::InvalidConfig(errors)) => {
            assert_eq!(errors[0].field, field);
            assert!(errors[0].message.contains("12 people"), "{errors:?}");
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn switching_users_to_requesters_is_refused_then_moves_everyone_once() {
    let mut w = synced();
    let f = form(ORIGIN, SyncTarget::Requesters);
    refused(&mut w, &f, "sync-target");
    assert_eq!(
        w.dir.list_linked(CONFIG, SyncTarget::Users).unwrap().len(),
        12
    );

    update_migrating(
        &mut w.host(),
        &f,
        &InstallOptions::default(),
        Some(Migration::Move),
    )
    .unwrap();
    w.kind = SyncTarget::Requesters;
    let r = w.run(SyncMode::Incremental);
    // The watermark went with the old population: the run is full.
    assert_eq!(
        (r.mode, r.outcome),
        (SyncMode::Full, Some(RunOutcome::Succeeded))
    );
    assert_eq!((r.counts.created, r.counts.updated), (0, 12), "{r:?}");
    assert_eq!(w.dir.people.len(), 12, "never duplicated");
    for i in 0..12 {
        let p = w.person(&uid(i));
        assert_eq!(
            (p.kind, p.status),
            (SyncTarget::Requesters, PersonStatus::Active)
        );
        assert_eq!(p.roles, vec!["Requester"]);
    }
    assert!(orphans(&mut w, SyncTarget::Requesters).is_empty());
}

#[test]
fn switching_users_to_requesters_with_deactivate_leaves_the_users_deactivated() {
    let mut w = synced();
    let f = form(ORIGIN, SyncTarget::Requesters);
    update_migrating(
        &mut w.host(),
        &f,
        &InstallOptions::default(),
        Some(Migration::Deactivate),
    )
    .unwrap();
    w.kind = SyncTarget::Requesters;
    let r = w.run(SyncMode::Full);
    assert_eq!(
        (r.outcome, r.counts.created),
        (Some(RunOutcome::Succeeded), 12)
    );
    for i in 0..12 {
        let user = w.dir.get(SyncTarget::Users, &uid(i)).unwrap();
        assert_eq!(user.status, PersonStatus::Deactivated);
        assert_eq!(w.person(&uid(i)).status, PersonStatus::Active);
    }
    assert!(orphans(&mut w, SyncTarget::Requesters).is_empty());
}

/// The new org has the same people under new ids (and one newcomer).
fn new_org(w: &mut World) {
    for i in 0..12 {
        w.okta.delete_user(&uid(i));
        w.okta.add_user(&uid(100 + i), "ACTIVE", profile(i));
    }
    w.okta.add_user(&uid(200), "ACTIVE", profile(200));
    w.advance(MIN);
}

#[test]
fn pointing_a_config_at_another_org_is_refused_then_relinks_everyone() {
    let mut w = synced();
    let f = form(ORIGIN_2, SyncTarget::Users);
    refused(&mut w, &f, "okta-domain");
    update_migrating(
        &mut w.host(),
        &f,
        &InstallOptions::default(),
        Some(Migration::Move),
    )
    .unwrap();
    // Until the first sync, nobody can sign in with the old org's roles.
    assert!(
        w.people()
            .iter()
            .all(|p| p.status == PersonStatus::Deactivated)
    );
    new_org(&mut w);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded), "{r:?}");
    assert_eq!((r.counts.reactivated, r.counts.created), (12, 1));
    assert_eq!(w.dir.people.len(), 13, "the same people, relinked");
    for i in 0..12 {
        assert_eq!(w.person(&uid(100 + i)).email, format!("user{i}@acme.com"));
        assert_eq!(w.person(&uid(100 + i)).status, PersonStatus::Active);
    }
    assert!(w.okta.log.iter().any(|l| l.url.starts_with(ORIGIN_2)));
    assert!(orphans(&mut w, SyncTarget::Users).is_empty());
}

#[test]
fn pointing_a_config_at_another_org_with_deactivate_starts_afresh() {
    let mut w = synced();
    let f = form(ORIGIN_2, SyncTarget::Users);
    update_migrating(
        &mut w.host(),
        &f,
        &InstallOptions::default(),
        Some(Migration::Deactivate),
    )
    .unwrap();
    new_org(&mut w);
    let r = w.run(SyncMode::Full);
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded), "{r:?}");
    assert_eq!((r.counts.created, r.counts.reactivated), (13, 0));
    assert_eq!(w.dir.unlinked.len(), 12);
    assert!(
        w.dir
            .unlinked
            .iter()
            .all(|p| p.status == PersonStatus::Deactivated)
    );
    assert!(orphans(&mut w, SyncTarget::Users).is_empty());
}

#[test]
fn an_update_that_changes_nothing_people_depend_on_needs_no_migration() {
    let mut w = synced();
    update(
        &mut w.host(),
        &form(ORIGIN, SyncTarget::Users),
        &InstallOptions::default(),
    )
    .unwrap();
    // Nobody linked: any change is free.
    let mut empty = World::new(SyncTarget::Users);
    update(
        &mut empty.host(),
        &form(ORIGIN_2, SyncTarget::Requesters),
        &InstallOptions::default(),
    )
    .unwrap();
}
