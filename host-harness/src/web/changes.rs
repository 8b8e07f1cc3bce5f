//! Who a run changes, person by person, before Approve or Reject: a dry
//! run's plan, what a run did, the deactivations a held run waits on.
//!
//! - `GET /configs/{config}/runs/{id}/changes?offset=N`: a page of
//!   [`PAGE`] people, with Approve / Reject for a held run;
//! - `GET /configs/{config}/runs/{id}/changes.csv`: the whole list as CSV,
//!   read from the plugin a page at a time;
//! - `POST /configs/{config}/runs/{id}/{approve|reject}`: decide a held
//!   run, recorded with the signed-in admin and the time.

use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::guard::Current;
use super::layout::{badge, escape, host_failure, notice, page, urlencode};
use crate::bindings::exports::infraon::okta::sync::{
    HeldDecision, PersonChange, RunOutcome, RunRecord,
};
use crate::ops::preview::action_word;
use crate::render;
use crate::runtime::HostError;

/// People per page.
pub const PAGE: u32 = 50;

/// `?offset=` of the changes page.
#[derive(Deserialize)]
pub struct Offset {
    #[serde(default)]
    offset: u64,
}

async fn run_record(console: &Console, config: &str, id: u64) -> Option<RunRecord> {
    match console.runtime.sync_history(config, 100).await {
        Ok(Ok(runs)) => runs.into_iter().find(|r| r.id == id),
        _ => None,
    }
}

/// One person as a table row.
pub fn change_row(c: &PersonChange) -> String {
    let list = |roles: &[String]| escape(&roles.join(", "));
    let action = if c.held {
        format!("{} (held)", action_word(c.action))
    } else {
        action_word(c.action).to_string()
    };
    let fields: String = c
        .fields
        .iter()
        .map(|f| {
            format!(
                "<div><code>{}</code>: {} → {}</div>",
                escape(&f.field),
                escape(&f.before),
                escape(&f.after)
            )
        })
        .collect();
    format!(
        "<tr class=\"change\" data-okta-id=\"{id}\" data-action=\"{word}\"><td>{badge}</td><td>{login}</td><td>{email}</td>\
         <td>{name}</td><td>{fields}</td><td>{added}</td><td>{removed}</td><td>{reason}</td></tr>",
        id = escape(&c.okta_id),
        word = action_word(c.action),
        badge = badge(&action),
        login = escape(&c.login),
        email = escape(&c.email),
        name = escape(&c.display_name),
        added = list(&c.roles_added),
        removed = list(&c.roles_removed),
        reason = escape(c.reason.as_deref().unwrap_or_default()),
    )
}

/// A table of people and their changes.
pub fn changes_table(changes: &[PersonChange]) -> String {
    let rows: String = changes.iter().map(change_row).collect();
    format!(
        "<table class=\"compact\" id=\"changes\"><tr><th>Change</th><th>Login</th><th>Email</th><th>Name</th>\
         <th>Fields (before → after)</th><th>Roles added</th><th>Roles removed</th><th>Why unsynced</th></tr>{rows}</table>"
    )
}

/// How a decision reads in history and on the run's page.
pub fn decision_text(d: &HeldDecision) -> String {
    let by = if d.by.is_empty() {
        "someone not named"
    } else {
        &d.by
    };
    let at = d.at.replace('T', " ");
    if d.approved {
        format!("Approved by {by} at {at}: {} deactivated.", d.people)
    } else {
        format!("Rejected by {by} at {at}: {} spared.", d.people)
    }
}

/// The decision on run `id`, if any.
pub async fn decision_of(console: &Console, config: &str, id: u64) -> Option<HeldDecision> {
    match console.runtime.decisions(config, 100).await {
        Ok(Ok(list)) => list.into_iter().find(|d| d.run_id == id),
        _ => None,
    }
}

