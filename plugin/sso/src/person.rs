//! Who signed in: the Infraon person linked to the ID token's `sub`, who
//! must be allowed to sign in; or a requester created just in time.

use plugin_core::store::find_config;
use plugin_core::{DirectoryError, Host, Level, Person, PersonStatus, StoredConfig, SyncTarget};

use crate::SsoError;
use crate::jwt::IdClaims;
use crate::settings::StoredSso;

/// The role a just-in-time requester gets: the sync's default for
/// requesters no group maps, so both paths create the same person.
const DEFAULT_REQUESTER_ROLE: &str = "Requester";

/// The Infraon person linked to the Okta user `claims.sub`, who must be
/// allowed to sign in.
pub(crate) fn resolve(
    host: &mut Host,
    cfg: &StoredConfig,
    sso: &StoredSso,
    kind: SyncTarget,
    claims: &IdClaims,
) -> Result<Person, SsoError> {
    let found = host
        .directory
        .find_by_external_id(kind, &claims.sub)
        .map_err(directory_err)?;
    let person = match found {
        Some(p) => p,
        None if kind == SyncTarget::Requesters && sso.jit_requesters => {
            return create_requester(host, cfg, claims);
        }
        None => {
            return Err(SsoError::NotLinked(format!(
                "This Okta account is not linked to an {}. Ask an administrator to sync it from Okta.",
                noun(kind)
            )));
        }
    };
    if !same_org(host, cfg, &person) {
        return Err(SsoError::NotLinked(format!(
            "This Okta account is not linked to an {} by this Okta org.",
            noun(kind)
        )));
    }
    match person.status {
        PersonStatus::Active | PersonStatus::Pending => Ok(person),
        status @ (PersonStatus::Deactivated | PersonStatus::Suspended) => {
            Err(SsoError::Deactivated(format!(
                "This {} is {status} in Infraon, so it cannot sign in. Ask an administrator to reactivate it.",
                noun(kind).trim_start_matches("Infraon ")
            )))
        }
    }
}

/// Okta user ids are unique per org, so the link (issuer + subject) holds
/// only if the person was linked by a config of this same Okta org: this
/// one, or another config syncing the other population from it.
fn same_org(host: &mut Host, cfg: &StoredConfig, person: &Person) -> bool {
    if person.config.eq_ignore_ascii_case(&cfg.name) {
        return true;
    }
    matches!(
        find_config(host.storage, &person.config),
        Ok(Some(other)) if other.okta_origin == cfg.okta_origin
    )
}

/// Just-in-time creation of a Requester from the ID token's claims.
fn create_requester(
    host: &mut Host,
    cfg: &StoredConfig,
    claims: &IdClaims,
) -> Result<Person, SsoError> {
    let kind = SyncTarget::Requesters;
    let nonblank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let Some(email) = nonblank(&claims.email) else {
        return Err(SsoError::NotLinked(
            "This Okta account is not linked to an Infraon requester, and the identity provider shared no email address to create one with.".into(),
        ));
    };
    let first_name = nonblank(&claims.given_name).unwrap_or_default();
    let last_name = nonblank(&claims.family_name).unwrap_or_default();
    let login = nonblank(&claims.preferred_username).unwrap_or_else(|| email.clone());
    let display_name = nonblank(&claims.name)
        .or_else(|| nonblank(&Some(format!("{first_name} {last_name}"))))
        .unwrap_or_else(|| login.clone());
    let roles = host.directory.list_roles().map_err(directory_err)?;
    let person = Person {
        external_id: claims.sub.clone(),
        config: cfg.name.clone(),
        kind,
        login,
        email,
        first_name,
        last_name,
        display_name,
        fields: Vec::new(),
        roles: roles
            .into_iter()
            .filter(|r| r.kind == kind && r.name.eq_ignore_ascii_case(DEFAULT_REQUESTER_ROLE))
            .map(|r| r.name)
            .take(1)
            .collect(),
        status: PersonStatus::Active,
    };
    match host.directory.upsert(&person) {
        Ok(_) => {
            host.log.write(
                Level::Info,
                "requester created on first Okta sign-in",
                &[("config", &cfg.name), ("external_id", &person.external_id)],
            );
            Ok(person)
        }
        Err(DirectoryError::Conflict(_)) => Err(SsoError::NotLinked(
            "An Infraon requester with this email or login already exists but is not linked to this Okta account. Ask an administrator to link it.".into(),
        )),
        Err(e) => Err(directory_err(e)),
    }
}

fn directory_err(e: DirectoryError) -> SsoError {
    SsoError::Other(format!("Infraon's directory failed: {e}"))
}

/// "Infraon user" / "Infraon requester".
fn noun(kind: SyncTarget) -> &'static str {
    match kind {
        SyncTarget::Users => "Infraon user",
        SyncTarget::Requesters => "Infraon requester",
    }
}
