//! `infraon:okta/storage` over the fake Infraon's key-value table.

use crate::bindings::infraon::okta::storage::{Host, StorageError};
use crate::state::PluginState;

impl From<fake_infraon::StorageError> for StorageError {
    fn from(e: fake_infraon::StorageError) -> Self {
        match e {
            fake_infraon::StorageError::QuotaExceeded => StorageError::QuotaExceeded,
            fake_infraon::StorageError::Unavailable(m) => StorageError::Unavailable(m),
            fake_infraon::StorageError::Other(m) => StorageError::Other(m),
        }
    }
}

impl Host for PluginState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.infraon.storage_get(crate::PLUGIN_ID, &key)?)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), StorageError> {
        Ok(self.infraon.storage_set(crate::PLUGIN_ID, &key, &value)?)
    }

    fn delete(&mut self, key: String) -> Result<(), StorageError> {
        Ok(self.infraon.storage_delete(crate::PLUGIN_ID, &key)?)
    }

    fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, StorageError> {
        Ok(self.infraon.storage_list_keys(crate::PLUGIN_ID, &prefix)?)
    }
}
