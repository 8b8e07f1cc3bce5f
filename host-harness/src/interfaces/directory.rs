//! `infraon:okta/directory`: Infraon's Users and Requesters in the fake
//! Infraon. Conversions between the WIT records and the store's types.

use std::thread::JoinHandle;

use fake_infraon as fi;
use wasmtime::component::Resource;

use crate::bindings::infraon::okta::directory::{
    self as wit, DirectoryError, FieldSpec, Host, HostPendingUpserts, Person, PersonStatus, Role,
    UpsertOutcome,
};
use crate::bindings::infraon::okta::types::SyncTarget;
use crate::state::PluginState;

impl From<SyncTarget> for fi::SyncTarget {
    fn from(k: SyncTarget) -> Self {
        match k {
            SyncTarget::Users => fi::SyncTarget::Users,
            SyncTarget::Requesters => fi::SyncTarget::Requesters,
        }
    }
}

impl From<fi::SyncTarget> for SyncTarget {
    fn from(k: fi::SyncTarget) -> Self {
        match k {
            fi::SyncTarget::Users => SyncTarget::Users,
            fi::SyncTarget::Requesters => SyncTarget::Requesters,
        }
    }
}

impl From<PersonStatus> for fi::PersonStatus {
    fn from(s: PersonStatus) -> Self {
        match s {
            PersonStatus::Active => fi::PersonStatus::Active,
            PersonStatus::Pending => fi::PersonStatus::Pending,
            PersonStatus::Suspended => fi::PersonStatus::Suspended,
            PersonStatus::Deactivated => fi::PersonStatus::Deactivated,
        }
    }
}

impl From<fi::PersonStatus> for PersonStatus {
    fn from(s: fi::PersonStatus) -> Self {
        match s {
            fi::PersonStatus::Active => PersonStatus::Active,
            fi::PersonStatus::Pending => PersonStatus::Pending,
            fi::PersonStatus::Suspended => PersonStatus::Suspended,
            fi::PersonStatus::Deactivated => PersonStatus::Deactivated,
        }
    }
}

impl From<Person> for fi::Person {
    fn from(p: Person) -> Self {
        fi::Person {
            external_id: p.external_id,
            config: p.config,
            kind: p.kind.into(),
            login: p.login,
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            display_name: p.display_name,
            fields: p.fields,
            roles: p.roles,
            status: p.status.into(),
        }
    }
}

impl From<fi::Person> for Person {
    fn from(p: fi::Person) -> Self {
        Person {
            external_id: p.external_id,
            config: p.config,
            kind: p.kind.into(),
            login: p.login,
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            display_name: p.display_name,
            fields: p.fields,
            roles: p.roles,
            status: p.status.into(),
        }
    }
}

impl From<fi::UpsertOutcome> for UpsertOutcome {
    fn from(o: fi::UpsertOutcome) -> Self {
        match o {
            fi::UpsertOutcome::Created => UpsertOutcome::Created,
            fi::UpsertOutcome::Updated => UpsertOutcome::Updated,
            fi::UpsertOutcome::Unchanged => UpsertOutcome::Unchanged,
        }
    }
}

impl From<fi::DirectoryError> for DirectoryError {
    fn from(e: fi::DirectoryError) -> Self {
        match e {
            fi::DirectoryError::Rejected { field, reason } => {
                DirectoryError::Rejected((field, reason))
            }
            fi::DirectoryError::Conflict(m) => DirectoryError::Conflict(m),
            fi::DirectoryError::NotFound(m) => DirectoryError::NotFound(m),
            fi::DirectoryError::Unavailable(m) => DirectoryError::Unavailable(m),
            fi::DirectoryError::Other(m) => DirectoryError::Other(m),
        }
    }
}

/// Unfinished batches one plugin instance may hold (WIT `start-upsert-batch`).
pub const MAX_PENDING_BATCHES: usize = 8;

type BatchResults = Vec<Result<fi::UpsertOutcome, fi::DirectoryError>>;

/// A batch applied on its own thread (WIT `pending-upserts`, whose table
/// entries these are), so that the plugin parses its next page while SQLite
/// writes this one.
pub enum PendingUpserts {
    /// The writer thread is still at it.
    Writing {
        /// The thread applying the batch.
        writer: JoinHandle<BatchResults>,
        /// People in the batch, for the answer if the writer failed.
        size: usize,
    },
    /// Applied: the results, waiting for `finish`.
    Done(BatchResults),
}

impl PendingUpserts {
    /// Wait for the writer, if still writing, and take the results.
    fn wait(self) -> BatchResults {
        match self {
            PendingUpserts::Done(results) => results,
            PendingUpserts::Writing { writer, size } => writer.join().unwrap_or_else(|_| {
                let failed = fi::DirectoryError::Unavailable(
                    "the directory failed while applying the batch; none of it is known to have landed"
                        .into(),
                );
                vec![Err(failed); size]
            }),
        }
    }

    /// [`PendingUpserts::wait`] in place, keeping the results for `finish`.
    fn settle(&mut self) {
        if matches!(self, PendingUpserts::Writing { .. }) {
            let writing = std::mem::replace(self, PendingUpserts::Done(Vec::new()));
            *self = PendingUpserts::Done(writing.wait());
        }
    }
}

/// The table entry behind a WIT handle's `rep`.
fn entry(rep: u32) -> Resource<PendingUpserts> {
    Resource::new_own(rep)
}

