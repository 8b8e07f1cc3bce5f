//! `infraon:okta/signing` (since 0.2.0): RS256 signatures with the service
//! app keys of [`crate::keys`], only for the config the operation serves.
//! A key never crosses into the guest; only public JWKs and signatures do.

use crate::bindings::infraon::okta::signing::{Host, KeyPurpose, PublicKey, SigningError};
use crate::keys::{KeyError, KeyRing};
use crate::state::PluginState;

impl From<KeyError> for SigningError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::NoKey(m) => SigningError::NoKey(m),
            KeyError::Refused(m) => SigningError::Refused(m),
            KeyError::Store(m) => SigningError::Unavailable(m),
        }
    }
}

impl PluginState {
    /// The plugin may sign only as the config this operation serves.
    fn signing_scope(&self, config: &str) -> Result<String, SigningError> {
        match &self.scope.config {
            Some(c) if c.trim().eq_ignore_ascii_case(config.trim()) => Ok(c.trim().to_owned()),
            _ => Err(SigningError::Refused(format!(
                "this operation does not serve config `{config}`"
            ))),
        }
    }
}

impl Host for PluginState {
    fn current_key(
        &mut self,
        config: String,
        purpose: KeyPurpose,
    ) -> Result<PublicKey, SigningError> {
        let config = self.signing_scope(&config)?;
        let dpop = matches!(purpose, KeyPurpose::Dpop);
        let (kid, jwk) = KeyRing::current(&*self.backends.secrets, &config, dpop)?;
        Ok(PublicKey {
            kid,
            jwk: jwk.to_string(),
        })
    }

    fn sign(
        &mut self,
        config: String,
        kid: String,
        signing_input: Vec<u8>,
    ) -> Result<Vec<u8>, SigningError> {
        let config = self.signing_scope(&config)?;
        Ok(KeyRing::sign(
            &*self.backends.secrets,
            &config,
            &kid,
            &signing_input,
        )?)
    }
}
