//! A scripted Okta org behind the `Http` port: users, groups and members
//! with `Link` paging, the exact filters the sync sends, a per-minute rate
//! limit, injected faults, and a request log on a shared virtual clock.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::rc::Rc;

use plugin_core::time::rfc3339_millis_from_unix_ms;
use plugin_core::{Http, HttpRequest, HttpResponse, TransportError};
use serde_json::{Value, json};

pub const ORIGIN: &str = "https://acme.okta.com";
/// Another org's origin the fake answers too (an org switch).
pub const ORIGIN_2: &str = "https://acme-eu.okta.com";

#[derive(Debug, Clone)]
pub struct OUser {
    pub status: String,
    pub profile: Value,
    pub last_updated: u64,
}

#[derive(Debug, Clone)]
pub struct OGroup {
    pub name: String,
    /// `OKTA_GROUP`, `APP_GROUP` or `BUILT_IN`.
    pub kind: String,
    pub members: BTreeSet<String>,
    pub last_updated: u64,
    pub last_membership_updated: u64,
}

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
    pub users: BTreeMap<String, OUser>,
    pub groups: BTreeMap<String, OGroup>,
    pub log: Vec<Logged>,
    /// Requests allowed per minute window.
    pub limit: u32,
    used: u32,
    window: u64,
    /// The window in which an answer said Remaining 0.
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
    /// The requests announced by `prefetch`, until sent.
    pub prefetched: Vec<HttpRequest>,
    /// Sends of a request prefetched before.
    pub prefetch_used: u32,
    /// Prefetched requests dropped unsent, the oldest beyond the limit.
    pub prefetch_dropped: u32,
    /// The most requests prefetched and not yet sent at once.
    pub most_prefetched: usize,
    /// Prefetches of a request already prefetched (asked for earlier
    /// still): not started twice.
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
            now,
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            log: Vec::new(),
            limit: 600,
            used: 0,
            window: 0,
            told_zero: None,
            violations: 0,
            faults: VecDeque::new(),
            sticky: None,
            custom_schema: vec![
                ("officeLocation".into(), "string".into()),
                ("badgeNumber".into(), "integer".into()),
            ],
            stale_search: BTreeMap::new(),
            prefetched: Vec::new(),
            prefetch_used: 0,
            prefetch_dropped: 0,
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

    // ---- org mutations, keeping lastUpdated / lastMembershipUpdated true ----

    /// A user; like Okta, every user is in the `BUILT_IN` groups.
    pub fn add_user(&mut self, id: &str, status: &str, profile: Value) {
        let t = self.t();
        self.users.insert(
            id.into(),
            OUser {
                status: status.into(),
                profile,
                last_updated: t,
            },
        );
        for g in self.groups.values_mut().filter(|g| g.kind == "BUILT_IN") {
            g.members.insert(id.into());
            g.last_membership_updated = t;
        }
    }

    pub fn add_group(&mut self, id: &str, name: &str) {
        self.add_typed_group(id, name, "OKTA_GROUP");
    }

    /// A group of type `kind`; a `BUILT_IN` one has every user.
    pub fn add_typed_group(&mut self, id: &str, name: &str, kind: &str) {
        let t = self.t();
        let members = match kind {
            "BUILT_IN" => self.users.keys().cloned().collect(),
            _ => BTreeSet::new(),
        };
        self.groups.insert(
            id.into(),
            OGroup {
                name: name.into(),
                kind: kind.into(),
                members,
                last_updated: t,
                last_membership_updated: t,
            },
        );
    }

    pub fn delete_group(&mut self, group: &str) {
        self.groups.remove(group);
    }

    pub fn add_member(&mut self, group: &str, user: &str) {
        let t = self.t();
        let g = self.groups.get_mut(group).unwrap();
        g.members.insert(user.into());
        g.last_membership_updated = t;
    }

    pub fn remove_member(&mut self, group: &str, user: &str) {
        let t = self.t();
        let g = self.groups.get_mut(group).unwrap();
        g.members.remove(user);
        g.last_membership_updated = t;
    }

    pub fn set_status(&mut self, user: &str, status: &str) {
        let t = self.t();
        let u = self.users.get_mut(user).unwrap();
        u.status = status.into();
        u.last_updated = t;
    }

    pub fn set_profile(&mut self, user: &str, attr: &str, value: Value) {
        let t = self.t();
        let u = self.users.get_mut(user).unwrap();
        u.profile[attr] = value;
        u.last_updated = t;
    }

    pub fn delete_user(&mut self, user: &str) {
        let t = self.t();
        self.users.remove(user);
        for g in self.groups.values_mut() {
            if g.members.remove(user) {
                g.last_membership_updated = t;
            }
        }
    }

    /// Other apps used the whole budget of the current window.
    pub fn exhaust(&mut self) {
        self.roll();
        self.used = self.limit;
    }

    /// Successful answers (pages) so far.
    pub fn pages(&self) -> usize {
        self.log.iter().filter(|l| l.status == 200).count()
    }

    // ---- serving ----

    fn roll(&mut self) {
        let w = self.t() / 60_000;
        if w != self.window {
            self.window = w;
            self.used = 0;
        }
    }

    fn reset_secs(&self) -> u64 {
        (self.window + 1) * 60
    }

    fn answer(&mut self, status: u16, body: Value, link: Option<String>) -> HttpResponse {
        let remaining = self.limit.saturating_sub(self.used);
        if remaining == 0 {
            self.told_zero = Some(self.window);
        }
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("X-Rate-Limit-Limit".into(), self.limit.to_string()),
            ("X-Rate-Limit-Remaining".into(), remaining.to_string()),
            ("X-Rate-Limit-Reset".into(), self.reset_secs().to_string()),
        ];
        if let Some(l) = link {
            headers.push(("Link".into(), l));
        }
        HttpResponse {
            status,
            headers,
            body: serde_json::to_vec(&body).unwrap(),
        }
    }

    fn error(&mut self, status: u16, code: &str) -> HttpResponse {
        self.answer(
            status,
            json!({"errorCode": code, "errorSummary": "fake", "errorId": "x"}),
            None,
        )
    }

    fn route(&mut self, url: &str) -> HttpResponse {
        let Some((origin, rest)) = [ORIGIN, ORIGIN_2]
            .into_iter()
            .find_map(|o| url.strip_prefix(o).map(|rest| (o, rest)))
        else {
            return self.error(404, "E0000022");
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let q: BTreeMap<String, String> = query
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode(k), decode(v))
            })
            .collect();
        let limit: usize = q.get("limit").and_then(|l| l.parse().ok()).unwrap_or(0);
        let after = q.get("after").cloned();
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match segs.as_slice() {
            ["api", "v1", "meta", "schemas", "user", "default"] => {
                let body = self.schema_json();
                return self.answer(200, body, None);
            }
            ["api", "v1", "users", who] => {
                let who = decode(who);
                let found = self.users.iter().find(|(id, u)| {
                    **id == who
                        || u.profile["login"]
                            .as_str()
                            .is_some_and(|l| l.eq_ignore_ascii_case(&who))
                });
                return match found.map(|(id, u)| user_json(id, u)) {
                    Some(body) => self.answer(200, body, None),
                    None => self.error(404, "E0000007"),
                };
            }
            _ => {}
        }
        let (items, max): (Vec<(String, Value)>, usize) = match segs.as_slice() {
            ["api", "v1", "groups"] => {
                let since = match q.get("filter") {
                    None => None,
                    Some(f) => match parse_group_filter(f) {
                        Some(t) => Some(t),
                        None => return self.error(400, "E0000031"),
                    },
                };
                let items = self
                    .groups
                    .iter()
                    .filter(|(_, g)| {
                        since.as_ref().is_none_or(|t| {
                            stamp(g.last_updated) > *t || stamp(g.last_membership_updated) > *t
                        })
                    })
                    .map(|(id, g)| (id.clone(), group_json(id, g)))
                    .collect();
                (items, 10_000)
            }
            ["api", "v1", "groups", gid, "users"] => {
                let Some(g) = self.groups.get(*gid) else {
                    return self.error(404, "E0000007");
                };
                let items = g
                    .members
                    .iter()
                    .filter_map(|u| self.users.get(u).map(|o| (u.clone(), user_json(u, o))))
                    .collect();
                (items, 1_000)
            }
            ["api", "v1", "users", uid, "groups"] => {
                let items = self
                    .groups
                    .iter()
                    .filter(|(_, g)| g.members.contains(*uid))
                    .map(|(id, g)| (id.clone(), group_json(id, g)))
                    .collect();
                (items, 200)
            }
            ["api", "v1", "users"] => {
                let filter = match (q.get("filter"), q.get("search")) {
                    (None, None) => UserFilter::Default,
                    (Some(f), None) if f == r#"status eq "DEPROVISIONED""# => {
                        UserFilter::Deprovisioned
                    }
                    (Some(f), None) => match parse_user_filter(f) {
                        Some(t) => UserFilter::Since(t),
                        None => return self.error(400, "E0000031"),
                    },
                    (None, Some(s)) if s == r#"status eq "DEPROVISIONED""# => {
                        UserFilter::SearchDeprovisioned
                    }
                    (None, Some(s)) => match parse_search(s) {
                        Some(search) => UserFilter::Search(search),
                        None => return self.error(400, "E0000031"),
                    },
                    _ => return self.error(400, "E0000031"),
                };
                let stale = &self.stale_search;
                let items = self
                    .users
                    .iter()
                    .filter(|(id, u)| match &filter {
                        UserFilter::Default => u.status != "DEPROVISIONED",
                        UserFilter::Deprovisioned => u.status == "DEPROVISIONED",
                        UserFilter::SearchDeprovisioned => {
                            stale.get(*id).unwrap_or(&u.status) == "DEPROVISIONED"
                        }
                        UserFilter::Since(t) => stamp(u.last_updated) > *t,
                        UserFilter::Search(q) => q.matches(id, u),
                    })
                    .map(|(id, u)| (id.clone(), user_json(id, u)))
                    .collect();
                (items, 200)
            }
            _ => return self.error(404, "E0000022"),
        };
        let limit = if limit == 0 { max } else { limit.min(max) };
        let start = items
            .iter()
            .position(|(id, _)| after.as_ref().is_none_or(|a| id > a))
            .unwrap_or(items.len());
        let page: Vec<Value> = items[start..]
            .iter()
            .take(limit)
            .map(|(_, v)| v.clone())
            .collect();
        let more = items.len() > start + limit;
        let link = more.then(|| {
            let last = &items[start + limit - 1].0;
            let kept: Vec<String> = query
                .split('&')
                .filter(|kv| !kv.starts_with("after="))
                .map(str::to_owned)
                .collect();
            format!(
                r#"<{origin}{path}?{}>; rel="self", <{origin}{path}?{}&after={last}>; rel="next""#,
                query,
                kept.join("&")
            )
        });
        self.answer(200, Value::Array(page), link)
    }
}

