//! The Marketplace configuration form, its validation, and the config as kept
//! in storage.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::auth::AuthMethod;
pub use crate::origin::{OktaOrigin, Scheme, parse_okta_domain};

/// Which Infraon population a config synchronises Okta users into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncTarget {
    /// Infraon Users: technicians and administrators.
    Users,
    /// Infraon Requesters: Self-Service Portal end users.
    Requesters,
}

impl SyncTarget {
    /// `users` or `requesters`.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncTarget::Users => "users",
            SyncTarget::Requesters => "requesters",
        }
    }
}

impl fmt::Display for SyncTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncTarget {
    type Err = String;

    /// Case-insensitive `users` / `requesters`, for the CLI.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "users" => Ok(SyncTarget::Users),
            "requesters" => Ok(SyncTarget::Requesters),
            _ => Err(format!(
                "`{s}` is not a sync target: use `users` or `requesters`."
            )),
        }
    }
}

/// The configuration form exactly as the admin filled it in (WIT `config-form`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigForm {
    /// "Config Name".
    pub name: String,
    /// "Okta Domain URL".
    pub okta_domain: String,
    /// "API Token"; never stored outside `secrets`, never logged. Unused
    /// (and must be blank) with a service app.
    pub api_token: String,
    /// "Sync".
    pub sync_target: SyncTarget,
    /// "Authentication: OAuth 2.0 service app"; `None` is the API token.
    pub service_app: Option<ServiceAppForm>,
}

/// The service-app half of the form (WIT `service-app`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAppForm {
    /// "Client ID" of the API Services app in Okta.
    pub client_id: String,
    /// "DPoP": the app requires DPoP-bound tokens (Okta's default for new
    /// API Services apps).
    pub dpop: bool,
}

impl ConfigForm {
    /// How this form authenticates, as it would be stored.
    pub fn auth_method(&self) -> AuthMethod {
        match &self.service_app {
            None => AuthMethod::ApiToken,
            Some(a) => AuthMethod::ServiceApp {
                client_id: a.client_id.trim().to_owned(),
                dpop: a.dpop,
            },
        }
    }
}

/// How the host installs a config (WIT `install-options`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InstallOptions {
    /// Accept `http://`, IP literals, `localhost` and ports (a local fake Okta).
    pub development_mode: bool,
}

/// One problem with one form field (WIT `field-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `name`, `okta-domain`, `api-token` or `sync-target`.
    pub field: String,
    /// What is wrong, in words an admin can act on.
    pub message: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Longest config name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Validate the whole form, reporting every field at fault at once.
///
/// `existing_names` are the installed configs; the name must differ from each
/// of them ignoring case. Returns the normalised Okta origin.
pub fn validate_form(
    form: &ConfigForm,
    options: &InstallOptions,
    existing_names: &[String],
) -> Result<OktaOrigin, Vec<FieldError>> {
    validate(form, options, existing_names, true)
}

/// Like [`validate_form`], but a blank token is allowed when `token_required`
/// is false (an update that keeps the stored token).
pub(crate) fn validate(
    form: &ConfigForm,
    options: &InstallOptions,
    existing_names: &[String],
    token_required: bool,
) -> Result<OktaOrigin, Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Err(m) = check_name(&form.name) {
        errors.push(FieldError::new("name", m));
    } else if let Some(other) = find_duplicate(&form.name, existing_names) {
        errors.push(FieldError::new(
            "name",
            format!("A config named `{other}` is already installed; choose another name."),
        ));
    }
    let origin = parse_okta_domain(&form.okta_domain, options.development_mode)
        .map_err(|m| errors.push(FieldError::new("okta-domain", m)))
        .ok();
    match &form.service_app {
        Some(app) => {
            if let Err(m) = check_client_id(&app.client_id) {
                errors.push(FieldError::new("client-id", m));
            }
            if !form.api_token.trim().is_empty() {
                errors.push(FieldError::new(
                    "api-token",
                    "A service app needs no API token; leave API Token blank.",
                ));
            }
        }
        None => {
            if (token_required || !form.api_token.trim().is_empty())
                && let Err(m) = check_token(&form.api_token)
            {
                errors.push(FieldError::new("api-token", m));
            }
        }
    }
    match origin {
        Some(o) if errors.is_empty() => Ok(o),
        _ => Err(errors),
    }
}

