//! The server sends the org model's answers: the same bodies and `Link`
//! headers over HTTP as `model::answer` gives in memory.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn http_answers_are_the_models() {
    let okta = start(120, 6, 2);
    let group = okta.org().groups[1].id.clone();
    let user = okta.org().users[3].login.clone();
    for path in [
        "/api/v1/users?limit=25".to_owned(),
        "/api/v1/users?filter=status+eq+%22DEPROVISIONED%22".to_owned(),
        "/api/v1/users?search=profile.department+eq+%22Sales%22&limit=5".to_owned(),
        "/api/v1/users?filter=nonsense".to_owned(),
        format!("/api/v1/users/{user}"),
        format!("/api/v1/groups/{group}/users?limit=7"),
        "/api/v1/groups?filter=type+eq+%22APP_GROUP%22".to_owned(),
        "/api/v1/groups/00gNOSUCHGROUP".to_owned(),
        "/api/v1/meta/schemas/user/default".to_owned(),
    ] {
        let want = okta.answer_in_memory(&path);
        let resp = get(&okta, &path);
        let status = resp.status().as_u16();
        let got_links: Vec<String> = resp
            .headers()
            .get_all("link")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let mut body: Value = resp.json().unwrap();
        let want_links: Vec<String> = want
            .headers
            .iter()
            .filter(|(k, _)| k == "Link")
            .map(|(_, v)| v.clone())
            .collect();
        let mut want_body = want.json_body();
        // Each error answer gets its own random `errorId`.
        for b in [&mut body, &mut want_body] {
            if let Some(e) = b.get_mut("errorId") {
                *e = Value::Null;
            }
        }
        assert_eq!(status, want.status, "{path}");
        assert_eq!(got_links, want_links, "{path}");
        assert_eq!(body, want_body, "{path}");
    }
}
