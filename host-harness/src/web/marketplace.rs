//! The Marketplace, the Okta plugin page and the install form: fields
//! generated from `manifest.json`, Verify first, Install only after a
//! successful Verify of exactly the values being installed.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::layout::{escape, host_failure, notice, page, urlencode};
use super::{Console, Manifest, Verified};
use crate::bindings::exports::infraon::okta::install::InstallError;
use crate::bindings::exports::infraon::okta::verify::VerifyError;
use crate::bindings::infraon::okta::types::{
    ConfigForm, FieldError, InstallOptions, OktaFailure, ServiceApp, SyncTarget,
};
use crate::render;

/// How long a successful Verify lets Install go ahead without another.
const VERIFIED_FOR: Duration = Duration::from_secs(15 * 60);

/// `/`: the Marketplace is the console's front page.
pub async fn home() -> Redirect {
    Redirect::to("/marketplace")
}

/// `/marketplace`: the plugin cards.
pub async fn index(State(console): State<Console>) -> Response {
    let m = Manifest::shipped();
    let installed = installed_configs(&console).await.len();
    let status = match installed {
        0 => "Not installed".to_string(),
        1 => "1 config installed".to_string(),
        n => format!("{n} configs installed"),
    };
    let body = format!(
        "<p>Integrations for Infraon. Plugins run sandboxed as WebAssembly components.</p>\
         <div class=\"cards\"><a class=\"card\" id=\"card-okta\" href=\"/marketplace/okta\">\
         <span class=\"logo\">ok</span><strong>{name}</strong> <span class=\"help\">by {publisher} · v{version}</span>\
         <p>{description}</p><span class=\"badge\">{status}</span></a></div>",
        name = escape(&m.name),
        publisher = escape(&m.publisher),
        version = escape(&m.version),
        description = escape(&m.description),
        status = escape(&status),
    );
    page(StatusCode::OK, "Marketplace", &body)
}

async fn installed_configs(
    console: &Console,
) -> Vec<crate::bindings::infraon::okta::types::ConfigSummary> {
    match console.runtime.configs().await {
        Ok(Ok(configs)) => configs,
        _ => Vec::new(),
    }
}

/// `?done=` after a redirect: a fixed message, never text from the URL.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

/// `/marketplace/okta`: what the plugin is, what it may reach, its configs.
pub async fn plugin_page(State(console): State<Console>, Query(done): Query<Done>) -> Response {
    let m = Manifest::shipped();
    let top = match done.done.as_deref() {
        Some("uninstalled") => notice("ok", "status", "Uninstalled."),
        _ => String::new(),
    };
    let configs = installed_configs(&console).await;
    let rows: String = configs
        .iter()
        .map(|c| {
            format!(
                "<tr><td><a href=\"/configs/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                urlencode(&c.name),
                escape(&c.name),
                escape(&c.okta_origin),
                target_label(c.sync_target),
                escape(&c.installed_at)
            )
        })
        .collect();
    let installed = if configs.is_empty() {
        "<p id=\"no-configs\">No config yet: install one to connect an Okta org.</p>".to_string()
    } else {
        format!(
            "<table id=\"configs\"><tr><th>Config</th><th>Okta</th><th>Sync</th><th>Installed</th></tr>{rows}</table>"
        )
    };
    let limits: String = m
        .limits
        .iter()
        .map(|(k, v)| {
            format!(
                "<li><code>{}</code>: {}</li>",
                escape(k),
                escape(&v.to_string())
            )
        })
        .collect();
    let body = format!(
        "{top}<section><p><span class=\"logo\">ok</span><strong>{name}</strong> v{version} by {publisher}</p>\
         <p>{description}</p>\
         <a class=\"button\" id=\"install\" href=\"/marketplace/okta/install\">Install</a></section>\
         <section><h2>Installed configs</h2>{installed}</section>\
         <section><h2>What it may do</h2><ul><li>HTTP: {http}</li><li>Host services: {imports}</li>\
         <li>Contract: <code>{pkg}@{cver}</code>, world <code>{world}</code></li></ul>\
         <h2>Sandbox limits</h2><ul>{limits}</ul></section>",
        name = escape(&m.name),
        version = escape(&m.version),
        publisher = escape(&m.publisher),
        description = escape(&m.description),
        http = escape(&m.capabilities.http.note),
        imports = escape(&m.capabilities.imports.join(", ")),
        pkg = escape(&m.contract.package),
        cver = escape(&m.contract.version),
        world = escape(&m.contract.world),
    );
    page(StatusCode::OK, "Okta", &body)
}

