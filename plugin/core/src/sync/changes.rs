//! Who a run changes, person by person (WIT `person-change`): what a dry
//! run would do, what a run did, and the deactivations a held run waits on,
//! read back in pages before an admin approves or rejects.
//!
//! Kept under `state/<config>/changes/<run id>/<first>`, in pieces of at
//! most [`CHUNK`] people, each named by its first person's place in the
//! list: a step writes its own people as new pieces and reads nothing back,
//! and a reader loads the few pieces a page spans, so neither the run nor
//! the reader holds more than a page however many people change (a held
//! run of 100,000 deactivations is 200 keys). A step that crashed may have
//! written past its checkpoint: a run trims its list to the checkpoint's
//! count whenever it loads its state, before it appends again, and once
//! more at its end.
//!
//! Unchanged people are not listed. A person deprovisioned in Okta whose
//! profile also changed is listed twice: the update, then the deactivation.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::directory::{Person, PersonStatus, UpsertOutcome};
use crate::ports::Storage;
use crate::store::state_prefix;
use crate::sync::keys;
use crate::sync::types::{SyncError, UnsyncedRecord};

/// People per stored chunk.
pub const CHUNK: u64 = 500;
/// Largest page a reader may ask for.
pub const MAX_PAGE: u32 = 1_000;

/// What happens to one person (WIT `change-action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeAction {
    /// A new person in Infraon.
    Create,
    /// Fields or roles of an existing person change.
    Update,
    /// The person is deactivated.
    Deactivate,
    /// A deactivated person becomes active (or pending, suspended) again.
    Reactivate,
    /// The Okta user is not applied; `reason` says why.
    Unsynced,
}

impl ChangeAction {
    /// `create`, `update`, `deactivate`, `reactivate` or `unsynced`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Deactivate => "deactivate",
            ChangeAction::Reactivate => "reactivate",
            ChangeAction::Unsynced => "unsynced",
        }
    }
}

/// One field whose value changes (WIT `field-change`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// `login`, `email`, `first-name`, `last-name`, `display-name`,
    /// `status`, or an Infraon field name.
    pub field: String,
    /// The value Infraon has (empty for a new person).
    pub old: String,
    /// The value it gets.
    pub new: String,
}

/// One person and what a run changes for them (WIT `person-change`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonChange {
    /// Okta user id (empty when Okta sent none).
    pub okta_id: String,
    /// Login.
    pub login: String,
    /// Email.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// What happens.
    pub action: ChangeAction,
    /// The fields that differ, old → new (none for a new person: who they
    /// are is in the other fields, and all their values are new).
    pub fields: Vec<FieldChange>,
    /// Roles granted.
    pub roles_added: Vec<String>,
    /// Roles taken away.
    pub roles_removed: Vec<String>,
    /// Why an Okta user is unsynced (`code: text`).
    pub reason: Option<String>,
    /// A deactivation the safeguard held for approval.
    pub held: bool,
}

/// A page of a run's changes (WIT `change-page`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePage {
    /// People listed for the run in all.
    pub total: u64,
    /// The page asked for.
    pub changes: Vec<PersonChange>,
}

fn prefix(config: &str, run: u64) -> String {
    format!("{}changes/{run:020}/", state_prefix(config))
}

/// The key of the piece of run `run`'s list whose first person is number
/// `start` of the list.
fn piece_key(config: &str, run: u64, start: u64) -> String {
    format!("{}{start:012}", prefix(config, run))
}

/// Where a stored piece starts in its list: a key names its first person's
/// place (12 digits). Keys of the first layout (8 digits) numbered chunks of
/// exactly [`CHUNK`] people, so they read as pieces that start at a
/// multiple of it, and lists stored before still read.
fn piece_start(key: &str) -> Option<u64> {
    let digits = key.rsplit('/').next()?;
    let n: u64 = digits.parse().ok()?;
    match digits.len() {
        8 => n.checked_mul(CHUNK),
        12 => Some(n),
        _ => None,
    }
}

