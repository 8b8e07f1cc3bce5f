//! Moving people between populations through the directory import, over
//! the in-memory backend: by name moves only those named and only the
//! config's own, all or none when one of them would clash in the target.

use std::sync::Arc;
use std::time::Duration;

use okta_host_runtime::bindings::infraon::okta::directory::{
    DirectoryError, Host, Person, PersonStatus,
};
use okta_host_runtime::bindings::infraon::okta::types::SyncTarget;
use okta_host_runtime::memory::MemoryBackend;
use okta_host_runtime::state::{PluginState, Scope};

fn state() -> PluginState {
    let backends = okta_host_runtime::Backends::all(Arc::new(MemoryBackend::new()));
    let scope = Scope {
        config: Some("acme".into()),
        allowed_origin: None,
    };
    PluginState::new(backends, scope, 64 << 20, Duration::from_secs(5))
}

fn person(n: u32, kind: SyncTarget, email: &str) -> Person {
    Person {
        external_id: format!("00u{n}"),
        config: "acme".into(),
        kind,
        login: email.into(),
        email: email.into(),
        first_name: format!("P{n}"),
        last_name: "Q".into(),
        display_name: String::new(),
        fields: vec![],
        roles: vec![],
        status: PersonStatus::Active,
    }
}

fn ids(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn move_people_moves_only_the_named_people_of_the_config() {
    let mut s = state();
    s.upsert(person(1, SyncTarget::Users, "a@x.io")).unwrap();
    s.upsert(person(2, SyncTarget::Users, "b@x.io")).unwrap();
    let moved = s
        .move_people(
            "acme".into(),
            SyncTarget::Users,
            SyncTarget::Requesters,
            ids(&["00u1"]),
        )
        .unwrap();
    assert_eq!(moved, 1);
    assert_eq!(
        s.list_linked("acme".into(), SyncTarget::Users).unwrap(),
        ids(&["00u2"])
    );
    assert_eq!(
        s.list_linked("acme".into(), SyncTarget::Requesters)
            .unwrap(),
        ids(&["00u1"])
    );
    // Another config's name never moves acme's people.
    let moved = s
        .move_people(
            "other".into(),
            SyncTarget::Users,
            SyncTarget::Requesters,
            ids(&["00u2"]),
        )
        .unwrap();
    assert_eq!(moved, 0);
}

#[test]
fn move_people_moves_nobody_when_one_would_clash() {
    let mut s = state();
    s.upsert(person(1, SyncTarget::Users, "a@x.io")).unwrap();
    s.upsert(person(2, SyncTarget::Users, "b@x.io")).unwrap();
    // Someone in requesters already holds b's email.
    s.upsert(person(3, SyncTarget::Requesters, "b@x.io"))
        .unwrap();
    let err = s
        .move_people(
            "acme".into(),
            SyncTarget::Users,
            SyncTarget::Requesters,
            ids(&["00u1", "00u2"]),
        )
        .unwrap_err();
    assert!(matches!(err, DirectoryError::Conflict(_)), "{err:?}");
    assert_eq!(
        s.list_linked("acme".into(), SyncTarget::Users).unwrap(),
        ids(&["00u1", "00u2"])
    );
}
