//! `/api/v1/users*`: paging, filters, search, auth, rate limit, errors.

mod common;

use std::collections::HashSet;

use common::*;
use fake_okta::{FakeOktaOptions, UserStatus};
use serde_json::{Value, json};

#[test]
fn paging_visits_every_visible_user_exactly_once() {
    let okta = start(237, 5, 2);
    let snap = okta.org();
    let (ids, pages) = collect_ids(&okta, "/api/v1/users?limit=50");
    assert_eq!(pages, 5, "237 visible-or-not users, 50 a page");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no user twice");
    assert_eq!(
        ids,
        snap.visible_user_ids(),
        "all visible users, in id order"
    );
    assert!(snap.count_by_status(UserStatus::Deprovisioned) > 0);
}

#[test]
fn link_headers_are_absolute_and_keep_the_query() {
    let okta = start(30, 2, 1);
    let resp = get(
        &okta,
        "/api/v1/users?limit=10&filter=status+eq+%22ACTIVE%22",
    );
    let all_links = links(&resp);
    let (self_url, _) = all_links
        .iter()
        .find(|(_, r)| r == "self")
        .expect("self link");
    assert_eq!(
        self_url,
        &format!(
            "{}/api/v1/users?limit=10&filter=status+eq+%22ACTIVE%22",
            okta.url()
        )
    );
    let next = next_link(&resp).expect("next link");
    assert!(next.starts_with(&format!("{}/api/v1/users?", okta.url())));
    assert!(next.contains("limit=10") && next.contains("filter=status+eq+%22ACTIVE%22"));
    let after = next.split("after=").nth(1).expect("after param");
    let first_page: Value = resp.json().expect("json");
    let last_id = first_page[9]["id"].as_str().expect("id");
    assert!(
        !after.contains(last_id),
        "cursor is opaque, not the plain id"
    );

    // The links follow the Host the client used.
    let port = okta.addr().port();
    let resp = client()
        .get(format!("http://localhost:{port}/api/v1/users?limit=1"))
        .header("Authorization", format!("SSWS {}", okta.api_token()))
        .send()
        .expect("request");
    assert!(
        next_link(&resp)
            .expect("next")
            .starts_with(&format!("http://localhost:{port}/"))
    );

    // The last page has a self link and no next.
    let resp = get(&okta, "/api/v1/users?limit=200");
    assert_eq!(links(&resp).len(), 1);
}

#[test]
fn limit_is_clamped_to_200_and_defaults_to_200() {
    let okta = start(450, 2, 1);
    let visible = okta.org().visible_user_ids().len();
    assert!(visible > 400);
    for url in ["/api/v1/users?limit=1000", "/api/v1/users"] {
        let resp = get(&okta, url);
        assert!(next_link(&resp).is_some());
        let page: Vec<Value> = resp.json().expect("json");
        assert_eq!(page.len(), 200, "{url}");
    }
    let resp = get(&okta, "/api/v1/users?limit=abc");
    okta_error(resp, 400, "E0000001");
}

#[test]
fn okta_headers_on_every_answer() {
    let okta = start(20, 2, 1);
    for resp in [
        get(&okta, "/api/v1/users?limit=2"),
        get(&okta, "/api/v1/users/nobody"),
        client()
            .get(format!("{}/api/v1/users", okta.url()))
            .send()
            .expect("request"),
    ] {
        for h in [
            "x-rate-limit-limit",
            "x-rate-limit-remaining",
            "x-rate-limit-reset",
            "date",
            "x-okta-request-id",
        ] {
            assert!(!header(&resp, h).is_empty(), "{h} on {}", resp.status());
        }
        assert!(header(&resp, "content-type").starts_with("application/json"));
        assert_eq!(header(&resp, "x-rate-limit-limit"), "600");
    }
}

