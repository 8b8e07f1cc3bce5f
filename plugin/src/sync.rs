//! The `sync` export: the `run` resource wraps `plugin_core::sync::SyncRun`.

use std::cell::RefCell;

use plugin_core::sync as core;

use crate::exports::infraon::okta::sync as wit;
use crate::host::with_host;

fn mode(m: wit::SyncMode) -> core::SyncMode {
    match m {
        wit::SyncMode::Full => core::SyncMode::Full,
        wit::SyncMode::Incremental => core::SyncMode::Incremental,
        wit::SyncMode::DryRun => core::SyncMode::DryRun,
    }
}

fn trigger(t: wit::Trigger) -> core::Trigger {
    match t {
        wit::Trigger::Manual => core::Trigger::Manual,
        wit::Trigger::Scheduled => core::Trigger::Scheduled,
    }
}

fn record(r: core::RunRecord) -> wit::RunRecord {
    let c = r.counts;
    wit::RunRecord {
        id: r.id,
        config: r.config,
        mode: match r.mode {
            core::SyncMode::Full => wit::SyncMode::Full,
            core::SyncMode::Incremental => wit::SyncMode::Incremental,
            core::SyncMode::DryRun => wit::SyncMode::DryRun,
        },
        trigger: match r.trigger {
            core::Trigger::Manual => wit::Trigger::Manual,
            core::Trigger::Scheduled => wit::Trigger::Scheduled,
        },
        started_at: r.started_at,
        ended_at: r.ended_at,
        counts: wit::Counts {
            fetched: c.fetched,
            created: c.created,
            updated: c.updated,
            unchanged: c.unchanged,
            deactivated: c.deactivated,
            reactivated: c.reactivated,
            role_changes: c.role_changes,
            unsynced: c.unsynced,
        },
        requests: r.requests,
        duration_ms: r.duration_ms,
        outcome: r.outcome.map(|o| match o {
            core::RunOutcome::Succeeded => wit::RunOutcome::Succeeded,
            core::RunOutcome::Partial => wit::RunOutcome::Partial,
            core::RunOutcome::Failed => wit::RunOutcome::Failed,
            core::RunOutcome::Cancelled => wit::RunOutcome::Cancelled,
            core::RunOutcome::Held => wit::RunOutcome::Held,
        }),
        error: r.error,
    }
}

pub(crate) fn error(e: core::SyncError) -> wit::SyncError {
    match e {
        core::SyncError::UnknownConfig(n) => wit::SyncError::UnknownConfig(n),
        core::SyncError::AlreadyRunning(id) => wit::SyncError::AlreadyRunning(id),
        core::SyncError::UnknownRun(id) => wit::SyncError::UnknownRun(id),
        core::SyncError::Okta(f) => wit::SyncError::Okta(crate::convert::failure(f)),
        core::SyncError::Host(m) => wit::SyncError::Host(m),
        core::SyncError::Unsupported(m) => wit::SyncError::Unsupported(m),
        core::SyncError::Other(m) => wit::SyncError::Other(m),
    }
}

/// A run in progress, owned by the host through the resource handle.
pub struct Run(RefCell<core::SyncRun>);

impl wit::GuestRun for Run {
    fn start(
        config: String,
        m: wit::SyncMode,
        t: wit::Trigger,
    ) -> Result<wit::Run, wit::SyncError> {
        let run =
            with_host(|h| core::SyncRun::start(h, &config, mode(m), trigger(t))).map_err(error)?;
        Ok(wit::Run::new(Run(RefCell::new(run))))
    }

    fn resume(config: String) -> Result<Option<wit::Run>, wit::SyncError> {
        let run = with_host(|h| core::SyncRun::resume(h, &config)).map_err(error)?;
        Ok(run.map(|r| wit::Run::new(Run(RefCell::new(r)))))
    }

    fn id(&self) -> u64 {
        self.0.borrow().id()
    }

    fn step(&self) -> Result<wit::StepStatus, wit::SyncError> {
        let status = with_host(|h| self.0.borrow_mut().step(h)).map_err(error)?;
        Ok(match status {
            core::StepStatus::Working(r, phase) => wit::StepStatus::Working((record(r), phase)),
            core::StepStatus::Waiting(r, w) => wit::StepStatus::Waiting((
                record(r),
                wit::Wait {
                    phase: w.phase,
                    until_unix_ms: w.until_unix_ms,
                    reason: w.reason,
                },
            )),
            core::StepStatus::Finished(r) => wit::StepStatus::Finished(record(r)),
        })
    }

    fn cancel(&self) -> Result<wit::RunRecord, wit::SyncError> {
        with_host(|h| self.0.borrow_mut().cancel(h))
            .map(record)
            .map_err(error)
    }
}

impl wit::Guest for crate::Plugin {
    type Run = Run;

