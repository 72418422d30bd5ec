//! COMMAND, COMMAND COUNT / LIST / INFO / DOCS: the command table as Redis reports it
//! (redis-cli reads COMMAND DOCS for its hints).

use crate::server::args::is;
use crate::server::error::{self, CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::reply::Reply;
use crate::server::session::Session;
use crate::server::table::{self, COMMANDS, Spec, flag};

fn flag_names(spec: &Spec) -> Vec<&'static str> {
    let mut names = Vec::new();
    for (bit, name) in [
        (flag::WRITE, "write"),
        (flag::READONLY, "readonly"),
        (flag::ADMIN, "admin"),
        (flag::PUBSUB, "pubsub"),
        (flag::NO_AUTH, "no_auth"),
        (flag::NO_MULTI, "no_multi"),
        (flag::FAST, "fast"),
    ] {
        if spec.has(bit) {
            names.push(name);
        }
    }
    if spec.movable_keys() {
        names.push("movablekeys");
    }
    names
}

/// One COMMAND INFO entry: name, arity, flags, first/last/step, ACL categories, tips, key
/// specs, subcommands.
fn info_entry(spec: &Spec, out: &mut Reply) {
    out.array(10);
    out.bulk(spec.name.as_bytes());
    out.int(i64::from(spec.arity));
    let flags = flag_names(spec);
    out.set(flags.len());
    for f in flags {
        out.simple(f);
    }
    out.int(i64::from(spec.keys.0));
    out.int(i64::from(spec.keys.1));
    out.int(i64::from(spec.keys.2));
    let mut categories = Vec::new();
    if spec.has(flag::WRITE) {
        categories.push("@write".to_string());
    } else if spec.has(flag::READONLY) {
        categories.push("@read".to_string());
    }
    categories.push(format!("@{}", spec.group));
    if spec.has(flag::FAST) {
        categories.push("@fast".to_string());
    } else {
        categories.push("@slow".to_string());
    }
    out.set(categories.len());
    for c in &categories {
        out.simple(c);
    }
    out.set(0);
    out.array(0);
    out.array(0);
}

fn docs_entry(spec: &Spec, out: &mut Reply) {
    out.bulk(spec.name.as_bytes());
    out.map(3);
    out.bulk(b"summary");
    out.bulk(spec.summary.as_bytes());
    out.bulk(b"since");
    out.bulk(spec.since.as_bytes());
    out.bulk(b"group");
    out.bulk(spec.group.as_bytes());
}

/// COMMAND GETKEYS command [arg ...]: the key arguments of that call, with Redis's errors.
fn get_keys(a: &Args, out: &mut Reply) -> CmdResult {
    let call = Args::from_slices(&a.iter().skip(2).collect::<Vec<&[u8]>>());
    let spec =
        table::lookup(call.get(0)).ok_or(CmdError::fixed("ERR Invalid command specified"))?;
    if !spec.arity_ok(call.len()) {
        return Err(CmdError::fixed(
            "ERR Invalid number of arguments specified for command",
        ));
    }
    let positions = spec.all_key_positions(&call).ok_or(CmdError::fixed(
        "ERR Invalid arguments specified for command",
    ))?;
    if positions.is_empty() {
        return Err(CmdError::fixed("ERR The command has no key arguments"));
    }
    out.array(positions.len());
    for p in positions {
        out.bulk(call.get(p));
    }
    Ok(())
}

pub(crate) fn command(_: &mut Session, a: &Args, out: &mut Reply) -> CmdResult {
    if a.len() == 1 {
        out.array(COMMANDS.len());
        for spec in COMMANDS {
            info_entry(spec, out);
        }
        return Ok(());
    }
    let sub = a.get(1);
    if is(sub, "count") && a.len() == 2 {
        out.count(COMMANDS.len());
    } else if is(sub, "list") {
        out.array(COMMANDS.len());
        for spec in COMMANDS {
            out.bulk(spec.name.as_bytes());
        }
    } else if is(sub, "info") {
        if a.len() == 2 {
            out.array(COMMANDS.len());
            for spec in COMMANDS {
                info_entry(spec, out);
            }
        } else {
            out.array(a.len() - 2);
            for name in a.iter().skip(2) {
                match table::lookup(name) {
                    Some(spec) => info_entry(spec, out),
                    None => out.null_array(),
                }
            }
        }
    } else if is(sub, "docs") {
        let specs: Vec<&Spec> = if a.len() == 2 {
            COMMANDS.iter().collect()
        } else {
            a.iter().skip(2).filter_map(table::lookup).collect()
        };
        out.map(specs.len());
        for spec in specs {
            docs_entry(spec, out);
        }
    } else if is(sub, "getkeys") && a.len() >= 4 {
        get_keys(a, out)?;
    } else if is(sub, "getkeys") {
        return Err(error::wrong_arity("command|getkeys"));
    } else if is(sub, "count") {
        return Err(error::wrong_arity("command|count"));
    } else {
        return Err(error::unknown_subcommand(sub, "command"));
    }
    Ok(())
}
