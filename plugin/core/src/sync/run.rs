//! [`SyncRun`]: the run the WIT `run` resource wraps. Each step applies at
//! most one Okta page and checkpoints; while Infraon writes a users page, the
//! step reads the next one ahead for the step after it. A full run reads the
//! `DEPROVISIONED` listing beside the users listing, and applies the pages
//! of both in the order Okta answered them.

use crate::auth::{Auth, Credential};
use crate::directory::Role;
use crate::mapping::{self, Compiled};
use crate::okta_client::{OktaClient, OktaResponse};
use crate::okta_error::{JsonBody, OktaFailure};
use crate::origin::OktaOrigin;
use crate::paging_guard::LinksFollowed;
use crate::ports::{Clock, Host, Http, Level, MEMBERS_IN_FLIGHT};
use crate::store::{credential, find_config};
use crate::sync::apply::{self, Ctx, UsersPage};
use crate::sync::changes::{self, PersonChange};
use crate::sync::checkpoint::{Alongside, Checkpoint, Phase, Seqs, Watermark};
use crate::sync::fetch::{Attempt, Family, Fetcher, Halt};
use crate::sync::finish::{complete, finish};
use crate::sync::ids::People;
use crate::sync::keys;
use crate::sync::memberships::{GroupRef, ListedGroup, MembersPage, Memberships};
use crate::sync::paths;
use crate::sync::read_ahead::{Head, HeldUsers, ReadAhead};
use crate::sync::records::{Listing, OktaGroup, OktaMember, OktaUser};
use crate::sync::scope;
use crate::sync::settings::load_settings;
use crate::sync::types::{
    Counts, RunOutcome, RunRecord, StepStatus, SyncError, SyncMode, Trigger, UnsyncedRecord, Wait,
};
use crate::time::{rfc3339_from_unix_ms, rfc3339_millis_from_unix_ms, unix_ms_from_rfc3339};

/// How far before the watermark an incremental run looks, for clock skew
/// between the plugin and Okta.
pub const WATERMARK_OVERLAP_MS: u64 = 60_000;
/// People re-derived per step in the incremental memberships phase.
pub const ROLE_CHANGES_PER_STEP: usize = 200;

/// Log, as a warning, each role the mapping names that Infraon lacks: the
/// run skips it, but not silently (the console lists them as notices).
fn report_unknown_roles(
    host: &mut Host<'_>,
    config: &str,
    mapping: &mapping::Mapping,
) -> Result<(), SyncError> {
    let roles = host.directory.list_roles().map_err(SyncError::host)?;
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    for n in mapping::unknown_roles(mapping, &roles, &now) {
        host.log.write(
            Level::Warn,
            "a role rule names a role Infraon no longer has",
            &[("config", config), ("notice", &n.message)],
        );
    }
    Ok(())
}

/// One sync run of one config.
pub struct SyncRun {
    cp: Checkpoint,
    cache: Option<Cache>,
}

impl std::fmt::Debug for SyncRun {
    // By hand: the cache holds the credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRun")
            .field("checkpoint", &self.cp)
            .finish()
    }
}

/// What a run derives from storage, Okta's config and Infraon; rebuilt after
/// a resume or a failed step, so it never disagrees with the checkpoint.
struct Cache {
    origin: OktaOrigin,
    cred: Credential,
    roles: Vec<Role>,
    mapping: Compiled,
    memberships: Memberships,
    /// Who the run has listed so far, and their emails.
    people: People,
    /// Whether a person missing from their population may be in the other
    /// (population rules, or people of this config there): only then is
    /// the other population looked up.
    look_other: bool,
    /// What the run asked Okta for ahead of the steps that use it: GETs on
    /// their way and users pages read while Infraon applied a page.
    ahead: ReadAhead,
}

/// Okta's answer to a GET of a users page.
type UsersAnswer = OktaResponse<Listing<OktaUser>>;

/// Why a step stopped: Okta failures end the run; host failures leave it
/// resumable from its last checkpoint; a wait returns to the host, which
/// steps again after it.
enum Stop {
    Okta(OktaFailure),
    Host(SyncError),
    Wait { until_ms: u64, reason: String },
}

impl From<SyncError> for Stop {
    fn from(e: SyncError) -> Self {
        Stop::Host(e)
    }
}