/// Run `run`'s pieces in list order: (first person's place, key).
fn pieces(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
) -> Result<Vec<(u64, String)>, SyncError> {
    let mut pieces: Vec<(u64, String)> = storage
        .list_keys(&prefix(config, run))
        .map_err(SyncError::host)?
        .into_iter()
        .filter_map(|key| Some((piece_start(&key)?, key)))
        .collect();
    // Numbers, not keys: the two layouts' keys do not sort alike.
    pieces.sort_unstable_by_key(|(start, _)| *start);
    Ok(pieces)
}

fn read_piece(storage: &mut dyn Storage, key: &str) -> Result<Vec<PersonChange>, SyncError> {
    Ok(keys::get_json(storage, key)?.unwrap_or_default())
}

/// How many people `pieces` (a run's, in list order) hold: where the last
/// one starts and its length.
fn total_of(storage: &mut dyn Storage, pieces: &[(u64, String)]) -> Result<u64, SyncError> {
    match pieces.last() {
        Some((start, key)) => Ok(start + read_piece(storage, key)?.len() as u64),
        None => Ok(0),
    }
}

/// Prefix of every run's changes (to prune one run: [`delete`]).
pub fn delete(storage: &mut dyn Storage, config: &str, run: u64) -> Result<(), SyncError> {
    keys::delete_prefix(storage, &prefix(config, run))
}

/// Append `new` to run `run`'s list, which holds `*total` people (the
/// checkpoint's count); `*total` grows by what was appended. Each call
/// writes new keys only (at most [`CHUNK`] people each) and reads none: a
/// large run wrote its tail chunk again and again, reading it back each
/// time. What a crashed step wrote beyond the checkpoint must be gone first
/// ([`trim`], which a run does whenever it loads its state).
pub fn append(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    total: &mut u64,
    new: Vec<PersonChange>,
) -> Result<(), SyncError> {
    for piece in new.chunks(CHUNK as usize) {
        keys::put_json(storage, &piece_key(config, run, *total), &piece)?;
        *total += piece.len() as u64;
    }
    Ok(())
}

/// Drop whatever run `run`'s list holds beyond its first `total` people:
/// what a crashed step wrote past its checkpoint.
pub fn trim(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    total: u64,
) -> Result<(), SyncError> {
    let pieces = pieces(storage, config, run)?;
    let kept = pieces.partition_point(|(start, _)| *start < total);
    for (_, key) in &pieces[kept..] {
        storage.delete(key).map_err(SyncError::host)?;
    }
    if let Some((start, key)) = kept.checked_sub(1).map(|i| &pieces[i]) {
        let mut last = read_piece(storage, key)?;
        let keep = (total - start) as usize;
        if last.len() > keep {
            last.truncate(keep);
            keys::put_json(storage, key, &last)?;
        }
    }
    Ok(())
}

/// How many people run `run` lists, from its pieces.
pub fn count(storage: &mut dyn Storage, config: &str, run: u64) -> Result<u64, SyncError> {
    let pieces = pieces(storage, config, run)?;
    total_of(storage, &pieces)
}

/// People `offset..offset + limit` of run `run`'s list (at most [`MAX_PAGE`]).
pub fn page(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    offset: u64,
    limit: u32,
) -> Result<ChangePage, SyncError> {
    let pieces = pieces(storage, config, run)?;
    let total = total_of(storage, &pieces)?;
    let end = offset
        .saturating_add(u64::from(limit.min(MAX_PAGE)))
        .min(total);
    let first = pieces
        .partition_point(|(start, _)| *start <= offset)
        .saturating_sub(1);
    let mut changes = Vec::new();
    for (start, key) in &pieces[first..] {
        if *start >= end {
            break;
        }
        let stored = read_piece(storage, key)?;
        let from = offset.saturating_sub(*start) as usize;
        let to = ((end - start) as usize).min(stored.len());
        if from < to {
            changes.extend(stored[from..to].iter().cloned());
        }
    }
    Ok(ChangePage { total, changes })
}

/// Visit every person of run `run`'s list, piece by piece.
pub fn for_each(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    f: &mut dyn FnMut(&PersonChange) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    for (_, key) in pieces(storage, config, run)? {
        for c in &read_piece(storage, &key)? {
            f(c)?;
        }
    }
    Ok(())
}