/// `GET /configs/{config}/runs/{id}/changes`.
pub async fn changes_page(
    State(console): State<Console>,
    Path((config, id)): Path<(String, u64)>,
    Query(q): Query<Offset>,
) -> Response {
    let c = urlencode(&config);
    let title = format!("Okta · {config} · Run {id} · People");
    let back = format!("<p><a href=\"/configs/{c}#runs\" id=\"back\">Back to Settings</a></p>");
    let page_ = match console
        .runtime
        .run_changes(&config, id, q.offset, PAGE)
        .await
    {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => {
            return page(
                StatusCode::NOT_FOUND,
                &title,
                &format!("{}{back}", notice("bad", "error", &render::sync_error(&e))),
            );
        }
        Err(e) => return host_failure("Run changes", &e),
    };
    let record = run_record(&console, &config, id).await;
    let held = record
        .as_ref()
        .is_some_and(|r| r.outcome == Some(RunOutcome::Held));
    let what = match &record {
        Some(_) if held => format!(
            "Run {id} is <strong>held</strong>: it applied everything but the deactivations below marked \
             <em>held</em>, which wait for your decision. Approve deactivates exactly those people; Reject deactivates nobody.",
        ),
        Some(r) if r.mode == crate::bindings::exports::infraon::okta::sync::SyncMode::DryRun => {
            format!(
                "Run {id} was a <strong>dry run</strong>: nothing below was applied. A full sync now would make these changes."
            )
        }
        Some(_) => format!("What run {id} changed, person by person."),
        None => format!("Run {id}."),
    };
    let decided = decision_of(&console, &config, id)
        .await
        .map(|d| notice("info", "decision", &decision_text(&d)))
        .unwrap_or_default();
    let actions = if held {
        format!(
            "<form method=\"post\" action=\"/configs/{c}/runs/{id}/approve\" style=\"display:inline\">\
             <button type=\"submit\" id=\"approve-{id}\">Approve</button></form>\
             <form method=\"post\" action=\"/configs/{c}/runs/{id}/reject\" style=\"display:inline\">\
             <button type=\"submit\" class=\"secondary\" id=\"reject-{id}\">Reject</button></form>"
        )
    } else {
        String::new()
    };
    let end = q.offset + page_.changes.len() as u64;
    let mut nav = String::new();
    if q.offset > 0 {
        let prev = q.offset.saturating_sub(u64::from(PAGE));
        nav.push_str(&format!(
            "<a href=\"/configs/{c}/runs/{id}/changes?offset={prev}\" id=\"prev\">Previous</a> "
        ));
    }
    if end < page_.total {
        nav.push_str(&format!(
            "<a href=\"/configs/{c}/runs/{id}/changes?offset={end}\" id=\"next\">Next</a>"
        ));
    }
    let list = if page_.total == 0 {
        "<p id=\"no-changes\">Nobody changes in this run.</p>".to_string()
    } else {
        format!(
            "<p id=\"range\">People {}–{end} of <strong id=\"total\">{}</strong>.</p>{}<p>{nav}</p>",
            (q.offset + 1).min(end),
            page_.total,
            changes_table(&page_.changes)
        )
    };
    let body = format!(
        "{decided}<section><p>{what}</p><p>{actions} \
         <a class=\"button secondary\" href=\"/configs/{c}/runs/{id}/changes.csv\" id=\"changes-csv\">Download CSV</a></p>\
         {list}</section>{back}"
    );
    page(StatusCode::OK, &title, &body)
}

/// `GET /configs/{config}/runs/{id}/changes.csv`.
pub async fn changes_csv(
    State(console): State<Console>,
    Path((config, id)): Path<(String, u64)>,
) -> Response {
    match console.runtime.run_changes_csv(&config, id).await {
        Ok(Ok(csv)) => {
            let safe: String = config
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
                .collect();
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"okta-{safe}-run-{id}-people.csv\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                csv,
            )
                .into_response()
        }
        Ok(Err(e)) => page(
            StatusCode::NOT_FOUND,
            "Run changes",
            &notice("bad", "error", &render::sync_error(&e)),
        ),
        Err(e) => host_failure("Run changes", &e),
    }
}

/// `POST /configs/{config}/runs/{id}/{approve|reject}`: recorded with the
/// signed-in admin (a 0.1.0 plugin, which cannot record it, decides without).
pub async fn decide_held(
    State(console): State<Console>,
    Extension(current): Extension<Current>,
    Path((config, id, decision)): Path<(String, u64, String)>,
) -> Response {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let by = current
        .session
        .principal
        .label()
        .unwrap_or_else(|| "console".into());
    let outcome = match console
        .runtime
        .decide_held_by(&config, id, approve, &by)
        .await
    {
        Err(HostError::ContractMismatch { .. }) if approve => {
            console.runtime.approve_held(&config, id).await
        }
        Err(HostError::ContractMismatch { .. }) => console.runtime.reject_held(&config, id).await,
        other => other,
    };
    match outcome {
        Ok(Ok(_)) => {
            let done = if approve { "approved" } else { "rejected" };
            Redirect::to(&format!("/configs/{}?done={done}", urlencode(&config))).into_response()
        }
        Ok(Err(e)) => {
            super::settings::render_notice(
                &console,
                &config,
                ("bad", render::sync_error(&e)),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Held run", &e),
    }
}

/// Shown under history: who decided each held run.
pub async fn decisions_note(console: &Console, config: &str) -> String {
    match console.runtime.decisions(config, 20).await {
        Ok(Ok(list)) if !list.is_empty() => {
            let items: String = list
                .iter()
                .map(|d| {
                    format!(
                        "<li id=\"decision-{}\">Run {}: {}</li>",
                        d.run_id,
                        d.run_id,
                        escape(&decision_text(d))
                    )
                })
                .collect();
            format!("<h3>Held runs decided</h3><ul id=\"decisions\">{items}</ul>")
        }
        _ => String::new(),
    }
}