#[test]
fn user_bodies_have_okta_shape() {
    let okta = start(40, 4, 2);
    let page: Vec<Value> = get(&okta, "/api/v1/users").json().expect("json");
    let ts = |v: &Value| {
        let s = v.as_str().expect("timestamp string");
        assert_eq!(s.len(), 24, "{s}");
        assert!(s.ends_with(".000Z") && chrono::DateTime::parse_from_rfc3339(s).is_ok());
    };
    for u in &page {
        let id = u["id"].as_str().expect("id");
        assert!(
            id.starts_with("00u")
                && id.len() == 20
                && id.chars().all(|c| c.is_ascii_alphanumeric())
        );
        ts(&u["created"]);
        ts(&u["lastUpdated"]);
        assert!(
            u["type"]["id"]
                .as_str()
                .is_some_and(|t| t.starts_with("oty"))
        );
        assert!(u["credentials"]["provider"]["type"].is_string());
        assert_eq!(
            u["_links"]["self"]["href"],
            format!("{}/api/v1/users/{id}", okta.url())
        );
        assert_eq!(
            u["_links"].as_object().map(|l| l.len()),
            Some(1),
            "lists carry only self"
        );
        let p = &u["profile"];
        for k in [
            "login",
            "email",
            "firstName",
            "lastName",
            "displayName",
            "department",
            "title",
            "employeeNumber",
            "manager",
            "costCenter",
            "officeLocation",
        ] {
            assert!(p[k].is_string(), "profile.{k} in {p}");
        }
        assert!(
            p.get("mobilePhone").is_some(),
            "mobilePhone present (maybe null)"
        );
        assert!(
            p["skills"].is_array()
                && p["isContractor"].is_boolean()
                && p["badgeNumber"].is_number()
        );
        if u["status"] == "STAGED" {
            assert!(
                u["activated"].is_null()
                    && u["statusChanged"].is_null()
                    && u["lastLogin"].is_null()
            );
        }
        assert_eq!(Some(u), okta.user_json(id).as_ref());
    }
    let all: Vec<&str> = page
        .iter()
        .filter_map(|u| u["profile"]["lastName"].as_str())
        .collect();
    assert!(
        all.iter().any(|n| !n.is_ascii()),
        "some non-ASCII names: {all:?}"
    );
}

#[test]
fn deprovisioned_users_need_a_filter_or_search() {
    let okta = start(120, 3, 1);
    let snap = okta.org();
    let deprovisioned = snap.count_by_status(UserStatus::Deprovisioned);
    assert!(deprovisioned > 0);
    let (ids, _) = collect_ids(&okta, "/api/v1/users");
    assert!(ids.iter().all(|id| {
        snap.user(id)
            .is_some_and(|u| u.status != UserStatus::Deprovisioned)
    }));

    for param in ["filter", "search"] {
        let resp = get_q(
            &okta,
            "/api/v1/users",
            &[(param, "status eq \"DEPROVISIONED\"")],
        );
        let page: Vec<Value> = resp.json().expect("json");
        assert_eq!(page.len(), deprovisioned, "{param}");
        assert!(page.iter().all(|u| u["status"] == "DEPROVISIONED"));
    }
    // A single deprovisioned user is still readable by id.
    let d = snap
        .first_with_status(UserStatus::Deprovisioned)
        .expect("one");
    let u: Value = get(&okta, &format!("/api/v1/users/{}", d.id))
        .json()
        .expect("json");
    assert_eq!(u["status"], "DEPROVISIONED");
}

#[test]
fn last_updated_filter_finds_only_changed_users() {
    let okta = start(60, 3, 1);
    let snap = okta.org();
    let mark = snap
        .users
        .iter()
        .map(|u| u.last_updated)
        .max()
        .expect("users");
    let mark = mark.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let filter = format!("lastUpdated gt \"{mark}\"");
    let page: Vec<Value> = get_q(&okta, "/api/v1/users", &[("filter", &filter)])
        .json()
        .expect("json");
    assert!(page.is_empty());

    let active = snap
        .first_with_status(UserStatus::Active)
        .expect("active")
        .id
        .clone();
    let staged = snap
        .first_with_status(UserStatus::Staged)
        .expect("staged")
        .id
        .clone();
    let changes = json!({ "title": "Chief Tester" })
        .as_object()
        .cloned()
        .expect("map");
    okta.update_user_profile(&active, changes).expect("update");
    okta.set_user_status(&staged, UserStatus::Deprovisioned)
        .expect("status");

    let page: Vec<Value> = get_q(&okta, "/api/v1/users", &[("filter", &filter)])
        .json()
        .expect("json");
    let ids: HashSet<&str> = page.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids, HashSet::from([active.as_str(), staged.as_str()]));
    let changed = page
        .iter()
        .find(|u| u["id"] == active.as_str())
        .expect("changed user");
    assert_eq!(changed["profile"]["title"], "Chief Tester");

    let both = format!("{filter} and status eq \"DEPROVISIONED\"");
    let page: Vec<Value> = get_q(&okta, "/api/v1/users", &[("filter", &both)])
        .json()
        .expect("json");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0]["id"], staged.as_str());
    assert!(page[0]["statusChanged"].as_str() > Some(mark.as_str()));

    let either = r#"(status eq "LOCKED_OUT" or status eq "SUSPENDED") and lastUpdated ge "2000-01-01T00:00:00.000Z""#;
    let page: Vec<Value> = get_q(&okta, "/api/v1/users", &[("search", either)])
        .json()
        .expect("json");
    let expected =
        snap.count_by_status(UserStatus::LockedOut) + snap.count_by_status(UserStatus::Suspended);
    assert_eq!(page.len(), expected);
}

