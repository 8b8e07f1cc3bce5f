//! The `sso` export over `plugin_sso`.

use plugin_sso as core;

use crate::convert::{failure, field_errors, sync_target, wit_sync_target};
use crate::exports::infraon::okta::sso as wit;
use crate::host::with_host;
use crate::infraon::okta::types::SyncTarget;

fn error(e: core::SsoError) -> wit::SsoError {
    match e {
        core::SsoError::UnknownConfig(n) => wit::SsoError::UnknownConfig(n),
        core::SsoError::Disabled(k) => wit::SsoError::Disabled(wit_sync_target(k)),
        core::SsoError::InvalidSettings(f) => wit::SsoError::InvalidSettings(field_errors(f)),
        core::SsoError::UnknownState => wit::SsoError::UnknownState,
        core::SsoError::Expired => wit::SsoError::Expired,
        core::SsoError::TokenExchange(m) => wit::SsoError::TokenExchange(m),
        core::SsoError::InvalidIdToken(m) => wit::SsoError::InvalidIdToken(m),
        core::SsoError::NotLinked(m) => wit::SsoError::NotLinked(m),
        core::SsoError::Deactivated(m) => wit::SsoError::Deactivated(m),
        core::SsoError::Okta(f) => wit::SsoError::Okta(failure(f)),
        core::SsoError::Unsupported(m) => wit::SsoError::Unsupported(m),
        core::SsoError::Other(m) => wit::SsoError::Other(m),
    }
}

impl wit::Guest for crate::Plugin {
    fn configure(config: String, s: wit::SsoSettings) -> Result<(), wit::SsoError> {
        let settings = core::SsoSettings {
            users_enabled: s.users_enabled,
            requesters_enabled: s.requesters_enabled,
            client_id: s.client_id,
            client_secret: s.client_secret,
            authorization_server: s.authorization_server,
            jit_requesters: s.jit_requesters,
        };
        with_host(|h| core::configure(h, &config, settings)).map_err(error)
    }

    fn saved_settings(config: String) -> Result<Option<wit::SavedSso>, wit::SsoError> {
        let saved = with_host(|h| core::saved(h, &config)).map_err(error)?;
        Ok(saved.map(|s| wit::SavedSso {
            users_enabled: s.users_enabled,
            requesters_enabled: s.requesters_enabled,
            client_id: s.client_id,
            has_client_secret: s.confidential,
            authorization_server: s.authorization_server,
            jit_requesters: s.jit_requesters,
            updated_at: s.updated_at,
        }))
    }

    fn begin_login(
        config: String,
        kind: SyncTarget,
        redirect_uri: String,
    ) -> Result<wit::LoginStart, wit::SsoError> {
        let start = with_host(|h| core::begin_login(h, &config, sync_target(kind), &redirect_uri))
            .map_err(error)?;
        Ok(wit::LoginStart {
            authorize_url: start.authorize_url,
            state: start.state,
            expires_at: start.expires_at,
        })
    }

    fn complete_login(
        config: String,
        state: String,
        code: String,
        iss: Option<String>,
    ) -> Result<wit::SignedIn, wit::SsoError> {
        let mut post = crate::http::WasiHttp;
        let callback = core::Callback {
            state: &state,
            code: &code,
            iss: iss.as_deref(),
        };
        let who = with_host(|h| core::complete_callback(h, &mut post, &config, &callback))
            .map_err(error)?;
        Ok(wit::SignedIn {
            kind: wit_sync_target(who.kind),
            external_id: who.external_id,
            login: who.login,
            email: who.email,
            display_name: who.display_name,
            roles: who.roles,
        })
    }
}
