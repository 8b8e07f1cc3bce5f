//! `GET /authorize`: validates the request, signs in the user named by
//! `login_hint` (a login or a user id) without a password, and redirects
//! back with a code. Without `login_hint` it serves a page listing users,
//! each a button that repeats the request with that user's login, so a
//! headless browser can click through.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use url::Url;

use super::{
    CODE_LIFETIME, Grant, OidcClient, Server, discovery, now_epoch, parse_form, pkce_shaped,
};
use crate::Shared;
use crate::errors::random_token;
use crate::org::{UserStatus, id_str};

/// How many users of each kind the sign-in page lists.
const LISTED_ACTIVE: usize = 10;
const LISTED_INACTIVE: usize = 3;

/// Minimal HTML escaping for text and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Okta shows an error page, not a redirect, when it cannot trust the
/// client or the redirect URI.
fn error_page(error: &str, description: &str) -> Response {
    let page = format!(
        "<!DOCTYPE html>\n<html><head><title>400 Bad Request</title></head><body>\
<h1>400 Bad Request</h1><p id=\"error-code\">{}</p><p id=\"error-description\">{}</p>\
</body></html>\n",
        esc(error),
        esc(description)
    );
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

/// A 302 to `redirect` with `params` added to its query.
fn redirect(mut redirect: Url, params: &[(&str, &str)]) -> Response {
    redirect.query_pairs_mut().extend_pairs(params);
    let mut resp = StatusCode::FOUND.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(redirect.as_str()) {
        h.insert(header::LOCATION, v);
    }
    // Okta sets this so the code does not leak through the Referer header.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// An authorization error as RFC 6749 §4.1.2.1 sends it: back to the client.
fn redirect_error(to: &Url, state: Option<&str>, error: &str, description: &str) -> Response {
    let mut params = vec![("error", error), ("error_description", description)];
    if let Some(s) = state {
        params.push(("state", s));
    }
    redirect(to.clone(), &params)
}

/// Checks what the client sent after the client and redirect URI are
/// trusted; `Err` is `(error, description)` for the error redirect.
fn check_request(
    p: &HashMap<String, String>,
    server: &Server,
    client: &OidcClient,
) -> Result<Vec<String>, (&'static str, String)> {
    let get = |k: &str| p.get(k).map(String::as_str);
    match get("response_type") {
        None => {
            return Err((
                "invalid_request",
                "The 'response_type' parameter is required.".into(),
            ));
        }
        Some("code") => {}
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "The response type contained in the request isn't supported.".into(),
            ));
        }
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err((
            "unsupported_response_mode",
            "The response mode isn't supported by the authorization server. Valid response modes: [`query`].".into(),
        ));
    }
    let scopes: Vec<String> = get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if scopes.is_empty() {
        return Err(("invalid_scope", "No scopes were requested.".into()));
    }
    let supported = discovery::scopes(server);
    if let Some(bad) = scopes.iter().find(|s| !supported.contains(&s.as_str())) {
        return Err((
            "invalid_scope",
            format!(
                "One or more scopes are not configured for the authorization server resource: {bad}."
            ),
        ));
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err((
            "invalid_scope",
            "Requests for ID tokens or access tokens with OpenID scopes require the `openid` scope.".into(),
        ));
    }
    if get("state").is_none_or(str::is_empty) {
        return Err((
            "invalid_request",
            "The 'state' parameter is required.".into(),
        ));
    }
    match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) if client.client_secret.is_none() => {
            return Err((
                "invalid_request",
                "PKCE code challenge is required when the token endpoint authentication method is 'NONE'.".into(),
            ));
        }
        (None, None) => {}
        (Some(c), Some("S256")) if pkce_shaped(c) => {}
        (Some(_), Some("S256")) => {
            return Err((
                "invalid_request",
                "The PKCE code challenge must be 43 to 128 characters of [A-Za-z0-9-._~].".into(),
            ));
        }
        (None, Some(_)) => {
            return Err((
                "invalid_request",
                "The 'code_challenge' parameter is required.".into(),
            ));
        }
        (Some(_), _) => {
            return Err((
                "invalid_request",
                "The 'code_challenge_method' parameter must be 'S256'.".into(),
            ));
        }
    }
    Ok(scopes)
}

