//! The editable mapping: transforms, templates, validation, role rules,
//! storage, preview against the fake Okta, and how runs pick it up.

mod common;

use common::world::{CONFIG, World, profile, uid};
use plugin_core::mapping::{
    self, Compiled, FieldMapping, GroupMatcher, MapError, Mapping, RoleRule, Transform, defaults,
};
use plugin_core::sync::memberships::GroupRef;
use plugin_core::{FieldSpec, Person, Role, SyncMode, SyncTarget};
use serde_json::{Map, Value, json};

use Transform::{DefaultValue, Extract, LowerCase, Trim, UpperCase};

fn profile_of(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// The value one field mapping gives `p`, or "" when the field is not sent.
fn value(source: &str, transforms: Vec<Transform>, p: &Value) -> String {
    let m = Mapping {
        fields: vec![FieldMapping::new("title", source, transforms)],
        ..empty()
    };
    let out = Compiled::new(&m).unwrap().values(&profile_of(p.clone()));
    out.into_iter()
        .find(|(k, _)| k == "title")
        .map(|(_, v)| v)
        .unwrap_or_default()
}

fn empty() -> Mapping {
    Mapping {
        fields: vec![],
        role_rules: vec![],
        default_user_role: None,
        default_requester_role: None,
    }
}

#[test]
fn values_come_sorted_once_per_target_and_custom_skips_explicit_targets() {
    let m = Mapping {
        fields: vec![
            FieldMapping::new("title", "first", vec![]),
            FieldMapping::new("custom.badge", "department", vec![Trim]),
            FieldMapping::new("custom.*", "*", vec![Trim]),
            // A target mapped twice (validation refuses it; compiling does
            // not): its last mapping wins, even when that one is empty.
            FieldMapping::new("title", "second", vec![]),
            FieldMapping::new("department", "department", vec![]),
            FieldMapping::new("department", "missing", vec![]),
        ],
        ..empty()
    };
    let p = json!({"first": "A", "second": "B", "department": " Ops ", "badge": 7, "zeta": " z "});
    let out = Compiled::new(&m).unwrap().values(&profile_of(p));
    assert_eq!(
        out,
        vec![
            ("custom.badge".to_owned(), "Ops".to_owned()),
            ("custom.first".to_owned(), "A".to_owned()),
            ("custom.second".to_owned(), "B".to_owned()),
            ("custom.zeta".to_owned(), "z".to_owned()),
            ("title".to_owned(), "B".to_owned()),
        ]
    );
}

#[test]
fn each_transform_applies_in_order() {
    let p = json!({"a": "  Mixed Case  ", "blank": "   ", "mail": "Ada.Lovelace@Example.COM",
        "n": 42, "list": [" x ", "", "y"], "obj": {"k": 1}, "nul": null});
    assert_eq!(value("a", vec![], &p), "  Mixed Case  ");
    assert_eq!(value("a", vec![Trim], &p), "Mixed Case");
    assert_eq!(value("a", vec![Trim, LowerCase], &p), "mixed case");
    assert_eq!(value("a", vec![Trim, UpperCase], &p), "MIXED CASE");
    assert_eq!(
        value("mail", vec![LowerCase], &p),
        "ada.lovelace@example.com"
    );
    assert_eq!(
        value("straße", vec![UpperCase], &json!({"straße": "straße"})),
        "STRASSE"
    );
    // Default only when empty: a blank is empty after `trim`, not before.
    assert_eq!(
        value("missing", vec![DefaultValue("n/a".into())], &p),
        "n/a"
    );
    assert_eq!(value("blank", vec![DefaultValue("n/a".into())], &p), "   ");
    assert_eq!(
        value("blank", vec![Trim, DefaultValue("n/a".into())], &p),
        "n/a"
    );
    assert_eq!(
        value("a", vec![Trim, DefaultValue("n/a".into())], &p),
        "Mixed Case"
    );
    assert_eq!(value("nul", vec![DefaultValue("{n}!".into())], &p), "42!");
    assert_eq!(value("obj", vec![DefaultValue("none".into())], &p), "none");
    // Extract: the first capture group of the first match, else empty.
    assert_eq!(
        value("mail", vec![Extract("^([^@]+)@".into())], &p),
        "Ada.Lovelace"
    );
    assert_eq!(
        value("mail", vec![Extract(r"@(\w+)\.".into()), UpperCase], &p),
        "EXAMPLE"
    );
    assert_eq!(value("mail", vec![Extract("^(x+)$".into())], &p), "");
    assert_eq!(
        value(
            "mail",
            vec![Extract("^(x+)$".into()), DefaultValue("no".into())],
            &p
        ),
        "no"
    );
    // Values as text: numbers as JSON, lists joined.
    assert_eq!(value("n", vec![], &p), "42");
    assert_eq!(value("list", vec![], &p), "x, y");
    // An empty result is not sent at all.
    let m = Mapping {
        fields: vec![FieldMapping::new("title", "missing", vec![Trim])],
        ..empty()
    };
    assert!(Compiled::new(&m).unwrap().values(&profile_of(p)).is_empty());
}

#[test]
fn templates_join_attributes_with_literal_text() {
    let p = json!({"firstName": " Ada ", "lastName": "Lovelace", "n": 7});
    assert_eq!(
        value("{firstName} {lastName}", vec![], &p),
        " Ada  Lovelace"
    );
    assert_eq!(
        value("{lastName}, {firstName}", vec![Trim], &p),
        "Lovelace,  Ada"
    );
    assert_eq!(value("{{{n}}} #{n}", vec![], &p), "{7} #7");
    assert_eq!(value("{ lastName }-{missing}", vec![], &p), "Lovelace-");
    assert_eq!(
        value("{missing}", vec![DefaultValue("{lastName}".into())], &p),
        "Lovelace"
    );
}

fn fields() -> Vec<FieldSpec> {
    let spec = |n: &str, required| FieldSpec {
        name: n.into(),
        required,
    };
    vec![
        spec("login", true),
        spec("email", true),
        spec("display_name", true),
        spec("first_name", false),
        spec("department", false),
        spec("cost_center", true),
    ]
}

fn roles() -> Vec<Role> {
    let r = |n: &str, kind| Role {
        name: n.into(),
        kind,
        privileged: n == "Administrator",
    };
    vec![
        r("Technician", SyncTarget::Users),
        r("Administrator", SyncTarget::Users),
        r("Change Manager", SyncTarget::Users),
        r("Requester", SyncTarget::Requesters),
        r("VIP Requester", SyncTarget::Requesters),
    ]
}

fn good() -> Mapping {
    Mapping {
        fields: vec![
            FieldMapping::new("login", "login", vec![Trim]),
            FieldMapping::new("email", "email", vec![Trim, LowerCase]),
            FieldMapping::new("display_name", "{firstName} {lastName}", vec![Trim]),
            FieldMapping::new(
                "cost_center",
                "costCenter",
                vec![DefaultValue("none".into())],
            ),
        ],
        ..empty()
    }
}

fn errors(m: &Mapping, schema: Option<&[mapping::SchemaAttribute]>) -> Vec<(String, String)> {
    match mapping::validate(m, SyncTarget::Users, &fields(), &roles(), schema) {
        Err(MapError::Invalid(e)) => e.into_iter().map(|e| (e.field, e.message)).collect(),
        other => panic!("expected invalid, got {other:?}"),
    }
}

fn with(extra: FieldMapping) -> Mapping {
    let mut m = good();
    m.fields.push(extra);
    m
}

#[test]
fn each_validation_error_names_its_field() {
    assert_eq!(
        mapping::validate(&good(), SyncTarget::Users, &fields(), &roles(), None),
        Ok(())
    );
    let one = |m: Mapping| {
        let e = errors(&m, None);
        assert_eq!(e.len(), 1, "{e:?}");
        e.into_iter().next().unwrap()
    };
    let (f, m) = one(with(FieldMapping::new("shoe_size", "shoeSize", vec![])));
    assert_eq!(f, "shoe_size");
    assert!(m.contains("no field `shoe_size`"), "{m}");
    let (f, m) = one(with(FieldMapping::new("department", "{department", vec![])));
    assert_eq!(f, "department");
    assert!(m.contains("never closed"), "{m}");
    let (f, m) = one(with(FieldMapping::new("department", "dept}", vec![])));
    assert_eq!(f, "department");
    assert!(m.contains("closes nothing"), "{m}");
    let (f, m) = one(with(FieldMapping::new(
        "department",
        "department",
        vec![DefaultValue("{oops".into())],
    )));
    assert_eq!(f, "department");
    assert!(m.contains("default value"), "{m}");
    let (f, m) = one(with(FieldMapping::new(
        "department",
        "department",
        vec![Extract("([a-z".into())],
    )));
    assert_eq!(f, "department");
    assert!(m.contains("extract pattern `([a-z` is not valid"), "{m}");
    let (f, m) = one(with(FieldMapping::new(
        "department",
        "department",
        vec![Extract("^[a-z]+".into())],
    )));
    assert_eq!(f, "department");
    assert!(m.contains("no capture group"), "{m}");
    let (f, m) = one(with(FieldMapping::new("first_name", "first name", vec![])));
    assert_eq!(f, "first_name");
    assert!(m.contains("not an attribute name"), "{m}");
    let (f, m) = one(with(FieldMapping::new("", "x", vec![])));
    assert_eq!(f, "fields[4]");
    assert!(m.contains("names no Infraon field"), "{m}");
    let (f, m) = one(with(FieldMapping::new("login", "email", vec![])));
    assert_eq!(f, "login");
    assert!(m.contains("more than once"), "{m}");
    let (f, m) = one(with(FieldMapping::new("custom.*", "costCenter", vec![])));
    assert_eq!(f, "custom.*");
    assert!(m.contains("must be `*`"), "{m}");
    let (f, _) = one(with(FieldMapping::new("department", "*", vec![])));
    assert_eq!(f, "department");
    let (f, _) = one(with(FieldMapping::new("custom.", "x", vec![])));
    assert_eq!(f, "custom.");
    // Any `custom.<name>` is a valid target.
    assert_eq!(
        mapping::validate(
            &with(FieldMapping::new("custom.badge", "badgeNumber", vec![])),
            SyncTarget::Users,
            &fields(),
            &roles(),
            None
        ),
        Ok(())
    );
}

#[test]
fn required_fields_must_be_mapped_and_every_error_is_reported_at_once() {
    let m = Mapping {
        fields: vec![FieldMapping::new("first_name", "firstName", vec![])],
        ..empty()
    };
    let e = errors(&m, None);
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        vec!["cost_center", "display_name", "email", "login"]
    );
    assert!(
        e[3].1.contains("Infraon requires `login` for users"),
        "{e:?}"
    );

    let mut bad = with(FieldMapping::new("shoe_size", "x", vec![]));
    bad.fields.remove(0);
    bad.role_rules.push(RoleRule {
        matcher: GroupMatcher::NamePattern("  ".into()),
        role: "Technician".into(),
        priority: 1,
        kind: SyncTarget::Users,
    });
    bad.role_rules.push(RoleRule {
        matcher: GroupMatcher::Id("00g1".into()),
        role: "".into(),
        priority: 1,
        kind: SyncTarget::Users,
    });
    let e = errors(&bad, None);
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        vec!["role-rules[0]", "role-rules[1]", "shoe_size", "login"]
    );
}

