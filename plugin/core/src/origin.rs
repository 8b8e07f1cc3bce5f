//! The Okta origin: parsing the admin's "Okta Domain URL" into the one origin
//! the token may ever be sent to.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// URL scheme of an Okta origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `https`, the only scheme outside development mode.
    Https,
    /// `http`, development mode only (a local fake Okta).
    Http,
}

impl Scheme {
    /// The scheme as written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }
}

/// A normalised origin: lower-case host, no default port, no path.
/// Displays as `https://acme.okta.com` or `http://127.0.0.1:8080`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaOrigin {
    /// URL scheme.
    pub scheme: Scheme,
    /// Lower-case host name, or an IP literal (IPv6 without brackets).
    pub host: String,
    /// Explicit port; `None` for the scheme's default.
    pub port: Option<u16>,
}

impl fmt::Display for OktaOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme.as_str())?;
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        match self.port {
            Some(p) => write!(f, ":{p}"),
            None => Ok(()),
        }
    }
}

impl OktaOrigin {
    /// The absolute URL of a path (which must start with `/`) on this origin.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{self}{path_and_query}")
    }

    /// Whether an absolute URL points at exactly this origin. Used before
    /// following a `next` link, so the token never leaves the configured org.
    pub fn is_same_origin(&self, url: &str) -> bool {
        let Ok(parts) = split_url(url) else {
            return false;
        };
        let Some(scheme) = parts.scheme.as_deref().and_then(parse_scheme) else {
            return false;
        };
        let Ok((host, port)) = split_host_port(parts.authority) else {
            return false;
        };
        let port = port.and_then(|p| p.parse::<u16>().ok());
        let normalise = |s: Scheme, p: Option<u16>| p.unwrap_or(s.default_port());
        parts.userinfo.is_none()
            && scheme == self.scheme
            && host.trim_end_matches('.').eq_ignore_ascii_case(&self.host)
            && normalise(scheme, port) == normalise(self.scheme, self.port)
    }
}

/// The parts of a URL-ish string, without interpretation.
struct UrlParts<'a> {
    scheme: Option<String>,
    userinfo: Option<&'a str>,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn parse_scheme(s: &str) -> Option<Scheme> {
    match s {
        "https" => Some(Scheme::Https),
        "http" => Some(Scheme::Http),
        _ => None,
    }
}

fn split_url(input: &str) -> Result<UrlParts<'_>, String> {
    let (scheme, rest) = match input.find("://") {
        Some(i) => (Some(input[..i].to_ascii_lowercase()), &input[i + 3..]),
        None => (None, input),
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (rest, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (userinfo, authority) = match authority.rsplit_once('@') {
        Some((u, a)) => (Some(u), a),
        None => (None, authority),
    };
    Ok(UrlParts {
        scheme,
        userinfo,
        authority,
        path,
        query,
        fragment,
    })
}

/// Split `host[:port]` or `[v6][:port]`; the port is returned unparsed.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("The IPv6 address is missing its closing `]`.")?;
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((host, Some(p))),
                None => Err(format!("Unexpected `{after}` after the IPv6 address.")),
            },
        };
    }
    if authority.matches(':').count() > 1 {
        // A bare IPv6 literal: keep it whole so it is reported as such.
        return Ok((authority, None));
    }
    Ok(match authority.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    })
}

/// Okta-owned domains under which an org is exactly one label.
const OKTA_SUFFIXES: &[&str] = &[
    "okta.com",
    "oktapreview.com",
    "okta-emea.com",
    "okta-gov.com",
    "okta.mil",
];

const EXAMPLE: &str = "your-org.okta.com";

