//! `harness scope` and `harness populations`: who a config syncs, and as what.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use host_harness::bindings::exports::infraon::okta::scope::{PopulationRule, Scope as ScopeRecord};
use host_harness::bindings::infraon::okta::types::SyncTarget;
use host_harness::render;

use super::{Cli, open, report};

/// `harness scope ...`.
#[derive(Subcommand)]
pub enum ScopeAction {
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
pub struct ScopeArgs {
    /// The config name.
    #[arg(long)]
    pub name: String,
    /// An Okta group (name or id) whose members are in scope; repeatable.
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// An Okta user search expression, e.g. 'profile.department eq "IT"'.
    #[arg(long)]
    pub filter: Option<String>,
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
pub struct ScopeShow {
    pub scope: ScopeRecord,
    pub populations: Vec<PopulationRule>,
}

/// `GROUP=users|requesters` as a population rule.
pub fn population_rule(text: &str) -> anyhow::Result<PopulationRule> {
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

pub fn scope_text(s: &ScopeRecord) -> String {
    let groups = match s.groups.as_slice() {
        [] => "everyone".to_string(),
        g => format!("members of {}", g.join(", ")),
    };
    match &s.filter {
        Some(f) => format!("{groups} matching {f}"),
        None => groups,
    }
}

pub fn populations_text(rules: &[PopulationRule]) -> String {
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

pub async fn scope(cli: &Cli, action: &ScopeAction, json: bool) -> anyhow::Result<ExitCode> {
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

pub async fn populations(
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
