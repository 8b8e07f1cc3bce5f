//! The web console's forms over plain HTTP (no browser needed): Install
//! guarded by Verify, held runs approved from Settings, Schedule Sync,
//! mapping validation shown on the page, unknown configs, and no secret in
//! any page.

use crate::browserless;
use crate::common;

use std::sync::Arc;

use browserless::{ADMIN_PASSWORD, Profile};

use common::{DEV, World, world};
use fake_infraon::{PersonStatus, SyncTarget};
use fake_okta::UserStatus;
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};

struct Site {
    w: World,
    /// A browser signed in as the local admin.
    admin: Profile,
    /// Every page body fetched, to search for secrets at the end.
    seen: std::sync::Mutex<String>,
}

impl Site {
    async fn get(&self, path: &str) -> (u16, String) {
        let a = self.admin.get(path).await;
        self.seen.lock().unwrap().push_str(&a.body);
        (a.status, a.body)
    }

    /// A post from the console's own page (same origin, its form token).
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let a = self.admin.post(path, form).await;
        self.seen.lock().unwrap().push_str(&a.body);
        (a.status, a.body)
    }
}

async fn site(users: usize) -> Site {
    let w = world(users, 3).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let app = host_harness::web::router(runtime, base.clone(), ADMIN_PASSWORD);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let admin = Profile::new(&base);
    admin.sign_in_admin().await;
    Site {
        w,
        admin,
        seen: Default::default(),
    }
}