#[test]
fn sources_are_checked_against_a_discovered_schema() {
    let mut w = World::new(SyncTarget::Users);
    let schema = mapping::discover_schema(&mut w.host(), CONFIG).unwrap();
    let names: Vec<(&str, bool)> = schema.iter().map(|a| (a.name.as_str(), a.custom)).collect();
    assert!(names.contains(&("costCenter", false)));
    assert!(names.contains(&("officeLocation", true)));
    assert!(names.contains(&("badgeNumber", true)));
    assert!(names.iter().position(|n| n.1).unwrap() > names.iter().rposition(|n| !n.1).unwrap());
    let badge = schema.iter().find(|a| a.name == "badgeNumber").unwrap();
    assert_eq!(badge.kind, "integer");
    assert_eq!(
        w.okta.log.last().unwrap().url,
        format!("{}/api/v1/meta/schemas/user/default", common::okta::ORIGIN)
    );
    // Unknown attributes, in sources, templates and defaults, each named
    // (`division` is one of Okta's base attributes; `deskFloor` is not).
    let e = errors(
        &with(FieldMapping::new(
            "department",
            "{dept} {officeLocation} {division}",
            vec![DefaultValue("{deskFloor}".into())],
        )),
        Some(&schema),
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].1.contains("no attribute `dept`"), "{e:?}");
    assert!(e[1].1.contains("no attribute `deskFloor`"), "{e:?}");
    // Without a schema the same mapping is accepted.
    let m = with(FieldMapping::new("department", "dept", vec![]));
    assert_eq!(
        mapping::validate(&m, SyncTarget::Users, &fields(), &roles(), None),
        Ok(())
    );
    // `set` uses the schema discovered last.
    let mut fm = defaults(SyncTarget::Users);
    fm.fields
        .push(FieldMapping::new("custom.x", "noSuchAttribute", vec![]));
    match mapping::set(&mut w.host(), CONFIG, fm) {
        Err(MapError::Invalid(e)) => {
            assert_eq!(e[0].field, "custom.x");
            assert!(e[0].message.contains("noSuchAttribute"));
        }
        other => panic!("{other:?}"),
    }
}

