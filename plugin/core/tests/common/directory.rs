//! An in-memory Infraon directory enforcing the rules the fake Infraon does:
//! no takeover of an email or login another person owns, field and role
//! validation, Unchanged when nothing differs.

use std::collections::BTreeMap;

use plugin_core::{
    Directory, DirectoryError, FieldSpec, Person, PersonStatus, Role, SyncTarget, UpsertOutcome,
};

const ATTRIBUTES: [&str; 5] = ["login", "email", "first_name", "last_name", "display_name"];
const FIELDS: [&str; 5] = ["phone", "department", "title", "employee_number", "manager"];

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Calls {
    pub upsert: u32,
    pub upsert_batch: u32,
    pub set_status: u32,
    pub find: u32,
    /// Calls of `find_by_external_ids` (each also counts its ids in `find`).
    pub find_batch: u32,
    /// Calls of `move_people`.
    pub moves: u32,
    /// Calls of `list_linked` (the whole list at once).
    pub list_linked: u32,
    /// Calls of `list_linked_page`.
    pub linked_pages: u32,
}

pub struct MemDirectory {
    /// Linked people by (kind, external id).
    pub people: BTreeMap<(String, String), Person>,
    /// People Infraon has that no Okta user is linked to.
    pub unlinked: Vec<Person>,
    pub roles: Vec<Role>,
    pub calls: Calls,
    /// Answer `unavailable` to every call.
    pub down: bool,
    /// Every person sent to `upsert`/`upsert-batch`, as sent.
    pub written: Vec<Person>,
}

impl Default for MemDirectory {
    fn default() -> Self {
        let role = |name: &str, kind| Role {
            name: name.into(),
            kind,
            privileged: name == "Administrator",
        };
        MemDirectory {
            people: BTreeMap::new(),
            unlinked: Vec::new(),
            roles: vec![
                role("Administrator", SyncTarget::Users),
                role("Technician", SyncTarget::Users),
                role("Service Desk Agent", SyncTarget::Users),
                role("Change Manager", SyncTarget::Users),
                role("Requester", SyncTarget::Requesters),
                role("VIP Requester", SyncTarget::Requesters),
            ],
            calls: Calls::default(),
            down: false,
            written: Vec::new(),
        }
    }
}

fn key(kind: SyncTarget, id: &str) -> (String, String) {
    (kind.as_str().into(), id.into())
}

fn rejected(field: &str, why: &str) -> DirectoryError {
    DirectoryError::Rejected(field.into(), why.into())
}

impl MemDirectory {
    fn move_some(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        only: Option<&[String]>,
    ) -> Result<u32, DirectoryError> {
        self.check()?;
        let moving: Vec<Person> = self
            .people
            .values()
            .filter(|p| p.config == config && p.kind == from)
            .filter(|p| only.is_none_or(|ids| ids.contains(&p.external_id)))
            .cloned()
            .collect();
        for p in &moving {
            let taken = self.people.values().chain(self.unlinked.iter()).any(|o| {
                o.kind == to
                    && (o.external_id == p.external_id
                        || o.email.eq_ignore_ascii_case(&p.email)
                        || o.login.eq_ignore_ascii_case(&p.login))
            });
            if taken {
                return Err(DirectoryError::Conflict(format!("{} is taken", p.email)));
            }
        }
        for mut p in moving.clone() {
            self.people.remove(&key(from, &p.external_id));
            p.kind = to;
            p.roles.clear();
            p.fields.retain(|(n, _)| n != "location");
            self.people.insert(key(to, &p.external_id), p);
        }
        Ok(moving.len() as u32)
    }
    pub fn get(&self, kind: SyncTarget, id: &str) -> Option<&Person> {
        self.people.get(&key(kind, id))
    }

    pub fn writes(&self) -> u32 {
        self.calls.upsert + self.calls.upsert_batch + self.calls.set_status
    }

    fn normalise(&self, p: &Person) -> Result<Person, DirectoryError> {
        let mut n = p.clone();
        if p.login.trim().is_empty() {
            return Err(rejected("login", "must not be empty"));
        }
        if p.email.matches('@').count() != 1 || p.email.contains(' ') {
            return Err(rejected("email", "is not an email address"));
        }
        if n.display_name.trim().is_empty() {
            n.display_name = format!("{} {}", p.first_name, p.last_name)
                .trim()
                .to_owned();
        }
        let mut names = Vec::new();
        for (name, value) in &p.fields {
            if ATTRIBUTES.contains(&name.as_str()) {
                return Err(rejected(name, "is an attribute of the person record"));
            }
            let custom = name.strip_prefix("custom.").is_some_and(|r| !r.is_empty());
            let location = name == "location" && p.kind == SyncTarget::Users;
            if !custom && !location && !FIELDS.contains(&name.as_str()) {
                return Err(rejected(name, "no such field"));
            }
            if names.contains(name) {
                return Err(rejected(name, "is given more than once"));
            }
            if value.chars().count() > 1024 {
                return Err(rejected(name, "is longer than 1024 characters"));
            }
            names.push(name.clone());
        }
        n.fields.sort();
        n.roles.sort();
        n.roles.dedup();
        for r in &n.roles {
            if !self.roles.iter().any(|x| &x.name == r && x.kind == p.kind) {
                return Err(rejected("roles", "no such role"));
            }
        }
        Ok(n)
    }

