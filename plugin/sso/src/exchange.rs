//! The token request: the authorization code (with its PKCE verifier) for
//! an ID token, authenticating with `client_secret_basic` or, for a public
//! client, with `client_id` alone.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use plugin_core::{OktaFailure, RateLimit};
use serde_json::Value;

use crate::discovery::Discovery;
use crate::{FormPost, SsoError};

/// What the token request needs.
pub(crate) struct CodeGrant<'a> {
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub code: &'a str,
    pub redirect_uri: &'a str,
    pub verifier: &'a str,
}

/// What the token endpoint gave: the ID token, and the access token when
/// there is one (for userinfo).
pub(crate) struct Tokens {
    pub id_token: String,
    pub access_token: Option<String>,
}

/// Redeem the code.
pub(crate) fn exchange(
    post: &mut dyn FormPost,
    disc: &Discovery,
    g: &CodeGrant<'_>,
) -> Result<Tokens, SsoError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", g.code),
        ("redirect_uri", g.redirect_uri),
        ("code_verifier", g.verifier),
    ];
    let mut headers = vec![
        (
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ),
        ("Accept".to_owned(), "application/json".to_owned()),
        (
            "User-Agent".to_owned(),
            format!("infraon-okta-plugin/{}", plugin_core::VERSION),
        ),
    ];
    match g.client_secret {
        // RFC 6749 §2.3.1: both halves form-encoded before base64.
        Some(secret) => {
            let cred = format!("{}:{}", encode(g.client_id), encode(secret));
            headers.push((
                "Authorization".to_owned(),
                format!("Basic {}", STANDARD.encode(cred)),
            ));
        }
        None => form.push(("client_id", g.client_id)),
    }
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let redact = |s: &str| {
        let mut s = s
            .replace(g.code, "[redacted]")
            .replace(g.verifier, "[redacted]");
        if let Some(secret) = g.client_secret.filter(|x| !x.is_empty()) {
            s = s.replace(secret, "[redacted]");
        }
        s
    };
    let resp = post
        .post_form(&disc.token_endpoint, &headers, body.as_bytes())
        .map_err(|e| {
            let failure = OktaFailure::from_transport(e)
                .redact(g.code)
                .redact(g.verifier);
            SsoError::Okta(match g.client_secret {
                Some(secret) => failure.redact(secret),
                None => failure,
            })
        })?;
    let json: Option<Value> = serde_json::from_slice(&resp.body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(Value::as_str)
            .map(redact)
    };
    match resp.status {
        200..=299 => match json
            .as_ref()
            .and_then(|j| j.get("id_token"))
            .and_then(Value::as_str)
        {
            Some(id_token) => Ok(Tokens {
                id_token: id_token.to_owned(),
                access_token: json
                    .as_ref()
                    .and_then(|j| j.get("access_token"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            }),
            None if json.is_none() => Err(SsoError::TokenExchange(
                "the token endpoint's answer is not JSON".into(),
            )),
            None => Err(SsoError::TokenExchange(
                "the token endpoint returned no ID token (is `openid` allowed for this app?)"
                    .into(),
            )),
        },
        429 => Err(SsoError::Okta(OktaFailure::RateLimited(
            RateLimit::from_headers(&resp),
        ))),
        s @ 500..=599 => Err(SsoError::Okta(OktaFailure::ServerError(s))),
        s => Err(SsoError::TokenExchange(match field("error") {
            Some(error) => {
                let hint = match error.as_str() {
                    "invalid_grant" => {
                        " The sign-in took too long or was already used; start again."
                    }
                    "invalid_client" => {
                        " Check the client ID and client secret in the SSO settings."
                    }
                    _ => "",
                };
                let detail = field("error_description")
                    .map(|d| format!(": {}", d.trim_end_matches('.')))
                    .unwrap_or_default();
                format!(
                    "the identity provider refused the authorization code (HTTP {s}, `{error}`{detail}).{hint}"
                )
            }
            None => format!("the token endpoint answered HTTP {s}"),
        })),
    }
}

/// `application/x-www-form-urlencoded` value encoding: everything but
/// RFC 3986's unreserved characters is percent-encoded.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
