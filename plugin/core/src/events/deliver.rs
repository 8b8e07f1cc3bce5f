//! [`deliver`]: a delivery's events applied to Infraon through the sync's
//! own apply code, after re-reading each affected user from Okta.

use std::collections::{BTreeMap, HashMap};

use crate::config::SyncTarget;
use crate::directory::PersonStatus;
use crate::events::{
    Action, DeliveryReport, EventOutcome, EventResult, EventsError, MAX_USERS_PER_DELIVERY,
    OktaEvent, SeenIds, plan,
};
use crate::mapping::{self, Compiled};
use crate::okta_client::OktaClient;
use crate::okta_error::OktaFailure;
use crate::ports::{Host, Level};
use crate::store::{find_config, state_prefix};
use crate::sync::apply::other_kind;
use crate::sync::apply::{self, Ctx};
use crate::sync::ids::People;
use crate::sync::keys;
use crate::sync::memberships::{GroupRef, GroupSnapshot, ListedGroup, MembersPage, Memberships};
use crate::sync::paths::encode;
use crate::sync::records::{Listing, OktaGroup, OktaUser};
use crate::sync::scope::{self, Audience};
use crate::sync::settings::load_settings;
use crate::sync::types::{Counts, SyncError};
use crate::time::rfc3339_from_unix_ms;

/// Pages of a user's groups read at most (200 groups a page).
const MAX_GROUP_PAGES: usize = 50;

/// Where the ids of applied events are kept.
fn seen_key(config: &str) -> String {
    format!("{}events/seen", state_prefix(config))
}

fn host_err(e: impl std::fmt::Display) -> EventsError {
    EventsError::Host(e.to_string())
}

fn from_sync(e: SyncError) -> EventsError {
    match e {
        SyncError::UnknownConfig(c) => EventsError::UnknownConfig(c),
        SyncError::Host(m) => EventsError::Host(m),
        e => EventsError::Other(e.to_string()),
    }
}

/// A user as Okta has them now.
enum Fetched {
    /// The user and the groups they are in.
    Found(OktaUser, Vec<GroupRef>),
    /// Okta no longer has this user (404).
    Gone,
}

/// Apply a delivery of Okta events to `config` (WIT `events.deliver`): see
/// the [module docs](crate::events). Event ids are remembered unless their
/// event was deferred, so a redelivery of a deferred event is applied.
pub fn deliver(
    host: &mut Host<'_>,
    config: &str,
    events: &[OktaEvent],
) -> Result<DeliveryReport, EventsError> {
    let cfg = find_config(host.storage, config)
        .map_err(EventsError::Host)?
        .ok_or_else(|| EventsError::UnknownConfig(config.trim().to_owned()))?;
    let name = cfg.name.clone();
    let mut seen: SeenIds = keys::get_json(host.storage, &seen_key(&name))
        .map_err(from_sync)?
        .unwrap_or_default();
    let planned = plan(events, &seen);

    // Whom to re-read, once each, in the order their first event was published.
    let mut users: Vec<String> = Vec::new();
    let mut unknown_groups: HashMap<String, String> = HashMap::new();
    let mut members_of: HashMap<String, Vec<String>> = HashMap::new();
    for (_, action) in &planned {
        let ids = match action {
            Action::Users(ids) => ids.clone(),
            Action::GroupDeleted(g) => {
                let snap: Option<GroupSnapshot> =
                    keys::get_json(host.storage, &keys::snapshot(&name, g)).map_err(from_sync)?;
                match snap {
                    Some(s) => {
                        members_of.insert(g.clone(), s.members.clone());
                        s.members
                    }
                    None => {
                        unknown_groups.insert(
                            g.clone(),
                            "no sync has listed this group's members yet; the next scheduled sync removes the roles it granted".into(),
                        );
                        Vec::new()
                    }
                }
            }
            Action::Duplicate | Action::Ignored(_) => Vec::new(),
        };
        for id in ids {
            if !users.contains(&id) {
                users.push(id);
            }
        }
    }

    let mut report = DeliveryReport::default();
    // Per user: `None` applied, `Some(why)` deferred to the next sync.
    let mut deferred: HashMap<String, String> = HashMap::new();
    for id in users.iter().skip(MAX_USERS_PER_DELIVERY) {
        deferred.insert(
            id.clone(),
            format!(
                "more than {MAX_USERS_PER_DELIVERY} users in one delivery; the next scheduled sync applies the rest"
            ),
        );
    }
    let now_users: Vec<String> = users.iter().take(MAX_USERS_PER_DELIVERY).cloned().collect();
    if !now_users.is_empty() {
        apply_users(host, &cfg, &now_users, &mut report, &mut deferred)?;
    }

    for (event, action) in &planned {
        let (outcome, detail) = match action {
            Action::Duplicate => (
                EventOutcome::Duplicate,
                Some("already received; nothing done again".to_owned()),
            ),
            Action::Ignored(why) => (EventOutcome::Ignored, Some(why.clone())),
            Action::Users(ids) => verdict(ids, &deferred),
            Action::GroupDeleted(g) => match unknown_groups.get(g) {
                Some(why) => (EventOutcome::Deferred, Some(why.clone())),
                None => verdict(members_of.get(g).map_or(&[][..], Vec::as_slice), &deferred),
            },
        };
        if outcome != EventOutcome::Deferred {
            seen.insert(&event.uuid);
        }
        report.events.push(EventResult {
            uuid: event.uuid.clone(),
            event_type: event.event_type.clone(),
            outcome,
            detail,
        });
    }
    keys::put_json(host.storage, &seen_key(&name), &seen).map_err(from_sync)?;
    let count = |o: EventOutcome| {
        report
            .events
            .iter()
            .filter(|e| e.outcome == o)
            .count()
            .to_string()
    };
    let (applied, dupes, later) = (
        count(EventOutcome::Applied),
        count(EventOutcome::Duplicate),
        count(EventOutcome::Deferred),
    );
    host.log.write(
        Level::Info,
        "okta events delivered",
        &[
            ("config", &name),
            ("applied", &applied),
            ("duplicates", &dupes),
            ("deferred", &later),
            ("changed", &report.people_changed.to_string()),
        ],
    );
    Ok(report)
}

