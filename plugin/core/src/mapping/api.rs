//! The `map` operations the component exports: get, set, reset, preview and
//! schema discovery, over the host's storage, secrets, directory and Okta.

use serde_json::Value;

use super::{Compiled, MapError, Mapping, SchemaAttribute, defaults, validate};
use crate::config::{StoredConfig, SyncTarget};
use crate::directory::Person;
use crate::okta_client::{OktaClient, OktaResponse};
use crate::okta_error::OktaFailure;
use crate::ports::{Host, Level, Storage};
use crate::store::{credential, find_config};
use crate::sync::keys;
use crate::sync::mapping::map_user;
use crate::sync::memberships::GroupRef;
use crate::sync::paths::encode;
use crate::sync::records::OktaUser;
use crate::sync::types::SyncError;

/// Pages of a user's groups a preview follows: far more groups than any
/// person is in, but a bound all the same.
pub const MAX_GROUP_PAGES: usize = 50;

fn other(e: impl std::fmt::Display) -> MapError {
    MapError::Other(e.to_string())
}

/// The config, upgraded (see [`super::upgrade`]) before its mapping is read.
fn config(host: &mut Host<'_>, name: &str) -> Result<StoredConfig, MapError> {
    let cfg = find_config(host.storage, name)
        .map_err(MapError::Other)?
        .ok_or_else(|| MapError::UnknownConfig(name.trim().to_owned()))?;
    super::upgrade(host, cfg).map_err(other)
}

/// A config's stored mapping, or the defaults of its population when none
/// was saved; what a sync run starts with.
pub fn load(
    storage: &mut dyn Storage,
    config: &str,
    kind: SyncTarget,
) -> Result<Mapping, SyncError> {
    Ok(keys::get_json(storage, &keys::mapping(config))?.unwrap_or_else(|| defaults(kind)))
}

/// A config's mapping (the defaults until one is saved).
pub fn get(host: &mut Host<'_>, config_name: &str) -> Result<Mapping, MapError> {
    let cfg = config(host, config_name)?;
    load(host.storage, &cfg.name, cfg.sync_target).map_err(other)
}

/// Validate (see [`validate`]) and save a config's mapping; it applies from
/// the next sync run. Attributes are checked against the schema last
/// discovered with [`discover_schema`], if any.
pub fn set(host: &mut Host<'_>, config_name: &str, mapping: Mapping) -> Result<(), MapError> {
    let cfg = config(host, config_name)?;
    let fields = host.directory.list_fields(cfg.sync_target).map_err(other)?;
    let roles = host.directory.list_roles().map_err(other)?;
    let schema: Option<Vec<SchemaAttribute>> =
        keys::get_json(host.storage, &keys::schema(&cfg.name)).map_err(other)?;
    validate(
        &mapping,
        cfg.sync_target,
        &fields,
        &roles,
        schema.as_deref(),
    )?;
    keys::put_json(host.storage, &keys::mapping(&cfg.name), &mapping).map_err(other)?;
    let n = mapping.fields.len().to_string();
    let r = mapping.role_rules.len().to_string();
    host.log.write(
        Level::Info,
        "mapping saved",
        &[("config", &cfg.name), ("fields", &n), ("role_rules", &r)],
    );
    Ok(())
}

/// Forget a config's saved mapping; returns the defaults it now uses.
pub fn reset(host: &mut Host<'_>, config_name: &str) -> Result<Mapping, MapError> {
    let cfg = config(host, config_name)?;
    host.storage
        .delete(&keys::mapping(&cfg.name))
        .map_err(other)?;
    host.log.write(
        Level::Info,
        "mapping reset to defaults",
        &[("config", &cfg.name)],
    );
    Ok(defaults(cfg.sync_target))
}

