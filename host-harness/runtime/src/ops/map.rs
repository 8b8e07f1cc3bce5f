//! Mapping and export operations: "Okta – Infraon Configuration" and
//! "Export Unsynced Data".

use crate::bindings::exports::infraon::okta::export::ExportError;
use crate::bindings::exports::infraon::okta::map::{
    MapError, Mapping, MappingNotice, Person, SchemaAttribute,
};
use crate::runtime::Runtime;

use super::Outcome;

impl Runtime {
    /// A config's mapping (the defaults until one is set).
    pub async fn mapping(&self, config: &str) -> Outcome<Mapping, MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_get(store, config).await
        })
        .await
    }

    /// Validate and keep a config's mapping; it applies from the next sync.
    pub async fn set_mapping(&self, config: &str, mapping: &Mapping) -> Outcome<(), MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_set(store, config, mapping).await
        })
        .await
    }

    /// Back to the default mapping.
    pub async fn reset_mapping(&self, config: &str) -> Outcome<Mapping, MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_reset(store, config).await
        })
        .await
    }

    /// The Infraon record an Okta user (by login) would produce.
    pub async fn preview(&self, config: &str, login: &str) -> Outcome<Person, MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_preview(store, config, login).await
        })
        .await
    }

    /// Okta's user profile schema, custom attributes included.
    pub async fn discover_schema(&self, config: &str) -> Outcome<Vec<SchemaAttribute>, MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_discover_schema(store, config).await
        })
        .await
    }

    /// What the admin should know about a config's mapping (upgrade
    /// notices, roles Infraon no longer has).
    pub async fn mapping_notices(&self, config: &str) -> Outcome<Vec<MappingNotice>, MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_notices(store, config).await
        })
        .await
    }

    /// Forget a config's kept upgrade notices.
    pub async fn dismiss_mapping_notices(&self, config: &str) -> Outcome<(), MapError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.map_dismiss_notices(store, config).await
        })
        .await
    }

    /// The unsynced records of a run (the last when `None`) as CSV.
    pub async fn unsynced_csv(
        &self,
        config: &str,
        run: Option<u64>,
    ) -> Outcome<String, ExportError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.unsynced_csv(store, config, run).await
        })
        .await
    }
}
