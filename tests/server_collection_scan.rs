//! HSCAN, SSCAN and ZSCAN over the wire, through the `redis` crate: pages of COUNT
//! (default 10) with a real cursor, MATCH applied to a page after it is taken, a full
//! iteration that collects everything (also while another connection writes), small
//! collections and ones changed inside MULTI answered whole with cursor 0.

mod server_support;

use std::collections::{BTreeMap, BTreeSet};

use redis::{Commands, Connection, RedisResult};
use server_support::TestServer;

fn members(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i:05}")).collect()
}

/// One call: `command key cursor [options]`, returning the next cursor and the flat items.
fn call(
    con: &mut Connection,
    command: &str,
    key: &str,
    cursor: u64,
    options: &[&str],
) -> RedisResult<(u64, Vec<String>)> {
    redis::cmd(command)
        .arg(key)
        .arg(cursor)
        .arg(options)
        .query(con)
}

/// Every page of a full iteration.
fn full_iteration(
    con: &mut Connection,
    command: &str,
    key: &str,
    options: &[&str],
) -> RedisResult<Vec<(u64, Vec<String>)>> {
    let mut pages = Vec::new();
    let mut cursor = 0;
    loop {
        let page = call(con, command, key, cursor, options)?;
        cursor = page.0;
        pages.push(page);
        if cursor == 0 {
            return Ok(pages);
        }
        assert!(pages.len() < 10_000, "the iteration does not end");
    }
}

fn pairs(flat: &[String]) -> Vec<(String, String)> {
    flat.chunks(2)
        .map(|p| (p[0].clone(), p.get(1).cloned().unwrap_or_default()))
        .collect()
}

#[test]
fn hscan_pages_by_count_and_collects_every_field() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let fields: Vec<(String, String)> = members(1000)
        .into_iter()
        .map(|m| (m.clone(), format!("v-{m}")))
        .collect();
    let () = con.hset_multiple("h", &fields)?;
    let pages = full_iteration(&mut con, "HSCAN", "h", &["COUNT", "50"])?;
    assert_eq!(pages.len(), 20);
    assert!(pages.iter().all(|(_, items)| items.len() <= 100));
    let all: BTreeMap<String, String> = pages.iter().flat_map(|(_, i)| pairs(i)).collect();
    assert_eq!(all, fields.into_iter().collect());
    Ok(())
}

#[test]
fn sscan_pages_ten_by_default() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.sadd("s", members(1000))?;
    let (cursor, first) = call(&mut con, "SSCAN", "s", 0, &[])?;
    assert_eq!((cursor, first.len()), (990, 10));
    let pages = full_iteration(&mut con, "SSCAN", "s", &[])?;
    assert_eq!(pages.len(), 100);
    let all: BTreeSet<String> = pages.into_iter().flat_map(|(_, i)| i).collect();
    assert_eq!(all, members(1000).into_iter().collect());
    Ok(())
}

#[test]
fn zscan_returns_members_with_their_scores() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let items: Vec<(f64, String)> = members(500)
        .into_iter()
        .enumerate()
        .map(|(i, m)| (i as f64 / 4.0, m))
        .collect();
    let () = con.zadd_multiple("z", &items)?;
    let pages = full_iteration(&mut con, "ZSCAN", "z", &["COUNT", "64"])?;
    assert!(pages.iter().all(|(_, items)| items.len() <= 128));
    let all: BTreeMap<String, String> = pages.iter().flat_map(|(_, i)| pairs(i)).collect();
    assert_eq!(all.len(), 500);
    for (score, member) in &items {
        let want: String = redis::cmd("ZSCORE").arg("z").arg(member).query(&mut con)?;
        assert_eq!(all.get(member), Some(&want), "{member} {score}");
    }
    Ok(())
}

