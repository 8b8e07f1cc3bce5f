//! (a) the floor: a native client fetching every page a full sync needs,
//! parsed with the plugin's own parser (plugin-core's records, natively),
//! at Okta's page sizes, as fast as the limits let it: the groups listing
//! first (it names the groups to walk), then the members of the walked
//! groups, the users and the `DEPROVISIONED` users all at once — the
//! members lists of many groups in flight together, each listing's next
//! page requested before this one is parsed. Only what paging needs is
//! kept: the floor's memory is the client's, not the org's.

use std::sync::Arc;

use fake_okta::FakeOkta;
use plugin_core::okta_error::JsonBody;
use plugin_core::sync::records::{Listing, OktaGroup, OktaMember, OktaUser};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{PAGE_SIZES, walked_groups};

/// One page: its body and its `next` link.
type Page = (bytes::Bytes, Option<String>);

#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    auth: Arc<str>,
}

impl Client {
    async fn page(&self, url: String) -> anyhow::Result<Page> {
        let resp = self
            .http
            .get(&url)
            .header("Authorization", &*self.auth)
            .header("Accept", "application/json")
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "{url} answered {}",
            resp.status()
        );
        let next = resp
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.contains("rel=\"next\""))
            .and_then(|l| Some(l[l.find('<')? + 1..l.find('>')?].to_owned()));
        Ok((resp.bytes().await?, next))
    }

    /// Every page of a listing, each parsed as the plugin parses it;
    /// `each` sees every record. Returns the pages read.
    async fn listing<T>(&self, first: String, mut each: impl FnMut(T)) -> anyhow::Result<u64>
    where
        T: for<'de> serde::Deserialize<'de> + Send + 'static,
    {
        let mut pages = 0;
        let mut pending = Some(tokio::spawn({
            let c = self.clone();
            async move { c.page(first).await }
        }));
        while let Some(p) = pending.take() {
            let (body, next) = p.await??;
            pages += 1;
            // Read ahead: the next page is on its way while this one parses.
            if let Some(url) = next {
                let c = self.clone();
                pending = Some(tokio::spawn(async move { c.page(url).await }));
            }
            match Listing::<T>::parse(&body)? {
                Some(Listing::List(items)) => items.into_iter().for_each(&mut each),
                _ => anyhow::bail!("a listing that is not a JSON list"),
            }
        }
        Ok(pages)
    }
}

/// Fetch and parse every page of a full sync; `in_flight` bounds the
/// requests on their way at once (the org's concurrent limit). Returns the
/// requests sent.
pub async fn floor(okta: &FakeOkta, roles: &[String], in_flight: usize) -> anyhow::Result<u64> {
    let client = Client {
        http: reqwest::Client::new(),
        auth: format!("SSWS {}", okta.api_token()).into(),
    };
    let base = okta.url();
    let (users, groups, members) = PAGE_SIZES;
    let mut listed = Vec::new();
    let mut requests = client
        .listing(
            format!("{base}/api/v1/groups?limit={groups}"),
            |g: OktaGroup| listed.push(g.id),
        )
        .await?;
    let org = okta.org();
    let walked: std::collections::HashSet<&str> =
        walked_groups(&org, roles).map(|g| g.id.as_str()).collect();
    // The two users listings hold a place each; the members lists the rest.
    let places = Arc::new(Semaphore::new(in_flight.saturating_sub(2).max(1)));
    let mut lists = JoinSet::new();
    for id in listed.into_iter().filter(|id| walked.contains(id.as_str())) {
        let (client, places) = (client.clone(), places.clone());
        let url = format!("{base}/api/v1/groups/{id}/users?limit={members}");
        lists.spawn(async move {
            let _place = places.acquire_owned().await?;
            let mut ids = Vec::new();
            let pages = client.listing(url, |m: OktaMember| ids.push(m.id)).await?;
            anyhow::Ok(pages)
        });
    }
    let filter = "status%20eq%20%22DEPROVISIONED%22";
    let (people, deprovisioned) = tokio::join!(
        client.listing(
            format!("{base}/api/v1/users?limit={users}"),
            |u: OktaUser| { drop(u) }
        ),
        client.listing(
            format!("{base}/api/v1/users?filter={filter}&limit={users}"),
            |_: OktaUser| {}
        ),
    );
    requests += people? + deprovisioned?;
    while let Some(pages) = lists.join_next().await {
        requests += pages??;
    }
    Ok(requests)
}
