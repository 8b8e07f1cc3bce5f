//! A fake Okta org on loopback, faithful enough for the plugin to be tested
//! against: seeded users and groups in the shapes of Okta's OpenAPI schemas,
//! `SSWS`/`Bearer` auth, `Link`-header paging with opaque cursors, `filter`
//! and `search`, per-minute rate limiting with `X-Rate-Limit-*` headers,
//! Okta error bodies, runtime fault injection ([`Faults`]) and mutations
//! for incremental-sync tests, and Okta Event Hooks: registration with the
//! one-time verification, a delivery per mutation, one retry on failure.
//!
//! It is also an OpenID Connect provider: the org authorization server
//! (issuer [`FakeOkta::url`]) and custom ones (`default` from the start),
//! with discovery, authorize, token, keys and userinfo. Register a client
//! with [`FakeOkta::register_oidc_client`]; the authorize endpoint signs in
//! the user named by `login_hint` (a login or a user id) without a
//! password, or shows a page listing users to pick. ID tokens are RS256
//! with deterministic per-server keys ([`FakeOkta::rotate_signing_key`]
//! rotates them); [`FakeOkta::sign_id_token`] and
//! [`FakeOkta::issue_code_with_id_token`] forge tokens for negative tests.
//! OIDC endpoints take no API token but share the rate limit and faults.
//!
//! The read endpoints' answers come from the [`model`]: a pure function of
//! the org and a request, which an in-memory client (the plugin's own
//! tests) calls without this server; the server adds what belongs to a
//! connection (auth, faults, latency, rate limits and their headers).
//!
//! Page sizes (default / maximum): users 200 / 200, groups 10,000 / 10,000,
//! group members 1,000 / 1,000 — Okta's documented values. A larger `limit`
//! is clamped, not rejected.
//!
//! Every org has the `BUILT_IN` Everyone group, every user a member of it.
//! Rate limits are per endpoint family, as Okta counts them (see
//! [`FakeOkta::set_family_rate_limit`]); each family starts with
//! [`FakeOktaOptions::rate_limit_per_minute`]. `filter` on users is
//! strongly consistent, as Okta documents it; the fake's `search` is too
//! (Okta's may lag), which a client must not rely on. Every request is kept
//! in [`FakeOkta::request_log`].
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let okta = fake_okta::FakeOkta::start(Default::default()).await?;
//! println!("{} token {}", okta.url(), okta.api_token());
//! okta.faults().fail_next(503, 2);
//! okta.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod api_auth;
mod clock;
mod errors;
mod faults;
mod filter;
mod gate;
mod groups;
mod handshake;
mod hooks;
mod hostile;
pub mod model;
mod oidc;
mod org;
mod paging;
mod people;
mod rate_limit;
mod real_org;
mod render;
mod routes;
mod seed;
mod snapshot;
mod users;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use api_auth::{AuthEntry, scope_for};
pub use faults::{FaultKind, FaultRule, Faults};
pub use hooks::{DeliveryAttempt, EventHook};
pub use oidc::service::{JWT_BEARER, ServiceApp};
pub use oidc::{ClientKey, IssParameter, OidcClient, OidcSwitches};
pub use org::{GroupType, UserStatus};
pub use real_org::Latency;
pub use render::CUSTOM_ATTRIBUTES;
pub use snapshot::{GroupInfo, OrgSnapshot, UserInfo};

use oidc::{OidcState, Server};
use org::Org;
use rate_limit::RateLimiter;

/// The shape of the seeded org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgSpec {
    /// Number of users (every status appears once there are 16 or more).
    pub users: usize,
    /// Number of groups (every tenth is an `APP_GROUP`, the rest `OKTA_GROUP`),
    /// besides the `BUILT_IN` Everyone group every org has (every user).
    pub groups: usize,
    /// Seed for the ChaCha RNG: same seed, same org.
    pub seed: u64,
    /// Average groups per user (each user gets this ±1).
    pub memberships_per_user: usize,
}

impl Default for OrgSpec {
    fn default() -> Self {
        OrgSpec {
            users: 50,
            groups: 10,
            seed: 42,
            memberships_per_user: 3,
        }
    }
}

