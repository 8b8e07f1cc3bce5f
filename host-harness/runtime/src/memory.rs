//! Every backend in memory, behind one lock: the reference a platform
//! compares its own backends with, the runtime's test double, and what
//! `examples/embed.rs` starts from. Nothing persists and secrets are not
//! encrypted (they never leave the process), so it is for tests and
//! demos, not for production.
//!
//! The directory enforces the rules the WIT documents, as the fake
//! Infraon does: no silent takeover of an email or login (compared
//! ignoring case), validation naming the field, roles of the person's
//! population only, `unchanged` when nothing stored differs, one config
//! per linked person. The seeded roles and fields are the fake Infraon's.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::backend::{
    BackendError, Directory, DirectoryError, FieldSpec, Installation, Installations, Lease, Leases,
    Log, Person, PersonStatus, Role, Schedules, Secrets, SecretsError, Storage, StorageError,
    SyncTarget, UpsertOutcome,
};
use crate::scheduler::Entry;

/// The largest stored value, as the fake Infraon allows.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// The most one owner may store in total, as the fake Infraon allows.
pub const MAX_OWNER_BYTES: usize = 64 << 20;

/// Fields that travel in the person record itself, never in `fields`.
const PERSON_ATTRIBUTES: [&str; 5] = ["login", "email", "first_name", "last_name", "display_name"];

/// One log line as kept: config, level, message, fields (JSON).
pub type LogLine = (Option<String>, String, String, String);

#[derive(Default)]
struct Inner {
    values: BTreeMap<(String, String), Vec<u8>>,
    secrets: BTreeMap<(String, String), String>,
    people: Vec<Person>,
    schedules: BTreeMap<(String, String), Entry>,
    log: Vec<LogLine>,
    installations: Vec<Installation>,
    leases: BTreeMap<String, Lease>,
}

/// Every capability in memory (see the module docs).
#[derive(Default)]
pub struct MemoryBackend {
    inner: Mutex<Inner>,
}

