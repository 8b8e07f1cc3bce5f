//! The connections behind `wasi:http`: a pool for each operation, so that
//! a sync's requests to its Okta org reuse kept-alive connections, closed
//! when the operation ends (no tenant's connection serves another, and
//! none outlives its run holding its buffers). wasmtime's own client
//! (`default_send_request`) opens a connection for every request: against
//! a real org each one costs a TCP and a TLS handshake, two round trips
//! before the request's own, and it built its TLS settings (the root
//! certificates) again each time; here the runtime builds them once.
//!
//! The egress guard ([`super::http::EgressGuard`]) decides first which
//! origin a request may reach; a pool only keeps connections to origins
//! some request was allowed. Errors are wasi:http's, as wasmtime's client
//! gives them (a name that does not resolve is a DNS error, a refused
//! connection `connection-refused`, a failed handshake a TLS error), and
//! the request options' first-byte and between-bytes timeouts hold.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::{Error, WasiBody};

/// Idle connections kept to the origin: the plugin keeps at most 21
/// requests in flight (read-ahead, group members).
const IDLE_PER_ORIGIN: usize = 32;

/// How long an idle connection is kept within an operation: a sync's next
/// step comes within milliseconds; Okta's edge closes idle connections
/// after about a minute.
const IDLE_FOR: Duration = Duration::from_secs(30);

/// How the runtime connects (TLS by rustls with the web PKI's roots, as
/// wasmtime's client; plain HTTP only where the egress guard allowed it:
/// a development install's loopback fake), built once. Cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    connector: HttpsConnector<HttpConnector>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound").finish_non_exhaustive()
    }
}

/// One operation's pool of HTTP/1.1 connections: closed once the
/// operation's store and the requests it sent are dropped. Cheap to clone
/// (a handle on the same pool).
#[derive(Clone)]
pub struct Connections {
    client: Client<HttpsConnector<HttpConnector>, WasiBody>,
}

impl Outbound {
    /// New connections must be made within `connect_timeout`.
    pub fn new(connect_timeout: Duration) -> Self {
        let mut tcp = HttpConnector::new();
        // The URI's scheme is checked by the egress guard and then by the
        // TLS layer, which takes `https` and passes `http` through.
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(connect_timeout));
        tcp.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Outbound { connector }
    }

    /// A pool for one operation.
    pub fn connections(&self) -> Connections {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE_FOR)
            .pool_max_idle_per_host(IDLE_PER_ORIGIN)
            .build(self.connector.clone());
        Connections { client }
    }
}

impl Connections {
    /// Send `request` on a pooled connection (a new one when none is idle):
    /// its response head within `first_byte`, then each piece of its body
    /// within `between_bytes` of the last.
    pub async fn send(
        &self,
        request: http::Request<WasiBody>,
        first_byte: Duration,
        between_bytes: Duration,
    ) -> Result<http::Response<WasiBody>, Error> {
        let response = tokio::time::timeout(first_byte, self.client.request(request))
            .await
            .map_err(|_| Error::ConnectionReadTimeout)?
            .map_err(client_error)?;
        Ok(response.map(|incoming| Paced::new(incoming, between_bytes).boxed_unsync()))
    }
}

/// The client's error as wasmtime's own client reports the same failure.
fn client_error(e: hyper_util::client::legacy::Error) -> Error {
    use std::error::Error as _;
    let (mut io, mut tls, mut hyper_timeout) = (None, false, false);
    let mut cause = e.source();
    while let Some(c) = cause {
        if let Some(found) = c.downcast_ref::<std::io::Error>() {
            io = Some((found.kind(), found.to_string()));
            tls |= wraps_tls(found);
        }
        tls |= c.is::<rustls::Error>();
        if let Some(h) = c.downcast_ref::<hyper::Error>() {
            hyper_timeout |= h.is_timeout();
        }
        cause = c.source();
    }
    if !e.is_connect() {
        return if hyper_timeout {
            Error::HttpResponseTimeout
        } else {
            tracing::warn!(error = %e, "http request failed");
            Error::HttpProtocolError
        };
    }
    match io {
        Some((std::io::ErrorKind::TimedOut, _)) => Error::ConnectionTimeout,
        Some((kind, text)) if tls => Error::Tls(std::io::Error::new(kind, text)),
        Some((kind, text)) => Error::Connect(std::io::Error::new(kind, text)),
        None => Error::Connect(std::io::Error::other(e.to_string())),
    }
}

