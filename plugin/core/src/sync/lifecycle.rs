//! Okta user status → Infraon person status, by a fixed default.
//!
//! | Okta status                            | Infraon status |
//! |----------------------------------------|----------------|
//! | `ACTIVE`, `RECOVERY`, `PASSWORD_EXPIRED`, `LOCKED_OUT` | active |
//! | `STAGED`, `PROVISIONED`                | pending        |
//! | `SUSPENDED`                            | suspended      |
//! | `DEPROVISIONED`                        | deactivated    |
//!
//! `RECOVERY`, `PASSWORD_EXPIRED` and `LOCKED_OUT` keep the person active:
//! the account is valid, only its credential is being reset or is locked
//! after failed sign-ins (Okta unlocks it, or the user does by recovery);
//! Infraon access follows the account, not the state of its password. `STAGED`/`PROVISIONED` people
//! have never signed in, so they exist in Infraon without being usable yet.
//!
//! Further rules the engine applies:
//! - **Reactivation**: a person deactivated in Infraon whose Okta status maps
//!   to anything but deactivated gets that status again (counted `reactivated`).
//! - **Deletion**: a person linked to this config but absent from a complete,
//!   successful full listing (visible users plus `DEPROVISIONED` ones) is
//!   deactivated. Failed, cancelled, partial-listing and incremental runs
//!   deactivate nobody by absence.
//! - **Safeguard**: deactivations are collected, never applied page by page,
//!   so that a run that would deactivate too many can hold them all.

use crate::directory::PersonStatus;

/// The Infraon status of an Okta status; `None` for a status Okta may add
/// later, which the engine reports as unsynced rather than guessing.
pub fn status_of(okta_status: &str) -> Option<PersonStatus> {
    Some(match okta_status {
        "ACTIVE" | "RECOVERY" | "PASSWORD_EXPIRED" | "LOCKED_OUT" => PersonStatus::Active,
        "STAGED" | "PROVISIONED" => PersonStatus::Pending,
        "SUSPENDED" => PersonStatus::Suspended,
        "DEPROVISIONED" => PersonStatus::Deactivated,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_okta_status_has_a_state() {
        for (okta, want) in [
            ("STAGED", PersonStatus::Pending),
            ("PROVISIONED", PersonStatus::Pending),
            ("ACTIVE", PersonStatus::Active),
            ("RECOVERY", PersonStatus::Active),
            ("PASSWORD_EXPIRED", PersonStatus::Active),
            ("LOCKED_OUT", PersonStatus::Active),
            ("SUSPENDED", PersonStatus::Suspended),
            ("DEPROVISIONED", PersonStatus::Deactivated),
        ] {
            assert_eq!(status_of(okta), Some(want), "{okta}");
        }
        assert_eq!(status_of("active"), None);
    }
}