    fn history(config: String, limit: u32) -> Result<Vec<wit::RunRecord>, wit::SyncError> {
        let runs = with_host(|h| core::history(h, &config, limit)).map_err(error)?;
        Ok(runs.into_iter().map(record).collect())
    }

    fn get_safeguard(config: String) -> Result<wit::Safeguard, wit::SyncError> {
        let s = with_host(|h| core::get_safeguard(h, &config)).map_err(error)?;
        Ok(wit::Safeguard {
            deactivation_share_percent: s.deactivation_share_percent,
            deactivation_minimum: s.deactivation_minimum,
        })
    }

    fn set_safeguard(config: String, s: wit::Safeguard) -> Result<(), wit::SyncError> {
        let s = core::Safeguard {
            deactivation_share_percent: s.deactivation_share_percent,
            deactivation_minimum: s.deactivation_minimum,
        };
        with_host(|h| core::set_safeguard(h, &config, s)).map_err(error)
    }

    fn approve_held(config: String, run: u64) -> Result<wit::RunRecord, wit::SyncError> {
        with_host(|h| core::approve_held(h, &config, run))
            .map(record)
            .map_err(error)
    }

    fn reject_held(config: String, run: u64) -> Result<wit::RunRecord, wit::SyncError> {
        with_host(|h| core::reject_held(h, &config, run))
            .map(record)
            .map_err(error)
    }

    fn run_changes(
        config: String,
        run: u64,
        offset: u64,
        limit: u32,
    ) -> Result<wit::ChangePage, wit::SyncError> {
        let page =
            with_host(|h| core::run_changes(h, &config, run, offset, limit)).map_err(error)?;
        Ok(wit::ChangePage {
            total: page.total,
            changes: page.changes.into_iter().map(change).collect(),
        })
    }

    fn approve_held_by(
        config: String,
        run: u64,
        by: String,
    ) -> Result<wit::RunRecord, wit::SyncError> {
        with_host(|h| core::approve_held_by(h, &config, run, &by))
            .map(record)
            .map_err(error)
    }

    fn reject_held_by(
        config: String,
        run: u64,
        by: String,
    ) -> Result<wit::RunRecord, wit::SyncError> {
        with_host(|h| core::reject_held_by(h, &config, run, &by))
            .map(record)
            .map_err(error)
    }

    fn decisions(config: String, limit: u32) -> Result<Vec<wit::HeldDecision>, wit::SyncError> {
        let found = with_host(|h| core::decisions(h, &config, limit)).map_err(error)?;
        Ok(found
            .into_iter()
            .map(|d| wit::HeldDecision {
                run_id: d.run_id,
                approved: d.approved,
                by: d.by,
                at: d.at,
                people: d.people,
            })
            .collect())
    }

    fn get_rehire(config: String) -> Result<wit::RehirePolicy, wit::SyncError> {
        Ok(
            match with_host(|h| core::get_rehire(h, &config)).map_err(error)? {
                core::Rehire::Relink => wit::RehirePolicy::Relink,
                core::Rehire::NewPerson => wit::RehirePolicy::NewPerson,
            },
        )
    }

    fn set_rehire(config: String, policy: wit::RehirePolicy) -> Result<(), wit::SyncError> {
        let policy = match policy {
            wit::RehirePolicy::Relink => core::Rehire::Relink,
            wit::RehirePolicy::NewPerson => core::Rehire::NewPerson,
        };
        with_host(|h| core::set_rehire(h, &config, policy)).map_err(error)
    }

    fn provision(config: String, user: String) -> Result<wit::ProvisionReport, wit::SyncError> {
        let r = with_host(|h| core::provision(h, &config, &user)).map_err(error)?;
        Ok(wit::ProvisionReport {
            okta_id: r.okta_id,
            login: r.login,
            groups: r.groups,
            changes: r.changes.into_iter().map(change).collect(),
            requests: r.requests,
        })
    }
}

fn change(c: core::PersonChange) -> wit::PersonChange {
    wit::PersonChange {
        okta_id: c.okta_id,
        login: c.login,
        email: c.email,
        display_name: c.display_name,
        action: match c.action {
            core::ChangeAction::Create => wit::ChangeAction::Create,
            core::ChangeAction::Update => wit::ChangeAction::Update,
            core::ChangeAction::Deactivate => wit::ChangeAction::Deactivate,
            core::ChangeAction::Reactivate => wit::ChangeAction::Reactivate,
            core::ChangeAction::Unsynced => wit::ChangeAction::Unsynced,
        },
        fields: c
            .fields
            .into_iter()
            .map(|f| wit::FieldChange {
                field: f.field,
                before: f.old,
                after: f.new,
            })
            .collect(),
        roles_added: c.roles_added,
        roles_removed: c.roles_removed,
        reason: c.reason,
        held: c.held,
    }
}
