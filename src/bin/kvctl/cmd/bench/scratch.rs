//! The benchmark's own store directory, removed when the benchmark ends however it ends.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `parent/kvctl-bench-<pid>`; fails rather than reuse an existing directory.
    pub fn create(parent: &Path) -> anyhow::Result<ScratchDir> {
        let path = parent.join(format!("kvctl-bench-{}", std::process::id()));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot create the scratch store {}", path.display()))?;
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
                "kvctl: could not remove the scratch store {}: {e}",
                self.path.display()
            );
        }
    }
}
