//! Provision one person on demand (WIT `sync.provision`), as Entra's
//! "provision on demand": read one Okta user (by login or id) and their
//! groups now, and apply them with the sync's own mapping, role rules,
//! rehire policy and lifecycle ([`crate::sync::apply`]). Nobody else is
//! read or written.
//!
//! The config's scope and population rules apply as in a sync: a user
//! outside the scope (groups, or the expression, asked of Okta for this one
//! user) is refused with the reason, or deactivated if this config manages
//! them; population rules choose Users or Requesters.
//!
//! A user Okta has as `DEPROVISIONED` is deactivated at once: one person is
//! below any safeguard, as for an Okta event. A user Okta does not have is
//! an error; the next full sync decides about people gone from Okta.

use crate::mapping::{self, Compiled};
use crate::okta_client::OktaClient;
use crate::okta_error::OktaFailure;
use crate::ports::{Host, Level};
use crate::store::{credential, find_config};
use crate::sync::apply::other_kind;
use crate::sync::apply::{self, Ctx};
use crate::sync::changes::{self, PersonChange};
use crate::sync::finish::deactivate;
use crate::sync::ids::People;
use crate::sync::memberships::{GroupRef, ListedGroup, MembersPage, Memberships};
use crate::sync::paths::encode;
use crate::sync::records::{Listing, OktaGroup, OktaUser};
use crate::sync::scope;
use crate::sync::settings::load_settings;
use crate::sync::types::{Counts, SyncError};
use crate::time::rfc3339_from_unix_ms;

/// Pages of a user's groups read at most (200 groups a page).
const MAX_GROUP_PAGES: usize = 50;

/// What provisioning one person did (WIT `provision-report`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisionReport {
    /// The Okta user's id.
    pub okta_id: String,
    /// The Okta user's login.
    pub login: String,
    /// The Okta groups they are in, by name.
    pub groups: Vec<String>,
    /// What changed for them (nothing: they were up to date); an unsynced
    /// entry says why they could not be applied.
    pub changes: Vec<PersonChange>,
    /// Okta requests made.
    pub requests: u32,
}

