//! Okta Event Hooks on the host side: the per-config hook secret, checking a
//! delivery's `Authorization` header against it, reading Okta's delivery
//! body, handing the events to the plugin's `events.deliver`, and the last
//! deliveries kept for a settings page. The platform serves the HTTP
//! endpoint (the harness's is `web::hooks`).
//!
//! The secret is the host's, not the plugin's: it lives in the
//! [`Secrets`](crate::backend::Secrets) backend under [`HOOKS_NAMESPACE`], which the
//! plugin's `secrets` import (scoped to [`crate::PLUGIN_ID`]) cannot read,
//! and it never reaches a log line, an error, the delivery log or a page
//! other than the one that shows it once after it was generated.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::backend::HostRecords;
use crate::bindings::exports::infraon::okta::events::{
    DeliveryReport, EventOutcome, EventTarget, EventsError, OktaEvent,
};
use crate::ops::Outcome;
use crate::runtime::Runtime;

/// The backends' owner of the host's hook secrets and delivery log.
pub const HOOKS_NAMESPACE: &str = "okta-event-hooks";
/// Deliveries kept per config for the Settings page.
pub const KEEP_DELIVERIES: usize = 20;
/// The largest delivery body accepted: Okta sends at most 50 events of a
/// few KiB each; anything bigger is not Okta's.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// Events accepted in one delivery (Okta batches up to 50).
pub const MAX_EVENTS: usize = 200;

/// The config's installed name: names compare ignoring case, so the secret
/// and the log are kept under the name as installed.
fn installed_name(infraon: &dyn HostRecords, config: &str) -> String {
    infraon
        .get_installation(crate::PLUGIN_ID, config.trim())
        .ok()
        .flatten()
        .map_or_else(|| config.trim().to_owned(), |i| i.config)
}

fn secret_name(infraon: &dyn HostRecords, config: &str) -> String {
    format!("hook-secret/{}", installed_name(infraon, config))
}

fn log_key(infraon: &dyn HostRecords, config: &str) -> String {
    format!("deliveries/{}", installed_name(infraon, config))
}

/// The config's hook secret, if one was generated.
pub fn secret(infraon: &dyn HostRecords, config: &str) -> anyhow::Result<Option<String>> {
    Ok(infraon.get_secret(HOOKS_NAMESPACE, &secret_name(infraon, config))?)
}

/// Generate (or replace) the config's hook secret: 32 random bytes, hex.
/// The previous secret stops working at once, so rotate in Okta right after.
pub fn rotate_secret(infraon: &dyn HostRecords, config: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let value: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    infraon.put_secret(HOOKS_NAMESPACE, &secret_name(infraon, config), &value)?;
    Ok(value)
}

/// Forget a config's secret and deliveries (uninstall).
pub fn forget(infraon: &dyn HostRecords, config: &str) -> anyhow::Result<()> {
    infraon.delete_secret(HOOKS_NAMESPACE, &secret_name(infraon, config))?;
    infraon.delete_value(HOOKS_NAMESPACE, &log_key(infraon, config))?;
    Ok(())
}

/// `****` and the last four characters: enough to tell secrets apart.
pub fn masked(secret: &str) -> String {
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••••••••{tail}")
}

