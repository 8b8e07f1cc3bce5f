//! The Okta Event Hook endpoint, `/hooks/okta/{config}`, and the Settings
//! page's "Okta Event Hook" section.
//!
//! The endpoint is machine to machine: Okta calls it, not a browser. It is
//! authenticated by the hook secret in the `Authorization` header (compared
//! in constant time, see [`crate::hooks::authenticate`]) and is therefore
//! served by its own router ([`router`]), outside the console's session,
//! same-origin and form-token checks, which Okta could never pass. Only
//! these two methods on this one path are exempt; the "Rotate secret"
//! button is a console form like any other.
//!
//! - `GET` with `X-Okta-Verification-Challenge` (Okta's one-time
//!   verification) answers `{"verification": <challenge>}` for an installed
//!   config with a secret; echoing a challenge discloses nothing, so it
//!   does not require the secret (a wrong one presented is still refused).
//! - `POST` (a delivery): 401 without the right secret, and nothing is
//!   applied; 413 beyond [`MAX_BODY_BYTES`]; 400 for a body that is not
//!   Okta's; otherwise the plugin applies the events and the answer is 200,
//!   or 503 when it could not apply them at all, so that Okta retries once.

use std::sync::Arc;

use axum::Form;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::Console;
use super::layout::{escape, notice, page, urlencode};
use crate::hooks::{
    self, MAX_BODY_BYTES, authenticate, parse_delivery, record, record_of, record_refusal,
};
use crate::runtime::Runtime;

/// The hook endpoint's routes, to be merged beside the console's (see the
/// module docs for why they are not behind the console's checks).
pub fn router(runtime: Arc<Runtime>) -> axum::Router {
    axum::Router::new()
        .route("/hooks/okta/{config}", get(verify).post(deliver))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(runtime)
}