impl SyncRun {
    /// Begin a run. Refused while another run of the config is unfinished.
    /// `Incremental` without a previous successful run runs (and is recorded)
    /// as `Full`.
    pub fn start(
        host: &mut Host<'_>,
        config: &str,
        mode: SyncMode,
        trigger: Trigger,
    ) -> Result<SyncRun, SyncError> {
        let cfg = find_config(host.storage, config)
            .map_err(SyncError::Host)?
            .ok_or_else(|| SyncError::UnknownConfig(config.trim().to_owned()))?;
        let cfg = mapping::upgrade(host, cfg)?;
        credential(host.secrets, &cfg).map_err(SyncError::Other)?;
        let name = cfg.name;
        if let Some(cp) = keys::get_json::<Checkpoint>(host.storage, &keys::checkpoint(&name))? {
            return Err(SyncError::AlreadyRunning(cp.record.id));
        }

        let id = next_run_id(host, &name)?;
        // Scratch of a run that died between its checkpoint and its cleanup.
        keys::delete_prefix(
            host.storage,
            &format!("{}work/", crate::store::state_prefix(&name)),
        )?;
        let settings = load_settings(host.storage, &name)?;
        let mapping = mapping::load(host.storage, &name, cfg.sync_target)?;
        compile(&mapping)?;
        report_unknown_roles(host, &name, &mapping)?;
        let audience = scope::load(host.storage, &name)?;
        // A run under another scope or other population rules leaves no
        // usable watermark: the next run is full.
        let watermark: Option<Watermark> = match mode {
            SyncMode::Incremental => {
                keys::get_json::<Watermark>(host.storage, &keys::watermark(&name))?
                    .filter(|w| w.scope == audience.fingerprint())
            }
            _ => None,
        };
        let since = watermark.map(|w| {
            rfc3339_millis_from_unix_ms(w.started_ms.saturating_sub(WATERMARK_OVERLAP_MS))
        });
        let mode = match (mode, &since) {
            (SyncMode::Incremental, None) => SyncMode::Full,
            (m, _) => m,
        };
        let now = host.clock.now_unix_ms();
        let record = RunRecord {
            id,
            config: name.clone(),
            mode,
            trigger,
            started_at: rfc3339_from_unix_ms(now),
            ended_at: None,
            counts: Counts::default(),
            requests: 0,
            duration_ms: 0,
            outcome: None,
            error: None,
        };
        let cp = Checkpoint {
            record,
            kind: cfg.sync_target,
            dry_run: mode == SyncMode::DryRun,
            since,
            started_ms: now,
            phase: Phase::Groups { next: None },
            seq: Seqs::default(),
            rates: Default::default(),
            retries: Default::default(),
            wait: None,
            settings,
            mapping: Some(mapping),
            links_followed: Default::default(),
            changes: 0,
            audience,
            deprovisioned: Alongside::No,
        };
        keys::put_json(host.storage, &keys::checkpoint(&name), &cp)?;
        keys::put_json(host.storage, &keys::run(&name, id), &cp.record)?;
        let (id_text, mode_text) = (id.to_string(), format!("{mode:?}").to_lowercase());
        host.log.write(
            Level::Info,
            "sync run started",
            &[("config", &name), ("run", &id_text), ("mode", &mode_text)],
        );
        Ok(SyncRun { cp, cache: None })
    }

    /// The unfinished run of a config, from its checkpoint, if any.
    pub fn resume(host: &mut Host<'_>, config: &str) -> Result<Option<SyncRun>, SyncError> {
        let cfg = find_config(host.storage, config)
            .map_err(SyncError::Host)?
            .ok_or_else(|| SyncError::UnknownConfig(config.trim().to_owned()))?;
        let cp: Option<Checkpoint> = keys::get_json(host.storage, &keys::checkpoint(&cfg.name))?;
        Ok(cp.map(|cp| SyncRun { cp, cache: None }))
    }

    /// This run's id.
    pub fn id(&self) -> u64 {
        self.cp.record.id
    }

    /// The record so far.
    pub fn record(&self) -> &RunRecord {
        &self.cp.record
    }

    /// Fetch at most one Okta page and apply it, then checkpoint. An Okta
    /// failure that retries did not cure ends the run as `failed` (nobody is
    /// deactivated) and is returned; a host failure is returned and leaves
    /// the run resumable from its last checkpoint. When Okta must not be
    /// asked yet (a 429, the rate-limit reserve, a retry's backoff) the step
    /// checkpoints and returns [`StepStatus::Waiting`] at once; a step called
    /// before that wait is over sends nothing and returns it again.
    pub fn step(&mut self, host: &mut Host<'_>) -> Result<StepStatus, SyncError> {
        if self.cp.phase == Phase::Done {
            return Ok(StepStatus::Finished(self.cp.record.clone()));
        }
        if let Some(wait) = &self.cp.wait
            && host.clock.now_unix_ms() < wait.until_unix_ms
        {
            return Ok(StepStatus::Waiting(self.cp.record.clone(), wait.clone()));
        }
        let mut cp = self.cp.clone();
        cp.wait = None;
        let result = self.advance(host, &mut cp);
        cp.record.duration_ms = host.clock.now_unix_ms().saturating_sub(cp.started_ms);
        match result {
            Ok(()) => self.commit(host, cp),
            // Checkpointed like a step that read its page: the host waits.
            Err(Stop::Wait { until_ms, reason }) => {
                let wait = Wait {
                    phase: cp.phase.name().to_owned(),
                    until_unix_ms: until_ms,
                    reason,
                };
                let (id, until) = (cp.record.id.to_string(), rfc3339_from_unix_ms(until_ms));
                host.log.write(
                    Level::Info,
                    "sync waits before its next request to Okta",
                    &[
                        ("config", &cp.record.config),
                        ("run", &id),
                        ("until", &until),
                        ("reason", &wait.reason),
                    ],
                );
                cp.wait = Some(wait);
                self.commit(host, cp)
            }
            Err(Stop::Okta(failure)) => {
                self.cache = None;
                complete(
                    host,
                    &mut cp,
                    RunOutcome::Failed,
                    Some(failure.to_string()),
                    None,
                )?;
                self.cp = cp;
                Err(SyncError::Okta(failure))
            }
            Err(Stop::Host(e)) => {
                self.cache = None;
                let (id, text) = (cp.record.id.to_string(), e.to_string());
                host.log.write(
                    Level::Warn,
                    "sync step failed; the run resumes from its last checkpoint",
                    &[
                        ("config", &cp.record.config),
                        ("run", &id),
                        ("error", &text),
                    ],
                );
                Err(e)
            }
        }
    }

