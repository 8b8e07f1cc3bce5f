//! Apply one page of Okta users to the directory: map, compare with what
//! Infraon has, upsert the page in one batch, and count.
//!
//! Conflict rule: the plugin never links an Okta user to an Infraon person
//! it did not create. When Infraon answers `conflict` (an unlinked person, or
//! one managed elsewhere, owns the email or login), the Okta user becomes an
//! unsynced `email-conflict` record for an admin to resolve in Infraon.
//!
//! Rehire: when the holder is a deactivated person this config once linked,
//! the new Okta account is not a conflict; the config's [`Rehire`] policy
//! relinks and reactivates that person (default) or creates a new person
//! after releasing the former one's email and login. A `DEPROVISIONED` Okta
//! user nobody is linked to is not created when its identity is taken (the
//! old account of a rehire, typically): there is nobody to deactivate.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::SyncTarget;
use crate::directory::{Directory, DirectoryError, Person, PersonStatus, Role, UpsertOutcome};
use crate::mapping::Compiled;
use crate::sync::changes::{self, PersonChange};
use crate::sync::ids::People;
use crate::sync::mapping::{Identity, identity, map_user};
use crate::sync::memberships::{GroupRef, Memberships};
use crate::sync::records::OktaUser;
use crate::sync::scope::Audience;
use crate::sync::settings::Rehire;
use crate::sync::types::{Counts, ReasonCode, SyncError, UnsyncedRecord};

/// What a users page leaves for later steps (stored per page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersPage {
    /// `(okta id, lower-cased email)` of every user listed on the page; the
    /// email is empty for users that could not be mapped.
    pub seen: Vec<(String, String)>,
    /// People whose deactivation waits for the end of the run.
    pub deactivate: Vec<String>,
}

/// The run-wide facts a page is applied with.
pub struct Ctx<'a> {
    /// Config name.
    pub config: &'a str,
    /// Users or Requesters.
    pub kind: SyncTarget,
    /// Compute only.
    pub dry_run: bool,
    /// Run id, for unsynced records.
    pub run_id: u64,
    /// Now (RFC 3339), for unsynced records.
    pub now: &'a str,
    /// Infraon's roles.
    pub roles: &'a [Role],
    /// The mapping the run started with.
    pub mapping: &'a Compiled,
    /// What a new account of a former person gets.
    pub rehire: Rehire,
    /// Scope and population rules.
    pub audience: &'a Audience,
    /// Look a person missing from their population up in the other one
    /// (population rules, or people of this config there).
    pub look_other: bool,
}

impl Ctx<'_> {
    fn unsynced(&self, who: &Identity, reason: ReasonCode, text: String) -> UnsyncedRecord {
        UnsyncedRecord {
            okta_id: who.okta_id.clone(),
            login: who.login.clone(),
            email: who.email.clone(),
            display_name: who.display_name.clone(),
            reason,
            reason_text: text,
            run_id: self.run_id,
            at: self.now.to_owned(),
        }
    }
}

/// An Okta user of a page and the person they map to in Infraon, or why
/// they map to none.
#[derive(Debug)]
pub struct Mapped {
    /// Who the user is, for an unsynced row: all a page read ahead keeps
    /// of the Okta record (a whole profile costs some 3 KB a person, and a
    /// run holds up to [`super::read_ahead::AHEAD_PAGES`] pages of them).
    who: Identity,
    person: Result<Person, (ReasonCode, String)>,
    /// Outside the config's scope groups: not synced, and deactivated if
    /// this config manages them.
    outside: bool,
}

impl Mapped {
    /// The Okta user's id.
    pub fn id(&self) -> &str {
        &self.who.okta_id
    }

    /// Mark the user outside the config's scope (an expression Okta
    /// answered for one user, which [`map_users`] cannot evaluate).
    pub fn leave_scope(&mut self) {
        self.outside = true;
    }
}

/// An Okta user whose profile is mapped, before their groups are known:
/// what a users page read while members are still listed keeps (a whole
/// Okta record costs some 3 KB a person, and up to
/// [`super::read_ahead::AHEAD_PAGES`] pages are held). The person has the
/// config's population and no roles until [`place_users`].
#[derive(Debug)]
pub struct Premapped {
    who: Identity,
    person: Result<Person, (ReasonCode, String)>,
}

