//! [`SyncRun`]: the run the WIT `run` resource wraps. Each step applies at
//! most one Okta page and checkpoints; while Infraon writes a users page, the
//! step reads the next one ahead for the step after it. A full run reads the
//! `DEPROVISIONED` listing beside the users listing, and applies the pages
//! of both in the order Okta answered them.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::auth::{Auth, Credential};
use crate::directory::Role;
use crate::mapping::{self, Compiled};
use crate::okta_client::{OktaClient, OktaResponse};
use crate::okta_error::{JsonBody, OktaFailure};
use crate::origin::OktaOrigin;
use crate::paging_guard::LinksFollowed;
use crate::ports::{Clock, Host, Http, Level, MEMBERS_IN_FLIGHT};
use crate::store::{credential, find_config};
use crate::sync::apply::{self, Ctx, Mapped, UsersPage};
use crate::sync::changes::{self, PersonChange};
use crate::sync::checkpoint::{Alongside, Checkpoint, Phase, Seqs, Watermark};
use crate::sync::fetch::{Attempt, Family, Fetcher, Halt};
use crate::sync::finish::{complete, finish};
use crate::sync::ids::People;
use crate::sync::keys;
use crate::sync::memberships::{GroupRef, ListedGroup, MembersPage, Memberships};
use crate::sync::paths;
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
    /// Users pages read ahead, in the order Okta answered them: the next
    /// GET of each listing under way, sent while Infraon applied a page (see
    /// [`read_ahead`]); later steps use them, the first first.
    ahead: VecDeque<Ahead>,
}

/// Okta's answer to a GET of a users page.
type UsersAnswer = OktaResponse<Listing<OktaUser>>;

/// A users page read ahead: which GET it answers, the answer and, when the
/// answer is a page, its users mapped (taken out of the answer's body).
struct Ahead {
    path: String,
    next: Option<String>,
    attempt: Attempt<Listing<OktaUser>>,
    mapped: Option<Vec<Mapped>>,
}

impl Ahead {
    /// Whether this answers the GET of `path` / `next`.
    fn answers(&self, path: &str, next: &Option<String>) -> bool {
        self.path == path && self.next == *next
    }

