//! A world for the SSO tests: the real fake Okta on loopback, reached through
//! a blocking HTTP adapter implementing the ports, and in-memory fakes of
//! storage, secrets, clock, log and Infraon's directory.
#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fake_okta::{BlockingFakeOkta, FakeOktaOptions, OidcClient, OrgSpec, UserInfo, UserStatus};
use plugin_core::{
    Clock, Directory, DirectoryError, FieldSpec, Host, Http, HttpRequest, HttpResponse, Level, Log,
    Person, PersonStatus, Role, Secrets, SecretsError, Storage, StorageError, StoredConfig,
    SyncTarget, TransportError, UpsertOutcome,
};
use plugin_sso::{FormPost, LoginStart, SignedIn, SsoError, SsoSettings};
use reqwest::blocking::Client;
use serde_json::{Value, json};

pub const CONFIG: &str = "Acme";
pub const REDIRECT: &str = "http://127.0.0.1:9/sso/callback";
pub const PUBLIC_ID: &str = "0oapublic0000000000";
pub const CONFIDENTIAL_ID: &str = "0oaconfidential0000";
pub const SECRET: &str = "s3cr3t+with/odd=chars";

/// Every URL the plugin sent, in order, shared by the GET and POST adapters.
pub type Sent = Rc<RefCell<Vec<(String, String)>>>;

/// The `Http` and `FormPost` ports over reqwest, never following redirects.
pub struct OktaHttp {
    client: Client,
    pub sent: Sent,
}

impl OktaHttp {
    fn new(sent: Sent) -> Self {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        OktaHttp { client, sent }
    }

    fn read(
        resp: reqwest::Result<reqwest::blocking::Response>,
    ) -> Result<HttpResponse, TransportError> {
        let resp = resp.map_err(|e| TransportError::Connection(e.to_string()))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_owned()))
            .collect();
        let body = resp
            .bytes()
            .map_err(|e| TransportError::Other(e.to_string()))?
            .to_vec();
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

impl Http for OktaHttp {
    fn send(&mut self, req: &HttpRequest) -> Result<HttpResponse, TransportError> {
        self.sent
            .borrow_mut()
            .push((req.method.clone(), req.url.clone()));
        let mut r = self
            .client
            .request(req.method.parse().expect("method"), &req.url);
        for (n, v) in &req.headers {
            r = r.header(n, v);
        }
        Self::read(r.send())
    }
}

