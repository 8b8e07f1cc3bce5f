//! What Okta (or the way to it) can answer, classified into the cases an admin
//! acts on differently, each with one precise sentence.

use std::fmt;

use serde_json::Value;

use crate::ports::{HttpResponse, TransportError};
use crate::time::rfc3339_from_unix_secs;

/// Okta's error body: `errorCode`, `errorSummary`, `errorId` (WIT `okta-error`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaError {
    /// HTTP status of the answer.
    pub status: u16,
    /// e.g. `E0000011`; empty when the answer had no Okta body.
    pub error_code: String,
    /// Okta's summary.
    pub error_summary: String,
    /// Okta's error id, to quote to Okta support.
    pub error_id: Option<String>,
}

impl OktaError {
    /// Parse an Okta error body; `None` when the body is not one.
    pub fn from_body(status: u16, body: &[u8]) -> Option<OktaError> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let code = v.get("errorCode")?.as_str()?;
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(OktaError {
            status,
            error_code: code.to_owned(),
            error_summary: text("errorSummary").unwrap_or_default(),
            error_id: text("errorId"),
        })
    }

    /// The Okta body of a response, or a stand-in naming only the status when
    /// something in front of Okta answered.
    fn from_response(resp: &HttpResponse) -> OktaError {
        OktaError::from_body(resp.status, &resp.body).unwrap_or(OktaError {
            status: resp.status,
            error_code: String::new(),
            error_summary: String::new(),
            error_id: None,
        })
    }

    /// ` (E0000011)`-style suffix, or nothing without a code.
    fn code_suffix(&self) -> String {
        if self.error_code.is_empty() {
            format!(" (HTTP {})", self.status)
        } else {
            format!(" ({})", self.error_code)
        }
    }

    fn id_suffix(&self) -> String {
        match &self.error_id {
            Some(id) => format!(" Okta error id: {id}."),
            None => String::new(),
        }
    }
}

/// What Okta's rate-limit headers said (WIT `rate-limit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimit {
    /// `X-Rate-Limit-Limit`.
    pub limit: Option<u32>,
    /// `X-Rate-Limit-Remaining`.
    pub remaining: Option<u32>,
    /// `X-Rate-Limit-Reset`, Unix seconds.
    pub reset_at: Option<u64>,
}

impl RateLimit {
    /// Read the `X-Rate-Limit-*` headers; unparsable values count as absent.
    pub fn from_headers(resp: &HttpResponse) -> RateLimit {
        let num = |name: &str| resp.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        RateLimit {
            limit: num("X-Rate-Limit-Limit").and_then(|n| u32::try_from(n).ok()),
            remaining: num("X-Rate-Limit-Remaining").and_then(|n| u32::try_from(n).ok()),
            reset_at: num("X-Rate-Limit-Reset"),
        }
    }
}

/// Why the plugin could not talk to Okta, or what Okta refused
/// (WIT `okta-failure`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OktaFailure {
    /// The Okta host name does not resolve.
    DnsFailure(String),
    /// Nothing accepts connections at the Okta origin.
    ConnectionFailed(String),
    /// The TLS handshake failed.
    TlsFailure(String),
    /// No answer within the deadline.
    Timeout(String),
    /// The host refused the destination.
    EgressDenied(String),
    /// 401: the API token is invalid, expired or revoked.
    InvalidToken(OktaError),
    /// 403: the token's admin lacks permission.
    PermissionDenied(OktaError),
    /// 404: the URL does not lead to an Okta org API.
    NotFound(String),
    /// 429: rate limit exceeded.
    RateLimited(RateLimit),
    /// 5xx.
    ServerError(u16),
    /// An answer that is not Okta's JSON.
    UnexpectedResponse(String),
    /// Any other Okta error body.
    Okta(OktaError),
    /// A service app could not get or use an access token (see
    /// [`crate::auth::ServiceAppFailure`]).
    ServiceApp(crate::auth::ServiceAppFailure),
    /// Anything else.
    Other(String),
}

impl OktaFailure {
    /// Map a transport error from the `Http` port.
    pub fn from_transport(err: TransportError) -> OktaFailure {
        match err {
            TransportError::Dns(d) => OktaFailure::DnsFailure(d),
            TransportError::Connection(d) => OktaFailure::ConnectionFailed(d),
            TransportError::Tls(d) => OktaFailure::TlsFailure(d),
            TransportError::Timeout(d) => OktaFailure::Timeout(d),
            TransportError::Denied(d) => OktaFailure::EgressDenied(d),
            TransportError::Other(d) => OktaFailure::Other(d),
        }
    }

