//! An instance of the plugin, whichever contract version it speaks, with
//! one method per export function in the latest contract's types.

use wasmtime::Store;
use wasmtime::component::{Component, InstancePre, Linker, ResourceAny};

use super::exports::infraon::okta::export::ExportError;
use super::exports::infraon::okta::install::{InstallError, Migration};
use super::exports::infraon::okta::map::{
    MapError, Mapping, MappingNotice, Person, SchemaAttribute,
};
use super::exports::infraon::okta::sso::{LoginStart, SavedSso, SignedIn, SsoError, SsoSettings};
use super::exports::infraon::okta::sync::{
    RunRecord, Safeguard, StepStatus, SyncError, SyncMode, Trigger,
};
use super::exports::infraon::okta::verify::{VerifyError, VerifyReport};
use super::infraon::okta::types::{ConfigForm, ConfigSummary, InstallOptions, SyncTarget};
use super::v0_1_0::{self, convert};
use crate::state::PluginState;

/// A value or a call the plugin's contract version cannot carry (e.g. a
/// case added in a later version, sent to an older plugin).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ContractGap(pub String);

/// A plugin component linked and ready to instantiate, by contract version.
#[derive(Clone)]
pub enum PluginPre {
    /// The latest contract (0.2.x). Both variants are boxed: each version's
    /// export table is large and of a different size.
    Latest(Box<super::OktaPluginPre<PluginState>>),
    /// A 0.1.x component.
    V0_1_0(Box<v0_1_0::OktaPluginPre<PluginState>>),
}

/// One plugin instance, by contract version.
pub enum Plugin {
    /// The latest contract (0.2.x), boxed as [`PluginPre`]'s variants are.
    Latest(Box<super::OktaPlugin>),
    /// A 0.1.x component.
    V0_1_0(Box<v0_1_0::OktaPlugin>),
}

impl PluginPre {
    /// Pre-instantiate `component`, which speaks `version` (already checked
    /// by the contract check), against a linker with every version's imports.
    pub fn new(
        linker: &Linker<PluginState>,
        component: &Component,
        version: &str,
    ) -> wasmtime::Result<PluginPre> {
        let pre: InstancePre<PluginState> = linker.instantiate_pre(component)?;
        Ok(if version.starts_with("0.1.") {
            PluginPre::V0_1_0(Box::new(v0_1_0::OktaPluginPre::new(pre)?))
        } else {
            PluginPre::Latest(Box::new(super::OktaPluginPre::new(pre)?))
        })
    }

    /// The engine the component was compiled for.
    pub fn engine(&self) -> &wasmtime::Engine {
        match self {
            PluginPre::Latest(p) => p.engine(),
            PluginPre::V0_1_0(p) => p.engine(),
        }
    }

    /// A fresh instance.
    pub async fn instantiate_async(
        &self,
        store: &mut Store<PluginState>,
    ) -> wasmtime::Result<Plugin> {
        Ok(match self {
            PluginPre::Latest(p) => Plugin::Latest(Box::new(p.instantiate_async(store).await?)),
            PluginPre::V0_1_0(p) => Plugin::V0_1_0(Box::new(p.instantiate_async(store).await?)),
        })
    }
}

/// The latest value of an old plugin's answer.
fn up<A: serde::Serialize, B: serde::de::DeserializeOwned>(value: A) -> wasmtime::Result<B> {
    Ok(convert(&value)?)
}

/// The old plugin's value of a latest argument.
fn down<A: serde::Serialize, B: serde::de::DeserializeOwned>(value: &A) -> wasmtime::Result<B> {
    Ok(convert(value)?)
}

/// The old plugin's form: a 0.1.0 plugin knows only the API token, so a
/// service-app form is a contract gap, never silently an empty token.
fn down_form<B: serde::de::DeserializeOwned>(form: &ConfigForm) -> wasmtime::Result<B> {
    if form.service_app.is_some() {
        return Err(ContractGap(
            "a 0.1.0 plugin cannot authenticate with an OAuth 2.0 service app".into(),
        )
        .into());
    }
    down(form)
}

type Answer<T, E> = wasmtime::Result<Result<T, E>>;