fn rule(matcher: GroupMatcher, role: &str, priority: u32, kind: SyncTarget) -> RoleRule {
    RoleRule {
        matcher,
        role: role.into(),
        priority,
        kind,
    }
}

fn g(id: &str, name: &str) -> GroupRef {
    GroupRef {
        id: id.into(),
        name: name.into(),
    }
}

#[test]
fn role_rules_by_name_id_pattern_and_priority() {
    use GroupMatcher::{Id, Name, NamePattern};
    let users = SyncTarget::Users;
    let m = Mapping {
        role_rules: vec![
            rule(Name("ITSM Admins".into()), "Administrator", 10, users),
            rule(Id("00gCAB".into()), "change manager", 20, users),
            rule(
                NamePattern("infraon-*-techs".into()),
                "Technician",
                30,
                users,
            ),
            rule(NamePattern("*".into()), "{group}", 5, users),
            rule(
                Name("Everyone".into()),
                "VIP Requester",
                1,
                SyncTarget::Requesters,
            ),
        ],
        ..good()
    };
    assert_eq!(
        mapping::validate(&m, users, &fields(), &roles(), None),
        Ok(())
    );
    let c = Compiled::new(&m).unwrap();
    let r = |groups: &[GroupRef]| c.roles(users, groups, &roles());
    // By name, ignoring case and spaces; Infraon's spelling of the role.
    assert_eq!(r(&[g("00g1", " itsm admins ")]), vec!["Administrator"]);
    // By id only: a group named like the rule but with another id does not match.
    assert_eq!(r(&[g("00gCAB", "CAB")]), vec!["Change Manager"]);
    assert_eq!(r(&[g("00gX", "00gCAB")]), vec!["Technician"]);
    // By pattern.
    assert_eq!(r(&[g("00g2", "Infraon-Pune-Techs")]), vec!["Technician"]);
    // `{group}`: the role named like the group, at the rule's priority.
    assert_eq!(r(&[g("00g3", "change manager")]), vec!["Change Manager"]);
    // Every match grants; lower priority first; the best priority of a role counts.
    assert_eq!(
        r(&[
            g("00g2", "infraon-pune-techs"),
            g("00gCAB", "CAB"),
            g("00g1", "ITSM Admins"),
        ]),
        vec!["Administrator", "Change Manager", "Technician"]
    );
    // `{group}` never grants a privileged role: only a rule naming it does.
    assert_eq!(
        r(&[g("00gCAB", "CAB"), g("00g9", "Administrator")]),
        vec!["Change Manager"]
    );
    // Nothing matches (the Requesters rule is not for Users): the default.
    assert_eq!(r(&[g("00g4", "Everyone")]), vec!["Technician"]);
    assert_eq!(r(&[]), vec!["Technician"]);
    let mut m2 = m.clone();
    m2.default_user_role = Some("change manager".into());
    let c2 = Compiled::new(&m2).unwrap();
    assert_eq!(
        c2.roles::<GroupRef>(users, &[], &roles()),
        vec!["Change Manager"]
    );
    // Requesters see only their rules and their default.
    let req = SyncTarget::Requesters;
    assert_eq!(
        c.roles(req, &[g("00g4", "everyone")], &roles()),
        vec!["VIP Requester"]
    );
    assert_eq!(
        c.roles(req, &[g("00g1", "ITSM Admins")], &roles()),
        vec!["Requester"]
    );
    // A role gone from Infraon since the mapping was saved is skipped.
    let fewer: Vec<Role> = roles()
        .into_iter()
        .filter(|r| r.name != "Administrator")
        .collect();
    assert_eq!(
        c.roles(users, &[g("00g1", "ITSM Admins")], &fewer),
        vec!["Technician"]
    );
}

