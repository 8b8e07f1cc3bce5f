//! Developer tools: `bench`, the bench's hidden `warm-probe`, `reliability`,
//! a standalone `fake-okta` and the `demo`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{Cli, open};

/// `harness bench`'s options (see README, Benchmarks).
#[derive(Args)]
pub struct BenchArgs {
    /// Users in the fake org (in each tenant's with --tenants).
    #[arg(long, default_value_t = 100_000)]
    pub users: usize,
    /// Groups in the fake org (in each tenant's with --tenants: --tenant-groups).
    #[arg(long, default_value_t = 500)]
    pub groups: usize,
    /// Rounds of the floor and the full sync (with --tenants: of all the
    /// tenants at once), reported by their median.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Latency mode: every request takes this many ms, under Okta's
    /// documented rate and concurrency limits.
    #[arg(long)]
    pub latency_ms: Option<u64>,
    /// Latency mode: up to this many ms more per request, at random.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Latency mode: what a new connection costs before its first request
    /// (default: twice --latency-ms, a TCP and a TLS handshake).
    #[arg(long)]
    pub handshake_ms: Option<u64>,
    /// Many-tenants mode: this many configs synced at once on one host.
    #[arg(long)]
    pub tenants: Option<usize>,
    /// Groups in each tenant's org.
    #[arg(long, default_value_t = 10)]
    pub tenant_groups: usize,
    /// Many-tenants mode: syncs the runtime runs at once (default: four
    /// per core).
    #[arg(long)]
    pub tenant_slots: Option<usize>,
    /// Many-tenants mode: every tenant's config in one Infraon (one SQLite
    /// database) instead of an Infraon of each tenant's own.
    #[arg(long)]
    pub tenants_share_infraon: bool,
    /// Growth mode: full syncs at --sizes, drawn as an SVG plot.
    #[arg(long)]
    pub growth: bool,
    /// Growth mode: org sizes.
    #[arg(long, value_delimiter = ',', default_values_t = host_harness::bench::growth::SIZES)]
    pub sizes: Vec<usize>,
    /// Growth mode: where the plot is drawn.
    #[arg(long, default_value = "docs/bench-growth.svg")]
    pub plot: PathBuf,
}

/// `harness bench`: exits 1 when a target is missed.
pub async fn bench(cli: &Cli, args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let BenchArgs {
        users,
        groups,
        rounds,
        latency_ms,
        jitter_ms,
        handshake_ms,
        tenants,
        tenant_groups,
        tenant_slots,
        tenants_share_infraon,
        growth,
        sizes,
        plot,
    } = args;
    use host_harness::bench;
    let dir = &cli.state_dir;
    // `--plugin` as every other command takes it: the bench used to load
    // the built-in component whatever it was given.
    let plugin = super::plugin_path(cli);
    let plugin = plugin.as_path();
    let (text, json_text, targets) = if *growth {
        let r = bench::growth::run(plugin, sizes, dir, plot).await?;
        (
            bench::growth::table(&r),
            serde_json::to_string(&r)?,
            r.targets,
        )
    } else if let Some(n) = tenants {
        let r = bench::tenants::run(
            plugin,
            *n,
            *users,
            *tenant_groups,
            tenant_slots.unwrap_or_else(bench::tenants::default_slots),
            *tenants_share_infraon,
            *rounds,
            dir,
        )
        .await?;
        (
            bench::tenants::table(&r),
            serde_json::to_string(&r)?,
            r.targets,
        )
    } else if let Some(ms) = latency_ms {
        let latency = fake_okta::Latency::ms(*ms, *jitter_ms);
        let handshake = handshake_ms.map_or_else(
            || bench::latency::default_handshake(&latency),
            std::time::Duration::from_millis,
        );
        let r = bench::latency::run(plugin, *users, *groups, latency, handshake, dir).await?;
        (
            bench::latency::table(&r),
            serde_json::to_string(&r)?,
            r.targets,
        )
    } else {
        let r = bench::run(plugin, *users, *groups, *rounds, dir).await?;
        (bench::table(&r), serde_json::to_string(&r)?, r.targets)
    };
    if json {
        outln!("{json_text}");
    } else {
        print!("{text}");
    }
    Ok(if targets.iter().all(|t| t.met) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `harness warm-probe`: open the state, make the first plugin call, report.
pub async fn warm_probe(cli: &Cli) -> anyhow::Result<ExitCode> {
    let rt = open(cli)?;
    rt.configs().await?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let probe = host_harness::bench::warm::Probe {
        cached: rt.loaded_from_cache(),
        peak_rss_mib: host_harness::bench::measure::peak_rss_mib(),
    };
    outln!("{}", serde_json::to_string(&probe)?);
    Ok(ExitCode::SUCCESS)
}

/// `harness reliability`: exits 1 unless every case is typed and lossless.
pub async fn reliability(cli: &Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let rows = host_harness::reliability::run_all(&cli.state_dir.join("cache")).await?;
    if json {
        outln!("{}", serde_json::to_string(&rows)?);
    } else {
        print!("{}", host_harness::reliability::table(&rows));
    }
    let clean = rows
        .iter()
        .all(|r| r.typed && r.lost == 0 && r.wrongly_deactivated == 0 && r.leaked == 0);
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Args)]
pub struct FakeOktaArgs {
    /// Users in the seeded org.
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Groups in the seeded org.
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
    /// Seed of the deterministic org.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Requests allowed per minute before 429 E0000047.
    #[arg(long, default_value_t = 600)]
    pub rate_limit: u32,
    /// Okta's documented limits: each endpoint family's own per-minute
    /// budget and 75 requests in flight org-wide (overrides --rate-limit).
    #[arg(long)]
    pub okta_limits: bool,
    /// Time every request takes, in ms, as a real org's would.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Up to this many ms more per request, drawn at random.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// What a new connection costs before its first request, in ms (a real
    /// org's TCP and TLS handshakes).
    #[arg(long, default_value_t = 0)]
    pub handshake_ms: u64,
    /// Requests answered at once org-wide before 429 (0: no limit).
    #[arg(long)]
    pub concurrency_limit: Option<u32>,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Users in the fake org.
    #[arg(long, default_value_t = 50)]
    pub users: usize,
    /// Groups in the fake org.
    #[arg(long, default_value_t = 10)]
    pub groups: usize,
}

pub async fn fake_okta(args: &FakeOktaArgs, json: bool) -> anyhow::Result<ExitCode> {
    let options = fake_okta::FakeOktaOptions {
        org: fake_okta::OrgSpec {
            users: args.users,
            groups: args.groups,
            seed: args.seed,
            ..Default::default()
        },
        port: args.port,
        rate_limit_per_minute: args.rate_limit,
        latency: fake_okta::Latency::ms(args.latency_ms, args.jitter_ms),
        handshake: std::time::Duration::from_millis(args.handshake_ms),
        ..Default::default()
    };
    let mut options = if args.okta_limits {
        options.with_okta_limits()
    } else {
        options
    };
    if let Some(limit) = args.concurrency_limit {
        options.concurrency_limit = limit;
    }
    let okta = fake_okta::FakeOkta::start(options).await?;
    if json {
        outln!(
            "{}",
            serde_json::json!({ "url": okta.url(), "token": okta.api_token() })
        );
    } else {
        outln!("fake Okta org at {}", okta.url());
        outln!("API token (SSWS): {}", okta.api_token());
        outln!(
            "{} users, {} groups; Ctrl-C stops it",
            args.users,
            args.groups
        );
    }
    tokio::signal::ctrl_c().await?;
    okta.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
