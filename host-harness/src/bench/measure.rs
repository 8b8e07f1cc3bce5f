//! What a phase costs: wall time, CPU time of the process and of the fake
//! Okta's own threads, requests, and peak resident memory.

use std::time::Instant;

use fake_okta::FakeOkta;
use serde::Serialize;

/// One measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// Short name (`a`, `b`, ...).
    pub name: &'static str,
    /// What it measured.
    pub title: &'static str,
    /// Wall time.
    pub wall_ms: f64,
    /// CPU time (user + system) of the whole process during the phase, all
    /// threads, the fake Okta's included.
    pub cpu_ms: f64,
    /// CPU time of the fake Okta's own threads during the phase.
    pub fake_cpu_ms: f64,
    /// Okta users handled per second (0 where none are).
    pub people_per_s: f64,
    /// Requests sent to the fake Okta.
    pub requests: u64,
    /// Peak resident memory of the process during the phase.
    pub peak_rss_mib: f64,
}

impl Phase {
    /// CPU time of everything but the fake Okta: the client's own work.
    pub fn client_cpu_ms(&self) -> f64 {
        (self.cpu_ms - self.fake_cpu_ms).max(0.0)
    }
}

/// `sysconf(_SC_CLK_TCK)` on every Linux the harness runs on.
const CLOCK_TICKS_PER_S: f64 = 100.0;

/// utime + stime of a `/proc/.../stat` line, in ms (0 when unreadable).
/// The command name may hold spaces: fields are counted after its `)`.
fn stat_cpu_ms(stat: &str) -> f64 {
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `)`.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) * 1000.0 / CLOCK_TICKS_PER_S,
        _ => 0.0,
    }
}

/// CPU time the process has used so far, in ms, to the nanosecond: the
/// lone tenant's sync takes some 40 ms, four clock ticks of `/proc`.
pub fn process_cpu_ms() -> f64 {
    clock_ms(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or_else(|| {
        stat_cpu_ms(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
    })
}

/// CPU time the calling thread has used so far, in ms (0 if unreadable).
pub fn thread_cpu_ms() -> f64 {
    clock_ms(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0.0)
}

fn clock_ms(clock: libc::clockid_t) -> Option<f64> {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given, nothing else.
    if unsafe { libc::clock_gettime(clock, &mut t) } != 0 {
        return None;
    }
    Some(t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1_000_000.0)
}

/// The thread name the fake Okta's runtime gives its threads.
pub const FAKE_THREADS: &str = "fake-okta";

/// CPU time the fake Okta's threads have used so far, in ms.
pub fn fake_cpu_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|stat| stat.contains(&format!("({FAKE_THREADS})")))
        .map(|stat| stat_cpu_ms(&stat))
        .sum()
}

/// Forget the peak so far: the next [`peak_rss_mib`] is this phase's own.
pub fn reset_peak_rss() {
    // glibc keeps what earlier rounds freed; handed back first, a phase's
    // peak is its own and not the allocator's leftovers (some 60 MiB).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
    // Linux: writing 5 resets VmHWM to the current RSS.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Peak resident memory since the last [`reset_peak_rss`].
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// Resident memory now.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// A phase being measured: peak memory reset, and the clocks and the fake
/// Okta's request count read, when it started.
pub struct Measuring<'a> {
    okta: &'a FakeOkta,
    requests_before: u64,
    started: Instant,
    cpu_ms: f64,
    fake_cpu_ms: f64,
}

impl<'a> Measuring<'a> {
    /// Start measuring now.
    pub fn start(okta: &'a FakeOkta) -> Self {
        reset_peak_rss();
        Measuring {
            okta,
            requests_before: okta.request_count(),
            started: Instant::now(),
            cpu_ms: process_cpu_ms(),
            fake_cpu_ms: fake_cpu_ms(),
        }
    }

    /// The phase from its start until now, `people` handled in it.
    pub fn end(self, name: &'static str, title: &'static str, people: usize) -> Phase {
        let secs = self.started.elapsed().as_secs_f64();
        Phase {
            name,
            title,
            wall_ms: secs * 1000.0,
            cpu_ms: process_cpu_ms() - self.cpu_ms,
            fake_cpu_ms: fake_cpu_ms() - self.fake_cpu_ms,
            people_per_s: if people == 0 || secs == 0.0 {
                0.0
            } else {
                people as f64 / secs
            },
            requests: self.okta.request_count() - self.requests_before,
            peak_rss_mib: peak_rss_mib(),
        }
    }
}

/// The median round of a phase by wall time (the upper one of an even
/// count), with the highest peak memory of all rounds.
pub fn median(mut rounds: Vec<Phase>) -> Phase {
    let peak = rounds.iter().map(|p| p.peak_rss_mib).fold(0.0, f64::max);
    rounds.sort_by(|x, y| x.wall_ms.total_cmp(&y.wall_ms));
    let mut mid = rounds.swap_remove(rounds.len() / 2);
    mid.peak_rss_mib = peak;
    mid
}

/// The median of `values` (the upper one of an even count).
pub fn median_of(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_fields_are_counted_after_the_command_name() {
        let stat = "42 (fake okta) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        assert_eq!(stat_cpu_ms(stat), 3000.0);
        assert_eq!(median_of(&[3.0, 1.0, 2.0, 9.0]), 3.0);
    }
}
