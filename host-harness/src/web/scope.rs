//! "Who is synced": a config's scope (everyone, members of Okta groups, an
//! Okta search expression) with the count of Okta users it covers before it
//! is saved, and its population rules (issue 15).
//!
//! Plain forms, no script: **Count** asks the plugin how many Okta users
//! the form's scope covers and shows the form again with the number,
//! nothing saved; **Save** validates it against Okta (the same count is the
//! test call), saves it and shows the number. Both go through the console's
//! guard like every form (same-origin, form token).

use std::collections::BTreeSet;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::layout::{escape, host_failure, notice, page, urlencode};
use crate::bindings::exports::infraon::okta::scope::{OktaGroup, PopulationRule, Scope};
use crate::bindings::infraon::okta::types::SyncTarget;
use crate::render;

/// Okta groups offered as checkboxes at most; beyond, the admin types
/// names or ids (an org can have tens of thousands of groups).
const MAX_OFFERED: usize = 500;
/// Blank population rule rows offered under the saved ones.
const BLANK_RULES: usize = 2;

/// `GET /configs/{config}/scope` query: what a redirect says was saved.
#[derive(Deserialize)]
pub struct Done {
    saved: Option<u32>,
    populations: Option<String>,
}

/// `GET /configs/{config}/scope`.
pub async fn scope_page(
    State(console): State<Console>,
    Path(config): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let scope = match console.runtime.scope(&config).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return refused(&config, &render::sync_error(&e)),
        Err(e) => return host_failure("Who is synced", &e),
    };
    let top = match (done.saved, done.populations) {
        (Some(n), _) => notice(
            "ok",
            "status",
            &format!(
                "Scope saved: it covers {n} Okta users (not counting users deactivated in Okta). The next run is full."
            ),
        ),
        (None, Some(_)) => notice(
            "ok",
            "status",
            "Population rules saved. The next run is full and moves whose population changed.",
        ),
        _ => String::new(),
    };
    render(&console, &config, &scope, top, StatusCode::OK).await
}

fn refused(config: &str, why: &str) -> Response {
    page(
        StatusCode::NOT_FOUND,
        &format!("Okta · {config} · Who is synced"),
        &notice("bad", "error", why),
    )
}

