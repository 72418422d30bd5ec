//! Simulated power loss: a workload of sets, deletes, counters, TTLs, batches, merges and
//! segment rotations runs under each `SyncPolicy` with the recorder of
//! `tests/common/power_loss.rs` watching every I/O operation. At every sampled cut point the
//! test builds the directories a power failure there could leave (only what was fsynced;
//! everything; random torn prefixes of the unsynced changes) and opens each one. It must
//! open, and hold exactly the state after some prefix of the operations, at least:
//!
//! - `Always`: every acknowledged operation;
//! - `Interval(d)` and `Never`: every operation acknowledged before the last completed sync
//!   (under `Interval` the background thread's tick; here a `sync()` call, the same code
//!   path, so that ticks fall at known points);
//! - with every unsynced change surviving (a crash of the process, not the machine): every
//!   acknowledged operation, under every policy.
//!
//! At most the operations started before the cut are applied, so nothing unacknowledged is
//! half-applied and no value differs from one written.
//!
//! `KEG_POWER_LOSS_CUTS=all` checks every cut point instead of a sample; `KEG_SEED` replays
//! a reported seed.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::power_loss::{Event, PowerLoss, Survivors, materialize};
use common::rng::{Rng, seed};
use common::workload::{
    Generator, Mix, State, Step, T0, apply, contents, expected_answer, perform,
};
use keg::{Clock, IoHook, ManualClock, MergePolicy, Options, SyncPolicy};

/// Random images checked per cut point, besides "only synced" and "everything".
const RANDOM_IMAGES_PER_CUT: u64 = 2;
/// Cut points sampled per policy (all of them with `KEG_POWER_LOSS_CUTS=all`).
const SAMPLED_CUTS: usize = 70;

/// A recorded run: the model after each data operation and where in the I/O log each
/// operation started and returned.
struct Run {
    policy: SyncPolicy,
    recorder: Arc<PowerLoss>,
    /// `states[i]`: after the first `i` data operations.
    states: Vec<State>,
    started: Vec<usize>,
    acked: Vec<usize>,
    /// (data operations acknowledged before the sync began, log position when it returned)
    syncs: Vec<(usize, usize)>,
}

impl Run {
    /// The range of data-operation prefixes an image cut after `at` changes may hold.
    fn allowed(&self, at: usize, survivors: Survivors) -> (usize, usize) {
        let acked = self.acked.iter().filter(|&&a| a <= at).count();
        // An operation that made no change (a delete of a missing key) starts and ends at
        // the same position.
        let started = self.started.iter().filter(|&&s| s < at).count().max(acked);
        let synced = self
            .syncs
            .iter()
            .filter(|&&(_, done)| done <= at)
            .map(|&(covered, _)| covered)
            .max()
            .unwrap_or(0);
        let floor = match (survivors, self.policy) {
            (Survivors::All, _) | (_, SyncPolicy::Always) => acked,
            _ => synced,
        };
        (floor, started)
    }
}

