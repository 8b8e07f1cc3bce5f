//! Who a config syncs (its scope) and as what (its population rules),
//! issue 15. Kept under `state/<config>/scope`, fixed in a run's checkpoint
//! at its start like the settings.
//!
//! - **Scope**: everyone (the default); members of chosen Okta groups; an
//!   Okta `search` expression on user attributes; or both (members of the
//!   groups who also match the expression). Groups are named by name or id
//!   when saved and kept by id (a renamed group stays in scope).
//! - **Populations**: rules "members of group G → Users / Requesters",
//!   first match wins; everyone else in scope gets the config's Sync field
//!   (its default population).
//!
//! What a run lists (see [`crate::sync::run`]): everyone — `/api/v1/users`
//! then the `DEPROVISIONED` ones; groups only — the chosen groups' members
//! (1,000 a page, every status), each person once; an expression —
//! `search=` on `/api/v1/users` (200 a page, deprovisioned included), and
//! with groups too, only the groups' members of it. An incremental run
//! lists the changed users as before, `search=(expr) and lastUpdated gt` with
//! an expression, and drops those outside the groups. People outside the
//! scope are deactivated like people gone from Okta, under the safeguard; a
//! change of scope or population rules makes the next run full.

use std::borrow::Borrow;

use serde::{Deserialize, Serialize};

use crate::config::SyncTarget;
use crate::okta_client::OktaClient;
use crate::okta_error::{JsonBody, OktaFailure};
use crate::ports::{Host, Level};
use crate::store::{credential, find_config};
use crate::sync::keys;
use crate::sync::memberships::GroupRef;
use crate::sync::paths::{self, encode};
use crate::sync::records::{Listing, OktaGroup, OktaUser};
use crate::sync::types::SyncError;

/// Longest `search` expression accepted: Okta refuses overly long queries,
/// and the plugin adds its own clauses to it.
pub const MAX_FILTER_LEN: usize = 1_000;
/// Groups in a scope or population rules: each is walked by every run.
pub const MAX_GROUPS: usize = 100;
/// Pages a count or a group listing reads at most, so a paging loop ends.
const MAX_PAGES: usize = 100_000;

/// A population rule: members of `group` are synced as `population`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationRule {
    /// The Okta group, resolved to its id when saved.
    pub group: GroupRef,
    /// Users or Requesters.
    pub population: SyncTarget,
}

/// A config's scope and population rules, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Audience {
    /// Scope groups; empty: no group condition.
    pub groups: Vec<GroupRef>,
    /// Okta `search` expression; `None`: no attribute condition.
    pub filter: Option<String>,
    /// Population rules, first match wins.
    pub populations: Vec<PopulationRule>,
}

impl Audience {
    /// Whether a person in `groups` (all of their groups) is in scope; the
    /// expression is Okta's to apply, in the listing.
    pub fn admits<G: Borrow<GroupRef>>(&self, groups: &[G]) -> bool {
        self.groups.is_empty() || groups.iter().any(|g| self.is_scope_group(&g.borrow().id))
    }

    fn is_scope_group(&self, id: &str) -> bool {
        self.groups.iter().any(|s| s.id == id)
    }

    /// The population of a person in `groups`: the first rule naming one of
    /// them, else `default` (the config's Sync field).
    pub fn population<G: Borrow<GroupRef>>(&self, default: SyncTarget, groups: &[G]) -> SyncTarget {
        self.populations
            .iter()
            .find(|r| groups.iter().any(|g| g.borrow().id == r.group.id))
            .map_or(default, |r| r.population)
    }

    /// Whether the run must list the members of group `id` whatever its
    /// type: it decides scope or population.
    pub fn decides(&self, id: &str) -> bool {
        self.is_scope_group(id) || self.populations.iter().any(|r| r.group.id == id)
    }

    /// Whether a full run lists the scope groups' members instead of the
    /// users (groups and no expression).
    pub fn lists_members(&self) -> bool {
        !self.groups.is_empty() && self.filter.is_none()
    }

    /// Whether membership decides anything for a person.
    pub fn by_group(&self) -> bool {
        !self.groups.is_empty() || !self.populations.is_empty()
    }

