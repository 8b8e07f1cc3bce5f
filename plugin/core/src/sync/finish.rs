//! The end of a run: deactivations (deprovisioned, and absent after a
//! complete full listing), the mass-deactivation safeguard, then the
//! snapshot, the watermark and the record.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::SyncTarget;
use crate::directory::{DirectoryError, PersonStatus};
use crate::ports::{Host, Level};
use crate::sync::apply::{UsersPage, other_kind};
use crate::sync::changes;
use crate::sync::checkpoint::{Checkpoint, Phase, Watermark};
use crate::sync::current;
use crate::sync::ids::{Interner, People};
use crate::sync::keys;
use crate::sync::memberships::Memberships;
use crate::sync::types::{RunOutcome, RunRecord, SyncError, UnsyncedRecord};
use crate::time::rfc3339_from_unix_ms;

/// Deactivations a held run waits on (`state/<config>/held/<id>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// Users or Requesters.
    pub kind: SyncTarget,
    /// Okta ids of the people to deactivate (runs of older versions; a
    /// run now lists them in its changes instead, see `listed`).
    #[serde(default)]
    pub external_ids: Vec<String>,
    /// The deactivations are the `held` people of the run's list of
    /// changes ([`changes`]), read a chunk at a time, never all at once;
    /// each in the config's population or, by population rules, the other.
    #[serde(default)]
    pub listed: bool,
    /// Okta ids of the people to deactivate in the other population
    /// (population rules, issue 15); empty in older holds.
    #[serde(default)]
    pub other: Vec<String>,
}

impl Held {
    /// Deactivate the people named in the hold itself (holds before run
    /// lists); returns how many changed. Listed holds are read by
    /// [`crate::sync::history`] chunk by chunk.
    pub fn apply(&self, host: &mut Host<'_>) -> Result<u32, SyncError> {
        Ok(deactivate(host, self.kind, &self.external_ids)?
            + deactivate(host, other_kind(self.kind), &self.other)?)
    }
}

/// Linked people read per directory call at the finish.
const LINKED_PER_PAGE: u32 = 1_000;

