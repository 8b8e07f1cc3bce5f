//! Run history, held deactivations and who decided them, a run's list of
//! changes, and the unsynced records of a run.

use serde::{Deserialize, Serialize};

use crate::ports::{Host, Level};
use crate::store::{find_config, token_key};
use crate::sync::changes::{self, ChangeAction, ChangePage, PersonChange};
use crate::sync::finish::{Held, deactivate_either};
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

/// How a held run was decided (WIT `held-decision`), kept under
/// `state/<config>/decisions/<run id>` as long as the run's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The held run.
    pub run_id: u64,
    /// Approved (the deactivations applied) or rejected (dropped).
    pub approved: bool,
    /// Who decided, as the host named them (empty: a caller that named
    /// nobody, such as the plain `approve-held`).
    pub by: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// People deactivated (approved) or spared (rejected).
    pub people: u32,
}

/// The longest name of who decided that is kept.
pub const MAX_BY_CHARS: usize = 200;

/// Who decided, as kept: trimmed, without control characters, bounded.
fn clean_by(by: &str) -> String {
    by.trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_BY_CHARS)
        .collect()
}

/// What [`held_ids_by_chunk`] does with each chunk of held ids.
type ChunkFn<'f> = dyn FnMut(&mut Host<'_>, Vec<String>) -> Result<(), SyncError> + 'f;

/// The held deactivations of a listed run, a chunk of people at a time.
fn held_ids_by_chunk(
    host: &mut Host<'_>,
    name: &str,
    run_id: u64,
    f: &mut ChunkFn<'_>,
) -> Result<(), SyncError> {
    let total = changes::count(host.storage, name, run_id)?;
    let mut offset = 0;
    while offset < total {
        let page = changes::page(host.storage, name, run_id, offset, changes::MAX_PAGE)?;
        if page.changes.is_empty() {
            break;
        }
        offset += page.changes.len() as u64;
        let ids = page
            .changes
            .into_iter()
            .filter(|c| c.held && c.action == ChangeAction::Deactivate)
            .map(|c| c.okta_id)
            .collect();
        f(host, ids)?;
    }
    Ok(())
}

fn decide(
    host: &mut Host<'_>,
    config: &str,
    run_id: u64,
    approve: bool,
    by: &str,
) -> Result<RunRecord, SyncError> {
    let name = config_name(host, config)?;
    let (mut record, held) = held_run(host, &name, run_id)?;
    if approve && let Some(later) = later_run(host, &name, run_id)? {
        return Err(SyncError::Other(format!(
            "run {later} started after run {run_id}; approve its deactivations instead"
        )));
    }
    let mut people = 0u32;
    if approve {
        people += held.apply(host)?;
        if held.listed {
            held_ids_by_chunk(host, &name, run_id, &mut |h, ids| {
                people += deactivate_either(h, held.kind, &ids)?;
                Ok(())
            })?;
        }
        record.counts.deactivated += people;
    } else {
        people = (held.external_ids.len() + held.other.len()) as u32;
        if held.listed {
            held_ids_by_chunk(host, &name, run_id, &mut |_, ids| {
                people += ids.len() as u32;
                Ok(())
            })?;
        }
    }
    record.outcome = Some(settled(&record));
    keys::put_json(host.storage, &keys::run(&name, run_id), &record)?;
    let decision = Decision {
        run_id,
        approved: approve,
        by: clean_by(by),
        at: crate::time::rfc3339_from_unix_ms(host.clock.now_unix_ms()),
        people,
    };
    keys::put_json(host.storage, &keys::decision(&name, run_id), &decision)?;
    host.storage
        .delete(&keys::held(&name, run_id))
        .map_err(SyncError::host)?;
    let (id, n) = (run_id.to_string(), people.to_string());
    let (message, count) = if approve {
        ("held deactivations approved", "deactivated")
    } else {
        ("held deactivations rejected", "dropped")
    };
    host.log.write(
        Level::Info,
        message,
        &[
            ("config", &name),
            ("run", &id),
            (count, &n),
            ("by", &decision.by),
        ],
    );
    Ok(record)
}

/// Apply the deactivations a held run waits on. Refused once a later run
/// has started: it computes deactivations from a newer listing.
pub fn approve_held(
    host: &mut Host<'_>,
    config: &str,
    run_id: u64,
) -> Result<RunRecord, SyncError> {
    decide(host, config, run_id, true, "")
}

/// Drop the deactivations a held run waits on; nobody is deactivated.
pub fn reject_held(host: &mut Host<'_>, config: &str, run_id: u64) -> Result<RunRecord, SyncError> {
    decide(host, config, run_id, false, "")
}

/// [`approve_held`], recording `by` (who approved, as the host names
/// them: the signed-in admin, the CLI's user) and when. A blank `by` is
/// refused: the point is to know who.
pub fn approve_held_by(
    host: &mut Host<'_>,
    config: &str,
    run_id: u64,
    by: &str,
) -> Result<RunRecord, SyncError> {
    named(by)?;
    decide(host, config, run_id, true, by)
}

/// [`reject_held`], recording who rejected and when.
pub fn reject_held_by(
    host: &mut Host<'_>,
    config: &str,
    run_id: u64,
    by: &str,
) -> Result<RunRecord, SyncError> {
    named(by)?;
    decide(host, config, run_id, false, by)
}

fn named(by: &str) -> Result<(), SyncError> {
    if clean_by(by).is_empty() {
        return Err(SyncError::Other(
            "say who decides: the name of the admin approving or rejecting".into(),
        ));
    }
    Ok(())
}

/// The decisions on held runs of a config, newest run first.
pub fn decisions(
    host: &mut Host<'_>,
    config: &str,
    limit: u32,
) -> Result<Vec<Decision>, SyncError> {
    let name = config_name(host, config)?;
    let found = host
        .storage
        .list_keys(&keys::decisions(&name))
        .map_err(SyncError::host)?;
    let mut out = Vec::new();
    for key in found.iter().rev().take(limit as usize) {
        if let Some(d) = keys::get_json::<Decision>(host.storage, key)? {
            out.push(d);
        }
    }
    Ok(out)
}

/// People `offset..offset + limit` (at most [`changes::MAX_PAGE`]) of what
/// run `run_id` changes, or would change (a dry run), or holds for approval
/// (see [`changes`]). The API token is redacted should a profile value hold it.
pub fn run_changes(
    host: &mut Host<'_>,
    config: &str,
    run_id: u64,
    offset: u64,
    limit: u32,
) -> Result<ChangePage, SyncError> {
    let name = config_name(host, config)?;
    if keys::get_json::<RunRecord>(host.storage, &keys::run(&name, run_id))?.is_none() {
        return Err(SyncError::UnknownRun(run_id));
    }
    let mut page = changes::page(host.storage, &name, run_id, offset, limit)?;
    let token = host
        .secrets
        .get(&token_key(&name))
        .map_err(SyncError::host)?
        .unwrap_or_default();
    page.changes
        .iter_mut()
        .for_each(|c: &mut PersonChange| changes::redact(c, &token));
    Ok(page)
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