/// Parse the "Okta Domain URL" field into the origin the plugin will call.
///
/// Accepts `your-org.okta.com`, `https://your-org.okta.com[/]` and custom
/// domains; development mode also accepts `http://`, IP literals, `localhost`
/// and ports. The error is one sentence an admin can act on.
pub fn parse_okta_domain(input: &str, development_mode: bool) -> Result<OktaOrigin, String> {
    let input = input.trim();
    if input.is_empty() {
        return Err(format!("Enter your Okta domain, e.g. {EXAMPLE}."));
    }
    if input.chars().any(char::is_whitespace) {
        return Err("The Okta domain must not contain spaces or line breaks.".into());
    }
    let parts = split_url(input)?;
    let scheme = match parts.scheme.as_deref() {
        None => Scheme::Https,
        Some("https") => Scheme::Https,
        Some("http") if development_mode => Scheme::Http,
        Some("http") => {
            return Err(format!(
                "Okta must be reached over HTTPS: use https:// instead of http:// (e.g. https://{EXAMPLE})."
            ));
        }
        Some(other) => {
            return Err(format!(
                "`{other}://` is not a web address scheme: enter the domain as https://{EXAMPLE} or just {EXAMPLE}."
            ));
        }
    };
    if parts.userinfo.is_some() {
        return Err("Remove the user name or password (the part before `@`) from the Okta domain; the API token goes in the API Token field.".into());
    }
    if !parts.path.is_empty() && parts.path != "/" {
        return Err(format!(
            "Remove the path `{}`: enter only the Okta domain, e.g. {EXAMPLE}.",
            parts.path
        ));
    }
    if let Some(q) = parts.query {
        return Err(format!(
            "Remove the query `?{q}`: enter only the Okta domain, e.g. {EXAMPLE}."
        ));
    }
    if let Some(f) = parts.fragment {
        return Err(format!(
            "Remove the `#{f}` part: enter only the Okta domain, e.g. {EXAMPLE}."
        ));
    }
    let (raw_host, raw_port) = split_host_port(parts.authority)?;
    let port = match raw_port {
        None => None,
        Some(p) => Some(parse_port(p, development_mode)?),
    };
    let host = parse_host(raw_host, development_mode)?;
    let port = port.filter(|&p| p != scheme.default_port());
    Ok(OktaOrigin { scheme, host, port })
}

fn parse_port(p: &str, development_mode: bool) -> Result<u16, String> {
    if !development_mode {
        return Err(format!(
            "Remove the port `:{p}`: Okta is always reached on the standard HTTPS port."
        ));
    }
    match p.parse::<u16>() {
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(format!(
            "`{p}` is not a valid port: use a number from 1 to 65535."
        )),
    }
}

fn parse_host(raw: &str, development_mode: bool) -> Result<String, String> {
    if raw.is_empty() {
        return Err(format!(
            "The Okta domain has no host name: enter e.g. {EXAMPLE}."
        ));
    }
    let local_only = |what: &str| {
        Err(format!(
            "{what} is not an Okta domain: enter your org's domain, e.g. {EXAMPLE}."
        ))
    };
    if raw.contains(':') {
        return match raw.parse::<Ipv6Addr>() {
            Ok(ip) if development_mode => Ok(ip.to_string()),
            Ok(_) => local_only("An IP address"),
            Err(_) => Err(format!("`{raw}` is not a valid host name or IPv6 address.")),
        };
    }
    let host = raw.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return if development_mode {
            Ok(ip.to_string())
        } else {
            local_only("An IP address")
        };
    }
    if host == "localhost" || host.ends_with(".localhost") {
        return if development_mode {
            Ok(host)
        } else {
            local_only("`localhost`")
        };
    }
    check_host_name(&host)?;
    check_okta_org(&host)?;
    Ok(host)
}

fn check_host_name(host: &str) -> Result<(), String> {
    if !host.is_ascii() {
        return Err(format!(
            "`{host}` contains non-ASCII characters: enter the domain in its punycode (xn--) form."
        ));
    }
    if host.len() > 253 {
        return Err(
            "The Okta domain is longer than the 253 characters a host name may have.".into(),
        );
    }
    let labels: Vec<&str> = host.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return Err(format!("`{host}` has an empty part between dots."));
        }
        if label.len() > 63 {
            return Err(format!(
                "`{label}` is longer than the 63 characters a domain part may have."
            ));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "`{host}` contains `{c}`: a domain may only use letters, digits, hyphens and dots."
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("`{label}` may not start or end with a hyphen."));
        }
    }
    if labels.len() < 2 {
        return Err(format!(
            "`{host}` is not a full domain: enter e.g. {EXAMPLE}."
        ));
    }
    if labels
        .last()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "`{host}` is neither a valid domain nor an IP address."
        ));
    }
    Ok(())
}

/// Catch the two usual mix-ups with Okta-owned domains: the admin console
/// address and the bare Okta domain without an org.
fn check_okta_org(host: &str) -> Result<(), String> {
    for suffix in OKTA_SUFFIXES {
        if host == *suffix {
            return Err(format!(
                "`{host}` is Okta's own domain: enter your org's domain, e.g. {EXAMPLE}."
            ));
        }
        let Some(org) = host.strip_suffix(suffix).and_then(|h| h.strip_suffix('.')) else {
            continue;
        };
        if let Some(base) = org.strip_suffix("-admin").filter(|b| !b.contains('.')) {
            return Err(format!(
                "`{host}` is the Okta Admin Console address; use `{base}.{suffix}` (without `-admin`)."
            ));
        }
    }
    Ok(())
}
