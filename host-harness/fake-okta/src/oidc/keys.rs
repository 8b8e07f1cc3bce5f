//! RS256 signing keys: a process-wide cache of deterministic 2048-bit keys
//! and each authorization server's ring of current and published keys.
//!
//! Keys are derived from (org seed, server, generation), so the same seed
//! serves the same `kid`s run after run. Generating one takes about a second
//! in an unoptimised build, so each is made once per process, on first use,
//! and shared by every fake that needs it (tests start many fakes with the
//! default seed).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Server;
use super::jwt::b64url;
use crate::Shared;
use crate::errors::OktaError;

/// Seed material that names one key.
pub(crate) type KeySeed = [u8; 32];

/// One RSA key with its JWK and `kid`.
pub(crate) struct SigningKey {
    pub kid: String,
    pub private: rsa::PrivateKey,
    /// The public half as served by `/keys`.
    pub jwk: Value,
}

/// Adapts rand 0.9's ChaCha to the rand_core generation `rsa` speaks.
struct KeyRng(ChaCha20Rng);

impl rsa::rand_core::TryRng for KeyRng {
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

impl rsa::rand_core::TryCryptoRng for KeyRng {}

/// The seed of generation `generation` of `server`'s key in the org seeded
/// with `org_seed`.
pub(crate) fn key_seed(org_seed: u64, server: &str, generation: u32) -> KeySeed {
    let mut h = Sha256::new();
    h.update(b"fake-okta signing key\0");
    h.update(org_seed.to_le_bytes());
    h.update(server.as_bytes());
    h.update([0]);
    h.update(generation.to_le_bytes());
    h.finalize().into()
}

type Slot = Arc<OnceLock<Arc<SigningKey>>>;

fn pool() -> &'static Mutex<HashMap<KeySeed, Slot>> {
    static POOL: OnceLock<Mutex<HashMap<KeySeed, Slot>>> = OnceLock::new();
    POOL.get_or_init(Default::default)
}

/// The key for `seed`, generating it on first use. Blocks for the
/// generation; two threads asking for the same key wait for one generation.
pub(crate) fn key(seed: &KeySeed) -> Arc<SigningKey> {
    let slot = {
        let mut pool = pool().lock().unwrap_or_else(|e| e.into_inner());
        pool.entry(*seed).or_default().clone()
    };
    // Generated outside the pool lock so different keys generate in parallel.
    slot.get_or_init(|| Arc::new(generate(seed))).clone()
}

/// [`key`] on tokio's blocking pool, so generation never stalls a worker.
pub(crate) async fn key_async(seed: KeySeed) -> Arc<SigningKey> {
    match tokio::task::spawn_blocking(move || key(&seed)).await {
        Ok(k) => k,
        Err(_) => key(&seed),
    }
}

fn generate(seed: &KeySeed) -> SigningKey {
    let mut rng = KeyRng(ChaCha20Rng::from_seed(*seed));
    // 2048 bits is what Okta serves; generation only fails for tiny sizes.
    let private = rsa::PrivateKey::new(&mut rng, 2048).expect("2048-bit RSA key generation");
    let public = private.to_public_key();
    let n = b64url(&public.n_bytes());
    let e = b64url(&public.e_bytes());
    // RFC 7638 thumbprint: 43 base64url chars, the shape of Okta's kids.
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    let kid = b64url(&Sha256::digest(canonical.as_bytes()));
    let jwk = json!({
        "kty": "RSA",
        "alg": "RS256",
        "kid": kid,
        "use": "sig",
        "e": e,
        "n": n,
    });
    SigningKey { kid, private, jwk }
}

/// One authorization server's keys: the signer and what `/keys` publishes.
#[derive(Clone, Debug)]
pub(crate) struct KeyRing {
    /// Generations published, oldest first; the last one signs.
    published: Vec<u32>,
    next: u32,
}

impl Default for KeyRing {
    fn default() -> Self {
        KeyRing {
            published: vec![0],
            next: 1,
        }
    }
}

impl KeyRing {
    /// The generation that signs.
    pub(crate) fn current(&self) -> u32 {
        self.published.last().copied().unwrap_or(0)
    }

    /// Every published generation, oldest first.
    pub(crate) fn published(&self) -> &[u32] {
        &self.published
    }

    /// A new key signs from now on; the old ones stay published, as Okta
    /// keeps the previous key in the JWKS for tokens still in flight.
    pub(crate) fn rotate(&mut self) {
        self.published.push(self.next);
        self.next += 1;
    }

    /// Unpublishes everything but the signer.
    pub(crate) fn retire_old(&mut self) {
        let current = self.current();
        self.published = vec![current];
    }
}

async fn jwks(st: &Shared, server: &Server) -> Response {
    let seeds = st.oidc().published(server);
    let mut keys = Vec::with_capacity(seeds.len());
    for seed in seeds {
        keys.push(key_async(seed).await.jwk.clone());
    }
    let mut resp = Json(json!({ "keys": keys })).into_response();
    // Okta lets the JWKS be cached; clients still refetch on an unknown kid.
    let cache = st.oidc().switches.jwks_cache_control.clone();
    let value = cache
        .and_then(|c| HeaderValue::from_str(&c).ok())
        .unwrap_or(HeaderValue::from_static("max-age=3600, must-revalidate"));
    resp.headers_mut().insert(header::CACHE_CONTROL, value);
    resp
}

/// `GET /oauth2/v1/keys`.
pub(super) async fn org(State(st): State<Arc<Shared>>) -> Response {
    jwks(&st, &Server::Org).await
}

/// `GET /oauth2/{id}/v1/keys`.
pub(super) async fn custom(
    State(st): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, OktaError> {
    let server = super::custom(&st, &id)?;
    Ok(jwks(&st, &server).await)
}
