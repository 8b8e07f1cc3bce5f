//! Each fault knob, switched on and off while the server runs.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fake_okta::{FaultKind, FaultRule};
use serde_json::Value;

const USERS: &str = "/api/v1/users?limit=5";

#[test]
fn revoked_token_then_restored() {
    let okta = start(10, 1, 1);
    okta.faults().revoke_token();
    for _ in 0..2 {
        okta_error(get(&okta, USERS), 401, "E0000011");
    }
    okta.faults().clear();
    assert_eq!(get(&okta, USERS).status(), 200);
}

#[test]
fn missing_permission_is_403() {
    let okta = start(10, 1, 1);
    okta.faults().deny_permission();
    let e = okta_error(get(&okta, USERS), 403, "E0000006");
    assert_eq!(
        e["errorSummary"],
        "You do not have permission to perform the requested action"
    );
    // A bad token still wins over a missing permission, as in Okta.
    let resp = client()
        .get(format!("{}{USERS}", okta.url()))
        .send()
        .expect("request");
    okta_error(resp, 401, "E0000011");
}

#[test]
fn wrong_url_is_a_foreign_html_404() {
    let okta = start(10, 1, 1);
    okta.faults().wrong_url();
    for path in [USERS, "/api/v1/groups", "/"] {
        let resp = get(&okta, path);
        assert_eq!(resp.status(), 404);
        assert!(header(&resp, "content-type").starts_with("text/html"));
        assert!(resp.headers().get("x-rate-limit-limit").is_none());
        assert!(resp.headers().get("x-okta-request-id").is_none());
        assert!(resp.text().expect("body").contains("<html>"));
    }
}

#[test]
fn server_errors_for_next_n_then_always() {
    let okta = start(10, 1, 1);
    okta.faults().fail_next(503, 2);
    for _ in 0..2 {
        let resp = get(&okta, USERS);
        assert_eq!(resp.status(), 503);
        assert!(header(&resp, "content-type").starts_with("text/html"));
    }
    assert_eq!(get(&okta, USERS).status(), 200);
    assert!(okta.faults().rules().is_empty(), "counted rule used up");

    okta.faults().fail_always(500);
    for _ in 0..3 {
        let resp = get(&okta, USERS);
        assert!(resp.headers().get("x-rate-limit-remaining").is_some());
        okta_error(resp, 500, "E0000009");
    }
    okta.faults().clear();
    assert_eq!(get(&okta, USERS).status(), 200);
}

#[test]
fn forced_429_carries_the_given_reset_and_lapses() {
    let okta = start(10, 1, 1);
    let now = chrono::Utc::now().timestamp();
    okta.faults().rate_limit_for(Duration::from_secs(2));
    let resp = get(&okta, USERS);
    assert_eq!(header(&resp, "x-rate-limit-remaining"), "0");
    let reset: i64 = header(&resp, "x-rate-limit-reset").parse().expect("epoch");
    assert!(
        (now + 1..=now + 3).contains(&reset),
        "reset {reset} now {now}"
    );
    okta_error(resp, 429, "E0000047");
    // A client that waits for the reset gets through.
    let wait = (reset - chrono::Utc::now().timestamp()).max(0) as u64 + 1;
    std::thread::sleep(Duration::from_secs(wait));
    assert_eq!(get(&okta, USERS).status(), 200);
}

#[test]
fn non_json_and_truncated_bodies() {
    let okta = start(10, 1, 1);
    okta.faults().non_json();
    let resp = get(&okta, USERS);
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    assert!(serde_json::from_str::<Value>(&resp.text().expect("body")).is_err());
    okta.faults().clear();

    let full = get(&okta, USERS).text().expect("body");
    okta.faults().truncated_json();
    let resp = get(&okta, USERS);
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    assert!(next_link(&resp).is_some(), "headers intact");
    let cut = resp.text().expect("body");
    assert!(!cut.is_empty() && cut.len() < full.len() && full.starts_with(&cut));
    assert!(serde_json::from_str::<Value>(&cut).is_err());
}

#[test]
fn latency_delays_answers() {
    let okta = start(10, 1, 1);
    okta.faults().latency(Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(get(&okta, USERS).status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    okta.faults().clear();
    let t = Instant::now();
    get(&okta, USERS);
    assert!(t.elapsed() < Duration::from_millis(300));
}

#[test]
fn rules_can_target_a_path_prefix() {
    let okta = start(10, 2, 1);
    okta.faults().set(
        FaultRule::new(FaultKind::Status(502))
            .on_path("/api/v1/groups")
            .times(1),
    );
    assert_eq!(get(&okta, USERS).status(), 200);
    assert_eq!(get(&okta, "/api/v1/groups").status(), 502);
    assert_eq!(get(&okta, "/api/v1/groups").status(), 200);
}

#[test]
fn request_count_includes_faulted_requests() {
    let okta = start(10, 1, 1);
    let before = okta.request_count();
    get(&okta, USERS);
    okta.faults().fail_next(500, 1);
    get(&okta, USERS);
    get(&okta, "/nowhere");
    assert_eq!(okta.request_count(), before + 3);
}
