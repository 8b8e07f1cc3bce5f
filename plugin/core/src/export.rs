//! "Export Unsynced Data" (WIT `export`): a run's unsynced records as CSV.
//!
//! - One header row, `okta_id,login,email,display_name,reason_code,reason,run_id,time`,
//!   then one row per [`UnsyncedRecord`](crate::UnsyncedRecord) in the order
//!   the run met them.
//! - RFC 4180: fields containing `,`, `"`, CR or LF are quoted, quotes
//!   doubled; lines end with CRLF; UTF-8 without a byte-order mark.
//! - Formula injection (OWASP "CSV Injection"): a cell beginning with `=`,
//!   `+`, `-`, `@`, a tab or a carriage return gets a single quote `'`
//!   prepended, so that spreadsheets show it as text instead of running it.
//!   The value is otherwise intact: strip one leading `'` from such a cell to
//!   get it back.
//! - No secret: the records hold only the columns above (never a whole Okta
//!   profile), and the config's API token is replaced by `[redacted]` should
//!   Okta data contain it all the same.

use thiserror::Error;

use crate::ports::Host;
use crate::store::{find_config, token_key};
use crate::sync::{self, SyncError, keys};

/// The header row's columns.
pub const HEADER: [&str; 8] = [
    "okta_id",
    "login",
    "email",
    "display_name",
    "reason_code",
    "reason",
    "run_id",
    "time",
];

/// Why an export failed (WIT `export-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExportError {
    /// No config with this name is installed.
    #[error("no config named `{0}` is installed")]
    UnknownConfig(String),
    /// No run with this id.
    #[error("no run {0}")]
    UnknownRun(u64),
    /// The config has never run.
    #[error("the config has never run")]
    NoRuns,
    /// This capability is not available in this plugin version.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A cell as a spreadsheet should show it: formula triggers defused.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// The unsynced records of run `run_id` (the config's latest run when
/// `None`) as CSV (see the module docs).
pub fn unsynced_csv(
    host: &mut Host<'_>,
    config: &str,
    run_id: Option<u64>,
) -> Result<String, ExportError> {
    let other = |e: &dyn std::fmt::Display| ExportError::Other(e.to_string());
    let cfg = find_config(host.storage, config)
        .map_err(ExportError::Other)?
        .ok_or_else(|| ExportError::UnknownConfig(config.trim().to_owned()))?;
    if run_id.is_none()
        && host
            .storage
            .list_keys(&keys::runs(&cfg.name))
            .map_err(|e| other(&e))?
            .is_empty()
    {
        return Err(ExportError::NoRuns);
    }
    let rows = sync::unsynced(host, &cfg.name, run_id).map_err(|e| match e {
        SyncError::UnknownRun(id) => ExportError::UnknownRun(id),
        SyncError::UnknownConfig(c) => ExportError::UnknownConfig(c),
        e => other(&e),
    })?;
    // Without the token we could not promise it is absent: refuse instead.
    let token = host
        .secrets
        .get(&token_key(&cfg.name))
        .map_err(|e| other(&e))?
        .unwrap_or_default();
    let clean = |s: &str| {
        let s = if token.is_empty() {
            s.to_owned()
        } else {
            s.replace(&token, "[redacted]")
        };
        neutralise(&s)
    };
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(Vec::new());
    w.write_record(HEADER).map_err(|e| other(&e))?;
    for r in &rows {
        let run = r.run_id.to_string();
        let cells = [
            &r.okta_id,
            &r.login,
            &r.email,
            &r.display_name,
            r.reason.as_str(),
            &r.reason_text,
            &run,
            &r.at,
        ]
        .map(&clean);
        w.write_record(&cells).map_err(|e| other(&e))?;
    }
    let bytes = w.into_inner().map_err(|e| other(&e))?;
    String::from_utf8(bytes).map_err(|e| other(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_triggers_are_defused_and_nothing_else() {
        for (cell, want) in [
            ("=1+2", "'=1+2"),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("a=b", "a=b"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }
}
