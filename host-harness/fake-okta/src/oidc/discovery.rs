//! `/.well-known/openid-configuration` and `oauth-authorization-server`, in
//! the shape of Okta's `OidcMetadata` and `OAuthMetadata` examples.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Server;
use crate::Shared;
use crate::errors::OktaError;

const AUTH_METHODS: [&str; 5] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];

const OIDC_CLAIMS: [&str; 30] = [
    "iss",
    "ver",
    "sub",
    "aud",
    "iat",
    "exp",
    "jti",
    "auth_time",
    "amr",
    "idp",
    "nonce",
    "name",
    "nickname",
    "preferred_username",
    "given_name",
    "middle_name",
    "family_name",
    "email",
    "email_verified",
    "profile",
    "zoneinfo",
    "locale",
    "address",
    "phone_number",
    "picture",
    "website",
    "gender",
    "birthdate",
    "updated_at",
    "at_hash",
];

/// The scopes a server's `scopes_supported` lists; authorize accepts only these.
pub(crate) fn scopes(server: &Server) -> &'static [&'static str] {
    match server {
        Server::Org => &[
            "openid",
            "email",
            "profile",
            "address",
            "phone",
            "offline_access",
            "groups",
        ],
        Server::Custom(_) => &[
            "openid",
            "profile",
            "email",
            "address",
            "phone",
            "offline_access",
            "device_sso",
        ],
    }
}

/// Okta answers an unknown `client_id` query parameter with 400.
fn check_client(st: &Shared, raw_query: Option<&str>) -> Result<(), OktaError> {
    let Some(q) = raw_query else { return Ok(()) };
    for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
        if k == "client_id" && !st.oidc().clients.contains_key(v.as_ref()) {
            return Err(OktaError::new(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "Invalid value for `client_id` parameter",
            ));
        }
    }
    Ok(())
}

fn common(st: &Shared, server: &Server) -> serde_json::Map<String, Value> {
    let url = &st.url;
    let ep = |name: &str| server.endpoint(url, name);
    let doc = json!({
        "issuer": server.issuer(url),
        "authorization_endpoint": ep("authorize"),
        "token_endpoint": ep("token"),
        "registration_endpoint": format!("{url}/oauth2/v1/clients"),
        "jwks_uri": ep("keys"),
        "response_types_supported": [
            "code", "id_token", "code id_token", "code token",
            "id_token token", "code id_token token"
        ],
        "response_modes_supported": ["query", "fragment", "form_post", "okta_post_message"],
        "grant_types_supported": [
            "authorization_code", "implicit", "refresh_token", "password",
            "urn:ietf:params:oauth:grant-type:device_code"
        ],
        "subject_types_supported": ["public"],
        "scopes_supported": scopes(server),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "code_challenge_methods_supported": ["S256"],
        "introspection_endpoint": ep("introspect"),
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint": ep("revoke"),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "end_session_endpoint": ep("logout"),
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": [
            "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512"
        ],
        "device_authorization_endpoint": ep("device/authorize"),
        "pushed_authorization_request_endpoint": ep("par"),
    });
    match doc {
        Value::Object(m) => m,
        _ => Default::default(),
    }
}

/// The OpenID Connect metadata of `server`.
pub(crate) fn openid(
    st: &Shared,
    server: &Server,
    raw_query: Option<&str>,
) -> Result<Response, OktaError> {
    check_client(st, raw_query)?;
    let mut doc = common(st, server);
    doc.insert(
        "userinfo_endpoint".into(),
        server.endpoint(&st.url, "userinfo").into(),
    );
    doc.insert(
        "id_token_signing_alg_values_supported".into(),
        json!(["RS256"]),
    );
    doc.insert("claims_supported".into(), json!(OIDC_CLAIMS));
    if st.oidc().switches.iss_parameter != super::IssParameter::Omitted {
        doc.insert(
            "authorization_response_iss_parameter_supported".into(),
            json!(true),
        );
    }
    Ok(Json(doc).into_response())
}

/// The OAuth 2.0 metadata of a custom `server` (no userinfo, no ID-token
/// algorithms; access-token claims).
pub(crate) fn oauth(
    st: &Shared,
    server: &Server,
    raw_query: Option<&str>,
) -> Result<Response, OktaError> {
    check_client(st, raw_query)?;
    let mut doc = common(st, server);
    doc.insert(
        "claims_supported".into(),
        json!([
            "ver", "jti", "iss", "aud", "iat", "exp", "cid", "uid", "scp", "sub"
        ]),
    );
    Ok(Json(doc).into_response())
}

/// `GET /.well-known/openid-configuration`.
pub(super) async fn org_openid(
    State(st): State<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Result<Response, OktaError> {
    openid(&st, &Server::Org, q.as_deref())
}
