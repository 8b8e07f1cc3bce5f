//! The Okta plugin's pure logic, free of wasm and wit-bindgen.
//!
//! The component glue implements the [`ports`] traits with the real host
//! imports and converts these types to and from the WIT ones; everything here
//! is tested natively against in-memory fakes.

#![warn(missing_docs)]

pub mod auth;
pub mod config;
pub mod directory;
pub mod events;
pub mod export;
pub mod install;
pub mod link;
pub mod mapping;
pub mod migration;
pub mod okta_client;
pub mod okta_error;
pub mod origin;
pub mod paging_guard;
pub mod ports;
pub mod store;
pub mod sync;
pub mod time;
pub mod verify;

pub use auth::{
    Auth, AuthMethod, Credential, KeyPurpose, NoSigner, PublicKey, ServiceApp, ServiceAppFailure,
    SignError, Signer,
};
pub use config::{ConfigForm, ConfigSummary, FieldError, InstallOptions, StoredConfig, SyncTarget};
pub use directory::{
    Directory, DirectoryError, FieldSpec, Person, PersonStatus, Role, UpsertOutcome,
};
pub use export::ExportError;
pub use install::{InstallError, VerifyError};
pub use mapping::{
    FieldMapping, GroupMatcher, MapError, Mapping, RoleRule, SchemaAttribute, Transform,
};
pub use okta_client::{OktaClient, OktaResponse};
pub use okta_error::{OktaError, OktaFailure, RateLimit};
pub use origin::{OktaOrigin, Scheme, parse_okta_domain};
pub use ports::{
    Clock, Host, Http, HttpRequest, HttpResponse, Level, Log, Secrets, SecretsError, Started,
    Storage, StorageError, TransportError,
};
pub use sync::{
    Counts, RunOutcome, RunRecord, StepStatus, SyncError, SyncMode, SyncRun, Trigger,
    UnsyncedRecord,
};
pub use verify::VerifyReport;

/// This crate's version, sent to Okta in the `User-Agent` header.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
