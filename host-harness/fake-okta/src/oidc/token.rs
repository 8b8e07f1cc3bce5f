//! `POST /token`: client authentication, then the authorization-code grant
//! with PKCE, answered with an RS256 ID token and a JWT access token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::jwt::{at_hash, b64url, header as jwt_header, jti, sign};
use super::keys::key_async;
use super::{
    AccessGrant, Grant, OidcClient, Server, TOKEN_LIFETIME, now_epoch, parse_form, pkce_shaped,
    user_claims,
};
use crate::Shared;
use crate::errors::random_token;
use crate::org::UserStatus;

/// An OAuth error body (`OAuthError`): `error` and `error_description`.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// RFC 6749 §5.2: a 401 to a client that used HTTP Basic must challenge.
    basic_challenge: bool,
}

impl OAuthError {
    fn bad(error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    fn client(description: impl Into<String>, basic: bool) -> Self {
        OAuthError {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: description.into(),
            basic_challenge: basic,
        }
    }

    fn invalid_code() -> Self {
        Self::bad(
            "invalid_grant",
            "The authorization code is invalid or has expired.",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        let mut resp = (self.status, Json(body)).into_response();
        no_store(resp.headers_mut());
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"okta\""),
            );
        }
        resp
    }
}

/// Token answers must not be cached (RFC 6749 §5.1).
fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `Authorization: Basic` credentials, URL-decoded as RFC 6749 §2.3.1 says.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), OAuthError>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, cred) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Basic") {
        return None;
    }
    let malformed = || OAuthError::client("Invalid value for the Authorization header.", true);
    let decoded = STANDARD
        .decode(cred.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Some(Err(malformed()));
    };
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some(Ok((unescape(id), unescape(secret))))
}

/// Authenticates the client by `client_secret_basic`, `client_secret_post`
/// or (public clients) `client_id` alone.
fn authenticate(
    st: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<OidcClient, OAuthError> {
    let basic = basic_credentials(headers).transpose()?;
    let body_id = form.get("client_id");
    let body_secret = form.get("client_secret");
    let used_basic = basic.is_some();
    if let Some((id, _)) = &basic
        && (body_secret.is_some() || body_id.is_some_and(|b| b != id))
    {
        return Err(OAuthError::bad(
            "invalid_request",
            "Can't supply multiple client credentials. Use one of the following: credentials in the Authorization header, credentials in the post body, or a `client_assertion` in the post body.",
        ));
    }
    let (client_id, secret) = match &basic {
        Some((id, secret)) => (Some(id), Some(secret)),
        None => (body_id, body_secret),
    };
    let Some(client_id) = client_id else {
        return Err(OAuthError::client(
            "No client credentials found",
            used_basic,
        ));
    };
    let client = st.oidc().clients.get(client_id).cloned();
    let Some(client) = client else {
        return Err(OAuthError::client(
            "Invalid value for the `client_id` parameter",
            used_basic,
        ));
    };
    match (&client.client_secret, secret) {
        (Some(expected), Some(given)) if expected == given => Ok(client),
        (Some(_), _) => Err(OAuthError::client(
            "The client secret supplied for a confidential client is invalid.",
            used_basic,
        )),
        (None, None) => Ok(client),
        (None, Some(_)) => Err(OAuthError::client(
            "Client authentication failed: this is a public client, which authenticates with `client_id` only.",
            used_basic,
        )),
    }
}

/// Checks the grant against the request; the grant is already consumed.
fn check_grant(
    grant: &Grant,
    server: &Server,
    client: &OidcClient,
    form: &HashMap<String, String>,
) -> Result<(), OAuthError> {
    if grant.expires <= Instant::now() || grant.server.as_ref().is_some_and(|s| s != server) {
        return Err(OAuthError::invalid_code());
    }
    if grant.client_id != client.client_id {
        return Err(OAuthError::bad(
            "invalid_grant",
            "The grant was issued to another client. Ensure that the `client_id` matches the one used at the authorize request.",
        ));
    }
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return Err(OAuthError::bad(
            "invalid_grant",
            "The `redirect_uri` doesn't match the one used in the authorization request.",
        ));
    }
    let verifier = form.get("code_verifier");
    match (&grant.code_challenge, verifier) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(OAuthError::bad(
            "invalid_request",
            "The `code_verifier` parameter is required: the authorization request used PKCE.",
        )),
        (_, Some(v)) if !pkce_shaped(v) => Err(OAuthError::bad(
            "invalid_request",
            "The PKCE code verifier must be 43 to 128 characters of [A-Za-z0-9-._~].",
        )),
        (Some(c), Some(v)) if b64url(&Sha256::digest(v.as_bytes())) == *c => Ok(()),
        _ => Err(OAuthError::bad(
            "invalid_grant",
            "PKCE verification failed.",
        )),
    }
}