#[test]
fn match_filters_each_page_after_it_is_taken() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.sadd("s", members(1000))?;
    let pages = full_iteration(&mut con, "SSCAN", "s", &["MATCH", "m0000*", "COUNT", "100"])?;
    // Ten pages of 100 slots each, whatever matched in them.
    assert_eq!(pages.len(), 10);
    assert!(
        pages.iter().any(|(c, items)| *c != 0 && items.is_empty()),
        "a page with nothing matching still has its cursor"
    );
    let all: BTreeSet<String> = pages.into_iter().flat_map(|(_, i)| i).collect();
    assert_eq!(all, members(10).into_iter().collect());
    Ok(())
}

#[test]
fn an_iteration_returns_what_stays_while_another_connection_writes() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let mut writer = server.redis();
    let all = members(2000);
    let () = con.sadd("s", &all)?;
    // The first 1000 stay; the others are removed (and some added back) while the
    // iteration runs, and new members come in.
    let mut seen = BTreeSet::new();
    let mut cursor = 0;
    let mut round = 0;
    loop {
        let (next, items) = call(&mut con, "SSCAN", "s", cursor, &["COUNT", "25"])?;
        seen.extend(items);
        if next == 0 {
            break;
        }
        cursor = next;
        let gone = &all[1000 + (round * 13) % 1000];
        let () = writer.srem("s", gone)?;
        let () = writer.sadd("s", format!("new{round}"))?;
        if round % 3 == 0 {
            let () = writer.sadd("s", &all[1000 + (round * 7) % 1000])?;
        }
        round += 1;
    }
    assert!(round > 40, "the iteration took {round} pages");
    for m in &all[..1000] {
        assert!(seen.contains(m), "{m} was there throughout");
    }
    Ok(())
}

#[test]
fn small_collections_come_whole_at_any_cursor() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.hset_multiple("h", &[("a", "1"), ("b", "2"), ("c", "3")])?;
    for cursor in [0, 7, u64::MAX] {
        let (next, items) = call(&mut con, "HSCAN", "h", cursor, &["COUNT", "1"])?;
        assert_eq!(next, 0);
        assert_eq!(items, ["a", "1", "b", "2", "c", "3"]);
    }
    Ok(())
}

#[test]
fn cursors_that_are_stale_or_invalid() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.sadd("s", members(300))?;
    // Larger than the set: clamped, and the iteration still ends.
    let (next, items) = call(&mut con, "SSCAN", "s", u64::MAX, &["COUNT", "100"])?;
    assert_eq!((next, items.len()), (200, 100));
    let error = redis::cmd("SSCAN")
        .arg("s")
        .arg("12x")
        .query::<(u64, Vec<String>)>(&mut con)
        .unwrap_err();
    assert!(error.to_string().contains("invalid cursor"), "{error}");
    let error = redis::cmd("SSCAN")
        .arg("s")
        .arg(0)
        .arg("COUNT")
        .arg(0)
        .query::<(u64, Vec<String>)>(&mut con)
        .unwrap_err();
    assert!(error.to_string().contains("syntax error"), "{error}");
    Ok(())
}

#[test]
fn inside_multi_a_changed_collection_comes_whole() -> RedisResult<()> {
    let server = TestServer::start();
    let mut con = server.redis();
    let () = con.sadd("changed", members(1000))?;
    let () = con.sadd("untouched", members(1000))?;
    type Page = (u64, Vec<String>);
    let (added, (changed_cursor, changed), (untouched_cursor, untouched)): (i64, Page, Page) =
        redis::pipe()
            .atomic()
            .cmd("SADD")
            .arg("changed")
            .arg("new")
            .cmd("SSCAN")
            .arg("changed")
            .arg(0)
            .cmd("SSCAN")
            .arg("untouched")
            .arg(0)
            .query(&mut con)?;
    assert_eq!(added, 1);
    assert_eq!((changed_cursor, changed.len()), (0, 1001));
    assert_eq!((untouched_cursor, untouched.len()), (990, 10));
    Ok(())
}
