//! Beginning and completing a sign-in, and resolving who signed in.

use plugin_core::time::rfc3339_from_unix_ms;
use plugin_core::{Host, Level, SyncTarget};
use serde::{Deserialize, Serialize};

use crate::discovery::discover;
use crate::discovery::get_json_with;
use crate::exchange::{CodeGrant, Tokens, encode, exchange};
use crate::jwks::key_for;
use crate::jwt::{Expected, parse};
use crate::person::resolve;
use crate::pkce::{challenge, is_token_shaped, random_token};
use crate::settings::{installed, load, login_key, logins_prefix, secret_key};
use crate::{CLOCK_LEEWAY_SECS, FormPost, LOGIN_TTL_MS, LoginStart, SignedIn, SsoError, store_err};

/// The scopes asked for: `profile` and `email` put the login, name and
/// email in the ID token, for the answer and for just-in-time requesters.
const SCOPE: &str = "openid profile email";

/// Expired logins removed per [`begin_login`]; bounded so one call never
/// walks an unbounded backlog.
const PRUNE_PER_CALL: usize = 100;

/// One started login, under `state/<config>/sso-login/<state>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PendingLogin {
    kind: SyncTarget,
    nonce: String,
    verifier: String,
    redirect_uri: String,
    /// Issuer and client at the start: settings changed mid-login void it.
    issuer: String,
    client_id: String,
    expires_at_ms: u64,
}

/// Start a sign-in of a person of `kind` on `config`: returns the Okta
/// authorize URL to send the browser to, and the `state` its callback to
/// `redirect_uri` will carry.
pub fn begin_login(
    host: &mut Host,
    config: &str,
    kind: SyncTarget,
    redirect_uri: &str,
) -> Result<LoginStart, SsoError> {
    let cfg = installed(host, config)?;
    let sso = load(host, &cfg.name)?
        .filter(|s| s.enabled_for(kind))
        .ok_or(SsoError::Disabled(kind))?;
    check_redirect(redirect_uri)?;
    let disc = discover(host, &cfg, &sso)?;
    let now = host.clock.now_unix_ms();
    prune_expired(host, &cfg.name, now);
    let state = random_token()?;
    let nonce = random_token()?;
    let verifier = random_token()?;
    let expires_at_ms = now + LOGIN_TTL_MS;
    let params = [
        ("response_type", "code"),
        ("client_id", sso.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("scope", SCOPE),
        ("state", state.as_str()),
        ("nonce", nonce.as_str()),
        ("code_challenge", &challenge(&verifier)),
        ("code_challenge_method", "S256"),
    ];
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    let sep = if disc.authorization_endpoint.contains('?') {
        '&'
    } else {
        '?'
    };
    let authorize_url = format!("{}{sep}{}", disc.authorization_endpoint, query.join("&"));
    let pending = PendingLogin {
        kind,
        nonce,
        verifier,
        redirect_uri: redirect_uri.to_owned(),
        issuer: disc.issuer,
        client_id: sso.client_id,
        expires_at_ms,
    };
    let json = serde_json::to_vec(&pending).map_err(|e| SsoError::Other(e.to_string()))?;
    host.storage
        .set(&login_key(&cfg.name, &state), &json)
        .map_err(store_err)?;
    Ok(LoginStart {
        authorize_url,
        state,
        expires_at: rfc3339_from_unix_ms(expires_at_ms),
    })
}

/// The authorization response, as the callback received it.
#[derive(Debug, Clone, Copy)]
pub struct Callback<'a> {
    /// `state`.
    pub state: &'a str,
    /// `code`.
    pub code: &'a str,
    /// `iss` (RFC 9207), when the provider sent one.
    pub iss: Option<&'a str>,
}

/// Finish a sign-in from the callback's `state` and `code` (a callback
/// without `iss`; see [`complete_callback`]).
pub fn complete_login(
    host: &mut Host,
    post: &mut dyn FormPost,
    config: &str,
    state: &str,
    code: &str,
) -> Result<SignedIn, SsoError> {
    complete_callback(
        host,
        post,
        config,
        &Callback {
            state,
            code,
            iss: None,
        },
    )
}

