//! `plugin_core::Http` over the `wasi:http/outgoing-handler` import.

use plugin_core::{HttpRequest, HttpResponse, Started, TransportError};

use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, Method, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

/// Okta pages are at most a few hundred KiB; anything far larger is not Okta.
const MAX_BODY_BYTES: usize = 32 << 20;
/// Timeouts the plugin asks for; the host may cap them lower.
const CONNECT_TIMEOUT_NS: u64 = 10_000_000_000;
const FIRST_BYTE_TIMEOUT_NS: u64 = 30_000_000_000;
const BETWEEN_BYTES_TIMEOUT_NS: u64 = 30_000_000_000;

/// The host's outgoing HTTP. It keeps nothing between calls: a request
/// started early is the caller's ([`Started`], its answer a
/// [`FutureIncomingResponse`]), kept by the sync run that started it.
pub struct WasiHttp;

impl plugin_core::Http for WasiHttp {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        send(req, None)
    }

    fn start(&mut self, req: HttpRequest) -> Started {
        match start(&req, false) {
            Ok((pending, _)) => Started {
                request: req,
                answer: Box::new(pending),
            },
            // A request that cannot even start fails when it is read.
            Err(e) => Started::answered(req, Err(e)),
        }
    }

    fn receive(&mut self, started: Started) -> Result<HttpResponse, TransportError> {
        let request = started.request;
        match started.answer.downcast::<FutureIncomingResponse>() {
            Ok(pending) => receive(*pending),
            Err(answer) => Started { request, answer }.into_answer(),
        }
    }

    fn has_arrived(&mut self, started: &Started) -> bool {
        match started.answer.downcast_ref::<FutureIncomingResponse>() {
            Some(pending) => pending.subscribe().ready(),
            None => true,
        }
    }

    fn first_arrived(&mut self, started: &[&Started]) -> usize {
        // Answered already (or failed to start): nothing to wait for.
        if let Some(i) = started
            .iter()
            .position(|s| !s.answer.is::<FutureIncomingResponse>())
        {
            return i;
        }
        let pending: Vec<(usize, wasi::io::poll::Pollable)> = started
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let p = s.answer.downcast_ref::<FutureIncomingResponse>()?;
                Some((i, p.subscribe()))
            })
            .collect();
        if let Some((i, _)) = pending.iter().find(|(_, p)| p.ready()) {
            return *i;
        }
        let polls: Vec<&wasi::io::poll::Pollable> = pending.iter().map(|(_, p)| p).collect();
        let ready = wasi::io::poll::poll(&polls);
        ready.first().map_or(0, |&j| pending[j as usize].0)
    }

    fn post_form(
        &mut self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        WasiHttp::post(url, headers, body)
    }
}

impl WasiHttp {
    fn post(
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        let req = HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: headers.to_vec(),
        };
        send(&req, Some(body))
    }
}

impl plugin_sso::FormPost for WasiHttp {
    fn post_form(
        &mut self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        WasiHttp::post(url, headers, body)
    }
}

/// One request; `body` is written when given (the OIDC token exchange).
fn send(req: &HttpRequest, body: Option<&[u8]>) -> Result<HttpResponse, TransportError> {
    let (pending, outgoing_body) = start(req, body.is_some())?;
    if let (Some(outgoing), Some(bytes)) = (outgoing_body, body) {
        write_body(outgoing, bytes)?;
    }
    receive(pending)
}

