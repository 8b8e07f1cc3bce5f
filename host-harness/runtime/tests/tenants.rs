//! Many tenants on one runtime, with the probe guest over the in-memory
//! backend: a tenant at its cap queues while another tenant proceeds, a
//! full instance pool makes an operation wait for a slot, an instance over
//! its memory cap traps as a typed error and its tenant carries on, and a
//! pool the host cannot reserve falls back to on-demand instances, and
//! tenants' handles ([`Runtime::for_tenant`]) keep their data and their
//! queues apart while sharing the runtime's caps.
//!
//! An operation is held open by awaiting a gate inside the runtime's
//! `call` (as a sync run awaits a 429 wait), so "still running" is a fact
//! of the test, never a timing.

#[path = "common/guest.rs"]
mod guest;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use okta_host_runtime::backend::Storage;
use okta_host_runtime::bindings::exports::infraon::okta::verify::VerifyReport;
use okta_host_runtime::bindings::infraon::okta::types::{ConfigForm, InstallOptions, SyncTarget};
use okta_host_runtime::memory::MemoryBackend;
use okta_host_runtime::policy::Limits;
use okta_host_runtime::state::Scope;
use okta_host_runtime::{Allocation, Backends, HostError, PLUGIN_ID, Runtime, RuntimeOptions};
use tokio::sync::oneshot;

/// How long a test lets an operation that must wait show it does not.
const WAIT_WINDOW: Duration = Duration::from_millis(300);

fn limits() -> Limits {
    Limits {
        memory_bytes: 32 << 20,
        call_deadline: Duration::from_secs(10),
        request_timeout: Duration::from_secs(2),
        ..Limits::default()
    }
}

fn runtime(options: RuntimeOptions) -> Arc<Runtime> {
    let backends = Backends::all(Arc::new(MemoryBackend::new()));
    Arc::new(Runtime::with_options(&guest::probes_wasm(), None, backends, options).unwrap())
}

fn tenant(config: &str) -> Scope {
    Scope {
        config: Some(config.into()),
        allowed_origin: None,
    }
}

/// Run probe `name` for `config`'s tenant, noting `label` in `events`
/// when the operation has its instance.
async fn probe(
    rt: &Runtime,
    config: &str,
    name: &str,
    events: &Events,
    label: &'static str,
) -> Result<VerifyReport, HostError> {
    let form = ConfigForm {
        name: name.into(),
        okta_domain: String::new(),
        api_token: "00t".into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    };
    let dev = InstallOptions {
        development_mode: true,
    };
    let events = events.clone();
    rt.call(tenant(config), async move |store, plugin| {
        events.note(label);
        plugin.verify_form(store, &form, dev).await
    })
    .await
    .map(|r| r.expect("the probe answers a report"))
}

/// The order operations got their instance in.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<&'static str>>>);

impl Events {
    fn note(&self, e: &'static str) {
        self.0.lock().unwrap().push(e);
    }
    fn seen(&self) -> Vec<&'static str> {
        self.0.lock().unwrap().clone()
    }
}

/// An operation of `config` that holds its instance until released.
struct Held {
    release: oneshot::Sender<()>,
    done: tokio::task::JoinHandle<Result<(), HostError>>,
}

