//! The Okta client: headers, bookkeeping, and never leaving the origin.

mod common;

use common::{FakeHttp, TOKEN, json};
use plugin_core::{OktaClient, OktaFailure, TransportError, parse_okta_domain};
use serde_json::Value;

#[test]
fn sends_ssws_and_remembers_rate_limit_and_request_id() {
    let origin = parse_okta_domain("acme.okta.com", false).unwrap();
    let mut http = FakeHttp::default();
    let mut page = json(200, "[]");
    page.headers.push((
        "link".into(),
        r#"<https://acme.okta.com/api/v1/users?after=1>; rel="next""#.into(),
    ));
    http.push(Ok(page));
    let mut client = OktaClient::new(&mut http, &origin, TOKEN);
    let resp = client.get::<Value>("/api/v1/users?limit=1").unwrap();
    assert_eq!(
        resp.next_link.as_deref(),
        Some("https://acme.okta.com/api/v1/users?after=1")
    );
    assert_eq!(resp.request_id.as_deref(), Some("req-200"));
    assert_eq!(client.requests(), 1);
    assert_eq!(client.last_rate_limit().remaining, Some(599));
    let req = &http.sent[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.url, "https://acme.okta.com/api/v1/users?limit=1");
    let h = |n: &str| {
        req.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(h("Authorization"), Some(format!("SSWS {TOKEN}").as_str()));
    assert_eq!(h("Accept"), Some("application/json"));
    assert!(h("User-Agent").unwrap().starts_with("infraon-okta-plugin/"));
}

#[test]
fn follows_next_only_on_the_same_origin() {
    let origin = parse_okta_domain("acme.okta.com", false).unwrap();
    let mut http = FakeHttp::default();
    http.push(Ok(json(200, "[]")));
    http.push(Ok(json(200, "[]")));
    let mut client = OktaClient::new(&mut http, &origin, TOKEN);
    for foreign in [
        "https://evil.example/api/v1/users?after=1",
        "http://acme.okta.com/api/v1/users",
        "https://acme.okta.com:8443/api/v1/users",
        "https://acme.okta.com.evil.example/x",
        "https://user@acme.okta.com/x",
    ] {
        match client.get::<Value>(foreign) {
            Err(OktaFailure::Other(m)) => assert!(m.contains("refusing"), "{m}"),
            other => panic!("{foreign}: {other:?}"),
        }
    }
    assert_eq!(client.requests(), 0);
    client
        .get::<Value>("https://ACME.okta.com:443/api/v1/users?after=1")
        .unwrap();
    // A path, even one that looks protocol-relative, is on the org.
    client.get::<Value>("//evil.example/x").unwrap();
    assert_eq!(http.sent.len(), 2);
    assert!(
        http.sent[1]
            .url
            .starts_with("https://acme.okta.com//evil.example")
    );
}

#[test]
fn transport_errors_are_redacted_and_counted() {
    let origin = parse_okta_domain("acme.okta.com", false).unwrap();
    let mut http = FakeHttp::default();
    http.push(Err(TransportError::Tls(format!(
        "handshake with Authorization: SSWS {TOKEN}"
    ))));
    let mut client = OktaClient::new(&mut http, &origin, TOKEN);
    let err = client.get::<Value>("/api/v1/users").unwrap_err();
    assert!(matches!(err, OktaFailure::TlsFailure(_)));
    assert!(!format!("{err} {err:?}").contains(TOKEN));
    assert_eq!(client.requests(), 1);
}