/// Map the profiles of a users page (see [`Premapped`]): nothing of it
/// depends on the groups, so it is done as soon as the page is read.
pub fn premap_users(users: Vec<OktaUser>, ctx: &Ctx<'_>) -> Vec<Premapped> {
    users
        .into_iter()
        .map(|user| Premapped {
            person: map_user(&user, ctx.config, ctx.kind, ctx.mapping, Vec::new()),
            who: identity(&user),
        })
        .collect()
}

/// Give users mapped by [`premap_users`] their population, scope and roles,
/// from their groups.
pub fn place_users(
    users: Vec<Premapped>,
    ctx: &Ctx<'_>,
    memberships: &mut Memberships,
) -> Vec<Mapped> {
    let (audience, default) = (ctx.audience, ctx.kind);
    users
        .into_iter()
        .map(|Premapped { who, mut person }| {
            // The population and scope depend only on the groups, as the
            // roles do, so they follow the same per-set-of-groups answer.
            let (kind, outside) = match audience.by_group() {
                true => {
                    let groups = memberships.groups_of(&who.okta_id);
                    let refs: Vec<&GroupRef> = groups.iter().collect();
                    (audience.population(default, &refs), !audience.admits(&refs))
                }
                false => (default, false),
            };
            // Someone who maps to no person needs no roles.
            if let Ok(p) = &mut person {
                p.kind = kind;
                p.roles = memberships.roles_of(&who.okta_id, |groups| {
                    ctx.mapping
                        .roles(audience.population(default, groups), groups, ctx.roles)
                });
            }
            Mapped {
                who,
                person,
                outside,
            }
        })
        .collect()
}

/// Map a users page. It depends on nothing a page applies, so the sync maps
/// the next page while Infraon writes this one.
pub fn map_users(
    users: Vec<OktaUser>,
    ctx: &Ctx<'_>,
    memberships: &mut Memberships,
) -> Vec<Mapped> {
    place_users(premap_users(users, ctx), ctx, memberships)
}

