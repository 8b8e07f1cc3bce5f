//! `/api/v1/groups`, `/api/v1/groups/{id}` and `/api/v1/groups/{id}/users`.

use std::ops::Bound::{Excluded, Unbounded};

use serde_json::Value;

use crate::errors::OktaError;
use crate::filter::{self, Dialect, Op, Val};
use crate::model::{Answer, Request};
use crate::org::{GroupRec, Id, Org, id_str, parse_id};
use crate::users::profile_val;
use crate::{paging, render};

/// `listGroups`: Okta's maximum (and default) page size is 10,000.
pub(crate) const GROUPS_LIMIT: usize = 10_000;
/// `listGroupUsers`: Okta's default page size is 1,000; the fake also caps
/// there so a client must page large groups.
pub(crate) const MEMBERS_LIMIT: usize = 1_000;

fn is_group_time(a: &str) -> bool {
    matches!(a, "lastUpdated" | "lastMembershipUpdated" | "created")
}

/// `filter`: `id`, `type` (eq), `lastUpdated`/`lastMembershipUpdated`.
const GROUP_FILTER: Dialect = Dialect {
    allowed: |a, op| match a {
        "lastUpdated" | "lastMembershipUpdated" => op == Op::Eq || op.is_order(),
        "id" | "type" => op == Op::Eq,
        _ => false,
    },
    is_time: |a| a == "lastUpdated" || a == "lastMembershipUpdated",
    case_insensitive: false,
};

const GROUP_SEARCH: Dialect = Dialect {
    allowed: |a, op| {
        let known = is_group_time(a) || matches!(a, "id" | "type") || a.starts_with("profile.");
        known && (op != Op::Co || matches!(a, "profile.name" | "profile.description"))
    },
    is_time: is_group_time,
    case_insensitive: true,
};

fn group_attr(base: &str, id: &Id, g: &GroupRec, attr: &str) -> Option<Val> {
    match attr {
        "id" => Some(Val::Str(id_str(id).to_owned())),
        "type" => Some(Val::Str(g.kind.as_str().to_owned())),
        "lastUpdated" => Some(Val::Time(g.last_updated)),
        "lastMembershipUpdated" => Some(Val::Time(g.last_membership_updated)),
        "created" => Some(Val::Time(g.created)),
        _ => {
            let key = attr.strip_prefix("profile.")?;
            render::group(base, id, g, false)["profile"]
                .get(key)
                .and_then(profile_val)
        }
    }
}

pub(crate) fn list(org: &Org, req: &Request) -> Result<Answer, OktaError> {
    let q = &req.params;
    let quick = q
        .get("q")
        .filter(|_| !q.contains_key("search") && !q.contains_key("filter"));
    // A `q` query is capped at 300 and never paged, as Okta documents.
    let default = if quick.is_some() { 300 } else { GROUPS_LIMIT };
    let limit = paging::limit(q.get("limit").map(String::as_str), default, GROUPS_LIMIT)?;
    let expr = match (q.get("search"), q.get("filter")) {
        (Some(s), _) => Some((
            filter::parse(s, &GROUP_SEARCH)?,
            GROUP_SEARCH.case_insensitive,
        )),
        (None, Some(f)) => Some((
            filter::parse(f, &GROUP_FILTER)?,
            GROUP_FILTER.case_insensitive,
        )),
        (None, None) => None,
    };
    let after = q
        .get("after")
        .map(|a| paging::decode_cursor(a))
        .transpose()?;
    let range = match (&after, quick) {
        (Some(a), None) => org.groups.range((Excluded(*a), Unbounded)),
        _ => org.groups.range::<Id, _>(..),
    };
    let base = &req.base;
    let hits = range.filter(|(id, g)| match (&expr, quick) {
        (Some((e, ci)), _) => e.eval(*ci, &mut |a| group_attr(base, id, g, a)),
        (None, Some(text)) => g.name.to_lowercase().starts_with(&text.to_lowercase()),
        (None, None) => true,
    });
    let (items, next) = paging::page(hits, limit);
    let next = next.filter(|_| quick.is_none());
    let stats = expand_stats(req);
    let body: Vec<Value> = items
        .iter()
        .map(|(id, g)| render::group(base, id, g, stats))
        .collect();
    Ok(Answer::page(req, next.as_ref(), body))
}

fn expand_stats(req: &Request) -> bool {
    req.params
        .get("expand")
        .is_some_and(|e| e.split(',').any(|x| x == "stats"))
}

fn find<'a>(org: &'a Org, id: &str) -> Result<(&'a Id, &'a GroupRec), OktaError> {
    parse_id(id)
        .and_then(|k| org.groups.get_key_value(&k))
        .ok_or_else(|| OktaError::not_found(id, "UserGroup"))
}

pub(crate) fn get(org: &Org, req: &Request, id: &str) -> Result<Answer, OktaError> {
    let (key, g) = find(org, id)?;
    Ok(Answer::json(render::group(
        &req.base,
        key,
        g,
        expand_stats(req),
    )))
}

/// Members in id order, every status included (Okta keeps deactivated users
/// in their groups).
pub(crate) fn members(org: &Org, req: &Request, id: &str) -> Result<Answer, OktaError> {
    let q = &req.params;
    let limit = paging::limit(
        q.get("limit").map(String::as_str),
        MEMBERS_LIMIT,
        MEMBERS_LIMIT,
    )?;
    let after = q
        .get("after")
        .map(|a| paging::decode_cursor(a))
        .transpose()?;
    let (_, g) = find(org, id)?;
    let range = match &after {
        Some(a) => g.members.range((Excluded(*a), Unbounded)),
        None => g.members.range::<Id, _>(..),
    };
    let hits = range.filter_map(|uid| org.users.get_key_value(uid));
    let (items, next) = paging::page(hits, limit);
    let body: Vec<_> = items
        .iter()
        .map(|(uid, u)| render::ListedUser::new(&req.base, org, uid, u))
        .collect();
    Ok(Answer::page_of(req, next.as_ref(), &body))
}
