//! The console's "Who is synced" page over plain HTTP (issue 15): the scope
//! counted before it is saved, saved through the guarded form, a refused
//! expression shown and not saved, population rules edited, and a
//! cross-site post refused.

use crate::browserless;
use crate::common;

use std::sync::Arc;

use browserless::{ADMIN_PASSWORD, Profile};
use common::{DEV, world};
use host_harness::bindings::infraon::okta::types::SyncTarget;

#[tokio::test(flavor = "multi_thread")]
async fn a_scope_is_counted_then_saved_through_the_guarded_form() {
    let w = world(20, 3).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let gid = w.okta.add_group("IT-Staff", "the IT department");
    let active: Vec<String> = w
        .okta
        .org()
        .users
        .into_iter()
        .filter(|u| u.status == fake_okta::UserStatus::Active)
        .take(4)
        .map(|u| u.id)
        .collect();
    for id in &active {
        w.okta.add_group_member(&gid, id).unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let app = host_harness::web::router(runtime, base.clone(), ADMIN_PASSWORD);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let admin = Profile::new(&base);
    admin.sign_in_admin().await;

    // Settings links to it; the groups come from Okta.
    let settings = admin.get("/configs/acme").await;
    assert!(settings.body.contains("href=\"/configs/acme/scope\""));
    let page = admin.get("/configs/acme/scope").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("name=\"group\" value=\"{gid}\"> IT-Staff")),
        "{}",
        page.body
    );

    // Count: the number shown, nothing saved.
    let counted = admin
        .post(
            "/configs/acme/scope",
            &[
                ("group", &gid),
                ("groups", ""),
                ("filter", ""),
                ("action", "count"),
            ],
        )
        .await;
    assert_eq!(counted.status, 200, "{}", counted.body);
    assert!(
        counted
            .body
            .contains("This scope covers 4 Okta users (not counting users deactivated in Okta). It is not saved yet."),
        "{}",
        counted.body
    );
    assert!(
        w.runtime
            .scope("acme")
            .await
            .unwrap()
            .unwrap()
            .groups
            .is_empty()
    );

    // A refused expression: shown, not saved.
    let bad = admin
        .post(
            "/configs/acme/scope",
            &[
                ("group", &gid),
                ("filter", "profile.department eq"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Scope not saved") && bad.body.contains("E0000031"),
        "{}",
        bad.body
    );
    assert!(
        w.runtime
            .scope("acme")
            .await
            .unwrap()
            .unwrap()
            .groups
            .is_empty()
    );

    // Save: redirected to the page saying what it covers.
    let saved = admin
        .post(
            "/configs/acme/scope",
            &[
                ("group", &gid),
                ("groups", ""),
                ("filter", ""),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let after = admin.get(&saved.body).await;
    assert!(
        after.body.contains("Scope saved: it covers 4 Okta users"),
        "{}",
        after.body
    );
    assert!(after.body.contains(&format!("value=\"{gid}\" checked")));
    assert_eq!(
        w.runtime.scope("acme").await.unwrap().unwrap().groups,
        vec!["IT-Staff".to_string()]
    );
    // And the run syncs what was counted.
    let r = w
        .runtime
        .sync(
            "acme",
            host_harness::bindings::exports::infraon::okta::sync::SyncMode::Full,
            host_harness::bindings::exports::infraon::okta::sync::Trigger::Manual,
            |_, _| {},
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.counts.created, 4);

    // Population rules: a filled row kept, blank rows dropped.
    let rules = admin
        .post(
            "/configs/acme/populations",
            &[
                ("group", "IT-Staff"),
                ("population", "requesters"),
                ("group", ""),
                ("population", "users"),
            ],
        )
        .await;
    assert_eq!(rules.status, 303, "{}", rules.body);
    let kept = w.runtime.populations("acme").await.unwrap().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].group.as_str(), kept[0].population),
        ("IT-Staff", SyncTarget::Requesters)
    );
    let unknown = admin
        .post(
            "/configs/acme/populations",
            &[("group", "No-Such-Group"), ("population", "users")],
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.body.contains("No-Such-Group"), "{}", unknown.body);

    // A post from another site, or without the form token, changes nothing.
    let forged = admin
        .post_raw(
            "/configs/acme/scope",
            &[("action", "save"), ("groups", "")],
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let tokenless = admin
        .post_raw(
            "/configs/acme/populations",
            &[("group", "")],
            &[("origin", &base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(tokenless.status, 403);
    assert_eq!(
        w.runtime.scope("acme").await.unwrap().unwrap().groups,
        vec!["IT-Staff".to_string()]
    );
    assert_eq!(
        w.runtime.populations("acme").await.unwrap().unwrap().len(),
        1
    );
    // The API token never reaches a page.
    assert!(!after.body.contains(w.okta.api_token()));
}