    /// Checkpoint a step that ended well (or waits) and report where the run is.
    fn commit(&mut self, host: &mut Host<'_>, cp: Checkpoint) -> Result<StepStatus, SyncError> {
        if cp.phase != Phase::Done {
            keys::put_json(host.storage, &keys::checkpoint(&cp.record.config), &cp)?;
            keys::put_json(
                host.storage,
                &keys::run(&cp.record.config, cp.record.id),
                &cp.record,
            )?;
        }
        self.cp = cp;
        Ok(self.status())
    }

    /// Stop: nothing further is applied and nobody is deactivated.
    pub fn cancel(&mut self, host: &mut Host<'_>) -> Result<RunRecord, SyncError> {
        if self.cp.phase != Phase::Done {
            let mut cp = self.cp.clone();
            complete(host, &mut cp, RunOutcome::Cancelled, None, None)?;
            self.cp = cp;
            self.cache = None;
        }
        Ok(self.cp.record.clone())
    }

    fn status(&self) -> StepStatus {
        match (&self.cp.phase, &self.cp.wait) {
            (Phase::Done, _) => StepStatus::Finished(self.cp.record.clone()),
            (_, Some(wait)) => StepStatus::Waiting(self.cp.record.clone(), wait.clone()),
            (p, None) => StepStatus::Working(self.cp.record.clone(), p.name().to_owned()),
        }
    }

