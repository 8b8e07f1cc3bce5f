//! The JWTs the plugin writes: the `private_key_jwt` client assertion
//! (RFC 7523 §3) and the DPoP proof (RFC 9449 §4.2). Only the signature
//! comes from the host ([`super::Signer`]); the rest is built and tested here.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{KeyPurpose, PublicKey, SignError, Signer};

/// How long a client assertion is valid: Okta allows up to an hour; a few
/// minutes covers clock skew and a slow token request.
pub const ASSERTION_LIFETIME_SECS: u64 = 300;

/// Unpadded base64url, as JOSE uses.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A fresh, unguessable JWT id (128 random bits); the clock alone would
/// repeat across instances started in the same millisecond.
pub fn new_jti() -> Result<String, SignError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| SignError::Unavailable(format!("no randomness for a JWT id: {e}")))?;
    Ok(b64url(&bytes))
}

/// `header.claims` as JWS signing input.
fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

fn signed(
    signer: &dyn Signer,
    config: &str,
    key: &PublicKey,
    input: String,
) -> Result<String, SignError> {
    let sig = signer.sign(config, &key.kid, input.as_bytes())?;
    Ok(format!("{input}.{}", b64url(&sig)))
}

/// The claims of a client assertion for `client_id` at `token_url`.
pub fn assertion_claims(client_id: &str, token_url: &str, now_secs: u64, jti: &str) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": now_secs,
        "exp": now_secs + ASSERTION_LIFETIME_SECS,
        "jti": jti,
    })
}

/// A signed client assertion: RS256 under the config's current
/// client-assertion key, named by `kid` so Okta picks the right JWK.
pub fn client_assertion(
    signer: &dyn Signer,
    config: &str,
    client_id: &str,
    token_url: &str,
    now_secs: u64,
) -> Result<String, SignError> {
    let key = signer.public_key(config, KeyPurpose::ClientAssertion)?;
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": key.kid});
    let claims = assertion_claims(client_id, token_url, now_secs, &new_jti()?);
    signed(signer, config, &key, signing_input(&header, &claims))
}

/// `htu`: the request URL without query and fragment, its path decoded as
/// Okta compares it.
pub fn htu(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    percent_decode(&url[..end])
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// `ath`: base64url SHA-256 of the access token.
pub fn ath(access_token: &str) -> String {
    b64url(&Sha256::digest(access_token.as_bytes()))
}

/// The claims of a DPoP proof.
pub fn proof_claims(
    method: &str,
    url: &str,
    now_secs: u64,
    jti: &str,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Value {
    let mut claims = json!({"htm": method, "htu": htu(url), "iat": now_secs, "jti": jti});
    if let Some(n) = nonce {
        claims["nonce"] = n.into();
    }
    if let Some(t) = access_token {
        claims["ath"] = ath(t).into();
    }
    claims
}

/// A signed DPoP proof for one request, under the config's DPoP key, whose
/// public JWK rides in the header (RFC 9449 §4.2).
pub fn dpop_proof(
    signer: &dyn Signer,
    config: &str,
    method: &str,
    url: &str,
    now_secs: u64,
    nonce: Option<&str>,
    access_token: Option<&str>,
) -> Result<String, SignError> {
    let key = signer.public_key(config, KeyPurpose::Dpop)?;
    let jwk = public_members(&key.jwk);
    let header = json!({"typ": "dpop+jwt", "alg": "RS256", "jwk": jwk});
    let claims = proof_claims(method, url, now_secs, &new_jti()?, nonce, access_token);
    signed(signer, config, &key, signing_input(&header, &claims))
}

/// Only the public members of an RSA JWK: whatever the host returned, no
/// private member may ride in a header.
fn public_members(jwk: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in ["kty", "n", "e", "kid", "alg", "use"] {
        if let Some(v) = jwk.get(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_drops_the_query_and_decodes_the_path() {
        assert_eq!(
            htu("https://a.okta.com/api/v1/users/a%40b.com?limit=1#x"),
            "https://a.okta.com/api/v1/users/a@b.com"
        );
        assert_eq!(htu("https://a.okta.com/x%2"), "https://a.okta.com/x%2");
    }

    #[test]
    fn assertion_claims_follow_rfc_7523() {
        let c = assertion_claims("0oa1", "https://a.okta.com/oauth2/v1/token", 1000, "j");
        assert_eq!(c["iss"], "0oa1");
        assert_eq!(c["sub"], "0oa1");
        assert_eq!(c["aud"], "https://a.okta.com/oauth2/v1/token");
        assert_eq!(c["exp"], 1000 + ASSERTION_LIFETIME_SECS);
        assert_eq!(c["jti"], "j");
    }

    #[test]
    fn jtis_do_not_repeat() {
        let a: std::collections::HashSet<String> =
            (0..1000).map(|_| new_jti().expect("random")).collect();
        assert_eq!(a.len(), 1000);
    }

    #[test]
    fn public_members_drop_private_ones() {
        let jwk = json!({"kty": "RSA", "n": "n", "e": "AQAB", "d": "secret", "p": "x"});
        assert_eq!(
            public_members(&jwk),
            json!({"kty": "RSA", "n": "n", "e": "AQAB"})
        );
    }
}
