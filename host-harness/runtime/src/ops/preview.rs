//! Issue 15's operations on an installed config: who a run changes (read
//! in pages, or all of it as CSV), Approve and Reject with who acted, the
//! rehire policy, and provisioning one person on demand.

use crate::bindings::exports::infraon::okta::sync::{
    ChangeAction, ChangePage, HeldDecision, PersonChange, ProvisionReport, RehirePolicy, RunRecord,
    SyncError,
};
use crate::runtime::Runtime;

use super::Outcome;

/// People read per call when a whole list is exported.
pub const EXPORT_PAGE: u32 = 1_000;

/// The CSV header of a run's changes.
pub const CHANGES_HEADER: [&str; 10] = [
    "okta_id",
    "login",
    "email",
    "display_name",
    "action",
    "held",
    "fields",
    "roles_added",
    "roles_removed",
    "reason",
];

impl Runtime {
    /// People `offset..offset + limit` of what run `run` changes.
    pub async fn run_changes(
        &self,
        config: &str,
        run: u64,
        offset: u64,
        limit: u32,
    ) -> Outcome<ChangePage, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.run_changes(store, config, run, offset, limit).await
        })
        .await
    }

    /// Every person run `run` changes, as CSV (see [`changes_csv`]), read a
    /// page at a time so the plugin never holds the whole list.
    pub async fn run_changes_csv(&self, config: &str, run: u64) -> Outcome<String, SyncError> {
        let mut w = csv_writer();
        let mut offset = 0;
        loop {
            let page = match self.run_changes(config, run, offset, EXPORT_PAGE).await? {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            for c in &page.changes {
                write_change(&mut w, c);
            }
            offset += page.changes.len() as u64;
            if page.changes.is_empty() || offset >= page.total {
                break;
            }
        }
        Ok(Ok(finish_csv(w)))
    }

    /// Approve (`approve`) or reject a held run, recording `by`.
    pub async fn decide_held_by(
        &self,
        config: &str,
        run: u64,
        approve: bool,
        by: &str,
    ) -> Outcome<RunRecord, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.decide_held_by(store, config, run, approve, by).await
        })
        .await
    }

    /// Who decided the config's held runs, newest run first.
    pub async fn decisions(
        &self,
        config: &str,
        limit: u32,
    ) -> Outcome<Vec<HeldDecision>, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.decisions(store, config, limit).await
        })
        .await
    }

    /// A config's rehire policy.
    pub async fn rehire(&self, config: &str) -> Outcome<RehirePolicy, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.get_rehire(store, config).await
        })
        .await
    }

    /// Change a config's rehire policy.
    pub async fn set_rehire(&self, config: &str, policy: RehirePolicy) -> Outcome<(), SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.set_rehire(store, config, policy).await
        })
        .await
    }

    /// Provision one Okta user (login or id) of `config` now.
    pub async fn provision(&self, config: &str, user: &str) -> Outcome<ProvisionReport, SyncError> {
        self.call(self.installed_scope(config)?, async |store, plugin| {
            plugin.provision(store, config, user).await
        })
        .await
    }
}

/// `create`, `update`, ... as the console, the CLI and the CSV say it.
pub fn action_word(a: ChangeAction) -> &'static str {
    match a {
        ChangeAction::Create => "create",
        ChangeAction::Update => "update",
        ChangeAction::Deactivate => "deactivate",
        ChangeAction::Reactivate => "reactivate",
        ChangeAction::Unsynced => "unsynced",
    }
}

/// The fields of a change as one line: `field: before -> after; ...`.
pub fn fields_text(c: &PersonChange) -> String {
    c.fields
        .iter()
        .map(|f| format!("{}: {} -> {}", f.field, f.before, f.after))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A spreadsheet shows a cell starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return as text, not a formula (OWASP "CSV Injection"), as the
/// plugin's unsynced export does.
fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(CHANGES_HEADER);
    w
}

fn write_change(w: &mut csv::Writer<Vec<u8>>, c: &PersonChange) {
    let cells = [
        c.okta_id.clone(),
        c.login.clone(),
        c.email.clone(),
        c.display_name.clone(),
        action_word(c.action).to_owned(),
        if c.held { "yes" } else { "" }.to_owned(),
        fields_text(c),
        c.roles_added.join("; "),
        c.roles_removed.join("; "),
        c.reason.clone().unwrap_or_default(),
    ]
    .map(|s| neutralise(&s));
    let _ = w.write_record(&cells);
}

fn finish_csv(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A list of changes as CSV (RFC 4180, CRLF, formula-neutralised), with
/// [`CHANGES_HEADER`]. The plugin redacts the API token from what it lists;
/// nothing else secret is in a change.
pub fn changes_csv(changes: &[PersonChange]) -> String {
    let mut w = csv_writer();
    for c in changes {
        write_change(&mut w, c);
    }
    finish_csv(w)
}
