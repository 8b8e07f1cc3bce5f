//! (d) the warm start: a fresh `harness` process, its compiled component
//! already cached, from spawn to the answer of its first plugin call.

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What the probe process (`harness warm-probe`) prints once its first
/// plugin call has answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    /// Whether the compiled component came from the cache.
    pub cached: bool,
    /// The probe process's peak resident memory.
    pub peak_rss_mib: f64,
}

/// The warm starts measured.
#[derive(Debug, Clone, Serialize)]
pub struct WarmStart {
    /// Each round's spawn-to-first-answer time, in the order run.
    pub rounds_ms: Vec<f64>,
    /// Their median.
    pub median_ms: f64,
    /// The highest peak memory of the probes.
    pub peak_rss_mib: f64,
}

/// One probe: spawn-to-first-answer time and what the probe said.
fn probe(plugin: &Path, state: &Path) -> anyhow::Result<(f64, Probe)> {
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut child = Command::new(exe)
        .arg("--state-dir")
        .arg(state)
        .arg("--plugin")
        .arg(plugin)
        .arg("warm-probe")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = child.wait()?;
    anyhow::ensure!(status.success(), "the warm-start probe failed: {status}");
    Ok((ms, serde_json::from_str(line.trim())?))
}

/// `rounds` warm starts in a fresh state directory under `work_dir`, after
/// one cold start that fills its cache (not counted).
pub fn run(plugin: &Path, work_dir: &Path, rounds: usize) -> anyhow::Result<WarmStart> {
    let state = work_dir.join(format!("bench-warm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state)?;
    probe(plugin, &state)?;
    let mut rounds_ms = Vec::new();
    let mut peak: f64 = 0.0;
    for _ in 0..rounds.max(1) {
        let (ms, p) = probe(plugin, &state)?;
        anyhow::ensure!(p.cached, "the warm start did not use the compiled cache");
        rounds_ms.push(ms);
        peak = peak.max(p.peak_rss_mib);
    }
    let _ = std::fs::remove_dir_all(&state);
    Ok(WarmStart {
        median_ms: super::measure::median_of(&rounds_ms),
        rounds_ms,
        peak_rss_mib: peak,
    })
}
