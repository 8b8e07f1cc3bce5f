//! `infraon:okta/directory`: Infraon's Users and Requesters in the fake
//! Infraon. Conversions between the WIT records and the store's types.

use fake_infraon as fi;

use crate::bindings::infraon::okta::directory::{
    DirectoryError, FieldSpec, Host, Person, PersonStatus, Role, UpsertOutcome,
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

impl Host for PluginState {
    fn upsert(&mut self, person: Person) -> Result<UpsertOutcome, DirectoryError> {
        Ok(self.infraon.upsert(&person.into())?.into())
    }

    fn upsert_batch(&mut self, people: Vec<Person>) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        let people: Vec<fi::Person> = people.into_iter().map(Into::into).collect();
        self.infraon
            .upsert_batch(&people)
            .into_iter()
            .map(|r| r.map(Into::into).map_err(Into::into))
            .collect()
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

    fn list_linked(
        &mut self,
        config: String,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self.infraon.list_linked(&config, kind.into())?)
    }

    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
        let roles = self.infraon.list_roles()?;
        Ok(roles
            .into_iter()
            .map(|r| Role {
                name: r.name,
                kind: r.kind.into(),
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
