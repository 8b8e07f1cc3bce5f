//! The fake Infraon as the runtime's backend: every trait of
//! [`okta_host_runtime::backend`] over this SQLite store, its errors
//! converted to the traits' ones (busy database → `Unavailable`).

use okta_host_runtime::backend::{
    self as b, BackendError, Directory, Installations, Leases, Log, Schedules, Secrets, Storage,
};
use okta_host_runtime::scheduler::Entry;

use crate::UpsertOutcome;
use crate::types::{DirectoryError, InfraonError, SecretsError, StorageError};
use crate::{FieldSpec, Infraon, Installation, Lease, Person, PersonStatus, Role, SyncTarget};

impl From<StorageError> for b::StorageError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::QuotaExceeded => b::StorageError::QuotaExceeded,
            StorageError::Unavailable(m) => b::StorageError::Unavailable(m),
            StorageError::Other(m) => b::StorageError::Other(m),
        }
    }
}

impl From<SecretsError> for b::SecretsError {
    fn from(e: SecretsError) -> Self {
        match e {
            SecretsError::Unavailable(m) => b::SecretsError::Unavailable(m),
            SecretsError::Other(m) => b::SecretsError::Other(m),
        }
    }
}

impl From<DirectoryError> for b::DirectoryError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Rejected { field, reason } => {
                b::DirectoryError::Rejected { field, reason }
            }
            DirectoryError::Conflict(m) => b::DirectoryError::Conflict(m),
            DirectoryError::NotFound(m) => b::DirectoryError::NotFound(m),
            DirectoryError::Unavailable(m) => b::DirectoryError::Unavailable(m),
            DirectoryError::Other(m) => b::DirectoryError::Other(m),
        }
    }
}

fn host(e: InfraonError) -> BackendError {
    BackendError::new(e)
}

impl Storage for Infraon {
    fn get(&self, owner: &str, key: &str) -> Result<Option<Vec<u8>>, b::StorageError> {
        Ok(self.storage_get(owner, key)?)
    }
    fn set(&self, owner: &str, key: &str, value: &[u8]) -> Result<(), b::StorageError> {
        Ok(self.storage_set(owner, key, value)?)
    }
    fn delete(&self, owner: &str, key: &str) -> Result<(), b::StorageError> {
        Ok(self.storage_delete(owner, key)?)
    }
    fn list_keys(&self, owner: &str, prefix: &str) -> Result<Vec<String>, b::StorageError> {
        Ok(self.storage_list_keys(owner, prefix)?)
    }
    fn is_busy(&self) -> bool {
        Infraon::is_busy(self)
    }
}

impl Secrets for Infraon {
    fn put(&self, owner: &str, name: &str, value: &str) -> Result<(), b::SecretsError> {
        Ok(self.secret_put(owner, name, value)?)
    }
    fn get(&self, owner: &str, name: &str) -> Result<Option<String>, b::SecretsError> {
        Ok(self.secret_get(owner, name)?)
    }
    fn delete(&self, owner: &str, name: &str) -> Result<(), b::SecretsError> {
        Ok(self.secret_delete(owner, name)?)
    }
}

impl Directory for Infraon {
    fn upsert(&self, person: &Person) -> Result<UpsertOutcome, b::DirectoryError> {
        Ok(Infraon::upsert(self, person)?)
    }
    fn upsert_batch(&self, people: &[Person]) -> Vec<Result<UpsertOutcome, b::DirectoryError>> {
        Infraon::upsert_batch(self, people)
            .into_iter()
            .map(|r| r.map_err(Into::into))
            .collect()
    }
    fn set_status(
        &self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), b::DirectoryError> {
        Ok(Infraon::set_status(self, kind, external_id, status)?)
    }
    fn find_by_external_id(
        &self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<Option<Person>, b::DirectoryError> {
        Ok(Infraon::find_by_external_id(self, kind, external_id)?)
    }
    fn find_by_email(
        &self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, b::DirectoryError> {
        Ok(Infraon::find_by_email(self, kind, email)?)
    }
    fn find_by_login(
        &self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, b::DirectoryError> {
        Ok(Infraon::find_by_login(self, kind, login)?)
    }
    fn relink(&self, kind: SyncTarget, from: &str, to: &str) -> Result<(), b::DirectoryError> {
        Ok(Infraon::relink(self, kind, from, to)?)
    }
    fn release_identity(
        &self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<(), b::DirectoryError> {
        Ok(Infraon::release_identity(self, kind, external_id)?)
    }
    fn move_population(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, b::DirectoryError> {
        Ok(Infraon::move_population(self, config, from, to)?)
    }
    fn move_people(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, b::DirectoryError> {
        Ok(Infraon::move_people(self, config, from, to, external_ids)?)
    }
    fn list_linked(
        &self,
        config: &str,
        kind: SyncTarget,
    ) -> Result<Vec<String>, b::DirectoryError> {
        Ok(Infraon::list_linked(self, config, kind)?)
    }
    fn list_linked_page(
        &self,
        config: &str,
        kind: SyncTarget,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, b::DirectoryError> {
        Ok(Infraon::list_linked_page(self, config, kind, after, limit)?)
    }
    fn list_roles(&self) -> Result<Vec<Role>, b::DirectoryError> {
        Ok(Infraon::list_roles(self)?)
    }
    fn list_fields(&self, kind: SyncTarget) -> Result<Vec<FieldSpec>, b::DirectoryError> {
        Ok(Infraon::list_fields(self, kind)?)
    }
    fn is_busy(&self) -> bool {
        Infraon::is_busy(self)
    }
}

impl Schedules for Infraon {
    fn set(&self, plugin: &str, config: &str, entry: &Entry) -> Result<(), BackendError> {
        let json = serde_json::to_string(entry).map_err(BackendError::new)?;
        self.schedule_set(plugin, config, &json).map_err(host)
    }
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Entry>, BackendError> {
        let json = self.schedule_get(plugin, config).map_err(host)?;
        json.map(|j| Entry::from_json(&j).map_err(BackendError))
            .transpose()
    }
    fn clear(&self, plugin: &str, config: &str) -> Result<(), BackendError> {
        self.schedule_clear(plugin, config).map_err(host)
    }
}

impl Log for Infraon {
    fn append(
        &self,
        plugin: &str,
        config: Option<&str>,
        level: &str,
        message: &str,
        fields_json: &str,
    ) -> Result<(), BackendError> {
        self.log_append(plugin, config, level, message, fields_json)
            .map_err(host)
    }
}

impl Installations for Infraon {
    fn put(&self, installation: &Installation) -> Result<(), BackendError> {
        self.installation_put(installation).map_err(host)
    }
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Installation>, BackendError> {
        self.installation_get(plugin, config).map_err(host)
    }
    fn delete(&self, plugin: &str, config: &str) -> Result<(), BackendError> {
        self.installation_delete(plugin, config).map_err(host)
    }
}

impl Leases for Infraon {
    fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Lease, BackendError> {
        self.lease_acquire(name, holder, now_ms, until_ms)
            .map_err(host)
    }
    fn release(&self, name: &str, holder: &str) -> Result<(), BackendError> {
        self.lease_release(name, holder).map_err(host)
    }
}
