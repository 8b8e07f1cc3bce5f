//! Console sessions: who a browser is signed in as, and the form token its
//! pages carry. Kept in memory: a restart signs everyone out, as it should
//! for a harness; nothing about a session is ever written to disk.
//!
//! Every browser gets a session on its first visit (so even the sign-in
//! form carries a token, which stops login CSRF); signing in replaces it
//! with a fresh one (new id, new token), so an id planted before sign-in
//! is worth nothing after it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The cookie of a signed-in session.
pub const COOKIE: &str = "infraon_session";

/// The cookie of a browser nobody has signed in with yet. A separate name,
/// so that a visit arriving from another site (which, `SameSite=Strict`,
/// carries no cookie) never overwrites a signed-in session's cookie.
pub const ANONYMOUS_COOKIE: &str = "infraon_visit";

/// A signed-in session ends this long after sign-in, whatever happens.
pub const LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// A session unused this long ends (a console left open over lunch).
pub const IDLE: Duration = Duration::from_secs(30 * 60);

/// Sessions kept at most; the least recently used go first. Bounds what
/// a client minting anonymous sessions can make the server hold.
const MAX_SESSIONS: usize = 10_000;

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Nobody has signed in yet in this browser.
    Anonymous,
    /// The local console administrator (the password printed at first start).
    LocalAdmin,
    /// A person who signed in with Okta.
    Person(SignedInPerson),
}

/// A person signed in with Okta, as the sign-in resolved them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInPerson {
    /// The config they signed in through.
    pub config: String,
    /// `user` or `requester`.
    pub kind: &'static str,
    /// Display name.
    pub display_name: String,
    /// Okta login.
    pub login: String,
    /// Okta user id.
    pub external_id: String,
    /// Infraon roles.
    pub roles: Vec<String>,
}

/// The Infraon role that may use the console.
pub const ADMIN_ROLE: &str = "Administrator";

impl Principal {
    /// Whether this principal may use the admin console: the local admin,
    /// or an Infraon User holding the Administrator role.
    pub fn is_admin(&self) -> bool {
        match self {
            Principal::Anonymous => false,
            Principal::LocalAdmin => true,
            Principal::Person(p) => {
                p.kind == "user" && p.roles.iter().any(|r| r.eq_ignore_ascii_case(ADMIN_ROLE))
            }
        }
    }

    /// How the page header names who is signed in.
    pub fn label(&self) -> Option<String> {
        match self {
            Principal::Anonymous => None,
            Principal::LocalAdmin => Some("console administrator".into()),
            Principal::Person(p) => Some(format!("{} ({})", p.display_name, p.login)),
        }
    }
}

/// One browser's session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The synchronizer token every state-changing form must post back.
    pub csrf: String,
    /// Who signed in.
    pub principal: Principal,
    created: Instant,
    last_seen: Instant,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        let lifetime = match self.principal {
            Principal::Anonymous => IDLE,
            _ => LIFETIME,
        };
        now.duration_since(self.created) >= lifetime || now.duration_since(self.last_seen) >= IDLE
    }
}

/// Every live session, by id.
#[derive(Clone, Default)]
pub struct Sessions(Arc<Mutex<HashMap<String, Session>>>);

/// 128 random bits, hex: session ids, form tokens, login bindings.
pub fn random_id() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// The live session `id`, touched; `None` when unknown or expired.
    pub fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match map.get_mut(id) {
            Some(s) if !s.expired(now) => {
                s.last_seen = now;
                Some(s.clone())
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// A new session for `principal`; returns its id and the session.
    pub fn create(&self, principal: Principal) -> (String, Session) {
        let now = Instant::now();
        let session = Session {
            csrf: random_id(),
            principal,
            created: now,
            last_seen: now,
        };
        let id = random_id();
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| !s.expired(now));
        }
        if map.len() >= MAX_SESSIONS {
            // Anonymous ones first: nobody loses a signed-in session to a
            // flood of first visits.
            let victim = map
                .iter()
                .min_by_key(|(_, s)| (s.principal != Principal::Anonymous, s.last_seen))
                .map(|(k, _)| k.clone());
            if let Some(k) = victim {
                map.remove(&k);
            }
        }
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    /// Ends session `id` (sign out, or replaced at sign-in).
    pub fn end(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

/// The `Set-Cookie` value of session `id` under cookie `name`; `secure`
/// when the console is served over HTTPS.
pub fn cookie(name: &str, id: &str, secure: bool) -> String {
    format!(
        "{name}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// A `Set-Cookie` value that removes cookie `name` at `path`.
pub fn removal(name: &str, path: &str) -> String {
    format!("{name}=; Path={path}; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn read_cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(kind: &'static str, roles: &[&str]) -> Principal {
        Principal::Person(SignedInPerson {
            config: "acme".into(),
            kind,
            display_name: "Pat".into(),
            login: "pat@example.com".into(),
            external_id: "00u1".into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        })
    }

    #[test]
    fn only_the_local_admin_and_administrator_users_are_admins() {
        assert!(Principal::LocalAdmin.is_admin());
        assert!(!Principal::Anonymous.is_admin());
        assert!(person("user", &["Technician", "administrator"]).is_admin());
        assert!(!person("user", &["Technician"]).is_admin());
        // A requester holding a role named like it is still no admin.
        assert!(!person("requester", &["Administrator"]).is_admin());
    }

    #[test]
    fn sessions_end_and_ids_are_not_reused() {
        let s = Sessions::default();
        let (a, sa) = s.create(Principal::LocalAdmin);
        let (b, sb) = s.create(Principal::LocalAdmin);
        assert_ne!(a, b);
        assert_ne!(sa.csrf, sb.csrf);
        assert_eq!(s.get(&a).unwrap().csrf, sa.csrf);
        s.end(&a);
        assert!(s.get(&a).is_none());
        assert!(s.get(&b).is_some());
    }

    #[test]
    fn cookies_are_http_only_and_strict() {
        let c = cookie(COOKIE, "abc", false);
        assert!(c.starts_with("infraon_session=abc;"));
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Max-Age="));
        assert!(!c.contains("Secure"));
        assert!(cookie(COOKIE, "abc", true).ends_with("; Secure"));
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "x=1; infraon_session=abc ; y=2".parse().unwrap());
        assert_eq!(read_cookie(&h, COOKIE).as_deref(), Some("abc"));
        assert_eq!(read_cookie(&h, "z"), None);
    }
}
