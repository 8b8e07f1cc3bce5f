//! How the plugin authenticates to Okta: an SSWS API token, or an OAuth 2.0
//! service app (client credentials with a `private_key_jwt` assertion,
//! then `Bearer` or DPoP-bound access tokens). [`crate::OktaClient`] asks
//! [`Auth`] for each request's headers and tells it each answer.
//!
//! The service app's private keys never enter the plugin: the host keeps
//! them and signs through the [`Signer`] port. The access token lives only
//! in this instance's memory ([`ServiceApp`]): never in storage, secrets
//! or logs; a new instance asks Okta for a new one.

mod failure;
pub mod jwt;
mod token;

use std::cell::RefCell;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use failure::ServiceAppFailure;

use crate::okta_error::OktaFailure;
use crate::ports::{Clock, Http, HttpRequest, HttpResponse};

/// The Okta API scopes the plugin asks for, and only these.
pub const SCOPES: [&str; 3] = ["okta.users.read", "okta.groups.read", "okta.schemas.read"];

/// Which of a config's keys a signature is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPurpose {
    /// The key whose public JWK is registered in the Okta app.
    ClientAssertion,
    /// The key DPoP proofs carry (and access tokens are bound to).
    Dpop,
}

/// A public key as the host shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    /// The key id (`kid`) the JWT header names.
    pub kid: String,
    /// The public JWK (`kty`, `n`, `e`, `kid`, `alg`, `use`).
    pub jwk: Value,
}

/// Why the host could not sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignError {
    /// The config has no key for this purpose (or none with that `kid`).
    NoKey(String),
    /// The host's key store cannot be used right now.
    Unavailable(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::NoKey(m) => write!(f, "no key: {m}"),
            SignError::Unavailable(m) => write!(f, "the host's key store is unavailable: {m}"),
            SignError::Other(m) => f.write_str(m),
        }
    }
}

/// RS256 signing with keys the host keeps for each config (WIT `signing`).
pub trait Signer {
    /// The key signatures for `purpose` are made with now.
    fn public_key(&self, config: &str, purpose: KeyPurpose) -> Result<PublicKey, SignError>;
    /// The RS256 (PKCS#1 v1.5, SHA-256) signature of a JWS signing input
    /// with the config's key `kid`.
    fn sign(&self, config: &str, kid: &str, signing_input: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// A host without signing: every service-app operation fails, clearly.
pub struct NoSigner;

impl Signer for NoSigner {
    fn public_key(&self, _: &str, _: KeyPurpose) -> Result<PublicKey, SignError> {
        Err(SignError::NoKey("this host offers no signing".into()))
    }
    fn sign(&self, _: &str, _: &str, _: &[u8]) -> Result<Vec<u8>, SignError> {
        Err(SignError::NoKey("this host offers no signing".into()))
    }
}

/// How an installed config authenticates, as kept in its stored config.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum AuthMethod {
    /// An SSWS API token, kept in `secrets` (the default, and every
    /// config stored before service apps existed).
    #[default]
    ApiToken,
    /// An OAuth 2.0 service app; its keys are the host's.
    ServiceApp {
        /// The app's client id.
        client_id: String,
        /// Whether to use DPoP-bound tokens.
        dpop: bool,
    },
}

/// What a config authenticates with, for the length of one operation.
#[derive(Debug)]
pub enum Credential {
    /// An SSWS API token.
    ApiToken(String),
    /// A service app with its in-memory token cache.
    ServiceApp(ServiceApp),
}

impl Credential {
    /// The [`Auth`] an [`crate::OktaClient`] uses.
    pub fn auth<'a>(&'a self, signer: &'a dyn Signer, clock: &'a dyn Clock) -> Auth<'a> {
        match self {
            Credential::ApiToken(t) => Auth::ApiToken(t),
            Credential::ServiceApp(app) => Auth::ServiceApp { app, signer, clock },
        }
    }

    /// The API token, if that is the method.
    pub fn api_token(&self) -> Option<&str> {
        match self {
            Credential::ApiToken(t) => Some(t),
            Credential::ServiceApp(_) => None,
        }
    }
}

/// A service app's settings and, in memory only, its access token and the
/// DPoP nonce Okta asked for.
pub struct ServiceApp {
    config: String,
    client_id: String,
    dpop: bool,
    token_url: String,
    state: RefCell<Session>,
}

