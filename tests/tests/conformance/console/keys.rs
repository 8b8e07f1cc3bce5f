//! A service app's keys in the console over HTTP: reached from the install
//! form before the config exists, made, pasted into the Okta app, used by
//! Verify and Install through the form, rotated without the last key ever
//! retired, and guarded like every other post; no private key on a page.

use crate::browserless;
use crate::common;

use std::sync::Arc;

use browserless::{ADMIN_PASSWORD, Profile};
use common::world;
use fake_okta::ServiceApp as OktaApp;
use host_harness::keys::KeyRing;

const APP: &str = "0oaconsolekeys00000";

/// The public JWKs shown in the page's `#jwks` block.
fn jwks(page: &str) -> Vec<serde_json::Value> {
    let at = page.find("<pre id=\"jwks\">").expect("a #jwks block") + 15;
    let raw = &page[at..at + page[at..].find("</pre>").unwrap()];
    let raw = raw
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let set: serde_json::Value = serde_json::from_str(&raw).unwrap();
    set["keys"].as_array().unwrap().clone()
}

fn ticket(page: &str) -> String {
    let at = page.find("name=\"ticket\" value=\"").expect("a ticket") + 21;
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn service_app_keys_are_made_used_and_rotated_from_the_console() {
    let w = world(10, 2).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let runtime = Arc::new(common::runtime_in(w.state.path(), common::test_limits()));
    let app = host_harness::web::router(runtime, base.clone(), ADMIN_PASSWORD);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let admin = Profile::new(&base);
    admin.sign_in_admin().await;
    let mut pages = String::new();

    // The install form points here, by the config name about to be installed.
    let form = admin.get("/marketplace/okta/install").await;
    assert!(form.body.contains("id=\"open-keys\""), "{}", form.body);
    let to = admin.get("/keys?config=acme").await;
    assert_eq!((to.status, to.body.as_str()), (303, "/configs/acme/keys"));
    assert_eq!(admin.get("/keys?config=").await.status, 400);
    let empty = admin.get("/configs/acme/keys").await;
    assert!(empty.body.contains("id=\"no-keys\""), "{}", empty.body);

    // Make a key: one, signing, public parts only.
    let made = admin.post("/configs/acme/keys/add", &[]).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page = admin.follow(&made.body).await.body;
    pages.push_str(&page);
    assert!(page.contains("made. Add its public key"), "{page}");
    let keys = jwks(&page);
    assert_eq!(keys.len(), 1);
    let mut fields: Vec<&str> = keys[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(fields, ["alg", "e", "kid", "kty", "n", "use"]);
    assert!(
        !page.contains("id=\"retire-"),
        "the only key cannot be retired"
    );

    // The admin pastes it into the Okta app; Verify and Install pass.
    w.okta.register_service_app(OktaApp {
        client_id: APP.into(),
        jwks: keys.clone(),
        scopes: ["okta.users.read", "okta.groups.read", "okta.schemas.read"]
            .map(str::to_owned)
            .to_vec(),
        dpop: false,
    });
    let url = w.okta.url();
    let fields = |action: &'static str, ticket: String| {
        vec![
            ("name", "acme".to_string()),
            ("okta_domain", url.clone()),
            ("api_token", String::new()),
            ("sync_target", "users".to_string()),
            ("auth", "service_app".to_string()),
            ("client_id", APP.to_string()),
            ("development_mode", "on".to_string()),
            ("action", action.to_string()),
            ("ticket", ticket),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let admin = &admin;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post("/marketplace/okta/install", &pairs).await
        }
    };
    let verified = post(fields("verify", String::new())).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert!(verified.body.contains("Verified"), "{}", verified.body);
    let installed = post(fields("install", ticket(&verified.body))).await;
    assert_eq!(
        (installed.status, installed.body.as_str()),
        (303, "/configs/acme?installed=1")
    );
    let settings = admin.get("/configs/acme").await.body;
    assert!(settings.contains("href=\"/configs/acme/keys\" id=\"open-keys\""));

    // Rotate: a second key waits, the first is retired, the second signs.
    let first = keys[0]["kid"].as_str().unwrap().to_string();
    admin.get("/configs/acme/keys").await;
    assert_eq!(admin.post("/configs/acme/keys/add", &[]).await.status, 303);
    let page = admin.get("/configs/acme/keys").await.body;
    pages.push_str(&page);
    assert_eq!(jwks(&page).len(), 2);
    assert!(page.contains("next (signs once the older key is retired)"));
    let retired = admin
        .post("/configs/acme/keys/retire", &[("kid", &first)])
        .await;
    assert_eq!(retired.status, 303, "{}", retired.body);
    let page = admin.follow(&retired.body).await.body;
    pages.push_str(&page);
    let left = jwks(&page);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0]["kid"].as_str().unwrap(), first);
    assert!(page.contains(">signing<"), "{page}");

    // The last key is never retired.
    let last = left[0]["kid"].as_str().unwrap().to_string();
    let refused = admin
        .post("/configs/acme/keys/retire", &[("kid", &last)])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Not retired"), "{}", refused.body);

    // Another site's post, or one without the form token, changes nothing.
    let forged = admin
        .post_raw(
            "/configs/acme/keys/add",
            &[],
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let tokenless = admin
        .post_raw(
            "/configs/acme/keys/retire",
            &[("kid", &last)],
            &[("origin", &base), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(tokenless.status, 403);
    let ring = KeyRing::load(w.infraon(), "acme").unwrap().shown().unwrap();
    assert_eq!(ring.len(), 1);

    // No private key material on any page.
    for secret in KeyRing::private_material(w.infraon(), "acme").unwrap() {
        assert!(!pages.contains(&secret));
    }
}