/// How to start a [`FakeOkta`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeOktaOptions {
    /// The seeded org.
    pub org: OrgSpec,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// The API token clients must send (`SSWS <token>` or `Bearer <token>`).
    pub api_token: String,
    /// Requests allowed per one-minute window, in each endpoint family
    /// without one of its own, before 429 `E0000047`.
    pub rate_limit_per_minute: u32,
    /// Per-minute budgets of single endpoint families (see
    /// [`FakeOkta::set_family_rate_limit`]), overriding
    /// `rate_limit_per_minute` for them.
    pub family_rate_limits: Vec<(String, u32)>,
    /// Time every request takes (default: none).
    pub latency: Latency,
    /// Time a new connection takes before its first request reaches the
    /// org: a real one's TCP and TLS handshakes, paid once by a client that
    /// keeps connections alive (default: none).
    pub handshake: Duration,
    /// Requests the org answers at once, beyond which it answers 429
    /// `E0000047` with this limit in `X-Rate-Limit-Limit` (0: no limit,
    /// the default).
    pub concurrency_limit: u32,
}

/// Okta's documented per-minute budgets (Enterprise edition, the
/// management rate limits page) of the endpoint families a sync reads:
/// listing users 600, a user by id 1,000 (GET), listing groups 600, a
/// group by id 600, everything else under `/api/v1` 600. The page names no
/// figure of its own for a group's members (`/api/v1/groups/{id}/users`);
/// the fake keeps them in their own bucket at the groups listing's 600.
pub const OKTA_FAMILY_LIMITS: [(&str, u32); 6] = [
    ("users", 600),
    ("user", 1_000),
    ("groups", 600),
    ("group", 600),
    ("group-members", 600),
    ("other", 600),
];

/// Okta's documented org-wide concurrent request limit (Workforce and
/// Customer Identity orgs).
pub const OKTA_CONCURRENCY_LIMIT: u32 = 75;

impl FakeOktaOptions {
    /// These options with Okta's documented limits: [`OKTA_FAMILY_LIMITS`]
    /// and [`OKTA_CONCURRENCY_LIMIT`].
    pub fn with_okta_limits(mut self) -> Self {
        self.rate_limit_per_minute = 600;
        self.family_rate_limits = OKTA_FAMILY_LIMITS
            .iter()
            .map(|(f, n)| ((*f).to_owned(), *n))
            .collect();
        self.concurrency_limit = OKTA_CONCURRENCY_LIMIT;
        self
    }
}

/// A deterministic Okta-looking API token (`00` + 40 hex chars) for `seed`.
pub fn token_for_seed(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5353_5753_746f_6b65);
    let mut bytes = [0u8; 20];
    rng.fill_bytes(&mut bytes);
    format!("00{}", hex::encode(bytes))
}

impl Default for FakeOktaOptions {
    fn default() -> Self {
        let org = OrgSpec::default();
        FakeOktaOptions {
            api_token: token_for_seed(org.seed),
            org,
            port: 0,
            rate_limit_per_minute: 600,
            family_rate_limits: Vec::new(),
            latency: Latency::default(),
            handshake: Duration::ZERO,
            concurrency_limit: 0,
        }
    }
}

/// Requests [`FakeOkta::request_log`] keeps (the newest).
pub const MAX_LOGGED: usize = 100_000;

/// One request as the fake received and answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, as sent.
    pub path_and_query: String,
    /// The status answered.
    pub status: u16,
}

/// State shared by the server task and the [`FakeOkta`] handle.
pub(crate) struct Shared {
    org: RwLock<Org>,
    faults: Faults,
    rate: Mutex<RateLimiter>,
    /// The latency switch and its jitter's RNG.
    latency: Mutex<real_org::LatencyDraw>,
    /// Requests in flight and the org's limit on them.
    pub(crate) concurrency: real_org::ConcurrencyLimit,
    token: String,
    /// API tokens created after start, and tokens revoked (the first one
    /// included), as an admin rotates a token in Okta's Admin Console.
    tokens: Mutex<api_auth::ApiTokens>,
    requests: AtomicU64,
    /// TCP connections accepted.
    connections: Arc<AtomicU64>,
    log: Mutex<Vec<LoggedRequest>>,
    /// `http://127.0.0.1:PORT`, for `Link` URLs when a client sends no Host,
    /// and the base of every issuer.
    url: String,
    oidc: Mutex<OidcState>,
    /// Every request's method, path and auth scheme (never a credential).
    auth_log: Mutex<Vec<api_auth::AuthEntry>>,
    /// Registered event hooks, switches and the deliveries attempted.
    hooks: Mutex<hooks::HooksState>,
    /// To the task that sends event hook deliveries, in order.
    hook_tx: tokio::sync::mpsc::UnboundedSender<hooks::Job>,
}

