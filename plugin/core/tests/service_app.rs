//! Service apps end to end in the core, against the real fake Okta on
//! loopback: install, verify and sync with bearer and DPoP-bound tokens,
//! renewal, every refusal named, and what the plugin sends checked.
#![allow(dead_code)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::directory::MemDirectory;
use common::{MemLog, MemSecrets, MemStorage};
use fake_okta::{BlockingFakeOkta, ClientKey, FakeOktaOptions, ServiceApp};
use plugin_core::config::ServiceAppForm;
use plugin_core::install::{install, verify_form};
use plugin_core::{
    Clock, ConfigForm, Host, Http, HttpRequest, HttpResponse, InstallOptions, KeyPurpose,
    PublicKey, SignError, Signer, StepStatus, SyncMode, SyncRun, SyncTarget, TransportError,
    Trigger,
};
use reqwest::blocking::Client;
use serde_json::Value;

const APP: &str = "0oaserviceapp000000";
const CONFIG: &str = "Acme";
const ALL: [&str; 3] = ["okta.users.read", "okta.groups.read", "okta.schemas.read"];

/// Every request the plugin sent: method, URL, headers, body.
type Sent = Rc<RefCell<Vec<(HttpRequest, Vec<u8>)>>>;

struct LoopbackHttp {
    client: Client,
    sent: Sent,
}

impl LoopbackHttp {
    fn go(&mut self, req: &HttpRequest, body: &[u8]) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push((req.clone(), body.to_vec()));
        let mut r = self.client.request(req.method.parse().unwrap(), &req.url);
        for (n, v) in &req.headers {
            r = r.header(n, v);
        }
        if !body.is_empty() {
            r = r.body(body.to_vec());
        }
        let resp = r
            .send()
            .map_err(|e| TransportError::Connection(e.to_string()))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = resp
            .bytes()
            .map_err(|e| TransportError::Other(e.to_string()))?;
        Ok(HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}

impl Http for LoopbackHttp {
    // Requests started early are sent at once, their answers kept (the
    // port's default `start`): Okta sees them in the order asked.
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.go(req, &[])
    }
    fn post_form(
        &mut self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        let req = HttpRequest {
            method: "POST".into(),
            url: url.into(),
            headers: headers.to_vec(),
        };
        self.go(&req, body)
    }
}

/// The host's signer, played by two fake client keys.
struct KeySigner {
    assertion: ClientKey,
    dpop: ClientKey,
}

impl Signer for KeySigner {
    fn public_key(&self, config: &str, purpose: KeyPurpose) -> Result<PublicKey, SignError> {
        assert_eq!(config, CONFIG);
        let k = match purpose {
            KeyPurpose::ClientAssertion => &self.assertion,
            KeyPurpose::Dpop => &self.dpop,
        };
        Ok(PublicKey {
            kid: k.kid().to_owned(),
            jwk: k.public_jwk(),
        })
    }
    fn sign(&self, _: &str, kid: &str, input: &[u8]) -> Result<Vec<u8>, SignError> {
        [&self.assertion, &self.dpop]
            .into_iter()
            .find(|k| k.kid() == kid)
            .map(|k| k.sign(input))
            .ok_or_else(|| SignError::NoKey(kid.to_owned()))
    }
}

struct Wall;

impl Clock for Wall {
    fn now_unix_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }
    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

struct World {
    okta: BlockingFakeOkta,
    http: LoopbackHttp,
    sent: Sent,
    storage: MemStorage,
    secrets: MemSecrets,
    log: MemLog,
    dir: MemDirectory,
    signer: KeySigner,
}

impl World {
    /// A fake Okta with a service app granted `scopes`, requiring DPoP or not.
    fn new(scopes: &[&str], app_dpop: bool) -> World {
        let okta = BlockingFakeOkta::start(FakeOktaOptions::default()).expect("fake okta");
        let signer = KeySigner {
            assertion: ClientKey::for_seed(11),
            dpop: ClientKey::for_seed(12),
        };
        okta.register_service_app(ServiceApp {
            client_id: APP.into(),
            jwks: vec![signer.assertion.public_jwk()],
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            dpop: app_dpop,
        });
        let sent = Sent::default();
        World {
            okta,
            http: LoopbackHttp {
                client: Client::new(),
                sent: sent.clone(),
            },
            sent,
            storage: MemStorage::default(),
            secrets: MemSecrets::default(),
            log: MemLog::default(),
            dir: MemDirectory::default(),
            signer,
        }
    }

