//! The org model: Okta's read endpoints as a pure, synchronous function of
//! an [`Org`] and a request. Paging (page sizes, opaque `after` cursors,
//! `Link` headers), `filter` / `search` / `q`, and Okta's error bodies live
//! here once; the loopback server ([`crate::FakeOkta`]) sends these answers
//! over HTTP, and an in-memory client (the plugin's own tests) calls
//! [`answer`] directly with no server, no runtime and its own clock.
//!
//! What is about a connection stays with the caller: authentication,
//! injected faults, latency, and when to spend the org's per-minute budgets
//! ([`RateLimiter`], pure too, time passed in: the server spends one per
//! request by endpoint [`family`]; the caller adds its `X-Rate-Limit-*`
//! headers and answers [`Answer::rate_limited`] when one is gone).
//!
//! Endpoints (`GET`; any other method is a 405 `E0000022`):
//! `/api/v1/users` (`filter`, `search`, `q`, `after`, `limit`; 200 a page),
//! `/api/v1/users/{idOrLogin}`, `/api/v1/users/{idOrLogin}/groups` (all in
//! one answer), `/api/v1/groups` (`filter`, `search`, `q`, `expand=stats`;
//! 10,000 a page), `/api/v1/groups/{id}`, `/api/v1/groups/{id}/users`
//! (1,000 a page) and `/api/v1/meta/schemas/user/{default|id}`. Anything
//! else is a 404 `E0000022`.

use std::collections::HashMap;

use serde_json::Value;

use crate::errors::OktaError;
use crate::org::{Id, Org};
use crate::{groups, paging, render, users};

pub use crate::org::{GroupType, GroupView, Org as OrgModel, UserStatus};
pub use crate::rate_limit::{RateHeaders, RateLimiter, family};

/// One answer of the org: status, headers (`Content-Type`, and `Link` on
/// lists, one header per relation as Okta sends them) and the JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The JSON body: a resource, a list, or Okta's `Error`.
    pub body: Body,
}

/// An answer's JSON body: a value, or a list page already serialized
/// (written from the org item by item, with no value built per user).
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// A value, serialized when sent.
    Value(Value),
    /// The bytes as sent.
    Serialized(Vec<u8>),
}

impl Answer {
    pub(crate) fn json(body: Value) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Body::Value(body),
        }
    }

    /// A list with its `self` link, and `next` when more matches exist.
    pub(crate) fn page(req: &Request, next: Option<&Id>, body: Vec<Value>) -> Answer {
        Answer::json(Value::Array(body)).with_links(req, next)
    }

    /// [`Answer::page`] of items serialized straight into the body.
    pub(crate) fn page_of<T: serde::Serialize>(
        req: &Request,
        next: Option<&Id>,
        items: &[T],
    ) -> Answer {
        let bytes = serde_json::to_vec(items).unwrap_or_default();
        Answer {
            body: Body::Serialized(bytes),
            ..Answer::json(Value::Null)
        }
        .with_links(req, next)
    }

    fn with_links(mut self, req: &Request, next: Option<&Id>) -> Answer {
        for link in paging::links(&req.base, &req.path, Some(&req.query), next) {
            self.headers.push(("Link".into(), link));
        }
        self
    }

    pub(crate) fn error(e: &OktaError) -> Answer {
        Answer {
            status: e.status.as_u16(),
            ..Answer::json(e.body())
        }
    }

    /// Okta's `E0000047` body with status 429, for a caller's rate limit.
    pub fn rate_limited() -> Answer {
        Answer::error(&OktaError::rate_limited())
    }

    /// Okta's `E0000009` ("Internal Server Error") body with `status`, for a
    /// caller's injected server fault.
    pub fn server_error(status: u16) -> Answer {
        let mut e = OktaError::internal();
        e.status = http::StatusCode::from_u16(status).unwrap_or(e.status);
        Answer::error(&e)
    }

    /// The body as sent.
    pub fn body_bytes(&self) -> Vec<u8> {
        match &self.body {
            Body::Value(v) => serde_json::to_vec(v).unwrap_or_default(),
            Body::Serialized(b) => b.clone(),
        }
    }

    /// The body as a JSON value (a serialized one parsed back).
    pub fn json_body(&self) -> Value {
        match &self.body {
            Body::Value(v) => v.clone(),
            Body::Serialized(b) => serde_json::from_slice(b).unwrap_or_default(),
        }
    }

    /// The body as a JSON value to change (a serialized one parsed first).
    pub fn json_body_mut(&mut self) -> &mut Value {
        if let Body::Serialized(b) = &self.body {
            self.body = Body::Value(serde_json::from_slice(b).unwrap_or_default());
        }
        match &mut self.body {
            Body::Value(v) => v,
            Body::Serialized(_) => unreachable!("parsed just above"),
        }
    }
}

/// A request as the endpoints read it.
pub(crate) struct Request {
    /// `scheme://host[:port]` the client addressed, for `Link` URLs.
    pub base: String,
    pub path: String,
    /// The raw query, kept as sent for the `self` link.
    pub query: String,
    /// The decoded query parameters (the last of a repeated one wins).
    pub params: HashMap<String, String>,
}