    /// What the watermark keeps, so that a change makes the next run full:
    /// empty for everyone without rules (older watermarks match it).
    pub fn fingerprint(&self) -> String {
        if *self == Audience::default() {
            return String::new();
        }
        let ids: Vec<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
        let rules: Vec<(&str, &str)> = self
            .populations
            .iter()
            .map(|r| (r.group.id.as_str(), r.population.as_str()))
            .collect();
        serde_json::to_string(&(ids, &self.filter, rules)).unwrap_or_default()
    }
}

/// The first users page of a listing with the scope's expression, if any:
/// everyone (`since` none) or those updated after `since`.
pub fn users_path(filter: Option<&str>, since: Option<&str>) -> String {
    match (filter, since) {
        (None, _) => paths::users(since),
        (Some(f), None) => search_path(f),
        (Some(f), Some(t)) => search_path(&format!(r#"({f}) and lastUpdated gt "{t}""#)),
    }
}

/// `/api/v1/users?search=...` at the users page maximum.
pub fn search_path(expr: &str) -> String {
    format!(
        "/api/v1/users?search={}&limit={}",
        encode(expr),
        paths::USERS_LIMIT
    )
}

/// A config's scope and population rules (everyone, none until saved).
pub fn load(storage: &mut dyn crate::ports::Storage, config: &str) -> Result<Audience, SyncError> {
    Ok(keys::get_json(storage, &keys::scope(config))?.unwrap_or_default())
}

/// A scope as the admin gives it: groups by name or id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeInput {
    /// Okta group names or ids; empty: no group condition.
    pub groups: Vec<String>,
    /// Okta `search` expression; blank: none.
    pub filter: Option<String>,
}

/// An Okta group offered to the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupChoice {
    /// Okta id.
    pub id: String,
    /// `profile.name`.
    pub name: String,
    /// `OKTA_GROUP`, `APP_GROUP` or `BUILT_IN`.
    pub kind: String,
}

fn stored_config(
    host: &mut Host<'_>,
    config: &str,
) -> Result<crate::config::StoredConfig, SyncError> {
    find_config(host.storage, config)
        .map_err(SyncError::Host)?
        .ok_or_else(|| SyncError::UnknownConfig(config.trim().to_owned()))
}

/// Every page of a listing from `path`, following `Link rel="next"` only.
fn list_all<T>(
    client: &mut OktaClient<'_>,
    path: &str,
    mut each: impl FnMut(Vec<T>),
) -> Result<(), OktaFailure>
where
    Listing<T>: JsonBody,
{
    let mut links = crate::paging_guard::LinksFollowed::default();
    let mut resp = client.get::<Listing<T>>(path)?;
    for _ in 0..MAX_PAGES {
        match std::mem::replace(&mut resp.body_json, Listing::NotAList) {
            Listing::List(items) => each(items),
            Listing::NotAList => {
                return Err(OktaFailure::UnexpectedResponse(
                    "an Okta listing is not a JSON list".into(),
                ));
            }
        }
        let Some(next) = resp.next_link.take() else {
            return Ok(());
        };
        links.follow(Some(&next)).map_err(|url| {
            OktaFailure::UnexpectedResponse(format!(
                "Okta's paging loops: the next link {url} points back at a page already read"
            ))
        })?;
        resp = client.get(&next)?;
    }
    Err(OktaFailure::UnexpectedResponse(format!(
        "an Okta listing has more than {MAX_PAGES} pages"
    )))
}