#[test]
fn a_role_infraon_does_not_have_is_refused_by_name() {
    use GroupMatcher::Name;
    let check = |m: &Mapping| mapping::validate(m, SyncTarget::Users, &fields(), &roles(), None);
    let mut m = good();
    m.role_rules = vec![rule(Name("Wizards".into()), "Wizard", 1, SyncTarget::Users)];
    assert_eq!(check(&m), Err(MapError::UnknownRole("Wizard".into())));
    // A role of the other population does not count.
    m.role_rules = vec![rule(
        Name("VIPs".into()),
        "VIP Requester",
        1,
        SyncTarget::Users,
    )];
    assert_eq!(
        check(&m),
        Err(MapError::UnknownRole("VIP Requester".into()))
    );
    m.role_rules = vec![rule(
        Name("VIPs".into()),
        "VIP Requester",
        1,
        SyncTarget::Requesters,
    )];
    assert_eq!(check(&m), Ok(()));
    m.default_requester_role = Some("Guest".into());
    assert_eq!(check(&m), Err(MapError::UnknownRole("Guest".into())));

    let mut w = World::new(SyncTarget::Users);
    let mut m = defaults(SyncTarget::Users);
    m.role_rules
        .push(rule(Name("Wizards".into()), "Wizard", 1, SyncTarget::Users));
    assert_eq!(
        mapping::set(&mut w.host(), CONFIG, m),
        Err(MapError::UnknownRole("Wizard".into()))
    );
    assert!(!w.storage.map.contains_key("state/acme/mapping"));
}

