//! `infraon:okta/scheduler`: schedules kept by the
//! [`Schedules`](crate::backend::Schedules) backend in the host's own type
//! ([`crate::scheduler::Entry`]) whoever sets them — the plugin through this
//! import, a CLI or a console — so the platform's timer fires what the
//! plugin set. The WIT types convert here and go no further.

use crate::backend::Backends;
use crate::bindings::infraon::okta::scheduler::{self as wit, Host, SchedulerError};
use crate::scheduler::{Entry, LocalTime, Schedule, WeeklyTime};
use crate::state::PluginState;

fn invalid(e: impl std::fmt::Display) -> SchedulerError {
    SchedulerError::Invalid(e.to_string())
}

fn other(e: impl std::fmt::Display) -> SchedulerError {
    SchedulerError::Other(e.to_string())
}

fn zone_ok(name: &str) -> Result<(), SchedulerError> {
    crate::scheduler::zone(name).map(|_| ()).map_err(invalid)
}

impl From<wit::LocalTime> for LocalTime {
    fn from(t: wit::LocalTime) -> Self {
        LocalTime {
            hour: t.hour,
            minute: t.minute,
            time_zone: t.time_zone,
        }
    }
}

impl From<LocalTime> for wit::LocalTime {
    fn from(t: LocalTime) -> Self {
        wit::LocalTime {
            hour: t.hour,
            minute: t.minute,
            time_zone: t.time_zone,
        }
    }
}

impl From<wit::Schedule> for Schedule {
    fn from(s: wit::Schedule) -> Self {
        match s {
            wit::Schedule::Daily(t) => Schedule::Daily(t.into()),
            wit::Schedule::Weekly(w) => Schedule::Weekly(WeeklyTime {
                weekday: w.weekday,
                at: w.at.into(),
            }),
            wit::Schedule::EveryHours(h) => Schedule::EveryHours(h),
        }
    }
}

impl From<Schedule> for wit::Schedule {
    fn from(s: Schedule) -> Self {
        match s {
            Schedule::Daily(t) => wit::Schedule::Daily(t.into()),
            Schedule::Weekly(w) => wit::Schedule::Weekly(wit::WeeklyTime {
                weekday: w.weekday,
                at: w.at.into(),
            }),
            Schedule::EveryHours(h) => wit::Schedule::EveryHours(h),
        }
    }
}

/// The installed name of `config` (names compare ignoring case, as the
/// plugin compares them), or `config` trimmed when none is installed.
fn canonical(backends: &Backends, config: &str) -> Result<String, SchedulerError> {
    backends
        .installed_name(crate::PLUGIN_ID, config)
        .map_err(other)
}

/// Keep a schedule for a config (validated), as the host's scheduler reads it.
pub fn store(backends: &Backends, config: &str, schedule: Schedule) -> Result<(), SchedulerError> {
    validate(&schedule)?;
    let config = canonical(backends, config)?;
    let entry = Entry::new(schedule, chrono::Utc::now());
    backends
        .schedules
        .set(crate::PLUGIN_ID, &config, &entry)
        .map_err(other)
}

/// The kept entry of a config, if any.
pub fn load(backends: &Backends, config: &str) -> Result<Option<Entry>, SchedulerError> {
    let config = canonical(backends, config)?;
    backends
        .schedules
        .get(crate::PLUGIN_ID, &config)
        .map_err(other)
}

/// Forget a config's schedule.
pub fn clear(backends: &Backends, config: &str) -> Result<(), SchedulerError> {
    let config = canonical(backends, config)?;
    backends
        .schedules
        .clear(crate::PLUGIN_ID, &config)
        .map_err(other)
}

/// An entry as kept; a bare schedule (as an earlier build's import kept
/// it, which `serve` then ignored) reads as one set when it is read.
pub fn parse_entry(json: &str) -> Result<Entry, SchedulerError> {
    Entry::from_json(json).map_err(other)
}

/// Check a schedule before it is kept.
pub fn validate(schedule: &Schedule) -> Result<(), SchedulerError> {
    let check_time = |t: &LocalTime| {
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
    fn set(&mut self, config: String, schedule: wit::Schedule) -> Result<(), SchedulerError> {
        store(&self.backends, &config, schedule.into())
    }

    fn get(&mut self, config: String) -> Result<Option<wit::Schedule>, SchedulerError> {
        Ok(load(&self.backends, &config)?.map(|e| e.schedule.into()))
    }

    fn clear(&mut self, config: String) -> Result<(), SchedulerError> {
        clear(&self.backends, &config)
    }
}
