//! A point-in-time copy of the org, for tests to compute expectations from.
//!
//! Deliberately lean (no profiles) so a 100,000-user org snapshots cheaply;
//! [`crate::FakeOkta::user_json`] gives one user's full body.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::clock::to_dt;
use crate::org::{Id, Org, UserStatus, id_str};

/// One user as the org holds it.
#[derive(Clone, Debug)]
pub struct UserInfo {
    /// Okta id (`00u...`).
    pub id: String,
    /// `profile.login`.
    pub login: String,
    /// Lifecycle status.
    pub status: UserStatus,
    /// `created`.
    pub created: DateTime<Utc>,
    /// `lastUpdated`.
    pub last_updated: DateTime<Utc>,
    /// Ids of the groups the user belongs to, in id order.
    pub group_ids: Vec<String>,
}

/// One group as the org holds it.
#[derive(Clone, Debug)]
pub struct GroupInfo {
    /// Okta id (`00g...`).
    pub id: String,
    /// `profile.name`.
    pub name: String,
    /// `type`: `OKTA_GROUP`, `APP_GROUP` or `BUILT_IN` (Everyone).
    pub group_type: String,
    /// `lastUpdated`.
    pub last_updated: DateTime<Utc>,
    /// `lastMembershipUpdated`.
    pub last_membership_updated: DateTime<Utc>,
    /// Member user ids, in id order (all statuses).
    pub member_ids: Vec<String>,
}

/// Users and groups, each sorted by id (the order the API pages in).
#[derive(Clone, Debug)]
pub struct OrgSnapshot {
    /// Every user, DEPROVISIONED included.
    pub users: Vec<UserInfo>,
    /// Every group.
    pub groups: Vec<GroupInfo>,
    /// The `type.id` every user carries.
    pub user_type_id: String,
}

impl OrgSnapshot {
    pub(crate) fn of(org: &Org) -> Self {
        let mut memberships: HashMap<Id, Vec<String>> = HashMap::new();
        let groups = org
            .groups
            .iter()
            .map(|(gid, g)| {
                for m in &g.members {
                    memberships
                        .entry(*m)
                        .or_default()
                        .push(id_str(gid).to_owned());
                }
                GroupInfo {
                    id: id_str(gid).to_owned(),
                    name: g.name.clone(),
                    group_type: g.kind.as_str().to_owned(),
                    last_updated: to_dt(g.last_updated),
                    last_membership_updated: to_dt(g.last_membership_updated),
                    member_ids: g.members.iter().map(|m| id_str(m).to_owned()).collect(),
                }
            })
            .collect();
        let users = org
            .users
            .iter()
            .map(|(id, u)| UserInfo {
                id: id_str(id).to_owned(),
                login: u.login(),
                status: u.status,
                created: to_dt(u.created),
                last_updated: to_dt(u.last_updated),
                group_ids: memberships.remove(id).unwrap_or_default(),
            })
            .collect();
        OrgSnapshot {
            users,
            groups,
            user_type_id: org.type_id.clone(),
        }
    }

    /// How many users have `status`.
    pub fn count_by_status(&self, status: UserStatus) -> usize {
        self.users.iter().filter(|u| u.status == status).count()
    }

    /// Ids `GET /api/v1/users` lists without a filter: all but DEPROVISIONED.
    pub fn visible_user_ids(&self) -> Vec<&str> {
        self.users
            .iter()
            .filter(|u| u.status != UserStatus::Deprovisioned)
            .map(|u| u.id.as_str())
            .collect()
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&UserInfo> {
        self.users
            .binary_search_by(|u| u.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.users[i])
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&GroupInfo> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The first user with `status`, handy for status-specific tests.
    pub fn first_with_status(&self, status: UserStatus) -> Option<&UserInfo> {
        self.users.iter().find(|u| u.status == status)
    }
}
