//! Many tenants: N Infraon customers, each with a config against its own
//! Okta org of its own people, synced at once on one host (one runtime:
//! one engine, instance pool and admission), against a tenant synced
//! alone (the median of [`ALONE_ROUNDS`] more tenants, each synced alone,
//! one after another, spread over the gaps before, between and after the
//! rounds of all at once: each round on a host of its own, from fresh
//! directories, and each target's figure the median of the rounds').
//! Every org runs on the fake Okta's own
//! threads, in this process: their memory and CPU are the bench's, not the
//! host's, and the report gives the host's share apart.
//!
//! Each tenant keeps its data in a fake Infraon of its own (its own SQLite
//! database, opened for each operation once the runtime has a place for
//! it ([`okta_host_runtime::Runtime::place`], [`Runtime::for_tenant_in`]) and closed after
//! it), as a platform keeps its customers' directories apart;
//! `shared` puts every tenant's config in one Infraon instead, so that
//! every directory write of every tenant goes through its one connection.
//!
//! The runtime admits a few syncs per core at once ([`default_slots`]),
//! the others wait first come, first served: 200 instances at once on 2
//! cores only contend (for the cores' caches and memory), while a few per
//! core keep both cores busy whenever one sync waits on Okta or its
//! directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use fake_infraon::LockStats;
use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec, UserStatus};
use serde::Serialize;
use serde_json::{Map, Value};

use super::Target;
use super::measure::{
    fake_cpu_ms, median_of, peak_rss_mib, process_cpu_ms, reset_peak_rss, rss_mib,
};
use super::own_okta::OwnOkta;
use crate::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use crate::policy::Limits;
use crate::{Infraon, Runtime, RuntimeOptions};

/// The many-tenants mode's result. The figures of all tenants at once
/// are the median round's by people/s (every round is in `rounds`), but
/// the peak memory, the highest of all rounds.
#[derive(Debug, Clone, Serialize)]
pub struct TenantsReport {
    /// Tenants synced at once.
    pub tenants: usize,
    /// People in each tenant's org.
    pub users: usize,
    /// Groups in each tenant's org.
    pub groups: usize,
    /// Syncs the runtime runs at once (its pool slots and global cap).
    pub slots: usize,
    /// Whether every tenant's config was in one Infraon (else each tenant
    /// had its own).
    pub shared_infraon: bool,
    /// One tenant synced alone: wall ms, the median of [`ALONE_ROUNDS`].
    pub single_ms: f64,
    /// Its people/s.
    pub single_people_per_s: f64,
    /// CPU ms of the process while it ran, the fake Okta's threads
    /// included: the median of [`ALONE_ROUNDS`].
    pub single_cpu_ms: f64,
    /// The most all tenants at once can reach over one alone on this
    /// machine's cores if each person cost the CPU it cost alone:
    /// cores × the lone sync's wall time over its CPU time. Above it, the
    /// people/s target needs CPU per person below what one sync alone uses.
    pub ceiling: f64,
    /// All tenants at once: wall ms from the first start to the last end.
    pub total_ms: f64,
    /// CPU ms of the process meanwhile.
    pub total_cpu_ms: f64,
    /// People/s of all tenants together.
    pub people_per_s: f64,
    /// Peak resident memory of the process while they ran.
    pub peak_rss_mib: f64,
    /// Resident memory when they started (the orgs and the idle host).
    pub start_rss_mib: f64,
    /// Resident memory the fake orgs added once populated, before the host
    /// started: the bench's, not the host's.
    pub orgs_rss_mib: f64,
    /// The host's share of the peak: the peak less the orgs'.
    pub host_peak_rss_mib: f64,
    /// CPU ms of the fake Okta's threads while they ran.
    pub fake_cpu_ms: f64,
    /// The fake Infraon's connection lock while they ran: the time it was
    /// held over the wall time (every storage, directory and lease call
    /// takes it, and a directory batch holds it for its whole transaction);
    /// with a database per tenant, their locks' times summed.
    pub lock_held_share: f64,
    /// The time callers waited for the lock (or the tenants' locks),
    /// summed over all of them, ms.
    pub lock_waited_ms: f64,
    /// Each tenant's time, from the common start to its end: the median.
    pub median_ms: f64,
    /// The slowest tenant's.
    pub slowest_ms: f64,
    /// Every round of all tenants at once, in the order run; the figures
    /// above are the median round's (by people/s), but the peak memory,
    /// the highest of all.
    pub rounds: Vec<TenantsRound>,
    /// The targets and whether they were met.
    pub targets: Vec<Target>,
}

