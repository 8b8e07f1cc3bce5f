//! The host's sync scheduler: when each config's schedule fires, in its
//! IANA time zone and across daylight-saving changes, and what to do with
//! fires missed while the host was down. The `serve` loop asks [`Scheduler::due`]
//! with a clock the tests can move.
//!
//! Policies (documented in the README):
//! - **Daily / weekly** fire at the local wall-clock time. On the spring-forward
//!   day, a time inside the gap fires at the first instant after the gap; on
//!   the fall-back day, a time that occurs twice fires once, at its first occurrence.
//! - **Every N hours** counts from when the schedule was set.
//! - **Missed fires** (host down): one catch-up run at start-up, however many
//!   were missed, recorded with the count; then the normal cadence.
//! - **Overlap**: a fire while a run of that config is in progress is skipped
//!   and recorded; the next fire is computed as usual.

use chrono::{
    DateTime, Datelike, Duration as ChronoDuration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// When a config syncs on its own: the host's own type, which is what is
/// stored. The WIT `scheduler.schedule` converts to and from it at the
/// import's edge (`interfaces::scheduler`); its JSON shape is the one the
/// generated type had, so schedules kept by earlier builds still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schedule {
    /// Every day at a local time in an IANA time zone.
    Daily(LocalTime),
    /// Every week on a day at a local time.
    Weekly(WeeklyTime),
    /// Every N hours from when the schedule was set.
    EveryHours(u32),
}

/// A wall-clock time in a time zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalTime {
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// IANA zone name, e.g. `Asia/Kolkata`.
    pub time_zone: String,
}

/// A weekday (0 = Monday .. 6 = Sunday) and a local time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyTime {
    /// 0 = Monday .. 6 = Sunday.
    pub weekday: u8,
    /// The time on that day.
    pub at: LocalTime,
}

/// What the host keeps per config: the schedule and when it last fired.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// The schedule as set.
    pub schedule: Schedule,
    /// When it was set: the anchor of `every-hours`, the floor of the first fire.
    pub set_at: DateTime<Utc>,
    /// The last fire handled (run or skipped).
    pub last_fired: Option<DateTime<Utc>>,
}

impl Entry {
    /// A schedule set now.
    pub fn new(schedule: Schedule, now: DateTime<Utc>) -> Entry {
        Entry {
            schedule,
            set_at: now,
            last_fired: None,
        }
    }

    /// An entry as a backend kept it in JSON ([`Entry`]'s serde shape); a
    /// bare [`Schedule`] (as an earlier build kept it) reads as one set now.
    pub fn from_json(json: &str) -> Result<Entry, String> {
        serde_json::from_str::<Entry>(json).or_else(|e| {
            serde_json::from_str::<Schedule>(json)
                .map(|s| Entry::new(s, Utc::now()))
                .map_err(|_| format!("a kept schedule cannot be read: {e}"))
        })
    }

    /// The first fire strictly after the last handled one (or after `set_at`).
    pub fn next_fire(&self) -> Result<DateTime<Utc>, String> {
        next_fire(
            &self.schedule,
            self.set_at,
            self.last_fired.unwrap_or(self.set_at),
        )
    }
}

/// Why a fire is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    /// The config to sync.
    pub config: String,
    /// The scheduled instant.
    pub at: DateTime<Utc>,
    /// Fires missed before this one while the host was down (coalesced).
    pub missed: u32,
}

/// The IANA zone named, or the message an admin sees for an unknown one.
pub fn zone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("unknown time zone {name:?}: use an IANA name such as Asia/Kolkata"))
}

/// The first instant at the local time `t` on `date` in `tz` (see the module
/// docs for the gap and the repeated hour).
fn local_instant(tz: Tz, date: NaiveDate, t: &LocalTime) -> DateTime<Utc> {
    let time = NaiveTime::from_hms_opt(t.hour.into(), t.minute.into(), 0).unwrap_or(NaiveTime::MIN);
    let mut naive = NaiveDateTime::new(date, time);
    // A gap is at most a few hours; step through it a minute at a time.
    for _ in 0..(24 * 60) {
        if let Some(first) = tz.from_local_datetime(&naive).earliest() {
            return first.with_timezone(&Utc);
        }
        naive += ChronoDuration::minutes(1);
    }
    tz.from_utc_datetime(&naive).with_timezone(&Utc)
}

/// The first fire of `schedule` strictly after `after`.
pub fn next_fire(
    schedule: &Schedule,
    set_at: DateTime<Utc>,
    after: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    match schedule {
        Schedule::EveryHours(n) => {
            let period = ChronoDuration::hours(i64::from((*n).max(1)));
            let elapsed = (after - set_at).num_seconds().max(0);
            let k = elapsed / period.num_seconds() + 1;
            Ok(set_at + period * (k as i32))
        }
        Schedule::Daily(t) => {
            let tz = zone(&t.time_zone)?;
            let mut date = after.with_timezone(&tz).date_naive() - ChronoDuration::days(1);
            loop {
                let at = local_instant(tz, date, t);
                if at > after {
                    return Ok(at);
                }
                date += ChronoDuration::days(1);
            }
        }
        Schedule::Weekly(w) => {
            let tz = zone(&w.at.time_zone)?;
            let mut date = after.with_timezone(&tz).date_naive() - ChronoDuration::days(1);
            loop {
                if date.weekday().num_days_from_monday() == u32::from(w.weekday) {
                    let at = local_instant(tz, date, &w.at);
                    if at > after {
                        return Ok(at);
                    }
                }
                date += ChronoDuration::days(1);
            }
        }
    }
}