#[test]
fn invalid_filters_are_rejected_like_okta() {
    let okta = start(20, 2, 1);
    for bad in [
        "status eq",
        "status ne \"ACTIVE\"",
        "profile.department eq \"IT\"",
        "foo",
        "status eq \"ACTIVE\" and",
    ] {
        let resp = get_q(&okta, "/api/v1/users", &[("filter", bad)]);
        let body = okta_error(resp, 400, "E0000031");
        assert_eq!(body["errorSummary"], "Invalid search criteria.");
    }
    let resp = get_q(
        &okta,
        "/api/v1/users",
        &[("filter", "lastUpdated gt \"last week\"")],
    );
    okta_error(resp, 400, "E0000030");
    let resp = get(&okta, "/api/v1/users?after=not-a-cursor");
    okta_error(resp, 400, "E0000001");
    // `search` accepts more than `filter` does.
    let resp = get_q(
        &okta,
        "/api/v1/users",
        &[("search", "profile.department eq \"it\"")],
    );
    assert_eq!(resp.status(), 200);
    let page: Vec<Value> = resp.json().expect("json");
    assert!(page.iter().all(|u| u["profile"]["department"] == "IT"));
}

#[test]
fn get_user_by_id_or_login_and_404() {
    let okta = start(30, 4, 2);
    let snap = okta.org();
    let u = snap.first_with_status(UserStatus::Active).expect("active");
    for key in [u.id.as_str(), u.login.as_str()] {
        let body: Value = get(&okta, &format!("/api/v1/users/{key}"))
            .json()
            .expect("json");
        assert_eq!(body["id"], u.id.as_str());
        assert!(
            body["_links"]["suspend"]["href"].is_string(),
            "full links on a single user"
        );
    }
    let groups: Vec<Value> = get(&okta, &format!("/api/v1/users/{}/groups", u.id))
        .json()
        .expect("json");
    let ids: Vec<&str> = groups.iter().filter_map(|g| g["id"].as_str()).collect();
    assert_eq!(ids, u.group_ids);

    let body = okta_error(get(&okta, "/api/v1/users/00uNOPE"), 404, "E0000007");
    assert_eq!(
        body["errorSummary"],
        "Not found: Resource not found: 00uNOPE (User)"
    );
    okta_error(get(&okta, "/api/v1/users/00uNOPE/groups"), 404, "E0000007");
}

#[test]
fn wrong_or_missing_token_is_401_and_bearer_works() {
    let okta = start(10, 1, 1);
    let url = format!("{}/api/v1/users", okta.url());
    for auth in [None, Some("SSWS wrong"), Some("Basic abc"), Some("SSWS")] {
        let mut req = client().get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let body = okta_error(req.send().expect("request"), 401, "E0000011");
        assert_eq!(body["errorSummary"], "Invalid token provided");
    }
    let resp = client()
        .get(&url)
        .header("Authorization", format!("Bearer {}", okta.api_token()))
        .send()
        .expect("request");
    assert_eq!(resp.status(), 200);
    let token = okta.api_token();
    assert!(token.len() == 42 && token.starts_with("00"));
    assert_eq!(
        token,
        FakeOktaOptions::default().api_token,
        "deterministic default token"
    );
}

