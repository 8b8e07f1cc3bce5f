//! Scope per config and populations by group (issue 15) through the built
//! component, against the fake Okta and the fake Infraon: the count before
//! saving matches what the run lands, leavers are deactivated, a bad
//! expression is refused, a population rule moves people never duplicating
//! them.

use crate::common;

use std::collections::BTreeSet;

use common::{DEV, world};
use fake_infraon::{PersonStatus, SyncTarget};
use fake_okta::UserStatus;
use host_harness::bindings::exports::infraon::okta::scope::{PopulationRule, Scope};
use host_harness::bindings::exports::infraon::okta::sync::{
    RunOutcome, RunRecord, SyncError, SyncMode, Trigger,
};
use host_harness::bindings::infraon::okta::types::SyncTarget as WitTarget;

async fn sync(w: &common::World, mode: SyncMode) -> RunRecord {
    w.runtime
        .sync("acme", mode, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap()
}

/// Active people of `acme` in `kind`.
fn active(w: &common::World, kind: SyncTarget) -> BTreeSet<String> {
    w.infraon()
        .people(kind)
        .unwrap()
        .into_iter()
        .filter(|p| p.config == "acme" && p.status == PersonStatus::Active)
        .map(|p| p.external_id)
        .collect()
}

/// A group "IT-Staff" of the first `n` active users; their ids.
fn it_staff(w: &common::World, n: usize) -> (String, Vec<String>) {
    let gid = w.okta.add_group("IT-Staff", "the IT department");
    let ids: Vec<String> = w
        .okta
        .org()
        .users
        .into_iter()
        .filter(|u| u.status == UserStatus::Active)
        .take(n)
        .map(|u| u.id)
        .collect();
    for id in &ids {
        w.okta.add_group_member(&gid, id).unwrap();
    }
    (gid, ids)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_scope_counts_then_syncs_exactly_its_members_and_deactivates_who_leaves() {
    let w = world(40, 4).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let (gid, members) = it_staff(&w, 7);
    let scope = Scope {
        groups: vec!["IT-Staff".into()],
        filter: None,
    };
    let counted = w
        .runtime
        .count_scope("acme", &scope)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counted, 7);
    // Nothing saved by a count.
    assert!(
        w.runtime
            .scope("acme")
            .await
            .unwrap()
            .unwrap()
            .groups
            .is_empty()
    );
    assert_eq!(
        w.runtime.set_scope("acme", &scope).await.unwrap().unwrap(),
        7
    );

    w.okta.clear_request_log();
    let r = sync(&w, SyncMode::Full).await;
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    let landed = active(&w, SyncTarget::Users);
    assert_eq!(landed, members.iter().cloned().collect());
    assert_eq!(landed.len() as u32, counted);
    // Nobody outside the group, in any status.
    let all = w.infraon().people(SyncTarget::Users).unwrap();
    assert!(all.iter().all(|p| members.contains(&p.external_id)));
    // The group's members, not the whole user listing.
    let log = w.okta.request_log();
    assert!(
        log.iter()
            .all(|l| !l.path_and_query.starts_with("/api/v1/users")),
        "{:?}",
        log.iter().map(|l| &l.path_and_query).collect::<Vec<_>>()
    );

    // A member removed from the group is deactivated by the next run.
    w.okta.remove_group_member(&gid, &members[0]).unwrap();
    let r = sync(&w, SyncMode::Incremental).await;
    assert_eq!((r.mode, r.counts.deactivated), (SyncMode::Incremental, 1));
    assert_eq!(active(&w, SyncTarget::Users).len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_scope_is_checked_with_okta_and_a_bad_one_is_refused_unsaved() {
    let w = world(40, 4).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let bad = Scope {
        groups: Vec::new(),
        filter: Some("profile.department eq".into()),
    };
    match w.runtime.set_scope("acme", &bad).await.unwrap() {
        Err(SyncError::Other(m)) => assert!(
            m.contains("Okta refuses the filter expression") && m.contains("E0000031"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.runtime.scope("acme").await.unwrap().unwrap().filter, None);

    // One department, as the fake org's profiles have it.
    let first = w
        .okta
        .org()
        .users
        .into_iter()
        .find(|u| u.status == UserStatus::Active)
        .unwrap();
    let body = w.okta.user_json(&first.id).unwrap();
    let dept = body["profile"]["department"].as_str().unwrap().to_string();
    let expr = format!("profile.department eq \"{dept}\"");
    let scope = Scope {
        groups: Vec::new(),
        filter: Some(expr.clone()),
    };
    let counted = w.runtime.set_scope("acme", &scope).await.unwrap().unwrap();
    assert!(counted > 0 && counted < 40, "{counted}");
    let r = sync(&w, SyncMode::Full).await;
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    assert_eq!(active(&w, SyncTarget::Users).len() as u32, counted);
    for p in w.infraon().people(SyncTarget::Users).unwrap() {
        assert_eq!(
            w.okta.user_json(&p.external_id).unwrap()["profile"]["department"],
            dept.as_str()
        );
    }
    // Who stops matching is deactivated by the next full run.
    let mut changes = serde_json::Map::new();
    changes.insert("department".into(), "Nowhere".into());
    w.okta.update_user_profile(&first.id, changes).unwrap();
    let r = sync(&w, SyncMode::Full).await;
    assert_eq!(r.counts.deactivated, 1);
    assert!(!active(&w, SyncTarget::Users).contains(&first.id));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_population_rule_splits_one_config_and_moves_who_leaves_the_group() {
    let w = world(30, 3).await;
    let mut form = w.good_form("acme");
    form.sync_target = WitTarget::Requesters;
    w.runtime.install(&form, DEV).await.unwrap().unwrap();
    let (gid, staff) = it_staff(&w, 5);
    w.runtime
        .set_populations(
            "acme",
            &[PopulationRule {
                group: "IT-Staff".into(),
                population: WitTarget::Users,
            }],
        )
        .await
        .unwrap()
        .unwrap();
    let r = sync(&w, SyncMode::Full).await;
    assert_eq!(r.outcome, Some(RunOutcome::Succeeded));
    let everyone: BTreeSet<String> = w
        .okta
        .org()
        .users
        .into_iter()
        .filter(|u| u.status != UserStatus::Deprovisioned)
        .map(|u| u.id)
        .collect();
    let users = active(&w, SyncTarget::Users);
    let requesters = active(&w, SyncTarget::Requesters);
    assert_eq!(users, staff.iter().cloned().collect());
    assert!(users.is_disjoint(&requesters));
    // Everyone else in scope (everyone) is a Requester (active, pending or
    // suspended as in Okta), or unsynced.
    let requesters_all = w
        .infraon()
        .people(SyncTarget::Requesters)
        .unwrap()
        .into_iter()
        .filter(|p| p.status != PersonStatus::Deactivated)
        .count();
    assert_eq!(
        users.len() + requesters_all + r.counts.unsynced as usize,
        everyone.len()
    );

    // Out of IT-Staff: moved to Requesters, never duplicated.
    w.okta.remove_group_member(&gid, &staff[0]).unwrap();
    let r = sync(&w, SyncMode::Incremental).await;
    assert_eq!(r.counts.deactivated, 0);
    assert!(!active(&w, SyncTarget::Users).contains(&staff[0]));
    assert!(active(&w, SyncTarget::Requesters).contains(&staff[0]));
    let copies = [SyncTarget::Users, SyncTarget::Requesters]
        .iter()
        .flat_map(|k| w.infraon().people(*k).unwrap())
        .filter(|p| p.external_id == staff[0])
        .count();
    assert_eq!(copies, 1);
}
