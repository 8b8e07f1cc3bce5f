//! The org's data: users, groups, memberships, and the mutations tests use.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use anyhow::{Context, bail};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};

use crate::clock::{Clock, Millis};
use crate::people::GenProfile;

/// An Okta id (`00u...`, `00g...`) of up to 20 bytes, kept inline so that
/// maps of 100,000 users and their memberships stay small. Okta's own ids
/// are 20 bytes; a shorter one (a test's `00u00001`) is padded with NULs,
/// which sort before any character, so ids order as their strings do.
pub(crate) type Id = [u8; 20];

pub(crate) fn id_str(id: &Id) -> &str {
    let len = id.iter().position(|b| *b == 0).unwrap_or(id.len());
    std::str::from_utf8(&id[..len]).unwrap_or("")
}

pub(crate) fn parse_id(s: &str) -> Option<Id> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 20 || b.contains(&0) {
        return None;
    }
    let mut id = [0u8; 20];
    id[..b.len()].copy_from_slice(b);
    Some(id)
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
pub enum GroupType {
    /// A group managed in Okta.
    Okta,
    /// A group imported from an app (e.g. Active Directory).
    App,
    /// Everyone: every user of the org, kept by Okta itself.
    BuiltIn,
}

impl GroupType {
    /// The wire form, e.g. `OKTA_GROUP`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::Okta => "OKTA_GROUP",
            GroupType::App => "APP_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
        }
    }

    /// Parses the wire form.
    pub fn parse(s: &str) -> Option<GroupType> {
        [GroupType::Okta, GroupType::App, GroupType::BuiltIn]
            .into_iter()
            .find(|t| t.as_str() == s)
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
/// and the order is stable, as Okta's is. [`crate::model::answer`] serves
/// its read endpoints; the methods here are the mutations an admin makes.
#[derive(Debug)]
pub struct Org {
    pub(crate) users: BTreeMap<Id, UserRec>,
    pub(crate) groups: BTreeMap<Id, GroupRec>,
    pub(crate) clock: Clock,
    pub(crate) rng: ChaCha8Rng,
    pub(crate) suffix: [u8; 3],
    pub(crate) type_id: String,
    pub(crate) schema_id: String,
    pub(crate) created: Millis,
    /// The `#custom` properties of the user schema: (name, title, type).
    pub(crate) custom_attributes: Vec<(String, String, String)>,
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

    /// Sets profile attributes (others kept), stamping `lastUpdated`.
    pub fn update_profile(&mut self, id: &str, changes: Map<String, Value>) -> anyhow::Result<()> {
        let key = self.user_key(id)?;
        let now = self.clock.tick();
        let user = self.users.get_mut(&key).context("user vanished")?;
        user.extra.get_or_insert_default().extend(changes);
        user.last_updated = now;
        Ok(())
    }

    /// Moves a user to `status`, stamping `statusChanged` and `lastUpdated`.
    pub fn set_status(&mut self, id: &str, status: UserStatus) -> anyhow::Result<()> {
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

    /// Deletes a user and its memberships, stamping each group it left.
    pub fn delete_user(&mut self, id: &str) -> anyhow::Result<()> {
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

    /// Adds (`member`) or removes a user from a group, stamping
    /// `lastMembershipUpdated` when that changes anything.
    pub fn set_membership(&mut self, group: &str, user: &str, member: bool) -> anyhow::Result<()> {
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
    pub fn delete_group(&mut self, id: &str) -> anyhow::Result<()> {
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

    /// Renames or redescribes a group, stamping `lastUpdated`.
    pub fn update_group(
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

    /// Creates an `OKTA_GROUP` with a fresh id, which it returns.
    pub fn add_group(&mut self, name: &str, description: &str) -> String {
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

    /// Creates a user with a fresh id, which it returns; the profile needs
    /// Okta's four required attributes. Like Okta, it joins Everyone.
    pub fn add_user(
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

/// A group as [`Org::groups`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupView<'a> {
    /// The group's id.
    pub id: &'a str,
    /// `profile.name`.
    pub name: &'a str,
    /// The group's type.
    pub kind: GroupType,
    /// How many users are members.
    pub members: usize,
}

/// For a caller that keeps its own clock and chooses the ids (the plugin's
/// in-memory tests): an empty org, and mutations by given id.
impl Org {
    /// An org with no users and no groups (not even Everyone: add it with
    /// [`Org::insert_group`] and [`GroupType::BuiltIn`]); its mutations are
    /// stamped with the time of the last [`Org::stamp_at`].
    pub fn empty(created_unix_ms: i64) -> Org {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let suffix = *b"0g4";
        let type_id = id_str(&new_id(&mut rng, b"oty", &suffix)).to_owned();
        let schema_id = id_str(&new_id(&mut rng, b"osc", &suffix)).to_owned();
        let mut clock = Clock::new(created_unix_ms);
        clock.set_exact(created_unix_ms);
        Org {
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            clock,
            rng,
            suffix,
            type_id,
            schema_id,
            created: created_unix_ms,
            custom_attributes: crate::render::default_custom_attributes(),
        }
    }

    /// Every later mutation is stamped exactly `now_unix_ms`, until the
    /// next call (the caller's clock, not the wall clock).
    pub fn stamp_at(&mut self, now_unix_ms: i64) {
        self.clock.set_exact(now_unix_ms);
    }

    /// Creates or replaces the user `id` (up to 20 bytes) with any profile;
    /// a new user joins the `BUILT_IN` groups, as Okta keeps them.
    pub fn insert_user(
        &mut self,
        id: &str,
        status: UserStatus,
        profile: Map<String, Value>,
    ) -> anyhow::Result<()> {
        let key = parse_id(id).with_context(|| format!("not an id: {id:?}"))?;
        let now = self.clock.tick();
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
        self.users.insert(key, rec);
        for g in self.groups.values_mut() {
            if g.kind == GroupType::BuiltIn && g.members.insert(key) {
                g.last_membership_updated = now;
            }
        }
        Ok(())
    }

    /// Creates or replaces the group `id`; a `BUILT_IN` one has every user.
    pub fn insert_group(&mut self, id: &str, name: &str, kind: GroupType) -> anyhow::Result<()> {
        let key = parse_id(id).with_context(|| format!("not an id: {id:?}"))?;
        let now = self.clock.tick();
        let members = match kind {
            GroupType::BuiltIn => self.users.keys().copied().collect(),
            _ => BTreeSet::new(),
        };
        let rec = GroupRec {
            kind,
            name: name.to_owned(),
            description: String::new(),
            created: now,
            last_updated: now,
            last_membership_updated: now,
            members,
        };
        self.groups.insert(key, rec);
        Ok(())
    }

    /// Changes the status reads report without stamping anything, and
    /// returns the one it had: what a lagging search index still says.
    pub fn set_status_unstamped(&mut self, id: &str, status: UserStatus) -> Option<UserStatus> {
        let key = parse_id(id)?;
        let u = self.users.get_mut(&key)?;
        Some(std::mem::replace(&mut u.status, status))
    }

    /// Every user's id and status, in id order.
    pub fn users(&self) -> impl Iterator<Item = (&str, UserStatus)> {
        self.users.iter().map(|(id, u)| (id_str(id), u.status))
    }

    /// Every group, in id order.
    pub fn groups(&self) -> impl Iterator<Item = GroupView<'_>> {
        self.groups.iter().map(|(id, g)| GroupView {
            id: id_str(id),
            name: &g.name,
            kind: g.kind,
            members: g.members.len(),
        })
    }

    /// Replaces the `#custom` properties of the user schema: (name, type).
    pub fn set_custom_attributes(&mut self, attrs: &[(&str, &str)]) {
        self.custom_attributes = attrs
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*n).to_owned(), (*t).to_owned()))
            .collect();
    }
}
