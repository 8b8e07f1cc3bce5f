//! The plugin's `Http` port in front of the one fake Okta org model
//! (`fake_okta::model`): users, groups, members, paging, filters and error
//! bodies are the model's, answered in memory, and so is the rate limiter,
//! run on the tests' virtual clock with windows on the minute and one
//! budget for every endpoint (Okta keeps one per endpoint family; these
//! tests count one). What is about the port stays here: when a request
//! spends the budget, injected faults, a request log, the accounting of
//! requests started early (`Http::start`) and of requests sent after Okta
//! said none remain, and a lagging search index.

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use fake_okta::model::{self, Answer, GroupType, OrgModel, RateHeaders, RateLimiter, UserStatus};
use plugin_core::{Http, HttpRequest, HttpResponse, Started, TransportError};
use serde_json::Value;

/// The one budget every request spends (a family name of the limiter).
const BUDGET: &str = "all";

pub const ORIGIN: &str = "https://acme.okta.com";
/// Another org's origin the fake answers too (an org switch).
pub const ORIGIN_2: &str = "https://acme-eu.okta.com";

#[derive(Debug, Clone)]
pub struct Logged {
    pub url: String,
    pub at_ms: u64,
    pub status: u16,
}

#[derive(Debug, Clone)]
pub enum Fault {
    Status(u16),
    /// 429 whose window resets `secs` after now.
    RateLimited {
        secs: u64,
    },
    /// 429 without any `X-Rate-Limit-*` header, as a proxy may send.
    RateLimitedBare,
    Transport(TransportError),
}

pub struct FakeOkta {
    pub now: Rc<Cell<u64>>,
    /// The org: its data, and the answers to reads.
    pub org: OrgModel,
    pub log: Vec<Logged>,
    /// Requests allowed per minute window.
    pub limit: u32,
    rate: RateLimiter,
    /// The window (by its reset) in which an answer said Remaining 0.
    told_zero: Option<u64>,
    /// Requests sent after an answer said Remaining 0, before the reset.
    pub violations: u32,
    /// One-shot faults for the next requests whose URL contains the text.
    pub faults: VecDeque<(String, Fault)>,
    /// Every request whose URL contains the text gets this fault.
    pub sticky: Option<(String, Fault)>,
    /// Custom attributes of the profile schema: (name, JSON type).
    pub custom_schema: Vec<(String, String)>,
    /// Users whose status `search` still reports as it was (Okta's search
    /// index is eventually consistent; `filter` is not).
    pub stale_search: BTreeMap<String, String>,
    /// Users whose answers carry a status Okta does not have.
    unknown_status: BTreeMap<String, String>,
    /// The requests started early (`Http::start`), until read or dropped.
    on_the_way: Rc<std::cell::RefCell<Vec<HttpRequest>>>,
    /// Reads of a request started early.
    pub prefetch_used: u32,
    /// Requests started early and dropped unread (cancelled).
    dropped: Rc<Cell<u32>>,
    /// The most requests started early and not yet read at once.
    pub most_prefetched: usize,
    /// Starts of a request already on its way (asked for earlier still):
    /// the plugin should not start it twice.
    pub prefetch_repeated: u32,
    /// The URLs of those, in order.
    pub repeated_urls: Vec<String>,
    /// Prefetches started while the window's requests and those already
    /// on their way had spent the whole budget (a real Okta counts a
    /// request when it arrives, so these would have met a 429).
    pub overcommitted: u32,
    /// Answers of requests started early arrive in turn, not in the order
    /// asked: with several on their way, the first and the last alternate
    /// as the first to arrive, and every other is there already (how two
    /// listings read at once interleave against a real org).
    pub interleave: bool,
    /// The turns `interleave` took so far.
    turns: u32,
}

impl FakeOkta {
    pub fn new(now: Rc<Cell<u64>>) -> FakeOkta {
        FakeOkta {
            org: OrgModel::empty(now.get() as i64),
            now,
            log: Vec::new(),
            limit: 600,
            rate: RateLimiter::on_the_minute(600),
            told_zero: None,
            violations: 0,
            faults: VecDeque::new(),
            sticky: None,
            custom_schema: vec![
                ("officeLocation".into(), "string".into()),
                ("badgeNumber".into(), "integer".into()),
            ],
            stale_search: BTreeMap::new(),
            unknown_status: BTreeMap::new(),
            on_the_way: Rc::default(),
            prefetch_used: 0,
            dropped: Rc::default(),
            most_prefetched: 0,
            prefetch_repeated: 0,
            repeated_urls: Vec::new(),
            overcommitted: 0,
            interleave: false,
            turns: 0,
        }
    }

    fn t(&self) -> u64 {
        self.now.get()
    }

    // ---- org mutations, stamped with the virtual clock ----

