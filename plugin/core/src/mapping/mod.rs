//! The editable mapping of a config (WIT `map`): which Okta attributes become
//! which Infraon fields, and which Okta groups grant which Infraon roles.
//!
//! # Fields
//!
//! A [`FieldMapping`] fills one Infraon field (`target`) from a `source`:
//! - an Okta profile attribute name, e.g. `department`;
//! - a template, any source containing a brace: `{firstName} {lastName}`
//!   puts attribute values between literal text; `{{` and `}}` stand for
//!   literal braces;
//! - `*` with the target `custom.*`: every attribute outside Okta's base
//!   schema, each into `custom.<name>` (explicit mappings of a `custom.`
//!   field win over it).
//!
//! Attribute values become text: strings as they are, numbers and booleans
//! as JSON, lists as their non-empty items joined by `, `; absent, `null`
//! and object values are empty. The [`Transform`]s then apply in order:
//! - `trim`, `lower-case`, `upper-case` (Unicode);
//! - `default-value(v)`: `v` when the value is empty (zero characters: put
//!   `trim` first to treat blanks as empty); `v` is a template too, so a
//!   default can be `{firstName} {lastName}`;
//! - `extract(p)`: the first capture group of the first match of the regular
//!   expression `p` (Rust `regex` syntax without Unicode classes, as
//!   `regex-lite` reads it), or empty when it does not match; a pattern
//!   without a capture group is refused.
//!
//! A field whose final value is empty is not sent. Targets are the person
//! record's `login`, `email`, `first_name`, `last_name` and `display_name`,
//! the fields Infraon's `list-fields` names for the population, and any
//! `custom.<name>`. See [`validate`] for what a saved mapping must satisfy.
//!
//! # Roles
//!
//! A [`RoleRule`] applies to people of its `kind` only and matches a group by
//! exact name, by Okta id, or by a `*` wildcard pattern on the name (names
//! compare ignoring case and surrounding spaces; ids exactly). A rule whose
//! role is `{group}` grants the Infraon role named like the matched group,
//! if Infraon has one and does not mark it privileged: a privileged role
//! (Administrator) is granted only by a rule whose role names it. The
//! default mapping has no rules at all, so that nobody gets more than the
//! default role until the admin adds a rule. Then:
//! - every matching rule grants its role, so a person in several matching
//!   groups gets several roles;
//! - when no rule grants one, the person gets the default role of the kind
//!   (`default-user-role`, else "Technician"; `default-requester-role`, else
//!   "Requester"), if Infraon has it;
//! - roles are listed by the lowest priority of the rules granting them
//!   (lower first, ties by name), so the first role is the one the
//!   highest-priority matching rule grants;
//! - roles removed from Infraon after the mapping was saved are skipped, and
//!   reported: each run logs them, and [`notices`] lists them.
//!
//! Okta is the source of truth: the computed roles replace the person's.
//!
//! # Storage and runs
//!
//! A config's mapping lives under `state/<config>/mapping` (absent: the
//! [`defaults`]); the last discovered schema under `state/<config>/schema`.
//! A sync run copies the mapping into its checkpoint when it starts, so a
//! change applies from the next run, never to one already started.

mod api;
mod compiled;
mod notices;
pub(crate) mod template;
mod validate;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::config::{FieldError, SyncTarget};
use crate::okta_error::OktaFailure;

pub use api::{discover_schema, get, load, preview, reset, set};
pub use compiled::Compiled;
pub use notices::{
    Notice, NoticeCode, ROLE_DEFAULTS_VERSION, dismiss as dismiss_notices, notices, unknown_roles,
    upgrade,
};
pub use validate::validate;

/// Default role of Users no rule grants one.
pub const DEFAULT_USER_ROLE: &str = "Technician";
/// Default role of Requesters no rule grants one.
pub const DEFAULT_REQUESTER_ROLE: &str = "Requester";
/// The role of a rule that grants the Infraon role named like the group.
pub const ROLE_OF_GROUP: &str = "{group}";
/// The target that receives every custom attribute, with source [`ALL_CUSTOM`].
pub const CUSTOM_WILDCARD: &str = "custom.*";
/// The source of [`CUSTOM_WILDCARD`].
pub const ALL_CUSTOM: &str = "*";
/// The person record's own fields, always valid targets.
pub const RECORD_FIELDS: [&str; 5] = ["login", "email", "first_name", "last_name", "display_name"];

/// A value transform, applied in order (WIT `transform`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", content = "arg", rename_all = "kebab-case")]
pub enum Transform {
    /// Strip surrounding whitespace.
    Trim,
    /// Lower-case.
    LowerCase,
    /// Upper-case.
    UpperCase,
    /// Use this value (a template) when the value is empty.
    DefaultValue(String),
    /// Keep the first capture group of this pattern.
    Extract(String),
}

/// One Infraon field and where its value comes from (WIT `field-mapping`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMapping {
    /// Infraon field name.
    pub target: String,
    /// An Okta attribute name, or a template such as `{firstName} {lastName}`.
    pub source: String,
    /// Transforms applied to the source value.
    pub transforms: Vec<Transform>,
}

