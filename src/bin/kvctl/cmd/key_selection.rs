//! Which keys a listing command (keys, scan, export) covers: a glob pattern, a prefix and
//! a count limit, over the keys sorted bytewise.

use std::ffi::OsString;

use keg::Store;

use crate::context::Context;
use crate::glob::Pattern;
use crate::status::usage;

#[derive(Debug, clap::Args)]
pub struct KeySelection {
    /// Only keys matching this glob pattern: * any bytes, ? one byte, [abc] [a-z] [^a]
    /// a class, \ makes the next character literal. Default: every key.
    #[arg(value_name = "PATTERN")]
    pattern: Option<OsString>,

    /// Only keys starting with these bytes.
    #[arg(long, value_name = "PREFIX")]
    prefix: Option<OsString>,

    /// At most this many keys (the first in sorted order).
    #[arg(long, value_name = "N")]
    count: Option<usize>,
}

/// A checked selection, ready to apply.
pub struct Selection {
    pattern: Option<Pattern>,
    prefix: Vec<u8>,
    count: usize,
}

impl KeySelection {
    /// Checks the pattern before anything is opened: a malformed one is a usage error.
    pub fn compile(&self, ctx: &Context) -> anyhow::Result<Selection> {
        let pattern = match &self.pattern {
            Some(text) => {
                let bytes = ctx.arg_bytes(text)?;
                Some(Pattern::new(&bytes).map_err(|e| {
                    usage(format!("invalid pattern {:?}: {e}", text.to_string_lossy()))
                })?)
            }
            None => None,
        };
        let prefix = match &self.prefix {
            Some(text) => ctx.arg_bytes(text)?,
            None => Vec::new(),
        };
        Ok(Selection {
            pattern,
            prefix,
            count: self.count.unwrap_or(usize::MAX),
        })
    }
}

impl Selection {
    /// The selected keys of `store`, sorted bytewise.
    pub fn keys(&self, store: &Store) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = store
            .keys()
            .into_iter()
            .filter(|key| key.starts_with(&self.prefix))
            .filter(|key| self.pattern.as_ref().is_none_or(|p| p.matches(key)))
            .collect();
        keys.sort_unstable();
        keys.truncate(self.count);
        keys
    }
}
