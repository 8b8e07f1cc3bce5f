//! A config's Settings page: Sync Now with live progress, run history with
//! held runs to approve or reject, Export Unsynced Data, Schedule Sync and
//! the Sign in with Okta settings.

use std::time::Instant;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::layout::{badge, escape, host_failure, notice, page, page_with_head, urlencode};
use crate::bindings::exports::infraon::okta::sso::SsoSettings;
use crate::bindings::exports::infraon::okta::sync::{
    RunOutcome, RunRecord, Safeguard, SyncMode, Trigger,
};
use crate::bindings::infraon::okta::types::{ConfigSummary, SyncTarget};
use crate::interfaces::scheduler as schedules;
use crate::render;
use crate::scheduler::{LocalTime, Schedule, WeeklyTime};

/// The last run started from the console for a config, as its progress
/// page shows it.
#[derive(Debug, Clone)]
pub struct LiveRun {
    /// `full`, `incremental` or `dry-run`.
    pub mode: &'static str,
    /// When Sync Now was pressed.
    pub started: Instant,
    /// The record after the latest step.
    pub record: Option<RunRecord>,
    /// What the latest step did, in the plugin's words.
    pub phase: String,
    /// The end: the final record, or why the run could not go on.
    pub finished: Option<Result<RunRecord, String>>,
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn mode_name(mode: SyncMode) -> &'static str {
    match mode {
        SyncMode::Full => "full",
        SyncMode::Incremental => "incremental",
        SyncMode::DryRun => "dry-run",
    }
}

fn outcome_word(o: Option<RunOutcome>) -> &'static str {
    match o {
        None => "running",
        Some(RunOutcome::Succeeded) => "succeeded",
        Some(RunOutcome::Partial) => "partial",
        Some(RunOutcome::Failed) => "failed",
        Some(RunOutcome::Cancelled) => "cancelled",
        Some(RunOutcome::Held) => "held",
    }
}

async fn summary(console: &Console, config: &str) -> Option<ConfigSummary> {
    match console.runtime.configs().await {
        Ok(Ok(configs)) => configs.into_iter().find(|c| c.name == config),
        _ => None,
    }
}

fn unknown_config(config: &str) -> Response {
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

/// Fixed messages the page shows after a redirect (`?done=`): never text
/// taken from the URL.
#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
    installed: Option<String>,
}

/// `GET /configs/{config}`.
pub async fn settings_page(
    State(console): State<Console>,
    Path(config): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let message = if done.installed.is_some() {
        Some((
            "ok",
            "Installed. Press Sync Now to import everyone from Okta.".to_string(),
        ))
    } else {
        match done.done.as_deref() {
            Some("schedule") => Some(("ok", "Schedule saved.".to_string())),
            Some("schedule-cleared") => Some(("ok", "Schedule cleared.".to_string())),
            Some("sso") => Some(("ok", "Sign-in settings saved.".to_string())),
            Some("safeguard") => Some((
                "ok",
                "Safeguard saved; it applies from the next run.".to_string(),
            )),
            Some("approved") => Some((
                "ok",
                "Approved: the held deactivations were applied.".to_string(),
            )),
            Some("rejected") => Some((
                "ok",
                "Rejected: nobody was deactivated by that run.".to_string(),
            )),
            Some("edited") => Some((
                "ok",
                "Config saved: Okta verified it, and the next sync uses it.".to_string(),
            )),
            Some("rehire") => Some((
                "ok",
                "Rehire policy saved; it applies from the next run.".to_string(),
            )),
            _ => None,
        }
    };
    render(&console, &config, message, StatusCode::OK).await
}

