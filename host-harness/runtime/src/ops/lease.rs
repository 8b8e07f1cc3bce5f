//! The run lease around a sync run: one host process at a time drives a
//! config's run (see [`crate::backend::Leases`]). Taken before the run's first
//! step, renewed after each step and while waiting, released when the run
//! stops in any way; a crashed process stops renewing, and once its lease
//! has expired another process takes it and resumes the run from the
//! plugin's checkpoint.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::runtime::{HostError, Runtime};

/// A held lease; released on drop.
pub(crate) struct RunLease<'a> {
    runtime: &'a Runtime,
    name: String,
    config: String,
}

/// Wall-clock Unix milliseconds: lease expiries and step waits are both
/// instants on it.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn rfc3339(ms: u64) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64).map_or_else(
        || ms.to_string(),
        |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

impl Runtime {
    /// Take the run lease of `config` (its installed name), or say who has it.
    pub(crate) fn take_lease(&self, config: &str) -> Result<RunLease<'_>, HostError> {
        let lease = RunLease {
            runtime: self,
            name: format!("{}/{}", crate::PLUGIN_ID, config.to_lowercase()),
            config: config.to_string(),
        };
        lease.renew()?;
        Ok(lease)
    }
}

impl RunLease<'_> {
    /// Extend the lease by the TTL; an error when another process holds it
    /// (this one's expired while it was away).
    pub(crate) fn renew(&self) -> Result<(), HostError> {
        let ttl = self.runtime.limits().lease_ttl;
        let now = now_ms();
        let held = self
            .runtime
            .backends()
            .leases
            .acquire(
                &self.name,
                self.runtime.lease_holder(),
                now,
                now + ttl.as_millis() as u64,
            )
            .map_err(|e| HostError::Backend(format!("cannot take the run lease: {e}")))?;
        if held.holder == self.runtime.lease_holder() {
            return Ok(());
        }
        Err(HostError::Busy(format!(
            "another host process is syncing config `{}` (its run lease holds until {}); \
             it resumes there, or here once that process has stopped and the lease expired",
            self.config,
            rfc3339(held.expires_at_ms)
        )))
    }

    /// Sleep `total`, renewing the lease often enough that it never lapses.
    pub(crate) async fn sleep(&self, total: Duration) -> Result<(), HostError> {
        let chunk = (self.runtime.limits().lease_ttl / 3).max(Duration::from_millis(100));
        let mut left = total;
        while !left.is_zero() {
            let nap = left.min(chunk);
            tokio::time::sleep(nap).await;
            left -= nap;
            self.renew()?;
        }
        Ok(())
    }
}

impl Drop for RunLease<'_> {
    fn drop(&mut self) {
        if let Err(e) = self
            .runtime
            .backends()
            .leases
            .release(&self.name, self.runtime.lease_holder())
        {
            tracing::warn!(config = self.config, "cannot release the run lease: {e}");
        }
    }
}
