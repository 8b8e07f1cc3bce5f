//! `harness bench`: how fast a sync is against what Okta allows.
//!
//! The default mode syncs a large fake org with no latency and no limits:
//! - (a) the floor: a native client fetching and parsing every page a full
//!   sync needs (see [`floor`]);
//! - (b) a full sync through the wasm plugin into a fresh SQLite directory;
//! - (c) an incremental sync after 1% of the users and 1% of the groups changed;
//! - (d) a warm start: a fresh `harness` process, compiled component
//!   cached, to its first plugin call (see [`warm`]);
//! - (w) b's people written again natively into a fresh directory: the
//!   directory's own cost, and from it the least b/a could be (see
//!   [`write_floor`]); not a target.
//!
//! Other modes: [`latency`] (a real org's latency and Okta's documented
//! limits), [`tenants`] (many configs synced at once on one host) and
//! [`growth`] (10k to 1M users, drawn as a plot). Every mode checks its
//! targets; `harness bench` exits non-zero when one is missed.
//!
//! Peak resident memory is the process's (`VmHWM`), reset before each phase
//! once the heap has handed back what earlier phases freed; the fake Okta
//! lives in the same process (on threads of its own, whose CPU time is
//! reported apart), so every memory figure includes it.

pub mod floor;
pub mod growth;
pub mod latency;
pub mod measure;
pub mod own_okta;
pub mod tenants;
pub mod warm;
pub mod write_floor;

use std::path::Path;
use std::sync::Arc;

use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec};
use serde::Serialize;

use crate::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use crate::policy::Limits;
use crate::{Infraon, Runtime};
pub use measure::Phase;
use measure::{Measuring, median, median_of};
use own_okta::OwnOkta;

/// One target of a bench mode and whether this run met it.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// What is measured.
    pub what: String,
    /// The figure measured.
    pub measured: String,
    /// The target.
    pub target: String,
    /// Whether the figure meets it.
    pub met: bool,
}

/// With `HARNESS_BENCH_PHASES=1`, a progress callback that prints to
/// stderr when a run enters each phase and how long after the start, and
/// the steps each phase took: where a run's time goes. Silent otherwise.
pub fn phase_trace(
    label: &'static str,
) -> impl FnMut(&crate::bindings::exports::infraon::okta::sync::RunRecord, &str) + Send {
    let on = std::env::var_os("HARNESS_BENCH_PHASES").is_some_and(|v| v == "1");
    let start = std::time::Instant::now();
    let mut last: (String, u64) = (String::new(), 0);
    move |_record, phase| {
        if !on {
            return;
        }
        let phase = phase.split(':').next().unwrap_or(phase);
        if phase == last.0 {
            last.1 += 1;
            return;
        }
        if !last.0.is_empty() {
            eprintln!("  [{label}] {} steps in {}", last.1, last.0);
        }
        eprintln!(
            "  [{label}] {:>8.0} ms: {phase}",
            start.elapsed().as_secs_f64() * 1000.0
        );
        last = (phase.to_owned(), 1);
    }
}

impl Target {
    /// The same target, missed for this reason (shown in `measured`).
    fn because(mut self, why: &str) -> Target {
        self.measured = format!("{} ({why})", self.measured);
        self
    }

    fn new(what: &str, measured: String, target: &str, met: bool) -> Target {
        Target {
            what: what.to_owned(),
            measured,
            target: target.to_owned(),
            met,
        }
    }
}

/// The targets as lines, each marked `ok` or `MISSED`.
pub fn targets_table(targets: &[Target]) -> String {
    let mut out = String::new();
    for t in targets {
        out.push_str(&format!(
            "{:<6} {:<52} {:>18}  (target {})\n",
            if t.met { "ok" } else { "MISSED" },
            t.what,
            t.measured,
            t.target
        ));
    }
    out
}