    /// A short stable name of the case, for log fields.
    pub fn kind(&self) -> &'static str {
        match self {
            OktaFailure::DnsFailure(_) => "dns-failure",
            OktaFailure::ConnectionFailed(_) => "connection-failed",
            OktaFailure::TlsFailure(_) => "tls-failure",
            OktaFailure::Timeout(_) => "timeout",
            OktaFailure::EgressDenied(_) => "egress-denied",
            OktaFailure::InvalidToken(_) => "invalid-token",
            OktaFailure::PermissionDenied(_) => "permission-denied",
            OktaFailure::NotFound(_) => "not-found",
            OktaFailure::RateLimited(_) => "rate-limited",
            OktaFailure::ServerError(_) => "server-error",
            OktaFailure::UnexpectedResponse(_) => "unexpected-response",
            OktaFailure::Okta(_) => "okta",
            OktaFailure::ServiceApp(f) => f.kind(),
            OktaFailure::Other(_) => "other",
        }
    }

    /// Replace every occurrence of `secret` in the texts this failure carries,
    /// in case something (a proxy, a transport message) echoed it back.
    pub fn redact(self, secret: &str) -> OktaFailure {
        if secret.is_empty() {
            return self;
        }
        let r = |s: String| s.replace(secret, "[redacted]");
        let re = |e: OktaError| OktaError {
            error_summary: r(e.error_summary),
            error_id: e.error_id.map(r),
            error_code: r(e.error_code),
            ..e
        };
        match self {
            OktaFailure::DnsFailure(d) => OktaFailure::DnsFailure(r(d)),
            OktaFailure::ConnectionFailed(d) => OktaFailure::ConnectionFailed(r(d)),
            OktaFailure::TlsFailure(d) => OktaFailure::TlsFailure(r(d)),
            OktaFailure::Timeout(d) => OktaFailure::Timeout(r(d)),
            OktaFailure::EgressDenied(d) => OktaFailure::EgressDenied(r(d)),
            OktaFailure::InvalidToken(e) => OktaFailure::InvalidToken(re(e)),
            OktaFailure::PermissionDenied(e) => OktaFailure::PermissionDenied(re(e)),
            OktaFailure::NotFound(d) => OktaFailure::NotFound(r(d)),
            OktaFailure::UnexpectedResponse(d) => OktaFailure::UnexpectedResponse(r(d)),
            OktaFailure::Okta(e) => OktaFailure::Okta(re(e)),
            OktaFailure::ServiceApp(f) => OktaFailure::ServiceApp(f.redact(secret)),
            OktaFailure::Other(d) => OktaFailure::Other(r(d)),
            f @ (OktaFailure::RateLimited(_) | OktaFailure::ServerError(_)) => f,
        }
    }
}

/// A 2xx JSON body as a caller wants it parsed: a whole [`Value`], or only
/// what the caller reads (see [`crate::sync::records`]).
pub trait JsonBody: Sized {
    /// Parse a body; `Ok(None)` for valid JSON that is neither an object
    /// nor a list, which no Okta answer is.
    fn parse(body: &[u8]) -> serde_json::Result<Option<Self>>;
}

impl JsonBody for Value {
    fn parse(body: &[u8]) -> serde_json::Result<Option<Self>> {
        Ok(match serde_json::from_slice::<Value>(body)? {
            v @ (Value::Array(_) | Value::Object(_)) => Some(v),
            _ => None,
        })
    }
}

/// Check a response's status and, for 2xx, that it is JSON; the body is
/// returned parsed so callers do not parse it twice.
pub fn classify_json(resp: &HttpResponse) -> Result<Value, OktaFailure> {
    classify_json_as(resp)
}

/// [`classify_json`], the body parsed as `B`.
pub fn classify_json_as<B: JsonBody>(resp: &HttpResponse) -> Result<B, OktaFailure> {
    match resp.status {
        200..=299 => parse_json_body(resp),
        401 => Err(OktaFailure::InvalidToken(OktaError::from_response(resp))),
        403 => Err(OktaFailure::PermissionDenied(OktaError::from_response(
            resp,
        ))),
        404 => Err(OktaFailure::NotFound(
            match OktaError::from_body(404, &resp.body) {
                Some(e) => format!("Okta answered {}: {}", e.error_code, e.error_summary),
                None => format!("the answer was {}, not Okta's API", describe_body(resp)),
            },
        )),
        429 => Err(OktaFailure::RateLimited(RateLimit::from_headers(resp))),
        s @ 500..=599 => Err(OktaFailure::ServerError(s)),
        s @ 300..=399 => Err(OktaFailure::UnexpectedResponse(format!(
            "HTTP {s} redirect to {}",
            resp.header("Location").unwrap_or("nowhere")
        ))),
        s => match OktaError::from_body(s, &resp.body) {
            Some(e) => Err(OktaFailure::Okta(e)),
            None => Err(OktaFailure::UnexpectedResponse(format!(
                "HTTP {s} with {}",
                describe_body(resp)
            ))),
        },
    }
}

