//! Sign in with Okta end to end: the harness's `/login` → the fake Okta's
//! authorize → `/callback` → the page naming who signed in, through the
//! built component; once with an HTTP client, once in headless Chromium.

mod common;

use std::sync::Arc;

use common::{DEV, World, world};
use fake_infraon::{PersonStatus, SyncTarget};
use fake_okta::{OidcClient, UserStatus};
use host_harness::bindings::exports::infraon::okta::sso::SsoSettings;
use host_harness::bindings::exports::infraon::okta::sync::{SyncMode, Trigger};
use host_harness::bindings::infraon::okta::types::SyncTarget as WitTarget;

struct Site {
    w: World,
    base: String,
}

/// Two configs on one org: "staff" syncs Users, "portal" Requesters; both
/// synced, SSO on, and the sign-in pages served on loopback.
async fn site() -> Site {
    let w = world(25, 3).await;
    let mut portal = w.good_form("portal");
    portal.sync_target = WitTarget::Requesters;
    w.runtime
        .install(&w.good_form("staff"), DEV)
        .await
        .unwrap()
        .unwrap();
    w.runtime.install(&portal, DEV).await.unwrap().unwrap();
    for config in ["staff", "portal"] {
        w.runtime
            .sync(config, SyncMode::Full, Trigger::Manual, |_, _| {})
            .await
            .unwrap()
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // RSA key generation in a debug build on a loaded machine can take
    // seconds: make the keys now, and give Okta calls a roomier deadline.
    let _ = (
        w.okta.signing_kid(None),
        w.okta.signing_kid(Some("default")),
    );
    let limits = host_harness::policy::Limits {
        request_timeout: std::time::Duration::from_secs(30),
        ..common::test_limits()
    };
    let runtime = Arc::new(common::runtime_in(w.state.path(), limits));
    let app = host_harness::web::router(runtime, base.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for (config, secret, server, users, requesters) in [
        ("staff", None, None, true, false),
        (
            "portal",
            Some("s3cret-portal"),
            Some("default"),
            false,
            true,
        ),
    ] {
        w.okta.register_oidc_client(OidcClient {
            client_id: format!("{config}-app"),
            client_secret: secret.map(String::from),
            redirect_uris: vec![format!("{base}/callback/{config}")],
        });
        let settings = SsoSettings {
            users_enabled: users,
            requesters_enabled: requesters,
            client_id: format!("{config}-app"),
            client_secret: secret.map(String::from),
            authorization_server: server.map(String::from),
            jit_requesters: false,
        };
        w.runtime
            .sso_configure(config, &settings)
            .await
            .unwrap()
            .unwrap();
    }
    Site { w, base }
}

async fn sign_in(site: &Site, config: &str, kind: &str, login: &str) -> (u16, String) {
    let url = format!(
        "{}/login?config={config}&as={kind}&login_hint={login}",
        site.base
    );
    let resp = reqwest::Client::new().get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn active_login(w: &World, skip: usize) -> (String, String) {
    let org = w.okta.org();
    let u = org
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .nth(skip)
        .unwrap();
    (u.id.clone(), u.login.clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_technician_and_a_requester_each_sign_in() {
    let site = site().await;
    let (_, tech) = active_login(&site.w, 0);
    let (status, page) = sign_in(&site, "staff", "user", &tech).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("as an Infraon User"), "{page}");
    assert!(page.contains(&format!("({tech})")), "{page}");
    assert!(page.contains("Roles: Technician"), "{page}");

    let (_, requester) = active_login(&site.w, 1);
    let (status, page) = sign_in(&site, "portal", "requester", &requester).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("as a Self-Service Portal Requester"),
        "{page}"
    );
    assert!(page.contains("Roles: Requester"), "{page}");

    // The OIDC client secret is nowhere but the (encrypted) secret store.
    let secret = "s3cret-portal";
    assert!(!page.contains(secret));
    assert!(
        !site.w.all_log_text().contains(secret),
        "client secret in a log line"
    );
    assert!(
        !site.w.all_storage_text().contains(secret),
        "client secret in storage"
    );
    let raw = site.w.raw_state_bytes();
    assert!(
        !raw.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "client secret in clear on disk"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sso_off_deactivated_unlinked_and_replayed_sign_ins_are_refused() {
    let site = site().await;
    let (_, tech) = active_login(&site.w, 0);
    let (status, page) = sign_in(&site, "staff", "requester", &tech).await;
    assert_eq!(status, 403);
    assert!(
        page.contains("turned off for Self-Service Portal requesters"),
        "{page}"
    );

    // Deactivated in Infraon (say, by an admin) while still active in Okta.
    let (id, login) = active_login(&site.w, 2);
    site.w
        .infraon()
        .set_status(SyncTarget::Users, &id, PersonStatus::Deactivated)
        .unwrap();
    let (status, page) = sign_in(&site, "staff", "user", &login).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.to_lowercase().contains("deactivated"), "{page}");

    // A user added in Okta after the last sync is not linked yet.
    let mut profile = serde_json::Map::new();
    for (k, v) in [
        ("login", "new.hire@example.com"),
        ("email", "new.hire@example.com"),
        ("firstName", "New"),
        ("lastName", "Hire"),
    ] {
        profile.insert(k.into(), v.into());
    }
    site.w.okta.add_user(profile, UserStatus::Active).unwrap();
    let (status, page) = sign_in(&site, "portal", "requester", "new.hire@example.com").await;
    assert_eq!(status, 403, "{page}");
    assert!(
        page.contains("not linked to an Infraon requester"),
        "{page}"
    );

    // Replaying a callback: the state is single-use.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (_, login) = active_login(&site.w, 3);
    let to_okta = client
        .get(format!(
            "{}/login?config=staff&as=user&login_hint={login}",
            site.base
        ))
        .send()
        .await
        .unwrap();
    let authorize = to_okta.headers()["location"].to_str().unwrap().to_string();
    let to_callback = client.get(authorize).send().await.unwrap();
    let callback = to_callback.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let first = client.get(&callback).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 200);
    let replay = client.get(&callback).send().await.unwrap();
    assert_eq!(replay.status().as_u16(), 403);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("unknown or was already completed")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_id_token_is_refused_through_the_component() {
    let site = site().await;
    let (id, login) = active_login(&site.w, 0);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let to_okta = client
        .get(format!(
            "{}/login?config=staff&as=user&login_hint={login}",
            site.base
        ))
        .send()
        .await
        .unwrap();
    let authorize = url::Url::parse(to_okta.headers()["location"].to_str().unwrap()).unwrap();
    let param = |k: &str| {
        authorize
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    // A token for the right user and nonce, but for another audience.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": site.w.okta.issuer(None), "sub": id, "aud": "someone-else", "iat": now, "exp": now + 300,
        "nonce": param("nonce"),
    });
    let token = site.w.okta.sign_id_token(claims, serde_json::json!({}));
    let code = site.w.okta.issue_code_with_id_token(
        "staff-app",
        &param("redirect_uri"),
        token,
        Some(param("code_challenge")),
    );
    let page = client
        .get(format!(
            "{}?state={}&code={code}",
            param("redirect_uri"),
            param("state")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 403);
    let text = page.text().await.unwrap();
    assert!(text.contains("ID token") && text.contains("aud"), "{text}");
}

/// The same flow in a real browser. CI installs Debian's chromium and sets
/// `BROWSER_TESTS=required`; elsewhere a missing browser skips this test.
#[tokio::test(flavor = "multi_thread")]
async fn a_technician_signs_in_in_headless_chromium() {
    let browser = ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(browser) = browser else {
        assert_ne!(
            std::env::var("BROWSER_TESTS").as_deref(),
            Ok("required"),
            "chromium is required but missing"
        );
        eprintln!("skipped: no chromium on this machine");
        return;
    };
    let site = site().await;
    let (_, tech) = active_login(&site.w, 0);
    let url = format!("{}/login?config=staff&as=user&login_hint={tech}", site.base);
    let profile = tempfile::tempdir().unwrap();
    let args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--dump-dom",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.path().display()), url])
    .collect();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(browser)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("Signed in as"),
        "chromium ended on: {dom}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dom.contains(&format!("({tech})")) && dom.contains("as an Infraon User"),
        "{dom}"
    );
}
