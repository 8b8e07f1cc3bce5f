//! Words for the plugin's typed errors, as the CLI (and later the console)
//! shows them to an admin. The token never reaches these values.

use crate::bindings::exports::infraon::okta::install::InstallError;
use crate::bindings::exports::infraon::okta::verify::VerifyError;
use crate::bindings::infraon::okta::types::{
    FieldError, OktaError, OktaFailure, ServiceAppFailure,
};

fn okta_error(e: &OktaError) -> String {
    let id = e
        .error_id
        .as_deref()
        .map(|id| format!(", error id {id}"))
        .unwrap_or_default();
    format!(
        "HTTP {} {}: {}{id}",
        e.status, e.error_code, e.error_summary
    )
}

fn reset_time(reset_at: Option<u64>) -> String {
    reset_at
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0))
        .map_or("an unknown time".into(), |t| {
            t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
        })
}

/// One sentence per failure kind, each telling the admin what to do.
pub fn okta_failure(f: &OktaFailure) -> String {
    match f {
        OktaFailure::DnsFailure(m) => {
            format!("The Okta domain does not resolve: check the Okta Domain URL ({m}).")
        }
        OktaFailure::ConnectionFailed(m) => {
            format!("Nothing answers at the Okta domain: check the URL and the network ({m}).")
        }
        OktaFailure::TlsFailure(m) => format!(
            "The secure (TLS) connection to Okta failed: check the URL's scheme and certificate ({m})."
        ),
        OktaFailure::Timeout(m) => format!("Okta did not answer in time; try again later ({m})."),
        OktaFailure::EgressDenied(m) => format!(
            "Infraon refused the request: the destination is not allowed for this config ({m})."
        ),
        OktaFailure::InvalidToken(e) => format!(
            "Okta rejected the API token: it is invalid, expired or revoked. Create a new token in Okta Admin > Security > API > Tokens ({}).",
            okta_error(e)
        ),
        OktaFailure::PermissionDenied(e) => format!(
            "The API token's admin lacks permission to read users and groups; use a token of an admin with at least Read-Only Administrator ({}).",
            okta_error(e)
        ),
        OktaFailure::NotFound(m) => {
            format!("The URL does not lead to an Okta org API: check the Okta Domain URL ({m}).")
        }
        OktaFailure::RateLimited(r) => format!(
            "Okta's rate limit is exhausted ({} of {} left); it resets at {}.",
            r.remaining.map_or("?".into(), |v| v.to_string()),
            r.limit.map_or("?".into(), |v| v.to_string()),
            reset_time(r.reset_at)
        ),
        OktaFailure::ServerError(s) => {
            format!("Okta answered with a server error (HTTP {s}); try again later.")
        }
        OktaFailure::UnexpectedResponse(m) => {
            format!("The answer is not Okta's JSON: is this an Okta org? ({m})")
        }
        OktaFailure::Okta(e) => format!("Okta refused the request ({}).", okta_error(e)),
        OktaFailure::ServiceApp(f) => service_app_failure(f),
        OktaFailure::Other(m) => m.clone(),
    }
}

/// A service app's failure as the admin fixes it in Okta's Admin Console.
fn service_app_failure(f: &ServiceAppFailure) -> String {
    match f {
        ServiceAppFailure::UnknownClient(id) => format!(
            "Okta knows no service app with client ID `{id}`: copy the Client ID from Applications > the API Services app > General."
        ),
        ServiceAppFailure::KeyNotRegistered(kid) => format!(
            "The service app does not have this host's public key (kid `{kid}`): in Okta open the app > General > Client Credentials > Public keys > Add key and paste the JWK from `harness keys show`."
        ),
        ServiceAppFailure::AssertionRefused(m) => {
            format!("Okta refused the client assertion ({m}); check this host's clock.")
        }
        ServiceAppFailure::ScopeNotGranted(scopes) => format!(
            "The service app is not granted {}: in Okta open the app > Okta API Scopes and Grant it.",
            scopes.join(", ")
        ),
        ServiceAppFailure::DpopRequired => "The service app requires DPoP (\"Require Demonstrating Proof of Possession (DPoP) header in token requests\"): install the config with DPoP, or clear that box in Okta.".into(),
        ServiceAppFailure::DpopRefused(m) => format!("Okta refused the DPoP proof ({m})."),
        ServiceAppFailure::Signing(m) => format!("The host could not sign for the service app: {m}"),
        ServiceAppFailure::TokenEndpoint(m) => {
            format!("Okta's token endpoint refused the request ({m}).")
        }
        ServiceAppFailure::AccessTokenRefused(m) => {
            format!("Okta refused the service app's access token ({m}).")
        }
        ServiceAppFailure::NoAdminRole(m) => format!(
            "Okta refused access ({m}) although the scopes are granted: assign the service app an admin role (Admin roles > Edit assignments > Read-Only Administrator)."
        ),
    }
}

fn fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A verify error as one line.
pub fn verify_error(e: &VerifyError) -> String {
    match e {
        VerifyError::InvalidConfig(f) => format!("invalid config: {}", fields(f)),
        VerifyError::UnknownConfig(n) => format!("no config named {n:?} is installed"),
        VerifyError::Okta(f) => okta_failure(f),
        VerifyError::Other(m) => m.clone(),
    }
}