/// Finish a sign-in from the callback: the state is spent first, whatever
/// happens next; the response's `iss` is checked (RFC 9207) before the
/// code goes anywhere; the code is redeemed through `post` (see
/// [`FormPost`]), the ID token validated in full, claims it lacks fetched
/// from userinfo when a just-in-time requester needs them, and the person
/// resolved by its `sub`.
pub fn complete_callback(
    host: &mut Host,
    post: &mut dyn FormPost,
    config: &str,
    callback: &Callback<'_>,
) -> Result<SignedIn, SsoError> {
    let result = complete(host, post, config, callback);
    match &result {
        Ok(who) => host.log.write(
            Level::Info,
            "Okta sign-in completed",
            &[
                ("config", config),
                ("kind", who.kind.as_str()),
                ("external_id", &who.external_id),
            ],
        ),
        // The error texts are safe to log: they never carry a credential.
        Err(e) => host.log.write(
            Level::Warn,
            "Okta sign-in refused",
            &[("config", config), ("reason", &e.to_string())],
        ),
    }
    result
}

fn complete(
    host: &mut Host,
    post: &mut dyn FormPost,
    config: &str,
    callback: &Callback<'_>,
) -> Result<SignedIn, SsoError> {
    let (state, code) = (callback.state, callback.code);
    let cfg = installed(host, config)?;
    let name = cfg.name.clone();
    if !is_token_shaped(state) {
        return Err(SsoError::UnknownState);
    }
    let key = login_key(&name, state);
    let Some(bytes) = host.storage.get(&key).map_err(store_err)? else {
        return Err(SsoError::UnknownState);
    };
    // Spent before any check or request: a replay finds nothing, even one
    // racing this call or following a failure below.
    host.storage.delete(&key).map_err(store_err)?;
    let pending: PendingLogin =
        serde_json::from_slice(&bytes).map_err(|_| SsoError::UnknownState)?;
    let now = host.clock.now_unix_ms();
    if now > pending.expires_at_ms {
        return Err(SsoError::Expired);
    }
    let kind = pending.kind;
    let sso = load(host, &name)?
        .filter(|s| s.enabled_for(kind))
        .ok_or(SsoError::Disabled(kind))?;
    let disc = discover(host, &cfg, &sso)?;
    if sso.client_id != pending.client_id || disc.issuer != pending.issuer {
        // The settings changed while the person was at Okta.
        return Err(SsoError::Expired);
    }
    // RFC 9207 §2.4: a response naming another issuer (or none, from a
    // provider that always names it) may come from a mix-up attack; its
    // code must not reach this issuer's token endpoint.
    match callback.iss {
        Some(iss) if iss == disc.issuer => {}
        Some(_) => {
            return Err(SsoError::Other(
                "The sign-in answer names another identity provider (`iss`); start again.".into(),
            ));
        }
        None if disc.iss_parameter_supported => {
            return Err(SsoError::Other(
                "The sign-in answer lacks the identity provider's `iss`, which it always sends; start again.".into(),
            ));
        }
        None => {}
    }
    if code.trim().is_empty() {
        return Err(SsoError::TokenExchange(
            "the callback carried no authorization code".into(),
        ));
    }
    let secret = match sso.confidential {
        true => Some(
            host.secrets
                .get(&secret_key(&name))
                .map_err(store_err)?
                .ok_or_else(|| {
                    SsoError::Other(format!(
                        "The OIDC client secret of `{name}` is missing from the secret store; save the SSO settings again."
                    ))
                })?,
        ),
        false => None,
    };
    let grant = CodeGrant {
        client_id: &sso.client_id,
        client_secret: secret.as_deref(),
        code,
        redirect_uri: &pending.redirect_uri,
        verifier: &pending.verifier,
    };
    let tokens = exchange_retrying(host.clock, post, &disc, &grant)?;
    let jwt = parse(&tokens.id_token).map_err(SsoError::InvalidIdToken)?;
    jwt.check_header().map_err(SsoError::InvalidIdToken)?;
    let key = key_for(host, &name, &disc, jwt.kid())?;
    jwt.verify_rs256(&key).map_err(SsoError::InvalidIdToken)?;
    let mut claims = jwt
        .check_claims(&Expected {
            issuer: &disc.issuer,
            client_id: &sso.client_id,
            nonce: &pending.nonce,
            now_secs: i64::try_from(host.clock.now_unix_ms() / 1000).unwrap_or(i64::MAX),
            leeway_secs: CLOCK_LEEWAY_SECS,
        })
        .map_err(SsoError::InvalidIdToken)?;
    if needs_userinfo(host, &sso, kind, &claims)?
        && let (Some(endpoint), Some(token)) = (&disc.userinfo_endpoint, &tokens.access_token)
    {
        let (info, _) = get_json_with(host.http, endpoint, Some(token))
            .map_err(|f| SsoError::Okta(f.redact(token)))?;
        let info = info.as_object().cloned().unwrap_or_default();
        claims.fill_from_userinfo(&info).map_err(SsoError::Other)?;
    }
    let person = resolve(host, &cfg, &sso, kind, &claims)?;
    Ok(SignedIn {
        kind,
        external_id: person.external_id,
        login: person.login,
        email: person.email,
        display_name: person.display_name,
        roles: person.roles,
    })
}