/// An event's outcome from its users' outcomes.
fn verdict(ids: &[String], deferred: &HashMap<String, String>) -> (EventOutcome, Option<String>) {
    match ids.iter().find_map(|id| deferred.get(id).map(|w| (id, w))) {
        Some((id, why)) => (EventOutcome::Deferred, Some(format!("user {id}: {why}"))),
        None => (EventOutcome::Applied, None),
    }
}

/// Re-read `ids` from Okta and apply them; failures go to `deferred`.
fn apply_users(
    host: &mut Host<'_>,
    cfg: &crate::config::StoredConfig,
    ids: &[String],
    report: &mut DeliveryReport,
    deferred: &mut HashMap<String, String>,
) -> Result<(), EventsError> {
    let name = cfg.name.as_str();
    let origin = cfg.origin().map_err(|e| {
        EventsError::Other(format!("the stored Okta origin is no longer valid: {e}"))
    })?;
    // The config's own credential: its API token, or its service app.
    let cred = crate::store::credential(host.secrets, cfg).map_err(EventsError::Other)?;
    let stored = mapping::load(host.storage, name, cfg.sync_target).map_err(from_sync)?;
    let compiled = Compiled::new(&stored).map_err(|e| {
        EventsError::Other(format!(
            "the saved mapping is not valid; fix or reset it: {}",
            mapping::MapError::Invalid(e)
        ))
    })?;
    let roles = host.directory.list_roles().map_err(host_err)?;
    let audience = scope::load(host.storage, name).map_err(from_sync)?;

    let mut fetched: Vec<(String, Fetched)> = Vec::new();
    {
        let auth = cred.auth(host.signer, host.clock);
        let mut client = OktaClient::new(&mut *host.http, &origin, auth);
        for id in ids {
            match fetch_user(&mut client, id).and_then(|f| in_scope(&mut client, &audience, f)) {
                Ok(f) => fetched.push((id.clone(), f)),
                Err(f) => {
                    deferred.insert(id.clone(), format!("Okta: {f}"));
                }
            }
        }
        report.requests += client.requests();
    }
    report.users_fetched += fetched.len() as u32;

    // The gone ones: deactivated if this config manages them.
    let mut found = Vec::new();
    let mut groups: BTreeMap<String, (GroupRef, Vec<String>)> = BTreeMap::new();
    for (id, f) in fetched {
        match f {
            // Gone from Okta or out of the config's scope: deactivated if
            // this config manages them, in whichever population.
            Fetched::Gone => deactivate(host, cfg, &id, report, deferred)?,
            Fetched::Found(user, of_user) => {
                for g in of_user {
                    groups
                        .entry(g.id.clone())
                        .or_insert_with(|| (g, Vec::new()))
                        .1
                        .push(user.id.clone());
                }
                found.push(user);
            }
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let mut memberships = Memberships::default();
    memberships.add_groups(
        groups
            .values()
            .map(|(g, _)| ListedGroup {
                id: g.id.clone(),
                name: g.name.clone(),
                walk: true,
            })
            .collect(),
    );
    for (g, members) in groups.into_values() {
        memberships.add_members(&MembersPage {
            group: g.id,
            members,
        });
    }
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    // A rehire by event follows the config's policy, as in a sync.
    let rehire = load_settings(host.storage, name).map_err(from_sync)?.rehire;
    let ctx = Ctx {
        config: name,
        kind: cfg.sync_target,
        dry_run: false,
        // Unsynced records of a delivery belong to no run.
        run_id: 0,
        now: &now,
        roles: &roles,
        mapping: &compiled,
        rehire,
        audience: &audience,
        // One person at a time: the extra lookup of a newcomer is cheap.
        look_other: true,
    };
    let mapped = apply::map_users(found, &ctx, &mut memberships);
    let mut counts = Counts::default();
    let (page, unsynced) = apply::apply_users(
        host.directory,
        &ctx,
        mapped,
        &mut People::default(),
        &mut counts,
        &mut Vec::new(),
        &mut || {},
    )
    .map_err(from_sync)?;
    report.people_changed += counts.created + counts.updated + counts.reactivated;
    for record in unsynced {
        deferred.insert(
            record.okta_id.clone(),
            format!("{}: {}", record.reason.as_str(), record.reason_text),
        );
    }
    // A sync holds deactivations for its safeguard; one person's event does not.
    for id in page.deactivate {
        deactivate(host, cfg, &id, report, deferred)?;
    }
    Ok(())
}

/// The population of the active person this config manages as Okta user
/// `id`, if any (population rules may have put them in either).
fn managed(
    host: &mut Host<'_>,
    cfg: &crate::config::StoredConfig,
    id: &str,
) -> Result<Option<SyncTarget>, EventsError> {
    for kind in [cfg.sync_target, other_kind(cfg.sync_target)] {
        let person = host
            .directory
            .find_by_external_id(kind, id)
            .map_err(host_err)?;
        if let Some(p) = person
            && p.config == cfg.name
        {
            return Ok((p.status != PersonStatus::Deactivated).then_some(kind));
        }
    }
    Ok(None)
}

/// A found user outside the config's scope counts as gone: their groups
/// decide the scope groups, one `search` the expression.
fn in_scope(
    client: &mut OktaClient<'_>,
    audience: &Audience,
    f: Fetched,
) -> Result<Fetched, OktaFailure> {
    let Fetched::Found(user, groups) = f else {
        return Ok(f);
    };
    if !audience.admits(&groups) {
        return Ok(Fetched::Gone);
    }
    match &audience.filter {
        Some(expr) if !scope::matches_filter(client, expr, &user.id)? => Ok(Fetched::Gone),
        _ => Ok(Fetched::Found(user, groups)),
    }
}

fn deactivate(
    host: &mut Host<'_>,
    cfg: &crate::config::StoredConfig,
    id: &str,
    report: &mut DeliveryReport,
    deferred: &mut HashMap<String, String>,
) -> Result<(), EventsError> {
    use crate::directory::DirectoryError;
    let Some(kind) = managed(host, cfg, id)? else {
        return Ok(());
    };
    match host
        .directory
        .set_status(kind, id, PersonStatus::Deactivated)
    {
        Ok(()) => {
            report.deactivated += 1;
            report.people_changed += 1;
            Ok(())
        }
        Err(DirectoryError::Unavailable(m)) => Err(EventsError::Host(m)),
        Err(e) => {
            deferred.insert(id.to_owned(), e.to_string());
            Ok(())
        }
    }
}

/// `GET /api/v1/users/{id}` and the user's groups; a 404 is [`Fetched::Gone`].
fn fetch_user(client: &mut OktaClient<'_>, id: &str) -> Result<Fetched, OktaFailure> {
    let user = match client.get(&format!("/api/v1/users/{}", encode(id))) {
        Ok(r) => OktaUser::from_value(&r.body_json),
        Err(OktaFailure::NotFound(_)) => return Ok(Fetched::Gone),
        Err(f) => return Err(f),
    };
    if user.id != id {
        return Err(OktaFailure::UnexpectedResponse(
            "Okta answered a user GET with another user".into(),
        ));
    }
    let mut groups = Vec::new();
    let mut resp = client
        .get::<Listing<OktaGroup>>(&format!("/api/v1/users/{}/groups?limit=200", encode(id)))?;
    for _ in 0..MAX_GROUP_PAGES {
        let page = match std::mem::replace(&mut resp.body_json, Listing::NotAList) {
            Listing::List(page) => page,
            Listing::NotAList => {
                return Err(OktaFailure::UnexpectedResponse(
                    "the user's groups are not a JSON list".into(),
                ));
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
            Some(next) => resp = client.get(&next)?,
            None => return Ok(Fetched::Found(user, groups)),
        }
    }
    Err(OktaFailure::UnexpectedResponse(format!(
        "the user is in more than {MAX_GROUP_PAGES} pages of groups"
    )))
}