/// Apply a mapped users page. `people` knows the lower-cased emails seen so
/// far in the run and their Okta ids. `meanwhile` runs while Infraon applies
/// the batch (see [`Directory::start_upsert_batch`]): the sync reads and
/// maps its next page there. Unsynced records are returned; what changes
/// for each person applied (or, in a dry run, what would) joins `changes`.
pub fn apply_users(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    users: Vec<Mapped>,
    people: &mut People,
    counts: &mut Counts,
    changes: &mut Vec<PersonChange>,
    meanwhile: &mut dyn FnMut(),
) -> Result<(UsersPage, Vec<UnsyncedRecord>), SyncError> {
    let mut page = UsersPage::default();
    // Users mapped and not refused yet, and the unsynced ones, in page order;
    // who each user is goes with them, for an unsynced record.
    let mut entries: Vec<Result<(Identity, Person), UnsyncedRecord>> = Vec::new();
    let mut outside = Vec::new();
    for Mapped {
        who,
        person,
        outside: out,
    } in users
    {
        if out {
            outside.push(who.okta_id);
            continue;
        }
        counts.fetched += 1;
        let person = match person {
            Ok(p) => p,
            Err((code, text)) => {
                // Still listed by Okta: not absent, so never deactivated for it.
                if !who.okta_id.is_empty() {
                    page.seen.push((who.okta_id.clone(), String::new()));
                }
                entries.push(Err(ctx.unsynced(&who, code, text)));
                continue;
            }
        };
        let email = person.email.to_lowercase();
        page.seen.push((person.external_id.clone(), email.clone()));
        // A departed account keeps its email in Okta, which a rehire's new
        // account reuses: not a duplicate, and it claims nothing.
        let departed = person.status == PersonStatus::Deactivated;
        match people.email_owner(&email) {
            _ if departed => {}
            Some(other) if other != person.external_id => {
                let text = format!("Okta user `{other}` of this run already has this email");
                entries.push(Err(ctx.unsynced(&who, ReasonCode::DuplicateEmail, text)));
                continue;
            }
            _ => people.claim_email(&email, &person.external_id),
        }
        entries.push(Ok((who, person)));
    }
    // Left the scope: deactivated at the end of the run, like people gone
    // from Okta, if this config manages them.
    for p in find_managed(dir, ctx, &outside)?.into_iter().flatten() {
        if p.status != PersonStatus::Deactivated {
            page.deactivate.push(p.external_id);
        }
    }
    // What Infraon has for each of them, in one directory call per population.
    let wanted: Vec<(SyncTarget, String)> = entries
        .iter()
        .filter_map(|e| {
            e.as_ref()
                .ok()
                .map(|(_, p)| (p.kind, p.external_id.clone()))
        })
        .collect();
    let mut unsynced = Vec::new();
    let found = find_moving(dir, ctx, &wanted)?;
    let mut found = found.into_iter();
    // Who each person of the batch is and what Infraon had, beside the
    // batch, which hands the people back with their results.
    let mut batch: Vec<Batched> = Vec::new();
    let mut people: Vec<Person> = Vec::new();
    for entry in entries {
        let (who, mut person) = match entry {
            Ok(mapped) => mapped,
            Err(record) => {
                unsynced.push(record);
                continue;
            }
        };
        let prior = match found.next().flatten() {
            Some(Err(record)) => {
                unsynced.push(record);
                continue;
            }
            Some(Ok(p)) => Some(p),
            None => None,
        };
        if let Some(p) = &prior
            && person.status == PersonStatus::Deactivated
            && p.status != PersonStatus::Deactivated
            && p.config == ctx.config
        {
            // Applied at the end, all together, where the safeguard can hold them.
            person.status = p.status;
            page.deactivate.push(person.external_id.clone());
        }
        if ctx.dry_run {
            let (result, former) = preview(dir, person.kind, ctx.rehire, prior.as_ref(), &person)?;
            let before = prior.as_ref().or(former.as_ref());
            match result {
                // As the run would: a departed account nobody is linked to
                // whose identity is taken is left alone.
                Err(DirectoryError::Conflict(_))
                    if prior.is_none() && person.status == PersonStatus::Deactivated =>
                {
                    counts.unchanged += 1
                }
                Ok(UpsertOutcome::Updated) if prior.is_none() => {
                    counts.reactivated += 1;
                    changes.extend(changes::of_upsert(before, &person, UpsertOutcome::Updated));
                }
                Ok(outcome) => {
                    tally(counts, prior.as_ref(), &person, outcome);
                    changes.extend(changes::of_upsert(before, &person, outcome));
                }
                Err(e) => unsynced.push(refusal(ctx, &who, e)?),
            }
        } else {
            batch.push((who, prior));
            people.push(person);
        }
    }
    let pending = match batch.is_empty() {
        true => None,
        false => Some(dir.start_upsert_batch(people).map_err(SyncError::host)?),
    };
    meanwhile();
    if let Some(pending) = pending {
        let (results, people) = pending.finish();
        if results.len() != batch.len() || people.len() != batch.len() {
            return Err(SyncError::Host(format!(
                "the directory answered {} results for {} people",
                results.len(),
                batch.len()
            )));
        }
        for (((who, prior), person), result) in batch.iter().zip(&people).zip(results) {
            let (status, roles) = (person.status, &person.roles);
            let (prior, result) = match (result, prior) {
                (Err(DirectoryError::Conflict(_)), None) if status == PersonStatus::Deactivated => {
                    counts.unchanged += 1;
                    continue;
                }
                (Err(DirectoryError::Conflict(m)), None) => match rehire(dir, ctx, person)? {
                    Some((former, result)) => (former, result),
                    None => (None, Err(DirectoryError::Conflict(m))),
                },
                (result, prior) => (prior.clone(), result),
            };
            match result {
                Ok(outcome) => {
                    tally_as(counts, prior.as_ref(), status, roles, outcome);
                    changes.extend(changes::of_upsert(prior.as_ref(), person, outcome));
                }
                Err(e) => unsynced.push(refusal(ctx, who, e)?),
            }
        }
    }
    counts.unsynced += unsynced.len() as u32;
    Ok((page, unsynced))
}

/// Beside a person of an upsert batch: who the Okta user is and what
/// Infraon had (the batch hands the person sent back, to count, to list
/// what changed and to upsert again after a rehire).
type Batched = (Identity, Option<Person>);

/// The people this config manages among `ids`, in either population (one
/// answer per id, in order).
fn find_managed(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    ids: &[String],
) -> Result<Vec<Option<Person>>, SyncError> {
    let mut out = find_all(dir, ctx.kind, ids)?;
    let missing: Vec<String> = ids
        .iter()
        .zip(&out)
        .filter(|(_, p)| p.is_none())
        .map(|(id, _)| id.clone())
        .collect();
    let mut other = find_all(dir, other_kind(ctx.kind), &missing)?.into_iter();
    for slot in out.iter_mut().filter(|p| p.is_none()) {
        *slot = other.next().flatten();
    }
    Ok(out
        .into_iter()
        .map(|p| p.filter(|p| p.config == ctx.config))
        .collect())
}

