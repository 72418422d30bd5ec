//! One line of `export` (and of `scan --json`): a key, its contents and its expiry as JSON.
//!
//! ```text
//! {"key":"user:1","value":"Ada","expires_at_ms":1767225600000}
//! {"key":"user:2","type":"hash","fields":[{"field":"name","value":"Grace"}]}
//! {"key":"tags","type":"set","members":["a","b"]}
//! {"key":"queue","type":"list","values_base64":["/w==","YQ=="]}
//! {"key":"board","type":"zset","members":[{"member":"bob","score":-1.5},{"member":"ann","score":"inf"}]}
//! ```
//!
//! A string has no `type` (so lines written before collections existed still import);
//! `"type":"string"` is accepted too. Bytes that are not UTF-8 appear base64-encoded under
//! a name ending in `_base64` (`key_base64`, `value_base64`, `field_base64`); a set's
//! members and a list's values are `members` / `values` when every one is UTF-8, else
//! `members_base64` / `values_base64`, every one encoded (so a list keeps its order). A
//! sorted set's members are objects with a score (see `scored_members`), lowest score
//! first. `expires_at_ms` is the absolute expiry (unix milliseconds), so a TTL
//! survives any delay between export and import; it is left out for a key without expiry.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::cmd::contents::Contents;
use crate::cmd::scored_members;
use crate::json;

/// A line as import reads it; unknown fields are refused so that a typo is not silently
/// ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: Option<String>,
    key_base64: Option<String>,
    #[serde(rename = "type")]
    type_name: Option<String>,
    value: Option<String>,
    value_base64: Option<String>,
    fields: Option<Vec<FieldLine>>,
    /// Strings for a set, `{"member", "score"}` objects for a sorted set.
    members: Option<Vec<Value>>,
    members_base64: Option<Vec<String>>,
    values: Option<Vec<String>>,
    values_base64: Option<Vec<String>>,
    expires_at_ms: Option<u64>,
}

/// One field of a hash: `{"field": ..., "value": ...}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldLine {
    field: Option<String>,
    field_base64: Option<String>,
    value: Option<String>,
    value_base64: Option<String>,
}

/// A decoded line.
#[derive(Debug, PartialEq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub contents: Contents,
    pub expires_at_ms: Option<u64>,
}

/// The JSON object of one key: its contents, then its expiry when it has one.
pub fn to_json(key: &[u8], contents: &Contents, expires_at_ms: Option<u64>) -> Map<String, Value> {
    let mut object = contents_json(key, contents);
    if let Some(at) = expires_at_ms {
        object.insert("expires_at_ms".into(), Value::from(at));
    }
    object
}

/// The object without the expiry (`get --json`): `key`, then `value` for a string, or
/// `type` and `fields`/`members`/`values` for a collection.
pub fn contents_json(key: &[u8], contents: &Contents) -> Map<String, Value> {
    let mut object = json::object_for_key(key);
    match contents {
        Contents::String(value) => json::put_bytes(&mut object, "value", value),
        Contents::Hash(fields) => {
            object.insert("type".into(), Value::from(contents.type_name()));
            let fields = fields
                .iter()
                .map(|(field, value)| {
                    let mut pair = Map::new();
                    json::put_bytes(&mut pair, "field", field);
                    json::put_bytes(&mut pair, "value", value);
                    Value::Object(pair)
                })
                .collect::<Vec<_>>();
            object.insert("fields".into(), Value::from(fields));
        }
        Contents::Set(members) => {
            object.insert("type".into(), Value::from(contents.type_name()));
            json::put_byte_list(&mut object, "members", members);
        }
        Contents::List(values) => {
            object.insert("type".into(), Value::from(contents.type_name()));
            json::put_byte_list(&mut object, "values", values);
        }
        Contents::ZSet(members) => {
            object.insert("type".into(), Value::from(contents.type_name()));
            object.insert("members".into(), scored_members::to_json(members));
        }
    }
    object
}

