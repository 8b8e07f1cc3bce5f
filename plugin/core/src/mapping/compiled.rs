//! A [`Mapping`] checked and prepared once (templates parsed, patterns
//! compiled), then applied to every Okta user of a run or a preview.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};

use regex_lite::Regex;
use serde_json::{Map, Value};

use super::template::{self, Piece, fold, folded_matches, same_folded};
use super::{
    ALL_CUSTOM, CUSTOM_WILDCARD, DEFAULT_REQUESTER_ROLE, DEFAULT_USER_ROLE, GroupMatcher, Mapping,
    ROLE_OF_GROUP, Transform,
};
use crate::config::{FieldError, SyncTarget};
use crate::directory::Role;
use crate::sync::mapping::is_base_attribute;
use crate::sync::memberships::GroupRef;

/// Longest `extract` pattern, in characters: a pattern is a one-liner.
pub const MAX_PATTERN_CHARS: usize = 512;

/// A mapping ready to apply.
#[derive(Debug, Clone)]
pub struct Compiled {
    fields: Vec<Field>,
    /// The targets fields name explicitly (`custom.*` expansion skips them).
    explicit: BTreeSet<String>,
    rules: Vec<Rule>,
    default_user_role: Option<String>,
    default_requester_role: Option<String>,
}

#[derive(Debug, Clone)]
struct Field {
    target: String,
    source: Source,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Source {
    Attr(String),
    Template(Vec<Piece>),
    AllCustom,
}

#[derive(Debug, Clone)]
enum Step {
    Trim,
    Lower,
    Upper,
    Default(Vec<Piece>),
    Extract(Regex),
}

#[derive(Debug, Clone)]
struct Rule {
    matcher: Matcher,
    role: Option<String>,
    priority: u32,
    kind: SyncTarget,
}

#[derive(Debug, Clone)]
enum Matcher {
    Name(String),
    Id(String),
    Pattern(String),
}

/// Where a field error is reported: the target, or its position when blank.
pub(super) fn field_label(index: usize, target: &str) -> String {
    if target.trim().is_empty() {
        format!("fields[{index}]")
    } else {
        target.to_owned()
    }
}

fn source(target: &str, source: &str) -> Result<Source, String> {
    match (target == CUSTOM_WILDCARD, source == ALL_CUSTOM) {
        (true, true) => Ok(Source::AllCustom),
        (true, false) => Err(format!(
            "`{CUSTOM_WILDCARD}` takes every custom attribute: its source must be `{ALL_CUSTOM}`"
        )),
        (false, true) => Err(format!(
            "the source `{ALL_CUSTOM}` only goes with the target `{CUSTOM_WILDCARD}`"
        )),
        _ if template::is_template(source) => template::parse(source)
            .map(Source::Template)
            .map_err(|m| format!("the source template is not valid: {m}")),
        _ => template::check_attribute(source.trim())
            .map(|()| Source::Attr(source.trim().to_owned()))
            .map_err(|m| format!("the source {m}")),
    }
}

fn step(t: &Transform) -> Result<Step, String> {
    Ok(match t {
        Transform::Trim => Step::Trim,
        Transform::LowerCase => Step::Lower,
        Transform::UpperCase => Step::Upper,
        Transform::DefaultValue(v) => Step::Default(
            template::parse(v).map_err(|m| format!("the default value is not valid: {m}"))?,
        ),
        Transform::Extract(p) => {
            if p.chars().count() > MAX_PATTERN_CHARS {
                return Err(format!(
                    "the extract pattern is longer than {MAX_PATTERN_CHARS} characters"
                ));
            }
            let re = Regex::new(p)
                .map_err(|e| format!("the extract pattern `{p}` is not valid: {e}"))?;
            if re.captures_len() < 2 {
                return Err(format!(
                    "the extract pattern `{p}` has no capture group: put what to keep in parentheses"
                ));
            }
            Step::Extract(re)
        }
    })
}

fn rule_matcher(m: &GroupMatcher) -> Result<Matcher, String> {
    let (value, what) = match m {
        GroupMatcher::Name(v) => (v, "group name"),
        GroupMatcher::Id(v) => (v, "group id"),
        GroupMatcher::NamePattern(v) => (v, "group name pattern"),
    };
    if value.trim().is_empty() {
        return Err(format!("the {what} is empty"));
    }
    Ok(match m {
        GroupMatcher::Name(v) => Matcher::Name(fold(v)),
        GroupMatcher::Id(v) => Matcher::Id(v.trim().to_owned()),
        GroupMatcher::NamePattern(v) => Matcher::Pattern(fold(v)),
    })
}

impl Compiled {
    /// Check a mapping's syntax and prepare it: every source, template,
    /// pattern and rule, each error naming its field (or `role-rules[i]`).
    pub fn new(m: &Mapping) -> Result<Compiled, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fields = Vec::new();
        for (i, f) in m.fields.iter().enumerate() {
            let label = field_label(i, &f.target);
            let src = source(&f.target, &f.source);
            let steps: Result<Vec<Step>, String> = f.transforms.iter().map(step).collect();
            match (src, steps) {
                (Ok(source), Ok(steps)) => fields.push(Field {
                    target: f.target.clone(),
                    source,
                    steps,
                }),
                (src, steps) => {
                    for m in [src.err(), steps.err()].into_iter().flatten() {
                        errors.push(FieldError::new(&label, m));
                    }
                }
            }
        }
        let mut rules = Vec::new();
        for (i, r) in m.role_rules.iter().enumerate() {
            let label = format!("role-rules[{i}]");
            if r.role.trim().is_empty() {
                errors.push(FieldError::new(&label, "the rule grants no role"));
                continue;
            }
            match rule_matcher(&r.matcher) {
                Ok(matcher) => rules.push(Rule {
                    matcher,
                    role: (r.role.trim() != ROLE_OF_GROUP).then(|| r.role.trim().to_owned()),
                    priority: r.priority,
                    kind: r.kind,
                }),
                Err(m) => errors.push(FieldError::new(&label, m)),
            }
        }
        for (label, role) in [
            ("default-user-role", &m.default_user_role),
            ("default-requester-role", &m.default_requester_role),
        ] {
            if role.as_ref().is_some_and(|r| r.trim().is_empty()) {
                errors.push(FieldError::new(
                    label,
                    "the default role is empty; leave it unset for the standard default",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Compiled {
            explicit: fields.iter().map(|f| f.target.clone()).collect(),
            fields,
            rules,
            default_user_role: m.default_user_role.clone(),
            default_requester_role: m.default_requester_role.clone(),
        })
    }

    /// The Infraon fields of a profile: `(target, value)` for every mapped
    /// field whose value is not empty, `custom.*` expanded, sorted by target.
    pub fn values(&self, profile: &Map<String, Value>) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::with_capacity(self.fields.len() + 8);
        let explicit = &self.explicit;
        for f in &self.fields {
            match &f.source {
                Source::AllCustom => {
                    for k in profile.keys().filter(|k| !is_base_attribute(k)) {
                        let target = format!("custom.{k}");
                        if !explicit.contains(&target) {
                            out.push((target, self.apply(f, template::text(profile, k), profile)));
                        }
                    }
                }
                Source::Attr(a) => {
                    let v = self.apply(f, template::text(profile, a), profile);
                    out.push((f.target.clone(), v));
                }
                Source::Template(t) => {
                    let v = self.apply(f, template::render(t, profile), profile);
                    out.push((f.target.clone(), v));
                }
            }
        }
        // A target given twice keeps its last value: reversed, a stable sort
        // puts that value first, where `dedup` keeps it.
        out.reverse();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|later, kept| later.0 == kept.0);
        out.retain(|(_, v)| !v.is_empty());
        out
    }