    /// Map the users of the answer, if it is a page of them.
    fn map(mut self, ctx: &Ctx<'_>, memberships: &mut Memberships) -> Ahead {
        if let Ok(resp) = &mut self.attempt.result
            && let Listing::List(users) = &mut resp.body_json
        {
            self.mapped = Some(apply::map_users(std::mem::take(users), ctx, memberships));
        }
        self
    }
}

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
        let mut queue = std::mem::take(&mut cache.ahead);
        let config = cp.record.config.clone();
        let id = cp.record.id;
        match cp.phase.clone() {
            Phase::Groups { next } => {
                // Users pages read early wait for the users phase.
                cache.ahead = std::mem::take(&mut queue);
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
                prefetch(host, cache, cp);
                if matches!(cp.phase, Phase::Members { .. }) {
                    read_users_early(host, cache, cp);
                }
                let key = keys::work_page(&config, id, "groups", cp.seq.groups);
                keys::put_json(host.storage, &key, &page)?;
                cp.seq.groups += 1;
            }
            Phase::Members { group, next } => {
                cache.ahead = std::mem::take(&mut queue);
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
                prefetch(host, cache, cp);
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
                    && first_to_answer(
                        host,
                        cache,
                        cp,
                        &queue,
                        (&path, &next),
                        (&side_path, side_next),
                    )
                {
                    let side_next = side_next.clone();
                    let ahead = take_ahead(&mut queue, &side_path, &side_next);
                    // Kept through a wait or a failure of this GET.
                    cache.ahead = std::mem::take(&mut queue);
                    let (resp, mapped) = fetch_side(host, cache, cp, &side_path, side_next, ahead)?;
                    cp.deprovisioned = match (resp.next_link.clone(), &cp.deprovisioned) {
                        (Some(n), Alongside::Reading { links_followed, .. }) => {
                            Alongside::Reading {
                                next: Some(n),
                                links_followed: links_followed.clone(),
                            }
                        }
                        _ => Alongside::Done,
                    };
                    prefetch(host, cache, cp);
                    apply_page(host, cache, cp, resp, mapped, false)?;
                    return Ok(());
                }
                let ahead = take_ahead(&mut queue, &path, &next);
                // Kept through a wait or a failure of this GET.
                cache.ahead = std::mem::take(&mut queue);
                let (resp, mapped) = fetch_after(host, cache, cp, &path, next, ahead)?;
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
                prefetch(host, cache, cp);
                apply_page(host, cache, cp, resp, mapped, false)?;
            }
            Phase::ScopeMembers { group, next } => {
                let path = paths::members(&cp.audience.groups[group].id);
                let ahead = take_ahead(&mut queue, &path, &next);
                // Kept through a wait or a failure of this GET.
                cache.ahead = std::mem::take(&mut queue);
                let (resp, mapped) = fetch_after(host, cache, cp, &path, next, ahead)?;
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
                prefetch(host, cache, cp);
                apply_page(host, cache, cp, resp, mapped, true)?;
            }
            Phase::Deprovisioned { next } => {
                let path = paths::deprovisioned();
                let ahead = take_ahead(&mut queue, &path, &next);
                // Kept through a wait or a failure of this GET.
                cache.ahead = std::mem::take(&mut queue);
                let (resp, mapped) = fetch_after(host, cache, cp, &path, next, ahead)?;
                cp.phase = match resp.next_link.clone() {
                    Some(n) => Phase::Deprovisioned { next: Some(n) },
                    None => Phase::Finish,
                };
                prefetch(host, cache, cp);
                apply_page(host, cache, cp, resp, mapped, false)?;
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

/// Apply a users page: `mapped` when its users were mapped ahead (then
/// `resp` is the answer they were taken from). With `once`, users this run
/// applied already are skipped (a person in two scope groups).
fn apply_page(
    host: &mut Host<'_>,
    cache: &mut Cache,
    cp: &mut Checkpoint,
    resp: UsersAnswer,
    mapped: Option<Vec<Mapped>>,
    once: bool,
) -> Result<(), Stop> {
    let now = rfc3339_from_unix_ms(host.clock.now_unix_ms());
    let mut counts = cp.record.counts;
    let mut ahead = Vec::new();
    let mut listed = Vec::new();
    let mut heads = heads(cp, &cache.ahead);
    // With pages in hand, the next steps have work: only what is there is
    // taken, so that the step keeps pace with them.
    let wait = cache.ahead.is_empty();
    let room = AHEAD_PAGES.saturating_sub(cache.ahead.len());
    let (page, unsynced) = {
        let ctx = ctx(cp, (&cache.roles, &cache.mapping, cache.look_other), &now);
        let mut users = match mapped {
            Some(users) => users,
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
        let (origin, memberships) = (&cache.origin, &mut cache.memberships);
        let auth = cache.cred.auth(*signer, *clock);
        apply::apply_users(
            *directory,
            &ctx,
            users,
            &mut cache.people,
            &mut counts,
            &mut listed,
            &mut || {
                ahead = read_ahead(
                    &mut **http,
                    *clock,
                    origin,
                    auth,
                    cp,
                    (std::mem::take(&mut heads), wait, room),
                )
                .into_iter()
                .map(|a| a.map(&ctx, memberships))
                .collect();
            },
        )?
    };
    cp.record.counts = counts;
    cache.ahead.extend(ahead);
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

/// Read the next pages of the users listings under way, `heads` (see
/// [`heads`]), at most `room` of them: sent while Infraon applies this
/// step's page (or while members are listed), so that Okta's answers are
/// read and parsed meanwhile. Returns them in the order they arrived: when
/// `wait`, the first to arrive is waited for; the others are taken if they
/// are there. The GET of the page after each is started as soon as its link
/// is read. `cp` is the next step's checkpoint. Nothing is sent that the
/// next steps would not send first.
fn read_ahead(
    http: &mut dyn Http,
    clock: &dyn Clock,
    origin: &OktaOrigin,
    auth: Auth<'_>,
    cp: &Checkpoint,
    (mut gets, wait, room): (Vec<Head>, bool, usize),
) -> Vec<Ahead> {
    if gets.is_empty() || room == 0 {
        return Vec::new();
    }
    // Each GET was started by the step (see [`prefetch`]) before this.
    let mut fetcher = fetcher(http, clock, origin, auth, cp);
    let mut read = Vec::new();
    let mut wait = wait;
    while !gets.is_empty() && read.len() < room {
        let which: Vec<(&str, Option<&str>)> = gets
            .iter()
            .map(|(p, n, ..)| (p.as_str(), n.as_deref()))
            .collect();
        // A host that cannot tell answers the first one when waiting.
        let i = match fetcher.arrived(&which, wait) {
            Some(i) => i,
            None if wait => 0,
            None => break,
        };
        wait = false;
        let (path, next, links, passed) = gets.remove(i);
        let Some(attempt) = fetcher.attempt::<Listing<OktaUser>>(&path, next.as_deref()) else {
            continue;
        };
        // The page after it is asked for as soon as its link is known, before
        // this one is mapped: a users listing is a chain of cursors, and each
        // link's latency is paid while the previous page is mapped and written.
        if let Ok(OktaResponse {
            next_link: Some(after),
            ..
        }) = &attempt.result
            && links.allows(Some(after))
            && next.as_deref() != Some(after)
            && !passed.contains(after)
        {
            fetcher.prefetch(&path, Some(after));
        }
        read.push(Ahead {
            path,
            next,
            attempt,
            mapped: None,
        });
    }
    if let [a, b] = &mut read[..] {
        keep_newer(a, b);
    }
    read
}

/// Pages read ahead, at most: the users listing's chain runs on while
/// members are listed (and while the step catches up after), up to this
/// many pages held in memory. Listing the members of 500 groups of a
/// 100,000-user org takes some 14 s on a busy 2-core machine (each page is
/// 1,000 whole user records to parse), about 110 links of the users chain
/// at 100 ms a request; 128 pages (25,600 users) cover that, and bound
/// what a larger org holds.
pub const AHEAD_PAGES: usize = 128;

/// The next GET of a users listing beyond its pages read ahead: path,
/// `next`, the links the listing followed, and the links of its pages read
/// ahead (`next` of each).
type Head = (String, Option<String>, LinksFollowed, Vec<String>);

/// The next GET of each users listing the run reads now or next (after the
/// members: the users listing, and the `DEPROVISIONED` one beside it),
/// beyond the pages of it read ahead in `queue`.
fn heads(cp: &Checkpoint, queue: &VecDeque<Ahead>) -> Vec<Head> {
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
            let (next, passed) = chain_head(queue, &path, next, &links)?;
            Some((path, next, links, passed))
        })
        .collect()
}

/// From the GET `path` / `next`, past the pages of that listing read ahead
/// in `queue`: the GET after them and the links passed; `None` when the
/// listing ends there, an answer read ahead is not a page (its step
/// handles it), or a link repeats one (the step that reaches it reports
/// the loop).
fn chain_head(
    queue: &VecDeque<Ahead>,
    path: &str,
    mut next: Option<String>,
    links: &LinksFollowed,
) -> Option<(Option<String>, Vec<String>)> {
    let mut passed: Vec<String> = Vec::new();
    loop {
        if !links.allows(next.as_deref()) {
            return None;
        }
        let Some(a) = queue.iter().find(|a| a.answers(path, &next)) else {
            return Some((next, passed));
        };
        let Ok(OktaResponse {
            next_link: Some(link),
            ..
        }) = &a.attempt.result
        else {
            return None;
        };
        if passed.contains(link) || next.as_ref() == Some(link) {
            return None;
        }
        passed.push(link.clone());
        next = Some(link.clone());
    }
}

/// While members are listed: start the first GETs of the users listings
/// that follow, and read (without waiting) the answers already there, each
/// one's next page asked for at once, up to [`AHEAD_PAGES`] held. They are
/// applied once the members are known, in the order they arrived.
fn read_users_early(host: &mut Host<'_>, cache: &mut Cache, cp: &Checkpoint) {
    let heads = heads(cp, &cache.ahead);
    let room = AHEAD_PAGES.saturating_sub(cache.ahead.len());
    if heads.is_empty() || room == 0 {
        return;
    }
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    for (path, next, ..) in &heads {
        fetcher.prefetch(path, next.as_deref());
    }
    let read = read_ahead(
        &mut *host.http,
        host.clock,
        &cache.origin,
        cache.cred.auth(host.signer, host.clock),
        cp,
        (heads, false, room),
    );
    cache.ahead.extend(read);
}

/// Two users pages that arrived together, from the users listing and the
/// `DEPROVISIONED` one: a person on both changed status while the two were
/// read, and which answer is the later one is not known, so the record
/// Okta updated last is kept and the other dropped (an equal time keeps
/// both, applied in the order read).
fn keep_newer(a: &mut Ahead, b: &mut Ahead) {
    let (Ok(ra), Ok(rb)) = (&mut a.attempt.result, &mut b.attempt.result) else {
        return;
    };
    let (Listing::List(ua), Listing::List(ub)) = (&mut ra.body_json, &mut rb.body_json) else {
        return;
    };
    let at = |u: &OktaUser| unix_ms_from_rfc3339(&u.last_updated).unwrap_or(0);
    let in_a: HashMap<&str, u64> = ua.iter().map(|u| (u.id.as_str(), at(u))).collect();
    let mut older_in_a = HashSet::new();
    let mut older_in_b = HashSet::new();
    for u in ub.iter() {
        if let Some(&t) = in_a.get(u.id.as_str()) {
            match t.cmp(&at(u)) {
                std::cmp::Ordering::Less => older_in_a.insert(u.id.clone()),
                std::cmp::Ordering::Greater => older_in_b.insert(u.id.clone()),
                std::cmp::Ordering::Equal => false,
            };
        }
    }
    ua.retain(|u| !older_in_a.contains(&u.id));
    ub.retain(|u| !older_in_b.contains(&u.id));
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

/// The page read ahead that answers the GET of `path` / `next`, taken out
/// of the queue.
fn take_ahead(queue: &mut VecDeque<Ahead>, path: &str, next: &Option<String>) -> Option<Ahead> {
    let i = queue.iter().position(|a| a.answers(path, next))?;
    queue.remove(i)
}

/// Whether the step reads the `DEPROVISIONED` listing's page rather than
/// the users listing's: the one read ahead first, or else the first whose
/// answer arrives.
fn first_to_answer(
    host: &mut Host<'_>,
    cache: &Cache,
    cp: &Checkpoint,
    queue: &VecDeque<Ahead>,
    (path, next): (&str, &Option<String>),
    (side_path, side_next): (&str, &Option<String>),
) -> bool {
    if let Some(a) = queue.front() {
        return a.answers(side_path, side_next);
    }
    let Alongside::Reading { links_followed, .. } = &cp.deprovisioned else {
        return false;
    };
    if !links_followed.allows(side_next.as_deref()) {
        // Its loop is reported when it is read, after the users listing.
        return false;
    }
    // Both were asked for by the step before (see [`prefetch`]); after a
    // resume neither is on its way, and the users listing goes first.
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    fetcher.arrived(
        &[(path, next.as_deref()), (side_path, side_next.as_deref())],
        true,
    ) == Some(1)
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

/// [`fetch`] of a users page, whose first try may have been read ahead by
/// the previous step (used only if it answers this very GET), with the
/// users that step mapped from it. Those come only with an answer that is
/// a page, which [`Fetcher::get_after`] returns as it is: they are that
/// answer's users.
fn fetch_after(
    host: &mut Host<'_>,
    cache: &Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
    ahead: Option<Ahead>,
) -> Result<(UsersAnswer, Option<Vec<Mapped>>), Stop> {
    let (first, mapped) = match ahead.filter(|a| a.path == path && a.next == next) {
        Some(a) => (Some(a.attempt), a.mapped),
        None => (None, None),
    };
    let resp = fetch_first(host, cache, cp, path, next, first)?;
    Ok((resp, mapped))
}

/// [`fetch_after`] of a page of the `DEPROVISIONED` listing read beside the
/// users one, under that listing's own paging guard.
fn fetch_side(
    host: &mut Host<'_>,
    cache: &Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
    ahead: Option<Ahead>,
) -> Result<(UsersAnswer, Option<Vec<Mapped>>), Stop> {
    let Alongside::Reading { links_followed, .. } = &mut cp.deprovisioned else {
        return fetch_after(host, cache, cp, path, next, ahead);
    };
    // Swapped in for the GET, so that one paging guard serves both.
    let mut links = std::mem::take(links_followed);
    std::mem::swap(&mut links, &mut cp.links_followed);
    let result = fetch_after(host, cache, cp, path, next, ahead);
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
    cache: &Cache,
    cp: &mut Checkpoint,
    path: &str,
    next: Option<String>,
) -> Result<OktaResponse<B>, Stop> {
    fetch_first(host, cache, cp, path, next, None)
}

fn fetch_first<B: JsonBody>(
    host: &mut Host<'_>,
    cache: &Cache,
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
    // A try read ahead counts here, where it is used, as a prefetch does: a
    // run cut short re-reads that page and counts it once.
    let early = u32::from(first.is_some());
    let result = fetcher.get_after(path, next.as_deref(), first);
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
/// [`crate::ports::Http::prefetch`]). `cp.phase` is the next step's phase.
/// While members are listed, the first pages of the groups after the next
/// step's are asked for too, [`MEMBERS_IN_FLIGHT`] lists in all: their URLs
/// are known before any answer, so a real org's latency is paid once for
/// many groups. Nothing is sent that a later step would not send: not a link
/// the paging guard refuses, nor what the rate-limit reserve keeps back —
/// the group-members budget must cover every list in flight, and until
/// Okta has told it, one group ahead is asked for, as before.
fn prefetch(host: &mut Host<'_>, cache: &Cache, cp: &Checkpoint) {
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
    // A page read ahead already was sent: asking again would send it twice.
    let queued =
        |path: &str, next: &Option<String>| cache.ahead.iter().any(|a| a.answers(path, next));
    let auth = cache.cred.auth(host.signer, host.clock);
    let mut fetcher = fetcher(&mut *host.http, host.clock, &cache.origin, auth, cp);
    if cp.links_followed.allows(next.as_deref()) && !queued(&path, next) {
        fetcher.prefetch(&path, next.as_deref());
    }
    if let (Some((path, next)), Alongside::Reading { links_followed, .. }) =
        (side_get(cp), &cp.deprovisioned)
        && links_followed.allows(next.as_deref())
        && !queued(&path, next)
    {
        fetcher.prefetch(&path, next.as_deref());
    }
    let Phase::Members { group, .. } = &cp.phase else {
        return;
    };
    let ahead = match fetcher.headroom(Family::GroupMembers) {
        // Every list in flight may still be unanswered, so each new one
        // needs room beyond all of them.
        Some(room) => (room as usize)
            .saturating_sub(MEMBERS_IN_FLIGHT)
            .min(MEMBERS_IN_FLIGHT - 1),
        None => 1,
    };
    for g in cache.memberships.listed.iter().skip(group + 1).take(ahead) {
        fetcher.prefetch(&paths::members(&g.id), None);
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
    let mut people = People::default();
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
        ahead: VecDeque::new(),
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
