//! Okta domain parsing and form validation.

use plugin_core::config::{ConfigForm, InstallOptions, SyncTarget, validate_form};
use plugin_core::parse_okta_domain;

#[test]
fn accepted_domains_normalise_to_one_origin() {
    let cases: &[(&str, bool, &str)] = &[
        ("your-org.okta.com", false, "https://your-org.okta.com"),
        (
            "https://your-org.okta.com",
            false,
            "https://your-org.okta.com",
        ),
        (
            "https://your-org.okta.com/",
            false,
            "https://your-org.okta.com",
        ),
        (
            "  HTTPS://Your-Org.OKTA.com/  ",
            false,
            "https://your-org.okta.com",
        ),
        ("your-org.okta.com.", false, "https://your-org.okta.com"),
        (
            "acme.oktapreview.com",
            false,
            "https://acme.oktapreview.com",
        ),
        ("acme.okta-emea.com", false, "https://acme.okta-emea.com"),
        ("acme.okta-gov.com", false, "https://acme.okta-gov.com"),
        ("acme.okta.mil", false, "https://acme.okta.mil"),
        ("login.acme.com", false, "https://login.acme.com"),
        (
            "https://sso.xn--bcher-kva.example",
            false,
            "https://sso.xn--bcher-kva.example",
        ),
        ("http://127.0.0.1:8080", true, "http://127.0.0.1:8080"),
        ("http://localhost:9000/", true, "http://localhost:9000"),
        ("https://localhost:8443", true, "https://localhost:8443"),
        ("https://acme.okta.com:443", true, "https://acme.okta.com"),
        ("http://[::1]:8080", true, "http://[::1]:8080"),
        ("https://acme.okta.com", true, "https://acme.okta.com"),
    ];
    for (input, dev, want) in cases {
        let got = parse_okta_domain(input, *dev)
            .unwrap_or_else(|e| panic!("{input:?} (dev={dev}) rejected: {e}"));
        assert_eq!(got.to_string(), *want, "input {input:?}");
    }
}

#[test]
fn rejected_domains_say_what_to_fix() {
    let cases: &[(&str, bool, &str)] = &[
        ("", false, "Enter your Okta domain"),
        ("   ", false, "Enter your Okta domain"),
        ("your-org-admin.okta.com", false, "use `your-org.okta.com`"),
        (
            "https://acme-admin.oktapreview.com",
            false,
            "use `acme.oktapreview.com`",
        ),
        ("http://acme.okta.com", false, "HTTPS"),
        ("ftp://acme.okta.com", false, "scheme"),
        (
            "https://acme.okta.com/admin/dashboard",
            false,
            "path `/admin/dashboard`",
        ),
        ("https://acme.okta.com/api/v1", false, "path `/api/v1`"),
        ("https://acme.okta.com?x=1", false, "query `?x=1`"),
        ("https://acme.okta.com/#frag", false, "`#frag`"),
        (
            "https://admin:pw@acme.okta.com",
            false,
            "user name or password",
        ),
        ("acme.okta.com:8443", false, "port `:8443`"),
        ("https://acme.okta.com:443", false, "port"),
        ("10.0.0.5", false, "IP address"),
        ("http://127.0.0.1:8080", false, "HTTPS"),
        ("https://127.0.0.1", false, "IP address"),
        ("https://[::1]", false, "IP address"),
        ("::1", false, "IP address"),
        ("localhost", false, "`localhost`"),
        ("https://localhost", false, "`localhost`"),
        ("acme", false, "not a full domain"),
        ("okta.com", false, "Okta's own domain"),
        ("acme..okta.com", false, "empty part"),
        ("acme_corp.okta.com", false, "contains `_`"),
        ("-acme.okta.com", false, "hyphen"),
        ("bücher.example", false, "punycode"),
        ("acme.okta .com", false, "spaces"),
        ("1.2.3", false, "neither a valid domain"),
        ("https://", false, "no host name"),
        ("http://localhost:0", true, "not a valid port"),
        ("http://localhost:99999", true, "not a valid port"),
    ];
    for (input, dev, needle) in cases {
        let err = parse_okta_domain(input, *dev)
            .map(|o| o.to_string())
            .expect_err(&format!("{input:?} (dev={dev}) accepted"));
        assert!(err.contains(needle), "{input:?}: {err:?} lacks {needle:?}");
    }
    let long_label = format!("{}.okta.com", "a".repeat(64));
    assert!(
        parse_okta_domain(&long_label, false)
            .unwrap_err()
            .contains("63")
    );
    let long_host = format!("{}.com", "abcdefghi.".repeat(26));
    assert!(
        parse_okta_domain(&long_host, false)
            .unwrap_err()
            .contains("253")
    );
}

