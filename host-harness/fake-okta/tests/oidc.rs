//! The OpenID Connect endpoints: discovery, authorize → token with PKCE or a
//! client secret, ID tokens that verify against the JWKS, OAuth errors, key
//! rotation, userinfo, and the forging knobs.

mod common;

use common::oidc::*;
use common::{header, okta_error, start};
use fake_okta::UserStatus;
use serde_json::{Value, json};

fn discovery(url: &str) -> Value {
    let resp = no_redirects().get(url).send().expect("discovery");
    assert_eq!(resp.status(), 200, "{url}");
    for h in [
        "x-rate-limit-limit",
        "x-rate-limit-remaining",
        "x-okta-request-id",
    ] {
        assert!(resp.headers().contains_key(h), "{h} on {url}");
    }
    resp.json().expect("json")
}

#[test]
fn discovery_for_org_and_custom_servers() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let url = okta.url();
    let org = discovery(&format!("{url}/.well-known/openid-configuration"));
    assert_eq!(org["issuer"], url);
    assert_eq!(okta.issuer(None), url);
    assert_eq!(
        org["authorization_endpoint"],
        format!("{url}/oauth2/v1/authorize")
    );
    assert_eq!(org["token_endpoint"], format!("{url}/oauth2/v1/token"));
    assert_eq!(org["jwks_uri"], format!("{url}/oauth2/v1/keys"));
    assert_eq!(
        org["userinfo_endpoint"],
        format!("{url}/oauth2/v1/userinfo")
    );
    assert_eq!(
        org["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(org["code_challenge_methods_supported"], json!(["S256"]));
    assert!(
        org["response_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("code"))
    );
    assert!(
        org["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("openid"))
    );

    let issuer = format!("{url}/oauth2/default");
    let custom = discovery(&format!("{issuer}/.well-known/openid-configuration"));
    assert_eq!(custom["issuer"], issuer);
    assert_eq!(okta.issuer(Some("default")), issuer);
    assert_eq!(
        custom["authorization_endpoint"],
        format!("{issuer}/v1/authorize")
    );
    assert_eq!(custom["token_endpoint"], format!("{issuer}/v1/token"));
    assert_eq!(custom["jwks_uri"], format!("{issuer}/v1/keys"));
    assert_eq!(custom["userinfo_endpoint"], format!("{issuer}/v1/userinfo"));
    assert_eq!(
        custom["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let oauth = discovery(&format!("{issuer}/.well-known/oauth-authorization-server"));
    assert_eq!(oauth["issuer"], issuer);
    assert!(oauth.get("userinfo_endpoint").is_none());

    // A known client_id is fine; an unknown one is Okta's 400.
    let ok = format!("{issuer}/.well-known/openid-configuration?client_id={PUBLIC_ID}");
    discovery(&ok);
    let bad = no_redirects()
        .get(format!(
            "{url}/.well-known/openid-configuration?client_id=nope"
        ))
        .send()
        .unwrap();
    okta_error(bad, 400, "invalid_client");

    // Servers that do not exist until added.
    let missing = no_redirects()
        .get(format!(
            "{url}/oauth2/aus1/.well-known/openid-configuration"
        ))
        .send()
        .unwrap();
    okta_error(missing, 404, "E0000007");
    assert_eq!(
        okta.add_authorization_server("aus1"),
        format!("{url}/oauth2/aus1")
    );
    let added = discovery(&format!(
        "{url}/oauth2/aus1/.well-known/openid-configuration"
    ));
    assert_eq!(added["issuer"], format!("{url}/oauth2/aus1"));
}

#[test]
fn public_client_with_pkce_on_the_org_server() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let user = active_user(&okta);
    let (verifier, challenge) = pkce("public");
    let code = sign_in(
        &okta,
        None,
        PUBLIC_ID,
        &user.login,
        "n-0S6",
        Some(&challenge),
    );
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", &verifier),
        ("client_id", PUBLIC_ID),
    ];
    let resp = token(&okta, None, &form, None);
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "cache-control"), "no-store");
    assert!(resp.headers().contains_key("x-okta-request-id"));
    let body: Value = resp.json().unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "openid profile email");
    let id_token = body["id_token"].as_str().unwrap();
    let (head, claims) = verify(id_token, &jwks(&okta, None)).expect("ID token verifies");
    assert_eq!(head["alg"], "RS256");
    assert_eq!(
        Some(head["kid"].as_str().unwrap().to_owned()),
        okta.signing_kid(None)
    );
    assert_eq!(claims["iss"], okta.url());
    assert_eq!(claims["aud"], PUBLIC_ID);
    assert_eq!(claims["sub"], user.id);
    assert_eq!(claims["nonce"], "n-0S6");
    assert_eq!(claims["preferred_username"], user.login);
    assert_eq!(claims["email"], user.login);
    assert_eq!(claims["ver"], 1);
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(claims["idp"].as_str().unwrap().starts_with("00o"));
    assert!(claims["jti"].as_str().unwrap().starts_with("ID."));
    assert!(!claims["name"].as_str().unwrap().is_empty());
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap(), iat + 3600);
    assert!(claims["auth_time"].as_i64().unwrap() <= iat);
    let access = body["access_token"].as_str().unwrap();
    let at_hash = b64url(&sha2::Sha256::digest(access.as_bytes())[..16]);
    assert_eq!(claims["at_hash"], at_hash);

    // Userinfo with the access token; not with anything else.
    let info: Value = no_redirects()
        .get(ep(&okta, None, "userinfo"))
        .bearer_auth(access)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info["sub"], user.id);
    assert_eq!(info["email"], user.login);
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["preferred_username"], user.login);
    let denied = no_redirects()
        .get(ep(&okta, None, "userinfo"))
        .bearer_auth("not-a-token")
        .send()
        .unwrap();
    assert_eq!(denied.status(), 401);
    assert!(header(&denied, "www-authenticate").contains("invalid_token"));

    // The code was single-use.
    let again = token(&okta, None, &form, None);
    oauth_error(again, 400, "invalid_grant");
}

