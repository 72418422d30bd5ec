//! The command line: global flags shared by every subcommand, and the help texts.

use std::path::PathBuf;

use clap::{Args, Parser};

use crate::cmd::Command;
use crate::size::parse_size;

/// Printed at the end of `kvctl --help`; docs/kvctl.md repeats it.
const EXIT_STATUS_HELP: &str = "\
Exit status:
  0  success
  1  not found: get/type/exists/ttl/expire/persist of a missing key; a set --nx/--xx that
     did not write
  2  usage error: bad flag or argument, invalid pattern, duration or escape
  3  store error: I/O failure, missing store directory, anything not listed here
  4  store locked: another process has it open (the message names its pid)
  5  store corrupt: open refused it, or check found corruption (the message names file and offset)
  6  input rejected, nothing written: not an integer, value over the limit, a string command
     on a collection (wrong type), bad import line
  7  check found only what open takes care of: a torn tail (the remains of an interrupted
     write, cut off) or a bad hint file (ignored; the data file is scanned instead)

Keys, patterns and values given as arguments are taken byte for byte; with --escaped they
may use \\xNN, \\n, \\r, \\t, \\0 and \\\\. Output escapes the same way, so it can be fed back.

Environment:
  KVCTL_DIR  the store directory when --dir is not given";

/// kvctl: use, inspect and operate a keg key-value store.
///
/// A store is a directory. Read commands never create one; write commands (set, incr,
/// decr, incrbyfloat, import) do.
#[derive(Debug, Parser)]
#[command(name = "kvctl", version, after_help = EXIT_STATUS_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts, before or after its name.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// The store directory.
    #[arg(
        short,
        long,
        global = true,
        env = "KVCTL_DIR",
        default_value = "keg-data",
        value_name = "DIR"
    )]
    pub dir: PathBuf,

    /// When writes are fsynced: always (each write, the default), interval:<ms> (e.g.
    /// interval:100 or interval:1s) or never (the OS decides; kvctl fsyncs once on exit).
    /// import defaults to never and fsyncs once at the end.
    #[arg(long, global = true, value_name = "POLICY", value_parser = parse_sync_policy)]
    pub sync: Option<keg::SyncPolicy>,

    /// Print JSON: one object, or JSON lines for commands that list (keys, scan, dump).
    /// Binary keys and values appear base64-encoded as key_base64 / value_base64.
    #[arg(long, global = true, conflicts_with = "raw")]
    pub json: bool,

    /// Write keys and values as raw bytes instead of escaping non-printable ones; get
    /// --raw writes the value exactly, without a newline.
    #[arg(long, global = true)]
    pub raw: bool,

    /// Read keys, patterns and argument values with escapes: \xNN, \n, \r, \t, \0, \\.
    #[arg(short, long, global = true)]
    pub escaped: bool,

    /// Largest value accepted, in bytes (suffixes k, M, G, KiB, MiB, GiB allowed).
    /// Default: the store's, 64 MiB.
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_size)]
    pub max_value_size: Option<usize>,
}

/// Parses `always`, `never` or `interval:<duration>` (a bare number is milliseconds).
pub fn parse_sync_policy(text: &str) -> Result<keg::SyncPolicy, String> {
    match text {
        "always" => Ok(keg::SyncPolicy::Always),
        "never" => Ok(keg::SyncPolicy::Never),
        _ => match text.strip_prefix("interval:") {
            Some(every) => {
                let every = crate::duration::parse(every, crate::duration::Unit::Millis)?;
                if every.is_zero() {
                    return Err("the interval must be positive".into());
                }
                Ok(keg::SyncPolicy::Interval(every))
            }
            None => Err("expected always, never or interval:<ms>".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sync_policies_parse() {
        assert_eq!(parse_sync_policy("always"), Ok(keg::SyncPolicy::Always));
        assert_eq!(parse_sync_policy("never"), Ok(keg::SyncPolicy::Never));
        assert_eq!(
            parse_sync_policy("interval:250"),
            Ok(keg::SyncPolicy::Interval(Duration::from_millis(250)))
        );
        assert_eq!(
            parse_sync_policy("interval:1s"),
            Ok(keg::SyncPolicy::Interval(Duration::from_secs(1)))
        );
        assert!(parse_sync_policy("interval:0").is_err());
        assert!(parse_sync_policy("sometimes").is_err());
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