/// The Settings page with a notice at the top (for the other screens'
/// refusals).
pub async fn render_notice(
    console: &Console,
    config: &str,
    message: (&'static str, String),
    status: StatusCode,
) -> Response {
    render(console, config, Some(message), status).await
}

/// The Settings page, with an optional notice at the top.
async fn render(
    console: &Console,
    config: &str,
    message: Option<(&'static str, String)>,
    status: StatusCode,
) -> Response {
    let Some(summary) = summary(console, config).await else {
        return unknown_config(config);
    };
    let c = urlencode(config);
    let mut top = message
        .map(|(kind, text)| notice(kind, "status", &text))
        .unwrap_or_default();
    // The admin lands here: point at what changed in the mapping.
    if let Ok(Ok(notices)) = console.runtime.mapping_notices(config).await
        && !notices.is_empty()
    {
        top.push_str(&format!(
            "<div class=\"notice info\" id=\"mapping-notices-hint\">The mapping has {n} notice(s) about roles: \
             <a href=\"/configs/{c}/mapping#mapping-notices\">read what changed</a>.</div>",
            n = notices.len()
        ));
    }
    let target = match summary.sync_target {
        SyncTarget::Users => "Users (technicians and admins)",
        SyncTarget::Requesters => "Requesters (Self-Service Portal)",
    };
    let running = console.scheduler.is_running(config);
    let sync = if running {
        format!(
            "<p>A run of this config is in progress. <a href=\"/configs/{c}/progress\" id=\"progress-link\">Watch its progress</a>.</p>"
        )
    } else {
        format!(
            "<form method=\"post\" action=\"/configs/{c}/sync\" class=\"row\">\
             <div><label for=\"mode\">Mode</label><select id=\"mode\" name=\"mode\">\
             <option value=\"full\">Full: everyone, deletions detected</option>\
             <option value=\"incremental\">Incremental: changes since the last run</option>\
             <option value=\"dry-run\">Dry run: count, change nothing</option></select></div>\
             <div><button type=\"submit\" id=\"sync-now\">Sync Now</button></div></form>"
        )
    };
    // A service app's keys rotate here; an API-token config has none.
    let keys = if summary.service_app.is_some() {
        format!(
            "<a class=\"button secondary\" href=\"/configs/{c}/keys\" id=\"open-keys\">Service app keys</a>"
        )
    } else {
        String::new()
    };
    let body = format!(
        "{top}<section><p>Okta <code>{origin}</code> → Infraon <strong>{target}</strong>. Installed {installed}{verified}.</p>\
         <a class=\"button secondary\" href=\"/configs/{c}/mapping\" id=\"open-mapping\">Okta – Infraon Configuration</a>\
         <a class=\"button secondary\" href=\"/configs/{c}/scope\" id=\"open-scope\">Who is synced</a>\
         <a class=\"button secondary\" href=\"/configs/{c}/unsynced.csv\" id=\"export\">Export Unsynced Data</a>\
         <a class=\"button secondary\" href=\"/people/{people}\">Synced {people}</a>\
         <a class=\"button secondary\" href=\"/configs/{c}/edit\" id=\"edit-config\">Edit config</a>\
         {keys}\
         <form method=\"post\" action=\"/configs/{c}/verify\" style=\"display:inline\">\
         <button type=\"submit\" class=\"secondary\" id=\"verify-again\">Verify again</button></form></section>\
         <section id=\"sync\"><h2>Sync Now</h2>{sync}</section>\
         {provision}{history}{safeguard}{schedule}{sso}{hooks}\
         <section id=\"uninstall\"><h2>Uninstall</h2><form method=\"post\" action=\"/configs/{c}/uninstall\">\
         <label><input type=\"checkbox\" name=\"confirm\" id=\"uninstall-confirm\"> Remove this config, its API token, \
         schedule, mapping and run history. People already synced stay in Infraon as they are.</label>\
         <button type=\"submit\" class=\"secondary\" id=\"uninstall-button\">Uninstall</button></form></section>",
        origin = escape(&summary.okta_origin),
        installed = escape(&summary.installed_at),
        verified = summary
            .last_verified_at
            .as_deref()
            .map(|v| format!(", last verified {}", escape(v)))
            .unwrap_or_default(),
        people = match summary.sync_target {
            SyncTarget::Users => "users",
            SyncTarget::Requesters => "requesters",
        },
        provision = super::provision::section(config),
        history = history(console, config).await,
        safeguard = safeguard_section(console, config).await,
        schedule = schedule_section(console, config),
        sso = sso_section(&console.base, config, &saved_sso(console, config).await),
        hooks = super::hooks::settings_section(console, config),
    );
    page(status, &format!("Okta · {config} · Settings"), &body)
}

async fn history(console: &Console, config: &str) -> String {
    let c = urlencode(config);
    let runs = match console.runtime.sync_history(config, 20).await {
        Ok(Ok(runs)) => runs,
        Ok(Err(e)) => return notice("bad", "history-error", &render::sync_error(&e)),
        Err(e) => return notice("bad", "history-error", &e.to_string()),
    };
    if runs.is_empty() {
        return "<section id=\"runs\"><h2>Run history</h2><p id=\"no-runs\">No runs yet.</p></section>"
            .into();
    }
    let rows: String = runs
        .iter()
        .map(|r| {
            let n = &r.counts;
            let people = format!(
                "<a href=\"/configs/{c}/runs/{id}/changes\" id=\"people-{id}\">{label}</a> ",
                id = r.id,
                label = if r.outcome == Some(RunOutcome::Held) {
                    "Review people"
                } else {
                    "People"
                },
            );
            let held = if r.outcome == Some(RunOutcome::Held) {
                format!(
                    "<form method=\"post\" action=\"/configs/{c}/runs/{id}/approve\" style=\"display:inline\">\
                     <button type=\"submit\" id=\"approve-{id}\">Approve</button></form>\
                     <form method=\"post\" action=\"/configs/{c}/runs/{id}/reject\" style=\"display:inline\">\
                     <button type=\"submit\" class=\"secondary\" id=\"reject-{id}\">Reject</button></form>",
                    id = r.id
                )
            } else {
                String::new()
            };
            let csv = if n.unsynced > 0 {
                format!(
                    "<a href=\"/configs/{c}/unsynced.csv?run={id}\">CSV</a>",
                    id = r.id
                )
            } else {
                String::new()
            };
            format!(
                "<tr id=\"run-{id}\"><td>{id}</td><td>{started}</td><td>{mode}, {trigger}</td><td>{outcome}</td>\
                 <td>{fetched}</td><td>{created}</td><td>{updated}</td><td>{deactivated}</td><td>{roles}</td><td>{unsynced}</td>\
                 <td>{requests}</td><td>{secs:.1} s</td><td>{people}{csv}{held}{error}</td></tr>",
                id = r.id,
                started = escape(&r.started_at.replace('T', " ")),
                trigger = if r.trigger == Trigger::Manual { "manual" } else { "scheduled" },
                mode = mode_name(r.mode),
                outcome = badge(outcome_word(r.outcome)),
                fetched = n.fetched,
                created = n.created,
                updated = n.updated,
                deactivated = n.deactivated,
                roles = n.role_changes,
                unsynced = n.unsynced,
                requests = r.requests,
                secs = r.duration_ms as f64 / 1000.0,
                error = r
                    .error
                    .as_deref()
                    .map(|e| format!("<span class=\"field-error\">{}</span>", escape(e)))
                    .unwrap_or_default(),
            )
        })
        .collect();
    format!(
        "<section id=\"runs\"><h2>Run history</h2><table class=\"compact\"><tr><th>Run</th><th>Started</th><th>Kind</th>\
         <th>Outcome</th><th>Fetched</th><th>Created</th><th>Updated</th><th>Deact.</th><th>Roles</th>\
         <th>Unsynced</th><th>Req.</th><th>Time</th><th></th></tr>{rows}</table>\
         <p class=\"help\">A run that would deactivate more people than the config allows is held: \
         nothing is deactivated until it is approved. Review its people first: who is deactivated, who changes.</p>\
         {decided}</section>",
        decided = super::changes::decisions_note(console, config).await,
    )
}

fn describe(schedule: &Schedule) -> String {
    match schedule {
        Schedule::Daily(t) => format!("Daily at {:02}:{:02} ({})", t.hour, t.minute, t.time_zone),
        Schedule::Weekly(w) => format!(
            "Every {} at {:02}:{:02} ({})",
            WEEKDAYS.get(w.weekday as usize).unwrap_or(&"?"),
            w.at.hour,
            w.at.minute,
            w.at.time_zone
        ),
        Schedule::EveryHours(h) => format!("Every {h} hour(s)"),
    }
}

fn schedule_section(console: &Console, config: &str) -> String {
    let c = urlencode(config);
    let current = match schedules::load(console.runtime.backends(), config) {
        Ok(Some(entry)) => {
            let next = entry
                .next_fire()
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|e| e);
            format!(
                "<p id=\"schedule-current\">{}; next run {}.</p>",
                escape(&describe(&entry.schedule)),
                escape(&next)
            )
        }
        Ok(None) => {
            "<p id=\"schedule-current\">No schedule: syncs run only on Sync Now.</p>".into()
        }
        Err(e) => notice("bad", "schedule-error", &format!("{e:?}")),
    };
    let days: String = WEEKDAYS
        .iter()
        .enumerate()
        .map(|(i, d)| format!("<option value=\"{i}\">{d}</option>"))
        .collect();
    format!(
        "<section id=\"schedule\"><h2>Schedule Sync</h2>{current}\
         <form method=\"post\" action=\"/configs/{c}/schedule\" class=\"row\">\
         <div><label for=\"kind\">Repeat</label><select id=\"kind\" name=\"kind\">\
         <option value=\"daily\">Daily</option><option value=\"weekly\">Weekly</option>\
         <option value=\"every-hours\">Every N hours</option></select></div>\
         <div><label for=\"at\">At (HH:MM)</label><input type=\"text\" id=\"at\" name=\"at\" value=\"02:00\" size=\"6\"></div>\
         <div><label for=\"weekday\">Day (weekly)</label><select id=\"weekday\" name=\"weekday\">{days}</select></div>\
         <div><label for=\"hours\">Hours (every N)</label><input type=\"number\" id=\"hours\" name=\"hours\" value=\"24\" min=\"1\" max=\"168\"></div>\
         <div><label for=\"tz\">Time zone (IANA)</label><input type=\"text\" id=\"tz\" name=\"tz\" value=\"UTC\" size=\"18\"></div>\
         <div><button type=\"submit\" name=\"action\" value=\"set\" id=\"schedule-save\">Save schedule</button>\
         <button type=\"submit\" name=\"action\" value=\"clear\" class=\"secondary\" id=\"schedule-clear\">Clear</button></div>\
         </form><p class=\"help\">Scheduled runs are full syncs. A fire during a run is skipped and recorded; \
         fires missed while the host was down become one catch-up run.</p></section>"
    )
}

/// The saved Sign in with Okta settings as a summary: never the secret,
/// only whether one is kept.
async fn saved_sso(console: &Console, config: &str) -> String {
    match console.runtime.sso_saved_settings(config).await {
        Ok(Ok(Some(s))) => {
            let on = |b: bool| if b { "on" } else { "off" };
            format!(
                "<dl id=\"sso-saved\"><dt>Saved</dt><dd>{at}</dd><dt>Users</dt><dd>{users}</dd>\
                 <dt>Requesters</dt><dd>{requesters}</dd><dt>Client ID</dt><dd><code>{id}</code></dd>\
                 <dt>Client secret</dt><dd>{secret}</dd><dt>Authorization server</dt><dd>{server}</dd>\
                 <dt>Requesters created on first sign-in</dt><dd>{jit}</dd></dl>",
                at = escape(&s.updated_at),
                users = on(s.users_enabled),
                requesters = on(s.requesters_enabled),
                id = escape(&s.client_id),
                secret = if s.has_client_secret {
                    "kept (not shown)"
                } else {
                    "none (public client, PKCE)"
                },
                server = s
                    .authorization_server
                    .as_deref()
                    .map_or("the org server".to_string(), |a| {
                        format!("<code>{}</code>", escape(a))
                    }),
                jit = on(s.jit_requesters),
            )
        }
        Ok(Ok(None)) => "<p id=\"sso-saved\">Not set up yet.</p>".to_string(),
        _ => String::new(),
    }
}

fn sso_section(base: &str, config: &str, saved: &str) -> String {
    let c = urlencode(config);
    format!(
        "<section id=\"sso\"><h2>Sign in with Okta</h2>{saved}\
         <form method=\"post\" action=\"/configs/{c}/sso\">\
         <label><input type=\"checkbox\" name=\"users_enabled\" id=\"sso-users\"> Infraon Users sign in with Okta</label>\
         <label><input type=\"checkbox\" name=\"requesters_enabled\" id=\"sso-requesters\"> Self-Service Portal requesters sign in with Okta</label>\
         <label for=\"client_id\">Client ID</label><input type=\"text\" id=\"client_id\" name=\"client_id\" autocomplete=\"off\">\
         <label for=\"client_secret\">Client secret</label><input type=\"password\" id=\"client_secret\" name=\"client_secret\" autocomplete=\"off\">\
         <p class=\"help\">Leave empty for a public client (PKCE only). Kept encrypted; never shown again.</p>\
         <label for=\"authorization_server\">Authorization server</label>\
         <input type=\"text\" id=\"authorization_server\" name=\"authorization_server\" placeholder=\"empty: the org server; or e.g. default\">\
         <label><input type=\"checkbox\" name=\"jit_requesters\" id=\"sso-jit\"> Create a requester on first sign-in</label>\
         <p class=\"help\">Redirect URI to register in the Okta app: <code>{base}/callback/{c}</code>. \
         Saving replaces the whole setting, client secret included.</p>\
         <button type=\"submit\" id=\"sso-save\">Save sign-in settings</button></form></section>",
        base = escape(base),
    )
}

/// `POST /configs/{config}/sync`.
#[derive(Deserialize)]
pub struct SyncForm {
    #[serde(default)]
    mode: String,
}

/// `POST /configs/{config}/sync`: start a run in the background and show
/// its progress.
pub async fn sync_now(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<SyncForm>,
) -> Response {
    let mode = match form.mode.as_str() {
        "incremental" => SyncMode::Incremental,
        "dry-run" => SyncMode::DryRun,
        _ => SyncMode::Full,
    };
    if summary(&console, &config).await.is_none() {
        return unknown_config(&config);
    }
    if console.scheduler.is_running(&config) {
        return render(
            &console,
            &config,
            Some(("bad", "A run of this config is already in progress.".into())),
            StatusCode::CONFLICT,
        )
        .await;
    }
    console.scheduler.set_running(&config, true);
    let live = LiveRun {
        mode: mode_name(mode),
        started: Instant::now(),
        record: None,
        phase: "starting".into(),
        finished: None,
    };
    console
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(config.clone(), live);
    let (runtime, lives, scheduler, name) = (
        console.runtime.clone(),
        console.live.clone(),
        console.scheduler.clone(),
        config.clone(),
    );
    tokio::spawn(async move {
        let update = |f: &mut dyn FnMut(&mut LiveRun)| {
            if let Some(live) = lives
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_mut(&name)
            {
                f(live);
            }
        };
        let outcome = runtime
            .sync(&name, mode, Trigger::Manual, |record, phase| {
                update(&mut |live| {
                    live.record = Some(record.clone());
                    live.phase = phase.to_string();
                })
            })
            .await;
        let end = match outcome {
            Ok(Ok(record)) => Ok(record),
            Ok(Err(e)) => Err(render::sync_error(&e)),
            Err(e) => Err(format!("the harness failed: {e}")),
        };
        update(&mut |live| live.finished = Some(end.clone()));
        scheduler.set_running(&name, false);
    });
    Redirect::to(&format!("/configs/{}/progress", urlencode(&config))).into_response()
}

fn counts_table(r: &RunRecord) -> String {
    let n = &r.counts;
    format!(
        "<table id=\"counts\"><tr><th>Fetched</th><th>Created</th><th>Updated</th><th>Unchanged</th>\
         <th>Deactivated</th><th>Reactivated</th><th>Role changes</th><th>Unsynced</th><th>Requests</th></tr>\
         <tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></table>",
        n.fetched,
        n.created,
        n.updated,
        n.unchanged,
        n.deactivated,
        n.reactivated,
        n.role_changes,
        n.unsynced,
        r.requests
    )
}

/// `GET /configs/{config}/progress`: the live run, refreshed every second
/// until it ends.
pub async fn progress(State(console): State<Console>, Path(config): Path<String>) -> Response {
    let live = console
        .live
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&config)
        .cloned();
    let c = urlencode(&config);
    let Some(live) = live else {
        return Redirect::to(&format!("/configs/{c}")).into_response();
    };
    let title = format!("Okta · {config} · Sync Now");
    let back = format!("<p><a href=\"/configs/{c}\" id=\"back\">Back to Settings</a></p>");
    match &live.finished {
        None => {
            let counts = live.record.as_ref().map(counts_table).unwrap_or_default();
            let body = format!(
                "<section><p id=\"run-state\">{badge} {mode} sync: {phase} ({secs:.0} s)</p>\
                 <progress id=\"progress\"></progress>{counts}</section>{back}",
                badge = badge("running"),
                mode = live.mode,
                phase = escape(&live.phase),
                secs = live.started.elapsed().as_secs_f64(),
            );
            page_with_head(
                StatusCode::OK,
                &title,
                "<meta http-equiv=\"refresh\" content=\"1\">",
                &body,
            )
        }
        Some(Ok(record)) => {
            let word = outcome_word(record.outcome);
            let kind = match record.outcome {
                Some(RunOutcome::Succeeded) => "ok",
                Some(RunOutcome::Failed) | Some(RunOutcome::Cancelled) => "bad",
                _ => "info",
            };
            let csv = if record.counts.unsynced > 0 {
                format!(
                    " <a href=\"/configs/{c}/unsynced.csv?run={}\" id=\"run-csv\">Export its {} unsynced record(s)</a>.",
                    record.id, record.counts.unsynced
                )
            } else {
                String::new()
            };
            let error = record
                .error
                .as_deref()
                .map(|e| format!(" {e}"))
                .unwrap_or_default();
            let body = format!(
                "{}<section><p>{csv}</p>{}</section>{back}",
                notice(
                    kind,
                    "run-state",
                    &format!(
                        "Run {} {word} in {:.1} s.{error}",
                        record.id,
                        record.duration_ms as f64 / 1000.0
                    )
                ),
                counts_table(record),
            );
            page(StatusCode::OK, &title, &body)
        }
        Some(Err(why)) => page(
            StatusCode::OK,
            &title,
            &format!("{}{back}", notice("bad", "run-state", why)),
        ),
    }
}