fn target_label(t: SyncTarget) -> &'static str {
    match t {
        SyncTarget::Users => "Users",
        SyncTarget::Requesters => "Requesters",
    }
}

/// What the install form posts. The token is never rendered back.
#[derive(Debug, Default, Deserialize)]
pub struct Submission {
    #[serde(default)]
    name: String,
    #[serde(default)]
    okta_domain: String,
    #[serde(default)]
    api_token: String,
    #[serde(default)]
    sync_target: String,
    /// `api_token` or `service_app`.
    #[serde(default)]
    auth: String,
    /// The service app's client id.
    #[serde(default)]
    client_id: String,
    /// `required` or `off`.
    #[serde(default)]
    dpop: String,
    /// The harness option: accept a local (loopback, `http://`) Okta.
    #[serde(default)]
    development_mode: Option<String>,
    /// The ticket of a successful Verify.
    #[serde(default)]
    ticket: String,
    /// `verify` or `install`.
    #[serde(default)]
    action: String,
}

impl Submission {
    fn form(&self) -> ConfigForm {
        ConfigForm {
            name: self.name.clone(),
            okta_domain: self.okta_domain.clone(),
            api_token: self.api_token.clone(),
            sync_target: if self.sync_target == "requesters" {
                SyncTarget::Requesters
            } else {
                SyncTarget::Users
            },
            service_app: (self.auth == "service_app").then(|| ServiceApp {
                client_id: self.client_id.clone(),
                dpop: self.dpop != "off",
            }),
        }
    }

    fn options(&self) -> InstallOptions {
        InstallOptions {
            development_mode: self.development_mode.is_some(),
        }
    }
}

/// What the form shows beside its fields after an action.
#[derive(Default)]
struct Feedback {
    /// Messages by manifest field id.
    fields: HashMap<String, Vec<String>>,
    /// A message about the whole form.
    general: Option<(&'static str, String)>,
    /// Set after a successful Verify: Install is enabled with it.
    ticket: Option<String>,
}

impl Feedback {
    fn field(&mut self, id: &str, message: String) {
        self.fields.entry(id.to_string()).or_default().push(message);
    }

    fn field_errors(&mut self, errors: &[FieldError]) {
        let m = Manifest::shipped();
        for e in errors {
            match m.field_for_error(&e.field) {
                Some(f) => self.field(&f.id.clone(), e.message.clone()),
                None => self.general = Some(("bad", format!("{}: {}", e.field, e.message))),
            }
        }
    }

