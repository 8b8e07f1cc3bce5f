//! Mapping and export through the built component: an edited mapping is
//! what the next sync writes (and what preview shows), unknown roles are
//! refused, and the unsynced CSV reads back exactly, neutralised.

use crate::common;

use common::{DEV, World, world};
use fake_infraon::SyncTarget;
use fake_okta::UserStatus;
use host_harness::bindings::exports::infraon::okta::map::{
    FieldMapping, GroupMatcher, MapError, RoleRule, Transform,
};
use host_harness::bindings::exports::infraon::okta::sync::{SyncMode, Trigger};
use host_harness::bindings::infraon::okta::types::SyncTarget as WitTarget;

async fn installed(users: usize, groups: usize) -> World {
    let w = world(users, groups).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    w
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edited_mapping_is_what_preview_shows_and_the_next_sync_writes() {
    let w = installed(30, 3).await;
    let managers = w.okta.add_group("Change Managers", "CAB members");
    let user = w
        .okta
        .org()
        .first_with_status(UserStatus::Active)
        .unwrap()
        .clone();
    w.okta.add_group_member(&managers, &user.id).unwrap();

    let mut mapping = w.runtime.mapping("acme").await.unwrap().unwrap();
    mapping
        .fields
        .retain(|f| f.target != "display_name" && f.target != "title");
    mapping.fields.push(FieldMapping {
        target: "display_name".into(),
        source: "{lastName}, {firstName}".into(),
        transforms: vec![Transform::UpperCase],
    });
    mapping.fields.push(FieldMapping {
        target: "title".into(),
        source: "title".into(),
        transforms: vec![Transform::DefaultValue("Staff".into())],
    });
    mapping.role_rules.push(RoleRule {
        matcher: GroupMatcher::NamePattern("Change*".into()),
        role: "Change Manager".into(),
        priority: 1,
        kind: WitTarget::Users,
    });
    w.runtime
        .set_mapping("acme", &mapping)
        .await
        .unwrap()
        .unwrap();

    let preview = w
        .runtime
        .preview("acme", &user.login)
        .await
        .unwrap()
        .unwrap();
    let profile = w.okta.user_json(&user.id).unwrap()["profile"].clone();
    let expected_name = format!(
        "{}, {}",
        profile["lastName"].as_str().unwrap(),
        profile["firstName"].as_str().unwrap()
    )
    .to_uppercase();
    assert_eq!(preview.display_name, expected_name);
    assert!(
        preview.roles.contains(&"Change Manager".to_string()),
        "{:?}",
        preview.roles
    );

    w.runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap();
    let synced = w
        .infraon()
        .find_by_external_id(SyncTarget::Users, &user.id)
        .unwrap()
        .unwrap();
    assert_eq!(synced.display_name, preview.display_name);
    assert_eq!(synced.roles, preview.roles);
    assert_eq!(
        synced.fields, preview.fields,
        "preview equals what the sync wrote"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_named_administrator_grants_it_only_by_a_rule_naming_it() {
    let w = installed(10, 1).await;
    let admins = w.okta.add_group("Administrator", "named like the role");
    let managers = w.okta.add_group("Change Manager", "named like the role");
    let active: Vec<String> = w
        .okta
        .org()
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| u.id.clone())
        .collect();
    let (admin, manager) = (&active[0], &active[1]);
    w.okta.add_group_member(&admins, admin).unwrap();
    w.okta.add_group_member(&managers, manager).unwrap();
    let roles = |id: &str| {
        w.infraon()
            .find_by_external_id(SyncTarget::Users, id)
            .unwrap()
            .unwrap()
            .roles
    };
    let sync = async || {
        w.runtime
            .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
            .await
            .unwrap()
            .unwrap()
    };

    // The default mapping: the default role only.
    let defaults = w.runtime.mapping("acme").await.unwrap().unwrap();
    assert!(defaults.role_rules.is_empty());
    sync().await;
    assert_eq!(roles(admin), ["Technician"]);
    assert_eq!(roles(manager), ["Technician"]);

    // Group names → role names, explicitly: never the privileged role.
    let mut by_name = defaults;
    by_name.role_rules.push(RoleRule {
        matcher: GroupMatcher::NamePattern("*".into()),
        role: "{group}".into(),
        priority: 10,
        kind: WitTarget::Users,
    });
    w.runtime
        .set_mapping("acme", &by_name)
        .await
        .unwrap()
        .unwrap();
    sync().await;
    assert_eq!(roles(admin), ["Technician"]);
    assert_eq!(roles(manager), ["Change Manager"]);

    // A rule naming Administrator grants it.
    by_name.role_rules.push(RoleRule {
        matcher: GroupMatcher::Name("Administrator".into()),
        role: "Administrator".into(),
        priority: 1,
        kind: WitTarget::Users,
    });
    w.runtime
        .set_mapping("acme", &by_name)
        .await
        .unwrap()
        .unwrap();
    sync().await;
    assert_eq!(roles(admin), ["Administrator"]);
    assert!(
        w.runtime
            .mapping_notices("acme")
            .await
            .unwrap()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_naming_a_role_infraon_lacks_is_refused_with_its_name() {
    let w = installed(5, 1).await;
    let mut mapping = w.runtime.mapping("acme").await.unwrap().unwrap();
    mapping.role_rules.push(RoleRule {
        matcher: GroupMatcher::Name("Wizards".into()),
        role: "Archmage".into(),
        priority: 1,
        kind: WitTarget::Users,
    });
    let err = w
        .runtime
        .set_mapping("acme", &mapping)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, MapError::UnknownRole(r) if r == "Archmage"),
        "{err:?}"
    );
    let mut missing = w.runtime.mapping("acme").await.unwrap().unwrap();
    missing.fields.retain(|f| f.target != "email");
    let err = w
        .runtime
        .set_mapping("acme", &missing)
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(&err, MapError::Invalid(f) if f.iter().any(|e| e.field == "email")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_unsynced_csv_reads_back_exactly_and_neutralised() {
    let w = installed(20, 2).await;
    let mut profile = serde_json::Map::new();
    for (k, v) in [
        ("login", "hostile@example.com"),
        ("email", "hostile@example.com"),
        ("firstName", "=HYPERLINK(\"http://x\")"),
        ("lastName", "O'Brien, \"Jr\"\nZoë"),
        (
            "displayName",
            "=HYPERLINK(\"http://x\") O'Brien, \"Jr\"\nZoë",
        ),
    ] {
        profile.insert(k.into(), v.into());
    }
    let hostile = w.okta.add_user(profile, UserStatus::Active).unwrap();
    w.infraon()
        .add_unlinked_person(
            SyncTarget::Users,
            "hostile@example.com",
            "someone.else",
            "Someone Else",
        )
        .unwrap();
    let run = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.counts.unsynced, 1, "{run:?}");

    let csv_text = w.runtime.unsynced_csv("acme", None).await.unwrap().unwrap();
    assert!(!csv_text.contains(w.okta.api_token()));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "okta_id",
            "login",
            "email",
            "display_name",
            "reason_code",
            "reason",
            "run_id",
            "time"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(&row[0], hostile.as_str());
    assert_eq!(
        &row[3], "'=HYPERLINK(\"http://x\") O'Brien, \"Jr\"\nZoë",
        "intact after the neutralising quote"
    );
    assert_eq!(&row[4], "email-conflict");
    assert_eq!(row[6].parse::<u64>().unwrap(), run.id);
    let by_id = w
        .runtime
        .unsynced_csv("acme", Some(run.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id, csv_text);
}
