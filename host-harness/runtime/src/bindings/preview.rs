//! The `sync` calls of issue 15 (since 0.2.0) on a plugin of either
//! contract version: who a run changes, who decided a held run, the rehire
//! policy, and provisioning one person. A 0.1.0 plugin has none of them,
//! which is a [`ContractGap`] (the host's typed `ContractMismatch`), never
//! a trap.

use wasmtime::Store;

use super::exports::infraon::okta::sync::{
    ChangePage, HeldDecision, ProvisionReport, RehirePolicy, RunRecord, SyncError,
};
use super::{ContractGap, Plugin};
use crate::state::PluginState;

type Answer<T> = wasmtime::Result<Result<T, SyncError>>;

/// The gap a 0.1.0 plugin meets for `what`.
fn gap<T>(what: &str) -> Answer<T> {
    Err(ContractGap(format!(
        "this plugin speaks contract 0.1.0, which has no {what} (`sync`, since 0.2.0); update the plugin"
    ))
    .into())
}

impl Plugin {
    /// `sync.run-changes` (since 0.2.0).
    pub async fn run_changes(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        run: u64,
        offset: u64,
        limit: u32,
    ) -> Answer<ChangePage> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sync()
                    .call_run_changes(s, config, run, offset, limit)
                    .await
            }
            Plugin::V0_1_0(_) => gap("list of who a run changes"),
        }
    }

    /// `sync.approve-held-by` / `sync.reject-held-by` (since 0.2.0).
    pub async fn decide_held_by(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        run: u64,
        approve: bool,
        by: &str,
    ) -> Answer<RunRecord> {
        match self {
            Plugin::Latest(p) if approve => {
                p.infraon_okta_sync()
                    .call_approve_held_by(s, config, run, by)
                    .await
            }
            Plugin::Latest(p) => {
                p.infraon_okta_sync()
                    .call_reject_held_by(s, config, run, by)
                    .await
            }
            Plugin::V0_1_0(_) => gap("record of who approves or rejects a held run"),
        }
    }

    /// `sync.decisions` (since 0.2.0).
    pub async fn decisions(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        limit: u32,
    ) -> Answer<Vec<HeldDecision>> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().call_decisions(s, config, limit).await,
            Plugin::V0_1_0(_) => gap("record of who approves or rejects a held run"),
        }
    }

    /// `sync.get-rehire` (since 0.2.0).
    pub async fn get_rehire(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
    ) -> Answer<RehirePolicy> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().call_get_rehire(s, config).await,
            Plugin::V0_1_0(_) => gap("rehire policy"),
        }
    }

    /// `sync.set-rehire` (since 0.2.0).
    pub async fn set_rehire(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        policy: RehirePolicy,
    ) -> Answer<()> {
        match self {
            Plugin::Latest(p) => {
                p.infraon_okta_sync()
                    .call_set_rehire(s, config, policy)
                    .await
            }
            Plugin::V0_1_0(_) => gap("rehire policy"),
        }
    }

    /// `sync.provision` (since 0.2.0).
    pub async fn provision(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        user: &str,
    ) -> Answer<ProvisionReport> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_sync().call_provision(s, config, user).await,
            Plugin::V0_1_0(_) => gap("provisioning of one person on demand"),
        }
    }
}
