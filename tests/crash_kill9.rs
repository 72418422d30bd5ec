//! Real crashes: the test re-runs its own binary as a child process (the ignored test
//! `kill9_child`) that writes — sets, deletes, counters, TTLs, expire/persist, batches —
//! from two threads while a third merges on request and the background merge, hint and
//! expiry threads run, under each `SyncPolicy` in turn. The child reports each acknowledged
//! operation on its standard output (a pipe). The parent kills it with SIGKILL at a random
//! moment (sometimes before it has even opened the store), then checks the directory:
//!
//! - `check` finds no corruption (a torn tail is allowed) and `open` succeeds;
//! - for each writer (each owns its keys), the store holds exactly the state after its
//!   acknowledged operations, or after those and the one it had in flight — so every
//!   acknowledged operation is visible, nothing unacknowledged is half-applied, batches are
//!   all-or-nothing, and no value or expiry differs from what was written;
//! - every answer the child was given (counter values, "existed" flags) was right.
//!
//! A killed process keeps its page cache, so no policy may lose an acknowledged write here.
//! The store carries over from cycle to cycle (each child recovers what the last one left).
//!
//! `KEG_KILL9_CYCLES=N` runs `N` cycles instead of 100 (thousands for a long run; the seed
//! then differs per run unless `KEG_SEED` is set).

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::rng::{Rng, fresh_seed, seed};
use common::workload::{
    Generator, Mix, State, Step, T0, apply, contents, expected_answer, perform, with_prefix,
};
use keg::{Clock, ManualClock, MergePolicy, Options, SyncPolicy};

const WRITERS: usize = 2;
/// Operations per writer before the child stops on its own.
const MAX_OPS: usize = 2_000;
const DEFAULT_CYCLES: usize = 100;
const CHILD_TEST: &str = "kill9_child";
const ENV_DIR: &str = "KEG_KILL9_DIR";
const ENV_POLICY: &str = "KEG_KILL9_POLICY";
const ENV_SEED: &str = "KEG_KILL9_SEED";

const MIX: Mix = Mix {
    merges: false,
    syncs: true,
    max_value: 600,
    collections: true,
};

fn writer_prefix(writer: usize) -> String {
    format!("w{writer}:")
}

