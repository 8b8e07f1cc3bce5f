//! Per-config sync settings, kept under `state/<config>/settings`; every
//! field is optional in storage and falls back to its default.

use serde::{Deserialize, Serialize};

use crate::ports::Storage;
use crate::sync::keys;
use crate::sync::types::SyncError;

/// Thresholds of the mass-deactivation safeguard and the rate-limit reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// A run holds its deactivations when they exceed this share (percent)
    /// of the people linked to the config and not deactivated...
    pub deactivation_share_percent: u32,
    /// ...and also exceed this count (small orgs would otherwise hold on
    /// every single departure).
    pub deactivation_minimum: u32,
    /// Share (percent) of Okta's rate-limit window left to the org's other
    /// apps: at or below it, the sync waits for the window to reset.
    pub rate_limit_reserve_percent: u32,
    /// What a new Okta account gets whose email or login belongs to a
    /// deactivated person this config once managed.
    pub rehire: Rehire,
}

/// The rehire policy: a new Okta account whose email or login belongs to a
/// deactivated person formerly linked to this config. Unlinked people, and
/// people of other configs or still active, keep the conflict rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rehire {
    /// The former person is linked to the new account and reactivated: one
    /// person, their ticket history kept.
    #[default]
    Relink,
    /// A new person is created; the former one keeps their history under a
    /// released email and login (see the directory's `release-identity`).
    NewPerson,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deactivation_share_percent: 20,
            deactivation_minimum: 5,
            rate_limit_reserve_percent: 10,
            rehire: Rehire::Relink,
        }
    }
}

impl Settings {
    /// Whether `deactivations` out of `active` people (linked, not
    /// deactivated) must wait for approval: more than
    /// `max(share% of active, minimum)`.
    pub fn holds(&self, deactivations: usize, active: usize) -> bool {
        let d = deactivations as u128;
        d > u128::from(self.deactivation_minimum)
            && d * 100 > active as u128 * u128::from(self.deactivation_share_percent)
    }
}

/// A config's settings, defaults where nothing is stored.
pub fn load_settings(storage: &mut dyn Storage, config: &str) -> Result<Settings, SyncError> {
    Ok(keys::get_json(storage, &keys::settings(config))?.unwrap_or_default())
}

/// Store a config's settings; they apply from the next run.
pub fn save_settings(
    storage: &mut dyn Storage,
    config: &str,
    settings: &Settings,
) -> Result<(), SyncError> {
    keys::put_json(storage, &keys::settings(config), settings)
}
