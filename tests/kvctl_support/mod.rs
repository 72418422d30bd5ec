//! Helpers for the kvctl tests: run the real binary against a store directory.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary directory with a store path inside it (not created: kvctl decides).
pub struct Sandbox {
    pub tmp: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The store directory, `<tmp>/store`.
    pub fn store(&self) -> PathBuf {
        self.tmp.path().join("store")
    }

    /// Another path in the sandbox.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// `kvctl --dir <store> args...`, without fsyncs (tests check behaviour, not the disk).
    pub fn kvctl(&self, args: &[&str]) -> Command {
        kvctl_in(&self.store(), args)
    }
}

/// `kvctl --dir <dir> --sync never args...`, isolated from the caller's KVCTL_DIR.
pub fn kvctl_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = kvctl_bare(&["--sync", "never"]);
    cmd.arg("--dir").arg(dir).args(args);
    cmd
}

/// `kvctl args...` and nothing else, isolated from the caller's KVCTL_DIR.
pub fn kvctl_bare(args: &[&str]) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("kvctl"));
    cmd.env_remove("KVCTL_DIR").args(args);
    cmd
}

/// Stdout of a successful run, as a string.
pub fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(output).expect("UTF-8 output")
}

/// Stderr never shows a Rust panic or backtrace.
pub fn assert_no_panic(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    assert!(
        !text.contains("panicked") && !text.contains("RUST_BACKTRACE"),
        "{text}"
    );
}

/// What one key holds, as the library reads it (hash fields and set members sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    String(Vec<u8>),
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    Set(Vec<Vec<u8>>),
    List(Vec<Vec<u8>>),
    /// Members and the bits of their scores (so that equality is exact), by score.
    ZSet(Vec<(Vec<u8>, u64)>),
}

/// Every key of the store in `dir`: what it holds and its expiry (unix ms).
pub fn snapshot(dir: &Path) -> std::collections::BTreeMap<Vec<u8>, (Held, Option<u64>)> {
    let store = keg::Store::open(dir).expect("open the store");
    let mut all = std::collections::BTreeMap::new();
    for key in store.keys() {
        let held = match store
            .value_type(&key)
            .unwrap()
            .expect("a listed key has a type")
        {
            keg::ValueType::String => Held::String(store.get(&key).unwrap().unwrap()),
            keg::ValueType::Hash => {
                let mut fields = store.hgetall(&key).unwrap();
                fields.sort();
                Held::Hash(fields)
            }
            keg::ValueType::Set => {
                let mut members = store.smembers(&key).unwrap();
                members.sort();
                Held::Set(members)
            }
            keg::ValueType::List => Held::List(store.lrange(&key, 0, -1).unwrap()),
            keg::ValueType::ZSet => Held::ZSet(
                store
                    .zrange(&key, 0, -1, false)
                    .unwrap()
                    .into_iter()
                    .map(|(member, score)| (member, score.to_bits()))
                    .collect(),
            ),
            #[allow(
                unreachable_patterns,
                reason = "for a type added to keg before these tests read it"
            )]
            other => panic!("the kvctl tests cannot read a {other:?} yet"),
        };
        let expiry = store.expires_at(&key).unwrap();
        all.insert(key, (held, expiry));
    }
    all
}
