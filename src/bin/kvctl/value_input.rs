//! Where a value comes from: an argument, a file, or standard input, read no further than
//! the value limit (a value over it is refused before it is all in memory).

use std::ffi::OsString;
use std::io::Read;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::context::Context;
use crate::status::rejected;

/// The value of a `set`: exactly one of VALUE (`-` for standard input) and `--file`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ValueInput {
    /// The value; `-` reads it from standard input. Taken byte for byte (unescaped under
    /// --escaped).
    #[arg(allow_hyphen_values = true)]
    value: Option<OsString>,

    /// Read the value from this file (`-` for standard input), byte for byte.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

impl ValueInput {
    /// The value's bytes, refused with status 6 when longer than `limit`.
    pub fn read(&self, ctx: &Context, limit: usize) -> anyhow::Result<Vec<u8>> {
        // An argument is in memory already: the store checks its length.
        match (&self.value, &self.file) {
            (Some(arg), _) if arg == "-" => {
                read_limited(std::io::stdin().lock(), limit, "standard input")
            }
            (Some(arg), _) => ctx.arg_bytes(arg),
            (None, Some(path)) if path.as_os_str() == "-" => {
                read_limited(std::io::stdin().lock(), limit, "standard input")
            }
            (None, Some(path)) => {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                read_limited(file, limit, &path.display().to_string())
            }
            // clap's argument group requires one of them.
            (None, None) => Err(crate::status::usage("a value or --file is required")),
        }
    }
}

/// Reads at most `limit + 1` bytes: enough to know the value is too large.
fn read_limited(reader: impl Read, limit: usize, source: &str) -> anyhow::Result<Vec<u8>> {
    let mut value = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut value)
        .with_context(|| format!("reading the value from {source}"))?;
    if value.len() > limit {
        return Err(rejected(format!(
            "the value from {source} is over the limit of {limit} bytes (--max-value-size); nothing written"
        )));
    }
    Ok(value)
}
