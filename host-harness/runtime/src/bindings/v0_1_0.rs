//! Since 0.1.0: the frozen `wit/v0.1.0` contract, kept loadable.
//!
//! Its imports are the latest ones under 0.1.0 names: every function here
//! delegates to the latest implementation in [`crate::interfaces`], with
//! the values converted between the two sets of generated types (their
//! shapes are identical: 0.2.0 only adds). Its exports are converted to the
//! latest types by [`super::Plugin`]. Generated types never leave this
//! edge: nothing stores them.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasmtime::component::{HasSelf, Linker, Resource};

use super::ContractGap;
use crate::bindings::infraon::okta as latest;
use crate::state::PluginState;

wasmtime::component::bindgen!({
    path: "../../wit/v0.1.0",
    world: "infraon:okta/okta-plugin",
    exports: { default: async },
    require_store_data_send: true,
    additional_derives: [serde::Serialize, serde::Deserialize],
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

use infraon::okta as old;

/// The version these bindings speak.
pub const VERSION: &str = "0.1.0";

/// Convert a value between the two versions' generated types, which share
/// their shape wherever a value may cross: both sides derive serde with the
/// same names. A value 0.1.0 cannot carry (a case added in 0.2.0) is a
/// [`ContractGap`].
pub fn convert<A: Serialize, B: DeserializeOwned>(value: &A) -> Result<B, ContractGap> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| ContractGap(format!("a 0.1.0 plugin cannot carry this value ({e})")))
}

/// The conversion of a value that exists in both versions by construction
/// (an import's arguments and results): a failure is a bug in this module.
fn same<A: Serialize, B: DeserializeOwned>(value: &A) -> B {
    convert(value).expect("0.1.0 and 0.2.0 share the shape of every import value")
}

/// Add the 0.1.0 imports (our interfaces; WASI is shared with the latest).
pub fn add_to_linker(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    type Data = HasSelf<PluginState>;
    old::types::add_to_linker::<_, Data>(linker, |s| s)?;
    old::storage::add_to_linker::<_, Data>(linker, |s| s)?;
    old::secrets::add_to_linker::<_, Data>(linker, |s| s)?;
    old::directory::add_to_linker::<_, Data>(linker, |s| s)?;
    old::scheduler::add_to_linker::<_, Data>(linker, |s| s)?;
    old::log::add_to_linker::<_, Data>(linker, |s| s)?;
    Ok(())
}

impl old::types::Host for PluginState {}

impl old::storage::Host for PluginState {
    fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, old::storage::StorageError> {
        latest::storage::Host::get(self, key).map_err(|e| same(&e))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), old::storage::StorageError> {
        latest::storage::Host::set(self, key, value).map_err(|e| same(&e))
    }

    fn delete(&mut self, key: String) -> Result<(), old::storage::StorageError> {
        latest::storage::Host::delete(self, key).map_err(|e| same(&e))
    }

    fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, old::storage::StorageError> {
        latest::storage::Host::list_keys(self, prefix).map_err(|e| same(&e))
    }
}

impl old::secrets::Host for PluginState {
    fn put(&mut self, name: String, value: String) -> Result<(), old::secrets::SecretsError> {
        latest::secrets::Host::put(self, name, value).map_err(|e| same(&e))
    }

    fn get(&mut self, name: String) -> Result<Option<String>, old::secrets::SecretsError> {
        latest::secrets::Host::get(self, name).map_err(|e| same(&e))
    }

    fn delete(&mut self, name: String) -> Result<(), old::secrets::SecretsError> {
        latest::secrets::Host::delete(self, name).map_err(|e| same(&e))
    }
}

impl old::log::Host for PluginState {
    fn write(&mut self, level: old::log::Level, message: String, fields: Vec<(String, String)>) {
        latest::log::Host::write(self, same(&level), message, fields)
    }
}

impl old::scheduler::Host for PluginState {
    fn set(
        &mut self,
        config: String,
        schedule: old::scheduler::Schedule,
    ) -> Result<(), old::scheduler::SchedulerError> {
        latest::scheduler::Host::set(self, config, same(&schedule)).map_err(|e| same(&e))
    }

    fn get(
        &mut self,
        config: String,
    ) -> Result<Option<old::scheduler::Schedule>, old::scheduler::SchedulerError> {
        latest::scheduler::Host::get(self, config)
            .map(|s| same(&s))
            .map_err(|e| same(&e))
    }

    fn clear(&mut self, config: String) -> Result<(), old::scheduler::SchedulerError> {
        latest::scheduler::Host::clear(self, config).map_err(|e| same(&e))
    }
}

mod directory {
    use super::*;
    use old::directory::{DirectoryError, FieldSpec, Person, PersonStatus, Role, UpsertOutcome};
    use old::types::SyncTarget;

    type Results = Vec<Result<UpsertOutcome, DirectoryError>>;

    /// The same table entry under the other version's handle type.
    fn rehandle<A: 'static, B: 'static>(r: &Resource<A>) -> Resource<B> {
        Resource::new_own(r.rep())
    }

    impl old::directory::HostPendingUpserts for PluginState {
        fn finish(&mut self, batch: Resource<old::directory::PendingUpserts>) -> Results {
            same(&latest::directory::HostPendingUpserts::finish(
                self,
                rehandle(&batch),
            ))
        }

        fn drop(
            &mut self,
            batch: Resource<old::directory::PendingUpserts>,
        ) -> wasmtime::Result<()> {
            latest::directory::HostPendingUpserts::drop(self, rehandle(&batch))
        }
    }

    impl old::directory::Host for PluginState {
        fn upsert(&mut self, person: Person) -> Result<UpsertOutcome, DirectoryError> {
            same(&latest::directory::Host::upsert(self, same(&person)))
        }

        fn upsert_batch(&mut self, people: Vec<Person>) -> Results {
            same(&latest::directory::Host::upsert_batch(self, same(&people)))
        }

        fn start_upsert_batch(
            &mut self,
            people: Vec<Person>,
        ) -> Result<Resource<old::directory::PendingUpserts>, DirectoryError> {
            latest::directory::Host::start_upsert_batch(self, same(&people))
                .map(|r| rehandle(&r))
                .map_err(|e| same(&e))
        }

        fn set_status(
            &mut self,
            kind: SyncTarget,
            external_id: String,
            status: PersonStatus,
        ) -> Result<(), DirectoryError> {
            latest::directory::Host::set_status(self, same(&kind), external_id, same(&status))
                .map_err(|e| same(&e))
        }

        fn find_by_external_id(
            &mut self,
            kind: SyncTarget,
            external_id: String,
        ) -> Result<Option<Person>, DirectoryError> {
            same(&latest::directory::Host::find_by_external_id(
                self,
                same(&kind),
                external_id,
            ))
        }

        fn find_by_email(
            &mut self,
            kind: SyncTarget,
            email: String,
        ) -> Result<Option<Person>, DirectoryError> {
            same(&latest::directory::Host::find_by_email(
                self,
                same(&kind),
                email,
            ))
        }

        fn list_linked(
            &mut self,
            config: String,
            kind: SyncTarget,
        ) -> Result<Vec<String>, DirectoryError> {
            latest::directory::Host::list_linked(self, config, same(&kind)).map_err(|e| same(&e))
        }

        fn list_roles(&mut self) -> Result<Vec<Role>, DirectoryError> {
            same(&latest::directory::Host::list_roles(self))
        }

        fn list_fields(&mut self, kind: SyncTarget) -> Result<Vec<FieldSpec>, DirectoryError> {
            same(&latest::directory::Host::list_fields(self, same(&kind)))
        }
    }
}
