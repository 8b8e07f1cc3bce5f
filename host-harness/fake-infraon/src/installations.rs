//! The host's record of installed configs and the Okta origin each was
//! granted egress to. Not part of the WIT contract: the harness keeps it to
//! decide what the guest may reach and to list installs in the CLI.

use rusqlite::{OptionalExtension, Row, params};

use crate::types::{InfraonError, Installation};
use crate::{Infraon, now};

fn installation(r: &Row<'_>) -> rusqlite::Result<Installation> {
    Ok(Installation {
        plugin: r.get(0)?,
        config: r.get(1)?,
        okta_origin: r.get(2)?,
        development_mode: r.get(3)?,
        installed_at: r.get(4)?,
    })
}

impl Infraon {
    /// Record (or replace) an installed config.
    pub fn installation_put(&self, i: &Installation) -> Result<(), InfraonError> {
        if i.plugin.is_empty() || i.config.is_empty() {
            return Err(InfraonError::Invalid(
                "an installation needs a plugin and a config name".into(),
            ));
        }
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO installations
                 (plugin, config, okta_origin, development_mode, installed_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (plugin, config) DO UPDATE
             SET okta_origin = excluded.okta_origin,
                 development_mode = excluded.development_mode,
                 installed_at = excluded.installed_at,
                 updated_at = excluded.updated_at",
        )?
        .execute(params![
            i.plugin,
            i.config,
            i.okta_origin,
            i.development_mode,
            i.installed_at,
            now()
        ])?;
        Ok(())
    }

    /// An installed config, if any. Config names compare ignoring ASCII
    /// case, as the plugin compares them (`ACME` finds `acme`).
    pub fn installation_get(
        &self,
        plugin: &str,
        config: &str,
    ) -> Result<Option<Installation>, InfraonError> {
        let conn = self.conn();
        let found = conn
            .prepare_cached(
                "SELECT plugin, config, okta_origin, development_mode, installed_at
                 FROM installations WHERE plugin = ?1 AND config = ?2 COLLATE NOCASE",
            )?
            .query_row(params![plugin, config], installation)
            .optional()?;
        Ok(found)
    }

    /// Forget an installed config (name compared ignoring ASCII case);
    /// forgetting an absent one is not an error.
    /// Its schedule, storage and secrets are the harness's to clear.
    pub fn installation_delete(&self, plugin: &str, config: &str) -> Result<(), InfraonError> {
        let conn = self.conn();
        conn.prepare_cached(
            "DELETE FROM installations WHERE plugin = ?1 AND config = ?2 COLLATE NOCASE",
        )?
        .execute(params![plugin, config])?;
        Ok(())
    }

    /// Every installed config of a plugin, by config name.
    pub fn installations(&self, plugin: &str) -> Result<Vec<Installation>, InfraonError> {
        let conn = self.conn();
        let all = conn
            .prepare_cached(
                "SELECT plugin, config, okta_origin, development_mode, installed_at
                 FROM installations WHERE plugin = ?1 ORDER BY config",
            )?
            .query_map([plugin], installation)?
            .collect::<Result<_, _>>()?;
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> Installation {
        Installation {
            plugin: "okta".into(),
            config: "acme".into(),
            okta_origin: "https://acme.okta.com".into(),
            development_mode: false,
            installed_at: "2025-01-02T03:04:05.000Z".into(),
        }
    }

    #[test]
    fn put_get_replace_list_delete() {
        let i = Infraon::open_in_memory().unwrap();
        assert_eq!(i.installation_get("okta", "acme").unwrap(), None);
        i.installation_put(&acme()).unwrap();
        assert_eq!(i.installation_get("okta", "acme").unwrap(), Some(acme()));
        assert_eq!(i.installation_get("okta", "ACME").unwrap(), Some(acme()));
        let dev = Installation {
            config: "dev".into(),
            okta_origin: "http://127.0.0.1:8080".into(),
            development_mode: true,
            ..acme()
        };
        i.installation_put(&dev).unwrap();
        let moved = Installation {
            okta_origin: "https://acme.oktapreview.com".into(),
            ..acme()
        };
        i.installation_put(&moved).unwrap();
        assert_eq!(i.installations("okta").unwrap(), [moved, dev.clone()]);
        assert!(i.installations("other").unwrap().is_empty());
        i.installation_delete("okta", "acme").unwrap();
        i.installation_delete("okta", "acme").unwrap();
        assert_eq!(i.installations("okta").unwrap(), [dev]);
        assert!(matches!(
            i.installation_put(&Installation {
                config: String::new(),
                ..acme()
            }),
            Err(InfraonError::Invalid(_))
        ));
    }

    #[test]
    fn installations_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        Infraon::open(dir.path())
            .unwrap()
            .installation_put(&acme())
            .unwrap();
        let i = Infraon::open(dir.path()).unwrap();
        assert_eq!(i.installation_get("okta", "acme").unwrap(), Some(acme()));
    }
}
