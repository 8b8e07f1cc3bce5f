//! JSON bodies in the shapes of Okta's `User`, `Group` and `UserSchema`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::clock::{Stamp, fmt, fmt_opt};
use crate::org::{GroupRec, GroupType, Id, Org, Provider, UserRec, UserStatus, id_str};
use crate::people::GenProfileView;

/// Lifecycle links Okta offers for a user in each status (single-user reads
/// only; collections carry just `self`, per the spec).
fn lifecycle(status: UserStatus) -> &'static [(&'static str, &'static str)] {
    use UserStatus::*;
    match status {
        Staged => &[
            ("activate", "lifecycle/activate"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        Provisioned => &[
            ("reactivate", "lifecycle/reactivate"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        Active | Recovery | PasswordExpired => &[
            ("suspend", "lifecycle/suspend"),
            ("resetPassword", "lifecycle/reset_password"),
            ("expirePassword", "lifecycle/expire_password"),
            ("forgotPassword", "credentials/forgot_password"),
            (
                "changeRecoveryQuestion",
                "credentials/change_recovery_question",
            ),
            ("changePassword", "credentials/change_password"),
            ("resetFactors", "lifecycle/reset_factors"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        LockedOut => &[
            ("unlock", "lifecycle/unlock"),
            ("resetPassword", "lifecycle/reset_password"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        Suspended => &[
            ("unsuspend", "lifecycle/unsuspend"),
            ("deactivate", "lifecycle/deactivate"),
        ],
        Deprovisioned => &[("activate", "lifecycle/activate")],
    }
}

pub(crate) fn user(base: &str, org: &Org, id: &Id, u: &UserRec, full_links: bool) -> Value {
    let id = id_str(id);
    let self_href = format!("{base}/api/v1/users/{id}");
    let mut links = Map::new();
    links.insert("self".into(), json!({ "href": self_href }));
    if full_links {
        for (rel, path) in lifecycle(u.status) {
            links.insert(
                (*rel).into(),
                json!({ "href": format!("{self_href}/{path}"), "method": "POST" }),
            );
        }
        links.insert(
            "schema".into(),
            json!({ "href": format!("{base}/api/v1/meta/schemas/user/{}", org.schema_id) }),
        );
        links.insert(
            "type".into(),
            json!({ "href": format!("{base}/api/v1/meta/types/user/{}", org.type_id) }),
        );
    }
    let provider = match u.provider {
        Provider::Okta => json!({ "type": "OKTA", "name": "OKTA" }),
        Provider::ActiveDirectory => {
            json!({ "type": "ACTIVE_DIRECTORY", "name": "corp.example.com" })
        }
    };
    let mut creds = Map::new();
    if u.status.has_password() {
        creds.insert("password".into(), json!({}));
        if u.provider == Provider::Okta {
            creds.insert(
                "recovery_question".into(),
                json!({ "question": RECOVERY_QUESTION }),
            );
        }
    }
    creds.insert("provider".into(), provider);
    json!({
        "id": id,
        "status": u.status.as_str(),
        "created": fmt(u.created),
        "activated": fmt_opt(u.activated),
        "statusChanged": fmt_opt(u.status_changed),
        "lastLogin": fmt_opt(u.last_login),
        "lastUpdated": fmt(u.last_updated),
        "passwordChanged": fmt_opt(u.password_changed),
        "type": { "id": org.type_id },
        "profile": u.profile(),
        "credentials": creds,
        "_links": links,
    })
}

/// A user as a list gives it ([`user`] without the full links), written
/// straight to the serializer: a page of 200 (or 1,000 members) builds no
/// JSON value per user. Fields are declared in the order of their names,
/// as a JSON map sorts them, so the bytes are [`user`]'s.
#[derive(Serialize)]
pub(crate) struct ListedUser<'a> {
    #[serde(rename = "_links")]
    links: SelfLinks<'a>,
    activated: Option<Stamp>,
    created: Stamp,
    credentials: Credentials,
    id: &'a str,
    #[serde(rename = "lastLogin")]
    last_login: Option<Stamp>,
    #[serde(rename = "lastUpdated")]
    last_updated: Stamp,
    #[serde(rename = "passwordChanged")]
    password_changed: Option<Stamp>,
    profile: ProfileView<'a>,
    status: &'static str,
    #[serde(rename = "statusChanged")]
    status_changed: Option<Stamp>,
    #[serde(rename = "type")]
    kind: TypeRef<'a>,
}

#[derive(Serialize)]
struct SelfLinks<'a> {
    #[serde(rename = "self")]
    own: Href<'a>,
}

#[derive(Serialize)]
struct Href<'a> {
    href: UserUrl<'a>,
}

/// `{base}/api/v1/users/{id}`, written straight into the page.
struct UserUrl<'a> {
    base: &'a str,
    id: &'a str,
}

impl Serialize for UserUrl<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{}/api/v1/users/{}", self.base, self.id))
    }
}

#[derive(Serialize)]
struct TypeRef<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Credentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<Empty>,
    provider: ProviderRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_question: Option<Question>,
}

#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct ProviderRef {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Question {
    question: &'static str,
}