fn ticket(page: &str) -> String {
    let at = page
        .find("name=\"ticket\" value=\"")
        .expect("a ticket field")
        + 21;
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn install_needs_a_verify_of_exactly_the_values_installed() {
    let s = site(10).await;
    let url = s.w.okta.url().to_string();
    let token = s.w.okta.api_token().to_string();
    let form = |name: &'static str, domain: &str, action: &'static str, ticket: &str| {
        vec![
            ("name", name.to_string()),
            ("okta_domain", domain.to_string()),
            ("api_token", token.clone()),
            ("sync_target", "users".to_string()),
            ("development_mode", "on".to_string()),
            ("action", action.to_string()),
            ("ticket", ticket.to_string()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.post("/marketplace/okta/install", &pairs).await
        }
    };

    // Install without Verify is refused and installs nothing.
    let (status, page) = post(form("second", &url, "install", "")).await;
    assert_eq!(status, 422);
    assert!(page.contains("Press Verify first"), "{page}");

    // Verify passes; Install with a changed domain is refused.
    let (status, page) = post(form("second", &url, "verify", "")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Verified"));
    let t = ticket(&page);
    assert_eq!(t.len(), 32);
    let moved = url.replace("127.0.0.1", "localhost");
    let (status, page) = post(form("second", &moved, "install", &t)).await;
    assert_eq!(status, 422);
    assert!(page.contains("The form changed after Verify"), "{page}");

    // A duplicate name is shown next to Config Name.
    let (_, page) = post(form("acme", &url, "verify", "")).await;
    let dup = ticket(&page);
    let (status, page) = post(form("acme", &url, "install", &dup)).await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"name-error\""), "{page}");

    // The verified values install, with the token left blank (kept server-side).
    let mut blank = form("second", &url, "install", &t);
    blank.retain(|(k, _)| *k != "api_token");
    let (status, location) = post(blank).await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/configs/second?installed=1");
    let (status, page) = s.get(&location).await;
    assert_eq!(status, 200);
    assert!(page.contains("Installed."));

    // A ticket is single-use.
    let (status, _) = post(form("third", &url, "install", &t)).await;
    assert_eq!(status, 422);

    assert!(
        !s.seen.lock().unwrap().contains(&token),
        "a page showed the token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_run_is_approved_from_settings() {
    let s = site(60).await;
    let sync = || async {
        s.w.runtime
            .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
            .await
            .unwrap()
            .unwrap()
    };
    sync().await;
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
    let held = sync().await;
    assert_eq!(held.outcome, Some(RunOutcome::Held));

    let (_, page) = s.get("/configs/acme").await;
    assert!(
        page.contains(&format!("id=\"approve-{}\"", held.id)),
        "{page}"
    );
    let (status, location) = s
        .post(&format!("/configs/acme/runs/{}/approve", held.id), &[])
        .await;
    assert_eq!(status, 303);
    let (_, page) = s.get(&location).await;
    assert!(page.contains("Approved: the held deactivations were applied."));
    let deactivated =
        s.w.infraon()
            .people(SyncTarget::Users)
            .unwrap()
            .into_iter()
            .filter(|p| gone.contains(&p.external_id) && p.status == PersonStatus::Deactivated)
            .count();
    assert_eq!(deactivated, gone.len());

    // Approving twice is a typed refusal on the page, not a crash.
    let (status, page) = s
        .post(&format!("/configs/acme/runs/{}/approve", held.id), &[])
        .await;
    assert_eq!(status, 422, "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn schedule_sync_is_set_shown_refused_and_cleared() {
    let s = site(5).await;
    let daily = [
        ("action", "set"),
        ("kind", "daily"),
        ("at", "02:00"),
        ("weekday", "0"),
        ("hours", "24"),
        ("tz", "Europe/Berlin"),
    ];
    let (status, location) = s.post("/configs/acme/schedule", &daily).await;
    assert_eq!(status, 303);
    let (_, page) = s.get(&location).await;
    assert!(page.contains("Schedule saved."));
    assert!(
        page.contains("Daily at 02:00 (Europe/Berlin); next run "),
        "{page}"
    );

    let mut bad = daily;
    bad[5] = ("tz", "Mars/Olympus");
    let (status, page) = s.post("/configs/acme/schedule", &bad).await;
    assert_eq!(status, 422);
    assert!(page.contains("Schedule not saved") && page.contains("Mars/Olympus"));
    // The refused one did not replace the kept one.
    assert!(page.contains("Daily at 02:00 (Europe/Berlin)"));

    let (status, _) = s
        .post("/configs/acme/schedule", &[("action", "clear")])
        .await;
    assert_eq!(status, 303);
    let (_, page) = s.get("/configs/acme").await;
    assert!(page.contains("No schedule"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mapping_infraon_cannot_accept_is_refused_on_the_page() {
    let s = site(5).await;
    let (_, page) = s.get("/configs/acme/mapping").await;
    assert!(page.contains("id=\"mapping-form\""));
    // Only a login mapping: Infraon requires email too.
    let (status, page) = s
        .post(
            "/configs/acme/mapping",
            &[
                ("action", "save"),
                ("target_0", "login"),
                ("source_0", "login"),
                ("transforms_0", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Infraon requires `email`"), "{page}");
    // A transform the editor does not know is named.
    let (status, page) = s
        .post(
            "/configs/acme/mapping",
            &[
                ("action", "save"),
                ("target_0", "login"),
                ("source_0", "login"),
                ("transforms_0", "capitalise"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("unknown transform"), "{page}");
    // Nothing was saved: the default mapping still maps email.
    let mapping = s.w.runtime.mapping("acme").await.unwrap().unwrap();
    assert!(mapping.fields.iter().any(|f| f.target == "email"));
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_configs_get_not_found_pages() {
    let s = site(3).await;
    for path in [
        "/configs/nope",
        "/configs/nope/mapping",
        "/configs/nope/unsynced.csv",
        "/people/robots",
    ] {
        let (status, page) = s.get(path).await;
        assert_eq!(status, 404, "{path}: {page}");
    }
    // No runs yet: the export says so instead of an empty file.
    let (status, page) = s.get("/configs/acme/unsynced.csv").await;
    assert_eq!(status, 404);
    assert!(page.contains("never run"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_again_and_uninstall_from_settings() {
    let s = site(3).await;
    let (status, page) = s.post("/configs/acme/verify", &[]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Verified: "), "{page}");
    s.w.okta.faults().revoke_token();
    let (_, page) = s.post("/configs/acme/verify", &[]).await;
    assert!(page.contains("Okta rejected the API token"), "{page}");
    s.w.okta.faults().clear();

    // Without the box ticked nothing is removed.
    let (status, page) = s.post("/configs/acme/uninstall", &[]).await;
    assert_eq!(status, 422);
    assert!(page.contains("tick the box"));
    assert_eq!(s.get("/configs/acme").await.0, 200);

    let (status, location) = s
        .post("/configs/acme/uninstall", &[("confirm", "on")])
        .await;
    assert_eq!(status, 303);
    let (_, page) = s.get(&location).await;
    assert!(
        page.contains("Uninstalled.") && page.contains("No config yet"),
        "{page}"
    );
    assert_eq!(s.get("/configs/acme").await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_safeguard_is_edited_on_settings_and_a_bad_share_refused() {
    let s = site(5).await;
    let (_, page) = s.get("/configs/acme").await;
    assert!(page.contains("id=\"share\" name=\"share\" min=\"1\" max=\"100\" value=\"20\""));
    let (status, location) = s
        .post(
            "/configs/acme/safeguard",
            &[("share", "35"), ("minimum", "12")],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let saved = s.w.runtime.safeguard("acme").await.unwrap().unwrap();
    assert_eq!(
        (saved.deactivation_share_percent, saved.deactivation_minimum),
        (35, 12)
    );
    let (_, page) = s.get(&location).await;
    assert!(page.contains("Safeguard saved"), "{page}");
    assert!(page.contains("value=\"35\""));
    for form in [
        [("share", "0"), ("minimum", "5")],
        [("share", "x"), ("minimum", "5")],
    ] {
        let (status, page) = s.post("/configs/acme/safeguard", &form).await;
        assert_eq!(status, 422);
        assert!(page.contains("Safeguard not saved"), "{page}");
    }
    let kept = s.w.runtime.safeguard("acme").await.unwrap().unwrap();
    assert_eq!(kept.deactivation_share_percent, 35);
}

#[tokio::test(flavor = "multi_thread")]
async fn saved_sign_in_settings_are_shown_never_the_secret() {
    let s = site(3).await;
    let (_, page) = s.get("/configs/acme").await;
    assert!(page.contains("Not set up yet."), "{page}");
    const SECRET: &str = "client-secret-that-must-never-show";
    let (status, location) = s
        .post(
            "/configs/acme/sso",
            &[
                ("users_enabled", "on"),
                ("client_id", "0oaCLIENT42"),
                ("client_secret", SECRET),
                ("authorization_server", "default"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    let (_, page) = s.get("/configs/acme").await;
    let saved = &page[page.find("id=\"sso-saved\"").expect("saved settings")..];
    assert!(saved.contains("<code>0oaCLIENT42</code>"), "{saved}");
    assert!(saved.contains("kept (not shown)"));
    assert!(saved.contains("<code>default</code>"));
    assert!(!s.seen.lock().unwrap().contains(SECRET));
}