    fn upsert_one(&mut self, p: &Person) -> Result<UpsertOutcome, DirectoryError> {
        self.written.push(p.clone());
        let n = self.normalise(p)?;
        let same_identity = |o: &Person| {
            o.kind == p.kind
                && (o.email.eq_ignore_ascii_case(&p.email)
                    || o.login.eq_ignore_ascii_case(&p.login))
        };
        let owned_elsewhere = self.unlinked.iter().any(same_identity)
            || self
                .people
                .values()
                .any(|o| o.external_id != p.external_id && same_identity(o));
        if owned_elsewhere {
            return Err(DirectoryError::Conflict(format!(
                "email `{}` already belongs to another Infraon person",
                p.email
            )));
        }
        match self.people.get_mut(&key(p.kind, &p.external_id)) {
            Some(old) if old.config != p.config => {
                Err(DirectoryError::Conflict("managed by another config".into()))
            }
            Some(old) if *old == n => Ok(UpsertOutcome::Unchanged),
            Some(old) => {
                *old = n;
                Ok(UpsertOutcome::Updated)
            }
            None => {
                self.people.insert(key(p.kind, &p.external_id), n);
                Ok(UpsertOutcome::Created)
            }
        }
    }

    fn check(&self) -> Result<(), DirectoryError> {
        if self.down {
            Err(DirectoryError::Unavailable("directory down".into()))
        } else {
            Ok(())
        }
    }
}

impl Directory for MemDirectory {
    fn upsert(&mut self, person: &Person) -> Result<UpsertOutcome, DirectoryError> {
        self.calls.upsert += 1;
        self.check()?;
        self.upsert_one(person)
    }

    fn upsert_batch(&mut self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        self.calls.upsert_batch += 1;
        if let Err(e) = self.check() {
            return people.iter().map(|_| Err(e.clone())).collect();
        }
        people.iter().map(|p| self.upsert_one(p)).collect()
    }

    fn set_status(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), DirectoryError> {
        self.calls.set_status += 1;
        self.check()?;
        match self.people.get_mut(&key(kind, external_id)) {
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
        self.calls.find += 1;
        self.check()?;
        Ok(self.people.get(&key(kind, external_id)).cloned())
    }

    fn find_by_external_ids(
        &mut self,
        kind: SyncTarget,
        external_ids: &[String],
    ) -> Result<Vec<Option<Person>>, DirectoryError> {
        self.calls.find_batch += 1;
        self.calls.find += external_ids.len() as u32;
        self.check()?;
        Ok(external_ids
            .iter()
            .map(|id| self.people.get(&key(kind, id)).cloned())
            .collect())
    }

    fn find_by_email(
        &mut self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        self.calls.find += 1;
        self.check()?;
        Ok(self
            .people
            .values()
            .chain(self.unlinked.iter())
            .find(|p| p.kind == kind && p.email.eq_ignore_ascii_case(email))
            .cloned())
    }

    fn find_by_login(
        &mut self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        self.calls.find += 1;
        self.check()?;
        Ok(self
            .people
            .values()
            .chain(self.unlinked.iter())
            .find(|p| p.kind == kind && p.login.eq_ignore_ascii_case(login))
            .cloned())
    }

    fn relink(&mut self, kind: SyncTarget, from: &str, to: &str) -> Result<(), DirectoryError> {
        self.check()?;
        if self.people.contains_key(&key(kind, to)) {
            return Err(DirectoryError::Conflict(format!("{to} is linked already")));
        }
        let mut p = self
            .people
            .remove(&key(kind, from))
            .ok_or_else(|| DirectoryError::NotFound(from.into()))?;
        p.external_id = to.into();
        self.people.insert(key(kind, to), p);
        Ok(())
    }

    fn release_identity(
        &mut self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<(), DirectoryError> {
        self.check()?;
        let k = key(kind, external_id);
        match self.people.get(&k) {
            None => return Err(DirectoryError::NotFound(external_id.into())),
            Some(p) if p.status != PersonStatus::Deactivated => {
                return Err(DirectoryError::Conflict("not deactivated".into()));
            }
            Some(_) => {}
        }
        let Some(mut p) = self.people.remove(&k) else {
            return Err(DirectoryError::NotFound(external_id.into()));
        };
        let released = |v: &str| match v.rsplit_once('@') {
            Some((local, domain)) => format!("{local}+released.{external_id}@{domain}"),
            None => format!("{v}+released.{external_id}"),
        };
        p.email = released(&p.email);
        p.login = released(&p.login);
        p.external_id.clear();
        p.config.clear();
        self.unlinked.push(p);
        Ok(())
    }

    fn move_population(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        self.move_some(config, from, to, None)
    }

    fn move_people(
        &mut self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, DirectoryError> {
        self.calls.moves += 1;
        self.move_some(config, from, to, Some(external_ids))
    }

    fn list_linked(
        &mut self,
        config: &str,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        self.check()?;
        self.calls.list_linked += 1;
        Ok(self
            .people
            .values()
            .filter(|p| p.config == config && p.kind == kind)
            .map(|p| p.external_id.clone())
            .collect())
    }

    fn list_linked_page(
        &mut self,
        config: &str,
        kind: SyncTarget,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        self.check()?;
        self.calls.linked_pages += 1;
        let from = (kind.as_str().to_owned(), after.unwrap_or("").to_owned());
        Ok(self
            .people
            .range(from..)
            .filter(|((k, id), _)| *k == kind.as_str() && Some(id.as_str()) != after)
            .filter(|(_, p)| p.config == config)
            .take(limit as usize)
            .map(|(_, p)| p.external_id.clone())
            .collect())
    }

    fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
        self.check()?;
        Ok(self.roles.clone())
    }

    fn list_fields(&mut self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        self.check()?;
        let mut names: Vec<&str> = ATTRIBUTES.iter().chain(FIELDS.iter()).copied().collect();
        if kind == SyncTarget::Users {
            names.push("location");
        }
        Ok(names
            .into_iter()
            .map(|n| FieldSpec {
                name: n.into(),
                required: matches!(n, "login" | "email" | "display_name"),
            })
            .collect())
    }
}
