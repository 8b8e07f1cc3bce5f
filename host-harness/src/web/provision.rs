//! Provision one person on demand, as Entra's "provision on demand": the
//! admin names an Okta user (login or id) on a config's Settings, and that
//! person is synced now — read with their groups, mapped, created or
//! updated with their roles — and nobody else.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Console;
use super::changes::changes_table;
use super::layout::{escape, host_failure, notice, page, urlencode};
use crate::bindings::exports::infraon::okta::sync::SyncError;
use crate::render;

/// The Settings section with the form.
pub fn section(config: &str) -> String {
    format!(
        "<section id=\"provision\"><h2>Provision one person</h2>\
         <form method=\"post\" action=\"/configs/{c}/provision\" class=\"row\">\
         <div><label for=\"provision-user\">Okta login or user id</label>\
         <input type=\"text\" id=\"provision-user\" name=\"user\" size=\"32\" placeholder=\"ada@example.com\"></div>\
         <div><button type=\"submit\" id=\"provision-now\">Provision now</button></div></form>\
         <p class=\"help\">Syncs this one person now with the config's mapping and role rules, \
         and shows what changed. Nobody else is read or changed.</p></section>",
        c = urlencode(config)
    )
}

/// `POST /configs/{config}/provision`.
#[derive(Deserialize)]
pub struct ProvisionForm {
    #[serde(default)]
    user: String,
}

/// `POST /configs/{config}/provision`: sync one person, show what changed.
pub async fn provision(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<ProvisionForm>,
) -> Response {
    let c = urlencode(&config);
    let title = format!("Okta · {config} · Provision one person");
    let back = format!("<p><a href=\"/configs/{c}\" id=\"back\">Back to Settings</a></p>");
    match console.runtime.provision(&config, &form.user).await {
        Ok(Ok(r)) => {
            let groups = if r.groups.is_empty() {
                "no group".to_string()
            } else {
                escape(&r.groups.join(", "))
            };
            let what = if r.changes.is_empty() {
                notice(
                    "ok",
                    "provisioned",
                    &format!("{} is already up to date: nothing changed.", r.login),
                )
            } else {
                format!(
                    "{}{}",
                    notice(
                        "ok",
                        "provisioned",
                        &format!("{} provisioned: {} change(s).", r.login, r.changes.len())
                    ),
                    changes_table(&r.changes)
                )
            };
            let body = format!(
                "{what}<section><p>Okta user <code id=\"okta-id\">{id}</code> ({login}), in <span id=\"groups\">{groups}</span>; \
                 {n} request(s) to Okta.</p></section>{back}",
                id = escape(&r.okta_id),
                login = escape(&r.login),
                n = r.requests,
            );
            page(StatusCode::OK, &title, &body)
        }
        Ok(Err(e)) => {
            let text = match &e {
                SyncError::Okta(f) => format!("Okta failed: {}", render::okta_failure(f)),
                e => render::sync_error(e),
            };
            page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &title,
                &format!(
                    "{}{back}",
                    notice("bad", "error", &format!("Not provisioned: {text}"))
                ),
            )
        }
        Err(e) => host_failure("Provision one person", &e),
    }
}
