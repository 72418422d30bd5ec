//! Which scores a geo search has to read. A geohash cell is a range of scores, so the
//! members inside a search area are among those of the cells covering the area's bounding
//! box: a search reads those ranges (O(log n + members read)) instead of every member of
//! the set. The cells are chosen to cover the whole box — unlike Redis's nine cells around
//! the centre, which miss members near the ±180° meridian or over large areas — so a search
//! finds exactly what testing every member finds, in the same (score) order. Near a pole
//! or over a large part of the globe there is no small cover, and every member is tested.

use std::f64::consts::PI;

/// The longitude and latitude ranges geohashes cover (Web Mercator).
pub(super) const LONG_RANGE: (f64, f64) = (-180.0, 180.0);
pub(super) const LAT_RANGE: (f64, f64) = (-85.051_128_78, 85.051_128_78);
pub(super) const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
/// Bits per axis of a stored geohash.
pub(super) const STEP: u32 = 26;
/// At most this many cells per piece of the box (one piece, or two across ±180°).
const MAX_CELLS: u64 = 64;
/// Widest box (in degrees of longitude) read through cells; wider ones test every member.
const MAX_LONG_SPAN: f64 = 90.0;

/// A search area: a circle of `radius` meters, or a box `width` by `height` meters.
#[derive(Clone, Copy)]
pub(super) enum Area {
    Circle { radius: f64 },
    Box { width: f64, height: f64 },
}

pub(super) fn radians(degrees: f64) -> f64 {
    degrees * (PI / 180.0)
}

fn degrees(radians: f64) -> f64 {
    radians / (PI / 180.0)
}

