//! A probe guest: it exports the okta-plugin world, but `verify-form`
//! misbehaves on purpose, chosen by the form's config name:
//!
//! - `loop`: spins forever (the epoch deadline must stop it);
//! - `alloc`: allocates without bound (the memory cap must stop it);
//! - `panic`: panics (a trap the host reports and survives);
//! - `stack`: recurses without bound (stack overflow);
//! - `egress`: sends a request to a host outside the allowlist and reports
//!   the error code the host answered with;
//! - `order`: calls `wasi:http` imports out of order (finishes a request
//!   body while its output stream is still open);
//! - `storage`: writes then reads storage, to show the host carries on.
//!
//! Every other export answers `unsupported`.

wit_bindgen::generate!({
    path: "../../wit/v0.1.0",
    world: "infraon:okta/okta-plugin@0.1.0",
    // WASI comes from the `wasi` crate, as in the plugin.
    with: {
        "wasi:http/types@0.2.12": wasi::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
        "wasi:io/error@0.2.12": wasi::io::error,
        "wasi:io/poll@0.2.12": wasi::io::poll,
        "wasi:io/streams@0.2.12": wasi::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
    },
});

use exports::infraon::okta::{export as ex, install, map, sso, sync, verify};
use infraon::okta::types::{ConfigForm, ConfigSummary, InstallOptions, OktaFailure, RateLimit};
use wasi::http::{outgoing_handler, types as http};

include!("../cases.rs");

struct Probe;

fn report(requests: u32) -> verify::VerifyReport {
    verify::VerifyReport {
        okta_origin: String::new(),
        requests,
        rate_limit: RateLimit {
            limit: None,
            remaining: None,
            reset_at: None,
        },
        okta_request_id: None,
        elapsed_ms: 0,
    }
}

#[inline(never)]
#[allow(unconditional_recursion)]
fn recurse(depth: u64, pad: [u8; 256]) -> u64 {
    let p = std::hint::black_box(pad);
    recurse(depth + 1, p) + p[(depth % 256) as usize] as u64
}

fn egress(target: &str) -> Result<verify::VerifyReport, verify::VerifyError> {
    let request = http::OutgoingRequest::new(http::Fields::new());
    request.set_scheme(Some(&http::Scheme::Http)).ok();
    request.set_authority(Some(target)).ok();
    request.set_path_with_query(Some("/exfiltrate")).ok();
    match outgoing_handler::handle(request, None) {
        Err(code) => Err(verify::VerifyError::Okta(OktaFailure::EgressDenied(
            format!("{code:?}"),
        ))),
        Ok(future) => {
            future.subscribe().block();
            match future.get() {
                Some(Ok(Err(code))) => Err(verify::VerifyError::Okta(OktaFailure::EgressDenied(
                    format!("{code:?}"),
                ))),
                _ => Ok(report(1)),
            }
        }
    }
}

impl verify::Guest for Probe {
    fn verify_form(
        form: ConfigForm,
        _: InstallOptions,
    ) -> Result<verify::VerifyReport, verify::VerifyError> {
        macro_rules! dispatch {
            ($($case:ident: $name:literal,)*) => {
                match form.name.as_str() {
                    $($name => case::$case(&form),)*
                    other => Err(verify::VerifyError::Other(format!("unknown probe {other}"))),
                }
            };
        }
        foreach_probe_case!(dispatch)
    }

    fn verify_installed(name: String) -> Result<verify::VerifyReport, verify::VerifyError> {
        Err(verify::VerifyError::UnknownConfig(name))
    }
}

impl install::Guest for Probe {
    fn install(_: ConfigForm, _: InstallOptions) -> Result<ConfigSummary, install::InstallError> {
        Err(install::InstallError::Other("probe".into()))
    }
    fn update(_: ConfigForm, _: InstallOptions) -> Result<ConfigSummary, install::InstallError> {
        Err(install::InstallError::Other("probe".into()))
    }
    fn uninstall(_: String) -> Result<(), install::InstallError> {
        Err(install::InstallError::Other("probe".into()))
    }
    fn list() -> Result<Vec<ConfigSummary>, install::InstallError> {
        Ok(Vec::new())
    }
}

struct NoRun;

