//! `/api/v1/users` and `/api/v1/users/{idOrLogin}[/groups]`: the users
//! listing's `filter`, `search` and `q` dialects and its paging.

use std::ops::Bound::{Excluded, Unbounded};

use serde_json::{Map, Value};

use crate::errors::OktaError;
use crate::filter::{self, Dialect, Expr, Op, Val};
use crate::model::{Answer, Request};
use crate::org::{Id, Org, UserRec, UserStatus, id_str};
use crate::{paging, render};

/// Okta's documented `listUsers` default and maximum page size.
pub(crate) const USERS_LIMIT: usize = 200;

fn is_user_time(a: &str) -> bool {
    matches!(
        a,
        "lastUpdated" | "created" | "activated" | "statusChanged" | "lastLogin" | "passwordChanged"
    )
}

/// `filter`: a few properties, `eq` only, except ordering on `lastUpdated`.
const USER_FILTER: Dialect = Dialect {
    allowed: |a, op| match a {
        "lastUpdated" => op == Op::Eq || op.is_order(),
        "status" | "id" | "profile.login" | "profile.email" | "profile.firstName"
        | "profile.lastName" => op == Op::Eq,
        _ => false,
    },
    is_time: |a| a == "lastUpdated",
    case_insensitive: false,
};

/// `search`: top-level properties and any profile attribute; `co` only on
/// the four name/login properties Okta lists.
const USER_SEARCH: Dialect = Dialect {
    allowed: |a, op| {
        let known = is_user_time(a)
            || matches!(a, "id" | "status" | "type.id")
            || a.starts_with("profile.");
        let co_ok = matches!(
            a,
            "profile.firstName" | "profile.lastName" | "profile.email" | "profile.login"
        );
        known && (op != Op::Co || co_ok)
    },
    is_time: is_user_time,
    case_insensitive: true,
};

pub(crate) fn profile_val(v: &Value) -> Option<Val> {
    let s = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match v {
        Value::Null => None,
        Value::Array(items) => Some(Val::List(items.iter().map(s).collect())),
        other => Some(Val::Str(s(other))),
    }
}

fn user_attr(
    org: &Org,
    id: &Id,
    u: &UserRec,
    profile: &mut Option<Map<String, Value>>,
    attr: &str,
) -> Option<Val> {
    let time = |t: Option<i64>| t.map(Val::Time);
    match attr {
        "id" => Some(Val::Str(id_str(id).to_owned())),
        "status" => Some(Val::Str(u.status.as_str().to_owned())),
        "type.id" => Some(Val::Str(org.type_id.clone())),
        "lastUpdated" => time(Some(u.last_updated)),
        "created" => time(Some(u.created)),
        "activated" => time(u.activated),
        "statusChanged" => time(u.status_changed),
        "lastLogin" => time(u.last_login),
        "passwordChanged" => time(u.password_changed),
        _ => {
            let key = attr.strip_prefix("profile.")?;
            profile
                .get_or_insert_with(|| u.profile())
                .get(key)
                .and_then(profile_val)
        }
    }
}

fn matches(expr: &Expr, ci: bool, org: &Org, id: &Id, u: &UserRec) -> bool {
    let mut profile = None;
    expr.eval(ci, &mut |a| user_attr(org, id, u, &mut profile, a))
}

/// `q`: a prefix match on first name, last name or email, for pickers.
fn quick_match(u: &UserRec, q: &str) -> bool {
    let q = q.to_lowercase();
    let p = u.profile();
    ["firstName", "lastName", "email"].iter().any(|k| {
        p.get(*k)
            .and_then(Value::as_str)
            .is_some_and(|v| v.to_lowercase().starts_with(&q))
    })
}

pub(crate) fn list(org: &Org, req: &Request) -> Result<Answer, OktaError> {
    let q = &req.params;
    let quick = q
        .get("q")
        .filter(|_| !q.contains_key("search") && !q.contains_key("filter"));
    // `q` defaults to 10 results and has no paging, as Okta documents.
    let default = if quick.is_some() { 10 } else { USERS_LIMIT };
    let limit = paging::limit(q.get("limit").map(String::as_str), default, USERS_LIMIT)?;
    let expr = match (q.get("search"), q.get("filter")) {
        (Some(s), _) => Some((
            filter::parse(s, &USER_SEARCH)?,
            USER_SEARCH.case_insensitive,
        )),
        (None, Some(f)) => Some((
            filter::parse(f, &USER_FILTER)?,
            USER_FILTER.case_insensitive,
        )),
        (None, None) => None,
    };
    let after = q
        .get("after")
        .map(|a| paging::decode_cursor(a))
        .transpose()?;
    let range = match (&after, quick) {
        (Some(a), None) => org.users.range((Excluded(*a), Unbounded)),
        _ => org.users.range::<Id, _>(..),
    };
    let hits = range.filter(|(id, u)| match (&expr, quick) {
        (Some((e, ci)), _) => matches(e, *ci, org, id, u),
        (None, Some(text)) => u.status != UserStatus::Deprovisioned && quick_match(u, text),
        (None, None) => u.status != UserStatus::Deprovisioned,
    });
    let (items, next) = paging::page(hits, limit);
    let next = next.filter(|_| quick.is_none());
    let body: Vec<_> = items
        .iter()
        .map(|(id, u)| render::ListedUser::new(&req.base, org, id, u))
        .collect();
    Ok(Answer::page_of(req, next.as_ref(), &body))
}

pub(crate) fn get(org: &Org, req: &Request, id: &str) -> Result<Answer, OktaError> {
    let (key, u) = org
        .find_user(id)
        .ok_or_else(|| OktaError::not_found(id, "User"))?;
    Ok(Answer::json(render::user(&req.base, org, key, u, true)))
}

/// Okta returns all of a user's groups in one answer (no paging).
pub(crate) fn groups(org: &Org, req: &Request, id: &str) -> Result<Answer, OktaError> {
    let (key, _) = org
        .find_user(id)
        .ok_or_else(|| OktaError::not_found(id, "User"))?;
    let body: Vec<Value> = org
        .groups_of(key)
        .map(|(gid, g)| render::group(&req.base, gid, g, false))
        .collect();
    Ok(Answer::json(Value::Array(body)))
}
