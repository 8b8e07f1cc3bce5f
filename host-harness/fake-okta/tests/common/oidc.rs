//! Helpers for the OIDC tests: a client that does not follow redirects,
//! PKCE, token requests, and RS256 verification against the JWKS.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fake_okta::{BlockingFakeOkta, OidcClient, UserInfo, UserStatus};
use reqwest::blocking::{Client, Response};
use rsa::BoxedUint;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";
pub const PUBLIC_ID: &str = "0oapublic0000000000";
pub const CONFIDENTIAL_ID: &str = "0oaconfidential0000";
pub const SECRET: &str = "s3cr3t+with/odd=chars";

/// Registers one public and one confidential client.
pub fn register_clients(okta: &BlockingFakeOkta) {
    okta.register_oidc_client(OidcClient {
        client_id: PUBLIC_ID.into(),
        client_secret: None,
        redirect_uris: vec![REDIRECT.into()],
    });
    okta.register_oidc_client(OidcClient {
        client_id: CONFIDENTIAL_ID.into(),
        client_secret: Some(SECRET.into()),
        redirect_uris: vec![REDIRECT.into(), "http://127.0.0.1:9/other".into()],
    });
}

pub fn no_redirects() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// An endpoint of the org server (`None`) or a custom one.
pub fn ep(okta: &BlockingFakeOkta, server: Option<&str>, name: &str) -> String {
    match server {
        None => format!("{}/oauth2/v1/{name}", okta.url()),
        Some(id) => format!("{}/oauth2/{id}/v1/{name}", okta.url()),
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh `(verifier, S256 challenge)` pair.
pub fn pkce(tag: &str) -> (String, String) {
    let verifier = format!("verifier-{tag}-{}", "x".repeat(40));
    let challenge = b64url(&Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

pub fn active_user(okta: &BlockingFakeOkta) -> UserInfo {
    user_with(okta, UserStatus::Active)
}

pub fn user_with(okta: &BlockingFakeOkta, status: UserStatus) -> UserInfo {
    okta.org()
        .users
        .into_iter()
        .find(|u| u.status == status)
        .expect("a user with that status")
}

/// GET authorize with these parameters.
pub fn authorize(okta: &BlockingFakeOkta, server: Option<&str>, q: &[(&str, &str)]) -> Response {
    no_redirects()
        .get(ep(okta, server, "authorize"))
        .query(q)
        .send()
        .expect("authorize")
}

/// The standard authorize parameters for `client_id`, plus `extra`.
pub fn authorize_params<'a>(
    client_id: &'a str,
    state: &'a str,
    nonce: &'a str,
    extra: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut q = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email"),
        ("state", state),
        ("nonce", nonce),
    ];
    q.extend_from_slice(extra);
    q
}

/// The query parameters of a 302's `Location`, which must go to `REDIRECT`.
pub fn redirect_params(resp: &Response) -> HashMap<String, String> {
    assert_eq!(resp.status(), 302, "authorize redirects");
    let loc = resp
        .headers()
        .get("location")
        .expect("location")
        .to_str()
        .expect("ascii");
    let url = url::Url::parse(loc).expect("absolute location");
    assert_eq!(
        format!("{}://{}{}", url.scheme(), url.authority(), url.path()),
        REDIRECT
    );
    url.query_pairs().into_owned().collect()
}

/// Signs `user` in with PKCE (and optionally a confidential client) and
/// returns the code.
pub fn sign_in(
    okta: &BlockingFakeOkta,
    server: Option<&str>,
    client_id: &str,
    login: &str,
    nonce: &str,
    challenge: Option<&str>,
) -> String {
    let mut extra = vec![("login_hint", login)];
    if let Some(c) = challenge {
        extra.push(("code_challenge", c));
        extra.push(("code_challenge_method", "S256"));
    }
    let resp = authorize(
        okta,
        server,
        &authorize_params(client_id, "st-1", nonce, &extra),
    );
    let p = redirect_params(&resp);
    assert_eq!(p.get("state").map(String::as_str), Some("st-1"), "{p:?}");
    p.get("code").expect("code").clone()
}

/// POST the token endpoint with `form`, optionally with HTTP Basic.
pub fn token(
    okta: &BlockingFakeOkta,
    server: Option<&str>,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Response {
    let mut req = no_redirects().post(ep(okta, server, "token")).form(form);
    if let Some((id, secret)) = basic {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let cred = STANDARD.encode(format!("{}:{}", enc(id), enc(secret)));
        req = req.header("Authorization", format!("Basic {cred}"));
    }
    req.send().expect("token")
}

/// Asserts an OAuth error body and returns its description.
pub fn oauth_error(resp: Response, status: u16, error: &str) -> String {
    assert_eq!(resp.status(), status);
    let body: Value = resp.json().expect("oauth error json");
    assert_eq!(body["error"], error, "{body}");
    body["error_description"]
        .as_str()
        .expect("description")
        .to_owned()
}

pub fn jwks(okta: &BlockingFakeOkta, server: Option<&str>) -> Value {
    let resp = no_redirects()
        .get(ep(okta, server, "keys"))
        .send()
        .expect("keys");
    assert_eq!(resp.status(), 200);
    resp.json().expect("jwks json")
}

pub fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].as_str().expect("kid").to_owned())
        .collect()
}

fn part(s: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("json")
}

/// `(header, claims)` without verifying anything.
pub fn decode(jwt: &str) -> (Value, Value) {
    let mut it = jwt.split('.');
    let (h, c) = (it.next().expect("header"), it.next().expect("claims"));
    (part(h), part(c))
}

/// Verifies an RS256 JWT with the JWKS key of its `kid` and returns
/// `(header, claims)`; `Err` says why it does not verify.
pub fn verify(jwt: &str, jwks: &Value) -> Result<(Value, Value), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, s] = parts[..] else {
        return Err("not three parts".into());
    };
    let (header, claims) = (part(h), part(c));
    if header["alg"] != "RS256" {
        return Err(format!("alg {}", header["alg"]));
    }
    let jwk = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .ok_or("unknown kid")?;
    let num = |k: &str| {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwk[k].as_str().expect("jwk member"))
            .expect("base64url");
        BoxedUint::from_be_slice_vartime(&bytes)
    };
    let key = rsa::PublicKey::new(num("n"), num("e")).map_err(|e| e.to_string())?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?;
    key.pkcs1v15_verify::<Sha256>(format!("{h}.{c}").as_bytes(), &sig)
        .map_err(|e| e.to_string())?;
    Ok((header, claims))
}
