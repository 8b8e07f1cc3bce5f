//! The Okta fault cases: a clean run, the fault, a sync under it, the fault
//! lifted, sync until it succeeds; then both directories are compared with
//! a clean run's into a fresh state directory.

use std::path::Path;
use std::time::{Duration, Instant};

use fake_okta::{FakeOkta, FaultKind, FaultRule};
use serde_json::{Map, Value, json};

use super::check::{Directory, Leaks, merged};
use super::sso;
use super::world::{self, CONFIG};
use super::{Case, Row};

/// Small pages so that paging faults have pages to work on (40 users).
const PAGE: u32 = 10;

fn some_user(okta: &FakeOkta, nth: usize) -> String {
    okta.org().users[nth].id.clone()
}

fn profile_change(field: &str, value: Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(field.into(), value);
    m
}

fn nested(depth: usize) -> Value {
    let mut v = json!("bottom");
    for _ in 0..depth {
        v = json!({ "n": v });
    }
    v
}

/// Sets the fault up before the faulty run.
fn apply(case: Case, okta: &FakeOkta) -> anyhow::Result<()> {
    let f = okta.faults();
    match case {
        Case::ServerError => f.fail_next(500, 2),
        Case::FlakyServer => f.set(
            FaultRule::new(FaultKind::Status(500))
                .on_path("/api/v1/")
                .at_rate(200, 42),
        ),
        Case::ServiceUnavailable => f.fail_always(503),
        Case::Latency => f.latency(Duration::from_millis(300)),
        Case::ConnectionReset => f.set(FaultRule::new(FaultKind::ResetConnection).times(2)),
        // Past the production request timeout: the host cuts each off.
        Case::Timeout => f.set(
            FaultRule::new(FaultKind::Latency(
                world::limits().request_timeout + Duration::from_secs(1),
            ))
            .times(2),
        ),
        Case::TruncatedJson => f.truncated_json(),
        Case::WrongContentType => f.set(FaultRule::new(FaultKind::ContentType(
            "text/plain; charset=utf-8".into(),
        ))),
        Case::HtmlErrorPage => f.non_json(),
        Case::LinkLoop => {
            f.set(FaultRule::new(FaultKind::LinkLoop).on_path("/api/v1/users"));
            f.page_size(PAGE, PAGE);
        }
        Case::PageLargerThanAsked => f.page_size(PAGE + 5, PAGE),
        Case::HugeProfileField => okta.update_user_profile(
            &some_user(okta, 3),
            profile_change("title", json!("x".repeat(1 << 20))),
        )?,
        Case::DeeplyNestedJson => {
            okta.update_user_profile(&some_user(okta, 3), profile_change("nested", nested(1_000)))?
        }
        Case::InvalidUtf8 => f.set(FaultRule::new(FaultKind::InvalidUtf8).on_path("/api/v1/users")),
        Case::SameUserOnTwoPages => {
            f.set(FaultRule::new(FaultKind::OverlapPages));
            f.page_size(PAGE, PAGE);
        }
        Case::UsersChangedBetweenPages => f.page_size(PAGE, PAGE),
        Case::RateLimitStorm => f.rate_limit_for(Duration::from_secs(2)),
        Case::RateLimitMinute => f.rate_limit_for(Duration::from_secs(60)),
        Case::RateLimitNoReset => f.set(
            FaultRule::new(FaultKind::ProxyRateLimited)
                .on_path("/api/v1/users")
                .times(1),
        ),
        _ => anyhow::bail!("{case:?} is not an Okta fault"),
    }
    Ok(())
}

/// Whether the fault meets OIDC calls too (paging faults concern listings).
fn meets_sso(case: Case) -> bool {
    matches!(
        case,
        Case::ServerError
            | Case::ServiceUnavailable
            | Case::Latency
            | Case::ConnectionReset
            | Case::Timeout
            | Case::TruncatedJson
            | Case::WrongContentType
            | Case::HtmlErrorPage
            | Case::RateLimitStorm
    )
}

/// Lifts the fault: the org behaves (and holds sane data) again.
fn lift(case: Case, okta: &FakeOkta) -> anyhow::Result<()> {
    okta.faults().clear();
    match case {
        Case::HugeProfileField => okta.update_user_profile(
            &some_user(okta, 3),
            profile_change("title", json!("Engineer")),
        )?,
        Case::DeeplyNestedJson => {
            okta.update_user_profile(&some_user(okta, 3), profile_change("nested", Value::Null))?
        }
        _ => {}
    }
    Ok(())
}

