//! The page frame every console screen shares: navigation, inline styles,
//! escaping. No scripts and no remote assets.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// HTML-escape text for element content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode text for a URL path segment or query value.
pub fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2433;background:#f4f6fa}\
header{background:#0b1f44;color:#fff;padding:10px 24px;display:flex;gap:22px;align-items:center}\
header a{color:#cfe0ff;text-decoration:none}header a:hover{color:#fff}header .brand{font-weight:700;color:#fff;margin-right:12px}\
main{max-width:1080px;margin:22px auto;padding:0 24px}h1{font-size:22px;margin:0 0 14px}h2{font-size:17px;margin:0 0 10px}\
section{background:#fff;border:1px solid #dde3ee;border-radius:8px;padding:16px 18px;margin:0 0 16px}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e7ebf2;vertical-align:top}\
th{font-weight:600;color:#4a5570;font-size:12px;text-transform:uppercase}\
label{display:block;font-weight:600;margin:10px 0 3px}input,select,textarea{font:inherit;padding:5px 7px;border:1px solid #b9c3d6;border-radius:4px}\
input[type=text],input[type=password],input[type=url]{width:100%;max-width:460px}\
button,.button{font:inherit;display:inline-block;padding:6px 14px;border-radius:4px;border:1px solid #1f5fd1;background:#1f5fd1;color:#fff;cursor:pointer;text-decoration:none;margin:8px 6px 0 0}\
button.secondary,.button.secondary{background:#fff;color:#1f5fd1}button:disabled{background:#c4ccd9;border-color:#c4ccd9;cursor:not-allowed}\
.help{color:#5b6680;font-size:12px;margin:2px 0}.field-error{color:#b3261e;font-size:13px;margin:3px 0}\
.notice{padding:9px 12px;border-radius:5px;margin:0 0 14px}.ok{background:#e5f5ea;border:1px solid #9fd3ae}.bad{background:#fdecea;border:1px solid #f1a9a3}\
.info{background:#e8f0fe;border:1px solid #b2c9f5}.cards{display:flex;gap:16px;flex-wrap:wrap}\
.card{background:#fff;border:1px solid #dde3ee;border-radius:8px;padding:16px;width:300px;color:inherit;text-decoration:none;display:block}\
.card:hover{border-color:#1f5fd1}.logo{display:inline-block;width:38px;height:38px;border-radius:50%;background:#00297a;color:#fff;font-weight:700;text-align:center;line-height:38px;margin-right:8px}\
.badge{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;background:#eef1f6}\
.s-active,.s-succeeded{background:#e5f5ea}.s-suspended,.s-pending,.s-held,.s-partial,.s-running{background:#fff4d6}.s-deactivated,.s-failed,.s-cancelled{background:#fdecea}\
.row{display:flex;gap:12px;flex-wrap:wrap;align-items:end}.row label{margin-top:0}code{background:#eef1f6;padding:0 4px;border-radius:3px}\
progress{width:320px;height:14px}.who{margin-left:auto;color:#cfe0ff}\
button.link{background:none;border:none;color:#cfe0ff;padding:0 0 0 10px;margin:0;text-decoration:underline}table.compact td,table.compact th{padding:4px 5px;font-size:12.5px}";

/// A full page: the console's frame around `body`, with `title` as heading.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_with_head(status, title, "", body)
}

/// [`page`] with extra `<head>` content (e.g. a refresh while a run goes on).
/// Every `method="post"` form of `body` gets the session's form token, and
/// the header names who is signed in (see `guard::PAGE`).
pub fn page_with_head(status: StatusCode, title: &str, head: &str, body: &str) -> Response {
    let t = escape(title);
    let ctx = super::guard::PAGE
        .try_with(Clone::clone)
        .unwrap_or_default();
    let token = format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        super::guard::CSRF_FIELD,
        escape(&ctx.csrf)
    );
    let body = with_token(body, &token);
    let who = match &ctx.who {
        Some(who) => format!(
            "<span class=\"who\"><a href=\"/me\" id=\"signed-in-as\">{}</a>\
             <form method=\"post\" action=\"/logout\" style=\"display:inline\">{token}\
             <button type=\"submit\" class=\"link\" id=\"header-logout\">Sign out</button></form></span>",
            escape(who)
        ),
        None => "<span class=\"who\"><a href=\"/signin\">Sign in</a></span>".to_string(),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\">{head}<title>{t} · Infraon</title>\
         <style>{STYLE}</style></head><body><header><span class=\"brand\">Infraon</span>\
         <a href=\"/marketplace\">Marketplace</a><a href=\"/marketplace/okta\">Okta</a>\
         <a href=\"/people/users\">Users</a><a href=\"/people/requesters\">Requesters</a>\
         <a href=\"/sso\">Sign in with Okta</a>{who}</header><main><h1>{t}</h1>{body}</main></body></html>"
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

/// `body` with `token` (a hidden input) right inside every POST form.
fn with_token(body: &str, token: &str) -> String {
    let mut out = String::with_capacity(body.len() + token.len() * 4);
    let mut rest = body;
    while let Some(at) = rest.find("<form") {
        let Some(end) = rest[at..].find('>') else {
            break;
        };
        let tag_end = at + end + 1;
        out.push_str(&rest[..tag_end]);
        if rest[at..tag_end]
            .to_ascii_lowercase()
            .contains("method=\"post\"")
        {
            out.push_str(token);
        }
        rest = &rest[tag_end..];
    }
    out.push_str(rest);
    out
}

/// A notice box: `kind` is `ok`, `bad` or `info`.
pub fn notice(kind: &str, id: &str, text: &str) -> String {
    format!(
        "<div class=\"notice {kind}\" id=\"{id}\">{}</div>",
        escape(text)
    )
}

/// A status badge whose colour follows `status`.
pub fn badge(status: &str) -> String {
    let class = status.split_whitespace().next().unwrap_or_default();
    format!(
        "<span class=\"badge s-{}\">{}</span>",
        escape(class),
        escape(status)
    )
}

/// A page for a failure of the host itself (load, trap, deadline).
pub fn host_failure(what: &str, error: &dyn std::fmt::Display) -> Response {
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        what,
        &notice("bad", "error", &format!("The harness failed: {error}")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_both_quotes() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }

    #[test]
    fn every_post_form_gets_the_token_and_get_forms_do_not() {
        let body = "<form method=\"get\" class=\"row\"><input name=q></form>\
                    <form method=\"post\" action=\"/a\"><button>A</button></form>\
                    <p>x</p><form method=\"post\" action=\"/b\" id=\"f\"></form>";
        let out = with_token(body, "<T>");
        assert_eq!(out.matches("<T>").count(), 2);
        assert!(out.contains("<form method=\"post\" action=\"/a\"><T><button>"));
        assert!(out.contains("id=\"f\"><T></form>"));
        assert!(out.starts_with("<form method=\"get\" class=\"row\"><input name=q>"));
    }

    #[test]
    fn badge_class_is_the_first_word_escaped() {
        assert_eq!(
            badge("held (waits)"),
            "<span class=\"badge s-held\">held (waits)</span>"
        );
    }
}
