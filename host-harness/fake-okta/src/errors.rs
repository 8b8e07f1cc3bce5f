//! Okta's error bodies (schema `Error`) and the codes the fake uses; the
//! model answers with them, the server sends them as they are.

use http::StatusCode;
use rand::Rng;
use serde_json::{Value, json};

/// An Okta API error: status plus `errorCode`/`errorSummary`.
#[derive(Debug, Clone)]
pub(crate) struct OktaError {
    pub status: StatusCode,
    pub code: &'static str,
    pub summary: String,
}

/// Random base62 string, for ids that need not be reproducible
/// (`errorId`, `X-Okta-Request-Id`).
pub(crate) fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

impl OktaError {
    pub(crate) fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        OktaError {
            status,
            code,
            summary: summary.into(),
        }
    }

    pub(crate) fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
    }

    pub(crate) fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }

    /// `kind` is Okta's internal type name, e.g. `User` or `UserGroup`.
    pub(crate) fn not_found(what: &str, kind: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "E0000007",
            format!("Not found: Resource not found: {what} ({kind})"),
        )
    }

    pub(crate) fn no_endpoint(status: StatusCode) -> Self {
        Self::new(
            status,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
        )
    }

    pub(crate) fn rate_limited() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
    }

    pub(crate) fn invalid_search() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000031",
            "Invalid search criteria.",
        )
    }

    pub(crate) fn invalid_date() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000030",
            "Bad request. Invalid date. Dates must be of the form yyyy-MM-dd'T'HH:mm:ss.SSSZZ, e.g. 2013-01-01T12:00:00.000-07:00.",
        )
    }

    pub(crate) fn validation(what: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "E0000001",
            format!("Api validation failed: {what}"),
        )
    }

    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "E0000009",
            "Internal Server Error",
        )
    }

    pub(crate) fn body(&self) -> Value {
        json!({
            "errorCode": self.code,
            "errorSummary": self.summary,
            "errorLink": self.code,
            "errorId": format!("oae{}", random_token(19)),
            "errorCauses": [],
        })
    }
}
