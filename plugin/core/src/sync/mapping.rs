//! The default mapping from an Okta user to an Infraon [`Person`]; the sync
//! engine calls only this module, so that editable mappings can replace it.
//!
//! # Fields
//!
//! | Okta profile     | Infraon                 |
//! |------------------|-------------------------|
//! | `login`          | `login` (required)      |
//! | `email`          | `email` (required)      |
//! | `firstName`      | `first_name`            |
//! | `lastName`       | `last_name`             |
//! | `displayName`    | `display_name`, else `first last` |
//! | `mobilePhone`    | field `phone`           |
//! | `department`     | field `department`      |
//! | `title`          | field `title`           |
//! | `employeeNumber` | field `employee_number` |
//! | `manager`        | field `manager`         |
//! | any attribute outside Okta's base schema | field `custom.<name>` |
//!
//! Empty and `null` values are skipped. Custom values are stringified:
//! strings as they are, numbers and booleans as JSON, lists joined by `, `;
//! objects are skipped (Infraon fields are flat). Base attributes not in the
//! table (address, locale, ...) are not synced.
//!
//! # Roles
//!
//! A group whose name equals an Infraon role name of the config's population
//! (ignoring case; the roles come from `list_roles`) grants that role. When
//! no group grants one, the person gets the default role: Users →
//! "Technician", Requesters → "Requester" (if Infraon has it). Okta is the
//! source of truth: the computed set replaces the person's roles.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::config::SyncTarget;
use crate::directory::{Person, PersonStatus, Role};
use crate::sync::lifecycle::status_of;
use crate::sync::types::ReasonCode;

/// Default role of Users no group maps.
pub const DEFAULT_USER_ROLE: &str = "Technician";
/// Default role of Requesters no group maps.
pub const DEFAULT_REQUESTER_ROLE: &str = "Requester";

/// Okta profile attributes mapped to Infraon fields, in field order.
const FIELD_MAP: [(&str, &str); 5] = [
    ("mobilePhone", "phone"),
    ("department", "department"),
    ("title", "title"),
    ("employeeNumber", "employee_number"),
    ("manager", "manager"),
];

/// Okta's base user profile schema: everything else is a custom attribute.
const BASE_ATTRIBUTES: [&str; 31] = [
    "login",
    "firstName",
    "lastName",
    "middleName",
    "honorificPrefix",
    "honorificSuffix",
    "email",
    "title",
    "displayName",
    "nickName",
    "profileUrl",
    "secondEmail",
    "mobilePhone",
    "primaryPhone",
    "streetAddress",
    "city",
    "state",
    "zipCode",
    "countryCode",
    "postalAddress",
    "preferredLanguage",
    "locale",
    "timezone",
    "userType",
    "employeeNumber",
    "costCenter",
    "organization",
    "division",
    "department",
    "managerId",
    "manager",
];

/// Who an Okta user is, as far as its record tells, for unsynced rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Okta user id.
    pub okta_id: String,
    /// Okta login.
    pub login: String,
    /// Okta email.
    pub email: String,
    /// Display name (or `first last`).
    pub display_name: String,
}

/// Read the identity of an Okta user record, whatever its shape.
pub fn identity(user: &Value) -> Identity {
    let profile = user.get("profile").and_then(Value::as_object);
    let p = |k: &str| profile.map(|m| text(m, k)).unwrap_or_default();
    Identity {
        okta_id: user
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        login: p("login"),
        email: p("email"),
        display_name: display_name(&p("displayName"), &p("firstName"), &p("lastName")),
    }
}

fn display_name(display: &str, first: &str, last: &str) -> String {
    if display.is_empty() {
        format!("{first} {last}").trim().to_owned()
    } else {
        display.to_owned()
    }
}

/// A profile value as trimmed text; empty for absent, null and objects.
fn text(profile: &Map<String, Value>, key: &str) -> String {
    match profile.get(key) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.trim().to_owned()),
                Value::Number(_) | Value::Bool(_) => Some(i.to_string()),
                _ => None,
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    }
}

/// The Infraon fields of a profile (see the module docs), sorted by name.
pub fn fields_of(profile: &Map<String, Value>) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = FIELD_MAP
        .iter()
        .map(|(okta, infraon)| ((*infraon).to_owned(), text(profile, okta)))
        .collect();
    fields.extend(
        profile
            .keys()
            .filter(|k| !BASE_ATTRIBUTES.contains(&k.as_str()))
            .map(|k| (format!("custom.{k}"), text(profile, k))),
    );
    fields.retain(|(_, v)| !v.is_empty());
    fields.sort();
    fields
}