use sha2::Digest as _;

#[test]
fn confidential_client_on_the_default_server() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let user = active_user(&okta);
    let server = Some("default");
    let issuer = okta.issuer(server);
    let custom_keys = jwks(&okta, server);
    // Each server signs with its own keys, as in Okta.
    let org_kids = kids(&jwks(&okta, None));
    assert!(kids(&custom_keys).iter().all(|k| !org_kids.contains(k)));

    // client_secret_basic, no PKCE.
    let code = sign_in(&okta, server, CONFIDENTIAL_ID, &user.login, "nonce-b", None);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let resp = token(&okta, server, &form, Some((CONFIDENTIAL_ID, SECRET)));
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().unwrap();
    let (_, claims) = verify(body["id_token"].as_str().unwrap(), &custom_keys).expect("verifies");
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], CONFIDENTIAL_ID);
    assert_eq!(claims["nonce"], "nonce-b");
    assert_eq!(claims["sub"], user.id);
    assert!(verify(body["id_token"].as_str().unwrap(), &jwks(&okta, None)).is_err());
    let (_, at) =
        verify(body["access_token"].as_str().unwrap(), &custom_keys).expect("AT verifies");
    assert_eq!(at["aud"], "api://default");
    assert_eq!(at["cid"], CONFIDENTIAL_ID);
    assert_eq!(at["uid"], user.id);

    // Userinfo answers only at the server that issued the token.
    let access = body["access_token"].as_str().unwrap();
    let info = no_redirects()
        .get(ep(&okta, server, "userinfo"))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(info.status(), 200);
    assert_eq!(info.json::<Value>().unwrap()["sub"], user.id);
    let elsewhere = no_redirects()
        .post(ep(&okta, None, "userinfo"))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(elsewhere.status(), 401);

    // client_secret_post, with PKCE as well.
    let (verifier, challenge) = pkce("post");
    let code = sign_in(
        &okta,
        server,
        CONFIDENTIAL_ID,
        &user.id,
        "nonce-p",
        Some(&challenge),
    );
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
        ("client_id", CONFIDENTIAL_ID),
        ("client_secret", SECRET),
    ];
    let resp = token(&okta, server, &form, None);
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().unwrap();
    let (_, claims) = verify(body["id_token"].as_str().unwrap(), &custom_keys).expect("verifies");
    assert_eq!(claims["nonce"], "nonce-p");
}

