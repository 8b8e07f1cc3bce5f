//! The command line. Exit status: 0 done, 1 the plugin refused (a typed
//! error, shown), 2 the host failed (load, trap, deadline, bad usage).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use host_harness::bindings::infraon::okta::types::{ConfigForm, InstallOptions, SyncTarget};
use host_harness::policy::Limits;
use host_harness::{HostError, Infraon, Runtime, render};

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
    Update(FormArgs),
    /// Verify an installed config (`--name`) or a form (`--name --domain --token ...`).
    Verify(VerifyArgs),
    /// List installed configs.
    Configs,
    /// Remove a config, its token and its state.
    Uninstall {
        /// The config name.
        #[arg(long)]
        name: String,
    },
    /// Run the fake Okta org standalone until interrupted.
    FakeOkta(FakeOktaArgs),
    /// Start a fake Okta, install a config against it, verify, show failures, list.
    Demo(DemoArgs),
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
}

impl FormArgs {
    fn form(&self) -> (ConfigForm, InstallOptions) {
        let form = ConfigForm {
            name: self.name.clone(),
            okta_domain: self.domain.clone(),
            api_token: self.token.clone(),
            sync_target: self.sync.into(),
        };
        (
            form,
            InstallOptions {
                development_mode: self.dev,
            },
        )
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
        Limits::default(),
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
                println!("{}", serde_json::json!({ "ok": v }));
            } else {
                println!("{}", ok_text(&v));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                println!(
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
            let (form, options) = args.form();
            let outcome = open(&cli)?.update(&form, options).await;
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
        Command::Uninstall { name } => {
            let outcome = open(&cli)?.uninstall(name).await;
            report(
                json,
                outcome,
                |()| format!("uninstalled {name:?}"),
                render::install_error,
            )
        }
        Command::FakeOkta(args) => fake_okta(args, json).await,
        Command::Demo(args) => {
            host_harness::demo::run(&cli.state_dir, args.users, args.groups, json).await
        }
    }
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
        ..Default::default()
    };
    let okta = fake_okta::FakeOkta::start(options).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "url": okta.url(), "token": okta.api_token() })
        );
    } else {
        println!("fake Okta org at {}", okta.url());
        println!("API token (SSWS): {}", okta.api_token());
        println!(
            "{} users, {} groups; Ctrl-C stops it",
            args.users, args.groups
        );
    }
    tokio::signal::ctrl_c().await?;
    okta.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