impl FakeOkta {
    fn schema_json(&self) -> Value {
        let base: serde_json::Map<String, Value> = [
            "login",
            "email",
            "firstName",
            "lastName",
            "displayName",
            "mobilePhone",
            "department",
            "title",
            "employeeNumber",
            "manager",
            "costCenter",
            "city",
        ]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                json!({"title": format!("Title of {n}"), "type": "string"}),
            )
        })
        .collect();
        let custom: serde_json::Map<String, Value> = self
            .custom_schema
            .iter()
            .map(|(n, t)| (n.clone(), json!({"title": n, "type": t})))
            .collect();
        json!({"id": "#default", "name": "user", "definitions": {
            "base": {"id": "#base", "type": "object", "properties": base},
            "custom": {"id": "#custom", "type": "object", "properties": custom}
        }})
    }
}

enum UserFilter {
    Default,
    Deprovisioned,
    SearchDeprovisioned,
    Since(String),
    Search(Search),
}

/// The `search` expressions a scope sends: `profile.K eq "V"` clauses
/// joined by `and`, alone, or in parentheses followed by
/// `and lastUpdated gt "T"` or `and id eq "X"`; every status included.
#[derive(Debug)]
pub struct Search {
    clauses: Vec<(String, String)>,
    since: Option<String>,
    id: Option<String>,
}

