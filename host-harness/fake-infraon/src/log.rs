//! Log lines the host writes for a plugin (WIT `log`). Kept in the database
//! so tests can search every line ever written for a leaked secret.

use rusqlite::params;

use crate::types::{InfraonError, LogLine};
use crate::{Infraon, now};

impl Infraon {
    /// Append one line. `fields_json` is the line's key-value fields as the
    /// host encoded them; it is kept verbatim.
    pub fn log_append(
        &self,
        plugin: &str,
        config: Option<&str>,
        level: &str,
        message: &str,
        fields_json: &str,
    ) -> Result<(), InfraonError> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO log_lines (at, plugin, config, level, message, fields_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![now(), plugin, config, level, message, fields_json])?;
        Ok(())
    }

    /// Every line written for a plugin, oldest first.
    pub fn log_lines(&self, plugin: &str) -> Result<Vec<LogLine>, InfraonError> {
        let conn = self.conn();
        let lines = conn
            .prepare_cached(
                "SELECT id, at, plugin, config, level, message, fields_json
                 FROM log_lines WHERE plugin = ?1 ORDER BY id",
            )?
            .query_map([plugin], |r| {
                Ok(LogLine {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    plugin: r.get(2)?,
                    config: r.get(3)?,
                    level: r.get(4)?,
                    message: r.get(5)?,
                    fields_json: r.get(6)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_back_in_order_per_plugin() {
        let i = Infraon::open_in_memory().unwrap();
        i.log_append(
            "okta",
            Some("acme"),
            "info",
            "sync started",
            r#"{"run":"1"}"#,
        )
        .unwrap();
        i.log_append("other", None, "debug", "elsewhere", "{}")
            .unwrap();
        i.log_append("okta", None, "warn", "no config", "{}")
            .unwrap();
        let lines = i.log_lines("okta").unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].id < lines[1].id);
        assert_eq!(lines[0].config.as_deref(), Some("acme"));
        assert_eq!(lines[0].level, "info");
        assert_eq!(lines[0].message, "sync started");
        assert_eq!(lines[0].fields_json, r#"{"run":"1"}"#);
        assert_eq!(lines[1].config, None);
        assert_eq!(lines[1].message, "no config");
        assert!(chrono::DateTime::parse_from_rfc3339(&lines[0].at).is_ok());
    }

    #[test]
    fn lines_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        Infraon::open(dir.path())
            .unwrap()
            .log_append("okta", Some("acme"), "error", "boom", "{}")
            .unwrap();
        let i = Infraon::open(dir.path()).unwrap();
        assert_eq!(i.log_lines("okta").unwrap()[0].message, "boom");
    }
}