#[test]
fn token_errors_are_oauth_errors() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let user = active_user(&okta);
    let (verifier, challenge) = pkce("err");
    let public = |code: &str, verifier: &str, redirect: &str| {
        token(
            &okta,
            None,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect),
                ("code_verifier", verifier),
                ("client_id", PUBLIC_ID),
            ],
            None,
        )
    };
    let fresh = || sign_in(&okta, None, PUBLIC_ID, &user.login, "n", Some(&challenge));

    // Wrong verifier: refused, and the code is spent.
    let code = fresh();
    let (other, _) = pkce("someone-else");
    let d = oauth_error(public(&code, &other, REDIRECT), 400, "invalid_grant");
    assert!(d.contains("PKCE"), "{d}");
    oauth_error(public(&code, &verifier, REDIRECT), 400, "invalid_grant");

    // Wrong redirect_uri.
    let code = fresh();
    oauth_error(
        public(&code, &verifier, "http://127.0.0.1:9/other"),
        400,
        "invalid_grant",
    );

    // Missing verifier for a PKCE code.
    let code = fresh();
    let resp = token(
        &okta,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", PUBLIC_ID),
        ],
        None,
    );
    oauth_error(resp, 400, "invalid_request");

    // Expired code.
    let code = fresh();
    okta.expire_authorization_codes();
    oauth_error(public(&code, &verifier, REDIRECT), 400, "invalid_grant");

    // A code from the org server is unknown to the default server.
    let code = fresh();
    let resp = token(
        &okta,
        Some("default"),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", PUBLIC_ID),
        ],
        None,
    );
    oauth_error(resp, 400, "invalid_grant");

    // Confidential client: wrong or missing secret, unknown client, no client.
    let code = sign_in(&okta, None, CONFIDENTIAL_ID, &user.login, "n", None);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let wrong = token(&okta, None, &form, Some((CONFIDENTIAL_ID, "wrong")));
    assert_eq!(wrong.status(), 401);
    assert!(header(&wrong, "www-authenticate").starts_with("Basic"));
    oauth_error(wrong, 401, "invalid_client");
    let mut only_id = form.to_vec();
    only_id.push(("client_id", CONFIDENTIAL_ID));
    oauth_error(token(&okta, None, &only_id, None), 401, "invalid_client");
    oauth_error(
        token(&okta, None, &form, Some(("nobody", "x"))),
        401,
        "invalid_client",
    );
    oauth_error(token(&okta, None, &form, None), 401, "invalid_client");
    // Both Basic and a body secret.
    let mut both = form.to_vec();
    both.push(("client_secret", SECRET));
    let resp = token(&okta, None, &both, Some((CONFIDENTIAL_ID, SECRET)));
    oauth_error(resp, 400, "invalid_request");
    // None of the refusals above spent the code.
    let ok = token(&okta, None, &form, Some((CONFIDENTIAL_ID, SECRET)));
    assert_eq!(ok.status(), 200);

    // Grant types other than authorization_code.
    let resp = token(
        &okta,
        None,
        &[("grant_type", "password"), ("client_id", PUBLIC_ID)],
        None,
    );
    oauth_error(resp, 400, "unsupported_grant_type");
}

