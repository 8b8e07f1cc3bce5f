//! Hostile answers for the reliability suite: faults that rewrite the
//! request or the real answer instead of replacing it (see
//! [`FaultKind`](crate::FaultKind)). Kept apart from the gate so the gate
//! only calls in.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Uri, header};
use axum::response::Response;
use serde_json::Value;

use crate::faults::FaultKind;
use crate::org::parse_id;
use crate::paging::encode_cursor;

/// A body that fails on its first read: hyper has sent the headers and then
/// drops the connection, which the client sees as a reset mid-answer.
struct Broken;

impl HttpBody for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by the fault knob",
        ))))
    }
}

fn with_limit(uri: &Uri, limit: u32) -> Option<Uri> {
    let query = uri.query().unwrap_or("");
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("limit="))
        .map(str::to_owned)
        .collect();
    params.push(format!("limit={limit}"));
    format!("{}?{}", uri.path(), params.join("&")).parse().ok()
}

/// Rewrites the request before the org answers it.
pub(crate) fn before(kind: Option<&FaultKind>, req: &mut Request) {
    if let Some(FaultKind::PageSize { served, .. }) = kind
        && let Some(uri) = with_limit(req.uri(), *served)
    {
        *req.uri_mut() = uri;
    }
}

fn next_link(resp: &Response) -> Option<(usize, String)> {
    resp.headers()
        .get_all(header::LINK)
        .iter()
        .enumerate()
        .find_map(|(i, v)| {
            let v = v.to_str().ok()?;
            v.contains("rel=\"next\"").then(|| (i, v.to_owned()))
        })
}

fn replace_next(resp: &mut Response, f: impl FnOnce(&str) -> String) {
    let Some((index, old)) = next_link(resp) else {
        return;
    };
    let mut links: Vec<HeaderValue> = resp
        .headers()
        .get_all(header::LINK)
        .iter()
        .cloned()
        .collect();
    if let Ok(v) = HeaderValue::from_str(&f(&old)) {
        links[index] = v;
    }
    resp.headers_mut().remove(header::LINK);
    for l in links {
        resp.headers_mut().append(header::LINK, l);
    }
}

/// Replaces `name=...` in the query of a `<url>; rel="next"` link.
fn set_param(link: &str, name: &str, value: Option<&str>) -> String {
    let Some((url, rest)) = link.split_once('>') else {
        return link.to_owned();
    };
    let url = url.trim_start_matches('<');
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let prefix = format!("{name}=");
    let mut params: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    if let Some(v) = value {
        params.push(format!("{name}={v}"));
    }
    if params.is_empty() {
        format!("<{path}>{rest}")
    } else {
        format!("<{path}?{}>{rest}", params.join("&"))
    }
}

async fn body_of(resp: Response) -> (axum::http::response::Parts, Bytes) {
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    (parts, to_bytes(body, usize::MAX).await.unwrap_or_default())
}

/// Rewrites the org's answer.
pub(crate) async fn after(kind: Option<&FaultKind>, mut resp: Response) -> Response {
    match kind {
        Some(FaultKind::ResetConnection) => {
            let (parts, _) = resp.into_parts();
            Response::from_parts(parts, Body::new(Broken))
        }
        Some(FaultKind::ContentType(ct)) => {
            if let Ok(v) = HeaderValue::from_str(ct) {
                resp.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            resp
        }
        Some(FaultKind::PageSize { advertised, .. }) => {
            let advertised = advertised.to_string();
            replace_next(&mut resp, |l| set_param(l, "limit", Some(&advertised)));
            resp
        }
        Some(FaultKind::LinkLoop) => {
            // Page one again: the same query without a cursor.
            replace_next(&mut resp, |l| set_param(l, "after", None));
            resp
        }
        Some(FaultKind::OverlapPages) => {
            let (parts, bytes) = body_of(resp).await;
            let mut resp = Response::from_parts(parts, Body::from(bytes.clone()));
            let second_last = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
                let items = v.as_array()?;
                let item = items.get(items.len().checked_sub(2)?)?;
                parse_id(item.get("id")?.as_str()?)
            });
            if let Some(id) = second_last {
                let cursor = encode_cursor(&id);
                replace_next(&mut resp, |l| set_param(l, "after", Some(&cursor)));
            }
            resp
        }
        Some(FaultKind::InvalidUtf8) => {
            let (parts, bytes) = body_of(resp).await;
            let mut body = bytes.to_vec();
            let marker = b"\"firstName\":\"";
            if let Some(at) = body.windows(marker.len()).position(|w| w == marker) {
                body.splice(at + marker.len()..at + marker.len(), [0xC3, 0x28, 0xFF]);
            }
            Response::from_parts(parts, Body::from(body))
        }
        _ => resp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_params_are_replaced_or_dropped() {
        let link = "<http://h/api/v1/users?limit=10&after=abc>; rel=\"next\"";
        assert_eq!(
            set_param(link, "after", None),
            "<http://h/api/v1/users?limit=10>; rel=\"next\""
        );
        assert_eq!(
            set_param(link, "limit", Some("5")),
            "<http://h/api/v1/users?after=abc&limit=5>; rel=\"next\""
        );
        let uri: Uri = "/api/v1/users?limit=200&search=x".parse().unwrap();
        assert_eq!(
            with_limit(&uri, 7).unwrap().to_string(),
            "/api/v1/users?search=x&limit=7"
        );
    }
}
