//! Driving sync runs: one instance per run, the plugin's `run` resource
//! stepped until it finishes, each step under its own deadline. An
//! unfinished run (the harness was killed) is resumed from the plugin's
//! checkpoint before a new one is started.
//!
//! Waiting is the host's job: when a step answers `waiting` (a 429 whose
//! window resets later, a retry backoff), the host sleeps here, outside
//! the guest and outside any call's deadline, then steps again. In `serve`
//! this sleep is a timer on the async runtime, so nothing else is held up.
//!
//! A run lease (see `lease`) keeps one host process per config's run.

use std::time::Duration;

use crate::bindings::exports::infraon::okta::sync::{
    RunRecord, Safeguard, StepStatus, SyncError, SyncMode, Trigger, Wait,
};
use crate::runtime::Runtime;

use super::Outcome;

impl Runtime {
    /// Run a sync of `config` to the end (or resume its unfinished run),
    /// calling `progress` after every step.
    pub async fn sync(
        &self,
        config: &str,
        mode: SyncMode,
        trigger: Trigger,
        mut progress: impl FnMut(&RunRecord, &str) + Send,
    ) -> Outcome<RunRecord, SyncError> {
        let overall = self.limits().run_deadline;
        let scope = self.installed_scope(config)?;
        let lease = self.take_lease(scope.config.as_deref().unwrap_or(config))?;
        self.call_within(scope, overall, async |store, plugin| {
            let run = match self
                .guard_step(store, async |s| plugin.run_resume(s, config).await)
                .await?
            {
                Err(e) => return Ok(Err(e)),
                Ok(Some(run)) => run,
                Ok(None) => match self
                    .guard_step(store, async |s| {
                        plugin.run_start(s, config, mode, trigger).await
                    })
                    .await?
                {
                    Ok(run) => run,
                    Err(e) => return Ok(Err(e)),
                },
            };
            loop {
                let status = self
                    .guard_step(store, async |s| plugin.run_step(s, run).await)
                    .await?;
                if !matches!(status, Ok(StepStatus::Finished(_)) | Err(_)) {
                    lease.renew()?;
                }
                match status {
                    Ok(StepStatus::Working((record, phase))) => progress(&record, &phase),
                    Ok(StepStatus::Waiting((record, wait))) => {
                        progress(&record, &format!("waiting: {}", wait.reason));
                        lease.sleep(wait_time(&wait)).await?;
                    }
                    Ok(StepStatus::Finished(record)) => {
                        run.resource_drop_async(&mut *store).await?;
                        return Ok(Ok(record));
                    }
                    Err(e) => {
                        run.resource_drop_async(&mut *store).await?;
                        return Ok(Err(e));
                    }
                }
            }
        })
        .await
    }

    /// Start a run and take at most `steps` steps, then stop as a crash
    /// would (no cancel): for resume tests and the reliability report.
    pub async fn sync_partially(
        &self,
        config: &str,
        mode: SyncMode,
        steps: usize,
    ) -> Outcome<Option<RunRecord>, SyncError> {
        let scope = self.installed_scope(config)?;
        let _lease = self.take_lease(scope.config.as_deref().unwrap_or(config))?;
        self.call(scope, async |store, plugin| {
            let run = match plugin
                .run_start(&mut *store, config, mode, Trigger::Manual)
                .await?
            {
                Ok(run) => run,
                Err(e) => return Ok(Err(e)),
            };
            let mut last = None;
            for _ in 0..steps {
                match plugin.run_step(&mut *store, run).await? {
                    Ok(StepStatus::Working((record, _)) | StepStatus::Waiting((record, _))) => {
                        last = Some(record)
                    }
                    Ok(StepStatus::Finished(record)) => return Ok(Ok(Some(record))),
                    Err(e) => return Ok(Err(e)),
                }
            }
            Ok(Ok(last))
        })
        .await
    }

    /// Stop the unfinished run of a config: nothing further applied, nobody
    /// deactivated. Refused (`Busy`) while another host process drives it.
    pub async fn cancel_sync(&self, config: &str) -> Outcome<Option<RunRecord>, SyncError> {
        let scope = self.installed_scope(config)?;
        let _lease = self.take_lease(scope.config.as_deref().unwrap_or(config))?;
        self.call(scope, async |store, plugin| {
            match plugin.run_resume(&mut *store, config).await? {
                Ok(Some(run)) => Ok(plugin.run_cancel(&mut *store, run).await?.map(Some)),
                Ok(None) => Ok(Ok(None)),
                Err(e) => Ok(Err(e)),
            }
        })
        .await
    }

    /// The latest runs of a config, newest first.
    pub async fn sync_history(
        &self,
        config: &str,
        limit: u32,
    ) -> Outcome<Vec<RunRecord>, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.history(store, config, limit).await
        })
        .await
    }

    /// Apply the deactivations a held run waits on.
    pub async fn approve_held(&self, config: &str, run_id: u64) -> Outcome<RunRecord, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.approve_held(store, config, run_id).await
        })
        .await
    }

    /// Drop the deactivations a held run waits on.
    pub async fn reject_held(&self, config: &str, run_id: u64) -> Outcome<RunRecord, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.reject_held(store, config, run_id).await
        })
        .await
    }

    /// A config's mass-deactivation safeguard.
    pub async fn safeguard(&self, config: &str) -> Outcome<Safeguard, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.get_safeguard(store, config).await
        })
        .await
    }

    /// Change a config's mass-deactivation safeguard; applies from the next run.
    pub async fn set_safeguard(&self, config: &str, s: Safeguard) -> Outcome<(), SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.set_safeguard(store, config, s).await
        })
        .await
    }
}

/// The longest the host sleeps before stepping again: a wait further away
/// (a clock gone wrong) is re-asked rather than trusted whole; a step
/// called early answers the same wait without sending anything.
pub const MAX_WAIT: Duration = Duration::from_secs(300);

/// How long to sleep for a `waiting` step, from the wall clock.
fn wait_time(wait: &Wait) -> Duration {
    let now_ms = super::lease::now_ms();
    Duration::from_millis(wait.until_unix_ms.saturating_sub(now_ms)).min(MAX_WAIT)
}
