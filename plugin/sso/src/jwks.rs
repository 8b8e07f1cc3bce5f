//! The authorization server's signing keys (JWKS): RSA public keys built from
//! `n` and `e`, looked up by `kid`, cached, and refetched once when a token
//! names a `kid` the cache lacks (Okta rotates keys).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use plugin_core::Host;
use rsa::{BoxedUint, PublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::discovery::{Discovery, get_json};
use crate::settings::jwks_key;
use crate::{SsoError, store_err};

/// How long fetched keys are used before the JWKS is fetched again, even
/// without an unknown `kid`: so that a key Okta revoked stops verifying.
pub const JWKS_TTL_MS: u64 = 24 * 60 * 60 * 1000;

/// Smallest RSA modulus accepted; Okta signs with 2048-bit keys.
const MIN_MODULUS_BITS: usize = 2048;
const MAX_MODULUS_BITS: usize = 8192;

/// One RSA signing key of the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key id; `None` when the server gave none.
    pub kid: Option<String>,
    /// Modulus, base64url.
    pub n: String,
    /// Public exponent, base64url.
    pub e: String,
}

/// The keys as cached under `state/<config>/sso-jwks`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySet {
    /// Where they came from; a changed `jwks_uri` invalidates them.
    pub jwks_uri: String,
    /// When they were fetched (Unix ms).
    pub fetched_at_ms: u64,
    /// The usable keys.
    pub keys: Vec<Jwk>,
}

impl KeySet {
    /// The key a token's `kid` names. Without a `kid`, only a set with a
    /// single key says which key is meant.
    pub fn find(&self, kid: Option<&str>) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }
}

/// The RSA signing keys of a JWKS document; keys for encryption or for
/// other algorithms are skipped, since only RS256 signatures are checked.
pub fn parse_jwks(doc: &Value) -> Vec<Jwk> {
    let Some(keys) = doc.get("keys").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |k: &Value, name: &str| k.get(name).and_then(Value::as_str).map(str::to_owned);
    keys.iter()
        .filter(|k| text(k, "kty").as_deref() == Some("RSA"))
        .filter(|k| text(k, "use").is_none_or(|u| u == "sig"))
        .filter(|k| text(k, "alg").is_none_or(|a| a == "RS256"))
        .filter_map(|k| {
            Some(Jwk {
                kid: text(k, "kid"),
                n: text(k, "n")?,
                e: text(k, "e")?,
            })
        })
        .collect()
}

/// The RSA public key of a JWK; `Err` says what is wrong with it.
pub fn public_key(jwk: &Jwk) -> Result<PublicKey, String> {
    let num = |name: &str, b64: &str| {
        URL_SAFE_NO_PAD
            .decode(b64)
            .map(|bytes| BoxedUint::from_be_slice_vartime(&bytes))
            .map_err(|_| format!("its `{name}` is not base64url"))
    };
    let n = num("n", &jwk.n)?;
    let e = num("e", &jwk.e)?;
    PublicKey::new_with_size_limits(n, e, MIN_MODULUS_BITS..=MAX_MODULUS_BITS)
        .map_err(|e| format!("it is not a usable RSA key ({e})"))
}

/// The key to verify a token whose header names `kid`: from the cache when
/// it has it, else after one fetch of the JWKS.
pub(crate) fn key_for(
    host: &mut Host,
    config: &str,
    disc: &Discovery,
    kid: Option<&str>,
) -> Result<PublicKey, SsoError> {
    let now = host.clock.now_unix_ms();
    let cached = host
        .storage
        .get(&jwks_key(config))
        .map_err(store_err)?
        .and_then(|b| serde_json::from_slice::<KeySet>(&b).ok())
        .filter(|s| {
            s.jwks_uri == disc.jwks_uri && now.saturating_sub(s.fetched_at_ms) < JWKS_TTL_MS
        });
    if let Some(jwk) = cached.as_ref().and_then(|s| s.find(kid)) {
        return to_key(jwk);
    }
    // Unknown kid (or no fresh cache): one fetch, whatever the token claims,
    // so a stream of forged kids costs one request per login, no more.
    let fetched = fetch(host, config, disc, now)?;
    match fetched.find(kid) {
        Some(jwk) => to_key(jwk),
        None if kid.is_none() => Err(SsoError::InvalidIdToken(
            "names no signing key (`kid`) and Okta publishes several".into(),
        )),
        None => Err(SsoError::InvalidIdToken(
            "is signed with a key (`kid`) Okta does not publish".into(),
        )),
    }
}

fn to_key(jwk: &Jwk) -> Result<PublicKey, SsoError> {
    public_key(jwk).map_err(|why| {
        SsoError::InvalidIdToken(format!("names a signing key Okta serves, but {why}"))
    })
}

fn fetch(host: &mut Host, config: &str, disc: &Discovery, now: u64) -> Result<KeySet, SsoError> {
    let doc = get_json(host.http, &disc.jwks_uri).map_err(SsoError::Okta)?;
    let set = KeySet {
        jwks_uri: disc.jwks_uri.clone(),
        fetched_at_ms: now,
        keys: parse_jwks(&doc),
    };
    let json = serde_json::to_vec(&set).map_err(|e| SsoError::Other(e.to_string()))?;
    host.storage
        .set(&jwks_key(config), &json)
        .map_err(store_err)?;
    Ok(set)
}
