//! The authorization server's signing keys (JWKS): RSA public keys built from
//! `n` and `e`, looked up by `kid`, cached for as long as the JWKS answer's
//! `Cache-Control` allows, and refetched once when a token names a `kid`
//! the cache lacks (providers rotate keys). A key the provider withdrew
//! stops verifying as soon as the cached set is older than allowed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use plugin_core::Host;
use rsa::{BoxedUint, PublicKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::discovery::{Discovery, get_json_with};
use crate::settings::jwks_key;
use crate::{SsoError, store_err};

/// The longest fetched keys are used, whatever `Cache-Control` allows.
pub const JWKS_MAX_TTL_MS: u64 = 24 * 60 * 60 * 1000;

/// How long keys are used when the answer says nothing about caching:
/// short, since a withdrawn key verifies until then.
pub const JWKS_DEFAULT_TTL_MS: u64 = 5 * 60 * 1000;

/// How long a JWKS answer with this `Cache-Control` may be used (RFC 9111
/// §5.2.2): `no-store` and `no-cache` not at all, `max-age` for that
/// long (at most [`JWKS_MAX_TTL_MS`]), nothing said [`JWKS_DEFAULT_TTL_MS`].
pub fn ttl_ms(cache_control: Option<&str>) -> u64 {
    let Some(value) = cache_control else {
        return JWKS_DEFAULT_TTL_MS;
    };
    let mut max_age = None;
    for directive in value.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        if directive == "no-store" || directive == "no-cache" {
            return 0;
        }
        if let Some(n) = directive.strip_prefix("max-age=") {
            max_age = Some(n.trim_matches('"').parse::<u64>().unwrap_or(0));
        }
    }
    match max_age {
        Some(secs) => secs.saturating_mul(1000).min(JWKS_MAX_TTL_MS),
        None => JWKS_DEFAULT_TTL_MS,
    }
}

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
    /// Until when they may be used (Unix ms), from the answer's
    /// `Cache-Control`; a set cached before this field existed has 0, so
    /// it is refetched.
    #[serde(default)]
    pub expires_at_ms: u64,
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
        .filter(|s| s.jwks_uri == disc.jwks_uri && now < s.expires_at_ms);
    if let Some(jwk) = cached.as_ref().and_then(|s| s.find(kid)) {
        return to_key(jwk);
    }
    // Unknown kid (or no fresh cache): one fetch, whatever the token claims,
    // so a stream of forged kids costs one request per login, no more.
    let fetched = fetch(host, config, disc, now)?;
    match fetched.find(kid) {
        Some(jwk) => to_key(jwk),
        None if kid.is_none() => Err(SsoError::InvalidIdToken(
            "names no signing key (`kid`) and the identity provider publishes several".into(),
        )),
        None => Err(SsoError::InvalidIdToken(
            "is signed with a key (`kid`) the identity provider does not publish (any more)".into(),
        )),
    }
}

fn to_key(jwk: &Jwk) -> Result<PublicKey, SsoError> {
    public_key(jwk).map_err(|why| {
        SsoError::InvalidIdToken(format!(
            "names a signing key the identity provider serves, but {why}"
        ))
    })
}

fn fetch(host: &mut Host, config: &str, disc: &Discovery, now: u64) -> Result<KeySet, SsoError> {
    let (doc, cache) = get_json_with(host.http, &disc.jwks_uri, None).map_err(SsoError::Okta)?;
    let set = KeySet {
        jwks_uri: disc.jwks_uri.clone(),
        fetched_at_ms: now,
        expires_at_ms: now.saturating_add(ttl_ms(cache.as_deref())),
        keys: parse_jwks(&doc),
    };
    let json = serde_json::to_vec(&set).map_err(|e| SsoError::Other(e.to_string()))?;
    host.storage
        .set(&jwks_key(config), &json)
        .map_err(store_err)?;
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control_sets_how_long_keys_are_used() {
        assert_eq!(ttl_ms(Some("max-age=60, must-revalidate")), 60_000);
        assert_eq!(ttl_ms(Some("public, MAX-AGE=\"90\"")), 90_000);
        assert_eq!(ttl_ms(Some("no-cache")), 0);
        assert_eq!(ttl_ms(Some("max-age=600, no-store")), 0);
        assert_eq!(ttl_ms(Some("max-age=abc")), 0);
        assert_eq!(ttl_ms(Some("max-age=99999999")), JWKS_MAX_TTL_MS);
        assert_eq!(ttl_ms(Some("public")), JWKS_DEFAULT_TTL_MS);
        assert_eq!(ttl_ms(None), JWKS_DEFAULT_TTL_MS);
    }
}