/// The other population.
pub fn other_kind(kind: SyncTarget) -> SyncTarget {
    match kind {
        SyncTarget::Users => SyncTarget::Requesters,
        SyncTarget::Requesters => SyncTarget::Users,
    }
}

/// What Infraon has for each `(population, id)`, one answer per entry: a
/// person this config manages in the other population is moved to the one
/// wanted first (population rules), never created twice; the move leaves
/// them without roles, which the upsert then sets. A move Infraon refuses
/// is an unsynced record (`Err`). The dry-run moves nobody.
fn find_moving(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    wanted: &[(SyncTarget, String)],
) -> Result<Vec<Option<Result<Person, UnsyncedRecord>>>, SyncError> {
    let mut out: Vec<Option<Result<Person, UnsyncedRecord>>> = vec![None; wanted.len()];
    for kind in [SyncTarget::Users, SyncTarget::Requesters] {
        let at: Vec<usize> = (0..wanted.len()).filter(|&i| wanted[i].0 == kind).collect();
        let ids: Vec<String> = at.iter().map(|&i| wanted[i].1.clone()).collect();
        for (&i, p) in at.iter().zip(find_all(dir, kind, &ids)?) {
            out[i] = p.map(Ok);
        }
        // Not in the population wanted: perhaps in the other one.
        if !ctx.look_other {
            continue;
        }
        let missing: Vec<usize> = at.iter().copied().filter(|&i| out[i].is_none()).collect();
        let ids: Vec<String> = missing.iter().map(|&i| wanted[i].1.clone()).collect();
        let from = other_kind(kind);
        let movers: Vec<(usize, Person)> = missing
            .iter()
            .zip(find_all(dir, from, &ids)?)
            .filter_map(|(&i, p)| p.filter(|p| movable(ctx, p)).map(|p| (i, p)))
            .collect();
        for (i, p) in movers {
            let moved = Person {
                kind,
                roles: Vec::new(),
                ..p.clone()
            };
            if ctx.dry_run {
                out[i] = Some(Ok(moved));
                continue;
            }
            out[i] = Some(
                match dir.move_people(ctx.config, from, kind, std::slice::from_ref(&p.external_id))
                {
                    Ok(_) => Ok(moved),
                    Err(DirectoryError::Unavailable(m)) => return Err(SyncError::Host(m)),
                    Err(e) => Err(refusal(ctx, &who_of(&p), e)?),
                },
            );
        }
    }
    Ok(out)
}

/// Whether a person of this config found in the other population is the
/// one to move: always under population rules; without them only an active
/// one (rules just cleared), since a Sync field switched with "deactivate"
/// leaves the former population's people deactivated on purpose.
fn movable(ctx: &Ctx<'_>, p: &Person) -> bool {
    p.config == ctx.config
        && (!ctx.audience.populations.is_empty() || p.status != PersonStatus::Deactivated)
}

fn who_of(p: &Person) -> Identity {
    Identity {
        okta_id: p.external_id.clone(),
        login: p.login.clone(),
        email: p.email.clone(),
        display_name: p.display_name.clone(),
    }
}

/// What a rehire did: the former person when relinked, and the upsert's result.
type Rehired = (Option<Person>, Result<UpsertOutcome, DirectoryError>);

/// A new Okta account refused for an email or login held by a deactivated
/// person this config once linked: apply the rehire policy, then upsert
/// again. Returns the former person (when relinked) and the upsert's result;
/// `None` when the conflict is not a rehire. Email and login may be held by
/// two former people: a new person releases both, a relink takes one.
fn rehire(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    person: &Person,
) -> Result<Option<Rehired>, SyncError> {
    let kind = person.kind;
    let mut relinked: Option<Person> = None;
    for _ in 0..2 {
        let Some(holder) = former_holder(dir, ctx, person)? else {
            break;
        };
        match ctx.rehire {
            Rehire::Relink if relinked.is_none() => {
                dir.relink(kind, &holder.external_id, &person.external_id)
                    .map_err(SyncError::host)?;
                relinked = Some(holder);
            }
            Rehire::Relink => break,
            Rehire::NewPerson => dir
                .release_identity(kind, &holder.external_id)
                .map_err(SyncError::host)?,
        }
        match dir.upsert(person) {
            Err(DirectoryError::Conflict(_)) => continue,
            result => return Ok(Some((relinked, result))),
        }
    }
    // Relinked but still refused (a second holder): the conflict stands,
    // reported against the person now linked.
    Ok(relinked.map(|r| {
        let conflict = dir.upsert(person);
        (Some(r), conflict)
    }))
}

