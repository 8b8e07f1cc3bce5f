//! The people unsynced now, across runs (`state/<config>/unsynced-now`):
//! what "Export Unsynced Data" exports by default.
//!
//! Updated when a run that applied its listing ends (succeeded, partial or
//! held; never a dry run, a failed or a cancelled one):
//! - a full run listed everyone: the set becomes exactly its unsynced
//!   records, so whoever it synced or no longer found is dropped;
//! - an incremental run saw only who changed: each person it listed or met
//!   leaves the set, then its own unsynced records join it. A person
//!   unsynced earlier and not seen since stays, with the run that last saw
//!   them.
//!
//! People are keyed by Okta id (by login when Okta sent no id).

use std::collections::HashSet;

use crate::ports::Storage;
use crate::sync::keys;
use crate::sync::types::{SyncError, UnsyncedRecord};

fn key_of(r: &UnsyncedRecord) -> (&str, &str) {
    if r.okta_id.is_empty() {
        ("login", r.login.as_str())
    } else {
        ("id", r.okta_id.as_str())
    }
}

/// Fold one run into the set: `full` replaces it; otherwise the people in
/// `seen` (Okta ids the run listed) and those it met leave, and the run's
/// `records` join.
pub fn update(
    storage: &mut dyn Storage,
    config: &str,
    full: bool,
    seen: &dyn Fn(&str) -> bool,
    records: Vec<UnsyncedRecord>,
) -> Result<(), SyncError> {
    let mut now: Vec<UnsyncedRecord> = if full {
        Vec::new()
    } else {
        let met: HashSet<(&str, &str)> = records.iter().map(key_of).collect();
        load(storage, config)?
            .unwrap_or_default()
            .into_iter()
            .filter(|r| !seen(r.okta_id.as_str()) && !met.contains(&key_of(r)))
            .collect()
    };
    now.extend(records);
    keys::put_json(storage, &keys::unsynced_now(config), &now)
}

/// The set as last stored; `None` before any run updated it (a config
/// whose runs predate it).
pub fn load(
    storage: &mut dyn Storage,
    config: &str,
) -> Result<Option<Vec<UnsyncedRecord>>, SyncError> {
    keys::get_json(storage, &keys::unsynced_now(config))
}
