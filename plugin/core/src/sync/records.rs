//! Okta listings parsed into only what the sync reads of them.
//!
//! A users page is a few hundred KiB of JSON, and most of it (`_links`,
//! `credentials`, timestamps) the sync never looks at; a members page is
//! read for ids alone. Parsing every page into a [`serde_json::Value`] tree
//! and dropping it again was most of the plugin's own work in a full sync,
//! so listings are parsed into these records instead.
//!
//! They read a body exactly as `Value` would, so that nothing about what is
//! accepted changes: everything is checked as `Value` checks it (UTF-8,
//! escapes, numbers, nesting depth), a key given twice keeps its last value,
//! and a member of the wrong JSON type reads as absent, as `Value::get` and
//! `Value::as_str` made it. Only what a record keeps is allocated.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::okta_error::JsonBody;

/// A listing's body: a JSON list, or the object Okta sent instead of one.
/// Bodies that are neither are refused while parsing, as for any Okta answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Listing<T> {
    /// The records of the page.
    List(Vec<T>),
    /// A JSON object where a list was expected.
    NotAList,
}

/// An Okta user as the sync reads it: `id`, `status`, `lastUpdated` and
/// `profile`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OktaUser {
    /// `id`, empty when absent or not a string.
    pub id: String,
    /// `status`, empty when absent or not a string.
    pub status: String,
    /// `lastUpdated` (RFC 3339), empty when absent: which of two records of
    /// one person read at once is the later (see `sync::run`).
    pub last_updated: String,
    /// `profile`, empty when absent or not an object.
    pub profile: Map<String, Value>,
}

impl OktaUser {
    /// The same fields read from a parsed user (a single-user GET).
    pub fn from_value(user: &Value) -> OktaUser {
        let text = |k: &str| user.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        OktaUser {
            id: text("id"),
            status: text("status"),
            last_updated: text("lastUpdated"),
            profile: user
                .get("profile")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        }
    }
}

/// An Okta group as the sync reads it: `id`, `type`, `profile.name` and
/// when it or its membership last changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OktaGroup {
    /// `id`, empty when absent or not a string.
    pub id: String,
    /// `profile.name`, empty when absent or not a string.
    pub name: String,
    /// `type` (`OKTA_GROUP`, `APP_GROUP`, `BUILT_IN`), empty when absent.
    pub kind: String,
    /// `lastUpdated` (RFC 3339), empty when absent.
    pub last_updated: String,
    /// `lastMembershipUpdated` (RFC 3339), empty when absent.
    pub last_membership_updated: String,
}

/// A group member as the sync reads it: the user's `id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OktaMember {
    /// `id`, empty when absent or not a string.
    pub id: String,
}

impl<T: for<'de> Deserialize<'de>> JsonBody for Listing<T> {
    fn parse(body: &[u8]) -> serde_json::Result<Option<Self>> {
        let shape: Shape<T> = serde_json::from_slice(body)?;
        Ok(match shape {
            Shape::List(items) => Some(Listing::List(items)),
            Shape::Object => Some(Listing::NotAList),
            Shape::Scalar => None,
        })
    }
}

/// Any JSON value, checked as `Value` would check it and then dropped.
struct Skip;

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Skip, D::Error> {
        Skip::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
}

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Skip, D::Error> {
        // Not `deserialize_ignored_any`: serde_json skips those without the
        // checks `Value` makes (UTF-8, depth), and a body it would refuse
        // must stay refused.
        d.deserialize_any(SkipVisitor)
    }
}

