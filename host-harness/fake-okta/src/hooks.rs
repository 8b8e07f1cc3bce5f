//! Okta Event Hooks: registration, Okta's one-time verification, and a
//! delivery on each mutation of the org, as Okta sends them.
//!
//! A registered hook is verified at once (`GET` with
//! `X-Okta-Verification-Challenge`, expecting `{"verification": …}` back)
//! and receives only the event types it subscribed to. Deliveries are
//! sent in mutation order by one task, each with the hook's authorization
//! header, and a failed one (a transport error, a timeout of 3 s, or a
//! status other than 2xx) is retried once, as Okta does. Switches for
//! tests: every delivery sent twice ([`FakeOkta::duplicate_event_deliveries`]),
//! and deliveries held back then released newest first
//! ([`FakeOkta::hold_event_deliveries`]).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// Okta's delivery timeout.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(3);
/// Before the one retry of a failed delivery.
const RETRY_AFTER: Duration = Duration::from_millis(200);

/// An event hook as an admin creates it in Okta (Workflow > Event Hooks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventHook {
    /// The endpoint URL.
    pub url: String,
    /// The authentication field (header name), e.g. `Authorization`.
    pub auth_header: String,
    /// The authentication secret (header value).
    pub auth_value: String,
    /// Event types subscribed to; empty means every type.
    pub event_types: Vec<String>,
}

/// One attempt at delivering a batch to a hook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The hook's URL.
    pub url: String,
    /// The `uuid`s of the events sent.
    pub uuids: Vec<String>,
    /// The HTTP status answered, or `None` for a transport error or timeout.
    pub status: Option<u16>,
    /// Whether this attempt was Okta's retry.
    pub retry: bool,
}

#[derive(Default)]
pub(crate) struct HooksState {
    pub hooks: Vec<EventHook>,
    pub duplicate: bool,
    pub hold: bool,
    pub held: Vec<(EventHook, Value)>,
    pub attempts: Vec<DeliveryAttempt>,
}

/// A delivery for the sending task.
pub(crate) struct Job {
    pub hook: EventHook,
    pub event: Value,
}

/// One Okta event: `uuid`, `published`, `eventType`, `displayMessage`,
/// `outcome` and `target[]` as `(id, type, alternateId, displayName)`.
pub(crate) fn event(
    event_type: &str,
    message: &str,
    targets: &[(String, &str, String, String)],
) -> Value {
    json!({
        "uuid": uuid(),
        "published": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventType": event_type,
        "version": "0",
        "displayMessage": message,
        "severity": "INFO",
        "outcome": {"result": "SUCCESS", "reason": null},
        "target": targets.iter().map(|(id, kind, alt, name)| json!({
            "id": id, "type": kind, "alternateId": alt, "displayName": name,
        })).collect::<Vec<_>>(),
    })
}

fn uuid() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Okta's delivery body for `events`.
pub(crate) fn body(events: &[Value]) -> Value {
    json!({
        "eventType": "com.okta.event_hook",
        "eventTypeVersion": "1.0",
        "cloudEventsVersion": "0.1",
        "source": "https://fake-okta/api/v1/eventHooks",
        "eventId": uuid(),
        "eventTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "contentType": "application/json",
        "data": {"events": events},
    })
}

/// Okta's one-time verification of a hook.
pub(crate) async fn verify(client: &reqwest::Client, hook: &EventHook) -> anyhow::Result<()> {
    let challenge = uuid();
    let resp = client
        .get(&hook.url)
        .header(&hook.auth_header, &hook.auth_value)
        .header("X-Okta-Verification-Challenge", &challenge)
        .timeout(DELIVERY_TIMEOUT)
        .send()
        .await?;
    let status = resp.status();
    let answer: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success()
        || answer.get("verification").and_then(Value::as_str) != Some(&challenge)
    {
        anyhow::bail!("the endpoint did not answer Okta's verification (HTTP {status})");
    }
    Ok(())
}

/// The sending task: deliveries in order, each retried once on failure.
pub(crate) async fn sender(
    shared: std::sync::Weak<crate::Shared>,
    mut jobs: UnboundedReceiver<Job>,
) {
    let client = reqwest::Client::new();
    while let Some(job) = jobs.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let uuids = vec![
            job.event
                .get("uuid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        ];
        let payload = body(std::slice::from_ref(&job.event));
        for retry in [false, true] {
            if retry {
                tokio::time::sleep(RETRY_AFTER).await;
            }
            let status = client
                .post(&job.hook.url)
                .header(&job.hook.auth_header, &job.hook.auth_value)
                .json(&payload)
                .timeout(DELIVERY_TIMEOUT)
                .send()
                .await
                .ok()
                .map(|r| r.status().as_u16());
            shared.hooks().attempts.push(DeliveryAttempt {
                url: job.hook.url.clone(),
                uuids: uuids.clone(),
                status,
                retry,
            });
            if status.is_some_and(|s| (200..300).contains(&s)) {
                break;
            }
        }
    }
}

/// Queue `event` for every hook subscribed to its type (or hold it).
pub(crate) fn emit(state: &mut HooksState, tx: &UnboundedSender<Job>, event: Value) {
    let kind = event.get("eventType").and_then(Value::as_str).unwrap_or("");
    let hooks: Vec<EventHook> = state
        .hooks
        .iter()
        .filter(|h| h.event_types.is_empty() || h.event_types.iter().any(|t| t == kind))
        .cloned()
        .collect();
    for hook in hooks {
        if state.hold {
            state.held.push((hook, event.clone()));
            continue;
        }
        let times = if state.duplicate { 2 } else { 1 };
        for _ in 0..times {
            let _ = tx.send(Job {
                hook: hook.clone(),
                event: event.clone(),
            });
        }
    }
}