impl MemoryBackend {
    /// An empty platform with the seeded roles and fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether another call holds the lock now.
    fn busy(&self) -> bool {
        matches!(
            self.inner.try_lock(),
            Err(std::sync::TryLockError::WouldBlock)
        )
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves plain data behind.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Move `config`'s people in `from` (only those with these external
    /// ids, when given) to `to`: all or none, never duplicating a person.
    fn move_some(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        only: Option<&[String]>,
    ) -> Result<u32, DirectoryError> {
        if from == to {
            return Ok(0);
        }
        let mut inner = self.lock();
        let moving: Vec<usize> = (0..inner.people.len())
            .filter(|&i| {
                let p = &inner.people[i];
                p.kind == from
                    && p.config == config
                    && only.is_none_or(|ids| ids.contains(&p.external_id))
            })
            .collect();
        for &i in &moving {
            let p = &inner.people[i];
            if inner.linked(to, &p.external_id).is_some()
                || inner.holder(to, &p.email, &p.login, None).is_some()
            {
                return Err(DirectoryError::Conflict(format!(
                    "Infraon {} already has someone sharing Okta user `{}`, email or login; nobody was moved",
                    to.label(),
                    p.external_id
                )));
            }
        }
        let known = fields_of(to);
        for &i in &moving {
            let p = &mut inner.people[i];
            p.kind = to;
            p.roles.clear();
            p.fields
                .retain(|(n, _)| n.starts_with("custom.") || known.iter().any(|f| &f.name == n));
        }
        Ok(moving.len() as u32)
    }

    /// Everyone in a population (linked or not), in creation order.
    pub fn people(&self, kind: SyncTarget) -> Vec<Person> {
        let inner = self.lock();
        inner
            .people
            .iter()
            .filter(|p| p.kind == kind)
            .cloned()
            .collect()
    }

    /// Every log line kept, oldest first.
    pub fn log_lines(&self) -> Vec<LogLine> {
        self.lock().log.clone()
    }

    /// Every secret value kept, for tests that search them elsewhere.
    pub fn secret_values(&self) -> Vec<String> {
        self.lock().secrets.values().cloned().collect()
    }
}

fn rejected(field: &str, reason: impl Into<String>) -> DirectoryError {
    DirectoryError::Rejected {
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn email_ok(email: &str) -> bool {
    let mut parts = email.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && !email.chars().any(char::is_whitespace)
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        }
        _ => false,
    }
}

fn fields_of(kind: SyncTarget) -> Vec<FieldSpec> {
    let mut names = vec![
        ("login", true),
        ("email", true),
        ("first_name", false),
        ("last_name", false),
        ("display_name", true),
        ("phone", false),
        ("department", false),
        ("title", false),
        ("employee_number", false),
        ("manager", false),
    ];
    if kind == SyncTarget::Users {
        names.push(("location", false));
    }
    names
        .into_iter()
        .map(|(name, required)| FieldSpec {
            name: name.into(),
            required,
        })
        .collect()
}

fn roles() -> Vec<Role> {
    let role = |name: &str, kind, privileged| Role {
        name: name.into(),
        kind,
        privileged,
    };
    vec![
        role("Administrator", SyncTarget::Users, true),
        role("Change Manager", SyncTarget::Users, false),
        role("Service Desk Agent", SyncTarget::Users, false),
        role("Technician", SyncTarget::Users, false),
        role("Requester", SyncTarget::Requesters, false),
        role("VIP Requester", SyncTarget::Requesters, false),
    ]
}

/// `p` checked and in stored form: display name built, fields sorted,
/// roles sorted and deduplicated.
fn normalise(p: &Person) -> Result<Person, DirectoryError> {
    if p.external_id.trim().is_empty() {
        return Err(rejected("external_id", "must not be empty"));
    }
    if p.config.trim().is_empty() {
        return Err(rejected("config", "must not be empty"));
    }
    if p.login.trim().is_empty() {
        return Err(rejected("login", "must not be empty"));
    }
    if !email_ok(&p.email) {
        return Err(rejected(
            "email",
            format!("`{}` is not an email address", p.email),
        ));
    }
    let mut person = p.clone();
    if person.display_name.trim().is_empty() {
        person.display_name = format!("{} {}", p.first_name.trim(), p.last_name.trim())
            .trim()
            .to_string();
        if person.display_name.is_empty() {
            return Err(rejected("display_name", "is empty and nothing builds it"));
        }
    }
    let known = fields_of(p.kind);
    for (i, (name, _)) in p.fields.iter().enumerate() {
        let custom = name.strip_prefix("custom.").is_some_and(|r| !r.is_empty());
        if PERSON_ATTRIBUTES.contains(&name.as_str()) {
            return Err(rejected(name, "is an attribute of the person record"));
        }
        if !custom && !known.iter().any(|f| &f.name == name) {
            return Err(rejected(
                name,
                format!("Infraon {} have no such field", p.kind.label()),
            ));
        }
        if p.fields[..i].iter().any(|(n, _)| n == name) {
            return Err(rejected(name, "is given more than once"));
        }
    }
    person.fields.sort();
    person.roles.sort();
    person.roles.dedup();
    let all = roles();
    if let Some(bad) = person
        .roles
        .iter()
        .find(|r| !all.iter().any(|k| &k.name == *r && k.kind == p.kind))
    {
        return Err(rejected(
            "roles",
            format!("Infraon has no {} role `{bad}`", p.kind.label()),
        ));
    }
    Ok(person)
}

impl Inner {
    fn linked(&self, kind: SyncTarget, external_id: &str) -> Option<usize> {
        self.people.iter().position(|p| {
            p.kind == kind && !p.external_id.is_empty() && p.external_id == external_id
        })
    }

    fn holder(
        &self,
        kind: SyncTarget,
        email: &str,
        login: &str,
        except: Option<usize>,
    ) -> Option<usize> {
        self.people.iter().enumerate().position(|(i, p)| {
            Some(i) != except
                && p.kind == kind
                && (p.email.eq_ignore_ascii_case(email) || p.login.eq_ignore_ascii_case(login))
        })
    }

