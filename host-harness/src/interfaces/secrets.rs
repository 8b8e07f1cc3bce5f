//! `infraon:okta/secrets`: credentials, encrypted at rest by the fake Infraon
//! and never logged by the host.

use crate::bindings::infraon::okta::secrets::{Host, SecretsError};
use crate::state::PluginState;

impl From<fake_infraon::SecretsError> for SecretsError {
    fn from(e: fake_infraon::SecretsError) -> Self {
        match e {
            fake_infraon::SecretsError::Unavailable(m) => SecretsError::Unavailable(m),
            fake_infraon::SecretsError::Other(m) => SecretsError::Other(m),
        }
    }
}

impl Host for PluginState {
    fn put(&mut self, name: String, value: String) -> Result<(), SecretsError> {
        Ok(self.infraon.secret_put(crate::PLUGIN_ID, &name, &value)?)
    }

    fn get(&mut self, name: String) -> Result<Option<String>, SecretsError> {
        Ok(self.infraon.secret_get(crate::PLUGIN_ID, &name)?)
    }

    fn delete(&mut self, name: String) -> Result<(), SecretsError> {
        Ok(self.infraon.secret_delete(crate::PLUGIN_ID, &name)?)
    }
}
