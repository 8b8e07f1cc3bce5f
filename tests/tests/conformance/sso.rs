//! Sign in with Okta end to end: the harness's `/login` → the fake Okta's
//! authorize → `/callback` → the page naming who signed in, through the
//! built component; once with an HTTP client, once in headless Chromium.

use crate::browserless;
use crate::common;

use std::sync::Arc;

use browserless::{ADMIN_PASSWORD, Profile};

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
    let app = host_harness::web::router(runtime, base.clone(), ADMIN_PASSWORD);
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

/// A sign-in in a fresh browser profile, to the page it ends on.
async fn sign_in(site: &Site, config: &str, kind: &str, login: &str) -> (u16, String) {
    let a = sign_in_with(&Profile::new(&site.base), config, kind, login).await;
    (a.status, a.body)
}

async fn sign_in_with(
    browser: &Profile,
    config: &str,
    kind: &str,
    login: &str,
) -> browserless::Answer {
    browser
        .follow(&format!(
            "/login?config={config}&as={kind}&login_hint={login}"
        ))
        .await
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

    // Replaying a callback in the same browser: the state is single-use.
    let browser = Profile::new(&site.base);
    let (_, login) = active_login(&site.w, 3);
    let callback = callback_url(&browser, "staff", &login).await;
    let first = browser.get(&callback).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let replay = browser.get(&callback).await;
    assert_eq!(replay.status, 403);
    assert!(
        replay.body.contains("not started in this browser")
            || replay.body.contains("unknown or was already completed"),
        "{}",
        replay.body
    );
}

/// Start a sign-in in `browser` and go through the fake Okta: the callback
/// URL it sends the browser back to (not opened yet).
async fn callback_url(browser: &Profile, config: &str, login: &str) -> String {
    let to_okta = browser
        .get(&format!(
            "/login?config={config}&as=user&login_hint={login}"
        ))
        .await;
    assert_eq!(to_okta.status, 303, "{}", to_okta.body);
    assert!(
        browser.cookie("infraon_login").is_some(),
        "no binding cookie"
    );
    let back = browser.get(&to_okta.body).await;
    assert_eq!(back.status, 302, "{}", back.body);
    assert!(
        back.body
            .starts_with(&format!("{}/callback/", browser.base))
    );
    back.body
}

