//! A guard against `Link` loops: a server whose `next` link points back at
//! a page already read would keep a run paging forever, so each listing
//! remembers the links it followed (as fingerprints, to keep checkpoints
//! small) and refuses one it has seen.

use serde::{Deserialize, Serialize};

/// The `next` links followed in the current listing, as fingerprints kept
/// sorted: a step asks about every page read ahead (up to 128), and a
/// million-user listing follows 5,000 links, so a search of them in the
/// order followed cost billions of comparisons over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<u64>")]
pub struct LinksFollowed(Vec<u64>);

/// Checkpoints written before the fingerprints were kept sorted hold them
/// in the order followed.
impl From<Vec<u64>> for LinksFollowed {
    fn from(mut fingerprints: Vec<u64>) -> Self {
        fingerprints.sort_unstable();
        fingerprints.dedup();
        LinksFollowed(fingerprints)
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
        next.is_none_or(|url| self.0.binary_search(&fingerprint(url)).is_err())
    }

    /// Records the page about to be read: `None` starts a listing afresh.
    /// Fails with the repeated URL when `next` was followed before.
    pub fn follow(&mut self, next: Option<&str>) -> Result<(), String> {
        let Some(url) = next else {
            self.0.clear();
            return Ok(());
        };
        let f = fingerprint(url);
        match self.0.binary_search(&f) {
            Ok(_) => Err(url.to_owned()),
            Err(at) => {
                self.0.insert(at, f);
                Ok(())
            }
        }
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
}