impl sync::GuestRun for NoRun {
    fn start(_: String, _: sync::SyncMode, _: sync::Trigger) -> Result<sync::Run, sync::SyncError> {
        Err(sync::SyncError::Unsupported("probe".into()))
    }
    fn resume(_: String) -> Result<Option<sync::Run>, sync::SyncError> {
        Ok(None)
    }
    fn id(&self) -> u64 {
        0
    }
    fn step(&self) -> Result<sync::StepStatus, sync::SyncError> {
        Err(sync::SyncError::Unsupported("probe".into()))
    }
    fn cancel(&self) -> Result<sync::RunRecord, sync::SyncError> {
        Err(sync::SyncError::Unsupported("probe".into()))
    }
}

impl sync::Guest for Probe {
    type Run = NoRun;
    fn history(_: String, _: u32) -> Result<Vec<sync::RunRecord>, sync::SyncError> {
        Ok(Vec::new())
    }
    fn approve_held(_: String, _: u64) -> Result<sync::RunRecord, sync::SyncError> {
        Err(sync::SyncError::Unsupported("probe".into()))
    }
    fn reject_held(_: String, _: u64) -> Result<sync::RunRecord, sync::SyncError> {
        Err(sync::SyncError::Unsupported("probe".into()))
    }
}

impl map::Guest for Probe {
    fn defaults(_: map::SyncTarget) -> map::Mapping {
        map::Mapping {
            fields: Vec::new(),
            role_rules: Vec::new(),
            default_user_role: None,
            default_requester_role: None,
        }
    }
    fn get(_: String) -> Result<map::Mapping, map::MapError> {
        Err(map::MapError::Unsupported("probe".into()))
    }
    fn set(_: String, _: map::Mapping) -> Result<(), map::MapError> {
        Err(map::MapError::Unsupported("probe".into()))
    }
    fn reset(_: String) -> Result<map::Mapping, map::MapError> {
        Err(map::MapError::Unsupported("probe".into()))
    }
    fn preview(_: String, _: String) -> Result<map::Person, map::MapError> {
        Err(map::MapError::Unsupported("probe".into()))
    }
    fn discover_schema(_: String) -> Result<Vec<map::SchemaAttribute>, map::MapError> {
        Err(map::MapError::Unsupported("probe".into()))
    }
}

impl ex::Guest for Probe {
    fn unsynced_csv(_: String, _: Option<u64>) -> Result<String, ex::ExportError> {
        Err(ex::ExportError::Unsupported("probe".into()))
    }
}

impl sso::Guest for Probe {
    fn configure(_: String, _: sso::SsoSettings) -> Result<(), sso::SsoError> {
        Err(sso::SsoError::Unsupported("probe".into()))
    }
    fn begin_login(
        _: String,
        _: sso::SyncTarget,
        _: String,
    ) -> Result<sso::LoginStart, sso::SsoError> {
        Err(sso::SsoError::Unsupported("probe".into()))
    }
    fn complete_login(_: String, _: String, _: String) -> Result<sso::SignedIn, sso::SsoError> {
        Err(sso::SsoError::Unsupported("probe".into()))
    }
}

export!(Probe);

/// One function per probe case (see `foreach_probe_case!`).
mod case {
    use super::*;

    pub fn spin(_: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }

    pub fn alloc(_: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }

    pub fn panic(_: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        panic!("probe panics on purpose")
    }

    pub fn stack(_: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        Ok(report(recurse(0, [7; 256]) as u32))
    }

    pub fn egress(form: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        super::egress(&form.okta_domain)
    }

    pub fn order(_: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        let request = http::OutgoingRequest::new(http::Fields::new());
        let body = request
            .body()
            .map_err(|()| verify::VerifyError::Other("no body".into()))?;
        let stream = body
            .write()
            .map_err(|()| verify::VerifyError::Other("no stream".into()))?;
        // Out of order: the stream, a child of the body, is still open.
        let finished = http::OutgoingBody::finish(body, None);
        drop(stream);
        Err(verify::VerifyError::Other(format!(
            "the host let an out-of-order finish through: {finished:?}"
        )))
    }

    pub fn storage(_: &ConfigForm) -> Result<verify::VerifyReport, verify::VerifyError> {
        infraon::okta::storage::set("probe", b"alive")
            .map_err(|e| verify::VerifyError::Other(format!("{e:?}")))?;
        let back = infraon::okta::storage::get("probe")
            .map_err(|e| verify::VerifyError::Other(format!("{e:?}")))?;
        Ok(report(back.map_or(0, |v| v.len() as u32)))
    }
}
