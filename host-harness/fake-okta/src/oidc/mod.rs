//! OpenID Connect: the org authorization server (issuer = the org's URL)
//! and custom ones (issuer = `{url}/oauth2/{id}`; `default` exists from the
//! start), each with discovery, authorize, token, keys and userinfo.
//!
//! What the fake supports: `response_type=code` with `response_mode=query`,
//! PKCE `S256`, client authentication `client_secret_basic`,
//! `client_secret_post` and `none` (public clients, which must use PKCE),
//! and `grant_type=authorization_code`. The user to sign in is chosen with
//! `login_hint` (a login or a user id) on the authorize request; without it
//! the authorize page lists users to pick from. Only `ACTIVE` users sign in.
//!
//! Each server has its own keys, as in Okta; see [`keys`] for how they are
//! made and rotated.

mod authorize;
mod client_key;
mod discovery;
mod jws;
mod jwt;
pub(crate) mod keys;
pub(crate) mod service;
mod token;
mod userinfo;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value};

use crate::Shared;
use crate::errors::OktaError;
use crate::org::{Org, UserStatus, id_str};

pub use client_key::ClientKey;
pub(crate) use jwt::sign;
pub(crate) use keys::KeyRing;

/// An OIDC app integration registered on the fake Okta.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcClient {
    /// The `client_id`.
    pub client_id: String,
    /// The secret of a confidential client (`client_secret_basic` or
    /// `client_secret_post`); `None` for a public client, which must use PKCE.
    pub client_secret: Option<String>,
    /// The exact redirect URIs authorize accepts.
    pub redirect_uris: Vec<String>,
}

/// Switches that make the fake behave as other standard OpenID providers
/// (or misbehaving ones) do, for the relying party's tests. All off by
/// default: the fake then answers as Okta does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcSwitches {
    /// ID tokens name this audience besides the client (`aud` a list, no
    /// `azp`): OpenID Connect Core §3.1.3.7 says the client must refuse
    /// an audience it does not trust.
    pub extra_audience: Option<String>,
    /// ID tokens carry no profile or email claims (only `sub` and the
    /// protocol claims); the userinfo endpoint still has them (Core §5.4
    /// allows either).
    pub claims_only_at_userinfo: bool,
    /// Userinfo answers with this `sub` instead of the user's (a provider
    /// mixing people up, Core §5.3.2 says the client must check).
    pub userinfo_sub: Option<String>,
    /// The `iss` parameter of the authorization response (RFC 9207).
    pub iss_parameter: IssParameter,
    /// The `Cache-Control` the JWKS is served with, instead of Okta's.
    pub jwks_cache_control: Option<String>,
}

/// What the authorization response says about its issuer (RFC 9207).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IssParameter {
    /// No `iss` parameter and none advertised in discovery.
    #[default]
    Omitted,
    /// The server's own issuer, advertised in discovery with
    /// `authorization_response_iss_parameter_supported`.
    Correct,
    /// This issuer instead (a mix-up), still advertised.
    Other(String),
    /// Advertised in discovery, but left out of the response.
    AdvertisedButMissing,
}

/// How long an authorization code can be redeemed, as in Okta.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(60);
/// Lifetime of ID and access tokens (Okta's default one hour).
pub(crate) const TOKEN_LIFETIME: i64 = 3600;

/// One authorization server.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Server {
    /// The org authorization server.
    Org,
    /// A custom authorization server with this id.
    Custom(String),
}

impl Server {
    /// The exact `iss` of its tokens.
    pub(crate) fn issuer(&self, org_url: &str) -> String {
        match self {
            Server::Org => org_url.to_owned(),
            Server::Custom(id) => format!("{org_url}/oauth2/{id}"),
        }
    }

    /// Where its `/v1/...` endpoints live.
    pub(crate) fn endpoint(&self, org_url: &str, name: &str) -> String {
        match self {
            Server::Org => format!("{org_url}/oauth2/v1/{name}"),
            Server::Custom(id) => format!("{org_url}/oauth2/{id}/v1/{name}"),
        }
    }