/// Run `f` with an Okta client of the config's credential.
fn with_okta<T>(
    host: &mut Host<'_>,
    cfg: &crate::config::StoredConfig,
    f: impl FnOnce(&mut OktaClient<'_>) -> Result<T, SyncError>,
) -> Result<T, SyncError> {
    let origin = cfg
        .origin()
        .map_err(|e| SyncError::Other(format!("the stored Okta origin is no longer valid: {e}")))?;
    let cred = credential(host.secrets, cfg).map_err(SyncError::Other)?;
    let auth = cred.auth(host.signer, host.clock);
    let mut client = OktaClient::new(&mut *host.http, &origin, auth);
    f(&mut client)
}

/// The Okta groups of a config's org, sorted by name, for the admin to
/// choose from.
pub fn okta_groups(host: &mut Host<'_>, config: &str) -> Result<Vec<GroupChoice>, SyncError> {
    let cfg = stored_config(host, config)?;
    let mut out = with_okta(host, &cfg, |c| list_groups(c).map_err(SyncError::Okta))?;
    out.sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
    Ok(out)
}

fn list_groups(client: &mut OktaClient<'_>) -> Result<Vec<GroupChoice>, OktaFailure> {
    let mut out = Vec::new();
    list_all::<OktaGroup>(client, &paths::groups(), |page| {
        out.extend(
            page.into_iter()
                .filter(|g| !g.id.is_empty())
                .map(|g| GroupChoice {
                    id: g.id,
                    name: g.name,
                    kind: g.kind,
                }),
        )
    })?;
    Ok(out)
}

/// Resolve names or ids against the org's groups: an id exactly, else a
/// name ignoring case; an unknown or ambiguous name is refused by name.
fn resolve(groups: &[GroupChoice], wanted: &[String]) -> Result<Vec<GroupRef>, SyncError> {
    let mut out: Vec<GroupRef> = Vec::new();
    for w in wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
        let by_id = groups.iter().find(|g| g.id == w);
        let by_name: Vec<&GroupChoice> = groups
            .iter()
            .filter(|g| g.name.to_lowercase() == w.to_lowercase())
            .collect();
        let g = match (by_id, by_name.as_slice()) {
            (Some(g), _) => g,
            (None, [g]) => *g,
            (None, []) => {
                return Err(SyncError::Other(format!(
                    "Okta has no group named or with the id `{w}`"
                )));
            }
            (None, _) => {
                return Err(SyncError::Other(format!(
                    "Okta has {} groups named `{w}`; choose one by its id",
                    by_name.len()
                )));
            }
        };
        if !out.iter().any(|o| o.id == g.id) {
            out.push(GroupRef {
                id: g.id.clone(),
                name: g.name.clone(),
            });
        }
    }
    if out.len() > MAX_GROUPS {
        return Err(SyncError::Other(format!(
            "at most {MAX_GROUPS} groups can decide scope or population"
        )));
    }
    Ok(out)
}

/// A blank expression is none; a long one or one with control characters
/// is refused before Okta is asked.
fn clean_filter(filter: Option<&str>) -> Result<Option<String>, SyncError> {
    let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Ok(None);
    };
    if f.len() > MAX_FILTER_LEN || f.chars().any(char::is_control) {
        return Err(SyncError::Other(format!(
            "the filter expression must be one line of at most {MAX_FILTER_LEN} characters"
        )));
    }
    Ok(Some(f.to_owned()))
}

/// The admin's words for Okta refusing an expression.
fn refused(filter: &str, f: OktaFailure) -> SyncError {
    match f {
        OktaFailure::Okta(e) if e.status == 400 => SyncError::Other(format!(
            "Okta refuses the filter expression `{filter}`: {} ({}). Write it as Okta's user search, \
             e.g. profile.department eq \"IT\"; nothing was saved",
            if e.error_summary.is_empty() {
                "invalid search criteria"
            } else {
                e.error_summary.trim_end_matches('.')
            },
            e.error_code
        )),
        f => SyncError::Okta(f),
    }
}

/// How many Okta users (not deprovisioned) a scope covers: the count the
/// settings page shows before saving, by the same requests a full run's
/// listing sends.
fn count(client: &mut OktaClient<'_>, a: &Audience) -> Result<u32, SyncError> {
    let live = |u: &OktaUser| !u.id.is_empty() && u.status != "DEPROVISIONED";
    let mut members = std::collections::BTreeSet::new();
    for g in &a.groups {
        list_all::<OktaUser>(client, &paths::members(&g.id), |page| {
            members.extend(page.into_iter().filter(live).map(|u| u.id))
        })
        .map_err(SyncError::Okta)?;
    }
    let Some(filter) = &a.filter else {
        if !a.groups.is_empty() {
            return Ok(members.len() as u32);
        }
        let mut n = 0u32;
        list_all::<OktaUser>(client, &paths::users(None), |page| {
            n += page.iter().filter(|u| live(u)).count() as u32
        })
        .map_err(SyncError::Okta)?;
        return Ok(n);
    };
    let mut n = 0u32;
    list_all::<OktaUser>(client, &search_path(filter), |page| {
        n += page
            .iter()
            .filter(|u| live(u) && (a.groups.is_empty() || members.contains(&u.id)))
            .count() as u32
    })
    .map_err(|f| refused(filter, f))?;
    Ok(n)
}

/// The scope as the admin sees it: group names, the expression.
pub fn get_scope(host: &mut Host<'_>, config: &str) -> Result<ScopeInput, SyncError> {
    let cfg = stored_config(host, config)?;
    let a = load(host.storage, &cfg.name)?;
    Ok(ScopeInput {
        groups: a.groups.into_iter().map(|g| g.name).collect(),
        filter: a.filter,
    })
}

