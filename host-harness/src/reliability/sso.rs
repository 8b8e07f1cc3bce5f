//! The SSO leg of a fault case: a confidential OIDC client whose secret is
//! searched for like the API token, and a sign-in whose browser half
//! (authorize) happens before the fault, so that the fault meets the
//! plugin's own calls (token exchange, keys).

use fake_okta::{FakeOkta, OidcClient, UserStatus};

use crate::Runtime;
use crate::bindings::exports::infraon::okta::sso::{SignedIn, SsoError, SsoSettings};
use crate::bindings::infraon::okta::types::SyncTarget;
use crate::ops::Outcome;

use super::world::CONFIG;

/// The OIDC client secret the SSO leg configures.
pub const CLIENT_SECRET: &str = "reliability-oidc-client-secret-7f3a";
const CLIENT_ID: &str = "reliability-app";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// Registers the client in Okta and turns SSO on for Users.
pub async fn configure(rt: &Runtime, okta: &FakeOkta) -> anyhow::Result<()> {
    okta.register_oidc_client(OidcClient {
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        redirect_uris: vec![REDIRECT.into()],
    });
    let settings = SsoSettings {
        users_enabled: true,
        requesters_enabled: false,
        client_id: CLIENT_ID.into(),
        client_secret: Some(CLIENT_SECRET.into()),
        authorization_server: None,
        jit_requesters: false,
    };
    rt.sso_configure(CONFIG, &settings)
        .await?
        .map_err(|e| anyhow::anyhow!("SSO settings refused: {e:?}"))
}

/// The browser half of a sign-in: `(state, code)` for an active user.
pub async fn authorize(rt: &Runtime, okta: &FakeOkta) -> anyhow::Result<(String, String)> {
    let org = okta.org();
    let login = org
        .users
        .iter()
        .find(|u| u.status == UserStatus::Active)
        .map(|u| u.login.clone())
        .ok_or_else(|| anyhow::anyhow!("no active user"))?;
    let start = rt
        .sso_begin(CONFIG, SyncTarget::Users, REDIRECT)
        .await?
        .map_err(|e| anyhow::anyhow!("sign-in refused: {e:?}"))?;
    let mut url = url::Url::parse(&start.authorize_url)?;
    url.query_pairs_mut().append_pair("login_hint", &login);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let resp = client.get(url).send().await?;
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("authorize did not redirect: {}", resp.status()))?;
    let back = url::Url::parse(location)?;
    let param = |k: &str| {
        back.query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| anyhow::anyhow!("no {k} in the callback"))
    };
    Ok((param("state")?, param("code")?))
}

/// The plugin's half: redeem the code.
pub async fn complete(rt: &Runtime, state: &str, code: &str) -> Outcome<SignedIn, SsoError> {
    rt.sso_complete(CONFIG, state, code, None).await
}

/// A whole sign-in, true when it succeeded.
pub async fn signs_in(rt: &Runtime, okta: &FakeOkta) -> bool {
    match authorize(rt, okta).await {
        Ok((state, code)) => matches!(complete(rt, &state, &code).await, Ok(Ok(_))),
        Err(_) => false,
    }
}

/// An SSO outcome as a line, and whether it is typed.
pub fn describe(o: &Outcome<SignedIn, SsoError>) -> (String, bool) {
    match o {
        Ok(Ok(s)) => (format!("signed in {}", s.login), true),
        Ok(Err(e)) => {
            let debug = format!("{e:?}");
            let text = match debug.strip_prefix("SsoError::Okta(OktaFailure::") {
                Some(inner) => format!("okta {}", inner.strip_suffix(')').unwrap_or(inner)),
                None => debug.replace("SsoError::", ""),
            };
            (text, !matches!(e, SsoError::Other(_)))
        }
        Err(e) => (format!("host: {e}"), true),
    }
}
