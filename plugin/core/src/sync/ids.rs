//! Compact forms of what a run remembers about every person it meets, so
//! that an org of a million people fits in the plugin's memory (issue 19):
//! each id or email is kept once, in one string arena, and named by its
//! position (a `u32`); a table of positions finds it again. A million Okta
//! ids cost some 30 MB here, against about three times that as a
//! `HashSet<String>`.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

/// Distinct strings, each named by the order it was first met in.
#[derive(Default)]
pub struct Interner {
    bytes: String,
    ends: Vec<u32>,
    table: HashTable<u32>,
    hasher: RandomState,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("len", &self.len())
            .finish()
    }
}

/// The `i`-th string of an arena.
fn slice<'a>(bytes: &'a str, ends: &[u32], i: u32) -> &'a str {
    let i = i as usize;
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &bytes[start..ends[i] as usize]
}

impl Interner {
    /// How many distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The position of `s`, if it was met.
    pub fn get(&self, s: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(s);
        self.table
            .find(hash, |&i| slice(&self.bytes, &self.ends, i) == s)
            .copied()
    }

    /// Whether `s` was met.
    pub fn contains(&self, s: &str) -> bool {
        self.get(s).is_some()
    }

    /// The position of `s`, kept now if it was not met before.
    pub fn intern(&mut self, s: &str) -> u32 {
        let hash = self.hasher.hash_one(s);
        let Interner {
            bytes,
            ends,
            table,
            hasher,
        } = self;
        if let Some(&i) = table.find(hash, |&i| slice(bytes, ends, i) == s) {
            return i;
        }
        let i = ends.len() as u32;
        bytes.push_str(s);
        ends.push(bytes.len() as u32);
        table.insert_unique(hash, i, |&j| hasher.hash_one(slice(bytes, ends, j)));
        i
    }

    /// The string at position `i`.
    ///
    /// # Panics
    /// When `i` names no string of this interner.
    pub fn resolve(&self, i: u32) -> &str {
        slice(&self.bytes, &self.ends, i)
    }
}

/// The people a run has listed (seen) and the emails they claimed, for the
/// deactivation of those not seen, a person listed twice, and duplicate
/// emails across pages.
#[derive(Debug, Default)]
pub struct People {
    seen: Interner,
    emails: Interner,
    /// For each email (by position), who holds it (a position in `seen`).
    owner: Vec<u32>,
}

impl People {
    /// Note that Okta listed `id`.
    pub fn see(&mut self, id: &str) {
        self.seen.intern(id);
    }

    /// Whether Okta listed `id` in this run.
    pub fn has_seen(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// How many people were seen.
    pub fn seen_count(&self) -> usize {
        self.seen.len()
    }

    /// Who holds `email` in this run, if anyone.
    pub fn email_owner(&self, email: &str) -> Option<&str> {
        let e = self.emails.get(email)?;
        Some(self.seen.resolve(self.owner[e as usize]))
    }

    /// `id` holds `email` from now on.
    pub fn claim_email(&mut self, email: &str, id: &str) {
        let owner = self.seen.intern(id);
        let e = self.emails.intern(email) as usize;
        if e == self.owner.len() {
            self.owner.push(owner);
        } else {
            self.owner[e] = owner;
        }
    }

    /// `id` holds `email` unless someone met earlier does (a run rebuilt
    /// from its stored pages, in page order).
    pub fn remember_email(&mut self, email: &str, id: &str) {
        if self.emails.get(email).is_none() {
            self.claim_email(email, id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_each_string_once_and_finds_it_back() {
        let mut i = Interner::default();
        let ids: Vec<String> = (0..10_000).map(|n| format!("00u{n:017}")).collect();
        for id in &ids {
            i.intern(id);
        }
        // Again: the same positions, nothing added.
        for (n, id) in ids.iter().enumerate() {
            assert_eq!(i.intern(id), n as u32);
            assert_eq!(i.resolve(n as u32), id);
        }
        assert_eq!(i.len(), ids.len());
        assert!(i.contains("00u00000000000000042"));
        assert!(!i.contains("00u0000000000000004"));
        assert_eq!(i.get(""), None);
        assert_eq!(i.intern(""), 10_000);
        assert_eq!(i.resolve(10_000), "");
    }

    #[test]
    fn emails_keep_their_first_holder_when_rebuilt_and_the_last_claim_live() {
        let mut p = People::default();
        p.see("u1");
        p.remember_email("a@x", "u1");
        p.remember_email("a@x", "u2");
        assert_eq!(p.email_owner("a@x"), Some("u1"));
        p.claim_email("a@x", "u3");
        assert_eq!(p.email_owner("a@x"), Some("u3"));
        assert_eq!(p.email_owner("b@x"), None);
        // Claiming notes the holder as seen.
        assert!(p.has_seen("u3"));
        assert!(!p.has_seen("u4"));
    }
}
