//! The sync engine: Okta users and groups into Infraon's directory, as a run
//! the host drives step by step.
//!
//! A run lists, in this order, one page per step, following only
//! `Link rel="next"`:
//! 1. groups (`/api/v1/groups`), then the members of each group
//!    (`/api/v1/groups/{id}/users`), so every person's groups are known
//!    before they are applied — never a request per user;
//! 2. users (`/api/v1/users`), each page mapped ([`mapping`]) and upserted
//!    in one `upsert-batch`;
//! 3. `DEPROVISIONED` users (`search=status eq "DEPROVISIONED"`), which the
//!    default listing hides;
//! 4. the finish: deactivations (see [`lifecycle`]) under the
//!    mass-deactivation safeguard ([`Settings`]), the membership snapshot,
//!    the watermark, the record.
//!
//! An incremental run lists only groups updated or with membership updated
//! after the watermark (minus a minute of overlap) and their members, and
//! users updated after it (a filtered listing includes deprovisioned ones);
//! people whose groups changed but not their profile get their roles
//! re-derived from what Infraon has. The watermark is the start of the last
//! run that completed its listing (succeeded, partial or held) and moves
//! only then. People unsynced by a partial run are retried by the next full
//! run (or when they change in Okta); until then they stay in the set of
//! people unsynced now ([`current`]).
//!
//! A config's scope and population rules ([`scope`]) change what the users
//! phase lists (a group-scoped full run lists the scope groups' members, an
//! expression is a `search=`), who is dropped as outside the scope (and
//! deactivated if linked) and which population each person goes to.
//!
//! A dry-run lists like a full run and reports every count, deactivations
//! included, but writes nothing to the directory, snapshot or watermark.
//!
//! Every run also lists who it changes, person by person ([`changes`]):
//! what a dry run would do, and the deactivations a held run waits on, read
//! in pages before an admin approves; who approved or rejected is kept
//! ([`history::Decision`]). [`provision`] syncs one person on demand.
//!
//! Storage layout: [`keys`].

pub mod apply;
pub mod changes;
pub mod checkpoint;
pub mod current;
pub mod fetch;
pub mod finish;
pub mod history;
pub mod ids;
pub mod keys;
pub mod lifecycle;
pub mod mapping;
pub mod memberships;
pub mod paths;
pub mod provision;
mod read_ahead;
pub mod records;
pub mod run;
pub mod scope;
pub mod settings;
pub mod types;

pub use changes::{ChangeAction, ChangePage, FieldChange, PersonChange};
pub use history::{
    Decision, approve_held, approve_held_by, decisions, history, reject_held, reject_held_by,
    run_changes, unsynced,
};
pub use provision::{ProvisionReport, provision};
pub use run::SyncRun;
pub use settings::{
    Rehire, Safeguard, Settings, get_rehire, get_safeguard, load_settings, save_settings,
    set_rehire, set_safeguard,
};
pub use types::{
    Counts, ReasonCode, RunOutcome, RunRecord, StepStatus, SyncError, SyncMode, Trigger,
    UnsyncedRecord, Wait,
};
