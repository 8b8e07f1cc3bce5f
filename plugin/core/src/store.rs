//! Where configs and tokens live: the storage keys and the config records.

use crate::auth::{AuthMethod, Credential, ServiceApp};
use crate::config::{StoredConfig, find_duplicate};
use crate::install::InstallError;
use crate::ports::{Storage, StorageError};

/// Storage key of a config's [`StoredConfig`] JSON.
pub fn config_key(name: &str) -> String {
    format!("config/{name}")
}

/// Secret name of a config's API token.
pub fn token_key(name: &str) -> String {
    format!("token/{name}")
}

/// Storage prefix of a config's plugin state (sync checkpoints, history...).
pub fn state_prefix(name: &str) -> String {
    format!("state/{name}/")
}

const CONFIG_PREFIX: &str = "config/";

/// A storage or secrets failure as an [`InstallError`].
pub fn store_err(e: impl std::fmt::Display) -> InstallError {
    InstallError::Storage(e.to_string())
}

/// Names of the installed configs, in key order.
pub fn installed_names(storage: &mut dyn Storage) -> Result<Vec<String>, StorageError> {
    Ok(storage
        .list_keys(CONFIG_PREFIX)?
        .into_iter()
        .filter_map(|k| k.strip_prefix(CONFIG_PREFIX).map(str::to_owned))
        .collect())
}

/// The installed config named `name`, matched exactly or else ignoring case
/// (names are unique ignoring case).
pub fn find_config(storage: &mut dyn Storage, name: &str) -> Result<Option<StoredConfig>, String> {
    let names = installed_names(storage).map_err(|e| e.to_string())?;
    let Some(found) = names
        .iter()
        .find(|n| *n == name.trim())
        .or_else(|| find_duplicate(name, &names))
    else {
        return Ok(None);
    };
    let Some(bytes) = storage.get(&config_key(found)).map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("the stored config `{found}` is unreadable: {e}"))
}

/// Write a config under its key, as JSON.
pub fn save_config(storage: &mut dyn Storage, cfg: &StoredConfig) -> Result<(), InstallError> {
    let json = serde_json::to_vec(cfg).map_err(|e| InstallError::Other(e.to_string()))?;
    storage
        .set(&config_key(&cfg.name), &json)
        .map_err(store_err)
}

/// What an installed config authenticates with: its API token from
/// `secrets`, or its service app (whose keys the host holds).
pub fn credential(
    secrets: &mut dyn crate::ports::Secrets,
    cfg: &StoredConfig,
) -> Result<Credential, String> {
    match &cfg.auth {
        AuthMethod::ApiToken => secrets
            .get(&token_key(&cfg.name))
            .map_err(|e| e.to_string())?
            .map(Credential::ApiToken)
            .ok_or_else(|| {
                format!(
                    "no API token is stored for config `{}`; update the config with a token",
                    cfg.name
                )
            }),
        AuthMethod::ServiceApp { client_id, dpop } => {
            let origin = cfg
                .origin()
                .map_err(|e| format!("the stored Okta origin is no longer valid: {e}"))?;
            Ok(Credential::ServiceApp(ServiceApp::new(
                &cfg.name, client_id, *dpop, &origin,
            )))
        }
    }
}
