//! Loading the plugin: one engine configuration (with its instance pool),
//! a compiled-component cache on disk (a second start does not recompile),
//! and the contract check.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
    ProfilingStrategy,
};

use crate::bindings::{CONTRACT_PACKAGE, CONTRACT_VERSION, SUPPORTED_VERSIONS};
use crate::options::{Allocation, RuntimeOptions};
use crate::policy::MAX_TABLE_ELEMENTS;
use crate::runtime::HostError;

/// What one pool slot holds for one plugin instance. The plugin and the
/// probe guest each take 3 core instances, 1 memory and 2 tables (read
/// from the pool's metrics); the margins leave room for a larger guest of
/// the same world, at the price of address space only.
const CORE_INSTANCES_PER_SLOT: u32 = 16;
const MEMORIES_PER_SLOT: u32 = 2;
const TABLES_PER_SLOT: u32 = 8;

/// The engine every plugin instance runs on: epoch interruption for
/// deadlines, optimised code, a bounded wasm stack; instances from a pool
/// of `options.pool_slots` slots, each capped at the policy's memory, or
/// on demand when there is no pool (asked for, or refused by the host).
pub fn engine(options: &RuntimeOptions) -> Result<(Engine, Allocation), HostError> {
    let config = base_config();
    let mut pool_refused = None;
    if options.pool_slots > 0 {
        let mut pooled = config.clone();
        pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(options)));
        match Engine::new(&pooled) {
            Ok(engine) => {
                let slots = options.pool_slots;
                return Ok((engine, Allocation::Pooling { slots }));
            }
            Err(e) => {
                tracing::warn!(
                    "cannot reserve the instance pool ({} slots): {e:#}; allocating each instance on demand instead",
                    options.pool_slots
                );
                pool_refused = Some(format!("{e:#}"));
            }
        }
    }
    let engine = Engine::new(&config)
        .map_err(|e| HostError::Load(format!("cannot configure wasmtime: {e:#}")))?;
    Ok((engine, Allocation::OnDemand { pool_refused }))
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(OptLevel::Speed);
    config.max_wasm_stack(1 << 20);
    // For `perf`: names the plugin's functions in /tmp/perf-<pid>.map.
    if std::env::var_os("HARNESS_PERF_MAP").is_some() {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    config
}

/// One slot per concurrent operation, each memory no larger than the
/// policy's cap (the store's limiter refuses first, so a guest over it is
/// reported as [`HostError::MemoryCap`]).
fn pool(options: &RuntimeOptions) -> PoolingAllocationConfig {
    let slots = options.pool_slots;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(CORE_INSTANCES_PER_SLOT))
        .max_core_instances_per_component(CORE_INSTANCES_PER_SLOT)
        .total_memories(slots.saturating_mul(MEMORIES_PER_SLOT))
        .max_memories_per_component(MEMORIES_PER_SLOT)
        .total_tables(slots.saturating_mul(TABLES_PER_SLOT))
        .max_tables_per_component(TABLES_PER_SLOT)
        .total_stacks(slots)
        .max_memory_size(options.limits.memory_bytes)
        .table_elements(MAX_TABLE_ELEMENTS);
    pool
}

/// A compiled component and how it was obtained.
pub struct Loaded {
    /// The compiled component.
    pub component: Component,
    /// Whether it came from the on-disk cache rather than a compilation.
    pub from_cache: bool,
    /// The contract version its exports carry.
    pub contract_version: String,
}

/// Load a component, from `cache_dir` when an entry for these exact bytes and
/// this engine exists, compiling (and caching) otherwise; then check its contract.
pub fn load(engine: &Engine, wasm: &Path, cache_dir: Option<&Path>) -> Result<Loaded, HostError> {
    let bytes = std::fs::read(wasm)
        .map_err(|e| HostError::Load(format!("cannot read {}: {e}", wasm.display())))?;
    let cache_file = cache_dir.map(|dir| cache_path(engine, dir, wasm, &bytes));
    let cached = cache_file.as_deref().filter(|f| f.exists()).and_then(|f| {
        // SAFETY: the file was written by `Component::serialize` of this very
        // harness into its own state directory, under a key that includes the
        // engine's compatibility hash; wasmtime checks its header on load.
        unsafe { Component::deserialize_file(engine, f) }.ok()
    });
    let from_cache = cached.is_some();
    let component = match cached {
        Some(c) => c,
        None => {
            let c = Component::new(engine, &bytes).map_err(|e| {
                HostError::Load(format!(
                    "{} is not a valid component: {e:#}",
                    wasm.display()
                ))
            })?;
            if let Some(file) = &cache_file {
                store_in_cache(&c, file);
            }
            c
        }
    };
    let contract_version = check_contract(&component, engine)?;
    Ok(Loaded {
        component,
        from_cache,
        contract_version,
    })
}