    /// Put an Okta failure next to the field an admin must change.
    fn okta_failure(&mut self, failure: &OktaFailure) {
        let text = render::okta_failure(failure);
        match failure {
            OktaFailure::DnsFailure(_)
            | OktaFailure::ConnectionFailed(_)
            | OktaFailure::TlsFailure(_)
            | OktaFailure::NotFound(_)
            | OktaFailure::UnexpectedResponse(_)
            | OktaFailure::EgressDenied(_) => self.field("okta_domain", text),
            OktaFailure::InvalidToken(_) | OktaFailure::PermissionDenied(_) => {
                self.field("api_token", text)
            }
            OktaFailure::ServiceApp(_) => self.field("client_id", text),
            _ => self.general = Some(("bad", text)),
        }
    }
}

/// `GET /marketplace/okta/install`: the empty form.
pub async fn install_form(State(console): State<Console>) -> Response {
    render_form(
        &console,
        &Submission::default(),
        &Feedback::default(),
        StatusCode::OK,
    )
}

/// `POST /marketplace/okta/install`: Verify or Install.
pub async fn install_submit(
    State(console): State<Console>,
    Form(sub): Form<Submission>,
) -> Response {
    if !console.development && sub.development_mode.is_some() {
        // Production: hiding the checkbox is not enough, a hand-made POST
        // must meet the same refusal, for Verify and Install alike.
        let feedback = Feedback {
            general: Some(("bad", crate::serve::PRODUCTION_REFUSAL.to_string())),
            ..Feedback::default()
        };
        return render_form(&console, &sub, &feedback, StatusCode::BAD_REQUEST);
    }
    if sub.action == "install" {
        return install(&console, sub).await;
    }
    let mut feedback = Feedback::default();
    let (form, options) = (sub.form(), sub.options());
    match console.runtime.verify_form(&form, options).await {
        Err(e) => return host_failure("Verify failed", &e),
        Ok(Ok(report)) => {
            let ticket = new_ticket();
            let mut verified = console.verified.lock().unwrap_or_else(|e| e.into_inner());
            verified.retain(|_, v| v.at.elapsed() < VERIFIED_FOR);
            verified.insert(
                ticket.clone(),
                Verified {
                    form,
                    options,
                    at: Instant::now(),
                },
            );
            feedback.ticket = Some(ticket);
            feedback.general = Some((
                "ok",
                format!(
                    "Verified: {} answered {} requests in {} ms. You can install this config now.",
                    report.okta_origin, report.requests, report.elapsed_ms
                ),
            ));
        }
        Ok(Err(e)) => match &e {
            VerifyError::InvalidConfig(errors) => feedback.field_errors(errors),
            VerifyError::Okta(f) => feedback.okta_failure(f),
            _ => feedback.general = Some(("bad", render::verify_error(&e))),
        },
    }
    let status = if feedback.ticket.is_some() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    render_form(&console, &sub, &feedback, status)
}

async fn install(console: &Console, sub: Submission) -> Response {
    let mut feedback = Feedback::default();
    let verified = console
        .verified
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&sub.ticket)
        .filter(|v| v.at.elapsed() < VERIFIED_FOR)
        .cloned();
    let Some(verified) = verified else {
        feedback.general = Some((
            "bad",
            "Press Verify first: Install needs a successful Verify of these values (it lasts 15 minutes).".into(),
        ));
        return render_form(console, &sub, &feedback, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let form = sub.form();
    let same = form.name == verified.form.name
        && form.okta_domain == verified.form.okta_domain
        && form.sync_target == verified.form.sync_target
        && (form.api_token.is_empty() || form.api_token == verified.form.api_token)
        && sub.options().development_mode == verified.options.development_mode;
    if !same {
        feedback.general = Some((
            "bad",
            "The form changed after Verify: press Verify again before installing.".into(),
        ));
        return render_form(console, &sub, &feedback, StatusCode::UNPROCESSABLE_ENTITY);
    }
    match console
        .runtime
        .install(&verified.form, verified.options)
        .await
    {
        Err(e) => host_failure("Install failed", &e),
        Ok(Ok(summary)) => {
            console
                .verified
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&sub.ticket);
            Redirect::to(&format!(
                "/configs/{}?installed=1",
                urlencode(&summary.name)
            ))
            .into_response()
        }
        Ok(Err(e)) => {
            match &e {
                InstallError::InvalidConfig(errors) => feedback.field_errors(errors),
                InstallError::DuplicateName(_) => feedback.field("name", render::install_error(&e)),
                InstallError::VerificationFailed(f) => feedback.okta_failure(f),
                _ => feedback.general = Some(("bad", render::install_error(&e))),
            }
            render_form(console, &sub, &feedback, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

fn new_ticket() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The form, generated from the manifest's `config_form`.
fn render_form(
    console: &Console,
    sub: &Submission,
    feedback: &Feedback,
    status: StatusCode,
) -> Response {
    let m = Manifest::shipped();
    let mut fields = String::new();
    for f in &m.config_form.fields {
        let value = match f.id.as_str() {
            "name" => sub.name.as_str(),
            "okta_domain" => sub.okta_domain.as_str(),
            "sync_target" => sub.sync_target.as_str(),
            _ => "",
        };
        let required = if f.required { " required" } else { "" };
        let input = match f.kind.as_str() {
            "choice" => {
                let selected = if value.is_empty() {
                    f.default.as_deref().unwrap_or_default()
                } else {
                    value
                };
                let options: String = f
                    .choices
                    .iter()
                    .map(|c| {
                        format!(
                            "<option value=\"{}\"{}>{}</option>",
                            escape(&c.value),
                            if c.value == selected { " selected" } else { "" },
                            escape(&c.label)
                        )
                    })
                    .collect();
                format!(
                    "<select id=\"{id}\" name=\"{id}\"{required}>{options}</select>",
                    id = escape(&f.id)
                )
            }
            kind => {
                // A secret is never rendered back; after Verify the server
                // holds it, and an empty field means "the verified one".
                let held = feedback.ticket.is_some();
                let (kind, value, placeholder) = if kind == "secret" {
                    let placeholder = if held {
                        "•••••••• (kept from Verify)".to_string()
                    } else {
                        f.placeholder.clone().unwrap_or_default()
                    };
                    ("password", String::new(), placeholder)
                } else {
                    (
                        "text",
                        value.to_string(),
                        f.placeholder.clone().unwrap_or_default(),
                    )
                };
                let required = if kind == "password" && held {
                    ""
                } else {
                    required
                };
                let maxlength = f
                    .max_length
                    .map(|n| format!(" maxlength=\"{n}\""))
                    .unwrap_or_default();
                format!(
                    "<input type=\"{kind}\" id=\"{id}\" name=\"{id}\" value=\"{value}\" placeholder=\"{ph}\" autocomplete=\"off\"{maxlength}{required}>",
                    id = escape(&f.id),
                    value = escape(&value),
                    ph = escape(&placeholder),
                )
            }
        };
        let help = f
            .help
            .as_deref()
            .map(|h| format!("<p class=\"help\">{}</p>", escape(h)))
            .unwrap_or_default();
        let errors: String = feedback
            .fields
            .get(&f.id)
            .into_iter()
            .flatten()
            .map(|e| {
                format!(
                    "<p class=\"field-error\" id=\"{}-error\">{}</p>",
                    escape(&f.id),
                    escape(e)
                )
            })
            .collect();
        fields.push_str(&format!(
            "<div class=\"field\" id=\"field-{id}\"><label for=\"{id}\">{label}{star}</label>{input}{errors}{help}</div>",
            id = escape(&f.id),
            label = escape(&f.label),
            star = if f.required { " *" } else { "" },
        ));
    }
    let development = if console.development {
        let checked = if sub.development_mode.is_some() || sub.action.is_empty() {
            " checked"
        } else {
            ""
        };
        format!(
            "<div class=\"field\"><label><input type=\"checkbox\" id=\"development_mode\" name=\"development_mode\"{checked}> \
             Harness: development mode</label><p class=\"help\">Accept a local Okta (loopback, <code>http://</code>, a port), \
             such as the harness's fake Okta. Infraon itself never offers this.</p></div>"
        )
    } else {
        String::new()
    };
    let general = feedback
        .general
        .as_ref()
        .map(|(kind, text)| notice(kind, "form-status", text))
        .unwrap_or_default();
    let ticket = feedback.ticket.as_deref().unwrap_or_default();
    let install_disabled = if ticket.is_empty() { " disabled" } else { "" };
    let body = format!(
        "{general}<section><form method=\"post\" action=\"/marketplace/okta/install\" id=\"config-form\">\
         {fields}{development}<input type=\"hidden\" name=\"ticket\" value=\"{ticket}\">\
         <button type=\"submit\" name=\"action\" value=\"verify\" id=\"verify\" class=\"secondary\">Verify</button>\
         <button type=\"submit\" name=\"action\" value=\"install\" id=\"install\"{install_disabled}>Install</button>\
         <p class=\"help\">Install is enabled once Verify succeeds; it installs exactly the values verified.</p>\
         </form></section>\
         <section id=\"service-app-keys\"><h2>Service app: its key pair first</h2>\
         <p class=\"help\">A config that authenticates with a service app (private_key_jwt) passes Verify only once \
         the Okta app has its public key. Make the key for the config name you will install, paste its public key \
         into the app, then Verify here.</p>\
         <form method=\"get\" action=\"/keys\" class=\"row\"><div><label for=\"keys-config\">Config name</label>\
         <input type=\"text\" id=\"keys-config\" name=\"config\" value=\"{name}\"></div>\
         <div><button type=\"submit\" class=\"secondary\" id=\"open-keys\">Service app keys</button></div></form></section>",
        ticket = escape(ticket),
        name = escape(&sub.name),
    );
    page(status, &m.config_form.title, &body)
}
