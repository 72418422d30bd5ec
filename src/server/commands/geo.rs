//! Geospatial commands on sorted sets, as Redis stores them: a member's score is the
//! 52-bit interleaved geohash of its position (26 bits of latitude in the even bits, 26 of
//! longitude in the odd ones, latitude over the Web Mercator range ±85.05112878°), so any
//! sorted set command works on a geo set too. Positions read back are the centres of their
//! geohash cells; distances are haversine distances on Redis's Earth radius.

use std::ops::Bound;

use super::geo_cells::{
    self, Area, EARTH_RADIUS_IN_METERS, LAT_RANGE, LONG_RANGE, STEP, radians, spread, squash,
};
use crate::ValueType;
use crate::collections::range::Limit;
use crate::datatypes::zset::{self, ZAddOptions};
use crate::server::args::is;
use crate::server::error::{CmdError, CmdResult, NOT_FLOAT, SYNTAX};
use crate::server::frame::Args;
use crate::server::keyspace::KeySpace;
use crate::server::notify::class;
use crate::server::reply::Reply;
use crate::server::shared::Shared;

const LONG_MIN: f64 = LONG_RANGE.0;
const LONG_MAX: f64 = LONG_RANGE.1;
const LAT_MIN: f64 = LAT_RANGE.0;
const LAT_MAX: f64 = LAT_RANGE.1;

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
/// geohashes as scores, and its event (`zadd`, as Redis runs GEOADD as a ZADD).
pub(crate) fn geoadd(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply) -> CmdResult {
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
        let (longitude, latitude) = position_arg(a, i)?;
        let bits = encode(longitude, latitude, LAT_MIN, LAT_MAX);
        items.push((bits as f64, a.get(i + 2)));
    }
    let (mut n, mut changed) = (0, false);
    ks.collections()
        .edit_with(a.get(1), ValueType::ZSet, &mut |e| {
            (n, changed) = super::zsets::add(e, &items, options)?;
            Ok(())
        })?;
    if changed {
        shared.notify(out, class::ZSET, "zadd", a.get(1));
    }
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

/// The area a search covers, sizes in meters.
#[derive(Clone, Copy)]
enum Shape {
    Radius(f64),
    Box { width: f64, height: f64 },
}

/// How a search was called: GEOSEARCH / GEOSEARCHSTORE name the centre and the shape in
/// options; GEORADIUS(_RO) and GEORADIUSBYMEMBER(_RO) in fixed arguments, with STORE and
/// STOREDIST options unless read-only.
#[derive(Clone, Copy, PartialEq)]
enum Search {
    Geosearch { store: bool },
    Radius { by_member: bool, read_only: bool },
}

/// A member found inside the shape.
struct Found {
    member: Vec<u8>,
    score: f64,
    longitude: f64,
    latitude: f64,
    /// From the centre, in meters.
    meters: f64,
}

/// A radius (or a box's sides) and its unit: `(sizes, meters per unit)`, with Redis's
/// errors.
fn sizes(args: &[&[u8]], names: &[&'static str]) -> Result<(Vec<f64>, f64), CmdError> {
    let mut values = Vec::with_capacity(names.len());
    for (arg, name) in args.iter().zip(names) {
        let value = crate::collections::score::parse_score(arg)
            .map_err(|_| CmdError::new(format!("ERR need numeric {name}")))?;
        values.push(value);
    }
    if values.iter().any(|&v| v < 0.0) {
        return Err(CmdError::fixed(if names.len() == 1 {
            "ERR radius cannot be negative"
        } else {
            "ERR height or width cannot be negative"
        }));
    }
    let per_unit = unit(args.get(names.len()).copied().unwrap_or_default())?;
    Ok((values, per_unit))
}

fn position_arg(a: &Args, at: usize) -> Result<(f64, f64), CmdError> {
    let parse = |arg: &[u8]| crate::collections::score::parse_score(arg).map_err(|_| NOT_FLOAT);
    let (longitude, latitude) = (parse(a.get(at))?, parse(a.get(at + 1))?);
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return Err(CmdError::new(format!(
            "ERR invalid longitude,latitude pair {longitude:.6},{latitude:.6}"
        )));
    }
    Ok((longitude, latitude))
}

fn member_position(ks: &dyn KeySpace, key: &[u8], member: &[u8]) -> Result<(f64, f64), CmdError> {
    match scores_of(ks, key, &[member])?.first().copied().flatten() {
        Some(score) => Ok(decode(score)),
        None => Err(CmdError::fixed(
            "ERR could not decode requested zset member",
        )),
    }
}

