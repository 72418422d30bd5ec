//! File names in a store directory. Only names this module recognizes are ever created,
//! read or deleted by the store; anything else in the directory is left alone.
//!
//! ```text
//! NNNNNNNNNN.data       data segment NNNNNNNNNN (10 digits, zero-padded)
//! NNNNNNNNNN.hint       its hint file
//! NNNNNNNNNN.data.tmp   a data segment being written by a merge (not yet part of the store)
//! NNNNNNNNNN.hint.tmp   a hint file being written
//! ```

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::fs;

const ID_DIGITS: usize = 10;
const DATA: &str = ".data";
const HINT: &str = ".hint";
const TMP: &str = ".tmp";

/// What a recognized file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileRole {
    Data,
    Hint,
    /// A temporary file (data or hint) left by an interrupted write.
    Temporary,
}

pub(crate) fn data_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("{id:0ID_DIGITS$}{DATA}"))
}

pub(crate) fn hint_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("{id:0ID_DIGITS$}{HINT}"))
}

/// The temporary name a file is written under before it is renamed to `path`.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(TMP);
    PathBuf::from(name)
}

/// The id and role of a file name this store uses, or `None`.
pub(crate) fn parse_name(name: &str) -> Option<(u32, FileRole)> {
    let (stem, role) = if let Some(s) = name.strip_suffix(TMP) {
        let stem = s.strip_suffix(DATA).or_else(|| s.strip_suffix(HINT))?;
        (stem, FileRole::Temporary)
    } else if let Some(s) = name.strip_suffix(DATA) {
        (s, FileRole::Data)
    } else {
        (name.strip_suffix(HINT)?, FileRole::Hint)
    };
    if stem.len() != ID_DIGITS || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((stem.parse().ok()?, role))
}

/// Every file of the store in `dir`: (id, role, path), in no particular order.
pub(crate) fn list_files(dir: &Path) -> Result<Vec<(u32, FileRole, PathBuf)>> {
    Ok(fs::list_dir(dir)?
        .into_iter()
        .filter_map(|(name, path)| parse_name(&name).map(|(id, role)| (id, role, path)))
        .collect())
}

/// The ids of the data segments in `dir`, ascending.
pub(crate) fn list_segment_ids(dir: &Path) -> Result<Vec<u32>> {
    let mut ids: Vec<u32> = list_files(dir)?
        .into_iter()
        .filter(|(_, role, _)| *role == FileRole::Data)
        .map(|(id, _, _)| id)
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_ignored() {
        let d = Path::new("/d");
        assert_eq!(data_path(d, 42), Path::new("/d/0000000042.data"));
        assert_eq!(hint_path(d, 42), Path::new("/d/0000000042.hint"));
        assert_eq!(
            temp_path(&hint_path(d, 42)),
            Path::new("/d/0000000042.hint.tmp")
        );
        assert_eq!(parse_name("0000000042.data"), Some((42, FileRole::Data)));
        assert_eq!(parse_name("0000000042.hint"), Some((42, FileRole::Hint)));
        assert_eq!(
            parse_name("0000000042.data.tmp"),
            Some((42, FileRole::Temporary))
        );
        assert_eq!(
            parse_name("0000000042.hint.tmp"),
            Some((42, FileRole::Temporary))
        );
        assert_eq!(
            parse_name("4294967295.data"),
            Some((u32::MAX, FileRole::Data))
        );
        for other in [
            "42.data",
            "000000004x.data",
            "LOCK",
            "9999999999.data",
            "0000000042.tmp",
            "0000000042.data.bak",
            "notes.txt",
            "0000000042.hint.tmp.tmp",
        ] {
            assert_eq!(parse_name(other), None, "{other}");
        }
    }
}
