//! WIT `storage`: a per-plugin key-value store of opaque bytes.

use rusqlite::{OptionalExtension, params};

use crate::types::StorageError;
use crate::{Infraon, now};

/// The largest single value a plugin may store (1 MiB). Larger values are
/// refused with [`StorageError::QuotaExceeded`] so a plugin that keeps whole
/// sync snapshots in one key finds out in tests, not in production.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;

/// The most a plugin may keep in storage in all (64 MiB of values).
pub const MAX_PLUGIN_BYTES: u64 = 64 * 1024 * 1024;

impl Infraon {
    /// Let each plugin keep up to `bytes` in storage (default
    /// [`MAX_PLUGIN_BYTES`]). An org of a million people needs more than
    /// the default: its membership snapshot alone is some 70 MB, and a first
    /// run lists a million people created (about 200 bytes each); the
    /// growth bench sets it (see README, Benchmarks).
    pub fn set_plugin_quota(&self, bytes: u64) {
        self.plugin_quota
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Read a value; `None` when the key is absent.
    pub fn storage_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let conn = self.conn();
        let value = conn
            .prepare_cached("SELECT value FROM storage WHERE plugin = ?1 AND key = ?2")?
            .query_row(params![plugin, key], |r| r.get(0))
            .optional()?;
        Ok(value)
    }

