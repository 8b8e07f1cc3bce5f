//! `harness bench`: a large fake org synced four ways, side by side.
//!
//! - (a) the floor: a native Rust client downloading and parsing every page a
//!   full sync needs from the same fake Okta;
//! - (b) a full sync through the wasm plugin into a fresh SQLite directory;
//! - (c) an incremental sync after 1% of the users and 1% of the groups changed;
//! - (d) a warm start: harness start to the first plugin call, compiled
//!   component cached.
//!
//! Peak resident memory is the process's (`VmHWM`), reset before each phase
//! once the heap has handed back what earlier phases freed; the fake Okta
//! lives in the same process, so every figure includes it.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec};
use serde::Serialize;

use crate::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use crate::policy::Limits;
use crate::{Infraon, Runtime};

/// One measured phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    /// `a` floor, `b` full, `c` incremental, `d` warm start.
    pub name: &'static str,
    /// What it measured.
    pub title: &'static str,
    /// Wall time.
    pub wall_ms: f64,
    /// CPU time (user + system) of the whole process during the phase, all
    /// threads and the fake Okta included: steadier than wall time when
    /// other work shares the machine.
    pub cpu_ms: f64,
    /// Okta users handled per second (0 for the warm start).
    pub people_per_s: f64,
    /// Requests sent to the fake Okta.
    pub requests: u64,
    /// Peak resident memory of the process during the phase.
    pub peak_rss_mib: f64,
}

/// The whole benchmark's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Org size.
    pub users: usize,
    /// Org size.
    pub groups: usize,
    /// The four phases.
    pub phases: Vec<Phase>,
    /// b / a wall time (target <= 1.5): the median of the rounds' ratios.
    pub full_over_floor: f64,
    /// b / a wall time of each round, in the order run.
    pub full_over_floor_rounds: Vec<f64>,
    /// c / b wall time (target <= 0.05).
    pub incremental_over_full_time: f64,
    /// c / b requests (target <= 0.05).
    pub incremental_over_full_requests: f64,
    /// Requests of b minus the paging minimum (target 0).
    pub full_requests_over_minimum: i64,
}

/// CPU time (user + system) the process has used so far, in ms; 0 where
/// `/proc` is not available. Resolution is the kernel's clock tick (10 ms).
fn process_cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: fields are counted after its `)`.
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

/// `sysconf(_SC_CLK_TCK)` on every Linux the harness runs on.
const CLOCK_TICKS_PER_S: f64 = 100.0;

fn reset_peak_rss() {
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

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
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

/// (a): every page of a full sync, downloaded and parsed natively.
async fn floor(okta: &FakeOkta, roles: &[String]) -> anyhow::Result<u64> {
    let client = reqwest::Client::new();
    let auth = format!("SSWS {}", okta.api_token());
    let mut requests = 0;
    // Only the group ids are kept: holding every parsed page would make the
    // floor's peak memory that of the whole org as JSON values, which no
    // sync needs.
    let get_all = async |first: String,
                         requests: &mut u64,
                         mut ids: Option<&mut Vec<String>>|
           -> anyhow::Result<()> {
        let mut next = Some(first);
        while let Some(url) = next.take() {
            let resp = client
                .get(&url)
                .header("Authorization", &auth)
                .header("Accept", "application/json")
                .send()
                .await?;
            *requests += 1;
            let links: Vec<String> = resp
                .headers()
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok().map(String::from))
                .collect();
            next = links
                .iter()
                .find(|l| l.contains("rel=\"next\""))
                .and_then(|l| {
                    let start = l.find('<')? + 1;
                    let end = l.find('>')?;
                    Some(l[start..end].to_string())
                });
            let page: Vec<serde_json::Value> = serde_json::from_slice(&resp.bytes().await?)?;
            if let Some(ids) = ids.as_mut() {
                ids.extend(
                    page.iter()
                        .filter_map(|v| v["id"].as_str().map(String::from)),
                );
            }
        }
        Ok(())
    };
    let base = okta.url();
    let (users, groups, members) = PAGE_SIZES;
    let mut listed = Vec::new();
    get_all(
        format!("{base}/api/v1/groups?limit={groups}"),
        &mut requests,
        Some(&mut listed),
    )
    .await?;
    let org = okta.org();
    let walked: std::collections::HashSet<&str> =
        walked_groups(&org, roles).map(|g| g.id.as_str()).collect();
    for id in listed.iter().filter(|id| walked.contains(id.as_str())) {
        get_all(
            format!("{base}/api/v1/groups/{id}/users?limit={members}"),
            &mut requests,
            None,
        )
        .await?;
    }
    get_all(
        format!("{base}/api/v1/users?limit={users}"),
        &mut requests,
        None,
    )
    .await?;
    let filter = "status%20eq%20%22DEPROVISIONED%22";
    get_all(
        format!("{base}/api/v1/users?filter={filter}&limit={users}"),
        &mut requests,
        None,
    )
    .await?;
    Ok(requests)
}