/// Whether a point lies in `shape` around `centre`, and its distance from it (Redis's
/// `geoAppendIfWithinShape`: a box is checked along the meridian, then the parallel).
fn within(shape: Shape, centre: (f64, f64), point: (f64, f64)) -> Option<f64> {
    let ((x1, y1), (x2, y2)) = (centre, point);
    match shape {
        Shape::Radius(radius) => Some(distance(x1, y1, x2, y2)).filter(|&d| d <= radius),
        Shape::Box { width, height } => {
            let along_meridian = EARTH_RADIUS_IN_METERS * (radians(y1) - radians(y2)).abs();
            if along_meridian > height / 2.0 || distance(x2, y2, x1, y2) > width / 2.0 {
                return None;
            }
            Some(distance(x1, y1, x2, y2))
        }
    }
}

/// A search as its arguments describe it.
struct Request<'a> {
    /// None where the source set does not exist (then no member was looked up).
    centre: Option<(f64, f64)>,
    shape: Option<Shape>,
    /// Meters per unit of the radius or box.
    per_unit: f64,
    /// The destination, and whether it stores distances (STOREDIST) or geohashes.
    store: Option<(&'a [u8], bool)>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    any: bool,
    count: Option<usize>,
    /// ASC (false) or DESC (true), if asked.
    descending: Option<bool>,
}

