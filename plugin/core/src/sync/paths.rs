//! The first page of each Okta listing the sync reads; later pages come
//! only from `Link rel="next"`, never from cursors built here.

/// Users per page (Okta's maximum).
pub const USERS_LIMIT: u32 = 200;
/// Groups per page asked for: Okta's maximum for `listGroups`, so that an
/// org's whole group listing is a page or two.
pub const GROUPS_LIMIT: u32 = 10_000;
/// Group members per page asked for: Okta's maximum for `listGroupUsers`.
pub const MEMBERS_LIMIT: u32 = 1_000;

/// Every group, in full and incremental runs alike: an incremental run
/// picks the changed ones by their `lastUpdated` and
/// `lastMembershipUpdated`, and learns which groups are gone.
pub fn groups() -> String {
    format!("/api/v1/groups?limit={GROUPS_LIMIT}")
}

/// The members of a group.
pub fn members(group_id: &str) -> String {
    format!(
        "/api/v1/groups/{}/users?limit={MEMBERS_LIMIT}",
        encode(group_id)
    )
}

/// Users Okta lists by default (every status but `DEPROVISIONED`), or with
/// `since`, every user updated after it (a filter includes deprovisioned).
pub fn users(since: Option<&str>) -> String {
    match since {
        None => format!("/api/v1/users?limit={USERS_LIMIT}"),
        Some(t) => format!(
            "/api/v1/users?filter={}&limit={USERS_LIMIT}",
            encode(&format!(r#"lastUpdated gt "{t}""#))
        ),
    }
}

/// `DEPROVISIONED` users, which the default listing hides. A `filter`, not
/// a `search`: Okta documents `search` as eventually consistent, and a user
/// reactivated just before the run must not be listed here.
pub fn deprovisioned() -> String {
    format!(
        "/api/v1/users?filter={}&limit={USERS_LIMIT}",
        encode(r#"status eq "DEPROVISIONED""#)
    )
}

/// Percent-encode everything but RFC 3986 unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_encoded() {
        assert_eq!(
            deprovisioned(),
            "/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22&limit=200"
        );
        assert_eq!(
            users(Some("2026-01-01T00:00:00.000Z")),
            "/api/v1/users?filter=lastUpdated%20gt%20%222026-01-01T00%3A00%3A00.000Z%22&limit=200"
        );
    }
}