fn cache_path(engine: &Engine, dir: &Path, wasm: &Path, bytes: &[u8]) -> PathBuf {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    engine.precompile_compatibility_hash().hash(&mut h);
    let stem = wasm
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("component");
    dir.join(format!("{stem}-{:016x}.cwasm", h.finish()))
}

/// A failed cache write only costs a recompile next time: log and go on.
fn store_in_cache(component: &Component, file: &Path) {
    let write = || -> std::io::Result<()> {
        let bytes = component.serialize().map_err(std::io::Error::other)?;
        std::fs::create_dir_all(file.parent().unwrap_or(Path::new(".")))?;
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, file)
    };
    if let Err(e) = write() {
        tracing::warn!(
            "cannot cache the compiled component at {}: {e}",
            file.display()
        );
    }
}

/// The contract version in the component's export names
/// (`infraon:okta/install@0.2.0`), refused unless this harness supports it
/// (any of [`SUPPORTED_VERSIONS`], patch releases included).
pub fn check_contract(component: &Component, engine: &Engine) -> Result<String, HostError> {
    let names: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    contract_version_of(&names)
}

/// [`check_contract`] on export names alone.
pub fn contract_version_of(export_names: &[String]) -> Result<String, HostError> {
    let prefix = format!("{CONTRACT_PACKAGE}/");
    let versions: Vec<&str> = export_names
        .iter()
        .filter_map(|n| n.strip_prefix(&prefix))
        .map(|rest| rest.split_once('@').map_or("", |(_, v)| v))
        .collect();
    let Some(found) = versions.first() else {
        return Err(HostError::ContractMismatch {
            found: "none".into(),
            supported: supported(),
            detail: format!(
                "the component exports nothing from {CONTRACT_PACKAGE}; is it an Okta plugin?"
            ),
        });
    };
    let supported_here = SUPPORTED_VERSIONS.iter().any(|s| compatible(found, s));
    if versions.iter().any(|v| v != found) || !supported_here {
        return Err(HostError::ContractMismatch {
            found: found.to_string(),
            supported: supported(),
            detail: format!(
                "the component was built against {CONTRACT_PACKAGE}@{found}; this harness speaks \
                 {CONTRACT_PACKAGE}@{} (latest {CONTRACT_VERSION}). Rebuild the plugin against one of these or use a matching harness.",
                supported()
            ),
        });
    }
    Ok(found.to_string())
}

/// The supported versions, for messages: `0.1.0, 0.2.0`.
fn supported() -> String {
    SUPPORTED_VERSIONS.join(", ")
}

/// Semver compatibility: same major, and for 0.x the same minor.
fn compatible(found: &str, supported: &str) -> bool {
    let parts = |v: &str| {
        v.split('.')
            .map(|p| p.parse::<u64>().ok())
            .collect::<Option<Vec<_>>>()
    };
    match (parts(found), parts(supported)) {
        (Some(f), Some(s)) if f.len() == 3 && s.len() == 3 => {
            if s[0] == 0 {
                f[0] == 0 && f[1] == s[1]
            } else {
                f[0] == s[0]
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &str) -> Vec<String> {
        ["install", "verify", "sync"]
            .iter()
            .map(|i| format!("infraon:okta/{i}@{v}"))
            .collect()
    }

    #[test]
    fn accepts_every_supported_version_and_patch_releases() {
        assert_eq!(contract_version_of(&names("0.1.0")).unwrap(), "0.1.0");
        assert_eq!(contract_version_of(&names("0.1.7")).unwrap(), "0.1.7");
        assert_eq!(contract_version_of(&names("0.2.0")).unwrap(), "0.2.0");
        assert_eq!(contract_version_of(&names("0.2.3")).unwrap(), "0.2.3");
    }

    #[test]
    fn refuses_other_minor_or_major_versions_with_a_clear_message() {
        for v in ["0.3.0", "1.0.0", "0.0.9", "garbage"] {
            let err = contract_version_of(&names(v)).unwrap_err();
            assert!(err.to_string().contains(v), "{err}");
            assert!(err.to_string().contains("0.1.0, 0.2.0"), "{err}");
        }
    }

    #[test]
    fn refuses_a_component_without_the_contract() {
        let err =
            contract_version_of(&["wasi:http/incoming-handler@0.2.12".to_string()]).unwrap_err();
        assert!(err.to_string().contains("exports nothing"), "{err}");
    }
}