/// Decide which fires are due at `now`, coalescing missed ones; updates
/// each entry's `last_fired` to the last fire handled.
pub fn due(entries: &mut [(String, Entry)], now: DateTime<Utc>) -> Vec<Fire> {
    let mut fires = Vec::new();
    for (config, entry) in entries.iter_mut() {
        let Ok(mut next) = entry.next_fire() else {
            continue;
        };
        if next > now {
            continue;
        }
        let mut missed = 0;
        while let Ok(after) = next_fire(&entry.schedule, entry.set_at, next) {
            if after > now {
                break;
            }
            missed += 1;
            next = after;
        }
        entry.last_fired = Some(next);
        fires.push(Fire {
            config: config.clone(),
            at: next,
            missed,
        });
    }
    fires
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::WeeklyTime;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn daily(h: u8, m: u8, tz: &str) -> Schedule {
        Schedule::Daily(LocalTime {
            hour: h,
            minute: m,
            time_zone: tz.into(),
        })
    }

    #[test]
    fn daily_two_am_stays_at_two_am_local_across_the_spring_change() {
        // Europe/London: 2026-03-29 clocks go 01:00 -> 02:00 (UTC+0 -> UTC+1).
        let s = daily(2, 0, "Europe/London");
        let set = utc("2026-03-27T12:00:00Z");
        let first = next_fire(&s, set, set).unwrap();
        assert_eq!(
            first,
            utc("2026-03-28T02:00:00Z"),
            "GMT: 02:00 local is 02:00 UTC"
        );
        let second = next_fire(&s, set, first).unwrap();
        assert_eq!(
            second,
            utc("2026-03-29T01:00:00Z"),
            "BST: 02:00 local is 01:00 UTC"
        );
        let third = next_fire(&s, set, second).unwrap();
        assert_eq!(third, utc("2026-03-30T01:00:00Z"));
    }

    #[test]
    fn daily_two_am_stays_at_two_am_local_across_the_autumn_change() {
        // Europe/London: 2026-10-25 clocks go 02:00 -> 01:00 (UTC+1 -> UTC+0).
        let s = daily(2, 0, "Europe/London");
        let set = utc("2026-10-23T12:00:00Z");
        let a = next_fire(&s, set, set).unwrap();
        let b = next_fire(&s, set, a).unwrap();
        let c = next_fire(&s, set, b).unwrap();
        assert_eq!(
            [a, b, c],
            [
                utc("2026-10-24T01:00:00Z"),
                utc("2026-10-25T02:00:00Z"),
                utc("2026-10-26T02:00:00Z")
            ]
        );
    }

    #[test]
    fn a_time_in_the_gap_fires_after_it_and_a_repeated_time_fires_once() {
        // America/New_York: 2026-03-08 02:00 -> 03:00; 2026-11-01 02:00 -> 01:00.
        let gap = daily(2, 30, "America/New_York");
        let at = next_fire(
            &gap,
            utc("2026-03-07T12:00:00Z"),
            utc("2026-03-08T05:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            at,
            utc("2026-03-08T07:00:00Z"),
            "03:00 EDT, the first instant after the gap"
        );
        let twice = daily(1, 30, "America/New_York");
        let first = next_fire(
            &twice,
            utc("2026-10-31T12:00:00Z"),
            utc("2026-10-31T12:00:00Z"),
        )
        .unwrap();
        assert_eq!(first, utc("2026-11-01T05:30:00Z"), "the first 01:30 (EDT)");
        let next = next_fire(&twice, utc("2026-10-31T12:00:00Z"), first).unwrap();
        assert_eq!(
            next,
            utc("2026-11-02T06:30:00Z"),
            "not the second 01:30 (EST) of the same day"
        );
    }

    #[test]
    fn weekly_and_every_hours() {
        let w = Schedule::Weekly(WeeklyTime {
            weekday: 0,
            at: LocalTime {
                hour: 9,
                minute: 15,
                time_zone: "Asia/Kolkata".into(),
            },
        });
        // 2026-11-28 is a Saturday; the next Monday is 2026-11-30, 09:15 IST = 03:45 UTC.
        let set = utc("2026-11-28T00:00:00Z");
        assert_eq!(
            next_fire(&w, set, set).unwrap(),
            utc("2026-11-30T03:45:00Z")
        );
        let h = Schedule::EveryHours(6);
        assert_eq!(
            next_fire(&h, set, set).unwrap(),
            utc("2026-11-28T06:00:00Z")
        );
        assert_eq!(
            next_fire(&h, set, utc("2026-11-28T13:00:00Z")).unwrap(),
            utc("2026-11-28T18:00:00Z")
        );
    }

    #[test]
    fn unknown_zone_is_an_error_not_a_fire() {
        assert!(
            next_fire(&daily(2, 0, "Mars/Olympus"), Utc::now(), Utc::now())
                .unwrap_err()
                .contains("Mars/Olympus")
        );
    }

    #[test]
    fn missed_fires_are_coalesced_into_one_catch_up() {
        let set = utc("2026-11-20T00:00:00Z");
        let mut entries = vec![("acme".to_string(), Entry::new(daily(2, 0, "UTC"), set))];
        // The host was down from the 20th to the 25th at 10:00: five 02:00 fires missed.
        let fires = due(&mut entries, utc("2026-11-25T10:00:00Z"));
        assert_eq!(
            fires,
            vec![Fire {
                config: "acme".into(),
                at: utc("2026-11-25T02:00:00Z"),
                missed: 5
            }]
        );
        assert!(
            due(&mut entries, utc("2026-11-25T10:01:00Z")).is_empty(),
            "nothing more until the 26th"
        );
        let fires = due(&mut entries, utc("2026-11-26T02:00:00Z"));
        assert_eq!(
            fires,
            vec![Fire {
                config: "acme".into(),
                at: utc("2026-11-26T02:00:00Z"),
                missed: 0
            }]
        );
    }
}
