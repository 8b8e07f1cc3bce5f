//! Every case of the reliability report (`harness reliability`) as a test,
//! under the production limits (60 s calls, 20 s requests): each must end
//! typed, with nobody lost, nobody wrongly deactivated and no secret found
//! anywhere.

use std::path::PathBuf;
use std::sync::OnceLock;

use host_harness::reliability::{Case, run_case};

/// One compiled-component cache for the binary; the first test to get here
/// compiles, the others wait rather than compile in parallel.
fn cache() -> PathBuf {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let dir =
                std::env::temp_dir().join(format!("okta-reliability-cache-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            host_harness::reliability::warm(&dir).unwrap();
            dir
        })
        .clone()
}

async fn check(case: Case) {
    let row = run_case(case, &cache()).await.unwrap();
    assert!(row.typed, "{row:?}");
    assert_eq!(row.lost, 0, "{row:?}");
    assert_eq!(row.wrongly_deactivated, 0, "{row:?}");
    assert_eq!(row.leaked, 0, "{row:?}");
    assert!(row.recover_ms.is_some(), "never recovered: {row:?}");
    // Waits belong to the host: a minute-long rate limit ends the faulty
    // run itself in success, under the production per-call deadline.
    if matches!(case, Case::RateLimitMinute | Case::RateLimitNoReset) {
        assert!(row.outcome.starts_with("succeeded"), "{row:?}");
    }
}

macro_rules! cases {
    ($($test:ident: $case:ident,)*) => {$(
        #[tokio::test(flavor = "multi_thread")]
        async fn $test() {
            check(Case::$case).await;
        }
    )*};
}

cases! {
    server_errors_are_retried: ServerError,
    seeded_flaky_server_errors_are_retried: FlakyServer,
    a_gateway_503_fails_the_run_typed: ServiceUnavailable,
    latency_is_survived: Latency,
    a_connection_reset_is_retried: ConnectionReset,
    a_timeout_is_retried: Timeout,
    truncated_json_fails_the_run_typed: TruncatedJson,
    a_wrong_content_type_fails_the_run_typed: WrongContentType,
    an_html_page_fails_the_run_typed: HtmlErrorPage,
    a_link_loop_ends_the_run: LinkLoop,
    a_page_larger_than_asked_is_taken: PageLargerThanAsked,
    a_1_mb_profile_field_is_unsynced_not_fatal: HugeProfileField,
    deeply_nested_json_fails_the_run_typed: DeeplyNestedJson,
    invalid_utf8_fails_the_run_typed: InvalidUtf8,
    the_same_user_on_two_pages_is_one_person: SameUserOnTwoPages,
    users_changed_between_pages_are_caught_up: UsersChangedBetweenPages,
    a_storm_of_429s_is_waited_out: RateLimitStorm,
    a_429_reset_a_minute_ahead_is_waited_out: RateLimitMinute,
    a_429_without_reset_headers_is_waited_out: RateLimitNoReset,
    probe_loop: ProbeLoop,
    probe_alloc: ProbeAlloc,
    probe_panic: ProbePanic,
    probe_stack: ProbeStack,
    probe_egress: ProbeEgress,
    probe_order: ProbeOrder,
}

#[test]
fn every_case_has_a_test() {
    // The macro above lists 25; a new case must be added there too.
    assert_eq!(Case::ALL.len(), 25);
}
