//! The org's data: users, groups, memberships, and the mutations tests use.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{Context, bail};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::clock::{Clock, Millis};
use crate::people::GenProfile;

/// A 20-byte Okta id (`00u...`, `00g...`), kept inline so that maps of
/// 100,000 users and their memberships stay small.
pub(crate) type Id = [u8; 20];

pub(crate) fn id_str(id: &Id) -> &str {
    std::str::from_utf8(id).unwrap_or("")
}

pub(crate) fn parse_id(s: &str) -> Option<Id> {
    s.as_bytes().try_into().ok()
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Okta-like id: 3-char prefix, 14 random base62 chars, a per-org 3-char
/// "cell" suffix (real ids end in e.g. `0g4`).
pub(crate) fn new_id(rng: &mut ChaCha8Rng, prefix: &[u8; 3], suffix: &[u8; 3]) -> Id {
    let mut id = [0u8; 20];
    id[..3].copy_from_slice(prefix);
    for b in &mut id[3..17] {
        *b = BASE62[rng.random_range(0..BASE62.len())];
    }
    id[17..].copy_from_slice(suffix);
    id
}

/// Okta's user lifecycle statuses (schema `UserStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserStatus {
    /// Created, not yet activated.
    Staged,
    /// Activated, but the user has not set credentials yet.
    Provisioned,
    /// Normal signed-up user.
    Active,
    /// Password reset in progress.
    Recovery,
    /// Must change password at next sign-in.
    PasswordExpired,
    /// Too many failed sign-ins.
    LockedOut,
    /// Suspended by an admin; can be unsuspended.
    Suspended,
    /// Deactivated; hidden from `listUsers` unless filtered or searched for.
    Deprovisioned,
}

impl UserStatus {
    /// All eight statuses, in Okta's lifecycle order.
    pub const ALL: [UserStatus; 8] = [
        UserStatus::Staged,
        UserStatus::Provisioned,
        UserStatus::Active,
        UserStatus::Recovery,
        UserStatus::PasswordExpired,
        UserStatus::LockedOut,
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
    ];

    /// The wire form, e.g. `PASSWORD_EXPIRED`.
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Recovery => "RECOVERY",
            UserStatus::PasswordExpired => "PASSWORD_EXPIRED",
            UserStatus::LockedOut => "LOCKED_OUT",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<UserStatus> {
        UserStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether Okta has ever activated a user in this status.
    pub(crate) fn was_activated(self) -> bool {
        !matches!(self, UserStatus::Staged)
    }

    /// Whether the user has a password credential.
    pub(crate) fn has_password(self) -> bool {
        !matches!(self, UserStatus::Staged | UserStatus::Provisioned)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a user's password is validated (`credentials.provider`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    Okta,
    ActiveDirectory,
}

#[derive(Clone, Debug)]
pub(crate) struct UserRec {
    pub status: UserStatus,
    pub provider: Provider,
    pub created: Millis,
    pub activated: Option<Millis>,
    pub status_changed: Option<Millis>,
    pub last_login: Option<Millis>,
    pub last_updated: Millis,
    pub password_changed: Option<Millis>,
    pub seeded: Option<GenProfile>,
    /// Profile attributes set by mutations (or the whole profile of a user
    /// added by a test); they win over the generated ones.
    pub extra: Option<Box<Map<String, Value>>>,
}

impl UserRec {
    pub(crate) fn profile(&self) -> Map<String, Value> {
        let mut p = self
            .seeded
            .as_ref()
            .map(GenProfile::render)
            .unwrap_or_default();
        if let Some(extra) = &self.extra {
            p.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        p
    }

    pub(crate) fn login(&self) -> String {
        if let Some(Value::String(l)) = self.extra.as_ref().and_then(|e| e.get("login")) {
            return l.clone();
        }
        self.seeded
            .as_ref()
            .map(GenProfile::login)
            .unwrap_or_default()
    }
}

/// Okta's group types (schema `GroupType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GroupType {
    Okta,
    App,
    /// Everyone: every user of the org, kept by Okta itself.
    BuiltIn,
}

impl GroupType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GroupType::Okta => "OKTA_GROUP",
            GroupType::App => "APP_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct GroupRec {
    pub kind: GroupType,
    pub name: String,
    pub description: String,
    pub created: Millis,
    pub last_updated: Millis,
    pub last_membership_updated: Millis,
    pub members: BTreeSet<Id>,
}

/// The whole org. Users and groups are keyed by id so paging is a range scan
/// and the order is stable, as Okta's is.
#[derive(Debug)]
pub(crate) struct Org {
    pub users: BTreeMap<Id, UserRec>,
    pub groups: BTreeMap<Id, GroupRec>,
    pub clock: Clock,
    pub rng: ChaCha8Rng,
    pub suffix: [u8; 3],
    pub type_id: String,
    pub schema_id: String,
    pub created: Millis,
}

impl Org {
    fn user_key(&self, id: &str) -> anyhow::Result<Id> {
        parse_id(id)
            .filter(|k| self.users.contains_key(k))
            .with_context(|| format!("no such user: {id}"))
    }

    fn group_key(&self, id: &str) -> anyhow::Result<Id> {
        parse_id(id)
            .filter(|k| self.groups.contains_key(k))
            .with_context(|| format!("no such group: {id}"))
    }

    /// Finds a user by id or by login, as `GET /api/v1/users/{idOrLogin}` does.
    pub(crate) fn find_user(&self, id_or_login: &str) -> Option<(&Id, &UserRec)> {
        if let Some(hit) = parse_id(id_or_login).and_then(|k| self.users.get_key_value(&k)) {
            return Some(hit);
        }
        self.users
            .iter()
            .find(|(_, u)| u.login().eq_ignore_ascii_case(id_or_login))
    }

