//! The web console in a real browser: Debian's headless Chromium clicks
//! through Marketplace → install form → Verify (failing, then passing) →
//! Install → Sync Now → the synced Users → a mapping change with preview →
//! Export Unsynced Data → sign-in settings → Sign in with Okta, asserting
//! what each page shows.
//!
//! It signs in with the local admin password first: nothing else is open
//! without a session.
//!
//! Ignored by a plain `cargo test` (it needs Debian's chromium), never
//! passed unrun: `scripts/test` installs chromium and runs it with
//! `--ignored`, and a missing browser then fails it, saying how to
//! install one. With `CONSOLE_SCREENSHOTS=DIR` it also
//! writes a PNG of each screen there (the README's come from
//! `CONSOLE_SCREENSHOTS=$PWD/docs/console cargo test -p conformance --test conformance console:: -- --ignored`).

mod forms;
mod keys;
mod preview;
mod scope;
mod security;

use crate::common;

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_infraon::{PersonStatus, SyncTarget};
use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec, UserStatus};
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};

/// The local admin password of this test's console.
const PASSWORD: &str = "browser-test-password";

/// Debian's chromium on `PATH` (the browser tests of this module and its
/// children share it and [`Driver`]).
fn chromium() -> PathBuf {
    let found = ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let name = found.expect(
        "this browser test needs Debian's chromium: `apt-get install -y chromium` (scripts/test installs it)",
    );
    let path = std::env::var_os("PATH").expect("PATH");
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .expect("chromium on PATH")
}

/// The browser, driven synchronously from a blocking thread.
struct Driver {
    tab: Arc<Tab>,
    base: String,
    shots: Option<PathBuf>,
}

impl Driver {
    fn open(&self, path: &str) {
        self.tab
            .navigate_to(&format!("{}{path}", self.base))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
    }