#[test]
fn authorize_refusals() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let user = active_user(&okta);
    let (_, challenge) = pkce("authz");
    let pkce_q = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];

    // Untrusted client or redirect URI: an error page, never a redirect.
    let mut q = authorize_params("nope", "s", "n", &[("login_hint", &user.login)]);
    let resp = authorize(&okta, None, &q);
    assert_eq!(resp.status(), 400);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    q = authorize_params(PUBLIC_ID, "s", "n", &[("login_hint", &user.login)]);
    q[2] = ("redirect_uri", "http://evil.invalid/cb");
    assert_eq!(authorize(&okta, None, &q).status(), 400);

    let error_of = |extra: &[(&str, &str)], replace: Option<(&str, &str)>| {
        let mut q = authorize_params(PUBLIC_ID, "st", "n", extra);
        if let Some((k, v)) = replace {
            q.retain(|(name, _)| *name != k);
            if !v.is_empty() {
                q.push((k, v));
            }
        }
        let p = redirect_params(&authorize(&okta, None, &q));
        assert!(!p.contains_key("code"), "{p:?}");
        p["error"].clone()
    };
    let hint = ("login_hint", user.login.as_str());
    // A public client must use PKCE, and only S256.
    assert_eq!(error_of(&[hint], None), "invalid_request");
    let plain = [
        hint,
        ("code_challenge", &challenge),
        ("code_challenge_method", "plain"),
    ];
    assert_eq!(error_of(&plain, None), "invalid_request");
    let with_pkce = [hint, pkce_q[0], pkce_q[1]];
    assert_eq!(
        error_of(&with_pkce, Some(("scope", "profile"))),
        "invalid_scope"
    );
    assert_eq!(
        error_of(&with_pkce, Some(("scope", "openid bogus"))),
        "invalid_scope"
    );
    assert_eq!(
        error_of(&with_pkce, Some(("response_type", "token"))),
        "unsupported_response_type"
    );

    // Users who are not ACTIVE are refused, with the state echoed.
    for status in [
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
        UserStatus::Staged,
    ] {
        let u = user_with(&okta, status);
        let q = authorize_params(
            PUBLIC_ID,
            "st-x",
            "n",
            &[("login_hint", &u.login), pkce_q[0], pkce_q[1]],
        );
        let p = redirect_params(&authorize(&okta, None, &q));
        assert_eq!(p["error"], "access_denied", "{status}");
        assert_eq!(p["state"], "st-x");
    }

    // Deactivated between sign-in and redemption.
    let (verifier, challenge) = pkce("late");
    let code = sign_in(&okta, None, PUBLIC_ID, &user.login, "n", Some(&challenge));
    okta.set_user_status(&user.id, UserStatus::Deprovisioned)
        .unwrap();
    let resp = token(
        &okta,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", PUBLIC_ID),
        ],
        None,
    );
    oauth_error(resp, 400, "invalid_grant");
}

/// The `value`s of `<input type="hidden">` and the first user button of
/// the sign-in page, as a browser would submit them.
fn pick_first_user(page: &str) -> Vec<(String, String)> {
    let form = page
        .split("<form id=\"pick-user\"")
        .nth(1)
        .expect("pick-user form");
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&amp;", "&")
                .replace("&quot;", "\""),
        )
    };
    let mut fields = Vec::new();
    for tag in form
        .split('<')
        .filter(|t| t.starts_with("input type=\"hidden\""))
    {
        fields.push((attr(tag, "name").unwrap(), attr(tag, "value").unwrap()));
    }
    let button = form
        .split('<')
        .find(|t| t.starts_with("button"))
        .expect("a user button");
    fields.push(("login_hint".into(), attr(button, "value").unwrap()));
    fields
}

#[test]
fn sign_in_page_lists_users_to_pick() {
    let okta = start(30, 2, 1);
    register_clients(&okta);
    let (_, challenge) = pkce("page");
    let q = authorize_params(
        PUBLIC_ID,
        "st-page",
        "n",
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let resp = authorize(&okta, None, &q);
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("text/html"));
    let page = resp.text().unwrap();
    assert!(page.contains("<form id=\"sign-in\" method=\"get\" action=\"/oauth2/v1/authorize\">"));
    assert!(page.contains("SUSPENDED") || page.contains("DEPROVISIONED"));
    let fields = pick_first_user(&page);
    let picked = fields.last().unwrap().1.clone();
    let resp = no_redirects()
        .get(ep(&okta, None, "authorize"))
        .query(&fields)
        .send()
        .unwrap();
    let p = redirect_params(&resp);
    assert_eq!(p["state"], "st-page");
    assert!(p.contains_key("code"), "{p:?} for {picked}");

    // An unknown login shows the page again with a notice.
    let mut q = q.clone();
    q.push(("login_hint", "nobody@example.com"));
    let again = authorize(&okta, None, &q);
    assert_eq!(again.status(), 200);
    assert!(again.text().unwrap().contains("id=\"notice\""));
}