impl FormPost for OktaHttp {
    fn post_form(
        &mut self,
        url: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<HttpResponse, TransportError> {
        self.sent.borrow_mut().push(("POST".into(), url.into()));
        let mut r = self.client.post(url).body(body.to_vec());
        for (n, v) in headers {
            r = r.header(n, v);
        }
        Self::read(r.send())
    }
}

#[derive(Default)]
pub struct MemStorage {
    pub map: BTreeMap<String, Vec<u8>>,
}

impl MemStorage {
    pub fn list_keys_of(&self, prefix: &str) -> Vec<String> {
        self.map
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect()
    }
}

impl Storage for MemStorage {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.map.get(key).cloned())
    }
    fn set(&mut self, key: &str, value: &[u8]) -> Result<(), StorageError> {
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

/// Wall-clock time (the fake Okta stamps tokens with it) plus an offset
/// the tests move to let a login expire.
#[derive(Default)]
pub struct TestClock {
    pub offset_ms: Cell<u64>,
}

impl TestClock {
    pub fn advance_ms(&self, ms: u64) {
        self.offset_ms.set(self.offset_ms.get() + ms);
    }
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

impl Clock for TestClock {
    fn now_unix_ms(&self) -> u64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        real + self.offset_ms.get()
    }
    fn sleep_ms(&self, ms: u64) {
        self.advance_ms(ms);
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

/// Infraon's people keyed by (kind, Okta id), refusing to give an email
/// another person owns, as Infraon does.
#[derive(Default)]
pub struct MemDirectory {
    pub people: BTreeMap<(String, String), Person>,
    pub upserts: u32,
}

impl MemDirectory {
    pub fn get(&self, kind: SyncTarget, id: &str) -> Option<&Person> {
        self.people.get(&(kind.as_str().into(), id.into()))
    }
}

impl Directory for MemDirectory {
    fn upsert(&mut self, person: &Person) -> Result<UpsertOutcome, DirectoryError> {
        self.upserts += 1;
        let taken = self.people.values().any(|p| {
            p.kind == person.kind
                && p.external_id != person.external_id
                && p.email.eq_ignore_ascii_case(&person.email)
        });
        if taken {
            return Err(DirectoryError::Conflict(format!(
                "email {} belongs to another person",
                person.email
            )));
        }
        let key = (person.kind.as_str().into(), person.external_id.clone());
        Ok(match self.people.insert(key, person.clone()) {
            None => UpsertOutcome::Created,
            Some(old) if old == *person => UpsertOutcome::Unchanged,
            Some(_) => UpsertOutcome::Updated,
        })
    }
    fn upsert_batch(&mut self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        people.iter().map(|p| self.upsert(p)).collect()
    }
    fn set_status(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), DirectoryError> {
        match self
            .people
            .get_mut(&(kind.as_str().into(), external_id.into()))
        {
            Some(p) => {
                p.status = status;
                Ok(())
            }
            None => Err(DirectoryError::NotFound(external_id.into())),
        }
    }
    fn find_by_external_id(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self.get(kind, external_id).cloned())
    }
    fn find_by_email(
        &mut self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        Ok(self
            .people
            .values()
            .find(|p| p.kind == kind && p.email.eq_ignore_ascii_case(email))
            .cloned())
    }
    fn list_linked(
        &mut self,
        config: &str,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        Ok(self
            .people
            .values()
            .filter(|p| p.kind == kind && p.config == config)
            .map(|p| p.external_id.clone())
            .collect())
    }
    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
        let role = |name: &str, kind| Role {
            name: name.into(),
            kind,
            privileged: name == "Administrator",
        };
        Ok(vec![
            role("Administrator", SyncTarget::Users),
            role("Technician", SyncTarget::Users),
            role("Requester", SyncTarget::Requesters),
            role("VIP Requester", SyncTarget::Requesters),
        ])
    }
    fn list_fields(&mut self, _kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        Ok(Vec::new())
    }
}

/// The fake Okta, an installed config `Acme` pointing at it, and the ports.
pub struct World {
    pub okta: BlockingFakeOkta,
    pub http: OktaHttp,
    pub post: OktaHttp,
    pub sent: Sent,
    pub storage: MemStorage,
    pub secrets: MemSecrets,
    pub clock: TestClock,
    pub log: MemLog,
    pub directory: MemDirectory,
}

impl World {
    /// A world with SSO on (public client, org server) and one linked,
    /// active technician.
    pub fn with_technician() -> (World, UserInfo) {
        let mut w = World::new();
        w.configure_public();
        let user = w.active(0);
        w.link(
            &user,
            SyncTarget::Users,
            &["Technician"],
            PersonStatus::Active,
        );
        (w, user)
    }

    pub fn new() -> World {
        let okta = BlockingFakeOkta::start(FakeOktaOptions {
            org: OrgSpec {
                users: 20,
                groups: 2,
                seed: 42,
                memberships_per_user: 1,
            },
            ..FakeOktaOptions::default()
        })
        .expect("fake Okta starts");
        okta.register_oidc_client(OidcClient {
            client_id: PUBLIC_ID.into(),
            client_secret: None,
            redirect_uris: vec![REDIRECT.into()],
        });
        okta.register_oidc_client(OidcClient {
            client_id: CONFIDENTIAL_ID.into(),
            client_secret: Some(SECRET.into()),
            redirect_uris: vec![REDIRECT.into()],
        });
        let sent: Sent = Rc::default();
        let mut w = World {
            okta,
            http: OktaHttp::new(sent.clone()),
            post: OktaHttp::new(sent.clone()),
            sent,
            storage: MemStorage::default(),
            secrets: MemSecrets::default(),
            clock: TestClock::default(),
            log: MemLog::default(),
            directory: MemDirectory::default(),
        };
        w.install(CONFIG, SyncTarget::Users);
        w
    }

    /// Installs a config on the fake Okta, as the install flow stores it.
    pub fn install(&mut self, name: &str, target: SyncTarget) {
        let cfg = StoredConfig {
            name: name.into(),
            okta_origin: self.okta.url(),
            sync_target: target,
            development_mode: true,
            installed_at: "2026-11-28T17:00:00Z".into(),
            updated_at: "2026-11-28T17:00:00Z".into(),
            last_verified_at: None,
            role_defaults: plugin_core::mapping::ROLE_DEFAULTS_VERSION,
            auth: Default::default(),
        };
        plugin_core::store::save_config(&mut self.storage, &cfg).expect("config saved");
    }

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

    pub fn configure(&mut self, settings: SsoSettings) -> Result<(), SsoError> {
        plugin_sso::configure(&mut self.host(), CONFIG, settings)
    }

    /// SSO on for both populations with the public client on the org server.
    pub fn configure_public(&mut self) {
        self.configure(settings(PUBLIC_ID, None, None))
            .expect("settings saved");
    }

    pub fn begin(&mut self, kind: SyncTarget) -> Result<LoginStart, SsoError> {
        plugin_sso::begin_login(&mut self.host(), CONFIG, kind, REDIRECT)
    }

    /// A token-request port sharing this world's record of URLs sent.
    pub fn post_port(&self) -> OktaHttp {
        OktaHttp::new(self.sent.clone())
    }

    pub fn complete(&mut self, state: &str, code: &str) -> Result<SignedIn, SsoError> {
        let mut post = OktaHttp::new(self.sent.clone());
        plugin_sso::complete_login(&mut self.host(), &mut post, CONFIG, state, code)
    }

    /// Follows the authorize URL at the fake Okta as `login` would sign in;
    /// returns the callback's query.
    pub fn authorize(&self, start: &LoginStart, login: &str) -> HashMap<String, String> {
        let url = format!(
            "{}&login_hint={}",
            start.authorize_url,
            url::form_urlencoded::byte_serialize(login.as_bytes()).collect::<String>()
        );
        let resp = self.http.client.get(url).send().expect("authorize");
        assert_eq!(resp.status(), 302, "authorize redirects back");
        let loc = resp.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(loc.starts_with(REDIRECT), "{loc}");
        url::Url::parse(&loc)
            .expect("absolute")
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// Begin, sign in at Okta as `login`, complete.
    pub fn sign_in(&mut self, kind: SyncTarget, login: &str) -> Result<SignedIn, SsoError> {
        let start = self.begin(kind).expect("login begins");
        let back = self.authorize(&start, login);
        assert_eq!(back.get("state"), Some(&start.state));
        let code = back.get("code").expect("a code").clone();
        self.complete(&start.state, &code)
    }

    /// An Okta user of this status.
    pub fn user(&self, status: UserStatus) -> UserInfo {
        self.okta
            .org()
            .users
            .into_iter()
            .find(|u| u.status == status)
            .expect("a user with that status")
    }

    /// The `n`-th active Okta user.
    pub fn active(&self, n: usize) -> UserInfo {
        self.okta
            .org()
            .users
            .into_iter()
            .filter(|u| u.status == UserStatus::Active)
            .nth(n)
            .expect("enough active users")
    }

    /// Links `user` to an Infraon person of `kind`, as the sync would.
    pub fn link(
        &mut self,
        user: &UserInfo,
        kind: SyncTarget,
        roles: &[&str],
        status: PersonStatus,
    ) {
        let person = Person {
            external_id: user.id.clone(),
            config: CONFIG.into(),
            kind,
            login: user.login.clone(),
            email: user.login.clone(),
            first_name: "Pat".into(),
            last_name: "Doe".into(),
            display_name: format!("Pat Doe ({})", user.login),
            fields: Vec::new(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            status,
        };
        self.directory.upsert(&person).expect("linked");
    }

    /// URLs sent so far that end with `suffix`.
    pub fn count_sent(&self, suffix: &str) -> usize {
        self.sent
            .borrow()
            .iter()
            .filter(|(_, u)| u.ends_with(suffix))
            .count()
    }

    /// A query parameter of the authorize URL.
    pub fn param(start: &LoginStart, name: &str) -> String {
        let url = url::Url::parse(&start.authorize_url).expect("absolute");
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no {name} in the authorize URL"))
    }

    /// Begins a login, then has Okta answer its code with `id_token`
    /// (built by `forge` from this login's nonce) instead of a real one.
    pub fn complete_with(
        &mut self,
        kind: SyncTarget,
        forge: impl FnOnce(&World, &str) -> String,
    ) -> (Result<SignedIn, SsoError>, String) {
        let start = self.begin(kind).expect("login begins");
        let nonce = Self::param(&start, "nonce");
        let challenge = Self::param(&start, "code_challenge");
        let client_id = Self::param(&start, "client_id");
        let id_token = forge(self, &nonce);
        let code =
            self.okta
                .issue_code_with_id_token(&client_id, REDIRECT, id_token, Some(challenge));
        let result = self.complete(&start.state, &code);
        if let Err(e) = &result {
            assert!(!e.to_string().contains(&code), "the code leaked: {e}");
        }
        (result, code)
    }

    /// Claims a real Okta ID token for `user` would carry.
    pub fn claims(&self, user: &UserInfo, nonce: &str) -> Value {
        let now = now_secs();
        json!({
            "ver": 1,
            "sub": user.id,
            "iss": self.okta.issuer(None),
            "aud": PUBLIC_ID,
            "iat": now,
            "exp": now + 3600,
            "nonce": nonce,
            "name": "Pat Doe",
            "preferred_username": user.login,
            "email": user.login,
        })
    }
}

pub fn settings(client_id: &str, secret: Option<&str>, server: Option<&str>) -> SsoSettings {
    SsoSettings {
        users_enabled: true,
        requesters_enabled: true,
        client_id: client_id.into(),
        client_secret: secret.map(str::to_owned),
        authorization_server: server.map(str::to_owned),
        jit_requesters: false,
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64json(v: &Value) -> String {
    b64url(&serde_json::to_vec(v).expect("json"))
}
