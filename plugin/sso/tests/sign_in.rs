//! End-to-end sign-ins against the fake Okta: a technician and a requester,
//! public and confidential clients, org and custom authorization servers,
//! caching, key rotation, and the settings.

mod common;

use common::*;
use fake_okta::UserStatus;
use plugin_core::{PersonStatus, SyncTarget};
use plugin_sso::settings::{logins_prefix, secret_key, settings_key};
use plugin_sso::{SignedIn, SsoError, pkce};

#[test]
fn a_technician_signs_in_end_to_end() {
    let mut w = World::new();
    w.configure_public();
    let user = w.active(0);
    w.link(
        &user,
        SyncTarget::Users,
        &["Technician", "Change Manager"],
        PersonStatus::Active,
    );

    let start = w.begin(SyncTarget::Users).expect("begins");
    let url = &start.authorize_url;
    assert!(
        url.starts_with(&format!("{}/oauth2/v1/authorize?", w.okta.url())),
        "{url}"
    );
    assert_eq!(World::param(&start, "response_type"), "code");
    assert_eq!(World::param(&start, "client_id"), PUBLIC_ID);
    assert_eq!(World::param(&start, "redirect_uri"), REDIRECT);
    assert_eq!(World::param(&start, "scope"), "openid profile email");
    assert_eq!(World::param(&start, "state"), start.state);
    assert_eq!(World::param(&start, "code_challenge_method"), "S256");
    let nonce = World::param(&start, "nonce");
    let challenge = World::param(&start, "code_challenge");
    assert!(pkce::is_token_shaped(&nonce) && nonce != start.state);
    assert_eq!(challenge.len(), 43);
    assert!(start.expires_at.ends_with('Z'), "{}", start.expires_at);
    // The verifier stays in storage; only its challenge leaves.
    let pending = String::from_utf8(
        w.storage.map[&format!("{}{}", logins_prefix(CONFIG), start.state)].clone(),
    )
    .unwrap();
    assert!(!pending.contains(&challenge));
    assert!(!url.contains("verifier"));

    let back = w.authorize(&start, &user.login);
    let code = back["code"].clone();
    let who = w.complete(&start.state, &code).expect("signed in");
    assert_eq!(
        who,
        SignedIn {
            kind: SyncTarget::Users,
            external_id: user.id.clone(),
            login: user.login.clone(),
            email: user.login.clone(),
            display_name: format!("Pat Doe ({})", user.login),
            roles: vec!["Technician".into(), "Change Manager".into()],
        }
    );
    // The pending login is spent, and nothing logged carries the code.
    assert!(w.storage.list_keys_of(&logins_prefix(CONFIG)).is_empty());
    assert!(!w.log.text().contains(&code));
    assert!(w.log.text().contains("Okta sign-in completed"));
    assert_eq!(w.count_sent("/.well-known/openid-configuration"), 1);
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 1);
    assert_eq!(w.count_sent("/oauth2/v1/token"), 1);

    // A second sign-in uses the cached discovery document and keys.
    w.sign_in(SyncTarget::Users, &user.login).expect("again");
    assert_eq!(w.count_sent("/.well-known/openid-configuration"), 1);
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 1);
}

#[test]
fn a_requester_signs_in_with_a_confidential_client_on_a_custom_server() {
    let mut w = World::new();
    w.configure(settings(CONFIDENTIAL_ID, Some(SECRET), Some("default")))
        .expect("saved");
    // The secret is in the secret store only.
    assert_eq!(w.secrets.map[&secret_key(CONFIG)], SECRET);
    assert!(
        w.storage
            .map
            .values()
            .all(|v| !String::from_utf8_lossy(v).contains(SECRET))
    );

    let user = w.active(1);
    w.link(
        &user,
        SyncTarget::Requesters,
        &["VIP Requester"],
        PersonStatus::Active,
    );
    let start = w.begin(SyncTarget::Requesters).expect("begins");
    assert!(
        start
            .authorize_url
            .starts_with(&format!("{}/oauth2/default/v1/authorize?", w.okta.url())),
        "{}",
        start.authorize_url
    );
    let back = w.authorize(&start, &user.login);
    let who = w.complete(&start.state, &back["code"]).expect("signed in");
    assert_eq!(who.kind, SyncTarget::Requesters);
    assert_eq!(who.external_id, user.id);
    assert_eq!(who.roles, ["VIP Requester"]);
    assert_eq!(w.count_sent("/oauth2/default/v1/token"), 1);
    assert_eq!(w.count_sent("/oauth2/default/v1/keys"), 1);
}

#[test]
fn key_rotation_is_handled_by_one_jwks_refetch() {
    let mut w = World::new();
    w.configure_public();
    let user = w.active(0);
    w.link(
        &user,
        SyncTarget::Users,
        &["Technician"],
        PersonStatus::Active,
    );
    w.sign_in(SyncTarget::Users, &user.login).expect("first");
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 1);

    w.okta.rotate_signing_key();
    w.okta.retire_old_signing_keys();
    w.sign_in(SyncTarget::Users, &user.login)
        .expect("signed with the new key");
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 2, "one refetch");

    w.sign_in(SyncTarget::Users, &user.login).expect("third");
    assert_eq!(w.count_sent("/oauth2/v1/keys"), 2, "the new key is cached");
}