/// The page that lets a person (or a browser test) choose who signs in.
fn chooser(
    st: &Shared,
    action: &str,
    p: &HashMap<String, String>,
    notice: Option<&str>,
) -> Response {
    let mut hidden = String::new();
    let mut keys: Vec<&String> = p.keys().filter(|k| *k != "login_hint").collect();
    keys.sort();
    for k in keys {
        let _ = write!(
            hidden,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(&p[k])
        );
    }
    let mut buttons = String::new();
    {
        let org = st.org();
        let active = org
            .users
            .iter()
            .filter(|(_, u)| u.status == UserStatus::Active);
        let inactive = org
            .users
            .iter()
            .filter(|(_, u)| u.status != UserStatus::Active);
        let listed = active
            .take(LISTED_ACTIVE)
            .chain(inactive.take(LISTED_INACTIVE));
        for (id, u) in listed {
            let login = u.login();
            let profile = u.profile();
            let name = profile
                .get("displayName")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let _ = write!(
                buttons,
                "<li><button type=\"submit\" name=\"login_hint\" value=\"{}\" data-user-id=\"{}\">{} ({}, {})</button></li>",
                esc(&login),
                esc(id_str(id)),
                esc(name),
                esc(&login),
                u.status
            );
        }
    }
    let notice = notice
        .map(|n| format!("<p id=\"notice\" role=\"alert\">{}</p>", esc(n)))
        .unwrap_or_default();
    let action = esc(action);
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sign In</title></head><body>\
<h1>Sign In</h1>{notice}\
<form id=\"sign-in\" method=\"get\" action=\"{action}\">{hidden}\
<label for=\"login_hint\">Username</label> <input id=\"login_hint\" name=\"login_hint\" autocomplete=\"username\">\
<button id=\"sign-in-submit\" type=\"submit\">Sign In</button></form>\
<form id=\"pick-user\" method=\"get\" action=\"{action}\">{hidden}<ul>{buttons}</ul></form>\
</body></html>\n"
    );
    let mut resp = Html(page).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn authorize(st: &Shared, server: Server, raw_query: Option<&str>) -> Response {
    let p = match parse_form(raw_query.unwrap_or("").as_bytes()) {
        Ok(p) => p,
        Err(dup) => {
            return error_page(
                "invalid_request",
                &format!("The '{dup}' parameter was provided more than once."),
            );
        }
    };
    let get = |k: &str| p.get(k).map(String::as_str);
    let client = get("client_id").and_then(|id| st.oidc().clients.get(id).cloned());
    let Some(client) = client else {
        return error_page("invalid_client", "Invalid value for 'client_id' parameter.");
    };
    let redirect_uri = get("redirect_uri").unwrap_or("");
    let target = Url::parse(redirect_uri)
        .ok()
        .filter(|_| client.redirect_uris.iter().any(|r| r == redirect_uri));
    let Some(target) = target else {
        return error_page(
            "invalid_request",
            "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.",
        );
    };
    let state = get("state");
    let scopes = match check_request(&p, &server, &client) {
        Ok(s) => s,
        Err((error, description)) => return redirect_error(&target, state, error, &description),
    };
    let prompt_none = get("prompt") == Some("none");
    let action = server.endpoint("", "authorize");
    let hint = get("login_hint").filter(|h| !h.is_empty());
    let found = hint.and_then(|h| {
        let org = st.org();
        org.find_user(h)
            .map(|(id, u)| (id_str(id).to_owned(), u.status))
    });
    let (user_id, status) = match (found, hint) {
        (Some(f), _) => f,
        _ if prompt_none => {
            return redirect_error(
                &target,
                state,
                "login_required",
                "The client specified not to prompt, but the user isn't signed in.",
            );
        }
        (None, Some(h)) => {
            return chooser(
                st,
                &action,
                &p,
                Some(&format!("Unable to sign in: no user {h}.")),
            );
        }
        (None, None) => return chooser(st, &action, &p, None),
    };
    if status != UserStatus::Active {
        return redirect_error(
            &target,
            state,
            "access_denied",
            "The user is not active, so they can't sign in to this app.",
        );
    }
    let code = random_token(43);
    let issuer = server.issuer(&st.url);
    let grant = Grant {
        client_id: client.client_id.clone(),
        redirect_uri: redirect_uri.to_owned(),
        server: Some(server),
        user_id: Some(user_id),
        nonce: get("nonce").map(str::to_owned),
        scopes,
        code_challenge: get("code_challenge").map(str::to_owned),
        auth_time: now_epoch(),
        expires: Instant::now() + CODE_LIFETIME,
        forced_id_token: None,
    };
    {
        let mut oidc = st.oidc();
        oidc.prune(Instant::now(), now_epoch());
        oidc.codes.insert(code.clone(), grant);
    }
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    let iss = match &st.oidc().switches.iss_parameter {
        super::IssParameter::Correct => Some(issuer.clone()),
        super::IssParameter::Other(other) => Some(other.clone()),
        _ => None,
    };
    if let Some(iss) = &iss {
        params.push(("iss", iss));
    }
    redirect(target, &params)
}

/// `GET /oauth2/v1/authorize`.
pub(super) async fn org(State(st): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Response {
    authorize(&st, Server::Org, q.as_deref()).await
}

/// `GET /oauth2/{id}/v1/authorize`.
pub(super) async fn custom(
    State(st): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    match super::custom(&st, &id) {
        Ok(server) => authorize(&st, server, q.as_deref()).await,
        Err(e) => e.into_response(),
    }
}
