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

/// Inserts `items` as `name`, a list of strings when every item is UTF-8, or else as
/// `name_base64`, every item base64-encoded (so that the order of the items is kept).
pub fn put_byte_list(object: &mut Map<String, Value>, name: &str, items: &[Vec<u8>]) {
    let text: Option<Vec<&str>> = items
        .iter()
        .map(|item| std::str::from_utf8(item).ok())
        .collect();
    match text {
        Some(text) => object.insert(name.to_owned(), Value::from(text)),
        None => {
            let encoded: Vec<String> = items.iter().map(|item| BASE64.encode(item)).collect();
            object.insert(format!("{name}_base64"), Value::from(encoded))
        }
    };
}

/// Reads back what [`put_byte_list`] wrote: exactly one of `text` and `base64` must be
/// given.
pub fn take_byte_list(
    name: &str,
    text: Option<Vec<String>>,
    base64: Option<Vec<String>>,
) -> Result<Vec<Vec<u8>>, String> {
    match (text, base64) {
        (Some(text), None) => Ok(text.into_iter().map(String::into_bytes).collect()),
        (None, Some(encoded)) => encoded
            .iter()
            .map(|item| decode_base64(&format!("{name}_base64"), item))
            .collect(),
        (None, None) => Err(format!("missing {name} (or {name}_base64)")),
        (Some(_), Some(_)) => Err(format!("both {name} and {name}_base64 given")),
    }
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

    #[test]
    fn a_list_is_text_only_when_every_item_is() {
        let mut object = Map::new();
        put_byte_list(&mut object, "values", &[b"a".to_vec(), b"b".to_vec()]);
        put_byte_list(&mut object, "members", &[b"a".to_vec(), b"\xff".to_vec()]);
        put_byte_list(&mut object, "empty", &[]);
        assert_eq!(
            Value::Object(object).to_string(),
            r#"{"values":["a","b"],"members_base64":["YQ==","/w=="],"empty":[]}"#
        );
        assert_eq!(
            take_byte_list("m", None, Some(vec!["YQ==".into(), "/w==".into()])),
            Ok(vec![b"a".to_vec(), b"\xff".to_vec()])
        );
        assert_eq!(
            take_byte_list("m", Some(vec!["a".into()]), None),
            Ok(vec![b"a".to_vec()])
        );
        assert!(take_byte_list("m", None, None).is_err());
        assert!(take_byte_list("m", Some(vec![]), Some(vec![])).is_err());
        assert!(take_byte_list("m", None, Some(vec!["%".into()])).is_err());
    }
}
