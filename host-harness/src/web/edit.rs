//! Edit an installed config from the console: rotate the API token (Okta
//! verifies the new one before it is kept; a refused token leaves the old
//! one in place), change the Okta domain or the Sync field (with the
//! migration rule when people are linked: move them or deactivate them),
//! and the rehire policy. The token is never rendered back; the saved Sign
//! in with Okta settings and the safeguard stay on Settings, linked here.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::layout::{escape, host_failure, notice, page, urlencode};
use crate::bindings::exports::infraon::okta::install::{InstallError, Migration};
use crate::bindings::exports::infraon::okta::sync::RehirePolicy;
use crate::bindings::infraon::okta::types::{
    ConfigForm, ConfigSummary, InstallOptions, SyncTarget,
};
use crate::render;

async fn summary(console: &Console, config: &str) -> Option<ConfigSummary> {
    match console.runtime.configs().await {
        Ok(Ok(configs)) => configs.into_iter().find(|c| c.name == config),
        _ => None,
    }
}

fn no_config(config: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "No such config",
        &notice(
            "bad",
            "error",
            &format!("No Okta config named {config:?} is installed."),
        ),
    )
}

/// `GET /configs/{config}/edit`.
pub async fn edit_page(State(console): State<Console>, Path(config): Path<String>) -> Response {
    render(&console, &config, None, StatusCode::OK).await
}

async fn render(
    console: &Console,
    config: &str,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let Some(s) = summary(console, config).await else {
        return no_config(config);
    };
    let c = urlencode(config);
    let top = message
        .map(|m| notice("bad", "edit-error", &m))
        .unwrap_or_default();
    let selected = |t: SyncTarget| if s.sync_target == t { " selected" } else { "" };
    let token = if s.service_app.is_some() {
        format!(
            "<p class=\"help\">This config authenticates with an OAuth 2.0 service app: rotate its keys on \
             <a href=\"/configs/{c}/keys\" id=\"open-keys\">Service app keys</a>.</p>"
        )
    } else {
        "<div class=\"field\"><label for=\"api_token\">API Token</label>\
         <input type=\"password\" id=\"api_token\" name=\"api_token\" autocomplete=\"off\" size=\"48\" value=\"\">\
         <p class=\"help\">To rotate it: create a new token in Okta (Security &gt; API &gt; Tokens), paste it here \
         and save; Okta must accept it before it replaces the old one. Then revoke the old one in Okta. \
         Leave blank to keep the current token.</p></div>"
            .to_string()
    };
    let rehire = match console.runtime.rehire(config).await {
        Ok(Ok(p)) => {
            let sel = |x: RehirePolicy| if p == x { " selected" } else { "" };
            format!(
                "<section id=\"rehire\"><h2>Rehire</h2>\
                 <form method=\"post\" action=\"/configs/{c}/rehire\" class=\"row\">\
                 <div><label for=\"rehire-policy\">A new Okta account whose email or login belongs to a person this config deactivated</label>\
                 <select id=\"rehire-policy\" name=\"policy\">\
                 <option value=\"relink\"{r}>Relink: reactivate that person, history kept (default)</option>\
                 <option value=\"new-person\"{n}>New person: create another; the former keeps their history</option>\
                 </select></div><div><button type=\"submit\" id=\"rehire-save\">Save</button></div></form></section>",
                r = sel(RehirePolicy::Relink),
                n = sel(RehirePolicy::NewPerson),
            )
        }
        // A plugin that cannot set it (contract 0.1.0): not shown.
        _ => String::new(),
    };
    let body = format!(
        "{top}<section id=\"edit\"><h2>Connection</h2>\
         <form method=\"post\" action=\"/configs/{c}/edit\">\
         <div class=\"field\"><label for=\"okta_domain\">Okta Domain URL</label>\
         <input type=\"text\" id=\"okta_domain\" name=\"okta_domain\" size=\"48\" value=\"{origin}\"></div>\
         {token}\
         <div class=\"field\"><label for=\"sync_target\">Sync</label><select id=\"sync_target\" name=\"sync_target\">\
         <option value=\"users\"{u}>Users (technicians and admins)</option>\
         <option value=\"requesters\"{r}>Requesters (Self-Service Portal)</option></select></div>\
         <fieldset class=\"field\"><legend>When the Sync field or the Okta org changes while people are linked</legend>\
         <label><input type=\"radio\" name=\"migration\" value=\"\" checked id=\"migration-none\"> Ask me (refuse the change)</label><br>\
         <label><input type=\"radio\" name=\"migration\" value=\"move\" id=\"migration-move\"> Move them: to the new population; \
         for another org, deactivated until its first sync relinks them by email or login</label><br>\
         <label><input type=\"radio\" name=\"migration\" value=\"deactivate\" id=\"migration-deactivate\"> Deactivate them, \
         history kept; for another org their email and login are released</label></fieldset>\
         <button type=\"submit\" id=\"edit-save\">Verify and save</button></form></section>\
         {rehire}\
         <section><p>The <a href=\"/configs/{c}#sso\">Sign in with Okta settings</a> and the \
         <a href=\"/configs/{c}#safeguard\">safeguard</a> are edited on Settings.</p>\
         <p><a href=\"/configs/{c}\" id=\"back\">Back to Settings</a></p></section>",
        origin = escape(&s.okta_origin),
        u = selected(SyncTarget::Users),
        r = selected(SyncTarget::Requesters),
    );
    page(status, &format!("Okta · {config} · Edit config"), &body)
}

