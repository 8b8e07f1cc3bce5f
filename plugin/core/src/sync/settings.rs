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

/// The mass-deactivation safeguard of a config as the admin edits it (WIT
/// `safeguard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Safeguard {
    /// Hold when deactivations exceed this share (percent, 1..=100) of the
    /// active linked people...
    pub deactivation_share_percent: u32,
    /// ...and this count.
    pub deactivation_minimum: u32,
}

/// Largest safeguard minimum accepted: more people than any org has.
pub const MAX_DEACTIVATION_MINIMUM: u32 = 10_000_000;

fn config_name(host: &mut crate::ports::Host<'_>, config: &str) -> Result<String, SyncError> {
    Ok(crate::store::find_config(host.storage, config)
        .map_err(SyncError::Host)?
        .ok_or_else(|| SyncError::UnknownConfig(config.trim().to_owned()))?
        .name)
}

/// A config's safeguard (the defaults until edited).
pub fn get_safeguard(
    host: &mut crate::ports::Host<'_>,
    config: &str,
) -> Result<Safeguard, SyncError> {
    let name = config_name(host, config)?;
    let s = load_settings(host.storage, &name)?;
    Ok(Safeguard {
        deactivation_share_percent: s.deactivation_share_percent,
        deactivation_minimum: s.deactivation_minimum,
    })
}

/// Change a config's safeguard, keeping its other settings; it applies from
/// the next run. A share outside 1..=100 or a minimum above
/// [`MAX_DEACTIVATION_MINIMUM`] is refused (0 % would hold every run with a
/// deactivation above the minimum; over 100 % would never hold).
pub fn set_safeguard(
    host: &mut crate::ports::Host<'_>,
    config: &str,
    safeguard: Safeguard,
) -> Result<(), SyncError> {
    let name = config_name(host, config)?;
    if !(1..=100).contains(&safeguard.deactivation_share_percent) {
        return Err(SyncError::Other(
            "the safeguard share must be a percentage from 1 to 100".into(),
        ));
    }
    if safeguard.deactivation_minimum > MAX_DEACTIVATION_MINIMUM {
        return Err(SyncError::Other(format!(
            "the safeguard minimum must be at most {MAX_DEACTIVATION_MINIMUM}"
        )));
    }
    let mut s = load_settings(host.storage, &name)?;
    s.deactivation_share_percent = safeguard.deactivation_share_percent;
    s.deactivation_minimum = safeguard.deactivation_minimum;
    save_settings(host.storage, &name, &s)?;
    let (share, min) = (
        safeguard.deactivation_share_percent.to_string(),
        safeguard.deactivation_minimum.to_string(),
    );
    host.log.write(
        crate::ports::Level::Info,
        "safeguard changed",
        &[
            ("config", &name),
            ("share_percent", &share),
            ("minimum", &min),
        ],
    );
    Ok(())
}

/// A config's rehire policy ([`Rehire::Relink`] until set).
pub fn get_rehire(host: &mut crate::ports::Host<'_>, config: &str) -> Result<Rehire, SyncError> {
    let name = config_name(host, config)?;
    Ok(load_settings(host.storage, &name)?.rehire)
}

/// Change a config's rehire policy, keeping its other settings; it applies
/// from the next run (and to the next event or person provisioned).
pub fn set_rehire(
    host: &mut crate::ports::Host<'_>,
    config: &str,
    rehire: Rehire,
) -> Result<(), SyncError> {
    let name = config_name(host, config)?;
    let mut s = load_settings(host.storage, &name)?;
    s.rehire = rehire;
    save_settings(host.storage, &name, &s)?;
    let policy = match rehire {
        Rehire::Relink => "relink",
        Rehire::NewPerson => "new-person",
    };
    host.log.write(
        crate::ports::Level::Info,
        "rehire policy changed",
        &[("config", &name), ("rehire", policy)],
    );
    Ok(())
}
