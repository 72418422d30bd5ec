//! COMMAND, COMMAND COUNT / LIST / INFO / DOCS: the command table as Redis reports it
//! (redis-cli reads COMMAND DOCS for its hints).

use crate::server::args::is;
use crate::server::error::SYNTAX;
use crate::server::error::{self, CmdError, CmdResult};
use crate::server::frame::Args;
use crate::server::glob;
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

/// A command's ACL categories as COMMAND INFO lists them (`@write`, `@string`, `@fast`).
fn categories(spec: &Spec) -> Vec<String> {
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
    categories
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
    let categories = categories(spec);
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

/// COMMAND LIST's `FILTERBY MODULE name | ACLCAT category | PATTERN pattern`.
enum ListFilter<'a> {
    All,
    /// A module's commands: keg has no modules.
    Module,
    AclCat(&'a [u8]),
    Pattern(&'a [u8]),
}

impl<'a> ListFilter<'a> {
    fn parse(a: &'a Args) -> Result<ListFilter<'a>, CmdError> {
        match a.len() {
            2 => Ok(ListFilter::All),
            5 if is(a.get(2), "filterby") => {
                let (kind, value) = (a.get(3), a.get(4));
                if is(kind, "module") {
                    Ok(ListFilter::Module)
                } else if is(kind, "aclcat") {
                    Ok(ListFilter::AclCat(value))
                } else if is(kind, "pattern") {
                    Ok(ListFilter::Pattern(value))
                } else {
                    Err(SYNTAX)
                }
            }
            _ => Err(SYNTAX),
        }
    }

    /// Whether the list keeps `name`, the full name of `spec` or of one of its
    /// subcommands (`client|id`, whose categories are its container's here).
    fn keeps(&self, spec: &Spec, name: &str) -> bool {
        match self {
            ListFilter::All => true,
            ListFilter::Module => false,
            ListFilter::AclCat(category) => categories(spec).iter().any(|c| {
                c.as_bytes()
                    .get(1..)
                    .is_some_and(|c| c.eq_ignore_ascii_case(category))
            }),
            ListFilter::Pattern(pattern) => glob::matches(pattern, name.as_bytes()),
        }
    }
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
    if let Some(e) = table::subcommand_error("command", a) {
        return Err(e);
    }
    let sub = a.get(1);
    if is(sub, "count") {
        out.count(COMMANDS.len());
    } else if is(sub, "list") {
        // Every command, each container followed by its subcommands, as Redis lists them.
        let filter = ListFilter::parse(a)?;
        let mut names: Vec<String> = Vec::new();
        for spec in COMMANDS {
            let subs = table::subcommands(spec.name).map(|sub| format!("{}|{sub}", spec.name));
            for name in std::iter::once(spec.name.to_string()).chain(subs) {
                if filter.keeps(spec, &name) {
                    names.push(name);
                }
            }
        }
        out.array(names.len());
        for name in &names {
            out.bulk(name.as_bytes());
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
    } else if is(sub, "getkeys") {
        get_keys(a, out)?;
    } else if is(sub, "help") {
        // Redis's text, less GETKEYSANDFLAGS (not served).
        let lines = [
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "    If no command names are given, documentation details for all",
            "    commands are returned.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "HELP",
            "    Prints this help.",
        ];
        out.simple_lines(&lines);
    } else {
        return Err(error::unknown_subcommand(sub, "command"));
    }
    Ok(())
}