async fn hold(rt: &Arc<Runtime>, config: &str, events: &Events, label: &'static str) -> Held {
    let (entered_tx, entered) = oneshot::channel();
    let (release, released) = oneshot::channel::<()>();
    let (rt, config, events) = (rt.clone(), config.to_string(), events.clone());
    let done = tokio::spawn(async move {
        rt.call(tenant(&config), async move |_store, _plugin| {
            events.note(label);
            entered_tx.send(()).ok();
            released.await.ok();
            events.note("released");
            Ok(())
        })
        .await
    });
    entered.await.expect("the held operation got its instance");
    Held { release, done }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_over_its_cap_waits_while_another_tenant_proceeds() {
    let rt = runtime(RuntimeOptions {
        per_tenant: 1,
        ..RuntimeOptions::with_limits(limits())
    });
    let events = Events::default();
    let held = hold(&rt, "acme", &events, "acme 1").await;

    // acme's second operation queues behind its first (names compare
    // ignoring case: `ACME` is the same tenant)...
    let second = {
        let (rt, events) = (rt.clone(), events.clone());
        tokio::spawn(async move { probe(&rt, "ACME", "storage", &events, "acme 2").await })
    };
    // ...while globex runs to the end.
    let other = probe(&rt, "globex", "storage", &events, "globex")
        .await
        .unwrap();
    assert_eq!(other.requests, 5, "globex's probe read back its 5 bytes");
    tokio::time::sleep(WAIT_WINDOW).await;
    assert_eq!(events.seen(), ["acme 1", "globex"]);

    held.release.send(()).unwrap();
    held.done.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    assert_eq!(second.requests, 5);
    assert_eq!(events.seen(), ["acme 1", "globex", "released", "acme 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_the_pool_full_an_operation_waits_for_a_slot() {
    let rt = runtime(RuntimeOptions {
        pool_slots: 1,
        max_concurrent: 8,
        ..RuntimeOptions::with_limits(limits())
    });
    assert_eq!(rt.allocation(), &Allocation::Pooling { slots: 1 });
    assert_eq!(rt.free_places(), 1, "no more at once than the pool's slots");
    let events = Events::default();
    let held = hold(&rt, "acme", &events, "acme").await;
    assert_eq!(rt.free_places(), 0);

    let waiting = {
        let (rt, events) = (rt.clone(), events.clone());
        tokio::spawn(async move { probe(&rt, "globex", "storage", &events, "globex").await })
    };
    tokio::time::sleep(WAIT_WINDOW).await;
    assert_eq!(events.seen(), ["acme"], "globex waits for the one slot");

    held.release.send(()).unwrap();
    held.done.await.unwrap().unwrap();
    let report = waiting.await.unwrap().expect("a slot, not an error");
    assert_eq!(report.requests, 5);
    assert_eq!(events.seen(), ["acme", "released", "globex"]);
    assert_eq!(rt.free_places(), 1, "the slot is given back");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_over_its_memory_cap_traps_typed_and_its_tenant_carries_on() {
    // One slot: the next operation also shows the slot was given back.
    let rt = runtime(RuntimeOptions {
        pool_slots: 1,
        ..RuntimeOptions::with_limits(limits())
    });
    assert_eq!(rt.allocation(), &Allocation::Pooling { slots: 1 });
    let events = Events::default();
    match probe(&rt, "acme", "alloc", &events, "alloc").await {
        Err(HostError::MemoryCap(mib)) => assert_eq!(mib, 32),
        other => panic!("expected the memory cap, got {other:?}"),
    }
    let next = probe(&rt, "acme", "storage", &events, "storage")
        .await
        .expect("the tenant's next operation runs");
    assert_eq!(next.requests, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pool_the_host_cannot_reserve_falls_back_to_on_demand_instances() {
    // Far more address space than a 64-bit process has (about 4 GiB per
    // memory slot): the reservation fails, the runtime still serves.
    let rt = runtime(RuntimeOptions {
        pool_slots: 100_000,
        ..RuntimeOptions::with_limits(limits())
    });
    match rt.allocation() {
        Allocation::OnDemand {
            pool_refused: Some(why),
        } => assert!(!why.is_empty()),
        other => panic!("expected on-demand after a refused pool, got {other:?}"),
    }
    let report = probe(&rt, "acme", "storage", &Events::default(), "storage")
        .await
        .unwrap();
    assert_eq!(report.requests, 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_pool_when_the_embedder_asks_for_none() {
    let rt = runtime(RuntimeOptions {
        pool_slots: 0,
        max_concurrent: 3,
        ..RuntimeOptions::with_limits(limits())
    });
    assert_eq!(
        rt.allocation(),
        &Allocation::OnDemand { pool_refused: None }
    );
    assert_eq!(rt.free_places(), 3);
    let report = probe(&rt, "acme", "storage", &Events::default(), "storage")
        .await
        .unwrap();
    assert_eq!(report.requests, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tenant_handles_keep_their_data_and_queues_apart_and_share_the_caps() {
    let rt = runtime(RuntimeOptions {
        per_tenant: 1,
        max_concurrent: 4,
        ..RuntimeOptions::with_limits(limits())
    });
    let (acme, globex) = (
        Arc::new(MemoryBackend::new()),
        Arc::new(MemoryBackend::new()),
    );
    let acme_rt = Arc::new(rt.for_tenant("acme", Backends::all(acme.clone())));
    let globex_rt = Arc::new(rt.for_tenant("globex", Backends::all(globex.clone())));
    let events = Events::default();

    // Both tenants name their config "Okta": acme's holds its one place...
    let held = hold(&acme_rt, "Okta", &events, "acme 1").await;
    assert_eq!(
        rt.free_places(),
        3,
        "a tenant's operation takes a place of the runtime's"
    );
    let second = {
        let (acme_rt, events) = (acme_rt.clone(), events.clone());
        tokio::spawn(async move { probe(&acme_rt, "okta", "storage", &events, "acme 2").await })
    };
    // ...and globex's "Okta" is not acme's: it runs to the end meanwhile.
    let report = probe(&globex_rt, "Okta", "storage", &events, "globex")
        .await
        .unwrap();
    assert_eq!(report.requests, 5);
    tokio::time::sleep(WAIT_WINDOW).await;
    assert_eq!(events.seen(), ["acme 1", "globex"]);
    assert_eq!(
        globex.get(PLUGIN_ID, "probe").unwrap().as_deref(),
        Some(&b"alive"[..]),
        "globex's plugin wrote into globex's storage"
    );
    assert_eq!(
        acme.get(PLUGIN_ID, "probe").unwrap(),
        None,
        "and not into acme's"
    );

    held.release.send(()).unwrap();
    held.done.await.unwrap().unwrap();
    assert_eq!(second.await.unwrap().unwrap().requests, 5);
    assert_eq!(events.seen(), ["acme 1", "globex", "released", "acme 2"]);
    assert!(acme.get(PLUGIN_ID, "probe").unwrap().is_some());
    assert_eq!(rt.free_places(), 4, "every place is given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_place_taken_before_the_backends_are_opened_runs_their_operation() {
    let rt = runtime(RuntimeOptions {
        max_concurrent: 1,
        ..RuntimeOptions::with_limits(limits())
    });
    let events = Events::default();
    let place = rt.place("acme", "Okta").await;
    assert_eq!(rt.free_places(), 0, "the place is one of the runtime's");
    // Another tenant's operation queues behind it...
    let globex_rt =
        Arc::new(rt.for_tenant("globex", Backends::all(Arc::new(MemoryBackend::new()))));
    let other = {
        let (globex_rt, events) = (globex_rt.clone(), events.clone());
        tokio::spawn(async move { probe(&globex_rt, "Okta", "storage", &events, "globex").await })
    };
    tokio::time::sleep(WAIT_WINDOW).await;
    assert!(!other.is_finished(), "globex waits for the one place");
    // ...while acme's backends, opened only now, run in the place taken:
    // queueing again for it would wait for ever.
    let acme = Arc::new(MemoryBackend::new());
    let acme_rt = rt.for_tenant_in("acme", Backends::all(acme.clone()), place);
    let report = tokio::time::timeout(
        Duration::from_secs(10),
        probe(&acme_rt, "okta", "storage", &events, "acme"),
    )
    .await
    .expect("acme's operation ran in its place")
    .unwrap();
    assert_eq!(report.requests, 5);
    assert!(!acme.list_keys(PLUGIN_ID, "").unwrap().is_empty());
    // The place is given back when the operation ends: globex runs.
    tokio::time::timeout(Duration::from_secs(10), other)
        .await
        .expect("globex ran once acme's place was given back")
        .unwrap()
        .unwrap();
    assert_eq!(events.seen(), vec!["acme", "globex"]);
    assert_eq!(rt.free_places(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_place_of_another_config_is_given_back_and_the_operation_queues() {
    let rt = runtime(RuntimeOptions {
        max_concurrent: 1,
        ..RuntimeOptions::with_limits(limits())
    });
    let events = Events::default();
    let place = rt.place("acme", "Other").await;
    let acme_rt = rt.for_tenant_in("acme", Backends::all(Arc::new(MemoryBackend::new())), place);
    // Its place is acme's "Other": given back, and the one place is then
    // its own to queue for and take.
    let report = tokio::time::timeout(
        Duration::from_secs(10),
        probe(&acme_rt, "Okta", "storage", &events, "acme"),
    )
    .await
    .expect("the operation queued and ran")
    .unwrap();
    assert_eq!(report.requests, 5);
    assert_eq!(rt.free_places(), 1);
    // A place dropped unused is given back too.
    drop(rt.place("acme", "Okta").await);
    assert_eq!(rt.free_places(), 1);
}
