//! The CLI of issue 15: `changes` (who a run changes, page by page or as
//! CSV), `approve`/`reject` with who acted, `provision` one person, and
//! `rehire`.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use host_harness::bindings::exports::infraon::okta::sync::{
    ChangePage, HeldDecision, PersonChange, ProvisionReport, RehirePolicy,
};
use host_harness::ops::preview::{action_word, fields_text};
use host_harness::{HostError, Runtime, render};

use super::{Cli, open, report};

/// `--set` of `harness rehire`.
#[derive(Clone, Copy, ValueEnum)]
pub enum RehireArg {
    /// Relink the former person to the new Okta account and reactivate them.
    Relink,
    /// Create a new person; the former one keeps their history.
    NewPerson,
}

/// Who the CLI records as deciding when `--by` is not given: the user
/// running it, as the shell names them.
fn cli_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .map(|u| format!("{} (CLI)", u.trim()))
        .unwrap_or_else(|| "CLI user".into())
}

/// `harness approve` / `harness reject`.
pub async fn decide(
    cli: &Cli,
    name: &str,
    run: u64,
    approve: bool,
    by: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let by = by.map(str::to_owned).unwrap_or_else(cli_user);
    let rt = open(cli)?;
    let outcome = match rt.decide_held_by(name, run, approve, &by).await {
        // A 0.1.0 plugin cannot record who: decide without it, and say so.
        Err(HostError::ContractMismatch { .. }) => {
            eprintln!("note: this plugin cannot record who decided (contract 0.1.0)");
            if approve {
                rt.approve_held(name, run).await
            } else {
                rt.reject_held(name, run).await
            }
        }
        other => other,
    };
    let verb = if approve { "approved" } else { "rejected" };
    report(
        json,
        outcome,
        |r| format!("{}\n{verb} by {by}", render::run_record(r)),
        render::sync_error,
    )
}

/// One decision as history shows it.
pub fn decision_text(d: &HeldDecision) -> String {
    let by = if d.by.is_empty() {
        "someone not named"
    } else {
        &d.by
    };
    if d.approved {
        format!("approved by {by} at {} ({} deactivated)", d.at, d.people)
    } else {
        format!("rejected by {by} at {} ({} spared)", d.at, d.people)
    }
}

/// The decisions on a config's held runs, by run; none when the plugin
/// cannot tell (0.1.0) or fails (history shows what it can).
pub async fn decided(rt: &Runtime, name: &str) -> HashMap<u64, String> {
    match rt.decisions(name, 100).await {
        Ok(Ok(list)) => list.iter().map(|d| (d.run_id, decision_text(d))).collect(),
        _ => HashMap::new(),
    }
}

/// One person's change on one line.
pub fn change_line(c: &PersonChange) -> String {
    let mut parts = vec![format!(
        "{:<10} {} <{}> {}",
        action_word(c.action),
        c.login,
        c.email,
        c.okta_id
    )];
    if c.held {
        parts.push("held for approval".into());
    }
    let fields = fields_text(c);
    if !fields.is_empty() {
        parts.push(fields);
    }
    if !c.roles_added.is_empty() {
        parts.push(format!("roles + {}", c.roles_added.join(", ")));
    }
    if !c.roles_removed.is_empty() {
        parts.push(format!("roles - {}", c.roles_removed.join(", ")));
    }
    if let Some(r) = &c.reason {
        parts.push(r.clone());
    }
    parts.join(" | ")
}

fn page_text(p: &ChangePage, offset: u64) -> String {
    if p.total == 0 {
        return "nobody changes in this run".into();
    }
    let mut lines: Vec<String> = p.changes.iter().map(change_line).collect();
    let end = offset + p.changes.len() as u64;
    lines.push(format!(
        "people {}-{end} of {} (next: --offset {end})",
        (offset + 1).min(end),
        p.total
    ));
    lines.join("\n")
}

/// `harness changes`.
pub async fn changes(
    cli: &Cli,
    name: &str,
    run: u64,
    offset: u64,
    limit: u32,
    csv: Option<&Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let rt = open(cli)?;
    let Some(out) = csv else {
        let outcome = rt.run_changes(name, run, offset, limit).await;
        return report(json, outcome, |p| page_text(p, offset), render::sync_error);
    };
    match rt.run_changes_csv(name, run).await? {
        Ok(text) if out.as_os_str() == "-" => {
            print!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Ok(text) => {
            std::fs::write(out, &text)?;
            let rows = text.lines().count().saturating_sub(1);
            eprintln!("wrote {} ({rows} people)", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}", render::sync_error(&e));
            Ok(ExitCode::from(1))
        }
    }
}

fn provision_text(r: &ProvisionReport) -> String {
    let mut lines = vec![format!(
        "{} ({}), in {} group(s){}",
        r.login,
        r.okta_id,
        r.groups.len(),
        if r.groups.is_empty() {
            String::new()
        } else {
            format!(": {}", r.groups.join(", "))
        }
    )];
    if r.changes.is_empty() {
        lines.push("already up to date: nothing changed".into());
    }
    lines.extend(r.changes.iter().map(change_line));
    lines.join("\n")
}

/// `harness provision`.
pub async fn provision(
    cli: &Cli,
    config: &str,
    user: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let outcome = open(cli)?.provision(config, user).await;
    report(json, outcome, provision_text, render::sync_error)
}

fn policy_word(p: RehirePolicy) -> &'static str {
    match p {
        RehirePolicy::Relink => "relink",
        RehirePolicy::NewPerson => "new-person",
    }
}

/// `harness rehire`.
pub async fn rehire(
    cli: &Cli,
    name: &str,
    set: Option<RehireArg>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let rt = open(cli)?;
    match set {
        Some(arg) => {
            let policy = match arg {
                RehireArg::Relink => RehirePolicy::Relink,
                RehireArg::NewPerson => RehirePolicy::NewPerson,
            };
            let outcome = rt.set_rehire(name, policy).await;
            report(
                json,
                outcome,
                |()| {
                    format!(
                        "rehire policy of {name:?} set to {}; it applies from the next run",
                        policy_word(policy)
                    )
                },
                render::sync_error,
            )
        }
        None => {
            let outcome = rt.rehire(name).await;
            report(
                json,
                outcome,
                |p| {
                    format!(
                        "rehire policy: {} ({})",
                        policy_word(*p),
                        match p {
                            RehirePolicy::Relink =>
                                "a new Okta account of a former person relinks and reactivates them",
                            RehirePolicy::NewPerson =>
                                "a new Okta account of a former person becomes a new person",
                        }
                    )
                },
                render::sync_error,
            )
        }
    }
}
