//! The synced Users and Requesters, as Infraon's own lists show them.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::Console;
use super::layout::{badge, escape, notice, page};

/// Rows shown per page; only these are read whole, so a 100,000-person
/// directory stays one quick page.
const PAGE_ROWS: usize = 200;

/// `?q=` filter and `?page=`.
#[derive(Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
}

/// `GET /people/{users|requesters}`.
pub async fn list(
    State(console): State<Console>,
    Path(kind): Path<String>,
    Query(query): Query<PeopleQuery>,
) -> Response {
    let (kind, title) = match kind.as_str() {
        "users" => (fake_infraon::SyncTarget::Users, "Users"),
        "requesters" => (fake_infraon::SyncTarget::Requesters, "Requesters"),
        _ => {
            return page(
                StatusCode::NOT_FOUND,
                "Not found",
                &notice("bad", "error", "There are Users and Requesters only."),
            );
        }
    };
    let infraon = console.runtime.infraon().clone();
    let needle = query.q.clone();
    let skip = query.page.saturating_mul(PAGE_ROWS);
    let listed = match tokio::task::spawn_blocking(move || {
        infraon.people_page(kind, &needle, skip, PAGE_ROWS)
    })
    .await
    {
        Ok(Ok(listed)) => listed,
        Ok(Err(e)) => return failed(title, &e),
        Err(e) => return failed(title, &e),
    };
    let rows: String = listed
        .people
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&p.display_name),
                escape(&p.email),
                badge(p.status.as_str()),
                escape(&p.roles.join(", ")),
                if p.external_id.is_empty() {
                    "<span class=\"help\">not linked</span>".to_string()
                } else {
                    format!("<code>{}</code>", escape(&p.external_id))
                },
                escape(&p.config),
            )
        })
        .collect();
    let pages = listed.matching.div_ceil(PAGE_ROWS).max(1);
    let next = if query.page.saturating_add(1) < pages {
        format!(
            " <a href=\"?q={}&amp;page={}\">Next page</a>",
            super::layout::urlencode(&query.q),
            query.page + 1
        )
    } else {
        String::new()
    };
    let body = format!(
        "<section><form method=\"get\" class=\"row\"><div><label for=\"q\">Search name, email or login</label>\
         <input type=\"text\" id=\"q\" name=\"q\" value=\"{q}\"></div><div><button type=\"submit\" class=\"secondary\">Search</button></div></form>\
         <p id=\"people-count\">{n} of {total} {lower} (page {page} of {pages}).{next}</p>\
         <table id=\"people\"><tr><th>Name</th><th>Email</th><th>Status</th><th>Roles</th><th>Okta id</th><th>Config</th></tr>{rows}</table></section>",
        q = escape(&query.q),
        n = listed.matching,
        total = listed.total,
        lower = title.to_lowercase(),
        page = query.page.saturating_add(1),
    );
    page(StatusCode::OK, title, &body)
}

fn failed(title: &str, e: &dyn std::fmt::Display) -> Response {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        title,
        &notice("bad", "error", &e.to_string()),
    )
}