#[test]
fn get_set_reset_keep_a_mapping_per_config() {
    let mut w = World::new(SyncTarget::Requesters);
    let d = mapping::get(&mut w.host(), CONFIG).unwrap();
    assert_eq!(d, defaults(SyncTarget::Requesters));
    assert_eq!(d.default_requester_role.as_deref(), Some("Requester"));
    // The defaults are a valid mapping for the fake Infraon.
    mapping::set(&mut w.host(), CONFIG, d.clone()).unwrap();
    let mut m = d.clone();
    m.fields.push(FieldMapping::new(
        "custom.team",
        "{department}/{title}",
        vec![LowerCase],
    ));
    mapping::set(&mut w.host(), "ACME", m.clone()).unwrap();
    assert!(w.storage.map.contains_key("state/acme/mapping"));
    assert_eq!(mapping::get(&mut w.host(), CONFIG).unwrap(), m);
    assert_eq!(mapping::reset(&mut w.host(), CONFIG).unwrap(), d);
    assert!(!w.storage.map.contains_key("state/acme/mapping"));
    assert_eq!(mapping::get(&mut w.host(), CONFIG).unwrap(), d);
    for r in [
        mapping::get(&mut w.host(), "nope").map(|_| ()),
        mapping::set(&mut w.host(), "nope", d.clone()),
        mapping::reset(&mut w.host(), "nope").map(|_| ()),
        mapping::preview(&mut w.host(), "nope", "x").map(|_| ()),
        mapping::discover_schema(&mut w.host(), "nope").map(|_| ()),
    ] {
        assert_eq!(r, Err(MapError::UnknownConfig("nope".into())));
    }
}

