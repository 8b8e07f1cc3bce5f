//! The cost of a new connection to a real org: before its first request
//! reaches Okta, a client pays a TCP and a TLS handshake (two round trips).
//! A client that keeps its connections alive pays it once per connection;
//! one that connects for every request pays it every time. On loopback it
//! is free, so the fake adds it when asked ([`crate::FakeOktaOptions::handshake`]):
//! a new connection's bytes reach the server only that long after it was
//! accepted. It also counts the connections accepted.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

/// The server's listener: counts what it accepts and holds each new
/// connection's first bytes for the handshake's time.
pub(crate) struct Listener {
    inner: TcpListener,
    handshake: Duration,
    accepted: Arc<AtomicU64>,
}

impl Listener {
    pub(crate) fn new(inner: TcpListener, handshake: Duration, accepted: Arc<AtomicU64>) -> Self {
        Listener {
            inner,
            handshake,
            accepted,
        }
    }
}

impl axum::serve::Listener for Listener {
    type Io = Handshaking;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Handshaking, SocketAddr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        self.accepted.fetch_add(1, Ordering::Relaxed);
        let until =
            (!self.handshake.is_zero()).then(|| Box::pin(tokio::time::sleep(self.handshake)));
        (Handshaking { stream, until }, addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// A connection whose first read waits until its handshake is over.
pub(crate) struct Handshaking {
    stream: TcpStream,
    until: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for Handshaking {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(until) = self.until.as_mut() {
            ready!(until.as_mut().poll(cx));
            self.until = None;
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Handshaking {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    // Without these hyper cannot write a head and a body in one call, and
    // copies every body into its own buffer first.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
