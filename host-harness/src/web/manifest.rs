//! `manifest.json`, as the Marketplace reads it: the plugin's card and the
//! configuration form it generates.

use serde::Deserialize;

/// The plugin's Marketplace manifest (the parts the console shows).
#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    /// Marketplace id.
    pub id: String,
    /// Card title.
    pub name: String,
    /// Who publishes it.
    pub publisher: String,
    /// Plugin version.
    pub version: String,
    /// Card text.
    pub description: String,
    /// The WIT contract the component implements.
    pub contract: Contract,
    /// What the plugin may reach.
    pub capabilities: Capabilities,
    /// Sandbox limits the host applies.
    pub limits: serde_json::Map<String, serde_json::Value>,
    /// The install form.
    pub config_form: ConfigFormSpec,
}

/// The contract named by the manifest.
#[derive(Debug, Clone, Deserialize)]
pub struct Contract {
    /// WIT package.
    pub package: String,
    /// Its version.
    pub version: String,
    /// The world.
    pub world: String,
}

/// Capabilities the plugin asks for.
#[derive(Debug, Clone, Deserialize)]
pub struct Capabilities {
    /// Egress.
    pub http: HttpCapability,
    /// Host interfaces imported.
    pub imports: Vec<String>,
}

/// The HTTP egress request.
#[derive(Debug, Clone, Deserialize)]
pub struct HttpCapability {
    /// How the host grants it, in words.
    pub note: String,
}

/// The generated configuration form.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfigFormSpec {
    /// Form heading.
    pub title: String,
    /// Its fields, in order.
    pub fields: Vec<FieldSpec>,
}

/// One form field.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldSpec {
    /// Form key (`name`, `okta_domain`, `api_token`, `sync_target`).
    pub id: String,
    /// Label shown.
    pub label: String,
    /// `text`, `secret` or `choice`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Whether it must be filled.
    #[serde(default)]
    pub required: bool,
    /// Longest accepted value.
    pub max_length: Option<usize>,
    /// Example shown in an empty field.
    pub placeholder: Option<String>,
    /// Help under the field.
    pub help: Option<String>,
    /// Preselected choice.
    pub default: Option<String>,
    /// The choices of a `choice` field.
    #[serde(default)]
    pub choices: Vec<Choice>,
}

/// One choice of a `choice` field.
#[derive(Debug, Clone, Deserialize)]
pub struct Choice {
    /// Submitted value.
    pub value: String,
    /// Shown text.
    pub label: String,
}

/// The manifest shipped beside the component.
pub const MANIFEST_JSON: &str = include_str!("../../../manifest.json");

impl Manifest {
    /// The shipped manifest, parsed once. It is checked by a test, so this
    /// cannot fail in a released harness.
    pub fn shipped() -> &'static Manifest {
        static SHIPPED: std::sync::LazyLock<Manifest> = std::sync::LazyLock::new(|| {
            serde_json::from_str(MANIFEST_JSON).expect("manifest.json is valid (tested)")
        });
        &SHIPPED
    }

    /// The plugin's field id for a field the plugin names in a `field-error`
    /// (`okta-domain` → `okta_domain`).
    pub fn field_for_error(&self, plugin_field: &str) -> Option<&FieldSpec> {
        let id = plugin_field.replace('-', "_");
        self.config_form.fields.iter().find(|f| f.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_manifest_describes_the_four_form_fields() {
        let m = Manifest::shipped();
        let ids: Vec<&str> = m.config_form.fields.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "name",
                "okta_domain",
                "api_token",
                "sync_target",
                "auth",
                "client_id",
                "dpop"
            ]
        );
        assert_eq!(m.config_form.fields[2].kind, "secret");
        assert_eq!(m.contract.version, crate::bindings::CONTRACT_VERSION);
        assert_eq!(
            m.field_for_error("okta-domain").map(|f| f.label.as_str()),
            Some("Okta Domain URL")
        );
    }
}