    fn upsert(&mut self, p: &Person) -> Result<UpsertOutcome, DirectoryError> {
        let person = normalise(p)?;
        let linked = self.linked(p.kind, &p.external_id);
        if let Some(h) = self.holder(p.kind, &person.email, &person.login, linked) {
            return Err(DirectoryError::Conflict(format!(
                "email `{}` or login `{}` already belongs to another Infraon person (`{}`); \
                 Infraon will not take over an existing account",
                person.email, person.login, self.people[h].email
            )));
        }
        match linked {
            Some(i) if self.people[i].config != person.config => {
                Err(DirectoryError::Conflict(format!(
                    "Okta user `{}` is already managed by config `{}`",
                    person.external_id, self.people[i].config
                )))
            }
            Some(i) if self.people[i] == person => Ok(UpsertOutcome::Unchanged),
            Some(i) => {
                self.people[i] = person;
                Ok(UpsertOutcome::Updated)
            }
            None => {
                self.people.push(person);
                Ok(UpsertOutcome::Created)
            }
        }
    }
}

fn not_linked(external_id: &str) -> DirectoryError {
    DirectoryError::NotFound(format!("nobody is linked to Okta user `{external_id}`"))
}

impl Storage for MemoryBackend {
    fn get(&self, owner: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.lock().values.get(&(owner.into(), key.into())).cloned())
    }
    fn set(&self, owner: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        let mut inner = self.lock();
        let others: usize = inner
            .values
            .iter()
            .filter(|((o, k), _)| o == owner && k != key)
            .map(|(_, v)| v.len())
            .sum();
        if value.len() > MAX_VALUE_BYTES || others + value.len() > MAX_OWNER_BYTES {
            return Err(StorageError::QuotaExceeded);
        }
        inner
            .values
            .insert((owner.into(), key.into()), value.to_vec());
        Ok(())
    }
    fn delete(&self, owner: &str, key: &str) -> Result<(), StorageError> {
        self.lock().values.remove(&(owner.into(), key.into()));
        Ok(())
    }
    fn list_keys(&self, owner: &str, prefix: &str) -> Result<Vec<String>, StorageError> {
        let inner = self.lock();
        Ok(inner
            .values
            .keys()
            .filter(|(o, k)| o == owner && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect())
    }
    fn is_busy(&self) -> bool {
        self.busy()
    }
}

impl Secrets for MemoryBackend {
    fn put(&self, owner: &str, name: &str, value: &str) -> Result<(), SecretsError> {
        self.lock()
            .secrets
            .insert((owner.into(), name.into()), value.into());
        Ok(())
    }
    fn get(&self, owner: &str, name: &str) -> Result<Option<String>, SecretsError> {
        Ok(self
            .lock()
            .secrets
            .get(&(owner.into(), name.into()))
            .cloned())
    }
    fn delete(&self, owner: &str, name: &str) -> Result<(), SecretsError> {
        self.lock().secrets.remove(&(owner.into(), name.into()));
        Ok(())
    }
}

impl Directory for MemoryBackend {
    fn upsert(&self, person: &Person) -> Result<UpsertOutcome, DirectoryError> {
        self.lock().upsert(person)
    }
    fn upsert_batch(&self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        let mut inner = self.lock();
        people.iter().map(|p| inner.upsert(p)).collect()
    }
    fn set_status(
        &self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), DirectoryError> {
        let mut inner = self.lock();
        let i = inner
            .linked(kind, external_id)
            .ok_or_else(|| not_linked(external_id))?;
        inner.people[i].status = status;
        Ok(())
    }
    fn find_by_external_id(
        &self,
        kind: SyncTarget,
        id: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let inner = self.lock();
        Ok(inner.linked(kind, id).map(|i| inner.people[i].clone()))
    }
    fn find_by_email(
        &self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let inner = self.lock();
        Ok(inner
            .people
            .iter()
            .find(|p| p.kind == kind && p.email.eq_ignore_ascii_case(email))
            .cloned())
    }
    fn find_by_login(
        &self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let inner = self.lock();
        Ok(inner
            .people
            .iter()
            .find(|p| p.kind == kind && p.login.eq_ignore_ascii_case(login))
            .cloned())
    }
    fn relink(&self, kind: SyncTarget, from: &str, to: &str) -> Result<(), DirectoryError> {
        if to.trim().is_empty() {
            return Err(rejected("external_id", "must not be empty"));
        }
        let mut inner = self.lock();
        let i = inner.linked(kind, from).ok_or_else(|| not_linked(from))?;
        if inner.linked(kind, to).is_some() {
            return Err(DirectoryError::Conflict(format!(
                "somebody is already linked to `{to}`"
            )));
        }
        inner.people[i].external_id = to.into();
        Ok(())
    }
    fn release_identity(&self, kind: SyncTarget, external_id: &str) -> Result<(), DirectoryError> {
        let mut inner = self.lock();
        let i = inner
            .linked(kind, external_id)
            .ok_or_else(|| not_linked(external_id))?;
        let p = &mut inner.people[i];
        if p.status != PersonStatus::Deactivated {
            return Err(DirectoryError::Conflict(format!(
                "the person linked to `{external_id}` is {}; only a deactivated one is released",
                p.status
            )));
        }
        let n = i + 1;
        let released = |v: &str| match v.rsplit_once('@') {
            Some((local, domain)) => format!("{local}+released.{n}@{domain}"),
            None => format!("{v}+released.{n}"),
        };
        p.email = released(&p.email);
        p.login = released(&p.login);
        p.external_id.clear();
        p.config.clear();
        Ok(())
    }
    fn move_population(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        self.move_some(config, from, to, None)
    }
    fn move_people(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, DirectoryError> {
        self.move_some(config, from, to, Some(external_ids))
    }
    fn list_linked(&self, config: &str, kind: SyncTarget) -> Result<Vec<String>, DirectoryError> {
        let inner = self.lock();
        let mut ids: Vec<String> = inner
            .people
            .iter()
            .filter(|p| p.kind == kind && p.config == config && !p.external_id.is_empty())
            .map(|p| p.external_id.clone())
            .collect();
        ids.sort();
        Ok(ids)
    }
    fn list_roles(&self) -> Result<Vec<Role>, DirectoryError> {
        Ok(roles())
    }
    fn list_fields(&self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        Ok(fields_of(kind))
    }
    fn is_busy(&self) -> bool {
        self.busy()
    }
}

impl Schedules for MemoryBackend {
    fn set(&self, plugin: &str, config: &str, entry: &Entry) -> Result<(), BackendError> {
        self.lock()
            .schedules
            .insert((plugin.into(), config.into()), entry.clone());
        Ok(())
    }
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Entry>, BackendError> {
        Ok(self
            .lock()
            .schedules
            .get(&(plugin.into(), config.into()))
            .cloned())
    }
    fn clear(&self, plugin: &str, config: &str) -> Result<(), BackendError> {
        self.lock()
            .schedules
            .remove(&(plugin.into(), config.into()));
        Ok(())
    }
}

impl Log for MemoryBackend {
    fn append(
        &self,
        _plugin: &str,
        config: Option<&str>,
        level: &str,
        message: &str,
        fields_json: &str,
    ) -> Result<(), BackendError> {
        let line = (
            config.map(str::to_owned),
            level.into(),
            message.into(),
            fields_json.into(),
        );
        self.lock().log.push(line);
        Ok(())
    }
}

impl Installations for MemoryBackend {
    fn put(&self, installation: &Installation) -> Result<(), BackendError> {
        let mut inner = self.lock();
        inner.installations.retain(|i| {
            i.plugin != installation.plugin || !i.config.eq_ignore_ascii_case(&installation.config)
        });
        inner.installations.push(installation.clone());
        Ok(())
    }
    fn get(&self, plugin: &str, config: &str) -> Result<Option<Installation>, BackendError> {
        let inner = self.lock();
        Ok(inner
            .installations
            .iter()
            .find(|i| i.plugin == plugin && i.config.eq_ignore_ascii_case(config.trim()))
            .cloned())
    }
    fn delete(&self, plugin: &str, config: &str) -> Result<(), BackendError> {
        let mut inner = self.lock();
        inner
            .installations
            .retain(|i| i.plugin != plugin || !i.config.eq_ignore_ascii_case(config.trim()));
        Ok(())
    }
}

impl Leases for MemoryBackend {
    fn acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Lease, BackendError> {
        let mut inner = self.lock();
        let lease = inner.leases.entry(name.into()).or_insert_with(|| Lease {
            holder: holder.into(),
            expires_at_ms: until_ms,
        });
        if lease.holder == holder || lease.expires_at_ms <= now_ms {
            *lease = Lease {
                holder: holder.into(),
                expires_at_ms: until_ms,
            };
        }
        Ok(lease.clone())
    }
    fn release(&self, name: &str, holder: &str) -> Result<(), BackendError> {
        let mut inner = self.lock();
        if inner.leases.get(name).is_some_and(|l| l.holder == holder) {
            inner.leases.remove(name);
        }
        Ok(())
    }
}
