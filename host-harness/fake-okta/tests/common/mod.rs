//! Helpers shared by the integration tests: a blocking client that talks to
//! the fake the way the plugin will (SSWS token, following `Link` headers).

#![allow(dead_code)]

pub mod oidc;

use fake_okta::{BlockingFakeOkta, FakeOktaOptions, OrgSpec};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

pub fn start(users: usize, groups: usize, memberships: usize) -> BlockingFakeOkta {
    start_with(FakeOktaOptions {
        org: OrgSpec {
            users,
            groups,
            memberships_per_user: memberships,
            ..OrgSpec::default()
        },
        ..FakeOktaOptions::default()
    })
}

pub fn start_with(opts: FakeOktaOptions) -> BlockingFakeOkta {
    BlockingFakeOkta::start(opts).expect("fake Okta starts")
}

pub fn client() -> Client {
    Client::builder().build().expect("client")
}

/// GET `path_and_query` (relative or absolute) with the right token.
pub fn get(okta: &BlockingFakeOkta, url: &str) -> Response {
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        format!("{}{url}", okta.url())
    };
    client()
        .get(url)
        .header("Authorization", format!("SSWS {}", okta.api_token()))
        .send()
        .expect("request")
}

/// GET with query parameters (URL-encoded by reqwest).
pub fn get_q(okta: &BlockingFakeOkta, path: &str, query: &[(&str, &str)]) -> Response {
    client()
        .get(format!("{}{path}", okta.url()))
        .query(query)
        .header("Authorization", format!("SSWS {}", okta.api_token()))
        .send()
        .expect("request")
}

/// `(url, rel)` of every `Link` header.
pub fn links(resp: &Response) -> Vec<(String, String)> {
    resp.headers()
        .get_all("link")
        .iter()
        .map(|v| {
            let s = v.to_str().expect("ascii link");
            let (url, rest) = s.split_once(">;").expect("link shape");
            let rel = rest
                .trim()
                .strip_prefix("rel=\"")
                .and_then(|r| r.strip_suffix('"'));
            (
                url.trim_start_matches('<').to_owned(),
                rel.expect("rel").to_owned(),
            )
        })
        .collect()
}

pub fn next_link(resp: &Response) -> Option<String> {
    links(resp)
        .into_iter()
        .find(|(_, rel)| rel == "next")
        .map(|(u, _)| u)
}

pub fn header(resp: &Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .expect("ascii header")
        .to_owned()
}

/// Follows `rel="next"` from `first` to the end; returns every item's id and
/// the number of pages.
pub fn collect_ids(okta: &BlockingFakeOkta, first: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut url = Some(first.to_owned());
    let mut pages = 0;
    while let Some(u) = url {
        let resp = get(okta, &u);
        assert_eq!(resp.status(), 200, "page {u}");
        url = next_link(&resp);
        let body: Value = resp.json().expect("json page");
        for item in body.as_array().expect("array") {
            ids.push(item["id"].as_str().expect("id").to_owned());
        }
        pages += 1;
        assert!(pages < 10_000, "paging does not terminate");
    }
    (ids, pages)
}

/// Asserts an Okta error body with this code and returns it.
pub fn okta_error(resp: Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status(), status);
    assert!(header(&resp, "content-type").starts_with("application/json"));
    let body: Value = resp.json().expect("error json");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["errorLink"], code);
    assert!(
        body["errorId"]
            .as_str()
            .is_some_and(|s| s.starts_with("oae"))
    );
    assert_eq!(body["errorCauses"], serde_json::json!([]));
    body
}
