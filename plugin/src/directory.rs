//! `plugin_core::directory::Directory` over the host's `directory` import.

use plugin_core::SyncTarget;
use plugin_core::directory::{
    DirectoryError, FieldSpec, PendingUpserts, Person, PersonStatus, Role, UpsertOutcome,
};

use crate::convert::{sync_target, wit_sync_target};
use crate::infraon::okta::directory as wit;

/// Infraon's people, through the host.
pub struct HostDirectory;

fn status(s: wit::PersonStatus) -> PersonStatus {
    match s {
        wit::PersonStatus::Active => PersonStatus::Active,
        wit::PersonStatus::Pending => PersonStatus::Pending,
        wit::PersonStatus::Suspended => PersonStatus::Suspended,
        wit::PersonStatus::Deactivated => PersonStatus::Deactivated,
    }
}

/// A core status as the WIT one.
pub fn wit_status(s: PersonStatus) -> wit::PersonStatus {
    match s {
        PersonStatus::Active => wit::PersonStatus::Active,
        PersonStatus::Pending => wit::PersonStatus::Pending,
        PersonStatus::Suspended => wit::PersonStatus::Suspended,
        PersonStatus::Deactivated => wit::PersonStatus::Deactivated,
    }
}

/// A core person as the WIT record.
pub fn wit_person(p: &Person) -> wit::Person {
    into_wit_person(p.clone())
}

/// [`wit_person`], taking the person: a batch's people are moved, not cloned.
fn into_wit_person(p: Person) -> wit::Person {
    wit::Person {
        external_id: p.external_id,
        config: p.config,
        kind: wit_sync_target(p.kind),
        login: p.login,
        email: p.email,
        first_name: p.first_name,
        last_name: p.last_name,
        display_name: p.display_name,
        fields: p.fields,
        roles: p.roles,
        status: wit_status(p.status),
    }
}

fn person(p: wit::Person) -> Person {
    Person {
        external_id: p.external_id,
        config: p.config,
        kind: sync_target(p.kind),
        login: p.login,
        email: p.email,
        first_name: p.first_name,
        last_name: p.last_name,
        display_name: p.display_name,
        fields: p.fields,
        roles: p.roles,
        status: status(p.status),
    }
}

fn outcome(o: wit::UpsertOutcome) -> UpsertOutcome {
    match o {
        wit::UpsertOutcome::Created => UpsertOutcome::Created,
        wit::UpsertOutcome::Updated => UpsertOutcome::Updated,
        wit::UpsertOutcome::Unchanged => UpsertOutcome::Unchanged,
    }
}

fn error(e: wit::DirectoryError) -> DirectoryError {
    match e {
        wit::DirectoryError::Rejected((field, why)) => DirectoryError::Rejected(field, why),
        wit::DirectoryError::Conflict(m) => DirectoryError::Conflict(m),
        wit::DirectoryError::NotFound(m) => DirectoryError::NotFound(m),
        wit::DirectoryError::Unavailable(m) => DirectoryError::Unavailable(m),
        wit::DirectoryError::Other(m) => DirectoryError::Other(m),
    }
}

impl plugin_core::directory::Directory for HostDirectory {
    fn upsert(&mut self, p: &Person) -> Result<UpsertOutcome, DirectoryError> {
        wit::upsert(&wit_person(p)).map(outcome).map_err(error)
    }

    fn upsert_batch(&mut self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        let batch: Vec<wit::Person> = people.iter().map(wit_person).collect();
        wit::upsert_batch(&batch)
            .into_iter()
            .map(|r| r.map(outcome).map_err(error))
            .collect()
    }

    fn start_upsert_batch(
        &mut self,
        people: Vec<Person>,
    ) -> Result<PendingUpserts, DirectoryError> {
        // Moved, not cloned, both ways: a page is 200 people of some 30
        // strings each, and the host copies what it reads.
        let batch: Vec<wit::Person> = people.into_iter().map(into_wit_person).collect();
        let pending = wit::start_upsert_batch(&batch).map_err(error)?;
        let people = batch.into_iter().map(person).collect();
        Ok(PendingUpserts::waiting(
            move || {
                wit::PendingUpserts::finish(pending)
                    .into_iter()
                    .map(|r| r.map(outcome).map_err(error))
                    .collect()
            },
            people,
        ))
    }

    fn set_status(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
        s: PersonStatus,
    ) -> Result<(), DirectoryError> {
        wit::set_status(wit_sync_target(kind), external_id, wit_status(s)).map_err(error)
    }

    fn find_by_external_id(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        wit::find_by_external_id(wit_sync_target(kind), external_id)
            .map(|p| p.map(person))
            .map_err(error)
    }

    fn find_by_email(
        &mut self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        wit::find_by_email(wit_sync_target(kind), email)
            .map(|p| p.map(person))
            .map_err(error)
    }

    fn find_by_login(
        &mut self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        wit::find_by_login(wit_sync_target(kind), login)
            .map(|p| p.map(person))
            .map_err(error)
    }

    fn relink(&mut self, kind: SyncTarget, from: &str, to: &str) -> Result<(), DirectoryError> {
        wit::relink(wit_sync_target(kind), from, to).map_err(error)
    }

    fn release_identity(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<(), DirectoryError> {
        wit::release_identity(wit_sync_target(kind), external_id).map_err(error)
    }

    fn move_population(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        wit::move_population(config, wit_sync_target(from), wit_sync_target(to)).map_err(error)
    }

    fn move_people(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, DirectoryError> {
        wit::move_people(
            config,
            wit_sync_target(from),
            wit_sync_target(to),
            external_ids,
        )
        .map_err(error)
    }

    fn list_linked(
        &mut self,
        config: &str,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        wit::list_linked(config, wit_sync_target(kind)).map_err(error)
    }

    fn list_linked_page(
        &mut self,
        config: &str,
        kind: SyncTarget,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        wit::list_linked_page(config, wit_sync_target(kind), after, limit).map_err(error)
    }

    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
        let roles = wit::list_roles().map_err(error)?;
        Ok(roles
            .into_iter()
            .map(|r| Role {
                name: r.name,
                kind: sync_target(r.kind),
                privileged: r.privileged,
            })
            .collect())
    }

    fn list_fields(&mut self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        let fields = wit::list_fields(wit_sync_target(kind)).map_err(error)?;
        Ok(fields
            .into_iter()
            .map(|f| FieldSpec {
                name: f.name,
                required: f.required,
            })
            .collect())
    }
}
