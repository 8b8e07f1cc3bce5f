//! `harness serve`: the long-running host. It fires scheduled syncs (with a
//! clock tests can move), never two runs of one config at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::bindings::exports::infraon::okta::sync::{SyncMode, Trigger};
use crate::runtime::Runtime;
use crate::scheduler::{Entry, due};

/// Where the loop reads the time.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to (tests).
#[derive(Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock stopped at `at`.
    pub fn at(at: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(at)))
    }

    /// Move to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a tick did with a due fire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FireOutcome {
    /// A scheduled run was started (`missed` earlier fires coalesced into it).
    Started {
        /// The config.
        config: String,
        /// The scheduled instant.
        at: DateTime<Utc>,
        /// Missed fires coalesced.
        missed: u32,
    },
    /// The fire came while a run of the config was in progress.
    Skipped {
        /// The config.
        config: String,
        /// The scheduled instant.
        at: DateTime<Utc>,
    },
}

/// The scheduler loop of one harness process.
#[derive(Clone)]
pub struct ScheduleLoop {
    runtime: Arc<Runtime>,
    in_flight: Arc<Mutex<HashSet<String>>>,
}

/// Scheduled runs are full syncs: only a full listing detects people deleted
/// in Okta, and its cost is the paging minimum.
pub const SCHEDULED_MODE: SyncMode = SyncMode::Full;

impl ScheduleLoop {
    /// A loop over the configs of `runtime`'s Infraon.
    pub fn new(runtime: Arc<Runtime>) -> Self {
        ScheduleLoop {
            runtime,
            in_flight: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// Whether a run of `config` started by this loop is in progress.
    pub fn is_running(&self, config: &str) -> bool {
        self.in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(config)
    }

    /// Mark `config` busy or free (a run started outside the loop, e.g. Sync Now).
    pub fn set_running(&self, config: &str, running: bool) {
        let mut set = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if running {
            set.insert(config.to_string());
        } else {
            set.remove(config);
        }
    }

    fn record(&self, config: &str, level: &str, message: &str, fields: serde_json::Value) {
        let infraon = self.runtime.infraon();
        if let Err(e) = infraon.log_append(
            crate::PLUGIN_ID,
            Some(config),
            level,
            message,
            &fields.to_string(),
        ) {
            tracing::error!("cannot record a scheduler event: {e}");
        }
    }

    /// Handle every fire due at `now`: start its run, or skip and record it.
    pub fn tick(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<FireOutcome>> {
        let infraon = self.runtime.infraon();
        let mut entries: Vec<(String, Entry)> = infraon
            .schedules(crate::PLUGIN_ID)?
            .into_iter()
            .filter_map(|(config, json)| {
                let entry = crate::interfaces::scheduler::parse_entry(&json);
                if let Err(e) = &entry {
                    tracing::warn!(config, "schedule not fired: {e:?}");
                }
                entry.ok().map(|e| (config, e))
            })
            .collect();
        let fires = due(&mut entries, now);
        let mut outcomes = Vec::new();
        for fire in fires {
            if let Some((_, entry)) = entries.iter().find(|(c, _)| *c == fire.config) {
                infraon.schedule_set(
                    crate::PLUGIN_ID,
                    &fire.config,
                    &serde_json::to_string(entry)?,
                )?;
            }
            let fields =
                serde_json::json!({ "scheduled_at": fire.at.to_rfc3339(), "missed": fire.missed });
            if self.is_running(&fire.config) {
                self.record(
                    &fire.config,
                    "warn",
                    "scheduled sync skipped: a run of this config is in progress",
                    fields,
                );
                outcomes.push(FireOutcome::Skipped {
                    config: fire.config,
                    at: fire.at,
                });
                continue;
            }
            let message = if fire.missed > 0 {
                format!(
                    "scheduled sync started (catching up {} fire(s) missed while the host was down)",
                    fire.missed
                )
            } else {
                "scheduled sync started".to_string()
            };
            self.record(&fire.config, "info", &message, fields);
            self.spawn_run(fire.config.clone());
            outcomes.push(FireOutcome::Started {
                config: fire.config,
                at: fire.at,
                missed: fire.missed,
            });
        }
        Ok(outcomes)
    }

    fn spawn_run(&self, config: String) {
        self.set_running(&config, true);
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this
                .runtime
                .sync(&config, SCHEDULED_MODE, Trigger::Scheduled, |_, _| {})
                .await;
            match &outcome {
                Ok(Ok(r)) => tracing::info!(
                    config,
                    run = r.id,
                    "scheduled sync finished: {:?}",
                    r.outcome
                ),
                Ok(Err(e)) => tracing::warn!(
                    config,
                    "scheduled sync refused: {}",
                    crate::render::sync_error(e)
                ),
                Err(e) => tracing::error!(config, "scheduled sync failed in the host: {e}"),
            }
            this.set_running(&config, false);
        });
    }

    /// Tick forever (every `period`), reading the time from `clock`.
    pub async fn run(self, clock: Arc<dyn Clock>, period: Duration) {
        loop {
            if let Err(e) = self.tick(clock.now()) {
                tracing::error!("scheduler tick failed: {e:#}");
            }
            tokio::time::sleep(period).await;
        }
    }
}