#[test]
fn rate_limit_budget_then_429() {
    let okta = start_with(FakeOktaOptions {
        rate_limit_per_minute: 5,
        ..FakeOktaOptions::default()
    });
    let before = chrono::Utc::now().timestamp();
    let mut resets = HashSet::new();
    for expected_remaining in (0..5).rev() {
        let resp = get(&okta, "/api/v1/users?limit=1");
        assert_eq!(resp.status(), 200);
        assert_eq!(
            header(&resp, "x-rate-limit-remaining"),
            expected_remaining.to_string()
        );
        resets.insert(header(&resp, "x-rate-limit-reset"));
    }
    assert_eq!(resets.len(), 1, "one window");
    let resp = get(&okta, "/api/v1/users?limit=1");
    assert_eq!(header(&resp, "x-rate-limit-limit"), "5");
    assert_eq!(header(&resp, "x-rate-limit-remaining"), "0");
    let reset: i64 = header(&resp, "x-rate-limit-reset")
        .parse()
        .expect("epoch seconds");
    assert!(
        (before + 55..=before + 62).contains(&reset),
        "reset {reset} vs now {before}"
    );
    let body = okta_error(resp, 429, "E0000047");
    assert_eq!(
        body["errorSummary"],
        "API call exceeded rate limit due to too many requests."
    );

    okta.reset_rate_limit();
    assert_eq!(get(&okta, "/api/v1/users?limit=1").status(), 200);
}

#[test]
fn quick_query_matches_prefix_without_paging() {
    let okta = start(200, 2, 1);
    let snap = okta.org();
    let first = snap.visible_user_ids()[0];
    let name = okta.user_json(first).expect("user")["profile"]["firstName"]
        .as_str()
        .expect("name")
        .to_owned();
    let resp = get_q(&okta, "/api/v1/users", &[("q", &name)]);
    assert!(next_link(&resp).is_none());
    let page: Vec<Value> = resp.json().expect("json");
    assert!(!page.is_empty() && page.len() <= 10);
    assert!(
        page.iter()
            .any(|u| u["profile"]["firstName"] == name.as_str())
    );
}

/// The searches a scoped config sends (issue 15): the admin's expression
/// alone, in parentheses with the incremental bound, and with one user's
/// id (an event delivery); a malformed one is Okta's 400 E0000031.
#[test]
fn scope_searches_answer_as_okta_does() {
    let okta = start(40, 3, 7);
    let snap = okta.org();
    let u = snap.first_with_status(UserStatus::Active).expect("active");
    let dept = okta.user_json(&u.id).expect("user")["profile"]["department"]
        .as_str()
        .expect("a department")
        .to_string();
    let expr = format!("profile.department eq \"{dept}\"");
    let all: Vec<Value> = get_q(
        &okta,
        "/api/v1/users",
        &[("search", &expr), ("limit", "200")],
    )
    .json()
    .expect("json");
    assert!(
        !all.is_empty()
            && all
                .iter()
                .all(|x| x["profile"]["department"] == dept.as_str())
    );
    let since = format!("({expr}) and lastUpdated gt \"2000-01-01T00:00:00.000Z\"");
    let changed: Vec<Value> = get_q(&okta, "/api/v1/users", &[("search", &since)])
        .json()
        .expect("json");
    assert_eq!(changed.len(), all.len());
    let one = format!("({expr}) and id eq \"{}\"", u.id);
    let found: Vec<Value> = get_q(&okta, "/api/v1/users", &[("search", &one)])
        .json()
        .expect("json");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["id"], u.id.as_str());
    let other = format!(
        "(profile.department eq \"{dept}-not\") and id eq \"{}\"",
        u.id
    );
    let none: Vec<Value> = get_q(&okta, "/api/v1/users", &[("search", &other)])
        .json()
        .expect("json");
    assert!(none.is_empty());
    let resp = get_q(
        &okta,
        "/api/v1/users",
        &[("search", "profile.department eq")],
    );
    let body = okta_error(resp, 400, "E0000031");
    assert_eq!(body["errorSummary"], "Invalid search criteria.");
}
