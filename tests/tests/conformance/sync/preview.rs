//! Issue 15 through the console over HTTP (no browser needed): rotating
//! the API token (a bad one refused and the old kept; a good one kept and
//! used by the next sync), a held run's people read page by page and as
//! CSV before Approve, recorded with who approved, and one person
//! provisioned on demand without touching anyone else.

use crate::browserless;
use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use browserless::{ADMIN_PASSWORD, Profile};
use common::{DEV, World, world};
use fake_infraon::{Person, PersonStatus, SyncTarget};
use fake_okta::UserStatus;
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use serde_json::{Map, json};

struct Site {
    w: World,
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

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let a = self.admin.post(path, form).await;
        self.seen.lock().unwrap().push_str(&a.body);
        (a.status, a.body)
    }

    async fn sync(&self) -> host_harness::bindings::exports::infraon::okta::sync::RunRecord {
        self.w
            .runtime
            .sync("acme", SyncMode::Full, Trigger::Manual, |_, _| {})
            .await
            .unwrap()
            .unwrap()
    }

    fn people(&self) -> BTreeMap<String, Person> {
        self.w
            .infraon()
            .people(SyncTarget::Users)
            .unwrap()
            .into_iter()
            .map(|p| (p.external_id.clone(), p))
            .collect()
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

#[tokio::test(flavor = "multi_thread")]
async fn rotating_the_token_in_the_console_verifies_it_before_keeping_it() {
    let s = site(12).await;
    let url = s.w.okta.url().to_string();
    let old = s.w.okta.api_token().to_string();
    assert_eq!(s.sync().await.outcome, Some(RunOutcome::Succeeded));

    let (status, page) = s.get("/configs/acme/edit").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"api_token\""));

    // A token Okta does not know: refused precisely, the old one kept.
    let bad = "00notARealTokenAtAll0000000000000000000000";
    let edit = |token: &str| {
        vec![
            ("okta_domain", url.clone()),
            ("api_token", token.to_string()),
            ("sync_target", "users".to_string()),
            ("migration", String::new()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.post("/configs/acme/edit", &pairs).await
        }
    };
    let (status, page) = post(edit(bad)).await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Okta refused the new API token"), "{page}");
    assert!(page.contains("E0000011"), "the precise Okta error: {page}");
    assert!(page.contains("The previous token is kept"), "{page}");
    assert!(
        s.w.runtime.verify_installed("acme").await.unwrap().is_ok(),
        "the old token still verifies"
    );
    s.w.okta
        .update_user_profile(
            &s.w.okta.org().users[0].id,
            Map::from_iter([("title".to_string(), json!("Lead"))]),
        )
        .unwrap();
    let r = s.sync().await;
    assert_eq!(
        (r.outcome, r.counts.updated),
        (Some(RunOutcome::Succeeded), 1)
    );

    // A new token from Okta replaces it; with the old one revoked, the next
    // sync can only be using the new one.
    let new = s.w.okta.create_api_token();
    let (status, location) = post(edit(&new)).await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, "/configs/acme?done=edited");
    let (_, page) = s.get(&location).await;
    assert!(page.contains("Config saved"), "{page}");
    s.w.okta.revoke_api_token(&old);
    s.w.okta
        .update_user_profile(
            &s.w.okta.org().users[1].id,
            Map::from_iter([("title".to_string(), json!("Lead"))]),
        )
        .unwrap();
    let r = s.sync().await;
    assert_eq!(
        (r.outcome, r.counts.updated),
        (Some(RunOutcome::Succeeded), 1)
    );

    // Blank keeps the stored (new) token; the page never shows a token.
    let (status, _) = post(edit("")).await;
    assert_eq!(status, 303);
    assert_eq!(s.sync().await.outcome, Some(RunOutcome::Succeeded));
    let seen = s.seen.lock().unwrap();
    for secret in [&old, &new, &bad.to_string()] {
        assert!(!seen.contains(secret.as_str()), "a page showed a token");
    }
    assert!(!s.w.all_log_text().contains(&new));
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_the_sync_field_needs_the_migration_rule_when_people_are_linked() {
    let s = site(6).await;
    let url = s.w.okta.url().to_string();
    s.sync().await;
    let edit = |migration: &'static str| {
        let s = &s;
        let url = url.clone();
        async move {
            let form = [
                ("okta_domain", url.as_str()),
                ("api_token", ""),
                ("sync_target", "requesters"),
                ("migration", migration),
            ];
            s.post("/configs/acme/edit", &form).await
        }
    };
    let (status, page) = edit("").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("Not saved"), "{page}");
    assert_eq!(s.people().len(), 6);

    let (status, _) = edit("move").await;
    assert_eq!(status, 303);
    assert!(s.people().is_empty(), "moved out of Users");
    let requesters = s.w.infraon().people(SyncTarget::Requesters).unwrap();
    assert_eq!(requesters.len(), 6);

    // The rehire policy is set from the same page.
    let (status, _) = s
        .post("/configs/acme/rehire", &[("policy", "new-person")])
        .await;
    assert_eq!(status, 303);
    let (_, page) = s.get("/configs/acme/edit").await;
    assert!(page.contains("value=\"new-person\" selected"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_runs_people_are_read_then_approved_by_the_signed_in_admin() {
    let s = site(80).await;
    s.sync().await;
    let gone: BTreeSet<String> =
        s.w.okta
            .org()
            .users
            .iter()
            .filter(|u| u.status == UserStatus::Active)
            .take(60)
            .map(|u| u.id.clone())
            .collect();
    for id in &gone {
        s.w.okta.delete_user(id).unwrap();
    }
    // The seeded org has a few Okta users Infraon could not take (conflicts):
    // only the people linked and active can be deactivated.
    let linked = s.people();
    let gone: BTreeSet<String> = gone
        .into_iter()
        .filter(|id| {
            linked
                .get(id)
                .is_some_and(|p| p.status != PersonStatus::Deactivated)
        })
        .collect();
    assert!(gone.len() > 50, "{}", gone.len());
    let held = s.sync().await;
    assert_eq!(held.outcome, Some(RunOutcome::Held));

    let (_, page) = s.get("/configs/acme").await;
    assert!(
        page.contains(&format!("id=\"people-{}\"", held.id)),
        "{page}"
    );
    // Page by page: 50, then the rest, each person once.
    let path = format!("/configs/acme/runs/{}/changes", held.id);
    let (status, first) = s.get(&path).await;
    assert_eq!(status, 200, "{first}");
    assert!(
        first.contains(&format!("<strong id=\"total\">{}</strong>", gone.len())),
        "{first}"
    );
    assert_eq!(first.matches("class=\"change\"").count(), 50);
    assert!(first.contains(&format!("id=\"approve-{}\"", held.id)));
    let (_, second) = s.get(&format!("{path}?offset=50")).await;
    assert_eq!(second.matches("class=\"change\"").count(), gone.len() - 50);
    let on_pages: BTreeSet<String> = [&first, &second]
        .iter()
        .flat_map(|p| p.split("data-okta-id=\"").skip(1))
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    assert_eq!(on_pages, gone);

    // The CSV: one row per person, the same people, no token.
    let csv = s.admin.get(&format!("{path}.csv")).await;
    assert_eq!(csv.status, 200);
    let mut r = csv::Reader::from_reader(csv.body.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "okta_id",
            "login",
            "email",
            "display_name",
            "action",
            "held",
            "fields",
            "roles_added",
            "roles_removed",
            "reason"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), gone.len());
    assert!(rows.iter().all(|r| &r[4] == "deactivate" && &r[5] == "yes"));
    let in_csv: BTreeSet<String> = rows.iter().map(|r| r[0].to_string()).collect();
    assert_eq!(in_csv, gone);
    assert!(!csv.body.contains(s.w.okta.api_token()));

    // Approve deactivates exactly them, recorded with who approved.
    let before = s.people();
    let (status, location) = s
        .post(&format!("/configs/acme/runs/{}/approve", held.id), &[])
        .await;
    assert_eq!(status, 303, "{location}");
    let after = s.people();
    let changed: BTreeSet<String> = before
        .keys()
        .filter(|id| before[*id] != after[*id])
        .cloned()
        .collect();
    assert_eq!(changed, gone);
    assert!(
        gone.iter()
            .all(|id| after[id].status == PersonStatus::Deactivated)
    );
    let (_, page) = s.get(&location).await;
    assert!(
        page.contains("Approved by console administrator at "),
        "{page}"
    );
    let (_, page) = s.get(&path).await;
    assert!(page.contains("id=\"decision\""), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_person_is_provisioned_on_demand_and_nobody_else() {
    let s = site(10).await;
    s.sync().await;
    let profile = |n: &str| {
        Map::from_iter([
            ("login".to_string(), json!(format!("{n}@example.com"))),
            ("email".to_string(), json!(format!("{n}@example.com"))),
            ("firstName".to_string(), json!(n)),
            ("lastName".to_string(), json!("New")),
        ])
    };
    let ada =
        s.w.okta
            .add_user(profile("ada"), UserStatus::Active)
            .unwrap();
    let bob =
        s.w.okta
            .add_user(profile("bob"), UserStatus::Active)
            .unwrap();
    let first = s.w.okta.org().users[0].id.clone();
    s.w.okta
        .update_user_profile(&first, Map::from_iter([("title".into(), json!("Lead"))]))
        .unwrap();
    let before = s.people();

    let (status, page) = s
        .post("/configs/acme/provision", &[("user", "ada@example.com")])
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("ada@example.com provisioned: 1 change(s)."),
        "{page}"
    );
    assert!(page.contains("data-action=\"create\""), "{page}");
    let after = s.people();
    let changed: BTreeSet<&String> = after
        .keys()
        .filter(|id| before.get(*id) != after.get(*id))
        .collect();
    assert_eq!(changed, BTreeSet::from([&ada]));
    assert!(!after.contains_key(&bob));
    assert_eq!(after[&first], before[&first], "nobody else is updated");
    assert!(!after[&ada].roles.is_empty(), "with their roles");

    // Again: up to date. Unknown: refused on the page.
    let (_, page) = s.post("/configs/acme/provision", &[("user", &ada)]).await;
    assert!(page.contains("already up to date"), "{page}");
    let (status, page) = s
        .post("/configs/acme/provision", &[("user", "nobody@example.com")])
        .await;
    assert_eq!(status, 422);
    assert!(page.contains("Okta has no user with login or id"), "{page}");
}
