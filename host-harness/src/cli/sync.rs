//! Run commands: `sync`, `cancel`, `runs`, `safeguard`, `export` and the
//! directory's `people`.

use std::path::Path;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use host_harness::bindings::exports::infraon::okta::sync::{Safeguard, SyncMode, Trigger};
use host_harness::bindings::infraon::okta::types::SyncTarget;
use host_harness::{Infraon, render};

use super::{Cli, open, preview, report};

#[derive(Subcommand)]
pub enum RunsShow {
    /// One run: counts, requests, duration, outcome, error.
    Show {
        /// The config name.
        #[arg(long)]
        name: String,
        /// The run id.
        id: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Mode {
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

/// `harness sync`: Sync Now, to the end, with a spinner on a terminal.
pub async fn sync_now(cli: &Cli, name: &str, mode: Mode) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let rt = open(cli)?;
    let bar = if json {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new_spinner()
    };
    let outcome = rt
        .sync(name, mode.into(), Trigger::Manual, |record, phase| {
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

/// `harness cancel`.
pub async fn cancel(cli: &Cli, name: &str) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let outcome = open(cli)?.cancel_sync(name).await;
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

/// `harness runs [show]`.
pub async fn runs(
    cli: &Cli,
    show: &Option<RunsShow>,
    name: &Option<String>,
    limit: u32,
) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let (name, limit, id) = match show {
        Some(RunsShow::Show { name, id }) => (name.clone(), 100, Some(*id)),
        None => (name.clone().unwrap_or_default(), limit, None),
    };
    let rt = open(cli)?;
    let decided = preview::decided(&rt, &name).await;
    let outcome = rt.sync_history(&name, limit).await.map(|r| {
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
                    .map(|r| match decided.get(&r.id) {
                        Some(d) => format!("{}\n  {d}", render::run_record(r)),
                        None => render::run_record(r),
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        },
        render::sync_error,
    )
}

/// `harness safeguard`: show it, or set share and minimum.
pub async fn safeguard(
    cli: &Cli,
    name: &str,
    share: Option<u32>,
    minimum: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let rt = open(cli)?;
    if let (Some(share), Some(minimum)) = (share, minimum) {
        let s = Safeguard {
            deactivation_share_percent: share,
            deactivation_minimum: minimum,
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

/// `harness export`: the unsynced records as CSV, to a file or stdout.
pub async fn export(
    cli: &Cli,
    name: &str,
    run: Option<u64>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let json = cli.json;
    let outcome = open(cli)?.unsynced_csv(name, run).await?;
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
        Err(e) => report::<(), _>(json, Ok(Err(e)), |_| String::new(), render::export_error),
    }
}

pub fn people(cli: &Cli, kind: SyncTarget, json: bool) -> anyhow::Result<ExitCode> {
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