/// Sync the Okta user `user` (login or id) of `config` now.
pub fn provision(
    host: &mut Host<'_>,
    config: &str,
    user: &str,
) -> Result<ProvisionReport, SyncError> {
    let cfg = find_config(host.storage, config)
        .map_err(SyncError::Host)?
        .ok_or_else(|| SyncError::UnknownConfig(config.trim().to_owned()))?;
    let cfg = mapping::upgrade(host, cfg)?;
    let name = cfg.name.clone();
    let wanted = user.trim();
    if wanted.is_empty() {
        return Err(SyncError::Other(
            "name the Okta user to provision: a login or an Okta user id".into(),
        ));
    }
    let origin = cfg
        .origin()
        .map_err(|e| SyncError::Other(format!("the stored Okta origin is no longer valid: {e}")))?;
    let cred = credential(host.secrets, &cfg).map_err(SyncError::Other)?;
    let stored = mapping::load(host.storage, &name, cfg.sync_target)?;
    let compiled = Compiled::new(&stored).map_err(|e| {
        SyncError::Other(format!(
            "the saved mapping is not valid; fix or reset it: {}",
            mapping::MapError::Invalid(e)
        ))
    })?;
    let roles = host.directory.list_roles().map_err(SyncError::host)?;
    let audience = scope::load(host.storage, &name)?;

    let (okta_user, groups, in_scope, requests) = {
        let auth = cred.auth(host.signer, host.clock);
        let mut client = OktaClient::new(&mut *host.http, &origin, auth);
        let read = read_user(&mut client, wanted).and_then(|(u, g)| {
            let in_scope = audience.admits(&g)
                && match &audience.filter {
                    Some(expr) => {
                        scope::matches_filter(&mut client, expr, &u.id).map_err(SyncError::Okta)?
                    }
                    None => true,
                };
            Ok((u, g, in_scope))
        });
        let requests = client.requests();
        let (u, g, in_scope) = read?;
        (u, g, in_scope, requests)
    };

    let mut memberships = Memberships::default();
    memberships.add_groups(
        groups
            .iter()
            .map(|g| ListedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                walk: true,
            })
            .collect(),
    );
    for g in &groups {
        memberships.add_members(&MembersPage {
            group: g.id.clone(),
            members: vec![okta_user.id.clone()],
        });
    }
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let rehire = load_settings(host.storage, &name)?.rehire;
    let ctx = Ctx {
        config: &name,
        kind: cfg.sync_target,
        dry_run: false,
        // Unsynced records of an on-demand provision belong to no run.
        run_id: 0,
        now: &now,
        roles: &roles,
        mapping: &compiled,
        rehire,
        audience: &audience,
        // One person: looking them up in the other population is cheap.
        look_other: true,
    };
    let login = okta_user
        .profile
        .get("login")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let okta_id = okta_user.id.clone();
    let mut mapped = apply::map_users(vec![okta_user], &ctx, &mut memberships);
    if !in_scope {
        mapped.iter_mut().for_each(apply::Mapped::leave_scope);
    }
    let mut listed = Vec::new();
    let (page, unsynced) = apply::apply_users(
        host.directory,
        &ctx,
        mapped,
        &mut People::default(),
        &mut Counts::default(),
        &mut listed,
        &mut || {},
    )?;
    listed.extend(unsynced.iter().map(changes::of_unsynced));
    for id in &page.deactivate {
        // In whichever population they are (population rules), found once.
        for kind in [cfg.sync_target, other_kind(cfg.sync_target)] {
            let found = host
                .directory
                .find_by_external_id(kind, id)
                .map_err(SyncError::host)?;
            if let Some(p) = found {
                if deactivate(host, kind, std::slice::from_ref(id))? > 0 {
                    listed.push(changes::of_deactivation(&p, false));
                }
                break;
            }
        }
    }
    if !in_scope && listed.is_empty() {
        return Err(SyncError::Other(format!(
            "Okta user `{login}` is outside this config's scope (its scope groups or \
             expression, see Who is synced); nothing was changed"
        )));
    }
    let actions: Vec<&str> = listed.iter().map(|c| c.action.as_str()).collect();
    let actions = if actions.is_empty() {
        "unchanged".to_owned()
    } else {
        actions.join(",")
    };
    host.log.write(
        Level::Info,
        "one person provisioned on demand",
        &[
            ("config", &name),
            ("okta_id", &okta_id),
            ("changes", &actions),
        ],
    );
    let mut names: Vec<String> = groups.into_iter().map(|g| g.name).collect();
    names.sort();
    Ok(ProvisionReport {
        okta_id,
        login,
        groups: names,
        changes: listed,
        requests,
    })
}

/// `GET /api/v1/users/{login or id}` (Okta accepts either), then the
/// user's groups, every page.
fn read_user(
    client: &mut OktaClient<'_>,
    wanted: &str,
) -> Result<(OktaUser, Vec<GroupRef>), SyncError> {
    let user = match client.get(&format!("/api/v1/users/{}", encode(wanted))) {
        Ok(r) => OktaUser::from_value(&r.body_json),
        Err(OktaFailure::NotFound(_)) => {
            return Err(SyncError::Other(format!(
                "Okta has no user with login or id `{wanted}`"
            )));
        }
        Err(f) => return Err(SyncError::Okta(f)),
    };
    if user.id.is_empty() {
        return Err(SyncError::Okta(OktaFailure::UnexpectedResponse(
            "Okta answered the user GET without an id".into(),
        )));
    }
    let mut groups = Vec::new();
    let mut resp = client
        .get::<Listing<OktaGroup>>(&format!(
            "/api/v1/users/{}/groups?limit=200",
            encode(&user.id)
        ))
        .map_err(SyncError::Okta)?;
    for _ in 0..MAX_GROUP_PAGES {
        let page = match std::mem::replace(&mut resp.body_json, Listing::NotAList) {
            Listing::List(page) => page,
            Listing::NotAList => {
                return Err(SyncError::Okta(OktaFailure::UnexpectedResponse(
                    "the user's groups are not a JSON list".into(),
                )));
            }
        };
        groups.extend(
            page.into_iter()
                .filter(|g| !g.id.is_empty())
                .map(|g| GroupRef {
                    id: g.id,
                    name: g.name,
                }),
        );
        match resp.next_link.take() {
            Some(next) => resp = client.get(&next).map_err(SyncError::Okta)?,
            None => return Ok((user, groups)),
        }
    }
    Err(SyncError::Okta(OktaFailure::UnexpectedResponse(format!(
        "the user is in more than {MAX_GROUP_PAGES} pages of groups"
    ))))
}