/// Decodes one line; the error says what is wrong with it.
pub fn parse(line: &[u8]) -> Result<Entry, String> {
    let line: Line = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let key = json::take_bytes("key", line.key, line.key_base64)?;
    let type_name = line.type_name.as_deref().unwrap_or("string");
    let given = [
        ("value", line.value.is_some() || line.value_base64.is_some()),
        ("fields", line.fields.is_some()),
        (
            "members",
            line.members.is_some() || line.members_base64.is_some(),
        ),
        (
            "values",
            line.values.is_some() || line.values_base64.is_some(),
        ),
    ];
    let contents = match type_name {
        "string" => {
            refuse_parts_of_other_types(type_name, "value", &given)?;
            Contents::String(json::take_bytes("value", line.value, line.value_base64)?)
        }
        "hash" => {
            refuse_parts_of_other_types(type_name, "fields", &given)?;
            let fields = line
                .fields
                .ok_or("missing fields (a hash's list of {\"field\", \"value\"})")?
                .into_iter()
                .map(|f| {
                    Ok((
                        json::take_bytes("field", f.field, f.field_base64)?,
                        json::take_bytes("value", f.value, f.value_base64)?,
                    ))
                })
                .collect::<Result<Vec<_>, String>>()?;
            if fields.is_empty() {
                return Err("a hash needs at least one field".into());
            }
            Contents::Hash(fields)
        }
        "set" => {
            refuse_parts_of_other_types(type_name, "members", &given)?;
            let members = line.members.map(strings_of_set).transpose()?;
            let members = json::take_byte_list("members", members, line.members_base64)?;
            if members.is_empty() {
                return Err("a set needs at least one member".into());
            }
            Contents::Set(members)
        }
        "list" => {
            refuse_parts_of_other_types(type_name, "values", &given)?;
            let values = json::take_byte_list("values", line.values, line.values_base64)?;
            if values.is_empty() {
                return Err("a list needs at least one value".into());
            }
            Contents::List(values)
        }
        "zset" => {
            refuse_parts_of_other_types(type_name, "members", &given)?;
            if line.members_base64.is_some() {
                return Err(
                    "a zset has no members_base64 (each member has its own member_base64)".into(),
                );
            }
            let members = scored_members::parse(
                line.members
                    .ok_or("missing members (a zset's list of {\"member\", \"score\"})")?,
            )?;
            if members.is_empty() {
                return Err("a zset needs at least one member".into());
            }
            Contents::ZSet(members)
        }
        other => {
            return Err(format!(
                "unknown type {other:?} (kvctl imports string, hash, set, list and zset)"
            ));
        }
    };
    Ok(Entry {
        key,
        contents,
        expires_at_ms: line.expires_at_ms,
    })
}

/// A set's members as strings: what `take_byte_list` reads.
fn strings_of_set(members: Vec<Value>) -> Result<Vec<String>, String> {
    members
        .into_iter()
        .enumerate()
        .map(|(i, member)| match member {
            Value::String(text) => Ok(text),
            other => Err(format!(
                "members[{i}]: a set's member is a string, not {other}"
            )),
        })
        .collect()
}