    /// The org, its mutations stamped now.
    fn org_now(&mut self) -> &mut OrgModel {
        let t = self.t() as i64;
        self.org.stamp_at(t);
        &mut self.org
    }

    /// A user; like Okta, every user is in the `BUILT_IN` groups.
    pub fn add_user(&mut self, id: &str, status: &str, profile: Value) {
        let status = UserStatus::parse(status).unwrap();
        let Value::Object(profile) = profile else {
            panic!("a profile is an object");
        };
        self.org_now().insert_user(id, status, profile).unwrap();
    }

    pub fn add_group(&mut self, id: &str, name: &str) {
        self.add_typed_group(id, name, "OKTA_GROUP");
    }

    /// A group of type `kind`; a `BUILT_IN` one has every user.
    pub fn add_typed_group(&mut self, id: &str, name: &str, kind: &str) {
        let kind = GroupType::parse(kind).unwrap();
        self.org_now().insert_group(id, name, kind).unwrap();
    }

    pub fn delete_group(&mut self, group: &str) {
        self.org_now().delete_group(group).unwrap();
    }

    pub fn add_member(&mut self, group: &str, user: &str) {
        self.org_now().set_membership(group, user, true).unwrap();
    }

    pub fn remove_member(&mut self, group: &str, user: &str) {
        self.org_now().set_membership(group, user, false).unwrap();
    }

    /// A status Okta does not have (one it may add later) is not the
    /// model's: the user keeps its status there, stamped as changed, and
    /// this port puts the new word on the wire in its place.
    pub fn set_status(&mut self, user: &str, status: &str) {
        match UserStatus::parse(status) {
            Some(status) => {
                self.unknown_status.remove(user);
                self.org_now().set_status(user, status).unwrap();
            }
            None => {
                self.unknown_status.insert(user.into(), status.into());
                self.org_now()
                    .update_profile(user, Default::default())
                    .unwrap();
            }
        }
    }

    pub fn set_profile(&mut self, user: &str, attr: &str, value: Value) {
        let changes = [(attr.to_owned(), value)].into_iter().collect();
        self.org_now().update_profile(user, changes).unwrap();
    }

    pub fn delete_user(&mut self, user: &str) {
        self.org_now().delete_user(user).unwrap();
    }

    /// Other apps used the whole budget of the current window.
    pub fn exhaust(&mut self) {
        while self.spend().is_ok() {}
    }

    /// Successful answers (pages) so far.
    pub fn pages(&self) -> usize {
        self.log.iter().filter(|l| l.status == 200).count()
    }

    // ---- serving ----

    /// The budget's state now, without spending (`limit` may have been
    /// changed by the test since).
    fn budget(&mut self) -> RateHeaders {
        self.rate.set_limit(self.limit);
        self.rate.peek(BUDGET, self.t() / 1000)
    }

    fn spend(&mut self) -> Result<RateHeaders, RateHeaders> {
        self.rate.set_limit(self.limit);
        self.rate.acquire(BUDGET, self.t() / 1000)
    }

    /// The model's answer with this port's `X-Rate-Limit-*` headers.
    fn answer(&mut self, a: Answer) -> HttpResponse {
        let rate = self.budget();
        if rate.remaining == 0 {
            self.told_zero = Some(rate.reset);
        }
        let mut headers = a.headers.clone();
        headers.extend([
            ("X-Rate-Limit-Limit".into(), rate.limit.to_string()),
            ("X-Rate-Limit-Remaining".into(), rate.remaining.to_string()),
            ("X-Rate-Limit-Reset".into(), rate.reset.to_string()),
        ]);
        HttpResponse {
            status: a.status,
            headers,
            body: a.body_bytes(),
        }
    }

    fn route(&mut self, url: &str) -> HttpResponse {
        let Some((origin, rest)) = [ORIGIN, ORIGIN_2]
            .into_iter()
            .find_map(|o| url.strip_prefix(o).map(|rest| (o, rest)))
        else {
            let a = model::answer(&self.org, ORIGIN, "GET", "/no-such-origin");
            return self.answer(a);
        };
        if rest.starts_with("/api/v1/meta/schemas/user/") {
            let attrs: Vec<(&str, &str)> = self
                .custom_schema
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            self.org.set_custom_attributes(&attrs);
        }
        // Okta's search index lags: a search sees the stale statuses.
        let search = rest.contains("search=");
        let mut restore = Vec::new();
        if search {
            for (id, stale) in &self.stale_search {
                let st = UserStatus::parse(stale).unwrap();
                if let Some(was) = self.org.set_status_unstamped(id, st) {
                    restore.push((id.clone(), was));
                }
            }
        }
        let mut a = model::answer(&self.org, origin, "GET", rest);
        for (id, was) in restore {
            self.org.set_status_unstamped(&id, was);
        }
        if !self.unknown_status.is_empty() {
            let users = match a.json_body_mut() {
                Value::Array(list) => list.iter_mut().collect(),
                one => vec![one],
            };
            for u in users {
                let id = u["id"].as_str().unwrap_or_default();
                if let Some(st) = self.unknown_status.get(id) {
                    u["status"] = st.as_str().into();
                }
            }
        }
        self.answer(a)
    }
}

