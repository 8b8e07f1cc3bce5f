//! `scope` on a plugin of either contract version: 0.1.0 has no `scope`
//! (issue 15, since 0.2.0), which is a [`ContractGap`], never a trap.

use wasmtime::Store;

use super::exports::infraon::okta::scope::{OktaGroup, PopulationRule, Scope};
use super::exports::infraon::okta::sync::SyncError;
use super::{ContractGap, Plugin};
use crate::state::PluginState;

type Answer<T> = wasmtime::Result<Result<T, SyncError>>;

fn gap<T>() -> Answer<T> {
    Err(ContractGap(
        "this plugin speaks contract 0.1.0, which has no scope or population rules (`scope`, since 0.2.0); it syncs everyone in its one population".into(),
    )
    .into())
}

impl Plugin {
    /// `scope.groups` (since 0.2.0).
    pub async fn scope_groups(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Vec<OktaGroup>> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_scope().call_groups(s, config).await,
            Plugin::V0_1_0(_) => gap(),
        }
    }

    /// `scope.get` (since 0.2.0).
    pub async fn scope_get(&self, s: &mut Store<PluginState>, config: &str) -> Answer<Scope> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_scope().call_get(s, config).await,
            Plugin::V0_1_0(_) => gap(),
        }
    }

    /// `scope.count` (since 0.2.0).
    pub async fn scope_count(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        scope: &Scope,
    ) -> Answer<u32> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_scope().call_count(s, config, scope).await,
            Plugin::V0_1_0(_) => gap(),
        }
    }

    /// `scope.set` (since 0.2.0).
    pub async fn scope_set(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        scope: &Scope,
    ) -> Answer<u32> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_scope().call_set(s, config, scope).await,
            Plugin::V0_1_0(_) => gap(),
        }
    }

    /// `scope.get-populations` (since 0.2.0).
    pub async fn populations_get(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<Vec<PopulationRule>> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_scope().call_get_populations(s, config).await,
            Plugin::V0_1_0(_) => gap(),
        }
    }

    /// `scope.set-populations` (since 0.2.0).
    pub async fn populations_set(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        rules: &[PopulationRule],
    ) -> Answer<()> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_scope()
                    .call_set_populations(s, config, rules)
                    .await
            }
            Plugin::V0_1_0(_) => gap(),
        }
    }
}
