//! `events.deliver` on a plugin of either contract version: 0.1.0 has no
//! `events`, which is a [`ContractGap`], never a trap.

use wasmtime::Store;

use super::exports::infraon::okta::events::{DeliveryReport, EventsError, OktaEvent};
use super::{ContractGap, Plugin};
use crate::state::PluginState;

impl Plugin {
    /// `events.deliver` (since 0.2.0).
    pub async fn events_deliver(
        &self,
        s: &mut Store<PluginState>,
        config: &str,
        events: &[OktaEvent],
    ) -> wasmtime::Result<Result<DeliveryReport, EventsError>> {
        match self {
            Plugin::Latest(p) => p.infraon_okta_events().call_deliver(s, config, events).await,
            Plugin::V0_1_0(_) => Err(ContractGap(
                "this plugin speaks contract 0.1.0, which has no Okta Event Hooks (`events`, since 0.2.0); the scheduled sync applies Okta's changes".into(),
            )
            .into()),
        }
    }
}
