//! Service apps at the org server's token endpoint: `private_key_jwt`
//! assertions checked (signature, `aud`, `exp`, `jti` replay), scopes
//! granted or refused, DPoP with a nonce, and the API's answers to the
//! access tokens.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_okta::{BlockingFakeOkta, ClientKey, FakeOktaOptions, JWT_BEARER, ServiceApp};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const APP: &str = "0oaservice000000000";
const SCOPES: &str = "okta.users.read okta.groups.read okta.schemas.read";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn start(dpop: bool, scopes: &[&str]) -> (BlockingFakeOkta, ClientKey) {
    let okta = BlockingFakeOkta::start(FakeOktaOptions::default()).expect("fake okta");
    let key = ClientKey::for_seed(1);
    okta.register_service_app(ServiceApp {
        client_id: APP.into(),
        jwks: vec![key.public_jwk()],
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        dpop,
    });
    (okta, key)
}

fn token_url(okta: &BlockingFakeOkta) -> String {
    format!("{}/oauth2/v1/token", okta.url())
}

fn assertion(key: &ClientKey, aud: &str, exp: i64, jti: &str) -> String {
    key.sign_jwt(
        &json!({"alg": "RS256", "kid": key.kid()}),
        &json!({"iss": APP, "sub": APP, "aud": aud, "exp": exp, "iat": now(), "jti": jti}),
    )
}

fn request(okta: &BlockingFakeOkta, assertion: &str, scope: &str, dpop: Option<&str>) -> Response {
    let mut r = Client::new().post(token_url(okta)).form(&[
        ("grant_type", "client_credentials"),
        ("scope", scope),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ]);
    if let Some(p) = dpop {
        r = r.header("DPoP", p);
    }
    r.send().expect("token request")
}

fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().expect("json"))
}

fn proof(
    key: &ClientKey,
    htm: &str,
    htu: &str,
    nonce: Option<&str>,
    token: Option<&str>,
) -> String {
    let mut claims =
        json!({"htm": htm, "htu": htu, "iat": now(), "jti": format!("p-{}", rand_id())});
    if let Some(n) = nonce {
        claims["nonce"] = n.into();
    }
    if let Some(t) = token {
        claims["ath"] = URL_SAFE_NO_PAD.encode(Sha256::digest(t.as_bytes())).into();
    }
    let jwk = key.public_jwk();
    key.sign_jwt(&json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": {"kty": "RSA", "n": jwk["n"], "e": jwk["e"]}}), &claims)
}

fn rand_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", now(), N.fetch_add(1, Ordering::Relaxed))
}

#[test]
fn a_good_assertion_gets_a_bearer_token_that_reads_users_and_the_log_shows_no_ssws() {
    let (okta, key) = start(
        false,
        &["okta.users.read", "okta.groups.read", "okta.schemas.read"],
    );
    let (status, body) = json_of(request(
        &okta,
        &assertion(&key, &token_url(&okta), now() + 300, "j1"),
        SCOPES,
        None,
    ));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], SCOPES);
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();
    let r = Client::new()
        .get(format!("{}/api/v1/users?limit=1", okta.url()))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let log = okta.auth_log();
    assert_eq!(log.last().unwrap().scheme, "Bearer");
    assert!(log.iter().all(|e| e.scheme != "SSWS"));
    // Expired tokens are refused like any invalid token.
    okta.expire_service_tokens();
    let r = Client::new()
        .get(format!("{}/api/v1/users?limit=1", okta.url()))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
}