/// The deactivated person of this config (linked to another Okta user)
/// holding `person`'s email, else login; `None` when the holder is anyone
/// else, whom the conflict rule protects.
fn former_holder(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    person: &Person,
) -> Result<Option<Person>, SyncError> {
    let is_former = |p: &Person| {
        !p.external_id.is_empty()
            && p.external_id != person.external_id
            && p.config == ctx.config
            && p.status == PersonStatus::Deactivated
    };
    let by_email = dir
        .find_by_email(person.kind, &person.email)
        .map_err(SyncError::host)?
        .filter(|p| p.external_id != person.external_id);
    let holder = match by_email {
        Some(p) => Some(p),
        None => dir
            .find_by_login(person.kind, &person.login)
            .map_err(SyncError::host)?
            .filter(|p| p.external_id != person.external_id),
    };
    Ok(holder.filter(is_former))
}

/// Incremental: people whose groups changed but whose Okta profile did not
/// get their roles (and population) re-derived from the person Infraon
/// has; those who left the scope groups are returned, to deactivate at the
/// end of the run.
pub fn apply_role_changes(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    ids: &[String],
    memberships: &mut Memberships,
    counts: &mut Counts,
    changes: &mut Vec<PersonChange>,
) -> Result<(Vec<UnsyncedRecord>, Vec<String>), SyncError> {
    let mut batch = Vec::new();
    let mut leaving = Vec::new();
    let mut wanted = Vec::new();
    for (id, prior) in ids.iter().zip(find_managed(dir, ctx, ids)?) {
        let Some(prior) = prior else {
            // Never synced (or unsynced): the next full run decides.
            continue;
        };
        let groups = memberships.groups_of(id);
        let refs: Vec<&GroupRef> = groups.iter().collect();
        if !ctx.audience.admits(&refs) {
            if prior.status != PersonStatus::Deactivated {
                leaving.push(prior.external_id);
            }
            continue;
        }
        let kind = ctx.audience.population(ctx.kind, &refs);
        let roles = ctx.mapping.roles(kind, &refs, ctx.roles);
        if kind == prior.kind && role_set(&roles) == role_set(&prior.roles) {
            continue;
        }
        wanted.push((kind, prior.external_id.clone()));
        let person = Person {
            roles,
            kind,
            ..prior.clone()
        };
        batch.push((prior, person));
    }
    // Whose population changed are moved first (none in a dry-run).
    let mut unsynced = Vec::new();
    let mut kept = Vec::new();
    for ((prior, person), found) in batch.into_iter().zip(find_moving(dir, ctx, &wanted)?) {
        match found {
            Some(Err(record)) => unsynced.push(record),
            Some(Ok(now)) if now.kind != prior.kind => kept.push((now, person)),
            _ => kept.push((prior, person)),
        }
    }
    let batch = kept;
    if ctx.dry_run || batch.is_empty() {
        for (prior, person) in &batch {
            tally(counts, Some(prior), person, UpsertOutcome::Updated);
            changes.extend(changes::of_upsert(
                Some(prior),
                person,
                UpsertOutcome::Updated,
            ));
        }
        counts.unsynced += unsynced.len() as u32;
        return Ok((unsynced, leaving));
    }
    let people: Vec<Person> = batch.iter().map(|(_, p)| p.clone()).collect();
    for ((prior, person), result) in batch.iter().zip(dir.upsert_batch(&people)) {
        match result {
            Ok(outcome) => {
                tally(counts, Some(prior), person, outcome);
                changes.extend(changes::of_upsert(Some(prior), person, outcome));
            }
            Err(e) => {
                let who = Identity {
                    okta_id: person.external_id.clone(),
                    login: person.login.clone(),
                    email: person.email.clone(),
                    display_name: person.display_name.clone(),
                };
                unsynced.push(refusal(ctx, &who, e)?);
            }
        }
    }
    counts.unsynced += unsynced.len() as u32;
    Ok((unsynced, leaving))
}

/// The people linked to `ids`, one answer per id, in one directory call
/// (none for no ids).
fn find_all(
    dir: &mut dyn Directory,
    kind: SyncTarget,
    ids: &[String],
) -> Result<Vec<Option<Person>>, SyncError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let found = dir
        .find_by_external_ids(kind, ids)
        .map_err(SyncError::host)?;
    if found.len() != ids.len() {
        return Err(SyncError::Host(format!(
            "the directory answered {} lookups for {} ids",
            found.len(),
            ids.len()
        )));
    }
    Ok(found)
}

