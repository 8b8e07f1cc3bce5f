//! Okta Event Hooks end to end: the fake Okta registers and verifies the
//! host's endpoint, then delivers an event on each change of the org; the
//! host authenticates it and the built plugin applies it, with no sync run.
//!
//! The "within 2 seconds" bound is the behaviour bound (how long a
//! deactivated person keeps access), measured here and asserted as it is
//! stated; it is not a speed benchmark: a delivery costs one instance and
//! two Okta GETs, far below it.

use crate::browserless;
use crate::common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{DEV, World, world};
use fake_infraon::{Person, PersonStatus, SyncTarget};
use fake_okta::{EventHook, UserStatus};
use host_harness::bindings::exports::infraon::okta::map::{GroupMatcher, RoleRule};
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use host_harness::bindings::infraon::okta::types::SyncTarget as WitTarget;
use serde_json::json;

/// The bound: a change in Okta is in Infraon within 2 seconds.
const BOUND: Duration = Duration::from_secs(2);

struct Hooked {
    w: World,
    base: String,
    secret: String,
    http: reqwest::Client,
}

impl Hooked {
    fn url(&self) -> String {
        format!("{}/hooks/okta/acme", self.base)
    }

    fn person(&self, id: &str) -> Person {
        self.w
            .infraon()
            .find_by_external_id(SyncTarget::Users, id)
            .unwrap()
            .unwrap_or_else(|| panic!("{id} is not in Infraon"))
    }

    /// Wait (up to 10 s) until `ok` holds of the person; the time it took.
    async fn until(&self, id: &str, ok: impl Fn(&Person) -> bool) -> Duration {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if ok(&self.person(id)) {
                return start.elapsed();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "{id} never reached the expected state: {:?}",
            self.person(id)
        );
    }

