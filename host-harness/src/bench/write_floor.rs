//! (w) the directory's own cost: the people a full sync (b) wrote, written
//! again natively into a fresh fake Infraon, a users page (200) a batch, in
//! the order b wrote them, on one thread as the runtime's writer writes
//! them. No Okta and no plugin: what b pays for its writes were fetching,
//! parsing and mapping free, and so how far b/a could come down at most.
//! Only the writes are timed: their wall time, and the process's CPU but
//! for the reads (the directory checkpoints on a thread of its own). The
//! people are read back a page at a time, so the other phases' memory is
//! untouched.

use std::path::Path;
use std::time::Instant;

use fake_infraon::SyncTarget;

use super::PAGE_SIZES;
use super::measure::{Phase, peak_rss_mib, process_cpu_ms, reset_peak_rss, thread_cpu_ms};
use crate::Infraon;

/// Write the users of the directory in `synced` (a full sync's) again into
/// a fresh directory in `fresh`, which is removed after.
pub async fn rewrite(synced: &Path, fresh: &Path) -> anyhow::Result<Phase> {
    let (synced, fresh) = (synced.to_owned(), fresh.to_owned());
    tokio::task::spawn_blocking(move || rewrite_blocking(&synced, &fresh)).await?
}

fn rewrite_blocking(synced: &Path, fresh: &Path) -> anyhow::Result<Phase> {
    let from = Infraon::open(synced)?;
    let _ = std::fs::remove_dir_all(fresh);
    let into = Infraon::open(fresh)?;
    reset_peak_rss();
    let (mut after, mut count, mut refused) = (0, 0, 0);
    let (mut wall_ms, mut reading_cpu_ms) = (0.0, 0.0);
    let process_cpu = process_cpu_ms();
    loop {
        let reading = thread_cpu_ms();
        let page = from.people_as_written(SyncTarget::Users, after, PAGE_SIZES.0)?;
        reading_cpu_ms += thread_cpu_ms() - reading;
        let Some(&(last, _)) = page.last() else {
            break;
        };
        after = last;
        let people: Vec<_> = page.into_iter().map(|(_, p)| p).collect();
        let started = Instant::now();
        refused += into
            .upsert_batch(&people)
            .iter()
            .filter(|r| r.is_err())
            .count();
        wall_ms += started.elapsed().as_secs_f64() * 1000.0;
        count += people.len();
    }
    // The writes' CPU is the process's but for the reads: the directory
    // checkpoints its log on a thread of its own, beside the writes.
    let cpu_ms = process_cpu_ms() - process_cpu - reading_cpu_ms;
    let peak_rss_mib = peak_rss_mib();
    drop(into);
    let _ = std::fs::remove_dir_all(fresh);
    anyhow::ensure!(
        refused == 0,
        "{refused} of b's people were refused when written again"
    );
    Ok(Phase {
        name: "w",
        title: "b's people written natively (directory alone)",
        wall_ms,
        cpu_ms,
        fake_cpu_ms: 0.0,
        people_per_s: count as f64 * 1000.0 / wall_ms.max(f64::MIN_POSITIVE),
        requests: 0,
        peak_rss_mib,
    })
}

/// The least b/a can be, wall and CPU, if the plugin's fetching, parsing
/// and mapping cost what the native client's do: b does a's work and w's,
/// on `cores` cores at best (the fake Okta's threads apart for CPU).
pub fn least_ratios(a: &Phase, w: &Phase, cores: usize) -> (f64, f64) {
    let wall = ((a.cpu_ms + w.cpu_ms) / cores.max(1) as f64).max(a.wall_ms) / a.wall_ms.max(1.0);
    let cpu = (a.client_cpu_ms() + w.cpu_ms) / a.client_cpu_ms().max(1.0);
    (wall, cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(wall_ms: f64, cpu_ms: f64, fake_cpu_ms: f64) -> Phase {
        Phase {
            name: "x",
            title: "x",
            wall_ms,
            cpu_ms,
            fake_cpu_ms,
            people_per_s: 0.0,
            requests: 0,
            peak_rss_mib: 0.0,
        }
    }

    fn person(n: usize) -> fake_infraon::Person {
        fake_infraon::Person {
            external_id: format!("00u{n:06}"),
            config: "bench".into(),
            kind: SyncTarget::Users,
            login: format!("p{n}@example.com"),
            email: format!("p{n}@example.com"),
            first_name: format!("P{n}"),
            last_name: "Bench".into(),
            display_name: String::new(),
            fields: vec![],
            roles: vec!["Technician".into()],
            status: fake_infraon::PersonStatus::Active,
        }
    }

    #[test]
    fn every_person_synced_is_written_again_and_the_copy_removed() {
        let dir = tempfile::tempdir().unwrap();
        let (synced, fresh) = (dir.path().join("synced"), dir.path().join("fresh"));
        let mut people: Vec<_> = (0..451).map(person).collect();
        // A requester is not one of the users a Users sync wrote.
        people[7].kind = SyncTarget::Requesters;
        people[7].roles.clear();
        let infraon = Infraon::open(&synced).unwrap();
        assert!(infraon.upsert_batch(&people).iter().all(Result::is_ok));
        let w = rewrite_blocking(&synced, &fresh).unwrap();
        let written = w.people_per_s * w.wall_ms / 1000.0;
        assert!((written - 450.0).abs() < 1e-6, "{written}");
        assert!(w.cpu_ms > 0.0 && w.requests == 0);
        assert!(!fresh.exists());
    }

    #[test]
    fn the_least_ratios_add_the_writes_to_the_floors_work() {
        // a: 1.0 s on 1.6 cores, 0.6 s of it the fake Okta's; w: 0.8 s CPU.
        let (a, w) = (phase(1000.0, 1600.0, 600.0), phase(900.0, 800.0, 0.0));
        let (wall, cpu) = least_ratios(&a, &w, 2);
        assert!((wall - 1.2).abs() < 1e-9, "{wall}");
        assert!((cpu - 1.8).abs() < 1e-9, "{cpu}");
        // Writes that fit in the idle core cost no wall time: never below 1.
        let (wall, _) = least_ratios(&a, &phase(100.0, 100.0, 0.0), 2);
        assert!((wall - 1.0).abs() < 1e-9, "{wall}");
    }
}
