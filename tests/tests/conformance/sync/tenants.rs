//! Many tenants on one host: 50 configs, each against its own Okta org,
//! synced at once on one runtime, each end with exactly the directory a
//! lone sync of that config gives; one tenant waiting out a rate limit
//! does not hold up the others (the wait is the host's timer, and guest
//! code yields to the executor between epoch ticks).

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec, UserStatus};
use host_harness::Runtime;
use host_harness::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use serde_json::{Map, Value, json};

const TENANTS: usize = 50;
const USERS: usize = 40;

/// An org of `USERS` people whose ids and emails are its own (its own
/// seed and `t{i}` domain), so tenants never collide in the one Infraon.
async fn org(tenant: usize) -> FakeOkta {
    let okta = FakeOkta::start(FakeOktaOptions {
        org: OrgSpec {
            users: 0,
            groups: 0,
            // Okta ids are drawn from the seed: one seed per org.
            seed: 1_000 + tenant as u64,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    for n in 0..USERS {
        let email = format!("person{n}@t{tenant}.example.com");
        let mut p = Map::new();
        for (k, v) in [
            ("login", email.as_str()),
            ("email", email.as_str()),
            ("firstName", "Person"),
            ("lastName", &format!("T{tenant}N{n}")),
        ] {
            p.insert(k.into(), Value::String(v.into()));
        }
        p.insert("title".into(), json!(format!("Title {}", n % 7)));
        let status = if n % 10 == 9 {
            UserStatus::Suspended
        } else {
            UserStatus::Active
        };
        okta.add_user(p, status).unwrap();
    }
    okta
}

fn name(tenant: usize) -> String {
    format!("tenant-{tenant:02}")
}

async fn install_all(rt: &Runtime, orgs: &[FakeOkta]) {
    for (i, okta) in orgs.iter().enumerate() {
        let form = common::form(&name(i), &okta.url(), okta.api_token());
        rt.install(&form, common::DEV).await.unwrap().unwrap();
    }
}

/// Each config's people as comparable text, by config.
fn directory(rt: &Runtime) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut by_config: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for p in rt
        .infraon()
        .people(fake_infraon::SyncTarget::Users)
        .unwrap()
    {
        let text = format!(
            "{} {} {} {:?} {:?} {:?}",
            p.login, p.email, p.display_name, p.status, p.roles, p.fields
        );
        by_config
            .entry(p.config.clone())
            .or_default()
            .insert(p.external_id, text);
    }
    by_config
}

async fn sync(rt: &Runtime, config: &str) -> (RunOutcome, Instant) {
    let run = rt
        .sync(config, SyncMode::Full, Trigger::Manual, |_, _| {})
        .await
        .unwrap()
        .unwrap();
    (run.outcome.expect("finished"), Instant::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_tenants_at_once_end_as_fifty_lone_syncs() {
    let mut orgs = Vec::new();
    for i in 0..=TENANTS {
        orgs.push(org(i).await);
    }
    let slow = TENANTS; // the last org rate-limits its config

    // Each config synced alone, one after the other.
    let lone_state = tempfile::tempdir().unwrap();
    let lone = common::runtime_in(lone_state.path(), common::test_limits());
    install_all(&lone, &orgs).await;
    for i in 0..=TENANTS {
        let outcome = sync(&lone, &name(i)).await.0;
        let csv = lone.unsynced_csv(&name(i), None).await;
        assert_eq!(outcome, RunOutcome::Succeeded, "{csv:?}");
    }
    let expected = directory(&lone);
    assert_eq!(expected.len(), TENANTS + 1);
    assert!(expected.values().all(|people| people.len() == USERS));

    // All at once on one runtime; one tenant's Okta answers 429 until a
    // reset 30 s away, which its run waits out.
    let state = tempfile::tempdir().unwrap();
    let rt = Arc::new(common::runtime_in(state.path(), common::test_limits()));
    install_all(&rt, &orgs).await;
    let reset = Duration::from_secs(30);
    orgs[slow].faults().rate_limit_for(reset);
    let started = Instant::now();
    let runs: Vec<_> = (0..=TENANTS)
        .map(|i| {
            let rt = rt.clone();
            tokio::spawn(async move { sync(&rt, &name(i)).await })
        })
        .collect();
    let mut ended = Vec::new();
    for run in runs {
        ended.push(run.await.unwrap());
    }
    assert!(ended.iter().all(|(o, _)| *o == RunOutcome::Succeeded));
    let slowest_other = ended[..slow]
        .iter()
        .map(|(_, at)| *at - started)
        .max()
        .unwrap();
    let waiting_one = ended[slow].1 - started;
    assert!(
        slowest_other < reset - Duration::from_secs(5),
        "the others took {slowest_other:?}, held up by the one waiting {reset:?}"
    );
    assert!(waiting_one >= reset, "the rate limit was not waited out");
    assert!(directory(&rt) == expected, "a tenant's directory differs");
}