/// What the edit form posts. The token is never rendered back.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    okta_domain: String,
    #[serde(default)]
    api_token: String,
    #[serde(default)]
    sync_target: String,
    /// Empty, `move` or `deactivate`.
    #[serde(default)]
    migration: String,
}

/// Why an edit was refused, in an admin's words; a refused token keeps
/// the old one (the plugin stores nothing unless Okta verifies).
fn refusal(e: &InstallError, rotating: bool) -> String {
    match e {
        InstallError::VerificationFailed(f) if rotating => format!(
            "Not saved: Okta refused the new API token: {}. The previous token is kept and syncs go on with it.",
            render::okta_failure(f)
        ),
        InstallError::VerificationFailed(f) => format!(
            "Not saved: Okta did not verify these values: {}. The config is unchanged.",
            render::okta_failure(f)
        ),
        InstallError::InvalidConfig(fields) => format!(
            "Not saved: {}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        e => format!("Not saved: {}", render::install_error(e)),
    }
}

/// `POST /configs/{config}/edit`: verified, then kept.
pub async fn submit(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    let Some(s) = summary(&console, &config).await else {
        return no_config(&config);
    };
    if s.development_mode && !console.development {
        return render(
            &console,
            &config,
            Some(
                "Not saved: this config was installed in development mode, which this console refuses.".into(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let form = ConfigForm {
        name: s.name.clone(),
        okta_domain: f.okta_domain.trim().to_string(),
        api_token: f.api_token.trim().to_string(),
        sync_target: if f.sync_target == "requesters" {
            SyncTarget::Requesters
        } else {
            SyncTarget::Users
        },
        service_app: s.service_app.clone(),
    };
    let options = InstallOptions {
        development_mode: s.development_mode,
    };
    let migration = match f.migration.as_str() {
        "move" => Some(Migration::Move),
        "deactivate" => Some(Migration::Deactivate),
        _ => None,
    };
    let outcome = match migration {
        Some(m) => console.runtime.update_migrating(&form, options, m).await,
        None => console.runtime.update(&form, options).await,
    };
    match outcome {
        Ok(Ok(_)) => {
            Redirect::to(&format!("/configs/{}?done=edited", urlencode(&config))).into_response()
        }
        Ok(Err(e)) => {
            let why = refusal(&e, !form.api_token.is_empty());
            render(
                &console,
                &config,
                Some(why),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Edit config", &e),
    }
}

/// `POST /configs/{config}/rehire`.
#[derive(Deserialize)]
pub struct RehireForm {
    #[serde(default)]
    policy: String,
}

/// `POST /configs/{config}/rehire`: set the rehire policy.
pub async fn rehire(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(f): Form<RehireForm>,
) -> Response {
    let policy = match f.policy.as_str() {
        "relink" => RehirePolicy::Relink,
        "new-person" => RehirePolicy::NewPerson,
        other => {
            return render(
                &console,
                &config,
                Some(format!("Not saved: unknown rehire policy {other:?}")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match console.runtime.set_rehire(&config, policy).await {
        Ok(Ok(())) => {
            Redirect::to(&format!("/configs/{}?done=rehire", urlencode(&config))).into_response()
        }
        Ok(Err(e)) => {
            render(
                &console,
                &config,
                Some(format!("Not saved: {}", render::sync_error(&e))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Rehire", &e),
    }
}
