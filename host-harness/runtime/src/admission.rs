//! Who runs now: an operation first takes one of its tenant's places, then
//! one of the runtime's. Both queues are first come, first served (tokio's
//! semaphores are fair), and the tenant's place is taken first, so a
//! tenant with a burst waits in its own queue without holding global
//! places it cannot use: another tenant's operation passes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

type Queues = Arc<Mutex<HashMap<String, Arc<Semaphore>>>>;

/// The runtime's global cap and one queue per tenant.
pub(crate) struct Admission {
    global: Arc<Semaphore>,
    per_tenant: usize,
    tenants: Queues,
}

/// An operation's two places, given back when it is dropped.
pub(crate) struct Admitted {
    global: Option<OwnedSemaphorePermit>,
    tenant: Option<OwnedSemaphorePermit>,
    key: String,
    queue: Arc<Semaphore>,
    tenants: Queues,
}

/// A queue per config of each tenant handle ([`crate::Runtime::for_tenant`]).
/// Configs compare ignoring case (as the plugin compares them), so `ACME`
/// and `acme` are one queue; operations naming no config share "". The
/// tenant's name comes first, behind a separator no config name holds.
fn tenant_key(tenant: Option<&str>, config: Option<&str>) -> String {
    let config = config.map(|c| c.trim().to_lowercase()).unwrap_or_default();
    match tenant {
        Some(t) => format!("{t}\u{0}{config}"),
        None => config,
    }
}

fn lock(tenants: &Queues) -> MutexGuard<'_, HashMap<String, Arc<Semaphore>>> {
    // The map holds no invariant a panic could break half-way.
    tenants.lock().unwrap_or_else(|p| p.into_inner())
}

impl Admission {
    /// `global` operations at once in all, `per_tenant` for one tenant.
    pub(crate) fn new(global: usize, per_tenant: usize) -> Self {
        Admission {
            global: Arc::new(Semaphore::new(global)),
            per_tenant,
            tenants: Arc::default(),
        }
    }

    /// Wait for a place for an operation of `config` (of `tenant`'s handle).
    pub(crate) async fn admit(&self, tenant: Option<&str>, config: Option<&str>) -> Admitted {
        let key = tenant_key(tenant, config);
        let queue = lock(&self.tenants)
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
            .clone();
        // Neither semaphore is ever closed, so acquiring cannot fail.
        let tenant = queue.clone().acquire_owned().await.ok();
        let global = self.global.clone().acquire_owned().await.ok();
        Admitted {
            global,
            tenant,
            key,
            queue,
            tenants: self.tenants.clone(),
        }
    }

    /// Operations that could start now over all tenants.
    pub(crate) fn free(&self) -> usize {
        self.global.available_permits()
    }
}

impl Admitted {
    /// Whether this is a place for an operation of `config` (of `tenant`'s
    /// handle): the queue it was taken from is that one's.
    pub(crate) fn is_for(&self, tenant: Option<&str>, config: Option<&str>) -> bool {
        self.key == tenant_key(tenant, config)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.global.take();
        self.tenant.take();
        // An idle tenant's queue is forgotten (it is only in the map and
        // here), so names typed into forms do not pile up.
        let mut tenants = lock(&self.tenants);
        if Arc::strong_count(&self.queue) == 2 {
            tenants.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_tenant_at_its_cap_queues_while_another_tenant_passes() {
        let a = Admission::new(3, 1);
        let first = a.admit(None, Some("acme")).await;
        let mut second = Box::pin(a.admit(None, Some("ACME ")));
        assert!(
            futures_poll_once(second.as_mut()).await.is_none(),
            "acme's second operation waits for its first"
        );
        let other = a.admit(None, Some("globex")).await;
        assert_eq!(
            a.free(),
            1,
            "acme's waiting operation holds no global place"
        );
        drop(first);
        let second = second.await;
        drop((second, other));
        assert!(lock(&a.tenants).is_empty(), "idle tenants are forgotten");
    }

    #[tokio::test]
    async fn the_global_cap_serves_tenants_in_arrival_order() {
        let a = Admission::new(1, 4);
        let held = a.admit(None, Some("acme")).await;
        let mut b = Box::pin(a.admit(None, Some("b")));
        assert!(futures_poll_once(b.as_mut()).await.is_none());
        let mut c = Box::pin(a.admit(None, Some("c")));
        assert!(futures_poll_once(c.as_mut()).await.is_none());
        drop(held);
        // b arrived first: it gets the place; c still waits.
        let b = tokio::time::timeout(Duration::from_secs(5), b)
            .await
            .unwrap();
        assert!(futures_poll_once(c.as_mut()).await.is_none());
        drop(b);
        tokio::time::timeout(Duration::from_secs(5), c)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_place_knows_the_queue_it_came_from() {
        let a = Admission::new(3, 1);
        let place = a.admit(Some("acme"), Some("Okta")).await;
        assert!(place.is_for(Some("acme"), Some(" okta")));
        assert!(!place.is_for(Some("globex"), Some("Okta")));
        assert!(!place.is_for(Some("acme"), Some("Other")));
        assert!(!place.is_for(None, Some("Okta")));
    }

    #[tokio::test]
    async fn two_tenants_configs_of_one_name_queue_apart() {
        let a = Admission::new(3, 1);
        let acme = a.admit(Some("acme"), Some("Okta")).await;
        let mut again = Box::pin(a.admit(Some("acme"), Some("okta")));
        assert!(
            futures_poll_once(again.as_mut()).await.is_none(),
            "acme's Okta config is at its cap"
        );
        let globex = futures_poll_once(Box::pin(a.admit(Some("globex"), Some("Okta")))).await;
        assert!(globex.is_some(), "globex's Okta config has its own queue");
        drop((acme, globex));
        again.await;
    }

    /// Poll once: `Some` if ready now, `None` if it would wait.
    async fn futures_poll_once<F: Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
