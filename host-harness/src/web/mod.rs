//! The harness web console: the Marketplace screens of Infraon as an admin
//! meets them, served by `harness serve` on loopback.
//!
//! - [`marketplace`]: the Marketplace, the Okta plugin page, and the install
//!   form generated from `manifest.json` (Verify, then Install);
//! - [`settings`]: a config's Settings — Sync Now with live progress, run
//!   history, held runs, Export Unsynced Data, Schedule Sync, SSO settings;
//! - [`changes`]: who a run changes, person by person (paged, and as CSV),
//!   and Approve / Reject of a held run recorded with who and when;
//! - [`provision`]: provision one person on demand;
//! - [`edit`]: edit a config (rotate the API token, domain, Sync field
//!   with the migration rule, rehire policy);
//! - [`mapping`]: the Okta – Infraon Configuration editor (fields and role
//!   rules) with a preview on a real Okta user;
//! - [`people`]: the synced Users and Requesters;
//! - [`signin`]: Sign in with Okta (`/sso`, `/login`, `/callback/{config}`);
//! - [`hooks`]: the Okta Event Hook endpoint (`/hooks/okta/{config}`, for
//!   Okta, outside the console's checks) and its Settings section;
//! - [`admin`]: signing in to the console (the local admin password),
//!   signing out, and who is signed in;
//! - [`guard`]: what every request meets first: the `Host` allowlist, the
//!   session, and the refusal of cross-site state changes.
//!
//! Pages are server-rendered HTML with inline CSS and no scripts: the build
//! stays the two README commands, nothing is fetched from a CDN, and every
//! action is a plain form a headless browser can drive. No page ever
//! renders the API token or the client secret back: a verified form's
//! token waits server-side for its Install.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::routing::{get, post};

use crate::bindings::infraon::okta::types::{ConfigForm, InstallOptions};
use crate::runtime::Runtime;
use crate::serve::ScheduleLoop;

mod admin;
mod changes;
mod edit;
mod guard;
mod hooks;
mod keys;
mod layout;
mod manifest;
mod mapping;
mod marketplace;
mod people;
mod provision;
mod scope;
mod session;
mod settings;
mod signin;

pub use admin::{AdminPassword, hash_path as admin_hash_path};
pub use guard::CSRF_FIELD;
pub use manifest::Manifest;
pub use session::{ANONYMOUS_COOKIE, COOKIE as SESSION_COOKIE};
pub use settings::LiveRun;

/// What every page of the console shares.
#[derive(Clone)]
pub struct Console {
    runtime: Arc<Runtime>,
    /// `http://127.0.0.1:PORT`, as the browser reaches this server.
    base: String,
    /// The scheduler loop: Sync Now and scheduled fires never overlap.
    scheduler: ScheduleLoop,
    /// Whether development mode (a local fake Okta) may be used; `false`
    /// under `serve --production`, which refuses it wherever it is posted.
    development: bool,
    /// `Host` values this console answers to (`host:port`, lowercase).
    hosts: Vec<String>,
    /// The signed-in and anonymous sessions.
    sessions: session::Sessions,
    /// The local admin password; `None`: only Okta sign-in.
    admin: Option<Arc<AdminPassword>>,
    /// Sign-ins started, by `state`: the browser binding each must come
    /// back with.
    logins: signin::Logins,
    /// The last run started from the console, per config (live progress).
    live: Arc<Mutex<HashMap<String, LiveRun>>>,
    /// Forms that passed Verify, by ticket, until Install (tokens stay here,
    /// never in a page).
    verified: Arc<Mutex<HashMap<String, Verified>>>,
    /// Registers an OIDC client with the Okta the console runs beside (the
    /// fake Okta of `serve --fake-okta`), as an admin would in Okta's Admin
    /// Console, when sign-in settings are saved.
    register_client: Option<ClientRegistrar>,
}

/// Registers `(client id, client secret, redirect URI)` with an Okta org.
pub type ClientRegistrar = Arc<dyn Fn(&str, Option<&str>, &str) + Send + Sync>;

/// A form that passed Verify, kept server-side for the Install that follows.
#[derive(Clone)]
struct Verified {
    form: ConfigForm,
    options: InstallOptions,
    at: Instant,
}

impl Console {
    /// A console over `runtime`, reached by the browser at `base` (its
    /// only `Host`; with a loopback base, `localhost` at the same port too).
    /// `development` allows the development-mode install option (loopback
    /// and `http://` Okta domains, for the fake Okta); without it, the
    /// console refuses development mode wherever it is posted.
    pub fn new(
        runtime: Arc<Runtime>,
        base: String,
        scheduler: ScheduleLoop,
        development: bool,
    ) -> Self {
        let hosts = allowed_hosts(&base);
        Console {
            runtime,
            base,
            scheduler,
            development,
            hosts,
            sessions: session::Sessions::default(),
            admin: None,
            logins: signin::Logins::default(),
            live: Arc::default(),
            verified: Arc::default(),
            register_client: None,
        }
    }

    /// Let the local admin sign in with `password`.
    pub fn with_admin_password(mut self, password: AdminPassword) -> Self {
        self.admin = Some(Arc::new(password));
        self
    }

