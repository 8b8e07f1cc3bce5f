//! [`ReadAhead`]: what a run has asked Okta for before the step that uses
//! it. One object, owned by the run, holds both kinds: the GETs started
//! and not yet read (their answers on their way), and the users pages that
//! arrived and were parsed and mapped while Infraon applied a page. A step
//! takes its GET from here when it is here, and sends it otherwise.
//!
//! It lives in memory only: a run resumed in a new instance starts with an
//! empty read-ahead and sends each GET again, and every page is applied
//! and checkpointed by its own step, so nothing read ahead is ever lost or
//! applied twice.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::okta_client::OktaResponse;
use crate::paging_guard::LinksFollowed;
use crate::ports::{MAX_EARLY_REQUESTS, Started};
use crate::sync::apply::{self, Ctx, Mapped, Premapped};
use crate::sync::fetch::{Attempt, Fetcher};
use crate::sync::memberships::Memberships;
use crate::sync::records::{Listing, OktaUser};
use crate::time::unix_ms_from_rfc3339;

/// Users pages read ahead, at most: the users listing's chain runs on while
/// members are listed (and while the step catches up after), up to this
/// many pages held in memory. Listing the members of 500 groups of a
/// 100,000-user org takes some 14 s on a busy 2-core machine (each page is
/// 1,000 whole user records to parse), about 110 links of the users chain
/// at 100 ms a request; 128 pages (25,600 users) cover that, and bound
/// what a larger org holds.
pub const AHEAD_PAGES: usize = 128;

/// A GET of a listing: its first page `path`, or the `next` link given.
pub(crate) type Get = (String, Option<String>);

/// The next GET of a users listing beyond its pages read ahead: path,
/// `next`, the links the listing followed, and the links of its pages read
/// ahead (`next` of each).
pub(crate) type Head = (String, Option<String>, LinksFollowed, Vec<String>);

/// A users page read ahead: which GET it answers, the answer and, when the
/// answer is a page, its users mapped (taken out of the answer's body).
pub(crate) struct PageAhead {
    path: String,
    next: Option<String>,
    attempt: Attempt<Listing<OktaUser>>,
    users: Option<HeldUsers>,
}

/// The users of a page read ahead, taken out of its answer.
pub(crate) enum HeldUsers {
    /// Read while members were listed: their profiles mapped, their groups
    /// not yet known.
    Premapped(Vec<Premapped>),
    /// Mapped whole.
    Mapped(Vec<Mapped>),
}

impl HeldUsers {
    /// The users mapped whole, their groups known now if they were not.
    pub(crate) fn mapped(self, ctx: &Ctx<'_>, memberships: &mut Memberships) -> Vec<Mapped> {
        match self {
            HeldUsers::Premapped(users) => apply::place_users(users, ctx, memberships),
            HeldUsers::Mapped(users) => users,
        }
    }
}

impl PageAhead {
    /// Whether this answers the GET of `path` / `next`.
    fn answers(&self, path: &str, next: &Option<String>) -> bool {
        self.path == path && self.next == *next
    }

    /// Map the users of the answer, if it is a page of them: whole with
    /// `memberships`, else their profiles only.
    fn map(mut self, ctx: &Ctx<'_>, memberships: Option<&mut Memberships>) -> PageAhead {
        if let Ok(resp) = &mut self.attempt.result
            && let Listing::List(users) = &mut resp.body_json
        {
            let users = std::mem::take(users);
            self.users = Some(match memberships {
                Some(m) => HeldUsers::Mapped(apply::map_users(users, ctx, m)),
                None => HeldUsers::Premapped(apply::premap_users(users, ctx)),
            });
        }
        self
    }

    /// The answer, and its users if they were mapped ahead.
    pub(crate) fn into_parts(self) -> (Attempt<Listing<OktaUser>>, Option<HeldUsers>) {
        (self.attempt, self.users)
    }
}

/// What the run has asked Okta for ahead of the steps that use it.
#[derive(Default)]
pub(crate) struct ReadAhead {
    /// GETs started and not yet read, oldest first, at most
    /// [`MAX_EARLY_REQUESTS`]: starting one more drops (and so cancels)
    /// the oldest.
    on_the_way: Vec<(Get, Started)>,
    /// Users pages read ahead, in the order Okta answered them; later steps
    /// apply them, the first first.
    pages: VecDeque<PageAhead>,
}