/// Reads a search's arguments in Redis 7.0's order (`georadiusGeneric`), with its errors.
/// A FROMMEMBER or BYMEMBER member is looked up where the set `exists`.
fn parse_search<'a>(
    ks: &dyn KeySpace,
    a: &'a Args,
    how: Search,
    source: &[u8],
    exists: bool,
) -> Result<Request<'a>, CmdError> {
    let mut r = Request {
        centre: None,
        shape: None,
        per_unit: 1.0,
        store: None,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        any: false,
        count: None,
        descending: None,
    };
    let options_at = match how {
        Search::Radius { by_member, .. } => {
            let radius_at = if by_member { 3 } else { 4 };
            if !by_member {
                r.centre = Some(position_arg(a, 2)?);
            } else if exists {
                r.centre = Some(member_position(ks, source, a.get(2))?);
            }
            let (values, unit) = sizes(&[a.get(radius_at), a.get(radius_at + 1)], &["radius"])?;
            r.shape = values.first().map(|&radius| Shape::Radius(radius * unit));
            r.per_unit = unit;
            radius_at + 2
        }
        Search::Geosearch { store: true } => {
            r.store = Some((a.get(1), false));
            3
        }
        Search::Geosearch { store: false } => 2,
    };
    let geosearch = matches!(how, Search::Geosearch { .. });
    let may_store = matches!(
        how,
        Search::Radius {
            read_only: false,
            ..
        }
    );
    let (mut from_given, mut shape_given) = (false, false);
    let mut i = options_at;
    while i < a.len() {
        let word = a.get(i);
        let left = a.len() - i - 1;
        if is(word, "withdist") {
            r.with_dist = true;
        } else if is(word, "withhash") {
            r.with_hash = true;
        } else if is(word, "withcoord") {
            r.with_coord = true;
        } else if is(word, "any") {
            r.any = true;
        } else if is(word, "asc") || is(word, "desc") {
            r.descending = Some(is(word, "desc"));
        } else if is(word, "count") && left >= 1 {
            let n =
                crate::numeric::parse_i64(a.get(i + 1)).ok_or(crate::server::error::NOT_INTEGER)?;
            if n <= 0 {
                return Err(CmdError::fixed("ERR COUNT must be > 0"));
            }
            r.count = Some(usize::try_from(n).unwrap_or(usize::MAX));
            i += 1;
        } else if may_store && (is(word, "store") || is(word, "storedist")) && left >= 1 {
            r.store = Some((a.get(i + 1), is(word, "storedist")));
            i += 1;
        } else if how == (Search::Geosearch { store: true }) && is(word, "storedist") {
            r.store = r.store.map(|(key, _)| (key, true));
        } else if geosearch && is(word, "frommember") && left >= 1 {
            if from_given {
                return Err(SYNTAX);
            }
            if exists {
                r.centre = Some(member_position(ks, source, a.get(i + 1))?);
            }
            from_given = true;
            i += 1;
        } else if geosearch && is(word, "fromlonlat") && left >= 2 {
            if from_given {
                return Err(SYNTAX);
            }
            r.centre = Some(position_arg(a, i + 1)?);
            from_given = true;
            i += 2;
        } else if geosearch && is(word, "byradius") && left >= 2 {
            if shape_given {
                return Err(SYNTAX);
            }
            let (values, unit) = sizes(&[a.get(i + 1), a.get(i + 2)], &["radius"])?;
            r.shape = values.first().map(|&radius| Shape::Radius(radius * unit));
            r.per_unit = unit;
            shape_given = true;
            i += 2;
        } else if geosearch && is(word, "bybox") && left >= 3 {
            if shape_given {
                return Err(SYNTAX);
            }
            let (values, unit) = sizes(
                &[a.get(i + 1), a.get(i + 2), a.get(i + 3)],
                &["width", "height"],
            )?;
            if let [width, height] = values[..] {
                r.shape = Some(Shape::Box {
                    width: width * unit,
                    height: height * unit,
                });
            }
            r.per_unit = unit;
            shape_given = true;
            i += 3;
        } else {
            return Err(SYNTAX);
        }
        i += 1;
    }
    if r.store.is_some() && (r.with_dist || r.with_hash || r.with_coord) {
        return Err(CmdError::fixed(if geosearch {
            "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        } else {
            "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        }));
    }
    if geosearch {
        let name = String::from_utf8_lossy(a.get(0)).into_owned();
        if !from_given {
            return Err(CmdError::new(format!(
                "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
            )));
        }
        if !shape_given {
            return Err(CmdError::new(format!(
                "ERR exactly one of BYRADIUS and BYBOX can be specified for {name}"
            )));
        }
    }
    if r.any && r.count.is_none() {
        return Err(CmdError::fixed(
            "ERR the ANY argument requires COUNT argument",
        ));
    }
    Ok(r)
}

/// The members of `source` inside `shape` around `centre`: in score order, the first
/// `count` found with ANY; sorted by distance (stable, as glibc's merge-sort `qsort`) when
/// asked, or when a COUNT is given without ANY (the nearest ones); then at most `count`.
/// Only the members of the cells covering the area are read (`geo_cells`), or all of them
/// where the area has no small cover.
fn find(
    ks: &dyn KeySpace,
    source: &[u8],
    centre: (f64, f64),
    shape: Shape,
    r: &Request<'_>,
) -> Result<Vec<Found>, CmdError> {
    let area = match shape {
        Shape::Radius(radius) => Area::Circle { radius },
        Shape::Box { width, height } => Area::Box { width, height },
    };
    // Without a cover, every score a geohash can be: a negative one, or one past 2^52 (a
    // ZADD may have written them) is outside every cell, as in Redis.
    let every_geohash = (0.0, (1u64 << (2 * geo_cells::STEP)) as f64);
    let ranges = geo_cells::covering_ranges(centre, area).unwrap_or_else(|| vec![every_geohash]);
    let limit = if r.any { r.count } else { None };
    let mut found: Vec<Found> = Vec::new();
    ks.collections().view_with(&mut |v| {
        for &(min, max) in &ranges {
            let range = zset::score_range(Bound::Included(min), Bound::Excluded(max));
            for (member, score) in zset::range_by_score(v, source, &range, false, Limit::ALL)? {
                let (longitude, latitude) = decode(score);
                if let Some(meters) = within(shape, centre, (longitude, latitude)) {
                    found.push(Found {
                        member,
                        score,
                        longitude,
                        latitude,
                        meters,
                    });
                    if limit.is_some_and(|n| found.len() >= n) {
                        return Ok(());
                    }
                }
            }
        }
        Ok(())
    })?;
    let descending = r
        .descending
        .or((r.count.is_some() && !r.any).then_some(false));
    if let Some(descending) = descending {
        found.sort_by(|x, y| {
            let order = x
                .meters
                .partial_cmp(&y.meters)
                .unwrap_or(std::cmp::Ordering::Equal);
            if descending { order.reverse() } else { order }
        });
    }
    found.truncate(r.count.unwrap_or(usize::MAX));
    Ok(found)
}

/// The found members as Redis replies them: each a bulk string, or an array of it with
/// the distance, the geohash and the position, as asked.
fn reply_found(found: &[Found], r: &Request<'_>, out: &mut Reply) {
    let extras = usize::from(r.with_dist) + usize::from(r.with_hash) + usize::from(r.with_coord);
    out.array(found.len());
    for f in found {
        if extras > 0 {
            out.array(extras + 1);
        }
        out.bulk(&f.member);
        if r.with_dist {
            out.bulk(format!("{:.4}", f.meters / r.per_unit).as_bytes());
        }
        if r.with_hash {
            out.int(f.score as i64);
        }
        if r.with_coord {
            out.array(2);
            reply_coordinate(out, f.longitude);
            reply_coordinate(out, f.latitude);
        }
    }
}

/// GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and their read-only forms, as
/// Redis 7.0's `georadiusGeneric` answers them. Every member of the set is tested against
/// the area (Redis tests those in the geohash cells around the centre: the same members for
/// areas of a few hundred kilometres; see docs/server.md); unsorted, they come in score
/// order, Redis's in cell order.
fn search(ks: &dyn KeySpace, shared: &Shared, a: &Args, out: &mut Reply, how: Search) -> CmdResult {
    let source = a.get(if how == (Search::Geosearch { store: true }) {
        2
    } else {
        1
    });
    let exists = match ks.collections().value_type(source)? {
        None => false,
        Some(ValueType::ZSet) => true,
        Some(_) => return Err(crate::server::error::WRONG_TYPE),
    };
    let r = parse_search(ks, a, how, source, exists)?;
    let found = match (r.centre, r.shape, exists) {
        (Some(centre), Some(shape), true) => find(ks, source, centre, shape, &r)?,
        _ => Vec::new(),
    };
    let Some((destination, store_distance)) = r.store else {
        reply_found(&found, &r, out);
        return Ok(());
    };
    if let Some(longest) = found.iter().map(|f| f.member.len()).max() {
        crate::server::keyspace::members_fit(ks, destination, longest)?;
    }
    let deleted = ks.delete(destination)?;
    if !found.is_empty() {
        let items: Vec<(f64, &[u8])> = found
            .iter()
            .map(|f| {
                let score = if store_distance {
                    f.meters / r.per_unit
                } else {
                    f.score
                };
                (score, f.member.as_slice())
            })
            .collect();
        ks.collections()
            .edit_with(destination, ValueType::ZSet, &mut |e| {
                zset::add(e, &items, ZAddOptions::default())?;
                Ok(())
            })?;
    }
    let event = match how {
        Search::Geosearch { .. } => "geosearchstore",
        Search::Radius { .. } => "georadiusstore",
    };
    super::zsets::notify_stored(shared, out, event, destination, !found.is_empty(), deleted);
    out.count(found.len());
    Ok(())
}

/// GEOSEARCH key FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit|BYBOX w h unit [ASC|DESC]
/// [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH].
pub(crate) fn geosearch(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    search(ks, shared, a, out, Search::Geosearch { store: false })
}

/// GEOSEARCHSTORE destination source ... [STOREDIST].
pub(crate) fn geosearchstore(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    search(ks, shared, a, out, Search::Geosearch { store: true })
}

/// GEORADIUS key lon lat radius unit [options] [STORE key] [STOREDIST key].
pub(crate) fn georadius(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    search(
        ks,
        shared,
        a,
        out,
        Search::Radius {
            by_member: false,
            read_only: false,
        },
    )
}

/// GEORADIUS_RO: GEORADIUS without STORE.
pub(crate) fn georadius_ro(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    search(
        ks,
        shared,
        a,
        out,
        Search::Radius {
            by_member: false,
            read_only: true,
        },
    )
}

/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key] [STOREDIST key].
pub(crate) fn georadiusbymember(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    search(
        ks,
        shared,
        a,
        out,
        Search::Radius {
            by_member: true,
            read_only: false,
        },
    )
}

/// GEORADIUSBYMEMBER_RO: GEORADIUSBYMEMBER without STORE.
pub(crate) fn georadiusbymember_ro(
    ks: &dyn KeySpace,
    shared: &Shared,
    a: &Args,
    out: &mut Reply,
) -> CmdResult {
    search(
        ks,
        shared,
        a,
        out,
        Search::Radius {
            by_member: true,
            read_only: true,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn area_of(shape: Shape) -> Area {
        match shape {
            Shape::Radius(radius) => Area::Circle { radius },
            Shape::Box { width, height } => Area::Box { width, height },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every point a search area holds is in one of the cells the search reads: reading
        /// only those finds what testing every member finds.
        #[test]
        fn the_cells_read_hold_every_point_inside(
            centre in (-180.0f64..180.0, -85.0f64..85.0),
            offset in (-40.0f64..40.0, -40.0f64..40.0),
            circle in any::<bool>(),
            size in prop_oneof![0.0f64..1_000.0, 0.0f64..100_000.0, 0.0f64..5_000_000.0],
            aspect in 0.05f64..20.0,
        ) {
            let shape = if circle {
                Shape::Radius(size)
            } else {
                Shape::Box { width: size * 2.0, height: size * 2.0 / aspect }
            };
            let mut longitude = centre.0 + offset.0 * (size / 5_000_000.0);
            if longitude > 180.0 { longitude -= 360.0; }
            if longitude < -180.0 { longitude += 360.0; }
            let latitude = (centre.1 + offset.1 * (size / 5_000_000.0)).clamp(LAT_MIN, LAT_MAX);
            let score = encode(longitude, latitude, LAT_MIN, LAT_MAX) as f64;
            let Some(ranges) = geo_cells::covering_ranges(centre, area_of(shape)) else {
                return Ok(());
            };
            if within(shape, centre, decode(score)).is_some() {
                prop_assert!(
                    ranges.iter().any(|&(lo, hi)| lo <= score && score < hi),
                    "point {longitude},{latitude} inside, not covered"
                );
            }
        }
    }
}
