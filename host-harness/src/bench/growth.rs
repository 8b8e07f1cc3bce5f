//! Growth: a full sync of orgs of 10k, 100k and 1M users (one group per 200
//! users), each into a fresh directory, with its time and peak memory,
//! drawn as an SVG plot. The fake Okta runs in a process of its own
//! (`harness fake-okta`), so the peak memory here is the host's and the
//! plugin's alone: a million-user fake org is not what is measured.
//! After each sync, the people it wrote are written again natively into a
//! fresh directory (see [`super::write_floor`]): the directory's own cost
//! per person at that size, beside the sync's. From the 100k and 1M
//! points the report derives how the directory alone grows and what that
//! alone makes of the sync's ratio ([`DirectoryGrowth`]).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use plotters::prelude::*;
use serde::Serialize;

use super::Target;
use super::measure::{peak_rss_mib, process_cpu_ms, reset_peak_rss};
use crate::bindings::exports::infraon::okta::sync::{RunOutcome, SyncMode, Trigger};
use crate::bindings::infraon::okta::types::{ConfigForm, InstallOptions, SyncTarget};
use crate::policy::Limits;
use crate::{Infraon, Runtime};

/// The default org sizes.
pub const SIZES: [usize; 3] = [10_000, 100_000, 1_000_000];

/// The plugin's storage quota in the growth mode: a 1M-user full sync
/// keeps some 0.5 GB (the run's list of a million people created, its
/// pages, the membership snapshot).
const GROWTH_STORAGE_QUOTA: u64 = 2 << 30;

/// One org size's full sync.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    /// Users in the org.
    pub users: usize,
    /// Groups in the org.
    pub groups: usize,
    /// Wall time of the full sync.
    pub wall_ms: f64,
    /// CPU time of this process meanwhile (the fake Okta's is not in it).
    pub cpu_ms: f64,
    /// Wall time per user, in µs.
    pub us_per_user: f64,
    /// Okta requests the sync sent.
    pub requests: u64,
    /// Peak resident memory of this process during the sync.
    pub peak_rss_mib: f64,
    /// The directory's own cost: the people written again natively into
    /// a fresh directory, wall µs per user ([`super::write_floor`]).
    pub directory_us_per_user: f64,
    /// The same, CPU µs per user.
    pub directory_cpu_us_per_user: f64,
}

/// The growth mode's result.
#[derive(Debug, Clone, Serialize)]
pub struct GrowthReport {
    /// One point per size that synced, smallest first.
    pub points: Vec<Point>,
    /// The sizes whose sync failed, and why.
    pub failed: Vec<(usize, String)>,
    /// The directory's own growth, when 100k and 1M both synced (see
    /// [`DirectoryGrowth`]). Not a target: what the sync pays whatever the
    /// plugin does, beside the sync's own ratio.
    pub directory_growth: Option<DirectoryGrowth>,
    /// Where the plot was drawn.
    pub plot: String,
    /// The targets and whether they were met.
    pub targets: Vec<Target>,
}

/// How the directory's own cost per person grows from 100k to 1M people.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DirectoryGrowth {
    /// Wall µs per person at 1M over that at 100k.
    pub wall: f64,
    /// CPU µs per person at 1M over that at 100k.
    pub cpu: f64,
    /// The directory's wall µs per person at 1M over the 1M sync's.
    pub share_at_1m: f64,
    /// The 1M sync's time a person over the 100k sync's, were all but the
    /// directory as fast a person at 1M as at 100k and the directory's
    /// writes hidden behind the rest no more than at 100k: the 100k time
    /// with the directory's 1M cost in place of its 100k cost.
    pub sync_ratio_bound: f64,
}

impl DirectoryGrowth {
    fn of(k: &Point, m: &Point) -> DirectoryGrowth {
        DirectoryGrowth {
            wall: m.directory_us_per_user / k.directory_us_per_user,
            cpu: m.directory_cpu_us_per_user / k.directory_cpu_us_per_user,
            share_at_1m: m.directory_us_per_user / m.us_per_user,
            sync_ratio_bound: (k.us_per_user - k.directory_us_per_user + m.directory_us_per_user)
                / k.us_per_user,
        }
    }
}

/// A fake Okta in a child process, ended when dropped.
struct ChildOkta {
    child: Child,
    url: String,
    token: String,
}

impl ChildOkta {
    fn start(users: usize, groups: usize) -> anyhow::Result<ChildOkta> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["--json", "fake-okta", "--rate-limit", &u32::MAX.to_string()])
            .args([
                "--users",
                &users.to_string(),
                "--groups",
                &groups.to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        std::io::BufReader::new(stdout).read_line(&mut line)?;
        let v: serde_json::Value = serde_json::from_str(line.trim())
            .map_err(|e| anyhow::anyhow!("the fake Okta process did not start: {e}"))?;
        let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        Ok(ChildOkta {
            url: field("url"),
            token: field("token"),
            child,
        })
    }
}

