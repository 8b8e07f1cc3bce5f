//! install / update / uninstall / list / verify over an in-memory host.

mod common;

use common::{FakeHost, GROUPS, TOKEN, USERS, html, json, okta_error, script_ok};
use plugin_core::install::{self, install, list, uninstall, update, verify_form, verify_installed};
use plugin_core::{
    ConfigForm, InstallError, InstallOptions, OktaFailure, StoredConfig, SyncTarget,
    TransportError, VerifyError,
};

const PROD: InstallOptions = InstallOptions {
    development_mode: false,
};

fn form(name: &str, token: &str) -> ConfigForm {
    ConfigForm {
        name: name.into(),
        okta_domain: "https://acme.okta.com/".into(),
        api_token: token.into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    }
}

fn installed(h: &mut FakeHost, name: &str) {
    script_ok(&mut h.http);
    install(&mut h.host(), &form(name, TOKEN), &PROD).unwrap();
}

/// The token must not leak into storage, logs or any error text.
fn assert_no_leak(h: &FakeHost, errors: &[String]) {
    assert!(!h.storage_text().contains(TOKEN), "token in storage");
    assert!(!h.log.text().contains(TOKEN), "token in logs");
    for e in errors {
        assert!(!e.contains(TOKEN), "token in error: {e}");
    }
}

#[test]
fn install_verifies_then_keeps_config_and_token_apart() {
    let mut h = FakeHost::default();
    script_ok(&mut h.http);
    let summary = install(&mut h.host(), &form(" Acme ", &format!(" {TOKEN} ")), &PROD).unwrap();
    assert_eq!(summary.name, "Acme");
    assert_eq!(summary.okta_origin, "https://acme.okta.com");
    assert_eq!(summary.installed_at, "2026-11-28T17:00:00Z");
    assert_eq!(
        summary.last_verified_at.as_deref(),
        Some("2026-11-28T17:00:00Z")
    );
    let urls: Vec<_> = h.http.sent.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://acme.okta.com/api/v1/users?limit=1",
            "https://acme.okta.com/api/v1/groups?limit=1"
        ]
    );
    assert_eq!(
        h.secrets.map.get("token/Acme").map(String::as_str),
        Some(TOKEN)
    );
    let stored: StoredConfig = serde_json::from_slice(&h.storage.map["config/Acme"]).unwrap();
    assert_eq!(stored.name, "Acme");
    assert!(h.log.lines.iter().any(|(_, m, _)| m == "config installed"));
    assert_no_leak(&h, &[]);
}