/// Check a response's status and, for 2xx, that it is JSON.
pub fn classify(resp: &HttpResponse) -> Result<(), OktaFailure> {
    classify_json(resp).map(|_| ())
}

fn parse_json_body<B: JsonBody>(resp: &HttpResponse) -> Result<B, OktaFailure> {
    let ctype = resp.header("Content-Type").unwrap_or("");
    let mime = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime != "application/json" && !mime.ends_with("+json") {
        return Err(OktaFailure::UnexpectedResponse(format!(
            "HTTP {} with {}",
            resp.status,
            describe_body(resp)
        )));
    }
    match B::parse(&resp.body) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(OktaFailure::UnexpectedResponse(
            "the JSON body is neither an object nor a list".into(),
        )),
        Err(e) if e.is_eof() => Err(OktaFailure::UnexpectedResponse(format!(
            "the JSON body is truncated after {} bytes",
            resp.body.len()
        ))),
        Err(_) => Err(OktaFailure::UnexpectedResponse(
            "the body is not valid JSON".into(),
        )),
    }
}

/// A few words about a body that is not what was expected, never its content
/// (it might echo anything).
fn describe_body(resp: &HttpResponse) -> String {
    let ctype = resp
        .header("Content-Type")
        .map(|c| c.split(';').next().unwrap_or("").trim());
    let looks_html = resp.body.iter().take(512).copied().collect::<Vec<u8>>();
    let looks_html = String::from_utf8_lossy(&looks_html).to_ascii_lowercase();
    if ctype.is_some_and(|c| c.eq_ignore_ascii_case("text/html"))
        || looks_html.trim_start().starts_with("<!doctype html")
        || looks_html.trim_start().starts_with("<html")
    {
        return "an HTML page".into();
    }
    match ctype {
        Some(c) if !c.is_empty() => format!("a `{c}` body of {} bytes", resp.body.len()),
        _ => format!("a body of {} bytes without a content type", resp.body.len()),
    }
}

const CHECK_DOMAIN: &str =
    "Check the Okta Domain URL: it should be your org's domain, e.g. your-org.okta.com";

impl fmt::Display for OktaFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OktaFailure::DnsFailure(d) => write!(
                f,
                "The Okta domain name does not resolve ({d}). Check the Okta Domain URL for typos."
            ),
            OktaFailure::ConnectionFailed(d) => write!(
                f,
                "Could not connect to Okta ({d}). Check the Okta Domain URL and that outbound HTTPS to it is allowed."
            ),
            OktaFailure::TlsFailure(d) => write!(
                f,
                "The secure connection to Okta failed ({d}): the certificate is not trusted or the server does not speak HTTPS."
            ),
            OktaFailure::Timeout(d) => write!(
                f,
                "Okta did not answer in time ({d}). Try again; if it persists, check the network path to Okta."
            ),
            OktaFailure::EgressDenied(d) => write!(
                f,
                "The host refused the request to Okta ({d}): the Okta origin is not an allowed destination."
            ),
            OktaFailure::InvalidToken(e) => write!(
                f,
                "Okta rejected the API token{}: it is invalid, expired or revoked. Create a new token in Okta Admin > Security > API > Tokens.{}",
                e.code_suffix(),
                e.id_suffix()
            ),
            OktaFailure::PermissionDenied(e) => write!(
                f,
                "Okta refused access{}: the administrator who created the API token may not read users and groups. Use a token created by a Read-Only Administrator or higher.{}",
                e.code_suffix(),
                e.id_suffix()
            ),
            OktaFailure::NotFound(d) => write!(
                f,
                "The URL does not lead to an Okta org API (HTTP 404: {d}). {CHECK_DOMAIN}."
            ),
            OktaFailure::RateLimited(rl) => match rl.reset_at {
                Some(t) => write!(
                    f,
                    "Okta's API rate limit reached; it resets at {}.",
                    rfc3339_from_unix_secs(t)
                ),
                None => write!(f, "Okta's API rate limit reached; try again in a minute."),
            },
            OktaFailure::ServerError(s) => write!(
                f,
                "Okta (or a proxy in front of it) failed with HTTP {s}. Try again later; if it persists, check Okta's status page."
            ),
            OktaFailure::UnexpectedResponse(d) => write!(
                f,
                "The answer did not come from Okta's API ({d}). {CHECK_DOMAIN}."
            ),
            OktaFailure::Okta(e) => write!(
                f,
                "Okta refused the request with HTTP {}{}: {}.{}",
                e.status,
                e.code_suffix(),
                e.error_summary.trim_end_matches('.'),
                e.id_suffix()
            ),
            OktaFailure::ServiceApp(s) => s.fmt(f),
            OktaFailure::Other(d) => write!(f, "The request to Okta failed: {d}"),
        }
    }
}
