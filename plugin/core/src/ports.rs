//! The host capabilities the logic needs, as traits, so that the component
//! glue can back them with WIT imports and tests with in-memory fakes.

use thiserror::Error;

pub use crate::directory::Directory;

/// An outgoing HTTP request. Only `GET` is used today, so there is no body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Request headers, in order.
    pub headers: Vec<(String, String)>,
}

/// An HTTP response, fully read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Response headers in the order received; repeated names stay repeated.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header; names compare case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (Okta repeats `Link`).
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Why a request got no HTTP answer; the glue maps `wasi:http` error codes here.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TransportError {
    /// The host name did not resolve.
    #[error("DNS lookup failed: {0}")]
    Dns(String),
    /// The connection was refused, reset or unreachable.
    #[error("connection failed: {0}")]
    Connection(String),
    /// The TLS handshake or certificate check failed.
    #[error("TLS failed: {0}")]
    Tls(String),
    /// No answer within the deadline.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The host's egress policy refused the destination.
    #[error("denied by the host: {0}")]
    Denied(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A request handed to the host by [`Http::start`], its answer on the way:
/// the request as sent and the host's own handle on the answer, which only
/// that host reads ([`Http::receive`]). Dropping it unread cancels it.
pub struct Started {
    /// The request, exactly as handed to the host.
    pub request: HttpRequest,
    /// The host's handle on the answer (its own type; see [`Http::start`]).
    pub answer: Box<dyn std::any::Any>,
}

impl std::fmt::Debug for Started {
    // By hand: the request carries the credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("url", &self.request.url)
            .finish()
    }
}

impl Started {
    /// A request already answered (or failed): how a host that sends
    /// nothing early starts one.
    pub fn answered(request: HttpRequest, answer: Result<HttpResponse, TransportError>) -> Self {
        Started {
            request,
            answer: Box::new(answer),
        }
    }

    /// The answer of [`Started::answered`]; an error for another host's
    /// handle.
    pub fn into_answer(self) -> Result<HttpResponse, TransportError> {
        match self
            .answer
            .downcast::<Result<HttpResponse, TransportError>>()
        {
            Ok(answer) => *answer,
            Err(_) => Err(TransportError::Other(
                "not a request this host started".into(),
            )),
        }
    }
}

/// Sends HTTP requests (`wasi:http/outgoing-handler` in the component).
///
/// Two ways: [`Http::send`] waits for the answer; [`Http::start`] hands the
/// request over and returns at once, so that several are on their way
/// while the caller works, and [`Http::receive`] reads one later. The
/// caller owns what it started (the sync keeps it in its run's read-ahead);
/// the host keeps nothing between calls.
pub trait Http {
    /// Send one request and read the whole answer.
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError>;

    /// Hand a request to the host, which starts sending it at once, and
    /// return without waiting for the answer. The default sends it now and
    /// keeps the answer ([`Started::answered`]), for hosts that cannot
    /// have several requests on their way.
    fn start(&mut self, req: HttpRequest) -> Started {
        let answer = self.send(&req);
        Started::answered(req, answer)
    }

    /// Wait for the answer of a request this host started and read it
    /// whole. The default reads a [`Started::answered`] one.
    fn receive(&mut self, started: Started) -> Result<HttpResponse, TransportError> {
        started.into_answer()
    }

    /// Of several requests this host started, the index of the first whose
    /// answer arrives (one that has already arrived, else the first to
    /// arrive, waited for): how a run reading two listings at once applies
    /// their pages in the order Okta answered them. `started` is not empty.
    /// The default, whose answers are all there: the first.
    fn first_arrived(&mut self, started: &[&Started]) -> usize {
        let _ = started;
        0
    }

    /// Whether the answer of a request this host started has arrived, so
    /// that [`Http::receive`] takes it without waiting. The default: yes.
    fn has_arrived(&mut self, started: &Started) -> bool {
        let _ = started;
        true
    }

    /// POST an `application/x-www-form-urlencoded` `body` to `url` with
    /// `headers` and read the whole answer, without following redirects:
    /// how a service app asks Okta's token endpoint for an access token.
    /// The default refuses, for hosts that only ever GET.
    fn post_form(
        &mut self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        let _ = (headers, body);
        Err(TransportError::Other(format!(
            "this host cannot POST to {url}"
        )))
    }
}

/// Group-members lists a sync asks Okta for at once (see
/// `sync::run`): well below Okta's org-wide limit of 75 requests in flight
/// (35 on its smallest plan), and enough to hide a real org's latency.
pub const MEMBERS_IN_FLIGHT: usize = 16;

/// How many requests a run may have started ([`Http::start`]) and not yet
/// read, at once: the members lists of [`MEMBERS_IN_FLIGHT`] groups, the next page
/// of the group being read, and the next two pages of each of the two
/// users listings read beside them.
pub const MAX_EARLY_REQUESTS: usize = MEMBERS_IN_FLIGHT + 1 + 4;

/// Mirrors WIT `storage-error`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StorageError {
    /// The value or the store exceeds the host's quota.
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// The store cannot be used right now.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("storage error: {0}")]
    Other(String),
}

/// The host's key-value store (WIT `storage`).
pub trait Storage {
    /// Read a value; `None` when the key is absent.
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Write a value, replacing any previous one.
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// Remove a key; absent keys are not an error.
    fn delete(&mut self, key: &str) -> Result<(), StorageError>;
    /// Keys starting with `prefix`, in lexicographic order.
    fn list_keys(&mut self, prefix: &str) -> Result<Vec<String>, StorageError>;
}

/// Mirrors WIT `secrets-error`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SecretsError {
    /// The secret store cannot be used right now.
    #[error("secret store unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("secret store error: {0}")]
    Other(String),
}

/// The host's secret store (WIT `secrets`).
pub trait Secrets {
    /// Store a secret, replacing any previous one.
    fn put(&mut self, name: &str, value: &str) -> Result<(), SecretsError>;
    /// Read a secret back; `None` when absent.
    fn get(&mut self, name: &str) -> Result<Option<String>, SecretsError>;
    /// Forget a secret; absent secrets are not an error.
    fn delete(&mut self, name: &str) -> Result<(), SecretsError>;
}

/// Wall-clock time.
pub trait Clock {
    /// Milliseconds since the Unix epoch, UTC.
    fn now_unix_ms(&self) -> u64;
    /// Block for `ms` milliseconds: how the sync waits out Okta's rate-limit
    /// window and backs off between retries (WASI monotonic clock in the
    /// component; fakes advance a virtual clock).
    fn sleep_ms(&self, ms: u64);
}

/// Log severity, mirroring WIT `log.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Fine detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something an operator may want to look at.
    Warn,
    /// An operation failed.
    Error,
}

/// Structured log lines (WIT `log`). Callers never pass a secret.
pub trait Log {
    /// Write one line with key-value fields.
    fn write(&mut self, level: Level, message: &str, fields: &[(&str, &str)]);
}

/// Every capability an export needs, as separate borrows so that one
/// operation can use HTTP and the clock at the same time.
pub struct Host<'a> {
    /// Outgoing HTTP.
    pub http: &'a mut dyn Http,
    /// Key-value storage.
    pub storage: &'a mut dyn Storage,
    /// Secret store.
    pub secrets: &'a mut dyn Secrets,
    /// Wall clock.
    pub clock: &'a dyn Clock,
    /// Log sink.
    pub log: &'a mut dyn Log,
    /// Infraon's people.
    pub directory: &'a mut dyn Directory,
    /// Signing with the host's keys (service apps); [`crate::NoSigner`]
    /// where the host has none.
    pub signer: &'a dyn crate::auth::Signer,
}
