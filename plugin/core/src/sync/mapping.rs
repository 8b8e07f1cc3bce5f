//! From an Okta user record to an Infraon [`Person`] with a config's
//! [`Compiled`] mapping (see [`crate::mapping`] for the mapping itself and
//! [`crate::mapping::defaults`] for the default one), and what the sync
//! engine needs of a record besides: its identity for unsynced rows, and
//! which attributes are Okta's base schema.
//!
//! A record without an id, or whose mapped `login` or `email` is empty, is
//! unsynced as `missing-required-field`; an Okta status this plugin does not
//! know as `unknown-status` (see [`lifecycle`](super::lifecycle)).

use crate::config::SyncTarget;
use crate::directory::{Person, PersonStatus};
use crate::mapping::Compiled;
use crate::mapping::template::text;
use crate::sync::lifecycle::status_of;
use crate::sync::records::OktaUser;
use crate::sync::types::ReasonCode;

/// Okta's base user profile schema: everything else is a custom attribute.
/// Sorted, for [`is_base_attribute`].
const BASE_ATTRIBUTES: [&str; 31] = [
    "city",
    "costCenter",
    "countryCode",
    "department",
    "displayName",
    "division",
    "email",
    "employeeNumber",
    "firstName",
    "honorificPrefix",
    "honorificSuffix",
    "lastName",
    "locale",
    "login",
    "manager",
    "managerId",
    "middleName",
    "mobilePhone",
    "nickName",
    "organization",
    "postalAddress",
    "preferredLanguage",
    "primaryPhone",
    "profileUrl",
    "secondEmail",
    "state",
    "streetAddress",
    "timezone",
    "title",
    "userType",
    "zipCode",
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
pub fn identity(user: &OktaUser) -> Identity {
    let p = |k: &str| text(&user.profile, k).trim().to_owned();
    Identity {
        okta_id: user.id.clone(),
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

/// Whether `name` is an attribute of Okta's base profile schema.
pub fn is_base_attribute(name: &str) -> bool {
    // A binary search: every profile key of every user asks.
    BASE_ATTRIBUTES.binary_search(&name).is_ok()
}

/// Map one Okta user record with `mapping` to the person it should be in
/// Infraon (with `roles`, from [`Compiled::roles`]), or the reason it
/// cannot be.
pub fn map_user(
    user: &OktaUser,
    config: &str,
    kind: SyncTarget,
    mapping: &Compiled,
    roles: Vec<String>,
) -> Result<Person, (ReasonCode, String)> {
    let missing = |what: &str| {
        (
            ReasonCode::MissingRequiredField,
            format!("the Okta user has no {what}"),
        )
    };
    let okta_id = user.id.as_str();
    if okta_id.is_empty() {
        return Err(missing("id"));
    }
    let mut fields = mapping.values(&user.profile);
    let mut take = |name: &str| {
        fields
            .iter()
            .position(|(k, _)| k == name)
            .map(|i| fields.remove(i).1)
            .unwrap_or_default()
    };
    let (login, email) = (take("login"), take("email"));
    let (first_name, last_name, display_name) =
        (take("first_name"), take("last_name"), take("display_name"));
    if login.is_empty() {
        return Err(missing("login"));
    }
    if email.is_empty() {
        return Err(missing("email"));
    }
    let okta_status = user.status.as_str();
    let status: PersonStatus = status_of(okta_status).ok_or_else(|| {
        (
            ReasonCode::UnknownStatus,
            format!("Okta status `{okta_status}` is not one this plugin maps"),
        )
    })?;
    Ok(Person {
        external_id: okta_id.to_owned(),
        config: config.to_owned(),
        kind,
        login,
        email,
        first_name,
        last_name,
        display_name,
        fields,
        roles,
        status,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::mapping::defaults;

    #[test]
    fn base_attributes_are_sorted_and_found() {
        assert!(BASE_ATTRIBUTES.is_sorted());
        assert!(BASE_ATTRIBUTES.iter().all(|a| is_base_attribute(a)));
        assert!(!is_base_attribute("badgeNumber"));
        assert!(!is_base_attribute("Login"));
    }

    #[test]
    fn the_default_mapping_maps_base_and_custom_attributes() {
        let user = json!({"id": "00u1", "status": "RECOVERY", "profile": {
            "login": " a@x.io ", "email": "a@x.io", "firstName": "Ada", "lastName": "L",
            "displayName": null, "mobilePhone": "", "department": "Ops", "city": "Pune",
            "badgeNumber": 12, "isContractor": false, "skills": ["rust", "go"], "nested": {"a": 1}
        }});
        let m = Compiled::new(&defaults(SyncTarget::Users)).unwrap();
        let user = OktaUser::from_value(&user);
        let p = map_user(&user, "c", SyncTarget::Users, &m, vec![]).unwrap();
        assert_eq!(p.login, "a@x.io");
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
        let no_email = json!({"id": "00u2", "status": "ACTIVE", "profile": {"login": "b"}});
        let no_email = OktaUser::from_value(&no_email);
        let err = map_user(&no_email, "c", SyncTarget::Users, &m, vec![]).unwrap_err();
        assert_eq!(err.0, ReasonCode::MissingRequiredField);
    }
}
