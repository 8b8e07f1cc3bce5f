//! What the admin should know about a config's mapping: what an upgrade
//! changed, and rules that name roles Infraon no longer has (WIT
//! `mapping-notice`).
//!
//! Upgrade notices are kept under `state/<config>/notices` until the admin
//! dismisses them; unknown roles are computed afresh on every call, so they
//! disappear as soon as the rule or Infraon is fixed.

use serde::{Deserialize, Serialize};

use super::template::same_folded;
use super::{MapError, Mapping, ROLE_OF_GROUP, legacy_defaults};
use crate::config::{StoredConfig, SyncTarget};
use crate::directory::Role;
use crate::ports::{Host, Level};
use crate::store::{find_config, save_config, state_prefix};
use crate::sync::keys;
use crate::sync::types::SyncError;
use crate::time::rfc3339_from_unix_ms;

/// The role defaults of this build: 1 = safe role defaults (the default
/// mapping grants only the default role; `{group}` never grants a
/// privileged role). Configs stored with a lower value are [`upgrade`]d.
pub const ROLE_DEFAULTS_VERSION: u32 = 1;

/// What a notice is about (WIT `notice-code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoticeCode {
    /// An upgrade to safe role defaults changed what the mapping grants.
    SafeRoleDefaults,
    /// A rule or default names a role Infraon no longer has.
    UnknownRole,
}

impl NoticeCode {
    /// `safe-role-defaults` or `unknown-role`.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeCode::SafeRoleDefaults => "safe-role-defaults",
            NoticeCode::UnknownRole => "unknown-role",
        }
    }
}

/// One thing the admin should know about a config's mapping (WIT
/// `mapping-notice`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// What it is about.
    pub code: NoticeCode,
    /// What changed or is wrong, and what to do, in an admin's words.
    pub message: String,
    /// When it was noticed (RFC 3339, UTC).
    pub at: String,
}

fn key(config: &str) -> String {
    format!("{}notices", state_prefix(config))
}

fn other(e: impl std::fmt::Display) -> MapError {
    MapError::Other(e.to_string())
}

/// Bring a config stored before safe role defaults to them, once:
/// - without a saved mapping it used the old defaults, whose rule granted
///   every Infraon role named like an Okta group: that mapping is saved
///   explicitly ([`legacy_defaults`]), so people keep their roles;
/// - every `{group}` rule, saved or kept, no longer grants a privileged
///   role (Administrator): the admin is told which, and how to grant it.
///
/// Each change is kept as a [`Notice`] and logged as a warning. Returns the
/// config as now stored.
pub fn upgrade(host: &mut Host<'_>, mut cfg: StoredConfig) -> Result<StoredConfig, SyncError> {
    if cfg.role_defaults >= ROLE_DEFAULTS_VERSION {
        return Ok(cfg);
    }
    let saved: Option<Mapping> = keys::get_json(host.storage, &keys::mapping(&cfg.name))?;
    let kept_old_default = saved.is_none();
    let mapping = saved.unwrap_or_else(|| legacy_defaults(cfg.sync_target));
    if kept_old_default {
        keys::put_json(host.storage, &keys::mapping(&cfg.name), &mapping)?;
    }
    // Infraon unavailable: still upgrade, naming the privileged roles generically.
    let privileged: Vec<String> = host
        .directory
        .list_roles()
        .map(|roles| {
            roles
                .into_iter()
                .filter(|r| r.privileged)
                .map(|r| r.name)
                .collect()
        })
        .unwrap_or_default();
    let privileged = if privileged.is_empty() {
        "privileged roles (such as Administrator)".to_owned()
    } else {
        format!("the privileged role(s) {}", quoted(&privileged))
    };
    let group_rules: Vec<usize> = mapping
        .role_rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.role.trim() == ROLE_OF_GROUP)
        .map(|(i, _)| i)
        .collect();
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let mut added = Vec::new();
    if kept_old_default {
        added.push(Notice {
            code: NoticeCode::SafeRoleDefaults,
            message: format!(
                "The default mapping now grants only the default role ({} for {}). This config \
                 used the old default, which granted every Infraon role named like an Okta \
                 group; it is kept as an explicit rule (role-rules[0]: groups `*` → `{ROLE_OF_GROUP}`), \
                 so people keep their roles. Remove that rule to grant only the default role.",
                default_role(&mapping, cfg.sync_target),
                cfg.sync_target,
            ),
            at: now.clone(),
        });
    }
    for i in &group_rules {
        added.push(Notice {
            code: NoticeCode::SafeRoleDefaults,
            message: format!(
                "role-rules[{i}] grants roles named like Okta groups; it no longer grants \
                 {privileged}. To grant one, add a rule that names the role for the groups \
                 that should get it."
            ),
            at: now.clone(),
        });
    }
    if !added.is_empty() {
        let mut stored: Vec<Notice> =
            keys::get_json(host.storage, &key(&cfg.name))?.unwrap_or_default();
        stored.extend(added.iter().cloned());
        keys::put_json(host.storage, &key(&cfg.name), &stored)?;
        for n in &added {
            host.log.write(
                Level::Warn,
                "mapping upgraded to safe role defaults",
                &[("config", &cfg.name), ("notice", &n.message)],
            );
        }
    }
    cfg.role_defaults = ROLE_DEFAULTS_VERSION;
    save_config(host.storage, &cfg).map_err(|e| SyncError::Host(e.to_string()))?;
    Ok(cfg)
}