/// A phase being measured: peak memory reset, and the clocks and the fake
/// Okta's request count read, when it started.
struct Measuring<'a> {
    okta: &'a FakeOkta,
    requests_before: u64,
    started: Instant,
    cpu_ms: f64,
}

impl<'a> Measuring<'a> {
    fn start(okta: &'a FakeOkta) -> Self {
        reset_peak_rss();
        Measuring {
            okta,
            requests_before: okta.request_count(),
            started: Instant::now(),
            cpu_ms: process_cpu_ms(),
        }
    }

    /// The phase from its start until now, `people` handled in it.
    fn end(self, name: &'static str, title: &'static str, people: usize) -> Phase {
        let secs = self.started.elapsed().as_secs_f64();
        Phase {
            name,
            title,
            wall_ms: secs * 1000.0,
            cpu_ms: process_cpu_ms() - self.cpu_ms,
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

/// Run the benchmark in `work_dir` (fresh state directories are made in it):
/// `rounds` rounds of (a) then (b), each full sync into a fresh directory,
/// then (c) on the last round's directory, then (d). A phase run in rounds
/// is reported by its median round (peak memory: the highest), and b/a is
/// the median of the rounds' own ratios: on a shared machine a and b of one
/// round see the same load, while speed drifts between rounds.
pub async fn run(
    users: usize,
    groups: usize,
    rounds: usize,
    work_dir: &Path,
) -> anyhow::Result<Report> {
    anyhow::ensure!(rounds >= 1, "the benchmark needs at least one round");
    let okta = FakeOkta::start(FakeOktaOptions {
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
    let wasm = Path::new(crate::OKTA_PLUGIN_WASM);
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
        let floor_requests = floor(&okta, &roles).await?;
        let a = measuring.end("a", "floor: native client, every page", users);
        debug_assert_eq!(floor_requests, a.requests);
        floors.push(a);
        let state = state_of(round);
        let _ = std::fs::remove_dir_all(&state);
        let (rt, full) = full_sync(&okta, wasm, &cache, &state, users).await?;
        fulls.push(full);
        last = Some(rt);
    }
    let rt = last.take().expect("at least one round");
    let state = state_of(rounds - 1);
    let ratios: Vec<f64> = floors
        .iter()
        .zip(&fulls)
        .map(|(a, b)| b.wall_ms / a.wall_ms)
        .collect();
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
        .sync("bench", SyncMode::Incremental, Trigger::Manual, |_, _| {})
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    phases.push(measuring.end(
        "c",
        "incremental after 1% users + 1% groups changed",
        incremental.counts.fetched as usize,
    ));
    drop(rt);

    let measuring = Measuring::start(&okta);
    let warm = Runtime::new(
        wasm,
        Some(&cache),
        Arc::new(Infraon::open(&state)?),
        Limits::default(),
    )?;
    warm.configs()
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    anyhow::ensure!(
        warm.loaded_from_cache(),
        "the warm start did not use the compiled cache"
    );
    phases.push(measuring.end("d", "warm start to the first plugin call", 0));

    let minimum = paging_minimum(&okta, &roles);
    okta.shutdown().await;
    let _ = std::fs::remove_dir_all(&state);
    let (b, c) = (&phases[1], &phases[2]);
    Ok(Report {
        users,
        groups,
        full_over_floor: median_of(&ratios),
        full_over_floor_rounds: ratios,
        incremental_over_full_time: c.wall_ms / b.wall_ms,
        incremental_over_full_requests: c.requests as f64 / b.requests as f64,
        full_requests_over_minimum: full_requests as i64 - minimum as i64,
        phases,
    })
}

/// (b): install the plugin into a fresh fake Infraon in `state` and run a
/// full sync; the runtime is returned for the incremental sync.
async fn full_sync(
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
        .sync("bench", SyncMode::Full, Trigger::Manual, |_, _| {})
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let phase = measuring.end("b", "full sync through the wasm plugin", users);
    anyhow::ensure!(
        full.outcome == Some(RunOutcome::Succeeded),
        "full sync did not succeed: {full:?}"
    );
    Ok((rt, phase))
}

/// The median round of a phase by wall time (the upper one of an even
/// count), with the highest peak memory of all rounds.
fn median(mut rounds: Vec<Phase>) -> Phase {
    let peak = rounds.iter().map(|p| p.peak_rss_mib).fold(0.0, f64::max);
    rounds.sort_by(|x, y| x.wall_ms.total_cmp(&y.wall_ms));
    let mut mid = rounds.swap_remove(rounds.len() / 2);
    mid.peak_rss_mib = peak;
    mid
}

/// The median of `values` (the upper one of an even count).
fn median_of(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// The report as the table the README quotes.
pub fn table(r: &Report) -> String {
    let mut out = format!("org: {} users, {} groups\n\n", r.users, r.groups);
    out.push_str(&format!(
        "{:<3} {:<48} {:>10} {:>10} {:>10} {:>9} {:>10}\n",
        "", "phase", "wall ms", "cpu ms", "people/s", "requests", "peak MiB"
    ));
    for p in &r.phases {
        out.push_str(&format!(
            "{:<3} {:<48} {:>10.1} {:>10.0} {:>10.0} {:>9} {:>10.1}\n",
            p.name, p.title, p.wall_ms, p.cpu_ms, p.people_per_s, p.requests, p.peak_rss_mib
        ));
    }
    let mark = |ok: bool| if ok { "ok" } else { "MISSED" };
    let peak = r.phases.iter().map(|p| p.peak_rss_mib).fold(0.0, f64::max);
    let warm = r.phases[3].wall_ms;
    out.push_str(&format!(
        "\nb/a time {:.2} (target <= 1.5: {}; median of {} rounds: {}; cpu b/a {:.2})\nc/b time {:.3} (target <= 0.05: {})\nc/b requests {:.3} (target <= 0.05: {})\n\
         b requests - paging minimum = {} (target 0: {})\npeak memory {:.0} MiB (target <= 256: {})\nwarm start {:.1} ms (target <= 50: {})\n",
        r.full_over_floor,
        mark(r.full_over_floor <= 1.5),
        r.full_over_floor_rounds.len(),
        r.full_over_floor_rounds
            .iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        r.phases[1].cpu_ms / r.phases[0].cpu_ms.max(1.0),
        r.incremental_over_full_time,
        mark(r.incremental_over_full_time <= 0.05),
        r.incremental_over_full_requests,
        mark(r.incremental_over_full_requests <= 0.05),
        r.full_requests_over_minimum,
        mark(r.full_requests_over_minimum == 0),
        peak,
        mark(peak <= 256.0),
        warm,
        mark(warm <= 50.0),
    ));
    out
}
