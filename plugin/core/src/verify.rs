//! Verification: can this token read users and groups at this origin,
//! and is it really Okta answering?

use serde_json::Value;

use crate::auth::Auth;
use crate::okta_client::{OktaClient, OktaResponse};
use crate::okta_error::{OktaFailure, RateLimit};
use crate::origin::OktaOrigin;
use crate::ports::{Clock, Http};

/// What a successful verification saw (WIT `verify-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// The normalised origin that answered.
    pub okta_origin: String,
    /// Requests made.
    pub requests: u32,
    /// Rate-limit headers of the last answer.
    pub rate_limit: RateLimit,
    /// `X-Okta-Request-Id` of the last answer.
    pub okta_request_id: Option<String>,
    /// Wall time spent, in milliseconds.
    pub elapsed_ms: u64,
}

/// `GET /api/v1/users?limit=1` then `GET /api/v1/groups?limit=1`: exactly
/// the reads sync needs, then, for a service app, the user schema (the
/// third scope it holds). Each must be Okta-shaped JSON.
pub fn verify(
    http: &mut dyn Http,
    clock: &dyn Clock,
    origin: &OktaOrigin,
    auth: Auth<'_>,
) -> Result<VerifyReport, OktaFailure> {
    let started = clock.now_unix_ms();
    let mut client = OktaClient::new(http, origin, auth);
    let users = client.get("/api/v1/users?limit=1")?;
    check_list(&users, "users", &["id", "status", "profile"])?;
    let groups = client.get("/api/v1/groups?limit=1")?;
    check_list(&groups, "groups", &["id", "profile"])?;
    if matches!(auth, Auth::ServiceApp { .. }) {
        // Only a service app's scopes can lack this one (an API token
        // reads whatever its admin may); proving it now beats a failed sync.
        client.get::<serde_json::Value>("/api/v1/meta/schemas/user/default")?;
    }
    Ok(VerifyReport {
        okta_origin: origin.to_string(),
        requests: client.requests(),
        rate_limit: client.last_rate_limit(),
        okta_request_id: client.last_request_id().map(str::to_owned),
        elapsed_ms: clock.now_unix_ms().saturating_sub(started),
    })
}

/// A 200 whose body is a list of objects each having `keys`; anything else
/// means something other than an Okta org API answered.
fn check_list(resp: &OktaResponse, what: &str, keys: &[&str]) -> Result<(), OktaFailure> {
    let unexpected =
        |why: String| OktaFailure::UnexpectedResponse(format!("the {what} listing {why}"));
    if resp.status != 200 {
        return Err(unexpected(format!(
            "answered HTTP {} instead of 200",
            resp.status
        )));
    }
    let Value::Array(items) = &resp.body_json else {
        return Err(unexpected("is not a JSON list".into()));
    };
    for item in items {
        let Value::Object(obj) = item else {
            return Err(unexpected("contains something other than objects".into()));
        };
        if let Some(missing) = keys.iter().find(|k| !obj.contains_key(**k)) {
            return Err(unexpected(format!("has an entry without `{missing}`")));
        }
        if !obj.get("id").is_some_and(Value::is_string) || !obj["profile"].is_object() {
            return Err(unexpected(
                "has an entry whose `id` or `profile` is malformed".into(),
            ));
        }
    }
    Ok(())
}
