//! Helpers of the tests that drive the `harness` binary as separate
//! processes on one state directory.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use fake_infraon::{Infraon, SyncTarget};
use fake_okta::FakeOkta;

pub const HARNESS: &str = env!("CARGO_BIN_EXE_harness");

/// Run leases of this many seconds: a faster profile than the default 90 s,
/// so that a killed process's lease expires within the test.
pub const FAST_LEASE_TTL_SECS: &str = "2";

/// `harness --state-dir STATE`, quiet, with the fast lease profile.
pub fn harness(state: &Path) -> Command {
    let mut c = Command::new(HARNESS);
    c.arg("--state-dir")
        .arg(state)
        .env_remove("HARNESS_LOG")
        .env_remove("OKTA_API_TOKEN")
        .env("HARNESS_LEASE_TTL_SECS", FAST_LEASE_TTL_SECS)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Wall-clock Unix milliseconds, as leases count them.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// An org of 1,000 users and 12 groups, a compiled-component cache for the
/// subprocesses, and the directory an uninterrupted `harness sync` of it
/// into a fresh state gives: what the kill and takeover tests compare with.
pub async fn org_with_clean_directory() -> (FakeOkta, tempfile::TempDir, BTreeMap<String, String>) {
    let okta = start_org().await;
    let cache = tempfile::tempdir().unwrap();
    host_harness::reliability::warm(cache.path()).unwrap();
    let clean = installed(&okta, cache.path());
    sync_until_not_busy(clean.path());
    let expected = directory(clean.path());
    (okta, cache, expected)
}

/// A fake Okta serving the org of [`org_with_clean_directory`]: the same
/// seed, so the same people, on a port of its own.
pub async fn start_org() -> FakeOkta {
    FakeOkta::start(fake_okta::FakeOktaOptions {
        org: fake_okta::OrgSpec {
            users: 1_000,
            groups: 12,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap()
}

/// Exit status 3: another process holds the run lease.
pub fn is_busy(status: ExitStatus) -> bool {
    status.code() == Some(3)
}

/// Wait until no live process holds the run lease of `acme` (a killed
/// one's has expired), so the next `harness sync` runs rather than being
/// refused.
pub fn wait_until_lease_free(state: &Path) {
    let infraon = Infraon::open(state).unwrap();
    for _ in 0..200 {
        match infraon.lease_get("okta/acme").unwrap() {
            Some(lease) if lease.expires_at_ms > now_ms() => {
                std::thread::sleep(Duration::from_millis(50))
            }
            _ => return,
        }
    }
    panic!("the run lease never became free");
}

/// `harness sync --name acme` again while it answers busy, until it ends;
/// panics unless it ends in success.
pub fn sync_until_not_busy(state: &Path) {
    for _ in 0..100 {
        let status = harness(state)
            .args(["sync", "--name", "acme"])
            .status()
            .unwrap();
        if is_busy(status) {
            std::thread::sleep(Duration::from_millis(200));
            continue;
        }
        assert!(status.success(), "sync failed: {status}");
        return;
    }
    panic!("the run lease never became free");
}

/// A state directory with the plugin installed and the compiled component
/// copied in, so each subprocess starts without compiling.
pub fn installed(okta: &FakeOkta, cache: &Path) -> tempfile::TempDir {
    let state = tempfile::tempdir().unwrap();
    let own_cache = state.path().join("cache");
    std::fs::create_dir_all(&own_cache).unwrap();
    for entry in std::fs::read_dir(cache).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, own_cache.join(path.file_name().unwrap())).unwrap();
    }
    let status = harness(state.path())
        .args(["install", "--name", "acme", "--dev", "--domain"])
        .arg(okta.url())
        .arg("--token")
        .arg(okta.api_token())
        .status()
        .unwrap();
    assert!(status.success(), "install failed: {status}");
    state
}

/// Every Users person of a state directory, as comparable text.
pub fn directory(state: &Path) -> BTreeMap<String, String> {
    let infraon = Infraon::open(state).unwrap();
    infraon
        .people(SyncTarget::Users)
        .unwrap()
        .into_iter()
        .map(|p| {
            let text = format!(
                "{} {} {} {} {:?} {:?} {:?}",
                p.login, p.email, p.first_name, p.last_name, p.status, p.roles, p.fields
            );
            (p.external_id, text)
        })
        .collect()
}