    fn advance(&mut self, host: &mut Host<'_>, cp: &mut Checkpoint) -> Result<(), Stop> {
        if self.cache.is_none() {
            self.cache = Some(load_cache(host, cp)?);
        }
        let Some(cache) = self.cache.as_mut() else {
            return Ok(());
        };
        let config = cp.record.config.clone();
        let id = cp.record.id;
        match cp.phase.clone() {
            Phase::Groups { next } => {
                let resp: OktaResponse<Listing<OktaGroup>> =
                    fetch(host, cache, cp, &paths::groups(), next)?;
                let since_ms = cp.since.as_deref().and_then(unix_ms_from_rfc3339);
                let page = list(resp.body_json, "groups")?
                    .into_iter()
                    .filter(|g| !g.id.is_empty())
                    .map(|g| ListedGroup {
                        walk: walks(cp, cache, &g, since_ms),
                        id: g.id,
                        name: g.name,
                    })
                    .collect::<Vec<_>>();
                cache.memberships.add_groups(page.clone());
                cp.phase = match resp.next_link {
                    Some(n) => Phase::Groups { next: Some(n) },
                    None => {
                        cache.memberships.drop_unlisted();
                        after_groups(cp, &cache.memberships, 0)
                    }
                };
                begin_alongside(cp);
                start_next_gets(host, cache, cp);
                if matches!(cp.phase, Phase::Members { .. }) {
                    read_users_early(host, cache, cp);
                }
                let key = keys::work_page(&config, id, "groups", cp.seq.groups);
                keys::put_json(host.storage, &key, &page)?;
                cp.seq.groups += 1;
            }
            Phase::Members { group, next } => {
                let gid = cache.memberships.listed[group].id.clone();
                let resp: OktaResponse<Listing<OktaMember>> =
                    fetch(host, cache, cp, &paths::members(&gid), next)?;
                let page = MembersPage {
                    group: gid,
                    members: list(resp.body_json, "group members")?
                        .into_iter()
                        .map(|u| u.id)
                        .filter(|u| !u.is_empty())
                        .collect(),
                };
                cp.phase = match resp.next_link {
                    Some(n) => Phase::Members {
                        group,
                        next: Some(n),
                    },
                    None => after_groups(cp, &cache.memberships, group + 1),
                };
                begin_alongside(cp);
                start_next_gets(host, cache, cp);
                let key = keys::work_page(&config, id, "members", cp.seq.members);
                keys::put_json(host.storage, &key, &page)?;
                cp.seq.members += 1;
                cache.memberships.add_members(&page);
                if matches!(cp.phase, Phase::Members { .. }) {
                    read_users_early(host, cache, cp);
                }
            }
            Phase::Users { next } => {
                let path = users_path(cp);
                if let Some((side_path, side_next)) = side_get(cp)
                    && side_answers_first(host, cache, cp, (&path, &next), (&side_path, side_next))
                {
                    let side_next = side_next.clone();
                    let (resp, held) = fetch_side(host, cache, cp, &side_path, side_next)?;
                    cp.deprovisioned = match (resp.next_link.clone(), &cp.deprovisioned) {
                        (Some(n), Alongside::Reading { links_followed, .. }) => {
                            Alongside::Reading {
                                next: Some(n),
                                links_followed: links_followed.clone(),
                            }
                        }
                        _ => Alongside::Done,
                    };
                    start_next_gets(host, cache, cp);
                    apply_page(host, cache, cp, resp, held, false)?;
                    return Ok(());
                }
                let (resp, held) = fetch_page(host, cache, cp, &path, next)?;
                cp.phase = match (resp.next_link.clone(), cp.is_full()) {
                    (Some(n), _) => Phase::Users { next: Some(n) },
                    // A search lists deprovisioned users too.
                    (None, true) if cp.audience.filter.is_some() => Phase::Finish,
                    (None, true) => match std::mem::replace(&mut cp.deprovisioned, Alongside::Done)
                    {
                        Alongside::Done => Phase::Finish,
                        // The rest of it, on its own.
                        Alongside::Reading {
                            next,
                            links_followed,
                        } => {
                            cp.links_followed = links_followed;
                            Phase::Deprovisioned { next }
                        }
                        Alongside::No => Phase::Deprovisioned { next: None },
                    },
                    (None, false) => Phase::Memberships { done: 0 },
                };
                start_next_gets(host, cache, cp);
                apply_page(host, cache, cp, resp, held, false)?;
            }
            Phase::ScopeMembers { group, next } => {
                let path = paths::members(&cp.audience.groups[group].id);
                let (resp, held) = fetch_page(host, cache, cp, &path, next)?;
                // Members of every status: no deprovisioned listing after.
                cp.phase = match resp.next_link.clone() {
                    Some(n) => Phase::ScopeMembers {
                        group,
                        next: Some(n),
                    },
                    None if group + 1 < cp.audience.groups.len() => Phase::ScopeMembers {
                        group: group + 1,
                        next: None,
                    },
                    None => Phase::Finish,
                };
                start_next_gets(host, cache, cp);
                apply_page(host, cache, cp, resp, held, true)?;
            }
            Phase::Deprovisioned { next } => {
                let path = paths::deprovisioned();
                let (resp, held) = fetch_page(host, cache, cp, &path, next)?;
                cp.phase = match resp.next_link.clone() {
                    Some(n) => Phase::Deprovisioned { next: Some(n) },
                    None => Phase::Finish,
                };
                start_next_gets(host, cache, cp);
                apply_page(host, cache, cp, resp, held, false)?;
            }
            Phase::Memberships { done } => {
                let todo: Vec<String> = cache
                    .memberships
                    .changed_users()
                    .into_iter()
                    .filter(|u| !cache.people.has_seen(u))
                    .collect();
                let end = (done + ROLE_CHANGES_PER_STEP).min(todo.len());
                let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
                let mut counts = cp.record.counts;
                let ctx = ctx(cp, (&cache.roles, &cache.mapping, cache.look_other), &now);
                let mut listed = Vec::new();
                let (unsynced, leaving) = apply::apply_role_changes(
                    host.directory,
                    &ctx,
                    &todo[done.min(end)..end],
                    &mut cache.memberships,
                    &mut counts,
                    &mut listed,
                )?;
                cp.record.counts = counts;
                save_changes(host, cp, listed, &unsynced)?;
                save_unsynced(host, cp, &unsynced)?;
                if !leaving.is_empty() {
                    // Left the scope groups: deactivated at the finish.
                    let page = UsersPage {
                        seen: Vec::new(),
                        deactivate: leaving,
                    };
                    let key = keys::work_page(&config, id, "users", cp.seq.users);
                    keys::put_json(host.storage, &key, &page)?;
                    cp.seq.users += 1;
                }
                cp.phase = if end >= todo.len() {
                    Phase::Finish
                } else {
                    Phase::Memberships { done: end }
                };
            }
            Phase::Finish => finish(host, cp, &cache.memberships, &cache.people)?,
            Phase::Done => {}
        }
        Ok(())
    }
}

