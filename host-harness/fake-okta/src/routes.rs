//! The router and the small pieces the resource handlers share.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use serde_json::Value;

use crate::errors::OktaError;
use crate::org::Id;
use crate::{Shared, gate, groups, oidc, paging, render, users};

/// Per-request facts the handlers need.
pub(crate) struct Ctx {
    /// `http://host:port` as the client addressed us.
    pub base: String,
}

impl Ctx {
    pub(crate) fn new(st: &Shared, headers: &HeaderMap) -> Self {
        Ctx {
            base: paging::base_url(headers, &st.url),
        }
    }
}

/// A JSON array with Okta's `Link` headers.
pub(crate) fn page_response(
    ctx: &Ctx,
    path: &str,
    raw_query: Option<&str>,
    next: Option<&Id>,
    body: Vec<Value>,
) -> Response {
    let mut resp = Json(body).into_response();
    for link in paging::links(&ctx.base, path, raw_query, next) {
        resp.headers_mut().append(header::LINK, link);
    }
    resp
}

async fn user_schema(
    State(st): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(schema): Path<String>,
) -> Result<Response, OktaError> {
    let ctx = Ctx::new(&st, &headers);
    let org = st.org();
    if schema != "default" && schema != org.schema_id {
        return Err(OktaError::not_found(&schema, "UserSchema"));
    }
    Ok(Json(render::user_schema(&ctx.base, &org)).into_response())
}

async fn no_route() -> OktaError {
    OktaError::no_endpoint(StatusCode::NOT_FOUND)
}

async fn wrong_method() -> OktaError {
    OktaError::no_endpoint(StatusCode::METHOD_NOT_ALLOWED)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/users", get(users::list))
        .route("/api/v1/users/{id}", get(users::get))
        .route("/api/v1/users/{id}/groups", get(users::groups))
        .route("/api/v1/groups", get(groups::list))
        .route("/api/v1/groups/{id}", get(groups::get))
        .route("/api/v1/groups/{id}/users", get(groups::members))
        .route("/api/v1/meta/schemas/user/{schema}", get(user_schema))
        .merge(oidc::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        // Added last so it wraps the fallbacks too: every answer gets the
        // rate-limit headers and goes through auth and faults.
        .layer(middleware::from_fn_with_state(shared.clone(), gate::gate))
        .with_state(shared)
}
