//! The `%map` and `%export` exports over `plugin_core::mapping` and `export`.

use plugin_core::mapping as core;

use crate::convert::{failure, field_errors, sync_target, wit_sync_target};
use crate::exports::infraon::okta::{export as wit_export, map as wit};
use crate::host::with_host;
use crate::infraon::okta::types::SyncTarget;

fn transform(t: wit::Transform) -> core::Transform {
    match t {
        wit::Transform::Trim => core::Transform::Trim,
        wit::Transform::LowerCase => core::Transform::LowerCase,
        wit::Transform::UpperCase => core::Transform::UpperCase,
        wit::Transform::DefaultValue(v) => core::Transform::DefaultValue(v),
        wit::Transform::Extract(p) => core::Transform::Extract(p),
    }
}

fn wit_transform(t: core::Transform) -> wit::Transform {
    match t {
        core::Transform::Trim => wit::Transform::Trim,
        core::Transform::LowerCase => wit::Transform::LowerCase,
        core::Transform::UpperCase => wit::Transform::UpperCase,
        core::Transform::DefaultValue(v) => wit::Transform::DefaultValue(v),
        core::Transform::Extract(p) => wit::Transform::Extract(p),
    }
}

fn mapping(m: wit::Mapping) -> core::Mapping {
    core::Mapping {
        fields: m
            .fields
            .into_iter()
            .map(|f| core::FieldMapping {
                target: f.target,
                source: f.source,
                transforms: f.transforms.into_iter().map(transform).collect(),
            })
            .collect(),
        role_rules: m
            .role_rules
            .into_iter()
            .map(|r| core::RoleRule {
                matcher: match r.matcher {
                    wit::GroupMatcher::Name(n) => core::GroupMatcher::Name(n),
                    wit::GroupMatcher::Id(i) => core::GroupMatcher::Id(i),
                    wit::GroupMatcher::NamePattern(p) => core::GroupMatcher::NamePattern(p),
                },
                role: r.role,
                priority: r.priority,
                kind: sync_target(r.kind),
            })
            .collect(),
        default_user_role: m.default_user_role,
        default_requester_role: m.default_requester_role,
    }
}

fn wit_mapping(m: core::Mapping) -> wit::Mapping {
    wit::Mapping {
        fields: m
            .fields
            .into_iter()
            .map(|f| wit::FieldMapping {
                target: f.target,
                source: f.source,
                transforms: f.transforms.into_iter().map(wit_transform).collect(),
            })
            .collect(),
        role_rules: m
            .role_rules
            .into_iter()
            .map(|r| wit::RoleRule {
                matcher: match r.matcher {
                    core::GroupMatcher::Name(n) => wit::GroupMatcher::Name(n),
                    core::GroupMatcher::Id(i) => wit::GroupMatcher::Id(i),
                    core::GroupMatcher::NamePattern(p) => wit::GroupMatcher::NamePattern(p),
                },
                role: r.role,
                priority: r.priority,
                kind: wit_sync_target(r.kind),
            })
            .collect(),
        default_user_role: m.default_user_role,
        default_requester_role: m.default_requester_role,
    }
}

fn error(e: core::MapError) -> wit::MapError {
    match e {
        core::MapError::UnknownConfig(n) => wit::MapError::UnknownConfig(n),
        core::MapError::Invalid(f) => wit::MapError::Invalid(field_errors(f)),
        core::MapError::UnknownRole(r) => wit::MapError::UnknownRole(r),
        core::MapError::UnknownUser(u) => wit::MapError::UnknownUser(u),
        core::MapError::Okta(f) => wit::MapError::Okta(failure(f)),
        core::MapError::Unsupported(m) => wit::MapError::Unsupported(m),
        core::MapError::Other(m) => wit::MapError::Other(m),
    }
}

impl wit::Guest for crate::Plugin {
    fn defaults(kind: SyncTarget) -> wit::Mapping {
        wit_mapping(core::defaults(sync_target(kind)))
    }

    fn get(config: String) -> Result<wit::Mapping, wit::MapError> {
        with_host(|h| core::get(h, &config))
            .map(wit_mapping)
            .map_err(error)
    }

    fn set(config: String, m: wit::Mapping) -> Result<(), wit::MapError> {
        with_host(|h| core::set(h, &config, mapping(m))).map_err(error)
    }

    fn reset(config: String) -> Result<wit::Mapping, wit::MapError> {
        with_host(|h| core::reset(h, &config))
            .map(wit_mapping)
            .map_err(error)
    }

    fn preview(config: String, login: String) -> Result<wit::Person, wit::MapError> {
        let person = with_host(|h| core::preview(h, &config, &login)).map_err(error)?;
        Ok(crate::directory::wit_person(&person))
    }

    fn discover_schema(config: String) -> Result<Vec<wit::SchemaAttribute>, wit::MapError> {
        let attributes = with_host(|h| core::discover_schema(h, &config)).map_err(error)?;
        Ok(attributes
            .into_iter()
            .map(|a| wit::SchemaAttribute {
                name: a.name,
                title: a.title,
                kind: a.kind,
                custom: a.custom,
            })
            .collect())
    }

    fn notices(config: String) -> Result<Vec<wit::MappingNotice>, wit::MapError> {
        let notices = with_host(|h| core::notices(h, &config)).map_err(error)?;
        Ok(notices
            .into_iter()
            .map(|n| wit::MappingNotice {
                code: match n.code {
                    core::NoticeCode::SafeRoleDefaults => wit::NoticeCode::SafeRoleDefaults,
                    core::NoticeCode::UnknownRole => wit::NoticeCode::UnknownRole,
                },
                message: n.message,
                at: n.at,
            })
            .collect())
    }

    fn dismiss_notices(config: String) -> Result<(), wit::MapError> {
        with_host(|h| core::dismiss_notices(h, &config)).map_err(error)
    }
}

impl wit_export::Guest for crate::Plugin {
    fn unsynced_csv(config: String, run: Option<u64>) -> Result<String, wit_export::ExportError> {
        use plugin_core::export::ExportError as E;
        with_host(|h| plugin_core::export::unsynced_csv(h, &config, run)).map_err(|e| match e {
            E::UnknownConfig(n) => wit_export::ExportError::UnknownConfig(n),
            E::UnknownRun(id) => wit_export::ExportError::UnknownRun(id),
            E::NoRuns => wit_export::ExportError::NoRuns,
            E::Unsupported(m) => wit_export::ExportError::Unsupported(m),
            E::Other(m) => wit_export::ExportError::Other(m),
        })
    }
}
