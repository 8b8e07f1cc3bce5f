//! The console meets a hostile browser: every state-changing route refuses
//! a cross-site post (a foreign `Origin`, a cross-site `Sec-Fetch-Site`, a
//! missing or wrong form token) with 403 and changes nothing, while the
//! same post from the console's own page works; every route refuses a
//! foreign `Host` (DNS rebinding); nothing opens without a session; and
//! production mode refuses development mode posted by hand.

use crate::browserless;
use crate::common;

use std::sync::Arc;

use browserless::{ADMIN_PASSWORD, Answer, Profile};
use common::{DEV, World, world};
use fake_okta::UserStatus;
use host_harness::bindings::exports::infraon::okta::map::Transform;
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};

struct Site {
    w: World,
    base: String,
    admin: Profile,
}

async fn site(users: usize, development: bool) -> Site {
    let w = world(users, 3).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let scheduler = host_harness::serve::ScheduleLoop::new(runtime.clone());
    let app = host_harness::web::Console::new(runtime, base.clone(), scheduler, development)
        .with_admin_password(host_harness::web::AdminPassword::from_plain(ADMIN_PASSWORD).unwrap())
        .router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let admin = Profile::new(&base);
    admin.sign_in_admin().await;
    Site { w, base, admin }
}

/// What a forged post carries as its form token.
#[derive(Clone, Copy, PartialEq)]
enum Token {
    Right,
    Missing,
    Wrong,
}

/// One way a page on another site (or a stale page) posts a form, with
/// everything else right.
struct Forgery {
    what: &'static str,
    headers: Vec<(String, String)>,
    token: Token,
}

fn forgeries(base: &str) -> Vec<Forgery> {
    let f = |what, pairs: &[(&str, &str)], token| Forgery {
        what,
        headers: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        token,
    };
    let own = [("origin", base), ("sec-fetch-site", "same-origin")];
    vec![
        f(
            "a foreign Origin",
            &[("origin", "http://evil.example")],
            Token::Right,
        ),
        f("Origin null", &[("origin", "null")], Token::Right),
        f(
            "a cross-site Sec-Fetch-Site",
            &[("sec-fetch-site", "cross-site"), ("origin", base)],
            Token::Right,
        ),
        f(
            "a same-site but not same-origin Sec-Fetch-Site",
            &[("sec-fetch-site", "same-site")],
            Token::Right,
        ),
        f(
            "a foreign Referer",
            &[("referer", "http://evil.example/page")],
            Token::Right,
        ),
        f("no token", &own, Token::Missing),
        f("a wrong token", &own, Token::Wrong),
    ]
}

/// Posts `form` to `path` in every forged way and asserts each is a 403.
async fn refused_every_way(s: &Site, path: &str, form: &[(&str, &str)]) {
    let token = s.admin.token();
    assert_eq!(token.len(), 32, "the admin's pages carry a token");
    // Same shape, last digit changed: only the value is wrong.
    let last = if token.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &token[..31]);
    for forgery in forgeries(&s.base) {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        match forgery.token {
            Token::Right => fields.push(("csrf", &token)),
            Token::Wrong => fields.push(("csrf", &wrong)),
            Token::Missing => {}
        }
        let headers: Vec<(&str, &str)> = forgery
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let a = s.admin.post_raw(path, &fields, &headers).await;
        assert_eq!(a.status, 403, "{path} with {}: {}", forgery.what, a.body);
        assert!(
            a.body.contains("refused") || a.body.contains("security token"),
            "{}",
            a.body
        );
    }
}

async fn runs(s: &Site) -> usize {
    s.w.runtime
        .sync_history("acme", 100)
        .await
        .unwrap()
        .unwrap()
        .len()
}

async fn mapping(s: &Site) -> String {
    format!("{:?}", s.w.runtime.mapping("acme").await.unwrap().unwrap())
}

