//! OAuth 2.0 service apps ("API Services" app integrations): the
//! client-credentials grant at the org server's `/oauth2/v1/token` with a
//! `private_key_jwt` client assertion, Okta API scopes, and DPoP.
//!
//! The assertion must be RS256, signed by a key of the app's registered
//! JWKS (by `kid`, or any key without one), with `iss` = `sub` = the client
//! id, `aud` = the token URL as the client addressed it, an `exp` in the
//! future and at most an hour ahead, and a `jti` never seen before. Every
//! requested scope must be granted to the app. With DPoP required, the
//! request needs a proof (`typ` `dpop+jwt`, an RSA `jwk` in its header,
//! `htm`, `htu`, a fresh `iat`, a unique `jti`) carrying the server's
//! current nonce: the first proof is answered `use_dpop_nonce` with a
//! `DPoP-Nonce` header, as Okta does.

use std::collections::HashMap;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::jws::{Jws, thumbprint, token_hash};
use super::now_epoch;
use crate::errors::random_token;

/// The assertion type RFC 7523 names for `private_key_jwt`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An API Services app integration registered on the fake Okta.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceApp {
    /// The app's client id.
    pub client_id: String,
    /// The public keys pasted into the app ("Public keys"), as JWKs.
    pub jwks: Vec<Value>,
    /// Okta API scopes granted to the app ("Okta API Scopes" tab).
    pub scopes: Vec<String>,
    /// "Require Demonstrating Proof of Possession (DPoP) header in token requests".
    pub dpop: bool,
}

/// An access token issued to a service app.
#[derive(Clone, Debug)]
pub(crate) struct ServiceToken {
    pub scopes: Vec<String>,
    /// Epoch seconds.
    pub expires_at: i64,
    /// The thumbprint of the DPoP key it is bound to, if any.
    pub jkt: Option<String>,
}

/// Everything the service-app flows keep between requests.
#[derive(Debug)]
pub(crate) struct ServiceState {
    pub apps: HashMap<String, ServiceApp>,
    pub tokens: HashMap<String, ServiceToken>,
    /// Assertion `jti`s already used, with their `exp` (forgotten after it).
    assertion_jtis: HashMap<String, i64>,
    /// DPoP proof `jti`s already used, with their `iat`.
    proof_jtis: HashMap<String, i64>,
    /// The nonce DPoP proofs at the token endpoint must carry.
    pub nonce: String,
    /// Lifetime of the access tokens issued from now on, in seconds.
    pub lifetime: i64,
    /// Client assertions the token endpoint refused, with why (for tests).
    pub refused: Vec<String>,
}

impl Default for ServiceState {
    fn default() -> Self {
        ServiceState {
            apps: HashMap::new(),
            tokens: HashMap::new(),
            assertion_jtis: HashMap::new(),
            proof_jtis: HashMap::new(),
            nonce: random_token(32),
            lifetime: 3600,
            refused: Vec::new(),
        }
    }
}

/// How far a proof's `iat` may be from the server's clock, in seconds.
const PROOF_LEEWAY: i64 = 300;
/// The furthest ahead an assertion's `exp` may be (Okta: one hour).
const MAX_ASSERTION_LIFETIME: i64 = 3600;

/// An OAuth error answer of the token endpoint.
pub(crate) struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: String,
    nonce: Option<String>,
}

impl TokenError {
    fn client(description: impl Into<String>) -> Self {
        TokenError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            nonce: None,
        }
    }

    fn bad(error: &'static str, description: impl Into<String>) -> Self {
        TokenError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            nonce: None,
        }
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut resp = (self.status, Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert("cache-control", HeaderValue::from_static("no-store"));
        if let Some(n) = self.nonce.and_then(|n| HeaderValue::from_str(&n).ok()) {
            h.insert("dpop-nonce", n);
        }
        resp
    }
}

