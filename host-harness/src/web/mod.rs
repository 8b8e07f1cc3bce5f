//! The harness web console: the Marketplace screens of Infraon as an admin
//! meets them, served by `harness serve` on loopback.
//!
//! - [`marketplace`]: the Marketplace, the Okta plugin page, and the install
//!   form generated from `manifest.json` (Verify, then Install);
//! - [`settings`]: a config's Settings — Sync Now with live progress, run
//!   history, held runs, Export Unsynced Data, Schedule Sync, SSO settings;
//! - [`mapping`]: the Okta – Infraon Configuration editor (fields and role
//!   rules) with a preview on a real Okta user;
//! - [`people`]: the synced Users and Requesters;
//! - [`signin`]: Sign in with Okta (`/sso`, `/login`, `/callback/{config}`);
//! - [`hooks`]: the Okta Event Hook endpoint (`/hooks/okta/{config}`, for
//!   Okta, outside the console's checks) and its Settings section.
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

mod hooks;
mod layout;
mod manifest;
mod mapping;
mod marketplace;
mod people;
mod settings;
mod signin;

pub use manifest::Manifest;
pub use settings::LiveRun;

/// What every page of the console shares.
#[derive(Clone)]
pub struct Console {
    runtime: Arc<Runtime>,
    /// `http://127.0.0.1:PORT`, as the browser reaches this server.
    base: String,
    /// The scheduler loop: Sync Now and scheduled fires never overlap.
    scheduler: ScheduleLoop,
    /// Whether the install form offers development mode (a local fake Okta).
    development: bool,
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
    /// A console over `runtime`, reached by the browser at `base`.
    /// `development` offers the development-mode install option (loopback
    /// and `http://` Okta domains, for the fake Okta).
    pub fn new(
        runtime: Arc<Runtime>,
        base: String,
        scheduler: ScheduleLoop,
        development: bool,
    ) -> Self {
        Console {
            runtime,
            base,
            scheduler,
            development,
            live: Arc::default(),
            verified: Arc::default(),
            register_client: None,
        }
    }

    /// Register OIDC clients with `registrar` when sign-in settings are saved.
    pub fn with_client_registrar(mut self, registrar: ClientRegistrar) -> Self {
        self.register_client = Some(registrar);
        self
    }

    /// Every route of the console.
    pub fn router(self) -> axum::Router {
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
                post(settings::decide_held),
            )
            .route("/configs/{config}/unsynced.csv", get(settings::export_csv))
            .route("/configs/{config}/schedule", post(settings::schedule))
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
            .route("/configs/{config}/hooks/rotate", post(hooks::rotate))
            .with_state(self.clone())
            // Okta's deliveries: outside every console check (see `hooks`).
            .merge(hooks::router(self.runtime))
    }
}

/// The console over `runtime` with its own scheduler bookkeeping, in
/// development mode (what tests and `serve` against the fake Okta use).
pub fn router(runtime: Arc<Runtime>, base: String) -> axum::Router {
    let scheduler = ScheduleLoop::new(runtime.clone());
    Console::new(runtime, base, scheduler, true).router()
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