/// The members of a record the sync reads; every other key is [`Key::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Status,
    Profile,
    Name,
    Type,
    LastUpdated,
    LastMembershipUpdated,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E>(self, k: &str) -> Result<Key, E> {
                Ok(match k {
                    "id" => Key::Id,
                    "status" => Key::Status,
                    "profile" => Key::Profile,
                    "name" => Key::Name,
                    "type" => Key::Type,
                    "lastUpdated" => Key::LastUpdated,
                    "lastMembershipUpdated" => Key::LastMembershipUpdated,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// A string member: `None` for any other JSON value, as `Value::as_str`.
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E>(self, s: &str) -> Result<Text, E> {
                Ok(Text(Some(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text, E> {
                Ok(Text(Some(s)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_unit<E>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Text, A::Error> {
                SkipVisitor.visit_seq(seq).map(|_| Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Text, A::Error> {
                SkipVisitor.visit_map(map).map(|_| Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An object member kept whole: `None` for any other JSON value, as
/// `Value::as_object`.
struct Object(Option<Map<String, Value>>);

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Object, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Object;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object, A::Error> {
                Map::deserialize(MapAccessDeserializer::new(map)).map(|m| Object(Some(m)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Object, E> {
                Ok(Object(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Object, E> {
                Ok(Object(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Object, E> {
                Ok(Object(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Object, E> {
                Ok(Object(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Object, E> {
                Ok(Object(None))
            }
            fn visit_unit<E>(self) -> Result<Object, E> {
                Ok(Object(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Object, A::Error> {
                SkipVisitor.visit_seq(seq).map(|_| Object(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A record read member by member from a JSON object; any other JSON value
/// reads as the default record.
trait Record: Default {
    /// Read the value of `key`, the next member of `map`.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error>;
}

/// Skip the value of a member the record does not keep.
fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<Skip>().map(|_| ())
}

/// The value of a string member.
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<String, A::Error> {
    Ok(map.next_value::<Text>()?.0.unwrap_or_default())
}

struct RecordVisitor<T>(PhantomData<T>);

impl<'de, T: Record> Visitor<'de> for RecordVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut record = T::default();
        while let Some(key) = map.next_key::<Key>()? {
            // A key given twice: the last value wins, as in a `Value`.
            record.read(key, &mut map)?;
        }
        Ok(record)
    }
    fn visit_bool<E>(self, _: bool) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_unit<E>(self) -> Result<T, E> {
        Ok(T::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        SkipVisitor.visit_seq(seq).map(|_| T::default())
    }
}

fn record<'de, D: Deserializer<'de>, T: Record>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(RecordVisitor(PhantomData))
}

impl Record for OktaUser {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Id => self.id = text(map)?,
            Key::Status => self.status = text(map)?,
            Key::LastUpdated => self.last_updated = text(map)?,
            Key::Profile => self.profile = map.next_value::<Object>()?.0.unwrap_or_default(),
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for OktaUser {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OktaUser, D::Error> {
        record(d)
    }
}

/// A group's `profile`, for its `name`.
#[derive(Default)]
struct GroupProfile {
    name: String,
}

impl Record for GroupProfile {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Name => self.name = text(map)?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for GroupProfile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<GroupProfile, D::Error> {
        record(d)
    }
}

impl Record for OktaGroup {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Id => self.id = text(map)?,
            // A second `profile` replaces the first whole, name or not.
            Key::Profile => self.name = map.next_value::<GroupProfile>()?.name,
            Key::Type => self.kind = text(map)?,
            Key::LastUpdated => self.last_updated = text(map)?,
            Key::LastMembershipUpdated => self.last_membership_updated = text(map)?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for OktaGroup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OktaGroup, D::Error> {
        record(d)
    }
}

impl Record for OktaMember {
    fn read<'de, A: MapAccess<'de>>(&mut self, key: Key, map: &mut A) -> Result<(), A::Error> {
        match key {
            Key::Id => self.id = text(map)?,
            _ => skip(map)?,
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for OktaMember {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OktaMember, D::Error> {
        record(d)
    }
}

/// The top level of a listing body.
enum Shape<T> {
    List(Vec<T>),
    Object,
    Scalar,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shape<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape<T>, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Shape<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape<T>, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Shape::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Shape<T>, A::Error> {
                SkipVisitor.visit_map(map).map(|_| Shape::Object)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape<T>, E> {
                Ok(Shape::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape<T>, E> {
                Ok(Shape::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape<T>, E> {
                Ok(Shape::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape<T>, E> {
                Ok(Shape::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Shape<T>, E> {
                Ok(Shape::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Shape<T>, E> {
                Ok(Shape::Scalar)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the sync read of a body before these records: a whole `Value`.
    fn as_value(body: &[u8]) -> Result<Option<Listing<Value>>, bool> {
        match <Value as JsonBody>::parse(body) {
            Ok(Some(Value::Array(items))) => Ok(Some(Listing::List(items))),
            Ok(Some(_)) => Ok(Some(Listing::NotAList)),
            Ok(None) => Ok(None),
            Err(e) => Err(e.is_eof()),
        }
    }

    fn group_from_value(g: &Value) -> OktaGroup {
        let at = |path: &[&str]| {
            path.iter()
                .try_fold(g, |v, k| v.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        OktaGroup {
            id: at(&["id"]),
            name: at(&["profile", "name"]),
            kind: at(&["type"]),
            last_updated: at(&["lastUpdated"]),
            last_membership_updated: at(&["lastMembershipUpdated"]),
        }
    }

    /// Each body reads the same as through a `Value`: same refusals (and
    /// the same truncation verdict), same records.
    fn same_as_value(body: &str) {
        let bytes = body.as_bytes();
        let users = <Listing<OktaUser> as JsonBody>::parse(bytes);
        let groups = <Listing<OktaGroup> as JsonBody>::parse(bytes);
        let members = <Listing<OktaMember> as JsonBody>::parse(bytes);
        match as_value(bytes) {
            Err(eof) => {
                for e in [
                    users.map(|_| ()).unwrap_err(),
                    groups.map(|_| ()).unwrap_err(),
                    members.map(|_| ()).unwrap_err(),
                ] {
                    assert_eq!(e.is_eof(), eof, "{body}: {e}");
                }
            }
            Ok(None) => {
                assert!(users.unwrap().is_none(), "{body}");
                assert!(groups.unwrap().is_none(), "{body}");
                assert!(members.unwrap().is_none(), "{body}");
            }
            Ok(Some(Listing::NotAList)) => {
                assert_eq!(users.unwrap(), Some(Listing::NotAList), "{body}");
                assert_eq!(groups.unwrap(), Some(Listing::NotAList), "{body}");
                assert_eq!(members.unwrap(), Some(Listing::NotAList), "{body}");
            }
            Ok(Some(Listing::List(items))) => {
                let want: Vec<OktaUser> = items.iter().map(OktaUser::from_value).collect();
                assert_eq!(users.unwrap(), Some(Listing::List(want)), "{body}");
                let want: Vec<OktaGroup> = items.iter().map(group_from_value).collect();
                assert_eq!(groups.unwrap(), Some(Listing::List(want)), "{body}");
                let want: Vec<OktaMember> = items
                    .iter()
                    .map(|u| OktaMember {
                        id: group_from_value(u).id,
                    })
                    .collect();
                assert_eq!(members.unwrap(), Some(Listing::List(want)), "{body}");
            }
        }
    }

    #[test]
    fn records_read_what_a_value_reads() {
        let deep_ok = format!("[{{\"_links\": {}1{}}}]", "[".repeat(100), "]".repeat(100));
        let too_deep = format!("[{{\"_links\": {}1{}}}]", "[".repeat(200), "]".repeat(200));
        let bodies = [
            r#"[{"id": "00u1", "status": "ACTIVE", "created": "2024-01-01T00:00:00.000Z",
                "profile": {"login": "a@x.io", "email": "a@x.io", "name": "Ada", "n": 1.5,
                            "tags": ["a", 2, null], "nested": {"id": "inner"}},
                "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
                "_links": {"self": {"href": "https://x/api/v1/users/00u1"}}}]"#,
            r#"[{"id": "a", "id": 5}, {"id": 5, "id": "b"}, {"id": null}, {"id": ["c"]}]"#,
            r#"[{"profile": {"name": "G"}, "profile": {"description": "no name"}}]"#,
            r#"[{"profile": {"name": "G"}, "profile": 7}, {"profile": "text"}]"#,
            r#"[{"profile": {"name": 3}}, {"profile": {"name": "A", "name": "B"}}]"#,
            r#"["00u1", 5, null, true, [], [{"id": "x"}], {}]"#,
            r#"[{"i\u0064": "escaped key", "status": "SUSP\u0045NDED"}]"#,
            r#"[{"id": "00u1", "_links": {"self": "\ud800"}}]"#,
            r#"[{"id": "00u1", "_links": 1e400}]"#,
            r#"[{"id": "00u1", "_links": -0.5e-3, "x": 18446744073709551616}]"#,
            r#"[{"id": "00u1"}] trailing"#,
            r#"[{"id": "00u1", "x": tru}]"#,
            r#"[{"id": "00u1", "x": "a"#,
            r#"[{"id": "00u1""#,
            r#"{"errorCode": "E0000001"}"#,
            r#""just a string""#,
            "42",
            "null",
            "",
            "[]",
            "  [ ]  ",
            &deep_ok,
            &too_deep,
        ];
        for body in bodies {
            same_as_value(body);
        }
        // Invalid UTF-8 inside a member the records skip.
        let mut bytes = br#"[{"id": "00u1", "_links": ""#.to_vec();
        bytes.extend_from_slice(&[0xff, 0xfe]);
        bytes.extend_from_slice(br#""}]"#);
        assert!(as_value(&bytes).is_err());
        assert!(<Listing<OktaMember> as JsonBody>::parse(&bytes).is_err());
    }

    #[test]
    fn a_user_keeps_only_id_status_and_profile() {
        let body = br#"[{"id": "00u1", "status": "ACTIVE", "profile": {"login": "l"},
                         "_links": {"self": {"href": "h"}}}]"#;
        let Some(Listing::List(users)) = <Listing<OktaUser> as JsonBody>::parse(body).unwrap()
        else {
            panic!("not a list");
        };
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].id, "00u1");
        assert_eq!(users[0].status, "ACTIVE");
        assert_eq!(users[0].profile.get("login"), Some(&Value::from("l")));
        assert_eq!(users[0].profile.len(), 1);
    }
}