/// The default mode's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Org size.
    pub users: usize,
    /// Org size.
    pub groups: usize,
    /// a, b and c.
    pub phases: Vec<Phase>,
    /// d.
    pub warm: warm::WarmStart,
    /// b / a wall time: the median of the rounds' ratios.
    pub full_over_floor: f64,
    /// b / a wall time of each round, in the order run.
    pub full_over_floor_rounds: Vec<f64>,
    /// b / a CPU time of the client (the process but the fake Okta's
    /// threads): the median of the rounds' ratios.
    pub cpu_over_floor: f64,
    /// b / a CPU time of the whole process, the fake Okta included.
    pub process_cpu_over_floor: f64,
    /// The fake Okta's share of the process's CPU time in a and in b.
    pub fake_cpu_share: (f64, f64),
    /// The least b/a could be, wall and CPU (the fake Okta's threads
    /// apart), were the plugin's fetching, parsing and mapping as cheap as
    /// the native client's: a's (its median round) and w's work on this
    /// machine's cores (see [`write_floor::least_ratios`]).
    pub least_over_floor: (f64, f64),
    /// Cores the least ratios assume.
    pub cores: usize,
    /// c / b wall time.
    pub incremental_over_full_time: f64,
    /// c / b requests.
    pub incremental_over_full_requests: f64,
    /// Requests of b minus the paging minimum.
    pub full_requests_over_minimum: i64,
    /// The targets and whether they were met.
    pub targets: Vec<Target>,
}

/// Okta's page sizes, which the plugin asks for: users, groups, members.
pub const PAGE_SIZES: (usize, usize, usize) = (200, 10_000, 1_000);

/// The groups whose members a full sync with the default mapping lists:
/// every `OKTA_GROUP`, and the `BUILT_IN` (Everyone) and `APP_GROUP` groups
/// a rule grants a role from — with the default rule, those named like one
/// of the Infraon `roles` (Users).
pub fn walked_groups<'a>(
    org: &'a fake_okta::OrgSnapshot,
    roles: &'a [String],
) -> impl Iterator<Item = &'a fake_okta::GroupInfo> {
    org.groups.iter().filter(|g| {
        g.group_type == "OKTA_GROUP" || roles.iter().any(|r| r.eq_ignore_ascii_case(&g.name))
    })
}

/// The Users roles a fresh Infraon has (what the default rule can grant).
pub fn default_roles() -> anyhow::Result<Vec<String>> {
    Ok(Infraon::open_in_memory()?
        .list_roles()?
        .into_iter()
        .filter(|r| r.kind == fake_infraon::SyncTarget::Users)
        .map(|r| r.name)
        .collect())
}

/// The paging minimum of a full sync at Okta's page sizes (see
/// [`PAGE_SIZES`]): every groups page, the members pages of the
/// [`walked_groups`], the users and the `DEPROVISIONED` users pages; an
/// empty listing is still a page.
pub fn paging_minimum(okta: &FakeOkta, roles: &[String]) -> u64 {
    let org = okta.org();
    let (users, groups, members) = PAGE_SIZES;
    let pages = |n: usize, size: usize| n.div_ceil(size).max(1) as u64;
    let deprovisioned = org.count_by_status(fake_okta::UserStatus::Deprovisioned);
    pages(org.groups.len(), groups)
        + walked_groups(&org, roles)
            .map(|g| pages(g.member_ids.len(), members))
            .sum::<u64>()
        + pages(org.visible_user_ids().len(), users)
        + pages(deprovisioned, users)
}

