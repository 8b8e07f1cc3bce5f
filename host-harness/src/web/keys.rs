//! A service app's key pairs in the console (what `harness keys` does): the
//! public JWKs to paste into the Okta app, a new key, and retiring the old
//! one once Okta has the new one.
//!
//! Keys belong to a config name, installed or not: a service-app config
//! cannot pass Verify until Okta has its public key, so the install form
//! links here first. Private keys never leave the host's key store; the
//! page shows public JWKs only.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::layout::{escape, notice, page, urlencode};
use crate::keys::{KeyRing, ShownKey};

/// `GET /keys?config=NAME`: the install form's way here, before the
/// config exists.
#[derive(Deserialize)]
pub struct Pick {
    #[serde(default)]
    config: String,
}

/// `GET /keys?config=NAME` → that config's keys page.
pub async fn pick(Query(pick): Query<Pick>) -> Response {
    let name = pick.config.trim();
    if name.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            "Service app keys",
            &notice(
                "bad",
                "error",
                "Type the config name first: keys belong to a config.",
            ),
        );
    }
    Redirect::to(&format!("/configs/{}/keys", urlencode(name))).into_response()
}

/// What happened, shown above the keys after a post.
#[derive(Deserialize, Default)]
pub struct Done {
    added: Option<String>,
    retired: Option<String>,
}

/// `GET /configs/{config}/keys`.
pub async fn keys_page(
    State(console): State<Console>,
    Path(config): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let top = match (done.added, done.retired) {
        (Some(kid), _) => notice(
            "ok",
            "status",
            &format!(
                "Key {kid} made. Add its public key to the Okta app (Public keys), beside the old one; \
                 retire the old one here once Okta has the new one."
            ),
        ),
        (None, Some(kid)) => notice(
            "ok",
            "status",
            &format!(
                "Key {kid} retired: the newer key signs from now on. Remove it from the Okta app."
            ),
        ),
        _ => String::new(),
    };
    render(&console, &config, top, StatusCode::OK)
}

fn render(console: &Console, config: &str, top: String, status: StatusCode) -> Response {
    let c = urlencode(config);
    let shown = KeyRing::load(console.runtime.infraon(), config).and_then(|r| r.shown());
    let keys = match shown {
        Ok(keys) => keys,
        Err(e) => {
            return page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Service app keys",
                &notice("bad", "error", &format!("The keys cannot be read: {e}")),
            );
        }
    };
    let list = if keys.is_empty() {
        "<p id=\"no-keys\">No key yet. Make one, then add its public key to the Okta app.</p>"
            .to_string()
    } else {
        let rows: String = keys.iter().map(|k| key_row(&c, k, keys.len())).collect();
        let jwks = serde_json::json!({ "keys": keys.iter().map(|k| &k.jwk).collect::<Vec<_>>() });
        format!(
            "<table><tr><th>kid</th><th>made</th><th>role</th><th></th></tr>{rows}</table>\
             <h2>Public keys (JWKS) for the Okta app</h2>\
             <p class=\"help\">In Okta: Applications → your API Services app → General → Public keys → Add key, \
             and paste one key; or use this whole set.</p>\
             <pre id=\"jwks\">{}</pre>",
            escape(&serde_json::to_string_pretty(&jwks).unwrap_or_default())
        )
    };
    let body = format!(
        "{top}<p><a href=\"/configs/{c}\">← Settings</a> · <a href=\"/marketplace/okta/install\">Install form</a></p>\
         <section id=\"keys\"><h2>Key pairs of {name}</h2>\
         <p class=\"help\">The service app signs its client assertions (private_key_jwt) with the oldest key; \
         private keys stay in Infraon's key store and are never shown.</p>{list}\
         <form method=\"post\" action=\"/configs/{c}/keys/add\"><button type=\"submit\" id=\"add-key\">Make a new key</button></form>\
         </section>",
        name = escape(config),
    );
    page(
        status,
        &format!("Okta · {config} · Service app keys"),
        &body,
    )
}

fn key_row(c: &str, k: &ShownKey, count: usize) -> String {
    let role = if k.signing {
        "signing"
    } else {
        "next (signs once the older key is retired)"
    };
    // The last key cannot be retired: the config would have none to sign with.
    let retire = if count > 1 {
        format!(
            "<form method=\"post\" action=\"/configs/{c}/keys/retire\">\
             <input type=\"hidden\" name=\"kid\" value=\"{kid}\">\
             <button type=\"submit\" class=\"secondary\" id=\"retire-{kid}\">Retire</button></form>",
            kid = escape(&k.kid)
        )
    } else {
        String::new()
    };
    format!(
        "<tr class=\"key\" data-kid=\"{kid}\"><td><code>{kid}</code></td><td>{at}</td><td>{role}</td><td>{retire}</td></tr>",
        kid = escape(&k.kid),
        at = escape(&k.created_at),
    )
}

/// `POST /configs/{config}/keys/add`.
pub async fn add(State(console): State<Console>, Path(config): Path<String>) -> Response {
    match KeyRing::add(console.runtime.infraon(), &config) {
        Ok(k) => Redirect::to(&format!(
            "/configs/{}/keys?added={}",
            urlencode(&config),
            urlencode(&k.kid)
        ))
        .into_response(),
        Err(e) => render(
            &console,
            &config,
            notice("bad", "error", &format!("No key made: {e}")),
            StatusCode::INTERNAL_SERVER_ERROR,
        ),
    }
}

/// `POST /configs/{config}/keys/retire`.
#[derive(Deserialize)]
pub struct Retire {
    #[serde(default)]
    kid: String,
}

/// `POST /configs/{config}/keys/retire`: never the last key.
pub async fn retire(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<Retire>,
) -> Response {
    match KeyRing::retire(console.runtime.infraon(), &config, form.kid.trim()) {
        Ok(()) => Redirect::to(&format!(
            "/configs/{}/keys?retired={}",
            urlencode(&config),
            urlencode(form.kid.trim())
        ))
        .into_response(),
        Err(e) => render(
            &console,
            &config,
            notice("bad", "error", &format!("Not retired: {e}")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}