async fn render(
    console: &Console,
    config: &str,
    scope: &Scope,
    top: String,
    status: StatusCode,
) -> Response {
    let c = urlencode(config);
    // The groups read from Okta, to choose from; without them the admin
    // still types names or ids.
    let (groups, groups_note) = match console.runtime.okta_groups(config).await {
        Ok(Ok(g)) => (g, String::new()),
        Ok(Err(e)) => (
            Vec::new(),
            notice(
                "bad",
                "groups-error",
                &format!(
                    "Okta's groups could not be read: {}",
                    render::sync_error(&e)
                ),
            ),
        ),
        Err(e) => (Vec::new(), notice("bad", "groups-error", &format!("{e}"))),
    };
    let chosen: BTreeSet<String> = scope.groups.iter().map(|g| g.to_lowercase()).collect();
    let is_chosen = |g: &OktaGroup| {
        chosen.contains(&g.name.to_lowercase()) || chosen.contains(&g.id.to_lowercase())
    };
    let offered: String = groups
        .iter()
        .take(MAX_OFFERED)
        .map(|g| {
            format!(
                "<label class=\"check\"><input type=\"checkbox\" name=\"group\" value=\"{id}\"{on}> {name} <small>{kind}</small></label>",
                id = escape(&g.id),
                on = if is_chosen(g) { " checked" } else { "" },
                name = escape(&g.name),
                kind = escape(&g.kind),
            )
        })
        .collect();
    // Chosen groups not offered as a checkbox stay in the text box.
    let offered_ids: BTreeSet<&str> = groups
        .iter()
        .take(MAX_OFFERED)
        .filter(|g| is_chosen(g))
        .flat_map(|g| [g.name.as_str(), g.id.as_str()])
        .collect();
    let typed: Vec<&str> = scope
        .groups
        .iter()
        .map(String::as_str)
        .filter(|g| !offered_ids.iter().any(|o| o.eq_ignore_ascii_case(g)))
        .collect();
    let more = if groups.len() > MAX_OFFERED {
        format!(
            "<p class=\"help\">Okta has {} groups; the first {MAX_OFFERED} are listed. Type any other by name or id below.</p>",
            groups.len()
        )
    } else {
        String::new()
    };
    let rules = populations_form(console, config, &groups).await;
    let body = format!(
        "{top}<p><a href=\"/configs/{c}\">← Settings</a></p>\
         <section id=\"scope\"><h2>Scope: which Okta users this config syncs</h2>\
         <form method=\"post\" action=\"/configs/{c}/scope\">\
         <fieldset><legend>Members of these Okta groups (none checked: everyone)</legend>{groups_note}{offered}{more}\
         <label for=\"scope-groups\">Other groups, by name or id, one per line</label>\
         <textarea id=\"scope-groups\" name=\"groups\" rows=\"3\">{typed}</textarea></fieldset>\
         <label for=\"scope-filter\">and matching this Okta search expression (optional)</label>\
         <input type=\"text\" id=\"scope-filter\" name=\"filter\" value=\"{filter}\" placeholder=\"profile.department eq &quot;IT&quot;\">\
         <p class=\"help\">Okta's user search on profile attributes, checked with Okta when you count or save. \
         People who leave the scope are deactivated like people who leave Okta, under the safeguard. \
         Saving a new scope makes the next run full.</p>\
         <div class=\"row\"><button type=\"submit\" name=\"action\" value=\"count\" class=\"secondary\" id=\"scope-count\">Count Okta users</button>\
         <button type=\"submit\" name=\"action\" value=\"save\" id=\"scope-save\">Save scope</button></div></form></section>\
         {rules}",
        typed = escape(&typed.join("\n")),
        filter = escape(scope.filter.as_deref().unwrap_or("")),
    );
    page(status, &format!("Okta · {config} · Who is synced"), &body)
}

/// The population rules, editable: a row per rule and blank rows to add.
async fn populations_form(console: &Console, config: &str, groups: &[OktaGroup]) -> String {
    let c = urlencode(config);
    let (rules, error) = match console.runtime.populations(config).await {
        Ok(Ok(r)) => (r, String::new()),
        Ok(Err(e)) => (
            Vec::new(),
            notice("bad", "populations-error", &render::sync_error(&e)),
        ),
        Err(e) => (
            Vec::new(),
            notice("bad", "populations-error", &format!("{e}")),
        ),
    };
    let default = match console.runtime.configs().await {
        Ok(Ok(all)) => all
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(config))
            .map(|s| s.sync_target),
        _ => None,
    };
    let default = match default {
        Some(SyncTarget::Users) => "Users",
        Some(SyncTarget::Requesters) => "Requesters",
        None => "the Sync field's population",
    };
    let datalist: String = groups
        .iter()
        .take(MAX_OFFERED)
        .map(|g| format!("<option value=\"{}\">", escape(&g.name)))
        .collect();
    let row = |i: usize, r: Option<&PopulationRule>| {
        let (group, users) = match r {
            Some(r) => (r.group.as_str(), r.population == SyncTarget::Users),
            None => ("", true),
        };
        format!(
            "<div class=\"row\"><div><label for=\"rule-group-{i}\">Members of Okta group</label>\
             <input type=\"text\" list=\"okta-groups\" id=\"rule-group-{i}\" name=\"group\" value=\"{g}\"></div>\
             <div><label for=\"rule-population-{i}\">go to</label><select id=\"rule-population-{i}\" name=\"population\">\
             <option value=\"users\"{u}>Users</option><option value=\"requesters\"{q}>Requesters</option></select></div></div>",
            g = escape(group),
            u = if users { " selected" } else { "" },
            q = if users { "" } else { " selected" },
        )
    };
    let rows: String = rules
        .iter()
        .map(Some)
        .chain(std::iter::repeat_n(None, BLANK_RULES))
        .enumerate()
        .map(|(i, r)| row(i, r))
        .collect();
    format!(
        "<section id=\"populations\"><h2>Populations by group</h2>{error}\
         <form method=\"post\" action=\"/configs/{c}/populations\">\
         <datalist id=\"okta-groups\">{datalist}</datalist>{rows}\
         <p class=\"help\">The first rule naming one of a person's groups wins; everyone else in scope goes to \
         <strong id=\"default-population\">{default}</strong> (the Sync field). A person whose population changes is moved, \
         never duplicated. Clear a row's group to remove it. Saving makes the next run full.</p>\
         <div><button type=\"submit\" id=\"populations-save\">Save population rules</button></div></form></section>"
    )
}

