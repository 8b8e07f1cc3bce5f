//! Moving a config's people when an update changes its Sync target or its
//! Okta org (WIT `migration`).
//!
//! People synced under the old target or org would otherwise be orphaned:
//! never updated or deactivated again, able to sign in with stale roles. So
//! such an update is refused while people are linked, unless the admin
//! confirms one of two migrations:
//!
//! | change        | `move`                                                     | `deactivate` |
//! |---------------|------------------------------------------------------------|--------------|
//! | Sync target   | everyone moves to the new population (same person, same link; roles and fields the new population lacks are dropped, the next sync sets them) | everyone is deactivated where they are |
//! | Okta org      | everyone is deactivated; the new org's accounts relink them by email or login on the first sync (the rehire rule, default policy) | everyone is deactivated and their email and login released: the new org's accounts become new people |
//!
//! Both changes at once: the org's rule, then the move. The watermark and
//! the membership snapshot are dropped, so the next incremental run is full.

use crate::config::{FieldError, SyncTarget};
use crate::directory::{DirectoryError, PersonStatus};
use crate::install::InstallError;
use crate::ports::Host;
use crate::sync::keys;

/// What happens to the people a config manages (WIT `migration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Migration {
    /// Keep them: to the new population, or to be relinked by the new org.
    Move,
    /// Deactivate them (history kept).
    Deactivate,
}

/// The change an update makes to what a config syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// The population people are in now.
    pub from: SyncTarget,
    /// The population the config will sync.
    pub to: SyncTarget,
    /// Whether the Okta org changes.
    pub org: bool,
}

impl Change {
    /// Whether anything people depend on changes.
    pub fn matters(&self) -> bool {
        self.org || self.from != self.to
    }
}

/// Refuse a change that would orphan linked people without a migration, or
/// that meets an unfinished run. Returns how many people are linked.
pub fn check(
    host: &mut Host<'_>,
    config: &str,
    change: Change,
    migration: Option<Migration>,
) -> Result<usize, InstallError> {
    if !change.matters() {
        return Ok(0);
    }
    if keys::get_json::<serde_json::Value>(host.storage, &keys::checkpoint(config))
        .map_err(|e| InstallError::Storage(e.to_string()))?
        .is_some()
    {
        return Err(InstallError::Other(format!(
            "a sync run of `{config}` is unfinished; cancel it or let it finish before changing \
             what the config syncs"
        )));
    }
    let linked = linked(host, config, change.from)?.len();
    if linked > 0 && migration.is_none() {
        let (field, what) = if change.org {
            ("okta-domain", "another Okta org")
        } else {
            ("sync-target", "the other population")
        };
        return Err(InstallError::InvalidConfig(vec![FieldError::new(
            field,
            format!(
                "{linked} people are linked to this config as {}; to switch to {what}, confirm \
                 a migration: move them, or deactivate them (see the README's Sync section)",
                change.from.as_str()
            ),
        )]));
    }
    Ok(linked)
}

/// Apply `migration` to the people of `config` for `change`; returns how
/// many people it touched.
pub fn apply(
    host: &mut Host<'_>,
    config: &str,
    change: Change,
    migration: Migration,
) -> Result<u32, InstallError> {
    if !change.matters() {
        return Ok(0);
    }
    let ids = linked(host, config, change.from)?;
    let dir = |e: DirectoryError| InstallError::Other(format!("the migration failed: {e}"));
    if change.org || migration == Migration::Deactivate {
        for id in &ids {
            match host
                .directory
                .set_status(change.from, id, PersonStatus::Deactivated)
            {
                Ok(()) | Err(DirectoryError::NotFound(_)) => {}
                Err(e) => return Err(dir(e)),
            }
            if change.org && migration == Migration::Deactivate {
                host.directory
                    .release_identity(change.from, id)
                    .map_err(dir)?;
            }
        }
    }
    let still_linked = !(change.org && migration == Migration::Deactivate);
    if migration == Migration::Move && change.from != change.to && still_linked {
        host.directory
            .move_population(config, change.from, change.to)
            .map_err(dir)?;
    }
    // What the old org or population left: the next incremental run is full.
    keys::delete_prefix(host.storage, &keys::snapshots(config))
        .map_err(|e| InstallError::Storage(e.to_string()))?;
    host.storage
        .delete(&keys::watermark(config))
        .map_err(|e| InstallError::Storage(e.to_string()))?;
    Ok(ids.len() as u32)
}

fn linked(
    host: &mut Host<'_>,
    config: &str,
    kind: SyncTarget,
) -> Result<Vec<String>, InstallError> {
    host.directory
        .list_linked(config, kind)
        .map_err(|e| InstallError::Other(format!("the directory failed: {e}")))
}
