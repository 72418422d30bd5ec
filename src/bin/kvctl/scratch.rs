//! A command's own scratch directory (`bench`'s store, `demo`'s database and stores),
//! removed when the command ends however it ends.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `parent/kvctl-<command>-<pid>`; fails rather than reuse an existing
    /// directory.
    pub fn create(parent: &Path, command: &str) -> anyhow::Result<ScratchDir> {
        let path = parent.join(format!("kvctl-{command}-{}", std::process::id()));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create the scratch directory {}", path.display()))?;
        Ok(ScratchDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!(
                "kvctl: could not remove the scratch directory {}: {e}",
                self.path.display()
            );
        }
    }
}
