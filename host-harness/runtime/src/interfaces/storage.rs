//! `infraon:okta/storage` over the [`Storage`](crate::backend::Storage)
//! backend, under the plugin's own owner.

use crate::backend;
use crate::bindings::infraon::okta::storage::{Host, StorageError};
use crate::state::PluginState;

impl From<backend::StorageError> for StorageError {
    fn from(e: backend::StorageError) -> Self {
        match e {
            backend::StorageError::QuotaExceeded => StorageError::QuotaExceeded,
            backend::StorageError::Unavailable(m) => StorageError::Unavailable(m),
            backend::StorageError::Other(m) => StorageError::Other(m),
        }
    }
}

impl Host for PluginState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(super::blocking(self.backends.storage.is_busy(), || {
            self.backends.storage.get(crate::PLUGIN_ID, &key)
        })?)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), StorageError> {
        Ok(super::blocking(self.backends.storage.is_busy(), || {
            self.backends.storage.set(crate::PLUGIN_ID, &key, &value)
        })?)
    }

    fn delete(&mut self, key: String) -> Result<(), StorageError> {
        Ok(super::blocking(self.backends.storage.is_busy(), || {
            self.backends.storage.delete(crate::PLUGIN_ID, &key)
        })?)
    }

    fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, StorageError> {
        Ok(super::blocking(self.backends.storage.is_busy(), || {
            self.backends.storage.list_keys(crate::PLUGIN_ID, &prefix)
        })?)
    }
}