/// Run the default mode in `work_dir` (fresh state directories are made in
/// it): `rounds` rounds of (a) then (b), each full sync into a fresh
/// directory, then (c) on the last round's directory, then `rounds` warm
/// starts (d). A phase run in rounds is reported by its median round (peak
/// memory: the highest), and b/a is the median of the rounds' own ratios:
/// on a shared machine a and b of one round see the same load, while speed
/// drifts between rounds.
pub async fn run(
    plugin: &Path,
    users: usize,
    groups: usize,
    rounds: usize,
    work_dir: &Path,
) -> anyhow::Result<Report> {
    anyhow::ensure!(rounds >= 1, "the benchmark needs at least one round");
    let okta = OwnOkta::start(FakeOktaOptions {
        org: OrgSpec {
            users,
            groups,
            ..Default::default()
        },
        rate_limit_per_minute: u32::MAX,
        ..Default::default()
    })
    .await?;
    let cache = work_dir.join("bench-cache");
    let state_of = |round: usize| work_dir.join(format!("bench-{}-{round}", std::process::id()));
    let roles = default_roles()?;
    let (mut floors, mut fulls) = (Vec::new(), Vec::new());
    let mut last = None;
    for round in 0..rounds {
        // Only the last round's directory stays, for (c).
        if round > 0 {
            drop(last.take());
            let _ = std::fs::remove_dir_all(state_of(round - 1));
        }
        let measuring = Measuring::start(&okta);
        let in_flight = fake_okta::OKTA_CONCURRENCY_LIMIT as usize;
        let floor_requests = floor::floor(&okta, &roles, in_flight).await?;
        let a = measuring.end("a", "floor: native client, same parser and pages", users);
        anyhow::ensure!(
            floor_requests == a.requests,
            "the floor's requests miscounted"
        );
        floors.push(a);
        let state = state_of(round);
        let _ = std::fs::remove_dir_all(&state);
        let (rt, full) = full_sync(&okta, plugin, &cache, &state, users).await?;
        fulls.push(full);
        last = Some(rt);
    }
    let rt = last.take().expect("at least one round");
    let state = state_of(rounds - 1);
    let pairs = floors.iter().zip(&fulls);
    let ratios: Vec<f64> = pairs.clone().map(|(a, b)| b.wall_ms / a.wall_ms).collect();
    let cpu_ratios: Vec<f64> = pairs
        .clone()
        .map(|(a, b)| b.client_cpu_ms() / a.client_cpu_ms().max(1.0))
        .collect();
    let process_ratios: Vec<f64> = pairs.map(|(a, b)| b.cpu_ms / a.cpu_ms.max(1.0)).collect();
    // Every round sends the same requests; the most any sent is checked.
    let full_requests = fulls.iter().map(|p| p.requests).max().unwrap_or(0);
    let mut phases = vec![median(floors), median(fulls)];

    let org = okta.org();
    let step = 100;
    for u in org.users.iter().step_by(step) {
        let mut changes = serde_json::Map::new();
        changes.insert("title".into(), "Benchmarked".into());
        okta.update_user_profile(&u.id, changes)?;
    }
    for (i, g) in org.groups.iter().enumerate().step_by(step) {
        let member = &org.users[(i * 7919) % org.users.len()].id;
        if !g.member_ids.contains(member) {
            okta.add_group_member(&g.id, member)?;
        }
    }
    let measuring = Measuring::start(&okta);
    let incremental = rt
        .sync(
            "bench",
            SyncMode::Incremental,
            Trigger::Manual,
            phase_trace("c"),
        )
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    phases.push(measuring.end(
        "c",
        "incremental after 1% users + 1% groups changed",
        incremental.counts.fetched as usize,
    ));
    drop(rt);
    // After the rounds, so that its heap never weighs on their peaks.
    let rewritten = work_dir.join(format!("bench-w-{}", std::process::id()));
    let w = write_floor::rewrite(&state, &rewritten).await?;
    let _ = std::fs::remove_dir_all(&state);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let least_over_floor = write_floor::least_ratios(&phases[0], &w, cores);
    phases.push(w);

    let minimum = paging_minimum(&okta, &roles);
    drop(okta);
    let warm = {
        let (plugin, work_dir) = (plugin.to_owned(), work_dir.to_owned());
        tokio::task::spawn_blocking(move || warm::run(&plugin, &work_dir, rounds.max(5))).await??
    };
    let (a, b, c) = (&phases[0], &phases[1], &phases[2]);
    let share = |p: &Phase| p.fake_cpu_ms / p.cpu_ms.max(1.0);
    let mut report = Report {
        users,
        groups,
        full_over_floor: median_of(&ratios),
        full_over_floor_rounds: ratios,
        cpu_over_floor: median_of(&cpu_ratios),
        process_cpu_over_floor: median_of(&process_ratios),
        fake_cpu_share: (share(a), share(b)),
        least_over_floor,
        cores,
        incremental_over_full_time: c.wall_ms / b.wall_ms,
        incremental_over_full_requests: c.requests as f64 / b.requests as f64,
        full_requests_over_minimum: full_requests as i64 - minimum as i64,
        warm,
        targets: Vec::new(),
        phases,
    };
    report.targets = targets(&report);
    Ok(report)
}