async fn token(
    st: &Shared,
    server: Server,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(OAuthError::bad(
            "invalid_request",
            "The request must be `application/x-www-form-urlencoded`.",
        ));
    }
    let form = parse_form(body).map_err(|dup| {
        OAuthError::bad(
            "invalid_request",
            format!("The `{dup}` parameter was provided more than once."),
        )
    })?;
    // Service apps authenticate with a client assertion (private_key_jwt)
    // and use the client-credentials grant at the org server only.
    if server == Server::Org
        && (form.contains_key("client_assertion")
            || form.get("grant_type").map(String::as_str) == Some("client_credentials"))
    {
        let token_url = format!(
            "{}/oauth2/v1/token",
            crate::routes::base_url(headers, &st.url)
        );
        let issued = st.oidc().service.grant(headers, &form, &token_url);
        return Ok(match issued {
            Ok(body) => {
                let mut resp = Json(body).into_response();
                no_store(resp.headers_mut());
                resp
            }
            Err(e) => e.into_response(),
        });
    }
    let client = authenticate(st, headers, &form)?;
    match form.get("grant_type").map(String::as_str) {
        None => {
            return Err(OAuthError::bad(
                "invalid_request",
                "The `grant_type` parameter is required.",
            ));
        }
        Some("authorization_code") => {}
        Some(_) => {
            return Err(OAuthError::bad(
                "unsupported_grant_type",
                "The grant type in the request isn't supported.",
            ));
        }
    }
    let Some(code) = form.get("code") else {
        return Err(OAuthError::bad(
            "invalid_request",
            "The `code` parameter is required.",
        ));
    };
    // Single use: whatever happens next, this code is spent.
    let grant = st.oidc().codes.remove(code);
    let grant = grant.ok_or_else(OAuthError::invalid_code)?;
    check_grant(&grant, &server, &client, &form)?;
    let issued = mint(st, &server, &grant).await?;
    let mut resp = Json(issued).into_response();
    no_store(resp.headers_mut());
    Ok(resp)
}

/// The token response for a checked grant.
async fn mint(st: &Shared, server: &Server, grant: &Grant) -> Result<Value, OAuthError> {
    let (seed, org_id) = {
        let oidc = st.oidc();
        (oidc.signer(server), oidc.org_id.clone())
    };
    let key = key_async(seed).await;
    let now = now_epoch();
    let exp = now + TOKEN_LIFETIME;
    let issuer = server.issuer(&st.url);
    let scope = grant.scopes.join(" ");
    let user = match &grant.user_id {
        Some(id) => {
            let found = user_claims(&st.org(), id, &grant.scopes, false);
            match found {
                Some((claims, UserStatus::Active)) => Some((id.clone(), claims)),
                // Deactivated between sign-in and redemption.
                _ => return Err(OAuthError::invalid_code()),
            }
        }
        None => None,
    };
    let access_token = match &user {
        Some((id, claims)) => {
            let at = json!({
                "ver": 1,
                "jti": jti("AT"),
                "iss": issuer,
                "aud": server.audience(&st.url),
                "iat": now,
                "exp": exp,
                "cid": grant.client_id,
                "uid": id,
                "scp": grant.scopes,
                "auth_time": grant.auth_time,
                "sub": claims.get("preferred_username").cloned().unwrap_or_else(|| id.clone().into()),
            });
            let token = sign(&key, &jwt_header(&key), &at);
            st.oidc().access.insert(
                token.clone(),
                AccessGrant {
                    server: server.clone(),
                    user_id: id.clone(),
                    scopes: grant.scopes.clone(),
                    expires_at: exp,
                },
            );
            token
        }
        // A forged code has no user, so its access token opens nothing.
        None => random_token(43),
    };
    let id_token = match (&grant.forced_id_token, user) {
        (Some(forced), _) => forced.clone(),
        (None, Some((_, mut claims))) => {
            let switches = st.oidc().switches.clone();
            if switches.claims_only_at_userinfo {
                for k in [
                    "email",
                    "email_verified",
                    "name",
                    "preferred_username",
                    "given_name",
                    "family_name",
                ] {
                    claims.remove(k);
                }
            }
            let aud = match &switches.extra_audience {
                Some(other) => json!([grant.client_id, other]),
                None => json!(grant.client_id),
            };
            let extra = json!({
                "ver": 1,
                "iss": issuer,
                "aud": aud,
                "iat": now,
                "exp": exp,
                "jti": jti("ID"),
                "amr": ["pwd"],
                "idp": org_id,
                "auth_time": grant.auth_time,
                "at_hash": at_hash(&access_token),
            });
            if let Value::Object(m) = extra {
                claims.extend(m);
            }
            if let Some(n) = &grant.nonce {
                claims.insert("nonce".into(), n.clone().into());
            }
            sign(&key, &jwt_header(&key), &Value::Object(claims))
        }
        (None, None) => return Err(OAuthError::invalid_code()),
    };
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": TOKEN_LIFETIME,
        "access_token": access_token,
        "scope": scope,
        "id_token": id_token,
    }))
}

/// `POST /oauth2/v1/token`.
pub(super) async fn org(
    State(st): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    token(&st, Server::Org, &headers, &body)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// `POST /oauth2/{id}/v1/token`.
pub(super) async fn custom(
    State(st): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match super::custom(&st, &id) {
        Ok(server) => token(&st, server, &headers, &body)
            .await
            .unwrap_or_else(IntoResponse::into_response),
        Err(e) => e.into_response(),
    }
}
