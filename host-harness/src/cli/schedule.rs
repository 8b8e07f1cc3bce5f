//! `harness schedule`: set, show or clear a config's scheduled sync.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use host_harness::Infraon;
use host_harness::scheduler::{LocalTime, Schedule, WeeklyTime};

use super::Cli;

#[derive(Subcommand)]
pub enum ScheduleAction {
    /// Set (or replace) the schedule: exactly one of --daily, --weekly, --every-hours.
    Set {
        /// The config name.
        #[arg(long)]
        name: String,
        /// Every day at HH:MM local time.
        #[arg(long, group = "when")]
        daily: Option<String>,
        /// Every week, e.g. `mon@02:00`.
        #[arg(long, group = "when")]
        weekly: Option<String>,
        /// Every N hours from now.
        #[arg(long, group = "when")]
        every_hours: Option<u32>,
        /// IANA time zone of --daily / --weekly.
        #[arg(long, default_value = "UTC")]
        tz: String,
    },
    /// Show the schedule and its next fire.
    Show {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Remove the schedule.
    Clear {
        /// The config name.
        #[arg(long)]
        name: String,
    },
}

pub fn parse_local_time(text: &str, tz: &str) -> anyhow::Result<LocalTime> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not HH:MM"))?;
    Ok(LocalTime {
        hour: h.parse()?,
        minute: m.parse()?,
        time_zone: tz.to_string(),
    })
}

pub fn parse_schedule(
    daily: &Option<String>,
    weekly: &Option<String>,
    every: Option<u32>,
    tz: &str,
) -> anyhow::Result<Schedule> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if let Some(t) = daily {
        return Ok(Schedule::Daily(parse_local_time(t, tz)?));
    }
    if let Some(w) = weekly {
        let (day, t) = w
            .split_once('@')
            .ok_or_else(|| anyhow::anyhow!("{w:?} is not DAY@HH:MM"))?;
        let weekday = DAYS
            .iter()
            .position(|d| day.to_ascii_lowercase().starts_with(d))
            .ok_or_else(|| anyhow::anyhow!("{day:?} is not a weekday (mon..sun)"))?;
        return Ok(Schedule::Weekly(WeeklyTime {
            weekday: weekday as u8,
            at: parse_local_time(t, tz)?,
        }));
    }
    every
        .map(Schedule::EveryHours)
        .ok_or_else(|| anyhow::anyhow!("give one of --daily, --weekly, --every-hours"))
}

pub fn schedule(cli: &Cli, action: &ScheduleAction, json: bool) -> anyhow::Result<ExitCode> {
    use host_harness::interfaces::scheduler as store;
    let infraon = Arc::new(Infraon::open(&cli.state_dir)?);
    let backends = host_harness::backends(&infraon);
    let known = |name: &str| {
        infraon
            .installation_get(host_harness::PLUGIN_ID, name)
            .map(|i| i.is_some())
    };
    let name = match action {
        ScheduleAction::Set { name, .. }
        | ScheduleAction::Show { name }
        | ScheduleAction::Clear { name } => name,
    };
    if !known(name)? {
        eprintln!("no config named {name:?} is installed");
        return Ok(ExitCode::from(1));
    }
    match action {
        ScheduleAction::Set {
            name,
            daily,
            weekly,
            every_hours,
            tz,
        } => {
            let schedule = parse_schedule(daily, weekly, *every_hours, tz)?;
            if let Err(e) = store::store(&backends, name, schedule) {
                eprintln!("schedule refused: {e:?}");
                return Ok(ExitCode::from(1));
            }
        }
        ScheduleAction::Clear { name } => {
            infraon.schedule_clear(host_harness::PLUGIN_ID, name)?;
            outln!("schedule of {name:?} cleared");
            return Ok(ExitCode::SUCCESS);
        }
        ScheduleAction::Show { .. } => {}
    }
    match store::load(&backends, name).map_err(|e| anyhow::anyhow!("{e:?}"))? {
        None => outln!("{name:?} has no schedule"),
        Some(entry) => {
            let next = entry.next_fire().map_err(|e| anyhow::anyhow!(e))?;
            if json {
                outln!(
                    "{}",
                    serde_json::json!({ "ok": { "entry": entry, "next_fire": next.to_rfc3339() } })
                );
            } else {
                outln!(
                    "{name:?}: {:?}\nnext fire: {}",
                    entry.schedule,
                    next.to_rfc3339()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