    /// Wait until the fake Okta has made `n` delivery attempts, all answered.
    async fn delivered(&self, n: usize) {
        let start = Instant::now();
        while self.w.okta.event_deliveries().len() < n {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{:?}",
                self.w.okta.event_deliveries()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn runs(&self) -> usize {
        self.w
            .infraon()
            .storage_list_keys(host_harness::PLUGIN_ID, "state/acme/runs/")
            .unwrap()
            .len()
    }
}

/// Installed, synced once, the console served, an event hook registered.
async fn hooked() -> Hooked {
    let w = world(40, 4).await;
    w.runtime
        .install(&w.good_form("acme"), DEV)
        .await
        .unwrap()
        .unwrap();
    let admins = w
        .okta
        .add_group("Administrator", "maps to the Infraon role");
    let _ = admins;
    // Administrator is privileged: only a rule naming it grants it.
    let mut mapping = w.runtime.mapping("acme").await.unwrap().unwrap();
    mapping.role_rules.push(RoleRule {
        matcher: GroupMatcher::Name("Administrator".into()),
        role: "Administrator".into(),
        priority: 1,
        kind: WitTarget::Users,
    });
    w.runtime
        .set_mapping("acme", &mapping)
        .await
        .unwrap()
        .unwrap();
    let run = w
        .runtime
        .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.outcome, Some(RunOutcome::Succeeded));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let app = host_harness::web::router(runtime, base.clone(), browserless::ADMIN_PASSWORD);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let secret = host_harness::hooks::rotate_secret(w.infraon(), "acme").unwrap();
    w.okta
        .register_event_hook(EventHook {
            url: format!("{base}/hooks/okta/acme"),
            auth_header: "Authorization".into(),
            auth_value: secret.clone(),
            event_types: vec![],
        })
        .await
        .unwrap();
    Hooked {
        w,
        base,
        secret,
        http: reqwest::Client::new(),
    }
}

fn active(h: &Hooked) -> Vec<String> {
    let org = h.w.okta.org();
    org.visible_user_ids()
        .into_iter()
        .filter(|id| org.user(id).unwrap().status == UserStatus::Active)
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivating_a_user_in_okta_deactivates_the_person_within_2_seconds_without_a_sync() {
    let h = hooked().await;
    let runs = h.runs();
    let id = active(&h)[0].clone();
    assert_eq!(h.person(&id).status, PersonStatus::Active);
    let start = Instant::now();
    h.w.okta
        .set_user_status(&id, UserStatus::Deprovisioned)
        .unwrap();
    h.until(&id, |p| p.status == PersonStatus::Deactivated)
        .await;
    let took = start.elapsed();
    println!("deactivated in Infraon {took:?} after the change in Okta");
    assert!(took < BOUND, "took {took:?}");
    assert_eq!(h.runs(), runs, "no sync ran");
    // Okta notes the answer after the host has applied the delivery.
    h.delivered(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attempts = h.w.okta.event_deliveries();
    assert_eq!(
        attempts.len(),
        1,
        "answered at once, no retry: {attempts:?}"
    );
    assert_eq!(attempts[0].status, Some(200));
}

#[tokio::test(flavor = "multi_thread")]
async fn suspend_unsuspend_profile_and_membership_changes_arrive_within_2_seconds() {
    let h = hooked().await;
    let runs = h.runs();
    let id = active(&h)[1].clone();

    let start = Instant::now();
    h.w.okta
        .set_user_status(&id, UserStatus::Suspended)
        .unwrap();
    h.until(&id, |p| p.status == PersonStatus::Suspended).await;
    assert!(
        start.elapsed() < BOUND,
        "suspend took {:?}",
        start.elapsed()
    );

    let start = Instant::now();
    h.w.okta.set_user_status(&id, UserStatus::Active).unwrap();
    h.until(&id, |p| p.status == PersonStatus::Active).await;
    assert!(
        start.elapsed() < BOUND,
        "unsuspend took {:?}",
        start.elapsed()
    );

    let start = Instant::now();
    let mut changes = serde_json::Map::new();
    changes.insert("lastName".into(), json!("Hooked"));
    h.w.okta.update_user_profile(&id, changes).unwrap();
    h.until(&id, |p| p.last_name == "Hooked").await;
    assert!(
        start.elapsed() < BOUND,
        "profile took {:?}",
        start.elapsed()
    );

    let admins =
        h.w.okta
            .org()
            .groups
            .iter()
            .find(|g| g.name == "Administrator")
            .unwrap()
            .id
            .clone();
    let start = Instant::now();
    h.w.okta.add_group_member(&admins, &id).unwrap();
    h.until(&id, |p| p.roles.iter().any(|r| r == "Administrator"))
        .await;
    assert!(
        start.elapsed() < BOUND,
        "membership add took {:?}",
        start.elapsed()
    );
    h.w.okta.remove_group_member(&admins, &id).unwrap();
    h.until(&id, |p| !p.roles.iter().any(|r| r == "Administrator"))
        .await;
    assert_eq!(h.runs(), runs, "no sync ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicates_and_out_of_order_deliveries_end_in_okta_s_state() {
    let h = hooked().await;
    let ids = active(&h);
    let (a, b) = (ids[2].clone(), ids[3].clone());

    // Every delivery twice: the second is a duplicate and changes nothing.
    h.w.okta.duplicate_event_deliveries(true);
    h.w.okta.set_user_status(&a, UserStatus::Suspended).unwrap();
    h.delivered(2).await;
    h.w.okta.duplicate_event_deliveries(false);
    assert_eq!(h.person(&a).status, PersonStatus::Suspended);
    let log = host_harness::hooks::deliveries(h.w.infraon(), "acme");
    assert!(log[0].events.iter().all(|e| e.2 == "duplicate"), "{log:?}");
    assert!(log[1].events.iter().all(|e| e.2 == "applied"), "{log:?}");

    // Suspended then deactivated in Okta; delivered newest first.
    h.w.okta.hold_event_deliveries();
    h.w.okta.set_user_status(&b, UserStatus::Suspended).unwrap();
    h.w.okta
        .set_user_status(&b, UserStatus::Deprovisioned)
        .unwrap();
    h.w.okta.release_event_deliveries_newest_first();
    h.delivered(4).await;
    assert_eq!(h.person(&b).status, PersonStatus::Deactivated);
    // And the reverse: deactivated then reactivated, delivered newest first.
    h.w.okta.hold_event_deliveries();
    h.w.okta
        .set_user_status(&a, UserStatus::Deprovisioned)
        .unwrap();
    h.w.okta.set_user_status(&a, UserStatus::Active).unwrap();
    h.w.okta.release_event_deliveries_newest_first();
    h.delivered(6).await;
    assert_eq!(h.person(&a).status, PersonStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_with_a_wrong_secret_is_refused_and_changes_nothing() {
    let h = hooked().await;
    let id = active(&h)[4].clone();
    // Okta's state changes without a delivery; a forged one names the user.
    h.w.okta.hold_event_deliveries();
    h.w.okta
        .set_user_status(&id, UserStatus::Deprovisioned)
        .unwrap();
    let before = h.w.all_storage_text();
    let body = json!({"eventType": "com.okta.event_hook", "data": {"events": [{
        "uuid": "forged-1", "published": "2026-11-30T10:00:00.000Z",
        "eventType": "user.lifecycle.deactivate",
        "target": [{"id": id, "type": "User", "alternateId": "x", "displayName": "x"}]}]}});
    for auth in [Some("wrong"), Some(&h.secret[..63]), None] {
        let mut req = h.http.post(h.url()).json(&body);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{auth:?}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(h.person(&id).status, PersonStatus::Active);
    assert_eq!(h.w.all_storage_text(), before, "the plugin saw nothing");
    // The right secret is accepted and applies Okta's state.
    let resp = h
        .http
        .post(h.url())
        .header("Authorization", &h.secret)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(h.person(&id).status, PersonStatus::Deactivated);
    // A body beyond the cap is refused before anything reads it.
    let big = "x".repeat(host_harness::hooks::MAX_BODY_BYTES + 1);
    let resp = h
        .http
        .post(h.url())
        .header("Authorization", &h.secret)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

#[tokio::test(flavor = "multi_thread")]
async fn okta_retries_a_failed_delivery_once() {
    let h = hooked().await;
    let id = active(&h)[5].clone();
    // The first attempt fails (the host is unreachable for it), the retry lands.
    let runtime_down =
        h.w.infraon()
            .installation_get(host_harness::PLUGIN_ID, "acme")
            .unwrap()
            .unwrap();
    h.w.infraon()
        .installation_delete(host_harness::PLUGIN_ID, "acme")
        .unwrap();
    h.w.okta
        .set_user_status(&id, UserStatus::Suspended)
        .unwrap();
    h.delivered(1).await;
    h.w.infraon().installation_put(&runtime_down).unwrap();
    h.delivered(2).await;
    let attempts = h.w.okta.event_deliveries();
    assert_eq!(attempts[0].status, Some(404));
    assert!(attempts[1].retry);
    assert_eq!(attempts[1].status, Some(200));
    assert_eq!(h.person(&id).status, PersonStatus::Suspended);
    assert_eq!(attempts.len(), 2, "one retry only");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hook_secret_never_appears_in_logs_storage_pages_or_the_delivery_log() {
    let h = hooked().await;
    let id = active(&h)[6].clone();
    h.w.okta
        .set_user_status(&id, UserStatus::Suspended)
        .unwrap();
    h.until(&id, |p| p.status == PersonStatus::Suspended).await;
    let _ = h
        .http
        .post(h.url())
        .header("Authorization", "wrong")
        .body("{}")
        .send()
        .await;
    // The console needs a signed-in admin (the hook endpoint does not).
    let admin = browserless::Profile::new(&h.base);
    admin.sign_in_admin().await;
    let page = admin.get("/configs/acme").await.body;
    assert!(
        page.contains("/hooks/okta/acme"),
        "the endpoint URL is shown"
    );
    assert!(page.contains(&host_harness::hooks::masked(&h.secret)));
    assert!(
        page.contains("user.lifecycle.suspend"),
        "the last events are listed"
    );
    let csv =
        h.w.runtime
            .unsynced_csv("acme", None)
            .await
            .unwrap()
            .unwrap_or_default();
    let log =
        serde_json::to_string(&host_harness::hooks::deliveries(h.w.infraon(), "acme")).unwrap();
    let raw = h.w.raw_state_bytes();
    for (what, text) in [
        ("logs", h.w.all_log_text()),
        ("plugin storage", h.w.all_storage_text()),
        ("settings page", page),
        ("export", csv),
        ("delivery log", log),
        ("raw state", String::from_utf8_lossy(&raw).into_owned()),
    ] {
        assert!(
            !text.contains(&h.secret),
            "the hook secret is in the {what}"
        );
    }
    // Rotation: the old secret stops working at once.
    let old = h.secret.clone();
    let new = host_harness::hooks::rotate_secret(h.w.infraon(), "acme").unwrap();
    assert_ne!(old, new);
    let body = json!({"data": {"events": []}});
    let status = |s: String| {
        let req = h.http.post(h.url()).header("Authorization", s).json(&body);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(old).await, 401);
    assert_eq!(status(new).await, 200);
}
