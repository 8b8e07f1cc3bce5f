//! Sign in with Okta: the host side of the `sso` export.

use crate::bindings::exports::infraon::okta::sso::{
    LoginStart, SavedSso, SignedIn, SsoError, SsoSettings,
};
use crate::bindings::infraon::okta::types::SyncTarget;
use crate::runtime::Runtime;

use super::Outcome;

impl Runtime {
    /// A config's saved SSO settings, never the client secret.
    pub async fn sso_saved_settings(&self, config: &str) -> Outcome<Option<SavedSso>, SsoError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.sso_saved_settings(store, config).await
        })
        .await
    }

    /// Save a config's SSO settings (the client secret goes to `secrets`).
    pub async fn sso_configure(
        &self,
        config: &str,
        settings: &SsoSettings,
    ) -> Outcome<(), SsoError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.sso_configure(store, config, settings).await
        })
        .await
    }

    /// Start a sign-in: the Okta authorize URL to send the browser to.
    pub async fn sso_begin(
        &self,
        config: &str,
        kind: SyncTarget,
        redirect_uri: &str,
    ) -> Outcome<LoginStart, SsoError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin
                .sso_begin_login(store, config, kind, redirect_uri)
                .await
        })
        .await
    }

    /// Finish a sign-in from the callback's `state`, `code` and `iss`
    /// (RFC 9207, when the identity provider sent one).
    pub async fn sso_complete(
        &self,
        config: &str,
        state: &str,
        code: &str,
        iss: Option<&str>,
    ) -> Outcome<SignedIn, SsoError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin
                .sso_complete_login(store, config, state, code, iss)
                .await
        })
        .await
    }
}