/// `?run=` of the CSV export.
#[derive(Deserialize)]
pub struct ExportQuery {
    run: Option<u64>,
}

/// `GET /configs/{config}/unsynced.csv`: Export Unsynced Data as a download.
pub async fn export_csv(
    State(console): State<Console>,
    Path(config): Path<String>,
    Query(q): Query<ExportQuery>,
) -> Response {
    match console.runtime.unsynced_csv(&config, q.run).await {
        Ok(Ok(csv)) => {
            let safe: String = config
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
                .collect();
            let run = q.run.map(|r| format!("-run-{r}")).unwrap_or_default();
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"okta-{safe}-unsynced{run}.csv\""),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                csv,
            )
                .into_response()
        }
        Ok(Err(e)) => page(
            StatusCode::NOT_FOUND,
            "Export Unsynced Data",
            &format!(
                "{}<p><a href=\"/configs/{}\">Back to Settings</a></p>",
                notice("bad", "error", &render::export_error(&e)),
                urlencode(&config)
            ),
        ),
        Err(e) => host_failure("Export Unsynced Data", &e),
    }
}

/// `POST /configs/{config}/schedule`.
#[derive(Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    weekday: u8,
    #[serde(default)]
    hours: u32,
    #[serde(default)]
    tz: String,
}

fn parse_schedule(f: &ScheduleForm) -> Result<Schedule, String> {
    let at = || -> Result<LocalTime, String> {
        let (h, m) =
            f.at.trim()
                .split_once(':')
                .ok_or_else(|| format!("{:?} is not a time: use HH:MM", f.at))?;
        Ok(LocalTime {
            hour: h.parse().map_err(|_| format!("{h:?} is not an hour"))?,
            minute: m.parse().map_err(|_| format!("{m:?} is not a minute"))?,
            time_zone: f.tz.trim().to_string(),
        })
    };
    match f.kind.as_str() {
        "daily" => Ok(Schedule::Daily(at()?)),
        "weekly" => Ok(Schedule::Weekly(WeeklyTime {
            weekday: f.weekday,
            at: at()?,
        })),
        "every-hours" if f.hours >= 1 => Ok(Schedule::EveryHours(f.hours)),
        "every-hours" => Err("every N hours needs N of at least 1".into()),
        other => Err(format!("unknown repeat {other:?}")),
    }
}

