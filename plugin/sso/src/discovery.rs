//! OpenID Connect discovery (`{issuer}/.well-known/openid-configuration`),
//! cached in storage for [`DISCOVERY_TTL_MS`].

use plugin_core::okta_error::classify_json;
use plugin_core::{Host, Http, HttpRequest, OktaFailure, OktaOrigin, StoredConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SsoError;
use crate::settings::{StoredSso, discovery_key};

/// How long a fetched discovery document is trusted before it is refetched.
pub const DISCOVERY_TTL_MS: u64 = 60 * 60 * 1000;

/// The parts of the discovery document the login uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovery {
    /// The issuer; ID tokens' `iss` must equal it.
    pub issuer: String,
    /// Where the browser is sent.
    pub authorization_endpoint: String,
    /// Where the code is exchanged.
    pub token_endpoint: String,
    /// The signing keys.
    pub jwks_uri: String,
    /// Where claims the ID token lacks can be asked for (Core §5.3), if
    /// the provider has one.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// The provider always sends `iss` in its authorization responses
    /// (RFC 9207 §3): then a response without it is refused.
    #[serde(default)]
    pub iss_parameter_supported: bool,
    /// When it was fetched (Unix ms).
    pub fetched_at_ms: u64,
}

/// The issuer of the org authorization server (the org's origin) or of the
/// custom server `server` (`{origin}/oauth2/{server}`).
pub fn issuer(origin: &OktaOrigin, server: Option<&str>) -> String {
    match server {
        None => origin.to_string(),
        Some(id) => origin.url(&format!("/oauth2/{id}")),
    }
}

/// The discovery document of the config's authorization server, from the
/// cache while it is fresh and for the same issuer.
pub(crate) fn discover(
    host: &mut Host,
    cfg: &StoredConfig,
    sso: &StoredSso,
) -> Result<Discovery, SsoError> {
    let origin = cfg.origin().map_err(SsoError::Other)?;
    let expected = issuer(&origin, sso.authorization_server.as_deref());
    let key = discovery_key(&cfg.name);
    let now = host.clock.now_unix_ms();
    let cached = host
        .storage
        .get(&key)
        .map_err(crate::store_err)?
        .and_then(|b| serde_json::from_slice::<Discovery>(&b).ok());
    if let Some(d) = cached
        && d.issuer == expected
        && now.saturating_sub(d.fetched_at_ms) < DISCOVERY_TTL_MS
    {
        return Ok(d);
    }
    let url = format!("{expected}/.well-known/openid-configuration");
    let doc = get_json(host.http, &url).map_err(|f| match f {
        OktaFailure::NotFound(_) => SsoError::Okta(OktaFailure::NotFound(format!(
            "there is no OpenID Connect discovery document for the issuer {expected}; check the authorization server in the SSO settings"
        ))),
        other => SsoError::Okta(other),
    })?;
    let found = parse(&doc, &expected, cfg.development_mode, now)?;
    let json = serde_json::to_vec(&found).map_err(|e| SsoError::Other(e.to_string()))?;
    host.storage.set(&key, &json).map_err(crate::store_err)?;
    Ok(found)
}

/// Reads and checks a discovery document: its issuer must be exactly the
/// one it was fetched for (OpenID Connect Discovery §4.3), or an attacker
/// able to serve it could name another issuer's tokens as valid.
fn parse(doc: &Value, expected: &str, development: bool, now: u64) -> Result<Discovery, SsoError> {
    let bad = |what: String| {
        SsoError::Okta(OktaFailure::UnexpectedResponse(format!(
            "the OpenID Connect discovery document of {expected} {what}"
        )))
    };
    let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_owned);
    let issuer = text("issuer").ok_or_else(|| bad("has no `issuer`".into()))?;
    if issuer != expected {
        return Err(bad(format!("names another issuer, {issuer}")));
    }
    let endpoint = |k: &str| {
        let url = text(k).ok_or_else(|| bad(format!("has no `{k}`")))?;
        let allowed = url.starts_with("https://") || (development && url.starts_with("http://"));
        if allowed {
            Ok(url)
        } else {
            Err(bad(format!("has a `{k}` that is not an https URL")))
        }
    };
    let userinfo_endpoint = match text("userinfo_endpoint") {
        Some(_) => Some(endpoint("userinfo_endpoint")?),
        None => None,
    };
    Ok(Discovery {
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        jwks_uri: endpoint("jwks_uri")?,
        userinfo_endpoint,
        iss_parameter_supported: doc
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        issuer,
        fetched_at_ms: now,
    })
}

/// GET a JSON document (discovery, JWKS): no credentials are sent.
pub(crate) fn get_json(http: &mut dyn Http, url: &str) -> Result<Value, OktaFailure> {
    get_json_with(http, url, None).map(|(v, _)| v)
}

/// GET a JSON document with an optional bearer token; returns it with
/// the answer's `Cache-Control` header.
pub(crate) fn get_json_with(
    http: &mut dyn Http,
    url: &str,
    bearer: Option<&str>,
) -> Result<(Value, Option<String>), OktaFailure> {
    let mut headers = vec![
        ("Accept".into(), "application/json".into()),
        (
            "User-Agent".into(),
            format!("infraon-okta-plugin/{}", plugin_core::VERSION),
        ),
    ];
    if let Some(token) = bearer {
        headers.push(("Authorization".into(), format!("Bearer {token}")));
    }
    let req = HttpRequest {
        method: "GET".into(),
        url: url.to_owned(),
        headers,
    };
    let resp = http.send(&req).map_err(OktaFailure::from_transport)?;
    let cache = resp
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("cache-control"))
        .map(|(_, v)| v.clone());
    let value = classify_json(&resp)?;
    Ok((value, cache))
}