impl ServiceState {
    /// The client-credentials grant: `token_url` is the endpoint as the
    /// client addressed it (the assertion's and the proof's audience).
    pub(crate) fn grant(
        &mut self,
        headers: &HeaderMap,
        form: &HashMap<String, String>,
        token_url: &str,
    ) -> Result<Value, TokenError> {
        let now = now_epoch();
        self.assertion_jtis.retain(|_, exp| *exp > now);
        self.proof_jtis
            .retain(|_, iat| *iat > now - 2 * PROOF_LEEWAY);
        let app = self.authenticate(form, token_url, now).inspect_err(|e| {
            self.refused.push(e.description.clone());
        })?;
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return Err(TokenError::bad(
                "unsupported_grant_type",
                "The grant type in the request isn't supported.",
            ));
        }
        let scopes: Vec<String> = form
            .get("scope")
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        if scopes.is_empty() {
            return Err(TokenError::bad(
                "invalid_scope",
                "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
            ));
        }
        // Like Okta, the answer does not say which scope is missing.
        if scopes.iter().any(|s| !app.scopes.contains(s)) {
            return Err(TokenError::bad(
                "invalid_scope",
                "One or more scopes are not configured for the authorization server resource.",
            ));
        }
        let jkt = self.check_token_proof(headers, token_url, app.dpop, now)?;
        let token = random_token(64);
        self.tokens.insert(
            token.clone(),
            ServiceToken {
                scopes: scopes.clone(),
                expires_at: now + self.lifetime,
                jkt: jkt.clone(),
            },
        );
        Ok(json!({
            "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
            "expires_in": self.lifetime,
            "access_token": token,
            "scope": scopes.join(" "),
        }))
    }

    /// `private_key_jwt`: the app the assertion authenticates.
    fn authenticate(
        &mut self,
        form: &HashMap<String, String>,
        token_url: &str,
        now: i64,
    ) -> Result<ServiceApp, TokenError> {
        if form.contains_key("client_secret") {
            return Err(TokenError::client(
                "Client authentication with a client secret is not allowed for this client; use a client_assertion.",
            ));
        }
        if form.get("client_assertion_type").map(String::as_str) != Some(JWT_BEARER) {
            return Err(TokenError::client(
                "The client_assertion_type parameter must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.",
            ));
        }
        let jws = form
            .get("client_assertion")
            .and_then(|a| Jws::parse(a))
            .ok_or_else(|| TokenError::client("The client_assertion token is malformed."))?;
        let iss = jws.text("iss").unwrap_or_default().to_owned();
        if jws.text("sub") != Some(iss.as_str()) {
            return Err(TokenError::client(
                "The client_assertion token's iss and sub claims must both be the client_id.",
            ));
        }
        if form.get("client_id").is_some_and(|c| *c != iss) {
            return Err(TokenError::client(
                "The client_id does not match the client_assertion token's iss and sub claims.",
            ));
        }
        let Some(app) = self.apps.get(&iss).cloned() else {
            return Err(TokenError::client(
                "Invalid value for 'client_id' parameter.",
            ));
        };
        let kid = jws.header.get("kid").and_then(Value::as_str);
        let signed = app
            .jwks
            .iter()
            .filter(|k| kid.is_none() || k.get("kid").and_then(Value::as_str) == kid)
            .any(|k| jws.verifies_with(k));
        if !signed {
            return Err(TokenError::client(match kid {
                Some(kid) if !app.jwks.iter().any(|k| k["kid"] == kid) => format!(
                    "The client_assertion token was signed with a key (kid {kid}) that is not registered for this client."
                ),
                _ => "The client_assertion signature is invalid.".to_owned(),
            }));
        }
        if jws.text("aud") != Some(token_url) {
            return Err(TokenError::client(
                "The audience claim for client_assertion must be the endpoint invoked for the request.",
            ));
        }
        let Some(exp) = jws.secs("exp") else {
            return Err(TokenError::client(
                "The client_assertion token must have an exp claim.",
            ));
        };
        if exp <= now {
            return Err(TokenError::client("The client_assertion token is expired."));
        }
        if exp > now + MAX_ASSERTION_LIFETIME {
            return Err(TokenError::client(
                "The client_assertion token has an expiration too far into the future.",
            ));
        }
        let Some(jti) = jws.text("jti").filter(|j| !j.is_empty()) else {
            return Err(TokenError::client(
                "The client_assertion token must have a jti claim.",
            ));
        };
        if self.assertion_jtis.insert(jti.to_owned(), exp).is_some() {
            return Err(TokenError::client(
                "The client_assertion token has already been used (its jti was seen before).",
            ));
        }
        Ok(app)
    }

    /// The DPoP proof of a token request: `Ok(Some(jkt))` binds the token,
    /// `Ok(None)` issues a bearer token (no proof, none required).
    fn check_token_proof(
        &mut self,
        headers: &HeaderMap,
        token_url: &str,
        required: bool,
        now: i64,
    ) -> Result<Option<String>, TokenError> {
        let proof = headers.get("dpop").and_then(|v| v.to_str().ok());
        let Some(proof) = proof else {
            return if required {
                Err(TokenError::bad(
                    "invalid_dpop_proof",
                    "The DPoP proof JWT header is missing.",
                ))
            } else {
                Ok(None)
            };
        };
        let jkt = self
            .check_proof(proof, "POST", token_url, None, now)
            .map_err(|d| TokenError::bad("invalid_dpop_proof", d))?;
        let jws = Jws::parse(proof).expect("checked above");
        if jws.text("nonce") != Some(self.nonce.as_str()) {
            return Err(TokenError {
                nonce: Some(self.nonce.clone()),
                ..TokenError::bad(
                    "use_dpop_nonce",
                    "Authorization server requires nonce in DPoP proof.",
                )
            });
        }
        Ok(Some(jkt))
    }

    /// Checks a DPoP proof for a request; `Ok(jkt)` of its key, `Err` why not.
    pub(crate) fn check_proof(
        &mut self,
        proof: &str,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        now: i64,
    ) -> Result<String, String> {
        let jws = Jws::parse(proof).ok_or("The DPoP proof JWT is malformed.")?;
        if jws.header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
            return Err("The DPoP proof JWT 'typ' header must be 'dpop+jwt'.".into());
        }
        let jwk = jws.header.get("jwk").cloned().unwrap_or(Value::Null);
        if jwk.get("d").is_some() {
            return Err("The DPoP proof JWT 'jwk' header must be a public key.".into());
        }
        if !jws.verifies_with(&jwk) {
            return Err("The DPoP proof JWT signature is invalid.".into());
        }
        if jws.text("htm") != Some(method) {
            return Err("'htm' claim in the DPoP proof JWT is invalid.".into());
        }
        if jws.text("htu") != Some(url) {
            return Err("'htu' claim in the DPoP proof JWT is invalid.".into());
        }
        let iat = jws
            .secs("iat")
            .ok_or("The DPoP proof JWT has no 'iat' claim.")?;
        if (iat - now).abs() > PROOF_LEEWAY {
            return Err("The DPoP proof JWT 'iat' claim is out of range.".into());
        }
        if let Some(token) = access_token
            && jws.text("ath") != Some(token_hash(token).as_str())
        {
            return Err("'ath' claim in the DPoP proof JWT is invalid.".into());
        }
        let jti = jws.text("jti").filter(|j| !j.is_empty());
        let jti = jti.ok_or("The DPoP proof JWT has no 'jti' claim.")?;
        if self.proof_jtis.insert(jti.to_owned(), iat).is_some() {
            return Err("The DPoP proof JWT 'jti' was already used.".into());
        }
        thumbprint(&jwk).ok_or_else(|| "The DPoP proof JWT 'jwk' header is not an RSA key.".into())
    }

    /// Requests a fresh nonce from the next DPoP token request on.
    pub(crate) fn rotate_nonce(&mut self) {
        self.nonce = random_token(32);
    }
}
