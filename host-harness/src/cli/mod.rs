//! The command line. Exit status: 0 done, 1 the plugin refused (a typed
//! error, shown), 2 the host failed (load, trap, deadline, bad usage).
//!
//! One module per command group; this one holds the command tree, the
//! entry point and what every group shares (opening the state, reporting an
//! outcome).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use host_harness::policy::Limits;
use host_harness::{HostError, Infraon, Runtime};

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

mod configs;
mod mapping;
mod preview;
mod schedule;
mod scope;
mod serve;
mod sync;
mod tools;

use configs::{FormArgs, KeysAction, Target, UpdateArgs, VerifyArgs};
use mapping::MapAction;
use schedule::ScheduleAction;
use scope::ScopeAction;
use sync::{Mode, RunsShow};
use tools::{DemoArgs, FakeOktaArgs};

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
    /// Apply the deactivations a held run waits on (read them first with
    /// `harness changes`); recorded with who approved and when.
    Approve {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The held run.
        #[arg(long)]
        run: u64,
        /// Who approves, as recorded (default: the user running the CLI).
        #[arg(long)]
        by: Option<String>,
    },
    /// Drop the deactivations a held run waits on; recorded with who and when.
    Reject {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The held run.
        #[arg(long)]
        run: u64,
        /// Who rejects, as recorded (default: the user running the CLI).
        #[arg(long)]
        by: Option<String>,
    },
    /// Who a run changes, person by person: what a dry run would do, what a
    /// run did, the deactivations a held run waits on.
    Changes {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The run.
        #[arg(long)]
        run: u64,
        /// First person to show (0-based).
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// People to show (at most 1000).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Write the whole list as CSV to this file (`-`: stdout) instead.
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Provision one person on demand: sync one Okta user (login or id) now.
    Provision {
        /// The config name.
        #[arg(long, visible_alias = "name")]
        config: String,
        /// The Okta user's login or id.
        #[arg(long)]
        user: String,
    },
    /// The rehire policy: show it, or set it (`relink` or `new-person`).
    Rehire {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The policy to set.
        #[arg(long, value_enum)]
        set: Option<preview::RehireArg>,
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
    Serve(serve::ServeArgs),
    /// Sign in with Okta: save a config's OIDC settings.
    Sso(serve::SsoArgs),
    /// Benchmark: a sync against the fastest native client and the limits
    /// Okta sets; exits non-zero when a target is missed. Modes: default (no
    /// latency), --latency-ms, --tenants, --growth (see README, Benchmarks).
    Bench(tools::BenchArgs),
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

/// The component `--plugin` names, or the one built with this harness.
fn plugin_path(cli: &Cli) -> PathBuf {
    cli.plugin
        .clone()
        .unwrap_or_else(|| PathBuf::from(host_harness::OKTA_PLUGIN_WASM))
}

fn open(cli: &Cli) -> anyhow::Result<Runtime> {
    let infraon = Arc::new(Infraon::open(&cli.state_dir)?);
    Ok(Runtime::new(
        &plugin_path(cli),
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
        Command::Install(args) => configs::install(&cli, args).await,
        Command::Update(args) => configs::update(&cli, args).await,
        Command::Verify(args) => configs::verify(&cli, args).await,
        Command::Configs => configs::list(&cli).await,
        Command::Keys { action } => configs::keys(&cli, action, json),
        Command::Uninstall { name } => configs::uninstall(&cli, name).await,
        Command::Hook { name, rotate, base } => configs::hook(&cli, name, *rotate, base),
        Command::Sync { name, mode } => sync::sync_now(&cli, name, *mode).await,
        Command::Cancel { name } => sync::cancel(&cli, name).await,
        Command::Runs { show, name, limit } => sync::runs(&cli, show, name, *limit).await,
        Command::Safeguard {
            name,
            share,
            minimum,
        } => sync::safeguard(&cli, name, *share, *minimum).await,
        Command::Export { name, run, out } => sync::export(&cli, name, *run, out).await,
        Command::People { kind } => sync::people(&cli, (*kind).into(), json),
        Command::Approve { name, run, by } => {
            preview::decide(&cli, name, *run, true, by.as_deref(), json).await
        }
        Command::Reject { name, run, by } => {
            preview::decide(&cli, name, *run, false, by.as_deref(), json).await
        }
        Command::Changes {
            name,
            run,
            offset,
            limit,
            csv,
        } => preview::changes(&cli, name, *run, *offset, *limit, csv.as_deref(), json).await,
        Command::Provision { config, user } => preview::provision(&cli, config, user, json).await,
        Command::Rehire { name, set } => preview::rehire(&cli, name, *set, json).await,
        Command::Schedule { action } => schedule::schedule(&cli, action, json),
        Command::Map { action } => mapping::map(&cli, action, json).await,
        Command::Scope { action } => scope::scope(&cli, action, json).await,
        Command::Populations { name, rules, clear } => {
            scope::populations(&cli, name, rules, *clear, json).await
        }
        Command::Serve(args) => serve::serve(&cli, args).await,
        Command::Sso(args) => serve::sso(&cli, args).await,
        Command::Bench(args) => tools::bench(&cli, args).await,
        Command::WarmProbe => tools::warm_probe(&cli).await,
        Command::Reliability => tools::reliability(&cli).await,
        Command::FakeOkta(args) => tools::fake_okta(args, json).await,
        Command::Demo(args) => {
            host_harness::demo::run(&cli.state_dir, args.users, args.groups, json).await
        }
    }
}
