//! A config's SSO settings: validation, and where they are kept (the client
//! secret in `secrets`, the rest in storage).

use plugin_core::store::{find_config, state_prefix};
use plugin_core::time::rfc3339_from_unix_ms;
use plugin_core::{FieldError, Host, StoredConfig, SyncTarget};
use serde::{Deserialize, Serialize};

use crate::{SsoError, store_err};

/// A config's SSO settings as the admin enters them (WIT `sso-settings`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoSettings {
    /// SSO for Infraon Users.
    pub users_enabled: bool,
    /// SSO for Self-Service Portal Requesters.
    pub requesters_enabled: bool,
    /// The OIDC client id.
    pub client_id: String,
    /// The client secret (kept in `secrets`); `None` for a public PKCE client.
    pub client_secret: Option<String>,
    /// A custom authorization server id (e.g. `default`); `None` (or blank)
    /// for the org authorization server.
    pub authorization_server: Option<String>,
    /// Create a Requester on first sign-in when none is linked.
    pub jit_requesters: bool,
}

/// The settings as kept in storage under `state/<config>/sso`: the secret is
/// deliberately absent, only whether there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSso {
    /// SSO for Infraon Users.
    pub users_enabled: bool,
    /// SSO for Self-Service Portal Requesters.
    pub requesters_enabled: bool,
    /// The OIDC client id.
    pub client_id: String,
    /// A client secret is in `secrets` under [`secret_key`].
    pub confidential: bool,
    /// Custom authorization server id; `None` for the org server.
    pub authorization_server: Option<String>,
    /// Create a Requester on first sign-in when none is linked.
    pub jit_requesters: bool,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

impl StoredSso {
    /// Whether SSO is on for `kind`.
    pub fn enabled_for(&self, kind: SyncTarget) -> bool {
        match kind {
            SyncTarget::Users => self.users_enabled,
            SyncTarget::Requesters => self.requesters_enabled,
        }
    }
}

/// Storage key of a config's [`StoredSso`].
pub fn settings_key(config: &str) -> String {
    format!("{}sso", state_prefix(config))
}

/// Secret name of a config's OIDC client secret.
pub fn secret_key(config: &str) -> String {
    format!("sso-secret/{config}")
}

/// Storage key of a config's cached discovery document.
pub fn discovery_key(config: &str) -> String {
    format!("{}sso-discovery", state_prefix(config))
}

/// Storage key of a config's cached JWKS.
pub fn jwks_key(config: &str) -> String {
    format!("{}sso-jwks", state_prefix(config))
}

/// Storage prefix of a config's pending logins.
pub fn logins_prefix(config: &str) -> String {
    format!("{}sso-login/", state_prefix(config))
}

/// Storage key of one pending login.
pub fn login_key(config: &str, state: &str) -> String {
    format!("{}{state}", logins_prefix(config))
}

/// The installed config named `config` (matched as the rest of the plugin
/// matches names), or [`SsoError::UnknownConfig`].
pub(crate) fn installed(host: &mut Host, config: &str) -> Result<StoredConfig, SsoError> {
    find_config(host.storage, config)
        .map_err(SsoError::Other)?
        .ok_or_else(|| SsoError::UnknownConfig(config.trim().to_owned()))
}

/// Validate and save a config's SSO settings. The client secret goes to
/// `secrets` only; saving without one removes a stored one (a public
/// client). Cached discovery and keys are dropped, as the authorization
/// server may have changed.
pub fn configure(host: &mut Host, config: &str, settings: SsoSettings) -> Result<(), SsoError> {
    let cfg = installed(host, config)?;
    let valid = validate(&settings).map_err(SsoError::InvalidSettings)?;
    let name = cfg.name.as_str();
    match &valid.client_secret {
        Some(secret) => host.secrets.put(&secret_key(name), secret),
        None => host.secrets.delete(&secret_key(name)),
    }
    .map_err(store_err)?;
    let stored = StoredSso {
        users_enabled: valid.users_enabled,
        requesters_enabled: valid.requesters_enabled,
        client_id: valid.client_id,
        confidential: valid.client_secret.is_some(),
        authorization_server: valid.authorization_server,
        jit_requesters: valid.jit_requesters,
        updated_at: rfc3339_from_unix_ms(host.clock.now_unix_ms()),
    };
    let json = serde_json::to_vec(&stored).map_err(|e| SsoError::Other(e.to_string()))?;
    host.storage
        .set(&settings_key(name), &json)
        .map_err(store_err)?;
    for key in [discovery_key(name), jwks_key(name)] {
        host.storage.delete(&key).map_err(store_err)?;
    }
    Ok(())
}

