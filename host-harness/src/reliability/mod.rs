//! The reliability report (`harness reliability`): every fault the fake Okta
//! can inject and every sandbox probe, run against verify and sync, each
//! measured for people lost, people wrongly deactivated, secrets leaked and
//! time to recover. The same cases run as tests
//! (`host-harness/tests/reliability.rs`).
//!
//! "Lost" and "wrongly deactivated" compare the fake Infraon directory with
//! the one an uninterrupted clean run against the same org produces, both
//! right after the faulty run and after recovery.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

mod check;
mod faults;
mod probes;
mod sso;
pub(crate) mod world;

pub use check::{Directory, Leaks};
pub use world::warm;

/// One case of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Case {
    /// Okta answers 500 (`E0000009`) twice, then recovers.
    ServerError,
    /// 5xx on a seeded fifth of the listing requests.
    FlakyServer,
    /// A gateway answers 503 to everything (HTML page, no Okta headers).
    ServiceUnavailable,
    /// Every answer takes 300 ms longer.
    Latency,
    /// The connection drops after the headers, twice.
    ConnectionReset,
    /// No answer before the request timeout, twice.
    Timeout,
    /// Every JSON body is cut off halfway.
    TruncatedJson,
    /// JSON served as `text/plain`.
    WrongContentType,
    /// A 200 HTML page (a sign-in portal) instead of JSON.
    HtmlErrorPage,
    /// Every `next` link points back at the first page.
    LinkLoop,
    /// Pages of 15 when `next` links ask for 10.
    PageLargerThanAsked,
    /// A 1 MB profile field.
    HugeProfileField,
    /// A profile attribute nested 1,000 levels deep.
    DeeplyNestedJson,
    /// Invalid UTF-8 inside a listing.
    InvalidUtf8,
    /// The last user of each page is also the first of the next.
    SameUserOnTwoPages,
    /// Users edited, added and deleted while the run pages through them.
    UsersChangedBetweenPages,
    /// Every request is rate limited (429 `E0000047`) for 2 s.
    RateLimitStorm,
    /// Rate limited with `X-Rate-Limit-Reset` a full minute ahead (the
    /// budget spent early in Okta's window).
    RateLimitMinute,
    /// A proxy's 429 with no rate-limit headers at all (the plugin waits
    /// its default minute).
    RateLimitNoReset,
    /// Probe guest: an endless loop.
    ProbeLoop,
    /// Probe guest: allocates past the memory cap.
    ProbeAlloc,
    /// Probe guest: panics.
    ProbePanic,
    /// Probe guest: overflows its stack.
    ProbeStack,
    /// Probe guest: calls a host outside the allowlist.
    ProbeEgress,
    /// Probe guest: calls `wasi:http` imports out of order.
    ProbeOrder,
}

impl Case {
    /// Every case, in report order.
    pub const ALL: [Case; 25] = [
        Case::ServerError,
        Case::FlakyServer,
        Case::ServiceUnavailable,
        Case::Latency,
        Case::ConnectionReset,
        Case::Timeout,
        Case::TruncatedJson,
        Case::WrongContentType,
        Case::HtmlErrorPage,
        Case::LinkLoop,
        Case::PageLargerThanAsked,
        Case::HugeProfileField,
        Case::DeeplyNestedJson,
        Case::InvalidUtf8,
        Case::SameUserOnTwoPages,
        Case::UsersChangedBetweenPages,
        Case::RateLimitStorm,
        Case::RateLimitMinute,
        Case::RateLimitNoReset,
        Case::ProbeLoop,
        Case::ProbeAlloc,
        Case::ProbePanic,
        Case::ProbeStack,
        Case::ProbeEgress,
        Case::ProbeOrder,
    ];

