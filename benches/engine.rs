//! Criterion micro-benchmarks of single operations (`cargo bench --bench engine`).
//! Whole-workload figures (1M keys, thread scaling, group commit) are in `workloads.rs`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use keg::format::{Record, RecordKind, decode_record, encode_record};
use keg::{Options, Store, SyncPolicy};

const KEYS: u64 = 100_000;

fn key(i: u64) -> [u8; 16] {
    let mut k = [0u8; 16];
    k[..8].copy_from_slice(b"key:0000");
    k[8..].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
    k
}

fn filled_store(dir: &std::path::Path, policy: SyncPolicy) -> Store {
    let store = Options::new().sync_policy(policy).open(dir).unwrap();
    for i in 0..KEYS {
        store.set(&key(i), &[0xA5; 100]).unwrap();
    }
    store
}

fn codec(c: &mut Criterion) {
    let record = Record {
        seq: 42,
        expiry_ms: 0,
        kind: RecordKind::Put,
        batch_continues: false,
        key: &key(1),
        value: &[7u8; 100],
    };
    let mut buf = Vec::with_capacity(256);
    c.bench_function("record/encode 16B+100B", |b| {
        b.iter(|| {
            buf.clear();
            encode_record(&mut buf, black_box(&record)).unwrap()
        })
    });
    let bytes = {
        let mut v = Vec::new();
        encode_record(&mut v, &record).unwrap();
        v
    };
    c.bench_function("record/decode+verify 16B+100B", |b| {
        b.iter(|| decode_record(black_box(&bytes)).unwrap().1)
    });
}

fn operations(c: &mut Criterion) {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = filled_store(dir.path(), SyncPolicy::Never);
    let mut i = 0u64;
    c.bench_function("get/hit, 100k keys, warm", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            store.get(black_box(&key(i))).unwrap()
        })
    });
    c.bench_function("get/miss", |b| {
        b.iter(|| {
            i += 1;
            store.get(black_box(&key(KEYS + i))).unwrap()
        })
    });
    c.bench_function("set/overwrite, Never", |b| {
        b.iter(|| {
            i = (i + 7919) % KEYS;
            store.set(black_box(&key(i)), &[0x5A; 100]).unwrap()
        })
    });
    c.bench_function("delete+set, Never", |b| {
        b.iter_batched(
            || {
                i = (i + 7919) % KEYS;
                key(i)
            },
            |k| {
                store.delete(&k).unwrap();
                store.set(&k, &[1; 100]).unwrap();
            },
            BatchSize::SmallInput,
        )
    });
    drop(store);

    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = Options::new()
        .sync_policy(SyncPolicy::Always)
        .open(dir.path())
        .unwrap();
    c.bench_function("set/Always (one fsync per write)", |b| {
        b.iter(|| {
            i += 1;
            store.set(black_box(&key(i)), &[0x5A; 100]).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = codec, operations
}
criterion_main!(benches);