/// The installed name equal to `name` ignoring case and surrounding spaces.
pub fn find_duplicate<'a>(name: &str, existing_names: &'a [String]) -> Option<&'a String> {
    let wanted = name.trim().to_lowercase();
    existing_names.iter().find(|n| n.to_lowercase() == wanted)
}

fn check_name(name: &str) -> Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a config name.".into());
    }
    let len = name.chars().count();
    if len > MAX_NAME_CHARS {
        return Err(format!(
            "The config name may have at most {MAX_NAME_CHARS} characters; this one has {len}."
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(
            "The config name may not contain tabs, line breaks or other control characters.".into(),
        );
    }
    // The name is part of storage keys (`state/<name>/`); a `/` would let one
    // config's prefix cover another's state.
    if name.contains('/') {
        return Err("The config name may not contain `/`.".into());
    }
    Ok(())
}

/// Okta client ids are 20 characters of `[0-9A-Za-z]` today; only what no
/// client id has is refused. Messages never quote it.
fn check_client_id(id: &str) -> Result<(), String> {
    let id = id.trim();
    if id.is_empty() {
        return Err("Enter the Client ID of the service app (Okta: Applications > your API Services app > General).".into());
    }
    if id.len() > 128 || !id.chars().all(|c| c.is_ascii_graphic()) {
        return Err("The Client ID has characters or a length an Okta client ID never has; copy it again from Okta.".into());
    }
    Ok(())
}

/// Deliberately loose: Okta's token format is not documented as stable, so
/// only what can never be part of a token is rejected. Messages never quote it.
fn check_token(token: &str) -> Result<(), String> {
    let token = token.trim();
    if token.is_empty() {
        return Err("Enter the Okta API token.".into());
    }
    for prefix in ["SSWS ", "Bearer "] {
        if token
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        {
            return Err(format!(
                "Paste only the token itself, without the `{}` prefix.",
                prefix.trim()
            ));
        }
    }
    if token.chars().any(char::is_whitespace) {
        return Err(
            "The API token contains spaces or line breaks; paste it again as one line.".into(),
        );
    }
    if !token.chars().all(|c| c.is_ascii_graphic()) {
        return Err(
            "The API token contains characters an Okta token never has; paste it again from Okta."
                .into(),
        );
    }
    if token.len() > 512 {
        return Err("The API token is far longer than an Okta token; paste only the token.".into());
    }
    Ok(())
}

/// An installed config as kept in storage under `config/<name>` (JSON).
/// The API token is deliberately absent: it lives in `secrets` only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredConfig {
    /// The config name (the key).
    pub name: String,
    /// The normalised Okta origin, e.g. `https://acme.okta.com`.
    pub okta_origin: String,
    /// Users or Requesters.
    pub sync_target: SyncTarget,
    /// Installed in development mode.
    pub development_mode: bool,
    /// RFC 3339, UTC.
    pub installed_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// RFC 3339, UTC; last successful verification.
    pub last_verified_at: Option<String>,
    /// The role defaults this config was installed or last upgraded under
    /// (see [`crate::mapping::upgrade`]); absent (0) before safe role defaults.
    #[serde(default)]
    pub role_defaults: u32,
    /// API token or service app; configs stored before service apps
    /// existed use the API token.
    #[serde(default)]
    pub auth: AuthMethod,
}

impl StoredConfig {
    /// Re-parse the stored origin with the mode it was installed in.
    pub fn origin(&self) -> Result<OktaOrigin, String> {
        parse_okta_domain(&self.okta_origin, self.development_mode)
    }
}

/// An installed config as listed to the host (WIT `config-summary`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSummary {
    /// The config name.
    pub name: String,
    /// The normalised Okta origin.
    pub okta_origin: String,
    /// Users or Requesters.
    pub sync_target: SyncTarget,
    /// Installed in development mode.
    pub development_mode: bool,
    /// RFC 3339, UTC.
    pub installed_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// RFC 3339, UTC.
    pub last_verified_at: Option<String>,
    /// API token or service app (its client id; never a secret).
    pub auth: AuthMethod,
}

impl From<StoredConfig> for ConfigSummary {
    fn from(c: StoredConfig) -> Self {
        ConfigSummary {
            name: c.name,
            okta_origin: c.okta_origin,
            sync_target: c.sync_target,
            development_mode: c.development_mode,
            installed_at: c.installed_at,
            updated_at: c.updated_at,
            last_verified_at: c.last_verified_at,
            auth: c.auth,
        }
    }
}
