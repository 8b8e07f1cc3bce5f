//! Who may call the management API: the org's API token (`SSWS`, or
//! `Bearer` as the seed allowed), or a service app's access token, as
//! `Bearer` or as `DPoP` with a proof, holding the scope the path needs.
//! Every request's scheme is logged, never its credential.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Shared;
use crate::errors::OktaError;
use crate::oidc::now_epoch;

/// Entries the auth log holds before it drops its older half.
pub(crate) const AUTH_LOG_CAP: usize = 200_000;

/// One request as the auth log keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthEntry {
    /// HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The `Authorization` scheme as sent (`SSWS`, `Bearer`, `DPoP`,
    /// `Basic`), or empty without one.
    pub scheme: String,
    /// Whether a `DPoP` proof header came with it.
    pub dpop_proof: bool,
}

impl AuthEntry {
    pub(crate) fn of(method: &str, path: &str, headers: &HeaderMap) -> Self {
        let scheme = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("")
            .to_owned();
        AuthEntry {
            method: method.to_owned(),
            path: path.to_owned(),
            scheme,
            dpop_proof: headers.contains_key("dpop"),
        }
    }
}

/// The Okta API scope a read of `path` needs.
pub fn scope_for(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/v1/users") {
        Some("okta.users.read")
    } else if path.starts_with("/api/v1/groups") {
        Some("okta.groups.read")
    } else if path.starts_with("/api/v1/meta/schemas") {
        Some("okta.schemas.read")
    } else {
        None
    }
}

/// API tokens beside the one the org started with.
#[derive(Debug, Default)]
pub(crate) struct ApiTokens {
    /// Created after start, oldest first.
    pub(crate) created: Vec<String>,
    /// Revoked (any of them, the first included).
    pub(crate) revoked: std::collections::HashSet<String>,
}

impl ApiTokens {
    /// A new token, distinct from every other, shaped like the first.
    pub(crate) fn create(&mut self, first: &str) -> String {
        let token = format!("{first}r{}", self.created.len() + 1);
        self.created.push(token.clone());
        token
    }
}

/// Okta's refusal of the request, or `None` if it may proceed.
pub(crate) fn check(
    st: &Shared,
    method: &str,
    path: &str,
    base: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (scheme, cred) = value.split_once(' ').unwrap_or(("", ""));
    let cred = cred.trim();
    let is = |s: &str| scheme.eq_ignore_ascii_case(s);
    if (is("SSWS") || is("Bearer")) && st.api_token_valid(cred) {
        return None;
    }
    if !is("Bearer") && !is("DPoP") {
        return Some(OktaError::invalid_token().into_response());
    }
    let now = now_epoch();
    let mut oidc = st.oidc();
    let service = &mut oidc.service;
    let Some(token) = service.tokens.get(cred).cloned() else {
        return Some(challenge(
            OktaError::invalid_token(),
            scheme,
            base,
            "invalid_token",
            "The access token is invalid.",
        ));
    };
    if token.expires_at <= now {
        service.tokens.remove(cred);
        return Some(challenge(
            OktaError::invalid_token(),
            scheme,
            base,
            "invalid_token",
            "The access token is expired.",
        ));
    }
    match (&token.jkt, is("DPoP")) {
        (None, false) => {}
        (Some(jkt), true) => {
            let proof = headers.get("dpop").and_then(|v| v.to_str().ok());
            let Some(proof) = proof else {
                return Some(dpop_refusal(base, "The DPoP proof JWT header is missing."));
            };
            let url = format!("{base}{}", decode_path(path));
            match service.check_proof(proof, method, &url, Some(cred), now) {
                Ok(k) if k == *jkt => {}
                Ok(_) => {
                    return Some(dpop_refusal(
                        base,
                        "The DPoP proof JWT key does not match the access token's key.",
                    ));
                }
                Err(why) => return Some(dpop_refusal(base, &why)),
            }
        }
        (Some(_), false) => {
            return Some(challenge(
                OktaError::invalid_token(),
                "DPoP",
                base,
                "invalid_token",
                "The access token is bound to a DPoP key; send it with the DPoP scheme and a proof.",
            ));
        }
        (None, true) => {
            return Some(challenge(
                OktaError::invalid_token(),
                "Bearer",
                base,
                "invalid_token",
                "The access token is not DPoP-bound; send it with the Bearer scheme.",
            ));
        }
    }
    if let Some(needed) = scope_for(path)
        && !token.scopes.iter().any(|s| s == needed)
    {
        let mut resp = OktaError::forbidden().into_response();
        let value = format!(
            "Bearer authorization_uri=\"{base}/oauth2/v1/authorize\", realm=\"{base}\", scope=\"{needed}\", error=\"insufficient_scope\", error_description=\"The access token provided does not contain the required scopes.\", resource=\"{path}\""
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        return Some(resp);
    }
    None
}

fn challenge(err: OktaError, scheme: &str, base: &str, error: &str, description: &str) -> Response {
    let scheme = if scheme.eq_ignore_ascii_case("DPoP") {
        "DPoP"
    } else {
        "Bearer"
    };
    let mut resp = err.into_response();
    let value = format!(
        "{scheme} authorization_uri=\"{base}/oauth2/v1/authorize\", realm=\"{base}\", error=\"{error}\", error_description=\"{description}\""
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// Okta answers a bad proof at the API with 400 and a DPoP challenge.
fn dpop_refusal(base: &str, why: &str) -> Response {
    let err = OktaError::new(
        StatusCode::BAD_REQUEST,
        "E0000001",
        format!("Api validation failed: DPoP proof. {why}"),
    );
    challenge(err, "DPoP", base, "invalid_dpop_proof", why)
}

/// Okta compares `htu` with the decoded path (percent-escapes undone).
fn decode_path(path: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", path.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| path.to_owned())
}
