//! The runtime's domain types (re-exported: the directory's people, roles,
//! fields and installations), this store's own records (log lines, pages)
//! and its errors, which convert to the backend traits' errors in
//! [`crate::backend`].

use serde::{Deserialize, Serialize};

pub use okta_host_runtime::backend::types::{
    FieldSpec, Installation, Person, PersonStatus, Role, SyncTarget, UpsertOutcome,
};

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