fn role_set(roles: &[String]) -> BTreeSet<&str> {
    roles.iter().map(String::as_str).collect()
}

/// The named fields of a person, in a fixed order, then their Infraon
/// fields sorted by name.
fn named(p: &Person) -> Vec<(String, String)> {
    let mut out = vec![
        ("login".to_owned(), p.login.clone()),
        ("email".to_owned(), p.email.clone()),
        ("first-name".to_owned(), p.first_name.clone()),
        ("last-name".to_owned(), p.last_name.clone()),
        ("display-name".to_owned(), p.display_name.clone()),
        ("status".to_owned(), p.status.as_str().to_owned()),
    ];
    let mut extra = p.fields.clone();
    extra.sort();
    out.extend(extra);
    out
}

/// The fields that differ between `old` (none: a new person) and `new`.
fn field_changes(old: Option<&Person>, new: &Person) -> Vec<FieldChange> {
    let before = old.map(named).unwrap_or_default();
    named(new)
        .into_iter()
        .filter_map(|(field, value)| {
            let was = before
                .iter()
                .find(|(f, _)| *f == field)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (was != value).then_some(FieldChange {
                field,
                old: was,
                new: value,
            })
        })
        .chain(
            before
                .iter()
                // A field Infraon had and the mapping no longer sets.
                .filter(|(field, was)| {
                    !was.is_empty() && !named(new).iter().any(|(f, _)| f == field)
                })
                .map(|(field, was)| FieldChange {
                    field: field.clone(),
                    old: was.clone(),
                    new: String::new(),
                }),
        )
        .collect()
}

/// What an upsert of `new` over `prior` changes for that person; `None`
/// when nothing does. `prior` is who Infraon had under this Okta id, or the
/// former person a rehire relinks.
pub fn of_upsert(
    prior: Option<&Person>,
    new: &Person,
    outcome: UpsertOutcome,
) -> Option<PersonChange> {
    let prior = match outcome {
        UpsertOutcome::Unchanged => return None,
        UpsertOutcome::Created => None,
        UpsertOutcome::Updated => prior,
    };
    let action = match prior {
        None => ChangeAction::Create,
        Some(p) if p.status == PersonStatus::Deactivated && new.status != p.status => {
            ChangeAction::Reactivate
        }
        Some(_) => ChangeAction::Update,
    };
    let old_roles = prior.map(|p| role_set(&p.roles)).unwrap_or_default();
    let new_roles = role_set(&new.roles);
    Some(PersonChange {
        okta_id: new.external_id.clone(),
        login: new.login.clone(),
        email: new.email.clone(),
        display_name: new.display_name.clone(),
        action,
        // A new person's values are all new: listing them would make the
        // first sync of a large org weigh a kilobyte a person in storage.
        fields: match prior {
            Some(p) => field_changes(Some(p), new),
            None => Vec::new(),
        },
        roles_added: new_roles
            .difference(&old_roles)
            .map(|r| (*r).to_owned())
            .collect(),
        roles_removed: old_roles
            .difference(&new_roles)
            .map(|r| (*r).to_owned())
            .collect(),
        reason: None,
        held: false,
    })
}

/// The deactivation of `person`; `held` when the safeguard holds it.
pub fn of_deactivation(person: &Person, held: bool) -> PersonChange {
    PersonChange {
        okta_id: person.external_id.clone(),
        login: person.login.clone(),
        email: person.email.clone(),
        display_name: person.display_name.clone(),
        action: ChangeAction::Deactivate,
        fields: vec![FieldChange {
            field: "status".into(),
            old: person.status.as_str().into(),
            new: PersonStatus::Deactivated.as_str().into(),
        }],
        roles_added: Vec::new(),
        roles_removed: Vec::new(),
        reason: None,
        held,
    }
}

/// The deactivation of a linked person Infraon no longer finds.
pub fn of_missing_deactivation(okta_id: &str, held: bool) -> PersonChange {
    PersonChange {
        okta_id: okta_id.to_owned(),
        login: String::new(),
        email: String::new(),
        display_name: String::new(),
        action: ChangeAction::Deactivate,
        fields: Vec::new(),
        roles_added: Vec::new(),
        roles_removed: Vec::new(),
        reason: None,
        held,
    }
}