    fn host(&mut self) -> Host<'_> {
        Host {
            http: &mut self.http,
            storage: &mut self.storage,
            secrets: &mut self.secrets,
            clock: &Wall,
            log: &mut self.log,
            directory: &mut self.dir,
            signer: &self.signer,
        }
    }

    fn form(&self, client_id: &str, dpop: bool) -> ConfigForm {
        ConfigForm {
            name: CONFIG.into(),
            okta_domain: self.okta.url(),
            api_token: String::new(),
            sync_target: SyncTarget::Users,
            service_app: Some(ServiceAppForm {
                client_id: client_id.into(),
                dpop,
            }),
        }
    }

    fn install(&mut self, dpop: bool) {
        let form = self.form(APP, dpop);
        install(&mut self.host(), &form, &DEV).expect("installed");
    }

    fn verify_error(&mut self, client_id: &str, dpop: bool) -> String {
        let form = self.form(client_id, dpop);
        verify_form(&mut self.host(), &form, &DEV)
            .expect_err("verify must fail")
            .to_string()
    }

    fn start(&mut self) -> SyncRun {
        SyncRun::start(&mut self.host(), CONFIG, SyncMode::Full, Trigger::Manual).expect("start")
    }

    fn finish(&mut self, run: &mut SyncRun) -> plugin_core::RunRecord {
        loop {
            match run.step(&mut self.host()).expect("step") {
                StepStatus::Finished(r) => return r,
                _ => continue,
            }
        }
    }

    /// Every client assertion the plugin sent, decoded, with its headers' kid.
    fn assertions(&self) -> Vec<(Value, Value)> {
        self.sent
            .borrow()
            .iter()
            .filter(|(r, _)| r.method == "POST")
            .filter_map(|(_, body)| {
                url_form(body)
                    .into_iter()
                    .find(|(k, _)| k == "client_assertion")
                    .map(|(_, v)| decode(&v))
            })
            .collect()
    }

    /// Every `Authorization` value the plugin sent.
    fn credentials(&self) -> Vec<String> {
        self.sent
            .borrow()
            .iter()
            .flat_map(|(r, _)| r.headers.clone())
            .filter(|(n, _)| n.eq_ignore_ascii_case("Authorization"))
            .map(|(_, v)| v)
            .collect()
    }

    /// Everything the plugin kept or wrote: storage, secrets, log lines.
    fn everything_kept(&self) -> String {
        format!(
            "{:?}{:?}{:?}",
            self.storage
                .map
                .iter()
                .map(|(k, v)| (k, String::from_utf8_lossy(v)))
                .collect::<Vec<_>>(),
            self.secrets.map,
            self.log.lines
        )
    }
}

const DEV: InstallOptions = InstallOptions {
    development_mode: true,
};

fn url_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), unescape(v)))
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(if b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn decode(jwt: &str) -> (Value, Value) {
    let mut p = jwt.split('.');
    let mut part = || -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p.next().unwrap()).unwrap()).unwrap()
    };
    (part(), part())
}

/// What every assertion the plugin sent must be: `iss` = `sub` = the client
/// id, `aud` the token URL, a short `exp`, a `jti` used once, the right kid.
fn assert_assertions_fresh(w: &World) {
    let token_url = format!("{}/oauth2/v1/token", w.okta.url());
    let now = Wall.now_unix_ms() / 1000;
    let all = w.assertions();
    assert!(!all.is_empty());
    let mut jtis = std::collections::HashSet::new();
    for (header, claims) in &all {
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], w.signer.assertion.kid());
        assert_eq!(claims["iss"], APP);
        assert_eq!(claims["sub"], APP);
        assert_eq!(claims["aud"], token_url.as_str());
        let exp = claims["exp"].as_u64().unwrap();
        assert!(exp > now - 120 && exp <= now + 300, "exp {exp} now {now}");
        assert!(
            jtis.insert(claims["jti"].as_str().unwrap().to_owned()),
            "a jti sent twice"
        );
    }
    assert_eq!(w.okta.refused_assertions(), Vec::<String>::new());
}

