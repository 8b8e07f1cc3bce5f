//! The switches that make the fake answer as a real org does: latency per
//! request, a new connection's handshakes, Okta's documented per-family
//! budgets, and the org-wide limit on requests in flight.

mod common;

use std::time::{Duration, Instant};

use common::*;
use fake_okta::{FakeOktaOptions, Latency, OKTA_CONCURRENCY_LIMIT, OrgSpec};

const USERS: &str = "/api/v1/users?limit=5";

fn small_org() -> OrgSpec {
    OrgSpec {
        users: 20,
        groups: 2,
        ..OrgSpec::default()
    }
}

#[test]
fn every_request_takes_the_latency_and_its_jitter() {
    let okta = start_with(FakeOktaOptions {
        org: small_org(),
        latency: Latency::ms(200, 50),
        ..FakeOktaOptions::default()
    });
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(get(&okta, USERS).status(), 200);
        assert!(
            t.elapsed() >= Duration::from_millis(200),
            "{:?}",
            t.elapsed()
        );
    }
    // Switched off while running, answers come without it.
    okta.set_latency(Latency::default());
    let t = Instant::now();
    assert_eq!(get(&okta, USERS).status(), 200);
    assert!(
        t.elapsed() < Duration::from_millis(200),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn a_new_connection_waits_for_its_handshake_and_a_kept_one_is_not_new() {
    let okta = start_with(FakeOktaOptions {
        org: small_org(),
        handshake: Duration::from_millis(300),
        ..FakeOktaOptions::default()
    });
    let before = okta.connection_count();
    // `get` connects anew for each request.
    let t = Instant::now();
    assert_eq!(get(&okta, USERS).status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(okta.connection_count() - before, 1);
    // One client keeping its connection alive: three requests, one more.
    let kept = client();
    for _ in 0..3 {
        let answer = kept
            .get(format!("{}{USERS}", okta.url()))
            .header("Authorization", format!("SSWS {}", okta.api_token()))
            .send()
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    assert_eq!(okta.connection_count() - before, 2);
}

#[test]
fn okta_limits_give_each_family_its_documented_budget() {
    let okta = start_with(
        FakeOktaOptions {
            org: small_org(),
            ..FakeOktaOptions::default()
        }
        .with_okta_limits(),
    );
    let group = okta.org().groups[0].id.clone();
    let user = okta.org().users[0].id.clone();
    for (path, limit) in [
        ("/api/v1/users?limit=200".to_owned(), "600"),
        ("/api/v1/groups?limit=10000".to_owned(), "600"),
        (format!("/api/v1/groups/{group}/users?limit=1000"), "600"),
        (format!("/api/v1/users/{user}"), "1000"),
    ] {
        let resp = get(&okta, &path);
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(header(&resp, "x-rate-limit-limit"), limit, "{path}");
        assert_eq!(
            header(&resp, "x-rate-limit-remaining"),
            (limit.parse::<u32>().unwrap() - 1).to_string(),
            "{path}"
        );
    }
    // Spending the users listing's 600 leaves the groups listing's whole.
    for _ in 1..600 {
        assert_eq!(get(&okta, USERS).status(), 200);
    }
    okta_error(get(&okta, USERS), 429, "E0000047");
    let resp = get(&okta, "/api/v1/groups?limit=10000");
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-rate-limit-remaining"), "598");
}

#[test]
fn requests_beyond_the_concurrent_limit_are_refused_as_okta_does() {
    let okta = start_with(FakeOktaOptions {
        org: small_org(),
        latency: Latency::ms(600, 0),
        concurrency_limit: 2,
        ..FakeOktaOptions::default()
    });
    let (url, token) = (
        format!("{}{USERS}", okta.url()),
        okta.api_token().to_owned(),
    );
    let answers: Vec<(u16, String, String, serde_json::Value)> = std::thread::scope(|s| {
        let sent: Vec<_> = (0..3)
            .map(|i| {
                let (url, token) = (&url, &token);
                // Started one after the other, so the third finds two in flight.
                std::thread::sleep(Duration::from_millis(if i == 0 { 0 } else { 100 }));
                s.spawn(move || {
                    let resp = client()
                        .get(url)
                        .header("Authorization", format!("SSWS {token}"))
                        .send()
                        .expect("request");
                    let status = resp.status().as_u16();
                    let limit = header(&resp, "x-rate-limit-limit");
                    let remaining = header(&resp, "x-rate-limit-remaining");
                    (status, limit, remaining, resp.json().expect("JSON"))
                })
            })
            .collect();
        sent.into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
    assert_eq!(refused.len(), 1, "{answers:?}");
    let (_, limit, remaining, body) = refused[0];
    assert_eq!((limit.as_str(), remaining.as_str()), ("2", "0"));
    assert_eq!(body["errorCode"], "E0000047");
    assert_eq!(answers.iter().filter(|a| a.0 == 200).count(), 2);
    // Once those finished, a request gets through again.
    assert_eq!(okta.in_flight(), 0);
    assert_eq!(get(&okta, USERS).status(), 200);
    // Okta's documented limit is what `with_okta_limits` sets.
    let documented = FakeOktaOptions::default().with_okta_limits();
    assert_eq!(documented.concurrency_limit, OKTA_CONCURRENCY_LIMIT);
}