impl ReadAhead {
    /// Start the GET of `path` / `next` (see [`Fetcher::start`]) unless it
    /// is on its way or answered here already: asking again would send it
    /// twice.
    pub(crate) fn start(&mut self, fetcher: &mut Fetcher<'_>, path: &str, next: Option<&str>) {
        let next = next.map(str::to_owned);
        if self.is_on_the_way(path, &next) || self.has_page(path, &next) {
            return;
        }
        let Some(started) = fetcher.start(path, next.as_deref()) else {
            return;
        };
        self.on_the_way.push(((path.to_owned(), next), started));
        if self.on_the_way.len() > MAX_EARLY_REQUESTS {
            self.on_the_way.remove(0);
        }
    }

    /// The GET of `path` / `next` if it was started, taken out to be read.
    pub(crate) fn take_started(&mut self, path: &str, next: &Option<String>) -> Option<Started> {
        let i = self
            .on_the_way
            .iter()
            .position(|((p, n), _)| p == path && n == next)?;
        Some(self.on_the_way.remove(i).1)
    }

    fn is_on_the_way(&self, path: &str, next: &Option<String>) -> bool {
        self.started_for(path, next).is_some()
    }

    /// The GET of `path` / `next`, if it was started and not yet read.
    fn started_for(&self, path: &str, next: &Option<String>) -> Option<&Started> {
        self.on_the_way
            .iter()
            .find(|((p, n), _)| p == path && n == next)
            .map(|(_, s)| s)
    }

    fn has_page(&self, path: &str, next: &Option<String>) -> bool {
        self.pages.iter().any(|a| a.answers(path, next))
    }

    /// The page read ahead that answers the GET of `path` / `next`, taken out.
    pub(crate) fn take_page(&mut self, path: &str, next: &Option<String>) -> Option<PageAhead> {
        let i = self.pages.iter().position(|a| a.answers(path, next))?;
        self.pages.remove(i)
    }

    /// Users pages held.
    pub(crate) fn pages_held(&self) -> usize {
        self.pages.len()
    }

    /// Room for more users pages before [`AHEAD_PAGES`].
    pub(crate) fn room(&self) -> usize {
        AHEAD_PAGES.saturating_sub(self.pages.len())
    }

    /// Whether the step in a users listing reads the `side` GET's page
    /// rather than the `main` one's: the page read ahead first, or else the
    /// first of the two started to answer (waited for). Unless both were
    /// started, the main one goes first.
    pub(crate) fn side_answers_first(
        &mut self,
        fetcher: &mut Fetcher<'_>,
        main: (&str, &Option<String>),
        side: (&str, &Option<String>),
    ) -> bool {
        if let Some(a) = self.pages.front() {
            return a.answers(side.0, side.1);
        }
        match (
            self.started_for(main.0, main.1),
            self.started_for(side.0, side.1),
        ) {
            (Some(m), Some(s)) => fetcher.first_arrived(&[m, s]) == 1,
            // The main one is to be sent again (after a 429, a resume):
            // it goes first, and the side one waits its turn.
            _ => false,
        }
    }