    /// `http` or `https`, from the base.
    fn scheme(&self) -> &'static str {
        if self.secure() { "https" } else { "http" }
    }

    /// Served over HTTPS (then cookies are `Secure`).
    fn secure(&self) -> bool {
        self.base.starts_with("https://")
    }

    /// Register OIDC clients with `registrar` when sign-in settings are saved.
    pub fn with_client_registrar(mut self, registrar: ClientRegistrar) -> Self {
        self.register_client = Some(registrar);
        self
    }

    /// Every route of the console.
    pub fn router(self) -> axum::Router {
        let guard = axum::middleware::from_fn_with_state(self.clone(), guard::guard);
        axum::Router::new()
            .route("/", get(marketplace::home))
            .route("/marketplace", get(marketplace::index))
            .route("/marketplace/okta", get(marketplace::plugin_page))
            .route(
                "/marketplace/okta/install",
                get(marketplace::install_form).post(marketplace::install_submit),
            )
            .route("/configs/{config}", get(settings::settings_page))
            .route("/configs/{config}/sync", post(settings::sync_now))
            .route("/configs/{config}/progress", get(settings::progress))
            .route(
                "/configs/{config}/runs/{id}/{decision}",
                post(changes::decide_held),
            )
            .route(
                "/configs/{config}/runs/{id}/changes",
                get(changes::changes_page),
            )
            .route(
                "/configs/{config}/runs/{id}/changes.csv",
                get(changes::changes_csv),
            )
            .route("/configs/{config}/provision", post(provision::provision))
            .route(
                "/configs/{config}/edit",
                get(edit::edit_page).post(edit::submit),
            )
            .route("/configs/{config}/rehire", post(edit::rehire))
            .route("/configs/{config}/unsynced.csv", get(settings::export_csv))
            .route("/configs/{config}/schedule", post(settings::schedule))
            .route("/configs/{config}/safeguard", post(settings::safeguard))
            .route(
                "/configs/{config}/scope",
                get(scope::scope_page).post(scope::submit),
            )
            .route("/configs/{config}/populations", post(scope::populations))
            .route("/configs/{config}/sso", post(settings::sso_settings))
            .route("/configs/{config}/verify", post(settings::verify_again))
            .route("/configs/{config}/uninstall", post(settings::uninstall))
            .route(
                "/configs/{config}/mapping",
                get(mapping::mapping_page).post(mapping::submit),
            )
            .route("/people/{kind}", get(people::list))
            .route("/sso", get(signin::index))
            .route("/login", get(signin::login))
            .route("/callback/{config}", get(signin::callback))
            .route(
                "/signin",
                get(admin::signin_page).post(admin::signin_submit),
            )
            .route("/logout", post(admin::logout))
            .route("/me", get(admin::me))
            .route("/configs/{config}/hooks/rotate", post(hooks::rotate))
            .route("/keys", get(keys::pick))
            .route("/configs/{config}/keys", get(keys::keys_page))
            .route("/configs/{config}/keys/add", post(keys::add))
            .route("/configs/{config}/keys/retire", post(keys::retire))
            // Unknown paths meet the guard too (Host, session), before 404.
            .fallback(not_found)
            .layer(guard)
            .with_state(self.clone())
            // Okta's deliveries: outside every console check (see `hooks`).
            .merge(hooks::router(self.runtime))
    }
}

/// Any path no screen serves.
async fn not_found() -> axum::response::Response {
    layout::page(
        axum::http::StatusCode::NOT_FOUND,
        "Not found",
        &layout::notice("bad", "error", "There is no such page."),
    )
}

/// The `Host` values a console at `base` answers to.
fn allowed_hosts(base: &str) -> Vec<String> {
    let Ok(url) = url::Url::parse(base) else {
        return Vec::new();
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let default_port = url.port().is_none();
    let with_port = |host: &str| {
        let mut v = vec![format!("{host}:{port}")];
        if default_port {
            v.push(host.to_string());
        }
        v
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let mut hosts = with_port(&host);
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if loopback && host != "localhost" {
        hosts.extend(with_port("localhost"));
    }
    hosts
}

/// The console over `runtime` with its own scheduler bookkeeping, in
/// development mode, with `admin_password` for the local admin (what tests
/// use).
pub fn router(runtime: Arc<Runtime>, base: String, admin_password: &str) -> axum::Router {
    let scheduler = ScheduleLoop::new(runtime.clone());
    let password = AdminPassword::from_plain(admin_password).expect("the password hashes");
    Console::new(runtime, base, scheduler, true)
        .with_admin_password(password)
        .router()
}

/// A [`ClientRegistrar`] for a fake Okta org: each saved client id gets
/// every redirect URI saved with it so far (one client may serve several
/// configs).
pub fn fake_okta_registrar(okta: Arc<fake_okta::FakeOkta>) -> ClientRegistrar {
    let uris: Mutex<HashMap<String, Vec<String>>> = Mutex::default();
    Arc::new(move |client_id, secret, redirect| {
        let mut uris = uris.lock().unwrap_or_else(|e| e.into_inner());
        let list = uris.entry(client_id.to_string()).or_default();
        if !list.iter().any(|u| u == redirect) {
            list.push(redirect.to_string());
        }
        okta.register_oidc_client(fake_okta::OidcClient {
            client_id: client_id.to_string(),
            client_secret: secret.map(String::from),
            redirect_uris: list.clone(),
        });
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn hosts_are_the_base_and_localhost_for_loopback() {
        assert_eq!(
            super::allowed_hosts("http://127.0.0.1:8080"),
            ["127.0.0.1:8080", "localhost:8080"]
        );
        assert_eq!(
            super::allowed_hosts("https://console.example.com"),
            ["console.example.com:443", "console.example.com"]
        );
    }
}