fn name(tenant: usize) -> String {
    format!("tenant-{tenant:03}")
}

/// Tenant `i`'s org: `users` people of its own domain, each in two of its
/// `groups` groups.
fn populate(okta: &FakeOkta, tenant: usize, users: usize) -> anyhow::Result<()> {
    let groups: Vec<String> = okta
        .org()
        .groups
        .iter()
        .filter(|g| g.group_type == "OKTA_GROUP")
        .map(|g| g.id.clone())
        .collect();
    for n in 0..users {
        let email = format!("person{n}@t{tenant}.example.com");
        let mut p = Map::new();
        for (k, v) in [
            ("login", email.as_str()),
            ("email", email.as_str()),
            ("firstName", "Person"),
            ("lastName", &format!("T{tenant}N{n}")),
            ("title", &format!("Title {}", n % 7)),
        ] {
            p.insert(k.into(), Value::String(v.into()));
        }
        let id = okta.add_user(p, UserStatus::Active)?;
        for k in 0..groups.len().min(2) {
            okta.add_group_member(&groups[(n + k) % groups.len()], &id)?;
        }
    }
    Ok(())
}

/// The host and where each tenant's data lives.
struct Host {
    rt: Arc<Runtime>,
    state: PathBuf,
    shared: bool,
}

impl Host {
    /// Tenant `i`'s runtime: the host's own when all share one Infraon,
    /// else a handle over the tenant's own, opened once the runtime has a
    /// place for its sync (as a platform opens a customer's database only
    /// when its job can run: 200 queued syncs held 200 open databases and
    /// the 200 threads that opened them, some 70 MiB), on a blocking
    /// thread (opening reads and may create files, which would stall the
    /// executor's thread and every tenant on it).
    async fn tenant(&self, i: usize) -> anyhow::Result<Arc<Runtime>> {
        if self.shared {
            return Ok(self.rt.clone());
        }
        let place = self.rt.place(&name(i), &name(i)).await;
        let dir = self.state.join(name(i));
        let infraon = tokio::task::spawn_blocking(move || Infraon::open(&dir)).await??;
        Ok(Arc::new(self.rt.for_tenant_in(
            &name(i),
            Arc::new(infraon),
            place,
        )))
    }

    /// Sync each of `tenants` in full, one after another with nothing else
    /// running: each one's wall and CPU ms.
    async fn alone(&self, tenants: std::ops::Range<usize>) -> anyhow::Result<Vec<(f64, f64)>> {
        let mut times = Vec::with_capacity(tenants.len());
        for i in tenants {
            let cpu = process_cpu_ms();
            let started = Instant::now();
            let (ended, _) = self.sync(i).await?;
            times.push((
                (ended - started).as_secs_f64() * 1000.0,
                process_cpu_ms() - cpu,
            ));
        }
        Ok(times)
    }

    /// Sync tenant `i` in full: when it ended (its Infraon closed when it
    /// has its own) and, then, that Infraon's lock figures.
    async fn sync(&self, i: usize) -> anyhow::Result<(Instant, LockStats)> {
        let rt = self.tenant(i).await?;
        let config = name(i);
        let run = rt
            .sync(&config, SyncMode::Full, Trigger::Manual, |_, _| {})
            .await?
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        anyhow::ensure!(
            run.outcome == Some(RunOutcome::Succeeded),
            "{config}'s sync did not succeed: {run:?}"
        );
        let lock = if self.shared {
            LockStats::default()
        } else {
            rt.infraon().lock_stats()
        };
        // Closing copies the database's log back into it and flushes it: on
        // a blocking thread too, waited for.
        tokio::task::spawn_blocking(move || drop(rt)).await?;
        Ok((Instant::now(), lock))
    }
}

