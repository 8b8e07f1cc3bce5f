//! `/api/v1/groups*`, the user schema, and unknown routes.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn group_members_page_through_link_headers() {
    let okta = start(300, 3, 2);
    let snap = okta.org();
    for g in &snap.groups {
        assert!(
            g.member_ids.len() > 120,
            "{} has {}",
            g.name,
            g.member_ids.len()
        );
        let (ids, pages) = collect_ids(&okta, &format!("/api/v1/groups/{}/users?limit=50", g.id));
        assert_eq!(ids, g.member_ids);
        assert_eq!(pages, g.member_ids.len().div_ceil(50));
    }
    // Default page is 1,000 and a larger limit clamps to it.
    let big = start(1_500, 1, 2);
    let gid = big.org().groups[0].id.clone();
    let page: Vec<Value> = get(&big, &format!("/api/v1/groups/{gid}/users?limit=5000"))
        .json()
        .expect("json");
    assert_eq!(page.len(), 1_000);
    let (ids, pages) = collect_ids(&big, &format!("/api/v1/groups/{gid}/users"));
    assert_eq!((ids.len(), pages), (1_500, 2));
}

#[test]
fn groups_list_shape_paging_and_filters() {
    let okta = start(100, 25, 3);
    let snap = okta.org();
    let (ids, pages) = collect_ids(&okta, "/api/v1/groups?limit=10");
    assert_eq!(pages, 3);
    let expected: Vec<&str> = snap.groups.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, expected);

    let page: Vec<Value> = get(&okta, "/api/v1/groups?expand=stats")
        .json()
        .expect("json");
    assert_eq!(page.len(), 25 + 1, "default limit covers all, Everyone too");
    for g in &page {
        let id = g["id"].as_str().expect("id");
        assert!(id.starts_with("00g") && id.len() == 20);
        assert!(g["profile"]["name"].is_string() && g["profile"]["description"].is_string());
        assert!(
            g["lastMembershipUpdated"]
                .as_str()
                .is_some_and(|t| t.ends_with(".000Z"))
        );
        assert_eq!(
            g["_links"]["users"]["href"],
            format!("{}/api/v1/groups/{id}/users", okta.url())
        );
        let info = snap.group(id).expect("known group");
        assert_eq!(g["_embedded"]["stats"]["usersCount"], info.member_ids.len());
        assert_eq!(g["type"], info.group_type.as_str());
    }

    let okta_groups = snap
        .groups
        .iter()
        .filter(|g| g.group_type == "OKTA_GROUP")
        .count();
    assert!(okta_groups < 25, "some APP_GROUPs too");
    let page: Vec<Value> = get_q(
        &okta,
        "/api/v1/groups",
        &[("filter", "type eq \"OKTA_GROUP\"")],
    )
    .json()
    .expect("json");
    assert_eq!(page.len(), okta_groups);

    // A membership change shows up in a lastMembershipUpdated filter.
    let mark = snap
        .groups
        .iter()
        .map(|g| g.last_membership_updated)
        .max()
        .expect("groups");
    let filter = format!(
        "lastMembershipUpdated gt \"{}\"",
        mark.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    let page: Vec<Value> = get_q(&okta, "/api/v1/groups", &[("filter", &filter)])
        .json()
        .expect("json");
    assert!(page.is_empty());
    let g = &snap.groups[3];
    let outsider = snap
        .users
        .iter()
        .find(|u| !g.member_ids.contains(&u.id))
        .expect("outsider");
    okta.add_group_member(&g.id, &outsider.id).expect("add");
    let page: Vec<Value> = get_q(&okta, "/api/v1/groups", &[("filter", &filter)])
        .json()
        .expect("json");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], g.id.as_str());
    let after = okta.org();
    assert!(
        after
            .group(&g.id)
            .expect("group")
            .member_ids
            .contains(&outsider.id)
    );
    assert!(
        after
            .user(&outsider.id)
            .expect("user")
            .group_ids
            .contains(&g.id)
    );

    okta_error(
        get_q(
            &okta,
            "/api/v1/groups",
            &[("filter", "profile.name eq \"IT\"")],
        ),
        400,
        "E0000031",
    );

    // Profile changes and new groups show up in a lastUpdated filter.
    let mark = snap
        .groups
        .iter()
        .map(|g| g.last_updated)
        .max()
        .expect("groups");
    let filter = format!(
        "lastUpdated gt \"{}\"",
        mark.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    okta.update_group_profile(&snap.groups[5].id, Some("Renamed"), None)
        .expect("rename");
    let new_id = okta.add_group("Brand New", "Created between syncs");
    let page: Vec<Value> = get_q(&okta, "/api/v1/groups", &[("filter", &filter)])
        .json()
        .expect("json");
    let names: Vec<&str> = page
        .iter()
        .filter_map(|g| g["profile"]["name"].as_str())
        .collect();
    assert_eq!(page.len(), 2, "{names:?}");
    assert!(names.contains(&"Renamed") && names.contains(&"Brand New"));
    assert!(page.iter().any(|g| g["id"] == new_id.as_str()));
}