/// `POST /configs/{config}/schedule`: Schedule Sync (set or clear).
pub async fn schedule(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<ScheduleForm>,
) -> Response {
    if summary(&console, &config).await.is_none() {
        return unknown_config(&config);
    }
    let infraon = console.runtime.infraon();
    let result = if form.action == "clear" {
        infraon
            .schedule_clear(crate::PLUGIN_ID, &config)
            .map_err(|e| e.to_string())
    } else {
        parse_schedule(&form).and_then(|s| {
            schedules::store(console.runtime.backends(), &config, s).map_err(|e| match e {
                crate::bindings::infraon::okta::scheduler::SchedulerError::Invalid(m)
                | crate::bindings::infraon::okta::scheduler::SchedulerError::Other(m) => m,
            })
        })
    };
    match result {
        Ok(()) => {
            let done = if form.action == "clear" {
                "schedule-cleared"
            } else {
                "schedule"
            };
            Redirect::to(&format!(
                "/configs/{}?done={done}#schedule",
                urlencode(&config)
            ))
            .into_response()
        }
        Err(why) => {
            render(
                &console,
                &config,
                Some(("bad", format!("Schedule not saved: {why}"))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The mass-deactivation safeguard, editable.
async fn safeguard_section(console: &Console, config: &str) -> String {
    let Ok(Ok(s)) = console.runtime.safeguard(config).await else {
        // A plugin that cannot edit it (contract 0.1.0): not shown.
        return String::new();
    };
    format!(
        "<section id=\"safeguard\"><h2>Safeguard</h2>\
         <form method=\"post\" action=\"/configs/{c}/safeguard\" class=\"row\">\
         <div><label for=\"share\">Hold deactivations above (% of active people)</label>\
         <input type=\"number\" id=\"share\" name=\"share\" min=\"1\" max=\"100\" value=\"{share}\"></div>\
         <div><label for=\"minimum\">and above (people)</label>\
         <input type=\"number\" id=\"minimum\" name=\"minimum\" min=\"0\" value=\"{minimum}\"></div>\
         <div><button type=\"submit\" id=\"safeguard-save\">Save</button></div></form>\
         <p class=\"help\">A run whose deactivations exceed both is held until approved here. Applies from the next run.</p></section>",
        c = urlencode(config),
        share = s.deactivation_share_percent,
        minimum = s.deactivation_minimum,
    )
}

/// `POST /configs/{config}/safeguard`.
#[derive(Deserialize)]
pub struct SafeguardForm {
    #[serde(default)]
    share: String,
    #[serde(default)]
    minimum: String,
}

/// `POST /configs/{config}/safeguard`: change the safeguard's thresholds.
pub async fn safeguard(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<SafeguardForm>,
) -> Response {
    let parsed = form
        .share
        .trim()
        .parse::<u32>()
        .ok()
        .zip(form.minimum.trim().parse::<u32>().ok());
    let result = match parsed {
        None => Ok(Err("both thresholds must be whole numbers".to_string())),
        Some((share, minimum)) => console
            .runtime
            .set_safeguard(
                &config,
                Safeguard {
                    deactivation_share_percent: share,
                    deactivation_minimum: minimum,
                },
            )
            .await
            .map(|r| r.map_err(|e| render::sync_error(&e))),
    };
    match result {
        Ok(Ok(())) => Redirect::to(&format!(
            "/configs/{}?done=safeguard#safeguard",
            urlencode(&config)
        ))
        .into_response(),
        Ok(Err(why)) => {
            render(
                &console,
                &config,
                Some(("bad", format!("Safeguard not saved: {why}"))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Settings", &e),
    }
}

/// `POST /configs/{config}/sso`.
#[derive(Deserialize)]
pub struct SsoForm {
    users_enabled: Option<String>,
    requesters_enabled: Option<String>,
    jit_requesters: Option<String>,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    authorization_server: String,
}

/// `POST /configs/{config}/sso`: save the Sign in with Okta settings.
pub async fn sso_settings(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<SsoForm>,
) -> Response {
    let settings = SsoSettings {
        users_enabled: form.users_enabled.is_some(),
        requesters_enabled: form.requesters_enabled.is_some(),
        client_id: form.client_id.trim().to_string(),
        client_secret: Some(form.client_secret).filter(|s| !s.is_empty()),
        authorization_server: Some(form.authorization_server.trim().to_string())
            .filter(|s| !s.is_empty()),
        jit_requesters: form.jit_requesters.is_some(),
    };
    match console.runtime.sso_configure(&config, &settings).await {
        Ok(Ok(())) => {
            if let Some(register) = &console.register_client {
                let redirect = format!("{}/callback/{}", console.base, urlencode(&config));
                register(
                    &settings.client_id,
                    settings.client_secret.as_deref(),
                    &redirect,
                );
            }
            Redirect::to(&format!("/configs/{}?done=sso#sso", urlencode(&config))).into_response()
        }
        Ok(Err(e)) => {
            render(
                &console,
                &config,
                Some((
                    "bad",
                    format!("Sign-in settings not saved: {}", render::sso_error(&e)),
                )),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Sign-in settings", &e),
    }
}

/// `POST /configs/{config}/verify`: verify the installed config with its
/// stored token, as the admin checks a token still works.
pub async fn verify_again(State(console): State<Console>, Path(config): Path<String>) -> Response {
    let message = match console.runtime.verify_installed(&config).await {
        Ok(Ok(report)) => (
            "ok",
            format!(
                "Verified: {} answered {} requests in {} ms.",
                report.okta_origin, report.requests, report.elapsed_ms
            ),
        ),
        Ok(Err(e)) => ("bad", render::verify_error(&e)),
        Err(e) => return host_failure("Verify", &e),
    };
    render(&console, &config, Some(message), StatusCode::OK).await
}

/// `POST /configs/{config}/uninstall`.
#[derive(Deserialize)]
pub struct UninstallForm {
    confirm: Option<String>,
}

/// `POST /configs/{config}/uninstall`: only with the box ticked.
pub async fn uninstall(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<UninstallForm>,
) -> Response {
    if form.confirm.is_none() {
        return render(
            &console,
            &config,
            Some((
                "bad",
                "Not uninstalled: tick the box to confirm first.".into(),
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if console.scheduler.is_running(&config) {
        return render(
            &console,
            &config,
            Some((
                "bad",
                "Not uninstalled: a run of this config is in progress.".into(),
            )),
            StatusCode::CONFLICT,
        )
        .await;
    }
    match console.runtime.uninstall(&config).await {
        Ok(Ok(())) => {
            console
                .live
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&config);
            Redirect::to("/marketplace/okta?done=uninstalled").into_response()
        }
        Ok(Err(e)) => {
            render(
                &console,
                &config,
                Some(("bad", render::install_error(&e))),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Uninstall", &e),
    }
}
