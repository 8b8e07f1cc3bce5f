//! Who is in which group, known before any user is applied: rebuilt in
//! memory from the run's stored pages (and, for incremental runs, the last
//! successful snapshot), so a resumed run sees exactly what it had fetched.

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
}

/// The membership view of one run.
#[derive(Debug, Default)]
pub struct Memberships {
    /// Groups this run listed, in listing order (the members phase walks it).
    pub listed: Vec<GroupRef>,
    names: HashMap<String, String>,
    members: BTreeMap<String, BTreeSet<String>>,
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
    /// only lists changed groups), then the run's pages below the counters.
    pub fn load(
        s: &mut dyn Storage,
        config: &str,
        run: u64,
        groups_below: u32,
        members_below: u32,
        incremental: bool,
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
                m.before.insert(id, snap);
            }
        }
        let prefix = keys::work_pages(config, run, "groups");
        for page in keys::pages::<Vec<GroupRef>>(s, &prefix, groups_below)? {
            m.add_groups(page);
        }
        let prefix = keys::work_pages(config, run, "members");
        for page in keys::pages::<MembersPage>(s, &prefix, members_below)? {
            m.add_members(&page);
        }
        Ok(m)
    }

    /// Take in a listed groups page. A listed group's members are refetched,
    /// so whatever the snapshot said about it is dropped.
    pub fn add_groups(&mut self, page: Vec<GroupRef>) {
        for g in page {
            self.names.insert(g.id.clone(), g.name.clone());
            self.members.insert(g.id.clone(), BTreeSet::new());
            self.listed.push(g);
        }
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

    /// Users whose groups an incremental run changed: joined or left a listed
    /// group, or are in one that is new or renamed. Sorted.
    pub fn changed_users(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        let empty = BTreeSet::new();
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

    /// Save the snapshot a successful run leaves: every listed group; after a
    /// full run, groups no longer listed are forgotten.
    pub fn save_snapshot(
        &self,
        s: &mut dyn Storage,
        config: &str,
        full: bool,
    ) -> Result<(), SyncError> {
        let listed: BTreeSet<&str> = self.listed.iter().map(|g| g.id.as_str()).collect();
        if full {
            for key in s
                .list_keys(&keys::snapshots(config))
                .map_err(SyncError::host)?
            {
                if !listed.contains(key.rsplit('/').next().unwrap_or_default()) {
                    s.delete(&key).map_err(SyncError::host)?;
                }
            }
        }
        for g in &self.listed {
            let snap = GroupSnapshot {
                name: g.name.clone(),
                members: self
                    .members
                    .get(&g.id)
                    .map(|m| m.iter().cloned().collect())
                    .unwrap_or_default(),
            };
            keys::put_json(s, &keys::snapshot(config, &g.id), &snap)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: &str, name: &str) -> GroupRef {
        GroupRef {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn roles_are_derived_once_per_set_of_groups_and_follow_changes() {
        let mut m = Memberships::default();
        m.add_groups(vec![group("00g2", "Ops"), group("00g1", "Admins")]);
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