/// Whether the presented `Authorization` value is the secret. Constant-time
/// in the value (the `subtle` crate's comparison, which the compiler cannot
/// turn into an early exit), so response timing tells an attacker nothing
/// about how much of a guess was right; the length is public (64).
pub fn authenticate(expected: &str, presented: Option<&str>) -> bool {
    let presented = presented.unwrap_or("").trim();
    bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// The events of an Okta delivery body (`data.events[]`), or why it is not one.
pub fn parse_delivery(body: &[u8]) -> Result<Vec<OktaEvent>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|_| "the body is not JSON".to_string())?;
    let events = v
        .pointer("/data/events")
        .and_then(Value::as_array)
        .ok_or("the body has no data.events list")?;
    if events.len() > MAX_EVENTS {
        return Err(format!("more than {MAX_EVENTS} events in one delivery"));
    }
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Ok(events
        .iter()
        .map(|e| OktaEvent {
            uuid: text(e, "uuid"),
            published: text(e, "published"),
            event_type: text(e, "eventType"),
            targets: e
                .get("target")
                .and_then(Value::as_array)
                .map(|ts| {
                    ts.iter()
                        .map(|t| EventTarget {
                            id: text(t, "id"),
                            kind: text(t, "type"),
                            alternate_id: text(t, "alternateId"),
                            display_name: text(t, "displayName"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

/// One delivery as the Settings page lists it (never the secret, never
/// anything the sender chose beyond the events' ids and types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// When the host received it (RFC 3339).
    pub received_at: String,
    /// The HTTP status answered to Okta.
    pub status: u16,
    /// A one-line outcome.
    pub summary: String,
    /// `(uuid, eventType, outcome, detail)` per event, when the plugin ran.
    pub events: Vec<(String, String, String, String)>,
}

/// The config's last deliveries, newest first.
pub fn deliveries(infraon: &dyn HostRecords, config: &str) -> Vec<DeliveryRecord> {
    infraon
        .get_value(HOOKS_NAMESPACE, &log_key(infraon, config))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Keep a delivery in the config's log, dropping the oldest beyond
/// [`KEEP_DELIVERIES`].
pub fn record(infraon: &dyn HostRecords, config: &str, record: DeliveryRecord) {
    let mut all = deliveries(infraon, config);
    all.insert(0, record);
    all.truncate(KEEP_DELIVERIES);
    let bytes = serde_json::to_vec(&all).unwrap_or_default();
    if let Err(e) = infraon.set_value(HOOKS_NAMESPACE, &log_key(infraon, config), &bytes) {
        tracing::warn!(config, "cannot keep the event hook delivery log: {e}");
    }
}

/// A record of what the plugin did with a delivery.
pub fn record_of(status: u16, report: &DeliveryReport) -> DeliveryRecord {
    let word = |o: EventOutcome| match o {
        EventOutcome::Applied => "applied",
        EventOutcome::Duplicate => "duplicate",
        EventOutcome::Ignored => "ignored",
        EventOutcome::Deferred => "deferred",
    };
    let n = |o: EventOutcome| report.events.iter().filter(|e| e.outcome == o).count();
    DeliveryRecord {
        received_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        status,
        summary: format!(
            "{} event(s): {} applied, {} duplicate, {} ignored, {} deferred to the next sync; {} people changed, {} deactivated",
            report.events.len(),
            n(EventOutcome::Applied),
            n(EventOutcome::Duplicate),
            n(EventOutcome::Ignored),
            n(EventOutcome::Deferred),
            report.people_changed,
            report.deactivated
        ),
        events: report
            .events
            .iter()
            .map(|e| {
                (
                    e.uuid.clone(),
                    e.event_type.clone(),
                    word(e.outcome).to_owned(),
                    e.detail.clone().unwrap_or_default(),
                )
            })
            .collect(),
    }
}

/// A record of a delivery refused or failed before the plugin applied it.
pub fn record_refusal(status: u16, why: &str) -> DeliveryRecord {
    DeliveryRecord {
        received_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        status,
        summary: why.to_owned(),
        events: Vec::new(),
    }
}

impl Runtime {
    /// Hand a delivery's events to the plugin (`events.deliver`), with
    /// egress to the config's Okta origin, where it re-reads the users.
    pub async fn deliver_events(
        &self,
        config: &str,
        events: &[OktaEvent],
    ) -> Outcome<DeliveryReport, EventsError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.events_deliver(store, config, events).await
        })
        .await
    }
}

/// Whether `config` is installed (its grant is recorded).
pub fn installed(infraon: &dyn HostRecords, config: &str) -> bool {
    infraon
        .get_installation(crate::PLUGIN_ID, config.trim())
        .ok()
        .flatten()
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_secret_authenticates() {
        let s = "ab".repeat(32);
        assert!(authenticate(&s, Some(&s)));
        assert!(!authenticate(&s, Some(&"ab".repeat(31))));
        assert!(!authenticate(&s, Some(&format!("{}ac", "ab".repeat(31)))));
        assert!(!authenticate(&s, None));
        assert!(!authenticate(&s, Some("")));
    }

    #[test]
    fn okta_s_delivery_body_is_read() {
        let body = serde_json::json!({"eventType": "com.okta.event_hook", "data": {"events": [
            {"uuid": "e1", "published": "2026-11-30T10:00:00.000Z", "eventType": "user.lifecycle.deactivate",
             "target": [{"id": "00u1", "type": "User", "alternateId": "a@x.io", "displayName": "A"}]}
        ]}});
        let events = parse_delivery(body.to_string().as_bytes()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].targets[0].kind, "User");
        assert!(parse_delivery(b"{\"data\":{}}").is_err());
        assert!(parse_delivery(b"not json").is_err());
    }
}