/// A mapping that uses every feature: templates, transforms, rules.
fn custom_mapping() -> Mapping {
    use GroupMatcher::{Id, NamePattern};
    let users = SyncTarget::Users;
    Mapping {
        fields: vec![
            FieldMapping::new("login", "{employeeNumber}", vec![LowerCase]),
            FieldMapping::new("email", "email", vec![Trim, UpperCase]),
            FieldMapping::new("first_name", "firstName", vec![]),
            FieldMapping::new("display_name", "{lastName}, {firstName}", vec![]),
            FieldMapping::new("phone", "mobilePhone", vec![Extract(r"(\d{4})$".into())]),
            FieldMapping::new(
                "department",
                "division",
                vec![DefaultValue("{department} (default)".into())],
            ),
            FieldMapping::new("custom.badge", "badgeNumber", vec![]),
        ],
        role_rules: vec![
            rule(Id("00gADM".into()), "Administrator", 1, users),
            rule(NamePattern("*desk*".into()), "Service Desk Agent", 2, users),
        ],
        default_user_role: Some("Change Manager".into()),
        default_requester_role: None,
    }
}

fn org(w: &mut World) {
    for i in 0..4 {
        w.okta.add_user(&uid(i), "ACTIVE", profile(i));
    }
    w.okta.add_group("00gADM", "Admins");
    w.okta.add_group("00gSD", "Service Desk EMEA");
    w.okta.add_group("00gX", "Other");
    w.okta.add_member("00gADM", &uid(0));
    w.okta.add_member("00gSD", &uid(0));
    w.okta.add_member("00gSD", &uid(1));
    w.okta.add_member("00gX", &uid(2));
}

fn last_written(w: &World, id: &str) -> Person {
    w.dir
        .written
        .iter()
        .rev()
        .find(|p| p.external_id == id)
        .cloned()
        .unwrap()
}

#[test]
fn preview_equals_what_a_following_sync_writes() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    mapping::discover_schema(&mut w.host(), CONFIG).unwrap();
    let mut m = custom_mapping();
    // `division` is base in Okta but the fake's schema leaves it out.
    m.fields[5].source = "title".into();
    mapping::set(&mut w.host(), CONFIG, m).unwrap();
    let mut previews = Vec::new();
    for i in 0..4 {
        let before = w.okta.log.len();
        let p = mapping::preview(&mut w.host(), CONFIG, &format!("USER{i}@acme.com")).unwrap();
        let urls: Vec<&str> = w.okta.log[before..]
            .iter()
            .map(|l| l.url.as_str())
            .collect();
        assert_eq!(
            urls,
            vec![
                format!("{}/api/v1/users/USER{i}%40acme.com", common::okta::ORIGIN),
                format!("{}/api/v1/users/{}/groups", common::okta::ORIGIN, uid(i)),
            ]
        );
        previews.push(p);
    }
    let p0 = &previews[0];
    assert_eq!(p0.login, "e00000");
    assert_eq!(p0.email, "USER0@ACME.COM");
    assert_eq!(p0.display_name, "Last0, First0");
    assert_eq!(p0.last_name, "");
    assert_eq!(p0.roles, vec!["Administrator", "Service Desk Agent"]);
    assert_eq!(
        p0.fields,
        vec![
            ("custom.badge".to_string(), "1000".to_string()),
            ("department".into(), "Engineer".into()),
            ("phone".into(), "0000".into()),
        ]
    );
    assert_eq!(previews[1].roles, vec!["Service Desk Agent"]);
    assert_eq!(previews[2].roles, vec!["Change Manager"]);
    assert!(w.dir.written.is_empty(), "preview wrote to the directory");

    let r = w.run(SyncMode::Full);
    assert_eq!(r.counts.created, 4);
    for (i, p) in previews.iter().enumerate() {
        assert_eq!(&last_written(&w, &uid(i)), p, "user {i}");
    }
}

