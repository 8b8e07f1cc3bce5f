//! OpenID Connect to the letter, against the fake provider switched to
//! behave as other standard providers (or misissuing ones) do: an ID token
//! also meant for an untrusted audience, claims kept at userinfo, the
//! RFC 9207 `iss` parameter, and a signing key withdrawn from the JWKS.

mod common;

use common::*;
use fake_okta::{IssParameter, OidcSwitches};
use plugin_core::SyncTarget;
use plugin_sso::{Callback, SignedIn, SsoError, SsoSettings};

fn switched(switches: OidcSwitches) -> (World, fake_okta::UserInfo) {
    let (w, user) = World::with_technician();
    w.okta.set_oidc_switches(switches);
    (w, user)
}

/// Begin, sign in at the provider as `login`, complete with the `iss` the
/// callback carried (as the host passes it on).
fn sign_in(w: &mut World, kind: SyncTarget, login: &str) -> Result<SignedIn, SsoError> {
    let start = w.begin(kind).expect("login begins");
    let back = w.authorize(&start, login);
    let code = back.get("code").expect("a code").clone();
    let mut post = w.post_port();
    plugin_sso::complete_callback(
        &mut w.host(),
        &mut post,
        CONFIG,
        &Callback {
            state: &start.state,
            code: &code,
            iss: back.get("iss").map(String::as_str),
        },
    )
}

#[test]
fn an_id_token_also_meant_for_an_untrusted_audience_is_refused() {
    let (mut w, user) = switched(OidcSwitches {
        extra_audience: Some("api://someone-else".into()),
        ..OidcSwitches::default()
    });
    match sign_in(&mut w, SyncTarget::Users, &user.login) {
        Err(SsoError::InvalidIdToken(why)) => {
            assert!(
                why.contains("another audience") && why.contains("aud"),
                "{why}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The same provider without the extra audience signs the person in.
    w.okta.set_oidc_switches(OidcSwitches::default());
    sign_in(&mut w, SyncTarget::Users, &user.login).expect("signs in");
}

fn jit() -> SsoSettings {
    SsoSettings {
        jit_requesters: true,
        ..settings(PUBLIC_ID, None, None)
    }
}

#[test]
fn claims_the_id_token_lacks_are_read_from_userinfo_for_a_new_requester() {
    let (mut w, _) = switched(OidcSwitches {
        claims_only_at_userinfo: true,
        ..OidcSwitches::default()
    });
    w.configure(jit()).unwrap();
    let newcomer = w.active(3);
    let email = w.okta.user_json(&newcomer.id).unwrap()["profile"]["email"]
        .as_str()
        .unwrap()
        .to_string();
    let who = sign_in(&mut w, SyncTarget::Requesters, &newcomer.login).expect("created");
    assert_eq!(who.email, email);
    assert_eq!(who.login, newcomer.login);
    assert!(!who.display_name.is_empty() && who.display_name != who.login);
    assert_eq!(w.count_sent("/oauth2/v1/userinfo"), 1);
    let created = w
        .directory
        .get(SyncTarget::Requesters, &newcomer.id)
        .unwrap();
    assert_eq!(created.email, email);

    // A linked person needs nothing more: no userinfo call.
    let (mut w2, tech) = switched(OidcSwitches {
        claims_only_at_userinfo: true,
        ..OidcSwitches::default()
    });
    sign_in(&mut w2, SyncTarget::Users, &tech.login).expect("linked");
    assert_eq!(w2.count_sent("/oauth2/v1/userinfo"), 0);
}

#[test]
fn a_userinfo_answer_about_another_person_is_refused() {
    let (mut w, _) = switched(OidcSwitches {
        claims_only_at_userinfo: true,
        userinfo_sub: Some("00usomeoneelse".into()),
        ..OidcSwitches::default()
    });
    w.configure(jit()).unwrap();
    let newcomer = w.active(3);
    match sign_in(&mut w, SyncTarget::Requesters, &newcomer.login) {
        Err(SsoError::Other(why)) => {
            assert!(
                why.contains("another person") && why.contains("sub"),
                "{why}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        w.directory
            .get(SyncTarget::Requesters, &newcomer.id)
            .is_none()
    );
}

#[test]
fn the_iss_parameter_of_the_answer_is_checked() {
    // Sent and right: signs in.
    let (mut w, user) = switched(OidcSwitches {
        iss_parameter: IssParameter::Correct,
        ..OidcSwitches::default()
    });
    sign_in(&mut w, SyncTarget::Users, &user.login).expect("the right iss");

    // Another issuer (a mix-up): refused before the code is redeemed.
    w.okta.set_oidc_switches(OidcSwitches {
        iss_parameter: IssParameter::Other("https://attacker.example".into()),
        ..OidcSwitches::default()
    });
    let tokens_before = w.count_sent("/oauth2/v1/token");
    match sign_in(&mut w, SyncTarget::Users, &user.login) {
        Err(SsoError::Other(why)) => assert!(why.contains("`iss`"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        w.count_sent("/oauth2/v1/token"),
        tokens_before,
        "the code was sent"
    );

    // A provider that says it always sends `iss` and then does not.
    let (mut w, user) = switched(OidcSwitches {
        iss_parameter: IssParameter::AdvertisedButMissing,
        ..OidcSwitches::default()
    });
    match sign_in(&mut w, SyncTarget::Users, &user.login) {
        Err(SsoError::Other(why)) => assert!(why.contains("lacks"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Completes a login whose ID token was signed before the signing key was
/// withdrawn from the JWKS (as a leaked key would sign); `after_ms` is how
/// long after the last JWKS fetch the callback comes.
fn with_withdrawn_key(cache_control: &str, after_ms: u64) -> Result<SignedIn, SsoError> {
    let (mut w, user) = switched(OidcSwitches {
        jwks_cache_control: Some(cache_control.into()),
        ..OidcSwitches::default()
    });
    // A first sign-in caches the keys.
    sign_in(&mut w, SyncTarget::Users, &user.login).expect("first sign-in");
    let fetched = w.count_sent("/oauth2/v1/keys");
    assert_eq!(fetched, 1);
    let (result, _) = w.complete_with(SyncTarget::Users, |w, nonce| {
        let token = w
            .okta
            .sign_id_token(w.claims(&user, nonce), serde_json::json!({}));
        w.okta.rotate_signing_key();
        w.okta.retire_old_signing_keys();
        w.clock.advance_ms(after_ms);
        token
    });
    result
}

#[test]
fn a_key_withdrawn_from_the_jwks_stops_verifying_once_the_cache_may_not_keep_it() {
    // Within `max-age` the cached set may still be used (the provider said so).
    with_withdrawn_key("max-age=60", 10_000).expect("within max-age");
    // Past it, the set is fetched again and the withdrawn key is refused.
    match with_withdrawn_key("max-age=60", 61_000) {
        Err(SsoError::InvalidIdToken(why)) => {
            assert!(why.contains("does not publish"), "{why}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // `no-cache`: never used from the cache, so refused at once.
    assert!(matches!(
        with_withdrawn_key("no-cache", 0),
        Err(SsoError::InvalidIdToken(_))
    ));
}

#[test]
fn messages_about_the_provider_do_not_assume_okta() {
    let (mut w, user) = switched(OidcSwitches {
        extra_audience: Some("api://x".into()),
        ..OidcSwitches::default()
    });
    let e = sign_in(&mut w, SyncTarget::Users, &user.login).unwrap_err();
    assert!(
        e.to_string().contains("the identity provider's ID token"),
        "{e}"
    );
}