/// Whether the run lists the members of `g` (see [`crate::sync::memberships`]):
/// `BUILT_IN` and `APP_GROUP` groups only when a role rule can grant a role
/// from them; an incremental run only groups changed after `since_ms` (or
/// with an unknown time) and those whose members the snapshot lacks.
fn walks(cp: &Checkpoint, cache: &Cache, g: &OktaGroup, since_ms: Option<u64>) -> bool {
    let group = GroupRef {
        id: g.id.clone(),
        name: g.name.clone(),
    };
    let matters = !matches!(g.kind.as_str(), "BUILT_IN" | "APP_GROUP")
        || cp.audience.decides(&g.id)
        || cache.mapping.can_grant(cp.kind, &group, &cache.roles)
        || cache
            .mapping
            .can_grant(apply::other_kind(cp.kind), &group, &cache.roles);
    let changed = |t: &str| unix_ms_from_rfc3339(t).is_none_or(|t| Some(t) > since_ms);
    matters
        && (cp.is_full()
            || changed(&g.last_updated)
            || changed(&g.last_membership_updated)
            || !cache.memberships.knows(&g.id))
}

/// The phase after the members of the `from`-th listed group: the next
/// listed group's members, or the users (a group-scoped full run: the scope
/// groups' members).
fn after_groups(cp: &Checkpoint, m: &Memberships, from: usize) -> Phase {
    if from < m.listed.len() {
        Phase::Members {
            group: from,
            next: None,
        }
    } else if cp.is_full() && cp.audience.lists_members() {
        Phase::ScopeMembers {
            group: 0,
            next: None,
        }
    } else {
        Phase::Users { next: None }
    }
}

/// The first users page of the run's listing: with the scope's expression,
/// if any.
fn users_path(cp: &Checkpoint) -> String {
    scope::users_path(cp.audience.filter.as_deref(), cp.since.as_deref())
}

fn ctx<'a>(
    cp: &'a Checkpoint,
    (roles, mapping, look_other): (&'a [Role], &'a Compiled, bool),
    now: &'a str,
) -> Ctx<'a> {
    Ctx {
        config: &cp.record.config,
        kind: cp.kind,
        dry_run: cp.dry_run,
        run_id: cp.record.id,
        now,
        roles,
        mapping,
        rehire: cp.settings.rehire,
        audience: &cp.audience,
        look_other,
    }
}

/// Apply a users page: `held` when its users were mapped ahead (then
/// `resp` is the answer they were taken from). With `once`, users this run
/// applied already are skipped (a person in two scope groups).
fn apply_page(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &mut Checkpoint,
    resp: UsersAnswer,
    held: Option<HeldUsers>,
    once: bool,
) -> Result<(), Stop> {
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let mut counts = cp.record.counts;
    let mut listed = Vec::new();
    let mut heads = heads(cp, &cache.ahead);
    // With pages in hand, the next steps have work: only what is there is
    // taken, so that the step keeps pace with them.
    let wait = cache.ahead.pages_held() == 0;
    let room = cache.ahead.room();
    let (page, unsynced) = {
        let ctx = ctx(cp, (&cache.roles, &cache.mapping, cache.look_other), &now);
        let mut users = match held {
            Some(users) => users.mapped(&ctx, &mut cache.memberships),
            None => apply::map_users(list(resp.body_json, "users")?, &ctx, &mut cache.memberships),
        };
        if once {
            users.retain(|m| !cache.people.has_seen(m.id()));
        }
        let Host {
            http,
            clock,
            directory,
            signer,
            ..
        } = host;
        let (ahead, memberships) = (&mut cache.ahead, &mut cache.memberships);
        let auth = cache.cred.auth(*signer, *clock);
        let mut fetcher = fetcher(&mut **http, *clock, &cache.origin, auth, cp);
        apply::apply_users(
            *directory,
            &ctx,
            users,
            &mut cache.people,
            &mut counts,
            &mut listed,
            // While Infraon writes the page: the next pages are read.
            &mut || {
                let heads = std::mem::take(&mut heads);
                ahead.read_pages(&mut fetcher, (heads, wait, room), &ctx, Some(memberships));
            },
        )?
    };
    cp.record.counts = counts;
    let key = keys::work_page(&cp.record.config, cp.record.id, "users", cp.seq.users);
    keys::put_json(host.storage, &key, &page)?;
    cp.seq.users += 1;
    for (id, _) in &page.seen {
        cache.people.see(id);
    }
    save_changes(host, cp, listed, &unsynced)?;
    save_unsynced(host, cp, &unsynced)?;
    Ok(())
}

/// Add a step's people to the run's list of changes (see [`changes`]):
/// those applied, then those unsynced.
fn save_changes(
    host: &mut Host<'_>,
    cp: &mut Checkpoint,
    mut listed: Vec<PersonChange>,
    unsynced: &[UnsyncedRecord],
) -> Result<(), SyncError> {
    listed.extend(unsynced.iter().map(changes::of_unsynced));
    let (config, id) = (cp.record.config.clone(), cp.record.id);
    changes::append(host.storage, &config, id, &mut cp.changes, listed)
}

