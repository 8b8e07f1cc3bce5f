//! Config commands: `install`, `update`, `verify`, `configs`, `uninstall`,
//! a service app's `keys` and the Event Hook's `hook`.

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use host_harness::bindings::exports::infraon::okta::install::Migration;
use host_harness::bindings::infraon::okta::types::{
    ConfigForm, InstallOptions, ServiceApp, SyncTarget,
};
use std::sync::Arc;

use host_harness::{Infraon, render};

use super::{Cli, open, report};

/// `update --migrate`: what happens to the people a config manages when
/// its Sync target or Okta org changes (refused without it while people are
/// linked).
#[derive(Clone, Copy, ValueEnum)]
pub enum Migrate {
    /// To the new population; for another org, deactivated until its first
    /// sync relinks them by email or login.
    Move,
    /// Deactivated (history kept); for another org, their email and login
    /// are released and its accounts become new people.
    Deactivate,
}

#[derive(Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub form: FormArgs,
    /// Confirm what happens to the linked people when --sync or --domain
    /// changes: move them, or deactivate them.
    #[arg(long, value_enum)]
    pub migrate: Option<Migrate>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Target {
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
pub struct FormArgs {
    /// Config Name.
    #[arg(long)]
    pub name: String,
    /// Okta Domain URL, e.g. your-org.okta.com.
    #[arg(long)]
    pub domain: String,
    /// API Token (prefer the environment variable: arguments show in `ps`).
    #[arg(
        long,
        env = "OKTA_API_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    pub token: String,
    /// Sync people in as Users (technicians/admins) or Requesters (SSP).
    #[arg(long, value_enum, default_value = "users")]
    pub sync: Target,
    /// Development mode: allow http://, localhost and IP literals (a local fake Okta).
    #[arg(long)]
    pub dev: bool,
    #[command(flatten)]
    pub auth: AuthArgs,
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
pub struct AuthArgs {
    /// Authentication: `api-token` (default) or `service-app` (OAuth 2.0,
    /// private_key_jwt with this host's key; see `harness keys`).
    #[arg(long, value_enum, default_value = "api-token")]
    pub auth: AuthKind,
    /// Client ID of the Okta API Services app (with `--auth service-app`).
    #[arg(long, default_value = "")]
    pub client_id: String,
    /// The app does not require DPoP (Okta's default for new apps is to require it).
    #[arg(long)]
    pub no_dpop: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AuthKind {
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
pub struct VerifyArgs {
    /// Config Name (alone: verify the installed config).
    #[arg(long)]
    pub name: String,
    /// Okta Domain URL (with it: verify this form, not the installed config).
    #[arg(long)]
    pub domain: Option<String>,
    /// API Token.
    #[arg(
        long,
        env = "OKTA_API_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    pub token: String,
    /// Users or Requesters.
    #[arg(long, value_enum, default_value = "users")]
    pub sync: Target,
    /// Development mode.
    #[arg(long)]
    pub dev: bool,
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `harness install`.
pub async fn install(cli: &Cli, args: &FormArgs) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let (form, options) = args.form();
    let outcome = open(cli)?.install(&form, options).await;
    report(
        json,
        outcome,
        |s| format!("installed {:?} -> {}", s.name, s.okta_origin),
        render::install_error,
    )
}

/// `harness update`.
pub async fn update(cli: &Cli, args: &UpdateArgs) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let (form, options) = args.form.form();
    let rt = open(cli)?;
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

/// `harness verify`: the installed config, or a form.
pub async fn verify(cli: &Cli, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let rt = open(cli)?;
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

/// `harness configs`.
pub async fn list(cli: &Cli) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let outcome = open(cli)?.configs().await;
    report(
        json,
        outcome,
        |configs| configs_table(configs),
        render::install_error,
    )
}

/// `harness uninstall`.
pub async fn uninstall(cli: &Cli, name: &str) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let outcome = open(cli)?.uninstall(name).await;
    report(
        json,
        outcome,
        |()| format!("uninstalled {name:?}"),
        render::install_error,
    )
}

#[derive(Subcommand)]
pub enum KeysAction {
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
pub fn keys(cli: &Cli, action: &KeysAction, json: bool) -> anyhow::Result<ExitCode> {
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

/// `harness hook`: see [`host_harness::hooks`].
pub fn hook(cli: &Cli, name: &str, rotate: bool, base: &str) -> anyhow::Result<ExitCode> {
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