    fn apply(&self, f: &Field, mut v: String, profile: &Map<String, Value>) -> String {
        for s in &f.steps {
            v = match s {
                // Most values need no trimming, and then keep their string.
                Step::Trim if v.trim().len() == v.len() => v,
                Step::Trim => v.trim().to_owned(),
                Step::Lower => v.to_lowercase(),
                Step::Upper => v.to_uppercase(),
                Step::Default(t) if v.is_empty() => template::render(t, profile),
                Step::Default(_) => v,
                Step::Extract(re) => re
                    .captures(&v)
                    .and_then(|c| c.get(1))
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_default(),
            };
        }
        v
    }

    /// The roles a person of `kind` in `groups` gets (see the module docs
    /// of [`crate::mapping`]), in Infraon's spelling, ordered by priority.
    pub fn roles<G: Borrow<GroupRef>>(
        &self,
        kind: SyncTarget,
        groups: &[G],
        infraon: &[Role],
    ) -> Vec<String> {
        let find = |name: &str| {
            infraon
                .iter()
                .find(|r| r.kind == kind && same_folded(&r.name, name))
                .map(|r| r.name.clone())
        };
        let mut granted: BTreeMap<String, u32> = BTreeMap::new();
        for rule in self.rules.iter().filter(|r| r.kind == kind) {
            for g in groups
                .iter()
                .map(Borrow::borrow)
                .filter(|g| rule.matches(g))
            {
                let role = match &rule.role {
                    Some(r) => find(r),
                    None => find(&g.name),
                };
                if let Some(role) = role {
                    let p = granted.entry(role).or_insert(rule.priority);
                    *p = (*p).min(rule.priority);
                }
            }
        }
        if granted.is_empty() {
            let default = match kind {
                SyncTarget::Users => self
                    .default_user_role
                    .as_deref()
                    .unwrap_or(DEFAULT_USER_ROLE),
                SyncTarget::Requesters => self
                    .default_requester_role
                    .as_deref()
                    .unwrap_or(DEFAULT_REQUESTER_ROLE),
            };
            if let Some(role) = find(default) {
                granted.insert(role, 0);
            }
        }
        let mut roles: Vec<(u32, String)> = granted.into_iter().map(|(r, p)| (p, r)).collect();
        roles.sort();
        roles.into_iter().map(|(_, r)| r).collect()
    }
}

impl Compiled {
    /// Whether being in `group` can give a person of `kind` a role: a rule
    /// of that population matches the group and names a role Infraon has.
    /// The sync lists the members of `BUILT_IN` and `APP_GROUP` groups only
    /// then (see [`crate::sync`]).
    pub fn can_grant(&self, kind: SyncTarget, group: &GroupRef, infraon: &[Role]) -> bool {
        self.rules
            .iter()
            .filter(|r| r.kind == kind && r.matches(group))
            .any(|r| {
                let name = r.role.as_deref().unwrap_or(&group.name);
                infraon
                    .iter()
                    .any(|x| x.kind == kind && same_folded(&x.name, name))
            })
    }
}

impl Rule {
    fn matches(&self, g: &GroupRef) -> bool {
        match &self.matcher {
            Matcher::Name(n) => same_folded(&g.name, n),
            Matcher::Id(id) => g.id == *id,
            Matcher::Pattern(p) => folded_matches(p, &g.name),
        }
    }
}
