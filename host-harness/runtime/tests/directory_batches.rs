//! The directory import's pending batches, over the in-memory backend: a
//! started batch answers what a synchronous one would, batches land in the
//! order they were started, and unfinished ones are capped.

use std::sync::Arc;
use std::time::Duration;

use okta_host_runtime::bindings::infraon::okta::directory::{
    DirectoryError, Host, HostPendingUpserts, Person, PersonStatus, UpsertOutcome,
};
use okta_host_runtime::bindings::infraon::okta::types::SyncTarget;
use okta_host_runtime::interfaces::directory::MAX_PENDING_BATCHES;
use okta_host_runtime::memory::MemoryBackend;
use okta_host_runtime::state::{PluginState, Scope};

fn state() -> PluginState {
    let infraon = okta_host_runtime::Backends::all(Arc::new(MemoryBackend::new()));
    let scope = Scope {
        config: Some("acme".into()),
        allowed_origin: None,
    };
    PluginState::new(infraon, scope, 64 << 20, Duration::from_secs(5))
}

fn person(n: u32, email: &str) -> Person {
    Person {
        external_id: format!("00u{n}"),
        config: "acme".into(),
        kind: SyncTarget::Users,
        login: email.into(),
        email: email.into(),
        first_name: format!("P{n}"),
        last_name: "Q".into(),
        display_name: String::new(),
        fields: vec![("title".into(), "Engineer".into())],
        roles: vec!["Technician".into()],
        status: PersonStatus::Active,
    }
}

fn outcomes(results: &[Result<UpsertOutcome, DirectoryError>]) -> Vec<String> {
    results
        .iter()
        .map(|r| match r {
            Ok(UpsertOutcome::Created) => "Created".into(),
            Ok(UpsertOutcome::Updated) => "Updated".into(),
            Ok(UpsertOutcome::Unchanged) => "Unchanged".into(),
            Err(DirectoryError::Conflict(_)) => "conflict".into(),
            Err(e) => format!("{e:?}"),
        })
        .collect()
}

#[test]
fn a_started_batch_answers_what_upsert_batch_answers_and_lands_in_order() {
    let mut s = state();
    let first = s
        .start_upsert_batch(vec![person(1, "a@x.io"), person(2, "b@x.io")])
        .unwrap();
    // Started before the first is finished: applied after it, so the
    // email the first batch gave 00u1 conflicts.
    let second = s
        .start_upsert_batch(vec![person(3, "a@x.io"), person(1, "a@x.io")])
        .unwrap();
    assert_eq!(
        outcomes(&HostPendingUpserts::finish(&mut s, second)),
        ["conflict", "Unchanged"]
    );
    assert_eq!(
        outcomes(&HostPendingUpserts::finish(&mut s, first)),
        ["Created", "Created"]
    );
    let synchronous = s.upsert_batch(vec![person(2, "b@x.io"), person(4, "a@x.io")]);
    assert_eq!(outcomes(&synchronous), ["Unchanged", "conflict"]);
    assert_eq!(s.unfinished_batches(), 0);
}

#[test]
fn unfinished_batches_are_capped_and_a_dropped_one_still_lands() {
    let mut s = state();
    let mut held = Vec::new();
    for n in 0..MAX_PENDING_BATCHES as u32 {
        held.push(
            s.start_upsert_batch(vec![person(n, &format!("p{n}@x.io"))])
                .unwrap(),
        );
    }
    match s.start_upsert_batch(vec![person(99, "late@x.io")]) {
        Err(DirectoryError::Unavailable(m)) => assert!(m.contains("unfinished"), "{m}"),
        Err(e) => panic!("expected unavailable, got {e:?}"),
        Ok(_) => panic!("a ninth unfinished batch was accepted"),
    }
    let dropped = held.pop().unwrap();
    HostPendingUpserts::drop(&mut s, dropped).unwrap();
    let late = s.start_upsert_batch(vec![person(99, "late@x.io")]).unwrap();
    assert_eq!(
        outcomes(&HostPendingUpserts::finish(&mut s, late)),
        ["Created"]
    );
    let last = MAX_PENDING_BATCHES as u32 - 1;
    let found = s
        .find_by_external_id(SyncTarget::Users, format!("00u{last}"))
        .unwrap();
    assert!(found.is_some(), "the dropped batch did not land");
    for batch in held {
        assert_eq!(
            outcomes(&HostPendingUpserts::finish(&mut s, batch)),
            ["Created"]
        );
    }
    assert_eq!(s.unfinished_batches(), 0);
}

#[test]
fn a_batch_a_guest_left_unfinished_has_landed_once_its_operation_is_over() {
    use okta_host_runtime::backend::Directory as _;
    let platform = Arc::new(MemoryBackend::new());
    let scope = Scope {
        config: Some("acme".into()),
        allowed_origin: None,
    };
    let mut s = PluginState::new(
        okta_host_runtime::Backends::all(platform.clone()),
        scope,
        64 << 20,
        Duration::from_secs(5),
    );
    let people: Vec<Person> = (0..200).map(|n| person(n, &format!("p{n}@x.io"))).collect();
    // Started and never finished nor dropped, as a guest that trapped leaves it.
    let _ = s.start_upsert_batch(people).unwrap();
    drop(s);
    for n in [0, 199] {
        let found = platform
            .find_by_external_id(
                okta_host_runtime::backend::SyncTarget::Users,
                &format!("00u{n}"),
            )
            .unwrap();
        assert!(
            found.is_some(),
            "00u{n} had not landed when the operation ended"
        );
    }
}
