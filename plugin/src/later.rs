//! Exports whose bodies arrive with later capabilities (mapping editing,
//! export, SSO). Until then each answers the typed `unsupported`
//! error, so a host can tell "not in this version" from a failure.

use crate::exports::infraon::okta::{export as ex, map, sso};
use crate::infraon::okta::types::SyncTarget;

const NOT_YET: &str = "not available in this plugin version (0.1.0): arrives in a later release";

impl map::Guest for crate::Plugin {
    fn defaults(_kind: SyncTarget) -> map::Mapping {
        map::Mapping {
            fields: Vec::new(),
            role_rules: Vec::new(),
            default_user_role: None,
            default_requester_role: None,
        }
    }

    fn get(_config: String) -> Result<map::Mapping, map::MapError> {
        Err(map::MapError::Unsupported(NOT_YET.into()))
    }

    fn set(_config: String, _mapping: map::Mapping) -> Result<(), map::MapError> {
        Err(map::MapError::Unsupported(NOT_YET.into()))
    }

    fn reset(_config: String) -> Result<map::Mapping, map::MapError> {
        Err(map::MapError::Unsupported(NOT_YET.into()))
    }

    fn preview(_config: String, _login: String) -> Result<map::Person, map::MapError> {
        Err(map::MapError::Unsupported(NOT_YET.into()))
    }

    fn discover_schema(_config: String) -> Result<Vec<map::SchemaAttribute>, map::MapError> {
        Err(map::MapError::Unsupported(NOT_YET.into()))
    }
}

impl ex::Guest for crate::Plugin {
    fn unsynced_csv(_config: String, _run: Option<u64>) -> Result<String, ex::ExportError> {
        Err(ex::ExportError::Unsupported(NOT_YET.into()))
    }
}

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