/// A user's profile: the generated one, the one a test or a mutation set,
/// or (both present, rare) the two merged as [`UserRec::profile`] merges them.
// Boxing the generated view would cost an allocation per user; the views
// live only while one page is written.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize)]
#[serde(untagged)]
enum ProfileView<'a> {
    Generated(GenProfileView),
    Set(&'a Map<String, Value>),
    Merged(Map<String, Value>),
}

impl<'a> ListedUser<'a> {
    pub(crate) fn new(base: &'a str, org: &'a Org, id: &'a Id, u: &'a UserRec) -> Self {
        let id = id_str(id);
        let has_password = u.status.has_password();
        let provider = match u.provider {
            Provider::Okta => ProviderRef {
                name: "OKTA",
                kind: "OKTA",
            },
            Provider::ActiveDirectory => ProviderRef {
                name: "corp.example.com",
                kind: "ACTIVE_DIRECTORY",
            },
        };
        let profile = match (&u.seeded, &u.extra) {
            (Some(g), None) => ProfileView::Generated(g.view()),
            (None, Some(extra)) => ProfileView::Set(extra),
            _ => ProfileView::Merged(u.profile()),
        };
        ListedUser {
            links: SelfLinks {
                own: Href {
                    href: UserUrl { base, id },
                },
            },
            activated: u.activated.map(Stamp),
            created: Stamp(u.created),
            credentials: Credentials {
                password: has_password.then_some(Empty {}),
                provider,
                recovery_question: (has_password && u.provider == Provider::Okta).then_some(
                    Question {
                        question: RECOVERY_QUESTION,
                    },
                ),
            },
            id,
            last_login: u.last_login.map(Stamp),
            last_updated: Stamp(u.last_updated),
            password_changed: u.password_changed.map(Stamp),
            profile,
            status: u.status.as_str(),
            status_changed: u.status_changed.map(Stamp),
            kind: TypeRef { id: &org.type_id },
        }
    }
}

const RECOVERY_QUESTION: &str = "What is the food you least liked as a child?";

pub(crate) fn group(base: &str, id: &Id, g: &GroupRec, stats: bool) -> Value {
    let id = id_str(id);
    let (object_class, logo) = match g.kind {
        GroupType::Okta | GroupType::BuiltIn => ("okta:user_group", "okta"),
        GroupType::App => ("okta:windows_security_principal", "active_directory"),
    };
    let mut profile = Map::new();
    profile.insert("name".into(), g.name.clone().into());
    profile.insert("description".into(), g.description.clone().into());
    let mut links = json!({
        "logo": [
            { "name": "medium", "href": format!("{base}/img/logos/groups/{logo}-medium.png"), "type": "image/png" },
            { "name": "large", "href": format!("{base}/img/logos/groups/{logo}-large.png"), "type": "image/png" },
        ],
        "users": { "href": format!("{base}/api/v1/groups/{id}/users") },
        "apps": { "href": format!("{base}/api/v1/groups/{id}/apps") },
    });
    if g.kind == GroupType::App {
        let sam = g.name.replace(' ', "_");
        profile.insert("samAccountName".into(), sam.clone().into());
        profile.insert(
            "dn".into(),
            format!("CN={},OU=Groups,DC=corp,DC=example,DC=com", g.name).into(),
        );
        profile.insert(
            "windowsDomainQualifiedName".into(),
            format!("CORP\\{sam}").into(),
        );
        profile.insert("groupType".into(), "Security".into());
        profile.insert("groupScope".into(), "Global".into());
        links["source"] = json!({ "href": format!("{base}/api/v1/apps/0oa1corpAD0000000{}", id.get(17..).unwrap_or("0g4")) });
    }
    let mut v = json!({
        "id": id,
        "created": fmt(g.created),
        "lastUpdated": fmt(g.last_updated),
        "lastMembershipUpdated": fmt(g.last_membership_updated),
        "objectClass": [object_class],
        "type": g.kind.as_str(),
        "profile": profile,
        "_links": links,
    });
    if stats {
        v["_embedded"] = json!({ "stats": {
            "usersCount": g.members.len(),
            "appsCount": 0,
            "groupPushMappingsCount": 0,
            "hasAdminPrivilege": false,
        }});
    }
    v
}

/// Okta's `#base` profile properties: (name, title, required).
const BASE_PROPS: &[(&str, &str, bool)] = &[
    ("login", "Username", true),
    ("firstName", "First name", true),
    ("lastName", "Last name", true),
    ("middleName", "Middle name", false),
    ("honorificPrefix", "Honorific prefix", false),
    ("honorificSuffix", "Honorific suffix", false),
    ("email", "Primary email", true),
    ("title", "Title", false),
    ("displayName", "Display name", false),
    ("nickName", "Nickname", false),
    ("profileUrl", "Profile Url", false),
    ("secondEmail", "Secondary email", false),
    ("mobilePhone", "Mobile phone", false),
    ("primaryPhone", "Primary phone", false),
    ("streetAddress", "Street address", false),
    ("city", "City", false),
    ("state", "State", false),
    ("zipCode", "Zip code", false),
    ("countryCode", "Country code", false),
    ("postalAddress", "Postal Address", false),
    ("preferredLanguage", "Preferred language", false),
    ("locale", "Locale", false),
    ("timezone", "Time zone", false),
    ("userType", "User type", false),
    ("employeeNumber", "Employee number", false),
    ("costCenter", "Cost center", false),
    ("organization", "Organization", false),
    ("division", "Division", false),
    ("department", "Department", false),
    ("managerId", "ManagerId", false),
    ("manager", "Manager", false),
];

