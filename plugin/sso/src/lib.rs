//! Okta sign-in for Infraon Users and Self-Service Portal Requesters:
//! OpenID Connect authorization code flow with PKCE (S256), free of wasm.
//!
//! The component glue maps the WIT `sso` interface onto [`configure`],
//! [`begin_login`] and [`complete_login`]; everything goes through the
//! `plugin-core` ports, so the same code runs natively under test.
//!
//! # Storage
//!
//! | key / secret                        | value |
//! |-------------------------------------|-------|
//! | `state/<c>/sso`                     | [`settings::StoredSso`] (JSON): everything but the secret |
//! | secret `sso-secret/<c>`             | the OIDC client secret (confidential clients only) |
//! | `state/<c>/sso-discovery`           | cached discovery document (1 hour) |
//! | `state/<c>/sso-jwks`                | cached signing keys (as long as the JWKS answer's `Cache-Control` allows, 5 minutes when silent, 24 hours at most; refetched once on an unknown `kid`) |
//! | `state/<c>/sso-login/<state>`       | one pending login: nonce, PKCE verifier, expiry (10 minutes) |
//!
//! Everything except the secret lives under `state/<c>/`, so uninstalling a
//! config removes it; the secret is removed by [`forget`].

#![warn(missing_docs)]

pub mod discovery;
mod exchange;
pub mod jwks;
pub mod jwt;
mod login;
mod person;
pub mod pkce;
pub mod settings;

use std::fmt;

use plugin_core::{FieldError, HttpResponse, OktaFailure, SyncTarget, TransportError};

pub use login::{Callback, begin_login, complete_callback, complete_login};
pub use settings::{SsoSettings, StoredSso, configure, forget, saved};

/// How long a started login may take before [`complete_login`] refuses it.
pub const LOGIN_TTL_MS: u64 = 10 * 60 * 1000;

/// Leeway for `exp`, `iat` and `nbf`: clocks of Okta and the host differ.
pub const CLOCK_LEEWAY_SECS: i64 = 120;

/// What the host sends the browser to (WIT `login-start`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginStart {
    /// The Okta authorize URL.
    pub authorize_url: String,
    /// The `state` the callback must carry.
    pub state: String,
    /// When this login expires (RFC 3339, UTC).
    pub expires_at: String,
}

/// Who signed in (WIT `signed-in`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// Users or Requesters.
    pub kind: SyncTarget,
    /// Okta user id (the link key, the ID token's `sub`).
    pub external_id: String,
    /// Sign-in name.
    pub login: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Infraon roles.
    pub roles: Vec<String>,
}

/// Why a sign-in or an SSO call failed (WIT `sso-error`). The texts are
/// shown to the person signing in, so none ever carries a token, an
/// authorization code, a PKCE verifier or the client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoError {
    /// No config with this name is installed.
    UnknownConfig(String),
    /// SSO is off (or not set up) for this population.
    Disabled(SyncTarget),
    /// The settings are not valid, field by field.
    InvalidSettings(Vec<FieldError>),
    /// The `state` is unknown or was already used.
    UnknownState,
    /// The login took too long; start again.
    Expired,
    /// The code could not be exchanged for tokens.
    TokenExchange(String),
    /// The ID token failed validation: which check, never the token.
    InvalidIdToken(String),
    /// The Okta account is not linked to an Infraon person of this kind.
    NotLinked(String),
    /// The linked Infraon person is deactivated or suspended.
    Deactivated(String),
    /// Okta could not be reached, or refused.
    Okta(OktaFailure),
    /// This capability is not available in this plugin version.
    Unsupported(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for SsoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SsoError::UnknownConfig(c) => write!(f, "No Okta config named `{c}` is installed."),
            SsoError::Disabled(kind) => {
                write!(f, "Okta sign-in is turned off for {}.", population(*kind))
            }
            SsoError::InvalidSettings(errors) => {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                write!(f, "The SSO settings are not valid: {}", list.join("; "))
            }
            SsoError::UnknownState => f.write_str(
                "This sign-in is unknown or was already completed; start the sign-in again.",
            ),
            SsoError::Expired => f.write_str("Sign-in expired, start again."),
            SsoError::TokenExchange(d) => {
                write!(f, "The identity provider did not complete the sign-in: {d}")
            }
            SsoError::InvalidIdToken(d) => {
                write!(
                    f,
                    "The sign-in was refused: the identity provider's ID token {d}."
                )
            }
            SsoError::NotLinked(d) | SsoError::Deactivated(d) => f.write_str(d),
            SsoError::Okta(failure) => write!(f, "{failure}"),
            SsoError::Unsupported(d) | SsoError::Other(d) => f.write_str(d),
        }
    }
}

impl std::error::Error for SsoError {}

/// "Infraon users" / "Self-Service Portal requesters", for messages.
pub(crate) fn population(kind: SyncTarget) -> &'static str {
    match kind {
        SyncTarget::Users => "Infraon users",
        SyncTarget::Requesters => "Self-Service Portal requesters",
    }
}

/// A storage or secrets failure as an [`SsoError`].
pub(crate) fn store_err(e: impl fmt::Display) -> SsoError {
    SsoError::Other(format!("Infraon's plugin storage failed: {e}"))
}

/// Sends one `POST` with a body: the token request.
///
/// `plugin_core::HttpRequest` has no body today (the sync only GETs), so
/// the token exchange cannot go through [`plugin_core::Http`]. Once that
/// request type carries a body, this port can be implemented for every
/// `Http` and dropped from [`complete_login`]'s parameters.
pub trait FormPost {
    /// Send `body` (already `application/x-www-form-urlencoded`) to `url`
    /// with `headers`, and read the whole answer. Must not follow redirects.
    fn post_form(
        &mut self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError>;
}