/// Edits the org in the middle of the users listing, once.
fn change_between_pages(okta: &FakeOkta) {
    let users = okta.org().users;
    // One already listed (first page), one still to come, one deleted, one new.
    let _ = okta.update_user_profile(
        &users[0].id,
        profile_change("title", json!("Changed early")),
    );
    let last = users.len() - 1;
    let _ = okta.update_user_profile(
        &users[last].id,
        profile_change("title", json!("Changed late")),
    );
    let _ = okta.delete_user(&users[last - 1].id);
    let mut p = Map::new();
    for (k, v) in [
        ("login", "newcomer@example.com"),
        ("email", "newcomer@example.com"),
        ("firstName", "New"),
        ("lastName", "Comer"),
    ] {
        p.insert(k.into(), json!(v));
    }
    let _ = okta.add_user(p, fake_okta::UserStatus::Active);
}

pub(super) async fn run(case: Case, cache: &Path) -> anyhow::Result<Row> {
    let okta = world::okta().await?;
    let mut secrets = vec![okta.api_token().to_owned(), sso::CLIENT_SECRET.to_owned()];
    let (rt, state) = world::installed(&okta, cache).await?;
    // The Okta Event Hook secret is searched for like the others.
    secrets.push(crate::hooks::rotate_secret(rt.infraon(), CONFIG)?);
    let first = world::full_sync(&rt, |_, _| {}).await;
    anyhow::ensure!(
        world::succeeded(&first),
        "the clean first run failed: {first:?}"
    );
    let before = Directory::read(rt.infraon())?;
    let with_sso = meets_sso(case);
    let pending_sign_in = if with_sso {
        sso::configure(&rt, &okta).await?;
        Some(sso::authorize(&rt, &okta).await?)
    } else {
        None
    };

    apply(case, &okta)?;
    let (sso_text, sso_typed, sso_debug) = match &pending_sign_in {
        Some((state, code)) => {
            let o = sso::complete(&rt, state, code).await;
            let (text, typed) = sso::describe(&o);
            (text, typed, format!("{o:?}"))
        }
        None => (String::new(), true, String::new()),
    };
    let verify = rt.verify_installed(CONFIG).await;
    let (verify_text, verify_typed) = world::describe_verify(&verify);
    let mut changed = false;
    let faulty = world::full_sync(&rt, |_, phase| {
        if case == Case::UsersChangedBetweenPages && phase == "users" && !changed {
            changed = true;
            change_between_pages(&okta);
        }
    })
    .await;
    let (outcome, sync_typed) = world::describe_sync(&faulty);
    let after_fault = Directory::read(rt.infraon())?;

    lift(case, &okta)?;
    let lifted = Instant::now();
    let mut recover = None;
    for _ in 0..3 {
        if world::succeeded(&world::full_sync(&rt, |_, _| {}).await)
            && (!with_sso || sso::signs_in(&rt, &okta).await)
        {
            recover = Some(lifted.elapsed());
            break;
        }
    }
    let after_recovery = Directory::read(rt.infraon())?;

    let (clean_rt, _clean_state) = world::installed(&okta, cache).await?;
    let clean_run = world::full_sync(&clean_rt, |_, _| {}).await;
    anyhow::ensure!(
        world::succeeded(&clean_run),
        "the clean reference run failed: {clean_run:?}"
    );
    let clean = Directory::read(clean_rt.infraon())?;

    let mut lost = after_fault.lost_from(&before);
    lost.retain(|id| clean.0.contains_key(id));
    let lost = merged(lost, after_recovery.lost_from(&clean));
    let wrong = merged(
        after_fault.wrongly_deactivated(&clean),
        after_recovery.wrongly_deactivated(&clean),
    );

    let mut leaks = Leaks::default();
    leaks.search_logs(rt.infraon(), &secrets)?;
    leaks.search("verify outcome", format!("{verify:?}").as_bytes(), &secrets);
    leaks.search("sync outcome", format!("{faulty:?}").as_bytes(), &secrets);
    leaks.search("sso outcome", sso_debug.as_bytes(), &secrets);
    let csv = rt.unsynced_csv(CONFIG, None).await;
    leaks.search("CSV export", format!("{csv:?}").as_bytes(), &secrets);
    let history = rt.sync_history(CONFIG, 10).await;
    leaks.search("run history", format!("{history:?}").as_bytes(), &secrets);
    leaks.search_files(state.path(), &secrets)?;

    okta.shutdown().await;
    Ok(Row {
        case,
        name: case.name().into(),
        verify: verify_text,
        outcome,
        sso: sso_text,
        typed: verify_typed && sync_typed && sso_typed,
        lost: lost.len(),
        wrongly_deactivated: wrong.len(),
        leaked: leaks.0.len(),
        recover_ms: recover.map(|d| d.as_millis() as u64),
    })
}
