//! What can go wrong connecting with a service app, each case named the
//! way an Okta admin fixes it in the Admin Console.

use std::fmt;

/// Why the plugin could not get (or use) a service app's access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceAppFailure {
    /// Okta knows no app with this client id (`invalid_client`).
    UnknownClient(String),
    /// The app has no public key matching the host's key (`invalid_client`
    /// on the signature): the key's `kid` to paste into Okta.
    KeyNotRegistered(String),
    /// Okta refused the client assertion for another reason (its text).
    AssertionRefused(String),
    /// Scopes the plugin needs that are not granted to the app.
    ScopeNotGranted(Vec<String>),
    /// The app requires DPoP and the config does not use it.
    DpopRequired,
    /// Okta refused a DPoP proof (its text).
    DpopRefused(String),
    /// The host could not sign (no key for this config, or its store failed).
    Signing(String),
    /// The token endpoint answered something else (its error and text).
    TokenEndpoint(String),
    /// Okta refused a fresh access token at the API (its text).
    AccessTokenRefused(String),
    /// 403 although every scope is granted: the app has no admin role.
    NoAdminRole(String),
}

impl ServiceAppFailure {
    /// A short stable name, for log fields.
    pub fn kind(&self) -> &'static str {
        match self {
            ServiceAppFailure::UnknownClient(_) => "unknown-client",
            ServiceAppFailure::KeyNotRegistered(_) => "key-not-registered",
            ServiceAppFailure::AssertionRefused(_) => "assertion-refused",
            ServiceAppFailure::ScopeNotGranted(_) => "scope-not-granted",
            ServiceAppFailure::DpopRequired => "dpop-required",
            ServiceAppFailure::DpopRefused(_) => "dpop-refused",
            ServiceAppFailure::Signing(_) => "signing",
            ServiceAppFailure::TokenEndpoint(_) => "token-endpoint",
            ServiceAppFailure::AccessTokenRefused(_) => "access-token-refused",
            ServiceAppFailure::NoAdminRole(_) => "no-admin-role",
        }
    }

    /// The same failure with `secret` replaced wherever it was echoed.
    pub fn redact(self, secret: &str) -> Self {
        let r = |s: String| s.replace(secret, "[redacted]");
        match self {
            ServiceAppFailure::UnknownClient(s) => ServiceAppFailure::UnknownClient(r(s)),
            ServiceAppFailure::KeyNotRegistered(s) => ServiceAppFailure::KeyNotRegistered(r(s)),
            ServiceAppFailure::AssertionRefused(s) => ServiceAppFailure::AssertionRefused(r(s)),
            ServiceAppFailure::DpopRefused(s) => ServiceAppFailure::DpopRefused(r(s)),
            ServiceAppFailure::Signing(s) => ServiceAppFailure::Signing(r(s)),
            ServiceAppFailure::TokenEndpoint(s) => ServiceAppFailure::TokenEndpoint(r(s)),
            ServiceAppFailure::AccessTokenRefused(s) => ServiceAppFailure::AccessTokenRefused(r(s)),
            ServiceAppFailure::NoAdminRole(s) => ServiceAppFailure::NoAdminRole(r(s)),
            f @ (ServiceAppFailure::ScopeNotGranted(_) | ServiceAppFailure::DpopRequired) => f,
        }
    }
}

impl fmt::Display for ServiceAppFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceAppFailure::UnknownClient(id) => write!(
                f,
                "Okta knows no service app with client ID `{id}` (invalid_client). Copy the Client ID from Applications > Applications > your API Services app > General."
            ),
            ServiceAppFailure::KeyNotRegistered(kid) => write!(
                f,
                "Okta did not accept the signature of the client assertion (invalid_client): the public key with kid `{kid}` is not registered for this app. In Okta, open the app > General > Client Credentials > Public keys > Add key, and paste the public JWK the host shows for this config."
            ),
            ServiceAppFailure::AssertionRefused(why) => write!(
                f,
                "Okta refused the client assertion (invalid_client): {why} Check that this host's clock is right."
            ),
            ServiceAppFailure::ScopeNotGranted(scopes) => write!(
                f,
                "The service app is not granted {} {}. In Okta, open the app > Okta API Scopes and Grant {}.",
                if scopes.len() == 1 {
                    "the scope"
                } else {
                    "the scopes"
                },
                scopes.join(", "),
                scopes.join(" and ")
            ),
            ServiceAppFailure::DpopRequired => write!(
                f,
                "The service app requires DPoP (\"Require Demonstrating Proof of Possession (DPoP) header in token requests\" is checked in Okta): turn DPoP on for this config, or clear that box in Okta."
            ),
            ServiceAppFailure::DpopRefused(why) => write!(f, "Okta refused the DPoP proof: {why}"),
            ServiceAppFailure::Signing(why) => {
                write!(f, "The host could not sign the client assertion: {why}")
            }
            ServiceAppFailure::TokenEndpoint(why) => {
                write!(f, "Okta's token endpoint refused the request: {why}")
            }
            ServiceAppFailure::AccessTokenRefused(why) => write!(
                f,
                "Okta refused the service app's access token right after issuing it: {why}"
            ),
            ServiceAppFailure::NoAdminRole(why) => write!(
                f,
                "Okta refused access ({why}) although the scopes are granted: the service app needs an admin role. In Okta, open the app > Admin roles > Edit assignments and assign Read-Only Administrator."
            ),
        }
    }
}
