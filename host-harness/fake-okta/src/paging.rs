//! `limit`/`after` parameters and RFC 8288 `Link` headers, as Okta pages.

use crate::errors::OktaError;
use crate::org::{Id, id_str, parse_id};

/// Okta clamps an over-large `limit` to the endpoint's maximum rather than
/// rejecting it; a non-numeric or non-positive one is a validation error.
pub(crate) fn limit(raw: Option<&str>, default: usize, max: usize) -> Result<usize, OktaError> {
    match raw {
        None => Ok(default),
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Ok((n as usize).min(max)),
            _ => Err(OktaError::validation("limit")),
        },
    }
}

/// Cursors are opaque to clients (Okta's docs insist on it); hex of the
/// reversed id keeps them from looking like something to construct by hand.
pub(crate) fn encode_cursor(id: &Id) -> String {
    let mut rev = id_str(id).as_bytes().to_vec();
    rev.reverse();
    hex::encode(rev)
}

pub(crate) fn decode_cursor(s: &str) -> Result<Id, OktaError> {
    let mut bytes = hex::decode(s).map_err(|_| OktaError::validation("after"))?;
    bytes.reverse();
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(parse_id)
        .ok_or_else(|| OktaError::validation("after"))
}

/// One `Link` header per relation, as Okta sends them. `next` keeps the
/// client's other query parameters (filter, limit, ...) and replaces `after`.
pub(crate) fn links(
    base: &str,
    path: &str,
    raw_query: Option<&str>,
    next: Option<&Id>,
) -> Vec<String> {
    let query = raw_query.unwrap_or("");
    let self_url = if query.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{query}")
    };
    let mut out = vec![format!("<{self_url}>; rel=\"self\"")];
    if let Some(id) = next {
        let mut params: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("after=") && *p != "after")
            .collect();
        let after = format!("after={}", encode_cursor(id));
        params.push(&after);
        out.push(format!("<{base}{path}?{}>; rel=\"next\"", params.join("&")));
    }
    out
}

/// A page of ids after `after`, plus the cursor for the next page if more
/// matches exist. Scans lazily so a sparse filter over 100,000 users stops
/// as soon as the page and one look-ahead match are found.
pub(crate) fn page<'a, T: 'a>(
    iter: impl Iterator<Item = (&'a Id, T)>,
    limit: usize,
) -> (Vec<(&'a Id, T)>, Option<Id>) {
    let mut iter = iter.peekable();
    let items: Vec<_> = iter.by_ref().take(limit).collect();
    let next = match (iter.peek(), items.last()) {
        (Some(_), Some((last, _))) => Some(**last),
        _ => None,
    };
    (items, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_junk() {
        let id: Id = *b"00uABCDEFGHIJKLMN0g4";
        let c = encode_cursor(&id);
        assert!(!c.contains("00u"));
        assert_eq!(decode_cursor(&c).ok(), Some(id));
        assert!(decode_cursor("zz").is_err());
        assert!(decode_cursor("00").is_err());
    }

    #[test]
    fn limit_clamps() {
        assert_eq!(limit(None, 200, 200).ok(), Some(200));
        assert_eq!(limit(Some("5000"), 200, 200).ok(), Some(200));
        assert_eq!(limit(Some("7"), 200, 200).ok(), Some(7));
        assert!(limit(Some("0"), 200, 200).is_err());
        assert!(limit(Some("x"), 200, 200).is_err());
    }
}
