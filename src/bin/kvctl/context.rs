//! What every subcommand works with: the global flags, standard output, and opening the
//! store the way kvctl opens it.

use std::ffi::OsStr;
use std::io::{BufWriter, Stdout, Write};
use std::time::Duration;

use anyhow::Context as _;
use keg::{MergePolicy, Options, Store, SyncPolicy};

use crate::bytes;
use crate::cli::GlobalArgs;
use crate::status::{Failure, Status, usage};

pub struct Context {
    pub global: GlobalArgs,
    out: BufWriter<Stdout>,
}

/// Whether opening may create a missing store directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Create {
    /// Read commands (and deletes): a missing directory is an error, and stays missing.
    Never,
    /// Write commands: a missing directory becomes a new, empty store.
    IfMissing,
}

impl Context {
    pub fn new(global: GlobalArgs) -> Context {
        Context {
            global,
            out: BufWriter::new(std::io::stdout()),
        }
    }

    /// Standard output (buffered; flushed by [`finish`](Context::finish)).
    pub fn out(&mut self) -> &mut impl Write {
        &mut self.out
    }

    /// Flushes standard output; its failure (a full disk behind a redirect) is an error.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        self.out.flush().context("writing to standard output")
    }

    /// Opens the store in `--dir` with the `--sync` policy (Always when not given).
    pub fn open(&self, create: Create) -> anyhow::Result<Store> {
        self.open_with_default_sync(create, SyncPolicy::Always)
    }

    /// Opens the store, with `default_sync` when `--sync` is not given.
    pub fn open_with_default_sync(
        &self,
        create: Create,
        default_sync: SyncPolicy,
    ) -> anyhow::Result<Store> {
        let dir = &self.global.dir;
        if create == Create::Never {
            self.require_store_dir()?;
        }
        let mut options = Options::new()
            .sync_policy(self.global.sync.unwrap_or(default_sync))
            .create_if_missing(create == Create::IfMissing)
            // kvctl runs for a moment and a read command should write nothing: no expiry
            // cycle (expired keys are invisible to reads anyway) and no background merge
            // (`kvctl merge` will run one on request).
            .expiry_cycle_interval(Duration::ZERO)
            .merge_policy(MergePolicy {
                check_interval: Duration::ZERO,
                ..MergePolicy::default()
            });
        if let Some(limit) = self.global.max_value_size {
            options = options.max_value_size(limit);
        }
        options
            .open(dir)
            .with_context(|| format!("cannot open the store in {}", dir.display()))
    }

    /// Fails (status 3) when `--dir` does not exist, before anything could create it.
    pub fn require_store_dir(&self) -> anyhow::Result<()> {
        let dir = &self.global.dir;
        if dir.is_dir() {
            return Ok(());
        }
        Err(Failure {
            status: Status::StoreError,
            message: format!(
                "no store at {}: the directory does not exist (write commands such as set create it)",
                dir.display()
            ),
        }
        .into())
    }

    /// A key, pattern or value argument as bytes (unescaped under `--escaped`).
    pub fn arg_bytes(&self, arg: &OsStr) -> anyhow::Result<Vec<u8>> {
        bytes::from_arg(arg, self.global.escaped).map_err(|e| {
            usage(format!(
                "invalid escape in {:?}: {e}",
                arg.to_string_lossy()
            ))
        })
    }

    /// Bytes as `--raw` or escaped text, without a newline.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        if self.global.raw {
            self.out.write_all(bytes)?;
        } else {
            self.out.write_all(bytes::escape(bytes).as_bytes())?;
        }
        Ok(())
    }

    /// Bytes as `--raw` or escaped text, then a newline.
    pub fn write_bytes_line(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.write_bytes(bytes)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// Bytes as `--raw` or escaped text, separated by tabs (which escaped text shows as
    /// `\t` inside a part), then a newline.
    pub fn write_tab_separated_line(&mut self, parts: &[impl AsRef<[u8]>]) -> anyhow::Result<()> {
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b"\t")?;
            }
            self.write_bytes(part.as_ref())?;
        }
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// One line of text.
    pub fn line(&mut self, text: impl std::fmt::Display) -> anyhow::Result<()> {
        writeln!(self.out, "{text}")?;
        Ok(())
    }

    /// A JSON value on one line.
    pub fn json(&mut self, value: impl Into<serde_json::Value>) -> anyhow::Result<()> {
        serde_json::to_writer(&mut self.out, &value.into())?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    /// The longest value the store accepts (`--max-value-size`, or keg's default).
    pub fn value_limit(&self) -> usize {
        self.global
            .max_value_size
            .unwrap_or(keg::DEFAULT_MAX_VALUE_SIZE)
    }

    /// Whether `--json` was given.
    pub fn wants_json(&self) -> bool {
        self.global.json
    }
}

/// A key as it appears in a message: escaped, quoted.
pub fn shown(key: &[u8]) -> String {
    format!("\"{}\"", bytes::escape(key))
}