fn targets(r: &Report) -> Vec<Target> {
    // w is a measurement of the directory, not a sync.
    let peak = r
        .phases
        .iter()
        .filter(|p| p.name != "w")
        .map(|p| p.peak_rss_mib)
        .fold(0.0, f64::max);
    vec![
        Target::new(
            "b/a wall time against the honest floor",
            format!("{:.2}", r.full_over_floor),
            "<= 1.3",
            r.full_over_floor <= 1.3,
        ),
        Target::new(
            "b/a CPU time (the fake Okta's threads left out)",
            format!("{:.2}", r.cpu_over_floor),
            "<= 1.5",
            r.cpu_over_floor <= 1.5,
        ),
        Target::new(
            "b requests - paging minimum",
            r.full_requests_over_minimum.to_string(),
            "0",
            r.full_requests_over_minimum == 0,
        ),
        Target::new(
            "c/b time",
            format!("{:.3}", r.incremental_over_full_time),
            "<= 0.05",
            r.incremental_over_full_time <= 0.05,
        ),
        Target::new(
            "c/b requests",
            format!("{:.3}", r.incremental_over_full_requests),
            "<= 0.05",
            r.incremental_over_full_requests <= 0.05,
        ),
        Target::new(
            "peak memory of a, b, c (MiB)",
            format!("{peak:.0}"),
            "<= 256",
            peak <= 256.0,
        ),
        Target::new(
            "warm start from a fresh process (ms, median)",
            format!("{:.1}", r.warm.median_ms),
            "<= 50",
            r.warm.median_ms <= 50.0,
        ),
    ]
}

/// (b): install the plugin into a fresh fake Infraon in `state` and run a
/// full sync; the runtime is returned for the incremental sync.
pub(crate) async fn full_sync(
    okta: &FakeOkta,
    wasm: &Path,
    cache: &Path,
    state: &Path,
    users: usize,
) -> anyhow::Result<(Runtime, Phase)> {
    let rt = Runtime::new(
        wasm,
        Some(cache),
        Arc::new(Infraon::open(state)?),
        Limits::default(),
    )?;
    crate::reliability::world::install_against(&rt, okta, "bench").await?;

    let measuring = Measuring::start(okta);
    let full = rt
        .sync("bench", SyncMode::Full, Trigger::Manual, phase_trace("b"))
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let phase = measuring.end("b", "full sync through the wasm plugin", users);
    anyhow::ensure!(
        full.outcome == Some(RunOutcome::Succeeded),
        "full sync did not succeed: {full:?}"
    );
    Ok((rt, phase))
}

/// The phases as the table the README quotes.
pub fn phases_table(phases: &[Phase]) -> String {
    let mut out = format!(
        "{:<3} {:<50} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "", "phase", "wall ms", "cpu ms", "fake cpu", "people/s", "requests", "peak MiB"
    );
    for p in phases {
        out.push_str(&format!(
            "{:<3} {:<50} {:>10.1} {:>9.0} {:>9.0} {:>9.0} {:>9} {:>9.1}\n",
            p.name,
            p.title,
            p.wall_ms,
            p.cpu_ms,
            p.fake_cpu_ms,
            p.people_per_s,
            p.requests,
            p.peak_rss_mib
        ));
    }
    out
}

/// The default mode's report as text.
pub fn table(r: &Report) -> String {
    let mut out = format!("org: {} users, {} groups\n\n", r.users, r.groups);
    out.push_str(&phases_table(&r.phases));
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!(
        "d   warm start, fresh process to first plugin call: median {:.1} ms of {} (rounds {}), probe peak {:.0} MiB\n\n",
        r.warm.median_ms,
        r.warm.rounds_ms.len(),
        r.warm
            .rounds_ms
            .iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.warm.peak_rss_mib
    ));
    out.push_str(&format!(
        "b/a wall by round: {}; b/a CPU of the whole process {:.2}; fake Okta's share of the CPU: a {:.0} %, b {:.0} %\n\n",
        fmt(&r.full_over_floor_rounds),
        r.process_cpu_over_floor,
        r.fake_cpu_share.0 * 100.0,
        r.fake_cpu_share.1 * 100.0,
    ));
    if let Some(w) = r.phases.iter().find(|p| p.name == "w") {
        // Per user of the org, as the growth mode's directory column.
        let per_person = w.cpu_ms * 1000.0 / r.users.max(1) as f64;
        out.push_str(&format!(
            "w: the directory's own writes took {:.0} ms CPU ({per_person:.1} µs a person); \
             were the plugin's fetching, parsing and mapping as cheap as the native client's, \
             b would still do a's work and w's: b/a at least {:.2} wall on {} cores, {:.2} CPU\n\n",
            w.cpu_ms, r.least_over_floor.0, r.cores, r.least_over_floor.1,
        ));
    }
    out.push_str(&targets_table(&r.targets));
    out
}
