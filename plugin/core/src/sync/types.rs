//! The WIT `sync` types, mirrored field by field, plus the unsynced record the
//! export reads.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::okta_error::OktaFailure;

/// What a run does (WIT `sync-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncMode {
    /// Every user and group; people absent from a complete listing are deactivated.
    Full,
    /// Only what changed since the last successful run's watermark.
    Incremental,
    /// A full diff, computed and reported, nothing applied.
    DryRun,
}

/// Who started a run (WIT `trigger`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// An admin pressed Sync Now.
    Manual,
    /// The host's scheduler fired.
    Scheduled,
}

/// How a finished run ended (WIT `run-outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Everything applied.
    Succeeded,
    /// Applied, but some records are unsynced.
    Partial,
    /// Stopped by an error; nobody was deactivated.
    Failed,
    /// Cancelled; nobody was deactivated.
    Cancelled,
    /// Applied except deactivations, which wait for approval.
    Held,
}

/// What a run counted (WIT `counts`).
///
/// Every fetched Okta user lands in exactly one of `created`, `updated`,
/// `unchanged`, `reactivated` or `unsynced`; `deactivated` and `role_changes`
/// overlap with those.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Okta users read.
    pub fetched: u32,
    /// People created in Infraon.
    pub created: u32,
    /// People whose fields changed.
    pub updated: u32,
    /// People already up to date.
    pub unchanged: u32,
    /// People deactivated.
    pub deactivated: u32,
    /// People reactivated.
    pub reactivated: u32,
    /// Role assignments added or removed.
    pub role_changes: u32,
    /// Records not applied.
    pub unsynced: u32,
}

/// One run, as kept in history (WIT `run-record`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id, increasing per plugin.
    pub id: u64,
    /// The config synced.
    pub config: String,
    /// Full, incremental or dry-run.
    pub mode: SyncMode,
    /// Manual or scheduled.
    pub trigger: Trigger,
    /// Start (RFC 3339, UTC).
    pub started_at: String,
    /// End (RFC 3339, UTC), once finished.
    pub ended_at: Option<String>,
    /// Counts so far.
    pub counts: Counts,
    /// Okta requests made.
    pub requests: u32,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// How it ended, once finished.
    pub outcome: Option<RunOutcome>,
    /// The error that stopped it, if any (never contains a secret).
    pub error: Option<String>,
}

/// Why and until when a run waits before its next step (WIT `wait`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wait {
    /// The phase the run is in.
    pub phase: String,
    /// Do not step before this instant (Unix ms, UTC): a step called earlier
    /// sends nothing and returns the same wait.
    pub until_unix_ms: u64,
    /// Why, for an operator (never a secret).
    pub reason: String,
}

/// Where a run is after a step (WIT `step-status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepStatus {
    /// More to do; the record so far and the current phase.
    Working(RunRecord, String),
    /// More to do once the wait is over; the host waits, never the plugin.
    Waiting(RunRecord, Wait),
    /// The run finished.
    Finished(RunRecord),
}

/// Why a sync call failed (WIT `sync-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncError {
    /// No config with this name is installed.
    #[error("no config named `{0}` is installed")]
    UnknownConfig(String),
    /// Another run of this config is in progress (its id).
    #[error("run {0} of this config is still in progress")]
    AlreadyRunning(u64),
    /// No run with this id.
    #[error("no run {0}")]
    UnknownRun(u64),
    /// Okta failed in a way retries did not cure.
    #[error("{0}")]
    Okta(OktaFailure),
    /// The host's storage or directory failed.
    #[error("the host failed: {0}")]
    Host(String),
    /// This capability is not available in this plugin version.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl SyncError {
    /// A host (storage, secrets, directory) failure.
    pub fn host(e: impl fmt::Display) -> SyncError {
        SyncError::Host(e.to_string())
    }
}

/// Why an Okta user was not applied: a stable code for the CSV and a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonCode {
    /// An Infraon person not linked to this Okta user owns the email or login.
    EmailConflict,
    /// Another Okta user of this run already has this email.
    DuplicateEmail,
    /// No login or email (or no id) in the Okta record.
    MissingRequiredField,
    /// Infraon rejected a value.
    RejectedByInfraon,
    /// An Okta status this plugin does not know.
    UnknownStatus,
    /// Any other directory refusal.
    DirectoryError,
}

impl ReasonCode {
    /// The kebab-case code, e.g. `email-conflict`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::EmailConflict => "email-conflict",
            ReasonCode::DuplicateEmail => "duplicate-email",
            ReasonCode::MissingRequiredField => "missing-required-field",
            ReasonCode::RejectedByInfraon => "rejected-by-infraon",
            ReasonCode::UnknownStatus => "unknown-status",
            ReasonCode::DirectoryError => "directory-error",
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Okta user a run did not apply, with why; the rows of the unsynced CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnsyncedRecord {
    /// Okta user id (may be empty when Okta sent none).
    pub okta_id: String,
    /// Okta login.
    pub login: String,
    /// Okta email.
    pub email: String,
    /// Display name as mapped.
    pub display_name: String,
    /// Stable reason code.
    pub reason: ReasonCode,
    /// What went wrong, in words an admin can act on.
    pub reason_text: String,
    /// The run that met it.
    pub run_id: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
}
