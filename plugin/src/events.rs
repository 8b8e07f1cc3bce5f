//! The `events` export: Okta Event Hook deliveries, converted to and from
//! `plugin_core::events`.

use plugin_core::events as core;

use crate::exports::infraon::okta::events as wit;
use crate::host::with_host;

fn event(e: wit::OktaEvent) -> core::OktaEvent {
    core::OktaEvent {
        uuid: e.uuid,
        published: e.published,
        event_type: e.event_type,
        targets: e
            .targets
            .into_iter()
            .map(|t| core::EventTarget {
                id: t.id,
                kind: t.kind,
                alternate_id: t.alternate_id,
                display_name: t.display_name,
            })
            .collect(),
    }
}

fn report(r: core::DeliveryReport) -> wit::DeliveryReport {
    wit::DeliveryReport {
        events: r
            .events
            .into_iter()
            .map(|e| wit::EventResult {
                uuid: e.uuid,
                event_type: e.event_type,
                outcome: match e.outcome {
                    core::EventOutcome::Applied => wit::EventOutcome::Applied,
                    core::EventOutcome::Duplicate => wit::EventOutcome::Duplicate,
                    core::EventOutcome::Ignored => wit::EventOutcome::Ignored,
                    core::EventOutcome::Deferred => wit::EventOutcome::Deferred,
                },
                detail: e.detail,
            })
            .collect(),
        users_fetched: r.users_fetched,
        people_changed: r.people_changed,
        deactivated: r.deactivated,
        requests: r.requests,
    }
}

fn error(e: core::EventsError) -> wit::EventsError {
    match e {
        core::EventsError::UnknownConfig(c) => wit::EventsError::UnknownConfig(c),
        core::EventsError::Host(m) => wit::EventsError::Host(m),
        core::EventsError::Other(m) => wit::EventsError::Other(m),
    }
}

impl wit::Guest for crate::Plugin {
    fn deliver(
        config: String,
        events: Vec<wit::OktaEvent>,
    ) -> Result<wit::DeliveryReport, wit::EventsError> {
        let events: Vec<core::OktaEvent> = events.into_iter().map(event).collect();
        with_host(|h| core::deliver(h, &config, &events))
            .map(report)
            .map_err(error)
    }
}
