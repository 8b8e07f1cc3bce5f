//! The `state` is single-use and short-lived; the code exchange's failures
//! are typed and carry no credential.

mod common;

use common::*;
use plugin_core::SyncTarget;
use plugin_sso::settings::{login_key, logins_prefix};
use plugin_sso::{LOGIN_TTL_MS, SsoError};

#[test]
fn a_replayed_state_is_refused() {
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    w.complete(&start.state, &back["code"]).expect("first use");
    let tokens_before = w.count_sent("/token");
    assert_eq!(
        w.complete(&start.state, &back["code"]),
        Err(SsoError::UnknownState)
    );
    assert_eq!(
        w.count_sent("/token"),
        tokens_before,
        "no request on replay"
    );
}

#[test]
fn a_failed_completion_spends_the_state_too() {
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    let err = w.complete(&start.state, "not-the-code").unwrap_err();
    assert!(matches!(err, SsoError::TokenExchange(_)), "{err:?}");
    assert!(!err.to_string().contains("not-the-code"), "{err}");
    assert_eq!(
        w.complete(&start.state, &back["code"]),
        Err(SsoError::UnknownState)
    );
}

#[test]
fn an_unknown_state_is_refused() {
    let (mut w, _) = World::with_technician();
    w.begin(SyncTarget::Users).unwrap();
    for state in [
        "kX9f3kX9f3kX9f3kX9f3kX9f3kX9f3kX9f3kX9f3abc",
        "",
        "../../config/Acme",
        "short",
    ] {
        assert_eq!(
            w.complete(state, "some-code"),
            Err(SsoError::UnknownState),
            "{state:?}"
        );
    }
    assert!(w.storage.map.contains_key("config/Acme"));
    assert_eq!(w.count_sent("/token"), 0);
}

#[test]
fn an_expired_login_is_refused() {
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    w.clock.advance_ms(LOGIN_TTL_MS + 1_000);
    let err = w.complete(&start.state, &back["code"]).unwrap_err();
    assert_eq!(err, SsoError::Expired);
    assert_eq!(err.to_string(), "Sign-in expired, start again.");
    // Spent as well: a retry is simply unknown.
    assert_eq!(
        w.complete(&start.state, &back["code"]),
        Err(SsoError::UnknownState)
    );
    assert_eq!(w.count_sent("/token"), 0);
}

#[test]
fn a_slow_but_timely_login_completes() {
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    w.clock.advance_ms(LOGIN_TTL_MS - 30_000);
    w.complete(&start.state, &back["code"]).expect("in time");
}

#[test]
fn beginning_a_login_prunes_expired_ones() {
    let (mut w, _) = World::with_technician();
    let old = w.begin(SyncTarget::Users).unwrap();
    w.clock.advance_ms(LOGIN_TTL_MS + 1);
    let new = w.begin(SyncTarget::Users).unwrap();
    assert_eq!(
        w.storage.list_keys_of(&logins_prefix(CONFIG)),
        [login_key(CONFIG, &new.state)]
    );
    assert_ne!(old.state, new.state);
}

#[test]
fn code_exchange_failures_are_typed_and_redacted() {
    let (mut w, user) = World::with_technician();
    // Okta expired the code (60 seconds) before the callback came.
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    w.okta.expire_authorization_codes();
    let err = w.complete(&start.state, &back["code"]).unwrap_err();
    let SsoError::TokenExchange(why) = &err else {
        panic!("{err:?}")
    };
    assert!(
        why.contains("invalid_grant") && why.contains("start again"),
        "{why}"
    );
    assert!(!why.contains(&back["code"]));

    // A wrong client secret.
    w.configure(settings(CONFIDENTIAL_ID, Some("wrong-secret-value"), None))
        .unwrap();
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    let err = w.complete(&start.state, &back["code"]).unwrap_err();
    let SsoError::TokenExchange(why) = &err else {
        panic!("{err:?}")
    };
    assert!(why.contains("invalid_client"), "{why}");
    assert!(!why.contains("wrong-secret-value"));
    assert!(!w.log.text().contains("wrong-secret-value"));

    // The right one.
    w.configure(settings(CONFIDENTIAL_ID, Some(SECRET), None))
        .unwrap();
    w.sign_in(SyncTarget::Users, &user.login)
        .expect("client_secret_basic");
}

#[test]
fn okta_unreachable_is_an_okta_failure() {
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    let code = back["code"].clone();
    drop(back);
    // Kill the fake Okta: the token request cannot connect.
    let World { okta, .. } = &mut w;
    let dead = std::mem::replace(
        okta,
        fake_okta::BlockingFakeOkta::start(Default::default()).unwrap(),
    );
    drop(dead);
    let err = w.complete(&start.state, &code).unwrap_err();
    assert!(matches!(err, SsoError::Okta(_)), "{err:?}");
    assert!(!err.to_string().contains(&code));
}
