//! Signing in to the console: the local admin password (`/signin`),
//! signing out (`/logout`), and the page naming who is signed in (`/me`).
//! Infraon Administrators may instead sign in with Okta (see `signin`).
//!
//! The password is kept only as an Argon2id hash (PHC string) in the state
//! directory, in a file only its owner may read; `serve` generates one and
//! prints it once, at first start.

use std::path::{Path, PathBuf};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use super::Console;
use super::guard::{Current, PAGE, PageContext};
use super::layout::{escape, notice, page, urlencode};
use super::session::{self, Principal};
use crate::bindings::infraon::okta::types::SyncTarget;

/// Where the hash lives, in the state directory.
pub const HASH_FILE: &str = "console-admin.phc";

/// The local admin password, as an Argon2id hash.
#[derive(Clone)]
pub struct AdminPassword {
    phc: String,
}

impl std::fmt::Debug for AdminPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminPassword(..)")
    }
}

impl AdminPassword {
    /// Hash `password` (Argon2id, its default cost, a random salt).
    pub fn from_plain(password: &str) -> anyhow::Result<Self> {
        let salt_bytes: [u8; 16] = rand::random();
        let salt = SaltString::encode_b64(&salt_bytes)
            .map_err(|e| anyhow::anyhow!("cannot make a salt: {e}"))?;
        let phc = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("cannot hash the admin password: {e}"))?
            .to_string();
        Ok(AdminPassword { phc })
    }

    /// Whether `password` is this one (constant-time inside argon2).
    pub fn verify(&self, password: &str) -> bool {
        PasswordHash::new(&self.phc).is_ok_and(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
    }

    /// The PHC string (`$argon2id$...`), as stored.
    pub fn phc(&self) -> &str {
        &self.phc
    }

    /// The password of `state_dir`: `chosen` when given (hashed and stored,
    /// replacing any), else the stored one, else a new random one, stored
    /// and returned in clear so the caller prints it this once.
    pub fn load_or_create(
        state_dir: &Path,
        chosen: Option<&str>,
    ) -> anyhow::Result<(Self, Option<String>)> {
        let file = hash_path(state_dir);
        if let Some(chosen) = chosen {
            anyhow::ensure!(
                chosen.chars().count() >= 12,
                "the console admin password must be at least 12 characters"
            );
            let pw = Self::from_plain(chosen)?;
            write_private(&file, pw.phc())?;
            return Ok((pw, None));
        }
        if let Ok(text) = std::fs::read_to_string(&file) {
            let phc = text.trim().to_string();
            anyhow::ensure!(
                PasswordHash::new(&phc).is_ok(),
                "{} is not an argon2 hash; delete it to get a new password",
                file.display()
            );
            return Ok((AdminPassword { phc }, None));
        }
        let plain = generate();
        let pw = Self::from_plain(&plain)?;
        write_private(&file, pw.phc())?;
        Ok((pw, Some(plain)))
    }
}

/// Where the hash of `state_dir` is kept.
pub fn hash_path(state_dir: &Path) -> PathBuf {
    state_dir.join(HASH_FILE)
}

/// 20 characters from an alphabet without look-alikes: about 110 bits.
fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..20)
        .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Write `text` to `path`, readable and writable by the owner only.
pub fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    Ok(())
}

/// `?next=` and `?done=` of the sign-in page.
#[derive(Deserialize, Default)]
pub struct SigninQuery {
    next: Option<String>,
    done: Option<String>,
}

/// Only a path of this console: never `//host` or a scheme.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/marketplace".to_string(),
    }
}

/// `GET /signin`.
pub async fn signin_page(State(console): State<Console>, Query(q): Query<SigninQuery>) -> Response {
    let top = match q.done.as_deref() {
        Some("out") => notice("ok", "status", "Signed out."),
        _ => String::new(),
    };
    render(&console, &top, q.next.as_deref(), StatusCode::OK).await
}

async fn render(console: &Console, top: &str, next: Option<&str>, status: StatusCode) -> Response {
    let next = local_path(next);
    let local = if console.admin.is_some() {
        format!(
            "<section><h2>Console administrator</h2>\
             <form method=\"post\" action=\"/signin\" id=\"signin-form\">\
             <input type=\"hidden\" name=\"next\" value=\"{next}\">\
             <label for=\"password\">Admin password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
             <p class=\"help\">Printed once by <code>harness serve</code> at its first start (or set with <code>--admin-password-file</code>).</p>\
             <button type=\"submit\" id=\"signin\">Sign in</button></form></section>",
            next = escape(&next)
        )
    } else {
        String::new()
    };
    let configs = console
        .runtime
        .configs()
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    let okta: String = configs
        .iter()
        .filter(|c| c.sync_target == SyncTarget::Users)
        .map(|c| {
            format!(
                "<a class=\"button secondary\" href=\"/login?config={}&amp;as=user\">Sign in with Okta ({})</a>",
                urlencode(&c.name),
                escape(&c.name)
            )
        })
        .collect();
    let okta = if okta.is_empty() {
        String::new()
    } else {
        format!(
            "<section><h2>Infraon Administrators</h2><p class=\"help\">Synced Users holding the \
             Administrator role, once the config's sign-in settings turn Okta sign-in on for Users.</p>{okta}</section>"
        )
    };
    page(status, "Sign in", &format!("{top}{local}{okta}"))
}

