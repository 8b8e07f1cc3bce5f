//! The `scope` export: a config's scope and population rules, converted to
//! and from `plugin_core::sync::scope`.

use plugin_core::sync::scope as core;

use crate::convert::{sync_target, wit_sync_target};
use crate::exports::infraon::okta::scope as wit;
use crate::exports::infraon::okta::sync::SyncError;
use crate::host::with_host;
use crate::sync::error;

fn input(s: wit::Scope) -> core::ScopeInput {
    core::ScopeInput {
        groups: s.groups,
        filter: s.filter,
    }
}

impl wit::Guest for crate::Plugin {
    fn groups(config: String) -> Result<Vec<wit::OktaGroup>, SyncError> {
        let groups = with_host(|h| core::okta_groups(h, &config)).map_err(error)?;
        Ok(groups
            .into_iter()
            .map(|g| wit::OktaGroup {
                id: g.id,
                name: g.name,
                kind: g.kind,
            })
            .collect())
    }

    fn get(config: String) -> Result<wit::Scope, SyncError> {
        let s = with_host(|h| core::get_scope(h, &config)).map_err(error)?;
        Ok(wit::Scope {
            groups: s.groups,
            filter: s.filter,
        })
    }

    fn count(config: String, scope: wit::Scope) -> Result<u32, SyncError> {
        with_host(|h| core::count_scope(h, &config, &input(scope))).map_err(error)
    }

    fn set(config: String, scope: wit::Scope) -> Result<u32, SyncError> {
        with_host(|h| core::set_scope(h, &config, &input(scope))).map_err(error)
    }

    fn get_populations(config: String) -> Result<Vec<wit::PopulationRule>, SyncError> {
        let rules = with_host(|h| core::get_populations(h, &config)).map_err(error)?;
        Ok(rules
            .into_iter()
            .map(|r| wit::PopulationRule {
                group: r.group,
                population: wit_sync_target(r.population),
            })
            .collect())
    }

    fn set_populations(config: String, rules: Vec<wit::PopulationRule>) -> Result<(), SyncError> {
        let rules: Vec<core::PopulationInput> = rules
            .into_iter()
            .map(|r| core::PopulationInput {
                group: r.group,
                population: sync_target(r.population),
            })
            .collect();
        with_host(|h| core::set_populations(h, &config, &rules)).map_err(error)
    }
}
