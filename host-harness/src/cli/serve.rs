//! `harness serve`: the console and the schedule loop; `harness sso`: a
//! config's Sign in with Okta settings.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use host_harness::render;

use super::{Cli, open, report};

/// `harness serve`'s options.
#[derive(Args)]
pub struct ServeArgs {
    /// How often the scheduler looks for due fires, in seconds.
    #[arg(long, default_value_t = 15)]
    pub tick_seconds: u64,
    /// Where the console listens: loopback, unless `--public-url` says
    /// how browsers reach it from elsewhere.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The console's own URL as browsers reach it (e.g.
    /// `https://infraon.example.com`); required to listen beyond
    /// loopback. Its host is then the only `Host` the console answers.
    #[arg(long)]
    pub public_url: Option<url::Url>,
    /// A file holding the console admin password to use (stored hashed,
    /// replacing any). Without it, the first start generates one and
    /// prints it once.
    #[arg(long)]
    pub admin_password_file: Option<PathBuf>,
    /// Also run a fake Okta org on loopback to install against (its URL
    /// and API token are printed); saving sign-in settings registers
    /// the OIDC client with it.
    #[arg(long)]
    pub fake_okta: bool,
    /// Users in the fake Okta org.
    #[arg(long, default_value_t = 200, requires = "fake_okta")]
    pub fake_users: usize,
    /// Groups in the fake Okta org.
    #[arg(long, default_value_t = 12, requires = "fake_okta")]
    pub fake_groups: usize,
    /// Production mode, as Infraon itself runs: development mode is
    /// refused wherever it is posted, and the state directory is marked
    /// so that the CLI's `--dev` is refused against it too.
    #[arg(long)]
    pub production: bool,
}

/// `harness sso`'s options.
#[derive(Args)]
pub struct SsoArgs {
    /// The config name.
    #[arg(long)]
    pub name: String,
    /// The OIDC client id of the Okta app.
    #[arg(long)]
    pub client_id: String,
    /// The client secret (omit for a public PKCE client); prefer the environment.
    #[arg(long, env = "OKTA_CLIENT_SECRET", hide_env_values = true)]
    pub client_secret: Option<String>,
    /// A custom authorization server id, e.g. `default` (omit for the org server).
    #[arg(long)]
    pub server: Option<String>,
    /// Turn sign-in on for Infraon Users.
    #[arg(long)]
    pub users: bool,
    /// Turn sign-in on for Self-Service Portal Requesters.
    #[arg(long)]
    pub requesters: bool,
    /// Create a Requester on first sign-in when none is linked.
    #[arg(long)]
    pub jit_requesters: bool,
}

/// Run the host until interrupted: fire scheduled syncs and serve the console.
pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let ServeArgs {
        tick_seconds,
        listen,
        public_url,
        admin_password_file,
        fake_okta,
        fake_users,
        fake_groups,
        production,
    } = args;
    anyhow::ensure!(
        listen.ip().is_loopback() || public_url.is_some(),
        "serve listens on loopback only unless --public-url names the console's URL (to listen on {listen})"
    );
    let rt = Arc::new(open(cli)?);
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
    let (password, shown) =
        host_harness::web::AdminPassword::load_or_create(&cli.state_dir, chosen.as_deref())?;
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
        console =
            console.with_client_registrar(host_harness::web::fake_okta_registrar(okta.clone()));
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
    let clock: Arc<dyn host_harness::serve::Clock> = Arc::new(host_harness::serve::SystemClock);
    tokio::select! {
        () = scheduler.run(clock, std::time::Duration::from_secs(*tick_seconds)) => {}
        r = axum::serve(listener, console.router()) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    drop(okta);
    Ok(ExitCode::SUCCESS)
}

/// Save a config's Sign in with Okta settings.
pub async fn sso(cli: &Cli, args: &SsoArgs) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let SsoArgs {
        name,
        client_id,
        client_secret,
        server,
        users,
        requesters,
        jit_requesters,
    } = args;
    let settings = host_harness::bindings::exports::infraon::okta::sso::SsoSettings {
        users_enabled: *users,
        requesters_enabled: *requesters,
        client_id: client_id.clone(),
        client_secret: client_secret.clone(),
        authorization_server: server.clone(),
        jit_requesters: *jit_requesters,
    };
    let outcome = open(cli)?.sso_configure(name, &settings).await;
    report(
        json,
        outcome,
        |()| format!("SSO settings of {name:?} saved"),
        render::sso_error,
    )
}
