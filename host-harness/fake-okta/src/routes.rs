//! The router: the read endpoints answered by [`crate::model`], the OIDC
//! endpoints, and what HTTP adds around them (the client's `Host` for
//! `Link` URLs, Okta's error bodies for unknown routes and methods).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};

use crate::errors::OktaError;
use crate::model::{self, Answer};
use crate::{Shared, gate, oidc};

/// Where the client reached us, so `Link` URLs work through any alias.
pub(crate) fn base_url(headers: &HeaderMap, fallback: &str) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| fallback.to_owned(), |h| format!("http://{h}"))
}

impl IntoResponse for OktaError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut resp = match self.body {
            model::Body::Value(v) => (status, Json(v)).into_response(),
            model::Body::Serialized(bytes) => {
                (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
            }
        };
        for (k, v) in self.headers {
            // The content type is set already.
            if k.eq_ignore_ascii_case("content-type") {
                continue;
            }
            if let (Ok(k), Ok(v)) = (
                HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                resp.headers_mut().append(k, v);
            }
        }
        resp
    }
}

/// Every read endpoint: the model's answer for the org as it is now.
async fn api(State(st): State<Arc<Shared>>, req: Request) -> Answer {
    let base = base_url(req.headers(), &st.url);
    let uri = req.uri();
    let path_and_query = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    model::answer(&st.org(), &base, req.method().as_str(), path_and_query)
}

async fn no_route() -> OktaError {
    OktaError::no_endpoint(StatusCode::NOT_FOUND)
}

async fn wrong_method() -> OktaError {
    OktaError::no_endpoint(StatusCode::METHOD_NOT_ALLOWED)
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/users", get(api))
        .route("/api/v1/users/{id}", get(api))
        .route("/api/v1/users/{id}/groups", get(api))
        .route("/api/v1/groups", get(api))
        .route("/api/v1/groups/{id}", get(api))
        .route("/api/v1/groups/{id}/users", get(api))
        .route("/api/v1/meta/schemas/user/{schema}", get(api))
        .merge(oidc::routes())
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        // Added last so it wraps the fallbacks too: every answer gets the
        // rate-limit headers and goes through auth and faults.
        .layer(middleware::from_fn_with_state(shared.clone(), gate::gate))
        .with_state(shared)
}