#[test]
fn get_group_and_404() {
    let okta = start(20, 3, 1);
    let g = okta.org().groups[1].clone();
    let body: Value = get(&okta, &format!("/api/v1/groups/{}", g.id))
        .json()
        .expect("json");
    assert_eq!(body["profile"]["name"], g.name.as_str());
    let e = okta_error(get(&okta, "/api/v1/groups/00gMISSING"), 404, "E0000007");
    assert_eq!(
        e["errorSummary"],
        "Not found: Resource not found: 00gMISSING (UserGroup)"
    );
    okta_error(
        get(&okta, "/api/v1/groups/00gMISSING/users"),
        404,
        "E0000007",
    );
}

#[test]
fn user_schema_lists_base_and_custom_properties() {
    let okta = start(5, 1, 1);
    let schema: Value = get(&okta, "/api/v1/meta/schemas/user/default")
        .json()
        .expect("json");
    let base = &schema["definitions"]["base"]["properties"];
    let custom = &schema["definitions"]["custom"]["properties"];
    for k in [
        "login",
        "email",
        "firstName",
        "lastName",
        "department",
        "costCenter",
        "manager",
    ] {
        assert!(base[k]["title"].is_string(), "base {k}");
    }
    for (name, _, ty) in fake_okta::CUSTOM_ATTRIBUTES {
        assert_eq!(custom[name]["type"], *ty, "custom {name}");
    }
    assert_eq!(schema["definitions"]["base"]["id"], "#base");
    okta_error(
        get(&okta, "/api/v1/meta/schemas/user/oscNOPE"),
        404,
        "E0000007",
    );
}

#[test]
fn unknown_routes_and_methods_get_okta_errors() {
    let okta = start(5, 1, 1);
    let e = okta_error(get(&okta, "/api/v1/nonsense"), 404, "E0000022");
    assert_eq!(
        e["errorSummary"],
        "The endpoint does not support the provided HTTP method"
    );
    let resp = client()
        .delete(format!("{}/api/v1/users", okta.url()))
        .header("Authorization", format!("SSWS {}", okta.api_token()))
        .send()
        .expect("request");
    okta_error(resp, 405, "E0000022");
}

#[test]
fn everyone_is_built_in_has_every_user_and_cannot_be_deleted() {
    let okta = start(40, 4, 2);
    let snap = okta.org();
    let everyone: Vec<_> = snap
        .groups
        .iter()
        .filter(|g| g.group_type == "BUILT_IN")
        .collect();
    assert_eq!(everyone.len(), 1);
    let everyone = everyone[0].clone();
    assert_eq!(everyone.name, "Everyone");
    let mut all: Vec<String> = snap.users.iter().map(|u| u.id.clone()).collect();
    all.sort();
    assert_eq!(everyone.member_ids, all);
    let (ids, _) = collect_ids(&okta, &format!("/api/v1/groups/{}/users", everyone.id));
    assert_eq!(ids.len(), 40);

    // A new user joins it; a deleted group is gone; Everyone stays.
    let mut profile = serde_json::Map::new();
    for k in ["login", "email"] {
        profile.insert(k.into(), "new.hire@example.com".into());
    }
    profile.insert("firstName".into(), "New".into());
    profile.insert("lastName".into(), "Hire".into());
    let id = okta
        .add_user(profile, fake_okta::UserStatus::Active)
        .expect("added");
    assert!(
        okta.org()
            .group(&everyone.id)
            .expect("there")
            .member_ids
            .contains(&id)
    );
    let other = snap
        .groups
        .iter()
        .find(|g| g.group_type == "OKTA_GROUP")
        .expect("an Okta group");
    okta.delete_group(&other.id).expect("deleted");
    okta_error(
        get(&okta, &format!("/api/v1/groups/{}", other.id)),
        404,
        "E0000007",
    );
    assert!(okta.delete_group(&everyone.id).is_err());
    assert_eq!(okta.org().groups.len(), 4);
}

#[test]
fn rate_limits_are_per_endpoint_family_and_every_request_is_logged() {
    let okta = start(10, 2, 1);
    okta.set_rate_limit(3);
    okta.set_family_rate_limit("group-members", 1);
    okta.clear_request_log();
    let gid = okta.org().groups[0].id.clone();
    for _ in 0..3 {
        assert_eq!(get(&okta, "/api/v1/users").status(), 200);
    }
    let denied = get(&okta, "/api/v1/users");
    assert_eq!(denied.status(), 429);
    // The users budget is spent; the groups one is whole.
    let groups = get(&okta, "/api/v1/groups");
    assert_eq!(groups.status(), 200);
    assert_eq!(header(&groups, "x-rate-limit-limit"), "3");
    assert_eq!(header(&groups, "x-rate-limit-remaining"), "2");
    let members = get(&okta, &format!("/api/v1/groups/{gid}/users"));
    assert_eq!(header(&members, "x-rate-limit-limit"), "1");
    assert_eq!(header(&members, "x-rate-limit-remaining"), "0");
    assert_eq!(
        get(&okta, &format!("/api/v1/groups/{gid}/users")).status(),
        429
    );
    let log = okta.request_log();
    let statuses: Vec<u16> = log.iter().map(|l| l.status).collect();
    assert_eq!(statuses, [200, 200, 200, 429, 200, 200, 429]);
    assert_eq!(log[4].path_and_query, "/api/v1/groups");
    assert!(log.iter().all(|l| l.method == "GET"));
}
