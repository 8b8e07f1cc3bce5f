//! The seeded org and the mutations incremental-sync tests rely on.

mod common;

use std::time::Instant;

use common::*;
use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec, UserStatus};
use serde_json::{Value, json};

#[test]
fn same_seed_same_org_and_every_status_present() {
    let a = start(50, 10, 3);
    let b = start(50, 10, 3);
    let (sa, sb) = (a.org(), b.org());
    assert_eq!(sa.users.len(), 50);
    assert_eq!(sa.groups.len(), 10 + 1, "and Everyone");
    let ids = |s: &fake_okta::OrgSnapshot| s.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&sa), ids(&sb));
    for id in sa.visible_user_ids().iter().take(5) {
        let strip = |mut v: Value| {
            v["_links"] = Value::Null;
            v
        };
        assert_eq!(a.user_json(id).map(strip), b.user_json(id).map(strip));
    }
    for s in UserStatus::ALL {
        assert!(sa.count_by_status(s) >= 1, "{s} present");
    }
    assert!(sa.count_by_status(UserStatus::Active) > 25, "mostly ACTIVE");
    let logins: std::collections::HashSet<&str> =
        sa.users.iter().map(|u| u.login.as_str()).collect();
    assert_eq!(logins.len(), 50, "logins unique");
    // Everyone aside.
    let avg = sa
        .users
        .iter()
        .map(|u| u.group_ids.len() - 1)
        .sum::<usize>() as f64
        / 50.0;
    assert!(
        (2.0..=4.0).contains(&avg),
        "about 3 memberships each: {avg}"
    );

    let other = start_with(FakeOktaOptions {
        org: OrgSpec {
            seed: 7,
            ..OrgSpec::default()
        },
        ..FakeOktaOptions::default()
    });
    assert_ne!(ids(&other.org()), ids(&sa));
}

#[test]
fn deleted_user_vanishes_everywhere() {
    let okta = start(40, 3, 2);
    let snap = okta.org();
    let victim = snap
        .users
        .iter()
        .find(|u| !u.group_ids.is_empty() && u.status == UserStatus::Active)
        .expect("member");
    okta.delete_user(&victim.id).expect("delete");
    okta_error(
        get(&okta, &format!("/api/v1/users/{}", victim.id)),
        404,
        "E0000007",
    );
    let (ids, _) = collect_ids(&okta, "/api/v1/users");
    assert!(!ids.contains(&victim.id));
    let all: Vec<Value> = get_q(
        &okta,
        "/api/v1/users",
        &[(
            "search",
            "status eq \"DEPROVISIONED\" or status eq \"ACTIVE\"",
        )],
    )
    .json()
    .expect("json");
    assert!(all.iter().all(|u| u["id"] != victim.id.as_str()));
    for gid in &victim.group_ids {
        let (members, _) = collect_ids(&okta, &format!("/api/v1/groups/{gid}/users"));
        assert!(!members.contains(&victim.id));
        let g = okta.org().group(gid).cloned().expect("group");
        assert!(
            g.last_membership_updated > snap.group(gid).expect("before").last_membership_updated
        );
    }
    assert!(okta.delete_user(&victim.id).is_err());
}

#[test]
fn added_user_and_pinned_clock() {
    let okta = start(10, 2, 1);
    let at = chrono::DateTime::parse_from_rfc3339("2030-05-06T07:08:09.000Z")
        .expect("ts")
        .to_utc();
    okta.pin_clock(Some(at));
    let profile = json!({
        "login": "new.person@example.com", "email": "new.person@example.com",
        "firstName": "Ünïcode", "lastName": "Person", "officeLocation": "Remote"
    });
    let id = okta
        .add_user(
            profile.as_object().cloned().expect("map"),
            UserStatus::Active,
        )
        .expect("add");
    let u: Value = get(&okta, "/api/v1/users/new.person@example.com")
        .json()
        .expect("json");
    assert_eq!(u["id"], id.as_str());
    assert_eq!(u["created"], "2030-05-06T07:08:09.000Z");
    assert_eq!(u["profile"]["firstName"], "Ünïcode");

    okta.set_user_status(&id, UserStatus::Suspended)
        .expect("suspend");
    let u: Value = get(&okta, &format!("/api/v1/users/{id}"))
        .json()
        .expect("json");
    assert_eq!(u["status"], "SUSPENDED");
    assert_eq!(
        u["lastUpdated"], "2030-05-06T07:08:09.001Z",
        "pinned clock still ticks 1 ms"
    );
    assert!(u["_links"]["unsuspend"].is_object());

    let missing = json!({ "login": "x@example.com" })
        .as_object()
        .cloned()
        .expect("map");
    assert!(okta.add_user(missing, UserStatus::Active).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_start_and_shutdown() {
    let okta = FakeOkta::start(FakeOktaOptions::default())
        .await
        .expect("start");
    let url = okta.url();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with('/'));
    let port = okta.addr().port();
    let connects = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_ok();
    assert!(connects);
    okta.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
}

#[test]
fn scales_to_100k_users_and_500_groups() {
    let t = Instant::now();
    let okta = start(100_000, 500, 3);
    let seeded = t.elapsed();
    // Debug builds are ~10x slower than release; this bound is for debug.
    assert!(seeded.as_secs() < 20, "seeding took {seeded:?}");
    let resp = get(&okta, "/api/v1/users");
    let next = next_link(&resp).expect("next");
    let page: Vec<Value> = resp.json().expect("json");
    assert_eq!(page.len(), 200);
    let page2: Vec<Value> = get(&okta, &next).json().expect("json");
    assert!(page2[0]["id"].as_str() > page[199]["id"].as_str());
    let groups: Vec<Value> = get(&okta, "/api/v1/groups").json().expect("json");
    assert_eq!(groups.len(), 500 + 1, "and Everyone");
    let filtered: Vec<Value> = get_q(
        &okta,
        "/api/v1/users",
        &[("filter", "status eq \"LOCKED_OUT\""), ("limit", "200")],
    )
    .json()
    .expect("json");
    assert!(filtered.len() > 100 && filtered.iter().all(|u| u["status"] == "LOCKED_OUT"));
}