/// The roles the groups named `groups` grant to a person of `kind` (see the
/// module docs), sorted.
pub fn roles_for<'a>(
    kind: SyncTarget,
    groups: impl IntoIterator<Item = &'a str>,
    infraon_roles: &[Role],
) -> Vec<String> {
    let of_kind: Vec<&Role> = infraon_roles.iter().filter(|r| r.kind == kind).collect();
    let mut granted = BTreeSet::new();
    for g in groups {
        let g = g.trim();
        if let Some(role) = of_kind.iter().find(|r| r.name.eq_ignore_ascii_case(g)) {
            granted.insert(role.name.clone());
        }
    }
    if granted.is_empty() {
        let default = match kind {
            SyncTarget::Users => DEFAULT_USER_ROLE,
            SyncTarget::Requesters => DEFAULT_REQUESTER_ROLE,
        };
        if let Some(role) = of_kind
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(default))
        {
            granted.insert(role.name.clone());
        }
    }
    granted.into_iter().collect()
}

/// Map one Okta user record to the person it should be in Infraon, or the
/// reason it cannot be.
pub fn map_user(
    user: &Value,
    config: &str,
    kind: SyncTarget,
    roles: Vec<String>,
) -> Result<Person, (ReasonCode, String)> {
    let id = identity(user);
    let missing = |what: &str| {
        (
            ReasonCode::MissingRequiredField,
            format!("the Okta user has no {what}"),
        )
    };
    if id.okta_id.is_empty() {
        return Err(missing("id"));
    }
    let empty = Map::new();
    let profile = user
        .get("profile")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if id.login.is_empty() {
        return Err(missing("login"));
    }
    if id.email.is_empty() {
        return Err(missing("email"));
    }
    let okta_status = user.get("status").and_then(Value::as_str).unwrap_or("");
    let status: PersonStatus = status_of(okta_status).ok_or_else(|| {
        (
            ReasonCode::UnknownStatus,
            format!("Okta status `{okta_status}` is not one this plugin maps"),
        )
    })?;
    Ok(Person {
        external_id: id.okta_id,
        config: config.to_owned(),
        kind,
        login: id.login,
        email: id.email,
        first_name: text(profile, "firstName"),
        last_name: text(profile, "lastName"),
        display_name: id.display_name,
        fields: fields_of(profile),
        roles,
        status,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_base_and_custom_attributes() {
        let user = json!({"id": "00u1", "status": "RECOVERY", "profile": {
            "login": "a@x.io", "email": "a@x.io", "firstName": "Ada", "lastName": "L",
            "displayName": null, "mobilePhone": "", "department": "Ops", "city": "Pune",
            "badgeNumber": 12, "isContractor": false, "skills": ["rust", "go"], "nested": {"a": 1}
        }});
        let p = map_user(&user, "c", SyncTarget::Users, vec![]).unwrap();
        assert_eq!(p.display_name, "Ada L");
        assert_eq!(p.status, PersonStatus::Active);
        assert_eq!(
            p.fields,
            vec![
                ("custom.badgeNumber".into(), "12".into()),
                ("custom.isContractor".into(), "false".into()),
                ("custom.skills".into(), "rust, go".into()),
                ("department".into(), "Ops".into()),
            ]
        );
    }

    #[test]
    fn group_names_grant_roles_else_the_default() {
        let roles = vec![
            Role {
                name: "Technician".into(),
                kind: SyncTarget::Users,
            },
            Role {
                name: "Change Manager".into(),
                kind: SyncTarget::Users,
            },
            Role {
                name: "Requester".into(),
                kind: SyncTarget::Requesters,
            },
        ];
        assert_eq!(
            roles_for(SyncTarget::Users, ["change manager", "Eng"], &roles),
            vec!["Change Manager"]
        );
        assert_eq!(
            roles_for(SyncTarget::Users, ["Eng"], &roles),
            vec!["Technician"]
        );
        assert_eq!(
            roles_for(SyncTarget::Requesters, ["Change Manager"], &roles),
            vec!["Requester"]
        );
    }
}
