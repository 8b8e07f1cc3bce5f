//! Exports whose bodies arrive with a later capability (SSO). Until then each answers the typed `unsupported`
//! error, so a host can tell "not in this version" from a failure.

use crate::exports::infraon::okta::sso;
use crate::infraon::okta::types::SyncTarget;

const NOT_YET: &str = "not available in this plugin version (0.1.0): arrives in a later release";

impl sso::Guest for crate::Plugin {
    fn configure(_config: String, _settings: sso::SsoSettings) -> Result<(), sso::SsoError> {
        Err(sso::SsoError::Unsupported(NOT_YET.into()))
    }

    fn begin_login(
        _config: String,
        _kind: SyncTarget,
        _redirect: String,
    ) -> Result<sso::LoginStart, sso::SsoError> {
        Err(sso::SsoError::Unsupported(NOT_YET.into()))
    }

    fn complete_login(
        _config: String,
        _state: String,
        _code: String,
    ) -> Result<sso::SignedIn, sso::SsoError> {
        Err(sso::SsoError::Unsupported(NOT_YET.into()))
    }
}
