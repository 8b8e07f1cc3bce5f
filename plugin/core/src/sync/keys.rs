//! Where the sync keeps its state. Everything per config lives under
//! `state/<config>/` so that uninstall removes it:
//!
//! | key                                   | value |
//! |---------------------------------------|-------|
//! | `state/<c>/checkpoint`                | the unfinished run's [`Checkpoint`](super::checkpoint::Checkpoint); absent when none |
//! | `state/<c>/runs/<id>`                 | [`RunRecord`](super::RunRecord) of every run (history) |
//! | `state/<c>/work/<id>/groups/<seq>`    | one groups page of a run: `[{id, name}]` |
//! | `state/<c>/work/<id>/members/<seq>`   | one members page: `{group, members: [user id]}` |
//! | `state/<c>/work/<id>/users/<seq>`     | one users page: ids and emails seen, deactivations deferred |
//! | `state/<c>/unsynced/<id>/<seq>`       | unsynced records met on one page (kept for the export) |
//! | `state/<c>/held/<id>`                 | deactivations a held run waits on |
//! | `state/<c>/changes/<id>/<first>`      | who the run changes, person by person, in pieces named by their first person's place (see [`super::changes`]) |
//! | `state/<c>/decisions/<id>`            | who approved or rejected a held run, and when |
//! | `state/<c>/unsynced-now`              | the people unsynced now, across runs (see [`super::current`]) |
//! | `state/<c>/groups/<group id>`         | last successful membership snapshot of a group |
//! | `state/<c>/watermark`                 | start of the last successful run (ms) |
//! | `state/<c>/settings`                  | optional [`Settings`](super::Settings) |
//! | `state/<c>/mapping`                   | the saved [`Mapping`](crate::mapping::Mapping); absent: the defaults |
//! | `state/<c>/schema`                    | Okta's profile schema as last discovered |
//! | `state/<c>/notices`                   | mapping notices kept until dismissed (see [`crate::mapping::notices`]) |
//!
//! Ids and page numbers are zero-padded so that key order is numeric order.
//! Pages are written under their own key, never appended to a growing blob,
//! so each step costs the same however large the org. The run-id counter is
//! plugin-wide (`sync/next-run-id`), so ids never repeat across configs or
//! reinstalls. The newest [`KEEP_RUNS`] runs (records, unsynced records,
//! held deactivations) are kept; older ones are pruned when a run ends.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::ports::Storage;
use crate::store::state_prefix;
use crate::sync::types::SyncError;

/// The plugin-wide run-id counter.
pub const NEXT_RUN_ID: &str = "sync/next-run-id";

/// Runs kept in history per config.
pub const KEEP_RUNS: usize = 100;

/// The unfinished run's checkpoint.
pub fn checkpoint(c: &str) -> String {
    format!("{}checkpoint", state_prefix(c))
}

/// Prefix of the run records.
pub fn runs(c: &str) -> String {
    format!("{}runs/", state_prefix(c))
}

/// One run record.
pub fn run(c: &str, id: u64) -> String {
    format!("{}{id:020}", runs(c))
}

/// Prefix of every run's scratch pages.
pub fn work_all(c: &str) -> String {
    format!("{}work/", state_prefix(c))
}

/// Prefix of a run's scratch pages, removed when it finishes.
pub fn work(c: &str, id: u64) -> String {
    format!("{}work/{id:020}/", state_prefix(c))
}

/// Prefix of one kind of scratch page (`groups`, `members`, `users`).
pub fn work_pages(c: &str, id: u64, what: &str) -> String {
    format!("{}{what}/", work(c, id))
}

/// One scratch page.
pub fn work_page(c: &str, id: u64, what: &str, seq: u32) -> String {
    format!("{}{seq:08}", work_pages(c, id, what))
}

/// Prefix of a run's unsynced records.
pub fn unsynced(c: &str, id: u64) -> String {
    format!("{}unsynced/{id:020}/", state_prefix(c))
}

