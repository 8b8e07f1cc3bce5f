//! Okta Event Hooks (WIT `events`): what a delivery of events asks the
//! plugin to do, worked out without I/O, and the bounded memory of the
//! event ids already applied. [`deliver()`] does the I/O.
//!
//! An event is trusted only to name who changed, never for what they became:
//! every user an event names is re-read from Okta and applied with the
//! sync's own mapping, role rules and lifecycle ([`crate::sync::apply`]). So
//! an event delivered twice changes nothing the second time, and two events
//! delivered out of order both end in the user's current state.
//!
//! | event                                             | action                                  |
//! |---------------------------------------------------|-----------------------------------------|
//! | any event with a `User` target (`user.lifecycle.*`, `user.account.*`, `group.user_membership.*`, …) | re-read those users |
//! | `group.lifecycle.delete`                          | re-read the group's members as of the last sync (its snapshot) |
//! | anything else                                     | ignored                                 |

use std::collections::{BTreeSet, VecDeque};

use serde::{Deserialize, Serialize};
use thiserror::Error;

mod deliver;

pub use deliver::deliver;

/// Event ids remembered per config for de-duplication: a day of a busy
/// org's lifecycle changes; Okta retries within minutes.
pub const SEEN_WINDOW: usize = 5_000;
/// Users re-read per delivery; the rest are deferred to the next sync, so
/// that a delivery answers Okta well within its 3-second timeout.
pub const MAX_USERS_PER_DELIVERY: usize = 50;

/// The event type of a deleted group.
pub const GROUP_DELETED: &str = "group.lifecycle.delete";

/// One `target` of an Okta event (WIT `event-target`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTarget {
    /// Okta id.
    pub id: String,
    /// Okta target type (`User`, `UserGroup`, …).
    pub kind: String,
    /// `alternateId`.
    pub alternate_id: String,
    /// `displayName`.
    pub display_name: String,
}

/// One event of a delivery (WIT `okta-event`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OktaEvent {
    /// `uuid`.
    pub uuid: String,
    /// `published`, RFC 3339.
    pub published: String,
    /// `eventType`.
    pub event_type: String,
    /// `target[]`.
    pub targets: Vec<EventTarget>,
}

/// What became of an event (WIT `event-outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventOutcome {
    /// Its users were re-read and applied.
    Applied,
    /// Already received.
    Duplicate,
    /// Nothing this plugin acts on.
    Ignored,
    /// Left to the next scheduled sync.
    Deferred,
}

/// One event and what became of it (WIT `event-result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    /// `uuid`.
    pub uuid: String,
    /// `eventType`.
    pub event_type: String,
    /// What became of it.
    pub outcome: EventOutcome,
    /// Why, when not plainly applied.
    pub detail: Option<String>,
}

/// What a delivery did (WIT `delivery-report`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// One entry per event, in the order applied.
    pub events: Vec<EventResult>,
    /// Distinct users re-read from Okta.
    pub users_fetched: u32,
    /// People whose Infraon record changed.
    pub people_changed: u32,
    /// People deactivated.
    pub deactivated: u32,
    /// Okta requests made.
    pub requests: u32,
}

/// Why a delivery could not be handled at all (WIT `events-error`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventsError {
    /// No config with this name is installed.
    #[error("no config named `{0}` is installed")]
    UnknownConfig(String),
    /// The host's storage or directory failed.
    #[error("the host failed: {0}")]
    Host(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// What one event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Its `uuid` was seen before (or earlier in this delivery).
    Duplicate,
    /// Nothing to do, and why.
    Ignored(String),
    /// Re-read these users.
    Users(Vec<String>),
    /// A group was deleted: re-read its last known members.
    GroupDeleted(String),
}

/// The events of a delivery in the order to apply them (by `published`,
/// then as delivered), each with its [`Action`].
pub fn plan<'a>(events: &'a [OktaEvent], seen: &SeenIds) -> Vec<(&'a OktaEvent, Action)> {
    let mut order: Vec<&OktaEvent> = events.iter().collect();
    // Stable: events published at the same instant keep the delivery's order.
    order.sort_by_key(|e| published_key(&e.published));
    let mut here = BTreeSet::new();
    order
        .into_iter()
        .map(|e| {
            let again = seen.contains(&e.uuid) || !here.insert(e.uuid.as_str());
            let action = if again && !e.uuid.is_empty() {
                Action::Duplicate
            } else {
                action_of(e)
            };
            (e, action)
        })
        .collect()
}

/// What an event asks for, duplicates aside.
pub fn action_of(e: &OktaEvent) -> Action {
    let of_kind = |kind: &str| -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for t in e
            .targets
            .iter()
            .filter(|t| t.kind == kind && !t.id.is_empty())
        {
            if !ids.contains(&t.id) {
                ids.push(t.id.clone());
            }
        }
        ids
    };
    if e.event_type == GROUP_DELETED {
        return match of_kind("UserGroup").into_iter().next() {
            Some(g) => Action::GroupDeleted(g),
            None => Action::Ignored("the event names no group".into()),
        };
    }
    let users = of_kind("User");
    if users.is_empty() {
        Action::Ignored(format!("`{}` names no user", e.event_type))
    } else {
        Action::Users(users)
    }
}

