//! A sorted set's members in JSON: `[{"member":"alice","score":1.5}, ...]`, with
//! `member_base64` for a member that is not UTF-8.
//!
//! A score is a JSON number, written as the shortest decimal that reads back as the same
//! `f64` (and read back exactly: serde_json's `float_roundtrip`), so `export | import`
//! keeps every score bit for bit. JSON has no infinities: `+inf` and `-inf` scores, which
//! Redis allows, are the strings `"inf"` and `"-inf"` (`"+inf"` is read too, as Redis
//! reads it).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::json;

/// One member as import reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoredLine {
    member: Option<String>,
    member_base64: Option<String>,
    score: Option<Value>,
}

/// The JSON list of `members`, in the order given.
pub fn to_json(members: &[(Vec<u8>, f64)]) -> Value {
    let items: Vec<Value> = members
        .iter()
        .map(|(member, score)| {
            let mut object = Map::new();
            json::put_bytes(&mut object, "member", member);
            object.insert("score".into(), score_to_json(*score));
            Value::Object(object)
        })
        .collect();
    Value::from(items)
}

/// Reads back what [`to_json`] wrote (`items` are the elements of the list).
pub fn parse(items: Vec<Value>) -> Result<Vec<(Vec<u8>, f64)>, String> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let line: ScoredLine = serde_json::from_value(item)
                .map_err(|e| format!("members[{i}]: {e} (expected {{\"member\", \"score\"}})"))?;
            let member = json::take_bytes("member", line.member, line.member_base64)
                .map_err(|e| format!("members[{i}]: {e}"))?;
            let score = line
                .score
                .ok_or_else(|| format!("members[{i}]: missing score"))
                .and_then(|score| {
                    score_from_json(&score).map_err(|e| format!("members[{i}]: {e}"))
                })?;
            Ok((member, score))
        })
        .collect()
}

fn score_to_json(score: f64) -> Value {
    if score.is_finite() {
        Value::from(score)
    } else if score > 0.0 {
        Value::from("inf")
    } else {
        Value::from("-inf")
    }
}

fn score_from_json(score: &Value) -> Result<f64, String> {
    let parsed = match score {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "inf" | "+inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    };
    parsed.ok_or_else(|| format!("score {score} is not a number, \"inf\" or \"-inf\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(members: &[(Vec<u8>, f64)]) -> Vec<(Vec<u8>, f64)> {
        let text = to_json(members).to_string();
        let Value::Array(items) = serde_json::from_str(&text).unwrap() else {
            panic!("{text} is not a list");
        };
        parse(items).unwrap()
    }

    #[test]
    fn members_and_infinite_scores_round_trip() {
        let members = vec![
            (b"low".to_vec(), f64::NEG_INFINITY),
            (b"\xff".to_vec(), -0.5),
            (b"zero".to_vec(), 0.0),
            (b"one".to_vec(), 1.0),
            (b"high".to_vec(), f64::INFINITY),
        ];
        assert_eq!(
            to_json(&members).to_string(),
            concat!(
                r#"[{"member":"low","score":"-inf"},{"member_base64":"/w==","score":-0.5},"#,
                r#"{"member":"zero","score":0.0},{"member":"one","score":1.0},"#,
                r#"{"member":"high","score":"inf"}]"#
            )
        );
        assert_eq!(round_trip(&members), members);
    }

    #[test]
    fn every_score_reads_back_bit_for_bit() {
        // Bit patterns from a fixed generator: every exponent, every kind of mantissa.
        // Without serde_json's float_roundtrip some of these read back one unit off.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut members = Vec::new();
        while members.len() < 20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let score = f64::from_bits(state);
            if !score.is_nan() {
                members.push((Vec::new(), score));
            }
        }
        members.extend(
            [0.1 + 0.2, 1e23, 5e-324, 2.225_073_858_507_201e-308, -0.0].map(|s| (Vec::new(), s)),
        );
        for ((_, wrote), (_, read)) in members.iter().zip(round_trip(&members)) {
            assert_eq!(
                wrote.to_bits(),
                read.to_bits(),
                "{wrote:e} read back as {read:e}"
            );
        }
    }

    #[test]
    fn bad_members_say_which_and_why() {
        for (bad, why) in [
            (r#"[{"member":"a"}]"#, "members[0]: missing score"),
            (
                r#"[{"member":"a","score":1},{"score":1}]"#,
                "members[1]: missing member",
            ),
            (r#"[{"member":"a","score":"NaN"}]"#, "is not a number"),
            (r#"[{"member":"a","score":null}]"#, "missing score"),
            (r#"[{"member":"a","score":[1]}]"#, "is not a number"),
            (r#"["a"]"#, "members[0]: invalid type"),
            (r#"[{"member":"a","score":1,"rank":2}]"#, "unknown field"),
        ] {
            let Value::Array(items) = serde_json::from_str(bad).unwrap() else {
                panic!("{bad}");
            };
            match parse(items) {
                Err(e) => assert!(e.contains(why), "{bad}: {e}"),
                Ok(members) => panic!("{bad} parsed as {members:?}"),
            }
        }
    }
}