/// The fake's handle on a request started early: answered when read (so
/// the org is as it is then), and counted as dropped if never read.
struct Ticket {
    request: HttpRequest,
    on_the_way: Rc<std::cell::RefCell<Vec<HttpRequest>>>,
    dropped: Rc<Cell<u32>>,
    read: bool,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut on_the_way = self.on_the_way.borrow_mut();
        if let Some(i) = on_the_way.iter().position(|r| *r == self.request) {
            on_the_way.remove(i);
        }
        if !self.read {
            self.dropped.set(self.dropped.get() + 1);
        }
    }
}

impl FakeOkta {
    /// The requests started early and not yet read.
    pub fn prefetched(&self) -> Vec<HttpRequest> {
        self.on_the_way.borrow().clone()
    }

    /// Requests started early and dropped unread.
    pub fn prefetch_dropped(&self) -> u32 {
        self.dropped.get()
    }
}

impl Http for FakeOkta {
    fn start(&mut self, req: HttpRequest) -> Started {
        let on_the_way = self.on_the_way.borrow().len();
        if self.on_the_way.borrow().iter().any(|r| r.url == req.url) {
            self.prefetch_repeated += 1;
            self.repeated_urls.push(req.url.clone());
        }
        let rate = self.budget();
        let used = rate.limit - rate.remaining;
        if used as usize + on_the_way >= rate.limit as usize {
            self.overcommitted += 1;
        }
        self.on_the_way.borrow_mut().push(req.clone());
        self.most_prefetched = self.most_prefetched.max(on_the_way + 1);
        Started {
            answer: Box::new(Ticket {
                request: req.clone(),
                on_the_way: self.on_the_way.clone(),
                dropped: self.dropped.clone(),
                read: false,
            }),
            request: req,
        }
    }

    fn receive(&mut self, started: Started) -> Result<HttpResponse, TransportError> {
        let Ok(mut ticket) = started.answer.downcast::<Ticket>() else {
            panic!("a request this fake did not start");
        };
        ticket.read = true;
        drop(ticket);
        self.prefetch_used += 1;
        self.send(&started.request)
    }

    fn has_arrived(&mut self, _: &Started) -> bool {
        self.interleave
    }

    fn first_arrived(&mut self, started: &[&Started]) -> usize {
        if !self.interleave {
            return 0;
        }
        self.turns += 1;
        match self.turns % 2 {
            0 => 0,
            _ => started.len() - 1,
        }
    }

    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        let at_ms = self.t();
        let window = self.budget().reset;
        if self.told_zero == Some(window) {
            self.violations += 1;
        }
        let fault = match self.faults.iter().position(|(m, _)| req.url.contains(m)) {
            Some(i) => self.faults.remove(i).map(|(_, f)| f),
            None => self
                .sticky
                .as_ref()
                .filter(|(m, _)| req.url.contains(m))
                .map(|(_, f)| f.clone()),
        };
        let resp = match fault {
            Some(Fault::Transport(e)) => {
                self.log.push(Logged {
                    url: req.url.clone(),
                    at_ms,
                    status: 0,
                });
                return Err(e);
            }
            Some(Fault::Status(s)) => {
                let _ = self.spend();
                self.answer(Answer::server_error(s))
            }
            Some(Fault::RateLimited { secs }) => {
                let mut r = self.answer(Answer::rate_limited());
                let reset = at_ms / 1000 + secs;
                for (k, v) in r.headers.iter_mut() {
                    match k.as_str() {
                        "X-Rate-Limit-Remaining" => *v = "0".into(),
                        "X-Rate-Limit-Reset" => *v = reset.to_string(),
                        _ => {}
                    }
                }
                r
            }
            Some(Fault::RateLimitedBare) => {
                let mut r = self.answer(Answer::rate_limited());
                r.headers.retain(|(k, _)| !k.starts_with("X-Rate-Limit"));
                r
            }
            None => match self.spend() {
                Ok(_) => self.route(&req.url),
                Err(rate) => {
                    self.told_zero = Some(rate.reset);
                    self.answer(Answer::rate_limited())
                }
            },
        };
        self.log.push(Logged {
            url: req.url.clone(),
            at_ms,
            status: resp.status,
        });
        Ok(resp)
    }
}
