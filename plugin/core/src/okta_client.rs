//! A small Okta API client over the `Http` port: authenticated GETs, the
//! bookkeeping verify and sync report, and safe pagination.

use serde_json::Value;

use crate::auth::Auth;
use crate::link::next_link;
use crate::okta_error::{JsonBody, OktaFailure, RateLimit, classify_json_as};
use crate::origin::OktaOrigin;
use crate::ports::{Http, HttpRequest, HttpResponse, Started, TransportError};

/// One successful (2xx, JSON) Okta answer, its body parsed as `B` (a whole
/// [`Value`] unless the caller asks for less).
#[derive(Debug, Clone, PartialEq)]
pub struct OktaResponse<B = Value> {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// The parsed body (an object or a list).
    pub body_json: B,
    /// `X-Rate-Limit-*` of this answer.
    pub rate_limit: RateLimit,
    /// `X-Okta-Request-Id` of this answer.
    pub request_id: Option<String>,
    /// The `rel="next"` page, if any, as sent; follow it with
    /// [`OktaClient::get`], which checks its origin.
    pub next_link: Option<String>,
}

/// Sends authenticated GETs to one Okta org, and only to it.
pub struct OktaClient<'a> {
    http: &'a mut dyn Http,
    origin: OktaOrigin,
    auth: Auth<'a>,
    requests: u32,
    last_rate_limit: RateLimit,
    last_request_id: Option<String>,
}

impl<'a> OktaClient<'a> {
    /// A client for `origin` authenticating with `auth`: an SSWS API
    /// token (`&str`) or a service app ([`Auth::ServiceApp`]).
    pub fn new(http: &'a mut dyn Http, origin: &OktaOrigin, auth: impl Into<Auth<'a>>) -> Self {
        OktaClient {
            http,
            origin: origin.clone(),
            auth: auth.into(),
            requests: 0,
            last_rate_limit: RateLimit::default(),
            last_request_id: None,
        }
    }

    /// GET `at` and read Okta's answer, its body parsed as `B` (a whole
    /// [`Value`] when the caller asks for that): `at` is a path on the org
    /// (starting with `/`, query included) or an absolute URL, typically a
    /// `next` link, which is refused unless it is on the config's origin,
    /// since the credential must never be sent anywhere else.
    pub fn get<B: JsonBody>(&mut self, at: &str) -> Result<OktaResponse<B>, OktaFailure> {
        let url = self.url(at)?;
        let req = self
            .request(url)
            .map_err(|f| f.redact(&self.auth.secret()))?;
        self.requests += 1;
        let resp = self.http.send(&req);
        self.answer(req, resp)
    }

    /// Start the GET of `at` (as for [`OktaClient::get`]) and return at
    /// once, its answer on the way; [`OktaClient::receive`] reads it. `None`
    /// when it cannot even be sent (a foreign link, no access token): the
    /// later [`OktaClient::get`] of it then says why.
    pub fn start(&mut self, at: &str) -> Option<Started> {
        let url = self.url(at).ok()?;
        let req = self.request(url).ok()?;
        Some(self.http.start(req))
    }

    /// Read the answer of a GET [`OktaClient::start`]ed, as
    /// [`OktaClient::get`] would have: counted as sent now.
    pub fn receive<B: JsonBody>(
        &mut self,
        started: Started,
    ) -> Result<OktaResponse<B>, OktaFailure> {
        self.requests += 1;
        let req = started.request.clone();
        let resp = self.http.receive(started);
        self.answer(req, resp)
    }

    /// Of several GETs started, the index of the first whose answer
    /// arrives (see [`Http::first_arrived`]); `started` is not empty.
    pub fn first_arrived(&mut self, started: &[&Started]) -> usize {
        self.http.first_arrived(started)
    }

    /// Whether the answer of a GET started has arrived (see
    /// [`Http::has_arrived`]).
    pub fn has_arrived(&mut self, started: &Started) -> bool {
        self.http.has_arrived(started)
    }

    /// Requests sent so far, failed ones included.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// Rate-limit headers of the last answer.
    pub fn last_rate_limit(&self) -> RateLimit {
        self.last_rate_limit
    }

    /// `X-Okta-Request-Id` of the last answer.
    pub fn last_request_id(&self) -> Option<&str> {
        self.last_request_id.as_deref()
    }

    /// The origin this client talks to.
    pub fn origin(&self) -> &OktaOrigin {
        &self.origin
    }

    /// The URL of `at`: a path on the org, or a link on its origin.
    fn url(&self, at: &str) -> Result<String, OktaFailure> {
        if at.starts_with('/') {
            return Ok(self.origin.url(at));
        }
        if !self.origin.is_same_origin(at) {
            return Err(OktaFailure::Other(format!(
                "refusing to follow a link outside {} ({}); credentials are only ever sent to the configured Okta origin",
                self.origin,
                origin_hint(at)
            )));
        }
        Ok(at.to_owned())
    }

    /// The authenticated GET of `url`.
    fn request(&mut self, url: String) -> Result<HttpRequest, OktaFailure> {
        let mut headers = self.auth.headers(&mut *self.http, "GET", &url)?;
        headers.push(("Accept".into(), "application/json".into()));
        headers.push((
            "User-Agent".into(),
            format!("infraon-okta-plugin/{}", crate::VERSION),
        ));
        Ok(HttpRequest {
            method: "GET".into(),
            url,
            headers,
        })
    }

    /// Okta's answer `resp` to `req`, checked and parsed; a service app's
    /// expired token or a DPoP nonce Okta asks for is cured by sending the
    /// GET once more.
    fn answer<B: JsonBody>(
        &mut self,
        req: HttpRequest,
        resp: Result<HttpResponse, TransportError>,
    ) -> Result<OktaResponse<B>, OktaFailure> {
        let secret = self.auth.secret();
        let mut resp = resp.map_err(|e| OktaFailure::from_transport(e).redact(&secret))?;
        if self.auth.retry_after(&resp, &req) {
            let again = self
                .request(req.url.clone())
                .map_err(|f| f.redact(&secret))?;
            self.requests += 1;
            resp = self
                .http
                .send(&again)
                .map_err(|e| OktaFailure::from_transport(e).redact(&secret))?;
        }
        // Kept even for failures: a 429's headers are exactly what matters.
        self.last_rate_limit = RateLimit::from_headers(&resp);
        self.last_request_id = resp.header("X-Okta-Request-Id").map(str::to_owned);
        let body_json = classify_json_as(&resp)
            .map_err(|f| self.auth.explain(f, &resp, &req.url).redact(&secret))?;
        let next_link = next_link(&resp.headers_all("Link"));
        Ok(OktaResponse {
            status: resp.status,
            rate_limit: self.last_rate_limit,
            request_id: self.last_request_id.clone(),
            headers: resp.headers,
            body_json,
            next_link,
        })
    }
}

/// The scheme and host of a URL, for messages: the rest may carry anything.
fn origin_hint(url: &str) -> String {
    let end = url
        .find("://")
        .map(|i| i + 3)
        .and_then(|s| url[s..].find(['/', '?', '#']).map(|e| s + e))
        .unwrap_or(url.len());
    let hint = &url[..end];
    match hint.rsplit_once('@') {
        // Drop credentials a hostile link might carry.
        Some((before, host)) => match before.find("://") {
            Some(i) => format!("{}{host}", &before[..i + 3]),
            None => host.to_owned(),
        },
        None => hint.to_owned(),
    }
}
