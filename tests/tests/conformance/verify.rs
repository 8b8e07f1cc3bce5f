//! Verify, driven through the built component against the fake Okta: it
//! succeeds on a good config and names each failure kind distinctly.

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use common::{DEV, closed_port, form, world};
use host_harness::bindings::exports::infraon::okta::verify::VerifyError;
use host_harness::bindings::infraon::okta::types::{InstallOptions, OktaFailure};
use host_harness::render;

fn failure(outcome: Result<impl std::fmt::Debug, VerifyError>) -> OktaFailure {
    match outcome {
        Err(VerifyError::Okta(f)) => f,
        other => panic!("expected an Okta failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_succeeds_with_two_requests_against_a_good_org() {
    let w = world(30, 4).await;
    let before = w.okta.request_count();
    let report = w
        .runtime
        .verify_form(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.requests, 2, "users?limit=1 and groups?limit=1");
    assert_eq!(w.okta.request_count() - before, 2);
    assert_eq!(report.okta_origin, w.okta.url());
    assert!(report.rate_limit.limit.is_some() && report.rate_limit.remaining.is_some());
    assert!(report.okta_request_id.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn each_failure_kind_yields_its_own_error_and_message() {
    let w = world(10, 2).await;
    let token = w.okta.api_token().to_string();
    let url = w.okta.url();
    let port = w.okta.addr().port();
    let rt = &w.runtime;
    let mut messages = HashSet::new();
    let mut check = |name: &str, f: OktaFailure, ok: bool| {
        assert!(ok, "{name}: wrong kind {f:?}");
        let text = render::okta_failure(&f);
        assert!(!text.contains(&token), "{name}: token in message");
        assert!(
            messages.insert(text.clone()),
            "{name}: message not distinct: {text}"
        );
    };

    let f = failure(
        rt.verify_form(&form("a", "http://no-such-org.invalid", &token), DEV)
            .await
            .unwrap(),
    );
    check("dns", f.clone(), matches!(f, OktaFailure::DnsFailure(_)));

    let f = failure(
        rt.verify_form(
            &form("a", &format!("http://127.0.0.1:{}", closed_port()), &token),
            DEV,
        )
        .await
        .unwrap(),
    );
    check(
        "connect",
        f.clone(),
        matches!(f, OktaFailure::ConnectionFailed(_)),
    );

    let f = failure(
        rt.verify_form(
            &form("a", &format!("https://127.0.0.1:{port}"), &token),
            DEV,
        )
        .await
        .unwrap(),
    );
    check("tls", f.clone(), matches!(f, OktaFailure::TlsFailure(_)));

    let f = failure(
        rt.verify_form(&form("a", &url, "00wrongtoken"), DEV)
            .await
            .unwrap(),
    );
    check(
        "401",
        f.clone(),
        matches!(&f, OktaFailure::InvalidToken(e) if e.error_code == "E0000011" && e.status == 401),
    );

    w.okta.faults().deny_permission();
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    check(
        "403",
        f.clone(),
        matches!(&f, OktaFailure::PermissionDenied(e) if e.error_code == "E0000006" && e.status == 403),
    );
    w.okta.faults().clear();

    w.okta.faults().wrong_url();
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    check("404", f.clone(), matches!(f, OktaFailure::NotFound(_)));
    w.okta.faults().clear();

    w.okta.faults().rate_limit_for(Duration::from_secs(30));
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    check(
        "429",
        f.clone(),
        matches!(&f, OktaFailure::RateLimited(r) if r.reset_at.is_some_and(|t| t >= now && t <= now + 61)),
    );
    w.okta.faults().clear();

    w.okta.faults().fail_always(503);
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    check("5xx", f.clone(), matches!(f, OktaFailure::ServerError(503)));
    w.okta.faults().clear();

    w.okta.faults().non_json();
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    check(
        "not json",
        f.clone(),
        matches!(f, OktaFailure::UnexpectedResponse(_)),
    );
    w.okta.faults().clear();

    w.okta.faults().truncated_json();
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    assert!(
        matches!(f, OktaFailure::UnexpectedResponse(_)),
        "truncated: {f:?}"
    );
    w.okta.faults().clear();

    // The host's request deadline in these tests is 2 s.
    w.okta.faults().latency(Duration::from_secs(5));
    let f = failure(rt.verify_form(&form("a", &url, &token), DEV).await.unwrap());
    check("timeout", f.clone(), matches!(f, OktaFailure::Timeout(_)));
    w.okta.faults().clear();

    assert_eq!(messages.len(), 10);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_token_and_a_wrong_domain_give_different_precise_messages() {
    let w = world(5, 1).await;
    let bad_token = w
        .runtime
        .verify_form(&form("a", &w.okta.url(), "00revoked"), DEV)
        .await
        .unwrap()
        .unwrap_err();
    let bad_domain = w
        .runtime
        .verify_form(
            &form("a", "http://typo-org.invalid", w.okta.api_token()),
            DEV,
        )
        .await
        .unwrap()
        .unwrap_err();
    let (t, d) = (
        render::verify_error(&bad_token),
        render::verify_error(&bad_domain),
    );
    assert!(t.contains("API token") && t.contains("E0000011"), "{t}");
    assert!(d.contains("does not resolve"), "{d}");
    assert_ne!(t, d);
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_forms_are_refused_before_any_request() {
    let w = world(5, 1).await;
    let before = w.okta.request_count();
    let prod = InstallOptions {
        development_mode: false,
    };
    for (domain, field) in [
        ("acme-admin.okta.com", "okta-domain"),
        ("https://acme.okta.com/app/x", "okta-domain"),
        ("https://acme.okta.com/?q=1", "okta-domain"),
        ("https://user:pw@acme.okta.com", "okta-domain"),
        ("http://127.0.0.1:8080", "okta-domain"),
        ("localhost", "okta-domain"),
    ] {
        match w
            .runtime
            .verify_form(&form("a", domain, "00token"), prod)
            .await
            .unwrap()
        {
            Err(VerifyError::InvalidConfig(errors)) => {
                assert!(
                    errors.iter().any(|e| e.field == field),
                    "{domain}: {errors:?}"
                )
            }
            other => panic!("{domain}: expected invalid config, got {other:?}"),
        }
    }
    match w
        .runtime
        .verify_form(&form(" ", "acme.okta.com", ""), prod)
        .await
        .unwrap()
    {
        Err(VerifyError::InvalidConfig(errors)) => {
            let fields: HashSet<_> = errors.iter().map(|e| e.field.as_str()).collect();
            assert!(
                fields.contains("name") && fields.contains("api-token"),
                "{errors:?}"
            );
        }
        other => panic!("expected invalid config, got {other:?}"),
    }
    assert_eq!(
        w.okta.request_count(),
        before,
        "nothing may reach Okta for an invalid form"
    );
}
