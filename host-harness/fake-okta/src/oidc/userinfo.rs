//! `GET|POST /userinfo`: the signed-in user's claims for a Bearer access
//! token issued by the same server.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::{Server, now_epoch, user_claims};
use crate::Shared;
use crate::org::UserStatus;

/// Okta answers a bad token with an empty 401 and a `WWW-Authenticate`
/// challenge (RFC 6750 §3), not a JSON body.
fn invalid_token() -> Response {
    let mut resp = StatusCode::UNAUTHORIZED.into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer error=\"invalid_token\", error_description=\"The access token is invalid\"",
        ),
    );
    resp
}

fn userinfo(st: &Shared, server: &Server, headers: &HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("Bearer"))
        .map(|(_, t)| t.trim());
    let grant = token.and_then(|t| st.oidc().access.get(t).cloned());
    let Some(grant) = grant.filter(|g| &g.server == server && g.expires_at > now_epoch()) else {
        return invalid_token();
    };
    match user_claims(&st.org(), &grant.user_id, &grant.scopes, true) {
        Some((mut claims, UserStatus::Active)) => {
            if let Some(sub) = st.oidc().switches.userinfo_sub.clone() {
                claims.insert("sub".into(), sub.into());
            }
            Json(Value::Object(claims)).into_response()
        }
        _ => invalid_token(),
    }
}

/// `/oauth2/v1/userinfo`.
pub(super) async fn org(State(st): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    userinfo(&st, &Server::Org, &headers)
}

/// `/oauth2/{id}/v1/userinfo`.
pub(super) async fn custom(
    State(st): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match super::custom(&st, &id) {
        Ok(server) => userinfo(&st, &server, &headers),
        Err(e) => e.into_response(),
    }
}
