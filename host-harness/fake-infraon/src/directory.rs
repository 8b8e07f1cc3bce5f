//! WIT `directory`: Infraon's Users and Requesters. The rules enforced here
//! are listed in the crate docs.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, params};

use crate::types::{
    DirectoryError, FieldSpec, PeoplePage, Person, PersonStatus, Role, SyncTarget, UpsertOutcome,
};
use crate::{Infraon, now};

/// The longest value (in characters) Infraon keeps in any person field.
pub const MAX_VALUE_CHARS: usize = 1024;

/// Field names starting with this land in Infraon's custom-field bucket and
/// are accepted without being listed by [`Infraon::list_fields`].
pub const CUSTOM_FIELD_PREFIX: &str = "custom.";

/// Field specs that are attributes of the person record itself: they are
/// listed (they are mapping targets) but never accepted in `fields`, where a
/// second, different value would make the record ambiguous.
const PERSON_ATTRIBUTES: [&str; 5] = ["login", "email", "first_name", "last_name", "display_name"];

fn rejected(field: &str, reason: impl Into<String>) -> DirectoryError {
    DirectoryError::Rejected {
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn singular(kind: SyncTarget) -> &'static str {
    match kind {
        SyncTarget::Users => "user",
        SyncTarget::Requesters => "requester",
    }
}

fn check_length(field: &str, value: &str) -> Result<(), DirectoryError> {
    let chars = value.chars().count();
    if chars > MAX_VALUE_CHARS {
        return Err(rejected(
            field,
            format!("is {chars} characters long; Infraon keeps at most {MAX_VALUE_CHARS}"),
        ));
    }
    Ok(())
}

/// Infraon's notion of "looks like an email": deliberately loose (no RFC 5322
/// parser), but it refuses what would make the account unreachable.
fn check_email(email: &str) -> Result<(), DirectoryError> {
    let invalid =
        |why: &str| rejected("email", format!("`{email}` is not an email address: {why}"));
    if email.is_empty() {
        return Err(rejected("email", "must not be empty"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("it contains spaces or control characters"));
    }
    let mut parts = email.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("it must contain exactly one `@`"));
    };
    if local.is_empty() {
        return Err(invalid("nothing before the `@`"));
    }
    if !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains("..")
    {
        return Err(invalid("the domain must contain a dot between two names"));
    }
    Ok(())
}

/// The seeded rules a person is checked against: the fields each population
/// has and the populations each role name belongs to. Read once per call, so
/// a batch does not query them again for every person.
struct Rules {
    /// Field names by kind (`users`, `requesters`).
    fields: HashMap<String, HashSet<String>>,
    /// The kinds having a role of this name, sorted.
    role_kinds: HashMap<String, Vec<String>>,
}

impl Rules {
    fn load(conn: &Connection) -> rusqlite::Result<Rules> {
        let mut fields: HashMap<String, HashSet<String>> = HashMap::new();
        let mut stmt = conn.prepare_cached("SELECT kind, name FROM field_specs")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            fields.entry(r.get(0)?).or_default().insert(r.get(1)?);
        }
        let mut role_kinds: HashMap<String, Vec<String>> = HashMap::new();
        let mut stmt = conn.prepare_cached("SELECT name, kind FROM roles ORDER BY kind")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            role_kinds.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
        Ok(Rules { fields, role_kinds })
    }

    fn has_field(&self, kind: SyncTarget, name: &str) -> bool {
        self.fields
            .get(kind.as_str())
            .is_some_and(|names| names.contains(name))
    }

    fn kinds_of_role(&self, role: &str) -> &[String] {
        self.role_kinds.get(role).map_or(&[], Vec::as_slice)
    }
}

/// Validate `p` against Infraon's rules and bring it to the form Infraon
/// stores: display name built if empty, fields sorted by name, roles sorted
/// and deduplicated. Comparing two normalised persons then decides
/// Updated vs Unchanged.
fn normalise(rules: &Rules, p: &Person) -> Result<Person, DirectoryError> {
    if p.external_id.trim().is_empty() {
        return Err(rejected("external_id", "must not be empty"));
    }
    check_length("external_id", &p.external_id)?;
    if p.config.trim().is_empty() {
        return Err(rejected("config", "must not be empty"));
    }
    let mut person = normalise_attributes(p.kind, &p.email, &p.login, &p.display_name, p)?;
    person.external_id = p.external_id.clone();
    person.config = p.config.clone();
    person.status = p.status;

    let mut seen = HashSet::new();
    let mut fields = Vec::with_capacity(p.fields.len());
    for (name, value) in &p.fields {
        if PERSON_ATTRIBUTES.contains(&name.as_str()) {
            return Err(rejected(
                name,
                "is an attribute of the person record, not a further field: set it there",
            ));
        }
        let custom = name
            .strip_prefix(CUSTOM_FIELD_PREFIX)
            .is_some_and(|rest| !rest.is_empty());
        if !custom && !rules.has_field(p.kind, name) {
            return Err(rejected(
                name,
                format!(
                    "Infraon {} have no such field (custom fields start with `{CUSTOM_FIELD_PREFIX}`)",
                    p.kind.label()
                ),
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(rejected(name, "is given more than once"));
        }
        check_length(name, value)?;
        fields.push((name.clone(), value.clone()));
    }
    fields.sort();
    person.fields = fields;

    let mut roles = p.roles.clone();
    roles.sort();
    roles.dedup();
    for role in &roles {
        let kinds = rules.kinds_of_role(role);
        if kinds.iter().any(|k| k == p.kind.as_str()) {
            continue;
        }
        let reason = match kinds.first().and_then(|k| SyncTarget::from_str(k).ok()) {
            Some(other) => format!(
                "`{role}` is a {} role, not a {} role",
                other.label(),
                p.kind.label()
            ),
            None => format!("Infraon has no {} role `{role}`", p.kind.label()),
        };
        return Err(rejected("roles", reason));
    }
    person.roles = roles;
    Ok(person)
}

/// The checks shared by linked and unlinked people. Returns a person with
/// only kind and the attributes filled in.
fn normalise_attributes(
    kind: SyncTarget,
    email: &str,
    login: &str,
    display_name: &str,
    names: &Person,
) -> Result<Person, DirectoryError> {
    if login.trim().is_empty() {
        return Err(rejected("login", "must not be empty"));
    }
    check_length("login", login)?;
    check_length("email", email)?;
    check_email(email)?;
    check_length("first_name", &names.first_name)?;
    check_length("last_name", &names.last_name)?;
    check_length("display_name", display_name)?;
    let display_name = if display_name.trim().is_empty() {
        let built = format!("{} {}", names.first_name.trim(), names.last_name.trim());
        let built = built.trim();
        if built.is_empty() {
            return Err(rejected(
                "display_name",
                "is empty and there is no first or last name to build it from",
            ));
        }
        built.to_string()
    } else {
        display_name.to_string()
    };
    Ok(Person {
        external_id: String::new(),
        config: String::new(),
        kind,
        login: login.to_string(),
        email: email.to_string(),
        first_name: names.first_name.clone(),
        last_name: names.last_name.clone(),
        display_name,
        fields: Vec::new(),
        roles: Vec::new(),
        status: PersonStatus::Active,
    })
}

fn parse_column<T: FromStr<Err = String>>(index: usize, text: String) -> rusqlite::Result<T> {
    text.parse()
        .map_err(|e: String| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, e.into()))
}

fn load_person(conn: &Connection, id: i64) -> rusqlite::Result<Person> {
    conn.prepare_cached(
        "SELECT external_id, config, kind, login, email, first_name, last_name,
                display_name, status, fields_json, roles_json
         FROM people WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(Person {
            external_id: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            config: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            kind: parse_column(2, r.get(2)?)?,
            login: r.get(3)?,
            email: r.get(4)?,
            first_name: r.get(5)?,
            last_name: r.get(6)?,
            display_name: r.get(7)?,
            fields: json_column(9, &r.get::<_, String>(9)?)?,
            roles: json_column(10, &r.get::<_, String>(10)?)?,
            status: parse_column(8, r.get(8)?)?,
        })
    })
}

