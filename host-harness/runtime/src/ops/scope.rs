//! Who a config syncs and as what (issue 15): its scope (with the count of
//! Okta users it covers, before saving) and its population rules.

use crate::bindings::exports::infraon::okta::scope::{OktaGroup, PopulationRule, Scope};
use crate::bindings::exports::infraon::okta::sync::SyncError;
use crate::runtime::Runtime;

use super::Outcome;

impl Runtime {
    /// The Okta groups of a config's org, to choose from.
    pub async fn okta_groups(&self, config: &str) -> Outcome<Vec<OktaGroup>, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.scope_groups(store, config).await
        })
        .await
    }

    /// A config's scope.
    pub async fn scope(&self, config: &str) -> Outcome<Scope, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.scope_get(store, config).await
        })
        .await
    }

    /// How many Okta users `scope` covers, nothing saved.
    pub async fn count_scope(&self, config: &str, scope: &Scope) -> Outcome<u32, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.scope_count(store, config, scope).await
        })
        .await
    }

    /// Validate and save a config's scope; answers its count.
    pub async fn set_scope(&self, config: &str, scope: &Scope) -> Outcome<u32, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.scope_set(store, config, scope).await
        })
        .await
    }

    /// A config's population rules.
    pub async fn populations(&self, config: &str) -> Outcome<Vec<PopulationRule>, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.populations_get(store, config).await
        })
        .await
    }

    /// Replace a config's population rules.
    pub async fn set_populations(
        &self,
        config: &str,
        rules: &[PopulationRule],
    ) -> Outcome<(), SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.populations_set(store, config, rules).await
        })
        .await
    }
}
