//! Shared set-up of the conformance tests: a fake Okta org, a fresh fake
//! Infraon in a temporary state directory, and the built plugin loaded into
//! the harness exactly as the CLI loads it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec};
use host_harness::bindings::infraon::okta::types::{ConfigForm, InstallOptions, SyncTarget};
use host_harness::policy::Limits;
use host_harness::{Infraon, Runtime};

/// One test's world.
pub struct World {
    pub okta: FakeOkta,
    pub runtime: Runtime,
    pub state: tempfile::TempDir,
}

/// Compiled-component cache shared by all tests of a binary, so only the
/// first test of each binary compiles the component.
pub fn shared_cache() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("okta-conformance-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Limits short enough for tests of deadlines and timeouts.
pub fn test_limits() -> Limits {
    Limits {
        request_timeout: Duration::from_secs(2),
        call_deadline: Duration::from_secs(20),
        ..Limits::default()
    }
}

pub async fn world(users: usize, groups: usize) -> World {
    let okta = FakeOkta::start(FakeOktaOptions {
        org: OrgSpec {
            users,
            groups,
            ..Default::default()
        },
        ..Default::default()
    })
    .await
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let runtime = runtime_in(state.path(), test_limits());
    World {
        okta,
        runtime,
        state,
    }
}

/// The component under test: `OKTA_CONFORMANCE_COMPONENT`, or the plugin
/// built with this workspace.
pub fn component_under_test() -> PathBuf {
    std::env::var_os("OKTA_CONFORMANCE_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(host_harness::OKTA_PLUGIN_WASM))
}

pub fn runtime_in(state: &Path, limits: Limits) -> Runtime {
    let infraon = Arc::new(Infraon::open(state).unwrap());
    Runtime::new(
        &component_under_test(),
        Some(&shared_cache()),
        infraon,
        limits,
    )
    .unwrap()
}

pub fn form(name: &str, domain: &str, token: &str) -> ConfigForm {
    ConfigForm {
        name: name.into(),
        okta_domain: domain.into(),
        api_token: token.into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    }
}

pub const DEV: InstallOptions = InstallOptions {
    development_mode: true,
};

impl World {
    pub fn good_form(&self, name: &str) -> ConfigForm {
        form(name, &self.okta.url(), self.okta.api_token())
    }

    pub fn infraon(&self) -> &Arc<Infraon> {
        self.runtime.infraon()
    }

    /// Every log line the host kept for the plugin, as one text.
    pub fn all_log_text(&self) -> String {
        let lines = self.infraon().log_lines(host_harness::PLUGIN_ID).unwrap();
        lines
            .iter()
            .map(|l| format!("{} {} {}\n", l.level, l.message, l.fields_json))
            .collect()
    }

    /// Every storage value of the plugin, as one lossy text.
    pub fn all_storage_text(&self) -> String {
        let infraon = self.infraon();
        let keys = infraon
            .storage_list_keys(host_harness::PLUGIN_ID, "")
            .unwrap();
        keys.iter()
            .map(|k| {
                let v = infraon
                    .storage_get(host_harness::PLUGIN_ID, k)
                    .unwrap()
                    .unwrap_or_default();
                format!("{k}={}\n", String::from_utf8_lossy(&v))
            })
            .collect()
    }

    /// The raw bytes of every file in the state directory (database, WAL, ...).
    pub fn raw_state_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.state.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() {
                all.extend(std::fs::read(path).unwrap());
            }
        }
        all
    }
}

/// A port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
