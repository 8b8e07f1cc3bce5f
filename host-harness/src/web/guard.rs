//! What every request meets before a screen sees it:
//!
//! 1. **Host**: only the console's own `Host` is served (421 otherwise), so
//!    a DNS-rebinding page cannot read the people pages or the CSV export;
//! 2. **Session**: every browser has one (a cookie `HttpOnly`,
//!    `SameSite=Strict`); the admin screens need one signed in as the local
//!    admin or as an Infraon Administrator;
//! 3. **Cross-site refusal** on every state-changing request: `Sec-Fetch-Site`
//!    must say `same-origin` and `Origin` (or, lacking both, `Referer`) must
//!    be the console's own; and the form must carry its session's token
//!    (a synchronizer token kept with the session, compared in constant
//!    time). Any failure is a 403 and nothing changes.
//!
//! The token reaches every form without a screen doing anything: the guard
//! runs the handler inside [`PAGE`], and the page frame writes a hidden
//! `csrf` field into each `method="post"` form (see `layout`).
//!
//! A crate was considered: `axum_csrf` is a double-submit scheme with its
//! own signed cookie and a token API each handler must call, and checks
//! neither `Origin` nor `Host`; the sessions here already live server-side,
//! so the synchronizer token is a field of them.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use super::Console;
use super::layout::{notice, page, urlencode};
use super::session::{self, Principal, Session};

/// The largest form body read (the mapping editor's form is the biggest).
const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// The name of the form field that carries the session's token.
pub const CSRF_FIELD: &str = "csrf";

/// What the page frame needs to know about the request it renders for.
#[derive(Debug, Clone, Default)]
pub struct PageContext {
    /// The session's form token, written into every POST form.
    pub csrf: String,
    /// Who is signed in, for the header; `None` when nobody is.
    pub who: Option<String>,
}

tokio::task_local! {
    /// The current request's [`PageContext`], set by [`guard`].
    pub static PAGE: PageContext;
}

/// The session of the current request, as a handler extension.
#[derive(Debug, Clone)]
pub struct Current {
    /// The session id (the cookie's value).
    pub id: String,
    /// The session.
    pub session: Session,
}

/// Paths open without an admin session: signing in (locally or with
/// Okta) and out, and the page naming who is signed in.
fn public(path: &str) -> bool {
    matches!(path, "/signin" | "/logout" | "/me" | "/sso" | "/login")
        || path.starts_with("/callback/")
}

fn safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The request's `Host` (HTTP/1.1 header, or HTTP/2 authority), lowercased.
fn request_host(req: &Request) -> Option<String> {
    req.headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .map(|h| h.to_ascii_lowercase())
}

/// Why a state-changing request looks cross-site, if it does.
fn cross_site(headers: &HeaderMap, own_origin: &str) -> Option<&'static str> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
    {
        return Some("the browser says it came from another site (Sec-Fetch-Site)");
    }
    match text("origin") {
        Some(origin) if origin.eq_ignore_ascii_case(own_origin) => None,
        Some(_) => Some("it came from another origin (Origin)"),
        None => match text("referer") {
            Some(r)
                if r.eq_ignore_ascii_case(own_origin)
                    || r.starts_with(&format!("{own_origin}/")) =>
            {
                None
            }
            Some(_) => Some("it came from another site (Referer)"),
            // No browser header at all: a script, not a page. The form
            // token still has to match.
            None => None,
        },
    }
}

fn forbidden(title: &str, why: &str) -> Response {
    page(StatusCode::FORBIDDEN, title, &notice("bad", "error", why))
}

/// Security headers every answer carries: no framing (clickjacking), no
/// MIME sniffing, and no `Referer` to other sites (the identity provider).
/// `same-origin`, not `no-referrer`: under `no-referrer` browsers send
/// `Origin: null` on the console's own form posts, which the guard refuses.
fn harden(headers: &mut HeaderMap) {
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// The form token posted in an `application/x-www-form-urlencoded` body.
fn posted_token(body: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned())
}

/// The middleware: see the module docs.
pub async fn guard(State(console): State<Console>, req: Request, next: Next) -> Response {
    let mut resp = check(&console, req, next).await;
    harden(resp.headers_mut());
    resp
}

