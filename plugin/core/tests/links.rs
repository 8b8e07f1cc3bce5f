//! RFC 8288 Link header parsing.

use plugin_core::link::{Link, next_link, parse_links};

const SELF_L: &str = r#"<https://acme.okta.com/api/v1/users?limit=200>; rel="self""#;
const NEXT_L: &str = r#"<https://acme.okta.com/api/v1/users?after=00u9&limit=200>; rel="next""#;

#[test]
fn next_among_several_headers() {
    assert_eq!(
        next_link(&[SELF_L, NEXT_L]).as_deref(),
        Some("https://acme.okta.com/api/v1/users?after=00u9&limit=200")
    );
}

#[test]
fn next_in_one_comma_joined_header() {
    let joined = format!("{SELF_L}, {NEXT_L}");
    let links = parse_links(&joined);
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].rel, "self");
    assert!(next_link(&[&joined]).unwrap().contains("after=00u9"));
}

#[test]
fn unquoted_rel_other_params_and_multiple_rels() {
    let v = r#"<https://a.okta.com/x?a=1,2>;type="text/x,y";rel=next;title=t"#;
    assert_eq!(
        parse_links(v),
        vec![Link {
            url: "https://a.okta.com/x?a=1,2".into(),
            rel: "next".into()
        }]
    );
    let multi = r#"<https://a.okta.com/p2>; rel="prev NEXT""#;
    assert_eq!(
        next_link(&[multi]).as_deref(),
        Some("https://a.okta.com/p2")
    );
}

#[test]
fn last_page_has_no_next() {
    assert_eq!(next_link(&[SELF_L]), None);
    assert_eq!(next_link(&[]), None);
}

#[test]
fn garbage_is_skipped_not_fatal() {
    for g in [
        "",
        "garbage",
        "<unterminated",
        "<>; rel=next",
        r#"<x>; rel="next"#,
        ";;;,,,",
    ] {
        assert_eq!(next_link(&[g]), None, "{g:?}");
    }
    let mixed = format!("nonsense; rel=next, {NEXT_L}");
    assert!(next_link(&[&mixed]).unwrap().contains("after=00u9"));
    let bad_param = r#"<https://a/1>; = ; rel=next, <https://a/2>; rel=next"#;
    assert_eq!(next_link(&[bad_param]).as_deref(), Some("https://a/2"));
}
