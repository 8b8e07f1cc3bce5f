//! The typed operations a platform drives: each one grants the
//! right egress, runs the plugin in a fresh instance, and keeps the host's
//! own records (which origin each installed config may reach).

use crate::bindings::exports::infraon::okta::install::{InstallError, Migration};
use crate::bindings::exports::infraon::okta::verify::{VerifyError, VerifyReport};
use crate::bindings::infraon::okta::types::{ConfigForm, ConfigSummary, InstallOptions};
use crate::policy::granted_origin;
use crate::runtime::{HostError, Runtime};
use crate::state::Scope;

mod lease;
mod map;
pub mod preview;
mod scope;
mod sso;
mod sync;

/// What a plugin call returns: the host's verdict, then the plugin's.
pub type Outcome<T, E> = Result<Result<T, E>, HostError>;

/// What [`Runtime::keep_config`] asks the plugin for.
#[derive(Clone, Copy)]
enum Keep {
    Install,
    /// An update, with the migration the admin confirmed, if any.
    Update(Option<Migration>),
}

impl Runtime {
    /// Scope for a form not yet installed: egress to the domain typed.
    fn form_scope(form: &ConfigForm, options: InstallOptions) -> Scope {
        Scope {
            config: Some(form.name.trim().to_string()),
            allowed_origin: granted_origin(&form.okta_domain, options.development_mode),
        }
    }

    /// Scope for an installed config: egress to the origin granted at
    /// install, under the config's installed name (names compare ignoring
    /// case, as the plugin compares them). A config the host has no record
    /// of gets no egress; a host store that fails is an error, never
    /// silently "no egress".
    pub(crate) fn installed_scope(&self, name: &str) -> Result<Scope, HostError> {
        let granted = self
            .backends()
            .installations
            .get(crate::PLUGIN_ID, name.trim())
            .map_err(|e| HostError::Backend(format!("cannot read the installed configs: {e}")))?;
        Ok(Scope {
            config: Some(
                granted
                    .as_ref()
                    .map_or_else(|| name.trim().to_string(), |i| i.config.clone()),
            ),
            allowed_origin: granted
                .and_then(|i| granted_origin(&i.okta_origin, i.development_mode)),
        })
    }

    fn record_grant(&self, summary: &ConfigSummary) -> Result<(), HostError> {
        let installation = crate::backend::Installation {
            plugin: crate::PLUGIN_ID.into(),
            config: summary.name.clone(),
            okta_origin: summary.okta_origin.clone(),
            development_mode: summary.development_mode,
            installed_at: summary.installed_at.clone(),
        };
        self.backends()
            .installations
            .put(&installation)
            .map_err(|e| HostError::Backend(format!("cannot record the installation: {e}")))
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
        self.call(self.installed_scope(name)?, async |store, plugin| {
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
        self.keep_config(form, options, Keep::Install).await
    }

    /// Update an installed config (re-verified; a blank token keeps the stored one).
    pub async fn update(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Outcome<ConfigSummary, InstallError> {
        self.keep_config(form, options, Keep::Update(None)).await
    }

    /// [`Runtime::update`], confirming what happens to the people linked to
    /// the config when the Sync target or the Okta org changes.
    pub async fn update_migrating(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
        migration: Migration,
    ) -> Outcome<ConfigSummary, InstallError> {
        self.keep_config(form, options, Keep::Update(Some(migration)))
            .await
    }

    /// Install or update, then record the egress granted to the config.
    async fn keep_config(
        &self,
        form: &ConfigForm,
        options: InstallOptions,
        keep: Keep,
    ) -> Outcome<ConfigSummary, InstallError> {
        let result = self
            .call(
                Self::form_scope(form, options),
                async |store, plugin| match keep {
                    Keep::Install => plugin.install(store, form, options).await,
                    Keep::Update(None) => plugin.update(store, form, options).await,
                    Keep::Update(Some(m)) => plugin.update_migrating(store, form, options, m).await,
                },
            )
            .await?;
        if let Ok(summary) = &result {
            self.record_grant(summary)?;
        }
        Ok(result)
    }

    /// Uninstall a config; its grant and schedule go with it.
    pub async fn uninstall(&self, name: &str) -> Outcome<(), InstallError> {
        let scope = self.installed_scope(name)?;
        let installed = scope.config.clone().unwrap_or_default();
        let result = self
            .call(scope, async |store, plugin| {
                plugin.uninstall(store, name).await
            })
            .await?;
        if result.is_ok() {
            let backends = self.backends();
            let forget = backends
                .installations
                .delete(crate::PLUGIN_ID, &installed)
                .and_then(|()| backends.schedules.clear(crate::PLUGIN_ID, &installed));
            forget
                .map_err(|e| HostError::Backend(format!("cannot forget the installation: {e}")))?;
            // A service app's keys go with the config; Okta should forget them too.
            crate::keys::KeyRing::delete(&*backends.secrets, &installed)
                .map_err(|e| HostError::Backend(format!("cannot forget the keys: {e}")))?;
            crate::hooks::forget(backends, &installed)
                .map_err(|e| HostError::Backend(format!("cannot forget the event hook: {e}")))?;
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