impl Drop for ChildOkta {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn point(plugin: &Path, users: usize, work_dir: &Path) -> anyhow::Result<Point> {
    let groups = (users / 200).max(1);
    let okta = tokio::task::spawn_blocking(move || ChildOkta::start(users, groups)).await??;
    let state = work_dir.join(format!("bench-growth-{}-{users}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let infraon = Infraon::open(&state)?;
    // A million people's snapshot and list of changes pass the fake's
    // default 64 MiB per plugin (see `set_plugin_quota`).
    infraon.set_plugin_quota(GROWTH_STORAGE_QUOTA);
    let rt = Runtime::new(
        plugin,
        Some(&work_dir.join("bench-cache")),
        Arc::new(infraon),
        Limits::default(),
    )?;
    let form = ConfigForm {
        name: "bench".into(),
        okta_domain: okta.url.clone(),
        api_token: okta.token.clone(),
        sync_target: SyncTarget::Users,
        service_app: None,
    };
    let options = InstallOptions {
        development_mode: true,
    };
    rt.install(&form, options)
        .await?
        .map_err(|e| anyhow::anyhow!("install refused: {e:?}"))?;
    reset_peak_rss();
    let cpu = process_cpu_ms();
    let started = std::time::Instant::now();
    let run = rt
        .sync(
            "bench",
            SyncMode::Full,
            Trigger::Manual,
            super::phase_trace("growth"),
        )
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let (cpu_ms, peak_rss_mib) = (process_cpu_ms() - cpu, peak_rss_mib());
    anyhow::ensure!(
        run.outcome == Some(RunOutcome::Succeeded),
        "the {users}-user sync did not succeed: {run:?}"
    );
    drop(rt);
    drop(okta);
    let rewritten = work_dir.join(format!("bench-growth-w-{}-{users}", std::process::id()));
    let w = super::write_floor::rewrite(&state, &rewritten).await?;
    let _ = std::fs::remove_dir_all(&state);
    Ok(Point {
        users,
        groups,
        wall_ms,
        cpu_ms,
        us_per_user: wall_ms * 1000.0 / users as f64,
        requests: u64::from(run.requests),
        peak_rss_mib,
        directory_us_per_user: w.wall_ms * 1000.0 / users as f64,
        directory_cpu_us_per_user: w.cpu_ms * 1000.0 / users as f64,
    })
}

/// Run the growth mode with the component at `plugin` at `sizes` in
/// `work_dir`, drawing the plot at `plot`.
pub async fn run(
    plugin: &Path,
    sizes: &[usize],
    work_dir: &Path,
    plot: &Path,
) -> anyhow::Result<GrowthReport> {
    let (mut points, mut failed) = (Vec::new(), Vec::new());
    for &users in sizes {
        // A size that fails (the plugin's memory cap, say) is reported,
        // and the others still drawn.
        match point(plugin, users, work_dir).await {
            Ok(p) => points.push(p),
            Err(e) => failed.push((users, e.to_string())),
        }
    }
    draw(&points, plot)?;
    let at = |n: usize| points.iter().find(|p| p.users == n);
    let mut targets: Vec<Target> = failed
        .iter()
        .map(|(users, e)| {
            Target::new(
                &format!("full sync of {users} users completes"),
                "failed".into(),
                "succeeded",
                false,
            )
            .because(e)
        })
        .collect();
    if let Some(m) = at(1_000_000) {
        targets.push(Target::new(
            "peak memory of the 1M-user sync (MiB)",
            format!("{:.0}", m.peak_rss_mib),
            "<= 300",
            m.peak_rss_mib <= 300.0,
        ));
        if let Some(k) = at(100_000) {
            let ratio = m.us_per_user / k.us_per_user;
            targets.push(Target::new(
                "time per user at 1M over that at 100k",
                format!("{ratio:.2}"),
                "<= 1.2",
                ratio <= 1.2,
            ));
        }
    }
    let directory_growth = at(100_000)
        .zip(at(1_000_000))
        .map(|(k, m)| DirectoryGrowth::of(k, m));
    Ok(GrowthReport {
        points,
        failed,
        directory_growth,
        plot: plot.display().to_string(),
        targets,
    })
}

/// Time and peak memory against org size, side by side, log-scaled users.
fn draw(points: &[Point], path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let lo = points.iter().map(|p| p.users).min().unwrap_or(1) as f64 / 2.0;
    let hi = points.iter().map(|p| p.users).max().unwrap_or(1) as f64 * 2.0;
    type Value = fn(&Point) -> f64;
    let panels: [(&str, &str, Value); 2] = [
        ("Full sync time", "seconds", |p| p.wall_ms / 1000.0),
        ("Peak memory of the host", "MiB", |p| p.peak_rss_mib),
    ];
    for (area, (title, unit, value)) in [left, right].iter().zip(panels) {
        let top = points.iter().map(value).fold(0.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..top.max(1.0))?;
        chart
            .configure_mesh()
            .x_desc("Okta users")
            .y_desc(unit)
            .x_label_formatter(&|x| format!("{}k", (*x / 1000.0).round()))
            .draw()?;
        let series: Vec<(f64, f64)> = points.iter().map(|p| (p.users as f64, value(p))).collect();
        chart.draw_series(LineSeries::new(series.clone(), BLUE.stroke_width(2)))?;
        chart.draw_series(
            series
                .iter()
                .map(|&(x, y)| Circle::new((x, y), 4, BLUE.filled())),
        )?;
        chart.draw_series(
            series
                .iter()
                .map(|&(x, y)| Text::new(format!("{y:.0}"), (x, y), ("sans-serif", 14))),
        )?;
    }
    root.present()?;
    Ok(())
}

/// The growth report as text.
pub fn table(r: &GrowthReport) -> String {
    let mut out = format!(
        "{:>9} {:>7} {:>11} {:>10} {:>12} {:>9} {:>9} {:>22}\n",
        "users",
        "groups",
        "wall ms",
        "cpu ms",
        "µs per user",
        "requests",
        "peak MiB",
        "directory µs/user (cpu)"
    );
    for p in &r.points {
        out.push_str(&format!(
            "{:>9} {:>7} {:>11.0} {:>10.0} {:>12.1} {:>9} {:>9.0} {:>14.1} ({:>5.1})\n",
            p.users,
            p.groups,
            p.wall_ms,
            p.cpu_ms,
            p.us_per_user,
            p.requests,
            p.peak_rss_mib,
            p.directory_us_per_user,
            p.directory_cpu_us_per_user
        ));
    }
    for (users, why) in &r.failed {
        out.push_str(&format!("{users:>9} failed: {why}\n"));
    }
    if let Some(d) = r.directory_growth {
        out.push_str(&format!(
            "\nthe directory alone, 1M over 100k: {:.2} x wall, {:.2} x CPU; at 1M it is {:.0} % \
             of the sync's time a person (its own writes, which the sync pays whatever the plugin does);\n\
             were all else as fast a person at 1M as at 100k, and hidden behind no more of the \
             directory's writes, 1M over 100k would still be {:.2}\n",
            d.wall,
            d.cpu,
            d.share_at_1m * 100.0,
            d.sync_ratio_bound
        ));
    }
    out.push_str(&format!("\nplot: {}\n\n", r.plot));
    out.push_str(&super::targets_table(&r.targets));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(users: usize, us_per_user: f64, directory: (f64, f64)) -> Point {
        Point {
            users,
            groups: users / 200,
            wall_ms: us_per_user * users as f64 / 1000.0,
            cpu_ms: 0.0,
            us_per_user,
            requests: 0,
            peak_rss_mib: 0.0,
            directory_us_per_user: directory.0,
            directory_cpu_us_per_user: directory.1,
        }
    }

    /// The directory's growth is its 1M cost over its 100k cost, its share
    /// is of the 1M sync's time a person, and the bound puts its 1M cost in
    /// the 100k sync's; the table says all three.
    #[test]
    fn the_directory_growth_is_read_from_the_100k_and_1m_points() {
        let k = point(100_000, 50.0, (20.0, 21.0));
        let m = point(1_000_000, 64.0, (32.0, 42.0));
        let d = DirectoryGrowth::of(&k, &m);
        assert_eq!((d.wall, d.cpu, d.share_at_1m), (1.6, 2.0, 0.5));
        // 100k: 30 µs of the 50 are not the directory's; add its 32 at 1M.
        assert_eq!(d.sync_ratio_bound, 62.0 / 50.0);
        let report = GrowthReport {
            points: vec![k, m],
            failed: Vec::new(),
            directory_growth: Some(d),
            plot: "plot.svg".into(),
            targets: Vec::new(),
        };
        assert!(
            table(&report).contains("1M over 100k: 1.60 x wall, 2.00 x CPU; at 1M it is 50 %")
                && table(&report).contains("1M over 100k would still be 1.24"),
            "{}",
            table(&report)
        );
    }
}
