//! A guard against `Link` loops: a server whose `next` link points back at
//! a page already read would keep a run paging forever, so each listing
//! remembers the links it followed (as fingerprints) and refuses one that
//! repeats.
//!
//! What it keeps does not grow with the listing: it is written into the
//! run's checkpoint at every step, and a million-user listing follows 5,000
//! links, so keeping them all made the checkpoints of one run add up to some
//! 240 MB written (quadratic in the listing's length). It keeps the last
//! [`RECENT`] links exactly, which refuses a link back to any of them at
//! once (the loops servers are known for: the same page again, or one a few
//! pages back), and, for a loop longer than that, Brent's cycle detection:
//! one link kept at each power of two of the listing's length, which a
//! longer loop comes back to within twice its length.

use serde::{Deserialize, Serialize};

/// Links kept exactly: loops up to this long are refused at their first
/// repeat.
pub const RECENT: usize = 64;

/// The `next` links followed in the current listing (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Stored")]
pub struct LinksFollowed {
    /// The last [`RECENT`] fingerprints, oldest first.
    recent: Vec<u64>,
    /// Brent's saved link: the one followed when `followed` last reached
    /// `power`.
    saved: Option<u64>,
    /// Links followed since `saved`.
    followed: u64,
    /// When the next link is saved (a power of two).
    power: u64,
    /// Every fingerprint of a checkpoint written by an older build, which
    /// kept them all, sorted; refused too, never grown.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    earlier: Vec<u64>,
}

impl Default for LinksFollowed {
    fn default() -> Self {
        LinksFollowed {
            recent: Vec::new(),
            saved: None,
            followed: 0,
            power: 1,
            earlier: Vec::new(),
        }
    }
}

/// A checkpoint's guard as written by this build, or by older ones (every
/// fingerprint followed, in any order).
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Bounded {
        recent: Vec<u64>,
        saved: Option<u64>,
        followed: u64,
        power: u64,
        #[serde(default)]
        earlier: Vec<u64>,
    },
    All(Vec<u64>),
}

impl From<Stored> for LinksFollowed {
    fn from(stored: Stored) -> Self {
        match stored {
            Stored::Bounded {
                recent,
                saved,
                followed,
                power,
                earlier,
            } => LinksFollowed {
                recent,
                saved,
                followed,
                power: power.max(1),
                earlier,
            },
            Stored::All(mut earlier) => {
                earlier.sort_unstable();
                earlier.dedup();
                LinksFollowed {
                    earlier,
                    ..LinksFollowed::default()
                }
            }
        }
    }
}