impl fmt::Debug for ServiceApp {
    // By hand: the session holds the access token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceApp")
            .field("config", &self.config)
            .field("client_id", &self.client_id)
            .field("dpop", &self.dpop)
            .finish()
    }
}

#[derive(Default)]
struct Session {
    token: Option<AccessToken>,
    /// The nonce the token endpoint asked for (`use_dpop_nonce`).
    nonce: Option<String>,
    /// The nonce the API asked for, kept apart (RFC 9449 §9).
    api_nonce: Option<String>,
}

struct AccessToken {
    value: String,
    dpop: bool,
    renew_at_ms: u64,
}

impl ServiceApp {
    /// A service app of `config` at the org whose token endpoint is
    /// `{origin}/oauth2/v1/token`.
    pub fn new(config: &str, client_id: &str, dpop: bool, origin: &crate::OktaOrigin) -> Self {
        ServiceApp {
            config: config.to_owned(),
            client_id: client_id.trim().to_owned(),
            dpop,
            token_url: origin.url("/oauth2/v1/token"),
            state: RefCell::default(),
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether the access token in memory (if any) is the one Okta issued
    /// last, for tests of renewal.
    pub fn has_token(&self) -> bool {
        self.state.borrow().token.is_some()
    }
}

/// What an [`crate::OktaClient`] authenticates with: borrowed, so a
/// client can be made per request while the token cache outlives it.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// `Authorization: SSWS <token>`.
    ApiToken(&'a str),
    /// A service app's access token (`Bearer`, or `DPoP` with a proof).
    ServiceApp {
        /// Settings and token cache.
        app: &'a ServiceApp,
        /// The host's signer.
        signer: &'a dyn Signer,
        /// For `iat`, `exp` and token expiry.
        clock: &'a dyn Clock,
    },
}

impl<'a> From<&'a str> for Auth<'a> {
    fn from(token: &'a str) -> Self {
        Auth::ApiToken(token)
    }
}

impl<'a> From<&'a String> for Auth<'a> {
    fn from(token: &'a String) -> Self {
        Auth::ApiToken(token)
    }
}

impl Auth<'_> {
    /// The authentication headers of a `method` request to `url`; a
    /// service app may first get a token from Okta.
    pub(crate) fn headers(
        &self,
        http: &mut dyn Http,
        method: &str,
        url: &str,
    ) -> Result<Vec<(String, String)>, OktaFailure> {
        let Auth::ServiceApp { app, signer, clock } = *self else {
            let Auth::ApiToken(t) = *self else {
                unreachable!()
            };
            return Ok(vec![("Authorization".into(), format!("SSWS {t}"))]);
        };
        let now = clock.now_unix_ms();
        let valid = app
            .state
            .borrow()
            .token
            .as_ref()
            .is_some_and(|t| t.renew_at_ms > now);
        if !valid {
            let issued = token::request(http, app, signer, clock)?;
            app.state.borrow_mut().token = Some(issued);
        }
        let s = app.state.borrow();
        let t = s.token.as_ref().expect("set above");
        let mut out = vec![];
        if t.dpop {
            out.push(("Authorization".into(), format!("DPoP {}", t.value)));
            let proof = jwt::dpop_proof(
                signer,
                &app.config,
                method,
                url,
                now / 1000,
                s.api_nonce.as_deref(),
                Some(&t.value),
            )
            .map_err(|e| service(ServiceAppFailure::Signing(e.to_string())))?;
            out.push(("DPoP".into(), proof));
        } else {
            out.push(("Authorization".into(), format!("Bearer {}", t.value)));
        }
        Ok(out)
    }

    /// Whether to send a request again after this answer (at most once):
    /// a 401 to a cached token that Okta no longer takes (expired,
    /// revoked) gets a new token; `use_dpop_nonce` gets a fresh proof.
    /// `req` is the request answered: one started early may carry a token
    /// renewed since, which is not thrown away again.
    pub(crate) fn retry_after(&self, resp: &HttpResponse, req: &HttpRequest) -> bool {
        let Auth::ServiceApp { app, .. } = *self else {
            return false;
        };
        let challenge = resp.header("WWW-Authenticate").unwrap_or("");
        if challenge.contains("use_dpop_nonce")
            && let Some(n) = resp.header("DPoP-Nonce")
        {
            app.state.borrow_mut().api_nonce = Some(n.to_owned());
            return true;
        }
        if resp.status == 401 {
            // Whatever failed, the next try starts from a new token, unless
            // the token it was sent with was already replaced: several
            // requests on their way at once meet one expiry, and one renewal
            // serves them all.
            let mut state = app.state.borrow_mut();
            let sent_with_current = state.token.as_ref().is_some_and(|t| {
                req.headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case("Authorization") && v.ends_with(&t.value))
            });
            if sent_with_current {
                state.token = None;
            }
            return true;
        }
        false
    }

    /// What to redact from texts: the API token, or the access token.
    pub(crate) fn secret(&self) -> String {
        match *self {
            Auth::ApiToken(t) => t.to_owned(),
            Auth::ServiceApp { app, .. } => app
                .state
                .borrow()
                .token
                .as_ref()
                .map(|t| t.value.clone())
                .unwrap_or_default(),
        }
    }

    /// A service app's API refusals in its own words: a missing scope by
    /// name, a DPoP proof refused, an access token refused.
    pub(crate) fn explain(
        &self,
        failure: OktaFailure,
        resp: &HttpResponse,
        url: &str,
    ) -> OktaFailure {
        let Auth::ServiceApp { .. } = *self else {
            return failure;
        };
        let challenge = resp.header("WWW-Authenticate").unwrap_or("");
        let param = |name: &str| challenge_param(challenge, name);
        if challenge.contains("invalid_dpop_proof") {
            return service(ServiceAppFailure::DpopRefused(
                param("error_description").unwrap_or_default(),
            ));
        }
        match failure {
            OktaFailure::PermissionDenied(e) => {
                let scope = param("scope").or_else(|| scope_for(url).map(str::to_owned));
                match scope {
                    Some(s) if challenge.contains("insufficient_scope") => {
                        service(ServiceAppFailure::ScopeNotGranted(vec![s]))
                    }
                    _ => service(ServiceAppFailure::NoAdminRole(if e.error_code.is_empty() {
                        format!("HTTP {}", e.status)
                    } else {
                        e.error_code
                    })),
                }
            }
            OktaFailure::InvalidToken(e) => service(ServiceAppFailure::AccessTokenRefused(
                param("error_description").unwrap_or(e.error_summary),
            )),
            f => f,
        }
    }
}