/// The Infraon person the Okta user `login` maps to with the config's
/// saved mapping: exactly what the next sync run writes for them (one
/// exception: a run holds back a deactivation until its end, so a
/// deprovisioned user previews as deactivated at once).
///
/// Okta is asked for `GET /api/v1/users/{login}` and
/// `GET /api/v1/users/{id}/groups`; Infraon for its roles.
pub fn preview(host: &mut Host<'_>, config_name: &str, login: &str) -> Result<Person, MapError> {
    let cfg = config(host, config_name)?;
    let mapping = load(host.storage, &cfg.name, cfg.sync_target).map_err(other)?;
    let compiled = Compiled::new(&mapping).map_err(|e| {
        MapError::Other(format!(
            "the saved mapping is no longer valid: {}",
            MapError::Invalid(e)
        ))
    })?;
    let origin = cfg
        .origin()
        .map_err(|e| MapError::Other(format!("the stored Okta origin is no longer valid: {e}")))?;
    let cred = credential(host.secrets, &cfg).map_err(MapError::Other)?;
    let login = login.trim();
    if login.is_empty() {
        return Err(MapError::UnknownUser(String::new()));
    }
    let mut client = OktaClient::new(&mut *host.http, &origin, cred.auth(host.signer, host.clock));
    let user = match client.get::<Value>(&format!("/api/v1/users/{}", encode(login))) {
        Ok(r) => r.body_json,
        Err(OktaFailure::NotFound(m)) if m.contains("E0000007") => {
            return Err(MapError::UnknownUser(login.to_owned()));
        }
        Err(f) => return Err(MapError::Okta(f)),
    };
    let id = user
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut groups = Vec::new();
    let mut resp = client
        .get(&format!("/api/v1/users/{}/groups", encode(&id)))
        .map_err(MapError::Okta)?;
    for _ in 0..MAX_GROUP_PAGES {
        groups.extend(group_refs(&resp)?);
        match resp.next_link.take() {
            Some(next) => resp = client.get(&next).map_err(MapError::Okta)?,
            None => break,
        }
    }
    groups.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let roles = host.directory.list_roles().map_err(other)?;
    let granted = compiled.roles(cfg.sync_target, &groups, &roles);
    let user = OktaUser::from_value(&user);
    map_user(&user, &cfg.name, cfg.sync_target, &compiled, granted)
        .map_err(|(code, why)| MapError::Other(format!("this user would not sync ({code}): {why}")))
}

fn group_refs(resp: &OktaResponse) -> Result<Vec<GroupRef>, MapError> {
    let list = resp.body_json.as_array().ok_or_else(|| {
        MapError::Okta(OktaFailure::UnexpectedResponse(
            "the user's groups are not a JSON list".into(),
        ))
    })?;
    Ok(list
        .iter()
        .map(|g| GroupRef {
            id: g.get("id").and_then(Value::as_str).unwrap_or("").to_owned(),
            name: g
                .pointer("/profile/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        })
        .filter(|g| !g.id.is_empty())
        .collect())
}

/// Okta's user profile schema (`GET /api/v1/meta/schemas/user/default`):
/// base attributes then custom ones, each by name. Kept under
/// `state/<config>/schema`, so that [`set`] can check sources against it.
pub fn discover_schema(
    host: &mut Host<'_>,
    config_name: &str,
) -> Result<Vec<SchemaAttribute>, MapError> {
    let cfg = config(host, config_name)?;
    let origin = cfg
        .origin()
        .map_err(|e| MapError::Other(format!("the stored Okta origin is no longer valid: {e}")))?;
    let cred = credential(host.secrets, &cfg).map_err(MapError::Other)?;
    let mut client = OktaClient::new(&mut *host.http, &origin, cred.auth(host.signer, host.clock));
    let body = client
        .get::<Value>("/api/v1/meta/schemas/user/default")
        .map_err(MapError::Okta)?
        .body_json;
    let Some(defs) = body.get("definitions") else {
        return Err(MapError::Okta(OktaFailure::UnexpectedResponse(
            "the user schema has no `definitions`".into(),
        )));
    };
    let mut out = Vec::new();
    for (part, custom) in [("base", false), ("custom", true)] {
        let Some(props) = defs
            .pointer(&format!("/{part}/properties"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, p) in props {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            out.push(SchemaAttribute {
                name: name.clone(),
                title: s("title"),
                kind: s("type"),
                custom,
            });
        }
    }
    keys::put_json(host.storage, &keys::schema(&cfg.name), &out).map_err(other)?;
    Ok(out)
}