/// The people unsynced now, across runs.
pub fn unsynced_now(c: &str) -> String {
    format!("{}unsynced-now", state_prefix(c))
}

/// A held run's pending deactivations.
pub fn held(c: &str, id: u64) -> String {
    format!("{}held/{id:020}", state_prefix(c))
}

/// How a held run was decided: approved or rejected, by whom, when.
pub fn decision(c: &str, id: u64) -> String {
    format!("{}decisions/{id:020}", state_prefix(c))
}

/// Prefix of the decisions on held runs.
pub fn decisions(c: &str) -> String {
    format!("{}decisions/", state_prefix(c))
}

/// Prefix of the membership snapshots.
pub fn snapshots(c: &str) -> String {
    format!("{}groups/", state_prefix(c))
}

/// One group's membership snapshot.
pub fn snapshot(c: &str, group: &str) -> String {
    format!("{}{group}", snapshots(c))
}

/// The incremental watermark.
pub fn watermark(c: &str) -> String {
    format!("{}watermark", state_prefix(c))
}

/// The sync settings.
pub fn settings(c: &str) -> String {
    format!("{}settings", state_prefix(c))
}

/// The scope and population rules (issue 15).
pub fn scope(c: &str) -> String {
    format!("{}scope", state_prefix(c))
}

/// The saved mapping.
pub fn mapping(c: &str) -> String {
    format!("{}mapping", state_prefix(c))
}

/// The last discovered Okta profile schema.
pub fn schema(c: &str) -> String {
    format!("{}schema", state_prefix(c))
}

/// The number at the end of a key (`.../00000042` → 42).
pub fn trailing_number(key: &str) -> Option<u64> {
    key.rsplit('/').next()?.parse().ok()
}

/// Read a JSON value; `None` when absent.
pub fn get_json<T: DeserializeOwned>(
    s: &mut dyn Storage,
    key: &str,
) -> Result<Option<T>, SyncError> {
    let Some(bytes) = s.get(key).map_err(SyncError::host)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| SyncError::Host(format!("stored `{key}` is unreadable: {e}")))
}

/// Write a JSON value.
pub fn put_json<T: Serialize>(s: &mut dyn Storage, key: &str, value: &T) -> Result<(), SyncError> {
    let bytes = serde_json::to_vec(value).map_err(|e| SyncError::Other(e.to_string()))?;
    s.set(key, &bytes).map_err(SyncError::host)
}

/// Delete every key under a prefix.
pub fn delete_prefix(s: &mut dyn Storage, prefix: &str) -> Result<(), SyncError> {
    for key in s.list_keys(prefix).map_err(SyncError::host)? {
        s.delete(&key).map_err(SyncError::host)?;
    }
    Ok(())
}

/// Every JSON value under a prefix whose page number is below `below`, in key
/// order; pages at or above it belong to a step that was not checkpointed.
pub fn pages<T: DeserializeOwned>(
    s: &mut dyn Storage,
    prefix: &str,
    below: u32,
) -> Result<Vec<T>, SyncError> {
    let mut out = Vec::new();
    for key in s.list_keys(prefix).map_err(SyncError::host)? {
        if trailing_number(&key).is_some_and(|n| n < u64::from(below))
            && let Some(v) = get_json(s, &key)?
        {
            out.push(v);
        }
    }
    Ok(out)
}

/// Each JSON value under a prefix whose page number is below `below`, in
/// key order, handed to `each` one at a time: a run's pages of a million
/// people are never all in memory at once.
pub fn each_page<T: DeserializeOwned>(
    s: &mut dyn Storage,
    prefix: &str,
    below: u32,
    mut each: impl FnMut(T) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    for key in s.list_keys(prefix).map_err(SyncError::host)? {
        if trailing_number(&key).is_some_and(|n| n < u64::from(below))
            && let Some(v) = get_json(s, &key)?
        {
            each(v)?;
        }
    }
    Ok(())
}