    /// The name printed in the report.
    pub fn name(self) -> &'static str {
        match self {
            Case::ServerError => "5xx (500 twice)",
            Case::FlakyServer => "5xx on 20% of listings (seeded)",
            Case::ServiceUnavailable => "5xx (503 gateway, always)",
            Case::Latency => "latency +300 ms",
            Case::ConnectionReset => "connection reset (twice)",
            Case::Timeout => "timeout, no answer (twice)",
            Case::TruncatedJson => "truncated JSON",
            Case::WrongContentType => "wrong content type",
            Case::HtmlErrorPage => "HTML page instead of JSON",
            Case::LinkLoop => "Link loop",
            Case::PageLargerThanAsked => "page larger than asked",
            Case::HugeProfileField => "1 MB profile field",
            Case::DeeplyNestedJson => "deeply nested JSON",
            Case::InvalidUtf8 => "invalid UTF-8",
            Case::SameUserOnTwoPages => "same user on two pages",
            Case::UsersChangedBetweenPages => "users changed between pages",
            Case::RateLimitStorm => "storm of 429s",
            Case::RateLimitMinute => "429, reset a minute ahead",
            Case::RateLimitNoReset => "429 without reset (proxy)",
            Case::ProbeLoop => "probe: endless loop",
            Case::ProbeAlloc => "probe: memory past the cap",
            Case::ProbePanic => "probe: panic",
            Case::ProbeStack => "probe: stack overflow",
            Case::ProbeEgress => "probe: egress off the allowlist",
            Case::ProbeOrder => "probe: imports out of order",
        }
    }
}

/// What one case did.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The case.
    pub case: Case,
    /// Its printed name.
    pub name: String,
    /// Verify under the fault (for probes: the probe's call).
    pub verify: String,
    /// The sync under the fault: how it ended (for probes: empty).
    pub outcome: String,
    /// An SSO sign-in completed under the fault (empty where the fault
    /// concerns listings only, and for probes).
    pub sso: String,
    /// Whether every outcome was a typed result or error (not `other`, not a hang).
    pub typed: bool,
    /// People in the clean directory missing from ours.
    pub lost: usize,
    /// People deactivated here but not in the clean directory.
    pub wrongly_deactivated: usize,
    /// Places a secret was found (logs, errors, CSV, export, state files).
    pub leaked: usize,
    /// From the fault's end to the next successful call, ms.
    pub recover_ms: Option<u64>,
}

/// Runs one case in its own fake Okta and state directory; `cache` is the
/// compiled-component cache (shared, so only the first case compiles).
pub async fn run_case(case: Case, cache: &Path) -> anyhow::Result<Row> {
    match case {
        Case::ProbeLoop
        | Case::ProbeAlloc
        | Case::ProbePanic
        | Case::ProbeStack
        | Case::ProbeEgress
        | Case::ProbeOrder => probes::run(case, cache).await,
        _ => faults::run(case, cache).await,
    }
}

/// Runs every case, a few at a time (each has its own servers and state).
pub async fn run_all(cache: &Path) -> anyhow::Result<Vec<Row>> {
    // Compile once before the cases race for the cache.
    world::warm(cache)?;
    let mut rows = Vec::new();
    for chunk in Case::ALL.chunks(6) {
        let runs = chunk.iter().map(|&c| {
            let cache = cache.to_path_buf();
            async move { run_case(c, &cache).await }
        });
        for row in futures_join(runs).await {
            rows.push(row?);
        }
    }
    Ok(rows)
}

async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("a reliability case panicked"));
    }
    out
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{} ms", d.as_millis()))
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// The report as a text table.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<32} {:<34} {:<44} {:<30} {:>4} {:>5} {:>6} {:>9}\n",
        "case", "verify", "sync outcome", "sso", "lost", "deact", "leaked", "recover"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<32} {:<34} {:<44} {:<30} {:>4} {:>5} {:>6} {:>9}{}\n",
            r.name,
            cut(&r.verify, 34),
            cut(&r.outcome, 44),
            cut(&r.sso, 30),
            r.lost,
            r.wrongly_deactivated,
            r.leaked,
            ms(r.recover_ms.map(Duration::from_millis)),
            if r.typed { "" } else { "  UNTYPED" }
        ));
    }
    out
}
