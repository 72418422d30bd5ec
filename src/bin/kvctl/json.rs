//! Bytes in JSON: a JSON string must be Unicode, a key or value need not be. Text goes in
//! a field as it is (`"key": "user:1"`); other bytes go base64-encoded in a field whose name
//! says so (`"key_base64": "AP8="`). `--json` output, export and import all use this.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

/// Inserts `bytes` as `name` (UTF-8) or `name_base64` (anything else).
pub fn put_bytes(object: &mut Map<String, Value>, name: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => object.insert(name.to_owned(), Value::from(text)),
        Err(_) => object.insert(format!("{name}_base64"), Value::from(BASE64.encode(bytes))),
    };
}

/// Reads back what [`put_bytes`] wrote: exactly one of `text` and `base64` must be given.
pub fn take_bytes(
    name: &str,
    text: Option<String>,
    base64: Option<String>,
) -> Result<Vec<u8>, String> {
    match (text, base64) {
        (Some(text), None) => Ok(text.into_bytes()),
        (None, Some(encoded)) => decode_base64(&format!("{name}_base64"), &encoded),
        (None, None) => Err(format!("missing {name} (or {name}_base64)")),
        (Some(_), Some(_)) => Err(format!("both {name} and {name}_base64 given")),
    }
}

/// Decodes `encoded`, the value of the JSON field `field`.
pub fn decode_base64(field: &str, encoded: &str) -> Result<Vec<u8>, String> {
    BASE64
        .decode(encoded)
        .map_err(|e| format!("{field} is not valid base64: {e}"))
}

/// Splits byte strings into those that are UTF-8 (as text) and the others (base64), each
/// in the order given: the two lists of a set's members.
pub fn split_text_and_base64(items: &[Vec<u8>]) -> (Vec<&str>, Vec<String>) {
    let mut text = Vec::new();
    let mut binary = Vec::new();
    for item in items {
        match std::str::from_utf8(item) {
            Ok(t) => text.push(t),
            Err(_) => binary.push(BASE64.encode(item)),
        }
    }
    (text, binary)
}

/// An object with `key` set from `key_bytes`: the start of most `--json` answers.
pub fn object_for_key(key: &[u8]) -> Map<String, Value> {
    let mut object = Map::new();
    put_bytes(&mut object, "key", key);
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_stays_text_and_binary_is_base64() {
        let mut object = Map::new();
        put_bytes(&mut object, "key", b"user:1");
        put_bytes(&mut object, "value", b"\x00\xff");
        assert_eq!(
            Value::Object(object).to_string(),
            r#"{"key":"user:1","value_base64":"AP8="}"#
        );
        assert_eq!(
            take_bytes("value", None, Some("AP8=".into())),
            Ok(vec![0, 255])
        );
        assert!(take_bytes("value", None, None).is_err());
        assert!(take_bytes("value", Some("a".into()), Some("YQ==".into())).is_err());
        assert!(take_bytes("value", None, Some("!!".into())).is_err());
    }
}