    /// Read the next pages of the users listings under way, `heads` (see
    /// `run::heads`), at most `room` of them: while Infraon applies a step's
    /// page (or while members are listed), so that Okta's answers are read,
    /// parsed and mapped meanwhile, and kept in the order they arrived.
    /// When `wait`, the first to arrive is waited for; the others are taken
    /// if they are there. The GET of the page after each is started as
    /// soon as its link is read. Nothing is sent that the next steps would
    /// not send first. The users are mapped whole with `memberships` when
    /// given; read while members are still listed, only their profiles are
    /// mapped, and their step places them in their groups.
    pub(crate) fn read_pages(
        &mut self,
        fetcher: &mut Fetcher<'_>,
        (mut gets, wait, room): (Vec<Head>, bool, usize),
        ctx: &Ctx<'_>,
        mut memberships: Option<&mut Memberships>,
    ) {
        let mut read = Vec::new();
        let mut wait = wait;
        while !gets.is_empty() && read.len() < room {
            let Some(i) = self.next_to_read(fetcher, &gets, wait) else {
                break;
            };
            wait = false;
            let (path, next, links, passed) = gets.remove(i);
            if fetcher.must_wait(&path, next.as_deref()) {
                // Its family's reserve is reached: its step waits, then reads it.
                continue;
            }
            let started = match self.take_started(&path, &next) {
                Some(s) => s,
                // Not started (the reserve held it back, or after a resume).
                None => match fetcher.start(&path, next.as_deref()) {
                    Some(s) => s,
                    None => continue,
                },
            };
            let attempt = fetcher.receive::<Listing<OktaUser>>(started);
            // The page after it is asked for as soon as its link is known,
            // before this one is mapped: a users listing is a chain of
            // cursors, and each link's latency is paid while the previous
            // page is mapped and written.
            if let Ok(OktaResponse {
                next_link: Some(after),
                ..
            }) = &attempt.result
                && links.allows(Some(after))
                && next.as_deref() != Some(after)
                && !passed.contains(after)
            {
                self.start(fetcher, &path, Some(after));
            }
            read.push(PageAhead {
                path,
                next,
                attempt,
                users: None,
            });
        }
        if let [a, b] = &mut read[..] {
            keep_newer(a, b);
        }
        for a in read {
            let a = a.map(ctx, memberships.as_deref_mut());
            self.pages.push_back(a);
        }
    }

    /// Which of `gets` to read next: one whose answer has arrived, else
    /// when `wait` the first of those started to arrive (the first of all
    /// when none was started); `None` when nothing is there and not `wait`.
    fn next_to_read(&self, fetcher: &mut Fetcher<'_>, gets: &[Head], wait: bool) -> Option<usize> {
        let started: Vec<(usize, &Started)> = gets
            .iter()
            .enumerate()
            .filter_map(|(i, (p, n, ..))| Some((i, self.started_for(p, n)?)))
            .collect();
        if !wait {
            return started
                .iter()
                .find(|(_, s)| fetcher.has_arrived(s))
                .map(|(i, _)| *i);
        }
        if started.is_empty() {
            return Some(0);
        }
        let refs: Vec<&Started> = started.iter().map(|(_, s)| *s).collect();
        Some(started[fetcher.first_arrived(&refs)].0)
    }

    /// From the GET `path` / `next`, past the pages of that listing read
    /// ahead: the GET after them and the links passed; `None` when the
    /// listing ends there, an answer read ahead is not a page (its step
    /// handles it), or a link repeats one (the step that reaches it reports
    /// the loop).
    pub(crate) fn chain_head(
        &self,
        path: &str,
        mut next: Option<String>,
        links: &LinksFollowed,
    ) -> Option<(Option<String>, Vec<String>)> {
        // This listing's pages, by the GET each answers: one pass, where a
        // search per link made each step quadratic in the pages held.
        let mut by_get: HashMap<&Option<String>, &PageAhead> = HashMap::new();
        for a in self.pages.iter().filter(|a| a.path == path) {
            by_get.entry(&a.next).or_insert(a);
        }
        let mut passed: Vec<String> = Vec::new();
        let mut seen: HashSet<&str> = HashSet::new();
        loop {
            if !links.allows(next.as_deref()) {
                return None;
            }
            let Some(a) = by_get.get(&next) else {
                return Some((next, passed));
            };
            let Ok(OktaResponse {
                next_link: Some(link),
                ..
            }) = &a.attempt.result
            else {
                return None;
            };
            if !seen.insert(link) || next.as_ref() == Some(link) {
                return None;
            }
            passed.push(link.clone());
            next = Some(link.clone());
        }
    }
}

/// Two users pages that arrived together, from the users listing and the
/// `DEPROVISIONED` one: a person on both changed status while the two were
/// read, and which answer is the later one is not known, so the record
/// Okta updated last is kept and the other dropped (an equal time keeps
/// both, applied in the order read).
fn keep_newer(a: &mut PageAhead, b: &mut PageAhead) {
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