fn presented(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn verify(
    State(runtime): State<Arc<Runtime>>,
    Path(config): Path<String>,
    headers: HeaderMap,
) -> Response {
    let infraon = runtime.infraon();
    let secret = match hooks::secret(infraon, &config) {
        Ok(Some(s)) if hooks::installed(infraon, &config) => s,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    if presented(&headers).is_some() && !authenticate(&secret, presented(&headers)) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Some(challenge) = headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
    else {
        return (
            StatusCode::BAD_REQUEST,
            "this is an Okta Event Hook endpoint: Okta verifies it with X-Okta-Verification-Challenge",
        )
            .into_response();
    };
    json(
        StatusCode::OK,
        serde_json::json!({ "verification": challenge }),
    )
}

async fn deliver(
    State(runtime): State<Arc<Runtime>>,
    Path(config): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let infraon = runtime.infraon().clone();
    let secret = match hooks::secret(&infraon, &config) {
        Ok(Some(s)) if hooks::installed(&infraon, &config) => s,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    if !authenticate(&secret, presented(&headers)) {
        tracing::warn!(
            config,
            "event hook delivery refused: wrong or missing secret"
        );
        record(
            &infraon,
            &config,
            record_refusal(401, "refused: wrong or missing secret; nothing applied"),
        );
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let events = match parse_delivery(&body) {
        Ok(e) => e,
        Err(why) => {
            record(
                &infraon,
                &config,
                record_refusal(400, &format!("refused: {why}")),
            );
            return (StatusCode::BAD_REQUEST, why).into_response();
        }
    };
    match runtime.deliver_events(&config, &events).await {
        Ok(Ok(report)) => {
            record(&infraon, &config, record_of(200, &report));
            json(
                StatusCode::OK,
                serde_json::to_value(&report).unwrap_or_default(),
            )
        }
        Ok(Err(e)) => {
            let why = format!("not applied: {e:?}; Okta retries once, the next sync reconciles");
            record(&infraon, &config, record_refusal(503, &why));
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Err(e) => {
            let why = format!("not applied: {e}; the next sync reconciles");
            record(&infraon, &config, record_refusal(503, &why));
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The Settings page's section: endpoint URL, the masked secret with
/// Generate/Rotate, the last deliveries.
pub fn settings_section(console: &Console, config: &str) -> String {
    let c = urlencode(config);
    let url = format!("{}/hooks/okta/{c}", console.base);
    let infraon = console.runtime.infraon();
    let (secret, button) = match hooks::secret(infraon, config) {
        Ok(Some(s)) => (
            format!(
                "<code id=\"hook-secret\">{}</code>",
                escape(&hooks::masked(&s))
            ),
            "Rotate secret",
        ),
        _ => (
            "<span id=\"hook-secret\">none yet</span>".to_string(),
            "Generate secret",
        ),
    };
    let rows: String = hooks::deliveries(infraon, config)
        .iter()
        .map(|d| {
            let events: String = d
                .events
                .iter()
                .map(|(uuid, kind, outcome, detail)| {
                    format!(
                        "<li><code>{}</code> {} — {}{}</li>",
                        escape(kind),
                        escape(uuid),
                        escape(outcome),
                        if detail.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", escape(detail))
                        }
                    )
                })
                .collect();
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}<ul>{events}</ul></td></tr>",
                escape(&d.received_at.replace('T', " ")),
                d.status,
                escape(&d.summary)
            )
        })
        .collect();
    let table = if rows.is_empty() {
        "<p id=\"no-deliveries\">No events received yet.</p>".to_string()
    } else {
        format!(
            "<table class=\"compact\" id=\"deliveries\"><tr><th>Received</th><th>Answer</th><th>Events</th></tr>{rows}</table>"
        )
    };
    format!(
        "<section id=\"event-hook\"><h2>Okta Event Hook</h2>\
         <p>Changes in Okta reach Infraon in seconds when Okta delivers its events here; the schedule stays the backstop.</p>\
         <p>Endpoint URL: <code id=\"hook-url\">{url}</code><br>Authorization secret: {secret}</p>\
         <form method=\"post\" action=\"/configs/{c}/hooks/rotate\">\
         <button type=\"submit\" class=\"secondary\" id=\"hook-rotate\">{button}</button></form>\
         <p class=\"help\">In Okta's Admin Console: Workflow &gt; Event Hooks &gt; Create Event Hook; URL as above, \
         Authentication field <code>Authorization</code>, Authentication secret the value shown once after you generate it.</p>\
         <h3>Last events received</h3>{table}</section>",
        url = escape(&url),
    )
}

/// The rotate form's (empty) body.
#[derive(Deserialize)]
pub struct Rotate {}

/// Generate or rotate the secret and show it once.
pub async fn rotate(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(_): Form<Rotate>,
) -> Response {
    let infraon = console.runtime.infraon();
    if !hooks::installed(infraon, &config) {
        return page(
            StatusCode::NOT_FOUND,
            "Unknown config",
            &notice("bad", "status", "No config of that name is installed."),
        );
    }
    match hooks::rotate_secret(infraon, &config) {
        Ok(secret) => {
            let c = urlencode(&config);
            let body = format!(
                "{}<section><p>Endpoint URL: <code>{}/hooks/okta/{c}</code></p>\
                 <p>Authorization secret: <code id=\"new-hook-secret\">{}</code></p>\
                 <p class=\"help\">Paste it into Okta now (Workflow &gt; Event Hooks, Authentication secret): this is the \
                 only time it is shown. Deliveries with the previous secret are refused from now on.</p>\
                 <a class=\"button\" href=\"/configs/{c}\">Back to Settings</a></section>",
                notice("ok", "status", "New event hook secret generated."),
                escape(&console.base),
                escape(&secret)
            );
            page(
                StatusCode::OK,
                &format!("Okta · {config} · Event Hook secret"),
                &body,
            )
        }
        Err(_) => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Secret store unavailable",
            &notice(
                "bad",
                "status",
                "The secret store is unavailable; nothing was changed.",
            ),
        ),
    }
}