fn save_unsynced(
    host: &mut Host<'_>,
    cp: &mut Checkpoint,
    unsynced: &[UnsyncedRecord],
) -> Result<(), SyncError> {
    if unsynced.is_empty() {
        return Ok(());
    }
    let key = format!(
        "{}{:08}",
        keys::unsynced(&cp.record.config, cp.record.id),
        cp.seq.unsynced
    );
    keys::put_json(host.storage, &key, &unsynced)?;
    cp.seq.unsynced += 1;
    Ok(())
}

/// The next GET of each users listing the run reads now or next (after the
/// members: the users listing, and the `DEPROVISIONED` one beside it),
/// beyond the pages of it read ahead.
fn heads(cp: &Checkpoint, ahead: &ReadAhead) -> Vec<Head> {
    let mut gets = Vec::new();
    let upcoming = matches!(cp.phase, Phase::Groups { .. } | Phase::Members { .. })
        && !(cp.is_full() && cp.audience.lists_members());
    if let Some((path, next)) = users_listing_get(cp) {
        gets.push((path, next.clone(), cp.links_followed.clone()));
    } else if upcoming {
        gets.push((users_path(cp), None, LinksFollowed::default()));
    }
    if let (Some((path, next)), Alongside::Reading { links_followed, .. }) =
        (side_get(cp), &cp.deprovisioned)
    {
        gets.push((path, next.clone(), links_followed.clone()));
    } else if upcoming && cp.is_full() && cp.audience.filter.is_none() {
        gets.push((paths::deprovisioned(), None, LinksFollowed::default()));
    }
    gets.into_iter()
        .filter_map(|(path, next, links)| {
            let (next, passed) = ahead.chain_head(&path, next, &links)?;
            Some((path, next, links, passed))
        })
        .collect()
}

/// While members are listed: start the first GETs of the users listings
/// that follow, and read (without waiting) the answers already there, each
/// one's next page asked for at once, up to
/// [`read_ahead::AHEAD_PAGES`](crate::sync::read_ahead::AHEAD_PAGES) held. They are
/// mapped and applied once the members are known, in the order they
/// arrived.
fn read_users_early(host: &mut Host<'_>, cache: &mut Cache, cp: &Checkpoint) {
    let heads = heads(cp, &cache.ahead);
    let room = cache.ahead.room();
    if heads.is_empty() || room == 0 {
        return;
    }
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    for (path, next, ..) in &heads {
        cache.ahead.start(&mut fetcher, path, next.as_deref());
    }
    // The members are not all known yet: only the profiles are mapped.
    let ctx = ctx(cp, (&cache.roles, &cache.mapping, cache.look_other), &now);
    cache
        .ahead
        .read_pages(&mut fetcher, (heads, false, room), &ctx, None);
}

/// The GET of the `DEPROVISIONED` listing read beside the users one, while
/// it is under way.
fn side_get(cp: &Checkpoint) -> Option<(String, &Option<String>)> {
    match (&cp.phase, &cp.deprovisioned) {
        (Phase::Users { .. }, Alongside::Reading { next, .. }) => {
            Some((paths::deprovisioned(), next))
        }
        _ => None,
    }
}

/// A full run without a filter, entering its users listing, reads the
/// `DEPROVISIONED` listing beside it (a search, or a group-scoped run's
/// members, list every status already).
fn begin_alongside(cp: &mut Checkpoint) {
    if matches!(cp.phase, Phase::Users { next: None })
        && cp.is_full()
        && cp.audience.filter.is_none()
        && cp.deprovisioned == Alongside::No
    {
        cp.deprovisioned = Alongside::Reading {
            next: None,
            links_followed: LinksFollowed::default(),
        };
    }
}

/// Whether the step reads the `DEPROVISIONED` listing's page rather than
/// the users listing's: the one read ahead first, or else the first whose
/// answer arrives (see [`ReadAhead::side_answers_first`]).
fn side_answers_first(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &Checkpoint,
    main: (&str, &Option<String>),
    side: (&str, &Option<String>),
) -> bool {
    let Alongside::Reading { links_followed, .. } = &cp.deprovisioned else {
        return false;
    };
    if cache.ahead.pages_held() == 0 && !links_followed.allows(side.1.as_deref()) {
        // Its loop is reported when it is read, after the users listing.
        return false;
    }
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    cache.ahead.side_answers_first(&mut fetcher, main, side)
}