/// A sort key for an RFC 3339 `published` that orders fractions of a second
/// by value (`…14Z` before `…14.5Z`). Okta publishes in UTC; a value that
/// is not RFC 3339 sorts first and keeps its place among its like.
pub fn published_key(published: &str) -> (String, u32) {
    let s = published.trim();
    let Some(seconds) = s.get(..19) else {
        return (String::new(), 0);
    };
    let rest = &s[19..];
    let digits: String = rest
        .strip_prefix('.')
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    let nanos = format!("{digits:0<9}").parse().unwrap_or(0);
    (seconds.to_owned(), nanos)
}

/// The event ids most recently applied, oldest first, at most
/// [`SEEN_WINDOW`] of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenIds(VecDeque<String>);

impl SeenIds {
    /// Whether `uuid` is remembered.
    pub fn contains(&self, uuid: &str) -> bool {
        self.0.iter().any(|s| s == uuid)
    }

    /// Remember `uuid`, forgetting the oldest beyond the window.
    pub fn insert(&mut self, uuid: &str) {
        if uuid.is_empty() || self.contains(uuid) {
            return;
        }
        self.0.push_back(uuid.to_owned());
        while self.0.len() > SEEN_WINDOW {
            self.0.pop_front();
        }
    }

    /// How many are remembered.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(uuid: &str, published: &str, kind: &str, targets: &[(&str, &str)]) -> OktaEvent {
        OktaEvent {
            uuid: uuid.into(),
            published: published.into(),
            event_type: kind.into(),
            targets: targets
                .iter()
                .map(|(id, kind)| EventTarget {
                    id: (*id).into(),
                    kind: (*kind).into(),
                    ..Default::default()
                })
                .collect(),
        }
    }

    #[test]
    fn events_are_ordered_by_published_and_duplicates_found() {
        let events = [
            event(
                "b",
                "2026-01-01T10:00:01Z",
                "user.lifecycle.activate",
                &[("u1", "User")],
            ),
            event(
                "a",
                "2026-01-01T10:00:00.500Z",
                "user.lifecycle.suspend",
                &[("u1", "User")],
            ),
            event(
                "b",
                "2026-01-01T10:00:01Z",
                "user.lifecycle.activate",
                &[("u1", "User")],
            ),
            event(
                "c",
                "2026-01-01T10:00:00.2Z",
                "user.lifecycle.deactivate",
                &[("u2", "User")],
            ),
        ];
        let mut seen = SeenIds::default();
        seen.insert("c");
        let planned: Vec<(&str, Action)> = plan(&events, &seen)
            .into_iter()
            .map(|(e, a)| (e.uuid.as_str(), a))
            .collect();
        assert_eq!(
            planned,
            vec![
                ("c", Action::Duplicate),
                ("a", Action::Users(vec!["u1".into()])),
                ("b", Action::Users(vec!["u1".into()])),
                ("b", Action::Duplicate),
            ]
        );
    }

    #[test]
    fn membership_and_group_deletion_name_what_to_reread() {
        let add = event(
            "x",
            "2026-01-01T10:00:00Z",
            "group.user_membership.add",
            &[("u1", "User"), ("g1", "UserGroup"), ("u1", "User")],
        );
        assert_eq!(action_of(&add), Action::Users(vec!["u1".into()]));
        let gone = event(
            "y",
            "2026-01-01T10:00:00Z",
            GROUP_DELETED,
            &[("g1", "UserGroup")],
        );
        assert_eq!(action_of(&gone), Action::GroupDeleted("g1".into()));
        let app = event(
            "z",
            "2026-01-01T10:00:00Z",
            "application.lifecycle.update",
            &[("a", "AppInstance")],
        );
        assert!(matches!(action_of(&app), Action::Ignored(_)));
    }

    #[test]
    fn the_seen_window_is_bounded_and_forgets_the_oldest() {
        let mut seen = SeenIds::default();
        for i in 0..SEEN_WINDOW + 10 {
            seen.insert(&format!("e{i}"));
        }
        seen.insert("e20");
        assert_eq!(seen.len(), SEEN_WINDOW);
        assert!(!seen.contains("e0") && !seen.contains("e9"));
        assert!(seen.contains("e10") && seen.contains(&format!("e{}", SEEN_WINDOW + 9)));
    }

    #[test]
    fn fractions_of_a_second_sort_by_value() {
        assert!(published_key("2026-01-01T10:00:14Z") < published_key("2026-01-01T10:00:14.5Z"));
        assert!(published_key("2026-01-01T10:00:14.5Z") < published_key("2026-01-01T10:00:14.51Z"));
        assert!(published_key("garbage") < published_key("2026-01-01T10:00:14Z"));
    }
}
