//! Okta – Infraon Configuration: the field mappings and group → role rules
//! of a config, editable as one form, with a preview of the Infraon record
//! a real Okta user would become.
//!
//! Transforms are written in one text box per field, applied left to right
//! and separated by `; `: `trim`, `lower`, `upper`, `default=VALUE`,
//! `extract=PATTERN` (the first capture group of a regular expression).

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::Console;
use super::layout::{badge, escape, host_failure, notice, page, urlencode};
use crate::bindings::exports::infraon::okta::map::{
    FieldMapping, GroupMatcher, MapError, Mapping, NoticeCode, RoleRule, Transform,
};
use crate::bindings::infraon::okta::directory::PersonStatus;
use crate::bindings::infraon::okta::types::SyncTarget;
use crate::render;

/// The role of a rule that grants the Infraon role named like the group.
const ROLE_OF_GROUP: &str = "{group}";

/// Blank rows offered for new field mappings and role rules.
const BLANK_ROWS: usize = 2;

/// Write transforms as the text box shows them.
pub fn transforms_text(transforms: &[Transform]) -> String {
    transforms
        .iter()
        .map(|t| match t {
            Transform::Trim => "trim".to_string(),
            Transform::LowerCase => "lower".to_string(),
            Transform::UpperCase => "upper".to_string(),
            Transform::DefaultValue(v) => format!("default={v}"),
            Transform::Extract(p) => format!("extract={p}"),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Read the text box's transforms back.
pub fn parse_transforms(text: &str) -> Result<Vec<Transform>, String> {
    text.split("; ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            if let Some(v) = t.strip_prefix("default=") {
                return Ok(Transform::DefaultValue(v.to_string()));
            }
            if let Some(p) = t.strip_prefix("extract=") {
                return Ok(Transform::Extract(p.to_string()));
            }
            match t.trim_end_matches(';') {
                "trim" => Ok(Transform::Trim),
                "lower" | "lower-case" => Ok(Transform::LowerCase),
                "upper" | "upper-case" => Ok(Transform::UpperCase),
                other => Err(format!(
                    "unknown transform {other:?}: use trim, lower, upper, default=VALUE or extract=PATTERN, separated by \"; \""
                )),
            }
        })
        .collect()
}

fn kind_value(kind: SyncTarget) -> &'static str {
    match kind {
        SyncTarget::Users => "users",
        SyncTarget::Requesters => "requesters",
    }
}

/// Read the posted form back into a mapping; problems are keyed by row label.
fn mapping_from_form(form: &HashMap<String, String>) -> Result<Mapping, Vec<(String, String)>> {
    let get = |k: String| {
        form.get(&k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let rows = |prefix: &str| {
        form.keys()
            .filter_map(|k| k.strip_prefix(prefix)?.parse::<usize>().ok())
            .max()
            .map_or(0, |m| m + 1)
    };
    let mut problems = Vec::new();
    let mut fields = Vec::new();
    for i in 0..rows("target_") {
        let target = get(format!("target_{i}"));
        if target.is_empty() || form.contains_key(&format!("remove_{i}")) {
            continue;
        }
        match parse_transforms(&get(format!("transforms_{i}"))) {
            Ok(transforms) => fields.push(FieldMapping {
                source: get(format!("source_{i}")),
                target,
                transforms,
            }),
            Err(m) => problems.push((target, m)),
        }
    }
    let mut role_rules = Vec::new();
    for i in 0..rows("rule_value_") {
        let value = get(format!("rule_value_{i}"));
        if value.is_empty() || form.contains_key(&format!("rule_remove_{i}")) {
            continue;
        }
        let label = format!("role rule {}", i + 1);
        let matcher = match get(format!("rule_match_{i}")).as_str() {
            "id" => GroupMatcher::Id(value),
            "pattern" => GroupMatcher::NamePattern(value),
            _ => GroupMatcher::Name(value),
        };
        let priority = match get(format!("rule_priority_{i}")).parse::<u32>() {
            Ok(p) => p,
            Err(_) => {
                problems.push((label, "priority must be a whole number".into()));
                continue;
            }
        };
        role_rules.push(RoleRule {
            matcher,
            role: get(format!("rule_role_{i}")),
            priority,
            kind: if get(format!("rule_kind_{i}")) == "requesters" {
                SyncTarget::Requesters
            } else {
                SyncTarget::Users
            },
        });
    }
    let role = |k: &str| Some(get(k.to_string())).filter(|r| !r.is_empty());
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Mapping {
        fields,
        role_rules,
        default_user_role: role("default_user_role"),
        default_requester_role: role("default_requester_role"),
    })
}

/// `?preview=LOGIN` and the notices after a redirect.
#[derive(Deserialize)]
pub struct MappingQuery {
    preview: Option<String>,
    saved: Option<String>,
    reset: Option<String>,
}

/// `GET /configs/{config}/mapping`.
pub async fn mapping_page(
    State(console): State<Console>,
    Path(config): Path<String>,
    Query(q): Query<MappingQuery>,
) -> Response {
    let mapping = match console.runtime.mapping(&config).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return refused(&config, &e),
        Err(e) => return host_failure("Okta – Infraon Configuration", &e),
    };
    let top = if q.saved.is_some() {
        notice(
            "ok",
            "status",
            "Saved. The next sync applies it; nobody changes before that.",
        )
    } else if q.reset.is_some() {
        notice("ok", "status", "Reset to the default mapping.")
    } else {
        String::new()
    };
    let preview = match q
        .preview
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        Some(login) => preview(&console, &config, login).await,
        None => String::new(),
    };
    render(
        &console,
        &config,
        &mapping,
        &top,
        &BTreeMap::new(),
        &preview,
        StatusCode::OK,
    )
    .await
}