/// An Okta user a run could not apply.
pub fn of_unsynced(r: &UnsyncedRecord) -> PersonChange {
    PersonChange {
        okta_id: r.okta_id.clone(),
        login: r.login.clone(),
        email: r.email.clone(),
        display_name: r.display_name.clone(),
        action: ChangeAction::Unsynced,
        fields: Vec::new(),
        roles_added: Vec::new(),
        roles_removed: Vec::new(),
        reason: Some(format!("{}: {}", r.reason.as_str(), r.reason_text)),
        held: false,
    }
}

/// Replace `secret` wherever it appears in a change (a profile value that
/// happens to hold the API token must not reach a page or a CSV).
pub fn redact(c: &mut PersonChange, secret: &str) {
    if secret.is_empty() {
        return;
    }
    let fix = |s: &mut String| {
        if s.contains(secret) {
            *s = s.replace(secret, "[redacted]");
        }
    };
    for s in [
        &mut c.okta_id,
        &mut c.login,
        &mut c.email,
        &mut c.display_name,
    ] {
        fix(s);
    }
    for f in &mut c.fields {
        fix(&mut f.field);
        fix(&mut f.old);
        fix(&mut f.new);
    }
    for r in c.roles_added.iter_mut().chain(c.roles_removed.iter_mut()) {
        fix(r);
    }
    if let Some(r) = &mut c.reason {
        fix(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SyncTarget;
    use crate::ports::StorageError;
    use std::collections::BTreeMap;

    #[derive(Default)]
    struct Mem(BTreeMap<String, Vec<u8>>);

    impl Storage for Mem {
        fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(self.0.get(key).cloned())
        }
        fn set(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
            self.0.insert(key.into(), value.into());
            Ok(())
        }
        fn delete(&mut self, key: &str) -> Result<(), StorageError> {
            self.0.remove(key);
            Ok(())
        }
        fn list_keys(&mut self, prefix: &str) -> Result<Vec<String>, StorageError> {
            Ok(self
                .0
                .keys()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect())
        }
    }

    fn person(i: usize) -> Person {
        Person {
            external_id: format!("00u{i}"),
            config: "acme".into(),
            kind: SyncTarget::Users,
            login: format!("u{i}@x"),
            email: format!("u{i}@x"),
            first_name: "A".into(),
            last_name: "B".into(),
            display_name: "A B".into(),
            fields: vec![],
            roles: vec!["Technician".into()],
            status: PersonStatus::Active,
        }
    }

    #[test]
    fn pages_cross_chunks_and_a_crashed_tail_is_cut() {
        let mut s = Mem::default();
        let mut total = 0;
        for step in 0..7 {
            let new = (0..180)
                .map(|i| of_deactivation(&person(step * 180 + i), true))
                .collect();
            append(&mut s, "acme", 9, &mut total, new).unwrap();
        }
        assert_eq!(total, 1260);
        // A piece a step, none written twice.
        assert_eq!(s.list_keys("state/").unwrap().len(), 7);
        // A crashed step wrote 300 more; the checkpoint still says 1260.
        let mut crashed = total;
        let extra = (0..300).map(|i| of_deactivation(&person(5000 + i), true));
        append(&mut s, "acme", 9, &mut crashed, extra.collect()).unwrap();
        // The resumed run trims to the checkpoint's count as it loads, then
        // its step appends one.
        trim(&mut s, "acme", 9, total).unwrap();
        append(
            &mut s,
            "acme",
            9,
            &mut total,
            vec![of_deactivation(&person(7), false)],
        )
        .unwrap();
        trim(&mut s, "acme", 9, total).unwrap();
        assert_eq!(count(&mut s, "acme", 9).unwrap(), 1261);
        let p = page(&mut s, "acme", 9, 490, 20).unwrap();
        assert_eq!(p.total, 1261);
        let ids: Vec<_> = p.changes.iter().map(|c| c.okta_id.clone()).collect();
        let want: Vec<_> = (490..510).map(|i| format!("00u{i}")).collect();
        assert_eq!(ids, want);
        let last = page(&mut s, "acme", 9, 1255, 100).unwrap();
        assert_eq!(last.changes.len(), 6);
        assert_eq!(last.changes[5].okta_id, "00u7");
        assert!(!last.changes[5].held);
        assert!(
            page(&mut s, "acme", 9, 5000, 10)
                .unwrap()
                .changes
                .is_empty()
        );
    }

    /// A list stored before pieces were named by place (chunks of exactly
    /// [`CHUNK`], numbered) still reads, and a run that resumes on it goes
    /// on after its last chunk.
    #[test]
    fn a_list_of_numbered_chunks_reads_and_grows() {
        let mut s = Mem::default();
        let deactivation = |i: usize| of_deactivation(&person(i), false);
        let chunk: Vec<_> = (0..500).map(deactivation).collect();
        keys::put_json(&mut s, &format!("{}00000000", prefix("acme", 3)), &chunk).unwrap();
        let tail: Vec<_> = (500..620).map(deactivation).collect();
        keys::put_json(&mut s, &format!("{}00000001", prefix("acme", 3)), &tail).unwrap();
        assert_eq!(count(&mut s, "acme", 3).unwrap(), 620);
        // The checkpoint said 600: the old tail chunk is cut there.
        trim(&mut s, "acme", 3, 600).unwrap();
        let mut total = 600;
        append(
            &mut s,
            "acme",
            3,
            &mut total,
            (600..700).map(deactivation).collect(),
        )
        .unwrap();
        assert_eq!(total, 700);
        let ids =
            |p: ChangePage| -> Vec<String> { p.changes.into_iter().map(|c| c.okta_id).collect() };
        let want =
            |r: std::ops::Range<usize>| -> Vec<String> { r.map(|i| format!("00u{i}")).collect() };
        assert_eq!(
            ids(page(&mut s, "acme", 3, 450, 300).unwrap()),
            want(450..700)
        );
        assert_eq!(
            ids(page(&mut s, "acme", 3, 598, 4).unwrap()),
            want(598..602)
        );
        let mut seen = 0;
        for_each(&mut s, "acme", 3, &mut |c| {
            assert_eq!(c.okta_id, format!("00u{seen}"));
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 700);
    }

    #[test]
    fn an_update_lists_what_differs_old_to_new() {
        let old = person(1);
        let mut new = person(1);
        new.display_name = "Ada B".into();
        new.roles = vec!["Agent".into()];
        new.fields = vec![("department".into(), "IT".into())];
        let c = of_upsert(Some(&old), &new, UpsertOutcome::Updated).unwrap();
        assert_eq!(c.action, ChangeAction::Update);
        assert_eq!(
            c.fields,
            vec![
                FieldChange {
                    field: "display-name".into(),
                    old: "A B".into(),
                    new: "Ada B".into()
                },
                FieldChange {
                    field: "department".into(),
                    old: String::new(),
                    new: "IT".into()
                },
            ]
        );
        assert_eq!(c.roles_added, ["Agent"]);
        assert_eq!(c.roles_removed, ["Technician"]);
        assert!(of_upsert(Some(&old), &old, UpsertOutcome::Unchanged).is_none());
        let mut gone = person(2);
        gone.status = PersonStatus::Deactivated;
        let back = of_upsert(Some(&gone), &person(2), UpsertOutcome::Updated).unwrap();
        assert_eq!(back.action, ChangeAction::Reactivate);
        let created = of_upsert(None, &person(3), UpsertOutcome::Created).unwrap();
        assert_eq!(created.action, ChangeAction::Create);
        assert_eq!(created.roles_added, ["Technician"]);
    }

    #[test]
    fn a_secret_in_a_profile_value_is_redacted() {
        let mut old = person(1);
        old.display_name = "before".into();
        let mut c = of_upsert(Some(&old), &person(1), UpsertOutcome::Updated).unwrap();
        c.display_name = "x 00TOKEN y".into();
        c.fields[0].new = "00TOKEN".into();
        redact(&mut c, "00TOKEN");
        assert_eq!(c.display_name, "x [redacted] y");
        assert_eq!(c.fields[0].new, "[redacted]");
    }
}