    /// Write a value, replacing any previous one. A value over
    /// [`MAX_VALUE_BYTES`], or one that would take the plugin past
    /// its quota ([`MAX_PLUGIN_BYTES`] by default), is refused with
    /// [`StorageError::QuotaExceeded`].
    pub fn storage_set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), StorageError> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(StorageError::QuotaExceeded);
        }
        let mut conn = self.conn();
        // The quota check and the write must see the same state.
        let tx = conn.transaction()?;
        let used_by_others: u64 = tx
            .prepare_cached(
                "SELECT COALESCE((SELECT bytes FROM storage_usage WHERE plugin = ?1), 0)
                      - COALESCE((SELECT length(value) FROM storage
                                  WHERE plugin = ?1 AND key = ?2), 0)",
            )?
            .query_row(params![plugin, key], |r| r.get(0))?;
        let quota = self.plugin_quota.load(std::sync::atomic::Ordering::Relaxed);
        if used_by_others + value.len() as u64 > quota {
            return Err(StorageError::QuotaExceeded);
        }
        tx.prepare_cached(
            "INSERT INTO storage (plugin, key, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (plugin, key) DO UPDATE
             SET value = excluded.value, updated_at = excluded.updated_at",
        )?
        .execute(params![plugin, key, value, now()])?;
        tx.commit()?;
        Ok(())
    }

    /// Remove a key; removing an absent key is not an error.
    pub fn storage_delete(&self, plugin: &str, key: &str) -> Result<(), StorageError> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM storage WHERE plugin = ?1 AND key = ?2")?
            .execute(params![plugin, key])?;
        Ok(())
    }

    /// Keys that start with `prefix`, in lexicographic (byte) order.
    pub fn storage_list_keys(
        &self,
        plugin: &str,
        prefix: &str,
    ) -> Result<Vec<String>, StorageError> {
        let conn = self.conn();
        // Not LIKE: it treats `%` and `_` as wildcards and folds ASCII case,
        // and plugin keys may contain both. A range of the primary key, so
        // that only the prefix's keys are read (a scan of every key of the
        // plugin made each listing cost the whole store: many tenants'
        // runs made it quadratic); substr/length then test the prefix
        // exactly. BINARY collation orders UTF-8 bytes, which is code point
        // order and Rust's `str` order.
        let keys = match prefix_end(prefix) {
            Some(end) => conn
                .prepare_cached(
                    "SELECT key FROM storage
                     WHERE plugin = ?1 AND key >= ?2 AND key < ?3
                       AND substr(key, 1, length(?2)) = ?2
                     ORDER BY key",
                )?
                .query_map(params![plugin, prefix, end], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?,
            None => conn
                .prepare_cached(
                    "SELECT key FROM storage
                     WHERE plugin = ?1 AND key >= ?2 AND substr(key, 1, length(?2)) = ?2
                     ORDER BY key",
                )?
                .query_map(params![plugin, prefix], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?,
        };
        Ok(keys)
    }
}

/// The least string above every string that starts with `prefix`: its
/// last character that can be incremented, incremented (code point order);
/// `None` when there is none (an empty prefix, or only `char::MAX`).
fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infraon() -> Infraon {
        Infraon::open_in_memory().unwrap()
    }

    #[test]
    fn round_trip_replace_and_delete() {
        let i = infraon();
        assert_eq!(i.storage_get("okta", "a").unwrap(), None);
        i.storage_set("okta", "a", b"one").unwrap();
        assert_eq!(i.storage_get("okta", "a").unwrap(), Some(b"one".to_vec()));
        i.storage_set("okta", "a", &[0, 159, 146, 150]).unwrap();
        assert_eq!(
            i.storage_get("okta", "a").unwrap(),
            Some(vec![0, 159, 146, 150])
        );
        i.storage_set("okta", "empty", b"").unwrap();
        assert_eq!(i.storage_get("okta", "empty").unwrap(), Some(vec![]));
        i.storage_delete("okta", "a").unwrap();
        assert_eq!(i.storage_get("okta", "a").unwrap(), None);
        // Deleting an absent key is not an error.
        i.storage_delete("okta", "a").unwrap();
    }

    #[test]
    fn a_prefix_lists_exactly_its_keys() {
        let i = infraon();
        for k in [
            "a",
            "a/",
            "a/1",
            "a/2",
            "a0",
            "a\u{10FFFF}",
            "a\u{10FFFF}x",
            "b",
            "a%_",
        ] {
            i.storage_set("okta", k, b"v").unwrap();
        }
        assert_eq!(
            i.storage_list_keys("okta", "a/").unwrap(),
            ["a/", "a/1", "a/2"]
        );
        assert_eq!(
            i.storage_list_keys("okta", "a\u{10FFFF}").unwrap(),
            ["a\u{10FFFF}", "a\u{10FFFF}x"]
        );
        assert_eq!(i.storage_list_keys("okta", "a%").unwrap(), ["a%_"]);
        assert_eq!(i.storage_list_keys("okta", "").unwrap().len(), 9);
        assert_eq!(super::prefix_end("a/"), Some("a0".to_owned()));
        assert_eq!(super::prefix_end("\u{D7FF}"), Some("\u{E000}".to_owned()));
        assert_eq!(super::prefix_end("\u{10FFFF}"), None);
    }

    #[test]
    fn plugins_are_namespaced() {
        let i = infraon();
        i.storage_set("okta", "k", b"mine").unwrap();
        assert_eq!(i.storage_get("other", "k").unwrap(), None);
        assert!(i.storage_list_keys("other", "").unwrap().is_empty());
        i.storage_delete("other", "k").unwrap();
        assert_eq!(i.storage_get("okta", "k").unwrap(), Some(b"mine".to_vec()));
    }

    #[test]
    fn prefix_listing_is_literal_and_ordered() {
        let i = infraon();
        for key in [
            "cfg/b", "cfg/a", "cfg%x", "cfg_x", "cfgXx", "CFG/a", "cfg/%", "cfg/_", "cfg", "cfh",
            "cfg/é", "cfg/z",
        ] {
            i.storage_set("okta", key, b"v").unwrap();
        }
        assert_eq!(
            i.storage_list_keys("okta", "cfg/").unwrap(),
            ["cfg/%", "cfg/_", "cfg/a", "cfg/b", "cfg/z", "cfg/é"]
        );
        assert_eq!(i.storage_list_keys("okta", "cfg%").unwrap(), ["cfg%x"]);
        assert_eq!(i.storage_list_keys("okta", "cfg_").unwrap(), ["cfg_x"]);
        assert_eq!(i.storage_list_keys("okta", "cfg/%").unwrap(), ["cfg/%"]);
        assert!(i.storage_list_keys("okta", "nothing").unwrap().is_empty());
        let all = i.storage_list_keys("okta", "").unwrap();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted);
        assert_eq!(all.len(), 12);
    }

    #[test]
    fn values_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let i = Infraon::open(dir.path()).unwrap();
            i.storage_set("okta", "cursor/acme", b"page-7").unwrap();
            i.storage_set("okta", "gone", b"x").unwrap();
            i.storage_delete("okta", "gone").unwrap();
        }
        let i = Infraon::open(dir.path()).unwrap();
        assert_eq!(
            i.storage_get("okta", "cursor/acme").unwrap(),
            Some(b"page-7".to_vec())
        );
        assert_eq!(i.storage_list_keys("okta", "").unwrap(), ["cursor/acme"]);
    }

    #[test]
    fn a_value_over_one_mib_is_refused() {
        let i = infraon();
        let max = vec![7u8; MAX_VALUE_BYTES];
        i.storage_set("okta", "big", &max).unwrap();
        assert_eq!(
            i.storage_get("okta", "big").unwrap().unwrap().len(),
            MAX_VALUE_BYTES
        );
        let over = vec![7u8; MAX_VALUE_BYTES + 1];
        assert_eq!(
            i.storage_set("okta", "bigger", &over),
            Err(StorageError::QuotaExceeded)
        );
        assert_eq!(i.storage_get("okta", "bigger").unwrap(), None);
        // The refused write left the old value alone.
        assert_eq!(
            i.storage_set("okta", "big", &over),
            Err(StorageError::QuotaExceeded)
        );
        assert_eq!(i.storage_get("okta", "big").unwrap(), Some(max));
    }

    #[test]
    fn the_kept_total_follows_every_write() {
        let i = infraon();
        let total = |i: &Infraon| -> (i64, i64) {
            let conn = i.conn();
            let kept = conn
                .query_row(
                    "SELECT COALESCE((SELECT bytes FROM storage_usage WHERE plugin = 'okta'), 0)",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            let summed = conn
                .query_row(
                    "SELECT COALESCE(SUM(length(value)), 0) FROM storage WHERE plugin = 'okta'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            (kept, summed)
        };
        i.storage_set("okta", "a", b"12345").unwrap();
        i.storage_set("okta", "b", b"12").unwrap();
        i.storage_set("okta", "a", b"1").unwrap();
        i.storage_set("other", "a", b"123456789").unwrap();
        i.storage_delete("okta", "b").unwrap();
        i.storage_delete("okta", "absent").unwrap();
        assert_eq!(total(&i), (1, 1));
        i.storage_delete("okta", "a").unwrap();
        assert_eq!(total(&i), (0, 0));
    }

    #[test]
    fn the_plugin_total_is_capped() {
        let i = infraon();
        let value = vec![1u8; MAX_VALUE_BYTES];
        let fits = (MAX_PLUGIN_BYTES / MAX_VALUE_BYTES as u64) as usize;
        for n in 0..fits {
            i.storage_set("okta", &format!("k{n:03}"), &value).unwrap();
        }
        assert_eq!(
            i.storage_set("okta", "one-more", &value),
            Err(StorageError::QuotaExceeded)
        );
        // Replacing an existing value does not count it twice.
        i.storage_set("okta", "k000", &value).unwrap();
        // Another plugin has its own allowance.
        i.storage_set("other", "k", &value).unwrap();
    }
}
