//! The `install` and `verify` exports over the ports: configs in `storage`,
//! tokens in `secrets`, nothing kept unless Okta verified.

use thiserror::Error;

use crate::auth::{Credential, ServiceApp};
use crate::config::{
    self, ConfigForm, ConfigSummary, FieldError, InstallOptions, StoredConfig, find_duplicate,
};
use crate::migration::{self, Change, Migration};
use crate::okta_error::OktaFailure;
use crate::origin::OktaOrigin;
use crate::ports::{Host, Level};
pub use crate::store::{config_key, state_prefix, token_key};
use crate::store::{credential, find_config, installed_names, save_config, store_err};
use crate::time::rfc3339_from_unix_ms;
use crate::verify::{VerifyReport, verify};

/// Why a config could not be installed, updated or removed
/// (WIT `install-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum InstallError {
    /// The form is not valid; one entry per field at fault.
    #[error("the configuration is not valid: {}", join(.0))]
    InvalidConfig(Vec<FieldError>),
    /// A config with this name is already installed.
    #[error("a config named `{0}` is already installed; choose another name")]
    DuplicateName(String),
    /// No config with this name is installed.
    #[error("no config named `{0}` is installed")]
    UnknownConfig(String),
    /// Okta did not verify; nothing was kept.
    #[error("verification failed, nothing was saved: {0}")]
    VerificationFailed(OktaFailure),
    /// The host's storage or secret store failed.
    #[error("the host's store failed: {0}")]
    Storage(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Why verification failed (WIT `verify-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// The form is not valid; nothing was sent to Okta.
    #[error("the configuration is not valid: {}", join(.0))]
    InvalidConfig(Vec<FieldError>),
    /// No config with this name is installed.
    #[error("no config named `{0}` is installed")]
    UnknownConfig(String),
    /// Okta (or the way to it) failed.
    #[error("{0}")]
    Okta(OktaFailure),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Field messages quote what the admin typed; if the token was pasted into
/// another field, it must not travel on in an error.
fn redact_fields(errors: Vec<FieldError>, token: &str) -> Vec<FieldError> {
    let token = token.trim();
    if token.len() < 8 {
        return errors;
    }
    errors
        .into_iter()
        .map(|e| FieldError {
            message: e.message.replace(token, "[redacted]"),
            ..e
        })
        .collect()
}

fn fields_of(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| e.field.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn log_verified(host: &mut Host<'_>, what: &str, name: &str, report: &VerifyReport) {
    let requests = report.requests.to_string();
    let elapsed = report.elapsed_ms.to_string();
    host.log.write(
        Level::Info,
        what,
        &[
            ("config", name),
            ("okta_origin", &report.okta_origin),
            ("requests", &requests),
            ("elapsed_ms", &elapsed),
            (
                "okta_request_id",
                report.okta_request_id.as_deref().unwrap_or(""),
            ),
        ],
    );
}

fn log_failure(host: &mut Host<'_>, what: &str, name: &str, failure: &OktaFailure) {
    let text = failure.to_string();
    host.log.write(
        Level::Warn,
        what,
        &[
            ("config", name),
            ("failure", failure.kind()),
            ("error", &text),
        ],
    );
}

/// Validate, verify against Okta, then keep the token in `secrets` and the
/// config in `storage`. Nothing is kept unless verification passes.
pub fn install(
    host: &mut Host<'_>,
    form: &ConfigForm,
    options: &InstallOptions,
) -> Result<ConfigSummary, InstallError> {
    let name = form.name.trim();
    let existing = installed_names(host.storage).map_err(store_err)?;
    let origin = match config::validate_form(form, options, &existing) {
        Ok(origin) => origin,
        Err(errors) => {
            let errors = redact_fields(errors, &form.api_token);
            host.log.write(
                Level::Warn,
                "install refused: invalid configuration",
                &[("config", name), ("fields", &fields_of(&errors))],
            );
            let duplicate = find_duplicate(name, &existing);
            return Err(match duplicate {
                // Report the dedicated case when it is the only problem.
                Some(d) if errors.len() == 1 && errors[0].field == "name" => {
                    InstallError::DuplicateName(d.clone())
                }
                _ => InstallError::InvalidConfig(errors),
            });
        }
    };
    let token = form.api_token.trim();
    let cred = form_credential(form, name, &origin);
    let report = verify_or_log(
        host,
        name,
        &origin,
        &cred,
        "install refused: verification failed",
    )
    .map_err(InstallError::VerificationFailed)?;
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let cfg = StoredConfig {
        name: name.to_owned(),
        okta_origin: origin.to_string(),
        sync_target: form.sync_target,
        development_mode: options.development_mode,
        installed_at: now.clone(),
        updated_at: now.clone(),
        last_verified_at: Some(now),
        role_defaults: crate::mapping::ROLE_DEFAULTS_VERSION,
        auth: form.auth_method(),
    };
    if cred.api_token().is_some() {
        host.secrets
            .put(&token_key(name), token)
            .map_err(store_err)?;
    }
    if let Err(e) = save_config(host.storage, &cfg) {
        // A token without a config would be an orphan nobody can remove.
        let _ = host.secrets.delete(&token_key(name));
        return Err(e);
    }
    log_verified(host, "config installed", name, &report);
    Ok(cfg.into())
}

/// What a form authenticates with: its API token, or its service app.
fn form_credential(form: &ConfigForm, name: &str, origin: &OktaOrigin) -> Credential {
    match &form.service_app {
        None => Credential::ApiToken(form.api_token.trim().to_owned()),
        Some(app) => {
            Credential::ServiceApp(ServiceApp::new(name, &app.client_id, app.dpop, origin))
        }
    }
}

fn verify_or_log(
    host: &mut Host<'_>,
    name: &str,
    origin: &OktaOrigin,
    cred: &Credential,
    what: &str,
) -> Result<VerifyReport, OktaFailure> {
    verify(
        host.http,
        host.clock,
        origin,
        cred.auth(host.signer, host.clock),
    )
    .inspect_err(|f| log_failure(host, what, name, f))
}

/// Replace an installed config of the same name, verified like [`install`].
/// A blank `api_token` keeps the stored token. Renaming is not supported:
/// the name identifies the config. Changing the Sync target or the Okta org
/// while people are linked is refused: see [`update_migrating`].
pub fn update(
    host: &mut Host<'_>,
    form: &ConfigForm,
    options: &InstallOptions,
) -> Result<ConfigSummary, InstallError> {
    update_migrating(host, form, options, None)
}

/// [`update`], confirming what happens to the linked people when the Sync
/// target or the Okta org changes (see [`crate::migration`]); `migration`
/// is ignored when neither changes.
pub fn update_migrating(
    host: &mut Host<'_>,
    form: &ConfigForm,
    options: &InstallOptions,
    migration: Option<Migration>,
) -> Result<ConfigSummary, InstallError> {
    let current = find_config(host.storage, &form.name)
        .map_err(InstallError::Storage)?
        .ok_or_else(|| InstallError::UnknownConfig(form.name.trim().to_owned()))?;
    let name = current.name.as_str();
    let origin = config::validate(form, options, &[], false)
        .map_err(|e| InstallError::InvalidConfig(redact_fields(e, &form.api_token)))?;
    let change = Change {
        from: current.sync_target,
        to: form.sync_target,
        org: current.okta_origin != origin.to_string(),
    };
    migration::check(host, name, change, migration)?;
    let new_token = Some(form.api_token.trim()).filter(|t| !t.is_empty());
    let stored_token = host.secrets.get(&token_key(name)).map_err(store_err)?;
    let cred = match &form.service_app {
        Some(_) => form_credential(form, name, &origin),
        None => match new_token.map(str::to_owned).or(stored_token.clone()) {
            Some(token) => Credential::ApiToken(token),
            None => {
                return Err(InstallError::InvalidConfig(vec![FieldError::new(
                    "api-token",
                    "No API token is stored for this config; enter the Okta API token.",
                )]));
            }
        },
    };
    let report = verify_or_log(
        host,
        name,
        &origin,
        &cred,
        "update refused: verification failed",
    )
    .map_err(InstallError::VerificationFailed)?;
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let cfg = StoredConfig {
        okta_origin: origin.to_string(),
        sync_target: form.sync_target,
        development_mode: options.development_mode,
        updated_at: now.clone(),
        last_verified_at: Some(now),
        auth: form.auth_method(),
        ..current.clone()
    };
    if let Some(m) = migration {
        let moved = migration::apply(host, name, change, m)?;
        if change.matters() {
            let (n, how) = (moved.to_string(), format!("{m:?}").to_lowercase());
            host.log.write(
                Level::Warn,
                "config migrated its people",
                &[("config", name), ("people", &n), ("migration", &how)],
            );
        }
    }
    if let (Some(token), Some(_)) = (cred.api_token(), new_token) {
        host.secrets
            .put(&token_key(name), token)
            .map_err(store_err)?;
    }
    if let Err(e) = save_config(host.storage, &cfg) {
        // Keep the token consistent with the config that is still stored.
        if let (Some(_), Some(old)) = (new_token, &stored_token) {
            let _ = host.secrets.put(&token_key(name), old);
        }
        return Err(e);
    }
    if cred.api_token().is_none() && stored_token.is_some() {
        // Switched to a service app: the API token has no use left.
        host.secrets.delete(&token_key(name)).map_err(store_err)?;
    }
    log_verified(host, "config updated", name, &report);
    Ok(cfg.into())
}

/// Remove a config, its token and everything under its state prefix.
pub fn uninstall(host: &mut Host<'_>, name: &str) -> Result<(), InstallError> {
    let cfg = find_config(host.storage, name)
        .map_err(InstallError::Storage)?
        .ok_or_else(|| InstallError::UnknownConfig(name.trim().to_owned()))?;
    let name = cfg.name.as_str();
    for key in host
        .storage
        .list_keys(&state_prefix(name))
        .map_err(store_err)?
    {
        host.storage.delete(&key).map_err(store_err)?;
    }
    host.secrets.delete(&token_key(name)).map_err(store_err)?;
    // Last, so a failure above leaves the config listed and the uninstall retryable.
    host.storage.delete(&config_key(name)).map_err(store_err)?;
    host.log
        .write(Level::Info, "config uninstalled", &[("config", name)]);
    Ok(())
}

/// The installed configs, sorted by name.
pub fn list(host: &mut Host<'_>) -> Result<Vec<ConfigSummary>, InstallError> {
    let mut out = Vec::new();
    for name in installed_names(host.storage).map_err(store_err)? {
        let Some(bytes) = host.storage.get(&config_key(&name)).map_err(store_err)? else {
            continue;
        };
        match serde_json::from_slice::<StoredConfig>(&bytes) {
            Ok(cfg) => out.push(ConfigSummary::from(cfg)),
            // One damaged entry should not hide the others.
            Err(e) => host.log.write(
                Level::Warn,
                "skipping an unreadable stored config",
                &[("config", &name), ("error", &e.to_string())],
            ),
        }
    }
    out.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.name.cmp(&b.name))
    });
    Ok(out)
}

/// Verify a form before it is installed. A blank token falls back to the
/// stored token of the installed config of that name, so an edit form can be
/// verified without re-entering it.
pub fn verify_form(
    host: &mut Host<'_>,
    form: &ConfigForm,
    options: &InstallOptions,
) -> Result<VerifyReport, VerifyError> {
    let name = form.name.trim();
    let stored_token = if form.api_token.trim().is_empty() && form.service_app.is_none() {
        match find_config(host.storage, name).map_err(VerifyError::Other)? {
            Some(cfg) => host
                .secrets
                .get(&token_key(&cfg.name))
                .map_err(|e| VerifyError::Other(e.to_string()))?,
            None => None,
        }
    } else {
        None
    };
    let origin = config::validate(form, options, &[], stored_token.is_none())
        .map_err(|e| VerifyError::InvalidConfig(redact_fields(e, &form.api_token)))?;
    let cred = match stored_token {
        Some(token) => Credential::ApiToken(token),
        None => form_credential(form, name, &origin),
    };
    let report = verify_or_log(host, name, &origin, &cred, "verification failed")
        .map_err(VerifyError::Okta)?;
    log_verified(host, "form verified", name, &report);
    Ok(report)
}

/// Verify an installed config with its stored token; on success the config's
/// `last_verified_at` is updated.
pub fn verify_installed(host: &mut Host<'_>, name: &str) -> Result<VerifyReport, VerifyError> {
    let mut cfg = find_config(host.storage, name)
        .map_err(VerifyError::Other)?
        .ok_or_else(|| VerifyError::UnknownConfig(name.trim().to_owned()))?;
    let origin = cfg.origin().map_err(|e| {
        VerifyError::Other(format!("the stored Okta origin is no longer valid: {e}"))
    })?;
    let cred = credential(host.secrets, &cfg).map_err(VerifyError::Other)?;
    let report = verify_or_log(host, &cfg.name, &origin, &cred, "verification failed")
        .map_err(VerifyError::Okta)?;
    cfg.last_verified_at = Some(rfc3339_from_unix_ms(host.clock.now_unix_ms()));
    if let Err(e) = save_config(host.storage, &cfg) {
        // Okta did verify; failing to record when is not worth failing the call.
        host.log.write(
            Level::Warn,
            "could not record the verification time",
            &[("config", &cfg.name), ("error", &e.to_string())],
        );
    }
    log_verified(host, "config verified", &cfg.name, &report);
    Ok(report)
}