/// The org's answer to `method path_and_query`, as Okta at `base` (the
/// origin the client addressed, e.g. `https://acme.okta.com`) gives it.
pub fn answer(org: &Org, base: &str, method: &str, path_and_query: &str) -> Answer {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let req = Request {
        base: base.trim_end_matches('/').to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        params: url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
    };
    route(org, &req, method).unwrap_or_else(|e| Answer::error(&e))
}

/// An endpoint: the org, the request and the path's id (or schema name).
type Endpoint = fn(&Org, &Request, &str) -> Result<Answer, OktaError>;

fn route(org: &Org, req: &Request, method: &str) -> Result<Answer, OktaError> {
    let segs: Vec<String> = req
        .path
        .strip_prefix('/')
        .unwrap_or(&req.path)
        .split('/')
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    if segs.iter().skip(3).any(|s| s.is_empty()) {
        return Err(OktaError::no_endpoint(http::StatusCode::NOT_FOUND));
    }
    let found: Option<Endpoint> = match segs.as_slice() {
        ["api", "v1", "users"] => Some(|o, r, _| users::list(o, r)),
        ["api", "v1", "users", _] => Some(users::get),
        ["api", "v1", "users", _, "groups"] => Some(users::groups),
        ["api", "v1", "groups"] => Some(|o, r, _| groups::list(o, r)),
        ["api", "v1", "groups", _] => Some(groups::get),
        ["api", "v1", "groups", _, "users"] => Some(groups::members),
        ["api", "v1", "meta", "schemas", "user", _] => Some(user_schema),
        _ => None,
    };
    let handler = found.ok_or(OktaError::no_endpoint(http::StatusCode::NOT_FOUND))?;
    if !matches!(method, "GET" | "HEAD") {
        return Err(OktaError::no_endpoint(http::StatusCode::METHOD_NOT_ALLOWED));
    }
    let id = match segs.as_slice() {
        ["api", "v1", "meta", "schemas", "user", schema] => *schema,
        [_, _, _, id, ..] => *id,
        _ => "",
    };
    handler(org, req, id)
}

fn user_schema(org: &Org, req: &Request, schema: &str) -> Result<Answer, OktaError> {
    if schema != "default" && schema != org.schema_id {
        return Err(OktaError::not_found(schema, "UserSchema"));
    }
    Ok(Answer::json(render::user_schema(&req.base, org)))
}

/// `%XX` decoding of a path segment (`+` stays a plus, as in a path).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn org() -> Org {
        let mut org = Org::empty(1_795_885_200_000);
        org.insert_group("00gEVERYONE", "Everyone", GroupType::BuiltIn)
            .unwrap();
        for i in 0..3 {
            let p = json!({"login": format!("u{i}@acme.com"), "firstName": "U"});
            let p = p.as_object().unwrap().clone();
            org.insert_user(&format!("00u{i}"), UserStatus::Active, p)
                .unwrap();
        }
        org.set_status("00u1", UserStatus::Deprovisioned).unwrap();
        org
    }

    fn ids(a: &Answer) -> Vec<String> {
        let list = a.json_body();
        let list = list.as_array().unwrap();
        list.iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .collect()
    }

    fn next(a: &Answer) -> Option<String> {
        a.headers
            .iter()
            .filter(|(k, _)| k == "Link")
            .find_map(|(_, v)| v.strip_suffix(">; rel=\"next\""))
            .map(|v| v.trim_start_matches('<').to_owned())
    }

    #[test]
    fn pages_with_opaque_cursors_and_hides_the_deprovisioned() {
        let org = org();
        let base = "https://acme.okta.com";
        let a = answer(&org, base, "GET", "/api/v1/users?limit=1");
        assert_eq!((a.status, ids(&a)), (200, vec!["00u0".to_owned()]));
        let url = next(&a).unwrap();
        assert!(url.starts_with(base) && !url.contains("00u"), "{url}");
        let a = answer(&org, base, "GET", url.strip_prefix(base).unwrap());
        assert_eq!((ids(&a), next(&a)), (vec!["00u2".to_owned()], None));
        let a = answer(
            &org,
            base,
            "GET",
            "/api/v1/users?filter=status+eq+%22DEPROVISIONED%22",
        );
        assert_eq!(ids(&a), vec!["00u1"]);
        let a = answer(&org, base, "GET", "/api/v1/groups/00gEVERYONE/users");
        assert_eq!(ids(&a), vec!["00u0", "00u1", "00u2"]);
    }

    #[test]
    fn finds_by_login_and_answers_okta_errors() {
        let org = org();
        let a = answer(&org, "http://x", "GET", "/api/v1/users/U2%40acme.com");
        assert_eq!(a.json_body()["id"], "00u2");
        let a = answer(&org, "http://x", "GET", "/api/v1/users/nobody");
        assert_eq!(
            (a.status, &a.json_body()["errorCode"]),
            (404, &json!("E0000007"))
        );
        let a = answer(&org, "http://x", "GET", "/api/v1/users?filter=nonsense");
        assert_eq!(
            (a.status, &a.json_body()["errorCode"]),
            (400, &json!("E0000031"))
        );
        let a = answer(&org, "http://x", "POST", "/api/v1/groups");
        assert_eq!(
            (a.status, &a.json_body()["errorCode"]),
            (405, &json!("E0000022"))
        );
        let a = answer(&org, "http://x", "GET", "/api/v2/nothing");
        assert_eq!(
            (a.status, &a.json_body()["errorCode"]),
            (404, &json!("E0000022"))
        );
    }
}
