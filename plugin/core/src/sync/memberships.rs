//! Who is in which group, known before any user is applied: rebuilt in
//! memory from the run's stored pages (and, for incremental runs, the last
//! successful snapshot), so a resumed run sees exactly what it had fetched.
//!
//! Every run lists every group. A run walks (lists the members of) only the
//! groups whose membership can matter: `OKTA_GROUP`s, and `BUILT_IN` (the
//! Everyone group) or `APP_GROUP` groups a role rule can grant a role from;
//! an incremental run walks those only when they changed since the
//! watermark or the snapshot does not know their members. Groups the
//! snapshot has and the listing does not were deleted in Okta: their
//! members' roles are derived again without them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::sync::ids::SharedIds;

use serde::{Deserialize, Serialize};

use crate::ports::Storage;
use crate::sync::keys;
use crate::sync::types::SyncError;

/// A group as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// Okta group id.
    pub id: String,
    /// `profile.name`.
    pub name: String,
}

/// A group of a stored groups page, and whether this run lists its members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedGroup {
    /// Okta group id.
    pub id: String,
    /// `profile.name`.
    pub name: String,
    /// Whether the members phase lists its members (pages of older runs
    /// walked every group).
    #[serde(default = "yes")]
    pub walk: bool,
}

fn yes() -> bool {
    true
}

/// One stored page of a group's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembersPage {
    /// Okta group id.
    pub group: String,
    /// Okta user ids on this page.
    pub members: Vec<String>,
}

/// A group's membership as of the last successful run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSnapshot {
    /// Group name then.
    pub name: String,
    /// Member ids, sorted.
    pub members: Vec<String>,
    /// Whether `members` is the group's membership: `false` for a group no
    /// run walked (snapshots of older runs are complete).
    #[serde(default = "yes")]
    pub complete: bool,
}

/// The membership view of one run. Okta user ids are kept once, in an
/// [`Interner`], and groups hold their positions: a million people in three
/// groups each cost some 40 MB, not the half gigabyte of sets of strings.
#[derive(Debug, Default)]
pub struct Memberships {
    /// Groups whose members this run lists, in listing order (the members
    /// phase walks it).
    pub listed: Vec<GroupRef>,
    /// Every group the run's listing has so far.
    seen: BTreeSet<String>,
    names: HashMap<String, String>,
    /// Each group's members, as positions in `users`: in the order met, and
    /// possibly repeated, until [`Memberships::index`] settles them.
    members: BTreeMap<String, Vec<u32>>,
    users: SharedIds,
    /// Groups whose members are known: walked, or complete in the snapshot.
    known: BTreeSet<String>,
    before: BTreeMap<String, Before>,
    by_user: Option<ByUser>,
}

/// A group as the last snapshot has it, its members as positions.
#[derive(Debug)]
struct Before {
    name: String,
    /// Sorted, each once.
    members: Vec<u32>,
    complete: bool,
}

/// Roles answers kept per set of groups at most: when people's sets of
/// groups are all different (a million people in three random groups of
/// thousands) a cache of them all would grow with the org for no gain.
const ROLE_SETS_KEPT: usize = 65_536;

/// Each user's groups, built once from `members` when first asked: groups
/// are kept once, sorted by name then id, and a user's are their positions
/// in that order (a user is in a few groups, a group has many users), kept
/// end to end for every user (`starts[u]..starts[u + 1]` of `positions`).
#[derive(Debug)]
struct ByUser {
    groups: Vec<GroupRef>,
    starts: Vec<u32>,
    positions: Vec<u32>,
    /// [`Memberships::roles_of`]'s answers by set of groups: many users
    /// share one, and deriving roles folds every rule and role name.
    roles: HashMap<Vec<u32>, Vec<String>>,
}

impl ByUser {
    /// The positions of the groups of the user at `user` (in the interner).
    fn of_user(&self, user: Option<u32>) -> &[u32] {
        match user.map(|u| u as usize) {
            Some(u) if u + 1 < self.starts.len() => {
                &self.positions[self.starts[u] as usize..self.starts[u + 1] as usize]
            }
            _ => &[],
        }
    }

    /// The groups at `positions` of the sorted group list.
    fn groups_at(&self, positions: &[u32]) -> Vec<&GroupRef> {
        positions
            .iter()
            .map(|&p| &self.groups[p as usize])
            .collect()
    }
}

