//! The fake Infraon: everything the host harness's WIT host modules call into,
//! kept in one SQLite database in a state directory.
//!
//! It plays the parts of Infraon the Okta plugin talks to through
//! `wit/v0.1.0/host.wit`: per-plugin key-value `storage`, `secrets` kept
//! encrypted at rest, the `directory` of Users and Requesters, `scheduler`
//! state and `log` lines, plus the host's record of installed configs.
//! It implements the runtime's backend traits (`okta_host_runtime::backend`)
//! and speaks the runtime's domain types; it never sees a WIT-generated type.
//!
//! # State directory
//!
//! [`Infraon::open`] creates the directory if needed and keeps:
//! - `infraon.sqlite3` (WAL mode, foreign keys on, schema versioned by
//!   `user_version`, see [`schema`]);
//! - `secrets.key`: 32 random bytes, mode 0600, the key secrets are sealed
//!   with (XChaCha20-Poly1305, a fresh random nonce per value, bound to the
//!   plugin and secret name). The database file never holds a secret in
//!   clear, so the database can be shared in a bug report without the key.
//!
//! # Directory rules
//!
//! These are the rules an Infraon operator expects the directory to enforce,
//! whatever the plugin sends:
//!
//! - A person is keyed by (kind, external id): Users and Requesters are
//!   separate populations and the same Okta user may be in both.
//! - **No silent takeover.** Upserting a person whose email (compared
//!   case-insensitively) or login (likewise) already belongs to another person
//!   of that kind — an unlinked Infraon account, or one linked to another Okta
//!   user — fails with [`DirectoryError::Conflict`] naming the email. So does
//!   upserting an external id that another config already manages.
//! - **Validation** fails with [`DirectoryError::Rejected`] naming the field:
//!   the external id and config must be non-empty; the email must have exactly
//!   one `@`, something before it, and a dot inside the domain, and no spaces;
//!   the login must be non-empty; the display name, when empty, is built from
//!   first and last name and must not end up empty; any value longer than
//!   1024 characters is refused; a field must be one of
//!   [`Infraon::list_fields`] for that kind or start with `custom.` (the custom
//!   field bucket), must not repeat, and must not be one of the person's own
//!   attributes (`login`, `email`, `first_name`, `last_name`, `display_name`),
//!   which travel in the record itself; every role must be one of
//!   [`Infraon::list_roles`] for that kind (field `roles`).
//! - Seeded roles: Users have "Administrator" (privileged), "Technician",
//!   "Service Desk Agent", "Change Manager"; Requesters have "Requester",
//!   "VIP Requester".
//! - Seeded fields, both kinds: `login`*, `email`*, `first_name`, `last_name`,
//!   `display_name`*, `phone`, `department`, `title`, `employee_number`,
//!   `manager` (* required); Users also `location`. Any `custom.<name>` field
//!   is accepted and is not listed.
//! - An upsert reports [`UpsertOutcome::Unchanged`] when every stored value is
//!   equal: attributes, config, status, fields (as a map) and roles (as a set).
//!   Otherwise `Updated`, and only then does `updated_at` move.
//! - A batch runs in one transaction with a savepoint per person: a rejected
//!   or conflicting person is rolled back alone and the others land.
//! - Every person keeps `created_at` and `updated_at`.

#![warn(missing_docs)]

mod backend;
mod checkpoint;
mod directory;
mod installations;
mod leases;
mod lock_stats;
mod log;
mod scheduler;
pub mod schema;
mod secrets;
mod storage;
pub mod types;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use chacha20poly1305::XChaCha20Poly1305;
use rusqlite::Connection;

pub use directory::{CUSTOM_FIELD_PREFIX, MAX_VALUE_CHARS};
pub use leases::Lease;
pub use lock_stats::LockStats;
pub use storage::{MAX_PLUGIN_BYTES, MAX_VALUE_BYTES};
pub use types::{
    DirectoryError, FieldSpec, InfraonError, Installation, LogLine, PeoplePage, Person,
    PersonStatus, Role, SecretsError, StorageError, SyncTarget, UpsertOutcome,
};

/// The database file inside the state directory.
pub const DATABASE_FILE: &str = "infraon.sqlite3";
/// The secrets key file inside the state directory.
pub const SECRETS_KEY_FILE: &str = "secrets.key";

/// SQLite's page cache, in KiB when negative (SQLite's convention).
const PAGE_CACHE_KIB: i64 = -32 * 1024;

/// Prepared statements kept per connection: more than the harness has.
const STATEMENT_CACHE: usize = 128;