impl Search {
    fn matches(&self, id: &str, u: &OUser) -> bool {
        self.clauses.iter().all(|(k, v)| {
            u.profile
                .get(k)
                .and_then(Value::as_str)
                .is_some_and(|have| have.eq_ignore_ascii_case(v))
        }) && self
            .since
            .as_ref()
            .is_none_or(|t| stamp(u.last_updated) > *t)
            && self.id.as_ref().is_none_or(|want| want == id)
    }
}

fn parse_search(s: &str) -> Option<Search> {
    let (expr, since, id) = match s.strip_prefix('(') {
        Some(rest) => {
            let (expr, tail) = rest.split_once(") and ")?;
            if let Some(t) = tail.strip_prefix("lastUpdated gt \"") {
                (expr, Some(t.strip_suffix('"')?.to_owned()), None)
            } else {
                let i = tail.strip_prefix("id eq \"")?.strip_suffix('"')?;
                (expr, None, Some(i.to_owned()))
            }
        }
        None => (s, None, None),
    };
    let clauses = expr
        .split(" and ")
        .map(|c| {
            let (k, v) = c.split_once(" eq ")?;
            let k = k.trim().strip_prefix("profile.")?;
            let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
            (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()))
                .then(|| (k.to_owned(), v.to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Search { clauses, since, id })
}

fn stamp(ms: u64) -> String {
    rfc3339_millis_from_unix_ms(ms)
}

/// `lastUpdated gt "T"` → T.
fn parse_user_filter(f: &str) -> Option<String> {
    let t = f.strip_prefix("lastUpdated gt \"")?.strip_suffix('"')?;
    Some(t.to_owned())
}

/// `lastUpdated gt "T" or lastMembershipUpdated gt "T"` → T.
fn parse_group_filter(f: &str) -> Option<String> {
    let (a, b) = f.split_once(" or ")?;
    let t = parse_user_filter(a)?;
    let u = b
        .strip_prefix("lastMembershipUpdated gt \"")?
        .strip_suffix('"')?;
    (t == u).then_some(t)
}

fn user_json(id: &str, u: &OUser) -> Value {
    json!({"id": id, "status": u.status, "lastUpdated": stamp(u.last_updated), "profile": u.profile})
}

fn group_json(id: &str, g: &OGroup) -> Value {
    json!({"id": id, "type": g.kind, "lastUpdated": stamp(g.last_updated),
        "lastMembershipUpdated": stamp(g.last_membership_updated),
        "profile": {"name": g.name, "description": null}})
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(h, 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

impl Http for FakeOkta {
    fn arrived(&mut self, urls: &[&str], wait: bool) -> Option<usize> {
        if !self.interleave {
            return (wait && !urls.is_empty()).then_some(0);
        }
        let on_way: Vec<usize> = (0..urls.len())
            .filter(|&i| self.prefetched.iter().any(|p| p.url == urls[i]))
            .collect();
        if !wait {
            return on_way.first().copied();
        }
        self.turns += 1;
        match self.turns % 2 {
            0 => on_way.first().copied(),
            _ => on_way.last().copied(),
        }
        .or((!urls.is_empty()).then_some(0))
    }

    fn prefetch(&mut self, req: &HttpRequest) {
        if self.prefetched.contains(req) {
            self.prefetch_repeated += 1;
            self.repeated_urls.push(req.url.clone());
            return;
        }
        self.roll();
        if self.used as usize + self.prefetched.len() >= self.limit as usize {
            self.overcommitted += 1;
        }
        self.prefetched.push(req.clone());
        if self.prefetched.len() > plugin_core::ports::MAX_EARLY_REQUESTS {
            self.prefetched.remove(0);
            self.prefetch_dropped += 1;
        }
        self.most_prefetched = self.most_prefetched.max(self.prefetched.len());
    }

    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        if let Some(i) = self.prefetched.iter().position(|p| p == req) {
            self.prefetched.remove(i);
            self.prefetch_used += 1;
        }
        self.roll();
        let at_ms = self.t();
        if self.told_zero == Some(self.window) {
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
                self.used += 1;
                self.error(s, "E0000009")
            }
            Some(Fault::RateLimited { secs }) => {
                let mut r = self.error(429, "E0000047");
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
                let mut r = self.error(429, "E0000047");
                r.headers.retain(|(k, _)| !k.starts_with("X-Rate-Limit"));
                r
            }
            None if self.used >= self.limit => {
                let r = self.error(429, "E0000047");
                self.told_zero = Some(self.window);
                r
            }
            None => {
                self.used += 1;
                self.route(&req.url)
            }
        };
        self.log.push(Logged {
            url: req.url.clone(),
            at_ms,
            status: resp.status,
        });
        Ok(resp)
    }
}