/// How many Okta users `scope` would cover, without saving it; an unknown
/// group or an expression Okta refuses is an error saying so.
pub fn count_scope(
    host: &mut Host<'_>,
    config: &str,
    scope: &ScopeInput,
) -> Result<u32, SyncError> {
    let cfg = stored_config(host, config)?;
    let filter = clean_filter(scope.filter.as_deref())?;
    with_okta(host, &cfg, |c| {
        let groups = resolve(&list_groups(c).map_err(SyncError::Okta)?, &scope.groups)?;
        count(
            c,
            &Audience {
                groups,
                filter,
                populations: Vec::new(),
            },
        )
    })
}

/// Validate `scope` against Okta (the groups exist, Okta accepts the
/// expression: the count is that test call), save it and answer how many
/// Okta users it covers. A change makes the next run full.
pub fn set_scope(host: &mut Host<'_>, config: &str, scope: &ScopeInput) -> Result<u32, SyncError> {
    let cfg = stored_config(host, config)?;
    let filter = clean_filter(scope.filter.as_deref())?;
    let (groups, n) = with_okta(host, &cfg, |c| {
        let groups = resolve(&list_groups(c).map_err(SyncError::Okta)?, &scope.groups)?;
        let candidate = Audience {
            groups: groups.clone(),
            filter: filter.clone(),
            populations: Vec::new(),
        };
        Ok((groups, count(c, &candidate)?))
    })?;
    let mut a = load(host.storage, &cfg.name)?;
    a.groups = groups;
    a.filter = filter;
    keys::put_json(host.storage, &keys::scope(&cfg.name), &a)?;
    let names: Vec<&str> = a.groups.iter().map(|g| g.name.as_str()).collect();
    let (names, count_text) = (names.join(", "), n.to_string());
    host.log.write(
        Level::Info,
        "scope changed; the next run is full",
        &[
            ("config", &cfg.name),
            ("groups", &names),
            ("filter", a.filter.as_deref().unwrap_or("")),
            ("users", &count_text),
        ],
    );
    Ok(n)
}

/// A population rule as the admin gives it: a group by name or id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopulationInput {
    /// Okta group name or id.
    pub group: String,
    /// Users or Requesters.
    pub population: SyncTarget,
}

/// A config's population rules, groups by name, in order.
pub fn get_populations(
    host: &mut Host<'_>,
    config: &str,
) -> Result<Vec<PopulationInput>, SyncError> {
    let cfg = stored_config(host, config)?;
    Ok(load(host.storage, &cfg.name)?
        .populations
        .into_iter()
        .map(|r| PopulationInput {
            group: r.group.name,
            population: r.population,
        })
        .collect())
}

/// Replace a config's population rules (groups resolved against Okta); a
/// group named twice keeps its first rule. A change makes the next run
/// full, which moves the people whose population changed.
pub fn set_populations(
    host: &mut Host<'_>,
    config: &str,
    rules: &[PopulationInput],
) -> Result<(), SyncError> {
    let cfg = stored_config(host, config)?;
    let wanted: Vec<String> = rules.iter().map(|r| r.group.clone()).collect();
    let resolved = if wanted.is_empty() {
        Vec::new()
    } else {
        with_okta(host, &cfg, |c| {
            let groups = list_groups(c).map_err(SyncError::Okta)?;
            rules
                .iter()
                .map(|r| {
                    let g = resolve(&groups, std::slice::from_ref(&r.group))?;
                    Ok(g.into_iter().next().map(|group| PopulationRule {
                        group,
                        population: r.population,
                    }))
                })
                .collect::<Result<Vec<_>, SyncError>>()
        })?
    };
    let mut populations: Vec<PopulationRule> = Vec::new();
    for r in resolved.into_iter().flatten() {
        if !populations.iter().any(|p| p.group.id == r.group.id) {
            populations.push(r);
        }
    }
    if populations.len() > MAX_GROUPS {
        return Err(SyncError::Other(format!(
            "at most {MAX_GROUPS} population rules"
        )));
    }
    let mut a = load(host.storage, &cfg.name)?;
    a.populations = populations;
    keys::put_json(host.storage, &keys::scope(&cfg.name), &a)?;
    let text: Vec<String> = a
        .populations
        .iter()
        .map(|r| format!("{} → {}", r.group.name, r.population))
        .collect();
    host.log.write(
        Level::Info,
        "population rules changed; the next run is full",
        &[("config", &cfg.name), ("rules", &text.join("; "))],
    );
    Ok(())
}