impl Shared {
    // Poisoning only means a test thread panicked mid-mutation; the data is
    // still usable and the server must keep answering.
    pub(crate) fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(|e| e.into_inner())
    }

    fn org_mut(&self) -> RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn rate(&self) -> MutexGuard<'_, RateLimiter> {
        self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn api_tokens(&self) -> MutexGuard<'_, api_auth::ApiTokens> {
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `cred` is an API token of the org that is not revoked.
    pub(crate) fn api_token_valid(&self, cred: &str) -> bool {
        let tokens = self.api_tokens();
        (cred == self.token || tokens.created.iter().any(|t| t == cred))
            && !tokens.revoked.contains(cred)
    }

    /// The delay of the request being answered.
    pub(crate) fn latency(&self) -> Duration {
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .draw()
    }

    pub(crate) fn oidc(&self) -> MutexGuard<'_, OidcState> {
        self.oidc.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn auth_log(&self) -> MutexGuard<'_, Vec<api_auth::AuthEntry>> {
        self.auth_log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn hooks(&self) -> MutexGuard<'_, hooks::HooksState> {
        self.hooks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Keep a request in the log, the oldest dropped beyond [`MAX_LOGGED`].
    pub(crate) fn log_request(&self, entry: LoggedRequest) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= MAX_LOGGED {
            log.remove(0);
        }
        log.push(entry);
    }
}