/// Refuses a line that has the parts of another type than its own (`own`): a `value` on a
/// hash, say, which would otherwise be lost silently.
fn refuse_parts_of_other_types(
    type_name: &str,
    own: &str,
    given: &[(&str, bool)],
) -> Result<(), String> {
    match given
        .iter()
        .find(|(name, is_given)| *is_given && *name != own)
    {
        Some((name, _)) => Err(format!("a {type_name} has no {name}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(key: &[u8], contents: Contents, expires_at_ms: Option<u64>) -> String {
        Value::Object(to_json(key, &contents, expires_at_ms)).to_string()
    }

    #[test]
    fn string_lines_round_trip_binary_and_expiry() {
        let json = line(b"\xff\x00k", Contents::String(b"v".to_vec()), Some(42));
        assert_eq!(
            json,
            r#"{"key_base64":"/wBr","value":"v","expires_at_ms":42}"#
        );
        assert_eq!(
            parse(json.as_bytes()),
            Ok(Entry {
                key: b"\xff\x00k".to_vec(),
                contents: Contents::String(b"v".to_vec()),
                expires_at_ms: Some(42)
            })
        );
        assert!(parse(br#"{"key":"k"}"#).is_err());
        assert!(parse(br#"{"key":"k","value":"v","ttl":3}"#).is_err());
        assert!(parse(b"not json").is_err());
        // "type":"string" is the same as no type.
        assert_eq!(
            parse(br#"{"key":"k","type":"string","value":"v"}"#).map(|e| e.contents),
            Ok(Contents::String(b"v".to_vec()))
        );
    }

    #[test]
    fn hash_lines_round_trip_binary_fields_and_values() {
        let fields = vec![
            (b"name".to_vec(), b"Ada".to_vec()),
            (b"\xff".to_vec(), b"\x80".to_vec()),
        ];
        let json = line(b"h", Contents::Hash(fields.clone()), None);
        assert_eq!(
            json,
            r#"{"key":"h","type":"hash","fields":[{"field":"name","value":"Ada"},{"field_base64":"/w==","value_base64":"gA=="}]}"#
        );
        assert_eq!(
            parse(json.as_bytes()),
            Ok(Entry {
                key: b"h".to_vec(),
                contents: Contents::Hash(fields),
                expires_at_ms: None
            })
        );
    }

    #[test]
    fn set_and_list_items_are_all_text_or_all_base64() {
        let members = vec![b"a".to_vec(), b"b".to_vec()];
        let json = line(b"s", Contents::Set(members.clone()), Some(7));
        assert_eq!(
            json,
            r#"{"key":"s","type":"set","members":["a","b"],"expires_at_ms":7}"#
        );
        assert_eq!(
            parse(json.as_bytes()).map(|e| e.contents),
            Ok(Contents::Set(members))
        );
        // One value that is not text: every value in base64, in list order.
        let values = vec![b"z".to_vec(), b"\xfe".to_vec(), b"a".to_vec()];
        let json = line(b"q", Contents::List(values.clone()), None);
        assert_eq!(
            json,
            r#"{"key":"q","type":"list","values_base64":["eg==","/g==","YQ=="]}"#
        );
        assert_eq!(
            parse(json.as_bytes()).map(|e| e.contents),
            Ok(Contents::List(values))
        );
    }

    #[test]
    fn malformed_collection_lines_say_what_is_wrong() {
        for (bad, why) in [
            (r#"{"key":"h","type":"hash"}"#, "missing fields"),
            (
                r#"{"key":"h","type":"hash","fields":[]}"#,
                "at least one field",
            ),
            (
                r#"{"key":"h","type":"hash","fields":[{"field":"f"}]}"#,
                "missing value",
            ),
            (
                r#"{"key":"h","type":"hash","fields":[{"field":"f","value":"v","x":1}]}"#,
                "unknown field",
            ),
            (
                r#"{"key":"h","type":"hash","fields":[],"value":"v"}"#,
                "a hash has no value",
            ),
            (r#"{"key":"s","type":"set"}"#, "missing members"),
            (
                r#"{"key":"s","type":"set","members":[]}"#,
                "at least one member",
            ),
            (
                r#"{"key":"s","type":"set","members_base64":["%"]}"#,
                "members_base64 is not valid base64",
            ),
            (
                r#"{"key":"s","type":"set","members":["a"],"fields":[]}"#,
                "a set has no fields",
            ),
            (r#"{"key":"s","members":["a"]}"#, "a string has no members"),
            (
                r#"{"key":"s","value":"v","fields":[]}"#,
                "a string has no fields",
            ),
            (
                r#"{"key":"z","type":"stream","members":["a"]}"#,
                "unknown type \"stream\"",
            ),
            (
                r#"{"key":"s","type":"set","members":[1]}"#,
                "members[0]: a set's member is a string, not 1",
            ),
            (r#"{"key":"z","type":"zset"}"#, "missing members"),
            (
                r#"{"key":"z","type":"zset","members":[]}"#,
                "at least one member",
            ),
            (
                r#"{"key":"z","type":"zset","members":["a"]}"#,
                "members[0]: invalid type",
            ),
            (
                r#"{"key":"z","type":"zset","members":[{"member":"a","score":1}],"members_base64":[]}"#,
                "a zset has no members_base64",
            ),
            (
                r#"{"key":"z","type":"zset","members":[{"member":"a","score":1}],"values":[]}"#,
                "a zset has no values",
            ),
            (
                r#"{"key":"s","type":"set","members":["a"],"members_base64":["YQ=="]}"#,
                "both members and members_base64",
            ),
            (r#"{"key":"q","type":"list"}"#, "missing values"),
            (
                r#"{"key":"q","type":"list","values":[]}"#,
                "at least one value",
            ),
            (
                r#"{"key":"q","type":"list","values":["a"],"members":["a"]}"#,
                "a list has no members",
            ),
            (r#"{"key":"q","values":["a"]}"#, "a string has no values"),
        ] {
            match parse(bad.as_bytes()) {
                Err(e) => assert!(e.contains(why), "{bad}: {e}"),
                Ok(entry) => panic!("{bad} parsed as {entry:?}"),
            }
        }
    }
}
