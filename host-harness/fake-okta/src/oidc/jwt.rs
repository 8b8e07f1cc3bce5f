//! Compact JWS (RS256) and the claims of Okta's ID and access tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::keys::SigningKey;
use crate::errors::random_token;

/// Unpadded base64url, as JOSE and PKCE use.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `claims` under `header` with `key`, whatever `alg` the header
/// claims, so tests can forge tokens whose header lies. A header without
/// `alg` gets `RS256` and one without `kid` gets the key's.
pub(crate) fn sign(key: &SigningKey, header: &Value, claims: &Value) -> String {
    let mut header = match header {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    header.entry("alg").or_insert_with(|| Value::from("RS256"));
    header
        .entry("kid")
        .or_insert_with(|| Value::from(key.kid.clone()));
    let input = format!(
        "{}.{}",
        b64url(Value::Object(header).to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    // Signing a SHA-256 digest with a 2048-bit key cannot fail; an empty
    // signature would still be caught by any verifier.
    let sig = key
        .private
        .pkcs1v15_sign::<Sha256>(input.as_bytes())
        .unwrap_or_default();
    format!("{input}.{}", b64url(&sig))
}

/// The header Okta puts on its tokens.
pub(crate) fn header(key: &SigningKey) -> Value {
    json!({ "kid": key.kid, "alg": "RS256" })
}

/// OIDC `at_hash`: the left half of the access token's SHA-256.
pub(crate) fn at_hash(access_token: &str) -> String {
    let d = Sha256::digest(access_token.as_bytes());
    b64url(&d[..16])
}

/// Okta's token ids: a prefix, then 43 random characters.
pub(crate) fn jti(prefix: &str) -> String {
    format!("{prefix}.{}", random_token(43))
}
