//! What an unfinished run keeps in storage after every step, so that any
//! instance can pick it up: the record so far, the phase with its `next`
//! link, page counters, and the rate-limit state.

use serde::{Deserialize, Serialize};

use crate::config::SyncTarget;
use crate::mapping::Mapping;
use crate::sync::fetch::{Rates, Retries};
use crate::sync::scope::Audience;
use crate::sync::settings::Settings;
use crate::sync::types::{RunRecord, Wait};

/// Where a run is. `next` is the `Link rel="next"` URL to fetch, `None` for
/// the first page of the listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Phase {
    /// Listing groups (changed ones, in an incremental run).
    Groups {
        /// Next page.
        next: Option<String>,
    },
    /// Listing the members of the `group`-th listed group.
    Members {
        /// Index into the listed groups.
        group: usize,
        /// Next page.
        next: Option<String>,
    },
    /// Listing users (changed ones, in an incremental run).
    Users {
        /// Next page.
        next: Option<String>,
    },
    /// Group-scoped full run: listing the members of the `group`-th scope
    /// group as the users to apply (every status), each person once.
    ScopeMembers {
        /// Index into the scope groups.
        group: usize,
        /// Next page.
        next: Option<String>,
    },
    /// Listing `DEPROVISIONED` users, which the default listing hides.
    Deprovisioned {
        /// Next page.
        next: Option<String>,
    },
    /// Incremental: re-deriving the roles of people whose groups changed but
    /// whose profile did not; `done` of them so far.
    Memberships {
        /// How many were processed.
        done: usize,
    },
    /// Deactivations, safeguard, snapshot and watermark.
    Finish,
    /// Finished.
    Done,
}

impl Phase {
    /// The phase name reported in `step-status::working`.
    pub fn name(&self) -> &'static str {
        match self {
            Phase::Groups { .. } => "groups",
            Phase::Members { .. } => "members",
            Phase::Users { .. } | Phase::ScopeMembers { .. } => "users",
            Phase::Deprovisioned { .. } => "deprovisioned",
            Phase::Memberships { .. } => "memberships",
            Phase::Finish => "finishing",
            Phase::Done => "done",
        }
    }
}

/// The `DEPROVISIONED` listing of a full run, read alongside the users
/// listing (issue 19): both are chains of cursors, so reading them one
/// after the other costs the second one's whole chain of latencies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Alongside {
    /// Not under way: read after the users listing (checkpoints of older
    /// builds, and runs without such a listing).
    #[default]
    No,
    /// Under way beside the users listing.
    Reading {
        /// Its next page (`None`: its first).
        next: Option<String>,
        /// The `next` links it followed (its own paging guard).
        links_followed: crate::paging_guard::LinksFollowed,
    },
    /// Read to its end.
    Done,
}

/// Page counters: the next page number of each kind of stored page. Pages
/// at or above them were written by a step that was never checkpointed and
/// are ignored (and overwritten) on resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Seqs {
    /// Groups pages.
    pub groups: u32,
    /// Members pages.
    pub members: u32,
    /// Users pages (visible and deprovisioned).
    pub users: u32,
    /// Unsynced pages.
    pub unsynced: u32,
}

/// The checkpoint of an unfinished run (`state/<config>/checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The record so far.
    pub record: RunRecord,
    /// Users or Requesters, fixed at start.
    pub kind: SyncTarget,
    /// Compute and report only.
    pub dry_run: bool,
    /// Incremental lower bound (RFC 3339); `None` for a full listing.
    pub since: Option<String>,
    /// Start, Unix ms: the watermark this run leaves if it succeeds.
    pub started_ms: u64,
    /// Where the run is.
    pub phase: Phase,
    /// Page counters.
    pub seq: Seqs,
    /// Last rate-limit headers seen, per endpoint family; empty in older
    /// checkpoints.
    #[serde(default)]
    pub rates: Rates,
    /// Failed tries of the current GET, kept across steps.
    #[serde(default)]
    pub retries: Retries,
    /// The wait the last step asked for, if it is not over yet.
    #[serde(default)]
    pub wait: Option<Wait>,
    /// Settings, fixed at start.
    pub settings: Settings,
    /// The mapping, fixed at start so that a change applies from the next
    /// run; `None` in checkpoints of older versions (the defaults then).
    #[serde(default)]
    pub mapping: Option<Mapping>,
    /// `next` links followed in the current listing, so a loop ends the
    /// run instead of paging forever; empty in older checkpoints.
    #[serde(default)]
    pub links_followed: crate::paging_guard::LinksFollowed,
    /// People in the run's list of changes so far (see
    /// [`crate::sync::changes`]); 0 in older checkpoints.
    #[serde(default)]
    pub changes: u64,
    /// Scope and population rules, fixed at start; everyone and no rules in
    /// older checkpoints.
    #[serde(default)]
    pub audience: Audience,
    /// The `DEPROVISIONED` listing read beside the users one, and where it
    /// is; its pages count in [`Seqs::users`] like the users pages.
    #[serde(default)]
    pub deprovisioned: Alongside,
}

impl Checkpoint {
    /// Whether this run lists everything (full or dry-run).
    pub fn is_full(&self) -> bool {
        self.since.is_none()
    }
}

/// The incremental watermark (`state/<config>/watermark`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// Start of the last successful run, Unix ms.
    pub started_ms: u64,
    /// That run's id.
    pub run: u64,
    /// [`Audience::fingerprint`] of that run: another one makes the next
    /// run full (empty in older watermarks: everyone, no rules).
    #[serde(default)]
    pub scope: String,
}