fn configs(s: &Site) -> Vec<String> {
    s.w.infraon()
        .installations(host_harness::PLUGIN_ID)
        .unwrap()
        .into_iter()
        .map(|i| i.config)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_state_changing_route_refuses_a_cross_site_post_and_accepts_its_own_page() {
    let s = site(60, true).await;
    let url = s.w.okta.url().to_string();
    let token = s.w.okta.api_token().to_string();

    // Install: Verify from the page gives a ticket; a forged Install with
    // that ticket installs nothing; the page's own Install works.
    let install = |action: &'static str, ticket: String| {
        vec![
            ("name", "second".to_string()),
            ("okta_domain", url.clone()),
            ("api_token", token.clone()),
            ("sync_target", "users".to_string()),
            ("development_mode", "on".to_string()),
            ("action", action.to_string()),
            ("ticket", ticket),
        ]
    };
    let pairs = |f: &[(&'static str, String)]| -> Vec<(&'static str, String)> { f.to_vec() };
    let verify = pairs(&install("verify", String::new()));
    let v: Vec<(&str, &str)> = verify.iter().map(|(k, v)| (*k, v.as_str())).collect();
    refused_every_way(&s, "/marketplace/okta/install", &v).await;
    s.admin.get("/marketplace/okta/install").await;
    let page = s.admin.post("/marketplace/okta/install", &v).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("name=\"ticket\" value=\"").unwrap() + 21;
    let ticket = page.body[at..].split('"').next().unwrap().to_string();
    let inst = install("install", ticket);
    let i: Vec<(&str, &str)> = inst.iter().map(|(k, v)| (*k, v.as_str())).collect();
    refused_every_way(&s, "/marketplace/okta/install", &i).await;
    assert_eq!(configs(&s), ["acme"], "a forged Install installed");
    let done = s.admin.post("/marketplace/okta/install", &i).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(configs(&s).contains(&"second".to_string()));

    // Sync Now.
    s.admin.get("/configs/acme").await;
    refused_every_way(&s, "/configs/acme/sync", &[("mode", "full")]).await;
    assert_eq!(runs(&s).await, 0, "a forged Sync Now ran");
    let ok = s
        .admin
        .post("/configs/acme/sync", &[("mode", "full")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    for _ in 0..600 {
        let history = s.w.runtime.sync_history("acme", 1).await.unwrap().unwrap();
        if history.first().is_some_and(|r| r.outcome.is_some())
            && !s
                .admin
                .get("/configs/acme/progress")
                .await
                .body
                .contains("http-equiv=\"refresh\"")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(runs(&s).await, 1);

    // A held run: forged approvals and rejections decide nothing.
    let gone: Vec<String> =
        s.w.okta
            .org()
            .users
            .iter()
            .filter(|u| u.status == UserStatus::Active)
            .take(30)
            .map(|u| u.id.clone())
            .collect();
    for id in &gone {
        s.w.okta.delete_user(id).unwrap();
    }
    let held =
        s.w.runtime
            .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
            .await
            .unwrap()
            .unwrap();
    assert_eq!(held.outcome, Some(RunOutcome::Held));
    for decision in ["approve", "reject"] {
        refused_every_way(
            &s,
            &format!("/configs/acme/runs/{}/{decision}", held.id),
            &[],
        )
        .await;
    }
    let still = s.w.runtime.sync_history("acme", 1).await.unwrap().unwrap();
    assert_eq!(
        still[0].outcome,
        Some(RunOutcome::Held),
        "a forged decision landed"
    );
    let ok = s
        .admin
        .post(&format!("/configs/acme/runs/{}/reject", held.id), &[])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);

    // Schedule Sync.
    let daily = [
        ("action", "set"),
        ("kind", "daily"),
        ("at", "02:00"),
        ("weekday", "0"),
        ("hours", "24"),
        ("tz", "Europe/Berlin"),
    ];
    refused_every_way(&s, "/configs/acme/schedule", &daily).await;
    let schedule = |s: &Site| {
        s.w.infraon()
            .schedule_get(host_harness::PLUGIN_ID, "acme")
            .unwrap()
    };
    assert!(schedule(&s).is_none(), "a forged schedule was set");
    assert_eq!(
        s.admin.post("/configs/acme/schedule", &daily).await.status,
        303
    );
    assert!(schedule(&s).is_some());

    // Sign-in settings (a forged one would point sign-in at another app).
    let sso = [("client_id", "evil-app"), ("users_enabled", "on")];
    refused_every_way(&s, "/configs/acme/sso", &sso).await;
    assert!(
        !s.w.all_storage_text().contains("evil-app"),
        "forged sign-in settings saved"
    );
    let ok = s
        .admin
        .post(
            "/configs/acme/sso",
            &[("client_id", "good-app"), ("users_enabled", "on")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(s.w.all_storage_text().contains("good-app"));

    // The mapping editor.
    // A changed mapping, so that a reset would show.
    let mut changed = s.w.runtime.mapping("acme").await.unwrap().unwrap();
    let email = changed
        .fields
        .iter_mut()
        .find(|f| f.target == "email")
        .unwrap();
    email.transforms.push(Transform::UpperCase);
    s.w.runtime
        .set_mapping("acme", &changed)
        .await
        .unwrap()
        .unwrap();
    let before = mapping(&s).await;
    refused_every_way(&s, "/configs/acme/mapping", &[("action", "reset")]).await;
    assert_eq!(mapping(&s).await, before, "a forged reset landed");
    assert_eq!(
        s.admin
            .post("/configs/acme/mapping", &[("action", "reset")])
            .await
            .status,
        303
    );
    assert_ne!(mapping(&s).await, before);

    // Verify again (no change either way, but no cross-site trigger).
    refused_every_way(&s, "/configs/acme/verify", &[]).await;
    assert_eq!(s.admin.post("/configs/acme/verify", &[]).await.status, 200);

    // Provision one person (issue 15): a forged one creates nobody.
    let profile = serde_json::Map::from_iter([
        (
            "login".to_string(),
            serde_json::json!("newcomer@example.com"),
        ),
        (
            "email".to_string(),
            serde_json::json!("newcomer@example.com"),
        ),
        ("firstName".to_string(), serde_json::json!("New")),
        ("lastName".to_string(), serde_json::json!("Comer")),
    ]);
    let newcomer = s.w.okta.add_user(profile, UserStatus::Active).unwrap();
    let linked = |id: &str| {
        s.w.infraon()
            .people(fake_infraon::SyncTarget::Users)
            .unwrap()
            .iter()
            .any(|p| p.external_id == id)
    };
    let who = [("user", "newcomer@example.com")];
    s.admin.get("/configs/acme").await;
    refused_every_way(&s, "/configs/acme/provision", &who).await;
    assert!(!linked(&newcomer), "a forged provision landed");
    let ok = s.admin.post("/configs/acme/provision", &who).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(linked(&newcomer));

    // Edit config and the rehire policy: forged ones change nothing.
    let target = |s: &Site| {
        let c =
            s.w.infraon()
                .installations(host_harness::PLUGIN_ID)
                .unwrap();
        let second = c.iter().find(|i| i.config == "second").unwrap().clone();
        second.okta_origin
    };
    let origin = target(&s);
    // The same fake Okta under another name: a change Okta verifies.
    let moved = url.replace("127.0.0.1", "localhost");
    let edit = [
        ("okta_domain", moved.as_str()),
        ("api_token", ""),
        ("sync_target", "users"),
        ("migration", ""),
    ];
    s.admin.get("/configs/second/edit").await;
    refused_every_way(&s, "/configs/second/edit", &edit).await;
    assert_eq!(target(&s), origin, "a forged edit landed");
    let ok = s.admin.post("/configs/second/edit", &edit).await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(target(&s).contains("localhost"), "{}", target(&s));
    let rehire = |s: &Site| {
        let rt = &s.w.runtime;
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(rt.rehire("second"))
        })
        .unwrap()
        .unwrap()
    };
    use host_harness::bindings::exports::infraon::okta::sync::RehirePolicy;
    refused_every_way(&s, "/configs/second/rehire", &[("policy", "new-person")]).await;
    assert_eq!(rehire(&s), RehirePolicy::Relink, "a forged rehire landed");
    let ok = s
        .admin
        .post("/configs/second/rehire", &[("policy", "new-person")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert_eq!(rehire(&s), RehirePolicy::NewPerson);

    // Uninstall.
    refused_every_way(&s, "/configs/second/uninstall", &[("confirm", "on")]).await;
    assert!(
        configs(&s).contains(&"second".to_string()),
        "a forged Uninstall"
    );
    let ok = s
        .admin
        .post("/configs/second/uninstall", &[("confirm", "on")])
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(!configs(&s).contains(&"second".to_string()));

    // Sign out: a forged one does not end the session.
    refused_every_way(&s, "/logout", &[]).await;
    assert_eq!(s.admin.get("/marketplace").await.status, 200);
    assert_eq!(s.admin.post("/logout", &[]).await.status, 303);
    assert_eq!(s.admin.get("/marketplace").await.status, 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_is_refused_cross_site_and_with_a_wrong_password() {
    let s = site(3, true).await;
    let visitor = Profile::new(&s.base);
    visitor.get("/signin").await;
    // Login CSRF: another site signing this browser in (to the attacker's
    // account, say) is refused like any other forged post.
    let token = visitor.token();
    let forged = visitor
        .post_raw(
            "/signin",
            &[("password", ADMIN_PASSWORD), ("csrf", &token)],
            &[("origin", "http://evil.example")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(visitor.cookie("infraon_session").is_none());
    let wrong = visitor.post("/signin", &[("password", "guess")]).await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("Wrong password"));
    assert!(visitor.cookie("infraon_session").is_none());
    // The visit's id is not the session's: signing in makes a new one.
    let visit = visitor.cookie("infraon_visit").unwrap();
    visitor.sign_in_admin().await;
    assert_ne!(visitor.cookie("infraon_session").unwrap(), visit);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_opens_without_a_session() {
    let s = site(3, true).await;
    let stranger = Profile::new(&s.base);
    for path in [
        "/",
        "/marketplace",
        "/marketplace/okta",
        "/marketplace/okta/install",
        "/configs/acme",
        "/configs/acme/progress",
        "/configs/acme/mapping",
        "/configs/acme/unsynced.csv",
        "/configs/acme/edit",
        "/configs/acme/runs/1/changes",
        "/configs/acme/runs/1/changes.csv",
        "/people/users",
        "/people/requesters",
    ] {
        let a = stranger.get(path).await;
        assert_eq!(a.status, 303, "{path}: {}", a.body);
        assert!(a.body.starts_with("/signin?next="), "{path}: {}", a.body);
    }
    // A post without a session has no token to match: refused.
    stranger.get("/signin").await;
    let a = stranger
        .post("/configs/acme/sync", &[("mode", "full")])
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
    let a = stranger
        .post("/configs/acme/uninstall", &[("confirm", "on")])
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(configs(&s), ["acme"]);
    // The sign-in pages are open.
    for path in ["/signin", "/sso", "/me"] {
        assert_eq!(stranger.get(path).await.status, 200, "{path}");
    }
}

async fn with_host(base: &str, method: &str, path: &str, host: &str) -> Answer {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{base}{path}");
    let req = match method {
        "GET" => client.get(&url),
        _ => client.post(&url).form(&[("x", "1")]),
    };
    let r = req.header("host", host).send().await.unwrap();
    Answer {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.text().await.unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_host_is_refused_on_every_route() {
    let s = site(3, true).await;
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let routes = [
        ("GET", "/"),
        ("GET", "/marketplace"),
        ("GET", "/marketplace/okta"),
        ("GET", "/marketplace/okta/install"),
        ("POST", "/marketplace/okta/install"),
        ("GET", "/configs/acme"),
        ("POST", "/configs/acme/sync"),
        ("GET", "/configs/acme/progress"),
        ("POST", "/configs/acme/runs/1/approve"),
        ("GET", "/configs/acme/runs/1/changes"),
        ("GET", "/configs/acme/runs/1/changes.csv"),
        ("POST", "/configs/acme/provision"),
        ("GET", "/configs/acme/edit"),
        ("POST", "/configs/acme/edit"),
        ("POST", "/configs/acme/rehire"),
        ("GET", "/configs/acme/unsynced.csv"),
        ("POST", "/configs/acme/schedule"),
        ("POST", "/configs/acme/sso"),
        ("POST", "/configs/acme/verify"),
        ("POST", "/configs/acme/uninstall"),
        ("GET", "/configs/acme/mapping"),
        ("POST", "/configs/acme/mapping"),
        ("GET", "/people/users"),
        ("GET", "/sso"),
        ("GET", "/login?config=acme&as=user"),
        ("GET", "/callback/acme?state=x&code=y"),
        ("GET", "/signin"),
        ("POST", "/signin"),
        ("POST", "/logout"),
        ("GET", "/me"),
        ("GET", "/no-such-page"),
    ];
    // A rebinding name pointed at 127.0.0.1, with and without the port.
    for host in [format!("evil.example:{port}"), "evil.example".to_string()] {
        for (method, path) in routes {
            let a = with_host(&s.base, method, path, &host).await;
            assert_eq!(
                a.status, 421,
                "{method} {path} with Host {host}: {}",
                a.body
            );
            assert!(
                a.headers.get("set-cookie").is_none(),
                "{method} {path} made a session"
            );
        }
    }
    // Its own names are served.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let a = with_host(&s.base, "GET", "/signin", &host).await;
        assert_eq!(a.status, 200, "{host}");
    }
    // Every answer forbids framing (clickjacking).
    let a = s.admin.get("/marketplace").await;
    assert_eq!(a.headers["x-frame-options"], "DENY");
}

#[tokio::test(flavor = "multi_thread")]
async fn production_refuses_development_mode_posted_by_hand() {
    let s = site(3, false).await;
    let url = s.w.okta.url().to_string();
    let token = s.w.okta.api_token().to_string();
    let page = s.admin.get("/marketplace/okta/install").await;
    assert!(
        !page.body.contains("development_mode"),
        "the checkbox is offered"
    );
    for action in ["verify", "install"] {
        let a = s
            .admin
            .post(
                "/marketplace/okta/install",
                &[
                    ("name", "local"),
                    ("okta_domain", &url),
                    ("api_token", &token),
                    ("sync_target", "users"),
                    ("development_mode", "on"),
                    ("action", action),
                ],
            )
            .await;
        assert_eq!(a.status, 400, "{action}: {}", a.body);
        assert!(a.body.contains("Development mode is refused"), "{}", a.body);
        assert!(!a.body.contains("Verified"), "{}", a.body);
        assert!(!a.body.contains(&token));
    }
    assert_eq!(configs(&s), ["acme"]);
    // Without development mode the fake's http:// loopback Okta is refused
    // by the plugin's own domain rules, as it would be in Infraon.
    let a = s
        .admin
        .post(
            "/marketplace/okta/install",
            &[
                ("name", "local"),
                ("okta_domain", &url),
                ("api_token", &token),
                ("sync_target", "users"),
                ("action", "verify"),
            ],
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(!a.body.contains("Verified"));
}