    /// Access tokens' `aud`: the issuer for the org server, `api://{id}`
    /// (Okta's default audience) for custom ones.
    pub(crate) fn audience(&self, org_url: &str) -> String {
        match self {
            Server::Org => org_url.to_owned(),
            Server::Custom(id) => format!("api://{id}"),
        }
    }

    /// Names the server in key seeds.
    fn key_name(&self) -> String {
        match self {
            Server::Org => "org".to_owned(),
            Server::Custom(id) => format!("custom/{id}"),
        }
    }
}

/// An authorization code waiting to be redeemed.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub client_id: String,
    pub redirect_uri: String,
    /// `None`: a forged code any server's token endpoint redeems.
    pub server: Option<Server>,
    /// The signed-in user's id; `None` for forged codes.
    pub user_id: Option<String>,
    pub nonce: Option<String>,
    pub scopes: Vec<String>,
    pub code_challenge: Option<String>,
    /// Epoch seconds of the sign-in.
    pub auth_time: i64,
    pub expires: Instant,
    /// A test-supplied ID token served instead of a minted one.
    pub forced_id_token: Option<String>,
}

/// What an issued access token grants, for `/userinfo`.
#[derive(Clone, Debug)]
pub(crate) struct AccessGrant {
    pub server: Server,
    pub user_id: String,
    pub scopes: Vec<String>,
    /// Epoch seconds.
    pub expires_at: i64,
}

/// Everything OIDC keeps between requests.
#[derive(Debug)]
pub(crate) struct OidcState {
    /// The org's seed, from which signing keys are derived.
    pub seed: u64,
    /// The org's id (`00o...`), the `idp` of Okta-mastered users.
    pub org_id: String,
    pub clients: HashMap<String, OidcClient>,
    /// Every authorization server that exists, with its keys.
    pub servers: BTreeMap<Server, KeyRing>,
    pub codes: HashMap<String, Grant>,
    pub access: HashMap<String, AccessGrant>,
    /// Test switches.
    pub switches: OidcSwitches,
    /// Service apps, their access tokens, seen `jti`s and the DPoP nonce.
    pub service: service::ServiceState,
}

impl OidcState {
    pub(crate) fn new(seed: u64, org_id: String) -> Self {
        let mut servers = BTreeMap::new();
        servers.insert(Server::Org, KeyRing::default());
        servers.insert(Server::Custom("default".into()), KeyRing::default());
        OidcState {
            seed,
            org_id,
            clients: HashMap::new(),
            servers,
            codes: HashMap::new(),
            access: HashMap::new(),
            switches: OidcSwitches::default(),
            service: service::ServiceState::default(),
        }
    }

    /// The seed of the key `server` signs with now.
    pub(crate) fn signer(&self, server: &Server) -> keys::KeySeed {
        let generation = self.servers.get(server).map_or(0, KeyRing::current);
        keys::key_seed(self.seed, &server.key_name(), generation)
    }