/// How long a call waits for another process (the CLI next to a running
/// harness) to release the database before reporting it unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The fake Infraon. `Send + Sync`; share one behind an `Arc`.
///
/// Every call takes the one connection's lock for its duration, so calls are
/// serialised; that is plenty for a test harness and keeps transactions simple.
pub struct Infraon {
    conn: Mutex<Connection>,
    /// Checkpoints of the database's log, beside the writes; declared after
    /// `conn` so that its connection closes last and removes the log.
    /// `None` in memory.
    checkpointer: Option<checkpoint::Checkpointer>,
    /// How long the connection's lock was held and waited for.
    lock: lock_stats::LockCounters,
    cipher: XChaCha20Poly1305,
    state_dir: Option<PathBuf>,
    /// The most one plugin may keep in storage; [`MAX_PLUGIN_BYTES`] unless
    /// set otherwise ([`Infraon::set_plugin_quota`]).
    plugin_quota: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for Infraon {
    // Hand-written so the cipher (the key) can never end up in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Infraon")
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl Infraon {
    /// Open (creating if needed) the fake Infraon kept in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<Infraon, InfraonError> {
        std::fs::create_dir_all(state_dir).map_err(|source| InfraonError::Io {
            path: state_dir.display().to_string(),
            source,
        })?;
        let db_path = state_dir.join(DATABASE_FILE);
        let mut conn = Connection::open(&db_path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // WAL lets the CLI read while the harness writes.
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "wal", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite refused WAL mode");
        }
        conn.pragma_update(None, "synchronous", "normal")?;
        // SQLite's default page cache is 2 MB: past a few ten thousand
        // people every upsert read its index pages back from the OS.
        conn.pragma_update(None, "cache_size", PAGE_CACHE_KIB)?;
        Self::prepare(&mut conn)?;
        let key = secrets::load_or_create_key(state_dir, &conn)?;
        // A page of people dirties a few hundred index pages: checkpoints
        // every 64 MiB of log copy a page once for many batches, and run
        // beside the writes (see checkpoint.rs).
        let checkpointer = checkpoint::Checkpointer::install(&conn, &db_path);
        tracing::debug!(state_dir = %state_dir.display(), "fake Infraon opened");
        Ok(Infraon {
            conn: Mutex::new(conn),
            checkpointer: Some(checkpointer),
            lock: Default::default(),
            cipher: secrets::cipher(&key),
            state_dir: Some(state_dir.to_path_buf()),
            plugin_quota: MAX_PLUGIN_BYTES.into(),
        })
    }

    /// A fake Infraon that lives in memory only, with an ephemeral secrets key.
    pub fn open_in_memory() -> Result<Infraon, InfraonError> {
        let mut conn = Connection::open_in_memory()?;
        Self::prepare(&mut conn)?;
        Ok(Infraon {
            conn: Mutex::new(conn),
            checkpointer: None,
            lock: Default::default(),
            cipher: secrets::cipher(&secrets::random_key()),
            state_dir: None,
            plugin_quota: MAX_PLUGIN_BYTES.into(),
        })
    }

    /// The state directory, or `None` for an in-memory Infraon.
    pub fn state_dir(&self) -> Option<&Path> {
        self.state_dir.as_deref()
    }

    fn prepare(conn: &mut Connection) -> Result<(), InfraonError> {
        // Every statement is `prepare_cached`; rusqlite keeps 16 by default,
        // fewer than one sync step uses, so they were parsed again and again.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // Off by default in SQLite, and per connection: without it the
        // ON DELETE CASCADE and role references are not enforced.
        conn.pragma_update(None, "foreign_keys", true)?;
        // A batch upsert opens a savepoint per person; with temp files their
        // statement journals cost a write syscall per touched page.
        conn.pragma_update(None, "temp_store", "memory")?;
        schema::migrate(conn)
    }

    /// The connection, its lock held until the guard drops (see
    /// [`lock_stats::LockCounters::take`]).
    fn conn(&self) -> lock_stats::ConnGuard<'_> {
        self.lock.take(&self.conn, self.checkpointer.as_ref())
    }

    /// Whether a call now would wait: another call holds the connection.
    pub fn is_busy(&self) -> bool {
        matches!(
            self.conn.try_lock(),
            Err(std::sync::TryLockError::WouldBlock)
        )
    }

    /// How busy the connection's lock has been since this Infraon was
    /// opened: every call takes it, so it is what many tenants queue on.
    pub fn lock_stats(&self) -> LockStats {
        self.lock.snapshot()
    }
}

/// The current time as stored in every timestamp column (RFC 3339, UTC, ms).
pub(crate) fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infraon_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Infraon>();
    }

    #[test]
    fn busy_while_a_call_holds_the_connection() {
        let infraon = Infraon::open_in_memory().unwrap();
        assert!(!infraon.is_busy());
        let held = infraon.conn();
        std::thread::scope(|s| {
            // Asked from another thread, as the runtime asks while a
            // directory writer holds the connection.
            assert!(s.spawn(|| infraon.is_busy()).join().unwrap());
        });
        drop(held);
        assert!(!infraon.is_busy());
    }

    #[test]
    fn open_creates_the_state_dir_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("nested").join("state");
        {
            let infraon = Infraon::open(&state).unwrap();
            assert_eq!(infraon.state_dir(), Some(state.as_path()));
            assert_eq!(infraon.list_roles().unwrap().len(), 6);
        }
        assert!(state.join(DATABASE_FILE).is_file());
        // A second open must not re-run migrations (which would fail on the
        // seeds' primary keys) nor duplicate the seeds.
        let infraon = Infraon::open(&state).unwrap();
        assert_eq!(infraon.list_roles().unwrap().len(), 6);
        let version: u32 = infraon
            .conn()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, schema::SCHEMA_VERSION);
        let mode: String = infraon
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Infraon::open(dir.path()).unwrap());
        let conn = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        conn.pragma_update(None, "user_version", schema::SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);
        let err = Infraon::open(dir.path()).unwrap_err();
        assert!(matches!(err, InfraonError::Schema(_)), "{err}");
    }

    #[test]
    fn debug_does_not_show_the_key() {
        let infraon = Infraon::open_in_memory().unwrap();
        let shown = format!("{infraon:?}");
        assert!(shown.starts_with("Infraon"), "{shown}");
        assert!(!shown.contains("cipher"), "{shown}");
    }
}