/// An install error as one line.
pub fn install_error(e: &InstallError) -> String {
    match e {
        InstallError::InvalidConfig(f) => format!("invalid config: {}", fields(f)),
        InstallError::DuplicateName(n) => format!("a config named {n:?} is already installed"),
        InstallError::UnknownConfig(n) => format!("no config named {n:?} is installed"),
        InstallError::VerificationFailed(f) => {
            format!("not installed, verification failed: {}", okta_failure(f))
        }
        InstallError::Storage(m) => format!("Infraon could not keep the config: {m}"),
        InstallError::Other(m) => m.clone(),
    }
}

/// A sync error as one line.
pub fn sync_error(e: &crate::bindings::exports::infraon::okta::sync::SyncError) -> String {
    use crate::bindings::exports::infraon::okta::sync::SyncError;
    match e {
        SyncError::UnknownConfig(n) => format!("no config named {n:?} is installed"),
        SyncError::AlreadyRunning(id) => format!("run {id} of this config is still in progress"),
        SyncError::UnknownRun(id) => format!("no run {id}"),
        SyncError::Okta(f) => format!("sync stopped, nobody was deactivated: {}", okta_failure(f)),
        SyncError::Host(m) => format!("Infraon failed: {m}"),
        SyncError::Unsupported(m) => format!("unsupported: {m}"),
        SyncError::Other(m) => m.clone(),
    }
}

/// A run record as a short paragraph.
pub fn run_record(r: &crate::bindings::exports::infraon::okta::sync::RunRecord) -> String {
    use crate::bindings::exports::infraon::okta::sync::{SyncMode, Trigger};
    let c = &r.counts;
    let mode = match r.mode {
        SyncMode::Full => "full",
        SyncMode::Incremental => "incremental",
        SyncMode::DryRun => "dry-run",
    };
    let trigger = if r.trigger == Trigger::Manual {
        "manual"
    } else {
        "scheduled"
    };
    let mut text = format!(
        "run {} of {:?} ({mode}, {trigger}): {} in {} ms, {} requests\n  fetched {}, created {}, updated {}, \
         unchanged {}, deactivated {}, reactivated {}, role changes {}, unsynced {}",
        r.id,
        r.config,
        run_outcome(r.outcome),
        r.duration_ms,
        r.requests,
        c.fetched,
        c.created,
        c.updated,
        c.unchanged,
        c.deactivated,
        c.reactivated,
        c.role_changes,
        c.unsynced
    );
    if let Some(e) = &r.error {
        text.push_str(&format!("\n  error: {e}"));
    }
    text
}

/// A mapping error as one line.
pub fn map_error(e: &crate::bindings::exports::infraon::okta::map::MapError) -> String {
    use crate::bindings::exports::infraon::okta::map::MapError;
    match e {
        MapError::UnknownConfig(n) => format!("no config named {n:?} is installed"),
        MapError::Invalid(f) => format!("invalid mapping: {}", fields(f)),
        MapError::UnknownRole(r) => format!("Infraon has no role named {r:?}"),
        MapError::UnknownUser(u) => format!("Okta has no user with login {u:?}"),
        MapError::Okta(f) => okta_failure(f),
        MapError::Unsupported(m) => format!("unsupported: {m}"),
        MapError::Other(m) => m.clone(),
    }
}

/// An export error as one line.
pub fn export_error(e: &crate::bindings::exports::infraon::okta::export::ExportError) -> String {
    use crate::bindings::exports::infraon::okta::export::ExportError;
    match e {
        ExportError::UnknownConfig(n) => format!("no config named {n:?} is installed"),
        ExportError::UnknownRun(id) => format!("no run {id}"),
        ExportError::NoRuns => "this config has never run".into(),
        ExportError::Unsupported(m) => format!("unsupported: {m}"),
        ExportError::Other(m) => m.clone(),
    }
}

/// A run's outcome in words (`running` while unfinished).
pub fn run_outcome(
    o: Option<crate::bindings::exports::infraon::okta::sync::RunOutcome>,
) -> &'static str {
    use crate::bindings::exports::infraon::okta::sync::RunOutcome;
    match o {
        None => "running",
        Some(RunOutcome::Succeeded) => "succeeded",
        Some(RunOutcome::Partial) => "partial (see export)",
        Some(RunOutcome::Failed) => "failed",
        Some(RunOutcome::Cancelled) => "cancelled",
        Some(RunOutcome::Held) => "held (deactivations wait for approval)",
    }
}

/// An SSO refusal as the person signing in sees it.
pub fn sso_error(e: &crate::bindings::exports::infraon::okta::sso::SsoError) -> String {
    use crate::bindings::exports::infraon::okta::sso::SsoError;
    use crate::bindings::infraon::okta::types::SyncTarget;
    match e {
        SsoError::UnknownConfig(n) => format!("No Okta config named {n:?} is installed."),
        SsoError::Disabled(SyncTarget::Users) => {
            "Okta sign-in is turned off for Infraon users.".into()
        }
        SsoError::Disabled(SyncTarget::Requesters) => {
            "Okta sign-in is turned off for Self-Service Portal requesters.".into()
        }
        SsoError::InvalidSettings(f) => format!("The SSO settings are not valid: {}", fields(f)),
        SsoError::UnknownState => {
            "This sign-in is unknown or was already completed; start again.".into()
        }
        SsoError::Expired => "Sign-in expired, start again.".into(),
        SsoError::TokenExchange(m) => {
            format!("The identity provider did not complete the sign-in: {m}")
        }
        SsoError::InvalidIdToken(m) => {
            format!("The sign-in was refused: the identity provider's ID token {m}.")
        }
        SsoError::NotLinked(m) | SsoError::Deactivated(m) => m.clone(),
        SsoError::Okta(f) => okta_failure(f),
        SsoError::Unsupported(m) | SsoError::Other(m) => m.clone(),
    }
}
