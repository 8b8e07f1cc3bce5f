//! `harness map`: the field mapping and group -> role rules.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use host_harness::render;

use super::{Cli, open, report};

#[derive(Subcommand)]
pub enum MapAction {
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

pub async fn map(cli: &Cli, action: &MapAction, json: bool) -> anyhow::Result<ExitCode> {
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
pub fn code(c: host_harness::bindings::exports::infraon::okta::map::NoticeCode) -> &'static str {
    use host_harness::bindings::exports::infraon::okta::map::NoticeCode;
    match c {
        NoticeCode::SafeRoleDefaults => "safe-role-defaults",
        NoticeCode::UnknownRole => "unknown-role",
    }
}

/// Pretty JSON, for text output of structured values.
pub fn pretty<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
