//! The other `plugin_core` ports over the host imports.

use plugin_core::{Level, SecretsError, StorageError};

use crate::infraon::okta::{log, secrets, signing, storage};

/// The host's key-value store.
pub struct HostStorage;
/// The host's secret store.
pub struct HostSecrets;
/// The host's log.
pub struct HostLog;
/// The WASI wall clock.
pub struct WallClock;
/// The host's signing with its service-app keys.
pub struct HostSigner;

fn signing_error(e: signing::SigningError) -> plugin_core::SignError {
    match e {
        signing::SigningError::NoKey(m) => plugin_core::SignError::NoKey(m),
        signing::SigningError::Unavailable(m) => plugin_core::SignError::Unavailable(m),
        signing::SigningError::Refused(m) | signing::SigningError::Other(m) => {
            plugin_core::SignError::Other(m)
        }
    }
}

impl plugin_core::Signer for HostSigner {
    fn public_key(
        &self,
        config: &str,
        purpose: plugin_core::KeyPurpose,
    ) -> Result<plugin_core::PublicKey, plugin_core::SignError> {
        let purpose = match purpose {
            plugin_core::KeyPurpose::ClientAssertion => signing::KeyPurpose::ClientAssertion,
            plugin_core::KeyPurpose::Dpop => signing::KeyPurpose::Dpop,
        };
        let key = signing::current_key(config, purpose).map_err(signing_error)?;
        let jwk = serde_json::from_str(&key.jwk).map_err(|_| {
            plugin_core::SignError::Other("the host's public JWK is not JSON".into())
        })?;
        Ok(plugin_core::PublicKey { kid: key.kid, jwk })
    }

    fn sign(
        &self,
        config: &str,
        kid: &str,
        signing_input: &[u8],
    ) -> Result<Vec<u8>, plugin_core::SignError> {
        signing::sign(config, kid, signing_input).map_err(signing_error)
    }
}

fn storage_error(e: storage::StorageError) -> StorageError {
    match e {
        storage::StorageError::QuotaExceeded => StorageError::QuotaExceeded,
        storage::StorageError::Unavailable(m) => StorageError::Unavailable(m),
        storage::StorageError::Other(m) => StorageError::Other(m),
    }
}

fn secrets_error(e: secrets::SecretsError) -> SecretsError {
    match e {
        secrets::SecretsError::Unavailable(m) => SecretsError::Unavailable(m),
        secrets::SecretsError::Other(m) => SecretsError::Other(m),
    }
}

impl plugin_core::Storage for HostStorage {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        storage::get(key).map_err(storage_error)
    }
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        storage::set(key, value).map_err(storage_error)
    }
    fn delete(&mut self, key: &str) -> Result<(), StorageError> {
        storage::delete(key).map_err(storage_error)
    }
    fn list_keys(&mut self, prefix: &str) -> Result<Vec<String>, StorageError> {
        storage::list_keys(prefix).map_err(storage_error)
    }
}

impl plugin_core::Secrets for HostSecrets {
    fn put(&mut self, name: &str, value: &str) -> Result<(), SecretsError> {
        secrets::put(name, value).map_err(secrets_error)
    }
    fn get(&mut self, name: &str) -> Result<Option<String>, SecretsError> {
        secrets::get(name).map_err(secrets_error)
    }
    fn delete(&mut self, name: &str) -> Result<(), SecretsError> {
        secrets::delete(name).map_err(secrets_error)
    }
}

impl plugin_core::Clock for WallClock {
    fn now_unix_ms(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    fn sleep_ms(&self, ms: u64) {
        // WASI's monotonic clock: this instance blocks, the host does not.
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

impl plugin_core::Log for HostLog {
    fn write(&mut self, level: Level, message: &str, fields: &[(&str, &str)]) {
        let level = match level {
            Level::Debug => log::Level::Debug,
            Level::Info => log::Level::Info,
            Level::Warn => log::Level::Warn,
            Level::Error => log::Level::Error,
        };
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        log::write(level, message, &fields);
    }
}

/// Run `f` with every port backed by the host.
pub fn with_host<R>(f: impl FnOnce(&mut plugin_core::Host<'_>) -> R) -> R {
    let (mut http, mut storage, mut secrets, mut log) =
        (crate::http::WasiHttp, HostStorage, HostSecrets, HostLog);
    let mut directory = crate::directory::HostDirectory;
    let mut host = plugin_core::Host {
        http: &mut http,
        storage: &mut storage,
        secrets: &mut secrets,
        clock: &WallClock,
        log: &mut log,
        directory: &mut directory,
        signer: &HostSigner,
    };
    f(&mut host)
}
