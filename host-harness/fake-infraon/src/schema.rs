//! The whole database schema, as ordered migrations keyed by SQLite's
//! `user_version`.
//!
//! A state directory outlives a build of the harness, so the schema only ever
//! grows by appending a migration: never edit one that has shipped. Seeds live
//! in the migration that created their table so they are inserted exactly once
//! and an operator's later edits to them are not undone on the next open.

use rusqlite::Connection;

use crate::types::InfraonError;

/// Migration `n` (1-based) brings `user_version` from `n - 1` to `n`.
const MIGRATIONS: &[&str] = &[
    // 1: everything the 0.1.0 contract needs.
    r#"
    CREATE TABLE storage (
        plugin     TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      BLOB NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
    ) WITHOUT ROWID;

    -- Only ciphertext is ever written here; see secrets.rs.
    CREATE TABLE secrets (
        plugin     TEXT NOT NULL,
        name       TEXT NOT NULL,
        nonce      BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (plugin, name)
    ) WITHOUT ROWID;

    CREATE TABLE installations (
        plugin           TEXT NOT NULL,
        config           TEXT NOT NULL,
        okta_origin      TEXT NOT NULL,
        development_mode INTEGER NOT NULL CHECK (development_mode IN (0, 1)),
        installed_at     TEXT NOT NULL,
        updated_at       TEXT NOT NULL,
        PRIMARY KEY (plugin, config)
    ) WITHOUT ROWID;

    CREATE TABLE schedules (
        plugin        TEXT NOT NULL,
        config        TEXT NOT NULL,
        schedule_json TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (plugin, config)
    ) WITHOUT ROWID;

    CREATE TABLE log_lines (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        plugin      TEXT NOT NULL,
        config      TEXT,
        level       TEXT NOT NULL,
        message     TEXT NOT NULL,
        fields_json TEXT NOT NULL
    );
    CREATE INDEX log_lines_plugin ON log_lines (plugin, id);

    CREATE TABLE roles (
        kind TEXT NOT NULL CHECK (kind IN ('users', 'requesters')),
        name TEXT NOT NULL,
        PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;

    CREATE TABLE field_specs (
        kind     TEXT NOT NULL CHECK (kind IN ('users', 'requesters')),
        name     TEXT NOT NULL,
        required INTEGER NOT NULL CHECK (required IN (0, 1)),
        position INTEGER NOT NULL,
        PRIMARY KEY (kind, name)
    ) WITHOUT ROWID;

    -- external_id and config are NULL for a person Infraon has that no Okta
    -- user is linked to. email_norm / login_norm hold the Unicode-lowercased
    -- values so uniqueness is case-insensitive beyond ASCII (SQLite's NOCASE
    -- only folds ASCII).
    CREATE TABLE people (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('users', 'requesters')),
        external_id  TEXT,
        config       TEXT,
        login        TEXT NOT NULL,
        login_norm   TEXT NOT NULL,
        email        TEXT NOT NULL,
        email_norm   TEXT NOT NULL,
        first_name   TEXT NOT NULL,
        last_name    TEXT NOT NULL,
        display_name TEXT NOT NULL,
        status       TEXT NOT NULL
                     CHECK (status IN ('active', 'pending', 'suspended', 'deactivated')),
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        CHECK ((external_id IS NULL) = (config IS NULL))
    );
    CREATE UNIQUE INDEX people_external_id ON people (kind, external_id)
        WHERE external_id IS NOT NULL;
    CREATE UNIQUE INDEX people_email ON people (kind, email_norm);
    CREATE UNIQUE INDEX people_login ON people (kind, login_norm);
    CREATE INDEX people_config ON people (config, kind) WHERE config IS NOT NULL;

    CREATE TABLE person_fields (
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        name      TEXT NOT NULL,
        value     TEXT NOT NULL,
        PRIMARY KEY (person_id, name)
    ) WITHOUT ROWID;

    CREATE TABLE person_roles (
        person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
        kind      TEXT NOT NULL,
        name      TEXT NOT NULL,
        PRIMARY KEY (person_id, name),
        FOREIGN KEY (kind, name) REFERENCES roles (kind, name)
    ) WITHOUT ROWID;

    INSERT INTO roles (kind, name) VALUES
        ('users', 'Administrator'),
        ('users', 'Technician'),
        ('users', 'Service Desk Agent'),
        ('users', 'Change Manager'),
        ('requesters', 'Requester'),
        ('requesters', 'VIP Requester');

    INSERT INTO field_specs (kind, name, required, position)
    SELECT k.kind, f.name, f.required, f.position
    FROM (SELECT 'users' AS kind UNION ALL SELECT 'requesters') AS k,
         (SELECT 'login' AS name, 1 AS required, 1 AS position
          UNION ALL SELECT 'email', 1, 2
          UNION ALL SELECT 'first_name', 0, 3
          UNION ALL SELECT 'last_name', 0, 4
          UNION ALL SELECT 'display_name', 1, 5
          UNION ALL SELECT 'phone', 0, 6
          UNION ALL SELECT 'department', 0, 7
          UNION ALL SELECT 'title', 0, 8
          UNION ALL SELECT 'employee_number', 0, 9
          UNION ALL SELECT 'manager', 0, 10) AS f;
    INSERT INTO field_specs (kind, name, required, position)
        VALUES ('users', 'location', 0, 11);
    "#,
    // The storage quota needs each plugin's total on every write; summing the
    // table each time made a run that stores a page per step quadratic.
    // Triggers keep the total in the same transaction as the write, so every
    // writer (and the CLI) sees it agree with the rows.
    r#"
    CREATE TABLE storage_usage (
        plugin TEXT PRIMARY KEY,
        bytes  INTEGER NOT NULL
    ) WITHOUT ROWID;

    INSERT INTO storage_usage (plugin, bytes)
    SELECT plugin, SUM(length(value)) FROM storage GROUP BY plugin;

    CREATE TRIGGER storage_usage_insert AFTER INSERT ON storage BEGIN
        INSERT INTO storage_usage (plugin, bytes) VALUES (NEW.plugin, length(NEW.value))
        ON CONFLICT (plugin) DO UPDATE SET bytes = bytes + excluded.bytes;
    END;

    CREATE TRIGGER storage_usage_update AFTER UPDATE OF value ON storage BEGIN
        UPDATE storage_usage SET bytes = bytes - length(OLD.value) WHERE plugin = OLD.plugin;
        INSERT INTO storage_usage (plugin, bytes) VALUES (NEW.plugin, length(NEW.value))
        ON CONFLICT (plugin) DO UPDATE SET bytes = bytes + excluded.bytes;
    END;

    CREATE TRIGGER storage_usage_delete AFTER DELETE ON storage BEGIN
        UPDATE storage_usage SET bytes = bytes - length(OLD.value) WHERE plugin = OLD.plugin;
    END;
    "#,
    // A person's fields and roles move into two JSON columns of their row: a
    // sync wrote a row per field and per role, most of the directory's time
    // in a large sync. Roles are still checked against `roles` on every
    // write (see directory.rs), as the foreign key did.
    r#"
    ALTER TABLE people ADD COLUMN fields_json TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE people ADD COLUMN roles_json TEXT NOT NULL DEFAULT '[]';

    UPDATE people SET
        fields_json = (SELECT json_group_array(json_array(name, value) ORDER BY name)
                       FROM person_fields WHERE person_id = people.id),
        roles_json = (SELECT json_group_array(name ORDER BY name)
                      FROM person_roles WHERE person_id = people.id);

    DROP TABLE person_fields;
    DROP TABLE person_roles;
    "#,
    // Run leases (leases.rs): one host process drives a config's run.
    r#"
    CREATE TABLE leases (
        name          TEXT PRIMARY KEY,
        holder        TEXT NOT NULL,
        expires_at_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // Infraon marks privileged roles (contract 0.2.0 `role.privileged`):
    // the plugin grants them only by a rule naming them.
    r#"
    ALTER TABLE roles ADD COLUMN privileged INTEGER NOT NULL DEFAULT 0
        CHECK (privileged IN (0, 1));
    UPDATE roles SET privileged = 1 WHERE kind = 'users' AND name = 'Administrator';
    "#,
    // A config's linked people in key order, covered by one index: the walk
    // of (kind, external_id) stepped over every other config's people and
    // read each row to test its config, so with 200 tenants of 1,000 people
    // each page of one tenant read up to all 200,000.
    r#"
    DROP INDEX people_config;
    CREATE INDEX people_config ON people (config, kind, external_id)
        WHERE config IS NOT NULL;
    "#,
    // Storage rows keyed by rowid, found through a (plugin, key) index. As
    // a WITHOUT ROWID table every cell was the whole row, and a cell too
    // large for its page is compared whole during a search: every set and
    // get read the values (stored pages of some 5 KB) of the cells on its
    // path from their overflow pages, so with a million-user sync's pages
    // stored a write cost four times what it did at 100k.
    r#"
    CREATE TABLE storage_rows (
        id         INTEGER PRIMARY KEY,
        plugin     TEXT NOT NULL,
        key        TEXT NOT NULL,
        value      BLOB NOT NULL,
        updated_at TEXT NOT NULL
    );
    INSERT INTO storage_rows (plugin, key, value, updated_at)
    SELECT plugin, key, value, updated_at FROM storage ORDER BY plugin, key;
    -- Takes its triggers with it; storage_usage keeps its totals.
    DROP TABLE storage;
    ALTER TABLE storage_rows RENAME TO storage;
    CREATE UNIQUE INDEX storage_key ON storage (plugin, key);

    CREATE TRIGGER storage_usage_insert AFTER INSERT ON storage BEGIN
        INSERT INTO storage_usage (plugin, bytes) VALUES (NEW.plugin, length(NEW.value))
        ON CONFLICT (plugin) DO UPDATE SET bytes = bytes + excluded.bytes;
    END;

    CREATE TRIGGER storage_usage_update AFTER UPDATE OF value ON storage BEGIN
        UPDATE storage_usage SET bytes = bytes - length(OLD.value) WHERE plugin = OLD.plugin;
        INSERT INTO storage_usage (plugin, bytes) VALUES (NEW.plugin, length(NEW.value))
        ON CONFLICT (plugin) DO UPDATE SET bytes = bytes + excluded.bytes;
    END;

    CREATE TRIGGER storage_usage_delete AFTER DELETE ON storage BEGIN
        UPDATE storage_usage SET bytes = bytes - length(OLD.value) WHERE plugin = OLD.plugin;
    END;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// Bring the database up to [`SCHEMA_VERSION`], each migration in its own
/// transaction so a crash never leaves a half-applied step behind.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), InfraonError> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(InfraonError::Schema(format!(
            "the database is at schema version {current}, this build knows up to {SCHEMA_VERSION}"
        )));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as u32 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::debug!(version, "fake Infraon schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written by a build before migration 3 (fields and roles
    /// in their own tables) keeps every person's fields and roles, sorted.
    #[test]
    fn fields_and_roles_move_into_the_person_row() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO people (id, kind, external_id, config, login, login_norm, email,
                 email_norm, first_name, last_name, display_name, status, created_at, updated_at)
             VALUES (1, 'users', '00u1', 'acme', 'a@x.io', 'a@x.io', 'a@x.io', 'a@x.io',
                     'A', 'B', 'A B', 'active', 't', 't'),
                    (2, 'users', NULL, NULL, 'b@x.io', 'b@x.io', 'b@x.io', 'b@x.io',
                     'C', 'D', 'C D', 'active', 't', 't');
             INSERT INTO person_fields VALUES (1, 'title', 'Dr \"Q\"'), (1, 'department', 'IT');
             INSERT INTO person_roles VALUES (1, 'users', 'Technician'),
                                             (1, 'users', 'Administrator');",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let row = |id: i64| -> (String, String) {
            conn.query_row(
                "SELECT fields_json, roles_json FROM people WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
        };
        let (fields, roles) = row(1);
        let fields: Vec<(String, String)> = serde_json::from_str(&fields).unwrap();
        let roles: Vec<String> = serde_json::from_str(&roles).unwrap();
        assert_eq!(
            fields,
            [
                ("department".to_string(), "IT".to_string()),
                ("title".to_string(), "Dr \"Q\"".to_string())
            ]
        );
        assert_eq!(roles, ["Administrator", "Technician"]);
        assert_eq!(row(2), ("[]".to_string(), "[]".to_string()));
        let old_tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name IN ('person_fields', 'person_roles')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old_tables, 0);
    }

    /// Storage written before migration 7 (a WITHOUT ROWID table) keeps
    /// every value and its plugin's total, and a key is still one row.
    #[test]
    fn storage_moves_to_a_rowid_table_and_keeps_values_and_totals() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute_batch(
            "INSERT INTO storage VALUES ('okta', 'b', x'0102', 't'), ('okta', 'a', zeroblob(9000), 't'),
                                        ('other', 'a', x'05', 't');",
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let value = |plugin: &str, key: &str| -> Vec<u8> {
            conn.query_row(
                "SELECT value FROM storage WHERE plugin = ?1 AND key = ?2",
                [plugin, key],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(value("okta", "b"), [1, 2]);
        assert_eq!(value("okta", "a"), vec![0; 9000]);
        assert_eq!(value("other", "a"), [5]);
        let total = |plugin: &str| -> i64 {
            conn.query_row(
                "SELECT bytes FROM storage_usage WHERE plugin = ?1",
                [plugin],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!((total("okta"), total("other")), (9002, 1));
        // The triggers came back on the new table, and a key stays unique.
        conn.execute(
            "INSERT INTO storage (plugin, key, value, updated_at) VALUES ('okta', 'b', x'010203', 'u')
             ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value",
            [],
        )
        .unwrap();
        conn.execute(
            "DELETE FROM storage WHERE plugin = 'okta' AND key = 'a'",
            [],
        )
        .unwrap();
        assert_eq!(total("okta"), 3);
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM storage", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2);
    }
}
