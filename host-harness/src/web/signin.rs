//! Sign in with Okta, as Infraon offers it: `/login` → the identity
//! provider's authorize page → `/callback/{config}` → a session for that
//! person and a page saying who signed in, as what, with which roles.
//!
//! A sign-in is bound to the browser that started it: `/login` sets a
//! cookie (`infraon_login`, `HttpOnly`, `SameSite=Lax` so that the
//! provider's redirect back carries it, `Path=/callback/`, 10 minutes) and
//! keeps, per `state`, the cookie value it expects back. The plugin keeps
//! the nonce and PKCE verifier under that `state`, so all three are bound
//! to the cookie: a callback opened in another browser (a login forced on
//! a victim, or a leaked callback URL) is refused before the code is used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::Console;
use super::admin::{as_session, start_session, who_section};
use super::guard::Current;
use super::layout::{escape, notice, page, urlencode};
use super::session::{self, Principal, SignedInPerson};
use crate::bindings::infraon::okta::types::SyncTarget;

/// The cookie that binds a sign-in to its browser.
pub const LOGIN_COOKIE: &str = "infraon_login";

/// As long as the plugin keeps a started sign-in.
const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);

/// Sign-ins kept at most; the oldest go first.
const MAX_LOGINS: usize = 10_000;

/// Started sign-ins: `state` → the browser binding and when it started.
#[derive(Clone, Default)]
pub struct Logins(Arc<Mutex<HashMap<String, (String, Instant)>>>);

impl Logins {
    fn remember(&self, state: &str, binding: &str) {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (_, at)| now.duration_since(*at) < LOGIN_TTL);
        if map.len() >= MAX_LOGINS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(state.to_string(), (binding.to_string(), now));
    }

    /// Spend `state`: whether it was started by the browser presenting
    /// `binding`, within the time a sign-in may take.
    fn take_matching(&self, state: &str, binding: Option<&str>) -> bool {
        let entry = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(state);
        match (entry, binding) {
            (Some((expected, at)), Some(given)) => {
                at.elapsed() < LOGIN_TTL && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
            }
            _ => false,
        }
    }
}

/// The binding this browser already has (several tabs may sign in at
/// once), or a new one.
fn binding_of(headers: &HeaderMap) -> String {
    session::read_cookie(headers, LOGIN_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(session::random_id)
}

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

/// `GET /login`: start an OIDC login and send the browser to the identity
/// provider, bound to this browser by a cookie.
pub async fn login(
    State(web): State<Console>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
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
            let binding = binding_of(&headers);
            web.logins.remember(&start.state, &binding);
            let mut resp = Redirect::to(&url).into_response();
            let secure = if web.secure() { "; Secure" } else { "" };
            let cookie = format!(
                "{LOGIN_COOKIE}={binding}; Path=/callback/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                LOGIN_TTL.as_secs()
            );
            // Sent again each time: its 10 minutes restart with each sign-in.
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Ok(Err(e)) => refused(&crate::render::sso_error(&e)),
        Err(e) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Sign-in failed",
            &format!("<p>{}</p>", escape(&e.to_string())),
        ),
    }
}

/// `/callback` parameters, as the identity provider redirects back.
#[derive(Deserialize)]
pub struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    /// RFC 9207: the issuer of this answer, when the provider names it.
    iss: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /callback/{config}`: where the identity provider sends the browser
/// back. Refused unless this browser started the sign-in; on success the
/// browser gets a session for the person who signed in.
pub async fn callback(
    State(web): State<Console>,
    Path(config): Path<String>,
    Extension(current): Extension<Current>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let binding = session::read_cookie(&headers, LOGIN_COOKIE);
    let bound = q
        .state
        .as_deref()
        .is_some_and(|s| web.logins.take_matching(s, binding.as_deref()));
    if let Some(error) = q.error {
        let why = q.error_description.unwrap_or(error);
        return refused(&format!("The identity provider refused the sign-in: {why}"));
    }
    let (Some(state), Some(code)) = (q.state, q.code) else {
        return refused(
            "The sign-in answer from the identity provider is incomplete; start again.",
        );
    };
    if !bound {
        return refused(
            "This sign-in was not started in this browser (or it took longer than 10 minutes). Start the sign-in again from this browser.",
        );
    }
    match web
        .runtime
        .sso_complete(&config, &state, &code, q.iss.as_deref())
        .await
    {
        Ok(Ok(who)) => {
            let principal = Principal::Person(SignedInPerson {
                config: config.clone(),
                kind: match who.kind {
                    SyncTarget::Users => "user",
                    SyncTarget::Requesters => "requester",
                },
                display_name: who.display_name,
                login: who.login,
                external_id: who.external_id,
                roles: who.roles,
            });
            let body = who_section(&principal);
            let mut resp = Response::default();
            let ctx = start_session(&web, &current, principal, &mut resp);
            let cookies = resp
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .cloned()
                .collect::<Vec<_>>();
            let mut page = as_session(ctx, || page(StatusCode::OK, "Signed in", &body));
            for c in cookies {
                page.headers_mut().append(header::SET_COOKIE, c);
            }
            page
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
