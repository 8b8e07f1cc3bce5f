//! The typed operations the CLI and the tests drive: each one grants the
//! right egress, runs the plugin in a fresh instance, and keeps the host's
//! own records (which origin each installed config may reach).

use crate::bindings::exports::infraon::okta::install::InstallError;
use crate::bindings::exports::infraon::okta::verify::{VerifyError, VerifyReport};
use crate::bindings::infraon::okta::types::{ConfigForm, ConfigSummary, InstallOptions};
use crate::policy::granted_origin;
use crate::runtime::{HostError, Runtime};
use crate::state::Scope;

mod map;
mod sso;
mod sync;

/// What a plugin call returns: the host's verdict, then the plugin's.
pub type Outcome<T, E> = Result<Result<T, E>, HostError>;

impl Runtime {
    /// Scope for a form not yet installed: egress to the domain typed.
    fn form_scope(form: &ConfigForm, options: InstallOptions) -> Scope {
        Scope {
            config: Some(form.name.trim().to_string()),
            allowed_origin: granted_origin(&form.okta_domain, options.development_mode),
        }
    }

    /// Scope for an installed config: egress to the origin granted at install.
    pub(crate) fn installed_scope(&self, name: &str) -> Scope {
        let granted = self
            .infraon()
            .installation_get(crate::PLUGIN_ID, name.trim())
            .ok()
            .flatten();
        Scope {
            config: Some(name.trim().to_string()),
            allowed_origin: granted
                .and_then(|i| granted_origin(&i.okta_origin, i.development_mode)),
        }
    }

    fn record_grant(&self, summary: &ConfigSummary) -> Result<(), HostError> {
        let installation = fake_infraon::Installation {
            plugin: crate::PLUGIN_ID.into(),
            config: summary.name.clone(),
            okta_origin: summary.okta_origin.clone(),
            development_mode: summary.development_mode,
            installed_at: summary.installed_at.clone(),
        };
        self.infraon()
            .installation_put(&installation)
            .map_err(|e| HostError::Load(format!("cannot record the installation: {e}")))
    }

    /// The Marketplace "Verify" button on a form.
    pub async fn verify_form(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Outcome<VerifyReport, VerifyError> {
        self.call(Self::form_scope(form, options), async |store, plugin| {
            plugin.verify_form(store, form, options).await
        })
        .await
    }

    /// Verify an installed config with its stored token.
    pub async fn verify_installed(&self, name: &str) -> Outcome<VerifyReport, VerifyError> {
        self.call(self.installed_scope(name), async |store, plugin| {
            plugin.verify_installed(store, name).await
        })
        .await
    }

    /// Install a config; refused by the plugin unless Okta verifies it.
    pub async fn install(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Outcome<ConfigSummary, InstallError> {
        self.keep_config(form, options, false).await
    }

    /// Update an installed config (re-verified; a blank token keeps the stored one).
    pub async fn update(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Outcome<ConfigSummary, InstallError> {
        self.keep_config(form, options, true).await
    }

    /// Install or update, then record the egress granted to the config.
    async fn keep_config(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
        update: bool,
    ) -> Outcome<ConfigSummary, InstallError> {
        let result = self
            .call(Self::form_scope(form, options), async |store, plugin| {
                if update {
                    plugin.update(store, form, options).await
                } else {
                    plugin.install(store, form, options).await
                }
            })
            .await?;
        if let Ok(summary) = &result {
            self.record_grant(summary)?;
        }
        Ok(result)
    }

    /// Uninstall a config; its grant and schedule go with it.
    pub async fn uninstall(&self, name: &str) -> Outcome<(), InstallError> {
        let result = self
            .call(self.installed_scope(name), async |store, plugin| {
                plugin.uninstall(store, name).await
            })
            .await?;
        if result.is_ok() {
            let infraon = self.infraon();
            let forget = infraon
                .installation_delete(crate::PLUGIN_ID, name.trim())
                .and_then(|()| infraon.schedule_clear(crate::PLUGIN_ID, name.trim()));
            forget.map_err(|e| HostError::Load(format!("cannot forget the installation: {e}")))?;
            // A service app's keys go with the config; Okta should forget them too.
            crate::keys::KeyRing::delete(infraon, name)
                .map_err(|e| HostError::Load(format!("cannot forget the keys: {e}")))?;
        }
        Ok(result)
    }

    /// The installed configs.
    pub async fn configs(&self) -> Outcome<Vec<ConfigSummary>, InstallError> {
        self.call(Scope::default(), async |store, plugin| {
            plugin.list(store).await
        })
        .await
    }
}
