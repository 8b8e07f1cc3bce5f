//! `POST {org}/oauth2/v1/token`: the client-credentials grant with a
//! `private_key_jwt` assertion, DPoP when the config uses it (answering
//! `use_dpop_nonce` once), and Okta's refusals named for the admin.

use serde_json::Value;

use super::{AccessToken, SCOPES, ServiceApp, ServiceAppFailure, Signer, jwt, service};
use crate::okta_error::OktaFailure;
use crate::ports::{Clock, Http, HttpResponse};

/// RFC 7523's client assertion type.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long before its expiry a token is renewed: a minute, or half its
/// life when Okta issues very short ones.
fn renew_margin_ms(lifetime_ms: u64) -> u64 {
    (lifetime_ms / 2).min(60_000)
}

/// A new access token with every scope the plugin needs. When Okta refuses
/// the scopes without naming one, each is asked for alone to name it.
pub(super) fn request(
    http: &mut dyn Http,
    app: &ServiceApp,
    signer: &dyn Signer,
    clock: &dyn Clock,
) -> Result<AccessToken, OktaFailure> {
    match grant(http, app, signer, clock, &SCOPES) {
        Err(Refusal::Scope) => {
            let mut missing = Vec::new();
            for scope in SCOPES {
                match grant(http, app, signer, clock, &[scope]) {
                    Ok(_) => {}
                    Err(Refusal::Scope) => missing.push(scope.to_owned()),
                    Err(Refusal::Failed(f)) => return Err(f),
                }
            }
            if missing.is_empty() {
                // Each alone is granted, together not: say so plainly.
                missing = SCOPES.iter().map(|s| (*s).to_owned()).collect();
            }
            Err(service(ServiceAppFailure::ScopeNotGranted(missing)))
        }
        Err(Refusal::Failed(f)) => Err(f),
        Ok(t) => Ok(t),
    }
}

enum Refusal {
    /// `invalid_scope`: a scope is not granted; which one Okta may not say.
    Scope,
    Failed(OktaFailure),
}

fn grant(
    http: &mut dyn Http,
    app: &ServiceApp,
    signer: &dyn Signer,
    clock: &dyn Clock,
    scopes: &[&str],
) -> Result<AccessToken, Refusal> {
    let mut nonce_retried = false;
    loop {
        let now_ms = clock.now_unix_ms();
        let sign_err = |e: super::SignError| {
            Refusal::Failed(service(ServiceAppFailure::Signing(e.to_string())))
        };
        // A fresh assertion (fresh jti) per request: one never travels twice.
        let assertion = jwt::client_assertion(
            signer,
            &app.config,
            &app.client_id,
            &app.token_url,
            now_ms / 1000,
        )
        .map_err(sign_err)?;
        let mut headers = vec![
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ),
            ("Accept".to_owned(), "application/json".to_owned()),
        ];
        if app.dpop {
            let nonce = app.state.borrow().nonce.clone();
            let proof = jwt::dpop_proof(
                signer,
                &app.config,
                "POST",
                &app.token_url,
                now_ms / 1000,
                nonce.as_deref(),
                None,
            )
            .map_err(sign_err)?;
            headers.push(("DPoP".to_owned(), proof));
        }
        let body = form(&[
            ("grant_type", "client_credentials"),
            ("scope", &scopes.join(" ")),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &assertion),
        ]);
        let resp = http
            .post_form(&app.token_url, &headers, body.as_bytes())
            .map_err(|e| Refusal::Failed(OktaFailure::from_transport(e)))?;
        if let Some(n) = resp.header("DPoP-Nonce") {
            app.state.borrow_mut().nonce = Some(n.to_owned());
        }
        let (error, description) = oauth_error(&resp);
        if error.as_deref() == Some("use_dpop_nonce") && app.dpop && !nonce_retried {
            nonce_retried = true;
            continue;
        }
        if (200..300).contains(&resp.status) {
            return issued(&resp, now_ms, scopes).map_err(Refusal::Failed);
        }
        let kid = signer
            .public_key(&app.config, super::KeyPurpose::ClientAssertion)
            .map(|k| k.kid)
            .unwrap_or_default();
        return Err(classify(app, &kid, resp.status, error, description));
    }
}

/// The OAuth `error` and `error_description` of an answer, if JSON.
fn oauth_error(resp: &HttpResponse) -> (Option<String>, String) {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    (text("error"), text("error_description").unwrap_or_default())
}

fn classify(
    app: &ServiceApp,
    kid: &str,
    status: u16,
    error: Option<String>,
    description: String,
) -> Refusal {
    let fail = |f: ServiceAppFailure| Refusal::Failed(service(f));
    let lower = description.to_ascii_lowercase();
    match error.as_deref() {
        Some("invalid_scope") => Refusal::Scope,
        Some("invalid_client") if lower.contains("client_id") || lower.contains("client id") => {
            fail(ServiceAppFailure::UnknownClient(app.client_id.clone()))
        }
        Some("invalid_client") if lower.contains("signature") || lower.contains("key") => {
            fail(ServiceAppFailure::KeyNotRegistered(kid.to_owned()))
        }
        Some("invalid_client") => fail(ServiceAppFailure::AssertionRefused(description)),
        Some("invalid_dpop_proof") if !app.dpop => fail(ServiceAppFailure::DpopRequired),
        Some("invalid_dpop_proof" | "use_dpop_nonce") => {
            fail(ServiceAppFailure::DpopRefused(description))
        }
        Some(e) => fail(ServiceAppFailure::TokenEndpoint(format!(
            "{e}: {description}"
        ))),
        None => Refusal::Failed(match status {
            429 => OktaFailure::RateLimited(Default::default()),
            s @ 500..=599 => OktaFailure::ServerError(s),
            s => OktaFailure::UnexpectedResponse(format!(
                "the token endpoint answered HTTP {s} without an OAuth error"
            )),
        }),
    }
}

fn issued(resp: &HttpResponse, now_ms: u64, asked: &[&str]) -> Result<AccessToken, OktaFailure> {
    let v: Value = serde_json::from_slice(&resp.body).map_err(|_| {
        OktaFailure::UnexpectedResponse("the token endpoint's answer is not JSON".into())
    })?;
    let value = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            OktaFailure::UnexpectedResponse(
                "the token endpoint's answer has no access_token".into(),
            )
        })?
        .to_owned();
    let dpop = v
        .get("token_type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.eq_ignore_ascii_case("DPoP"));
    // Okta may grant fewer scopes than asked: name the ones missing.
    if let Some(granted) = v.get("scope").and_then(Value::as_str) {
        let granted: Vec<&str> = granted.split_whitespace().collect();
        let missing: Vec<String> = asked
            .iter()
            .filter(|s| !granted.contains(s))
            .map(|s| (*s).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(service(ServiceAppFailure::ScopeNotGranted(missing)));
        }
    }
    let lifetime_ms = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600) * 1000;
    Ok(AccessToken {
        value,
        dpop,
        renew_at_ms: now_ms + lifetime_ms - renew_margin_ms(lifetime_ms),
    })
}

/// `application/x-www-form-urlencoded`, every byte but the unreserved escaped.
fn form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_escape_spaces_and_reserved_bytes() {
        assert_eq!(
            form(&[("scope", "a.b c"), ("x", "1+2=3&")]),
            "scope=a.b%20c&x=1%2B2%3D3%26"
        );
    }

    #[test]
    fn tokens_renew_a_minute_early_or_at_half_life() {
        assert_eq!(renew_margin_ms(3_600_000), 60_000);
        assert_eq!(renew_margin_ms(10_000), 5_000);
    }
}