fn writer_seed(cycle_seed: u64, writer: usize) -> u64 {
    cycle_seed ^ (writer as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn policy_named(name: &str) -> SyncPolicy {
    match name {
        "always" => SyncPolicy::Always,
        "interval" => SyncPolicy::Interval(Duration::from_millis(2)),
        _ => SyncPolicy::Never,
    }
}

/// The options of the child: small segments and eager background merges, so that
/// rotations, merges and hint writes happen all the time.
fn child_options(policy: SyncPolicy) -> Options {
    Options::new()
        .sync_policy(policy)
        .max_segment_size(keg::MIN_SEGMENT_SIZE)
        .clock(Arc::new(ManualClock::new(T0)) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::from_millis(10))
        .merge_policy(MergePolicy {
            fragmentation_trigger: 30,
            dead_bytes_trigger: 8 << 10,
            fragmentation_threshold: 20,
            dead_bytes_threshold: 2 << 10,
            small_file_threshold: 2 << 10,
            check_interval: Duration::from_millis(5),
            ..MergePolicy::default()
        })
}

/// The child process. Does nothing unless started by the parent (with its environment).
#[test]
#[ignore = "run by crash_kill9 as a child process"]
fn kill9_child() {
    let Ok(dir) = std::env::var(ENV_DIR) else {
        return;
    };
    let policy = policy_named(&std::env::var(ENV_POLICY).unwrap());
    let cycle_seed: u64 = std::env::var(ENV_SEED).unwrap().parse().unwrap();
    let store = child_options(policy).open(&dir).unwrap();
    println!("READY");

    let (tick, ticks) = mpsc::channel::<()>();
    let merger = {
        let store = store.clone();
        std::thread::spawn(move || {
            while ticks.recv().is_ok() {
                store.merge().unwrap();
            }
        })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            let tick = tick.clone();
            std::thread::spawn(move || {
                let mut generator =
                    Generator::new(writer_seed(cycle_seed, w), &writer_prefix(w), MIX);
                for i in 0..MAX_OPS {
                    let answer = perform(&store, &generator.step()).unwrap();
                    // One write per line, so the lines of the two writers never mix.
                    println!("A {w} {i} {answer}");
                    if i % 64 == 63 {
                        let _ = tick.send(());
                    }
                }
            })
        })
        .collect();
    drop(tick);
    for w in writers {
        w.join().unwrap();
    }
    merger.join().unwrap();
    println!("DONE");
}

/// What one child reported before it died.
#[derive(Debug, Default)]
struct Report {
    ready: bool,
    done: bool,
    /// Per writer: the answers of its acknowledged operations, in order.
    answers: Vec<Vec<String>>,
}

impl Report {
    fn acked(&self) -> usize {
        self.answers.iter().map(Vec::len).sum()
    }

    fn take_line(&mut self, line: &str) {
        if line == "READY" {
            self.ready = true;
        } else if line == "DONE" {
            self.done = true;
        } else if let Some(rest) = line.strip_prefix("A ") {
            let mut parts = rest.splitn(3, ' ');
            let w: usize = parts.next().unwrap().parse().unwrap();
            let i: usize = parts.next().unwrap().parse().unwrap();
            let answer = parts.next().unwrap_or("").to_owned();
            assert_eq!(self.answers[w].len(), i, "acks of writer {w} out of order");
            self.answers[w].push(answer);
        }
        // Anything else is the test harness talking.
    }
}

fn spawn_child(dir: &Path, policy: &str, cycle_seed: u64) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([CHILD_TEST, "--exact", "--ignored", "--nocapture", "-q"])
        .args(["--test-threads", "1"])
        .env(ENV_DIR, dir)
        .env(ENV_POLICY, policy)
        .env(ENV_SEED, cycle_seed.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the child's report until `kill_after` acknowledgements (`None`: kill at once),
/// kills it, and reads what it had written before dying.
fn run_child(child: &mut Child, kill_after: Option<usize>) -> Report {
    let mut report = Report {
        answers: vec![Vec::new(); WRITERS],
        ..Report::default()
    };
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    if let Some(kill_after) = kill_after {
        while report.acked() < kill_after && !report.done {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            report.take_line(line.trim_end_matches('\n'));
        }
    }
    let _ = child.kill(); // SIGKILL
    let status = child.wait().unwrap();
    loop {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        // A line cut off by the kill was never fully reported.
        if line.ends_with('\n') {
            report.take_line(line.trim_end_matches('\n'));
        }
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let killed = std::os::unix::process::ExitStatusExt::signal(&status) == Some(9);
    assert!(
        killed || status.success(),
        "the child failed on its own ({status}):\n{stderr}"
    );
    report
}

/// Checks the store the child left against the model at the start of the cycle; returns
/// the new model.
fn check_after_kill(dir: &Path, start: &State, cycle_seed: u64, report: &Report) -> State {
    let check = keg::check(dir).unwrap();
    assert!(
        check.is_consistent(),
        "corruption after a kill: {:?}",
        check.segments
    );
    let store = Options::new()
        .sync_policy(SyncPolicy::Never)
        .clock(Arc::new(ManualClock::new(T0)) as Arc<dyn Clock>)
        .expiry_cycle_interval(Duration::ZERO)
        .merge_policy(MergePolicy {
            check_interval: Duration::ZERO,
            ..MergePolicy::default()
        })
        .open(dir)
        .unwrap_or_else(|e| panic!("open after a kill failed: {e}"));
    let got = contents(&store);
    let mut next = State::new();
    for w in 0..WRITERS {
        let prefix = writer_prefix(w);
        let mut generator = Generator::new(writer_seed(cycle_seed, w), &prefix, MIX);
        let mut state = with_prefix(start, prefix.as_bytes());
        for (i, answer) in report.answers[w].iter().enumerate() {
            let step = generator.step();
            assert_eq!(
                *answer,
                expected_answer(&state, &step),
                "writer {w} op {i} {step:?} was answered wrongly"
            );
            apply(&mut state, &step);
        }
        let acked = state.clone();
        let in_flight = generator.step();
        let mut with_in_flight = acked.clone();
        apply(&mut with_in_flight, &in_flight);
        let found = with_prefix(&got, prefix.as_bytes());
        assert!(
            found == acked || found == with_in_flight,
            "writer {w}: after {} acknowledged operations the store differs from the \
             acknowledged state in {:?} and from the state with the operation in flight \
             ({in_flight:?}) in {:?}",
            report.answers[w].len(),
            differences(&acked, &found),
            differences(&with_in_flight, &found),
        );
        next.extend(found);
    }
    assert_eq!(got.len(), next.len(), "keys no writer wrote");
    store.close().unwrap();
    next
}

/// The keys whose value or expiry differ between `want` and `got`, named.
fn differences(want: &State, got: &State) -> Vec<String> {
    let keys: std::collections::BTreeSet<&Vec<u8>> = want.keys().chain(got.keys()).collect();
    keys.into_iter()
        .filter(|k| want.get(*k) != got.get(*k))
        .map(|k| {
            let what = match (want.get(k), got.get(k)) {
                (Some(_), None) => "missing",
                (None, Some(_)) => "unexpected",
                _ => "different",
            };
            format!("{} {what}", String::from_utf8_lossy(k))
        })
        .collect()
}

#[test]
fn kill_9_at_random_moments_loses_nothing_acknowledged() {
    let cycles: usize = std::env::var("KEG_KILL9_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CYCLES);
    let default_seed = if cycles > DEFAULT_CYCLES {
        fresh_seed()
    } else {
        0x6b69_6c6c
    };
    let seed = seed(default_seed);
    let mut rng = Rng::new(seed);
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("store");
    let started = Instant::now();
    let mut model = State::new();
    let (mut acked, mut in_open, mut finished) = (0, 0, 0);
    for cycle in 0..cycles {
        let policy = ["always", "interval", "never"][cycle % 3];
        let cycle_seed = rng.next_u64();
        let kill_after = match rng.below(10) {
            0 => None,
            1 => Some(0),
            _ => Some(rng.index(400)),
        };
        let mut child = spawn_child(&dir, policy, cycle_seed);
        let report = run_child(&mut child, kill_after);
        acked += report.acked();
        in_open += usize::from(!report.ready);
        finished += usize::from(report.done);
        let context = format!("cycle {cycle} ({policy}), seed {seed}");
        model = std::panic::catch_unwind(|| check_after_kill(&dir, &model, cycle_seed, &report))
            .unwrap_or_else(|_| panic!("{context}: see the message above"));
    }
    eprintln!(
        "{cycles} kill -9 cycles in {:.1?}: {acked} acknowledged operations checked, {in_open} \
         kills before the store was open, {finished} children finished first; {} keys at the end \
         (seed {seed})",
        started.elapsed(),
        model.len()
    );
    assert!(model.len() > 10, "the workload wrote next to nothing");
}

/// The step type is shared with the power-loss test; the child never merges through it.
#[test]
fn the_child_workload_leaves_merging_to_its_merge_threads() {
    let mut generator = Generator::new(1, "w0:", MIX);
    assert!(
        generator
            .steps(1000)
            .iter()
            .all(|s| !matches!(s, Step::Merge))
    );
}