fn form(name: &str, domain: &str, token: &str) -> ConfigForm {
    ConfigForm {
        name: name.into(),
        okta_domain: domain.into(),
        api_token: token.into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    }
}

const PROD: InstallOptions = InstallOptions {
    development_mode: false,
};

#[test]
fn valid_form_gives_origin() {
    let o = validate_form(&form(" Acme ", "acme.okta.com", " 00abc "), &PROD, &[]).unwrap();
    assert_eq!(o.to_string(), "https://acme.okta.com");
}

#[test]
fn every_field_error_is_reported_at_once() {
    let errs = validate_form(&form(" ", "http://x.okta.com", "a b"), &PROD, &[]).unwrap_err();
    let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["name", "okta-domain", "api-token"]);
}

#[test]
fn name_rules() {
    let existing = vec!["Acme Prod".to_string()];
    let cases: &[(&str, &str)] = &[
        ("", "Enter a config name"),
        ("acme prod", "already installed"),
        (" ACME PROD ", "already installed"),
        ("tab\there", "control characters"),
        ("a/b", "`/`"),
    ];
    for (name, needle) in cases {
        let errs =
            validate_form(&form(name, "acme.okta.com", "00x"), &PROD, &existing).unwrap_err();
        assert_eq!(errs.len(), 1, "{name:?}: {errs:?}");
        assert_eq!(errs[0].field, "name");
        assert!(errs[0].message.contains(needle), "{name:?}: {errs:?}");
    }
    let long = "n".repeat(65);
    let errs = validate_form(&form(&long, "acme.okta.com", "00x"), &PROD, &[]).unwrap_err();
    assert!(errs[0].message.contains("at most 64"));
    assert!(validate_form(&form(&"é".repeat(64), "acme.okta.com", "00x"), &PROD, &[]).is_ok());
}

#[test]
fn token_rules_never_quote_the_token() {
    let cases: &[(&str, &str)] = &[
        ("", "Enter the Okta API token"),
        ("   ", "Enter the Okta API token"),
        ("SSWS 00secretsecret", "without the `SSWS` prefix"),
        ("00secret secret", "spaces or line breaks"),
        ("00secret\nsecret", "spaces or line breaks"),
        ("00secrét", "never has"),
    ];
    for (token, needle) in cases {
        let errs = validate_form(&form("a", "acme.okta.com", token), &PROD, &[]).unwrap_err();
        assert_eq!(errs[0].field, "api-token");
        assert!(errs[0].message.contains(needle), "{token:?}: {errs:?}");
        assert!(!errs[0].message.contains("00secret"));
    }
    // Okta's usual shape is not required.
    assert!(validate_form(&form("a", "acme.okta.com", "x1"), &PROD, &[]).is_ok());
}

#[test]
fn sync_target_parses_for_the_cli() {
    assert_eq!("users".parse::<SyncTarget>(), Ok(SyncTarget::Users));
    assert_eq!(
        " Requesters ".parse::<SyncTarget>(),
        Ok(SyncTarget::Requesters)
    );
    assert!(
        "admins"
            .parse::<SyncTarget>()
            .unwrap_err()
            .contains("`users` or `requesters`")
    );
}