#[test]
fn install_blocked_when_verification_fails_and_nothing_kept() {
    let failures = [
        (
            Ok(okta_error(401, "E0000011", "Invalid token provided")),
            "invalid-token",
        ),
        (
            Ok(okta_error(403, "E0000006", "You do not have permission")),
            "permission-denied",
        ),
        (Ok(html(404)), "not-found"),
        (Ok(html(200)), "unexpected-response"),
        (Ok(json(200, r#"[{"id":"x"}]"#)), "unexpected-response"),
        (Ok(json(200, r#"{"users":[]}"#)), "unexpected-response"),
        (
            Ok(okta_error(429, "E0000047", "rate limit")),
            "rate-limited",
        ),
        (Ok(html(503)), "server-error"),
        (
            Err(TransportError::Dns(format!("lookup failed, SSWS {TOKEN}"))),
            "dns-failure",
        ),
    ];
    for (answer, kind) in failures {
        let mut h = FakeHost::default();
        h.http.push(answer);
        let err = install(&mut h.host(), &form("Acme", TOKEN), &PROD).unwrap_err();
        match &err {
            InstallError::VerificationFailed(f) => assert_eq!(f.kind(), kind),
            other => panic!("{kind}: {other:?}"),
        }
        assert!(
            h.storage.map.is_empty() && h.secrets.map.is_empty(),
            "{kind}: something kept"
        );
        assert_no_leak(&h, &[err.to_string(), format!("{err:?}")]);
    }
}

#[test]
fn groups_listing_is_checked_too() {
    let mut h = FakeHost::default();
    h.http
        .push(Ok(json(200, USERS)))
        .push(Ok(json(200, r#"[{"id":"00g1"}]"#)));
    let err = install(&mut h.host(), &form("Acme", TOKEN), &PROD).unwrap_err();
    assert!(
        matches!(err, InstallError::VerificationFailed(OktaFailure::UnexpectedResponse(ref d)) if d.contains("groups"))
    );
    assert_eq!(h.http.sent.len(), 2);
}

#[test]
fn duplicate_name_ignoring_case() {
    let mut h = FakeHost::default();
    installed(&mut h, "Acme");
    let err = install(&mut h.host(), &form("ACME", TOKEN), &PROD).unwrap_err();
    assert_eq!(err, InstallError::DuplicateName("Acme".into()));
    assert_eq!(h.http.sent.len(), 2, "nothing sent for a duplicate");
    // With other faults too, every field is reported.
    let err = install(&mut h.host(), &form("acme", ""), &PROD).unwrap_err();
    assert!(matches!(err, InstallError::InvalidConfig(ref e) if e.len() == 2));
}

#[test]
fn invalid_form_sends_nothing_and_never_echoes_the_token() {
    let mut h = FakeHost::default();
    let mut f = form("Acme", TOKEN);
    f.okta_domain = TOKEN.into(); // pasted into the wrong field
    let err = install(&mut h.host(), &f, &PROD).unwrap_err();
    assert!(matches!(err, InstallError::InvalidConfig(ref e) if e[0].field == "okta-domain"));
    assert!(h.http.sent.is_empty());
    assert_no_leak(&h, &[err.to_string(), format!("{err:?}")]);
}

#[test]
fn storage_failure_rolls_back_the_token() {
    let mut h = FakeHost::default();
    h.storage.fail_set = true;
    script_ok(&mut h.http);
    let err = install(&mut h.host(), &form("Acme", TOKEN), &PROD).unwrap_err();
    assert!(matches!(err, InstallError::Storage(_)));
    assert!(h.secrets.map.is_empty());
}

#[test]
fn update_keeps_token_when_blank_and_replaces_it_otherwise() {
    let mut h = FakeHost::default();
    installed(&mut h, "Acme");
    script_ok(&mut h.http);
    let mut f = form("acme", "  ");
    f.sync_target = SyncTarget::Requesters;
    let s = update(&mut h.host(), &f, &PROD).unwrap();
    assert_eq!(
        (s.name.as_str(), s.sync_target),
        ("Acme", SyncTarget::Requesters)
    );
    assert_eq!(s.installed_at, "2026-11-28T17:00:00Z");
    let auth = &h.http.sent[3].headers[0].1;
    assert_eq!(auth, &format!("SSWS {TOKEN}"), "stored token used");
    assert_eq!(h.secrets.map["token/Acme"], TOKEN);

    script_ok(&mut h.http);
    update(&mut h.host(), &form("Acme", "00newtoken"), &PROD).unwrap();
    assert_eq!(h.secrets.map["token/Acme"], "00newtoken");
}

#[test]
fn failed_update_changes_nothing() {
    let mut h = FakeHost::default();
    installed(&mut h, "Acme");
    let before = (h.storage.map.clone(), h.secrets.map.clone());
    h.http
        .push(Ok(okta_error(401, "E0000011", "Invalid token provided")));
    let err = update(&mut h.host(), &form("Acme", "00badtoken"), &PROD).unwrap_err();
    assert!(matches!(
        err,
        InstallError::VerificationFailed(OktaFailure::InvalidToken(_))
    ));
    assert_eq!((h.storage.map.clone(), h.secrets.map.clone()), before);
}

#[test]
fn update_of_unknown_config() {
    let mut h = FakeHost::default();
    let err = update(&mut h.host(), &form("Nope", TOKEN), &PROD).unwrap_err();
    assert_eq!(err, InstallError::UnknownConfig("Nope".into()));
}

#[test]
fn uninstall_removes_config_token_and_state_only_of_that_config() {
    let mut h = FakeHost::default();
    installed(&mut h, "Acme");
    installed(&mut h, "Acme2");
    for k in [
        "state/Acme/checkpoint",
        "state/Acme/runs/1",
        "state/Acme2/checkpoint",
    ] {
        h.storage.map.insert(k.into(), b"x".to_vec());
    }
    uninstall(&mut h.host(), "Acme").unwrap();
    let keys: Vec<_> = h.storage.map.keys().cloned().collect();
    assert_eq!(keys, ["config/Acme2", "state/Acme2/checkpoint"]);
    assert!(!h.secrets.map.contains_key("token/Acme"));
    assert!(h.secrets.map.contains_key("token/Acme2"));
    assert_eq!(
        uninstall(&mut h.host(), "Acme"),
        Err(InstallError::UnknownConfig("Acme".into()))
    );
}

#[test]
fn list_is_sorted_and_skips_damaged_entries() {
    let mut h = FakeHost::default();
    for n in ["zeta", "Alpha", "beta"] {
        installed(&mut h, n);
    }
    h.storage.map.insert("config/broken".into(), b"{".to_vec());
    let names: Vec<_> = list(&mut h.host())
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Alpha", "beta", "zeta"]);
    assert!(h.log.lines.iter().any(|(_, m, _)| m.contains("unreadable")));
}

#[test]
fn verify_form_reports_and_keeps_nothing() {
    let mut h = FakeHost::default();
    script_ok(&mut h.http);
    let r = verify_form(&mut h.host(), &form("Acme", TOKEN), &PROD).unwrap();
    assert_eq!(r.okta_origin, "https://acme.okta.com");
    assert_eq!(r.requests, 2);
    assert_eq!(r.okta_request_id.as_deref(), Some("req-200"));
    assert_eq!(r.rate_limit.limit, Some(600));
    assert_eq!(r.elapsed_ms, 5);
    assert!(h.storage.map.is_empty() && h.secrets.map.is_empty());

    let err = verify_form(&mut h.host(), &form("", ""), &PROD).unwrap_err();
    assert!(matches!(err, VerifyError::InvalidConfig(ref e) if e.len() == 2));
    h.http
        .push(Ok(okta_error(401, "E0000011", "Invalid token provided")));
    let err = verify_form(&mut h.host(), &form("Acme", TOKEN), &PROD).unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Okta(OktaFailure::InvalidToken(_))
    ));
    assert_no_leak(&h, &[err.to_string()]);
}

#[test]
fn verify_form_blank_token_uses_the_installed_one() {
    let mut h = FakeHost::default();
    installed(&mut h, "Acme");
    script_ok(&mut h.http);
    verify_form(&mut h.host(), &form("Acme", ""), &PROD).unwrap();
    assert_eq!(h.http.sent[2].headers[0].1, format!("SSWS {TOKEN}"));
}

#[test]
fn verify_installed_updates_last_verified_at() {
    let mut h = FakeHost::default();
    installed(&mut h, "Acme");
    let first = list(&mut h.host()).unwrap()[0].last_verified_at.clone();
    h.clock.0.set(1_795_888_800_000);
    script_ok(&mut h.http);
    verify_installed(&mut h.host(), "Acme").unwrap();
    let after = list(&mut h.host()).unwrap()[0].last_verified_at.clone();
    assert_ne!(first, after);
    assert_eq!(after.as_deref(), Some("2026-11-28T18:00:00Z"));

    h.http
        .push(Ok(json(200, GROUPS)))
        .push(Ok(json(200, GROUPS)));
    let err = verify_installed(&mut h.host(), "Acme").unwrap_err();
    assert!(matches!(
        err,
        VerifyError::Okta(OktaFailure::UnexpectedResponse(_))
    ));
    assert_eq!(
        verify_installed(&mut h.host(), "Nope"),
        Err(VerifyError::UnknownConfig("Nope".into()))
    );
    assert_no_leak(&h, &[err.to_string()]);
}

#[test]
fn development_mode_reaches_a_local_fake_okta() {
    let mut h = FakeHost::default();
    script_ok(&mut h.http);
    let mut f = form("Local", TOKEN);
    f.okta_domain = "http://127.0.0.1:8080".into();
    let s = install(
        &mut h.host(),
        &f,
        &InstallOptions {
            development_mode: true,
        },
    )
    .unwrap();
    assert_eq!(s.okta_origin, "http://127.0.0.1:8080");
    assert!(s.development_mode);
    script_ok(&mut h.http);
    verify_installed(&mut h.host(), "Local").unwrap();
    assert_eq!(
        h.http.sent[2].url,
        "http://127.0.0.1:8080/api/v1/users?limit=1"
    );
    assert_eq!(install::token_key("Local"), "token/Local");
}