/// The path and `next` link of the GET a step in a users listing (`Users`
/// or `Deprovisioned`) sends first; `None` in the other phases.
fn users_listing_get(cp: &Checkpoint) -> Option<(String, &Option<String>)> {
    match &cp.phase {
        Phase::Users { next } => Some((users_path(cp), next)),
        Phase::ScopeMembers { group, next } => cp
            .audience
            .groups
            .get(*group)
            .map(|g| (paths::members(&g.id), next)),
        Phase::Deprovisioned { next } => Some((paths::deprovisioned(), next)),
        _ => None,
    }
}

/// The run's pacing, retrying fetcher over one Okta client.
fn fetcher<'a>(
    http: &'a mut dyn Http,
    clock: &'a dyn Clock,
    origin: &OktaOrigin,
    auth: Auth<'a>,
    cp: &Checkpoint,
) -> Fetcher<'a> {
    Fetcher::new(
        OktaClient::new(http, origin, auth),
        clock,
        cp.rates.clone(),
        cp.retries,
        cp.settings.rate_limit_reserve_percent,
    )
}

/// [`fetch`] of a users page: the page read ahead for this very GET when
/// there is one, with the users mapped from it (those come only with an
/// answer that is a page, which [`Fetcher::get`] returns as it is).
fn fetch_page(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
) -> Result<(UsersAnswer, Option<HeldUsers>), Stop> {
    let (first, held) = match cache.ahead.take_page(path, &next) {
        Some(page) => {
            let (attempt, held) = page.into_parts();
            (Some(attempt), held)
        }
        None => (None, None),
    };
    let resp = fetch_first(host, cache, cp, path, next, first)?;
    Ok((resp, held))
}

/// [`fetch_page`] of a page of the `DEPROVISIONED` listing read beside the
/// users one, under that listing's own paging guard.
fn fetch_side(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
) -> Result<(UsersAnswer, Option<HeldUsers>), Stop> {
    let Alongside::Reading { links_followed, .. } = &mut cp.deprovisioned else {
        return fetch_page(host, cache, cp, path, next);
    };
    // Swapped in for the GET, so that one paging guard serves both.
    let mut links = std::mem::take(links_followed);
    std::mem::swap(&mut links, &mut cp.links_followed);
    let result = fetch_page(host, cache, cp, path, next);
    std::mem::swap(&mut links, &mut cp.links_followed);
    if let Alongside::Reading { links_followed, .. } = &mut cp.deprovisioned {
        *links_followed = links;
    }
    result
}

/// One GET through the pacing, retrying fetcher; requests are counted in the
/// record whether or not the GET succeeded.
fn fetch<B: JsonBody>(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
) -> Result<OktaResponse<B>, Stop> {
    fetch_first(host, cache, cp, path, next, None)
}

/// [`fetch`], whose first try is `first` when it was read ahead, or the
/// GET started early when it is on its way.
fn fetch_first<B: JsonBody>(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
    first: Option<Attempt<B>>,
) -> Result<OktaResponse<B>, Stop> {
    // Recorded only once the page is read: a GET that waits is sent again.
    let mut links = cp.links_followed.clone();
    links.follow(next.as_deref()).map_err(|url| {
        Stop::Okta(OktaFailure::UnexpectedResponse(format!(
            "Okta's paging loops: the next link {url} points back at a page already read"
        )))
    })?;
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    // A page read ahead counts here, where it is used (its reader's count
    // was not kept): a run cut short re-reads that page and counts it once.
    let early = u32::from(first.is_some());
    // A GET started early is read here, unless its family's reserve says
    // wait: then it stays on its way, to be read after the wait.
    let first = match first {
        Some(read) => Some(read),
        None if fetcher.must_wait(path, next.as_deref()) => None,
        None => cache
            .ahead
            .take_started(path, &next)
            .map(|started| fetcher.receive(started)),
    };
    let result = fetcher.get(path, next.as_deref(), first);
    cp.record.requests += fetcher.requests() + early;
    cp.rates = fetcher.rates;
    cp.retries = fetcher.retries;
    match result {
        Ok(resp) => {
            cp.links_followed = links;
            Ok(resp)
        }
        Err(Halt::Failed(f)) => Err(Stop::Okta(f)),
        Err(Halt::Wait { until_ms, reason }) => Err(Stop::Wait { until_ms, reason }),
    }
}

