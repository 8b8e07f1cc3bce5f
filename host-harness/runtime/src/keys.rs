//! The key pairs of OAuth 2.0 service apps: generated here, kept encrypted
//! in the [`Secrets`] backend under the host's own owner (never the
//! plugin's, whose `secrets` import cannot name them), shown only as public
//! JWKs, and used only by [`KeyRing::sign`] for the `signing` import.
//!
//! Each config has client-assertion keys, oldest first: the oldest signs.
//! Rotation without downtime: `add` a key (the old one keeps signing),
//! paste its public JWK into the Okta app beside the old one, then
//! `retire` the old one: from then on the new one signs. A DPoP key is
//! made on first use; access tokens are bound to it, never registered.

use std::convert::Infallible;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use rsa::BoxedUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::backend::Secrets;

/// The owner of the key secrets in Infraon: the host, not the plugin.
const OWNER: &str = "host/service-app-keys";
/// RSA modulus size: what Okta's own keys use.
const BITS: usize = 2048;

/// One key pair as stored: its primes and exponent (base64url).
#[derive(Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    created_at: String,
    p: String,
    q: String,
    e: String,
}

impl std::fmt::Debug for StoredKey {
    // By hand: the primes are the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey").field("kid", &self.kid).finish()
    }
}

/// A config's keys.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct KeyRing {
    assertion: Vec<StoredKey>,
    dpop: Option<StoredKey>,
}

/// A public key as shown to an admin.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShownKey {
    /// Its `kid`.
    pub kid: String,
    /// The public JWK to paste into Okta.
    pub jwk: Value,
    /// When it was made (RFC 3339, UTC).
    pub created_at: String,
    /// Whether it signs now (the oldest client-assertion key).
    pub signing: bool,
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Nothing to sign with.
    #[error("{0}")]
    NoKey(String),
    /// The request is refused (retiring the last key, a wrong input).
    #[error("{0}")]
    Refused(String),
    /// The secret store failed.
    #[error("the key store failed: {0}")]
    Store(String),
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn num(s: &str) -> Result<BoxedUint, KeyError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| KeyError::Store("a stored key is damaged".into()))?;
    Ok(BoxedUint::from_be_slice_vartime(&bytes))
}

/// rand 0.9's thread RNG (seeded from the OS) as the RNG `rsa` speaks.
struct OsSeeded(rand::rngs::ThreadRng);

impl rsa::rand_core::TryRng for OsSeeded {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_u32())
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for OsSeeded {}

impl StoredKey {
    fn generate() -> Result<StoredKey, KeyError> {
        let private = rsa::PrivateKey::new(&mut OsSeeded(rand::rng()), BITS)
            .map_err(|e| KeyError::Store(format!("key generation failed: {e}")))?;
        let [p, q] = private.primes() else {
            return Err(KeyError::Store(
                "key generation gave other than two primes".into(),
            ));
        };
        let mut key = StoredKey {
            kid: String::new(),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            p: b64(&p.as_ref().to_be_bytes_trimmed_vartime()),
            q: b64(&q.as_ref().to_be_bytes_trimmed_vartime()),
            e: b64(&private.e_bytes()),
        };
        key.kid = thumbprint(&key.public_jwk_parts(&private));
        Ok(key)
    }

    fn private(&self) -> Result<rsa::PrivateKey, KeyError> {
        rsa::PrivateKey::from_p_q(num(&self.p)?, num(&self.q)?, num(&self.e)?)
            .map_err(|_| KeyError::Store("a stored key is damaged".into()))
    }

    fn public_jwk_parts(&self, private: &rsa::PrivateKey) -> (String, String) {
        (b64(&private.n_bytes()), b64(&private.e_bytes()))
    }

    /// The public JWK (`kty`, `alg`, `kid`, `use`, `n`, `e`).
    fn public_jwk(&self) -> Result<Value, KeyError> {
        let (n, e) = self.public_jwk_parts(&self.private()?);
        Ok(json!({"kty": "RSA", "alg": "RS256", "kid": self.kid, "use": "sig", "e": e, "n": n}))
    }
}

/// RFC 7638 thumbprint of an RSA public key: its `kid`.
fn thumbprint((n, e): &(String, String)) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64(&Sha256::digest(canonical.as_bytes()))
}

fn secret_name(config: &str) -> String {
    format!("keys/{}", config.trim().to_lowercase())
}

impl KeyRing {
    /// The keys of `config` (none yet: an empty ring).
    pub fn load(secrets: &dyn Secrets, config: &str) -> Result<KeyRing, KeyError> {
        let raw = secrets
            .get(OWNER, &secret_name(config))
            .map_err(|e| KeyError::Store(e.to_string()))?;
        match raw {
            None => Ok(KeyRing::default()),
            Some(s) => serde_json::from_str(&s)
                .map_err(|_| KeyError::Store("the stored keys are damaged".into())),
        }
    }

    fn save(&self, secrets: &dyn Secrets, config: &str) -> Result<(), KeyError> {
        let json = serde_json::to_string(self).map_err(|e| KeyError::Store(e.to_string()))?;
        secrets
            .put(OWNER, &secret_name(config), &json)
            .map_err(|e| KeyError::Store(e.to_string()))
    }

