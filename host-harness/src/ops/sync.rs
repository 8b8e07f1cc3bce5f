//! Driving sync runs: one instance per run, the plugin's `run` resource
//! stepped until it finishes, each step under its own deadline. An
//! unfinished run (the harness was killed) is resumed from the plugin's
//! checkpoint before a new one is started.

use crate::bindings::exports::infraon::okta::sync::{
    RunRecord, StepStatus, SyncError, SyncMode, Trigger,
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
        self.call_within(
            self.installed_scope(config),
            overall,
            async |store, plugin| {
                let runs = plugin.infraon_okta_sync().run();
                let run = match self
                    .guard_step(store, async |s| runs.call_resume(s, config).await)
                    .await?
                {
                    Err(e) => return Ok(Err(e)),
                    Ok(Some(run)) => run,
                    Ok(None) => match self
                        .guard_step(store, async |s| {
                            runs.call_start(s, config, mode, trigger).await
                        })
                        .await?
                    {
                        Ok(run) => run,
                        Err(e) => return Ok(Err(e)),
                    },
                };
                loop {
                    let status = self
                        .guard_step(store, async |s| runs.call_step(s, run).await)
                        .await?;
                    match status {
                        Ok(StepStatus::Working((record, phase))) => progress(&record, &phase),
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
            },
        )
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
        self.call(self.installed_scope(config), async |store, plugin| {
            let runs = plugin.infraon_okta_sync().run();
            let run = match runs
                .call_start(&mut *store, config, mode, Trigger::Manual)
                .await?
            {
                Ok(run) => run,
                Err(e) => return Ok(Err(e)),
            };
            let mut last = None;
            for _ in 0..steps {
                match runs.call_step(&mut *store, run).await? {
                    Ok(StepStatus::Working((record, _))) => last = Some(record),
                    Ok(StepStatus::Finished(record)) => return Ok(Ok(Some(record))),
                    Err(e) => return Ok(Err(e)),
                }
            }
            Ok(Ok(last))
        })
        .await
    }

    /// Stop the unfinished run of a config: nothing further applied, nobody deactivated.
    pub async fn cancel_sync(&self, config: &str) -> Outcome<Option<RunRecord>, SyncError> {
        self.call(self.installed_scope(config), async |store, plugin| {
            let runs = plugin.infraon_okta_sync().run();
            match runs.call_resume(&mut *store, config).await? {
                Ok(Some(run)) => Ok(runs.call_cancel(&mut *store, run).await?.map(Some)),
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
        self.call(self.installed_scope(config), async |store, plugin| {
            plugin
                .infraon_okta_sync()
                .call_history(store, config, limit)
                .await
        })
        .await
    }

    /// Apply the deactivations a held run waits on.
    pub async fn approve_held(&self, config: &str, run_id: u64) -> Outcome<RunRecord, SyncError> {
        self.call(self.installed_scope(config), async |store, plugin| {
            plugin
                .infraon_okta_sync()
                .call_approve_held(store, config, run_id)
                .await
        })
        .await
    }

    /// Drop the deactivations a held run waits on.
    pub async fn reject_held(&self, config: &str, run_id: u64) -> Outcome<RunRecord, SyncError> {
        self.call(self.installed_scope(config), async |store, plugin| {
            plugin
                .infraon_okta_sync()
                .call_reject_held(store, config, run_id)
                .await
        })
        .await
    }
}