/// Start the GET the next step will send first, so that Okta prepares the
/// next page while this step applies the current one (see
/// [`ReadAhead::start`]). `cp.phase` is the next step's phase.
/// While members are listed, the first pages of the groups after the next
/// step's are asked for too, [`MEMBERS_IN_FLIGHT`] lists in all: their URLs
/// are known before any answer, so a real org's latency is paid once for
/// many groups. Nothing is sent that a later step would not send: not a link
/// the paging guard refuses, nor what the rate-limit reserve keeps back —
/// the group-members budget must cover every list in flight, and until
/// Okta has told it, one group ahead is asked for, as before.
fn start_next_gets(host: &mut Host<'_>, cache: &mut Cache, cp: &Checkpoint) {
    let (path, next) = match &cp.phase {
        Phase::Groups { next } => (paths::groups(), next),
        Phase::Members { group, next } => match cache.memberships.listed.get(*group) {
            Some(g) => (paths::members(&g.id), next),
            None => return,
        },
        _ => match users_listing_get(cp) {
            Some(get) => get,
            None => return,
        },
    };
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    let ahead = &mut cache.ahead;
    if cp.links_followed.allows(next.as_deref()) {
        ahead.start(&mut fetcher, &path, next.as_deref());
    }
    if let (Some((path, next)), Alongside::Reading { links_followed, .. }) =
        (side_get(cp), &cp.deprovisioned)
        && links_followed.allows(next.as_deref())
    {
        ahead.start(&mut fetcher, &path, next.as_deref());
    }
    let Phase::Members { group, .. } = &cp.phase else {
        return;
    };
    let more = match fetcher.headroom(Family::GroupMembers) {
        // Every list in flight may still be unanswered, so each new one
        // needs room beyond all of them.
        Some(room) => (room as usize)
            .saturating_sub(MEMBERS_IN_FLIGHT)
            .min(MEMBERS_IN_FLIGHT - 1),
        None => 1,
    };
    for g in cache.memberships.listed.iter().skip(group + 1).take(more) {
        ahead.start(&mut fetcher, &paths::members(&g.id), None);
    }
}

/// The records of a listing, which must be a JSON list.
fn list<T>(body: Listing<T>, what: &str) -> Result<Vec<T>, Stop> {
    match body {
        Listing::List(items) => Ok(items),
        Listing::NotAList => Err(Stop::Okta(OktaFailure::UnexpectedResponse(format!(
            "the {what} listing is not a JSON list"
        )))),
    }
}

fn load_cache(host: &mut Host<'_>, cp: &Checkpoint) -> Result<Cache, SyncError> {
    let config = &cp.record.config;
    let cfg = find_config(host.storage, config)
        .map_err(SyncError::Host)?
        .ok_or_else(|| SyncError::UnknownConfig(config.clone()))?;
    // A step that failed or crashed may have listed people past the
    // checkpoint: its redo lists them again, from the checkpoint's count.
    changes::trim(host.storage, config, cp.record.id, cp.changes)?;
    let origin = cfg
        .origin()
        .map_err(|e| SyncError::Other(format!("the stored Okta origin is no longer valid: {e}")))?;
    let cred = credential(host.secrets, &cfg).map_err(SyncError::Other)?;
    let roles = host.directory.list_roles().map_err(SyncError::host)?;
    let mapping = match &cp.mapping {
        Some(m) => compile(m)?,
        None => compile(&mapping::legacy_defaults(cp.kind))?,
    };
    let memberships = Memberships::load(
        host.storage,
        config,
        cp.record.id,
        (cp.seq.groups, cp.seq.members),
        !cp.is_full(),
        !matches!(cp.phase, Phase::Groups { .. }),
    )?;
    // One copy of every id: the people's are the memberships'.
    let mut people = People::sharing(memberships.ids());
    let prefix = keys::work_pages(config, cp.record.id, "users");
    keys::each_page(host.storage, &prefix, cp.seq.users, |page: UsersPage| {
        for (id, email) in page.seen {
            if !email.is_empty() {
                people.remember_email(&email, &id);
            }
            people.see(&id);
        }
        Ok(())
    })?;
    let look_other = !cp.audience.populations.is_empty()
        || !host
            .directory
            .list_linked_page(config, apply::other_kind(cp.kind), None, 1)
            .map_err(SyncError::host)?
            .is_empty();
    Ok(Cache {
        look_other,
        origin,
        cred,
        roles,
        mapping,
        memberships,
        people,
        ahead: ReadAhead::default(),
    })
}

/// Prepare the mapping a run uses; a stored mapping is validated when it is
/// saved, so failing here means storage was changed behind the plugin.
fn compile(m: &mapping::Mapping) -> Result<Compiled, SyncError> {
    Compiled::new(m).map_err(|e| {
        SyncError::Other(format!(
            "the saved mapping is not valid; fix or reset it: {}",
            mapping::MapError::Invalid(e)
        ))
    })
}

/// Allocate the next run id: plugin-wide, above every id this config has.
fn next_run_id(host: &mut Host<'_>, config: &str) -> Result<u64, SyncError> {
    let counter: u64 = keys::get_json(host.storage, keys::NEXT_RUN_ID)?.unwrap_or(1);
    let last_here = host
        .storage
        .list_keys(&keys::runs(config))
        .map_err(SyncError::host)?
        .last()
        .and_then(|k| keys::trailing_number(k))
        .unwrap_or(0);
    let id = counter.max(last_here + 1);
    keys::put_json(host.storage, keys::NEXT_RUN_ID, &(id + 1))?;
    Ok(id)
}