fn batch_results(results: BatchResults) -> Vec<Result<UpsertOutcome, DirectoryError>> {
    results
        .into_iter()
        .map(|r| r.map(Into::into).map_err(Into::into))
        .collect()
}

impl HostPendingUpserts for PluginState {
    fn finish(
        &mut self,
        batch: Resource<wit::PendingUpserts>,
    ) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        self.pending_batches.retain(|rep| *rep != batch.rep());
        match self.table.delete(entry(batch.rep())) {
            Ok(pending) => batch_results(pending.wait()),
            // wasmtime checks the handle before this runs.
            Err(_) => Vec::new(),
        }
    }

    fn drop(&mut self, batch: Resource<wit::PendingUpserts>) -> wasmtime::Result<()> {
        // Unfinished: the batch still lands, before anything started later.
        self.pending_batches.retain(|rep| *rep != batch.rep());
        self.table.delete(entry(batch.rep()))?.wait();
        Ok(())
    }
}

impl Host for PluginState {
    fn start_upsert_batch(
        &mut self,
        people: Vec<Person>,
    ) -> Result<Resource<wit::PendingUpserts>, DirectoryError> {
        if self.pending_batches.len() >= MAX_PENDING_BATCHES {
            return Err(DirectoryError::Unavailable(format!(
                "{MAX_PENDING_BATCHES} batches are unfinished: finish one first"
            )));
        }
        // One writer at a time: batches land in the order they were started.
        for rep in &self.pending_batches {
            if let Ok(earlier) = self.table.get_mut(&entry(*rep)) {
                earlier.settle();
            }
        }
        let people: Vec<fi::Person> = people.into_iter().map(Into::into).collect();
        let size = people.len();
        let infraon = self.infraon.clone();
        let writer = std::thread::Builder::new()
            .name("directory-writer".into())
            .spawn(move || infraon.upsert_batch(&people))
            .map_err(|e| DirectoryError::Unavailable(format!("cannot start the writer: {e}")))?;
        let batch = self
            .table
            .push(PendingUpserts::Writing { writer, size })
            .map_err(|e| DirectoryError::Unavailable(format!("cannot hold the batch: {e}")))?;
        self.pending_batches.push(batch.rep());
        Ok(Resource::new_own(batch.rep()))
    }

    fn upsert(&mut self, person: Person) -> Result<UpsertOutcome, DirectoryError> {
        Ok(self.infraon.upsert(&person.into())?.into())
    }

    fn upsert_batch(&mut self, people: Vec<Person>) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        let people: Vec<fi::Person> = people.into_iter().map(Into::into).collect();
        batch_results(self.infraon.upsert_batch(&people))
    }

    fn set_status(
        &mut self,
        kind: SyncTarget,
        external_id: String,
        status: PersonStatus,
    ) -> Result<(), DirectoryError> {
        Ok(self
            .infraon
            .set_status(kind.into(), &external_id, status.into())?)
    }

    fn find_by_external_id(
        &mut self,
        kind: SyncTarget,
        external_id: String,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .infraon
            .find_by_external_id(kind.into(), &external_id)?
            .map(Into::into))
    }

    fn find_by_email(
        &mut self,
        kind: SyncTarget,
        email: String,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .infraon
            .find_by_email(kind.into(), &email)?
            .map(Into::into))
    }

    fn find_by_login(
        &mut self,
        kind: SyncTarget,
        login: String,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .infraon
            .find_by_login(kind.into(), &login)?
            .map(Into::into))
    }

    fn relink(&mut self, kind: SyncTarget, from: String, to: String) -> Result<(), DirectoryError> {
        Ok(self.infraon.relink(kind.into(), &from, &to)?)
    }

    fn release_identity(
        &mut self,
        kind: SyncTarget,
        external_id: String,
    ) -> Result<(), DirectoryError> {
        Ok(self.infraon.release_identity(kind.into(), &external_id)?)
    }

    fn move_population(
        &mut self,
        config: String,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        Ok(self
            .infraon
            .move_population(&config, from.into(), to.into())?)
    }

    fn move_people(
        &mut self,
        config: String,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: Vec<String>,
    ) -> Result<u32, DirectoryError> {
        Ok(self
            .infraon
            .move_people(&config, from.into(), to.into(), &external_ids)?)
    }

    fn list_linked(
        &mut self,
        config: String,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self.infraon.list_linked(&config, kind.into())?)
    }

    fn list_linked_page(
        &mut self,
        config: String,
        kind: SyncTarget,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self
            .infraon
            .list_linked_page(&config, kind.into(), after.as_deref(), limit)?)
    }

    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
        let roles = self.infraon.list_roles()?;
        Ok(roles
            .into_iter()
            .map(|r| Role {
                name: r.name,
                kind: r.kind.into(),
                privileged: r.privileged,
            })
            .collect())
    }

    fn list_fields(&mut self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        let fields = self.infraon.list_fields(kind.into())?;
        Ok(fields
            .into_iter()
            .map(|f| FieldSpec {
                name: f.name,
                required: f.required,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::state::Scope;

    fn state(dir: &std::path::Path) -> PluginState {
        let infraon = Arc::new(fi::Infraon::open(dir).unwrap());
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
        let dir = tempfile::tempdir().unwrap();
        let mut s = state(dir.path());
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
        assert!(s.pending_batches.is_empty());
    }

    #[test]
    fn unfinished_batches_are_capped_and_a_dropped_one_still_lands() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = state(dir.path());
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
        assert!(s.pending_batches.is_empty());
    }
}