async fn check(console: &Console, req: Request, next: Next) -> Response {
    let host = request_host(&req);
    if !host
        .as_deref()
        .is_some_and(|h| console.hosts.iter().any(|a| a == h))
    {
        let mut resp = (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "This console answers only at {}; the Host of this request is not its own.\n",
                console.base
            ),
        )
            .into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return resp;
    }
    let host = host.unwrap_or_default();
    let own_origin = format!("{}://{host}", console.scheme());

    let existing = {
        let lookup = |name: &str, signed_in: bool| {
            session::read_cookie(req.headers(), name)
                .and_then(|id| console.sessions.get(&id).map(|s| (id, s)))
                .filter(|(_, s)| (s.principal != Principal::Anonymous) == signed_in)
        };
        lookup(session::COOKIE, true).or_else(|| lookup(session::ANONYMOUS_COOKIE, false))
    };
    let (id, sess, fresh) = match existing {
        Some((id, s)) => (id, s, false),
        None => {
            let (id, s) = console.sessions.create(Principal::Anonymous);
            (id, s, true)
        }
    };
    let set_cookie =
        fresh.then(|| session::cookie(session::ANONYMOUS_COOKIE, &id, console.secure()));

    let path = req.uri().path().to_string();
    let mut req = req;
    if !safe(req.method()) {
        if let Some(why) = cross_site(req.headers(), &own_origin) {
            return forbidden(
                "Refused",
                &format!("This request was refused because {why}. Use the console's own pages."),
            );
        }
        let (parts, body) = req.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return forbidden("Refused", "The form is too large.");
        };
        let matches = posted_token(&bytes)
            .is_some_and(|t| !fresh && bool::from(t.as_bytes().ct_eq(sess.csrf.as_bytes())));
        if !matches {
            return forbidden(
                "Refused",
                "This form's security token is missing or out of date (the page may be old, or from another site). Reload the page and try again.",
            );
        }
        req = Request::from_parts(parts, Body::from(bytes));
    }

    let ctx = PageContext {
        csrf: sess.csrf.clone(),
        who: sess.principal.label(),
    };
    if !public(&path) && !sess.principal.is_admin() {
        // Rendered as this session's page: its header's Sign out works.
        return PAGE.sync_scope(ctx, || match &sess.principal {
            Principal::Anonymous if safe(req.method()) => {
                let target = req
                    .uri()
                    .path_and_query()
                    .map_or("/".to_string(), |p| p.to_string());
                with_cookie(
                    Redirect::to(&format!("/signin?next={}", urlencode(&target))).into_response(),
                    set_cookie,
                )
            }
            Principal::Anonymous => forbidden("Sign in first", "Sign in to the console first."),
            other => forbidden(
                "Not an administrator",
                &format!(
                    "You are signed in as {}, who is not an Infraon Administrator. Sign out, then sign in as an administrator.",
                    other.label().unwrap_or_default()
                ),
            ),
        });
    }

    req.extensions_mut().insert(Current {
        id: id.clone(),
        session: sess,
    });
    let resp = PAGE.scope(ctx, next.run(req)).await;
    with_cookie(resp, set_cookie)
}

fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_signals_are_each_enough_to_refuse() {
        let own = "http://127.0.0.1:8080";
        assert!(cross_site(&headers(&[]), own).is_none());
        assert!(cross_site(&headers(&[("origin", "http://127.0.0.1:8080")]), own).is_none());
        assert!(
            cross_site(
                &headers(&[("origin", own), ("sec-fetch-site", "same-origin")]),
                own
            )
            .is_none()
        );
        assert!(cross_site(&headers(&[("origin", "http://evil.example")]), own).is_some());
        assert!(cross_site(&headers(&[("origin", "null")]), own).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")]), own).is_some());
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")]), own).is_some());
        assert!(
            cross_site(
                &headers(&[("referer", "http://127.0.0.1:8080.evil/x")]),
                own
            )
            .is_some()
        );
        assert!(cross_site(&headers(&[("referer", "http://127.0.0.1:8080/x")]), own).is_none());
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(posted_token(b"a=1&csrf=abc&b=2").as_deref(), Some("abc"));
        assert_eq!(posted_token(b"a=1"), None);
    }
}