/// Tenants synced alone, one after another, for the lone tenant's figures:
/// one sync of a thousand people takes some 40–100 ms, a single one varied
/// by half from run to run, and the median of five still by a tenth. They
/// are spread before, between and after the rounds of all at once, so that
/// a machine slower or faster for a while weighs on both sides of the ratio.
pub const ALONE_ROUNDS: usize = 21;

/// Syncs at once by default: four per core, enough to keep every core busy
/// while some wait on Okta or their directory, few enough not to thrash
/// (with a database per tenant, 8 at once on 2 cores took 2–5 % less time
/// and CPU than 16 in three runs each, one after the other).
pub fn default_slots() -> usize {
    4 * std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// One round of all tenants at once.
#[derive(Debug, Clone, Serialize)]
pub struct TenantsRound {
    /// Wall ms from the first start to the last end.
    pub total_ms: f64,
    /// CPU ms of the process meanwhile.
    pub total_cpu_ms: f64,
    /// CPU ms of the fake Okta's threads meanwhile.
    pub fake_cpu_ms: f64,
    /// People/s of all tenants together.
    pub people_per_s: f64,
    /// That over the lone tenant's people/s.
    pub speedup: f64,
    /// Peak resident memory of the process while they ran.
    pub peak_rss_mib: f64,
    /// Resident memory when they started.
    pub start_rss_mib: f64,
    /// The fake Infraon's lock: held over the wall time, and waited for (ms).
    pub lock: (f64, f64),
    /// Each tenant's time from the common start to its end: the median.
    pub median_ms: f64,
    /// The slowest tenant's.
    pub slowest_ms: f64,
}

impl TenantsRound {
    /// The slowest tenant's time over the median's.
    fn spread(&self) -> f64 {
        self.slowest_ms / self.median_ms.max(f64::MIN_POSITIVE)
    }
}

/// Where the lone tenants of gap `gap` (before round `gap`, or after the
/// last of `rounds` rounds for the last gap) are: [`ALONE_ROUNDS`] spread
/// over the `rounds + 1` gaps, after the `tenants` synced at once.
fn lone_tenants(tenants: usize, rounds: usize, gap: usize) -> std::ops::Range<usize> {
    let at = |g: usize| tenants + g * ALONE_ROUNDS / (rounds + 1);
    at(gap)..at(gap + 1)
}

/// A host of its own for a round: a fresh state directory, Infraon and
/// runtime, the `tenants` and the lone tenants `lone` installed.
async fn host_for_round(
    plugin: &Path,
    work_dir: &Path,
    slots: usize,
    shared: bool,
    orgs: &[FakeOkta],
    tenants: usize,
    lone: std::ops::Range<usize>,
) -> anyhow::Result<(Arc<Host>, Arc<Infraon>)> {
    let state = work_dir.join(format!("bench-tenants-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let infraon = Arc::new(Infraon::open(&state)?);
    let rt = Arc::new(Runtime::with_options(
        plugin,
        Some(&work_dir.join("bench-cache")),
        infraon.clone(),
        RuntimeOptions {
            pool_slots: u32::try_from(slots)?,
            max_concurrent: slots,
            ..RuntimeOptions::with_limits(Limits::default())
        },
    )?);
    let host = Arc::new(Host { rt, state, shared });
    for i in (0..tenants).chain(lone) {
        crate::reliability::world::install_against(&*host.tenant(i).await?, &orgs[i], &name(i))
            .await?;
    }
    Ok((host, infraon))
}

/// Sync tenants `0..tenants` at once on `host`.
async fn together(
    host: &Arc<Host>,
    infraon: &Infraon,
    tenants: usize,
    users: usize,
) -> anyhow::Result<TenantsRound> {
    reset_peak_rss();
    let start_rss_mib = rss_mib();
    let cpu = process_cpu_ms();
    let fake_cpu = fake_cpu_ms();
    let lock_before = infraon.lock_stats();
    let started = Instant::now();
    let runs: Vec<_> = (0..tenants)
        .map(|i| {
            let host = host.clone();
            tokio::spawn(async move { host.sync(i).await })
        })
        .collect();
    let mut times = Vec::with_capacity(tenants);
    let mut lock = infraon.lock_stats().since(&lock_before);
    for run in runs {
        let (ended, tenant_lock) = run.await??;
        times.push((ended - started).as_secs_f64() * 1000.0);
        lock = lock.plus(&tenant_lock);
    }
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    if host.shared {
        lock = infraon.lock_stats().since(&lock_before);
    }
    Ok(TenantsRound {
        total_ms,
        total_cpu_ms: process_cpu_ms() - cpu,
        fake_cpu_ms: fake_cpu_ms() - fake_cpu,
        people_per_s: (tenants * users) as f64 / (total_ms / 1000.0),
        speedup: 0.0,
        peak_rss_mib: peak_rss_mib(),
        start_rss_mib,
        lock: (
            lock.held.as_secs_f64() * 1000.0 / total_ms.max(f64::MIN_POSITIVE),
            lock.waited.as_secs_f64() * 1000.0,
        ),
        median_ms: median_of(&times),
        slowest_ms: times.iter().copied().fold(0.0, f64::max),
    })
}

/// Run the many-tenants mode with the component at `plugin` in
/// `work_dir`, at most `slots` syncs at once; every tenant in one Infraon
/// when `shared`. All the tenants are synced at once in `rounds` rounds,
/// each on a host of its own from fresh directories (the same work each
/// time); the lone tenants are spread over the gaps before, between and
/// after them. The report is the median round's by people/s, with the
/// highest peak memory of all rounds; the spread target is the median of
/// the rounds' spreads.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    plugin: &Path,
    tenants: usize,
    users: usize,
    groups: usize,
    slots: usize,
    shared: bool,
    rounds: usize,
    work_dir: &Path,
) -> anyhow::Result<TenantsReport> {
    anyhow::ensure!(tenants >= 1, "at least one tenant");
    anyhow::ensure!(slots >= 1, "at least one slot");
    anyhow::ensure!(rounds >= 1, "at least one round");
    let before_orgs_rss = rss_mib();
    let options = (0..tenants + ALONE_ROUNDS)
        .map(|i| FakeOktaOptions {
            org: OrgSpec {
                users: 0,
                groups,
                // Okta ids are drawn from the seed: one seed per org.
                seed: 1_000 + i as u64,
                ..Default::default()
            },
            rate_limit_per_minute: u32::MAX,
            ..Default::default()
        })
        .collect();
    let (orgs, _host) = OwnOkta::start_many(options).await?;
    for (i, okta) in orgs.iter().enumerate() {
        populate(okta, i, users)?;
    }
    let orgs_rss_mib = (rss_mib() - before_orgs_rss).max(0.0);

    let (mut alone, mut all) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let last = round + 1 == rounds;
        let lone = lone_tenants(tenants, rounds, round);
        let after = if last {
            lone_tenants(tenants, rounds, rounds)
        } else {
            0..0
        };
        let (host, infraon) = host_for_round(
            plugin,
            work_dir,
            slots,
            shared,
            &orgs,
            tenants,
            lone.start..after.end.max(lone.end),
        )
        .await?;
        alone.extend(host.alone(lone).await?);
        all.push(together(&host, &infraon, tenants, users).await?);
        alone.extend(host.alone(after).await?);
        let state = host.state.clone();
        drop((host, infraon));
        let _ = std::fs::remove_dir_all(&state);
    }
    let (alone_ms, alone_cpu_ms): (Vec<f64>, Vec<f64>) = alone.into_iter().unzip();
    let (single_ms, single_cpu_ms) = (median_of(&alone_ms), median_of(&alone_cpu_ms));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let ceiling = cores * single_ms / single_cpu_ms.max(f64::MIN_POSITIVE);
    let single_people_per_s = users as f64 / (single_ms / 1000.0);
    for r in &mut all {
        r.speedup = r.people_per_s / single_people_per_s;
    }
    let peak_rss_mib = all.iter().map(|r| r.peak_rss_mib).fold(0.0, f64::max);
    let mut by_speed = all.clone();
    by_speed.sort_by(|x, y| x.people_per_s.total_cmp(&y.people_per_s));
    let mid = by_speed.swap_remove(by_speed.len() / 2);
    // Each target's figure is the median of the rounds' own.
    let spreads: Vec<f64> = all.iter().map(TenantsRound::spread).collect();
    let spread = median_of(&spreads);
    let targets = vec![
        Target::new(
            "people/s of all at once over one alone",
            format!("{:.2}", mid.speedup),
            ">= 1.6",
            mid.speedup >= 1.6,
        ),
        Target::new(
            "peak memory while they ran (MiB)",
            format!("{peak_rss_mib:.0}"),
            "<= 512",
            peak_rss_mib <= 512.0,
        ),
        Target::new(
            "slowest tenant over the median",
            format!("{spread:.2}"),
            "<= 2",
            spread <= 2.0,
        ),
    ];
    Ok(TenantsReport {
        tenants,
        users,
        groups,
        slots,
        shared_infraon: shared,
        single_ms,
        single_people_per_s,
        single_cpu_ms,
        ceiling,
        total_ms: mid.total_ms,
        total_cpu_ms: mid.total_cpu_ms,
        people_per_s: mid.people_per_s,
        peak_rss_mib,
        start_rss_mib: mid.start_rss_mib,
        orgs_rss_mib,
        host_peak_rss_mib: peak_rss_mib - orgs_rss_mib,
        fake_cpu_ms: mid.fake_cpu_ms,
        lock_held_share: mid.lock.0,
        lock_waited_ms: mid.lock.1,
        median_ms: mid.median_ms,
        slowest_ms: mid.slowest_ms,
        rounds: all,
        targets,
    })
}

/// The many-tenants report as text.
pub fn table(r: &TenantsReport) -> String {
    format!(
        "{} tenants of {} users and {} groups each, on one host, {} syncs at once, {}\n\n\
         one tenant alone:  {:>9.0} ms  {:>8.0} people/s  cpu {:.0} ms (medians of {}): at most \
         {:.2} × as many people/s at once on these cores at the same CPU per person\n\
         all together:      {:>9.0} ms  {:>8.0} people/s  cpu {:.0} ms (fake Okta's {:.0} ms)\n\
         Infraon's lock:    held {:.0} % of that time{}, waited for {:.0} ms in all\n\
         tenant times:      median {:.0} ms, slowest {:.0} ms\n\
         rounds:            {} at once, the median shown: people/s over one alone {}; \
         slowest over the median {}\n\
         memory:            peak {:.0} MiB (at the start {:.0} MiB; the fake orgs {:.0} MiB, \
         so the host's peak {:.0} MiB)\n\n{}",
        r.tenants,
        r.users,
        r.groups,
        r.slots,
        if r.shared_infraon {
            "all in one Infraon"
        } else {
            "each tenant's data in an Infraon of its own"
        },
        r.single_ms,
        r.single_people_per_s,
        r.single_cpu_ms,
        ALONE_ROUNDS,
        r.ceiling,
        r.total_ms,
        r.people_per_s,
        r.total_cpu_ms,
        r.fake_cpu_ms,
        r.lock_held_share * 100.0,
        if r.shared_infraon {
            ""
        } else {
            " (the tenants' locks summed)"
        },
        r.lock_waited_ms,
        r.median_ms,
        r.slowest_ms,
        r.rounds.len(),
        joined(r.rounds.iter().map(|x| x.speedup)),
        joined(r.rounds.iter().map(TenantsRound::spread)),
        r.peak_rss_mib,
        r.start_rss_mib,
        r.orgs_rss_mib,
        r.host_peak_rss_mib,
        super::targets_table(&r.targets)
    )
}

/// Figures as `1.63, 1.71`, in the order run.
fn joined(figures: impl Iterator<Item = f64>) -> String {
    figures
        .map(|f| format!("{f:.2}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lone_tenants_are_each_synced_once_spread_over_the_gaps() {
        for rounds in 1..=5 {
            let gaps: Vec<_> = (0..=rounds).map(|g| lone_tenants(200, rounds, g)).collect();
            let all: Vec<usize> = gaps.iter().cloned().flatten().collect();
            assert_eq!(all, (200..200 + ALONE_ROUNDS).collect::<Vec<_>>());
            let (fewest, most) = (
                gaps.iter().map(|g| g.len()).min().unwrap(),
                gaps.iter().map(|g| g.len()).max().unwrap(),
            );
            assert!(most - fewest <= 1, "{rounds} rounds: {gaps:?}");
        }
    }
}
