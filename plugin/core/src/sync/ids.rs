//! Compact forms of what a run remembers about every person it meets, so
//! that an org of a million people fits in the plugin's memory (issue 19):
//! each id or email is kept once, in one string arena, and named by its
//! position (a `u32`); a table of positions finds it again. A million Okta
//! ids cost some 30 MB here, against about three times that as a
//! `HashSet<String>`.

use std::cell::RefCell;
use std::hash::{BuildHasher, RandomState};
use std::rc::Rc;

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

/// Okta user ids a run keeps, shared by its memberships and its people:
/// each id once, however many of them name it. A million people's ids
/// held twice (once as group members, once as people listed) cost the
/// plugin some 35 MB more, and its arenas' doubling as much again.
pub type SharedIds = Rc<RefCell<Interner>>;

/// The people a run has listed (seen) and the emails they claimed, for the
/// deactivation of those not seen, a person listed twice, and duplicate
/// emails across pages.
#[derive(Debug, Default)]
pub struct People {
    /// Every id met, shared with the run's memberships ([`SharedIds`]):
    /// an id there is not seen until its bit in `seen` is set.
    ids: SharedIds,
    /// Bit `i` set: the id at position `i` of `ids` was listed.
    seen: Vec<u64>,
    seen_count: usize,
    emails: Interner,
    /// For each email (by position), who holds it (a position in `ids`).
    owner: Vec<u32>,
}

impl People {
    /// People whose ids are kept in `ids` (a run's memberships').
    pub fn sharing(ids: SharedIds) -> People {
        People {
            ids,
            ..People::default()
        }
    }

    fn mark(&mut self, i: u32) {
        let (word, bit) = (i as usize / 64, 1u64 << (i % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & bit == 0 {
            self.seen[word] |= bit;
            self.seen_count += 1;
        }
    }

    fn is_marked(&self, i: u32) -> bool {
        self.seen
            .get(i as usize / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    /// Note that Okta listed `id`.
    pub fn see(&mut self, id: &str) {
        let i = self.ids.borrow_mut().intern(id);
        self.mark(i);
    }

    /// Whether Okta listed `id` in this run.
    pub fn has_seen(&self, id: &str) -> bool {
        let i = self.ids.borrow().get(id);
        i.is_some_and(|i| self.is_marked(i))
    }

    /// How many people were seen.
    pub fn seen_count(&self) -> usize {
        self.seen_count
    }

    /// Who holds `email` in this run, if anyone.
    pub fn email_owner(&self, email: &str) -> Option<String> {
        let e = self.emails.get(email)?;
        Some(self.ids.borrow().resolve(self.owner[e as usize]).to_owned())
    }

    /// `id` holds `email` from now on.
    pub fn claim_email(&mut self, email: &str, id: &str) {
        let owner = self.ids.borrow_mut().intern(id);
        self.mark(owner);
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
        assert_eq!(p.email_owner("a@x").as_deref(), Some("u1"));
        p.claim_email("a@x", "u3");
        assert_eq!(p.email_owner("a@x").as_deref(), Some("u3"));
        assert_eq!(p.email_owner("b@x"), None);
        // Claiming notes the holder as seen.
        assert!(p.has_seen("u3"));
        assert!(!p.has_seen("u4"));
        assert_eq!(p.seen_count(), 2);
    }

    /// Ids shared with the memberships are kept once, and an id known
    /// there (a group member) is not seen until it is listed.
    #[test]
    fn shared_ids_are_kept_once_and_known_is_not_seen() {
        let ids = SharedIds::default();
        for n in 0..200 {
            ids.borrow_mut().intern(&format!("member{n}"));
        }
        let mut p = People::sharing(Rc::clone(&ids));
        assert!(!p.has_seen("member7"));
        p.see("member7");
        p.see("member7");
        p.see("loner");
        assert!(p.has_seen("member7") && p.has_seen("loner"));
        assert!(!p.has_seen("member8") && !p.has_seen("nobody"));
        assert_eq!(p.seen_count(), 2);
        // One more id in all: the loner; the member was there already.
        assert_eq!(ids.borrow().len(), 201);
        p.claim_email("m@x", "member199");
        assert!(p.has_seen("member199"));
        assert_eq!(p.email_owner("m@x").as_deref(), Some("member199"));
        assert_eq!(ids.borrow().len(), 201);
    }
}