/// FNV-1a: stable across Rust versions, unlike `DefaultHasher`, so a
/// checkpoint written by one build is read the same by the next.
fn fingerprint(url: &str) -> u64 {
    url.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl LinksFollowed {
    /// Whether [`LinksFollowed::follow`] would accept `next`.
    pub fn allows(&self, next: Option<&str>) -> bool {
        next.is_none_or(|url| !self.repeats(fingerprint(url)))
    }

    fn repeats(&self, f: u64) -> bool {
        self.saved == Some(f) || self.recent.contains(&f) || self.earlier.binary_search(&f).is_ok()
    }

    /// Records the page about to be read: `None` starts a listing afresh.
    /// Fails with the repeated URL when `next` repeats a link followed.
    pub fn follow(&mut self, next: Option<&str>) -> Result<(), String> {
        let Some(url) = next else {
            *self = LinksFollowed::default();
            return Ok(());
        };
        let f = fingerprint(url);
        if self.repeats(f) {
            return Err(url.to_owned());
        }
        if self.recent.len() == RECENT {
            self.recent.remove(0);
        }
        self.recent.push(f);
        self.followed += 1;
        if self.followed >= self.power {
            self.saved = Some(f);
            self.followed = 0;
            self.power = self.power.saturating_mul(2);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_back_to_a_page_already_read_is_refused() {
        let mut seen = LinksFollowed::default();
        seen.follow(None).unwrap();
        seen.follow(Some("https://o/api/v1/users?after=a")).unwrap();
        seen.follow(Some("https://o/api/v1/users?after=b")).unwrap();
        assert!(!seen.allows(Some("https://o/api/v1/users?after=a")));
        assert!(seen.allows(Some("https://o/api/v1/users?after=c")));
        assert!(seen.allows(None));
        assert_eq!(
            seen.follow(Some("https://o/api/v1/users?after=a")),
            Err("https://o/api/v1/users?after=a".to_owned())
        );
    }

    #[test]
    fn a_new_listing_starts_afresh_and_survives_a_checkpoint() {
        let mut seen = LinksFollowed::default();
        seen.follow(Some("u?after=a")).unwrap();
        let json = serde_json::to_string(&seen).unwrap();
        let mut back: LinksFollowed = serde_json::from_str(&json).unwrap();
        assert!(back.follow(Some("u?after=a")).is_err());
        back.follow(None).unwrap();
        back.follow(Some("u?after=a")).unwrap();
    }

    #[test]
    fn fingerprints_stored_in_the_order_followed_still_refuse_a_loop() {
        let links: Vec<String> = (0..50).map(|n| format!("u?after={n}")).collect();
        let mut old: Vec<u64> = links.iter().map(|l| fingerprint(l)).collect();
        old.reverse();
        let mut back: LinksFollowed = serde_json::from_value(serde_json::json!(old)).unwrap();
        for l in &links {
            assert!(!back.allows(Some(l)), "{l}");
            assert_eq!(back.follow(Some(l)), Err(l.clone()));
        }
        assert!(back.allows(Some("u?after=50")));
        back.follow(Some("u?after=50")).unwrap();
        assert!(!back.allows(Some("u?after=50")));
    }

    /// A server whose links cycle through more pages than are kept
    /// exactly: the run stops within twice the loop's length past its
    /// start, instead of paging forever.
    #[test]
    fn a_loop_longer_than_the_links_kept_is_refused_within_twice_its_length() {
        for (start, length) in [(0, 65), (10, 100), (3_000, 1_000), (5, 4_097)] {
            let link = |i: usize| {
                let page = if i < start {
                    i
                } else {
                    start + (i - start) % length
                };
                format!("https://o/api/v1/users?after={page}")
            };
            let mut seen = LinksFollowed::default();
            seen.follow(None).unwrap();
            let refused = (0..10 * (start + length))
                .find(|&i| seen.follow(Some(&link(i))).is_err())
                .expect("the loop is refused");
            assert!(
                refused >= start + length,
                "{start}+{length}: refused at {refused}"
            );
            assert!(
                refused <= 2 * (start + length) + length,
                "{start}+{length}: refused only at {refused}"
            );
        }
    }

    /// A long listing without a loop is never refused, and what a
    /// checkpoint keeps of its guard stays the same size however long it
    /// gets.
    #[test]
    fn a_long_listing_is_followed_to_its_end_in_a_bounded_checkpoint() {
        let mut seen = LinksFollowed::default();
        let mut sizes = Vec::new();
        for i in 0..50_000 {
            let url = format!("https://o/api/v1/users?after=00u{i:017}");
            assert!(seen.allows(Some(&url)), "{url}");
            seen.follow(Some(&url)).unwrap();
            if i % 10_000 == 9_999 {
                sizes.push(serde_json::to_string(&seen).unwrap().len());
            }
        }
        assert!(sizes.iter().all(|&n| n < 2_000), "{sizes:?}");
    }

    /// A run resumed from its checkpoint in the middle of a long loop still
    /// refuses it.
    #[test]
    fn a_long_loop_is_refused_across_a_checkpoint() {
        let link = |i: usize| format!("u?after={}", i % 300);
        let mut seen = LinksFollowed::default();
        for i in 0..400 {
            seen.follow(Some(&link(i)))
                .unwrap_or_else(|l| panic!("refused {l} at {i}"));
        }
        let json = serde_json::to_string(&seen).unwrap();
        let mut back: LinksFollowed = serde_json::from_str(&json).unwrap();
        assert_eq!(back, seen);
        assert!((400..1_000).any(|i| back.follow(Some(&link(i))).is_err()));
    }
}