fn default_role(m: &Mapping, kind: SyncTarget) -> &str {
    match kind {
        SyncTarget::Users => m
            .default_user_role
            .as_deref()
            .unwrap_or(super::DEFAULT_USER_ROLE),
        SyncTarget::Requesters => m
            .default_requester_role
            .as_deref()
            .unwrap_or(super::DEFAULT_REQUESTER_ROLE),
    }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Each rule or default role of `mapping` that names a role Infraon does not
/// have (any more): what a run skips, as notices dated `at`.
pub fn unknown_roles(mapping: &Mapping, roles: &[Role], at: &str) -> Vec<Notice> {
    let has = |kind: SyncTarget, name: &str| {
        roles
            .iter()
            .any(|r| r.kind == kind && same_folded(&r.name, name))
    };
    let notice = |what: String, role: &str, kind: SyncTarget| Notice {
        code: NoticeCode::UnknownRole,
        message: format!(
            "{what} names the role `{role}`, which Infraon no longer has for {kind}: it grants \
             nothing until the role is back in Infraon or the mapping is changed."
        ),
        at: at.to_owned(),
    };
    let mut out = Vec::new();
    for (i, r) in mapping.role_rules.iter().enumerate() {
        let role = r.role.trim();
        if role != ROLE_OF_GROUP && !has(r.kind, role) {
            out.push(notice(format!("role-rules[{i}]"), role, r.kind));
        }
    }
    for (what, kind, role) in [
        (
            "default-user-role",
            SyncTarget::Users,
            &mapping.default_user_role,
        ),
        (
            "default-requester-role",
            SyncTarget::Requesters,
            &mapping.default_requester_role,
        ),
    ] {
        if let Some(role) = role.as_deref().map(str::trim)
            && !has(kind, role)
        {
            out.push(notice(what.to_owned(), role, kind));
        }
    }
    out
}

/// The notices of a config: what upgrades changed (until dismissed), then
/// the roles its mapping names that Infraon does not have now.
pub fn notices(host: &mut Host<'_>, config: &str) -> Result<Vec<Notice>, MapError> {
    let cfg = find_config(host.storage, config)
        .map_err(MapError::Other)?
        .ok_or_else(|| MapError::UnknownConfig(config.trim().to_owned()))?;
    let cfg = upgrade(host, cfg).map_err(other)?;
    let mut out: Vec<Notice> = keys::get_json(host.storage, &key(&cfg.name))
        .map_err(other)?
        .unwrap_or_default();
    let mapping = super::load(host.storage, &cfg.name, cfg.sync_target).map_err(other)?;
    let roles = host.directory.list_roles().map_err(other)?;
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    out.extend(unknown_roles(&mapping, &roles, &now));
    Ok(out)
}

/// Forget a config's kept notices (the admin has read them). Unknown roles
/// are not kept, so they stay until fixed.
pub fn dismiss(host: &mut Host<'_>, config: &str) -> Result<(), MapError> {
    let cfg = find_config(host.storage, config)
        .map_err(MapError::Other)?
        .ok_or_else(|| MapError::UnknownConfig(config.trim().to_owned()))?;
    host.storage.delete(&key(&cfg.name)).map_err(other)
}
