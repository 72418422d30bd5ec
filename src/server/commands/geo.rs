//! Geospatial commands on sorted sets, as Redis stores them: a member's score is the
//! 52-bit interleaved geohash of its position (26 bits of latitude in the even bits, 26 of
//! longitude in the odd ones, latitude over the Web Mercator range ±85.05112878°), so any
//! sorted set command works on a geo set too. Positions read back are the centres of their
//! geohash cells; distances are haversine distances on Redis's Earth radius.

use crate::ValueType;
use crate::datatypes::zset::{self, ZAddOptions};
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_FLOAT, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

const LONG_MIN: f64 = -180.0;
const LONG_MAX: f64 = 180.0;
const LAT_MIN: f64 = -85.051_128_78;
const LAT_MAX: f64 = 85.051_128_78;
const STEP: u32 = 26;
const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;

/// The bits of `x` (26 of them) spread to the even positions.
fn spread(x: u32) -> u64 {
    let mut x = u64::from(x);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// The even bits of `x`, gathered.
fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// The cell of a position at 26 bits per axis, latitude over `[lat_min, lat_max]`.
fn encode(longitude: f64, latitude: f64, lat_min: f64, lat_max: f64) -> u64 {
    let cells = f64::from(1u32 << STEP);
    let lat_offset = (latitude - lat_min) / (lat_max - lat_min) * cells;
    let long_offset = (longitude - LONG_MIN) / (LONG_MAX - LONG_MIN) * cells;
    spread(lat_offset as u32) | (spread(long_offset as u32) << 1)
}

/// A score as Redis turns it into geohash bits: C's `(uint64_t)` conversion as x86-64
/// compilers emit it, which matters for scores no GEOADD wrote (negative, infinite, past
/// 2^64): below 2^63 a signed conversion (out of range or NaN: `0x8000000000000000`),
/// from 2^63 up the same after subtracting 2^63, with the top bit flipped back.
fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let signed = |x: f64| -> u64 {
        if x.is_nan() || !(-TWO_63..TWO_63).contains(&x) {
            1 << 63
        } else {
            x as i64 as u64
        }
    };
    if score < TWO_63 || score.is_nan() {
        signed(score)
    } else {
        signed(score - TWO_63) ^ (1 << 63)
    }
}

/// The centre of a score's cell: (longitude, latitude).
fn decode(score: f64) -> (f64, f64) {
    let bits = score_bits(score);
    let (lat_cell, long_cell) = (f64::from(squash(bits)), f64::from(squash(bits >> 1)));
    let cells = f64::from(1u32 << STEP);
    let (lat_scale, long_scale) = (LAT_MAX - LAT_MIN, LONG_MAX - LONG_MIN);
    let lat_lo = LAT_MIN + (lat_cell / cells) * lat_scale;
    let lat_hi = LAT_MIN + ((lat_cell + 1.0) / cells) * lat_scale;
    let long_lo = LONG_MIN + (long_cell / cells) * long_scale;
    let long_hi = LONG_MIN + ((long_cell + 1.0) / cells) * long_scale;
    (
        ((long_lo + long_hi) / 2.0).clamp(LONG_MIN, LONG_MAX),
        ((lat_lo + lat_hi) / 2.0).clamp(LAT_MIN, LAT_MAX),
    )
}

fn radians(degrees: f64) -> f64 {
    degrees * (std::f64::consts::PI / 180.0)
}

