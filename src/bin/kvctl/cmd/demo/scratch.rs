//! The demo's own directory (database and stores), removed when the demo ends however
//! it ends.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `parent/kvctl-demo-<pid>`; fails rather than reuse an existing directory.
    pub fn create(parent: &Path) -> anyhow::Result<ScratchDir> {
        let path = parent.join(format!("kvctl-demo-{}", std::process::id()));
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
