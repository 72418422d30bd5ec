//! Which keys a listing command (keys, scan, export) covers: a glob pattern, a prefix, a
//! type and a count limit, over the keys sorted bytewise.

use std::ffi::OsString;

use anyhow::Context as _;
use keg::{Store, ValueType};

use crate::context::{Context, shown};
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

    /// Only keys holding this type (Redis's SCAN ... TYPE).
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    type_filter: Option<TypeFilter>,

    /// At most this many keys (the first in sorted order, after the other filters).
    #[arg(long, value_name = "N")]
    count: Option<usize>,
}

/// The types `--type` accepts, by Redis's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TypeFilter {
    String,
    Hash,
    Set,
    List,
    Zset,
}

impl TypeFilter {
    fn matches(self, ty: ValueType) -> bool {
        let wanted = match self {
            TypeFilter::String => ValueType::String,
            TypeFilter::Hash => ValueType::Hash,
            TypeFilter::Set => ValueType::Set,
            TypeFilter::List => ValueType::List,
            TypeFilter::Zset => ValueType::ZSet,
        };
        ty == wanted
    }
}

/// A checked selection, ready to apply.
pub struct Selection {
    pattern: Option<Pattern>,
    prefix: Vec<u8>,
    type_filter: Option<TypeFilter>,
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
            type_filter: self.type_filter,
            count: self.count.unwrap_or(usize::MAX),
        })
    }
}

impl Selection {
    /// The selected keys of `store`, sorted bytewise.
    pub fn keys(&self, store: &Store) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut keys: Vec<Vec<u8>> = store
            .keys()
            .into_iter()
            .filter(|key| key.starts_with(&self.prefix))
            .filter(|key| self.pattern.as_ref().is_none_or(|p| p.matches(key)))
            .collect();
        keys.sort_unstable();
        if let Some(wanted) = self.type_filter {
            let mut of_type = Vec::new();
            for key in keys {
                if of_type.len() == self.count {
                    break;
                }
                let ty = store
                    .value_type(&key)
                    .with_context(|| format!("type {}", shown(&key)))?;
                // A key that expired since the listing has no type: left out.
                if ty.is_some_and(|ty| wanted.matches(ty)) {
                    of_type.push(key);
                }
            }
            keys = of_type;
        }
        keys.truncate(self.count);
        Ok(keys)
    }
}