/// Haversine distance in meters, as Redis computes it (same longitude: along the
/// meridian).
fn distance(long1: f64, lat1: f64, long2: f64, lat2: f64) -> f64 {
    let v = ((radians(long2) - radians(long1)) / 2.0).sin();
    if v == 0.0 {
        return EARTH_RADIUS_IN_METERS * (radians(lat2) - radians(lat1)).abs();
    }
    let (lat1, lat2) = (radians(lat1), radians(lat2));
    let u = ((lat2 - lat1) / 2.0).sin();
    let a = u * u + lat1.cos() * lat2.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// Meters per unit: m, km, ft, mi (any case).
fn unit(arg: &[u8]) -> Result<f64, CmdError> {
    match arg {
        u if is(u, "m") => Ok(1.0),
        u if is(u, "km") => Ok(1000.0),
        u if is(u, "ft") => Ok(0.3048),
        u if is(u, "mi") => Ok(1609.34),
        _ => Err(CmdError::fixed(
            "ERR unsupported unit provided. please use M, KM, FT, MI",
        )),
    }
}

/// A coordinate as Redis writes one (`%.17Lf` with the trailing zeros cut).
fn coordinate_text(value: f64) -> String {
    let mut text = format!("{value:.17}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    if text == "-0" {
        text = "0".into();
    }
    text
}

fn reply_coordinate(out: &mut Reply, value: f64) {
    out.double_text(&coordinate_text(value));
}

fn scores_of(
    ks: &dyn KeySpace,
    key: &[u8],
    members: &[&[u8]],
) -> Result<Vec<Option<f64>>, CmdError> {
    let mut scores = Vec::new();
    ks.collections().view_with(&mut |v| {
        scores = zset::scores(v, key, members)?;
        Ok(())
    })?;
    Ok(scores)
}

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: as ZADD with the positions'
/// geohashes as scores.
pub(crate) fn geoadd(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let mut options = ZAddOptions::default();
    let mut at = 2;
    while at < a.len() {
        match a.get(at) {
            o if is(o, "nx") => options.only_new = true,
            o if is(o, "xx") => options.only_existing = true,
            o if is(o, "ch") => options.count_changed = true,
            _ => break,
        }
        at += 1;
    }
    if !(a.len() - at).is_multiple_of(3) || (options.only_new && options.only_existing) {
        return Err(SYNTAX);
    }
    let mut items: Vec<(f64, &[u8])> = Vec::with_capacity((a.len() - at) / 3);
    for i in (at..a.len()).step_by(3) {
        let parse = |arg: &[u8]| crate::collections::score::parse_score(arg).map_err(|_| NOT_FLOAT);
        let (longitude, latitude) = (parse(a.get(i))?, parse(a.get(i + 1))?);
        if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
            return Err(CmdError::new(format!(
                "ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
            )));
        }
        let bits = encode(longitude, latitude, LAT_MIN, LAT_MAX);
        items.push((bits as f64, a.get(i + 2)));
    }
    let mut n = 0;
    ks.collections()
        .edit_with(a.get(1), ValueType::ZSet, &mut |e| {
            n = zset::add(e, &items, options)?;
            Ok(())
        })?;
    out.count(n);
    Ok(())
}

/// GEOPOS key member [...]: each member's position, or a null.
pub(crate) fn geopos(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let members: Vec<&[u8]> = a.iter().skip(2).collect();
    let scores = scores_of(ks, a.get(1), &members)?;
    out.array(members.len());
    for i in 0..members.len() {
        match scores.get(i).copied().flatten() {
            Some(score) => {
                let (longitude, latitude) = decode(score);
                out.array(2);
                reply_coordinate(out, longitude);
                reply_coordinate(out, latitude);
            }
            None => out.null_array(),
        }
    }
    Ok(())
}

/// GEODIST key member1 member2 [M|KM|FT|MI]: null if either is missing.
pub(crate) fn geodist(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    let per_unit = match a.len() {
        4 => 1.0,
        5 => unit(a.get(4))?,
        _ => return Err(SYNTAX),
    };
    let scores = scores_of(ks, a.get(1), &[a.get(2), a.get(3)])?;
    match (
        scores.first().copied().flatten(),
        scores.get(1).copied().flatten(),
    ) {
        (Some(s1), Some(s2)) => {
            let ((long1, lat1), (long2, lat2)) = (decode(s1), decode(s2));
            let d = distance(long1, lat1, long2, lat2) / per_unit;
            out.bulk(format!("{d:.4}").as_bytes());
        }
        _ => out.null(),
    }
    Ok(())
}

/// GEOHASH key member [...]: each member's standard 11-character geohash (latitude over
/// ±90°, the eleventh character always `0`), or a null.
pub(crate) fn geohash(ks: &dyn KeySpace, _: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let members: Vec<&[u8]> = a.iter().skip(2).collect();
    let scores = scores_of(ks, a.get(1), &members)?;
    out.array(members.len());
    for i in 0..members.len() {
        match scores.get(i).copied().flatten() {
            Some(score) => {
                let (longitude, latitude) = decode(score);
                let bits = encode(longitude, latitude, -90.0, 90.0);
                let text: Vec<u8> = (0..11)
                    .map(|i| {
                        let index = if i == 10 {
                            0
                        } else {
                            (bits >> (52 - (i + 1) * 5)) & 0x1f
                        };
                        ALPHABET.get(index as usize).copied().unwrap_or(b'0')
                    })
                    .collect();
                out.bulk(&text);
            }
            None => out.null(),
        }
    }
    Ok(())
}
