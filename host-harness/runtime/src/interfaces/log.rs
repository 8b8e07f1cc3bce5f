//! `infraon:okta/log`: plugin log lines, tagged by the host with the plugin
//! and the config being served, kept by the [`Log`](crate::backend::Log)
//! backend and sent to tracing.

use crate::bindings::infraon::okta::log::{Host, Level};
use crate::state::PluginState;

impl Host for PluginState {
    fn write(&mut self, level: Level, message: String, fields: Vec<(String, String)>) {
        let config = self.scope.config.as_deref().unwrap_or("-");
        let fields_json = serde_json::Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        )
        .to_string();
        let level_name = match level {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        };
        match level {
            Level::Debug => {
                tracing::debug!(plugin = crate::PLUGIN_ID, config, fields = %fields_json, "{message}")
            }
            Level::Info => {
                tracing::info!(plugin = crate::PLUGIN_ID, config, fields = %fields_json, "{message}")
            }
            Level::Warn => {
                tracing::warn!(plugin = crate::PLUGIN_ID, config, fields = %fields_json, "{message}")
            }
            Level::Error => {
                tracing::error!(plugin = crate::PLUGIN_ID, config, fields = %fields_json, "{message}")
            }
        }
        if let Err(e) = self.backends.log.append(
            crate::PLUGIN_ID,
            self.scope.config.as_deref(),
            level_name,
            &message,
            &fields_json,
        ) {
            tracing::error!("cannot keep a plugin log line: {e}");
        }
    }
}
