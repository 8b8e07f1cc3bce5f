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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deactivation_share_percent: 20,
            deactivation_minimum: 5,
            rate_limit_reserve_percent: 10,
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