#[test]
fn wrong_aud_expired_replayed_and_unregistered_key_assertions_are_refused() {
    let (okta, key) = start(
        false,
        &["okta.users.read", "okta.groups.read", "okta.schemas.read"],
    );
    let url = token_url(&okta);
    let refused = |a: String, needle: &str| {
        let (status, body) = json_of(request(&okta, &a, SCOPES, None));
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["error"], "invalid_client");
        let d = body["error_description"].as_str().unwrap();
        assert!(d.contains(needle), "{d}");
    };
    refused(
        assertion(
            &key,
            "http://127.0.0.1:1/oauth2/v1/token",
            now() + 300,
            "a1",
        ),
        "audience",
    );
    refused(assertion(&key, &url, now() - 5, "a2"), "expired");
    refused(assertion(&key, &url, now() + 7200, "a3"), "too far");
    let first = assertion(&key, &url, now() + 300, "a4");
    assert_eq!(request(&okta, &first, SCOPES, None).status(), 200);
    refused(first, "already been used");
    refused(
        assertion(&ClientKey::for_seed(2), &url, now() + 300, "a5"),
        "not registered",
    );
    let stranger = ClientKey::for_seed(1).sign_jwt(
        &json!({"alg": "RS256"}),
        &json!({"iss": "0oanobody", "sub": "0oanobody", "aud": url, "exp": now() + 60, "jti": "a6"}),
    );
    refused(stranger, "client_id");
    assert_eq!(okta.refused_assertions().len(), 6);
}

#[test]
fn an_ungranted_scope_is_refused_at_the_token_endpoint_and_the_api_names_a_missing_one() {
    let (okta, key) = start(false, &["okta.users.read", "okta.groups.read"]);
    let url = token_url(&okta);
    let (status, body) = json_of(request(
        &okta,
        &assertion(&key, &url, now() + 300, "s1"),
        SCOPES,
        None,
    ));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = json_of(request(
        &okta,
        &assertion(&key, &url, now() + 300, "s2"),
        "okta.users.read",
        None,
    ));
    assert_eq!(status, 200);
    let r = Client::new()
        .get(format!("{}/api/v1/groups?limit=1", okta.url()))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.contains("scope=\"okta.groups.read\""),
        "{challenge}"
    );
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    assert_eq!(r.json::<Value>().unwrap()["errorCode"], "E0000006");
}

#[test]
fn dpop_needs_a_proof_then_the_nonce_then_binds_the_token_to_the_key() {
    let (okta, key) = start(
        true,
        &["okta.users.read", "okta.groups.read", "okta.schemas.read"],
    );
    let dpop_key = ClientKey::for_seed(3);
    let url = token_url(&okta);
    let (status, body) = json_of(request(
        &okta,
        &assertion(&key, &url, now() + 300, "d1"),
        SCOPES,
        None,
    ));
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let r = request(
        &okta,
        &assertion(&key, &url, now() + 300, "d2"),
        SCOPES,
        Some(&proof(&dpop_key, "POST", &url, None, None)),
    );
    assert_eq!(r.status(), 400);
    let nonce = r.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_eq!(r.json::<Value>().unwrap()["error"], "use_dpop_nonce");
    let r = request(
        &okta,
        &assertion(&key, &url, now() + 300, "d3"),
        SCOPES,
        Some(&proof(&dpop_key, "POST", &url, Some(&nonce), None)),
    );
    let (status, body) = json_of(r);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let api = format!("{}/api/v1/users", okta.url());
    let get = |scheme: &str, p: Option<String>| {
        let mut r = Client::new()
            .get(format!("{api}?limit=1"))
            .header("Authorization", format!("{scheme} {token}"));
        if let Some(p) = p {
            r = r.header("DPoP", p);
        }
        r.send().unwrap()
    };
    let good = proof(&dpop_key, "GET", &api, None, Some(&token));
    assert_eq!(get("DPoP", Some(good.clone())).status(), 200);
    assert_eq!(get("DPoP", Some(good)).status(), 400, "a replayed proof");
    assert_eq!(
        get("Bearer", None).status(),
        401,
        "a DPoP token as a bearer"
    );
    let other_key = proof(&ClientKey::for_seed(4), "GET", &api, None, Some(&token));
    assert_eq!(get("DPoP", Some(other_key)).status(), 400, "another key");
    let wrong_htu = proof(&dpop_key, "GET", &format!("{api}/x"), None, Some(&token));
    let r = get("DPoP", Some(wrong_htu));
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("htu")
    );
}