#[test]
fn sso_is_off_per_population_and_per_config() {
    let mut w = World::new();
    assert_eq!(
        w.begin(SyncTarget::Users),
        Err(SsoError::Disabled(SyncTarget::Users)),
        "not configured yet"
    );
    let mut s = settings(PUBLIC_ID, None, None);
    s.users_enabled = false;
    w.configure(s).unwrap();
    let err = w.begin(SyncTarget::Users).unwrap_err();
    assert_eq!(err, SsoError::Disabled(SyncTarget::Users));
    assert!(err.to_string().contains("turned off"), "{err}");
    w.begin(SyncTarget::Requesters).expect("requesters may");
    assert!(matches!(
        plugin_sso::begin_login(&mut w.host(), "Nope", SyncTarget::Users, REDIRECT),
        Err(SsoError::UnknownConfig(c)) if c == "Nope"
    ));
    // Config names match ignoring case, as everywhere in the plugin.
    plugin_sso::begin_login(&mut w.host(), "acme", SyncTarget::Requesters, REDIRECT)
        .expect("case-insensitive");
}

#[test]
fn turning_sso_off_voids_logins_in_flight() {
    let mut w = World::new();
    w.configure_public();
    let user = w.active(0);
    w.link(
        &user,
        SyncTarget::Users,
        &["Technician"],
        PersonStatus::Active,
    );
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &user.login);
    let mut s = settings(PUBLIC_ID, None, None);
    s.users_enabled = false;
    w.configure(s).unwrap();
    assert_eq!(
        w.complete(&start.state, &back["code"]),
        Err(SsoError::Disabled(SyncTarget::Users))
    );
}

#[test]
fn settings_are_validated_field_by_field() {
    let mut w = World::new();
    let mut bad = settings(
        "  ",
        Some("   "),
        Some("https://acme.okta.com/oauth2/default"),
    );
    let Err(SsoError::InvalidSettings(errors)) = w.configure(bad.clone()) else {
        panic!("refused");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["client-id", "client-secret", "authorization-server"]
    );
    assert!(!w.storage.map.contains_key(&settings_key(CONFIG)));

    bad.client_id = "0oa with space".into();
    bad.client_secret = Some("line\nbreak".into());
    bad.authorization_server = Some("def ault".into());
    let Err(SsoError::InvalidSettings(errors)) = w.configure(bad) else {
        panic!("refused");
    };
    assert_eq!(errors.len(), 3);
    assert!(errors.iter().all(|e| !e.message.contains("line\nbreak")));

    // Blank server = the org server; the values are trimmed.
    w.configure(settings(" 0oaabc ", Some(" sec "), Some(" ")))
        .expect("valid");
    let saved: plugin_sso::settings::StoredSso =
        serde_json::from_slice(&w.storage.map[&settings_key(CONFIG)]).unwrap();
    assert_eq!(saved.client_id, "0oaabc");
    assert_eq!(saved.authorization_server, None);
    assert!(saved.confidential);
    assert_eq!(w.secrets.map[&secret_key(CONFIG)], "sec");

    // Switching to a public client forgets the secret.
    w.configure_public();
    assert!(!w.secrets.map.contains_key(&secret_key(CONFIG)));
    assert!(matches!(
        plugin_sso::configure(&mut w.host(), "Nope", settings(PUBLIC_ID, None, None)),
        Err(SsoError::UnknownConfig(_))
    ));
}

#[test]
fn a_missing_custom_server_is_a_clear_okta_error() {
    let mut w = World::new();
    w.configure(settings(PUBLIC_ID, None, Some("aus404")))
        .unwrap();
    let err = w.begin(SyncTarget::Users).unwrap_err();
    assert!(matches!(err, SsoError::Okta(_)), "{err:?}");
    assert!(err.to_string().contains("authorization server"), "{err}");
}

#[test]
fn an_inactive_okta_user_never_gets_a_code() {
    // Okta itself refuses; the plugin only ever sees the error redirect.
    let mut w = World::new();
    w.configure_public();
    let suspended = w.user(UserStatus::Suspended);
    let start = w.begin(SyncTarget::Users).unwrap();
    let back = w.authorize(&start, &suspended.login);
    assert_eq!(back.get("error").map(String::as_str), Some("access_denied"));
    assert!(!back.contains_key("code"));
}

#[test]
fn a_gateway_error_at_the_token_endpoint_is_retried() {
    use fake_okta::{FaultKind, FaultRule};
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).expect("begins");
    let code = w.authorize(&start, &user.login)["code"].clone();
    w.okta.faults().set(
        FaultRule::new(FaultKind::Status(503))
            .on_path("/oauth2/v1/token")
            .times(2),
    );
    let who = w
        .complete(&start.state, &code)
        .expect("signed in on the third try");
    assert_eq!(who.external_id, user.id);
    assert_eq!(w.count_sent("/oauth2/v1/token"), 3);
}

#[test]
fn a_token_endpoint_that_stays_down_is_a_typed_error_after_three_tries() {
    use fake_okta::{FaultKind, FaultRule};
    let (mut w, user) = World::with_technician();
    let start = w.begin(SyncTarget::Users).expect("begins");
    let code = w.authorize(&start, &user.login)["code"].clone();
    w.okta
        .faults()
        .set(FaultRule::new(FaultKind::Status(502)).on_path("/oauth2/v1/token"));
    let err = w.complete(&start.state, &code).unwrap_err();
    assert!(
        matches!(
            err,
            SsoError::Okta(plugin_core::OktaFailure::ServerError(502))
        ),
        "{err:?}"
    );
    assert_eq!(w.count_sent("/oauth2/v1/token"), 3);
    // A refusal that is not passing is not retried.
    w.okta.faults().clear();
    let start = w.begin(SyncTarget::Users).expect("begins");
    let err = w.complete(&start.state, "not-a-code").unwrap_err();
    assert!(matches!(err, SsoError::TokenExchange(_)), "{err:?}");
    assert_eq!(w.count_sent("/oauth2/v1/token"), 4);
}