/// The bits of `x` spread to the even positions.
pub(super) fn spread(x: u32) -> u64 {
    let mut x = u64::from(x);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// The even bits of `x`, gathered.
pub(super) fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// Score ranges `[min, max)`, ascending and apart, whose members include every member
/// inside `area` around `centre` (longitude, latitude); `None` where the area has no small
/// cover (it reaches past the geohash latitudes, or spans too much longitude).
pub(super) fn covering_ranges(centre: (f64, f64), area: Area) -> Option<Vec<(f64, f64)>> {
    let (min_lon, min_lat, max_lon, max_lat) = bounding_box(centre, area)?;
    if ![min_lon, min_lat, max_lon, max_lat]
        .iter()
        .all(|v| v.is_finite())
        || max_lon - min_lon > MAX_LONG_SPAN
        || min_lat < LAT_RANGE.0
        || max_lat > LAT_RANGE.1
    {
        return None;
    }
    // Across ±180°, two pieces.
    let pieces = if min_lon < LONG_RANGE.0 {
        vec![(min_lon + 360.0, LONG_RANGE.1), (LONG_RANGE.0, max_lon)]
    } else if max_lon > LONG_RANGE.1 {
        vec![(min_lon, LONG_RANGE.1), (LONG_RANGE.0, max_lon - 360.0)]
    } else {
        vec![(min_lon, max_lon)]
    };
    let mut ranges = Vec::new();
    for (lon_lo, lon_hi) in pieces {
        cover(lon_lo, lon_hi, min_lat, max_lat, &mut ranges);
    }
    ranges.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    Some(merged)
}

/// (min longitude, min latitude, max longitude, max latitude) of a box around the area,
/// or `None` if the area reaches a pole. A point within `r` of the centre lies within
/// `r / R` radians of its latitude and `asin(sin(r / R) / cos(latitude))` of its longitude
/// (the meridians tangent to the circle); a point of the box lies on a parallel nearer the
/// pole than its poleward edge at most, where half its width spans
/// `2 asin(sin(width / 4R) / cos(edge))`. Widened a little against rounding.
fn bounding_box(centre: (f64, f64), area: Area) -> Option<(f64, f64, f64, f64)> {
    let (longitude, latitude) = centre;
    let (lat_delta, long_delta) = match area {
        Area::Circle { radius } => {
            let angle = radius / EARTH_RADIUS_IN_METERS;
            let ratio = angle.sin() / radians(latitude).cos();
            if angle >= PI / 2.0 - radians(latitude).abs() || !(0.0..1.0).contains(&ratio) {
                return None;
            }
            (angle, ratio.asin())
        }
        Area::Box { width, height } => {
            let lat_delta = height / 2.0 / EARTH_RADIUS_IN_METERS;
            let poleward = radians(latitude).abs() + lat_delta;
            let ratio = (width / 4.0 / EARTH_RADIUS_IN_METERS).sin() / poleward.cos();
            if poleward >= PI / 2.0 || !(0.0..1.0).contains(&ratio) {
                return None;
            }
            (lat_delta, 2.0 * ratio.asin())
        }
    };
    let widen = |radians: f64| degrees(radians) * (1.0 + 1e-6) + 1e-7;
    let (lat_delta, long_delta) = (widen(lat_delta), widen(long_delta));
    Some((
        longitude - long_delta,
        latitude - lat_delta,
        longitude + long_delta,
        latitude + lat_delta,
    ))
}

/// Appends the score ranges of the cells covering longitudes `[lon_lo, lon_hi]` and
/// latitudes `[lat_lo, lat_hi]`: at the finest step where at most `MAX_CELLS` do.
fn cover(lon_lo: f64, lon_hi: f64, lat_lo: f64, lat_hi: f64, out: &mut Vec<(f64, f64)>) {
    let index = |value: f64, range: (f64, f64), step: u32| -> u64 {
        let cells = 1u64 << step;
        let at = (value - range.0) / (range.1 - range.0) * cells as f64;
        (at.max(0.0) as u64).min(cells - 1)
    };
    let mut step = STEP;
    let (mut lon_cells, mut lat_cells);
    loop {
        lon_cells = (
            index(lon_lo, LONG_RANGE, step),
            index(lon_hi, LONG_RANGE, step),
        );
        lat_cells = (
            index(lat_lo, LAT_RANGE, step),
            index(lat_hi, LAT_RANGE, step),
        );
        let count = (lon_cells.1 - lon_cells.0 + 1) * (lat_cells.1 - lat_cells.0 + 1);
        if count <= MAX_CELLS || step == 1 {
            break;
        }
        step -= 1;
    }
    let shift = 2 * (STEP - step);
    for lat in lat_cells.0..=lat_cells.1 {
        for lon in lon_cells.0..=lon_cells.1 {
            let bits = spread(lat as u32) | (spread(lon as u32) << 1);
            out.push(((bits << shift) as f64, ((bits + 1) << shift) as f64));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cell of a point at full precision, as GEOADD scores it.
    fn score(longitude: f64, latitude: f64) -> f64 {
        let cells = f64::from(1u32 << STEP);
        let lat = (latitude - LAT_RANGE.0) / (LAT_RANGE.1 - LAT_RANGE.0) * cells;
        let lon = (longitude - LONG_RANGE.0) / (LONG_RANGE.1 - LONG_RANGE.0) * cells;
        (spread(lat as u32) | (spread(lon as u32) << 1)) as f64
    }

    fn covered(ranges: &[(f64, f64)], s: f64) -> bool {
        ranges.iter().any(|&(lo, hi)| lo <= s && s < hi)
    }

    #[test]
    fn the_cover_holds_points_inside_and_across_the_antimeridian() {
        let ranges = covering_ranges((13.4, 38.1), Area::Circle { radius: 200_000.0 }).unwrap();
        assert!(ranges.len() <= 2 * MAX_CELLS as usize);
        assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0));
        for (lon, lat) in [(13.4, 38.1), (15.0, 37.5), (11.2, 38.1), (13.4, 39.8)] {
            assert!(covered(&ranges, score(lon, lat)), "{lon},{lat}");
        }
        let ranges = covering_ranges(
            (179.9, 0.0),
            Area::Box {
                width: 100_000.0,
                height: 100_000.0,
            },
        )
        .unwrap();
        for (lon, lat) in [(179.9, 0.0), (-179.9, 0.1), (179.6, -0.3)] {
            assert!(covered(&ranges, score(lon, lat)), "{lon},{lat}");
        }
    }

    #[test]
    fn areas_without_a_small_cover_test_every_member() {
        assert!(covering_ranges((0.0, 84.9), Area::Circle { radius: 100_000.0 }).is_none());
        assert!(
            covering_ranges(
                (0.0, 0.0),
                Area::Circle {
                    radius: 6_000_000.0
                }
            )
            .is_none()
        );
        assert!(covering_ranges((0.0, 0.0), Area::Circle { radius: 0.0 }).is_some());
    }
}
