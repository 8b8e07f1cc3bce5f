//! WIT `scheduler` state. The schedule is an opaque JSON string whose shape
//! the harness defines; this crate only keeps it, so the harness can change
//! that shape without a migration here.

use rusqlite::{OptionalExtension, params};

use crate::types::InfraonError;
use crate::{Infraon, now};

impl Infraon {
    /// Set (or replace) the schedule of a config. The schedule must be JSON,
    /// so that a caller's serialisation bug shows up here rather than when
    /// the schedule is read back at the next start.
    pub fn schedule_set(
        &self,
        plugin: &str,
        config: &str,
        schedule_json: &str,
    ) -> Result<(), InfraonError> {
        serde_json::from_str::<serde_json::Value>(schedule_json)
            .map_err(|e| InfraonError::Invalid(format!("a schedule must be JSON: {e}")))?;
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO schedules (plugin, config, schedule_json, updated_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (plugin, config) DO UPDATE
             SET schedule_json = excluded.schedule_json, updated_at = excluded.updated_at",
        )?
        .execute(params![plugin, config, schedule_json, now()])?;
        Ok(())
    }

    /// The schedule of a config, if any.
    pub fn schedule_get(&self, plugin: &str, config: &str) -> Result<Option<String>, InfraonError> {
        let conn = self.conn();
        let found = conn
            .prepare_cached(
                "SELECT schedule_json FROM schedules WHERE plugin = ?1 AND config = ?2",
            )?
            .query_row(params![plugin, config], |r| r.get(0))
            .optional()?;
        Ok(found)
    }

    /// Remove the schedule of a config; clearing an absent one is not an error.
    pub fn schedule_clear(&self, plugin: &str, config: &str) -> Result<(), InfraonError> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM schedules WHERE plugin = ?1 AND config = ?2")?
            .execute(params![plugin, config])?;
        Ok(())
    }

    /// Every `(config, schedule_json)` of a plugin, by config name: what the
    /// harness re-arms when it starts.
    pub fn schedules(&self, plugin: &str) -> Result<Vec<(String, String)>, InfraonError> {
        let conn = self.conn();
        let all = conn
            .prepare_cached(
                "SELECT config, schedule_json FROM schedules WHERE plugin = ?1 ORDER BY config",
            )?
            .query_map([plugin], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAILY: &str = r#"{"daily":{"hour":2,"minute":30,"time_zone":"Asia/Kolkata"}}"#;

    #[test]
    fn set_get_replace_clear_and_list() {
        let i = Infraon::open_in_memory().unwrap();
        assert_eq!(i.schedule_get("okta", "acme").unwrap(), None);
        i.schedule_set("okta", "acme", DAILY).unwrap();
        assert_eq!(
            i.schedule_get("okta", "acme").unwrap().as_deref(),
            Some(DAILY)
        );
        i.schedule_set("okta", "beta", r#"{"every_hours":6}"#)
            .unwrap();
        i.schedule_set("okta", "acme", r#"{"every_hours":1}"#)
            .unwrap();
        assert_eq!(
            i.schedules("okta").unwrap(),
            [
                ("acme".to_string(), r#"{"every_hours":1}"#.to_string()),
                ("beta".to_string(), r#"{"every_hours":6}"#.to_string()),
            ]
        );
        assert!(i.schedules("other").unwrap().is_empty());
        i.schedule_clear("okta", "acme").unwrap();
        i.schedule_clear("okta", "acme").unwrap();
        assert_eq!(i.schedule_get("okta", "acme").unwrap(), None);
        assert!(matches!(
            i.schedule_set("okta", "acme", "daily at 2"),
            Err(InfraonError::Invalid(_))
        ));
    }

    #[test]
    fn schedules_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        Infraon::open(dir.path())
            .unwrap()
            .schedule_set("okta", "acme", DAILY)
            .unwrap();
        let i = Infraon::open(dir.path()).unwrap();
        assert_eq!(
            i.schedules("okta").unwrap(),
            [("acme".to_string(), DAILY.to_string())]
        );
    }
}
