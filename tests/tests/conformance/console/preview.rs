//! Who is synced and seeing who before it happens, in a real browser
//! (issue 15): Debian's headless Chromium signs in, chooses the scope
//! groups and counts them before saving, adds a population rule, runs a
//! dry run and reads its people page by page and as CSV, syncs, then meets
//! a held run, reads who it would deactivate, and approves; the approval
//! names the signed-in admin, and exactly the people listed are
//! deactivated, in the population they were in.
//!
//! Ignored by a plain `cargo test` (it needs Debian's chromium), never
//! passed unrun: `scripts/test` runs it with `--ignored`, where a missing
//! browser fails it, saying how to install one.

use crate::common;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_infraon::{PersonStatus, SyncTarget};
use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec, UserStatus};
use headless_chrome::{Browser, LaunchOptions};

use super::{Driver, chromium};

const PASSWORD: &str = "browser-preview-password";

/// What this walk-through adds to the console test's [`Driver`].
impl Driver {
    /// Sync Now in `mode` on the config's Settings, until the run ends;
    /// the run's id and how it ended.
    fn sync_now(&self, config: &str, mode: &str) -> (u64, String) {
        self.open(&format!("/configs/{config}"));
        self.eval(&format!("document.querySelector('#mode').value = '{mode}'"));
        self.click_to("#sync-now", "#run-state");
        let deadline = Instant::now() + Duration::from_secs(120);
        let ended = |t: &str| {
            ["succeeded", "partial", "failed", "cancelled", "held"]
                .iter()
                .any(|w| t.contains(w))
        };
        loop {
            let state = self.text("#run-state");
            if ended(&state) {
                let id = state
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no run id in {state:?}"));
                return (id, state);
            }
            assert!(Instant::now() < deadline, "the run never ended: {state}");
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// The Okta ids listed on a run's people pages, following Next.
    fn listed(&self, config: &str, run: u64) -> Vec<(String, String)> {
        self.open(&format!("/configs/{config}"));
        self.click_to(&format!("#people-{run}"), "#total, #no-changes");
        let mut out = Vec::new();
        loop {
            let rows = self.eval(
                "JSON.stringify(Array.from(document.querySelectorAll('tr.change')).map(r => [r.dataset.oktaId, r.dataset.action + (r.textContent.includes('(held)') ? ' held' : '')]))",
            );
            let rows: Vec<(String, String)> =
                serde_json::from_str(rows.as_str().unwrap_or("[]")).unwrap();
            out.extend(rows);
            let next = self.eval("document.querySelector('#next') !== null");
            if next != serde_json::Value::Bool(true) {
                return out;
            }
            self.click_to("#next", "#range");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "drives Debian's headless chromium: scripts/test runs it with --ignored"]
async fn an_admin_reads_who_a_dry_run_and_a_held_run_change_before_approving() {
    let browser_path = chromium();
    let okta = Arc::new(
        FakeOkta::start(FakeOktaOptions {
            org: OrgSpec {
                users: 100,
                groups: 4,
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap(),
    );
    let state = tempfile::tempdir().unwrap();
    let limits = host_harness::policy::Limits {
        request_timeout: Duration::from_secs(30),
        ..common::test_limits()
    };
    let runtime = Arc::new(common::runtime_in(state.path(), limits));
    runtime
        .install(
            &common::form("staff", &okta.url(), okta.api_token()),
            common::DEV,
        )
        .await
        .unwrap()
        .unwrap();
    let infraon = runtime.infraon().clone();
    // IT-Staff (10) and Field-Sales (40) among the active users; 20 in neither.
    let active: Vec<String> = okta
        .org()
        .users
        .into_iter()
        .filter(|u| u.status == UserStatus::Active)
        .map(|u| u.id)
        .collect();
    assert!(active.len() >= 60, "{}", active.len());
    let it_staff = okta.add_group("IT-Staff", "the IT department");
    let sales = okta.add_group("Field-Sales", "the field sales team");
    for id in &active[..10] {
        okta.add_group_member(&it_staff, id).unwrap();
    }
    for id in &active[10..50] {
        okta.add_group_member(&sales, id).unwrap();
    }
    let in_it: BTreeSet<String> = active[..10].iter().cloned().collect();
    let in_sales: BTreeSet<String> = active[10..50].iter().cloned().collect();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let scheduler = host_harness::serve::ScheduleLoop::new(runtime.clone());
    let console = host_harness::web::Console::new(runtime.clone(), base.clone(), scheduler, true)
        .with_admin_password(host_harness::web::AdminPassword::from_plain(PASSWORD).unwrap());
    tokio::spawn(async move { axum::serve(listener, console.router()).await.unwrap() });
    let token = okta.api_token().to_string();
    let okta_for_browser = okta.clone();

    tokio::task::spawn_blocking(move || {
        let profile = tempfile::tempdir().unwrap();
        let browser = Browser::new(LaunchOptions {
            path: Some(browser_path),
            headless: true,
            sandbox: false,
            window_size: Some((1200, 800)),
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
        let d = Driver {
            tab,
            base,
            shots: None,
        };

        d.open("/signin");
        d.fill("#password", PASSWORD);
        d.click_to("#signin", "#card-okta");

        // Scope: members of IT-Staff and Field-Sales, counted before saving.
        d.open("/configs/staff");
        d.click_to("#open-scope", "#scope");
        for gid in [&it_staff, &sales] {
            d.eval(&format!(
                "document.querySelector('input[name=group][value=\"{gid}\"]').click()"
            ));
        }
        d.click_to("#scope-count", "#scope-covers");
        assert!(
            d.text("#scope-covers").contains("covers 50 Okta users")
                && d.text("#scope-covers").contains("not saved yet"),
            "{}",
            d.text("#scope-covers")
        );
        d.click_to("#scope-save", "#status");
        assert!(
            d.text("#status").contains("Scope saved: it covers 50"),
            "{}",
            d.text("#status")
        );
        // A population rule: Field-Sales → Requesters; IT-Staff keeps the Sync
        // field's Users.
        d.fill("#rule-group-0", "Field-Sales");
        d.eval("document.querySelector('#rule-population-0').value = 'requesters'");
        d.click_to("#populations-save", "#status");
        assert!(
            d.text("#status").contains("Population rules saved"),
            "{}",
            d.text("#status")
        );

        // A dry run: its people, page by page, are who a sync would create:
        // the scope's members, nobody else.
        let (dry, state) = d.sync_now("staff", "dry-run");
        assert!(
            state.contains("succeeded") || state.contains("partial"),
            "{state}"
        );
        assert!(infraon.people(SyncTarget::Users).unwrap().is_empty());
        let planned = d.listed("staff", dry);
        assert!(planned.len() > 25, "more than one page: {}", planned.len());
        assert!(
            planned
                .iter()
                .all(|(_, a)| a == "create" || a == "unsynced")
        );
        let planned_ids: BTreeSet<String> = planned.iter().map(|(id, _)| id.clone()).collect();
        let scope: BTreeSet<String> = in_it.union(&in_sales).cloned().collect();
        assert_eq!(planned_ids, scope);
        let href = format!("/configs/staff/runs/{dry}/changes.csv");
        let csv_text = d.eval(&format!("fetch('{href}').then(r => r.text())"));
        let csv_text = csv_text.as_str().unwrap().to_string();
        let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(csv_text.as_bytes())
            .records()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), planned.len());
        assert!(!csv_text.contains(&token));

        // The sync does what the dry run listed.
        let (full, state) = d.sync_now("staff", "full");
        assert!(
            !state.contains("held") && !state.contains("failed"),
            "{state}"
        );
        let applied = d.listed("staff", full);
        assert_eq!(applied, planned, "the dry run's people are the sync's");
        let created: BTreeSet<String> = planned
            .iter()
            .filter(|(_, a)| a == "create")
            .map(|(id, _)| id.clone())
            .collect();
        let linked = |kind| -> BTreeSet<String> {
            infraon
                .people(kind)
                .unwrap()
                .into_iter()
                .map(|p| p.external_id)
                .filter(|id| !id.is_empty())
                .collect()
        };
        // Each in the population the rules give, nobody in both.
        let users = linked(SyncTarget::Users);
        let requesters = linked(SyncTarget::Requesters);
        assert_eq!(&users | &requesters, created);
        assert!(users.is_subset(&in_it), "{users:?}");
        assert!(requesters.is_subset(&in_sales), "{requesters:?}");

        // Many of Field-Sales leave Okta: the run is held; its list names exactly them.
        let gone: BTreeSet<String> = requesters.iter().take(20).cloned().collect();
        for id in &gone {
            okta_for_browser.delete_user(id).unwrap();
        }
        let (held, state) = d.sync_now("staff", "full");
        assert!(state.contains("held"), "{state}");
        let waiting = d.listed("staff", held);
        let held_ids: BTreeSet<String> = waiting
            .iter()
            .filter(|(_, a)| a == "deactivate held")
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(held_ids, gone);
        assert!(d.text("#changes").contains("deactivate (held)"));

        // Approve from the list: exactly they are deactivated, and who
        // approved is shown.
        let deactivated = || -> BTreeSet<String> {
            infraon
                .people(SyncTarget::Requesters)
                .unwrap()
                .into_iter()
                .filter(|p| p.status == PersonStatus::Deactivated)
                .map(|p| p.external_id)
                .collect()
        };
        let before = deactivated();
        assert!(before.is_disjoint(&gone));
        let users_before = infraon.people(SyncTarget::Users).unwrap();
        d.click_to(&format!("#approve-{held}"), "#status");
        assert!(
            d.text("#status").contains("Approved"),
            "{}",
            d.text("#status")
        );
        assert!(
            d.text(&format!("#decision-{held}"))
                .contains("Approved by console administrator"),
            "{}",
            d.text("#decisions")
        );
        let now: BTreeSet<String> = deactivated().difference(&before).cloned().collect();
        assert_eq!(now, gone);
        assert_eq!(infraon.people(SyncTarget::Users).unwrap(), users_before);
    })
    .await
    .unwrap();
}