impl Plugin {
    /// `install.install`.
    pub async fn install(
        &self,
        s: &mut Store<PluginState>,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Answer<ConfigSummary, InstallError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_install()
                    .call_install(s, form, options)
                    .await
            }
            Plugin::V0_1_0(p) => {
                let i = p.infraon_okta_install();
                up(i.call_install(s, &down_form(form)?, down(&options)?)
                    .await?)
            }
        }
    }

    /// `install.update`.
    pub async fn update(
        &self,
        s: &mut Store<PluginState>,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Answer<ConfigSummary, InstallError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_install().call_update(s, form, options).await,
            Plugin::V0_1_0(p) => {
                let i = p.infraon_okta_install();
                up(i.call_update(s, &down_form(form)?, down(&options)?).await?)
            }
        }
    }

    /// `install.update-migrating`; a 0.1.0 plugin cannot migrate people and
    /// answers `other`.
    pub async fn update_migrating(
        &self,
        s: &mut Store<PluginState>,
        form: &ConfigForm,
        options: InstallOptions,
        migration: Migration,
    ) -> Answer<ConfigSummary, InstallError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_install()
                    .call_update_migrating(s, form, options, migration)
                    .await
            }
            Plugin::V0_1_0(_) => Ok(Err(InstallError::Other(
                "this plugin speaks contract 0.1.0, which cannot migrate people; update the plugin"
                    .into(),
            ))),
        }
    }

    /// `install.uninstall`.
    pub async fn uninstall(
        &self,
        s: &mut Store<PluginState>,
        name: &str,
    ) -> Answer<(), InstallError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_install().call_uninstall(s, name).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_install().call_uninstall(s, name).await?),
        }
    }

    /// `install.list`.
    pub async fn list(
        &self,
        s: &mut Store<PluginState>,
    ) -> Answer<Vec<ConfigSummary>, InstallError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_install().call_list(s).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_install().call_list(s).await?),
        }
    }

    /// `verify.verify-form`.
    pub async fn verify_form(
        &self,
        s: &mut Store<PluginState>,
        form: &ConfigForm,
        options: InstallOptions,
    ) -> Answer<VerifyReport, VerifyError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_verify()
                    .call_verify_form(s, form, options)
                    .await
            }
            Plugin::V0_1_0(p) => {
                let v = p.infraon_okta_verify();
                up(v.call_verify_form(s, &down_form(form)?, down(&options)?)
                    .await?)
            }
        }
    }

    /// `verify.verify-installed`.
    pub async fn verify_installed(
        &self,
        s: &mut Store<PluginState>,
        name: &str,
    ) -> Answer<VerifyReport, VerifyError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_verify().call_verify_installed(s, name).await,
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_verify()
                .call_verify_installed(s, name)
                .await?),
        }
    }

    /// `sync.run.start`.
    pub async fn run_start(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        mode: SyncMode,
        trigger: Trigger,
    ) -> Answer<ResourceAny, SyncError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sync()
                    .run()
                    .call_start(s, config, mode, trigger)
                    .await
            }
            Plugin::V0_1_0(p) => {
                let runs = p.infraon_okta_sync().run();
                let started = runs
                    .call_start(s, config, down(&mode)?, down(&trigger)?)
                    .await?;
                Ok(match started {
                    Ok(run) => Ok(run),
                    Err(e) => Err(up(e)?),
                })
            }
        }
    }

    /// `sync.run.resume`.
    pub async fn run_resume(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Option<ResourceAny>, SyncError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().run().call_resume(s, config).await,
            Plugin::V0_1_0(p) => Ok(
                match p.infraon_okta_sync().run().call_resume(s, config).await? {
                    Ok(run) => Ok(run),
                    Err(e) => Err(up(e)?),
                },
            ),
        }
    }

    /// `sync.run.step`. A 0.1.0 plugin never answers `waiting` (it sleeps
    /// inside the call instead).
    pub async fn run_step(
        &self,
        s: &mut Store<PluginState>,
        run: ResourceAny,
    ) -> Answer<StepStatus, SyncError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().run().call_step(s, run).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_sync().run().call_step(s, run).await?),
        }
    }

    /// `sync.run.cancel`.
    pub async fn run_cancel(
        &self,
        s: &mut Store<PluginState>,
        run: ResourceAny,
    ) -> Answer<RunRecord, SyncError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().run().call_cancel(s, run).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_sync().run().call_cancel(s, run).await?),
        }
    }

    /// `sync.history`.
    pub async fn history(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        limit: u32,
    ) -> Answer<Vec<RunRecord>, SyncError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().call_history(s, config, limit).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_sync().call_history(s, config, limit).await?),
        }
    }

    /// `sync.approve-held`.
    pub async fn approve_held(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        run: u64,
    ) -> Answer<RunRecord, SyncError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sync()
                    .call_approve_held(s, config, run)
                    .await
            }
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_sync()
                .call_approve_held(s, config, run)
                .await?),
        }
    }

    /// `sync.reject-held`.
    pub async fn reject_held(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        run: u64,
    ) -> Answer<RunRecord, SyncError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().call_reject_held(s, config, run).await,
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_sync()
                .call_reject_held(s, config, run)
                .await?),
        }
    }

    /// `sync.get-safeguard` (since 0.2.0).
    pub async fn get_safeguard(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Safeguard, SyncError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().call_get_safeguard(s, config).await,
            Plugin::V0_1_0(_) => Ok(Err(SyncError::Unsupported(
                "editing the safeguard needs contract 0.2.0".into(),
            ))),
        }
    }

    /// `sync.set-safeguard` (since 0.2.0).
    pub async fn set_safeguard(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        safeguard: Safeguard,
    ) -> Answer<(), SyncError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sync()
                    .call_set_safeguard(s, config, safeguard)
                    .await
            }
            Plugin::V0_1_0(_) => Ok(Err(SyncError::Unsupported(
                "editing the safeguard needs contract 0.2.0".into(),
            ))),
        }
    }

    /// `map.defaults`.
    pub async fn map_defaults(
        &self,
        s: &mut Store<PluginState>,
        kind: SyncTarget,
    ) -> wasmtime::Result<Mapping> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_defaults(s, kind).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_map().call_defaults(s, down(&kind)?).await?),
        }
    }

    /// `map.get`.
    pub async fn map_get(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Mapping, MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_get(s, config).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_map().call_get(s, config).await?),
        }
    }

    /// `map.set`.
    pub async fn map_set(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        mapping: &Mapping,
    ) -> Answer<(), MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_set(s, config, mapping).await,
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_map()
                .call_set(s, config, &down(mapping)?)
                .await?),
        }
    }

    /// `map.reset`.
    pub async fn map_reset(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Mapping, MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_reset(s, config).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_map().call_reset(s, config).await?),
        }
    }

    /// `map.preview`.
    pub async fn map_preview(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        login: &str,
    ) -> Answer<Person, MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_preview(s, config, login).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_map().call_preview(s, config, login).await?),
        }
    }

    /// `map.discover-schema`.
    pub async fn map_discover_schema(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Vec<SchemaAttribute>, MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_discover_schema(s, config).await,
            Plugin::V0_1_0(p) => up(p.infraon_okta_map().call_discover_schema(s, config).await?),
        }
    }

    /// `map.notices` (since 0.2.0; a 0.1.0 plugin answers `unsupported`).
    pub async fn map_notices(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Vec<MappingNotice>, MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_notices(s, config).await,
            Plugin::V0_1_0(_) => Ok(Err(MapError::Unsupported(
                "mapping notices need contract 0.2.0".into(),
            ))),
        }
    }

    /// `map.dismiss-notices` (since 0.2.0).
    pub async fn map_dismiss_notices(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<(), MapError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_map().call_dismiss_notices(s, config).await,
            Plugin::V0_1_0(_) => Ok(Err(MapError::Unsupported(
                "mapping notices need contract 0.2.0".into(),
            ))),
        }
    }

    /// `export.unsynced-csv`.
    pub async fn unsynced_csv(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        run: Option<u64>,
    ) -> Answer<String, ExportError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_export()
                    .call_unsynced_csv(s, config, run)
                    .await
            }
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_export()
                .call_unsynced_csv(s, config, run)
                .await?),
        }
    }

    /// `sso.saved-settings` (since 0.2.0).
    pub async fn sso_saved_settings(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Option<SavedSso>, SsoError> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sso().call_saved_settings(s, config).await,
            Plugin::V0_1_0(_) => Ok(Err(SsoError::Unsupported(
                "showing saved sign-in settings needs contract 0.2.0".into(),
            ))),
        }
    }

    /// `sso.configure`.
    pub async fn sso_configure(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        settings: &SsoSettings,
    ) -> Answer<(), SsoError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sso()
                    .call_configure(s, config, settings)
                    .await
            }
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_sso()
                .call_configure(s, config, &down(settings)?)
                .await?),
        }
    }

    /// `sso.begin-login`.
    pub async fn sso_begin_login(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        kind: SyncTarget,
        redirect_uri: &str,
    ) -> Answer<LoginStart, SsoError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sso()
                    .call_begin_login(s, config, kind, redirect_uri)
                    .await
            }
            Plugin::V0_1_0(p) => {
                let sso = p.infraon_okta_sso();
                up(sso
                    .call_begin_login(s, config, down(&kind)?, redirect_uri)
                    .await?)
            }
        }
    }

    /// `sso.complete-login`; a 0.1.0 component is called without `iss`
    /// (it has no place for it and checks the ID token's `iss` only).
    pub async fn sso_complete_login(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        state: &str,
        code: &str,
        iss: Option<&str>,
    ) -> Answer<SignedIn, SsoError> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sso()
                    .call_complete_login(s, config, state, code, iss)
                    .await
            }
            Plugin::V0_1_0(p) => up(p
                .infraon_okta_sso()
                .call_complete_login(s, config, state, code)
                .await?),
        }
    }
}
