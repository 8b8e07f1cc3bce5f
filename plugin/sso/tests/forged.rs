//! Every forged or wrong ID token is refused with `InvalidIdToken` naming the
//! failed check; the same token with nothing wrong signs in (so each refusal
//! is due to the one thing changed).
//!
//! Tokens are signed with the fake Okta's own keys (`sign_id_token`) and
//! handed out through a real authorization code, so they pass through the
//! whole token exchange exactly as a compromised or confused Okta would
//! serve them.

mod common;

use common::*;
use plugin_core::{PersonStatus, SyncTarget};
use plugin_sso::SsoError;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Asserts the refusal names `check`, and never quotes the token.
fn refused(result: Result<plugin_sso::SignedIn, SsoError>, token: &str, check: &str) {
    match result {
        Err(SsoError::InvalidIdToken(why)) => {
            assert!(why.contains(check), "expected `{check}` in: {why}");
            assert!(!why.contains(token), "the token leaked");
            let parts: Vec<&str> = token.split('.').collect();
            for p in parts.iter().filter(|p| p.len() > 8) {
                assert!(!why.contains(p), "a token part leaked: {why}");
            }
        }
        other => panic!("expected InvalidIdToken({check}), got {other:?}"),
    }
}

/// Completes a login whose ID token is `make(world, claims)`, where
/// `claims` are correct for this login; returns the result and the token.
fn attempt(
    w: &mut World,
    user: &fake_okta::UserInfo,
    make: impl FnOnce(&World, Value) -> String,
) -> (Result<plugin_sso::SignedIn, SsoError>, String) {
    let mut token = String::new();
    let (result, _code) = w.complete_with(SyncTarget::Users, |w, nonce| {
        token = make(w, w.claims(user, nonce));
        token.clone()
    });
    assert!(
        token.len() < 16 || !w.log.text().contains(&token),
        "the token was logged"
    );
    (result, token)
}

fn signed(w: &World, claims: Value) -> String {
    w.okta.sign_id_token(claims, json!({}))
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > 64 {
        Sha256::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(64, 0);
    let pad = |x: u8| k.iter().map(|b| b ^ x).collect::<Vec<u8>>();
    let mut inner = Sha256::new();
    inner.update(pad(0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(pad(0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

#[test]
fn a_correct_forged_token_signs_in_so_the_checks_below_are_meaningful() {
    let (mut w, user) = World::with_technician();
    let (result, _) = attempt(&mut w, &user, signed);
    assert_eq!(result.expect("accepted").external_id, user.id);
    // `aud` may be a list containing us; `azp` equal to us is fine.
    let (result, _) = attempt(&mut w, &user, |w, mut c| {
        c["aud"] = json!([PUBLIC_ID]);
        c["azp"] = json!(PUBLIC_ID);
        signed(w, c)
    });
    result.expect("aud list of only this client, with azp, accepted");
    // Expired a minute ago, within the two minutes of leeway.
    let (result, _) = attempt(&mut w, &user, |w, mut c| {
        c["exp"] = json!(now_secs() - 60);
        signed(w, c)
    });
    result.expect("within leeway");
}

#[test]
fn alg_none_is_refused() {
    let (mut w, user) = World::with_technician();
    let kid = w.okta.signing_kid(None).unwrap();
    let (result, token) = attempt(&mut w, &user, |_, c| {
        format!(
            "{}.{}.",
            b64json(&json!({"alg": "none", "kid": kid})),
            b64json(&c)
        )
    });
    refused(result, &token, "none");
    // Also when a real RS256 signature is attached to a header claiming none.
    let (result, token) = attempt(&mut w, &user, |w, c| {
        w.okta.sign_id_token(c, json!({"alg": "none"}))
    });
    refused(result, &token, "none");
    let (result, token) = attempt(&mut w, &user, |w, c| {
        w.okta.sign_id_token(c, json!({"alg": "NONE"}))
    });
    refused(result, &token, "only RS256");
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let (mut w, user) = World::with_technician();
    let jwks: Value = reqwest::blocking::get(format!("{}/oauth2/v1/keys", w.okta.url()))
        .unwrap()
        .json()
        .unwrap();
    let jwk = jwks["keys"][0].clone();
    let n = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        jwk["n"].as_str().unwrap(),
    )
    .unwrap();
    // The classic confusion: the verifier's public key material as the MAC key.
    for key in [serde_json::to_vec(&jwk).unwrap(), n] {
        let kid = jwk["kid"].clone();
        let (result, token) = attempt(&mut w, &user, |_, c| {
            let input = format!(
                "{}.{}",
                b64json(&json!({"alg": "HS256", "kid": kid, "typ": "JWT"})),
                b64json(&c)
            );
            let mac = hmac_sha256(&key, input.as_bytes());
            format!("{input}.{}", b64url(&mac))
        });
        refused(result, &token, "HS256");
    }
}

#[test]
fn a_tampered_payload_is_refused() {
    let (mut w, user) = World::with_technician();
    let other = w.active(1);
    w.link(
        &other,
        SyncTarget::Users,
        &["Administrator"],
        PersonStatus::Active,
    );
    let (result, token) = attempt(&mut w, &user, |w, c| {
        let genuine = signed(w, c.clone());
        let mut evil = c;
        evil["sub"] = json!(other.id);
        let parts: Vec<&str> = genuine.split('.').collect();
        format!("{}.{}.{}", parts[0], b64json(&evil), parts[2])
    });
    refused(result, &token, "signature");
    // A flipped signature byte as well.
    let (result, token) = attempt(&mut w, &user, |w, c| {
        let genuine = signed(w, c);
        let (rest, sig) = genuine.rsplit_once('.').unwrap();
        let mut sig =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig).unwrap();
        sig[10] ^= 1;
        format!("{rest}.{}", b64url(&sig))
    });
    refused(result, &token, "signature");
}

#[test]
fn a_wrong_issuer_is_refused() {
    let (mut w, user) = World::with_technician();
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["iss"] = json!("https://evil.example.com");
        signed(w, c)
    });
    refused(result, &token, "issued by");
    // A genuine token of another authorization server of the same org: its
    // key is not among the org server's.
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["iss"] = json!(w.okta.issuer(Some("default")));
        signed(w, c)
    });
    refused(result, &token, "kid");
}