/// The people a config manages in one population, a page at a time
/// (`list-linked-page`): the finish never holds a million of them.
fn each_linked(
    host: &mut Host<'_>,
    config: &str,
    kind: SyncTarget,
    mut each: impl FnMut(&mut Host<'_>, Vec<String>) -> Result<(), SyncError>,
) -> Result<(), SyncError> {
    let mut after: Option<String> = None;
    loop {
        let ids = host
            .directory
            .list_linked_page(config, kind, after.as_deref(), LINKED_PER_PAGE)
            .map_err(SyncError::host)?;
        let last = ids.last().cloned();
        let end = ids.len() < LINKED_PER_PAGE as usize;
        each(host, ids)?;
        match last {
            // A host that pages wrongly (a page not past `after`) must not
            // loop: ids are sorted, so each page starts beyond the last.
            Some(last) if !end && after.as_ref().is_none_or(|a| last > *a) => {
                after = Some(last);
            }
            _ => return Ok(()),
        }
    }
}

/// Compute and apply (or hold) the run's deactivations, then complete it.
/// Linked people are read a page at a time and checked against `people`
/// (who the run listed), so the finish's memory does not grow with the org.
pub fn finish(
    host: &mut Host<'_>,
    cp: &mut Checkpoint,
    memberships: &Memberships,
    people: &People,
) -> Result<(), SyncError> {
    let config = cp.record.config.clone();
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let prefix = keys::work_pages(&config, cp.record.id, "users");
    keys::each_page(host.storage, &prefix, cp.seq.users, |p: UsersPage| {
        pending.extend(p.deactivate);
        Ok(())
    })?;
    // Both populations: population rules may have put people in either.
    let other = other_kind(cp.kind);
    let full = cp.is_full();
    let mut linked = [0usize; 2];
    // Who the other population has, to deactivate each person where they are.
    let mut in_other = Interner::default();
    // Everyone linked is read only when someone may be deactivated: an
    // incremental run with nobody to deactivate (most of them) skips
    // listing them all (issue 19).
    let kinds = match full || !pending.is_empty() {
        true => vec![cp.kind, other],
        false => Vec::new(),
    };
    for (n, kind) in kinds.into_iter().enumerate() {
        each_linked(host, &config, kind, |host, ids| {
            linked[n] += ids.len();
            if n == 1 {
                for id in &ids {
                    in_other.intern(id);
                }
            }
            if !full {
                return Ok(());
            }
            let absent: Vec<String> = ids.into_iter().filter(|id| !people.has_seen(id)).collect();
            for chunk in absent.chunks(LOOKUPS_PER_CALL) {
                let found = host
                    .directory
                    .find_by_external_ids(kind, chunk)
                    .map_err(SyncError::host)?;
                for (id, person) in chunk.iter().zip(found) {
                    if person.is_some_and(|p| p.status != PersonStatus::Deactivated) {
                        pending.insert(id.clone());
                    }
                }
            }
            Ok(())
        })?;
    }
    let (pending_other, pending): (Vec<String>, Vec<String>) =
        pending.into_iter().partition(|id| in_other.contains(id));
    drop(in_other);
    let total = pending.len() + pending_other.len();
    let mut outcome = if cp.record.counts.unsynced > 0 {
        RunOutcome::Partial
    } else {
        RunOutcome::Succeeded
    };
    let hold = !cp.dry_run && holds(host, cp, total, linked[0] + linked[1])?;
    let own = cp.kind;
    list_deactivations(host, cp, own, &pending, hold)?;
    list_deactivations(host, cp, other, &pending_other, hold)?;
    if cp.dry_run {
        cp.record.counts.deactivated = total as u32;
    } else if hold {
        let held = Held {
            kind: cp.kind,
            external_ids: Vec::new(),
            listed: true,
            other: Vec::new(),
        };
        keys::put_json(host.storage, &keys::held(&config, cp.record.id), &held)?;
        let n = total.to_string();
        host.log.write(
            Level::Warn,
            "sync holds its deactivations for approval",
            &[("config", &config), ("deactivations", &n)],
        );
        outcome = RunOutcome::Held;
    } else {
        cp.record.counts.deactivated +=
            deactivate(host, cp.kind, &pending)? + deactivate(host, other, &pending_other)?;
    }
    complete(host, cp, outcome, None, Some((memberships, people)))
}

/// Whether the safeguard holds `deactivations`: measured against the people
/// linked to this config (`linked` in both populations) who are not
/// deactivated already (those it protects), so that departures over the
/// years do not weaken it. They are counted, a page at a time, only when
/// the answer depends on it: under the minimum nothing is held, and a share
/// of everyone linked is a larger share of fewer.
fn holds(
    host: &mut Host<'_>,
    cp: &Checkpoint,
    deactivations: usize,
    linked: usize,
) -> Result<bool, SyncError> {
    let s = &cp.settings;
    if deactivations <= s.deactivation_minimum as usize {
        return Ok(false);
    }
    if s.holds(deactivations, linked) {
        return Ok(true);
    }
    let config = &cp.record.config;
    let mut active = 0;
    for kind in [cp.kind, other_kind(cp.kind)] {
        each_linked(host, config, kind, |host, ids| {
            for ids in ids.chunks(LOOKUPS_PER_CALL) {
                active += host
                    .directory
                    .find_by_external_ids(kind, ids)
                    .map_err(SyncError::host)?
                    .iter()
                    .flatten()
                    .filter(|p| p.config == *config && p.status != PersonStatus::Deactivated)
                    .count();
            }
            Ok(())
        })?;
    }
    Ok(s.holds(deactivations, active))
}

/// People looked up per directory call at the finish.
const LOOKUPS_PER_CALL: usize = 1_000;

/// Add the run's deactivations to its list of changes, as Infraon has
/// those people now; `held` when they wait for approval.
fn list_deactivations(
    host: &mut Host<'_>,
    cp: &mut Checkpoint,
    kind: SyncTarget,
    ids: &[String],
    held: bool,
) -> Result<(), SyncError> {
    let (config, run) = (cp.record.config.clone(), cp.record.id);
    for chunk in ids.chunks(LOOKUPS_PER_CALL) {
        let found = host
            .directory
            .find_by_external_ids(kind, chunk)
            .map_err(SyncError::host)?;
        let listed = chunk
            .iter()
            .zip(found.into_iter().chain(std::iter::repeat(None)))
            .map(|(id, person)| match person {
                Some(p) => changes::of_deactivation(&p, held),
                None => changes::of_missing_deactivation(id, held),
            })
            .collect();
        changes::append(host.storage, &config, run, &mut cp.changes, listed)?;
    }
    Ok(())
}

/// Deactivate people of a listed hold, each in `kind` or, moved there by a
/// population rule, the other population; returns how many changed.
pub fn deactivate_either(
    host: &mut Host<'_>,
    kind: SyncTarget,
    ids: &[String],
) -> Result<u32, SyncError> {
    let mut n = 0;
    for id in ids {
        for k in [kind, other_kind(kind)] {
            match host.directory.set_status(k, id, PersonStatus::Deactivated) {
                Ok(()) => {
                    n += 1;
                    break;
                }
                Err(DirectoryError::NotFound(_)) => {}
                Err(e) => return Err(SyncError::host(e)),
            }
        }
    }
    Ok(n)
}

/// Deactivate people; returns how many changed. People already gone from
/// the directory are skipped.
pub fn deactivate(host: &mut Host<'_>, kind: SyncTarget, ids: &[String]) -> Result<u32, SyncError> {
    let mut n = 0;
    for id in ids {
        match host
            .directory
            .set_status(kind, id, PersonStatus::Deactivated)
        {
            Ok(()) => n += 1,
            Err(DirectoryError::NotFound(_)) => {}
            Err(e) => return Err(SyncError::host(e)),
        }
    }
    Ok(n)
}

/// End a run with `outcome`: on success (not dry-run) leave the snapshot and
/// the watermark, then write the record and drop the checkpoint and scratch.
pub fn complete(
    host: &mut Host<'_>,
    cp: &mut Checkpoint,
    outcome: RunOutcome,
    error: Option<String>,
    run: Option<(&Memberships, &People)>,
) -> Result<(), SyncError> {
    let config = cp.record.config.clone();
    let id = cp.record.id;
    let applied = matches!(
        outcome,
        RunOutcome::Succeeded | RunOutcome::Partial | RunOutcome::Held
    );
    if applied && !cp.dry_run {
        if let Some((m, people)) = run {
            m.save_snapshot(host.storage, &config)?;
            update_unsynced_now(host, cp, people)?;
        }
        let wm = Watermark {
            started_ms: cp.started_ms,
            run: id,
            scope: cp.audience.fingerprint(),
        };
        keys::put_json(host.storage, &keys::watermark(&config), &wm)?;
    }
    let now = host.clock.now_unix_ms();
    cp.record.outcome = Some(outcome);
    cp.record.error = error;
    cp.record.ended_at = Some(rfc3339_from_unix_ms(now));
    cp.record.duration_ms = now.saturating_sub(cp.started_ms);
    cp.phase = Phase::Done;
    keys::put_json(host.storage, &keys::run(&config, id), &cp.record)?;
    host.storage
        .delete(&keys::checkpoint(&config))
        .map_err(SyncError::host)?;
    keys::delete_prefix(host.storage, &keys::work(&config, id))?;
    changes::trim(host.storage, &config, id, cp.changes)?;
    // Unsynced pages a crashed step wrote beyond the last checkpoint.
    for key in host
        .storage
        .list_keys(&keys::unsynced(&config, id))
        .map_err(SyncError::host)?
    {
        if keys::trailing_number(&key).is_some_and(|n| n >= u64::from(cp.seq.unsynced)) {
            host.storage.delete(&key).map_err(SyncError::host)?;
        }
    }
    prune(host, &config)?;
    log_end(host, &cp.record);
    Ok(())
}

/// Fold this run's listing and unsynced records into the people unsynced
/// now (see [`crate::sync::current`]).
fn update_unsynced_now(
    host: &mut Host<'_>,
    cp: &Checkpoint,
    people: &People,
) -> Result<(), SyncError> {
    let (config, id) = (&cp.record.config, cp.record.id);
    let seen = |id: &str| people.has_seen(id);
    let records: Vec<Vec<UnsyncedRecord>> =
        keys::pages(host.storage, &keys::unsynced(config, id), cp.seq.unsynced)?;
    let records = records.into_iter().flatten().collect();
    current::update(host.storage, config, cp.is_full(), &seen, records)
}

/// Forget the oldest runs beyond [`keys::KEEP_RUNS`], so history and
/// unsynced records do not grow forever.
fn prune(host: &mut Host<'_>, config: &str) -> Result<(), SyncError> {
    let runs = host
        .storage
        .list_keys(&keys::runs(config))
        .map_err(SyncError::host)?;
    let excess = runs.len().saturating_sub(keys::KEEP_RUNS);
    for key in &runs[..excess] {
        if let Some(id) = keys::trailing_number(key) {
            keys::delete_prefix(host.storage, &keys::unsynced(config, id))?;
            changes::delete(host.storage, config, id)?;
            for key in [keys::held(config, id), keys::decision(config, id)] {
                host.storage.delete(&key).map_err(SyncError::host)?;
            }
        }
        host.storage.delete(key).map_err(SyncError::host)?;
    }
    Ok(())
}

fn log_end(host: &mut Host<'_>, r: &RunRecord) {
    let c = r.counts;
    let outcome = format!("{:?}", r.outcome.unwrap_or(RunOutcome::Failed)).to_lowercase();
    let nums = [
        ("fetched", c.fetched),
        ("created", c.created),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("deactivated", c.deactivated),
        ("reactivated", c.reactivated),
        ("role_changes", c.role_changes),
        ("unsynced", c.unsynced),
        ("requests", r.requests),
    ]
    .map(|(k, v)| (k, v.to_string()));
    let id = r.id.to_string();
    let mut fields: Vec<(&str, &str)> =
        vec![("config", &r.config), ("run", &id), ("outcome", &outcome)];
    fields.extend(nums.iter().map(|(k, v)| (*k, v.as_str())));
    if let Some(e) = &r.error {
        fields.push(("error", e));
    }
    let level = match r.outcome {
        Some(RunOutcome::Failed) => Level::Error,
        Some(RunOutcome::Succeeded) => Level::Info,
        _ => Level::Warn,
    };
    host.log.write(level, "sync run finished", &fields);
}
