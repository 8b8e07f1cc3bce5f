//! Plain Rust mirrors of the WIT records and errors, plus the crate's own
//! records (installations, log lines) and the error of host-only calls.
//!
//! These types carry no wasmtime dependency on purpose: the harness converts
//! between them and the bindgen types, so this crate can be tested and used
//! by the CLI without a component runtime.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Which Infraon population a person belongs to (WIT `types.sync-target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncTarget {
    /// Infraon Users: technicians and administrators who work tickets.
    Users,
    /// Infraon Requesters: Self-Service Portal end users.
    Requesters,
}

impl SyncTarget {
    /// Both populations, in a stable order.
    pub const ALL: [SyncTarget; 2] = [SyncTarget::Users, SyncTarget::Requesters];

    /// The name stored in the database and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncTarget::Users => "users",
            SyncTarget::Requesters => "requesters",
        }
    }

    /// The population as an operator reads it in a message ("Users").
    pub fn label(self) -> &'static str {
        match self {
            SyncTarget::Users => "Users",
            SyncTarget::Requesters => "Requesters",
        }
    }
}

impl fmt::Display for SyncTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "users" => Ok(SyncTarget::Users),
            "requesters" => Ok(SyncTarget::Requesters),
            other => Err(format!(
                "unknown sync target `{other}` (users | requesters)"
            )),
        }
    }
}

/// The state of a person in Infraon (WIT `directory.person-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersonStatus {
    /// Can sign in and be assigned work / raise requests.
    Active,
    /// Exists but has not completed activation in Okta.
    Pending,
    /// Temporarily blocked (Okta suspended, locked out).
    Suspended,
    /// Disabled; history kept.
    Deactivated,
}

impl PersonStatus {
    /// The name stored in the database and shown by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Pending => "pending",
            PersonStatus::Suspended => "suspended",
            PersonStatus::Deactivated => "deactivated",
        }
    }
}

impl fmt::Display for PersonStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PersonStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(PersonStatus::Active),
            "pending" => Ok(PersonStatus::Pending),
            "suspended" => Ok(PersonStatus::Suspended),
            "deactivated" => Ok(PersonStatus::Deactivated),
            other => Err(format!("unknown person status `{other}`")),
        }
    }
}

/// A person as the plugin writes them and Infraon returns them
/// (WIT `directory.person`).
///
/// A person that exists in Infraon without an Okta link (see
/// [`crate::Infraon::add_unlinked_person`]) comes back with an empty
/// `external_id` and an empty `config`, because the WIT record has no
/// optional link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Okta's immutable user id: the key of the link. Empty when unlinked.
    pub external_id: String,
    /// The config that manages this person. Empty when unlinked.
    pub config: String,
    /// Users or Requesters.
    pub kind: SyncTarget,
    /// Sign-in name.
    pub login: String,
    /// Primary email.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Display name. Infraon builds it from first and last name when empty.
    pub display_name: String,
    /// Further Infraon fields by Infraon field name. Returned sorted by name.
    pub fields: Vec<(String, String)>,
    /// Infraon role names. Returned sorted, without duplicates.
    pub roles: Vec<String>,
    /// Lifecycle state.
    pub status: PersonStatus,
}

/// One page of a population (see [`crate::Infraon::people_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeoplePage {
    /// The page's people, in list order.
    pub people: Vec<Person>,
    /// How many people of the population match the search.
    pub matching: usize,
    /// How many people the population has.
    pub total: usize,
}

/// What an upsert did (WIT `directory.upsert-outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsertOutcome {
    /// A new person was created.
    Created,
    /// An existing person changed.
    Updated,
    /// Nothing differed.
    Unchanged,
}

/// An Infraon role a group can map to (WIT `directory.role`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Role {
    /// Role name as Infraon shows it.
    pub name: String,
    /// Which population the role applies to.
    pub kind: SyncTarget,
    /// Privileged (Administrator): granted only by a rule naming it.
    pub privileged: bool,
}

/// A field Infraon keeps for a person (WIT `directory.field-spec`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FieldSpec {
    /// Infraon field name.
    pub name: String,
    /// Whether every person must have a value.
    pub required: bool,
}

/// The host's record of an installed config and the Okta origin it allowed
/// egress to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Installation {
    /// The plugin id ("okta").
    pub plugin: String,
    /// The config name.
    pub config: String,
    /// The normalised Okta origin egress is granted to, e.g. `https://acme.okta.com`.
    pub okta_origin: String,
    /// Whether the config was installed in development mode.
    pub development_mode: bool,
    /// When the config was installed (RFC 3339, UTC).
    pub installed_at: String,
}

/// One log line the host wrote on behalf of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// Increasing id: the order lines were written in.
    pub id: i64,
    /// When the host wrote the line (RFC 3339, UTC).
    pub at: String,
    /// The plugin id.
    pub plugin: String,
    /// The config being served, if any.
    pub config: Option<String>,
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message.
    pub message: String,
    /// The key-value fields as a JSON value (as the host passed it).
    pub fields_json: String,
}

/// Why a host-only call (open, installations, schedules, logs) failed.
#[derive(Debug, thiserror::Error)]
pub enum InfraonError {
    /// The database said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A file of the state directory could not be used.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The secrets key file is missing, malformed or does not fit the database.
    #[error("secrets key: {0}")]
    SecretsKey(String),
    /// The database was written by a newer fake Infraon.
    #[error("schema: {0}")]
    Schema(String),
    /// An argument was not acceptable (e.g. a schedule that is not JSON).
    #[error("invalid: {0}")]
    Invalid(String),
}

/// Why a storage call failed (WIT `storage.storage-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The value or the store exceeds the host's quota.
    #[error("storage quota exceeded")]
    QuotaExceeded,
    /// The store cannot be used right now.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("storage: {0}")]
    Other(String),
}

/// Why a secrets call failed (WIT `secrets.secrets-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The secret store cannot be used right now.
    #[error("secrets unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("secrets: {0}")]
    Other(String),
}

/// Why Infraon refused a directory call (WIT `directory.directory-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// Infraon rejected a value: the field and why.
    #[error("{field} rejected: {reason}")]
    Rejected {
        /// The Infraon field name (`email`, `roles`, `custom.x`, ...).
        field: String,
        /// Why, in words an operator can act on.
        reason: String,
    },
    /// Another person (not linked to this Okta user) owns this email or login.
    #[error("conflict: {0}")]
    Conflict(String),
    /// No such person.
    #[error("not found: {0}")]
    NotFound(String),
    /// The directory cannot be used right now.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
    /// Anything else.
    #[error("directory: {0}")]
    Other(String),
}

/// Whether SQLite failed because another connection holds the database,
/// which a caller may retry, as opposed to a bug or a broken file.
pub(crate) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        if is_busy(&e) {
            StorageError::Unavailable(e.to_string())
        } else {
            StorageError::Other(e.to_string())
        }
    }
}

impl From<rusqlite::Error> for SecretsError {
    fn from(e: rusqlite::Error) -> Self {
        if is_busy(&e) {
            SecretsError::Unavailable(e.to_string())
        } else {
            SecretsError::Other(e.to_string())
        }
    }
}

impl From<rusqlite::Error> for DirectoryError {
    fn from(e: rusqlite::Error) -> Self {
        if is_busy(&e) {
            DirectoryError::Unavailable(e.to_string())
        } else {
            DirectoryError::Other(e.to_string())
        }
    }
}
