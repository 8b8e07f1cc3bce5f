//! A fake Okta org, a fake Infraon directory and the other ports, with an
//! installed config, for driving sync runs.

use plugin_core::store::save_config;
use plugin_core::sync::{self, Settings, Wait};
use plugin_core::{
    Host, Person, RunRecord, Secrets, StepStatus, StoredConfig, SyncError, SyncMode, SyncRun,
    SyncTarget, Trigger,
};
use serde_json::{Value, json};

use super::directory::MemDirectory;
use super::okta::{FakeOkta, ORIGIN};
use super::{MemLog, MemSecrets, MemStorage, StepClock, TOKEN};

pub const CONFIG: &str = "acme";

pub struct World {
    pub okta: FakeOkta,
    pub storage: MemStorage,
    pub secrets: MemSecrets,
    pub clock: StepClock,
    pub log: MemLog,
    pub dir: MemDirectory,
    pub kind: SyncTarget,
}

impl World {
    pub fn new(kind: SyncTarget) -> World {
        let clock = StepClock::default();
        let mut w = World {
            okta: FakeOkta::new(clock.0.clone()),
            storage: MemStorage::default(),
            secrets: MemSecrets::default(),
            clock,
            log: MemLog::default(),
            dir: MemDirectory::default(),
            kind,
        };
        let cfg = StoredConfig {
            name: CONFIG.into(),
            okta_origin: ORIGIN.into(),
            sync_target: kind,
            development_mode: false,
            installed_at: "2026-11-28T17:00:00Z".into(),
            updated_at: "2026-11-28T17:00:00Z".into(),
            last_verified_at: None,
            role_defaults: plugin_core::mapping::ROLE_DEFAULTS_VERSION,
            auth: Default::default(),
        };
        save_config(&mut w.storage, &cfg).unwrap();
        w.secrets.put(&format!("token/{CONFIG}"), TOKEN).unwrap();
        w
    }

    pub fn host(&mut self) -> Host<'_> {
        Host {
            http: &mut self.okta,
            storage: &mut self.storage,
            secrets: &mut self.secrets,
            clock: &self.clock,
            log: &mut self.log,
            directory: &mut self.dir,
            signer: &plugin_core::NoSigner,
        }
    }

    /// Grant the Infraon role named like each group (the `{group}` rule the
    /// admin adds; the default mapping grants only the default role).
    pub fn roles_by_group_name(&mut self) {
        let m = plugin_core::mapping::legacy_defaults(self.kind);
        plugin_core::mapping::set(&mut self.host(), CONFIG, m).unwrap();
    }

    pub fn settings(&mut self, s: Settings) {
        sync::save_settings(&mut self.storage, CONFIG, &s).unwrap();
    }

    pub fn advance(&mut self, ms: u64) {
        self.clock.0.set(self.clock.0.get() + ms);
    }

    pub fn start(&mut self, mode: SyncMode) -> Result<SyncRun, SyncError> {
        SyncRun::start(&mut self.host(), CONFIG, mode, Trigger::Manual)
    }

    /// One step, checking that it fetched at most three pages: the one it
    /// applies and the next one of each listing under way (the users and
    /// the `DEPROVISIONED` ones), read while Infraon applies the first.
    pub fn step(&mut self, run: &mut SyncRun) -> Result<StepStatus, SyncError> {
        let before = self.okta.pages();
        let status = run.step(&mut self.host());
        assert!(
            self.okta.pages() - before <= 3,
            "a step fetched more than its page and the next of each listing"
        );
        status
    }

    /// Step a run to its end, waiting out its waits as a host does.
    pub fn finish(&mut self, run: &mut SyncRun) -> Result<RunRecord, SyncError> {
        for _ in 0..100_000 {
            match self.step(run)? {
                StepStatus::Finished(r) => return Ok(r),
                StepStatus::Waiting(_, wait) => self.wait_out(run, &wait),
                StepStatus::Working(..) => {}
            }
        }
        panic!("the run never finished");
    }

    /// Check that a step before the wait is over sends nothing and answers
    /// the same wait, then move the clock to the wait's end.
    pub fn wait_out(&mut self, run: &mut SyncRun, wait: &Wait) {
        if self.clock.0.get() < wait.until_unix_ms {
            let sent = self.okta.log.len();
            match run.step(&mut self.host()) {
                Ok(StepStatus::Waiting(_, again)) => assert_eq!(&again, wait),
                other => panic!("a step before the wait is over: {other:?}"),
            }
            assert_eq!(self.okta.log.len(), sent, "a step sent during a wait");
        }
        let now = self.clock.0.get();
        self.clock.0.set(now.max(wait.until_unix_ms));
    }

    pub fn try_run(&mut self, mode: SyncMode) -> Result<RunRecord, SyncError> {
        let mut run = self.start(mode)?;
        self.finish(&mut run)
    }

    pub fn run(&mut self, mode: SyncMode) -> RunRecord {
        self.try_run(mode).unwrap()
    }

    pub fn person(&self, id: &str) -> &Person {
        self.dir
            .get(self.kind, id)
            .unwrap_or_else(|| panic!("{id} is not in the directory"))
    }

    /// Every linked person, sorted by external id.
    pub fn people(&self) -> Vec<Person> {
        self.dir.people.values().cloned().collect()
    }

    /// `users` users `u0000..`, all ACTIVE, and `groups` groups `g0000..`
    /// named "Group N"; user i is in group i % groups.
    pub fn seed(&mut self, users: usize, groups: usize) {
        for g in 0..groups {
            self.okta.add_group(&gid(g), &format!("Group {g}"));
        }
        for i in 0..users {
            self.okta.add_user(&uid(i), "ACTIVE", profile(i));
            if groups > 0 {
                self.okta.add_member(&gid(i % groups), &uid(i));
            }
        }
    }
}

pub fn uid(i: usize) -> String {
    format!("00u{i:05}")
}

pub fn gid(i: usize) -> String {
    format!("00g{i:05}")
}

pub fn profile(i: usize) -> Value {
    json!({
        "login": format!("user{i}@acme.com"),
        "email": format!("user{i}@acme.com"),
        "firstName": format!("First{i}"),
        "lastName": format!("Last{i}"),
        "displayName": null,
        "mobilePhone": format!("+1 555 {i:04}"),
        "department": "Ops",
        "title": "Engineer",
        "employeeNumber": format!("E{i:05}"),
        "manager": "Boss",
        "costCenter": "CC-1",
        "officeLocation": "Pune",
        "badgeNumber": 1000 + i,
    })
}