/// `POST /configs/{config}/mapping`: save or reset.
pub async fn submit(
    State(console): State<Console>,
    Path(config): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let form: HashMap<String, String> = form.into_iter().collect();
    let c = urlencode(&config);
    if form.get("action").map(String::as_str) == Some("dismiss") {
        return match console.runtime.dismiss_mapping_notices(&config).await {
            Ok(Ok(())) => Redirect::to(&format!("/configs/{c}/mapping")).into_response(),
            Ok(Err(e)) => refused(&config, &e),
            Err(e) => host_failure("Okta – Infraon Configuration", &e),
        };
    }
    if form.get("action").map(String::as_str) == Some("reset") {
        return match console.runtime.reset_mapping(&config).await {
            Ok(Ok(_)) => Redirect::to(&format!("/configs/{c}/mapping?reset=1")).into_response(),
            Ok(Err(e)) => refused(&config, &e),
            Err(e) => host_failure("Okta – Infraon Configuration", &e),
        };
    }
    let mapping = match mapping_from_form(&form) {
        Ok(m) => m,
        Err(problems) => {
            let current = console
                .runtime
                .mapping(&config)
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_else(empty_mapping);
            let by_row = group(problems);
            return render(
                &console,
                &config,
                &current,
                &notice("bad", "status", "Not saved: fix the fields marked below."),
                &by_row,
                "",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match console.runtime.set_mapping(&config, &mapping).await {
        Ok(Ok(())) => Redirect::to(&format!("/configs/{c}/mapping?saved=1")).into_response(),
        Ok(Err(e)) => {
            let (top, by_row) = match &e {
                MapError::Invalid(errors) => (
                    "Not saved: fix the fields marked below.".to_string(),
                    group(
                        errors
                            .iter()
                            .map(|f| (f.field.clone(), f.message.clone()))
                            .collect(),
                    ),
                ),
                other => (
                    format!("Not saved: {}", render::map_error(other)),
                    BTreeMap::new(),
                ),
            };
            render(
                &console,
                &config,
                &mapping,
                &notice("bad", "status", &top),
                &by_row,
                "",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => host_failure("Okta – Infraon Configuration", &e),
    }
}

fn empty_mapping() -> Mapping {
    Mapping {
        fields: Vec::new(),
        role_rules: Vec::new(),
        default_user_role: None,
        default_requester_role: None,
    }
}

fn group(problems: Vec<(String, String)>) -> BTreeMap<String, Vec<String>> {
    let mut by_row: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (label, message) in problems {
        by_row.entry(label).or_default().push(message);
    }
    by_row
}

fn refused(config: &str, e: &MapError) -> Response {
    let status = if matches!(e, MapError::UnknownConfig(_)) {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(
        status,
        "Okta – Infraon Configuration",
        &format!(
            "{}<p><a href=\"/configs/{}\">Back to Settings</a></p>",
            notice("bad", "status", &render::map_error(e)),
            urlencode(config)
        ),
    )
}

async fn preview(console: &Console, config: &str, login: &str) -> String {
    match console.runtime.preview(config, login).await {
        Ok(Ok(p)) => {
            let fields: String = [
                ("login", p.login.as_str()),
                ("email", p.email.as_str()),
                ("first_name", p.first_name.as_str()),
                ("last_name", p.last_name.as_str()),
                ("display_name", p.display_name.as_str()),
            ]
            .into_iter()
            .chain(p.fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(|(k, v)| {
                format!(
                    "<tr><td><code>{}</code></td><td data-field=\"{}\">{}</td></tr>",
                    escape(k),
                    escape(k),
                    escape(v)
                )
            })
            .collect();
            format!(
                "<section id=\"preview\"><h2>Preview: {login}</h2><p>Okta id <code>{id}</code>, status {status}, roles \
                 <span id=\"preview-roles\">{roles}</span></p><table>{fields}</table>\
                 <p class=\"help\">Exactly what the next sync writes for this person with the saved mapping.</p></section>",
                login = escape(login),
                id = escape(&p.external_id),
                status = badge(status_word(p.status)),
                roles = escape(&if p.roles.is_empty() {
                    "none".to_string()
                } else {
                    p.roles.join(", ")
                }),
            )
        }
        Ok(Err(e)) => format!(
            "<section id=\"preview\">{}</section>",
            notice("bad", "preview-error", &render::map_error(&e))
        ),
        Err(e) => notice("bad", "preview-error", &e.to_string()),
    }
}

/// The mapping's notices (what an upgrade changed, roles Infraon lacks),
/// with a button that dismisses the kept ones.
async fn notices_section(console: &Console, config: &str) -> String {
    let notices = match console.runtime.mapping_notices(config).await {
        Ok(Ok(n)) => n,
        // A plugin without notices (contract 0.1.0) or a failure: nothing to say here.
        _ => return String::new(),
    };
    if notices.is_empty() {
        return String::new();
    }
    let items: String = notices
        .iter()
        .map(|n| {
            let code = match n.code {
                NoticeCode::SafeRoleDefaults => "safe-role-defaults",
                NoticeCode::UnknownRole => "unknown-role",
            };
            format!(
                "<li data-code=\"{code}\">{}<span class=\"help\"> — {}</span></li>",
                escape(&n.message),
                escape(&n.at)
            )
        })
        .collect();
    format!(
        "<section id=\"mapping-notices\" class=\"notice info\"><h2>What changed</h2><ul>{items}</ul>\
         <form method=\"post\" action=\"/configs/{c}/mapping\"><button type=\"submit\" name=\"action\" \
         value=\"dismiss\" class=\"secondary\" id=\"notices-dismiss\">Dismiss</button></form>\
         <p class=\"help\">Roles Infraon no longer has stay listed until the rule or Infraon is fixed.</p></section>",
        c = urlencode(config)
    )
}

fn status_word(status: PersonStatus) -> &'static str {
    match status {
        PersonStatus::Active => "active",
        PersonStatus::Pending => "pending",
        PersonStatus::Suspended => "suspended",
        PersonStatus::Deactivated => "deactivated",
    }
}

fn options(values: &[String], selected: &str, none: Option<&str>) -> String {
    let mut out = none
        .map(|label| format!("<option value=\"\">{}</option>", escape(label)))
        .unwrap_or_default();
    let mut seen = false;
    for v in values {
        let sel = if v == selected {
            seen = true;
            " selected"
        } else {
            ""
        };
        out.push_str(&format!(
            "<option value=\"{v}\"{sel}>{v}</option>",
            v = escape(v)
        ));
    }
    if !seen && !selected.is_empty() {
        // A role Infraon no longer has stays visible, so saving names it.
        out.push_str(&format!(
            "<option value=\"{v}\" selected>{v} (unknown)</option>",
            v = escape(selected)
        ));
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn render(
    console: &Console,
    config: &str,
    mapping: &Mapping,
    top: &str,
    problems: &BTreeMap<String, Vec<String>>,
    preview: &str,
    status: StatusCode,
) -> Response {
    let c = urlencode(config);
    let infraon = console.runtime.infraon();
    let kind = match console.runtime.configs().await {
        Ok(Ok(configs)) => configs
            .into_iter()
            .find(|s| s.name == config)
            .map(|s| s.sync_target),
        _ => None,
    }
    .unwrap_or(SyncTarget::Users);
    let targets: Vec<String> = ["login", "email", "first_name", "last_name", "display_name"]
        .into_iter()
        .map(String::from)
        .chain(
            infraon
                .list_fields(kind.into())
                .unwrap_or_default()
                .into_iter()
                .map(|f| f.name),
        )
        .collect();
    let roles = infraon.list_roles().unwrap_or_default();
    let role_names = |k: SyncTarget| -> Vec<String> {
        roles
            .iter()
            .filter(|r| SyncTarget::from(r.kind) == k)
            .map(|r| r.name.clone())
            .collect()
    };
    let privileged: Vec<String> = roles
        .iter()
        .filter(|r| r.privileged)
        .map(|r| r.name.clone())
        .collect();
    let notices = notices_section(console, config).await;
    let (schema, schema_note) = match console.runtime.discover_schema(config).await {
        Ok(Ok(attrs)) => (attrs, String::new()),
        Ok(Err(e)) => (
            Vec::new(),
            notice(
                "info",
                "schema-note",
                &format!(
                    "Okta's profile schema is not available: {}",
                    render::map_error(&e)
                ),
            ),
        ),
        Err(e) => (Vec::new(), notice("info", "schema-note", &e.to_string())),
    };
    let datalist = |id: &str, values: Vec<String>| {
        let opts: String = values
            .iter()
            .map(|v| format!("<option value=\"{}\">", escape(v)))
            .collect();
        format!("<datalist id=\"{id}\">{opts}</datalist>")
    };
    let row_problems = |label: &str| -> String {
        problems
            .get(label)
            .into_iter()
            .flatten()
            .map(|m| format!("<p class=\"field-error\">{}</p>", escape(m)))
            .collect()
    };
    let mut field_rows = String::new();
    let blanks = std::iter::repeat_n(None, BLANK_ROWS);
    for (i, f) in mapping.fields.iter().map(Some).chain(blanks).enumerate() {
        let (target, source, transforms) =
            f.map_or((String::new(), String::new(), String::new()), |f| {
                (
                    f.target.clone(),
                    f.source.clone(),
                    transforms_text(&f.transforms),
                )
            });
        let label = if target.is_empty() {
            format!("fields[{i}]")
        } else {
            target.clone()
        };
        field_rows.push_str(&format!(
            "<tr id=\"field-row-{i}\"><td><input type=\"text\" name=\"target_{i}\" id=\"target_{i}\" value=\"{t}\" list=\"infraon-fields\">{errs}</td>\
             <td><input type=\"text\" name=\"source_{i}\" id=\"source_{i}\" value=\"{s}\" list=\"okta-attributes\"></td>\
             <td><input type=\"text\" name=\"transforms_{i}\" id=\"transforms_{i}\" value=\"{x}\"></td>\
             <td><input type=\"checkbox\" name=\"remove_{i}\" title=\"remove\"></td></tr>",
            t = escape(&target),
            s = escape(&source),
            x = escape(&transforms),
            errs = row_problems(&label),
        ));
    }
    let mut rule_rows = String::new();
    let blanks = std::iter::repeat_n(None, BLANK_ROWS);
    for (i, r) in mapping
        .role_rules
        .iter()
        .map(Some)
        .chain(blanks)
        .enumerate()
    {
        let (matcher, value) = match r.map(|r| &r.matcher) {
            Some(GroupMatcher::Name(v)) => ("name", v.clone()),
            Some(GroupMatcher::Id(v)) => ("id", v.clone()),
            Some(GroupMatcher::NamePattern(v)) => ("pattern", v.clone()),
            None => ("name", String::new()),
        };
        let rule_kind = r.map_or(kind, |r| r.kind);
        let role = r.map(|r| r.role.clone()).unwrap_or_default();
        let priority = r.map_or(100, |r| r.priority);
        let matchers: String = [
            ("name", "Group name"),
            ("id", "Group id"),
            ("pattern", "Name pattern"),
        ]
        .iter()
        .map(|(v, l)| {
            format!(
                "<option value=\"{v}\"{}>{l}</option>",
                if *v == matcher { " selected" } else { "" }
            )
        })
        .collect();
        let kinds: String = [SyncTarget::Users, SyncTarget::Requesters]
            .iter()
            .map(|k| {
                format!(
                    "<option value=\"{v}\"{}>{v}</option>",
                    if *k == rule_kind { " selected" } else { "" },
                    v = kind_value(*k)
                )
            })
            .collect();
        rule_rows.push_str(&format!(
            "<tr id=\"rule-row-{i}\"><td><select name=\"rule_match_{i}\">{matchers}</select></td>\
             <td><input type=\"text\" name=\"rule_value_{i}\" id=\"rule_value_{i}\" value=\"{value}\">{errs}</td>\
             <td><select name=\"rule_role_{i}\" id=\"rule_role_{i}\">{roles}</select></td>\
             <td><input type=\"number\" name=\"rule_priority_{i}\" value=\"{priority}\" min=\"0\" style=\"width:80px\"></td>\
             <td><select name=\"rule_kind_{i}\">{kinds}</select></td>\
             <td><input type=\"checkbox\" name=\"rule_remove_{i}\" title=\"remove\"></td></tr>",
            value = escape(&value),
            roles = options(
                &role_names(rule_kind)
                    .into_iter()
                    .chain([ROLE_OF_GROUP.to_string()])
                    .collect::<Vec<_>>(),
                &role,
                None
            ),
            errs = row_problems(&format!("role rule {}", i + 1)),
        ));
    }
    let unplaced: String = problems
        .iter()
        .filter(|(label, _)| {
            !mapping
                .fields
                .iter()
                .enumerate()
                .any(|(i, f)| **label == f.target || **label == format!("fields[{i}]"))
                && !label.starts_with("role rule ")
        })
        .flat_map(|(label, ms)| {
            ms.iter()
                .map(move |m| format!("<li>{}: {}</li>", escape(label), escape(m)))
        })
        .collect();
    let unplaced = if unplaced.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"field-error\" id=\"mapping-errors\">{unplaced}</ul>")
    };
    let schema_names: Vec<String> = schema.iter().map(|a| a.name.clone()).collect();
    let schema_list: String = schema
        .iter()
        .map(|a| {
            format!(
                "<code title=\"{}\">{}{}</code> ",
                escape(&a.title),
                escape(&a.name),
                if a.custom { "*" } else { "" }
            )
        })
        .collect();
    let body = format!(
        "{top}{notices}{schema_note}{preview}\
         <section><form method=\"get\" action=\"/configs/{c}/mapping\" class=\"row\">\
         <div><label for=\"preview-login\">Preview on an Okta user (login)</label>\
         <input type=\"text\" id=\"preview-login\" name=\"preview\" placeholder=\"someone@example.com\"></div>\
         <div><button type=\"submit\" class=\"secondary\" id=\"preview-button\">Preview</button></div></form></section>\
         <form method=\"post\" action=\"/configs/{c}/mapping\" id=\"mapping-form\">\
         <section><h2>Fields</h2>{unplaced}<table><tr><th>Infraon field</th><th>Okta attribute or template</th>\
         <th>Transforms (<code>trim; lower; upper; default=…; extract=…</code>)</th><th>Remove</th></tr>{field_rows}</table>\
         <p class=\"help\">A source is an Okta attribute (<code>department</code>) or a template (<code>{{firstName}} {{lastName}}</code>). \
         Okta attributes: {schema_list}(* custom)</p></section>\
         <section><h2>Group → role rules</h2><table><tr><th>Match</th><th>Group</th><th>Infraon role</th><th>Priority</th>\
         <th>For</th><th>Remove</th></tr>{rule_rows}</table>\
         <div class=\"row\"><div><label for=\"default_user_role\">Default role of Users</label>\
         <select id=\"default_user_role\" name=\"default_user_role\">{dur}</select></div>\
         <div><label for=\"default_requester_role\">Default role of Requesters</label>\
         <select id=\"default_requester_role\" name=\"default_requester_role\">{drr}</select></div></div>\
         <p class=\"help\">Without a rule everyone gets the default role. <code>{ROLE_OF_GROUP}</code> grants the Infraon role \
         named like the matched group, except privileged roles ({privileged}), which only a rule naming them grants. \
         The lowest priority number wins when several rules match one group.</p></section>\
         <button type=\"submit\" name=\"action\" value=\"save\" id=\"mapping-save\">Save</button>\
         <button type=\"submit\" name=\"action\" value=\"reset\" class=\"secondary\" id=\"mapping-reset\">Reset to defaults</button>\
         <a href=\"/configs/{c}\" class=\"button secondary\">Back to Settings</a></form>\
         {fields_list}{attrs_list}",
        dur = options(
            &role_names(SyncTarget::Users),
            mapping.default_user_role.as_deref().unwrap_or_default(),
            Some("(none)")
        ),
        drr = options(
            &role_names(SyncTarget::Requesters),
            mapping
                .default_requester_role
                .as_deref()
                .unwrap_or_default(),
            Some("(none)")
        ),
        privileged = escape(&privileged.join(", ")),
        fields_list = datalist("infraon-fields", targets),
        attrs_list = datalist("okta-attributes", schema_names),
    );
    page(
        status,
        &format!("Okta · {config} · Okta – Infraon Configuration"),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_round_trip_through_the_text_box() {
        let all = vec![
            Transform::Trim,
            Transform::LowerCase,
            Transform::DefaultValue("n/a".into()),
            Transform::Extract("^(\\w+);x".into()),
            Transform::UpperCase,
        ];
        let text = transforms_text(&all);
        assert_eq!(text, "trim; lower; default=n/a; extract=^(\\w+);x; upper");
        // The generated WIT types have no PartialEq: compare their Debug form.
        assert_eq!(
            format!("{:?}", parse_transforms(&text).unwrap()),
            format!("{all:?}")
        );
        assert!(parse_transforms("  ").unwrap().is_empty());
    }

    #[test]
    fn an_unknown_transform_is_named() {
        let e = parse_transforms("trim; capitalise").unwrap_err();
        assert!(e.contains("\"capitalise\""), "{e}");
    }

    #[test]
    fn the_form_reads_back_rows_skipping_blank_and_removed_ones() {
        let form: HashMap<String, String> = [
            ("target_0", "email"),
            ("source_0", "email"),
            ("transforms_0", "trim; lower"),
            ("target_1", "title"),
            ("source_1", "title"),
            ("remove_1", "on"),
            ("target_2", ""),
            ("rule_match_0", "pattern"),
            ("rule_value_0", "Eng*"),
            ("rule_role_0", "Technician"),
            ("rule_priority_0", "5"),
            ("rule_kind_0", "users"),
            ("rule_value_1", ""),
            ("default_user_role", ""),
            ("default_requester_role", "Requester"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let m = mapping_from_form(&form).unwrap();
        assert_eq!(m.fields.len(), 1);
        assert_eq!(transforms_text(&m.fields[0].transforms), "trim; lower");
        assert_eq!(m.role_rules.len(), 1);
        assert!(matches!(&m.role_rules[0].matcher, GroupMatcher::NamePattern(p) if p == "Eng*"));
        assert_eq!(m.role_rules[0].priority, 5);
        assert_eq!(m.default_user_role, None);
        assert_eq!(m.default_requester_role.as_deref(), Some("Requester"));
    }

    #[test]
    fn a_bad_priority_is_reported_against_its_rule() {
        let form: HashMap<String, String> =
            [("rule_value_0", "Admins"), ("rule_priority_0", "first")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
        let problems = mapping_from_form(&form).unwrap_err();
        assert_eq!(problems[0].0, "role rule 1");
    }
}