/// What the sign-in form posts.
#[derive(Deserialize)]
pub struct SigninForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /signin`: the local admin password.
pub async fn signin_submit(
    State(console): State<Console>,
    Extension(current): Extension<Current>,
    Form(form): Form<SigninForm>,
) -> Response {
    let Some(admin) = console.admin.clone() else {
        return render(
            &console,
            &notice("bad", "error", "This console has no local admin password."),
            form.next.as_deref(),
            StatusCode::FORBIDDEN,
        )
        .await;
    };
    // Argon2 takes tens of milliseconds on purpose: off the async workers.
    let password = form.password;
    let ok = tokio::task::spawn_blocking(move || admin.verify(&password))
        .await
        .unwrap_or(false);
    if !ok {
        return render(
            &console,
            &notice("bad", "error", "Wrong password."),
            form.next.as_deref(),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let mut resp = Redirect::to(&local_path(form.next.as_deref())).into_response();
    start_session(&console, &current, Principal::LocalAdmin, &mut resp);
    resp
}

/// Replace the browser's session with a new one for `principal` (a new id
/// and token: an id known before sign-in is worth nothing after it), and
/// set its cookie on `resp`.
pub fn start_session(
    console: &Console,
    current: &Current,
    principal: Principal,
    resp: &mut Response,
) -> PageContext {
    console.sessions.end(&current.id);
    let (id, session) = console.sessions.create(principal);
    let cookies = [
        session::cookie(session::COOKIE, &id, console.secure()),
        session::removal(session::ANONYMOUS_COOKIE, "/"),
    ];
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    PageContext {
        csrf: session.csrf,
        who: session.principal.label(),
    }
}

/// `POST /logout`: the session ends here and now.
pub async fn logout(
    State(console): State<Console>,
    Extension(current): Extension<Current>,
) -> Response {
    console.sessions.end(&current.id);
    let mut resp = Redirect::to("/signin?done=out").into_response();
    for c in [
        session::removal(session::COOKIE, "/"),
        session::removal(session::ANONYMOUS_COOKIE, "/"),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// `GET /me`: who this browser is signed in as.
pub async fn me(Extension(current): Extension<Current>) -> Response {
    let body = who_section(&current.session.principal);
    page(StatusCode::OK, "Signed in", &body)
}

/// The section naming `principal`, with a sign-out button.
pub fn who_section(principal: &Principal) -> String {
    let out = "<form method=\"post\" action=\"/logout\"><button type=\"submit\" id=\"logout\" class=\"secondary\">Sign out</button></form>";
    match principal {
        Principal::Anonymous => "<section><p id=\"who\">Nobody is signed in in this browser.</p>\
             <a class=\"button\" href=\"/signin\">Sign in</a></section>"
            .to_string(),
        Principal::LocalAdmin => format!(
            "<section><p id=\"who\">Signed in as the <strong>console administrator</strong>.</p>\
             <a class=\"button secondary\" href=\"/marketplace\">Marketplace</a>{out}</section>"
        ),
        Principal::Person(p) => {
            let kind = match p.kind {
                "user" => "an Infraon User",
                _ => "a Self-Service Portal Requester",
            };
            let roles = if p.roles.is_empty() {
                "none".to_string()
            } else {
                p.roles.join(", ")
            };
            let console = if principal.is_admin() {
                "<a class=\"button secondary\" id=\"to-console\" href=\"/marketplace\">Open the console</a>"
            } else {
                ""
            };
            format!(
                "<section><p id=\"who\">Signed in as <strong>{}</strong> ({}) as {kind}.</p>\
                 <p id=\"roles\">Roles: {}</p><p id=\"okta-id\">Okta id: {}</p>{console}{out}</section>",
                escape(&p.display_name),
                escape(&p.login),
                escape(&roles),
                escape(&p.external_id)
            )
        }
    }
}

/// Render `f` as the session `ctx` will see it (after a sign-in changed
/// the session within this request).
pub fn as_session(ctx: PageContext, f: impl FnOnce() -> Response) -> Response {
    PAGE.sync_scope(ctx, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_argon2id_and_checks_the_password() {
        let pw = AdminPassword::from_plain("correct horse battery").unwrap();
        assert!(pw.phc().starts_with("$argon2id$"));
        assert!(!pw.phc().contains("correct horse"));
        assert!(pw.verify("correct horse battery"));
        assert!(!pw.verify("correct horse batterx"));
    }

    #[test]
    fn a_new_password_is_printed_once_and_stored_only_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let (first, shown) = AdminPassword::load_or_create(dir.path(), None).unwrap();
        let shown = shown.expect("shown at first start");
        assert!(first.verify(&shown));
        let stored = std::fs::read_to_string(hash_path(dir.path())).unwrap();
        assert!(!stored.contains(&shown));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(hash_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, shown_again) = AdminPassword::load_or_create(dir.path(), None).unwrap();
        assert!(shown_again.is_none());
        assert!(again.verify(&shown));
        let (chosen, _) =
            AdminPassword::load_or_create(dir.path(), Some("a chosen passphrase")).unwrap();
        assert!(chosen.verify("a chosen passphrase") && !chosen.verify(&shown));
        assert!(AdminPassword::load_or_create(dir.path(), Some("short")).is_err());
    }

    #[test]
    fn next_stays_on_this_console() {
        assert_eq!(local_path(Some("/configs/a")), "/configs/a");
        assert_eq!(local_path(Some("//evil.example/")), "/marketplace");
        assert_eq!(local_path(Some("https://evil.example/")), "/marketplace");
        assert_eq!(local_path(Some("/\\evil.example")), "/marketplace");
        assert_eq!(local_path(None), "/marketplace");
    }
}