    /// The seeds of every key `server` publishes.
    pub(crate) fn published(&self, server: &Server) -> Vec<keys::KeySeed> {
        self.servers
            .get(server)
            .map(|ring| {
                ring.published()
                    .iter()
                    .map(|g| keys::key_seed(self.seed, &server.key_name(), *g))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The server whose issuer is `iss`, if any.
    pub(crate) fn server_by_issuer(&self, org_url: &str, iss: &str) -> Option<Server> {
        self.servers
            .keys()
            .find(|s| s.issuer(org_url) == iss)
            .cloned()
    }

    /// Forgets codes nobody redeemed in time, so the map stays small.
    pub(crate) fn prune(&mut self, now: Instant, epoch: i64) {
        self.codes.retain(|_, g| g.expires > now);
        self.access.retain(|_, a| a.expires_at > epoch);
    }
}

/// The claims about `user_id` that `scopes` release, or `None` if there is
/// no such user. `full` adds the profile claims userinfo returns beyond the
/// ID token's `name` and `preferred_username`.
pub(crate) fn user_claims(
    org: &Org,
    user_id: &str,
    scopes: &[String],
    full: bool,
) -> Option<(Map<String, Value>, UserStatus)> {
    let (key, user) = org.find_user(user_id)?;
    let profile = user.profile();
    let text = |k: &str| profile.get(k).and_then(Value::as_str).unwrap_or("");
    let has = |s: &str| scopes.iter().any(|x| x == s);
    let mut c = Map::new();
    c.insert("sub".into(), id_str(key).into());
    if has("profile") {
        let name = match text("displayName") {
            "" => format!("{} {}", text("firstName"), text("lastName")),
            d => d.to_owned(),
        };
        c.insert("name".into(), name.into());
        c.insert("preferred_username".into(), user.login().into());
        if full {
            c.insert("given_name".into(), text("firstName").into());
            c.insert("family_name".into(), text("lastName").into());
            c.insert("locale".into(), text("locale").replace('_', "-").into());
            c.insert("zoneinfo".into(), "America/Los_Angeles".into());
            c.insert("updated_at".into(), (user.last_updated / 1000).into());
        }
    }
    if has("email") {
        c.insert("email".into(), text("email").into());
        if full {
            c.insert("email_verified".into(), true.into());
        }
    }
    Some((c, user.status))
}

/// Okta's `404` for a custom server that does not exist.
fn no_server(id: &str) -> OktaError {
    OktaError::not_found(id, "AuthorizationServer")
}

/// Resolves a custom server id from the path.
pub(crate) fn custom(st: &Shared, id: &str) -> Result<Server, OktaError> {
    let server = Server::Custom(id.to_owned());
    if st.oidc().servers.contains_key(&server) {
        Ok(server)
    } else {
        Err(no_server(id))
    }
}

/// Seconds since the epoch, for JWT times.
pub(crate) fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A custom server's OIDC discovery document.
async fn custom_openid(
    State(st): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: axum::extract::RawQuery,
) -> Result<Response, OktaError> {
    let server = custom(&st, &id)?;
    discovery::openid(&st, &server, q.0.as_deref())
}

/// A custom server's OAuth 2.0 metadata document.
async fn custom_oauth(
    State(st): State<Arc<Shared>>,
    Path(id): Path<String>,
    q: axum::extract::RawQuery,
) -> Result<Response, OktaError> {
    let server = custom(&st, &id)?;
    discovery::oauth(&st, &server, q.0.as_deref())
}

/// The OIDC routes of the org server and of every custom server.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    use axum::routing::post;
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::org_openid),
        )
        .route("/oauth2/v1/authorize", get(authorize::org))
        .route("/oauth2/v1/token", post(token::org))
        .route("/oauth2/v1/keys", get(keys::org))
        .route(
            "/oauth2/v1/userinfo",
            get(userinfo::org).post(userinfo::org),
        )
        .route(
            "/oauth2/{server}/.well-known/openid-configuration",
            get(custom_openid),
        )
        .route(
            "/oauth2/{server}/.well-known/oauth-authorization-server",
            get(custom_oauth),
        )
        .route("/oauth2/{server}/v1/authorize", get(authorize::custom))
        .route("/oauth2/{server}/v1/token", post(token::custom))
        .route("/oauth2/{server}/v1/keys", get(keys::custom))
        .route(
            "/oauth2/{server}/v1/userinfo",
            get(userinfo::custom).post(userinfo::custom),
        )
}

/// Whether `path` is an OIDC endpoint, which takes no API token.
pub(crate) fn is_oidc_path(path: &str) -> bool {
    path.starts_with("/oauth2/") || path.starts_with("/.well-known/")
}

/// Parses an `application/x-www-form-urlencoded` query or body; a parameter
/// given twice is an error (RFC 6749 §3.1), named in `Err`.
pub(crate) fn parse_form(raw: &[u8]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        if out.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(k.into_owned());
        }
    }
    Ok(out)
}

/// Whether `s` is a valid PKCE verifier or S256 challenge (RFC 7636 §4.1).
pub(crate) fn pkce_shaped(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}
