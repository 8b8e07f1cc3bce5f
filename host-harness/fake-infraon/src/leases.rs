//! Run leases: which host process drives a config's sync run right now.
//!
//! A lease is taken by compare-and-swap in one SQL statement (it lands only
//! when the row is absent, expired, or already this holder's), so two host
//! processes on one state directory never both hold it; a holder that
//! crashed stops renewing and its lease expires. Not part of the WIT
//! contract: the host takes it around a run, the plugin never sees it.

use rusqlite::{OptionalExtension, params};

use crate::Infraon;
use crate::types::InfraonError;

pub use okta_host_runtime::backend::Lease;

impl Infraon {
    /// Take or renew the lease on `name` for `holder` until `until_ms`
    /// (Unix ms), if it is free, expired at `now_ms`, or already `holder`'s.
    /// Returns the lease as it stands: `holder`'s when taken.
    pub fn lease_acquire(
        &self,
        name: &str,
        holder: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Lease, InfraonError> {
        let conn = self.conn();
        conn.prepare_cached(
            "INSERT INTO leases (name, holder, expires_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE
             SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
             WHERE leases.holder = excluded.holder OR leases.expires_at_ms <= ?4",
        )?
        .execute(params![name, holder, until_ms as i64, now_ms as i64])?;
        let lease = conn
            .prepare_cached("SELECT holder, expires_at_ms FROM leases WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(Lease {
                    holder: r.get(0)?,
                    expires_at_ms: r.get::<_, i64>(1)? as u64,
                })
            })?;
        Ok(lease)
    }

    /// Give a lease back, if `holder` still holds it.
    pub fn lease_release(&self, name: &str, holder: &str) -> Result<(), InfraonError> {
        self.conn()
            .prepare_cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2")?
            .execute(params![name, holder])?;
        Ok(())
    }

    /// The lease on `name`, if any (expired ones included).
    pub fn lease_get(&self, name: &str) -> Result<Option<Lease>, InfraonError> {
        let found = self
            .conn()
            .prepare_cached("SELECT holder, expires_at_ms FROM leases WHERE name = ?1")?
            .query_row([name], |r| {
                Ok(Lease {
                    holder: r.get(0)?,
                    expires_at_ms: r.get::<_, i64>(1)? as u64,
                })
            })
            .optional()?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_until_it_expires_or_is_released() {
        let i = Infraon::open_in_memory().unwrap();
        let a = i.lease_acquire("okta/acme", "a", 1_000, 2_000).unwrap();
        assert_eq!(a.holder, "a");
        // Held: b is refused and told who holds it until when.
        let b = i.lease_acquire("okta/acme", "b", 1_500, 2_500).unwrap();
        assert_eq!((b.holder.as_str(), b.expires_at_ms), ("a", 2_000));
        // The holder renews.
        let a = i.lease_acquire("okta/acme", "a", 1_900, 3_000).unwrap();
        assert_eq!((a.holder.as_str(), a.expires_at_ms), ("a", 3_000));
        // Expired: b takes it.
        let b = i.lease_acquire("okta/acme", "b", 3_000, 4_000).unwrap();
        assert_eq!(b.holder, "b");
        // a's release of a lease it lost changes nothing.
        i.lease_release("okta/acme", "a").unwrap();
        assert_eq!(i.lease_get("okta/acme").unwrap().unwrap().holder, "b");
        i.lease_release("okta/acme", "b").unwrap();
        assert_eq!(i.lease_get("okta/acme").unwrap(), None);
        // Other names are independent.
        assert_eq!(
            i.lease_acquire("okta/beta", "a", 0, 10).unwrap().holder,
            "a"
        );
    }

    #[test]
    fn two_connections_on_one_file_never_both_hold_it() {
        let dir = tempfile::tempdir().unwrap();
        let one = Infraon::open(dir.path()).unwrap();
        let two = Infraon::open(dir.path()).unwrap();
        let first = one.lease_acquire("okta/acme", "one", 0, 10_000).unwrap();
        let second = two.lease_acquire("okta/acme", "two", 1, 10_001).unwrap();
        assert_eq!(first.holder, "one");
        assert_eq!(second.holder, "one");
    }
}
