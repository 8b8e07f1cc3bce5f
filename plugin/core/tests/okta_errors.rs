//! Classification of Okta answers and the admin-facing texts.

mod common;

use common::{TOKEN, html, json, okta_error};
use plugin_core::okta_error::{OktaError, OktaFailure, RateLimit, classify};
use plugin_core::{HttpResponse, TransportError};

fn with_header(mut r: HttpResponse, name: &str, value: &str) -> HttpResponse {
    r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    r.headers.push((name.into(), value.into()));
    r
}

#[test]
fn statuses_map_to_their_case() {
    let f = |r: HttpResponse| classify(&r).unwrap_err();
    assert!(matches!(
        f(okta_error(401, "E0000011", "Invalid token provided")),
        OktaFailure::InvalidToken(OktaError { status: 401, ref error_code, .. }) if error_code == "E0000011"
    ));
    assert!(matches!(
        f(okta_error(403, "E0000006", "You do not have permission")),
        OktaFailure::PermissionDenied(OktaError { ref error_code, .. }) if error_code == "E0000006"
    ));
    assert!(
        matches!(f(html(401)), OktaFailure::InvalidToken(OktaError { ref error_code, .. }) if error_code.is_empty())
    );
    match f(okta_error(404, "E0000007", "Not found: Resource not found")) {
        OktaFailure::NotFound(d) => assert!(d.contains("E0000007")),
        other => panic!("{other:?}"),
    }
    match f(html(404)) {
        OktaFailure::NotFound(d) => assert!(d.contains("HTML page")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f(okta_error(429, "E0000047", "API call exceeded rate limit")),
        OktaFailure::RateLimited(RateLimit {
            limit: Some(600),
            remaining: Some(599),
            reset_at: Some(1_795_885_260)
        })
    );
    assert_eq!(f(html(502)), OktaFailure::ServerError(502));
    assert_eq!(
        f(okta_error(500, "E0000009", "Internal Server Error")),
        OktaFailure::ServerError(500)
    );
    assert!(matches!(
        f(okta_error(400, "E0000031", "Invalid search criteria")),
        OktaFailure::Okta(OktaError { status: 400, ref error_code, error_id: Some(_), .. }) if error_code == "E0000031"
    ));
    assert!(matches!(f(html(400)), OktaFailure::UnexpectedResponse(_)));
    let redirect = with_header(html(302), "Location", "https://acme.okta.com/login");
    assert!(matches!(f(redirect), OktaFailure::UnexpectedResponse(d) if d.contains("redirect")));
}

#[test]
fn two_hundreds_that_are_not_okta_json_are_unexpected() {
    let cases = [
        (html(200), "HTML page"),
        (json(200, r#"[{"id":"00u1""#), "truncated"),
        (json(200, "not json"), "not valid JSON"),
        (json(200, "42"), "neither an object nor a list"),
        (
            with_header(json(200, "[]"), "Content-Type", "text/plain"),
            "text/plain",
        ),
    ];
    for (resp, needle) in cases {
        match classify(&resp) {
            Err(OktaFailure::UnexpectedResponse(d)) => {
                assert!(d.contains(needle), "{d:?} lacks {needle:?}")
            }
            other => panic!("{needle}: {other:?}"),
        }
    }
    assert_eq!(classify(&json(200, "[]")), Ok(()));
    let vendor = with_header(json(200, "{}"), "content-type", "application/scim+json");
    assert_eq!(classify(&vendor), Ok(()));
}

#[test]
fn transport_errors_map_one_to_one() {
    use OktaFailure as F;
    use TransportError as T;
    let d = || "x".to_string();
    assert_eq!(F::from_transport(T::Dns(d())), F::DnsFailure(d()));
    assert_eq!(
        F::from_transport(T::Connection(d())),
        F::ConnectionFailed(d())
    );
    assert_eq!(F::from_transport(T::Tls(d())), F::TlsFailure(d()));
    assert_eq!(F::from_transport(T::Timeout(d())), F::Timeout(d()));
    assert_eq!(F::from_transport(T::Denied(d())), F::EgressDenied(d()));
    assert_eq!(F::from_transport(T::Other(d())), F::Other(d()));
}

fn every_case() -> Vec<OktaFailure> {
    let e = |s| OktaError {
        status: s,
        error_code: "E0000011".into(),
        error_summary: "Invalid token provided".into(),
        error_id: Some("oae1".into()),
    };
    vec![
        OktaFailure::DnsFailure("no such host".into()),
        OktaFailure::ConnectionFailed("refused".into()),
        OktaFailure::TlsFailure("bad certificate".into()),
        OktaFailure::Timeout("30 s".into()),
        OktaFailure::EgressDenied("not allowlisted".into()),
        OktaFailure::InvalidToken(e(401)),
        OktaFailure::PermissionDenied(OktaError {
            error_code: "E0000006".into(),
            ..e(403)
        }),
        OktaFailure::NotFound("an HTML page".into()),
        OktaFailure::RateLimited(RateLimit {
            limit: Some(600),
            remaining: Some(0),
            reset_at: Some(1_795_885_200),
        }),
        OktaFailure::RateLimited(RateLimit::default()),
        OktaFailure::ServerError(503),
        OktaFailure::UnexpectedResponse("an HTML page".into()),
        OktaFailure::Okta(OktaError {
            error_code: "E0000031".into(),
            error_summary: "Invalid search.".into(),
            ..e(400)
        }),
        OktaFailure::Other("boom".into()),
    ]
}

#[test]
fn display_texts_are_distinct_and_precise() {
    let texts: Vec<String> = every_case().iter().map(ToString::to_string).collect();
    let mut unique = texts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), texts.len(), "{texts:#?}");
    assert_eq!(
        texts[5],
        "Okta rejected the API token (E0000011): it is invalid, expired or revoked. \
         Create a new token in Okta Admin > Security > API > Tokens. Okta error id: oae1."
    );
    assert_eq!(
        texts[8],
        "Okta's API rate limit reached; it resets at 2026-11-28T17:00:00Z."
    );
    assert!(texts[7].contains("does not lead to an Okta org API"));
    assert!(texts[10].contains("503"));
    assert_eq!(
        texts[12],
        "Okta refused the request with HTTP 400 (E0000031): Invalid search. Okta error id: oae1."
    );
}

#[test]
fn redact_scrubs_an_echoed_token_from_every_case() {
    for case in every_case() {
        let poisoned = match case {
            OktaFailure::DnsFailure(_) => OktaFailure::DnsFailure(format!("SSWS {TOKEN}")),
            OktaFailure::UnexpectedResponse(_) => OktaFailure::UnexpectedResponse(TOKEN.into()),
            OktaFailure::Okta(e) => OktaFailure::Okta(OktaError {
                error_summary: TOKEN.into(),
                ..e
            }),
            OktaFailure::InvalidToken(e) => OktaFailure::InvalidToken(OktaError {
                error_id: Some(TOKEN.into()),
                ..e
            }),
            OktaFailure::Other(_) => OktaFailure::Other(TOKEN.into()),
            other => other,
        };
        let text = poisoned.redact(TOKEN).to_string();
        assert!(!text.contains(TOKEN), "{text}");
    }
}