/// Remove what SSO keeps outside `state/<config>/` (the client secret); for
/// uninstall, which removes the `state/<config>/` prefix itself.
pub fn forget(host: &mut Host, config: &str) -> Result<(), SsoError> {
    host.secrets
        .delete(&secret_key(config.trim()))
        .map_err(store_err)
}

/// A config's saved settings, or `None` if SSO was never configured.
pub(crate) fn load(host: &mut Host, config: &str) -> Result<Option<StoredSso>, SsoError> {
    let Some(bytes) = host.storage.get(&settings_key(config)).map_err(store_err)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        SsoError::Other(format!(
            "The saved SSO settings of `{config}` are unreadable ({e}); save them again."
        ))
    })
}

/// Check every field, reporting all at fault at once; returns the settings
/// trimmed, with a blank authorization server as the org server.
pub fn validate(s: &SsoSettings) -> Result<SsoSettings, Vec<FieldError>> {
    let mut errors = Vec::new();
    let client_id = s.client_id.trim();
    if let Err(m) = check_client_id(client_id) {
        errors.push(FieldError::new("client-id", m));
    }
    let secret = s.client_secret.as_deref().map(str::trim);
    if let Some(Err(m)) = secret.map(check_secret) {
        errors.push(FieldError::new("client-secret", m));
    }
    let server = s
        .authorization_server
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(Err(m)) = server.map(check_server) {
        errors.push(FieldError::new("authorization-server", m));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(SsoSettings {
        client_id: client_id.to_owned(),
        client_secret: secret.map(str::to_owned),
        authorization_server: server.map(str::to_owned),
        ..s.clone()
    })
}

fn check_client_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("Enter the client ID of the Okta OIDC app integration.".into());
    }
    if !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "The client ID contains spaces or characters a client ID never has; copy it again from the app's General tab in Okta."
                .into(),
        );
    }
    if id.len() > 256 {
        return Err("The client ID is far longer than an Okta client ID.".into());
    }
    Ok(())
}

/// Messages never quote the secret.
fn check_secret(secret: &str) -> Result<(), String> {
    if secret.is_empty() {
        return Err(
            "Enter the client secret, or leave it out for a public client that uses PKCE only."
                .into(),
        );
    }
    if !secret.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "The client secret contains spaces, line breaks or characters a secret never has; paste it again."
                .into(),
        );
    }
    if secret.len() > 512 {
        return Err("The client secret is far longer than an Okta client secret.".into());
    }
    Ok(())
}

/// Only an id: it becomes a path segment of the issuer URL.
fn check_server(id: &str) -> Result<(), String> {
    if id.contains("://") || id.contains('/') {
        return Err(
            "Enter only the authorization server's id (e.g. `default` or `aus1a2b3c4`), not its URL."
                .into(),
        );
    }
    if id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(
            "An authorization server id has only letters, digits, `-` and `_` (e.g. `default`)."
                .into(),
        );
    }
    Ok(())
}

/// A config's saved SSO settings as the console shows them: never the
/// client secret, only whether one is kept. `None` until saved.
pub fn saved(host: &mut Host, config: &str) -> Result<Option<StoredSso>, SsoError> {
    let cfg = installed(host, config)?;
    let Some(bytes) = host
        .storage
        .get(&settings_key(&cfg.name))
        .map_err(|e| SsoError::Other(e.to_string()))?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| SsoError::Other(format!("the saved SSO settings are unreadable: {e}")))
}
