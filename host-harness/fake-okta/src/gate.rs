//! What every request passes through: counting, faults, auth (API paths
//! only), the rate limit, and Okta's response headers.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::errors::{OktaError, random_token};
use crate::faults::FaultKind;
use crate::rate_limit::{RateHeaders, epoch_secs};
use crate::{LoggedRequest, Shared, oidc};

const WRONG_URL_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\
<body><h1>Not Found</h1><p>The requested URL was not found on this server.</p></body></html>\n";

const SIGN_IN_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>Sign In</title></head>\
<body><form method=\"post\" action=\"/login\"><input name=\"username\"></form></body></html>\n";

fn gateway_page(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let page = format!(
        "<html><head><title>{} {reason}</title></head><body><center><h1>{} {reason}</h1></center></body></html>\n",
        status.as_u16(),
        status.as_u16()
    );
    (status, Html(page)).into_response()
}

fn okta_headers(resp: &mut Response, rate: RateHeaders) {
    let h = resp.headers_mut();
    let mut put = |name: &'static str, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(HeaderName::from_static(name), v);
        }
    };
    put("x-rate-limit-limit", rate.limit.to_string());
    put("x-rate-limit-remaining", rate.remaining.to_string());
    put("x-rate-limit-reset", rate.reset.to_string());
    put("x-okta-request-id", random_token(27));
}

/// Cuts a JSON body in half, keeping a valid HTTP message, so the client
/// sees a complete response whose body does not parse.
async fn truncate(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let cut = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(cut))
}

pub(crate) async fn gate(State(st): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    st.requests.fetch_add(1, Ordering::Relaxed);
    {
        let mut log = st.auth_log();
        // Bounded, for long `serve` sessions: the newest half is kept.
        if log.len() >= crate::api_auth::AUTH_LOG_CAP {
            log.drain(..crate::api_auth::AUTH_LOG_CAP / 2);
        }
        log.push(crate::api_auth::AuthEntry::of(
            req.method().as_str(),
            req.uri().path(),
            req.headers(),
        ));
    }
    let method = req.method().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    // A real org's time to answer; a request holds its place among those
    // in flight meanwhile, as it would while Okta works on it.
    let delay = st.latency();
    let resp = match st.concurrency.enter() {
        Ok(_slot) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            answer(&st, req, next).await
        }
        Err(limit) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            too_many_at_once(limit)
        }
    };
    st.log_request(LoggedRequest {
        method,
        path_and_query,
        status: resp.status().as_u16(),
    });
    resp
}

/// Okta's answer to a request beyond the org's concurrent limit: 429
/// `E0000047`, the headers reporting the concurrent values (the limit, none
/// remaining, and a reset that is only Okta's estimate: a second from now).
fn too_many_at_once(limit: u32) -> Response {
    let mut resp = OktaError::rate_limited().into_response();
    let rate = RateHeaders {
        limit,
        remaining: 0,
        reset: epoch_secs() + 1,
    };
    okta_headers(&mut resp, rate);
    resp
}

async fn answer(st: &Arc<Shared>, mut req: Request, next: Next) -> Response {
    let decision = st.faults.decide(req.uri().path());
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    // Answers from something other than Okta: no Okta headers at all.
    match decision.kind {
        Some(FaultKind::WrongUrl) => {
            return (StatusCode::NOT_FOUND, Html(WRONG_URL_PAGE)).into_response();
        }
        Some(FaultKind::NonJson) => return (StatusCode::OK, Html(SIGN_IN_PAGE)).into_response(),
        Some(FaultKind::ProxyRateLimited) => return gateway_page(StatusCode::TOO_MANY_REQUESTS),
        Some(FaultKind::Status(s)) if s != 500 => {
            let status = StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY);
            return gateway_page(status);
        }
        _ => {}
    }
    let now = epoch_secs();
    let family = crate::rate_limit::family(req.uri().path());
    let peek = || st.rate().peek(family, now);
    // OIDC endpoints authenticate clients their own way, never by API token.
    let needs_token = !oidc::is_oidc_path(req.uri().path());
    let refused = if !needs_token {
        None
    } else if matches!(decision.kind, Some(FaultKind::RevokeToken)) {
        Some(OktaError::invalid_token().into_response())
    } else {
        let base = crate::routes::base_url(req.headers(), &st.url);
        let method = req.method().as_str().to_owned();
        crate::api_auth::check(st, &method, req.uri().path(), &base, req.headers())
    };
    let (mut resp, rate) = if let Some(refusal) = refused {
        (refusal, peek())
    } else {
        match &decision.kind {
            Some(FaultKind::Forbidden) => (OktaError::forbidden().into_response(), peek()),
            Some(FaultKind::Status(_)) => (OktaError::internal().into_response(), peek()),
            Some(FaultKind::RateLimited { reset_epoch_secs }) => {
                let rate = RateHeaders {
                    remaining: 0,
                    reset: *reset_epoch_secs,
                    ..peek()
                };
                (OktaError::rate_limited().into_response(), rate)
            }
            _ => {
                let acquired = st.rate().acquire(family, now);
                crate::hostile::before(decision.page_size.as_ref(), &mut req);
                match acquired {
                    Ok(rate) => {
                        let resp = next.run(req).await;
                        let resp = crate::hostile::after(decision.page_size.as_ref(), resp).await;
                        (
                            crate::hostile::after(decision.kind.as_ref(), resp).await,
                            rate,
                        )
                    }
                    Err(rate) => (OktaError::rate_limited().into_response(), rate),
                }
            }
        }
    };
    okta_headers(&mut resp, rate);
    if matches!(decision.kind, Some(FaultKind::TruncatedJson)) {
        resp = truncate(resp).await;
    }
    resp
}