/// The custom attributes every seeded user carries: (name, title, type).
pub const CUSTOM_ATTRIBUTES: &[(&str, &str, &str)] = &[
    ("officeLocation", "Office location", "string"),
    ("hireDate", "Hire date", "string"),
    ("isContractor", "Contractor", "boolean"),
    ("badgeNumber", "Badge number", "integer"),
    ("skills", "Skills", "array"),
];

pub(crate) fn default_custom_attributes() -> Vec<(String, String, String)> {
    CUSTOM_ATTRIBUTES
        .iter()
        .map(|(n, t, ty)| ((*n).to_owned(), (*t).to_owned(), (*ty).to_owned()))
        .collect()
}

pub(crate) fn user_schema(base: &str, org: &Org) -> Value {
    let perms = json!([{ "principal": "SELF", "action": "READ_WRITE" }]);
    let mut base_props = Map::new();
    for (name, title, required) in BASE_PROPS {
        let mut p = json!({ "title": title, "type": "string", "mutability": "READ_WRITE",
            "scope": "NONE", "permissions": perms, "master": { "type": "PROFILE_MASTER" } });
        match *name {
            "login" => {
                p["required"] = true.into();
                p["minLength"] = 5.into();
                p["maxLength"] = 100.into();
                p["pattern"] = ".+".into();
            }
            "firstName" | "lastName" => {
                p["required"] = true.into();
                p["minLength"] = 1.into();
                p["maxLength"] = 50.into();
            }
            "email" | "secondEmail" => {
                p["required"] = (*required).into();
                p["format"] = "email".into();
            }
            _ => {}
        }
        base_props.insert((*name).into(), p);
    }
    let mut custom_props = Map::new();
    for (name, title, ty) in &org.custom_attributes {
        let mut p = json!({ "title": title, "description": title, "type": ty, "required": false,
            "mutability": "READ_WRITE", "scope": "NONE", "permissions": perms,
            "master": { "type": "PROFILE_MASTER" } });
        if ty == "array" {
            p["items"] = json!({ "type": "string" });
            p["union"] = "DISABLE".into();
        }
        custom_props.insert(name.clone(), p);
    }
    json!({
        "id": format!("{base}/meta/schemas/user/{}", org.schema_id),
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": "user",
        "title": "User",
        "description": "Okta user profile template with default permission settings",
        "lastUpdated": fmt(org.created + 86_400_000),
        "created": fmt(org.created),
        "definitions": {
            "base": {
                "id": "#base",
                "type": "object",
                "properties": base_props,
                "required": ["login", "firstName", "lastName", "email"],
            },
            "custom": {
                "id": "#custom",
                "type": "object",
                "properties": custom_props,
                "required": [],
            },
        },
        "type": "object",
        "properties": { "profile": { "allOf": [
            { "$ref": "#/definitions/custom" },
            { "$ref": "#/definitions/base" },
        ]}},
        "_links": { "self": { "href": format!("{base}/api/v1/meta/schemas/user/{}", org.schema_id) } },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::UserStatus;

    /// Every status, both providers, a generated profile, one a test set,
    /// and both merged: the listed bytes are the full renderer's.
    #[test]
    fn a_listed_user_is_byte_for_byte_the_rendered_one() {
        let mut org = crate::seed::build(&crate::OrgSpec {
            users: 40,
            groups: 3,
            seed: 7,
            ..Default::default()
        });
        let mut p = Map::new();
        p.insert("login".into(), "set@example.com".into());
        p.insert("zeta".into(), json!([1, "two", null]));
        org.insert_user("00uSET", UserStatus::Suspended, p).unwrap();
        let merged = org.users.keys().next().copied().unwrap();
        org.users.get_mut(&merged).unwrap().extra = Some(Box::new(Map::from_iter([(
            "title".into(),
            "Merged".into(),
        )])));
        let statuses = UserStatus::ALL;
        let mut kinds = std::collections::HashSet::new();
        for (n, u) in org.users.values_mut().enumerate() {
            if n % 3 == 0 {
                u.status = statuses[n / 3 % statuses.len()];
            }
            if n % 5 == 0 {
                u.provider = Provider::ActiveDirectory;
            }
        }
        let base = "https://acme.okta.com";
        for (id, u) in &org.users {
            kinds.insert((u.status.as_str(), u.seeded.is_some(), u.extra.is_some()));
            let want = serde_json::to_string(&user(base, &org, id, u, false)).unwrap();
            let got = serde_json::to_string(&ListedUser::new(base, &org, id, u)).unwrap();
            assert_eq!(got, want);
        }
        assert!(kinds.len() >= 10, "the org covers the cases: {kinds:?}");
    }
}
