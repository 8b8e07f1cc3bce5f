//! The local sign-in flow `serve` offers: `/login` → Okta authorize →
//! `/callback/{config}` → a page saying who signed in, as what, with which
//! roles. Pages are plain server-rendered HTML (no scripts, no CDN).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::bindings::infraon::okta::types::SyncTarget;
use crate::runtime::Runtime;

/// What the web routes share.
#[derive(Clone)]
pub struct Web {
    runtime: Arc<Runtime>,
    /// `http://127.0.0.1:PORT`, as the browser reaches this server.
    base: String,
}

/// The router of the local sign-in pages, served at `base`.
pub fn router(runtime: Arc<Runtime>, base: String) -> axum::Router {
    axum::Router::new()
        .route("/", get(index))
        .route("/login", get(login))
        .route("/callback/{config}", get(callback))
        .with_state(Web { runtime, base })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} · Infraon</title></head>\
         <body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

async fn index(State(web): State<Web>) -> Response {
    let configs = web
        .runtime
        .configs()
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let links: String = configs
        .iter()
        .map(|c| {
            let n = escape(&c.name);
            format!(
                "<li>{n}: <a href=\"/login?config={n}&amp;as=user\">sign in as a User</a> · \
                 <a href=\"/login?config={n}&amp;as=requester\">sign in as a Requester</a></li>"
            )
        })
        .collect();
    page(
        StatusCode::OK,
        "Sign in with Okta",
        &format!("<ul>{links}</ul>"),
    )
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

async fn login(State(web): State<Web>, Query(q): Query<LoginQuery>) -> Response {
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

async fn callback(
    State(web): State<Web>,
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
                "<p id=\"who\">Signed in as <strong>{}</strong> ({}) as {kind}.</p>\
                 <p id=\"roles\">Roles: {}</p><p id=\"okta-id\">Okta id: {}</p>",
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

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
