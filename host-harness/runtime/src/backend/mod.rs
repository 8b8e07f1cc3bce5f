//! What a platform implements to host the plugin: one trait per
//! capability, in the way Spin's factors separate a capability (what the
//! guest may do) from its runtime configuration (where the data lives).
//!
//! | Trait | Serves | Keyed by |
//! |---|---|---|
//! | [`Storage`] | the `storage` import; the host's event-hook delivery log | owner, key |
//! | [`Secrets`] | the `secrets` import; service-app keys and hook secrets | owner, name |
//! | [`Directory`] | the `directory` import: Infraon's Users and Requesters | kind, external id |
//! | [`Schedules`] | the `scheduler` import; the platform's timer reads it | plugin, config |
//! | [`Log`] | the `log` import and the egress guard's refusals | plugin, config |
//! | [`Installations`] | the egress grant of each installed config | plugin, config |
//! | [`Leases`] | one host process per config's sync run | lease name |
//!
//! The `owner` of storage and secrets is the plugin id ([`crate::PLUGIN_ID`])
//! for everything the guest reads and writes; the host keeps its own data
//! under other owners ([`crate::keys`], [`crate::hooks`]), which the guest's
//! imports cannot name. A backend must keep owners apart.
//!
//! Every method is synchronous and may block briefly (a database call): the
//! runtime calls them from host imports, and runs the directory's batch
//! writes on a thread of their own. Implementations are shared between
//! tenants and threads, hence `Send + Sync`.
//!
//! [`Backends`] holds one implementation of each; [`Backends::all`] builds
//! it from one type that implements them all (the fake Infraon's SQLite
//! store, or [`crate::memory::MemoryBackend`]).

use std::sync::Arc;

pub mod types;

pub use types::{
    BackendError, DirectoryError, FieldSpec, Installation, Lease, Person, PersonStatus, Role,
    SecretsError, StorageError, SyncTarget, UpsertOutcome,
};

use crate::scheduler::Entry;

