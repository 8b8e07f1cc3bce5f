//! A small Okta API client over the `Http` port: authenticated GETs, the
//! bookkeeping verify and sync report, and safe pagination.

use serde_json::Value;

use crate::auth::Auth;
use crate::link::next_link;
use crate::okta_error::{JsonBody, OktaFailure, RateLimit, classify_json_as};
use crate::origin::OktaOrigin;
use crate::ports::{Http, HttpRequest};

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
    /// [`OktaClient::get_url`], which checks its origin.
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

    /// GET a path (starting with `/`, query included) on the org.
    pub fn get(&mut self, path_and_query: &str) -> Result<OktaResponse, OktaFailure> {
        self.get_as(path_and_query)
    }

    /// [`OktaClient::get`], the body parsed as `B`.
    pub fn get_as<B: JsonBody>(
        &mut self,
        path_and_query: &str,
    ) -> Result<OktaResponse<B>, OktaFailure> {
        if !path_and_query.starts_with('/') {
            return Err(OktaFailure::Other(format!(
                "internal error: `{path_and_query}` is not an absolute path"
            )));
        }
        let url = self.origin.url(path_and_query);
        self.send(url)
    }

    /// GET an absolute URL, typically a `next` link. Refused unless it is on
    /// the config's origin: the token must never be sent anywhere else.
    pub fn get_url(&mut self, url: &str) -> Result<OktaResponse, OktaFailure> {
        self.get_url_as(url)
    }

    /// [`OktaClient::get_url`], the body parsed as `B`.
    pub fn get_url_as<B: JsonBody>(&mut self, url: &str) -> Result<OktaResponse<B>, OktaFailure> {
        if !self.origin.is_same_origin(url) {
            return Err(OktaFailure::Other(format!(
                "refusing to follow a link outside {} ({}); credentials are only ever sent to the configured Okta origin",
                self.origin,
                origin_hint(url)
            )));
        }
        self.send(url.to_owned())
    }

    /// Start the GET of a path early (see [`Http::prefetch`]): a later
    /// [`OktaClient::get_as`] of the same path takes its answer.
    pub fn prefetch(&mut self, path_and_query: &str) {
        if path_and_query.starts_with('/')
            && let Ok(req) = self.request(self.origin.url(path_and_query), true)
        {
            self.http.prefetch(&req);
        }
    }

    /// Start the GET of a `next` link early, if it is on the config's origin
    /// (see [`OktaClient::prefetch`]).
    pub fn prefetch_url(&mut self, url: &str) {
        if self.origin.is_same_origin(url)
            && let Ok(req) = self.request(url.to_owned(), true)
        {
            self.http.prefetch(&req);
        }
    }

    /// Of the GETs of `gets` (paths, or `next` links), started early, the
    /// index of one whose answer has arrived (see [`Http::arrived`]).
    pub fn arrived(&mut self, gets: &[&str], wait: bool) -> Option<usize> {
        let urls: Vec<String> = gets
            .iter()
            .map(|g| match g.starts_with('/') {
                true => self.origin.url(g),
                false => (*g).to_owned(),
            })
            .collect();
        let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
        self.http.arrived(&urls, wait)
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

    /// The authenticated GET of `url`; `early` when it is started ahead.
    fn request(&mut self, url: String, early: bool) -> Result<HttpRequest, OktaFailure> {
        let mut headers = self.auth.headers(&mut *self.http, "GET", &url, early)?;
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

    fn send<B: JsonBody>(&mut self, url: String) -> Result<OktaResponse<B>, OktaFailure> {
        let mut retried = false;
        let resp = loop {
            let req = self
                .request(url.clone(), false)
                .map_err(|f| f.redact(&self.auth.secret()))?;
            self.requests += 1;
            let resp = self
                .http
                .send(&req)
                .map_err(|e| OktaFailure::from_transport(e).redact(&self.auth.secret()))?;
            // A service app's token expired or a DPoP nonce is due: once more.
            if !retried && self.auth.retry_after(&resp, &req) {
                retried = true;
                continue;
            }
            break resp;
        };
        // Kept even for failures: a 429's headers are exactly what matters.
        self.last_rate_limit = RateLimit::from_headers(&resp);
        self.last_request_id = resp.header("X-Okta-Request-Id").map(str::to_owned);
        let secret = self.auth.secret();
        let body_json = classify_json_as(&resp)
            .map_err(|f| self.auth.explain(f, &resp, &url).redact(&secret))?;
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
