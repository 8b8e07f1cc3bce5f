//! The fake Okta on a runtime of its own, whose threads are named so that
//! their CPU time can be told apart from the client's (see
//! [`super::measure::fake_cpu_ms`]).

use fake_okta::{FakeOkta, FakeOktaOptions};

/// A fake Okta org served by its own two threads.
pub struct OwnOkta {
    okta: Option<FakeOkta>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl OwnOkta {
    /// Seed and start an org on a fresh runtime.
    pub async fn start(opts: FakeOktaOptions) -> anyhow::Result<OwnOkta> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(super::measure::FAKE_THREADS)
            .enable_all()
            .build()?;
        let okta = runtime.spawn(FakeOkta::start(opts)).await??;
        Ok(OwnOkta {
            okta: Some(okta),
            runtime: Some(runtime),
        })
    }

    /// Start several orgs on one runtime of their own.
    pub async fn start_many(all: Vec<FakeOktaOptions>) -> anyhow::Result<(Vec<FakeOkta>, OwnOkta)> {
        let host = OwnOkta::start(FakeOktaOptions {
            org: fake_okta::OrgSpec {
                users: 0,
                groups: 0,
                ..Default::default()
            },
            ..Default::default()
        })
        .await?;
        let runtime = host.runtime.as_ref().expect("until drop");
        let mut orgs = Vec::with_capacity(all.len());
        for opts in all {
            orgs.push(runtime.spawn(FakeOkta::start(opts)).await??);
        }
        Ok((orgs, host))
    }
}

impl std::ops::Deref for OwnOkta {
    type Target = FakeOkta;
    fn deref(&self) -> &FakeOkta {
        self.okta.as_ref().expect("present until drop")
    }
}

impl Drop for OwnOkta {
    fn drop(&mut self) {
        drop(self.okta.take());
        // Dropping a runtime blocks, which an async caller must not.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