/// Whether the person is about to be created just in time from claims the
/// ID token does not carry (Core §5.4 lets a provider keep them at
/// userinfo); a linked person needs none.
fn needs_userinfo(
    host: &mut Host,
    sso: &crate::settings::StoredSso,
    kind: SyncTarget,
    claims: &crate::jwt::IdClaims,
) -> Result<bool, SsoError> {
    if kind != SyncTarget::Requesters || !sso.jit_requesters || !claims.lacks_profile() {
        return Ok(false);
    }
    let linked = host
        .directory
        .find_by_external_id(kind, &claims.sub)
        .map_err(|e| SsoError::Other(format!("Infraon's directory failed: {e}")))?;
    Ok(linked.is_none())
}

/// Pauses before the second and third token request when the first fails
/// in passing. A person waits on the callback page, so they stay short.
const EXCHANGE_BACKOFF_MS: [u64; 2] = [250, 1_000];

/// Redeem the code, again after a gateway error (502, 503, 504) or a refused
/// connection. Retrying cannot make things worse: if Okta did spend the
/// code, the retry is refused with `invalid_grant` ("start again"), which is
/// what the person would have had to do anyway. Rate limits and timeouts
/// are not retried: the first waits longer than a person should, the
/// second may have spent the code.
fn exchange_retrying(
    clock: &dyn plugin_core::Clock,
    post: &mut dyn FormPost,
    disc: &crate::discovery::Discovery,
    grant: &CodeGrant<'_>,
) -> Result<Tokens, SsoError> {
    let mut pauses = EXCHANGE_BACKOFF_MS.iter();
    loop {
        match exchange(post, disc, grant) {
            Err(e) if transient(&e) => match pauses.next() {
                Some(ms) => clock.sleep_ms(*ms),
                None => return Err(e),
            },
            other => return other,
        }
    }
}

fn transient(e: &SsoError) -> bool {
    matches!(
        e,
        SsoError::Okta(
            plugin_core::OktaFailure::ServerError(502..=504)
                | plugin_core::OktaFailure::ConnectionFailed(_)
        )
    )
}

/// The host's callback: an absolute http(s) URL without a fragment
/// (RFC 6749 §3.1.2). Okta checks it against the app's registered list.
fn check_redirect(uri: &str) -> Result<(), SsoError> {
    let ok = (uri.starts_with("https://") || uri.starts_with("http://"))
        && !uri.contains('#')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(SsoError::InvalidSettings(vec![
            plugin_core::FieldError::new(
                "redirect-uri",
                "The redirect URI must be an absolute http(s) URL without a fragment.",
            ),
        ]))
    }
}

/// Best effort: a failure to prune must not stop anyone signing in.
fn prune_expired(host: &mut Host, config: &str, now: u64) {
    let Ok(keys) = host.storage.list_keys(&logins_prefix(config)) else {
        return;
    };
    for key in keys.into_iter().take(PRUNE_PER_CALL) {
        let expired = match host.storage.get(&key) {
            Ok(Some(b)) => {
                serde_json::from_slice::<PendingLogin>(&b).map_or(true, |p| now > p.expires_at_ms)
            }
            _ => false,
        };
        if expired {
            let _ = host.storage.delete(&key);
        }
    }
}