fn options(clock: &Arc<ManualClock>, policy: SyncPolicy) -> Options {
    Options::new()
        .sync_policy(policy)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .clock(Arc::clone(clock) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
}

fn record(dir: &Path, policy: SyncPolicy, steps: &[Step]) -> Run {
    let clock = Arc::new(ManualClock::new(T0));
    let recorder = PowerLoss::new(dir);
    let store = options(&clock, policy)
        .io_hook(Arc::clone(&recorder) as Arc<dyn IoHook>)
        .open(dir)
        .unwrap();
    let mut run = Run {
        policy,
        recorder,
        states: vec![State::new()],
        started: Vec::new(),
        acked: Vec::new(),
        syncs: Vec::new(),
    };
    for step in steps {
        let before = run.states.last().unwrap().clone();
        let start = run.recorder.position();
        let answer = perform(&store, step).unwrap();
        assert_eq!(answer, expected_answer(&before, step), "{step:?}");
        let done = run.recorder.position();
        match step {
            Step::Merge => {}
            Step::Sync => run.syncs.push((run.acked.len(), done)),
            _ => {
                let mut after = before;
                apply(&mut after, step);
                run.states.push(after);
                run.started.push(start);
                run.acked.push(done);
            }
        }
    }
    // Leave the store as a crash would: no close.
    std::mem::forget(store);
    run
}

/// Opens the image and checks it against the run; `Err` describes the violation.
fn check_image(run: &Run, at: usize, survivors: Survivors, scratch: &Path) -> Result<(), String> {
    let files = run.recorder.image(at, survivors);
    let dir = scratch.join(format!("cut-{at}-{survivors:?}"));
    materialize(&files, &dir);
    let clock = Arc::new(ManualClock::new(T0));
    let store = options(&clock, SyncPolicy::Never)
        .open(&dir)
        .map_err(|e| format!("the image does not open: {e}"))?;
    let got = contents(&store);
    let (floor, ceiling) = run.allowed(at, survivors);
    let matched = (floor..=ceiling).find(|&p| run.states[p] == got);
    let Some(prefix) = matched else {
        let nearest = (0..run.states.len())
            .find(|&p| run.states[p] == got)
            .map_or("no prefix".to_owned(), |p| format!("prefix {p}"));
        return Err(format!(
            "the image holds {} keys, which is {nearest}; allowed: the state after {floor}..={ceiling} operations",
            got.len()
        ));
    };
    // The recovered store works on: a write survives a clean reopen.
    store.set(b"after-recovery", b"ok").unwrap();
    store.close().unwrap();
    let store = options(&clock, SyncPolicy::Never).open(&dir).unwrap();
    let mut want = run.states[prefix].clone();
    want.insert(b"after-recovery".to_vec(), (b"ok".to_vec(), None));
    if contents(&store) != want {
        return Err("a write after recovery did not survive a reopen".into());
    }
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

/// The cut points to check: every one with `KEG_POWER_LOSS_CUTS=all`, else a sample that
/// always includes the positions just before and after each fsync and rename.
fn cuts(run: &Run, rng: &mut Rng) -> Vec<usize> {
    let events = run.recorder.events();
    let total = events.len();
    if std::env::var("KEG_POWER_LOSS_CUTS").is_ok_and(|v| v == "all") {
        return (0..=total).collect();
    }
    let mut cuts: Vec<usize> = (0..SAMPLED_CUTS).map(|_| rng.index(total + 1)).collect();
    let interesting: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Event::SyncDir | Event::Rename { .. } | Event::Remove(_)))
        .map(|(i, _)| i)
        .collect();
    for _ in 0..SAMPLED_CUTS / 2 {
        if !interesting.is_empty() {
            let i = interesting[rng.index(interesting.len())];
            cuts.extend([i, i + 1]);
        }
    }
    cuts.push(total);
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

fn power_loss_keeps_the_promise_of(policy: SyncPolicy, default_seed: u64) {
    let seed = seed(default_seed);
    let started = Instant::now();
    let mut rng = Rng::new(seed);
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("store");
    let mix = Mix {
        merges: true,
        syncs: policy != SyncPolicy::Always,
        max_value: 800,
        collections: true,
    };
    let steps = Generator::new(rng.next_u64(), "", mix).steps(180);
    let run = record(&dir, policy, &steps);
    let cuts = cuts(&run, &mut rng);
    let total = run.recorder.position();
    let mut images = 0;
    for &at in &cuts {
        let mut kinds = vec![Survivors::Synced, Survivors::All];
        kinds.extend((0..RANDOM_IMAGES_PER_CUT).map(|_| Survivors::Random(rng.next_u64())));
        for survivors in kinds {
            images += 1;
            if let Err(problem) = check_image(&run, at, survivors, base.path()) {
                let context: Vec<String> = run
                    .recorder
                    .events()
                    .iter()
                    .enumerate()
                    .skip(at.saturating_sub(4))
                    .take(6)
                    .map(|(i, e)| format!("  {i}: {}", describe(e)))
                    .collect();
                panic!(
                    "{policy:?}, seed {seed}: power loss after {at} of {total} I/O changes \
                     ({survivors:?}): {problem}\nchanges around the cut:\n{}",
                    context.join("\n")
                );
            }
        }
    }
    eprintln!(
        "{policy:?}: {} data operations, {total} I/O changes, {} cut points, {images} images \
         opened and checked in {:.1?} (seed {seed})",
        run.acked.len(),
        cuts.len(),
        started.elapsed()
    );
}

fn describe(event: &Event) -> String {
    match event {
        Event::Write { name, offset, data } => {
            format!("write {} bytes at {offset} of {name}", data.len())
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn power_loss_under_always_loses_nothing_acknowledged() {
    power_loss_keeps_the_promise_of(SyncPolicy::Always, 1);
}

#[test]
fn power_loss_under_interval_loses_only_writes_since_the_last_tick() {
    power_loss_keeps_the_promise_of(SyncPolicy::Interval(Duration::from_secs(3600)), 2);
}

#[test]
fn power_loss_under_never_loses_only_unsynced_writes() {
    power_loss_keeps_the_promise_of(SyncPolicy::Never, 3);
}

/// The interval thread itself (not a `sync()` call) makes writes durable: once it has
/// ticked after a write, a power failure keeps that write.
#[test]
fn the_interval_thread_makes_writes_durable_without_being_asked() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("store");
    let clock = Arc::new(ManualClock::new(T0));
    let recorder = PowerLoss::new(&dir);
    let store = options(&clock, SyncPolicy::Interval(Duration::from_millis(5)))
        .io_hook(Arc::clone(&recorder) as Arc<dyn IoHook>)
        .open(&dir)
        .unwrap();
    store.set(b"k", b"v").unwrap();
    let written = recorder.position();
    // Wait (bounded) for the thread's fsync of the active segment.
    let deadline = Instant::now() + Duration::from_secs(20);
    let synced_at = loop {
        let events = recorder.events();
        if let Some(i) = events
            .iter()
            .skip(written)
            .position(|e| matches!(e, Event::SyncFile(name) if name.ends_with(".data")))
        {
            break written + i + 1;
        }
        assert!(
            Instant::now() < deadline,
            "the interval thread never synced"
        );
        std::thread::yield_now();
    };
    let lost = recorder.image(written, Survivors::Synced);
    let kept = recorder.image(synced_at, Survivors::Synced);
    for (files, want) in [(lost, None), (kept, Some(b"v".to_vec()))] {
        let image = tempfile::tempdir().unwrap();
        materialize(&files, image.path());
        let reopened = options(&clock, SyncPolicy::Never)
            .open(image.path())
            .unwrap();
        assert_eq!(reopened.get(b"k").unwrap(), want);
    }
    std::mem::forget(store);
}

/// The recorder's own rules, on a hand-made log.
#[test]
fn the_recorder_keeps_only_what_was_synced() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("old"), b"durable").unwrap();
    let rec = PowerLoss::new(&dir);
    let op = |op: keg::IoOp<'_>| rec.before(&op).unwrap();
    let (a, b, old) = (dir.join("a"), dir.join("b"), dir.join("old"));
    op(keg::IoOp::CreateFile { path: &a });
    op(keg::IoOp::Write {
        path: &a,
        offset: 0,
        data: &[1u8; 1000],
    });
    let created = rec.position();
    op(keg::IoOp::SyncFile { path: &a });
    op(keg::IoOp::SyncDir { path: &dir });
    let synced = rec.position();
    op(keg::IoOp::Write {
        path: &a,
        offset: 1000,
        data: &[2u8; 2000],
    });
    op(keg::IoOp::Rename { from: &a, to: &b });
    op(keg::IoOp::RemoveFile { path: &old });
    let end = rec.position();

    let names = |files: &BTreeMap<String, Vec<u8>>| files.keys().cloned().collect::<Vec<_>>();
    // A new file whose directory was not synced is missing.
    assert_eq!(names(&rec.image(created, Survivors::Synced)), ["old"]);
    assert_eq!(names(&rec.image(created, Survivors::All)), ["a", "old"]);
    // Synced: the file and its first 1000 bytes; the later write, rename and removal are not.
    let image = rec.image(end, Survivors::Synced);
    assert_eq!(names(&image), ["a", "old"]);
    assert_eq!(image["a"], vec![1u8; 1000]);
    assert_eq!(image["old"], b"durable");
    let image = rec.image(end, Survivors::All);
    assert_eq!(names(&image), ["b"]);
    assert_eq!(image["b"].len(), 3000);
    // Random images: a prefix of the append, cut at a sector boundary (the rest zeros or
    // absent), and a prefix of the directory changes.
    for seed in 0..200 {
        let image = rec.image(end, Survivors::Random(seed));
        let file = image.get("a").or_else(|| image.get("b")).unwrap();
        assert!(file.len() >= 1000 && file.len() <= 3000);
        assert_eq!(&file[..1000], &[1u8; 1000][..]);
        let arrived = file[1000..].iter().take_while(|&&b| b == 2).count();
        assert!(
            arrived == 0 || (1000 + arrived) % 512 == 0 || arrived == 2000,
            "tear at {arrived}"
        );
        assert!(file[1000 + arrived..].iter().all(|&b| b == 0));
        if image.contains_key("b") {
            assert!(!image.contains_key("a"));
        }
    }
    assert_eq!(
        rec.image(synced, Survivors::Random(7))["a"],
        vec![1u8; 1000]
    );
}