impl FieldMapping {
    /// A mapping of `target` from `source` with `transforms`.
    pub fn new(target: &str, source: &str, transforms: Vec<Transform>) -> Self {
        FieldMapping {
            target: target.to_owned(),
            source: source.to_owned(),
            transforms,
        }
    }
}

/// What a role rule matches (WIT `group-matcher`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "kebab-case")]
pub enum GroupMatcher {
    /// The group's name (ignoring case).
    Name(String),
    /// The group's Okta id.
    Id(String),
    /// A `*` wildcard pattern on the group's name (ignoring case).
    NamePattern(String),
}

/// Okta group → Infraon role (WIT `role-rule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRule {
    /// Which groups.
    pub matcher: GroupMatcher,
    /// The Infraon role granted, or [`ROLE_OF_GROUP`].
    pub role: String,
    /// Lower numbers come first.
    pub priority: u32,
    /// Users or Requesters.
    pub kind: SyncTarget,
}

/// A config's whole mapping (WIT `mapping`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Field mappings.
    pub fields: Vec<FieldMapping>,
    /// Group → role rules.
    pub role_rules: Vec<RoleRule>,
    /// Role for Users no rule matched; `None` = "Technician".
    pub default_user_role: Option<String>,
    /// Role for Requesters no rule matched; `None` = "Requester".
    pub default_requester_role: Option<String>,
}

/// An attribute of Okta's user profile schema (WIT `schema-attribute`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaAttribute {
    /// Attribute name, e.g. `costCenter`.
    pub name: String,
    /// Title shown in Okta.
    pub title: String,
    /// JSON type.
    pub kind: String,
    /// Custom (not base) attribute.
    pub custom: bool,
}

/// Why a mapping call failed (WIT `map-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MapError {
    /// No config with this name is installed.
    #[error("no config named `{0}` is installed")]
    UnknownConfig(String),
    /// The mapping is not valid; one entry per field at fault.
    #[error("the mapping is not valid: {}", join(.0))]
    Invalid(Vec<FieldError>),
    /// A rule names a role Infraon does not have.
    #[error("Infraon has no role `{0}`")]
    UnknownRole(String),
    /// No Okta user with that login.
    #[error("Okta has no user `{0}`")]
    UnknownUser(String),
    /// Okta failed.
    #[error("{0}")]
    Okta(OktaFailure),
    /// This capability is not available in this plugin version.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The default mapping for a population: the fixed mapping the sync used
/// before mappings were editable.
///
/// | Okta profile     | Infraon                 |
/// |------------------|-------------------------|
/// | `login`          | `login`                 |
/// | `email`          | `email`                 |
/// | `firstName`      | `first_name`            |
/// | `lastName`       | `last_name`             |
/// | `displayName`    | `display_name`, else `{firstName} {lastName}` |
/// | `mobilePhone`    | `phone`                 |
/// | `department`     | `department`            |
/// | `title`          | `title`                 |
/// | `employeeNumber` | `employee_number`       |
/// | `manager`        | `manager`               |
/// | attributes outside Okta's base schema | `custom.<name>` |
///
/// Every value is trimmed. There is no role rule: everyone gets the default
/// role, "Technician" for Users and "Requester" for Requesters, until the
/// admin adds a rule.
pub fn defaults(kind: SyncTarget) -> Mapping {
    Mapping {
        role_rules: Vec::new(),
        ..legacy_defaults(kind)
    }
}

/// The default mapping before safe role defaults: [`defaults`] plus one rule
/// of the population granting the Infraon role named like each group. A
/// config installed before them, that never saved a mapping, is upgraded to
/// it (see [`upgrade`]) so that it keeps granting what it granted, except
/// privileged roles.
pub fn legacy_defaults(kind: SyncTarget) -> Mapping {
    let trim = || vec![Transform::Trim];
    let mut fields = vec![
        FieldMapping::new("login", "login", trim()),
        FieldMapping::new("email", "email", trim()),
        FieldMapping::new("first_name", "firstName", trim()),
        FieldMapping::new("last_name", "lastName", trim()),
        FieldMapping::new(
            "display_name",
            "displayName",
            vec![
                Transform::Trim,
                Transform::DefaultValue("{firstName} {lastName}".into()),
                Transform::Trim,
            ],
        ),
    ];
    for (okta, infraon) in [
        ("mobilePhone", "phone"),
        ("department", "department"),
        ("title", "title"),
        ("employeeNumber", "employee_number"),
        ("manager", "manager"),
    ] {
        fields.push(FieldMapping::new(infraon, okta, trim()));
    }
    fields.push(FieldMapping::new(CUSTOM_WILDCARD, ALL_CUSTOM, trim()));
    let (user_role, requester_role) = match kind {
        SyncTarget::Users => (Some(DEFAULT_USER_ROLE.to_owned()), None),
        SyncTarget::Requesters => (None, Some(DEFAULT_REQUESTER_ROLE.to_owned())),
    };
    Mapping {
        fields,
        role_rules: vec![RoleRule {
            matcher: GroupMatcher::NamePattern("*".into()),
            role: ROLE_OF_GROUP.into(),
            priority: 100,
            kind,
        }],
        default_user_role: user_role,
        default_requester_role: requester_role,
    }
}