/// Per-owner key-value storage (WIT `storage`).
pub trait Storage: Send + Sync {
    /// The value under `key`, if any.
    fn get(&self, owner: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// Keep `value` under `key`, replacing any; refuse beyond a quota.
    fn set(&self, owner: &str, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// Forget `key` (no error when absent).
    fn delete(&self, owner: &str, key: &str) -> Result<(), StorageError>;
    /// The keys starting with `prefix`, sorted.
    fn list_keys(&self, owner: &str, prefix: &str) -> Result<Vec<String>, StorageError>;
    /// Whether a call made now would wait for another caller (a lock
    /// someone holds). The runtime then hands its executor thread's other
    /// work to another thread for the call's duration; otherwise the call
    /// runs in place, since handing the work over costs more than a short
    /// call. `true` unless the backend can tell.
    fn is_busy(&self) -> bool {
        true
    }
}

/// Per-owner secrets, encrypted at rest by the platform (WIT `secrets`).
/// Values never appear in a log line or an error.
pub trait Secrets: Send + Sync {
    /// Keep a secret, replacing any.
    fn put(&self, owner: &str, name: &str, value: &str) -> Result<(), SecretsError>;
    /// A secret's value, if any.
    fn get(&self, owner: &str, name: &str) -> Result<Option<String>, SecretsError>;
    /// Forget a secret (no error when absent).
    fn delete(&self, owner: &str, name: &str) -> Result<(), SecretsError>;
}

/// Infraon's directory of Users and Requesters (WIT `directory`). The
/// rules a directory enforces (no silent takeover of an email or login,
/// validation naming the field, `Unchanged` when nothing differs) are the
/// WIT documentation's; the fake Infraon's crate docs list them in full.
pub trait Directory: Send + Sync {
    /// Create or update a person, keyed by (kind, external id).
    fn upsert(&self, person: &Person) -> Result<UpsertOutcome, DirectoryError>;
    /// [`Directory::upsert`] for each person, in order; one failing does not
    /// stop the others.
    fn upsert_batch(&self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>>;
    /// Change a linked person's status.
    fn set_status(
        &self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), DirectoryError>;
    /// The person linked to `external_id`.
    fn find_by_external_id(
        &self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<Option<Person>, DirectoryError>;
    /// The person with this email (ignoring case), linked or not.
    fn find_by_email(
        &self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError>;
    /// The person with this login (ignoring case), linked or not.
    fn find_by_login(
        &self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, DirectoryError>;
    /// Move a link from one external id to another (Okta user recreated).
    fn relink(&self, kind: SyncTarget, from: &str, to: &str) -> Result<(), DirectoryError>;
    /// Unlink a person, keeping the Infraon account.
    fn release_identity(&self, kind: SyncTarget, external_id: &str) -> Result<(), DirectoryError>;
    /// Move a config's linked people to the other population; how many moved.
    fn move_population(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError>;
    /// Move the people `config` manages in `from` with these external ids
    /// to `to`, all or none, as [`Directory::move_population`] moves
    /// everyone (a person whose population rule changed); how many moved.
    fn move_people(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, DirectoryError>;
    /// External ids linked to `config` in a population.
    fn list_linked(&self, config: &str, kind: SyncTarget) -> Result<Vec<String>, DirectoryError>;
    /// At most `limit` of [`Directory::list_linked`]'s ids, sorted, of those
    /// after `after` (from the first when `None`): the WIT
    /// `list-linked-page`, so a sync of a million people reads them in pages
    /// (issue 19). By default a page of the whole list, for backends
    /// without paging.
    fn list_linked_page(
        &self,
        config: &str,
        kind: SyncTarget,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        let mut ids = self.list_linked(config, kind)?;
        ids.sort_unstable();
        let from = after.map_or(0, |a| ids.partition_point(|id| id.as_str() <= a));
        Ok(ids.into_iter().skip(from).take(limit as usize).collect())
    }
    /// The roles a person can be given.
    fn list_roles(&self) -> Result<Vec<Role>, DirectoryError>;
    /// The fields a population keeps.
    fn list_fields(&self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError>;
    /// Whether an upsert made now would wait for another caller, as
    /// [`Storage::is_busy`].
    fn is_busy(&self) -> bool {
        true
    }
}

/// When each config syncs on its own (WIT `scheduler`), kept as the host's
/// [`Entry`] whoever sets it: the plugin, a CLI or a console.
pub trait Schedules: Send + Sync {
    /// Keep a config's entry, replacing any.
    fn set(&self, plugin: &str, config: &str, entry: &Entry) -> Result<(), BackendError>;
    /// A config's entry, if any.
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Entry>, BackendError>;
    /// Forget a config's entry (no error when absent).
    fn clear(&self, plugin: &str, config: &str) -> Result<(), BackendError>;
}

/// Plugin log lines, tagged by the host (WIT `log`).
pub trait Log: Send + Sync {
    /// Keep one line; `fields_json` is a JSON object of strings.
    fn append(
        &self,
        plugin: &str,
        config: Option<&str>,
        level: &str,
        message: &str,
        fields_json: &str,
    ) -> Result<(), BackendError>;
}

/// The host's record of installed configs: the egress each was granted.
/// Config names compare ignoring case (as the plugin compares them).
pub trait Installations: Send + Sync {
    /// Record or replace an installation.
    fn put(&self, installation: &Installation) -> Result<(), BackendError>;
    /// The installation of `config`, matched ignoring case and surrounding
    /// blanks; its `config` is the name as installed.
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Installation>, BackendError>;
    /// Forget an installation (no error when absent).
    fn delete(&self, plugin: &str, config: &str) -> Result<(), BackendError>;
}

/// Run leases: which host process drives a config's sync run. Shared by
/// every host process of a platform, so two never run one config at once.
pub trait Leases: Send + Sync {
    /// Take or renew `name` for `holder` until `until_ms` (Unix ms) — in one
    /// compare-and-swap — when it is free, expired at `now_ms`, or already
    /// `holder`'s. Returns the lease as it stands (`holder`'s when taken).
    fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Lease, BackendError>;
    /// Give a lease back if `holder` still holds it.
    fn release(&self, name: &str, holder: &str) -> Result<(), BackendError>;
}

/// One implementation of every capability: the runtime's configuration.
#[derive(Clone)]
pub struct Backends {
    /// Key-value storage.
    pub storage: Arc<dyn Storage>,
    /// Secrets.
    pub secrets: Arc<dyn Secrets>,
    /// The directory.
    pub directory: Arc<dyn Directory>,
    /// Schedules.
    pub schedules: Arc<dyn Schedules>,
    /// Log lines.
    pub log: Arc<dyn Log>,
    /// Installed configs.
    pub installations: Arc<dyn Installations>,
    /// Run leases.
    pub leases: Arc<dyn Leases>,
}

impl Backends {
    /// Every capability served by one backend (swap any field afterwards
    /// to serve that capability elsewhere).
    pub fn all<B>(backend: Arc<B>) -> Backends
    where
        B: Storage + Secrets + Directory + Schedules + Log + Installations + Leases + 'static,
    {
        Backends {
            storage: backend.clone(),
            secrets: backend.clone(),
            directory: backend.clone(),
            schedules: backend.clone(),
            log: backend.clone(),
            installations: backend.clone(),
            leases: backend,
        }
    }

    /// The installed name of `config` (matched ignoring case), or `config`
    /// trimmed when none is installed.
    pub fn installed_name(&self, plugin: &str, config: &str) -> Result<String, BackendError> {
        Ok(self
            .installations
            .get(plugin, config.trim())?
            .map_or_else(|| config.trim().to_string(), |i| i.config))
    }
}

impl std::fmt::Debug for Backends {
    // Backends hold secrets: never print what is inside.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backends").finish_non_exhaustive()
    }
}

/// The host's own records beside the plugin's (service-app keys, event-hook
/// secrets and deliveries): storage, secrets and installations under one
/// handle, with names that do not clash. Implemented for every type that
/// implements the three, and for [`Backends`].
pub trait HostRecords {
    /// [`Storage::get`].
    fn get_value(&self, owner: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError>;
    /// [`Storage::set`].
    fn set_value(&self, owner: &str, key: &str, value: &[u8]) -> Result<(), StorageError>;
    /// [`Storage::delete`].
    fn delete_value(&self, owner: &str, key: &str) -> Result<(), StorageError>;
    /// [`Secrets::get`].
    fn get_secret(&self, owner: &str, name: &str) -> Result<Option<String>, SecretsError>;
    /// [`Secrets::put`].
    fn put_secret(&self, owner: &str, name: &str, value: &str) -> Result<(), SecretsError>;
    /// [`Secrets::delete`].
    fn delete_secret(&self, owner: &str, name: &str) -> Result<(), SecretsError>;
    /// [`Installations::get`].
    fn get_installation(
        &self,
        plugin: &str,
        config: &str,
    ) -> Result<Option<Installation>, BackendError>;
}

macro_rules! host_records_via {
    ($self:ident => $storage:expr, $secrets:expr, $installations:expr) => {
        fn get_value(&$self, owner: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
            Storage::get($storage, owner, key)
        }
        fn set_value(&$self, owner: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
            Storage::set($storage, owner, key, value)
        }
        fn delete_value(&$self, owner: &str, key: &str) -> Result<(), StorageError> {
            Storage::delete($storage, owner, key)
        }
        fn get_secret(&$self, owner: &str, name: &str) -> Result<Option<String>, SecretsError> {
            Secrets::get($secrets, owner, name)
        }
        fn put_secret(&$self, owner: &str, name: &str, value: &str) -> Result<(), SecretsError> {
            Secrets::put($secrets, owner, name, value)
        }
        fn delete_secret(&$self, owner: &str, name: &str) -> Result<(), SecretsError> {
            Secrets::delete($secrets, owner, name)
        }
        fn get_installation(
            &$self,
            plugin: &str,
            config: &str,
        ) -> Result<Option<Installation>, BackendError> {
            Installations::get($installations, plugin, config)
        }
    };
}

impl<T: Storage + Secrets + Installations + ?Sized> HostRecords for T {
    host_records_via!(self => self, self, self);
}

impl HostRecords for Backends {
    host_records_via!(self => &*self.storage, &*self.secrets, &*self.installations);
}

impl<T: Storage + ?Sized> Storage for Arc<T> {
    fn get(&self, owner: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        (**self).get(owner, key)
    }
    fn set(&self, owner: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        (**self).set(owner, key, value)
    }
    fn delete(&self, owner: &str, key: &str) -> Result<(), StorageError> {
        (**self).delete(owner, key)
    }
    fn list_keys(&self, owner: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        (**self).list_keys(owner, prefix)
    }
    fn is_busy(&self) -> bool {
        (**self).is_busy()
    }
}

impl<T: Secrets + ?Sized> Secrets for Arc<T> {
    fn put(&self, owner: &str, name: &str, value: &str) -> Result<(), SecretsError> {
        (**self).put(owner, name, value)
    }
    fn get(&self, owner: &str, name: &str) -> Result<Option<String>, SecretsError> {
        (**self).get(owner, name)
    }
    fn delete(&self, owner: &str, name: &str) -> Result<(), SecretsError> {
        (**self).delete(owner, name)
    }
}

impl<T: Installations + ?Sized> Installations for Arc<T> {
    fn put(&self, installation: &Installation) -> Result<(), BackendError> {
        (**self).put(installation)
    }
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Installation>, BackendError> {
        (**self).get(plugin, config)
    }
    fn delete(&self, plugin: &str, config: &str) -> Result<(), BackendError> {
        (**self).delete(plugin, config)
    }
}