/// A person's fields or roles, stored as a JSON array in their row.
fn json_column<T: serde::de::DeserializeOwned>(index: usize, text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(index, Type::Text, e.into()))
}

/// The JSON a person's fields or roles are stored as.
fn to_json_column<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
}

/// Another person of `kind` holding this email or login, as a conflict
/// message naming the email; `None` when the identity is free.
fn identity_conflict(
    conn: &Connection,
    kind: SyncTarget,
    email: &str,
    login: &str,
    except_id: Option<i64>,
) -> rusqlite::Result<Option<DirectoryError>> {
    let email_norm = email.to_lowercase();
    let login_norm = login.to_lowercase();
    // Two searches of one unique index each: as one `OR` query SQLite
    // merged both indexes through temporary b-trees for every person.
    let holder_of = |column: &str, value: &str| {
        conn.prepare_cached(&format!(
            "SELECT email_norm, email, external_id FROM people
             WHERE kind = ?1 AND {column} = ?2 AND id IS NOT ?3"
        ))?
        .query_row(params![kind.as_str(), value, except_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()
    };
    let holder: Option<(String, String, Option<String>)> =
        match holder_of("email_norm", &email_norm)? {
            Some(h) => Some(h),
            None => holder_of("login_norm", &login_norm)?,
        };
    Ok(holder.map(|(holder_norm, holder_email, holder_link)| {
        let owner = match holder_link {
            Some(id) => format!("is linked to Okta user `{id}`"),
            None => "is not linked to Okta".to_string(),
        };
        let what = if holder_norm == email_norm {
            format!(
                "email `{email}` already belongs to another Infraon {}",
                singular(kind)
            )
        } else {
            format!(
                "login `{login}` (email `{email}`) already belongs to another Infraon {} \
                 with email `{holder_email}`",
                singular(kind)
            )
        };
        DirectoryError::Conflict(format!(
            "{what}, who {owner}; Infraon will not take over an existing account: \
             link or remove it in Infraon first"
        ))
    }))
}

/// One upsert inside whatever transaction `conn` is in, at time `at`: every
/// check first, then at most one write.
fn upsert_in(
    conn: &Connection,
    rules: &Rules,
    p: &Person,
    at: &str,
) -> Result<UpsertOutcome, DirectoryError> {
    let person = normalise(rules, p)?;
    let linked: Option<i64> = conn
        .prepare_cached("SELECT id FROM people WHERE kind = ?1 AND external_id = ?2")?
        .query_row(params![p.kind.as_str(), p.external_id], |r| r.get(0))
        .optional()?;
    match linked {
        Some(id) => {
            let stored = load_person(conn, id)?;
            // The unique indexes give the stored person its own email and
            // login: only a changed one can belong to someone else.
            if !same_identity(&stored, &person)
                && let Some(conflict) =
                    identity_conflict(conn, p.kind, &person.email, &person.login, linked)?
            {
                return Err(conflict);
            }
            if stored.config != person.config {
                return Err(DirectoryError::Conflict(format!(
                    "Okta user `{}` (email `{}`) is already managed by config `{}`, \
                     not `{}`",
                    person.external_id, person.email, stored.config, person.config
                )));
            }
            if stored == person {
                return Ok(UpsertOutcome::Unchanged);
            }
            conn.prepare_cached(
                "UPDATE people SET login = ?2, login_norm = ?3, email = ?4, email_norm = ?5,
                     first_name = ?6, last_name = ?7, display_name = ?8, status = ?9,
                     updated_at = ?10, fields_json = ?11, roles_json = ?12
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                person.login,
                person.login.to_lowercase(),
                person.email,
                person.email.to_lowercase(),
                person.first_name,
                person.last_name,
                person.display_name,
                person.status.as_str(),
                at,
                to_json_column(&person.fields)?,
                to_json_column(&person.roles)?,
            ])?;
            Ok(UpsertOutcome::Updated)
        }
        // The insert itself is the check: the unique indexes refuse an email
        // or login someone holds (the statement leaves nothing behind), and
        // only then is the holder looked up, for the message. Looking first
        // cost two index searches for every person created.
        None => match insert_person(conn, &person, true, at) {
            Ok(_) => Ok(UpsertOutcome::Created),
            Err(e) if is_unique_violation(&e) => {
                match identity_conflict(conn, p.kind, &person.email, &person.login, None)? {
                    Some(conflict) => Err(conflict),
                    None => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        },
    }
}

/// Whether two records carry the same email and login, as the unique
/// indexes compare them.
fn same_identity(a: &Person, b: &Person) -> bool {
    a.email.to_lowercase() == b.email.to_lowercase()
        && a.login.to_lowercase() == b.login.to_lowercase()
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn insert_person(conn: &Connection, p: &Person, linked: bool, at: &str) -> rusqlite::Result<i64> {
    let (external_id, config) = if linked {
        (Some(p.external_id.as_str()), Some(p.config.as_str()))
    } else {
        (None, None)
    };
    conn.prepare_cached(
        "INSERT INTO people (kind, external_id, config, login, login_norm, email, email_norm,
             first_name, last_name, display_name, status, created_at, updated_at,
             fields_json, roles_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12, ?13, ?14)",
    )?
    .execute(params![
        p.kind.as_str(),
        external_id,
        config,
        p.login,
        p.login.to_lowercase(),
        p.email,
        p.email.to_lowercase(),
        p.first_name,
        p.last_name,
        p.display_name,
        p.status.as_str(),
        at,
        to_json_column(&p.fields)?,
        to_json_column(&p.roles)?,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// One page of a config's linked people. `>` on the key walks this config's
/// own slice of the (config, kind, external_id) index from `after`, never a
/// row: a page costs the same at the end of a million, whatever other
/// configs hold.
const LINKED_PAGE: &str = "SELECT external_id FROM people INDEXED BY people_config
     WHERE config = ?1 AND kind = ?2 AND external_id > ?3
     ORDER BY external_id LIMIT ?4";

impl Infraon {
    /// Create or update the person linked to `p.external_id` (see the crate
    /// docs for the rules).
    pub fn upsert(&self, p: &Person) -> Result<UpsertOutcome, DirectoryError> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rules = Rules::load(&tx)?;
        let outcome = upsert_in(&tx, &rules, p, &now())?;
        tx.commit()?;
        Ok(outcome)
    }

    /// Create or update a page of people in one transaction. A person is
    /// checked first and then written by one statement (fields and roles are
    /// columns of the row), so one that is rejected or conflicts leaves
    /// nothing behind and the others land: no savepoint per person is
    /// needed. If the transaction itself cannot commit,
    /// every person reports that error: none of them landed. The people a
    /// batch creates or changes share one `updated_at`, the batch's.
    pub fn upsert_batch(&self, people: &[Person]) -> Vec<Result<UpsertOutcome, DirectoryError>> {
        let mut conn = self.conn();
        let run = |conn: &mut Connection| -> Result<_, DirectoryError> {
            let tx = conn.transaction()?;
            let rules = Rules::load(&tx)?;
            let at = now();
            let results = people
                .iter()
                .map(|p| upsert_in(&tx, &rules, p, &at))
                .collect();
            tx.commit()?;
            Ok(results)
        };
        match run(&mut conn) {
            Ok(results) => results,
            Err(e) => people.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    /// Change a linked person's lifecycle state. Setting the state a person
    /// already has is not an error and does not touch `updated_at`.
    pub fn set_status(
        &self,
        kind: SyncTarget,
        external_id: &str,
        status: PersonStatus,
    ) -> Result<(), DirectoryError> {
        let conn = self.conn();
        let exists = conn
            .prepare_cached(
                "UPDATE people SET status = ?3,
                     updated_at = CASE WHEN status = ?3 THEN updated_at ELSE ?4 END
                 WHERE kind = ?1 AND external_id = ?2",
            )?
            .execute(params![kind.as_str(), external_id, status.as_str(), now()])?;
        if exists == 0 {
            return Err(DirectoryError::NotFound(format!(
                "no Infraon {} is linked to Okta user `{external_id}`",
                singular(kind)
            )));
        }
        Ok(())
    }

    /// The person linked to an Okta user id.
    pub fn find_by_external_id(
        &self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let conn = self.conn();
        let id: Option<i64> = conn
            .prepare_cached("SELECT id FROM people WHERE kind = ?1 AND external_id = ?2")?
            .query_row(params![kind.as_str(), external_id], |r| r.get(0))
            .optional()?;
        Ok(id.map(|id| load_person(&conn, id)).transpose()?)
    }

    /// The person (linked or not) with this email, compared case-insensitively.
    pub fn find_by_email(
        &self,
        kind: SyncTarget,
        email: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let conn = self.conn();
        let id: Option<i64> = conn
            .prepare_cached("SELECT id FROM people WHERE kind = ?1 AND email_norm = ?2")?
            .query_row(params![kind.as_str(), email.to_lowercase()], |r| r.get(0))
            .optional()?;
        Ok(id.map(|id| load_person(&conn, id)).transpose()?)
    }

    /// The person (linked or not) with this login, compared case-insensitively.
    pub fn find_by_login(
        &self,
        kind: SyncTarget,
        login: &str,
    ) -> Result<Option<Person>, DirectoryError> {
        let conn = self.conn();
        let id: Option<i64> = conn
            .prepare_cached("SELECT id FROM people WHERE kind = ?1 AND login_norm = ?2")?
            .query_row(params![kind.as_str(), login.to_lowercase()], |r| r.get(0))
            .optional()?;
        Ok(id.map(|id| load_person(&conn, id)).transpose()?)
    }

    /// Link the person linked to Okta user `from` to Okta user `to` instead:
    /// the same person (history, tickets) now answers to the new account, as
    /// for a rehire. Fails `not-found` when nobody is linked to `from`, and
    /// `conflict` when somebody already is to `to`.
    pub fn relink(&self, kind: SyncTarget, from: &str, to: &str) -> Result<(), DirectoryError> {
        if to.trim().is_empty() {
            return Err(rejected("external_id", "must not be empty"));
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let linked = |id: &str| -> rusqlite::Result<Option<i64>> {
            tx.prepare_cached("SELECT id FROM people WHERE kind = ?1 AND external_id = ?2")?
                .query_row(params![kind.as_str(), id], |r| r.get(0))
                .optional()
        };
        let Some(row) = linked(from)? else {
            return Err(DirectoryError::NotFound(format!(
                "no Infraon {} is linked to Okta user `{from}`",
                singular(kind)
            )));
        };
        if linked(to)?.is_some() {
            return Err(DirectoryError::Conflict(format!(
                "another Infraon {} is already linked to Okta user `{to}`",
                singular(kind)
            )));
        }
        tx.prepare_cached("UPDATE people SET external_id = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![row, to, now()])?;
        tx.commit()?;
        Ok(())
    }

    /// Free the email and login of a deactivated person linked to Okta user
    /// `external_id`, for a new person to take, and unlink them: they become
    /// `<local>+released.<n>@<domain>` (and `<login>+released.<n>` for a
    /// login without `@`), `n` the person's own number, so the person and
    /// their history stay, findable, under an identity nobody else has, and
    /// no config manages them any more (the old Okta account would otherwise
    /// take the identity back). Fails `conflict` for a person who is not
    /// deactivated.
    pub fn release_identity(
        &self,
        kind: SyncTarget,
        external_id: &str,
    ) -> Result<(), DirectoryError> {
        let conn = self.conn();
        let row: Option<(i64, String, String, String)> = conn
            .prepare_cached(
                "SELECT id, email, login, status FROM people WHERE kind = ?1 AND external_id = ?2",
            )?
            .query_row(params![kind.as_str(), external_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((id, email, login, status)) = row else {
            return Err(DirectoryError::NotFound(format!(
                "no Infraon {} is linked to Okta user `{external_id}`",
                singular(kind)
            )));
        };
        if status != PersonStatus::Deactivated.as_str() {
            return Err(DirectoryError::Conflict(format!(
                "the Infraon {} linked to Okta user `{external_id}` is {status}; only a \
                 deactivated person's email and login can be released",
                singular(kind)
            )));
        }
        let released = |value: &str| match value.rsplit_once('@') {
            Some((local, domain)) => format!("{local}+released.{id}@{domain}"),
            None => format!("{value}+released.{id}"),
        };
        let (email, login) = (released(&email), released(&login));
        conn.prepare_cached(
            "UPDATE people SET email = ?2, email_norm = ?3, login = ?4, login_norm = ?5,
                 external_id = NULL, config = NULL, updated_at = ?6 WHERE id = ?1",
        )?
        .execute(params![
            id,
            email,
            email.to_lowercase(),
            login,
            login.to_lowercase(),
            now()
        ])?;
        Ok(())
    }

    /// Move every person `config` manages from population `from` to `to`,
    /// all or none, keeping each person (and link): their roles are
    /// dropped (the next sync grants those of the new population) and so
    /// are the fields the new population does not have. Fails `conflict`,
    /// moving nobody, when someone in `to` already has one of their external
    /// ids, emails or logins: a person is never duplicated. Returns how many
    /// moved.
    pub fn move_population(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
    ) -> Result<u32, DirectoryError> {
        self.move_some(config, from, to, None)
    }

    /// Move the people `config` manages in `from` with these external ids
    /// to `to`, as [`Self::move_population`] moves everyone: all or none,
    /// never duplicating a person.
    pub fn move_people(
        &self,
        config: &str,
        from: SyncTarget,
        to: SyncTarget,
        external_ids: &[String],
    ) -> Result<u32, DirectoryError> {
        self.move_some(config, from, to, Some(external_ids))
    }

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
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let rules = Rules::load(&tx)?;
        let rows: Vec<(i64, String)> = tx
            .prepare_cached("SELECT id, external_id FROM people WHERE config = ?1 AND kind = ?2")?
            .query_map(params![config, from.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        let rows: Vec<i64> = rows
            .into_iter()
            .filter(|(_, ext)| only.is_none_or(|ids| ids.contains(ext)))
            .map(|(row, _)| row)
            .collect();
        let at = now();
        for &row in &rows {
            let p = load_person(&tx, row)?;
            let taken: Option<String> = tx
                .prepare_cached(
                    "SELECT email FROM people WHERE kind = ?1
                     AND (external_id = ?2 OR email_norm = ?3 OR login_norm = ?4)",
                )?
                .query_row(
                    params![
                        to.as_str(),
                        p.external_id,
                        p.email.to_lowercase(),
                        p.login.to_lowercase()
                    ],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(holder) = taken {
                return Err(DirectoryError::Conflict(format!(
                    "Infraon {} already has `{holder}`, who shares Okta user `{}`, email `{}` \
                     or login `{}` with a {} of config `{config}`; nobody was moved",
                    to.label(),
                    p.external_id,
                    p.email,
                    p.login,
                    singular(from)
                )));
            }
            let fields: Vec<(String, String)> = p
                .fields
                .into_iter()
                .filter(|(n, _)| n.starts_with(CUSTOM_FIELD_PREFIX) || rules.has_field(to, n))
                .collect();
            tx.prepare_cached(
                "UPDATE people SET kind = ?2, roles_json = '[]', fields_json = ?3, updated_at = ?4
                 WHERE id = ?1",
            )?
            .execute(params![row, to.as_str(), to_json_column(&fields)?, at])?;
        }
        tx.commit()?;
        Ok(rows.len() as u32)
    }

    /// External ids of everyone `config` manages in `kind`, sorted.
    pub fn list_linked(
        &self,
        config: &str,
        kind: SyncTarget,
    ) -> Result<Vec<String>, DirectoryError> {
        let conn = self.conn();
        let ids = conn
            .prepare_cached(
                "SELECT external_id FROM people WHERE config = ?1 AND kind = ?2
                 ORDER BY external_id",
            )?
            .query_map(params![config, kind.as_str()], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// A page of [`Infraon::list_linked`]: at most `limit` external ids
    /// after `after`, sorted (an index walk, whatever the population's size).
    pub fn list_linked_page(
        &self,
        config: &str,
        kind: SyncTarget,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, DirectoryError> {
        let conn = self.conn();
        let ids = conn
            .prepare_cached(LINKED_PAGE)?
            .query_map(
                params![config, kind.as_str(), after.unwrap_or(""), limit],
                |r| r.get(0),
            )?
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }

    /// The roles Infraon has: Users' roles first, each population by name.
    pub fn list_roles(&self) -> Result<Vec<Role>, DirectoryError> {
        let conn = self.conn();
        let roles = conn
            .prepare_cached(
                "SELECT name, kind, privileged FROM roles
                 ORDER BY kind = 'users' DESC, kind, name",
            )?
            .query_map([], |r| {
                Ok(Role {
                    name: r.get(0)?,
                    kind: parse_column(1, r.get(1)?)?,
                    privileged: r.get(2)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(roles)
    }

    /// The fields Infraon keeps for a population, in form order. The custom
    /// bucket ([`CUSTOM_FIELD_PREFIX`]) is not listed.
    pub fn list_fields(&self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
        let conn = self.conn();
        let fields = conn
            .prepare_cached(
                "SELECT name, required FROM field_specs WHERE kind = ?1 ORDER BY position, name",
            )?
            .query_map([kind.as_str()], |r| {
                Ok(FieldSpec {
                    name: r.get(0)?,
                    required: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(fields)
    }

    /// Everyone in a population, linked or not, ordered by display name
    /// (case-insensitively), then email. For the CLI listing.
    pub fn people(&self, kind: SyncTarget) -> Result<Vec<Person>, DirectoryError> {
        Ok(self.people_page(kind, "", 0, usize::MAX)?.people)
    }

    /// Up to `take` people of a population in the order they were first
    /// written (a sync writes a page at a time, in Okta's order), each with
    /// its place in that order: the next page starts after the last one's.
    /// The bench writes them again, the same way, to measure the
    /// directory's own cost.
    pub fn people_as_written(
        &self,
        kind: SyncTarget,
        after: i64,
        take: usize,
    ) -> Result<Vec<(i64, Person)>, DirectoryError> {
        let conn = self.conn();
        let ids: Vec<i64> = conn
            .prepare_cached(
                "SELECT id FROM people WHERE kind = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
            )?
            .query_map(params![kind.as_str(), after, take as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let people = ids
            .into_iter()
            .map(|id| Ok((id, load_person(&conn, id)?)))
            .collect::<rusqlite::Result<_>>()?;
        Ok(people)
    }

    /// One page of a population as Infraon's lists show it: ordered as
    /// [`Infraon::people`], only those whose display name, email or login
    /// contains `needle` (ignoring case; everyone when it is blank), `skip`
    /// of them passed over and at most `take` loaded. Only the page's people
    /// are read whole, so a page of a 100,000-person directory stays quick.
    pub fn people_page(
        &self,
        kind: SyncTarget,
        needle: &str,
        skip: usize,
        take: usize,
    ) -> Result<PeoplePage, DirectoryError> {
        let needle = needle.trim().to_lowercase();
        let conn = self.conn();
        let (mut total, mut matching, mut ids) = (0, 0, Vec::new());
        {
            let mut stmt = conn.prepare_cached(
                "SELECT id, display_name, email, login FROM people WHERE kind = ?1
                 ORDER BY display_name COLLATE NOCASE, email_norm, id",
            )?;
            let mut rows = stmt.query([kind.as_str()])?;
            while let Some(row) = rows.next()? {
                total += 1;
                let hit = needle.is_empty()
                    || (1..=3).any(|column| {
                        row.get_ref(column)
                            .ok()
                            .and_then(|v| v.as_str().ok())
                            .is_some_and(|v| v.to_lowercase().contains(&needle))
                    });
                if !hit {
                    continue;
                }
                if matching >= skip && ids.len() < take {
                    ids.push(row.get::<_, i64>(0)?);
                }
                matching += 1;
            }
        }
        let people = ids
            .into_iter()
            .map(|id| load_person(&conn, id))
            .collect::<Result<_, _>>()?;
        Ok(PeoplePage {
            people,
            matching,
            total,
        })
    }

    /// Add a person Infraon already had before Okta: active, no roles, no
    /// Okta link. Tests use it to set up conflicts. The same validation and
    /// uniqueness rules as [`Infraon::upsert`] apply; an empty display name
    /// is refused, as there are no names to build it from.
    pub fn add_unlinked_person(
        &self,
        kind: SyncTarget,
        email: &str,
        login: &str,
        display_name: &str,
    ) -> Result<(), DirectoryError> {
        let nameless = Person {
            external_id: String::new(),
            config: String::new(),
            kind,
            login: String::new(),
            email: String::new(),
            first_name: String::new(),
            last_name: String::new(),
            display_name: String::new(),
            fields: Vec::new(),
            roles: Vec::new(),
            status: PersonStatus::Active,
        };
        let person = normalise_attributes(kind, email, login, display_name, &nameless)?;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if let Some(conflict) = identity_conflict(&tx, kind, email, login, None)? {
            return Err(conflict);
        }
        insert_person(&tx, &person, false, &now())?;
        tx.commit()?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn infraon() -> Infraon {
        Infraon::open_in_memory().unwrap()
    }

    fn alice() -> Person {
        Person {
            external_id: "00u1alice".into(),
            config: "acme".into(),
            kind: SyncTarget::Users,
            login: "alice@acme.example".into(),
            email: "Alice@Acme.example".into(),
            first_name: "Alice".into(),
            last_name: "Archer".into(),
            display_name: "Alice Archer".into(),
            fields: vec![
                ("title".into(), "Engineer".into()),
                ("department".into(), "IT".into()),
            ],
            roles: vec!["Technician".into()],
            status: PersonStatus::Active,
        }
    }

    /// Person `n`: linked to `00u{n}` of config `acme`, with an email and
    /// login of their own and no further fields or roles.
    pub(crate) fn person(n: u32) -> Person {
        Person {
            external_id: format!("00u{n}"),
            login: format!("p{n}@acme.example"),
            email: format!("p{n}@acme.example"),
            first_name: format!("P{n}"),
            display_name: format!("Person {n}"),
            fields: vec![],
            roles: vec![],
            ..alice()
        }
    }

    fn updated_at(i: &Infraon, external_id: &str) -> (String, String) {
        i.conn()
            .query_row(
                "SELECT created_at, updated_at FROM people WHERE external_id = ?1",
                [external_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    }

    fn assert_rejected(result: Result<UpsertOutcome, DirectoryError>, field: &str) {
        match result {
            Err(DirectoryError::Rejected { field: f, reason }) => {
                assert_eq!(f, field, "{reason}");
                assert!(!reason.is_empty());
            }
            other => panic!("expected {field} rejected, got {other:?}"),
        }
    }

    #[test]
    fn upsert_creates_then_updates_then_is_unchanged() {
        let i = infraon();
        assert_eq!(i.upsert(&alice()).unwrap(), UpsertOutcome::Created);
        let stored = i
            .find_by_external_id(SyncTarget::Users, "00u1alice")
            .unwrap()
            .unwrap();
        let mut expected = alice();
        expected.fields.sort();
        assert_eq!(stored, expected);
        let (created, first_update) = updated_at(&i, "00u1alice");
        assert_eq!(created, first_update);

        // Same values in another order: fields are a map, roles a set.
        let mut reordered = alice();
        reordered.fields.reverse();
        reordered.roles = vec!["Technician".into(), "Technician".into()];
        assert_eq!(i.upsert(&reordered).unwrap(), UpsertOutcome::Unchanged);
        assert_eq!(updated_at(&i, "00u1alice").1, first_update);

        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut changed = alice();
        changed.fields.push(("phone".into(), "+91 80 1234".into()));
        assert_eq!(i.upsert(&changed).unwrap(), UpsertOutcome::Updated);
        let (created_again, second_update) = updated_at(&i, "00u1alice");
        assert_eq!(created_again, created);
        assert!(second_update > first_update);

        for change in [
            |p: &mut Person| p.roles.push("Administrator".into()),
            |p: &mut Person| p.roles.clear(),
            |p: &mut Person| p.status = PersonStatus::Suspended,
            |p: &mut Person| p.email = "alice@acme.example".into(),
            |p: &mut Person| p.last_name = "Archer-Bow".into(),
            |p: &mut Person| p.fields.retain(|(n, _)| n != "title"),
            |p: &mut Person| p.fields[0].1 = "Ops".into(),
        ] {
            let mut p = i
                .find_by_external_id(SyncTarget::Users, "00u1alice")
                .unwrap()
                .unwrap();
            change(&mut p);
            assert_eq!(i.upsert(&p).unwrap(), UpsertOutcome::Updated, "{p:?}");
            assert_eq!(
                i.find_by_external_id(SyncTarget::Users, "00u1alice")
                    .unwrap()
                    .unwrap()
                    .status,
                p.status
            );
            assert_eq!(i.upsert(&p).unwrap(), UpsertOutcome::Unchanged);
        }
    }

    #[test]
    fn display_name_is_built_from_first_and_last() {
        let i = infraon();
        let p = Person {
            display_name: "  ".into(),
            ..alice()
        };
        i.upsert(&p).unwrap();
        let stored = i
            .find_by_external_id(SyncTarget::Users, "00u1alice")
            .unwrap()
            .unwrap();
        assert_eq!(stored.display_name, "Alice Archer");
        // Sending the empty display name again is not a change.
        assert_eq!(i.upsert(&p).unwrap(), UpsertOutcome::Unchanged);
        let only_last = Person {
            external_id: "00u2".into(),
            email: "b@acme.example".into(),
            login: "b".into(),
            first_name: String::new(),
            display_name: String::new(),
            ..alice()
        };
        i.upsert(&only_last).unwrap();
        assert_eq!(
            i.find_by_external_id(SyncTarget::Users, "00u2")
                .unwrap()
                .unwrap()
                .display_name,
            "Archer"
        );
    }

    #[test]
    fn conflict_on_the_email_of_an_unlinked_person() {
        let i = infraon();
        i.add_unlinked_person(
            SyncTarget::Users,
            "alice@acme.example",
            "aarcher",
            "Alice (IT)",
        )
        .unwrap();
        let err = i.upsert(&alice()).unwrap_err();
        let DirectoryError::Conflict(message) = &err else {
            panic!("expected a conflict, got {err:?}");
        };
        assert!(message.contains("Alice@Acme.example"), "{message}");
        // Nothing was taken over or created.
        assert!(
            i.find_by_external_id(SyncTarget::Users, "00u1alice")
                .unwrap()
                .is_none()
        );
        let unlinked = i
            .find_by_email(SyncTarget::Users, "ALICE@acme.EXAMPLE")
            .unwrap()
            .unwrap();
        assert_eq!(unlinked.external_id, "");
        assert_eq!(unlinked.config, "");
        assert_eq!(unlinked.display_name, "Alice (IT)");
        assert!(i.list_linked("acme", SyncTarget::Users).unwrap().is_empty());
        // The other population is separate.
        let requester = Person {
            kind: SyncTarget::Requesters,
            roles: vec!["Requester".into()],
            fields: vec![],
            ..alice()
        };
        assert_eq!(i.upsert(&requester).unwrap(), UpsertOutcome::Created);
    }

    #[test]
    fn conflict_on_login_and_on_another_linked_person() {
        let i = infraon();
        i.add_unlinked_person(
            SyncTarget::Users,
            "old@acme.example",
            "ALICE@acme.example",
            "Old",
        )
        .unwrap();
        let err = i.upsert(&alice()).unwrap_err();
        let DirectoryError::Conflict(message) = &err else {
            panic!("expected a conflict, got {err:?}");
        };
        assert!(message.contains("Alice@Acme.example"), "{message}");
        assert!(message.contains("login"), "{message}");

        // A second Okta user claiming an email a linked person holds.
        i.upsert(&person(1)).unwrap();
        let thief = Person {
            email: "P1@acme.example".into(),
            ..person(2)
        };
        assert!(matches!(i.upsert(&thief), Err(DirectoryError::Conflict(_))));
        // An existing link moving onto someone else's email.
        i.upsert(&person(2)).unwrap();
        let moved = Person {
            email: "p1@ACME.example".into(),
            ..person(2)
        };
        assert!(matches!(i.upsert(&moved), Err(DirectoryError::Conflict(_))));
        // Another config cannot take over a person this one manages.
        let other_config = Person {
            config: "beta".into(),
            ..person(1)
        };
        assert!(matches!(
            i.upsert(&other_config),
            Err(DirectoryError::Conflict(_))
        ));
        // An unlinked person cannot be added over a linked one either.
        assert!(matches!(
            i.add_unlinked_person(SyncTarget::Users, "P2@acme.example", "x", "X"),
            Err(DirectoryError::Conflict(_))
        ));
    }

    /// An edit that makes `alice()` invalid.
    type Change = fn(&mut Person);

    #[test]
    fn validation_rejects_with_the_field() {
        let i = infraon();
        let cases: Vec<(&str, Change)> = vec![
            ("email", |p| p.email = "no-at.example".into()),
            ("email", |p| p.email = "a@b@c.example".into()),
            ("email", |p| p.email = "alice@localhost".into()),
            ("email", |p| p.email = "@acme.example".into()),
            ("email", |p| p.email = "a lice@acme.example".into()),
            ("email", |p| p.email = "alice@acme.".into()),
            ("email", |p| p.email = String::new()),
            ("login", |p| p.login = " ".into()),
            ("external_id", |p| p.external_id = String::new()),
            ("config", |p| p.config = String::new()),
            ("display_name", |p| {
                p.display_name = String::new();
                p.first_name = String::new();
                p.last_name = " ".into();
            }),
            ("title", |p| p.fields[0].1 = "x".repeat(1025)),
            ("last_name", |p| p.last_name = "é".repeat(1025)),
            ("nickname", |p| {
                p.fields.push(("nickname".into(), "Al".into()))
            }),
            ("custom.", |p| p.fields.push(("custom.".into(), "x".into()))),
            ("email", |p| p.fields.push(("email".into(), "x@y.z".into()))),
            ("title", |p| p.fields.push(("title".into(), "Again".into()))),
            ("roles", |p| p.roles.push("Wizard".into())),
            ("roles", |p| p.roles.push("VIP Requester".into())),
        ];
        for (field, change) in cases {
            let mut p = alice();
            change(&mut p);
            assert_rejected(i.upsert(&p), field);
        }
        // "location" is a Users field only.
        let requester = Person {
            kind: SyncTarget::Requesters,
            roles: vec![],
            fields: vec![("location".into(), "Pune".into())],
            ..alice()
        };
        assert_rejected(i.upsert(&requester), "location");
        assert!(i.people(SyncTarget::Users).unwrap().is_empty());
        assert!(i.people(SyncTarget::Requesters).unwrap().is_empty());

        // What is accepted at the edges.
        let mut ok = alice();
        ok.fields = vec![
            ("title".into(), "x".repeat(1024)),
            ("location".into(), "Pune".into()),
            ("custom.costCenter".into(), "CC-7".into()),
        ];
        assert_eq!(i.upsert(&ok).unwrap(), UpsertOutcome::Created);
    }

    #[test]
    fn batch_with_one_rejected_person_keeps_the_others() {
        let i = infraon();
        i.add_unlinked_person(SyncTarget::Users, "p4@acme.example", "p4-local", "Four")
            .unwrap();
        let mut bad = person(2);
        bad.email = "not-an-email".into();
        let duplicate_in_batch = Person {
            external_id: "00u9".into(),
            ..person(1)
        };
        let batch = vec![
            person(1),
            bad,
            person(3),
            person(4),
            duplicate_in_batch,
            person(5),
        ];
        let results = i.upsert_batch(&batch);
        assert_eq!(results.len(), 6);
        assert_eq!(results[0], Ok(UpsertOutcome::Created));
        assert!(matches!(
            &results[1],
            Err(DirectoryError::Rejected { field, .. }) if field == "email"
        ));
        assert_eq!(results[2], Ok(UpsertOutcome::Created));
        assert!(matches!(results[3], Err(DirectoryError::Conflict(_))));
        assert!(matches!(results[4], Err(DirectoryError::Conflict(_))));
        assert_eq!(results[5], Ok(UpsertOutcome::Created));
        assert_eq!(
            i.list_linked("acme", SyncTarget::Users).unwrap(),
            ["00u1", "00u3", "00u5"]
        );

        // A second identical page changes nothing.
        let again = i.upsert_batch(&[person(1), person(3), person(5)]);
        assert!(again.iter().all(|r| *r == Ok(UpsertOutcome::Unchanged)));
        assert!(i.upsert_batch(&[]).is_empty());
    }

    #[test]
    fn a_rejected_update_in_a_batch_leaves_the_old_values() {
        let i = infraon();
        i.upsert(&alice()).unwrap();
        let mut bad = alice();
        bad.roles = vec!["Administrator".into(), "Nope".into()];
        let results = i.upsert_batch(&[bad]);
        assert!(matches!(results[0], Err(DirectoryError::Rejected { .. })));
        assert_eq!(
            i.find_by_external_id(SyncTarget::Users, "00u1alice")
                .unwrap()
                .unwrap()
                .roles,
            ["Technician"]
        );
    }

    #[test]
    fn set_status_changes_only_the_linked_person() {
        let i = infraon();
        i.upsert(&alice()).unwrap();
        i.upsert(&person(1)).unwrap();
        let (_, before) = updated_at(&i, "00u1alice");
        // Setting the same status is a no-op.
        i.set_status(SyncTarget::Users, "00u1alice", PersonStatus::Active)
            .unwrap();
        assert_eq!(updated_at(&i, "00u1alice").1, before);
        std::thread::sleep(std::time::Duration::from_millis(5));
        i.set_status(SyncTarget::Users, "00u1alice", PersonStatus::Deactivated)
            .unwrap();
        assert!(updated_at(&i, "00u1alice").1 > before);
        let get = |id: &str| {
            i.find_by_external_id(SyncTarget::Users, id)
                .unwrap()
                .unwrap()
                .status
        };
        assert_eq!(get("00u1alice"), PersonStatus::Deactivated);
        assert_eq!(get("00u1"), PersonStatus::Active);
        // The upsert sending the new status back is unchanged.
        let mut p = alice();
        p.status = PersonStatus::Deactivated;
        assert_eq!(i.upsert(&p).unwrap(), UpsertOutcome::Unchanged);
        assert!(matches!(
            i.set_status(SyncTarget::Users, "00u-nobody", PersonStatus::Active),
            Err(DirectoryError::NotFound(_))
        ));
        // Kinds are separate: alice is not a requester.
        assert!(matches!(
            i.set_status(SyncTarget::Requesters, "00u1alice", PersonStatus::Active),
            Err(DirectoryError::NotFound(_))
        ));
    }

    #[test]
    fn list_linked_is_per_config_and_kind() {
        let i = infraon();
        for n in [3, 1, 2] {
            i.upsert(&person(n)).unwrap();
        }
        let beta = |n| Person {
            config: "beta".into(),
            ..person(n)
        };
        i.upsert(&beta(10)).unwrap();
        let requester = Person {
            kind: SyncTarget::Requesters,
            ..person(20)
        };
        i.upsert(&requester).unwrap();
        i.add_unlinked_person(SyncTarget::Users, "u@acme.example", "u", "U")
            .unwrap();
        assert_eq!(
            i.list_linked("acme", SyncTarget::Users).unwrap(),
            ["00u1", "00u2", "00u3"]
        );
        assert_eq!(i.list_linked("beta", SyncTarget::Users).unwrap(), ["00u10"]);
        assert_eq!(
            i.list_linked("acme", SyncTarget::Requesters).unwrap(),
            ["00u20"]
        );
        assert!(
            i.list_linked("gamma", SyncTarget::Users)
                .unwrap()
                .is_empty()
        );
    }

    /// A page of one config reads that config's slice of an index and no
    /// row: other configs' people cost it nothing (200 tenants at once
    /// spent most of their time stepping over each other's people).
    #[test]
    fn list_linked_pages_read_only_their_configs_index_slice() {
        let i = infraon();
        let plan: Vec<String> = i
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {LINKED_PAGE}"))
            .unwrap()
            .query_map(params!["acme", "users", "", 10], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            plan,
            ["SEARCH people USING COVERING INDEX people_config \
              (config=? AND kind=? AND external_id>?)"]
        );
    }

    #[test]
    fn list_linked_pages_walk_one_config_after_a_key() {
        let i = infraon();
        for n in [5, 3, 1, 4, 2] {
            i.upsert(&person(n)).unwrap();
        }
        // Another config's people sit between this one's in the index.
        i.upsert(&Person {
            config: "beta".into(),
            ..person(25)
        })
        .unwrap();
        let page = |after: Option<&str>| {
            i.list_linked_page("acme", SyncTarget::Users, after, 2)
                .unwrap()
        };
        assert_eq!(page(None), ["00u1", "00u2"]);
        assert_eq!(page(Some("00u2")), ["00u3", "00u4"]);
        assert_eq!(page(Some("00u4")), ["00u5"]);
        assert!(page(Some("00u5")).is_empty());
        // `after` need not be anyone's id.
        assert_eq!(page(Some("00u25")), ["00u3", "00u4"]);
        assert!(
            i.list_linked_page("acme", SyncTarget::Requesters, None, 2)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn find_by_email_is_case_insensitive_and_per_kind() {
        let i = infraon();
        i.upsert(&alice()).unwrap();
        let found = i
            .find_by_email(SyncTarget::Users, "alice@ACME.EXAMPLE")
            .unwrap()
            .unwrap();
        assert_eq!(found.external_id, "00u1alice");
        assert!(
            i.find_by_email(SyncTarget::Requesters, "alice@acme.example")
                .unwrap()
                .is_none()
        );
        assert!(
            i.find_by_email(SyncTarget::Users, "bob@acme.example")
                .unwrap()
                .is_none()
        );
        // Beyond ASCII too.
        i.add_unlinked_person(SyncTarget::Users, "ÉMILE@acme.example", "emile", "Émile")
            .unwrap();
        assert!(
            i.find_by_email(SyncTarget::Users, "émile@acme.example")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn roles_and_fields_are_seeded() {
        let i = infraon();
        let roles = i.list_roles().unwrap();
        let users: Vec<&str> = roles
            .iter()
            .filter(|r| r.kind == SyncTarget::Users)
            .map(|r| r.name.as_str())
            .collect();
        let requesters: Vec<&str> = roles
            .iter()
            .filter(|r| r.kind == SyncTarget::Requesters)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(
            users,
            [
                "Administrator",
                "Change Manager",
                "Service Desk Agent",
                "Technician"
            ]
        );
        assert_eq!(requesters, ["Requester", "VIP Requester"]);
        let privileged: Vec<&str> = roles
            .iter()
            .filter(|r| r.privileged)
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(privileged, ["Administrator"]);

        let names = |kind| -> Vec<(String, bool)> {
            i.list_fields(kind)
                .unwrap()
                .into_iter()
                .map(|f| (f.name, f.required))
                .collect()
        };
        let mut expected: Vec<(String, bool)> = [
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
        ]
        .iter()
        .map(|(n, r)| (n.to_string(), *r))
        .collect();
        assert_eq!(names(SyncTarget::Requesters), expected);
        expected.push(("location".into(), false));
        assert_eq!(names(SyncTarget::Users), expected);
    }

    #[test]
    fn people_come_back_as_written_a_page_at_a_time_and_write_again_the_same() {
        let i = infraon();
        let mut people: Vec<Person> = [7, 3, 9, 1].into_iter().map(person).collect();
        // Fields and roles come back too (fields as stored: by name).
        people.insert(2, alice());
        people[2].fields.sort();
        for result in i.upsert_batch(&people) {
            assert_eq!(result.unwrap(), UpsertOutcome::Created);
        }
        let all = |i: &Infraon, kind| {
            let (mut after, mut all) = (0, Vec::new());
            loop {
                let page = i.people_as_written(kind, after, 2).unwrap();
                assert!(page.len() <= 2);
                let Some(&(last, _)) = page.last() else {
                    return all;
                };
                after = last;
                all.extend(page.into_iter().map(|(_, p)| p));
            }
        };
        let back = all(&i, SyncTarget::Users);
        assert_eq!(back, people);
        assert!(all(&i, SyncTarget::Requesters).is_empty());
        // Written into another directory, they are the same people there.
        let other = infraon();
        for result in other.upsert_batch(&back) {
            assert_eq!(result.unwrap(), UpsertOutcome::Created);
        }
        assert_eq!(all(&other, SyncTarget::Users), people);
    }

    #[test]
    fn people_are_listed_by_display_name() {
        let i = infraon();
        let named = |n, name: &str| Person {
            display_name: name.into(),
            ..person(n)
        };
        i.upsert(&named(1, "zoe")).unwrap();
        i.upsert(&named(2, "Bob")).unwrap();
        i.add_unlinked_person(SyncTarget::Users, "a@acme.example", "a", "anna")
            .unwrap();
        let listed: Vec<String> = i
            .people(SyncTarget::Users)
            .unwrap()
            .into_iter()
            .map(|p| p.display_name)
            .collect();
        assert_eq!(listed, ["anna", "Bob", "zoe"]);
    }

    #[test]
    fn a_people_page_filters_counts_and_loads_only_its_window() {
        let i = infraon();
        for (n, name) in [(1, "Zoë Ünal"), (2, "bob"), (3, "Carol"), (4, "dave")] {
            i.upsert(&Person {
                display_name: name.into(),
                ..person(n)
            })
            .unwrap();
        }
        let names = |page: PeoplePage| {
            let listed: Vec<String> = page.people.into_iter().map(|p| p.display_name).collect();
            (listed, page.matching, page.total)
        };
        let all = |skip, take| names(i.people_page(SyncTarget::Users, " ", skip, take).unwrap());
        assert_eq!(all(0, 2), (vec!["bob".into(), "Carol".into()], 4, 4));
        assert_eq!(all(2, 2), (vec!["dave".into(), "Zoë Ünal".into()], 4, 4));
        assert_eq!(all(4, 2), (vec![], 4, 4));
        // Beyond ASCII, case is ignored as Rust lower-cases it.
        let found = |q| names(i.people_page(SyncTarget::Users, q, 0, 10).unwrap());
        assert_eq!(found("ÜNAL"), (vec!["Zoë Ünal".into()], 1, 4));
        // Emails and logins match too: every seeded one holds "acme".
        assert_eq!(found("ACME").1, 4);
        assert_eq!(found("p3@").0, vec!["Carol".to_owned()]);
        assert_eq!(found("nobody-here").1, 0);
        assert_eq!(
            i.people_page(SyncTarget::Requesters, "", 0, 10)
                .unwrap()
                .total,
            0
        );
    }

    #[test]
    fn the_directory_persists_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let i = Infraon::open(dir.path()).unwrap();
            i.upsert(&alice()).unwrap();
            i.upsert_batch(&[person(1), person(2)]);
            i.set_status(SyncTarget::Users, "00u2", PersonStatus::Suspended)
                .unwrap();
            i.add_unlinked_person(SyncTarget::Requesters, "r@acme.example", "r", "R")
                .unwrap();
        }
        let i = Infraon::open(dir.path()).unwrap();
        assert_eq!(i.upsert(&alice()).unwrap(), UpsertOutcome::Unchanged);
        assert_eq!(
            i.list_linked("acme", SyncTarget::Users).unwrap(),
            ["00u1", "00u1alice", "00u2"]
        );
        assert_eq!(
            i.find_by_external_id(SyncTarget::Users, "00u2")
                .unwrap()
                .unwrap()
                .status,
            PersonStatus::Suspended
        );
        assert!(
            i.find_by_email(SyncTarget::Requesters, "R@acme.example")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn relink_keeps_the_person_and_moves_the_link() {
        let i = infraon();
        i.upsert(&alice()).unwrap();
        i.upsert(&person(1)).unwrap();
        let before = i
            .find_by_external_id(SyncTarget::Users, "00u1alice")
            .unwrap()
            .unwrap();
        i.relink(SyncTarget::Users, "00u1alice", "00u9rehired")
            .unwrap();
        assert!(
            i.find_by_external_id(SyncTarget::Users, "00u1alice")
                .unwrap()
                .is_none()
        );
        let after = i
            .find_by_external_id(SyncTarget::Users, "00u9rehired")
            .unwrap()
            .unwrap();
        assert_eq!(after.email, before.email);
        assert_eq!(
            i.find_by_login(SyncTarget::Users, "ALICE@acme.example")
                .unwrap()
                .map(|p| p.external_id),
            Some("00u9rehired".into())
        );
        assert!(matches!(
            i.relink(SyncTarget::Users, "00u9rehired", "00u1"),
            Err(DirectoryError::Conflict(_))
        ));
        assert!(matches!(
            i.relink(SyncTarget::Users, "00uNOBODY", "00u77"),
            Err(DirectoryError::NotFound(_))
        ));
    }

    #[test]
    fn release_identity_frees_a_deactivated_persons_email_and_login_only() {
        let i = infraon();
        i.upsert(&alice()).unwrap();
        assert!(matches!(
            i.release_identity(SyncTarget::Users, "00u1alice"),
            Err(DirectoryError::Conflict(_))
        ));
        i.set_status(SyncTarget::Users, "00u1alice", PersonStatus::Deactivated)
            .unwrap();
        i.release_identity(SyncTarget::Users, "00u1alice").unwrap();
        assert!(
            i.find_by_external_id(SyncTarget::Users, "00u1alice")
                .unwrap()
                .is_none()
        );
        let old = i
            .find_by_login(SyncTarget::Users, "alice+released.1@acme.example")
            .unwrap()
            .unwrap();
        assert!(old.email.starts_with("Alice+released.") && old.email.ends_with("@Acme.example"));
        assert_eq!(
            (old.config.as_str(), old.status),
            ("", PersonStatus::Deactivated)
        );
        // A new person may now take the email and login.
        let new = Person {
            external_id: "00u2new".into(),
            ..alice()
        };
        assert_eq!(i.upsert(&new).unwrap(), UpsertOutcome::Created);
    }

    #[test]
    fn move_population_moves_everyone_or_nobody() {
        let i = infraon();
        let mut a = alice();
        a.roles = vec!["Technician".into()];
        a.fields = vec![
            ("location".into(), "Pune".into()),
            ("title".into(), "Dr".into()),
        ];
        i.upsert(&a).unwrap();
        i.upsert(&person(1)).unwrap();
        // Someone of the other config stays.
        i.upsert(&Person {
            config: "other".into(),
            ..person(2)
        })
        .unwrap();
        assert_eq!(
            i.move_population("acme", SyncTarget::Users, SyncTarget::Requesters)
                .unwrap(),
            2
        );
        assert_eq!(i.list_linked("acme", SyncTarget::Users).unwrap().len(), 0);
        let moved = i
            .find_by_external_id(SyncTarget::Requesters, "00u1alice")
            .unwrap()
            .unwrap();
        assert!(moved.roles.is_empty());
        assert_eq!(moved.fields, vec![("title".to_string(), "Dr".to_string())]);
        assert_eq!(i.list_linked("other", SyncTarget::Users).unwrap().len(), 1);

        // Back, with an unlinked user holding one email: nobody moves.
        i.add_unlinked_person(
            SyncTarget::Users,
            "p1@acme.example",
            "p1@acme.example",
            "P One",
        )
        .unwrap();
        assert!(matches!(
            i.move_population("acme", SyncTarget::Requesters, SyncTarget::Users),
            Err(DirectoryError::Conflict(_))
        ));
        assert_eq!(
            i.list_linked("acme", SyncTarget::Requesters).unwrap().len(),
            2
        );
    }

    #[test]
    fn move_people_moves_only_the_ones_named() {
        let i = infraon();
        i.upsert(&alice()).unwrap();
        i.upsert(&person(1)).unwrap();
        let ids = vec!["00u1alice".to_string()];
        assert_eq!(
            i.move_people("acme", SyncTarget::Users, SyncTarget::Requesters, &ids)
                .unwrap(),
            1
        );
        assert!(
            i.find_by_external_id(SyncTarget::Users, "00u1alice")
                .unwrap()
                .is_none()
        );
        assert!(
            i.find_by_external_id(SyncTarget::Requesters, "00u1alice")
                .unwrap()
                .is_some()
        );
        assert_eq!(i.list_linked("acme", SyncTarget::Users).unwrap().len(), 1);
        // Another config's people are never moved by name.
        assert_eq!(
            i.move_people("other", SyncTarget::Users, SyncTarget::Requesters, &ids)
                .unwrap(),
            0
        );
    }
}
