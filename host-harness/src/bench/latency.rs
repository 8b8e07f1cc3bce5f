//! Latency mode: the org answers as a real one does — every request takes
//! its latency, each endpoint family has Okta's documented per-minute
//! budget, and 75 requests may be in flight org-wide — and the full sync
//! is measured against the limit floor: the larger of the requests of each
//! family over that family's budget, and the sum of the latencies over the
//! allowed concurrency. A native client under the same latency and limits
//! ([`super::floor`]) runs too, for comparison.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use fake_okta::{FakeOktaOptions, Latency, OKTA_CONCURRENCY_LIMIT, OKTA_FAMILY_LIMITS, OrgSpec};
use plugin_core::sync::fetch::Family;
use serde::Serialize;

use super::measure::{Measuring, Phase};
use super::own_okta::OwnOkta;
use super::{Target, default_roles, paging_minimum};
use crate::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use crate::policy::Limits;
use crate::{Infraon, Runtime};

/// The latency mode's result.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyReport {
    /// Org size.
    pub users: usize,
    /// Org size.
    pub groups: usize,
    /// Fixed latency per request, ms.
    pub latency_ms: u64,
    /// Jitter on top, up to this many ms.
    pub jitter_ms: u64,
    /// What a new connection costs before its first request, ms.
    pub handshake_ms: u64,
    /// The native client, then the full sync through the plugin.
    pub phases: Vec<Phase>,
    /// The full sync's requests by endpoint family.
    pub requests_by_family: BTreeMap<String, u64>,
    /// The largest family's requests over its budget, in seconds.
    pub budget_bound_s: f64,
    /// The sum of the latencies over the org's concurrent limit, in seconds.
    pub concurrency_bound_s: f64,
    /// The larger of the two: the limit floor.
    pub limit_floor_s: f64,
    /// The longest chain of pages that follow each other's cursors, times
    /// the latency (not part of the floor; shown because no client can
    /// fetch such a chain faster).
    pub cursor_chain_s: f64,
    /// Full sync over the limit floor.
    pub full_over_limit_floor: f64,
    /// Requests of the full sync minus the paging minimum.
    pub full_requests_over_minimum: i64,
    /// The targets and whether they were met.
    pub targets: Vec<Target>,
}

fn budget(family: &str) -> u32 {
    OKTA_FAMILY_LIMITS
        .iter()
        .find(|(f, _)| *f == family)
        .map_or(600, |(_, n)| *n)
}

/// A new connection's cost by default: a TCP and a TLS 1.3 handshake, two
/// round trips, each taken as long as a request's fixed latency.
pub fn default_handshake(latency: &Latency) -> Duration {
    latency.fixed * 2
}

/// Run the latency mode with the component at `plugin` in `work_dir`,
/// every new connection costing `handshake` first.
pub async fn run(
    plugin: &Path,
    users: usize,
    groups: usize,
    latency: Latency,
    handshake: Duration,
    work_dir: &Path,
) -> anyhow::Result<LatencyReport> {
    let okta = OwnOkta::start(
        FakeOktaOptions {
            org: OrgSpec {
                users,
                groups,
                ..Default::default()
            },
            latency,
            handshake,
            ..Default::default()
        }
        .with_okta_limits(),
    )
    .await?;
    let roles = default_roles()?;

    // Each phase starts with fresh windows, as a sync an hour after the
    // last would.
    okta.reset_rate_limit();
    let measuring = Measuring::start(&okta);
    super::floor::floor(&okta, &roles, OKTA_CONCURRENCY_LIMIT as usize).await?;
    let a = measuring.end("a", "native client, same pages, limits and latency", users);

    let state = work_dir.join(format!("bench-latency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let rt = Runtime::new(
        plugin,
        Some(&work_dir.join("bench-cache")),
        Arc::new(Infraon::open(&state)?),
        Limits::default(),
    )?;
    crate::reliability::world::install_against(&rt, &okta, "bench").await?;
    okta.reset_rate_limit();
    okta.clear_request_log();
    let measuring = Measuring::start(&okta);
    let full = rt
        .sync(
            "bench",
            SyncMode::Full,
            Trigger::Manual,
            super::phase_trace("b"),
        )
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let b = measuring.end("b", "full sync through the wasm plugin", users);
    anyhow::ensure!(
        full.outcome == Some(RunOutcome::Succeeded),
        "full sync did not succeed: {full:?}"
    );
    drop(rt);
    let _ = std::fs::remove_dir_all(&state);

    let log = okta.request_log();
    let mut requests_by_family: BTreeMap<String, u64> = BTreeMap::new();
    for r in &log {
        *requests_by_family
            .entry(Family::of(&r.path_and_query).as_str().to_owned())
            .or_default() += 1;
    }
    let budget_bound_s = requests_by_family
        .iter()
        .map(|(f, n)| *n as f64 / f64::from(budget(f)) * 60.0)
        .fold(0.0, f64::max);
    let mean_latency_s = (latency.fixed + latency.jitter / 2).as_secs_f64();
    let concurrency_bound_s = log.len() as f64 * mean_latency_s / f64::from(OKTA_CONCURRENCY_LIMIT);
    let chain = log
        .iter()
        .filter(|r| {
            Family::of(&r.path_and_query) == Family::Users && !r.path_and_query.contains("filter=")
        })
        .count();
    let limit_floor_s = budget_bound_s.max(concurrency_bound_s);
    let ratio = b.wall_ms / 1000.0 / limit_floor_s.max(f64::MIN_POSITIVE);
    let over = b.requests as i64 - paging_minimum(&okta, &roles) as i64;
    let targets = vec![
        Target::new(
            "full sync over the limit floor",
            format!("{ratio:.2}"),
            "<= 1.15",
            ratio <= 1.15,
        ),
        Target::new(
            "full sync requests - paging minimum",
            over.to_string(),
            "0",
            over == 0,
        ),
    ];
    Ok(LatencyReport {
        users,
        groups,
        latency_ms: latency.fixed.as_millis() as u64,
        jitter_ms: latency.jitter.as_millis() as u64,
        handshake_ms: handshake.as_millis() as u64,
        phases: vec![a, b],
        requests_by_family,
        budget_bound_s,
        concurrency_bound_s,
        limit_floor_s,
        cursor_chain_s: chain as f64 * mean_latency_s,
        full_over_limit_floor: ratio,
        full_requests_over_minimum: over,
        targets,
    })
}

/// The latency mode's report as text.
pub fn table(r: &LatencyReport) -> String {
    let mut out = format!(
        "org: {} users, {} groups; latency {} ms + up to {} ms, a new connection {} ms more; \
         Okta's documented limits\n\n",
        r.users, r.groups, r.latency_ms, r.jitter_ms, r.handshake_ms
    );
    out.push_str(&super::phases_table(&r.phases));
    let families: Vec<String> = r
        .requests_by_family
        .iter()
        .map(|(f, n)| format!("{f} {n} (budget {}/min)", budget(f)))
        .collect();
    out.push_str(&format!(
        "\nb requests by family: {}\nlimit floor {:.1} s = max(budget bound {:.1} s, latency / concurrency bound {:.1} s); \
         users cursor chain alone {:.1} s\nb / limit floor {:.2}; a / limit floor {:.2}\n\n",
        families.join(", "),
        r.limit_floor_s,
        r.budget_bound_s,
        r.concurrency_bound_s,
        r.cursor_chain_s,
        r.full_over_limit_floor,
        r.phases[0].wall_ms / 1000.0 / r.limit_floor_s.max(f64::MIN_POSITIVE),
    ));
    out.push_str(&super::targets_table(&r.targets));
    out
}