fn role_set(roles: &[String]) -> BTreeSet<&str> {
    roles.iter().map(String::as_str).collect()
}

/// Count one applied person.
fn tally(counts: &mut Counts, prior: Option<&Person>, new: &Person, outcome: UpsertOutcome) {
    tally_as(counts, prior, new.status, &new.roles, outcome);
}

/// [`tally`] of a person who has the status and roles given.
fn tally_as(
    counts: &mut Counts,
    prior: Option<&Person>,
    status: PersonStatus,
    roles: &[String],
    outcome: UpsertOutcome,
) {
    match (outcome, prior) {
        (UpsertOutcome::Created, _) | (UpsertOutcome::Updated, None) => {
            counts.created += u32::from(outcome == UpsertOutcome::Created);
            counts.updated += u32::from(outcome == UpsertOutcome::Updated);
            counts.role_changes += roles.len() as u32;
        }
        (UpsertOutcome::Updated, Some(p)) => {
            if p.status == PersonStatus::Deactivated && status != PersonStatus::Deactivated {
                counts.reactivated += 1;
            } else {
                counts.updated += 1;
            }
            let (a, b) = (role_set(&p.roles), role_set(roles));
            counts.role_changes += a.symmetric_difference(&b).count() as u32;
        }
        (UpsertOutcome::Unchanged, _) => counts.unchanged += 1,
    }
}

/// What an upsert would do, without doing it: the dry-run; with the former
/// person a rehire would relink.
type Previewed = (Result<UpsertOutcome, DirectoryError>, Option<Person>);

fn preview(
    dir: &mut dyn Directory,
    kind: SyncTarget,
    rehire: Rehire,
    prior: Option<&Person>,
    new: &Person,
) -> Result<Previewed, SyncError> {
    if let Some(p) = prior {
        let outcome = if same(p, new) {
            UpsertOutcome::Unchanged
        } else {
            UpsertOutcome::Updated
        };
        return Ok((Ok(outcome), None));
    }
    match dir
        .find_by_email(kind, &new.email)
        .map_err(SyncError::host)?
    {
        // A rehire: relinked (an update) or a new person.
        Some(owner)
            if owner.external_id != new.external_id
                && !owner.external_id.is_empty()
                && owner.config == new.config
                && owner.status == PersonStatus::Deactivated =>
        {
            Ok(match rehire {
                Rehire::Relink => (Ok(UpsertOutcome::Updated), Some(owner)),
                Rehire::NewPerson => (Ok(UpsertOutcome::Created), None),
            })
        }
        Some(owner) if owner.external_id != new.external_id => Ok((
            Err(DirectoryError::Conflict(format!(
                "email `{}` already belongs to another Infraon person who is not linked to this Okta user",
                new.email
            ))),
            None,
        )),
        _ => Ok((Ok(UpsertOutcome::Created), None)),
    }
}

/// Equal as Infraon compares: fields as a map, roles as a set.
fn same(a: &Person, b: &Person) -> bool {
    let norm = |p: &Person| {
        let mut f = p.fields.clone();
        f.sort();
        (
            f,
            role_set(&p.roles)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
    };
    a.login == b.login
        && a.email == b.email
        && a.first_name == b.first_name
        && a.last_name == b.last_name
        && a.display_name == b.display_name
        && a.status == b.status
        && a.config == b.config
        && norm(a) == norm(b)
}

/// A directory refusal as an unsynced record; an unavailable directory is a
/// host failure that stops the step instead.
fn refusal(ctx: &Ctx<'_>, who: &Identity, e: DirectoryError) -> Result<UnsyncedRecord, SyncError> {
    let (code, text) = match e {
        DirectoryError::Conflict(m) => (ReasonCode::EmailConflict, m),
        DirectoryError::Rejected(field, why) => (
            ReasonCode::RejectedByInfraon,
            format!("Infraon rejected `{field}`: {why}"),
        ),
        DirectoryError::Unavailable(m) => return Err(SyncError::Host(m)),
        e @ (DirectoryError::NotFound(_) | DirectoryError::Other(_)) => {
            (ReasonCode::DirectoryError, e.to_string())
        }
    };
    Ok(ctx.unsynced(who, code, text))
}
