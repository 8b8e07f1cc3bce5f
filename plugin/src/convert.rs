//! Mechanical conversions between the WIT types and `plugin_core`'s.

use crate::exports::infraon::okta::{install as wit_install, verify as wit_verify};
use crate::infraon::okta::types as wit;

pub fn sync_target(t: wit::SyncTarget) -> plugin_core::SyncTarget {
    match t {
        wit::SyncTarget::Users => plugin_core::SyncTarget::Users,
        wit::SyncTarget::Requesters => plugin_core::SyncTarget::Requesters,
    }
}

pub fn wit_sync_target(t: plugin_core::SyncTarget) -> wit::SyncTarget {
    match t {
        plugin_core::SyncTarget::Users => wit::SyncTarget::Users,
        plugin_core::SyncTarget::Requesters => wit::SyncTarget::Requesters,
    }
}

pub fn form(f: wit::ConfigForm) -> plugin_core::ConfigForm {
    plugin_core::ConfigForm {
        name: f.name,
        okta_domain: f.okta_domain,
        api_token: f.api_token,
        sync_target: sync_target(f.sync_target),
        service_app: f.service_app.map(|a| plugin_core::config::ServiceAppForm {
            client_id: a.client_id,
            dpop: a.dpop,
        }),
    }
}

pub fn options(o: wit::InstallOptions) -> plugin_core::InstallOptions {
    plugin_core::InstallOptions {
        development_mode: o.development_mode,
    }
}

pub fn summary(s: plugin_core::ConfigSummary) -> wit::ConfigSummary {
    wit::ConfigSummary {
        name: s.name,
        okta_origin: s.okta_origin,
        sync_target: wit_sync_target(s.sync_target),
        development_mode: s.development_mode,
        installed_at: s.installed_at,
        updated_at: s.updated_at,
        last_verified_at: s.last_verified_at,
        service_app: match s.auth {
            plugin_core::AuthMethod::ApiToken => None,
            plugin_core::AuthMethod::ServiceApp { client_id, dpop } => {
                Some(wit::ServiceApp { client_id, dpop })
            }
        },
    }
}

pub fn field_errors(errors: Vec<plugin_core::FieldError>) -> Vec<wit::FieldError> {
    errors
        .into_iter()
        .map(|e| wit::FieldError {
            field: e.field,
            message: e.message,
        })
        .collect()
}

fn okta_error(e: plugin_core::OktaError) -> wit::OktaError {
    wit::OktaError {
        status: e.status,
        error_code: e.error_code,
        error_summary: e.error_summary,
        error_id: e.error_id,
    }
}

fn rate_limit(r: plugin_core::RateLimit) -> wit::RateLimit {
    wit::RateLimit {
        limit: r.limit,
        remaining: r.remaining,
        reset_at: r.reset_at,
    }
}

pub fn failure(f: plugin_core::OktaFailure) -> wit::OktaFailure {
    use plugin_core::OktaFailure as F;
    match f {
        F::DnsFailure(m) => wit::OktaFailure::DnsFailure(m),
        F::ConnectionFailed(m) => wit::OktaFailure::ConnectionFailed(m),
        F::TlsFailure(m) => wit::OktaFailure::TlsFailure(m),
        F::Timeout(m) => wit::OktaFailure::Timeout(m),
        F::EgressDenied(m) => wit::OktaFailure::EgressDenied(m),
        F::InvalidToken(e) => wit::OktaFailure::InvalidToken(okta_error(e)),
        F::PermissionDenied(e) => wit::OktaFailure::PermissionDenied(okta_error(e)),
        F::NotFound(m) => wit::OktaFailure::NotFound(m),
        F::RateLimited(r) => wit::OktaFailure::RateLimited(rate_limit(r)),
        F::ServerError(s) => wit::OktaFailure::ServerError(s),
        F::UnexpectedResponse(m) => wit::OktaFailure::UnexpectedResponse(m),
        F::Okta(e) => wit::OktaFailure::Okta(okta_error(e)),
        F::ServiceApp(f) => wit::OktaFailure::ServiceApp(service_app_failure(f)),
        F::Other(m) => wit::OktaFailure::Other(m),
    }
}

fn service_app_failure(f: plugin_core::ServiceAppFailure) -> wit::ServiceAppFailure {
    use plugin_core::ServiceAppFailure as F;
    use wit::ServiceAppFailure as W;
    match f {
        F::UnknownClient(m) => W::UnknownClient(m),
        F::KeyNotRegistered(m) => W::KeyNotRegistered(m),
        F::AssertionRefused(m) => W::AssertionRefused(m),
        F::ScopeNotGranted(s) => W::ScopeNotGranted(s),
        F::DpopRequired => W::DpopRequired,
        F::DpopRefused(m) => W::DpopRefused(m),
        F::Signing(m) => W::Signing(m),
        F::TokenEndpoint(m) => W::TokenEndpoint(m),
        F::AccessTokenRefused(m) => W::AccessTokenRefused(m),
        F::NoAdminRole(m) => W::NoAdminRole(m),
    }
}

pub fn report(r: plugin_core::VerifyReport) -> wit_verify::VerifyReport {
    wit_verify::VerifyReport {
        okta_origin: r.okta_origin,
        requests: r.requests,
        rate_limit: rate_limit(r.rate_limit),
        okta_request_id: r.okta_request_id,
        elapsed_ms: r.elapsed_ms,
    }
}

pub fn install_error(e: plugin_core::InstallError) -> wit_install::InstallError {
    use plugin_core::InstallError as E;
    match e {
        E::InvalidConfig(f) => wit_install::InstallError::InvalidConfig(field_errors(f)),
        E::DuplicateName(n) => wit_install::InstallError::DuplicateName(n),
        E::UnknownConfig(n) => wit_install::InstallError::UnknownConfig(n),
        E::VerificationFailed(f) => wit_install::InstallError::VerificationFailed(failure(f)),
        E::Storage(m) => wit_install::InstallError::Storage(m),
        E::Other(m) => wit_install::InstallError::Other(m),
    }
}

pub fn verify_error(e: plugin_core::VerifyError) -> wit_verify::VerifyError {
    use plugin_core::VerifyError as E;
    match e {
        E::InvalidConfig(f) => wit_verify::VerifyError::InvalidConfig(field_errors(f)),
        E::UnknownConfig(n) => wit_verify::VerifyError::UnknownConfig(n),
        E::Okta(f) => wit_verify::VerifyError::Okta(failure(f)),
        E::Other(m) => wit_verify::VerifyError::Other(m),
    }
}
