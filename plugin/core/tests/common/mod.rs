//! In-memory fakes of the ports, with scripted HTTP answers.
#![allow(dead_code)]

pub mod directory;
pub mod okta;
pub mod world;

use std::cell::Cell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use plugin_core::{
    Clock, Host, Http, HttpRequest, HttpResponse, Level, Log, Secrets, SecretsError, Storage,
    StorageError, TransportError,
};

pub const TOKEN: &str = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789abcd";

#[derive(Default)]
pub struct FakeHttp {
    pub script: VecDeque<Result<HttpResponse, TransportError>>,
    pub sent: Vec<HttpRequest>,
}

impl FakeHttp {
    pub fn push(&mut self, r: Result<HttpResponse, TransportError>) -> &mut Self {
        self.script.push_back(r);
        self
    }
}

impl Http for FakeHttp {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent.push(req.clone());
        self.script
            .pop_front()
            .unwrap_or_else(|| Err(TransportError::Other("no scripted answer".into())))
    }
}

#[derive(Default)]
pub struct MemStorage {
    pub map: BTreeMap<String, Vec<u8>>,
    pub fail_set: bool,
}

impl Storage for MemStorage {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.map.get(key).cloned())
    }
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
        if self.fail_set {
            return Err(StorageError::QuotaExceeded);
        }
        self.map.insert(key.into(), value.to_vec());
        Ok(())
    }
    fn delete(&mut self, key: &str) -> Result<(), StorageError> {
        self.map.remove(key);
        Ok(())
    }
    fn list_keys(&mut self, prefix: &str) -> Result<Vec<String>, StorageError> {
        Ok(self
            .map
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
}

#[derive(Default)]
pub struct MemSecrets {
    pub map: BTreeMap<String, String>,
}

impl Secrets for MemSecrets {
    fn put(&mut self, name: &str, value: &str) -> Result<(), SecretsError> {
        self.map.insert(name.into(), value.into());
        Ok(())
    }
    fn get(&mut self, name: &str) -> Result<Option<String>, SecretsError> {
        Ok(self.map.get(name).cloned())
    }
    fn delete(&mut self, name: &str) -> Result<(), SecretsError> {
        self.map.remove(name);
        Ok(())
    }
}

/// Starts at 2026-11-28T17:00:00Z and advances 5 ms per reading; sleeping
/// panics, as the plugin must return waits to the host. Shared (`Rc`) so that
/// a fake Okta can read the same time.
pub struct StepClock(pub Rc<Cell<u64>>);

impl Default for StepClock {
    fn default() -> Self {
        StepClock(Rc::new(Cell::new(1_795_885_200_000)))
    }
}

impl Clock for StepClock {
    fn now_unix_ms(&self) -> u64 {
        let t = self.0.get();
        self.0.set(t + 5);
        t
    }
    fn sleep_ms(&self, _ms: u64) {
        panic!("the plugin slept inside a call: waits belong to the host");
    }
}

/// Level, message, fields.
pub type LogLine = (Level, String, Vec<(String, String)>);

#[derive(Default)]
pub struct MemLog {
    pub lines: Vec<LogLine>,
}

impl Log for MemLog {
    fn write(&mut self, level: Level, message: &str, fields: &[(&str, &str)]) {
        let fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.lines.push((level, message.into(), fields));
    }
}

impl MemLog {
    pub fn text(&self) -> String {
        format!("{:?}", self.lines)
    }
}

#[derive(Default)]
pub struct FakeHost {
    pub http: FakeHttp,
    pub storage: MemStorage,
    pub secrets: MemSecrets,
    pub clock: StepClock,
    pub log: MemLog,
    pub directory: directory::MemDirectory,
}

impl FakeHost {
    pub fn host(&mut self) -> Host<'_> {
        Host {
            http: &mut self.http,
            storage: &mut self.storage,
            secrets: &mut self.secrets,
            clock: &self.clock,
            log: &mut self.log,
            directory: &mut self.directory,
            signer: &plugin_core::NoSigner,
        }
    }

    /// Every stored value as text, to search for secrets.
    pub fn storage_text(&self) -> String {
        self.storage
            .map
            .iter()
            .map(|(k, v)| format!("{k}={}\n", String::from_utf8_lossy(v)))
            .collect()
    }
}

pub fn json(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![
            (
                "Content-Type".into(),
                "application/json;charset=UTF-8".into(),
            ),
            ("X-Rate-Limit-Limit".into(), "600".into()),
            ("X-Rate-Limit-Remaining".into(), "599".into()),
            ("X-Rate-Limit-Reset".into(), "1795885260".into()),
            ("X-Okta-Request-Id".into(), format!("req-{status}")),
        ],
        body: body.as_bytes().to_vec(),
    }
}

pub fn html(status: u16) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
        body: b"<!DOCTYPE html><html><body>Welcome to nginx</body></html>".to_vec(),
    }
}

pub fn okta_error(status: u16, code: &str, summary: &str) -> HttpResponse {
    json(
        status,
        &format!(
            r#"{{"errorCode":"{code}","errorSummary":"{summary}","errorLink":"{code}","errorId":"oae123","errorCauses":[]}}"#
        ),
    )
}

pub const USERS: &str = r#"[{"id":"00u1","status":"ACTIVE","profile":{"login":"a@acme.com"}}]"#;
pub const GROUPS: &str = r#"[{"id":"00g1","type":"OKTA_GROUP","profile":{"name":"Everyone"}}]"#;

/// Script a passing verification (users page, groups page).
pub fn script_ok(http: &mut FakeHttp) {
    http.push(Ok(json(200, USERS))).push(Ok(json(200, GROUPS)));
}