/// Whether Okta user `id` matches the scope's expression: one
/// `search=(expr) and id eq "id"` (event-hook deliveries, which read one
/// user at a time).
pub fn matches_filter(
    client: &mut OktaClient<'_>,
    filter: &str,
    id: &str,
) -> Result<bool, OktaFailure> {
    let path = search_path(&format!(r#"({filter}) and id eq "{id}""#));
    match client.get::<Listing<OktaUser>>(&path)?.body_json {
        Listing::List(users) => Ok(users.iter().any(|u| u.id == id)),
        Listing::NotAList => Err(OktaFailure::UnexpectedResponse(
            "the users search is not a JSON list".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(id: &str, name: &str) -> GroupRef {
        GroupRef {
            id: id.into(),
            name: name.into(),
        }
    }

    #[test]
    fn populations_first_rule_wins_and_default_for_the_rest() {
        let a = Audience {
            populations: vec![
                PopulationRule {
                    group: g("00g1", "IT-Staff"),
                    population: SyncTarget::Users,
                },
                PopulationRule {
                    group: g("00g2", "Contractors"),
                    population: SyncTarget::Requesters,
                },
            ],
            ..Audience::default()
        };
        let both = [g("00g2", "Contractors"), g("00g1", "IT-Staff")];
        assert_eq!(
            a.population(SyncTarget::Requesters, &both),
            SyncTarget::Users
        );
        assert_eq!(
            a.population(SyncTarget::Users, &[g("00g2", "Contractors")]),
            SyncTarget::Requesters
        );
        assert_eq!(
            a.population::<GroupRef>(SyncTarget::Requesters, &[]),
            SyncTarget::Requesters
        );
        // Everyone is admitted without scope groups; rule groups are walked.
        assert!(a.admits::<GroupRef>(&[]));
        assert!(a.decides("00g2") && !a.decides("00g3"));
    }

    #[test]
    fn scope_groups_admit_members_only_and_change_the_fingerprint() {
        let everyone = Audience::default();
        assert_eq!(everyone.fingerprint(), "");
        let a = Audience {
            groups: vec![g("00g1", "IT-Staff")],
            ..Audience::default()
        };
        assert!(a.admits(&[g("00g1", "renamed")]));
        assert!(!a.admits(&[g("00g9", "Other")]));
        assert!(!a.admits::<GroupRef>(&[]));
        assert!(a.lists_members());
        assert_ne!(a.fingerprint(), "");
        let filtered = Audience {
            filter: Some(r#"profile.department eq "IT""#.into()),
            ..a.clone()
        };
        assert!(!filtered.lists_members());
        assert_ne!(filtered.fingerprint(), a.fingerprint());
    }

    #[test]
    fn names_resolve_ignoring_case_and_ids_exactly() {
        let groups = vec![
            GroupChoice {
                id: "00g1".into(),
                name: "IT-Staff".into(),
                kind: "OKTA_GROUP".into(),
            },
            GroupChoice {
                id: "00g2".into(),
                name: "Sales".into(),
                kind: "APP_GROUP".into(),
            },
            GroupChoice {
                id: "00g3".into(),
                name: "sales".into(),
                kind: "OKTA_GROUP".into(),
            },
        ];
        let got = resolve(&groups, &["it-staff".into(), "00g3".into(), " ".into()]).unwrap();
        assert_eq!(got, vec![g("00g1", "IT-Staff"), g("00g3", "sales")]);
        let e = resolve(&groups, &["Sales".into()]).unwrap_err().to_string();
        assert!(e.contains("2 groups named `Sales`"), "{e}");
        let e = resolve(&groups, &["Nope".into()]).unwrap_err().to_string();
        assert!(e.contains("no group named or with the id `Nope`"), "{e}");
    }

    #[test]
    fn incremental_search_keeps_the_expression_in_parentheses() {
        assert_eq!(
            users_path(Some(r#"a eq "1" or b eq "2""#), Some("T")),
            search_path(r#"(a eq "1" or b eq "2") and lastUpdated gt "T""#)
        );
        assert_eq!(users_path(None, None), paths::users(None));
    }
}