/// Whether rustls refused the handshake under this I/O error (an I/O
/// error's `source` skips the error it wraps, so look inside each).
fn wraps_tls(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| {
        inner.is::<rustls::Error>()
            || inner
                .downcast_ref::<std::io::Error>()
                .is_some_and(wraps_tls)
    })
}

/// A response body that fails when nothing comes for `between` (wasi:http's
/// between-bytes timeout, as wasmtime's client applies it).
struct Paced {
    incoming: Incoming,
    between: Duration,
    timer: Pin<Box<Sleep>>,
}

impl Paced {
    fn new(incoming: Incoming, between: Duration) -> Self {
        Paced {
            incoming,
            between,
            timer: Box::pin(tokio::time::sleep(between)),
        }
    }
}

impl Body for Paced {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = Instant::now() + this.between;
                this.timer.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) if e.is_timeout() => {
                Poll::Ready(Some(Err(Error::HttpResponseTimeout)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::from(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                ready!(this.timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(Error::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server that answers each connection's first request with `head`
    /// and `body`, then keeps the connection open without a byte more.
    async fn stalling_server(head: &'static str, body: &'static [u8]) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = conn.read(&mut request).await;
                    let _ = conn.write_all(head.as_bytes()).await;
                    let _ = conn.write_all(body).await;
                    tokio::time::sleep(Duration::from_secs(30)).await;
                });
            }
        });
        addr
    }

    fn get(addr: std::net::SocketAddr) -> http::Request<WasiBody> {
        let empty = http_body_util::Empty::new()
            .map_err(|never: std::convert::Infallible| match never {})
            .boxed_unsync();
        http::Request::get(format!("http://{addr}/api/v1/users"))
            .body(empty)
            .unwrap()
    }

    #[tokio::test]
    async fn a_body_that_stops_coming_fails_after_the_between_bytes_timeout() {
        let addr = stalling_server("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", b"12345").await;
        let pool = Outbound::new(Duration::from_secs(5)).connections();
        let response = pool
            .send(
                get(addr),
                Duration::from_secs(5),
                Duration::from_millis(200),
            )
            .await
            .expect("the head arrives");
        let mut body = response.into_body();
        let first = body.frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap().as_ref(), b"12345");
        match body.frame().await {
            Some(Err(Error::ConnectionReadTimeout)) => {}
            other => panic!("expected the between-bytes timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_head_that_never_comes_fails_after_the_first_byte_timeout() {
        let addr = stalling_server("", b"").await;
        let pool = Outbound::new(Duration::from_secs(5)).connections();
        match pool
            .send(
                get(addr),
                Duration::from_millis(200),
                Duration::from_secs(5),
            )
            .await
        {
            Err(Error::ConnectionReadTimeout) => {}
            other => panic!("expected the first-byte timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_refused_connection_and_an_unknown_name_are_told_apart() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let pool = Outbound::new(Duration::from_secs(5)).connections();
        let refused = pool
            .send(get(closed), Duration::from_secs(5), Duration::from_secs(5))
            .await;
        assert!(
            matches!(&refused, Err(Error::Connect(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused),
            "{refused:?}"
        );
        let request = http::Request::get("http://no-such-org.invalid/api/v1/users")
            .body(get(closed).into_body())
            .unwrap();
        let unknown = pool
            .send(request, Duration::from_secs(5), Duration::from_secs(5))
            .await;
        // wasmtime turns this message into a DNS error code.
        assert!(
            matches!(&unknown, Err(Error::Connect(e))
                if e.to_string().starts_with("failed to lookup address information")),
            "{unknown:?}"
        );
    }
}
