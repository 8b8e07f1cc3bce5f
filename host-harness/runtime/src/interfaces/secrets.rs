//! `infraon:okta/secrets` over the [`Secrets`](crate::backend::Secrets)
//! backend (which encrypts at rest); the host never logs a value.

use crate::backend;
use crate::bindings::infraon::okta::secrets::{Host, SecretsError};
use crate::state::PluginState;

impl From<backend::SecretsError> for SecretsError {
    fn from(e: backend::SecretsError) -> Self {
        match e {
            backend::SecretsError::Unavailable(m) => SecretsError::Unavailable(m),
            backend::SecretsError::Other(m) => SecretsError::Other(m),
        }
    }
}

impl Host for PluginState {
    fn put(&mut self, name: String, value: String) -> Result<(), SecretsError> {
        Ok(self.backends.secrets.put(crate::PLUGIN_ID, &name, &value)?)
    }

    fn get(&mut self, name: String) -> Result<Option<String>, SecretsError> {
        Ok(self.backends.secrets.get(crate::PLUGIN_ID, &name)?)
    }

    fn delete(&mut self, name: String) -> Result<(), SecretsError> {
        Ok(self.backends.secrets.delete(crate::PLUGIN_ID, &name)?)
    }
}
