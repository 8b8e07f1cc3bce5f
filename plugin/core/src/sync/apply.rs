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

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::config::SyncTarget;
use crate::directory::{Directory, DirectoryError, Person, PersonStatus, Role, UpsertOutcome};
use crate::mapping::Compiled;
use crate::sync::changes::{self, PersonChange};
use crate::sync::mapping::{Identity, identity, map_user};
use crate::sync::memberships::Memberships;
use crate::sync::records::OktaUser;
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
    user: OktaUser,
    person: Result<Person, (ReasonCode, String)>,
}

/// Map a users page. It depends on nothing a page applies, so the sync maps
/// the next page while Infraon writes this one.
pub fn map_users(
    users: Vec<OktaUser>,
    ctx: &Ctx<'_>,
    memberships: &mut Memberships,
) -> Vec<Mapped> {
    users
        .into_iter()
        .map(|user| {
            let roles = memberships.roles_of(&user.id, |groups| {
                ctx.mapping.roles(ctx.kind, groups, ctx.roles)
            });
            let person = map_user(&user, ctx.config, ctx.kind, ctx.mapping, roles);
            Mapped { user, person }
        })
        .collect()
}

/// Apply a mapped users page. `emails` maps the lower-cased emails seen so
/// far in the run to their Okta id. `meanwhile` runs while Infraon applies
/// the batch (see [`Directory::start_upsert_batch`]): the sync reads and
/// maps its next page there. Unsynced records are returned; what changes
/// for each person applied (or, in a dry run, what would) joins `changes`.
pub fn apply_users(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    users: Vec<Mapped>,
    emails: &mut HashMap<String, String>,
    counts: &mut Counts,
    changes: &mut Vec<PersonChange>,
    meanwhile: &mut dyn FnMut(),
) -> Result<(UsersPage, Vec<UnsyncedRecord>), SyncError> {
    let mut page = UsersPage::default();
    // Users mapped and not refused yet, and the unsynced ones, in page order.
    // Who a user is (for unsynced records) is worked out only when needed.
    let mut entries: Vec<Result<(OktaUser, Person), UnsyncedRecord>> = Vec::new();
    for Mapped { user, person } in users {
        counts.fetched += 1;
        let person = match person {
            Ok(p) => p,
            Err((code, text)) => {
                // Still listed by Okta: not absent, so never deactivated for it.
                if !user.id.is_empty() {
                    page.seen.push((user.id.clone(), String::new()));
                }
                entries.push(Err(ctx.unsynced(&identity(&user), code, text)));
                continue;
            }
        };
        let email = person.email.to_lowercase();
        page.seen.push((person.external_id.clone(), email.clone()));
        // A departed account keeps its email in Okta, which a rehire's new
        // account reuses: not a duplicate, and it claims nothing.
        let departed = person.status == PersonStatus::Deactivated;
        match emails.get(&email) {
            _ if departed => {}
            Some(other) if *other != person.external_id => {
                let text = format!("Okta user `{other}` of this run already has this email");
                entries.push(Err(ctx.unsynced(
                    &identity(&user),
                    ReasonCode::DuplicateEmail,
                    text,
                )));
                continue;
            }
            _ => {
                emails.insert(email, person.external_id.clone());
            }
        }
        entries.push(Ok((user, person)));
    }
    // What Infraon has for each of them, in one directory call.
    let ids: Vec<String> = entries
        .iter()
        .filter_map(|e| e.as_ref().ok().map(|(_, p)| p.external_id.clone()))
        .collect();
    let mut found = find_all(dir, ctx.kind, &ids)?.into_iter();
    let mut unsynced = Vec::new();
    // Who each person of the batch is and what Infraon had, beside the batch;
    // a copy of the person stays to count and to list what changed.
    let mut batch: Vec<(OktaUser, Option<Person>, Person)> = Vec::new();
    let mut people: Vec<Person> = Vec::new();
    for entry in entries {
        let (who, mut person) = match entry {
            Ok(mapped) => mapped,
            Err(record) => {
                unsynced.push(record);
                continue;
            }
        };
        let prior = found.next().flatten();
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
            let (result, former) = preview(dir, ctx.kind, ctx.rehire, prior.as_ref(), &person)?;
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
                Err(e) => unsynced.push(refusal(ctx, &identity(&who), e)?),
            }
        } else {
            batch.push((who, prior, person.clone()));
            people.push(person);
        }
    }
    let pending = match batch.is_empty() {
        true => None,
        false => Some(dir.start_upsert_batch(people).map_err(SyncError::host)?),
    };
    meanwhile();
    if let Some(pending) = pending {
        let results = pending.finish();
        if results.len() != batch.len() {
            return Err(SyncError::Host(format!(
                "the directory answered {} results for {} people",
                results.len(),
                batch.len()
            )));
        }
        for ((who, prior, person), result) in batch.iter().zip(results) {
            let (status, roles) = (person.status, &person.roles);
            let (prior, result) = match (result, prior) {
                (Err(DirectoryError::Conflict(_)), None) if status == PersonStatus::Deactivated => {
                    counts.unchanged += 1;
                    continue;
                }
                (Err(DirectoryError::Conflict(m)), None) => match rehire(dir, ctx, who, roles)? {
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
                Err(e) => unsynced.push(refusal(ctx, &identity(who), e)?),
            }
        }
    }
    counts.unsynced += unsynced.len() as u32;
    Ok((page, unsynced))
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
    who: &OktaUser,
    roles: &[String],
) -> Result<Option<Rehired>, SyncError> {
    let Ok(person) = map_user(who, ctx.config, ctx.kind, ctx.mapping, roles.to_vec()) else {
        return Ok(None);
    };
    let mut relinked: Option<Person> = None;
    for _ in 0..2 {
        let Some(holder) = former_holder(dir, ctx, &person)? else {
            break;
        };
        match ctx.rehire {
            Rehire::Relink if relinked.is_none() => {
                dir.relink(ctx.kind, &holder.external_id, &person.external_id)
                    .map_err(SyncError::host)?;
                relinked = Some(holder);
            }
            Rehire::Relink => break,
            Rehire::NewPerson => dir
                .release_identity(ctx.kind, &holder.external_id)
                .map_err(SyncError::host)?,
        }
        match dir.upsert(&person) {
            Err(DirectoryError::Conflict(_)) => continue,
            result => return Ok(Some((relinked, result))),
        }
    }
    // Relinked but still refused (a second holder): the conflict stands,
    // reported against the person now linked.
    Ok(relinked.map(|r| {
        let conflict = dir.upsert(&person);
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
        .find_by_email(ctx.kind, &person.email)
        .map_err(SyncError::host)?
        .filter(|p| p.external_id != person.external_id);
    let holder = match by_email {
        Some(p) => Some(p),
        None => dir
            .find_by_login(ctx.kind, &person.login)
            .map_err(SyncError::host)?
            .filter(|p| p.external_id != person.external_id),
    };
    Ok(holder.filter(is_former))
}

/// Incremental: people whose groups changed but whose Okta profile did not
/// get their roles re-derived from the person Infraon has.
pub fn apply_role_changes(
    dir: &mut dyn Directory,
    ctx: &Ctx<'_>,
    ids: &[String],
    memberships: &mut Memberships,
    counts: &mut Counts,
    changes: &mut Vec<PersonChange>,
) -> Result<Vec<UnsyncedRecord>, SyncError> {
    let mut batch = Vec::new();
    for (id, prior) in ids.iter().zip(find_all(dir, ctx.kind, ids)?) {
        let Some(prior) = prior.filter(|p| p.config == ctx.config) else {
            // Never synced (or unsynced): the next full run decides.
            continue;
        };
        let groups = memberships.groups_of(id);
        let roles = ctx.mapping.roles(ctx.kind, &groups, ctx.roles);
        if role_set(&roles) == role_set(&prior.roles) {
            continue;
        }
        let person = Person {
            roles,
            ..prior.clone()
        };
        batch.push((prior, person));
    }
    let mut unsynced = Vec::new();
    if ctx.dry_run || batch.is_empty() {
        for (prior, person) in &batch {
            tally(counts, Some(prior), person, UpsertOutcome::Updated);
            changes.extend(changes::of_upsert(
                Some(prior),
                person,
                UpsertOutcome::Updated,
            ));
        }
        return Ok(unsynced);
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
    Ok(unsynced)
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
