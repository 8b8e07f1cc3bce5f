//! `wasi:http/outgoing-handler`: wasmtime's implementation behind an egress
//! guard. Only the origin granted to the config being served is reachable;
//! anything else gets `HttpRequestDenied` (a value, never a trap) and a log line.
//! Allowed requests go out on the operation's connection pool
//! ([`super::outbound::Connections`]).

use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::outbound::{Connections, Outbound};
use crate::backend::Log;
use crate::policy::{Origin, egress_allowed};

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

/// The per-instance egress policy.
pub struct EgressGuard {
    allowed: Option<Origin>,
    config: Option<String>,
    request_timeout: Duration,
    log: Arc<dyn Log>,
    connections: Connections,
}

impl EgressGuard {
    /// A guard allowing exactly `allowed` (nothing when `None`), sending
    /// what it allows on a pool of its own from `outbound`.
    pub fn new(
        allowed: Option<Origin>,
        config: Option<String>,
        request_timeout: Duration,
        log: Arc<dyn Log>,
        outbound: Outbound,
    ) -> Self {
        EgressGuard {
            allowed,
            config,
            request_timeout,
            log,
            connections: outbound.connections(),
        }
    }

    fn refuse(&self, target: &str) {
        let allowed = self
            .allowed
            .as_ref()
            .map_or("nothing".to_string(), Origin::to_string);
        tracing::warn!(target_host = %target, allowed = %allowed, "egress denied");
        let fields = serde_json::json!({ "host": target, "allowed": allowed }).to_string();
        let _ = self.log.append(
            crate::PLUGIN_ID,
            self.config.as_deref(),
            "warn",
            &format!(
                "egress denied: the plugin tried to reach {target}; only {allowed} is allowed"
            ),
            &fields,
        );
    }

    /// The plugin's own timeouts, capped by the host's request deadline.
    fn capped(&self, options: Option<RequestOptions>) -> RequestOptions {
        let cap = |t: Option<Duration>| {
            Some(t.map_or(self.request_timeout, |t| t.min(self.request_timeout)))
        };
        let o = options.unwrap_or_default();
        RequestOptions {
            connect_timeout: cap(o.connect_timeout),
            first_byte_timeout: cap(o.first_byte_timeout),
            between_bytes_timeout: cap(o.between_bytes_timeout),
        }
    }
}

impl WasiHttpHooks for EgressGuard {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> ResponseFuture {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_string();
        let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
        if !egress_allowed(self.allowed.as_ref(), &scheme, &authority) {
            self.refuse(&format!("{scheme}://{authority}"));
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        let options = self.capped(options);
        let first_byte = options.first_byte_timeout.unwrap_or(self.request_timeout);
        let between_bytes = options
            .between_bytes_timeout
            .unwrap_or(self.request_timeout);
        let connections = self.connections.clone();
        drop(fut);
        Box::new(async move {
            // The first byte's deadline covers a connection the pool makes
            // for the request: a reused one costs none of it.
            let res = connections.send(request, first_byte, between_bytes).await?;
            // The pool drives its connections on tasks of its own.
            let io = async { Ok(()) };
            Ok((res, Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}
