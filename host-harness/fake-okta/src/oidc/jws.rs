//! Reading and checking compact RS256 JWS sent *to* the fake: client
//! assertions (RFC 7523) and DPoP proofs (RFC 9449).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::BoxedUint;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::jwt::b64url;

/// A compact JWS split and decoded, not yet verified.
pub(crate) struct Jws {
    pub header: Value,
    pub claims: Value,
    signing_input: String,
    signature: Vec<u8>,
}

impl Jws {
    /// `None` unless `token` is three base64url parts, the first two JSON objects.
    pub(crate) fn parse(token: &str) -> Option<Jws> {
        let mut parts = token.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let json = |p: &str| -> Option<Value> {
            let v: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()?;
            v.is_object().then_some(v)
        };
        Some(Jws {
            header: json(h)?,
            claims: json(c)?,
            signing_input: format!("{h}.{c}"),
            signature: URL_SAFE_NO_PAD.decode(s).ok()?,
        })
    }

    /// Whether the header says RS256 and the signature verifies with the
    /// RSA public `jwk`.
    pub(crate) fn verifies_with(&self, jwk: &Value) -> bool {
        if self.header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return false;
        }
        let Some(key) = rsa_public(jwk) else {
            return false;
        };
        key.pkcs1v15_verify::<Sha256>(self.signing_input.as_bytes(), &self.signature)
            .is_ok()
    }

    /// A string claim.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A numeric claim (seconds), as an integer.
    pub(crate) fn secs(&self, name: &str) -> Option<i64> {
        let v = self.claims.get(name)?;
        v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
    }
}

/// The RSA public key of a JWK (`kty` RSA, `n`, `e`).
fn rsa_public(jwk: &Value) -> Option<rsa::PublicKey> {
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return None;
    }
    let num = |k: &str| {
        let bytes = URL_SAFE_NO_PAD.decode(jwk.get(k)?.as_str()?).ok()?;
        Some(BoxedUint::from_be_slice_vartime(&bytes))
    };
    rsa::PublicKey::new(num("n")?, num("e")?).ok()
}

/// RFC 7638 thumbprint of an RSA JWK: what a DPoP-bound token's `cnf.jkt` is.
pub(crate) fn thumbprint(jwk: &Value) -> Option<String> {
    let e = jwk.get("e")?.as_str()?;
    let n = jwk.get("n")?.as_str()?;
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    Some(b64url(&Sha256::digest(canonical.as_bytes())))
}

/// `ath`: base64url SHA-256 of the access token.
pub(crate) fn token_hash(token: &str) -> String {
    b64url(&Sha256::digest(token.as_bytes()))
}