/// Hand a request to the host, which starts sending it at once; its body,
/// if it has one, is written to the outgoing body returned.
fn start(
    req: &HttpRequest,
    with_body: bool,
) -> Result<(FutureIncomingResponse, Option<OutgoingBody>), TransportError> {
    let (scheme, authority, path) = split_url(&req.url).ok_or_else(|| {
        TransportError::Other(format!("not an absolute http(s) URL: {}", req.url))
    })?;
    let entries: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
        .collect();
    let headers = Fields::from_list(&entries)
        .map_err(|e| TransportError::Other(format!("invalid request header: {e:?}")))?;
    let request = OutgoingRequest::new(headers);
    let method = match req.method.as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => Method::Other(other.to_string()),
    };
    let scheme = if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let bad = |what: &str| TransportError::Other(format!("invalid request {what}"));
    request.set_method(&method).map_err(|_| bad("method"))?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|_| bad("scheme"))?;
    request
        .set_authority(Some(authority))
        .map_err(|_| bad("authority"))?;
    request
        .set_path_with_query(Some(path))
        .map_err(|_| bad("path"))?;

    let options = RequestOptions::new();
    // Setting a timeout the host does not support is not fatal: the host
    // enforces its own deadline anyway.
    let _ = options.set_connect_timeout(Some(CONNECT_TIMEOUT_NS));
    let _ = options.set_first_byte_timeout(Some(FIRST_BYTE_TIMEOUT_NS));
    let _ = options.set_between_bytes_timeout(Some(BETWEEN_BYTES_TIMEOUT_NS));

    let outgoing_body = if with_body {
        Some(request.body().map_err(|_| bad("body"))?)
    } else {
        None
    };
    let pending = outgoing_handler::handle(request, Some(options)).map_err(transport_error)?;
    Ok((pending, outgoing_body))
}

/// Wait for the answer to a request handed to the host and read it whole.
fn receive(pending: FutureIncomingResponse) -> Result<HttpResponse, TransportError> {
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(transport_error(code)),
        Some(Err(())) | None => {
            return Err(TransportError::Other(
                "the response was already taken".into(),
            ));
        }
    };
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .entries()
        .into_iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    // Room for the whole body at once when its length is announced: a page
    // is a few hundred KiB, which growing by doubling copies over and over.
    let announced = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .map_or(0, |n| n.min(MAX_BODY_BYTES + 1));
    let body = read_body(&response, announced)?;
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn write_body(outgoing: OutgoingBody, bytes: &[u8]) -> Result<(), TransportError> {
    let failed = |what: &str| {
        TransportError::Connection(format!("could not send the request body ({what})"))
    };
    {
        let stream = outgoing.write().map_err(|_| failed("stream"))?;
        // blocking-write-and-flush takes at most 4096 bytes per call.
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|_| failed("write"))?;
        }
    }
    OutgoingBody::finish(outgoing, None).map_err(|_| failed("finish"))
}

fn read_body(
    response: &wasi::http::types::IncomingResponse,
    capacity: usize,
) -> Result<Vec<u8>, TransportError> {
    let incoming = response
        .consume()
        .map_err(|_| TransportError::Other("the body was already taken".into()))?;
    let stream = incoming
        .stream()
        .map_err(|_| TransportError::Other("the body stream was already taken".into()))?;
    let mut body = Vec::with_capacity(capacity);
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => {
                body.extend_from_slice(&chunk);
                if body.len() > MAX_BODY_BYTES {
                    return Err(TransportError::Other(format!(
                        "response larger than {MAX_BODY_BYTES} bytes"
                    )));
                }
            }
            Err(StreamError::Closed) => break,
            // A body cut off mid-way: what arrived is parsed, and an
            // incomplete JSON document is then reported as not Okta's JSON.
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(TransportError::Connection(format!(
                    "the answer was cut off: {}",
                    e.to_debug_string()
                )));
            }
        }
    }
    drop(stream);
    let _ = wasi::http::types::IncomingBody::finish(incoming);
    Ok(body)
}

/// `scheme://authority/path?query` → its three parts (path defaults to `/`).
fn split_url(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    Some((scheme, authority, if path.is_empty() { "/" } else { path }))
}

fn transport_error(code: ErrorCode) -> TransportError {
    let text = format!("{code:?}");
    match code {
        ErrorCode::DnsTimeout | ErrorCode::DnsError(_) => TransportError::Dns(text),
        ErrorCode::ConnectionRefused
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionTerminated
        | ErrorCode::ConnectionLimitReached
        // A connection dropped or garbled mid-answer: as transient as a
        // refused one, so the sync retries it instead of failing untyped.
        | ErrorCode::HttpProtocolError
        | ErrorCode::HttpResponseIncomplete => TransportError::Connection(text),
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => TransportError::Timeout(text),
        ErrorCode::TlsProtocolError
        | ErrorCode::TlsCertificateError
        | ErrorCode::TlsAlertReceived(_) => TransportError::Tls(text),
        ErrorCode::HttpRequestDenied | ErrorCode::DestinationIpProhibited => {
            TransportError::Denied(text)
        }
        _ => TransportError::Other(text),
    }
}
