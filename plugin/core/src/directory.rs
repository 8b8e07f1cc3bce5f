//! Infraon's own people (WIT `directory`): the types, mirrored field by field,
//! and the [`Directory`] port the sync engine writes through.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::SyncTarget;

/// The state of a person in Infraon (WIT `person-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PersonStatus {
    /// Can sign in and be assigned work / raise requests.
    Active,
    /// Exists but has not completed activation in Okta.
    Pending,
    /// Temporarily blocked (Okta suspended).
    Suspended,
    /// Disabled; history kept.
    Deactivated,
}

impl PersonStatus {
    /// `active`, `pending`, `suspended` or `deactivated`.
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

/// A person as the plugin writes them (WIT `person`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Okta's immutable user id: the key of the link.
    pub external_id: String,
    /// The config that manages this person.
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
    /// Display name.
    pub display_name: String,
    /// Further Infraon fields by Infraon field name.
    pub fields: Vec<(String, String)>,
    /// Infraon role names.
    pub roles: Vec<String>,
    /// Lifecycle state.
    pub status: PersonStatus,
}

/// An Infraon role a group can map to (WIT `role`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// Role name as Infraon shows it.
    pub name: String,
    /// Which population the role applies to.
    pub kind: SyncTarget,
    /// Infraon marks it privileged (Administrator): only a role rule that
    /// names it grants it, never a rule granting roles named like groups.
    pub privileged: bool,
}

/// A field Infraon keeps for a person (WIT `field-spec`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Infraon field name.
    pub name: String,
    /// Whether every person must have a value.
    pub required: bool,
}

/// What an upsert did (WIT `upsert-outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// A new person was created.
    Created,
    /// An existing person changed.
    Updated,
    /// Nothing differed.
    Unchanged,
}

/// Why Infraon refused a directory call (WIT `directory-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DirectoryError {
    /// Infraon rejected a value: the field and why.
    #[error("Infraon rejected `{0}`: {1}")]
    Rejected(String, String),
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
    #[error("directory error: {0}")]
    Other(String),
}

/// What [`Directory::upsert_batch`] answers: one result per person, in order.
pub type BatchResults = Vec<Result<UpsertOutcome, DirectoryError>>;

/// A batch Infraon is applying (see [`Directory::start_upsert_batch`]),
/// with the people sent, handed back by [`PendingUpserts::finish`]: the
/// sync counts and lists each against its result, and keeping a copy of
/// every person of every page for that cost some 6 % of its plugin time.
pub struct PendingUpserts {
    wait: Box<dyn FnOnce() -> BatchResults>,
    people: Vec<Person>,
}

impl PendingUpserts {
    /// A batch of `people` already applied.
    pub fn ready(results: BatchResults, people: Vec<Person>) -> Self {
        PendingUpserts::waiting(move || results, people)
    }

    /// A batch of `people` whose results `wait` blocks for.
    pub fn waiting(wait: impl FnOnce() -> BatchResults + 'static, people: Vec<Person>) -> Self {
        PendingUpserts {
            wait: Box::new(wait),
            people,
        }
    }

    /// Wait until the batch is applied; its results and the people sent,
    /// in the same order.
    pub fn finish(self) -> (BatchResults, Vec<Person>) {
        ((self.wait)(), self.people)
    }
}

/// What a host that predates a directory capability answers.
fn unsupported(what: &str) -> DirectoryError {
    DirectoryError::Other(format!("this Infraon host does not offer `{what}`"))
}

/// Infraon's directory of Users and Requesters (WIT `directory`).
pub trait Directory {
    /// Create or update the person linked to `person.external_id`.
    fn upsert(&mut self, person: &Person) -> Result<UpsertOutcome, DirectoryError>;
    /// Create or update a page of people in one call and one transaction;
    /// one result per person, in order.
    fn upsert_batch(&mut self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>>;
    /// Start [`Directory::upsert_batch`] and return before Infraon has
    /// applied it, so the plugin can work meanwhile;
    /// [`PendingUpserts::finish`] takes the results. Until then other calls
    /// may not see the batch. By default the batch is applied at once.
    fn start_upsert_batch(
        &mut self,
        people: Vec<Person>,
    ) -> Result<PendingUpserts, DirectoryError> {
        let results = self.upsert_batch(&people);
        Ok(PendingUpserts::ready(results, people))
    }
    /// Change a linked person's lifecycle state.
    fn set_status(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), DirectoryError>;
    /// The person linked to an Okta user id.
    fn find_by_external_id(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<Option<Person>, DirectoryError>;
    /// The people linked to several Okta user ids (a page of a sync): one
    /// answer per id, in order. By default, and in the component, one
    /// [`Directory::find_by_external_id`] each: a single host call for the
    /// page was tried and measured no faster, not worth a contract change.
    fn find_by_external_ids(
        &mut self,
        kind: SyncTarget,
        external_ids: &[String],
    ) -> Result<Vec<Option<Person>>, DirectoryError> {
        external_ids
            .iter()
            .map(|id| self.find_by_external_id(kind, id))
            .collect()
    }
    /// The person (linked or not) with this email.
    fn find_by_email(
        &mut self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError>;
    /// The person (linked or not) with this login. By default none: a host
    /// without it makes a rehire match on email alone.
    fn find_by_login(
        &mut self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let _ = (kind, login);
        Ok(None)
    }
    /// Link the person linked to Okta user `from` to Okta user `to` instead
    /// (a rehire): the same person, history kept.
    fn relink(&mut self, kind: SyncTarget, from: &str, to: &str) -> Result<(), DirectoryError> {
        let _ = (kind, from, to);
        Err(unsupported("relink"))
    }
    /// Free a deactivated linked person's email and login for a new person,
    /// and unlink them: they stay, with their history, as a former account
    /// no config manages.
    fn release_identity(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<(), DirectoryError> {
        let _ = (kind, external_id);
        Err(unsupported("release-identity"))
    }
    /// Move everyone `config` manages from population `from` to `to`, all or
    /// none, never duplicating a person; returns how many moved.
    fn move_population(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        let _ = (config, from, to);
        Err(unsupported("move-population"))
    }
    /// Move the people `config` manages in population `from` with these
    /// external ids to `to`, all or none, never duplicating one (a person
    /// whose population rule changed); returns how many moved.
    fn move_people(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, DirectoryError> {
        let _ = (config, from, to, external_ids);
        Err(unsupported("move-people"))
    }
    /// External ids of everyone this config manages.
    fn list_linked(
        &mut self,
        config: &str,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError>;
    /// A page of [`Directory::list_linked`]: at most `limit` external ids,
    /// sorted, of those after `after` (from the first when `None`); fewer
    /// than `limit` at the end. A sync of a million people reads them a page
    /// at a time (issue 19). By default a page of the whole list, for hosts
    /// without paging.
    fn list_linked_page(
        &mut self,
        config: &str,
        kind: SyncTarget,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        let mut all = self.list_linked(config, kind)?;
        all.sort_unstable();
        let from = after.map_or(0, |a| all.partition_point(|id| id.as_str() <= a));
        Ok(all.into_iter().skip(from).take(limit as usize).collect())
    }
    /// The roles Infraon has.
    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError>;
    /// The fields Infraon keeps for a population.
    fn list_fields(&mut self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError>;
}
