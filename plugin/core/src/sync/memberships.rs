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

/// The membership view of one run.
#[derive(Debug, Default)]
pub struct Memberships {
    /// Groups whose members this run lists, in listing order (the members
    /// phase walks it).
    pub listed: Vec<GroupRef>,
    /// Every group the run's listing has so far.
    seen: BTreeSet<String>,
    names: HashMap<String, String>,
    members: BTreeMap<String, BTreeSet<String>>,
    /// Groups whose members are known: walked, or complete in the snapshot.
    known: BTreeSet<String>,
    before: BTreeMap<String, GroupSnapshot>,
    by_user: Option<ByUser>,
}

/// Each user's groups, built once from `members` when first asked: groups
/// are kept once, sorted by name then id, and a user's are their positions
/// in that order (a user is in a few groups, a group has many users).
#[derive(Debug)]
struct ByUser {
    groups: Vec<GroupRef>,
    of_user: HashMap<String, Vec<u32>>,
    /// [`Memberships::roles_of`]'s answers by set of groups: many users
    /// share one, and deriving roles folds every rule and role name.
    roles: HashMap<Vec<u32>, Vec<String>>,
}

impl ByUser {
    /// The groups at `positions` of the sorted group list.
    fn groups_at(&self, positions: &[u32]) -> Vec<&GroupRef> {
        positions
            .iter()
            .map(|&p| &self.groups[p as usize])
            .collect()
    }
}

impl Memberships {
    /// Rebuild from storage: the snapshot first when `incremental` (the run
    /// walks only changed groups), then the run's pages below the counters;
    /// `groups_done` once the run has read its whole group listing.
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
                m.names.insert(id.clone(), snap.name.clone());
                m.members
                    .insert(id.clone(), snap.members.iter().cloned().collect());
                if snap.complete {
                    m.known.insert(id.clone());
                }
                m.before.insert(id, snap);
            }
        }
        let prefix = keys::work_pages(config, run, "groups");
        for page in keys::pages::<Vec<ListedGroup>>(s, &prefix, groups_below)? {
            m.add_groups(page);
        }
        if groups_done {
            m.drop_unlisted();
        }
        let prefix = keys::work_pages(config, run, "members");
        for page in keys::pages::<MembersPage>(s, &prefix, members_below)? {
            m.add_members(&page);
        }
        Ok(m)
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
                self.members.insert(g.id.clone(), BTreeSet::new());
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
        self.members
            .entry(page.group.clone())
            .or_default()
            .extend(page.members.iter().cloned());
        self.by_user = None;
    }

    /// The roles of `user`: `derive` of the groups they are in (sorted by
    /// name then id), asked once per distinct set of groups. `derive` must
    /// depend on nothing but the groups for the whole life of `self`.
    pub fn roles_of(
        &mut self,
        user: &str,
        derive: impl FnOnce(&[&GroupRef]) -> Vec<String>,
    ) -> Vec<String> {
        let index = self.index();
        let positions = index.of_user.get(user).map_or(&[][..], Vec::as_slice);
        if let Some(roles) = index.roles.get(positions) {
            return roles.clone();
        }
        let roles = derive(&index.groups_at(positions));
        index.roles.insert(positions.to_vec(), roles.clone());
        roles
    }

    /// The groups `user` is in, sorted by name then id.
    pub fn groups_of(&mut self, user: &str) -> Vec<GroupRef> {
        let index = self.index();
        index.of_user.get(user).map_or_else(Vec::new, |positions| {
            index.groups_at(positions).into_iter().cloned().collect()
        })
    }

    fn index(&mut self) -> &mut ByUser {
        let (members, names) = (&self.members, &self.names);
        self.by_user.get_or_insert_with(|| {
            let mut groups: Vec<(&String, &BTreeSet<String>, GroupRef)> = members
                .iter()
                .map(|(g, users)| {
                    let group = GroupRef {
                        id: g.clone(),
                        name: names.get(g).cloned().unwrap_or_default(),
                    };
                    (g, users, group)
                })
                .collect();
            groups.sort_by(|(_, _, a), (_, _, b)| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            let mut of_user: HashMap<String, Vec<u32>> = HashMap::new();
            for (position, (_, users, _)) in groups.iter().enumerate() {
                for u in *users {
                    match of_user.get_mut(u.as_str()) {
                        Some(v) => v.push(position as u32),
                        None => {
                            of_user.insert(u.clone(), vec![position as u32]);
                        }
                    }
                }
            }
            ByUser {
                groups: groups.into_iter().map(|(_, _, g)| g).collect(),
                of_user,
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
        let mut out = BTreeSet::new();
        let empty = BTreeSet::new();
        for (id, b) in &self.before {
            let renamed = self.names.get(id).is_some_and(|n| *n != b.name);
            if !self.seen.contains(id) || renamed {
                out.extend(b.members.iter().cloned());
            }
        }
        for g in &self.listed {
            let now = self.members.get(&g.id).unwrap_or(&empty);
            match self.before.get(&g.id) {
                Some(b) if b.name == g.name => {
                    let then: BTreeSet<String> = b.members.iter().cloned().collect();
                    out.extend(now.symmetric_difference(&then).cloned());
                }
                Some(b) => {
                    out.extend(now.iter().cloned());
                    out.extend(b.members.iter().cloned());
                }
                None => out.extend(now.iter().cloned()),
            }
        }
        out.into_iter().collect()
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
            let snap = GroupSnapshot {
                name,
                members: self
                    .members
                    .get(id)
                    .map(|m| m.iter().cloned().collect())
                    .unwrap_or_default(),
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
