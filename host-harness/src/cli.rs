//! The command line. Exit status: 0 done, 1 the plugin refused (a typed
//! error, shown), 2 the host failed (load, trap, deadline, bad usage).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use host_harness::bindings::exports::infraon::okta::install::Migration;
use host_harness::bindings::exports::infraon::okta::scope::{PopulationRule, Scope as ScopeRecord};
use host_harness::bindings::exports::infraon::okta::sync::{Safeguard, SyncMode, Trigger};
use host_harness::bindings::infraon::okta::types::{
    ConfigForm, InstallOptions, ServiceApp, SyncTarget,
};
use host_harness::policy::Limits;
use host_harness::scheduler::{LocalTime, Schedule, WeeklyTime};
use host_harness::{HostError, Infraon, Runtime, render};

/// `println!` that ends the process quietly when stdout is a closed pipe
/// (`harness people | head`), instead of panicking. Whatever the command
/// did is already done and kept when it prints.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            panic!("cannot write to stdout: {e}");
        }
    }};
}

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Plays Infraon for the Okta plugin: install, verify, sync against a real or fake Okta."
)]
struct Cli {
    /// Where the fake Infraon keeps its SQLite database, secrets key and compiled-component cache.
    #[arg(
        long,
        global = true,
        env = "HARNESS_STATE_DIR",
        default_value = ".state"
    )]
    state_dir: PathBuf,
    /// The plugin component to load (defaults to the one built with this harness).
    #[arg(long, global = true, env = "HARNESS_PLUGIN")]
    plugin: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate, verify and install a config (refused unless Okta verifies it).
    Install(FormArgs),
    /// Change an installed config (re-verified; omit the token to keep it).
    Update(UpdateArgs),
    /// Verify an installed config (`--name`) or a form (`--name --domain --token ...`).
    Verify(VerifyArgs),
    /// List installed configs.
    Configs,
    /// A service app's key pairs: `show` the public JWKs to paste into Okta,
    /// `add` one (the first signs at once; a second waits for `retire`),
    /// `retire` the old one after Okta has the new one.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Okta Event Hook of a config: the endpoint, the masked secret and the
    /// last deliveries; `--rotate` generates a new secret and prints it once.
    Hook {
        /// The config name.
        #[arg(long)]
        name: String,
        /// Generate (or replace) the hook secret and print it, once.
        #[arg(long)]
        rotate: bool,
        /// The console's base URL, to print the endpoint.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base: String,
    },
    /// Remove a config, its token and its state.
    Uninstall {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Sync Now: run a sync of an installed config to the end (resuming an unfinished run first).
    Sync {
        /// The config name.
        #[arg(long)]
        name: String,
        /// full, incremental or dry-run.
        #[arg(long, value_enum, default_value = "full")]
        mode: Mode,
    },
    /// Stop the unfinished run of a config (nobody is deactivated).
    Cancel {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Run history of a config, newest first.
    #[command(args_conflicts_with_subcommands = true)]
    Runs {
        /// `runs show --name N ID`: one run.
        #[command(subcommand)]
        show: Option<RunsShow>,
        /// The config name.
        #[arg(long, required = true)]
        name: Option<String>,
        /// How many runs.
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
    /// Apply the deactivations a held run waits on.
    Approve {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The held run.
        #[arg(long)]
        run: u64,
    },
    /// Drop the deactivations a held run waits on.
    Reject {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The held run.
        #[arg(long)]
        run: u64,
    },
    /// The people in the fake Infraon directory.
    People {
        /// Users or Requesters.
        #[arg(long, value_enum, default_value = "users")]
        kind: Target,
    },
    /// The mass-deactivation safeguard: show it, or set its share and minimum.
    Safeguard {
        /// The config name.
        #[arg(long)]
        name: String,
        /// Hold deactivations above this share (percent, 1-100) of active people...
        #[arg(long, requires = "minimum")]
        share: Option<u32>,
        /// ...and above this many people.
        #[arg(long, requires = "share")]
        minimum: Option<u32>,
    },
    /// Who a config syncs: everyone, members of Okta groups, and/or an Okta
    /// search expression; with the count of Okta users it covers.
    Scope {
        #[command(subcommand)]
        action: ScopeAction,
    },
    /// Population rules: members of an Okta group -> Users or Requesters;
    /// everyone else in scope gets the config's Sync field.
    Populations {
        /// The config name.
        #[arg(long)]
        name: String,
        /// Replace the rules, in order: `GROUP=users` or `GROUP=requesters`
        /// (a group by name or id); first match wins.
        #[arg(long = "rule", value_name = "GROUP=POPULATION")]
        rules: Vec<String>,
        /// Remove every rule (everyone in the Sync field's population).
        #[arg(long, conflicts_with = "rules")]
        clear: bool,
    },
    /// Okta – Infraon Configuration: the field mapping and group -> role rules.
    Map {
        #[command(subcommand)]
        action: MapAction,
    },
    /// Export Unsynced Data: the unsynced records of a run as CSV.
    Export {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The run (default: the last one).
        #[arg(long)]
        run: Option<u64>,
        /// Where to write the CSV (`-` for stdout).
        #[arg(long)]
        out: PathBuf,
    },
    /// Schedule Sync: set, show or clear a config's schedule.
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
    },
    /// Run the host: fire scheduled syncs and serve the web console until interrupted.
    Serve {
        /// How often the scheduler looks for due fires, in seconds.
        #[arg(long, default_value_t = 15)]
        tick_seconds: u64,
        /// Where the console listens: loopback, unless `--public-url` says
        /// how browsers reach it from elsewhere.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The console's own URL as browsers reach it (e.g.
        /// `https://infraon.example.com`); required to listen beyond
        /// loopback. Its host is then the only `Host` the console answers.
        #[arg(long)]
        public_url: Option<url::Url>,
        /// A file holding the console admin password to use (stored hashed,
        /// replacing any). Without it, the first start generates one and
        /// prints it once.
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
        /// Also run a fake Okta org on loopback to install against (its URL
        /// and API token are printed); saving sign-in settings registers
        /// the OIDC client with it.
        #[arg(long)]
        fake_okta: bool,
        /// Users in the fake Okta org.
        #[arg(long, default_value_t = 200, requires = "fake_okta")]
        fake_users: usize,
        /// Groups in the fake Okta org.
        #[arg(long, default_value_t = 12, requires = "fake_okta")]
        fake_groups: usize,
        /// Production mode, as Infraon itself runs: development mode is
        /// refused wherever it is posted, and the state directory is marked
        /// so that the CLI's `--dev` is refused against it too.
        #[arg(long)]
        production: bool,
    },
    /// Sign in with Okta: save a config's OIDC settings.
    Sso {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The OIDC client id of the Okta app.
        #[arg(long)]
        client_id: String,
        /// The client secret (omit for a public PKCE client); prefer the environment.
        #[arg(long, env = "OKTA_CLIENT_SECRET", hide_env_values = true)]
        client_secret: Option<String>,
        /// A custom authorization server id, e.g. `default` (omit for the org server).
        #[arg(long)]
        server: Option<String>,
        /// Turn sign-in on for Infraon Users.
        #[arg(long)]
        users: bool,
        /// Turn sign-in on for Self-Service Portal Requesters.
        #[arg(long)]
        requesters: bool,
        /// Create a Requester on first sign-in when none is linked.
        #[arg(long)]
        jit_requesters: bool,
    },
    /// Benchmark: a sync against the fastest native client and the limits
    /// Okta sets; exits non-zero when a target is missed. Modes: default (no
    /// latency), --latency-ms, --tenants, --growth (see README, Benchmarks).
    Bench {
        /// Users in the fake org (in each tenant's with --tenants).
        #[arg(long, default_value_t = 100_000)]
        users: usize,
        /// Groups in the fake org (in each tenant's with --tenants: --tenant-groups).
        #[arg(long, default_value_t = 500)]
        groups: usize,
        /// Rounds of the floor and the full sync, reported by their median.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Latency mode: every request takes this many ms, under Okta's
        /// documented rate and concurrency limits.
        #[arg(long)]
        latency_ms: Option<u64>,
        /// Latency mode: up to this many ms more per request, at random.
        #[arg(long, default_value_t = 0)]
        jitter_ms: u64,
        /// Many-tenants mode: this many configs synced at once on one host.
        #[arg(long)]
        tenants: Option<usize>,
        /// Groups in each tenant's org.
        #[arg(long, default_value_t = 10)]
        tenant_groups: usize,
        /// Growth mode: full syncs at --sizes, drawn as an SVG plot.
        #[arg(long)]
        growth: bool,
        /// Growth mode: org sizes.
        #[arg(long, value_delimiter = ',', default_values_t = host_harness::bench::growth::SIZES)]
        sizes: Vec<usize>,
        /// Growth mode: where the plot is drawn.
        #[arg(long, default_value = "docs/bench-growth.svg")]
        plot: PathBuf,
    },
    /// The bench's warm-start probe: open the state directory and make the
    /// first plugin call, then print how it went as JSON.
    #[command(hide = true)]
    WarmProbe,
    /// Reliability report: every Okta fault and sandbox probe against verify and sync.
    Reliability,
    /// Run the fake Okta org standalone until interrupted.
    FakeOkta(FakeOktaArgs),
    /// Start a fake Okta, install a config against it, verify, show failures, list.
    Demo(DemoArgs),
}

#[derive(Subcommand)]
enum RunsShow {
    /// One run: counts, requests, duration, outcome, error.
    Show {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The run id.
        id: u64,
    },
}

#[derive(Subcommand)]
enum MapAction {
    /// Print the mapping as JSON (the format `map set` reads).
    Show {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Validate and keep a mapping from a JSON file; applies from the next sync.
    Set {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The mapping, as `map show` prints it.
        #[arg(long)]
        file: PathBuf,
    },
    /// Back to the default mapping.
    Reset {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// The Infraon record an Okta user would produce.
    Preview {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The Okta login.
        #[arg(long)]
        login: String,
    },
    /// Okta's user profile schema (mapping sources), custom attributes included.
    Schema {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// What changed in the mapping on upgrade, and rules naming roles Infraon no longer has.
    Notices {
        /// The config name.
        #[arg(long)]
        name: String,
        /// Forget the kept upgrade notices after printing them.
        #[arg(long)]
        dismiss: bool,
    },
}

#[derive(Subcommand)]
enum ScheduleAction {
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

fn parse_local_time(text: &str, tz: &str) -> anyhow::Result<LocalTime> {
    let (h, m) = text
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("{text:?} is not HH:MM"))?;
    Ok(LocalTime {
        hour: h.parse()?,
        minute: m.parse()?,
        time_zone: tz.to_string(),
    })
}

fn parse_schedule(
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

#[derive(Clone, Copy, ValueEnum)]
enum Mode {
    Full,
    Incremental,
    DryRun,
}

impl From<Mode> for SyncMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Full => SyncMode::Full,
            Mode::Incremental => SyncMode::Incremental,
            Mode::DryRun => SyncMode::DryRun,
        }
    }
}

/// `update --migrate`: what happens to the people a config manages when
/// its Sync target or Okta org changes (refused without it while people are
/// linked).
#[derive(Clone, Copy, ValueEnum)]
enum Migrate {
    /// To the new population; for another org, deactivated until its first
    /// sync relinks them by email or login.
    Move,
    /// Deactivated (history kept); for another org, their email and login
    /// are released and its accounts become new people.
    Deactivate,
}

#[derive(Args)]
struct UpdateArgs {
    #[command(flatten)]
    form: FormArgs,
    /// Confirm what happens to the linked people when --sync or --domain
    /// changes: move them, or deactivate them.
    #[arg(long, value_enum)]
    migrate: Option<Migrate>,
}

/// `harness scope ...`.
#[derive(Subcommand)]
enum ScopeAction {
    /// Print the scope and the population rules.
    Show {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// The Okta groups of the config's org, to choose from.
    Groups {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// How many Okta users a scope covers, without saving it.
    Count {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Validate a scope against Okta and save it (the next run is full).
    Set {
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// A scope on the command line; neither option means everyone.
#[derive(Args)]
struct ScopeArgs {
    /// The config name.
    #[arg(long)]
    name: String,
    /// An Okta group (name or id) whose members are in scope; repeatable.
    #[arg(long = "group")]
    groups: Vec<String>,
    /// An Okta user search expression, e.g. 'profile.department eq "IT"'.
    #[arg(long)]
    filter: Option<String>,
}

impl ScopeArgs {
    fn scope(&self) -> ScopeRecord {
        ScopeRecord {
            groups: self.groups.clone(),
            filter: self.filter.clone().filter(|f| !f.trim().is_empty()),
        }
    }
}

/// What `scope show` answers.
#[derive(serde::Serialize)]
struct ScopeShow {
    scope: ScopeRecord,
    populations: Vec<PopulationRule>,
}

/// `GROUP=users|requesters` as a population rule.
fn population_rule(text: &str) -> anyhow::Result<PopulationRule> {
    let (group, population) = text.rsplit_once('=').ok_or_else(|| {
        anyhow::anyhow!("a rule is GROUP=users or GROUP=requesters, not {text:?}")
    })?;
    let population = match population.trim().to_ascii_lowercase().as_str() {
        "users" => SyncTarget::Users,
        "requesters" => SyncTarget::Requesters,
        other => anyhow::bail!("a rule's population is users or requesters, not {other:?}"),
    };
    Ok(PopulationRule {
        group: group.trim().to_string(),
        population,
    })
}

fn scope_text(s: &ScopeRecord) -> String {
    let groups = match s.groups.as_slice() {
        [] => "everyone".to_string(),
        g => format!("members of {}", g.join(", ")),
    };
    match &s.filter {
        Some(f) => format!("{groups} matching {f}"),
        None => groups,
    }
}

fn populations_text(rules: &[PopulationRule]) -> String {
    if rules.is_empty() {
        return "no population rules: everyone in scope gets the Sync field's population".into();
    }
    let lines: Vec<String> = rules
        .iter()
        .map(|r| {
            let to = match r.population {
                SyncTarget::Users => "Users",
                SyncTarget::Requesters => "Requesters",
            };
            format!("members of {} -> {to}", r.group)
        })
        .collect();
    format!(
        "{}\neveryone else in scope -> the Sync field's population",
        lines.join("\n")
    )
}

async fn scope(cli: &Cli, action: &ScopeAction, json: bool) -> anyhow::Result<ExitCode> {
    let rt = open(cli)?;
    match action {
        ScopeAction::Show { name } => {
            // One answer (one JSON object) for both.
            let scope = rt.scope(name).await?;
            let rules = rt.populations(name).await?;
            let both = match (scope, rules) {
                (Ok(scope), Ok(populations)) => Ok(ScopeShow { scope, populations }),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
            report(
                json,
                Ok(both),
                |v| {
                    format!(
                        "scope: {}\n{}",
                        scope_text(&v.scope),
                        populations_text(&v.populations)
                    )
                },
                render::sync_error,
            )
        }
        ScopeAction::Groups { name } => {
            let outcome = rt.okta_groups(name).await;
            report(
                json,
                outcome,
                |groups| {
                    groups
                        .iter()
                        .map(|g| format!("{:<22} {:<11} {}", g.id, g.kind, g.name))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
                render::sync_error,
            )
        }
        ScopeAction::Count { scope } => {
            let s = scope.scope();
            let outcome = rt.count_scope(&scope.name, &s).await;
            report(
                json,
                outcome,
                |n| {
                    format!(
                        "{} covers {n} Okta users, not counting deactivated ones (not saved)",
                        scope_text(&s)
                    )
                },
                render::sync_error,
            )
        }
        ScopeAction::Set { scope } => {
            let s = scope.scope();
            let outcome = rt.set_scope(&scope.name, &s).await;
            report(
                json,
                outcome,
                |n| {
                    format!(
                        "scope of {:?} saved: {} ({n} Okta users); the next run is full",
                        scope.name,
                        scope_text(&s)
                    )
                },
                render::sync_error,
            )
        }
    }
}

async fn populations(
    cli: &Cli,
    name: &str,
    rules: &[String],
    clear: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let rt = open(cli)?;
    if rules.is_empty() && !clear {
        let outcome = rt.populations(name).await;
        return report(json, outcome, |r| populations_text(r), render::sync_error);
    }
    let rules = rules
        .iter()
        .map(|r| population_rule(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let outcome = rt.set_populations(name, &rules).await;
    report(
        json,
        outcome,
        |()| {
            format!(
                "population rules of {name:?} saved; the next run is full\n{}",
                populations_text(&rules)
            )
        },
        render::sync_error,
    )
}

#[derive(Clone, Copy, ValueEnum)]
enum Target {
    Users,
    Requesters,
}

impl From<Target> for SyncTarget {
    fn from(t: Target) -> Self {
        match t {
            Target::Users => SyncTarget::Users,
            Target::Requesters => SyncTarget::Requesters,
        }
    }
}

#[derive(Args)]
struct FormArgs {
    /// Config Name.
    #[arg(long)]
    name: String,
    /// Okta Domain URL, e.g. your-org.okta.com.
    #[arg(long)]
    domain: String,
    /// API Token (prefer the environment variable: arguments show in `ps`).
    #[arg(
        long,
        env = "OKTA_API_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    token: String,
    /// Sync people in as Users (technicians/admins) or Requesters (SSP).
    #[arg(long, value_enum, default_value = "users")]
    sync: Target,
    /// Development mode: allow http://, localhost and IP literals (a local fake Okta).
    #[arg(long)]
    dev: bool,
    #[command(flatten)]
    auth: AuthArgs,
}

impl FormArgs {
    fn form(&self) -> (ConfigForm, InstallOptions) {
        let form = ConfigForm {
            name: self.name.clone(),
            okta_domain: self.domain.clone(),
            api_token: self.token.clone(),
            sync_target: self.sync.into(),
            service_app: self.auth.service_app(),
        };
        (
            form,
            InstallOptions {
                development_mode: self.dev,
            },
        )
    }
}

/// How a form authenticates: the API token (default) or a service app.
#[derive(Args)]
struct AuthArgs {
    /// Authentication: `api-token` (default) or `service-app` (OAuth 2.0,
    /// private_key_jwt with this host's key; see `harness keys`).
    #[arg(long, value_enum, default_value = "api-token")]
    auth: AuthKind,
    /// Client ID of the Okta API Services app (with `--auth service-app`).
    #[arg(long, default_value = "")]
    client_id: String,
    /// The app does not require DPoP (Okta's default for new apps is to require it).
    #[arg(long)]
    no_dpop: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum AuthKind {
    ApiToken,
    ServiceApp,
}

impl AuthArgs {
    fn service_app(&self) -> Option<ServiceApp> {
        match self.auth {
            AuthKind::ApiToken => None,
            AuthKind::ServiceApp => Some(ServiceApp {
                client_id: self.client_id.clone(),
                dpop: !self.no_dpop,
            }),
        }
    }
}

#[derive(Args)]
struct VerifyArgs {
    /// Config Name (alone: verify the installed config).
    #[arg(long)]
    name: String,
    /// Okta Domain URL (with it: verify this form, not the installed config).
    #[arg(long)]
    domain: Option<String>,
    /// API Token.
    #[arg(
        long,
        env = "OKTA_API_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    token: String,
    /// Users or Requesters.
    #[arg(long, value_enum, default_value = "users")]
    sync: Target,
    /// Development mode.
    #[arg(long)]
    dev: bool,
    #[command(flatten)]
    auth: AuthArgs,
}

#[derive(Subcommand)]
enum KeysAction {
    /// The config's public keys (JWK and kid), the signing one first.
    Show {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Make a new key pair for the config.
    Add {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Retire a key (never the last one).
    Retire {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The key's kid.
        #[arg(long)]
        kid: String,
    },
}

/// `harness keys ...`: the key store is the host's, so no plugin runs.
fn keys(cli: &Cli, action: &KeysAction, json: bool) -> anyhow::Result<ExitCode> {
    use host_harness::keys::KeyRing;
    let infraon = Infraon::open(&cli.state_dir)?;
    let result = match action {
        KeysAction::Show { name } => KeyRing::load(&infraon, name).and_then(|r| r.shown()),
        KeysAction::Add { name } => KeyRing::add(&infraon, name)
            .and_then(|_| KeyRing::load(&infraon, name))
            .and_then(|r| r.shown()),
        KeysAction::Retire { name, kid } => KeyRing::retire(&infraon, name, kid)
            .and_then(|()| KeyRing::load(&infraon, name))
            .and_then(|r| r.shown()),
    };
    match result {
        Ok(keys) if json => outln!("{}", serde_json::json!({ "ok": keys })),
        Ok(keys) if keys.is_empty() => outln!("no keys yet: `harness keys add --name N`"),
        Ok(keys) => {
            for k in keys {
                let role = if k.signing {
                    "signing"
                } else {
                    "next (signs once the older key is retired)"
                };
                outln!("kid {} ({role}, made {})\n{}", k.kid, k.created_at, k.jwk);
            }
        }
        Err(e) => {
            if json {
                outln!(
                    "{}",
                    serde_json::json!({ "error": "keys", "message": e.to_string() })
                );
            } else {
                outln!("{e}");
            }
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
struct FakeOktaArgs {
    /// Users in the seeded org.
    #[arg(long, default_value_t = 50)]
    users: usize,
    /// Groups in the seeded org.
    #[arg(long, default_value_t = 10)]
    groups: usize,
    /// Seed of the deterministic org.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Requests allowed per minute before 429 E0000047.
    #[arg(long, default_value_t = 600)]
    rate_limit: u32,
    /// Okta's documented limits: each endpoint family's own per-minute
    /// budget and 75 requests in flight org-wide (overrides --rate-limit).
    #[arg(long)]
    okta_limits: bool,
    /// Time every request takes, in ms, as a real org's would.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Up to this many ms more per request, drawn at random.
    #[arg(long, default_value_t = 0)]
    jitter_ms: u64,
    /// Requests answered at once org-wide before 429 (0: no limit).
    #[arg(long)]
    concurrency_limit: Option<u32>,
}

#[derive(Args)]
struct DemoArgs {
    /// Users in the fake org.
    #[arg(long, default_value_t = 50)]
    users: usize,
    /// Groups in the fake org.
    #[arg(long, default_value_t = 10)]
    groups: usize,
}

/// Entry point.
pub fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HARNESS_LOG")
                .unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        // Another process holds the config's run lease: worth retrying later.
        Err(e) if matches!(e.downcast_ref::<HostError>(), Some(HostError::Busy(_))) => {
            eprintln!("busy: {e:#}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn open(cli: &Cli) -> anyhow::Result<Runtime> {
    let infraon = Arc::new(Infraon::open(&cli.state_dir)?);
    let wasm = cli
        .plugin
        .clone()
        .unwrap_or_else(|| PathBuf::from(host_harness::OKTA_PLUGIN_WASM));
    Ok(Runtime::new(
        &wasm,
        Some(&cli.state_dir.join("cache")),
        infraon,
        Limits::from_env(),
    )?)
}

/// Print a plugin outcome: JSON or text, and the exit status it means.
fn report<T: serde::Serialize, E: serde::Serialize>(
    json: bool,
    outcome: Result<Result<T, E>, HostError>,
    ok_text: impl FnOnce(&T) -> String,
    err_text: impl FnOnce(&E) -> String,
) -> anyhow::Result<ExitCode> {
    match outcome? {
        Ok(v) => {
            if json {
                outln!("{}", serde_json::json!({ "ok": v }));
            } else {
                outln!("{}", ok_text(&v));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                outln!(
                    "{}",
                    serde_json::json!({ "error": e, "message": err_text(&e) })
                );
            } else {
                eprintln!("{}", err_text(&e));
            }
            Ok(ExitCode::from(1))
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let dev = match &cli.command {
        Command::Install(a) => a.dev,
        Command::Update(a) => a.form.dev,
        Command::Verify(a) => a.dev,
        _ => false,
    };
    if dev && host_harness::serve::is_production(&cli.state_dir) {
        eprintln!(
            "harness: {} (the state directory {} is marked production)",
            host_harness::serve::PRODUCTION_REFUSAL,
            cli.state_dir.display()
        );
        return Ok(ExitCode::from(2));
    }
    match &cli.command {
        Command::Install(args) => {
            let (form, options) = args.form();
            let outcome = open(&cli)?.install(&form, options).await;
            report(
                json,
                outcome,
                |s| format!("installed {:?} -> {}", s.name, s.okta_origin),
                render::install_error,
            )
        }
        Command::Update(args) => {
            let (form, options) = args.form.form();
            let rt = open(&cli)?;
            let outcome = match args.migrate {
                None => rt.update(&form, options).await,
                Some(m) => {
                    let m = match m {
                        Migrate::Move => Migration::Move,
                        Migrate::Deactivate => Migration::Deactivate,
                    };
                    rt.update_migrating(&form, options, m).await
                }
            };
            report(
                json,
                outcome,
                |s| format!("updated {:?} -> {}", s.name, s.okta_origin),
                render::install_error,
            )
        }
        Command::Verify(args) => {
            let rt = open(&cli)?;
            let outcome = match &args.domain {
                None => rt.verify_installed(&args.name).await,
                Some(domain) => {
                    let form = ConfigForm {
                        name: args.name.clone(),
                        okta_domain: domain.clone(),
                        api_token: args.token.clone(),
                        sync_target: args.sync.into(),
                        service_app: args.auth.service_app(),
                    };
                    rt.verify_form(
                        &form,
                        InstallOptions {
                            development_mode: args.dev,
                        },
                    )
                    .await
                }
            };
            report(
                json,
                outcome,
                |r| {
                    format!(
                        "verified {} ({} requests, {} ms)",
                        r.okta_origin, r.requests, r.elapsed_ms
                    )
                },
                render::verify_error,
            )
        }
        Command::Configs => {
            let outcome = open(&cli)?.configs().await;
            report(
                json,
                outcome,
                |configs| configs_table(configs),
                render::install_error,
            )
        }
        Command::Keys { action } => keys(&cli, action, json),
        Command::Uninstall { name } => {
            let outcome = open(&cli)?.uninstall(name).await;
            report(
                json,
                outcome,
                |()| format!("uninstalled {name:?}"),
                render::install_error,
            )
        }
        Command::Sync { name, mode } => {
            let rt = open(&cli)?;
            let bar = if json {
                indicatif::ProgressBar::hidden()
            } else {
                indicatif::ProgressBar::new_spinner()
            };
            let outcome = rt
                .sync(name, (*mode).into(), Trigger::Manual, |record, phase| {
                    let c = &record.counts;
                    bar.set_message(format!(
                        "{phase}: fetched {}, created {}, updated {}, unsynced {}, {} requests",
                        c.fetched, c.created, c.updated, c.unsynced, record.requests
                    ));
                    bar.tick();
                })
                .await;
            bar.finish_and_clear();
            report(json, outcome, render::run_record, render::sync_error)
        }
        Command::Cancel { name } => {
            let outcome = open(&cli)?.cancel_sync(name).await;
            report(
                json,
                outcome,
                |r| {
                    r.as_ref()
                        .map_or("no run in progress".into(), render::run_record)
                },
                render::sync_error,
            )
        }
        Command::Runs { show, name, limit } => {
            let (name, limit, id) = match show {
                Some(RunsShow::Show { name, id }) => (name.clone(), 100, Some(*id)),
                None => (name.clone().unwrap_or_default(), *limit, None),
            };
            let outcome = open(&cli)?.sync_history(&name, limit).await.map(|r| {
                r.map(|runs| {
                    runs.into_iter()
                        .filter(|run| id.is_none_or(|id| run.id == id))
                        .collect::<Vec<_>>()
                })
            });
            report(
                json,
                outcome,
                |runs| {
                    if runs.is_empty() {
                        if id.is_some() {
                            "no such run".into()
                        } else {
                            "no runs yet".into()
                        }
                    } else {
                        runs.iter()
                            .map(render::run_record)
                            .collect::<Vec<_>>()
                            .join("\n")
                    }
                },
                render::sync_error,
            )
        }
        Command::Approve { name, run } => {
            let outcome = open(&cli)?.approve_held(name, *run).await;
            report(json, outcome, render::run_record, render::sync_error)
        }
        Command::Reject { name, run } => {
            let outcome = open(&cli)?.reject_held(name, *run).await;
            report(json, outcome, render::run_record, render::sync_error)
        }
        Command::People { kind } => people(&cli, (*kind).into(), json),
        Command::Schedule { action } => schedule(&cli, action, json),
        Command::Hook { name, rotate, base } => hook(&cli, name, *rotate, base),
        Command::Map { action } => map(&cli, action, json).await,
        Command::Scope { action } => scope(&cli, action, json).await,
        Command::Populations { name, rules, clear } => {
            populations(&cli, name, rules, *clear, json).await
        }
        Command::Safeguard {
            name,
            share,
            minimum,
        } => {
            let rt = open(&cli)?;
            if let (Some(share), Some(minimum)) = (share, minimum) {
                let s = Safeguard {
                    deactivation_share_percent: *share,
                    deactivation_minimum: *minimum,
                };
                let outcome = rt.set_safeguard(name, s).await;
                report(
                    json,
                    outcome,
                    |()| format!("safeguard of {name:?} saved; it applies from the next run"),
                    render::sync_error,
                )
            } else {
                let outcome = rt.safeguard(name).await;
                report(
                    json,
                    outcome,
                    |s| {
                        format!(
                            "a run holds its deactivations when they exceed {}% of active people and {} people",
                            s.deactivation_share_percent, s.deactivation_minimum
                        )
                    },
                    render::sync_error,
                )
            }
        }
        Command::Export { name, run, out } => {
            let outcome = open(&cli)?.unsynced_csv(name, *run).await?;
            match outcome {
                Ok(csv) if out.as_os_str() == "-" => {
                    print!("{csv}");
                    Ok(ExitCode::SUCCESS)
                }
                Ok(csv) => {
                    std::fs::write(out, &csv)?;
                    let rows = csv.lines().count().saturating_sub(1);
                    eprintln!("wrote {} ({rows} unsynced record(s))", out.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    report::<(), _>(json, Ok(Err(e)), |_| String::new(), render::export_error)
                }
            }
        }
        Command::Serve {
            tick_seconds,
            listen,
            fake_okta,
            fake_users,
            fake_groups,
            production,
            public_url,
            admin_password_file,
        } => {
            anyhow::ensure!(
                listen.ip().is_loopback() || public_url.is_some(),
                "serve listens on loopback only unless --public-url names the console's URL (to listen on {listen})"
            );
            let rt = Arc::new(open(&cli)?);
            std::fs::create_dir_all(&cli.state_dir)?;
            if *production {
                host_harness::serve::mark_production(&cli.state_dir)?;
            }
            let production = host_harness::serve::is_production(&cli.state_dir);
            let chosen = match admin_password_file {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
                        .trim_end_matches(['\r', '\n'])
                        .to_string(),
                ),
                None => None,
            };
            let (password, shown) = host_harness::web::AdminPassword::load_or_create(
                &cli.state_dir,
                chosen.as_deref(),
            )?;
            let scheduler = host_harness::serve::ScheduleLoop::new(rt.clone());
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let base = match public_url {
                Some(u) => u.as_str().trim_end_matches('/').to_string(),
                None => format!("http://{}", listener.local_addr()?),
            };
            let mut console =
                host_harness::web::Console::new(rt, base.clone(), scheduler.clone(), !production)
                    .with_admin_password(password);
            if let Some(shown) = shown {
                eprintln!(
                    "console admin password (shown this once; only its hash is kept in {}): {shown}",
                    host_harness::web::admin_hash_path(&cli.state_dir).display()
                );
            }
            if production {
                eprintln!("production mode: development mode is refused");
            }
            let okta = if *fake_okta {
                let okta = Arc::new(
                    fake_okta::FakeOkta::start(fake_okta::FakeOktaOptions {
                        org: fake_okta::OrgSpec {
                            users: *fake_users,
                            groups: *fake_groups,
                            ..Default::default()
                        },
                        ..Default::default()
                    })
                    .await?,
                );
                console = console
                    .with_client_registrar(host_harness::web::fake_okta_registrar(okta.clone()));
                eprintln!(
                    "fake Okta org at {} ({fake_users} users, {fake_groups} groups); its API token: {}",
                    okta.url(),
                    okta.api_token()
                );
                Some(okta)
            } else {
                None
            };
            eprintln!(
                "console at {base}/ ; scheduled syncs fire from {} (Ctrl-C stops)",
                cli.state_dir.display()
            );
            let clock: Arc<dyn host_harness::serve::Clock> =
                Arc::new(host_harness::serve::SystemClock);
            tokio::select! {
                () = scheduler.run(clock, std::time::Duration::from_secs(*tick_seconds)) => {}
                r = axum::serve(listener, console.router()) => r?,
                _ = tokio::signal::ctrl_c() => {}
            }
            drop(okta);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sso {
            name,
            client_id,
            client_secret,
            server,
            users,
            requesters,
            jit_requesters,
        } => {
            let settings = host_harness::bindings::exports::infraon::okta::sso::SsoSettings {
                users_enabled: *users,
                requesters_enabled: *requesters,
                client_id: client_id.clone(),
                client_secret: client_secret.clone(),
                authorization_server: server.clone(),
                jit_requesters: *jit_requesters,
            };
            let outcome = open(&cli)?.sso_configure(name, &settings).await;
            report(
                json,
                outcome,
                |()| format!("SSO settings of {name:?} saved"),
                render::sso_error,
            )
        }
        Command::Bench {
            users,
            groups,
            rounds,
            latency_ms,
            jitter_ms,
            tenants,
            tenant_groups,
            growth,
            sizes,
            plot,
        } => {
            use host_harness::bench;
            let dir = &cli.state_dir;
            let (text, json_text, targets) = if *growth {
                let r = bench::growth::run(sizes, dir, plot).await?;
                (
                    bench::growth::table(&r),
                    serde_json::to_string(&r)?,
                    r.targets,
                )
            } else if let Some(n) = tenants {
                let r = bench::tenants::run(*n, *users, *tenant_groups, dir).await?;
                (
                    bench::tenants::table(&r),
                    serde_json::to_string(&r)?,
                    r.targets,
                )
            } else if let Some(ms) = latency_ms {
                let latency = fake_okta::Latency::ms(*ms, *jitter_ms);
                let r = bench::latency::run(*users, *groups, latency, dir).await?;
                (
                    bench::latency::table(&r),
                    serde_json::to_string(&r)?,
                    r.targets,
                )
            } else {
                let r = bench::run(*users, *groups, *rounds, dir).await?;
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
        Command::WarmProbe => {
            let rt = open(&cli)?;
            rt.configs().await?.map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let probe = host_harness::bench::warm::Probe {
                cached: rt.loaded_from_cache(),
                peak_rss_mib: host_harness::bench::measure::peak_rss_mib(),
            };
            outln!("{}", serde_json::to_string(&probe)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Reliability => {
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
        Command::FakeOkta(args) => fake_okta(args, json).await,
        Command::Demo(args) => {
            host_harness::demo::run(&cli.state_dir, args.users, args.groups, json).await
        }
    }
}

async fn map(cli: &Cli, action: &MapAction, json: bool) -> anyhow::Result<ExitCode> {
    let rt = open(cli)?;
    match action {
        MapAction::Show { name } => {
            let outcome = rt.mapping(name).await;
            report(json, outcome, pretty, render::map_error)
        }
        MapAction::Set { name, file } => {
            let mapping = serde_json::from_str(&std::fs::read_to_string(file)?)?;
            let outcome = rt.set_mapping(name, &mapping).await;
            report(
                json,
                outcome,
                |()| format!("mapping of {name:?} saved; it applies from the next sync"),
                render::map_error,
            )
        }
        MapAction::Reset { name } => {
            let outcome = rt.reset_mapping(name).await;
            report(json, outcome, pretty, render::map_error)
        }
        MapAction::Preview { name, login } => {
            let outcome = rt.preview(name, login).await;
            report(json, outcome, pretty, render::map_error)
        }
        MapAction::Schema { name } => {
            let outcome = rt.discover_schema(name).await;
            report(
                json,
                outcome,
                |attrs| {
                    attrs
                        .iter()
                        .map(|a| {
                            format!(
                                "{:<22} {:<8} {}{}",
                                a.name,
                                a.kind,
                                a.title,
                                if a.custom { " (custom)" } else { "" }
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("\n")
                },
                render::map_error,
            )
        }
        MapAction::Notices { name, dismiss } => {
            let outcome = rt.mapping_notices(name).await;
            if *dismiss && matches!(outcome, Ok(Ok(_))) {
                rt.dismiss_mapping_notices(name).await??;
            }
            report(
                json,
                outcome,
                |notices| {
                    if notices.is_empty() {
                        return "no notices".into();
                    }
                    notices
                        .iter()
                        .map(|n| format!("{} [{}] {}", n.at, code(n.code), n.message))
                        .collect::<Vec<_>>()
                        .join("\n")
                },
                render::map_error,
            )
        }
    }
}

/// A notice code as the contract spells it.
fn code(c: host_harness::bindings::exports::infraon::okta::map::NoticeCode) -> &'static str {
    use host_harness::bindings::exports::infraon::okta::map::NoticeCode;
    match c {
        NoticeCode::SafeRoleDefaults => "safe-role-defaults",
        NoticeCode::UnknownRole => "unknown-role",
    }
}

/// Pretty JSON, for text output of structured values.
fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// `harness hook`: see [`host_harness::hooks`].
fn hook(cli: &Cli, name: &str, rotate: bool, base: &str) -> anyhow::Result<ExitCode> {
    use host_harness::hooks;
    let infraon = Arc::new(Infraon::open(&cli.state_dir)?);
    if !hooks::installed(&infraon, name) {
        eprintln!("no config named `{name}` is installed");
        return Ok(ExitCode::from(2));
    }
    println!(
        "endpoint URL: {}/hooks/okta/{name}",
        base.trim_end_matches('/')
    );
    println!("authentication field: Authorization");
    if rotate {
        let secret = hooks::rotate_secret(&infraon, name)?;
        println!("authentication secret: {secret}");
        eprintln!(
            "Paste it into Okta now (Workflow > Event Hooks); it is not shown again, and the previous secret no longer works."
        );
    } else {
        match hooks::secret(&infraon, name)? {
            Some(s) => println!(
                "authentication secret: {} (run with --rotate for a new one)",
                hooks::masked(&s)
            ),
            None => println!("authentication secret: none yet (run with --rotate to generate one)"),
        }
    }
    for d in hooks::deliveries(&infraon, name) {
        println!("{} HTTP {} {}", d.received_at, d.status, d.summary);
    }
    Ok(ExitCode::SUCCESS)
}

fn schedule(cli: &Cli, action: &ScheduleAction, json: bool) -> anyhow::Result<ExitCode> {
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

fn people(cli: &Cli, kind: SyncTarget, json: bool) -> anyhow::Result<ExitCode> {
    let infraon = Infraon::open(&cli.state_dir)?;
    let people = infraon.people(kind.into())?;
    if json {
        outln!("{}", serde_json::json!({ "ok": people }));
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{:<28} {:<34} {:<12} {:<22} ROLES",
        "NAME",
        "EMAIL",
        "STATUS",
        "OKTA ID"
    );
    for p in &people {
        outln!(
            "{:<28} {:<34} {:<12} {:<22} {}",
            p.display_name,
            p.email,
            p.status.as_str(),
            if p.external_id.is_empty() {
                "(not linked)"
            } else {
                &p.external_id
            },
            p.roles.join(", ")
        );
    }
    outln!(
        "{} {}",
        people.len(),
        if people.len() == 1 {
            "person"
        } else {
            "people"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn configs_table(
    configs: &[host_harness::bindings::infraon::okta::types::ConfigSummary],
) -> String {
    if configs.is_empty() {
        return "no configs installed".into();
    }
    let mut out = format!(
        "{:<20} {:<34} {:<11} {:<21} {}",
        "NAME", "OKTA", "SYNC", "VERIFIED", "MODE"
    );
    for c in configs {
        let sync = match c.sync_target {
            SyncTarget::Users => "users",
            SyncTarget::Requesters => "requesters",
        };
        let mode = if c.development_mode {
            "development"
        } else {
            "production"
        };
        let verified = c.last_verified_at.as_deref().unwrap_or("never");
        out.push_str(&format!(
            "\n{:<20} {:<34} {:<11} {:<21} {mode}",
            c.name, c.okta_origin, sync, verified
        ));
    }
    out
}

async fn fake_okta(args: &FakeOktaArgs, json: bool) -> anyhow::Result<ExitCode> {
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
