//! Run history, held deactivations, and the unsynced records of a run.

use crate::ports::{Host, Level};
use crate::store::find_config;
use crate::sync::finish::Held;
use crate::sync::keys;
use crate::sync::types::{RunOutcome, RunRecord, SyncError, SyncMode, UnsyncedRecord};

fn config_name(host: &mut Host<'_>, config: &str) -> Result<String, SyncError> {
    Ok(find_config(host.storage, config)
        .map_err(SyncError::Host)?
        .ok_or_else(|| SyncError::UnknownConfig(config.trim().to_owned()))?
        .name)
}

/// The latest `limit` runs of a config, newest first; an unfinished run
/// appears with its record so far.
pub fn history(host: &mut Host<'_>, config: &str, limit: u32) -> Result<Vec<RunRecord>, SyncError> {
    let name = config_name(host, config)?;
    let run_keys = host
        .storage
        .list_keys(&keys::runs(&name))
        .map_err(SyncError::host)?;
    let mut out = Vec::new();
    for key in run_keys.iter().rev().take(limit as usize) {
        if let Some(r) = keys::get_json::<RunRecord>(host.storage, key)? {
            out.push(r);
        }
    }
    Ok(out)
}

fn held_run(host: &mut Host<'_>, name: &str, run_id: u64) -> Result<(RunRecord, Held), SyncError> {
    let record: RunRecord = keys::get_json(host.storage, &keys::run(name, run_id))?
        .ok_or(SyncError::UnknownRun(run_id))?;
    let held: Option<Held> = keys::get_json(host.storage, &keys::held(name, run_id))?;
    match (record.outcome, held) {
        (Some(RunOutcome::Held), Some(held)) => Ok((record, held)),
        _ => Err(SyncError::Other(format!(
            "run {run_id} is not waiting for approval"
        ))),
    }
}

/// The id of a run that started after `run_id` and applies changes: its own
/// deactivations supersede the held ones.
fn later_run(host: &mut Host<'_>, name: &str, run_id: u64) -> Result<Option<u64>, SyncError> {
    let run_keys = host
        .storage
        .list_keys(&keys::runs(name))
        .map_err(SyncError::host)?;
    for key in run_keys.iter().rev() {
        if keys::trailing_number(key).is_none_or(|n| n <= run_id) {
            break;
        }
        if let Some(r) = keys::get_json::<RunRecord>(host.storage, key)?
            && r.mode != SyncMode::DryRun
        {
            return Ok(Some(r.id));
        }
    }
    Ok(None)
}

fn settled(record: &RunRecord) -> RunOutcome {
    if record.counts.unsynced > 0 {
        RunOutcome::Partial
    } else {
        RunOutcome::Succeeded
    }
}

/// Apply the deactivations a held run waits on. Refused once a later run
/// has started: it computes deactivations from a newer listing.
pub fn approve_held(
    host: &mut Host<'_>,
    config: &str,
    run_id: u64,
) -> Result<RunRecord, SyncError> {
    let name = config_name(host, config)?;
    let (mut record, held) = held_run(host, &name, run_id)?;
    if let Some(later) = later_run(host, &name, run_id)? {
        return Err(SyncError::Other(format!(
            "run {later} started after run {run_id}; approve its deactivations instead"
        )));
    }
    record.counts.deactivated += held.apply(host)?;
    record.outcome = Some(settled(&record));
    keys::put_json(host.storage, &keys::run(&name, run_id), &record)?;
    host.storage
        .delete(&keys::held(&name, run_id))
        .map_err(SyncError::host)?;
    let (id, n) = (run_id.to_string(), record.counts.deactivated.to_string());
    host.log.write(
        Level::Info,
        "held deactivations approved",
        &[("config", &name), ("run", &id), ("deactivated", &n)],
    );
    Ok(record)
}

/// Drop the deactivations a held run waits on; nobody is deactivated.
pub fn reject_held(host: &mut Host<'_>, config: &str, run_id: u64) -> Result<RunRecord, SyncError> {
    let name = config_name(host, config)?;
    let (mut record, held) = held_run(host, &name, run_id)?;
    record.outcome = Some(settled(&record));
    keys::put_json(host.storage, &keys::run(&name, run_id), &record)?;
    host.storage
        .delete(&keys::held(&name, run_id))
        .map_err(SyncError::host)?;
    let (id, n) = (
        run_id.to_string(),
        (held.external_ids.len() + held.other.len()).to_string(),
    );
    host.log.write(
        Level::Info,
        "held deactivations rejected",
        &[("config", &name), ("run", &id), ("dropped", &n)],
    );
    Ok(record)
}

/// The unsynced records of run `run_id`, in the order they were met; with
/// `None`, the people unsynced now across runs ([`crate::sync::current`]),
/// each with the run that last saw them (the latest run's records for a
/// config whose runs all predate that set).
pub fn unsynced(
    host: &mut Host<'_>,
    config: &str,
    run_id: Option<u64>,
) -> Result<Vec<UnsyncedRecord>, SyncError> {
    let name = config_name(host, config)?;
    if run_id.is_none()
        && let Some(now) = crate::sync::current::load(host.storage, &name)?
    {
        return Ok(now);
    }
    let id = match run_id {
        Some(id) => {
            if keys::get_json::<RunRecord>(host.storage, &keys::run(&name, id))?.is_none() {
                return Err(SyncError::UnknownRun(id));
            }
            id
        }
        None => host
            .storage
            .list_keys(&keys::runs(&name))
            .map_err(SyncError::host)?
            .last()
            .and_then(|k| keys::trailing_number(k))
            .ok_or_else(|| SyncError::Other(format!("config `{name}` has never run")))?,
    };
    let pages: Vec<Vec<UnsyncedRecord>> =
        keys::pages(host.storage, &keys::unsynced(&name, id), u32::MAX)?;
    Ok(pages.into_iter().flatten().collect())
}
