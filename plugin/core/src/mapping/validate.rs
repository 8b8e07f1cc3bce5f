//! What a mapping must satisfy before it is saved.

use std::collections::BTreeSet;

use super::compiled::{Compiled, field_label};
use super::template;
use super::{ALL_CUSTOM, CUSTOM_WILDCARD, Mapping, RECORD_FIELDS, ROLE_OF_GROUP, Transform};
use crate::config::{FieldError, SyncTarget};
use crate::directory::{FieldSpec, Role};
use crate::mapping::MapError;

/// Check a mapping for a config of population `kind`, against the fields
/// (`list-fields`) and roles (`list-roles`) Infraon has and, when one was
/// discovered, Okta's profile schema:
/// - every source, template, default value and pattern parses (see
///   [`Compiled::new`]);
/// - every target is a person record field, a field Infraon lists for
///   `kind`, or `custom.<name>`; no target is mapped twice;
/// - `login`, `email` and every field Infraon marks required are mapped;
/// - with a schema, every attribute a source or default names exists;
/// - every role a rule or default names exists for the rule's population.
///
/// Field problems come back together as [`MapError::Invalid`]; then the
/// first unknown role as [`MapError::UnknownRole`].
pub fn validate(
    mapping: &Mapping,
    kind: SyncTarget,
    fields: &[FieldSpec],
    roles: &[Role],
    schema: Option<&[super::SchemaAttribute]>,
) -> Result<(), MapError> {
    let mut errors = Compiled::new(mapping).err().unwrap_or_default();
    let known: BTreeSet<&str> = RECORD_FIELDS
        .iter()
        .copied()
        .chain(fields.iter().map(|f| f.name.as_str()))
        .collect();
    let mut seen = BTreeSet::new();
    for (i, f) in mapping.fields.iter().enumerate() {
        let label = field_label(i, &f.target);
        if let Err(m) = check_target(&f.target, &known, kind) {
            errors.push(FieldError::new(&label, m));
        } else if !seen.insert(f.target.as_str()) {
            errors.push(FieldError::new(
                &label,
                "is mapped more than once; keep one mapping per field",
            ));
        }
        if let Some(schema) = schema {
            for attr in unknown_attributes(f.source.as_str(), &f.transforms, schema) {
                errors.push(FieldError::new(
                    &label,
                    format!(
                        "Okta's profile schema has no attribute `{attr}` (discover the schema again if it was just added)"
                    ),
                ));
            }
        }
    }
    let required = ["login", "email"].into_iter().chain(
        fields
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str()),
    );
    for name in required.collect::<BTreeSet<_>>() {
        if !seen.contains(name) {
            errors.push(FieldError::new(
                name,
                format!("Infraon requires `{name}` for {kind}: map it to an Okta attribute"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(MapError::Invalid(errors));
    }
    let has = |k: SyncTarget, name: &str| {
        let want = template::fold(name);
        roles
            .iter()
            .any(|r| r.kind == k && template::fold(&r.name) == want)
    };
    let named = mapping
        .role_rules
        .iter()
        .filter(|r| r.role.trim() != ROLE_OF_GROUP)
        .map(|r| (r.kind, r.role.trim()));
    let defaults = [
        (SyncTarget::Users, &mapping.default_user_role),
        (SyncTarget::Requesters, &mapping.default_requester_role),
    ]
    .into_iter()
    .filter_map(|(k, r)| r.as_deref().map(|r| (k, r.trim())));
    for (k, role) in named.chain(defaults) {
        if !has(k, role) {
            return Err(MapError::UnknownRole(role.to_owned()));
        }
    }
    Ok(())
}

fn check_target(target: &str, known: &BTreeSet<&str>, kind: SyncTarget) -> Result<(), String> {
    if target.trim().is_empty() {
        return Err("names no Infraon field".into());
    }
    if known.contains(target) || target == CUSTOM_WILDCARD {
        return Ok(());
    }
    match target.strip_prefix("custom.") {
        Some(name) if !name.is_empty() && !name.contains(char::is_whitespace) => Ok(()),
        Some(_) => Err("a custom field needs a name without spaces: `custom.<name>`".into()),
        None => Err(format!(
            "Infraon has no field `{target}` for {kind} (custom fields are `custom.<name>`)"
        )),
    }
}

/// The attributes a source and its defaults name that the schema lacks.
fn unknown_attributes(
    source: &str,
    transforms: &[Transform],
    schema: &[super::SchemaAttribute],
) -> Vec<String> {
    let from_template = |t: &str| -> Vec<String> {
        template::parse(t)
            .map(|pieces| template::attributes(&pieces).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let mut names: Vec<String> = if template::is_template(source) {
        from_template(source)
    } else if source.trim() != ALL_CUSTOM {
        vec![source.trim().to_owned()]
    } else {
        Vec::new()
    };
    for t in transforms {
        if let Transform::DefaultValue(v) = t {
            names.extend(from_template(v));
        }
    }
    names.retain(|n| !n.is_empty() && !schema.iter().any(|a| a.name == *n));
    names.sort();
    names.dedup();
    names
}