    /// Forget every key of `config` (on uninstall).
    pub fn delete(secrets: &dyn Secrets, config: &str) -> Result<(), KeyError> {
        secrets
            .delete(OWNER, &secret_name(config))
            .map_err(|e| KeyError::Store(e.to_string()))
    }

    /// A new client-assertion key for `config`: the first one signs at
    /// once; a further one waits until the older ones are retired.
    pub fn add(secrets: &dyn Secrets, config: &str) -> Result<ShownKey, KeyError> {
        let mut ring = KeyRing::load(secrets, config)?;
        let key = StoredKey::generate()?;
        ring.assertion.push(key);
        ring.save(secrets, config)?;
        ring.shown()?
            .pop()
            .ok_or_else(|| KeyError::Store("the new key vanished".into()))
    }

    /// Retire the client-assertion key `kid`; the last one cannot be.
    pub fn retire(secrets: &dyn Secrets, config: &str, kid: &str) -> Result<(), KeyError> {
        let mut ring = KeyRing::load(secrets, config)?;
        let Some(i) = ring.assertion.iter().position(|k| k.kid == kid) else {
            return Err(KeyError::NoKey(format!(
                "config `{config}` has no key with kid `{kid}`"
            )));
        };
        if ring.assertion.len() == 1 {
            return Err(KeyError::Refused(format!(
                "`{kid}` is the only key of config `{config}`: add its successor first (`harness keys add --name {config}`) and paste it into Okta"
            )));
        }
        ring.assertion.remove(i);
        ring.save(secrets, config)
    }

    /// Every private part of `config`'s keys, as stored (base64url primes),
    /// for secret searches that must never find them.
    pub fn private_material(secrets: &dyn Secrets, config: &str) -> Result<Vec<String>, KeyError> {
        let ring = KeyRing::load(secrets, config)?;
        Ok(ring
            .assertion
            .iter()
            .chain(ring.dpop.as_ref())
            .flat_map(|k| [k.p.clone(), k.q.clone()])
            .collect())
    }

    /// The client-assertion keys, oldest first, as an admin sees them.
    pub fn shown(&self) -> Result<Vec<ShownKey>, KeyError> {
        self.assertion
            .iter()
            .enumerate()
            .map(|(i, k)| {
                Ok(ShownKey {
                    kid: k.kid.clone(),
                    jwk: k.public_jwk()?,
                    created_at: k.created_at.clone(),
                    signing: i == 0,
                })
            })
            .collect()
    }

    /// The key that signs for `dpop` or client assertions now; a DPoP key
    /// is made (and kept) on first use.
    pub fn current(
        secrets: &dyn Secrets,
        config: &str,
        dpop: bool,
    ) -> Result<(String, Value), KeyError> {
        let mut ring = KeyRing::load(secrets, config)?;
        let key = if dpop {
            if ring.dpop.is_none() {
                ring.dpop = Some(StoredKey::generate()?);
                ring.save(secrets, config)?;
            }
            ring.dpop.as_ref()
        } else {
            ring.assertion.first()
        };
        let key = key.ok_or_else(|| {
            KeyError::NoKey(format!(
                "config `{config}` has no service-app key yet: create one with `harness keys add --name {config}` (or in the console) and paste its public JWK into the Okta app"
            ))
        })?;
        Ok((key.kid.clone(), key.public_jwk()?))
    }

    /// Sign a JWS signing input with the key `kid` of `config`, only if its
    /// header is RS256 and names that key: `kid` for a client assertion,
    /// the public `jwk` for a DPoP proof (`typ` `dpop+jwt`).
    pub fn sign(
        secrets: &dyn Secrets,
        config: &str,
        kid: &str,
        input: &[u8],
    ) -> Result<Vec<u8>, KeyError> {
        let ring = KeyRing::load(secrets, config)?;
        let header = jws_header(input)
            .ok_or_else(|| KeyError::Refused("the input is not a JWS signing input".into()))?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(KeyError::Refused("only RS256 is signed".into()));
        }
        let key = if let Some(k) = ring.assertion.iter().find(|k| k.kid == kid) {
            if header.get("kid").and_then(Value::as_str) != Some(kid) {
                return Err(KeyError::Refused(
                    "the header does not name this key".into(),
                ));
            }
            k
        } else if let Some(k) = ring.dpop.as_ref().filter(|k| k.kid == kid) {
            let jwk = header.get("jwk").cloned().unwrap_or(Value::Null);
            let ours = k.public_jwk()?;
            if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt")
                || jwk.get("n") != ours.get("n")
            {
                return Err(KeyError::Refused(
                    "a DPoP key signs only DPoP proofs carrying its public key".into(),
                ));
            }
            k
        } else {
            return Err(KeyError::NoKey(format!(
                "config `{config}` has no key with kid `{kid}`"
            )));
        };
        key.private()?
            .pkcs1v15_sign::<Sha256>(input)
            .map_err(|e| KeyError::Store(format!("signing failed: {e}")))
    }
}

/// The decoded header of `base64url(header).base64url(claims)`.
fn jws_header(input: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(input).ok()?;
    let (h, c) = text.split_once('.')?;
    if c.contains('.') || URL_SAFE_NO_PAD.decode(c).is_err() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
    header.is_object().then_some(header)
}
