//! The directory lock: an exclusive `flock` on `LOCK`, held for as long as the store is open.
//!
//! flock locks belong to an open file description, so a second `open` of the same directory
//! fails whether it comes from this process or another, and the kernel drops the lock when
//! the holder exits, however it exits. The holder writes its process id into the file so
//! that the refusal can name it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::error::{Error, Result};

/// Name of the lock file inside a store directory.
pub const LOCK_FILE: &str = "LOCK";

pub(crate) struct DirLock {
    file: File,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Unlock explicitly rather than rely on close: a process forked by another thread
        // (between its fork and exec) shares this open file description, and the flock
        // would stay held until that child execs. An explicit unlock releases it now.
        let _ = self.file.unlock();
    }
}

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, "open lock file", e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(Error::Locked {
                    holder_pid: read_pid(&file),
                    path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, "lock", e)),
        }
        // Informational only: a stale or damaged pid never affects locking.
        let pid = format!("{}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.write_all_at(pid.as_bytes(), 0))
            .map_err(|e| Error::io(&path, "write lock file", e))?;
        Ok(DirLock { file })
    }
}

fn read_pid(mut file: &File) -> Option<u32> {
    let mut text = String::new();
    file.by_ref().take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
