//! The domain types the backends speak: plain Rust mirrors of the WIT
//! records and errors (converted at the version modules' edge, see
//! [`crate::interfaces`]), plus the host's own records. A backend stores
//! these, never a WIT-generated type.

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
/// a platform's own records) comes back with an empty
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

/// Who holds a run lease and until when (see [`super::Leases`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The holder's id (a host process).
    pub holder: String,
    /// Unix milliseconds after which another holder may take it.
    pub expires_at_ms: u64,
}

/// Why a host-only backend call (installations, schedules, log, leases)
/// failed: the backend's own words, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

impl BackendError {
    /// A backend error from anything displayable.
    pub fn new(e: impl fmt::Display) -> Self {
        BackendError(e.to_string())
    }
}
