//! One line of `export` (and of `scan --json`): a key, its value and its expiry as JSON.
//!
//! `{"key":"user:1","value":"Ada","expires_at_ms":1767225600000}`. A key or value that is
//! not UTF-8 appears as `key_base64` / `value_base64` instead. `expires_at_ms` is the
//! absolute expiry (unix milliseconds), so a TTL survives any delay between export and
//! import; it is left out for a key without expiry.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::json;

/// A line as import reads it; unknown fields are refused so that a typo is not silently
/// ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    key: Option<String>,
    key_base64: Option<String>,
    value: Option<String>,
    value_base64: Option<String>,
    expires_at_ms: Option<u64>,
}

/// A decoded line.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub expires_at_ms: Option<u64>,
}

/// The JSON object of one entry.
pub fn to_json(key: &[u8], value: &[u8], expires_at_ms: Option<u64>) -> Map<String, Value> {
    let mut object = json::object_for_key(key);
    json::put_bytes(&mut object, "value", value);
    if let Some(at) = expires_at_ms {
        object.insert("expires_at_ms".into(), Value::from(at));
    }
    object
}

/// Decodes one line; the error says what is wrong with it.
pub fn parse(line: &[u8]) -> Result<Entry, String> {
    let line: Line = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    Ok(Entry {
        key: json::take_bytes("key", line.key, line.key_base64)?,
        value: json::take_bytes("value", line.value, line.value_base64)?,
        expires_at_ms: line.expires_at_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_binary_and_expiry() {
        let json = Value::Object(to_json(b"\xff\x00k", b"v", Some(42))).to_string();
        assert_eq!(
            json,
            r#"{"key_base64":"/wBr","value":"v","expires_at_ms":42}"#
        );
        assert_eq!(
            parse(json.as_bytes()),
            Ok(Entry {
                key: b"\xff\x00k".to_vec(),
                value: b"v".to_vec(),
                expires_at_ms: Some(42)
            })
        );
        assert!(parse(br#"{"key":"k"}"#).is_err());
        assert!(parse(br#"{"key":"k","value":"v","ttl":3}"#).is_err());
        assert!(parse(b"not json").is_err());
    }
}
