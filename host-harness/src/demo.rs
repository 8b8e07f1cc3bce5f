//! `harness demo`: the walking skeleton end to end on one machine. A fake
//! Okta org on loopback, the plugin loaded in the sandbox, and the admin's
//! path through the Marketplace form: failing verifies with precise reasons,
//! an install, a duplicate refused, the config listed and re-verified.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use fake_okta::{FakeOkta, FakeOktaOptions, OrgSpec};

use crate::bindings::exports::infraon::okta::install::InstallError;
use crate::bindings::exports::infraon::okta::sync::{SyncMode, Trigger};
use crate::bindings::exports::infraon::okta::verify::VerifyError;
use crate::bindings::infraon::okta::types::{ConfigForm, InstallOptions, OktaFailure, SyncTarget};
use crate::policy::Limits;
use crate::{Infraon, Runtime, render};

const DEMO_CONFIG: &str = "okta-demo";

struct Step {
    title: String,
    ok: bool,
    detail: String,
}

/// Run the demo; exit status 0 when every step behaved as an admin expects.
pub async fn run(
    state_dir: &Path,
    users: usize,
    groups: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let okta = FakeOkta::start(FakeOktaOptions {
        org: OrgSpec {
            users,
            groups,
            ..Default::default()
        },
        ..Default::default()
    })
    .await?;
    let infraon = Arc::new(Infraon::open(state_dir)?);
    let started = Instant::now();
    let rt = Runtime::new(
        Path::new(crate::OKTA_PLUGIN_WASM),
        Some(&state_dir.join("cache")),
        infraon,
        Limits::default(),
    )?;
    let mut steps = vec![Step {
        title: "load the plugin".into(),
        ok: true,
        detail: format!(
            "contract infraon:okta@{}, {} in {} ms",
            rt.contract_version(),
            if rt.loaded_from_cache() {
                "from the compiled cache"
            } else {
                "compiled"
            },
            started.elapsed().as_millis()
        ),
    }];

    // A previous demo left a config pointing at a fake Okta that is gone.
    let _ = rt.uninstall(DEMO_CONFIG).await;

    let dev = InstallOptions {
        development_mode: true,
    };
    let form = |domain: &str, token: &str| ConfigForm {
        name: DEMO_CONFIG.into(),
        okta_domain: domain.into(),
        api_token: token.into(),
        sync_target: SyncTarget::Users,
        service_app: None,
    };

    let wrong_token = rt
        .verify_form(&form(&okta.url(), "00-not-the-right-token"), dev)
        .await?;
    steps.push(expect_failure(
        "verify with a revoked/wrong token",
        wrong_token,
        |e| matches!(e, VerifyError::Okta(OktaFailure::InvalidToken(_))),
    ));

    let wrong_domain = rt
        .verify_form(&form("http://okta-demo.invalid", okta.api_token()), dev)
        .await?;
    steps.push(expect_failure(
        "verify with a wrong domain",
        wrong_domain,
        |e| matches!(e, VerifyError::Okta(OktaFailure::DnsFailure(_))),
    ));

    let admin_url = rt
        .verify_form(
            &form("acme-admin.okta.com", okta.api_token()),
            InstallOptions {
                development_mode: false,
            },
        )
        .await?;
    steps.push(expect_failure(
        "verify an admin-console URL",
        admin_url,
        |e| matches!(e, VerifyError::InvalidConfig(_)),
    ));

    let blocked = rt
        .install(&form(&okta.url(), "00-not-the-right-token"), dev)
        .await?;
    steps.push(match blocked {
        Err(InstallError::VerificationFailed(f)) => Step {
            title: "install is blocked when verify fails".into(),
            ok: true,
            detail: render::okta_failure(&f),
        },
        other => unexpected("install is blocked when verify fails", other),
    });

    let installed = rt
        .install(&form(&okta.url(), okta.api_token()), dev)
        .await?;
    steps.push(match &installed {
        Ok(s) => Step {
            title: "install with the right token".into(),
            ok: true,
            detail: format!("installed {} -> {}", s.name, s.okta_origin),
        },
        Err(e) => Step {
            title: "install with the right token".into(),
            ok: false,
            detail: render::install_error(e),
        },
    });

    let duplicate = rt
        .install(&form(&okta.url(), okta.api_token()), dev)
        .await?;
    steps.push(match duplicate {
        Err(e @ InstallError::DuplicateName(_)) => Step {
            title: "a second config of the same name".into(),
            ok: true,
            detail: render::install_error(&e),
        },
        other => unexpected("a second config of the same name", other),
    });

    let verified = rt.verify_installed(DEMO_CONFIG).await?;
    steps.push(match &verified {
        Ok(r) => Step {
            title: "verify the installed config".into(),
            ok: true,
            detail: format!(
                "{} answered {} requests in {} ms, rate limit {}/{} left",
                r.okta_origin,
                r.requests,
                r.elapsed_ms,
                r.rate_limit.remaining.map_or("?".into(), |v| v.to_string()),
                r.rate_limit.limit.map_or("?".into(), |v| v.to_string())
            ),
        },
        Err(e) => Step {
            title: "verify the installed config".into(),
            ok: false,
            detail: render::verify_error(e),
        },
    });

    let configs = rt.configs().await?;
    steps.push(match &configs {
        Ok(list) => Step {
            title: "list configs".into(),
            ok: list.iter().any(|c| c.name == DEMO_CONFIG),
            detail: list
                .iter()
                .map(|c| format!("{} ({})", c.name, c.okta_origin))
                .collect::<Vec<_>>()
                .join(", "),
        },
        Err(e) => Step {
            title: "list configs".into(),
            ok: false,
            detail: render::install_error(e),
        },
    });

    let full = rt
        .sync(DEMO_CONFIG, SyncMode::Full, Trigger::Manual, |_, _| {})
        .await?;
    let people = rt
        .infraon()
        .people(fake_infraon::SyncTarget::Users)
        .map(|p| p.len())
        .unwrap_or(0);
    steps.push(match &full {
        Ok(r) => Step {
            title: "Sync Now (full)".into(),
            ok: r.outcome.is_some() && people >= users,
            detail: format!(
                "{}\n      {people} people in the Infraon directory",
                render::run_record(r)
            ),
        },
        Err(e) => Step {
            title: "Sync Now (full)".into(),
            ok: false,
            detail: render::sync_error(e),
        },
    });

    let someone = okta
        .org()
        .first_with_status(fake_okta::UserStatus::Active)
        .map(|u| u.id.clone());
    if let Some(id) = someone {
        let mut change = serde_json::Map::new();
        change.insert("title".into(), "Incident Commander".into());
        okta.update_user_profile(&id, change)?;
    }
    let incremental = rt
        .sync(
            DEMO_CONFIG,
            SyncMode::Incremental,
            Trigger::Manual,
            |_, _| {},
        )
        .await?;
    steps.push(match &incremental {
        Ok(r) => Step {
            title: "incremental sync after one change in Okta".into(),
            ok: r.counts.updated == 1,
            detail: render::run_record(r),
        },
        Err(e) => Step {
            title: "incremental sync".into(),
            ok: false,
            detail: render::sync_error(e),
        },
    });

    okta.shutdown().await;
    let all_ok = steps.iter().all(|s| s.ok);
    if json {
        let steps: Vec<_> = steps
            .iter()
            .map(|s| serde_json::json!({ "step": s.title, "ok": s.ok, "detail": s.detail }))
            .collect();
        println!("{}", serde_json::json!({ "ok": all_ok, "steps": steps }));
    } else {
        for s in &steps {
            println!(
                "[{}] {}\n      {}",
                if s.ok { " ok " } else { "FAIL" },
                s.title,
                s.detail
            );
        }
        println!(
            "{}",
            if all_ok {
                "demo complete. The same, clicked through in a browser:\n  \
                 cargo run -p host-harness --bin harness -- serve --fake-okta   (then open http://127.0.0.1:8080/)"
            } else {
                "demo FAILED"
            }
        );
    }
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn expect_failure<T>(
    title: &str,
    outcome: Result<T, VerifyError>,
    expected: impl Fn(&VerifyError) -> bool,
) -> Step {
    match outcome {
        Err(e) => Step {
            title: title.into(),
            ok: expected(&e),
            detail: render::verify_error(&e),
        },
        Ok(_) => Step {
            title: title.into(),
            ok: false,
            detail: "verify unexpectedly succeeded".into(),
        },
    }
}

fn unexpected<T>(title: &str, outcome: Result<T, InstallError>) -> Step {
    let detail = match outcome {
        Ok(_) => "unexpectedly succeeded".to_string(),
        Err(e) => format!("unexpected refusal: {}", render::install_error(&e)),
    };
    Step {
        title: title.into(),
        ok: false,
        detail,
    }
}
