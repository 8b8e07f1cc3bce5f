//! A browser without a browser, for the console tests over HTTP: a cookie
//! jar for the console's origin, redirects followed by hand, `Origin` and
//! `Sec-Fetch-Site` sent as a browser sends them on a form post, and the
//! form token read from the last page and posted back.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The local admin password the console tests sign in with.
pub const ADMIN_PASSWORD: &str = "console-test-password";

/// One browser profile.
pub struct Profile {
    pub base: String,
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
    /// The form token of the last console page read.
    token: Mutex<String>,
}

/// What came back: status, body (a redirect's `Location`), headers.
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

/// The `csrf` value of the first form of `page`.
pub fn token_in(page: &str) -> Option<String> {
    let at = page.find("name=\"csrf\" value=\"")? + 19;
    page[at..].split('"').next().map(str::to_string)
}

impl Profile {
    pub fn new(base: &str) -> Profile {
        Profile {
            base: base.to_string(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar: Mutex::default(),
            token: Mutex::default(),
        }
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    /// The cookie `name` this profile holds for the console.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    /// Forget every cookie (a new browser profile).
    pub fn clear(&self) {
        self.jar.lock().unwrap().clear();
    }

    /// The form token of the last page read.
    pub fn token(&self) -> String {
        self.token.lock().unwrap().clone()
    }

    async fn send(&self, req: reqwest::RequestBuilder, url: &str) -> Answer {
        let ours = url.starts_with(&self.base);
        let req = if ours {
            let cookies: Vec<String> = self
                .jar
                .lock()
                .unwrap()
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            if cookies.is_empty() {
                req
            } else {
                req.header(reqwest::header::COOKIE, cookies.join("; "))
            }
        } else {
            req
        };
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        if ours {
            let mut jar = self.jar.lock().unwrap();
            for c in headers.get_all(reqwest::header::SET_COOKIE) {
                let c = c.to_str().unwrap();
                let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
                let (k, v) = pair.split_once('=').unwrap();
                if attrs.contains("Max-Age=0") {
                    jar.remove(k);
                } else {
                    jar.insert(k.to_string(), v.to_string());
                }
            }
        }
        let body = if (300..400).contains(&status) {
            headers[reqwest::header::LOCATION]
                .to_str()
                .unwrap()
                .to_string()
        } else {
            r.text().await.unwrap()
        };
        if ours && let Some(t) = token_in(&body) {
            *self.token.lock().unwrap() = t;
        }
        Answer {
            status,
            body,
            headers,
        }
    }

    /// One GET, redirects not followed.
    pub async fn get(&self, path: &str) -> Answer {
        let url = self.url(path);
        self.send(self.http.get(&url), &url).await
    }

    /// GET, following redirects (to the fake Okta and back too).
    pub async fn follow(&self, path: &str) -> Answer {
        let mut url = self.url(path);
        for _ in 0..10 {
            let a = self.get(&url).await;
            if !(300..400).contains(&a.status) {
                return a;
            }
            url = if a.body.starts_with('/') {
                self.url(&a.body)
            } else {
                a.body
            };
        }
        panic!("too many redirects from {path}");
    }

    /// A form post as the console's own page makes it: same origin, with
    /// the token of the last page read.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        let token = self.token();
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &token));
        self.post_raw(
            path,
            &fields,
            &[("origin", &self.base), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// A form post with exactly `form` and `headers`, nothing added.
    pub async fn post_raw(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Answer {
        let url = self.url(path);
        let mut req = self.http.post(&url).form(form);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req, &url).await
    }

    /// Sign in as the local admin; panics unless it works.
    pub async fn sign_in_admin(&self) {
        let page = self.get("/signin").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let a = self
            .post(
                "/signin",
                &[("password", ADMIN_PASSWORD), ("next", "/marketplace")],
            )
            .await;
        assert_eq!(a.status, 303, "{}", a.body);
        assert!(self.cookie("infraon_session").is_some());
        // A page of the signed-in session, for its token.
        let home = self.get("/marketplace").await;
        assert_eq!(home.status, 200, "{}", home.body);
    }
}