/// The scope form as posted: `group` (checkboxes, repeated), `groups`
/// (typed, one per line), `filter`, `action` (`count` or `save`).
fn scope_of(form: &[(String, String)]) -> (Scope, bool) {
    let mut groups: Vec<String> = Vec::new();
    let mut filter = None;
    let mut save = false;
    for (k, v) in form {
        match k.as_str() {
            "group" => groups.push(v.trim().to_string()),
            "groups" => groups.extend(v.lines().map(|l| l.trim().to_string())),
            "filter" => filter = Some(v.trim().to_string()).filter(|f| !f.is_empty()),
            "action" => save = v == "save",
            _ => {}
        }
    }
    groups.retain(|g| !g.is_empty());
    let mut seen = BTreeSet::new();
    groups.retain(|g| seen.insert(g.to_lowercase()));
    (Scope { groups, filter }, save)
}

/// `POST /configs/{config}/scope`: count (nothing saved) or save.
pub async fn submit(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (scope, save) = scope_of(&form);
    let result = if save {
        console.runtime.set_scope(&config, &scope).await
    } else {
        console.runtime.count_scope(&config, &scope).await
    };
    match result {
        Ok(Ok(n)) if save => Redirect::to(&format!(
            "/configs/{}/scope?saved={n}#scope",
            urlencode(&config)
        ))
        .into_response(),
        Ok(Ok(n)) => {
            let top = notice(
                "info",
                "scope-covers",
                &format!(
                    "This scope covers {n} Okta users (not counting users deactivated in Okta). It is not saved yet."
                ),
            );
            render(&console, &config, &scope, top, StatusCode::OK).await
        }
        Ok(Err(e)) => {
            let what = if save {
                "Scope not saved"
            } else {
                "Not counted"
            };
            let top = notice(
                "bad",
                "scope-error",
                &format!("{what}: {}", render::sync_error(&e)),
            );
            render(
                &console,
                &config,
                &scope,
                top,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Who is synced", &e),
    }
}

/// `POST /configs/{config}/populations`: replace the rules (`group` and
/// `population` repeated, in order; rows without a group are dropped).
pub async fn populations(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let groups = form.iter().filter(|(k, _)| k == "group").map(|(_, v)| v);
    let targets = form
        .iter()
        .filter(|(k, _)| k == "population")
        .map(|(_, v)| v);
    let rules: Vec<PopulationRule> = groups
        .zip(targets)
        .filter(|(g, _)| !g.trim().is_empty())
        .map(|(g, p)| PopulationRule {
            group: g.trim().to_string(),
            population: if p == "requesters" {
                SyncTarget::Requesters
            } else {
                SyncTarget::Users
            },
        })
        .collect();
    match console.runtime.set_populations(&config, &rules).await {
        Ok(Ok(())) => Redirect::to(&format!(
            "/configs/{}/scope?populations=saved#populations",
            urlencode(&config)
        ))
        .into_response(),
        Ok(Err(e)) => {
            let scope = match console.runtime.scope(&config).await {
                Ok(Ok(s)) => s,
                _ => Scope {
                    groups: Vec::new(),
                    filter: None,
                },
            };
            let top = notice(
                "bad",
                "populations-error",
                &format!("Population rules not saved: {}", render::sync_error(&e)),
            );
            render(
                &console,
                &config,
                &scope,
                top,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Who is synced", &e),
    }
}
