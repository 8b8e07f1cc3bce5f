//! Host policy in one place: resource limits and the egress allowlist.

use std::fmt;
use std::time::Duration;

/// Limits applied to every plugin operation.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Linear-memory cap per instance.
    pub memory_bytes: usize,
    /// Deadline of one plugin call (epoch interruption inside wasm, and a
    /// wall-clock timeout around host calls, where epochs do not fire).
    pub call_deadline: Duration,
    /// Deadline of one outgoing HTTP request, enforced by the host.
    pub request_timeout: Duration,
    /// Deadline of a whole sync run (each step still gets `call_deadline`).
    pub run_deadline: Duration,
    /// How long a host process's run lease on a config lasts without being
    /// renewed: longer than a call, so a live holder always renews in time;
    /// after a crash, another process takes over once it has passed.
    pub lease_ttl: Duration,
}

impl Limits {
    /// The default limits, with `HARNESS_LEASE_TTL_SECS` (a faster profile
    /// for the two-process tests, named as such there) when set.
    pub fn from_env() -> Limits {
        let mut limits = Limits::default();
        if let Some(secs) = std::env::var("HARNESS_LEASE_TTL_SECS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
        {
            limits.lease_ttl = Duration::from_secs(secs.max(1));
        }
        limits
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 256 << 20,
            call_deadline: Duration::from_secs(60),
            request_timeout: Duration::from_secs(20),
            run_deadline: Duration::from_secs(4 * 3600),
            lease_ttl: Duration::from_secs(90),
        }
    }
}

/// Elements a guest's table may grow to (a Rust guest's function table is
/// a few thousand).
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// How often the epoch advances; deadlines are rounded up to ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// One origin the plugin may reach: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-cased host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// Explicit or default port.
    pub port: u16,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let default = if self.scheme == "https" { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            write!(f, "{}://{}", self.scheme, host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, host, self.port)
        }
    }
}

impl Origin {
    /// The origin of an absolute URL, if it has one.
    pub fn of_url(url: &url::Url) -> Option<Origin> {
        let host = match url.host()? {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => ip.to_string(),
        };
        Some(Origin {
            scheme: url.scheme().to_string(),
            host,
            port: url.port_or_known_default()?,
        })
    }
}

/// The origin the host grants a config, derived by the host itself from the
/// domain the admin typed (the plugin is not trusted to name its own egress).
/// `None` when the domain is not a usable origin: then nothing is allowed.
pub fn granted_origin(okta_domain: &str, development_mode: bool) -> Option<Origin> {
    let trimmed = okta_domain.trim().trim_end_matches('/');
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let url = url::Url::parse(&with_scheme).ok()?;
    let origin = Origin::of_url(&url)?;
    let scheme_ok = origin.scheme == "https" || (development_mode && origin.scheme == "http");
    scheme_ok.then_some(origin)
}

/// The egress decision for one request.
pub fn egress_allowed(allowed: Option<&Origin>, scheme: &str, authority: &str) -> bool {
    let Some(allowed) = allowed else { return false };
    let Ok(url) = url::Url::parse(&format!("{scheme}://{authority}/")) else {
        return false;
    };
    Origin::of_url(&url).as_ref() == Some(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_origin_normalises_the_admin_input() {
        let o = granted_origin("Acme.okta.com", false).unwrap();
        assert_eq!(o.to_string(), "https://acme.okta.com");
        let o = granted_origin("https://acme.okta.com/", false).unwrap();
        assert_eq!((o.host.as_str(), o.port), ("acme.okta.com", 443));
        assert!(granted_origin("http://127.0.0.1:8080", false).is_none());
        let o = granted_origin("http://127.0.0.1:8080", true).unwrap();
        assert_eq!(o.to_string(), "http://127.0.0.1:8080");
    }

    #[test]
    fn egress_is_exactly_the_granted_origin() {
        let o = granted_origin("https://acme.okta.com", false);
        assert!(egress_allowed(o.as_ref(), "https", "acme.okta.com"));
        assert!(egress_allowed(o.as_ref(), "https", "ACME.okta.com:443"));
        assert!(!egress_allowed(o.as_ref(), "http", "acme.okta.com"));
        assert!(!egress_allowed(o.as_ref(), "https", "acme.okta.com:8443"));
        assert!(!egress_allowed(o.as_ref(), "https", "evil.example"));
        assert!(!egress_allowed(
            o.as_ref(),
            "https",
            "acme.okta.com.evil.example"
        ));
        assert!(!egress_allowed(None, "https", "acme.okta.com"));
    }
}