#[test]
fn rotation_publishes_the_new_kid() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let user = active_user(&okta);
    let old = okta.signing_kid(None).expect("org server");
    assert_eq!(kids(&jwks(&okta, None)), vec![old.clone()]);
    let kty = &jwks(&okta, None)["keys"][0];
    assert_eq!(
        (
            kty["kty"].as_str(),
            kty["alg"].as_str(),
            kty["use"].as_str()
        ),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert_eq!(kty["e"], "AQAB");
    assert_eq!(kty["n"].as_str().unwrap().len(), 342, "2048-bit modulus");

    okta.rotate_signing_key();
    let new = okta.signing_kid(None).unwrap();
    assert_ne!(new, old);
    let published = kids(&jwks(&okta, None));
    assert!(published.contains(&old) && published.contains(&new));
    let (verifier, challenge) = pkce("rot");
    let code = sign_in(&okta, None, PUBLIC_ID, &user.login, "n", Some(&challenge));
    let body: Value = token(
        &okta,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", PUBLIC_ID),
        ],
        None,
    )
    .json()
    .unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    let (head, _) = verify(id_token, &jwks(&okta, None)).expect("verifies after rotation");
    assert_eq!(head["kid"], new);

    okta.retire_old_signing_keys();
    assert_eq!(kids(&jwks(&okta, None)), vec![new]);
    // Same seed, same keys: another fake publishes the first kid.
    let twin = start(20, 2, 1);
    assert_eq!(twin.signing_kid(None), Some(old));
}

#[test]
fn forged_tokens_come_back_from_the_token_endpoint() {
    let okta = start(20, 2, 1);
    register_clients(&okta);
    let claims = json!({
        "iss": okta.issuer(Some("default")),
        "aud": PUBLIC_ID,
        "sub": "00uforged",
        "nonce": "n",
        "iat": 1,
        "exp": 2,
    });
    // Signed with the default server's key (chosen by iss), header as given.
    let forged = okta.sign_id_token(
        claims.clone(),
        json!({ "kid": "unknown-kid", "typ": "JWT" }),
    );
    let (head, body) = decode(&forged);
    assert_eq!(head["kid"], "unknown-kid");
    assert_eq!(head["alg"], "RS256");
    assert_eq!(body, claims);
    assert_eq!(
        verify(&forged, &jwks(&okta, Some("default"))),
        Err("unknown kid".into())
    );
    let honest = okta.sign_id_token(claims.clone(), json!({}));
    verify(&honest, &jwks(&okta, Some("default"))).expect("current key of default");
    // The verifier is not vacuous: a changed payload no longer verifies.
    let mut parts: Vec<String> = honest.split('.').map(str::to_owned).collect();
    parts[1] = b64url(json!({ "sub": "00uother" }).to_string().as_bytes());
    assert!(verify(&parts.join("."), &jwks(&okta, Some("default"))).is_err());

    let (verifier, challenge) = pkce("forge");
    let code = okta.issue_code_with_id_token(PUBLIC_ID, REDIRECT, forged.clone(), Some(challenge));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", PUBLIC_ID),
    ];
    let mut with_verifier = form.to_vec();
    with_verifier.push(("code_verifier", verifier.as_str()));
    let resp = token(&okta, Some("default"), &with_verifier, None);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().unwrap()["id_token"], forged);

    let code = okta.issue_code_with_id_token(PUBLIC_ID, REDIRECT, "a.b.c".into(), None);
    let mut with_code = form.to_vec();
    with_code[1] = ("code", code.as_str());
    let resp = token(&okta, None, &with_code, None);
    assert_eq!(resp.json::<Value>().unwrap()["id_token"], "a.b.c");
}

#[test]
fn oidc_endpoints_take_no_api_token_but_share_the_gate() {
    let okta = start(20, 2, 1);
    okta.set_rate_limit(2);
    let url = format!("{}/oauth2/v1/keys", okta.url());
    let get = || no_redirects().get(&url).send().unwrap();
    assert_eq!(get().status(), 200);
    let second = get();
    assert_eq!(header(&second, "x-rate-limit-remaining"), "0");
    okta_error(get(), 429, "E0000047");
}