#[tokio::test(flavor = "multi_thread")]
async fn a_callback_opened_in_another_browser_is_refused() {
    let site = site().await;
    let (_, login) = active_login(&site.w, 0);
    // The attacker starts a sign-in and has the victim's browser open the
    // callback (a forced login), or the URL leaked: refused either way.
    let attacker = Profile::new(&site.base);
    let callback = callback_url(&attacker, "staff", &login).await;
    let victim = Profile::new(&site.base);
    let forced = victim.get(&callback).await;
    assert_eq!(forced.status, 403, "{}", forced.body);
    assert!(
        forced.body.contains("not started in this browser"),
        "{}",
        forced.body
    );
    assert!(
        victim.cookie("infraon_session").is_none(),
        "a session was made"
    );
    let me = victim.get("/me").await;
    assert!(me.body.contains("Nobody is signed in"), "{}", me.body);
    // The binding was spent by the refusal: the attacker's own browser
    // cannot use that callback afterwards either.
    let later = attacker.get(&callback).await;
    assert_eq!(later.status, 403);

    // A binding cookie of another sign-in does not fit this one.
    let other = Profile::new(&site.base);
    let _ = callback_url(&other, "staff", &login).await;
    let callback = callback_url(&attacker, "staff", &login).await;
    let with_wrong_cookie = other.get(&callback).await;
    assert_eq!(with_wrong_cookie.status, 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_makes_a_session_for_that_person_and_logout_ends_it() {
    let site = site().await;
    let (tech_id, tech) = active_login(&site.w, 0);
    let browser = Profile::new(&site.base);
    let page = sign_in_with(&browser, "staff", "user", &tech).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let session = browser.cookie("infraon_session").expect("a session cookie");
    let set: Vec<String> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let cookie = set
        .iter()
        .find(|c| c.starts_with("infraon_session="))
        .expect("set at the callback");
    for attr in ["HttpOnly", "SameSite=Strict", "Max-Age=", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} missing from {cookie}");
    }
    // The signed-in page and /me name the person; the header offers Sign out.
    assert!(page.body.contains(&format!("({tech})")), "{}", page.body);
    let me = browser.get("/me").await;
    assert_eq!(me.status, 200);
    assert!(
        me.body.contains(&format!("({tech})")) && me.body.contains(&tech_id),
        "{}",
        me.body
    );
    assert!(me.body.contains("id=\"header-logout\""));
    // A technician is no administrator: the console stays closed.
    let console = browser.get("/marketplace").await;
    assert_eq!(console.status, 403);
    assert!(
        console.body.contains("not an Infraon Administrator"),
        "{}",
        console.body
    );

    // Sign out ends the session on the server, not just in this browser.
    let out = browser.post("/logout", &[]).await;
    assert_eq!(out.status, 303, "{}", out.body);
    assert!(browser.cookie("infraon_session").is_none());
    let replayed = Profile::new(&site.base);
    replayed.get("/signin").await; // a visit cookie, as any browser has
    let stale = reqwest::Client::new()
        .get(format!("{}/me", site.base))
        .header("cookie", format!("infraon_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stale.contains("Nobody is signed in"), "{stale}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infraon_administrator_signs_in_to_the_console_with_okta() {
    let site = site().await;
    let (admin_id, admin_login) = active_login(&site.w, 4);
    // An administrator in Infraon: a synced User holding the role.
    let infraon = site.w.infraon();
    let mut person = infraon
        .people(SyncTarget::Users)
        .unwrap()
        .into_iter()
        .find(|p| p.external_id == admin_id)
        .unwrap();
    person.roles = vec!["Administrator".into()];
    infraon.upsert(&person).unwrap();
    let browser = Profile::new(&site.base);
    // Not signed in: the console sends the browser to sign in first.
    let first = browser.get("/marketplace").await;
    assert_eq!(first.status, 303);
    assert!(first.body.starts_with("/signin"), "{}", first.body);
    let signin = browser.get(&first.body).await;
    assert!(
        signin.body.contains("Sign in with Okta (staff)"),
        "{}",
        signin.body
    );
    let page = sign_in_with(&browser, "staff", "user", &admin_login).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"to-console\""), "{}", page.body);
    let console = browser.get("/marketplace").await;
    assert_eq!(console.status, 200, "{}", console.body);
    assert!(console.body.contains(&format!("({admin_login})")));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_id_token_is_refused_through_the_component() {
    let site = site().await;
    let (id, login) = active_login(&site.w, 0);
    let browser = Profile::new(&site.base);
    let to_okta = browser
        .get(&format!("/login?config=staff&as=user&login_hint={login}"))
        .await;
    let authorize = url::Url::parse(&to_okta.body).unwrap();
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
    let page = browser
        .get(&format!(
            "{}?state={}&code={code}",
            param("redirect_uri"),
            param("state")
        ))
        .await;
    assert_eq!(page.status, 403);
    let text = page.body;
    assert!(text.contains("ID token") && text.contains("aud"), "{text}");
}

/// The same flow in a real browser (its cookies bind the sign-in).
/// Ignored by a plain `cargo test`, never passed unrun: `scripts/test`
/// installs Debian's chromium and runs it with `--ignored`; a missing
/// browser then fails it, saying how to install one.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives Debian's headless chromium: scripts/test runs it with --ignored"]
async fn a_technician_signs_in_in_headless_chromium() {
    let browser = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect(
            "this browser test needs Debian's chromium: `apt-get install -y chromium` (scripts/test installs it)",
        );
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

#[tokio::test(flavor = "multi_thread")]
async fn the_iss_of_the_answer_reaches_the_component_and_is_checked() {
    let site = site().await;
    let (_, tech) = active_login(&site.w, 0);
    site.w.okta.set_oidc_switches(fake_okta::OidcSwitches {
        iss_parameter: fake_okta::IssParameter::Correct,
        ..Default::default()
    });
    let (status, page) = sign_in(&site, "staff", "user", &tech).await;
    assert_eq!(status, 200, "{page}");
    // A mix-up: the answer names another issuer.
    site.w.okta.set_oidc_switches(fake_okta::OidcSwitches {
        iss_parameter: fake_okta::IssParameter::Other("https://attacker.example".into()),
        ..Default::default()
    });
    let (status, page) = sign_in(&site, "staff", "user", &tech).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("names another identity provider"), "{page}");
}