/// `ids` sorted, each once.
fn settled(mut ids: Vec<u32>) -> Vec<u32> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// What is in exactly one of two sorted lists.
fn symmetric_difference(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

impl Memberships {
    /// Rebuild from storage: the snapshot first when `incremental` (the run
    /// walks only changed groups), then the run's pages below the counters,
    /// one at a time; `groups_done` once the run has read its whole group
    /// listing.
    pub fn load(
        s: &mut dyn Storage,
        config: &str,
        run: u64,
        (groups_below, members_below): (u32, u32),
        incremental: bool,
        groups_done: bool,
    ) -> Result<Memberships, SyncError> {
        let mut m = Memberships::default();
        if incremental {
            for key in s
                .list_keys(&keys::snapshots(config))
                .map_err(SyncError::host)?
            {
                let Some(snap) = keys::get_json::<GroupSnapshot>(s, &key)? else {
                    continue;
                };
                let id = key.rsplit('/').next().unwrap_or_default().to_owned();
                let members = {
                    let mut users = m.users.borrow_mut();
                    settled(snap.members.iter().map(|u| users.intern(u)).collect())
                };
                m.names.insert(id.clone(), snap.name.clone());
                m.members.insert(id.clone(), members.clone());
                if snap.complete {
                    m.known.insert(id.clone());
                }
                let before = Before {
                    name: snap.name,
                    members,
                    complete: snap.complete,
                };
                m.before.insert(id, before);
            }
        }
        let prefix = keys::work_pages(config, run, "groups");
        keys::each_page(s, &prefix, groups_below, |page: Vec<ListedGroup>| {
            m.add_groups(page);
            Ok(())
        })?;
        if groups_done {
            m.drop_unlisted();
        }
        let prefix = keys::work_pages(config, run, "members");
        keys::each_page(s, &prefix, members_below, |page: MembersPage| {
            m.add_members(&page);
            Ok(())
        })?;
        Ok(m)
    }

    /// The ids this run keeps, to share with its people (see
    /// [`crate::sync::ids::People::sharing`]).
    pub fn ids(&self) -> SharedIds {
        SharedIds::clone(&self.users)
    }

    /// Whether the last snapshot knows the members of group `id`.
    pub fn knows(&self, id: &str) -> bool {
        self.before.get(id).is_some_and(|b| b.complete)
    }

    /// Take in a groups page. A walked group's members are refetched, so
    /// whatever the snapshot said about it is dropped; the others keep what
    /// the snapshot knew.
    pub fn add_groups(&mut self, page: Vec<ListedGroup>) {
        for g in page {
            self.names.insert(g.id.clone(), g.name.clone());
            self.seen.insert(g.id.clone());
            if g.walk {
                self.members.insert(g.id.clone(), Vec::new());
                self.known.insert(g.id.clone());
                self.listed.push(GroupRef {
                    id: g.id,
                    name: g.name,
                });
            } else {
                self.members.entry(g.id).or_default();
            }
        }
        self.by_user = None;
    }

    /// Forget the groups the whole listing did not have: deleted in Okta.
    pub fn drop_unlisted(&mut self) {
        let seen = &self.seen;
        self.members.retain(|g, _| seen.contains(g));
        self.names.retain(|g, _| seen.contains(g));
        self.known.retain(|g| seen.contains(g));
        self.by_user = None;
    }

    /// Take in a members page.
    pub fn add_members(&mut self, page: &MembersPage) {
        let mut users = self.users.borrow_mut();
        self.members
            .entry(page.group.clone())
            .or_default()
            .extend(page.members.iter().map(|u| users.intern(u)));
        self.by_user = None;
    }

    /// The roles of `user`: `derive` of the groups they are in (sorted by
    /// name then id), asked once per distinct set of groups (of the last
    /// [`ROLE_SETS_KEPT`]). `derive` must depend on nothing but the groups
    /// for the whole life of `self`.
    pub fn roles_of(
        &mut self,
        user: &str,
        derive: impl FnOnce(&[&GroupRef]) -> Vec<String>,
    ) -> Vec<String> {
        let at = self.users.borrow().get(user);
        let index = self.index();
        let positions = index.of_user(at);
        if let Some(roles) = index.roles.get(positions) {
            return roles.clone();
        }
        let roles = derive(&index.groups_at(positions));
        let positions = positions.to_vec();
        if index.roles.len() >= ROLE_SETS_KEPT {
            index.roles.clear();
        }
        index.roles.insert(positions, roles.clone());
        roles
    }

    /// The groups `user` is in, sorted by name then id.
    pub fn groups_of(&mut self, user: &str) -> Vec<GroupRef> {
        let at = self.users.borrow().get(user);
        let index = self.index();
        index
            .groups_at(index.of_user(at))
            .into_iter()
            .cloned()
            .collect()
    }

    fn index(&mut self) -> &mut ByUser {
        let (members, names, users) = (&mut self.members, &self.names, &self.users);
        self.by_user.get_or_insert_with(|| {
            for m in members.values_mut() {
                *m = settled(std::mem::take(m));
            }
            let mut groups: Vec<(&Vec<u32>, GroupRef)> = members
                .iter()
                .map(|(g, users)| {
                    let group = GroupRef {
                        id: g.clone(),
                        name: names.get(g).cloned().unwrap_or_default(),
                    };
                    (users, group)
                })
                .collect();
            groups.sort_by(|(_, a), (_, b)| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            // Count each user's groups, then lay them out end to end.
            let n = users.borrow().len();
            let mut starts = vec![0u32; n + 1];
            for (members, _) in &groups {
                for &u in *members {
                    starts[u as usize + 1] += 1;
                }
            }
            for u in 0..n {
                starts[u + 1] += starts[u];
            }
            let mut fill = starts.clone();
            let mut positions = vec![0u32; starts[n] as usize];
            for (position, (members, _)) in groups.iter().enumerate() {
                for &u in *members {
                    positions[fill[u as usize] as usize] = position as u32;
                    fill[u as usize] += 1;
                }
            }
            ByUser {
                groups: groups.into_iter().map(|(_, g)| g).collect(),
                starts,
                positions,
                roles: HashMap::new(),
            }
        })
    }

    /// Names of the groups `user` is in, sorted.
    pub fn group_names(&mut self, user: &str) -> Vec<String> {
        self.groups_of(user).into_iter().map(|g| g.name).collect()
    }

    /// Users whose groups an incremental run changed: joined or left a walked
    /// group, are in one that is new or renamed, or were in one deleted in
    /// Okta. Sorted.
    pub fn changed_users(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (id, b) in &self.before {
            let renamed = self.names.get(id).is_some_and(|n| *n != b.name);
            if !self.seen.contains(id) || renamed {
                out.extend_from_slice(&b.members);
            }
        }
        for g in &self.listed {
            let now = settled(self.members.get(&g.id).cloned().unwrap_or_default());
            match self.before.get(&g.id) {
                Some(b) if b.name == g.name => symmetric_difference(&now, &b.members, &mut out),
                Some(b) => {
                    out.extend_from_slice(&now);
                    out.extend_from_slice(&b.members);
                }
                None => out.extend_from_slice(&now),
            }
        }
        let ids = self.users.borrow();
        let mut users: Vec<&str> = settled(out).into_iter().map(|u| ids.resolve(u)).collect();
        users.sort_unstable();
        users.into_iter().map(str::to_owned).collect()
    }

    /// Save the snapshot a successful run leaves: groups no longer listed
    /// are forgotten; walked, new or renamed groups, and those whose
    /// members became unknown, are written; the others are as stored.
    pub fn save_snapshot(&self, s: &mut dyn Storage, config: &str) -> Result<(), SyncError> {
        for key in s
            .list_keys(&keys::snapshots(config))
            .map_err(SyncError::host)?
        {
            if !self
                .seen
                .contains(key.rsplit('/').next().unwrap_or_default())
            {
                s.delete(&key).map_err(SyncError::host)?;
            }
        }
        let walked: BTreeSet<&str> = self.listed.iter().map(|g| g.id.as_str()).collect();
        for id in &self.seen {
            let name = self.names.get(id).cloned().unwrap_or_default();
            let complete = self.known.contains(id);
            let stale = self
                .before
                .get(id)
                .is_none_or(|b| b.name != name || b.complete != complete);
            if !walked.contains(id.as_str()) && !stale {
                continue;
            }
            let ids = self.users.borrow();
            let mut members: Vec<&str> = self
                .members
                .get(id)
                .map(|m| m.iter().map(|&u| ids.resolve(u)).collect())
                .unwrap_or_default();
            members.sort_unstable();
            members.dedup();
            let snap = GroupSnapshot {
                name,
                members: members.into_iter().map(str::to_owned).collect(),
                complete,
            };
            keys::put_json(s, &keys::snapshot(config, id), &snap)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_derived_once_per_set_of_groups_and_follow_changes() {
        let mut m = Memberships::default();
        let walked = |id: &str, name: &str| ListedGroup {
            id: id.into(),
            name: name.into(),
            walk: true,
        };
        m.add_groups(vec![walked("00g2", "Ops"), walked("00g1", "Admins")]);
        for (g, users) in [("00g1", ["u1", "u2"]), ("00g2", ["u2", "u3"])] {
            m.add_members(&MembersPage {
                group: g.into(),
                members: users.iter().map(|u| u.to_string()).collect(),
            });
        }
        let mut asked = Vec::new();
        let mut roles_of = |m: &mut Memberships, user: &str| {
            m.roles_of(user, |groups| {
                let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
                asked.push(names.join("+"));
                names
            })
        };
        assert_eq!(roles_of(&mut m, "u2"), ["Admins", "Ops"]);
        assert_eq!(roles_of(&mut m, "u1"), ["Admins"]);
        assert_eq!(roles_of(&mut m, "u2"), ["Admins", "Ops"]);
        assert_eq!(roles_of(&mut m, "nobody"), Vec::<String>::new());
        // A new members page rebuilds the index, and the answers with it.
        m.add_members(&MembersPage {
            group: "00g2".into(),
            members: vec!["u1".into()],
        });
        assert_eq!(roles_of(&mut m, "u1"), ["Admins", "Ops"]);
        assert_eq!(asked, ["Admins+Ops", "Admins", "", "Admins+Ops"]);
    }
}