#[test]
fn a_wrong_audience_is_refused() {
    let (mut w, user) = World::with_technician();
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["aud"] = json!("0oasomeoneelse00000");
        signed(w, c)
    });
    refused(result, &token, "aud");
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["aud"] = json!(["0oasomeoneelse00000"]);
        signed(w, c)
    });
    refused(result, &token, "aud");
    // Core §3.1.3.7 step 3: an audience this client does not trust is
    // refused, with or without an `azp` naming us.
    for azp in [None, Some(PUBLIC_ID)] {
        let (result, token) = attempt(&mut w, &user, |w, mut c| {
            c["aud"] = json!([PUBLIC_ID, "0oasomeoneelse00000"]);
            if let Some(azp) = azp {
                c["azp"] = json!(azp);
            }
            signed(w, c)
        });
        refused(result, &token, "another audience");
    }
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["azp"] = json!("0oasomeoneelse00000");
        signed(w, c)
    });
    refused(result, &token, "azp");
}

#[test]
fn a_wrong_or_missing_nonce_is_refused() {
    let (mut w, user) = World::with_technician();
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["nonce"] = json!("a-nonce-of-another-login");
        signed(w, c)
    });
    refused(result, &token, "nonce");
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c.as_object_mut().unwrap().remove("nonce");
        signed(w, c)
    });
    refused(result, &token, "nonce");
}

#[test]
fn expired_and_future_tokens_are_refused() {
    let (mut w, user) = World::with_technician();
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["iat"] = json!(now_secs() - 4200);
        c["exp"] = json!(now_secs() - 600);
        signed(w, c)
    });
    refused(result, &token, "expired");
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c["iat"] = json!(now_secs() + 600);
        c["exp"] = json!(now_secs() + 4200);
        signed(w, c)
    });
    refused(result, &token, "future");
    let (result, token) = attempt(&mut w, &user, |w, mut c| {
        c.as_object_mut().unwrap().remove("exp");
        signed(w, c)
    });
    refused(result, &token, "exp");
}

#[test]
fn an_unknown_kid_is_refused_after_one_refetch() {
    let (mut w, user) = World::with_technician();
    // Cache the keys with a good sign-in first.
    w.sign_in(SyncTarget::Users, &user.login)
        .expect("signed in");
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 1);
    let (result, token) = attempt(&mut w, &user, |w, c| {
        w.okta
            .sign_id_token(c, json!({"alg": "RS256", "kid": "a-key-okta-never-had"}))
    });
    refused(result, &token, "kid");
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 2, "exactly one refetch");
}

#[test]
fn garbage_is_refused() {
    let (mut w, user) = World::with_technician();
    for junk in ["", "a.b", "not.a.jwt", "a.b.c.d.e"] {
        let (result, _) = attempt(&mut w, &user, |_, _| junk.to_owned());
        match result {
            Err(SsoError::InvalidIdToken(why)) => assert!(why.contains("malformed"), "{why}"),
            // An empty id_token is not an ID token at all.
            Err(SsoError::TokenExchange(_)) if junk.is_empty() => {}
            other => panic!("{junk:?}: {other:?}"),
        }
    }
}