#[test]
fn a_service_app_config_syncs_with_bearer_tokens_only() {
    let mut w = World::new(&ALL, false);
    w.install(false);
    let mut run = w.start();
    let record = w.finish(&mut run);
    assert_eq!(record.outcome, Some(plugin_core::RunOutcome::Succeeded));
    assert!(record.counts.created > 0);
    let api: Vec<_> = w
        .okta
        .auth_log()
        .into_iter()
        .filter(|e| e.path.starts_with("/api/"))
        .collect();
    assert!(!api.is_empty());
    assert!(api.iter().all(|e| e.scheme == "Bearer"), "{api:?}");
    assert!(w.okta.auth_log().iter().all(|e| e.scheme != "SSWS"));
    assert!(w.credentials().iter().all(|c| c.starts_with("Bearer ")));
    // One token for install's verify, one for the run: memory only.
    assert_eq!(w.okta.service_tokens_issued(), 2);
    assert_assertions_fresh(&w);
    let kept = w.everything_kept();
    for c in w.credentials() {
        let token = c.trim_start_matches("Bearer ");
        assert!(!kept.contains(token), "the access token was kept or logged");
    }
}

#[test]
fn an_expired_token_is_renewed_mid_run() {
    let mut w = World::new(&ALL, false);
    w.install(false);
    let mut run = w.start();
    run.step(&mut w.host()).expect("first step");
    let sent_before = w.okta.request_log().len();
    w.okta.expire_service_tokens();
    let record = w.finish(&mut run);
    assert_eq!(record.outcome, Some(plugin_core::RunOutcome::Succeeded));
    // Several requests on their way at once meet the expiry: one renewal
    // serves them all.
    let log = w.okta.request_log();
    let renewals = log[sent_before..]
        .iter()
        .filter(|l| l.path_and_query.starts_with("/oauth2/v1/token"))
        .count();
    assert_eq!(renewals, 1, "one renewal");
    assert!(log[sent_before..].iter().any(|l| l.status == 401));
    assert_assertions_fresh(&w);
}

#[test]
fn dpop_bound_tokens_sync_with_a_proof_per_request_and_answer_the_nonce() {
    let mut w = World::new(&ALL, true);
    w.install(true);
    w.okta.rotate_dpop_nonce();
    let mut run = w.start();
    run.step(&mut w.host()).expect("first step");
    w.okta.expire_service_tokens();
    let record = w.finish(&mut run);
    assert_eq!(record.outcome, Some(plugin_core::RunOutcome::Succeeded));
    let log = w.okta.auth_log();
    let api: Vec<_> = log.iter().filter(|e| e.path.starts_with("/api/")).collect();
    assert!(
        api.iter().all(|e| e.scheme == "DPoP" && e.dpop_proof),
        "{api:?}"
    );
    let token_requests: Vec<_> = log
        .iter()
        .filter(|e| e.path == "/oauth2/v1/token")
        .collect();
    assert!(token_requests.iter().all(|e| e.dpop_proof));
    // Proofs are single-use: every one the plugin sent differs.
    let proofs: Vec<String> = w
        .sent
        .borrow()
        .iter()
        .flat_map(|(r, _)| r.headers.clone())
        .filter(|(n, _)| n == "DPoP")
        .map(|(_, v)| v)
        .collect();
    let distinct: std::collections::HashSet<_> = proofs.iter().collect();
    assert_eq!(distinct.len(), proofs.len());
    // Pages read ahead were sent early with their proof and that answer
    // used: no page of users was asked for twice.
    let pages: Vec<String> = w
        .sent
        .borrow()
        .iter()
        .filter(|(r, _)| r.method == "GET" && r.url.contains("/api/v1/users?"))
        .map(|(r, _)| r.url.clone())
        .collect();
    let distinct_pages: std::collections::HashSet<_> = pages.iter().collect();
    assert!(pages.len() > 1);
    assert_eq!(distinct_pages.len(), pages.len(), "{pages:?}");
    assert_assertions_fresh(&w);
}

#[test]
fn verify_names_what_is_wrong_with_the_service_app() {
    let mut w = World::new(&["okta.users.read", "okta.groups.read"], true);
    let scope = w.verify_error(APP, true);
    assert!(scope.contains("okta.schemas.read"), "{scope}");
    assert!(!scope.contains("okta.users.read"), "{scope}");
    w.okta.grant_service_scopes(APP, &ALL);
    let dpop = w.verify_error(APP, false);
    assert!(dpop.contains("requires DPoP"), "{dpop}");
    let unknown = w.verify_error("0oanosuchapp0000000", true);
    assert!(
        unknown.contains("no service app with client ID"),
        "{unknown}"
    );
    w.okta.register_service_app(ServiceApp {
        client_id: APP.into(),
        jwks: vec![ClientKey::for_seed(13).public_jwk()],
        scopes: ALL.iter().map(|s| (*s).to_owned()).collect(),
        dpop: true,
    });
    let key = w.verify_error(APP, true);
    assert!(
        key.contains(w.signer.assertion.kid()) && key.contains("not registered"),
        "{key}"
    );
}
