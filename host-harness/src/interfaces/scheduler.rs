//! `infraon:okta/scheduler`: schedules persisted by the fake Infraon. The
//! harness fires them into the plugin's `sync` export.

use crate::bindings::infraon::okta::scheduler::{Host, Schedule, SchedulerError};
use crate::state::PluginState;

fn invalid(e: impl std::fmt::Display) -> SchedulerError {
    SchedulerError::Invalid(e.to_string())
}

fn zone_ok(name: &str) -> Result<(), SchedulerError> {
    crate::scheduler::zone(name).map(|_| ()).map_err(invalid)
}

/// Keep a schedule for a config (validated), as the host's scheduler reads it.
pub fn store(
    infraon: &fake_infraon::Infraon,
    config: &str,
    schedule: Schedule,
) -> Result<(), SchedulerError> {
    validate(&schedule)?;
    let entry = crate::scheduler::Entry::new(schedule, chrono::Utc::now());
    let json = serde_json::to_string(&entry).map_err(|e| SchedulerError::Other(e.to_string()))?;
    infraon
        .schedule_set(crate::PLUGIN_ID, config, &json)
        .map_err(|e| SchedulerError::Other(e.to_string()))
}

/// The kept entry of a config, if any.
pub fn load(
    infraon: &fake_infraon::Infraon,
    config: &str,
) -> Result<Option<crate::scheduler::Entry>, SchedulerError> {
    let json = infraon
        .schedule_get(crate::PLUGIN_ID, config)
        .map_err(|e| SchedulerError::Other(e.to_string()))?;
    json.map(|j| serde_json::from_str(&j).map_err(|e| SchedulerError::Other(e.to_string())))
        .transpose()
}

/// Check a schedule before it is kept.
pub fn validate(schedule: &Schedule) -> Result<(), SchedulerError> {
    let check_time = |t: &crate::bindings::infraon::okta::scheduler::LocalTime| {
        if t.hour > 23 || t.minute > 59 {
            return Err(invalid(format!(
                "{:02}:{:02} is not a time of day",
                t.hour, t.minute
            )));
        }
        if t.time_zone.trim().is_empty() {
            return Err(invalid("a time zone is required, e.g. Asia/Kolkata"));
        }
        Ok(())
    };
    match schedule {
        Schedule::Daily(t) => check_time(t).and_then(|()| zone_ok(&t.time_zone)),
        Schedule::Weekly(w) if w.weekday > 6 => {
            Err(invalid("weekday must be 0 (Monday) to 6 (Sunday)"))
        }
        Schedule::Weekly(w) => check_time(&w.at).and_then(|()| zone_ok(&w.at.time_zone)),
        Schedule::EveryHours(0) => Err(invalid("every-hours must be at least 1")),
        Schedule::EveryHours(_) => Ok(()),
    }
}

impl Host for PluginState {
    fn set(&mut self, config: String, schedule: Schedule) -> Result<(), SchedulerError> {
        validate(&schedule)?;
        let json =
            serde_json::to_string(&schedule).map_err(|e| SchedulerError::Other(e.to_string()))?;
        self.infraon
            .schedule_set(crate::PLUGIN_ID, &config, &json)
            .map_err(|e| SchedulerError::Other(e.to_string()))
    }

    fn get(&mut self, config: String) -> Result<Option<Schedule>, SchedulerError> {
        let json = self
            .infraon
            .schedule_get(crate::PLUGIN_ID, &config)
            .map_err(|e| SchedulerError::Other(e.to_string()))?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| SchedulerError::Other(e.to_string())))
            .transpose()
    }

    fn clear(&mut self, config: String) -> Result<(), SchedulerError> {
        self.infraon
            .schedule_clear(crate::PLUGIN_ID, &config)
            .map_err(|e| SchedulerError::Other(e.to_string()))
    }
}