/// A running fake Okta org. Dropping it stops the server; [`FakeOkta::shutdown`]
/// also waits for it to finish.
pub struct FakeOkta {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl FakeOkta {
    /// Seeds the org, binds 127.0.0.1:`port` and serves on a tokio task.
    pub async fn start(opts: FakeOktaOptions) -> anyhow::Result<FakeOkta> {
        let org = seed::build(&opts.org);
        let oidc = OidcState::new(opts.org.seed, seed::org_id(opts.org.seed, &org));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", opts.port))?;
        let addr = listener.local_addr()?;
        let (hook_tx, hook_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut rate = RateLimiter::new(opts.rate_limit_per_minute);
        for (family, limit) in &opts.family_rate_limits {
            rate.set_family_limit(family, *limit);
        }
        let shared = Arc::new(Shared {
            org: RwLock::new(org),
            faults: Faults::default(),
            rate: Mutex::new(rate),
            latency: Mutex::new(real_org::LatencyDraw::new(opts.latency, opts.org.seed)),
            concurrency: real_org::ConcurrencyLimit::new(opts.concurrency_limit),
            token: opts.api_token,
            tokens: Mutex::default(),
            requests: AtomicU64::new(0),
            connections: Arc::default(),
            log: Mutex::new(Vec::new()),
            url: format!("http://{addr}"),
            oidc: Mutex::new(oidc),
            auth_log: Mutex::new(Vec::new()),
            hooks: Mutex::default(),
            hook_tx,
        });
        tokio::spawn(hooks::sender(Arc::downgrade(&shared), hook_rx));
        let app = routes::router(shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let listener =
            handshake::Listener::new(listener, opts.handshake, shared.connections.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "fake Okta server stopped");
            }
        });
        tracing::debug!(%addr, "fake Okta listening");
        Ok(FakeOkta {
            shared,
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The token clients must present.
    pub fn api_token(&self) -> &str {
        &self.shared.token
    }

    /// Create another API token (Okta: Security > API > Tokens > Create
    /// token); it works beside the others until revoked.
    pub fn create_api_token(&self) -> String {
        self.shared.api_tokens().create(&self.shared.token)
    }

    /// Revoke an API token: from now on Okta answers it 401 E0000011.
    pub fn revoke_api_token(&self, token: &str) {
        self.shared.api_tokens().revoked.insert(token.to_owned());
    }

    /// Runtime fault knobs; changes apply to the next request.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The [`model`]'s answer for the org as it is now, with no request
    /// sent (no auth, faults, latency or rate limit): what the server
    /// answers `GET path_and_query` with, its links on [`FakeOkta::url`].
    pub fn answer_in_memory(&self, path_and_query: &str) -> model::Answer {
        model::answer(&self.shared.org(), &self.url(), "GET", path_and_query)
    }

    /// A copy of the org as it is now.
    pub fn org(&self) -> OrgSnapshot {
        OrgSnapshot::of(&self.shared.org())
    }

    /// A user's JSON exactly as a list endpoint serves it (links use
    /// [`FakeOkta::url`]), or `None` if there is no such user.
    pub fn user_json(&self, id: &str) -> Option<Value> {
        let org = self.shared.org();
        let (key, u) = org.find_user(id)?;
        Some(render::user(&self.url(), &org, key, u, false))
    }

    /// HTTP requests received so far, whatever their outcome.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far: a client that keeps connections
    /// alive opens far fewer than it sends requests.
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// The requests received so far (the newest [`MAX_LOGGED`]), in order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forgets the request log.
    pub fn clear_request_log(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Merges `changes` into a user's profile and bumps `lastUpdated`.
    pub fn update_user_profile(&self, id: &str, changes: Map<String, Value>) -> anyhow::Result<()> {
        self.shared.org_mut().update_profile(id, changes)?;
        self.emit_user(
            "user.account.update_profile",
            "Update user profile for Okta",
            id,
            None,
        );
        Ok(())
    }

    /// Changes a user's status, bumping `statusChanged` and `lastUpdated`.
    pub fn set_user_status(&self, id: &str, status: UserStatus) -> anyhow::Result<()> {
        let before = self.shared.org().user_status(id);
        self.shared.org_mut().set_status(id, status)?;
        if before == Some(status) {
            return Ok(());
        }
        let (kind, message) = match (before, status) {
            (_, UserStatus::Deprovisioned) => ("user.lifecycle.deactivate", "Deactivate Okta user"),
            (_, UserStatus::Suspended) => ("user.lifecycle.suspend", "Suspend Okta user"),
            (Some(UserStatus::Suspended), _) => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
            (_, UserStatus::LockedOut) => ("user.account.lock", "Max sign in attempts exceeded"),
            (Some(UserStatus::LockedOut), _) => ("user.account.unlock", "Unlock user account"),
            (Some(UserStatus::Deprovisioned), _) => {
                ("user.lifecycle.reactivate", "Reactivate Okta user")
            }
            _ => ("user.lifecycle.activate", "Activate Okta user"),
        };
        self.emit_user(kind, message, id, None);
        Ok(())
    }

    /// Deletes a user outright (gone from every endpoint and group).
    pub fn delete_user(&self, id: &str) -> anyhow::Result<()> {
        let event = self.user_event(
            "user.lifecycle.delete.initiated",
            "Delete Okta user",
            id,
            None,
        );
        self.shared.org_mut().delete_user(id)?;
        self.send_event(event);
        Ok(())
    }

    /// Adds a user; `profile` needs string `login`, `email`, `firstName`,
    /// `lastName`. Returns the new id.
    pub fn add_user(
        &self,
        profile: Map<String, Value>,
        status: UserStatus,
    ) -> anyhow::Result<String> {
        self.shared.org_mut().add_user(profile, status)
    }

    /// Adds a user to a group, bumping the group's `lastMembershipUpdated`.
    pub fn add_group_member(&self, group_id: &str, user_id: &str) -> anyhow::Result<()> {
        self.shared
            .org_mut()
            .set_membership(group_id, user_id, true)?;
        let message = "Add user to group membership";
        self.emit_user(
            "group.user_membership.add",
            message,
            user_id,
            Some(group_id),
        );
        Ok(())
    }

    /// Removes a user from a group, bumping `lastMembershipUpdated`.
    pub fn remove_group_member(&self, group_id: &str, user_id: &str) -> anyhow::Result<()> {
        self.shared
            .org_mut()
            .set_membership(group_id, user_id, false)?;
        let message = "Remove user from group membership";
        self.emit_user(
            "group.user_membership.remove",
            message,
            user_id,
            Some(group_id),
        );
        Ok(())
    }

    /// Deletes a group (Everyone cannot be deleted, as in Okta); its
    /// memberships go with it.
    pub fn delete_group(&self, group_id: &str) -> anyhow::Result<()> {
        let name = self.shared.org().group_name(group_id).unwrap_or_default();
        self.shared.org_mut().delete_group(group_id)?;
        let target = (group_id.to_owned(), "UserGroup", name.clone(), name);
        self.send_event(hooks::event(
            "group.lifecycle.delete",
            "Delete Okta group",
            &[target],
        ));
        Ok(())
    }

    /// Registers an event hook as an admin does in Okta (Workflow > Event
    /// Hooks > Create, then Verify): Okta's one-time verification `GET` is
    /// sent first, and the hook is kept only if the endpoint answers it.
    pub async fn register_event_hook(&self, hook: EventHook) -> anyhow::Result<()> {
        hooks::verify(&reqwest::Client::new(), &hook).await?;
        self.shared.hooks().hooks.push(hook);
        Ok(())
    }

    /// Every event hook delivery attempted so far, retries included.
    pub fn event_deliveries(&self) -> Vec<DeliveryAttempt> {
        self.shared.hooks().attempts.clone()
    }

    /// Send every delivery from now on twice (as Okta may).
    pub fn duplicate_event_deliveries(&self, on: bool) {
        self.shared.hooks().duplicate = on;
    }

    /// Hold deliveries back until [`FakeOkta::release_event_deliveries_newest_first`].
    pub fn hold_event_deliveries(&self) {
        self.shared.hooks().hold = true;
    }

    /// Send the held deliveries, newest event first (out of order), and
    /// stop holding.
    pub fn release_event_deliveries_newest_first(&self) {
        let mut state = self.shared.hooks();
        state.hold = false;
        let held = std::mem::take(&mut state.held);
        for (hook, event) in held.into_iter().rev() {
            let _ = self.shared.hook_tx.send(hooks::Job { hook, event });
        }
    }

    /// An event about a user (and a group), built from the org as it is now.
    fn user_event(&self, kind: &str, message: &str, user: &str, group: Option<&str>) -> Value {
        let org = self.shared.org();
        let (alt, name) = org.user_target(user).unwrap_or_default();
        let mut targets = vec![(user.to_owned(), "User", alt, name)];
        if let Some(g) = group {
            let gname = org.group_name(g).unwrap_or_default();
            targets.push((g.to_owned(), "UserGroup", gname.clone(), gname));
        }
        hooks::event(kind, message, &targets)
    }

    fn emit_user(&self, kind: &str, message: &str, user: &str, group: Option<&str>) {
        // Mutating 100,000 users in a bench builds no events nobody hears.
        if self.shared.hooks().hooks.is_empty() {
            return;
        }
        let event = self.user_event(kind, message, user, group);
        self.send_event(event);
    }

    fn send_event(&self, event: Value) {
        hooks::emit(&mut self.shared.hooks(), &self.shared.hook_tx, event);
    }

    /// Renames and/or re-describes a group, bumping its `lastUpdated`.
    pub fn update_group_profile(
        &self,
        group_id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> anyhow::Result<()> {
        self.shared
            .org_mut()
            .update_group(group_id, name, description)
    }

    /// Adds an empty `OKTA_GROUP`; returns its id.
    pub fn add_group(&self, name: &str, description: &str) -> String {
        self.shared.org_mut().add_group(name, description)
    }

    /// Pins the clock mutations stamp with (`None`: wall clock). Stamps stay
    /// strictly increasing either way, 1 ms apart when pinned.
    pub fn pin_clock(&self, at: Option<DateTime<Utc>>) {
        self.shared.org_mut().clock.pin(at);
    }

    /// Changes the per-minute budget of every endpoint family without one
    /// of its own, from the next request on.
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.shared.rate().set_limit(per_minute);
    }

    /// Gives one endpoint family its own per-minute budget: `users`
    /// (`/api/v1/users`), `user` (`/api/v1/users/{id}...`), `groups`
    /// (`/api/v1/groups`), `group` (`/api/v1/groups/{id}`), `group-members`
    /// (`/api/v1/groups/{id}/users`), `oidc` or `other`.
    pub fn set_family_rate_limit(&self, family: &str, per_minute: u32) {
        self.shared.rate().set_family_limit(family, per_minute);
    }

    /// Every request from now on takes `latency` (fixed plus jitter)
    /// before it is answered, holding its place among those in flight.
    pub fn set_latency(&self, latency: Latency) {
        self.shared
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set(latency);
    }

    /// Requests the org answers at once from now on (0: no limit).
    pub fn set_concurrency_limit(&self, limit: u32) {
        self.shared.concurrency.set(limit);
    }

    /// Requests being answered right now.
    pub fn in_flight(&self) -> u32 {
        self.shared.concurrency.in_flight()
    }

    /// Forgets the requests spent in the current window.
    pub fn reset_rate_limit(&self) {
        self.shared.rate().reset();
    }

    /// Makes the OIDC endpoints behave as another provider would (see
    /// [`OidcSwitches`]); the default switches answer as Okta does.
    pub fn set_oidc_switches(&self, switches: OidcSwitches) {
        self.shared.oidc().switches = switches;
    }

    /// Registers an OIDC client app (replacing one with the same id).
    pub fn register_oidc_client(&self, client: OidcClient) {
        self.shared
            .oidc()
            .clients
            .insert(client.client_id.clone(), client);
    }

    /// Registers an OAuth 2.0 service app (an "API Services" app with
    /// `private_key_jwt` client authentication), replacing one with the
    /// same client id: its public JWKs, granted Okta API scopes and
    /// whether it requires DPoP.
    pub fn register_service_app(&self, app: ServiceApp) {
        self.shared
            .oidc()
            .service
            .apps
            .insert(app.client_id.clone(), app);
    }

    /// The registered service app with this client id.
    pub fn service_app(&self, client_id: &str) -> Option<ServiceApp> {
        self.shared.oidc().service.apps.get(client_id).cloned()
    }

    /// Replaces the granted scopes of a service app; tokens already
    /// issued keep the scopes they were issued with, as in Okta.
    pub fn grant_service_scopes(&self, client_id: &str, scopes: &[&str]) {
        if let Some(app) = self.shared.oidc().service.apps.get_mut(client_id) {
            app.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        }
    }

    /// Lifetime in seconds of service-app access tokens issued from now on
    /// (Okta's is 3600).
    pub fn set_service_token_lifetime(&self, secs: i64) {
        self.shared.oidc().service.lifetime = secs;
    }

    /// Makes every service-app access token issued so far expired.
    pub fn expire_service_tokens(&self) {
        for t in self.shared.oidc().service.tokens.values_mut() {
            t.expires_at = 0;
        }
    }

    /// Service-app access tokens issued so far (expired ones included
    /// until the API meets them).
    pub fn service_tokens_issued(&self) -> usize {
        self.shared.oidc().service.tokens.len()
    }

    /// The service-app access tokens issued so far, for secret searches
    /// (where they must never turn up).
    pub fn issued_service_tokens(&self) -> Vec<String> {
        self.shared.oidc().service.tokens.keys().cloned().collect()
    }

    /// Why the token endpoint refused each client assertion it refused,
    /// oldest first.
    pub fn refused_assertions(&self) -> Vec<String> {
        self.shared.oidc().service.refused.clone()
    }

    /// The DPoP nonce changes, as Okta's does over time: the next token
    /// request is answered `use_dpop_nonce` with the new one.
    pub fn rotate_dpop_nonce(&self) {
        self.shared.oidc().service.rotate_nonce();
    }

    /// Every request so far: method, path, `Authorization` scheme (never
    /// the credential) and whether a DPoP proof came along.
    pub fn auth_log(&self) -> Vec<AuthEntry> {
        self.shared.auth_log().clone()
    }

    /// Adds a custom authorization server (a no-op if it exists) and returns
    /// its issuer, `{url}/oauth2/{id}`.
    pub fn add_authorization_server(&self, id: &str) -> String {
        let server = Server::Custom(id.to_owned());
        let issuer = server.issuer(&self.shared.url);
        self.shared.oidc().servers.entry(server).or_default();
        issuer
    }

    /// The issuer of the org authorization server (`None`, the same as
    /// [`FakeOkta::url`]) or of the custom server with this id.
    pub fn issuer(&self, authorization_server: Option<&str>) -> String {
        server_of(authorization_server).issuer(&self.shared.url)
    }

    /// The `kid` that server signs with now, or `None` if there is no such
    /// server. May block for about a second the first time a key is needed.
    pub fn signing_kid(&self, authorization_server: Option<&str>) -> Option<String> {
        let server = server_of(authorization_server);
        let seed = {
            let oidc = self.shared.oidc();
            oidc.servers
                .contains_key(&server)
                .then(|| oidc.signer(&server))?
        };
        Some(oidc::keys::key(&seed).kid.clone())
    }

    /// Every authorization server gets a new signing key; the previous ones
    /// stay in the JWKS (see [`FakeOkta::retire_old_signing_keys`]), so a
    /// client holding a cached JWKS meets an unknown `kid` and must refetch.
    pub fn rotate_signing_key(&self) {
        for ring in self.shared.oidc().servers.values_mut() {
            ring.rotate();
        }
    }

    /// Drops every key but the current signer from each server's JWKS.
    pub fn retire_old_signing_keys(&self) {
        for ring in self.shared.oidc().servers.values_mut() {
            ring.retire_old();
        }
    }

    /// Signs `claims` as a compact RS256 JWT with the current key of the
    /// server whose issuer equals `claims.iss` (the org server otherwise).
    /// `header` is used as given, so it may lie (`alg: "none"`, a foreign
    /// `kid`); a missing `alg` becomes `RS256` and a missing `kid` the
    /// signer's. May block for about a second the first time a key is needed.
    pub fn sign_id_token(&self, claims: Value, header: Value) -> String {
        let seed = {
            let oidc = self.shared.oidc();
            let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
            let server = oidc
                .server_by_issuer(&self.shared.url, iss)
                .unwrap_or(Server::Org);
            oidc.signer(&server)
        };
        oidc::sign(&oidc::keys::key(&seed), &header, &claims)
    }

    /// Issues an authorization code, as a sign-in would, whose redemption
    /// at any server's token endpoint returns `id_token` verbatim. The code
    /// is bound to `client_id` and `redirect_uri` and, with
    /// `code_challenge`, to an S256 PKCE verifier; it is single-use and
    /// expires like any other. Its access token opens nothing.
    pub fn issue_code_with_id_token(
        &self,
        client_id: &str,
        redirect_uri: &str,
        id_token: String,
        code_challenge: Option<String>,
    ) -> String {
        let code = errors::random_token(43);
        let grant = oidc::Grant {
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            server: None,
            user_id: None,
            nonce: None,
            scopes: vec!["openid".into()],
            code_challenge,
            auth_time: oidc::now_epoch(),
            expires: std::time::Instant::now() + oidc::CODE_LIFETIME,
            forced_id_token: Some(id_token),
        };
        self.shared.oidc().codes.insert(code.clone(), grant);
        code
    }

    /// Makes every authorization code issued so far expired, as if its
    /// 60 seconds had passed.
    pub fn expire_authorization_codes(&self) {
        let now = std::time::Instant::now();
        for grant in self.shared.oidc().codes.values_mut() {
            grant.expires = now;
        }
    }

    /// Stops accepting requests and waits (up to 5 s) for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            // Idle keep-alive connections can hold graceful shutdown open.
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

fn server_of(authorization_server: Option<&str>) -> Server {
    authorization_server.map_or(Server::Org, |id| Server::Custom(id.to_owned()))
}

impl Drop for FakeOkta {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A [`FakeOkta`] on its own tokio runtime, for synchronous callers
/// (blocking HTTP clients cannot run inside an async runtime).
pub struct BlockingFakeOkta {
    okta: Option<FakeOkta>,
    runtime: tokio::runtime::Runtime,
}

impl BlockingFakeOkta {
    /// Starts the server on a fresh two-thread runtime.
    pub fn start(opts: FakeOktaOptions) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let okta = runtime.block_on(FakeOkta::start(opts))?;
        Ok(BlockingFakeOkta {
            okta: Some(okta),
            runtime,
        })
    }
}

impl std::ops::Deref for BlockingFakeOkta {
    type Target = FakeOkta;
    fn deref(&self) -> &FakeOkta {
        self.okta.as_ref().expect("present until drop")
    }
}

impl Drop for BlockingFakeOkta {
    fn drop(&mut self) {
        if let Some(okta) = self.okta.take() {
            self.runtime.block_on(okta.shutdown());
        }
    }
}
