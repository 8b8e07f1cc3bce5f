//! Sign in with Okta, as Infraon offers it: `/login` → Okta authorize →
//! `/callback/{config}` → a page saying who signed in, as what, with which
//! roles. Pages are plain server-rendered HTML (no scripts, no CDN).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::layout::{escape, notice, page, urlencode};
use crate::bindings::infraon::okta::types::SyncTarget;

/// `GET /sso`: a sign-in button per config and population.
pub async fn index(State(web): State<Console>) -> Response {
    let configs = web
        .runtime
        .configs()
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let cards: String = configs
        .iter()
        .map(|c| {
            let (who, kind) = match c.sync_target {
                SyncTarget::Users => ("Infraon (technicians and admins)", "user"),
                SyncTarget::Requesters => ("Self-Service Portal (requesters)", "requester"),
            };
            format!(
                "<section class=\"signin\"><h2>{who}</h2><p class=\"help\">Okta config {n}</p>\
                 <a class=\"button\" id=\"signin-{id}\" href=\"/login?config={q}&amp;as={kind}\">Sign in with Okta</a></section>",
                n = escape(&c.name),
                id = escape(&c.name.replace(|ch: char| !ch.is_ascii_alphanumeric(), "-")),
                q = urlencode(&c.name),
            )
        })
        .collect();
    let body = if cards.is_empty() {
        notice(
            "info",
            "no-configs",
            "No Okta config is installed yet: install one from the Marketplace first.",
        )
    } else {
        format!(
            "<p>Sign in to Infraon with your Okta account. Turn sign-in on per config in its Settings.</p>{cards}"
        )
    };
    page(StatusCode::OK, "Sign in with Okta", &body)
}

/// `/login` parameters.
#[derive(Deserialize)]
pub struct LoginQuery {
    config: String,
    #[serde(rename = "as", default)]
    kind: Option<String>,
    /// Passed on to Okta's authorize (picks the account on the fake Okta).
    login_hint: Option<String>,
}

/// `GET /login`: start an OIDC login and send the browser to Okta.
pub async fn login(State(web): State<Console>, Query(q): Query<LoginQuery>) -> Response {
    let kind = match q.kind.as_deref() {
        None | Some("user") | Some("users") => SyncTarget::Users,
        Some("requester") | Some("requesters") => SyncTarget::Requesters,
        Some(other) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Sign-in failed",
                &format!("<p>Unknown kind {}.</p>", escape(other)),
            );
        }
    };
    let redirect_uri = format!("{}/callback/{}", web.base, urlencode(&q.config));
    match web.runtime.sso_begin(&q.config, kind, &redirect_uri).await {
        Ok(Ok(start)) => {
            let mut url = start.authorize_url;
            if let Some(hint) = q.login_hint.filter(|h| !h.is_empty()) {
                url.push_str(&format!("&login_hint={}", urlencode(&hint)));
            }
            Redirect::to(&url).into_response()
        }
        Ok(Err(e)) => refused(&crate::render::sso_error(&e)),
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            &format!("<p>{}</p>", escape(&e.to_string())),
        ),
    }
}

/// `/callback` parameters, as Okta redirects back.
#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /callback/{config}`: where Okta sends the browser back.
pub async fn callback(
    State(web): State<Console>,
    Path(config): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    if let Some(error) = q.error {
        let why = q.error_description.unwrap_or(error);
        return refused(&format!("Okta refused the sign-in: {why}"));
    }
    let (Some(state), Some(code)) = (q.state, q.code) else {
        return refused("The sign-in answer from Okta is incomplete; start again.");
    };
    match web.runtime.sso_complete(&config, &state, &code).await {
        Ok(Ok(who)) => {
            let kind = match who.kind {
                SyncTarget::Users => "an Infraon User",
                SyncTarget::Requesters => "a Self-Service Portal Requester",
            };
            let roles = if who.roles.is_empty() {
                "none".to_string()
            } else {
                who.roles.join(", ")
            };
            let body = format!(
                "<section><p id=\"who\">Signed in as <strong>{}</strong> ({}) as {kind}.</p>\
                 <p id=\"roles\">Roles: {}</p><p id=\"okta-id\">Okta id: {}</p></section>",
                escape(&who.display_name),
                escape(&who.login),
                escape(&roles),
                escape(&who.external_id)
            );
            page(StatusCode::OK, "Signed in", &body)
        }
        Ok(Err(e)) => refused(&crate::render::sso_error(&e)),
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            &format!("<p>{}</p>", escape(&e.to_string())),
        ),
    }
}

fn refused(why: &str) -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Sign-in refused",
        &format!("<p id=\"error\">{}</p>", escape(why)),
    )
}
