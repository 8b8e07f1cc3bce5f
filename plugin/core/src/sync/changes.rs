//! Who a run changes, person by person (WIT `person-change`): what a dry
//! run would do, what a run did, and the deactivations a held run waits on,
//! read back in pages before an admin approves or rejects.
//!
//! Kept under `state/<config>/changes/<run id>/<chunk>`, [`CHUNK`] people
//! per key, appended as the run goes: a step rewrites at most its own tail
//! chunk, and a reader loads one or two chunks per page, so neither the
//! run nor the reader holds more than a page however many people change (a
//! held run of 100,000 deactivations is 200 keys). A step that crashed may
//! have written past its checkpoint: the next append truncates to the
//! checkpoint's count, and the end of the run trims what is left beyond it.
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

fn chunk_key(config: &str, run: u64, chunk: u64) -> String {
    format!("{}{chunk:08}", prefix(config, run))
}

/// Prefix of every run's changes (to prune one run: [`delete`]).
pub fn delete(storage: &mut dyn Storage, config: &str, run: u64) -> Result<(), SyncError> {
    keys::delete_prefix(storage, &prefix(config, run))
}

/// Append `new` to run `run`'s list, which holds `*total` people (the
/// checkpoint's count); `*total` grows by what was appended.
pub fn append(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    total: &mut u64,
    new: Vec<PersonChange>,
) -> Result<(), SyncError> {
    if new.is_empty() {
        return Ok(());
    }
    let mut chunk = *total / CHUNK;
    let mut tail: Vec<PersonChange> =
        keys::get_json(storage, &chunk_key(config, run, chunk))?.unwrap_or_default();
    tail.truncate((*total % CHUNK) as usize);
    *total += new.len() as u64;
    for change in new {
        tail.push(change);
        if tail.len() as u64 == CHUNK {
            keys::put_json(storage, &chunk_key(config, run, chunk), &tail)?;
            tail.clear();
            chunk += 1;
        }
    }
    if !tail.is_empty() {
        keys::put_json(storage, &chunk_key(config, run, chunk), &tail)?;
    }
    Ok(())
}

/// At the end of a run: drop what a crashed step wrote beyond `total`.
pub fn trim(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    total: u64,
) -> Result<(), SyncError> {
    let chunks = total.div_ceil(CHUNK);
    for key in storage
        .list_keys(&prefix(config, run))
        .map_err(SyncError::host)?
    {
        if keys::trailing_number(&key).is_some_and(|n| n >= chunks) {
            storage.delete(&key).map_err(SyncError::host)?;
        }
    }
    if !total.is_multiple_of(CHUNK) {
        let key = chunk_key(config, run, chunks - 1);
        if let Some(mut last) = keys::get_json::<Vec<PersonChange>>(storage, &key)?
            && last.len() as u64 > total % CHUNK
        {
            last.truncate((total % CHUNK) as usize);
            keys::put_json(storage, &key, &last)?;
        }
    }
    Ok(())
}

/// How many people run `run` lists, from its chunks.
pub fn count(storage: &mut dyn Storage, config: &str, run: u64) -> Result<u64, SyncError> {
    let keys_ = storage
        .list_keys(&prefix(config, run))
        .map_err(SyncError::host)?;
    let Some(last) = keys_.last() else {
        return Ok(0);
    };
    let n = keys::trailing_number(last).unwrap_or(0);
    let len = keys::get_json::<Vec<PersonChange>>(storage, last)?.map_or(0, |v| v.len());
    Ok(n * CHUNK + len as u64)
}

/// People `offset..offset + limit` of run `run`'s list (at most [`MAX_PAGE`]).
pub fn page(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    offset: u64,
    limit: u32,
) -> Result<ChangePage, SyncError> {
    let total = count(storage, config, run)?;
    let end = offset
        .saturating_add(u64::from(limit.min(MAX_PAGE)))
        .min(total);
    let mut changes = Vec::new();
    let mut at = offset;
    while at < end {
        let chunk = at / CHUNK;
        let stored: Vec<PersonChange> =
            keys::get_json(storage, &chunk_key(config, run, chunk))?.unwrap_or_default();
        let from = (at % CHUNK) as usize;
        let to = ((end - chunk * CHUNK).min(CHUNK) as usize).min(stored.len());
        if from >= to {
            break;
        }
        changes.extend(stored[from..to].iter().cloned());
        at = chunk * CHUNK + to as u64;
    }
    Ok(ChangePage { total, changes })
}

/// Visit every person of run `run`'s list, chunk by chunk.
pub fn for_each(
    storage: &mut dyn Storage,
    config: &str,
    run: u64,
    f: &mut dyn FnMut(&PersonChange) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    for key in storage
        .list_keys(&prefix(config, run))
        .map_err(SyncError::host)?
    {
        let chunk: Vec<PersonChange> = keys::get_json(storage, &key)?.unwrap_or_default();
        for c in &chunk {
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
        assert_eq!(s.list_keys("state/").unwrap().len(), 3);
        // A crashed step wrote 300 more; the checkpoint still says 1260.
        let mut crashed = total;
        let extra = (0..300).map(|i| of_deactivation(&person(5000 + i), true));
        append(&mut s, "acme", 9, &mut crashed, extra.collect()).unwrap();
        // The resumed step appends one from the checkpoint's count.
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
