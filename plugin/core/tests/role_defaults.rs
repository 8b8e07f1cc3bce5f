//! Safe role defaults: the default mapping grants only the default role, a
//! privileged role only by a rule naming it, an upgraded config keeps its
//! roles and is told what changed, and rules naming missing roles are reported.

mod common;

use common::world::{CONFIG, World, profile, uid};
use plugin_core::mapping::{
    self, GroupMatcher, Mapping, NoticeCode, ROLE_DEFAULTS_VERSION, RoleRule, legacy_defaults,
};
use plugin_core::store::{find_config, save_config};
use plugin_core::{SyncMode, SyncTarget};

/// Three users: 0 in "Administrator", 1 in "Change Manager", 2 in nothing.
fn org(w: &mut World) {
    for i in 0..3 {
        w.okta.add_user(&uid(i), "ACTIVE", profile(i));
    }
    w.okta.add_group("00gADM", "Administrator");
    w.okta.add_group("00gCM", "Change Manager");
    w.okta.add_member("00gADM", &uid(0));
    w.okta.add_member("00gCM", &uid(1));
}

fn rule(matcher: GroupMatcher, role: &str, priority: u32) -> RoleRule {
    RoleRule {
        matcher,
        role: role.into(),
        priority,
        kind: SyncTarget::Users,
    }
}

fn with_rules(rules: Vec<RoleRule>) -> Mapping {
    Mapping {
        role_rules: rules,
        ..mapping::defaults(SyncTarget::Users)
    }
}

fn roles(w: &World, i: usize) -> Vec<String> {
    w.person(&uid(i)).roles.clone()
}

/// Mark the stored config as installed before safe role defaults.
fn as_before_upgrade(w: &mut World) {
    let mut cfg = find_config(&mut w.storage, CONFIG).unwrap().unwrap();
    cfg.role_defaults = 0;
    save_config(&mut w.storage, &cfg).unwrap();
}

#[test]
fn the_default_mapping_grants_only_the_default_role() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    assert!(mapping::defaults(SyncTarget::Users).role_rules.is_empty());
    w.run(SyncMode::Full);
    for i in 0..3 {
        assert_eq!(roles(&w, i), ["Technician"], "user {i}");
    }
}

#[test]
fn a_privileged_role_only_by_a_rule_naming_it() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    // Group names → roles, explicitly: the non-privileged role follows the
    // group's name, Administrator does not.
    let by_name = with_rules(vec![rule(
        GroupMatcher::NamePattern("*".into()),
        "{group}",
        10,
    )]);
    mapping::set(&mut w.host(), CONFIG, by_name.clone()).unwrap();
    w.run(SyncMode::Full);
    assert_eq!(roles(&w, 0), ["Technician"]);
    assert_eq!(roles(&w, 1), ["Change Manager"]);
    assert_eq!(roles(&w, 2), ["Technician"]);

    // A rule that names Administrator grants it.
    let mut named = by_name;
    named.role_rules.push(rule(
        GroupMatcher::Name("Administrator".into()),
        "Administrator",
        1,
    ));
    mapping::set(&mut w.host(), CONFIG, named).unwrap();
    w.run(SyncMode::Full);
    assert_eq!(roles(&w, 0), ["Administrator"]);
    assert_eq!(roles(&w, 1), ["Change Manager"]);
}

#[test]
fn an_upgraded_config_keeps_its_roles_except_privileged_ones_and_is_told() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    as_before_upgrade(&mut w);

    w.run(SyncMode::Full);
    // The old default's rule is kept, without the privileged role.
    assert_eq!(roles(&w, 0), ["Technician"]);
    assert_eq!(roles(&w, 1), ["Change Manager"]);
    assert_eq!(
        mapping::get(&mut w.host(), CONFIG).unwrap(),
        legacy_defaults(SyncTarget::Users)
    );
    let cfg = find_config(&mut w.storage, CONFIG).unwrap().unwrap();
    assert_eq!(cfg.role_defaults, ROLE_DEFAULTS_VERSION);

    let notices = mapping::notices(&mut w.host(), CONFIG).unwrap();
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(
        notices
            .iter()
            .all(|n| n.code == NoticeCode::SafeRoleDefaults)
    );
    assert!(notices[0].message.contains("old default"), "{notices:?}");
    assert!(
        notices[1].message.contains("`Administrator`"),
        "{notices:?}"
    );
    assert!(w.log.text().contains("safe role defaults"));

    // Once: a second run adds nothing; dismissed, they are gone.
    w.run(SyncMode::Full);
    assert_eq!(mapping::notices(&mut w.host(), CONFIG).unwrap(), notices);
    mapping::dismiss_notices(&mut w.host(), CONFIG).unwrap();
    assert_eq!(mapping::notices(&mut w.host(), CONFIG).unwrap(), []);
}

#[test]
fn an_upgraded_saved_mapping_is_kept_and_only_group_rules_are_noted() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    let saved = with_rules(vec![rule(
        GroupMatcher::Id("00gCM".into()),
        "Change Manager",
        1,
    )]);
    mapping::set(&mut w.host(), CONFIG, saved.clone()).unwrap();
    as_before_upgrade(&mut w);
    w.run(SyncMode::Full);
    assert_eq!(mapping::get(&mut w.host(), CONFIG).unwrap(), saved);
    assert_eq!(mapping::notices(&mut w.host(), CONFIG).unwrap(), []);
    assert_eq!(roles(&w, 1), ["Change Manager"]);
}

#[test]
fn a_rule_naming_a_role_infraon_no_longer_has_is_reported() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    let m = with_rules(vec![rule(
        GroupMatcher::Name("Change Manager".into()),
        "Change Manager",
        1,
    )]);
    mapping::set(&mut w.host(), CONFIG, m).unwrap();
    w.dir.roles.retain(|r| r.name != "Change Manager");

    let r = w.run(SyncMode::Full);
    assert_eq!(roles(&w, 1), ["Technician"]);
    assert_eq!(r.counts.unsynced, 0);
    let log = w.log.text();
    assert!(
        log.contains("names a role Infraon no longer has") && log.contains("role-rules[0]"),
        "{log}"
    );
    let notices = mapping::notices(&mut w.host(), CONFIG).unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].code, NoticeCode::UnknownRole);
    assert!(notices[0].message.contains("`Change Manager`"));

    // Back in Infraon: no longer reported.
    w.dir.roles.push(plugin_core::Role {
        name: "Change Manager".into(),
        kind: SyncTarget::Users,
        privileged: false,
    });
    assert_eq!(mapping::notices(&mut w.host(), CONFIG).unwrap(), []);
}