/// The scope a read of `url` needs (Okta's management API).
fn scope_for(url: &str) -> Option<&'static str> {
    let path = url.find("/api/v1/").map(|i| &url[i..])?;
    if path.starts_with("/api/v1/users") {
        Some(SCOPES[0])
    } else if path.starts_with("/api/v1/groups") {
        Some(SCOPES[1])
    } else if path.starts_with("/api/v1/meta/schemas") {
        Some(SCOPES[2])
    } else {
        None
    }
}

/// A parameter of a `WWW-Authenticate` challenge: `name="value"`.
fn challenge_param(challenge: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = challenge.find(&key)? + key.len();
    let len = challenge[start..].find('"')?;
    Some(challenge[start..start + len].to_owned())
}

pub(crate) fn service(f: ServiceAppFailure) -> OktaFailure {
    OktaFailure::ServiceApp(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_params_are_read_by_name() {
        let c = r#"Bearer realm="x", scope="okta.groups.read", error="insufficient_scope""#;
        assert_eq!(
            challenge_param(c, "scope").as_deref(),
            Some("okta.groups.read")
        );
        assert_eq!(
            challenge_param(c, "error").as_deref(),
            Some("insufficient_scope")
        );
        assert_eq!(challenge_param(c, "nonce"), None);
    }

    #[test]
    fn each_path_needs_its_scope() {
        assert_eq!(
            scope_for("https://a/api/v1/users?limit=1"),
            Some("okta.users.read")
        );
        assert_eq!(
            scope_for("https://a/api/v1/groups/1/users"),
            Some("okta.groups.read")
        );
        assert_eq!(
            scope_for("https://a/api/v1/meta/schemas/user/default"),
            Some("okta.schemas.read")
        );
    }

    #[test]
    fn stored_configs_without_a_method_use_the_api_token() {
        let m: AuthMethod = serde_json::from_str("{\"method\":\"api-token\"}").expect("json");
        assert_eq!(m, AuthMethod::ApiToken);
        let s = serde_json::to_string(&AuthMethod::ServiceApp {
            client_id: "0oa1".into(),
            dpop: true,
        })
        .expect("json");
        assert_eq!(
            s,
            r#"{"method":"service-app","client_id":"0oa1","dpop":true}"#
        );
    }
}