#[test]
fn preview_of_an_unknown_login_says_so() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    assert_eq!(
        mapping::preview(&mut w.host(), CONFIG, "ghost@acme.com"),
        Err(MapError::UnknownUser("ghost@acme.com".into()))
    );
    w.okta.set_profile(&uid(3), "email", Value::Null);
    match mapping::preview(&mut w.host(), CONFIG, "user3@acme.com") {
        Err(MapError::Other(m)) => assert!(m.contains("missing-required-field"), "{m}"),
        other => panic!("{other:?}"),
    }
    w.okta.sticky = Some(("/groups".into(), common::okta::Fault::Status(500)));
    assert!(matches!(
        mapping::preview(&mut w.host(), CONFIG, "user0@acme.com"),
        Err(MapError::Okta(_))
    ));
}

#[test]
fn a_new_mapping_applies_from_the_next_run_not_to_one_already_started() {
    let mut w = World::new(SyncTarget::Users);
    org(&mut w);
    let mut run = w.start(SyncMode::Full).unwrap();
    w.step(&mut run).unwrap();
    mapping::set(&mut w.host(), CONFIG, custom_mapping()).unwrap();
    // Even a run picked up again from its checkpoint keeps its mapping.
    drop(run);
    let mut resumed = plugin_core::SyncRun::resume(&mut w.host(), CONFIG)
        .unwrap()
        .unwrap();
    w.finish(&mut resumed).unwrap();
    let p0 = w.person(&uid(0)).clone();
    assert_eq!(p0.login, "user0@acme.com");
    assert_eq!(p0.roles, vec!["Technician"]);
    assert_eq!(w.person(&uid(1)).roles, vec!["Technician"]);

    let r = w.run(SyncMode::Full);
    assert_eq!(r.counts.updated, 4);
    let p0 = w.person(&uid(0));
    assert_eq!(p0.login, "e00000");
    assert_eq!(p0.roles, vec!["Administrator", "Service Desk Agent"]);
    assert_eq!(w.person(&uid(1)).roles, vec!["Service Desk Agent"]);
    assert_eq!(w.person(&uid(3)).roles, vec!["Change Manager"]);

    // Back to the defaults: the run after that restores the default record.
    mapping::reset(&mut w.host(), CONFIG).unwrap();
    w.run(SyncMode::Full);
    assert_eq!(w.person(&uid(0)).login, "user0@acme.com");
    assert_eq!(w.person(&uid(0)).roles, vec!["Technician"]);
}

#[test]
fn preview_with_the_default_mapping_equals_the_sync_too() {
    let mut w = World::new(SyncTarget::Requesters);
    org(&mut w);
    w.okta.add_group("00gV", "vip requester");
    w.okta.add_member("00gV", &uid(3));
    let previews: Vec<Person> = (0..4)
        .map(|i| mapping::preview(&mut w.host(), CONFIG, &uid(i)).unwrap())
        .collect();
    // The default mapping grants only the default role, whatever the groups.
    assert_eq!(previews[3].roles, vec!["Requester"]);
    assert_eq!(previews[0].roles, vec!["Requester"]);
    assert!(
        previews[0]
            .fields
            .contains(&("custom.officeLocation".into(), "Pune".into()))
    );
    w.run(SyncMode::Full);
    for (i, p) in previews.iter().enumerate() {
        assert_eq!(&last_written(&w, &uid(i)), p, "user {i}");
        assert_eq!(w.person(&uid(i)), p, "user {i}");
    }
}