    pub(crate) fn groups_of(&self, user: &Id) -> impl Iterator<Item = (&Id, &GroupRec)> {
        self.groups
            .iter()
            .filter(move |(_, g)| g.members.contains(user))
    }

    pub(crate) fn update_profile(
        &mut self,
        id: &str,
        changes: Map<String, Value>,
    ) -> anyhow::Result<()> {
        let key = self.user_key(id)?;
        let now = self.clock.tick();
        let user = self.users.get_mut(&key).context("user vanished")?;
        user.extra.get_or_insert_default().extend(changes);
        user.last_updated = now;
        Ok(())
    }

    pub(crate) fn set_status(&mut self, id: &str, status: UserStatus) -> anyhow::Result<()> {
        let key = self.user_key(id)?;
        let now = self.clock.tick();
        let user = self.users.get_mut(&key).context("user vanished")?;
        if user.status == status {
            return Ok(());
        }
        user.status = status;
        user.status_changed = Some(now);
        user.last_updated = now;
        if status.was_activated() && user.activated.is_none() {
            user.activated = Some(now);
        }
        if status.has_password() && user.password_changed.is_none() {
            user.password_changed = Some(now);
        }
        Ok(())
    }

    pub(crate) fn delete_user(&mut self, id: &str) -> anyhow::Result<()> {
        let key = self.user_key(id)?;
        let now = self.clock.tick();
        self.users.remove(&key);
        for g in self.groups.values_mut() {
            if g.members.remove(&key) {
                g.last_membership_updated = now;
            }
        }
        Ok(())
    }

    pub(crate) fn set_membership(
        &mut self,
        group: &str,
        user: &str,
        member: bool,
    ) -> anyhow::Result<()> {
        let g = self.group_key(group)?;
        let u = self.user_key(user)?;
        let now = self.clock.tick();
        let rec = self.groups.get_mut(&g).context("group vanished")?;
        let changed = if member {
            rec.members.insert(u)
        } else {
            rec.members.remove(&u)
        };
        if changed {
            rec.last_membership_updated = now;
        }
        Ok(())
    }

    /// Deletes a group (not Everyone, which Okta keeps).
    pub(crate) fn delete_group(&mut self, id: &str) -> anyhow::Result<()> {
        let key = self.group_key(id)?;
        if self
            .groups
            .get(&key)
            .is_some_and(|g| g.kind == GroupType::BuiltIn)
        {
            bail!("the built-in group {id} cannot be deleted");
        }
        self.groups.remove(&key);
        Ok(())
    }

    pub(crate) fn update_group(
        &mut self,
        id: &str,
        name: Option<&str>,
        description: Option<&str>,
    ) -> anyhow::Result<()> {
        let key = self.group_key(id)?;
        let now = self.clock.tick();
        let g = self.groups.get_mut(&key).context("group vanished")?;
        if let Some(n) = name {
            g.name = n.to_owned();
        }
        if let Some(d) = description {
            g.description = d.to_owned();
        }
        g.last_updated = now;
        Ok(())
    }

    pub(crate) fn add_group(&mut self, name: &str, description: &str) -> String {
        let now = self.clock.tick();
        let id = loop {
            let id = new_id(&mut self.rng, b"00g", &self.suffix);
            if !self.groups.contains_key(&id) {
                break id;
            }
        };
        let rec = GroupRec {
            kind: GroupType::Okta,
            name: name.to_owned(),
            description: description.to_owned(),
            created: now,
            last_updated: now,
            last_membership_updated: now,
            members: BTreeSet::new(),
        };
        self.groups.insert(id, rec);
        id_str(&id).to_owned()
    }

    pub(crate) fn add_user(
        &mut self,
        profile: Map<String, Value>,
        status: UserStatus,
    ) -> anyhow::Result<String> {
        for key in ["login", "email", "firstName", "lastName"] {
            if !profile.get(key).is_some_and(Value::is_string) {
                bail!("new user profile needs a string `{key}`");
            }
        }
        let now = self.clock.tick();
        let id = loop {
            let id = new_id(&mut self.rng, b"00u", &self.suffix);
            if !self.users.contains_key(&id) {
                break id;
            }
        };
        let rec = UserRec {
            status,
            provider: Provider::Okta,
            created: now,
            activated: status.was_activated().then_some(now),
            status_changed: status.was_activated().then_some(now),
            last_login: None,
            last_updated: now,
            password_changed: status.has_password().then_some(now),
            seeded: None,
            extra: Some(Box::new(profile)),
        };
        self.users.insert(id, rec);
        for g in self.groups.values_mut() {
            if g.kind == GroupType::BuiltIn {
                g.members.insert(id);
                g.last_membership_updated = now;
            }
        }
        Ok(id_str(&id).to_owned())
    }
}

impl Org {
    /// `(alternateId, displayName)` of a user for an event's target.
    pub(crate) fn user_target(&self, id: &str) -> Option<(String, String)> {
        let (_, u) = self.find_user(id)?;
        let p = u.profile();
        let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        Some((
            u.login(),
            format!("{} {}", text("firstName"), text("lastName"))
                .trim()
                .to_owned(),
        ))
    }

    /// A group's name, for an event's target.
    pub(crate) fn group_name(&self, id: &str) -> Option<String> {
        let key = parse_id(id)?;
        self.groups.get(&key).map(|g| g.name.clone())
    }

    /// A user's status.
    pub(crate) fn user_status(&self, id: &str) -> Option<UserStatus> {
        self.find_user(id).map(|(_, u)| u.status)
    }
}