    /// The text of `selector`. The progress page reloads itself every
    /// second, so a read that races a reload is tried again.
    fn text(&self, selector: &str) -> String {
        let mut last = String::new();
        for _ in 0..20 {
            match self
                .tab
                .wait_for_element(selector)
                .and_then(|e| e.get_inner_text())
            {
                Ok(text) => return text,
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("no {selector} on {}: {last}", self.tab.get_url())
    }

    fn eval(&self, script: &str) -> serde_json::Value {
        self.tab
            .evaluate(script, true)
            .unwrap()
            .value
            .unwrap_or_default()
    }

    /// Set an input's value as a person typing over it would.
    fn fill(&self, selector: &str, value: &str) {
        let el = self.tab.wait_for_element(selector).unwrap();
        self.eval(&format!(
            "document.querySelector({s}).value = ''",
            s = serde_json::to_string(selector).unwrap()
        ));
        el.click().unwrap();
        if !value.is_empty() {
            el.type_into(value).unwrap();
        }
    }

    /// Click what leads to another page and wait for `next` on it.
    fn click_to(&self, selector: &str, next: &str) {
        self.tab
            .wait_for_element(selector)
            .unwrap()
            .click()
            .unwrap();
        self.tab.wait_until_navigated().unwrap();
        self.tab
            .wait_for_element_with_custom_timeout(next, Duration::from_secs(30))
            .unwrap_or_else(|e| {
                panic!(
                    "after clicking {selector}, no {next} on {}: {e}\n{}",
                    self.tab.get_url(),
                    self.tab.get_content().unwrap_or_default()
                )
            });
    }

    fn disabled(&self, selector: &str) -> bool {
        self.eval(&format!(
            "document.querySelector({}).disabled",
            serde_json::to_string(selector).unwrap()
        )) == serde_json::Value::Bool(true)
    }

    fn shot(&self, name: &str) {
        let Some(dir) = &self.shots else { return };
        let jpeg = self
            .tab
            .capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true)
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), jpeg).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives Debian's headless chromium: scripts/test runs it with --ignored"]
async fn an_admin_clicks_through_the_console_in_headless_chromium() {
    let browser_path = chromium();
    let okta = Arc::new(
        FakeOkta::start(FakeOktaOptions {
            org: OrgSpec {
                users: 30,
                groups: 4,
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap(),
    );
    // Key generation in a debug build is slow: do it before the browser waits on it.
    let _ = okta.signing_kid(None);
    let state = tempfile::tempdir().unwrap();
    let limits = host_harness::policy::Limits {
        request_timeout: Duration::from_secs(30),
        ..common::test_limits()
    };
    let runtime = Arc::new(common::runtime_in(state.path(), limits));
    let infraon = runtime.infraon().clone();

    // Someone already in Infraon with an Okta user's email but no link:
    // the sync must not take them over, so the export has a row.
    let org = okta.org();
    let taken = org
        .users
        .iter()
        .find(|u| u.status == UserStatus::Active)
        .unwrap()
        .clone();
    let signer = org
        .users
        .iter()
        .filter(|u| u.status == UserStatus::Active)
        .nth(1)
        .unwrap()
        .clone();
    let email_of = |id: &str| {
        okta.user_json(id).unwrap()["profile"]["email"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (taken_email, signer_email) = (email_of(&taken.id), email_of(&signer.id));
    infraon
        .add_unlinked_person(
            SyncTarget::Users,
            &taken_email,
            "local.admin",
            "Local Admin",
        )
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let scheduler = host_harness::serve::ScheduleLoop::new(runtime.clone());
    let console = host_harness::web::Console::new(runtime.clone(), base.clone(), scheduler, true)
        .with_admin_password(host_harness::web::AdminPassword::from_plain(PASSWORD).unwrap())
        .with_client_registrar(host_harness::web::fake_okta_registrar(okta.clone()));
    tokio::spawn(async move { axum::serve(listener, console.router()).await.unwrap() });

    let okta_url = okta.url().to_string();
    let token = okta.api_token().to_string();
    let closed = format!("http://127.0.0.1:{}", common::closed_port());
    let shots = std::env::var_os("CONSOLE_SCREENSHOTS").map(PathBuf::from);
    let infraon_for_browser = infraon.clone();

    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let browser = Browser::new(LaunchOptions {
            path: Some(browser_path),
            headless: true,
            sandbox: false,
            window_size: Some((1100, 760)),
            user_data_dir: Some(profile.path().to_path_buf()),
            idle_browser_timeout: Duration::from_secs(120),
            args: [
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ]
            .iter()
            .map(OsStr::new)
            .collect(),
            ..Default::default()
        })
        .unwrap();
        let tab = browser.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(30));
        let d = Driver { tab, base, shots };

        // Nothing opens without signing in: the console asks first, then
        // returns to the page asked for.
        d.open("/");
        assert!(d.tab.get_url().contains("/signin"), "{}", d.tab.get_url());
        d.fill("#password", "not the password");
        d.click_to("#signin", "#error");
        let wrong = d.text("#error");
        assert!(wrong.contains("Wrong password"), "{wrong}");
        d.fill("#password", PASSWORD);
        d.shot("0-signin");
        d.click_to("#signin", "#card-okta");
        assert!(d.text("#signed-in-as").contains("console administrator"));

        // Marketplace → Okta → Install.
        assert!(d.text("#card-okta").contains("Okta"));
        assert!(d.text("#card-okta").contains("Not installed"));
        d.shot("1-marketplace");
        d.click_to("#card-okta", "#install");
        assert!(d.text("#no-configs").contains("No config yet"));
        d.shot("2-plugin");
        d.click_to("#install", "#config-form");
        // The form is generated from manifest.json.
        for label in ["Config Name", "Okta Domain URL", "API Token", "Sync"] {
            assert!(d.text("#config-form").contains(label), "{label}");
        }
        assert!(d.disabled("#install"), "Install before Verify");
        assert_eq!(
            d.eval("document.querySelector('#api_token').type"),
            serde_json::json!("password")
        );

        // A failing Verify: nothing answers at the domain.
        d.fill("#name", "staff");
        d.fill("#okta_domain", &closed);
        d.fill("#api_token", &token);
        d.click_to("#verify", "#okta_domain-error");
        assert!(
            d.text("#okta_domain-error").contains("Nothing answers"),
            "{}",
            d.text("#okta_domain-error")
        );
        assert!(d.disabled("#install"), "Install after a failed Verify");
        let page = d.tab.get_content().unwrap();
        assert!(!page.contains(&token), "the token came back in the page");
        d.shot("3-verify-failed");

        // A second failure, next to the other field: a revoked token.
        d.fill("#okta_domain", &okta_url);
        d.fill("#api_token", "00not-a-real-token");
        d.click_to("#verify", "#api_token-error");
        assert!(d.text("#api_token-error").contains("rejected the API token"));
        assert!(d.disabled("#install"));

        // A passing Verify enables Install; Install lands on Settings.
        d.fill("#api_token", &token);
        d.click_to("#verify", "#form-status");
        assert!(d.text("#form-status").starts_with("Verified"));
        assert!(!d.disabled("#install"), "Install after a passing Verify");
        assert!(!d.tab.get_content().unwrap().contains(&token));
        d.shot("4-verified");
        d.click_to("#install", "#sync-now");
        assert!(d.tab.get_url().contains("/configs/staff"));
        assert!(d.text("#status").contains("Installed"));
        assert!(d.text("#no-runs").contains("No runs yet"));

        // Sync Now, with live progress until it ends.
        d.click_to("#sync-now", "#run-state");
        let deadline = Instant::now() + Duration::from_secs(90);
        let ended = |t: &str| ["succeeded", "partial", "failed", "cancelled", "held"]
            .iter()
            .any(|w| t.contains(w));
        while !ended(&d.text("#run-state")) {
            assert!(
                Instant::now() < deadline,
                "the run never ended: {}",
                d.text("#run-state")
            );
            std::thread::sleep(Duration::from_millis(300));
        }
        // Partial: everyone synced but the person Infraon already had.
        assert!(d.text("#run-state").contains("partial"), "{}", d.text("#run-state"));
        d.shot("5-sync-done");
        assert!(d.text("#run-csv").contains("1 unsynced record"));
        let synced = infraon_for_browser.people(SyncTarget::Users).unwrap();
        let linked = synced.iter().filter(|p| !p.external_id.is_empty()).count();
        assert!(linked >= 25, "only {linked} people linked");
        let counts = d.text("#counts");
        assert!(counts.contains(&linked.to_string()), "{counts}");
        d.click_to("#back", "#runs");
        assert!(d.text("#runs").contains("partial"));
        d.shot("6-settings");

        // The synced Users list shows them with status and roles.
        d.open("/people/users");
        let count = d.text("#people-count");
        assert!(
            count.starts_with(&format!("{} of {} users", synced.len(), synced.len())),
            "{count}"
        );
        assert!(d.text("#people").contains(&signer_email));
        let suspended = synced
            .iter()
            .filter(|p| p.status == PersonStatus::Suspended)
            .count();
        if suspended > 0 {
            assert!(d.text("#people").contains("suspended"));
        }
        d.shot("7-users");

        // A mapping change: upper-case emails, seen in the preview.
        d.open("/configs/staff/mapping");
        let row = d.eval(
            "Array.from(document.querySelectorAll('input[name^=target_]')).find(e => e.value == 'email').id.split('_')[1]",
        );
        let row = row.as_str().expect("an email mapping row").to_string();
        d.fill(&format!("#transforms_{row}"), "trim; upper");
        d.click_to("#mapping-save", "#status");
        assert!(d.text("#status").starts_with("Saved"), "{}", d.text("#status"));
        assert_eq!(
            d.eval(&format!("document.querySelector('#transforms_{row}').value")),
            serde_json::json!("trim; upper")
        );
        d.fill("#preview-login", &signer.login);
        d.click_to("#preview-button", "#preview");
        let email_cell = d.text("#preview td[data-field=email]");
        assert_eq!(email_cell, signer_email.to_uppercase());
        d.shot("8-mapping-preview");
        d.eval("document.querySelector('#mapping-form').scrollIntoView()");
        d.shot("8-mapping-editor");

        // Export Unsynced Data: the browser fetches the CSV the link serves.
        d.open("/configs/staff");
        let href = d.eval("document.querySelector('#export').getAttribute('href')");
        let disposition = d.eval(&format!(
            "fetch({href}).then(r => r.headers.get('content-disposition'))"
        ));
        let csv_text = d.eval(&format!("fetch({href}).then(r => r.text())"));
        let csv_text = csv_text.as_str().unwrap();
        assert!(
            disposition.as_str().unwrap_or_default().starts_with("attachment"),
            "{disposition}"
        );
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 1, "{csv_text}");
        assert!(rows[0].iter().any(|cell| cell == taken_email), "{csv_text}");
        assert!(!csv_text.contains(&token));

        // Sign-in settings, then Sign in with Okta as a technician.
        d.fill("#client_id", "console-app");
        d.tab.wait_for_element("#sso-users").unwrap().click().unwrap();
        d.click_to("#sso-save", "#status");
        assert!(d.text("#status").contains("Sign-in settings saved"));
        d.open("/sso");
        d.shot("9-sso");
        d.click_to("#signin-staff", "button[name=login_hint]");
        let pick = format!("button[name=login_hint][value=\"{}\"]", signer.login);
        d.click_to(&pick, "#who");
        let who = d.text("#who");
        assert!(who.contains(&signer.login), "{who}");
        assert!(who.contains("as an Infraon User"), "{who}");
        d.shot("10-signed-in");
        // The session is now the technician's, who is no administrator.
        d.open("/marketplace");
        assert!(d.text("#error").contains("not an Infraon Administrator"));
        d.click_to("#header-logout", "#status");
        assert!(d.text("#status").contains("Signed out"));
        d.open("/me");
        assert!(d.text("#who").contains("Nobody is signed in"));
    })
    .await
    .unwrap();

    // The token never reached a page, a log line or the database in clear.
    let logs: String = infraon
        .log_lines(host_harness::PLUGIN_ID)
        .unwrap()
        .iter()
        .map(|l| format!("{l:?}"))
        .collect();
    assert!(!logs.contains(okta.api_token()));
}
