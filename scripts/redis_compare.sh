#!/usr/bin/env bash
# Runs redis-benchmark against `kvctl serve` (release build) and against redis-server with
# AOF on, at the same appendfsync (everysec, then always), in the same run, and writes a
# markdown table of ops/s and p50/p99 latency for both, with the ratio keg / Redis.
#
#   scripts/redis_compare.sh [OUTPUT.md]        (default: target/redis_compare.md)
#
# Environment: N (requests per test, default 500000), CLIENTS (default 50), TESTS
# (default set,get,incr,mset), PIPELINES (default "1 16"), POLICIES (default
# "everysec always"), ROUNDS (default 1): with more, keg and Redis take turns that many
# times and the table shows each test's median round (this machine's figures move by up
# to +-30 % from one run to the next). Needs redis-server and redis-benchmark (apt-get install
# redis-server redis-tools) and python3 (to pick free ports). Listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-target/redis_compare.md}
N=${N:-500000}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-set,get,incr,mset}
PIPELINES=${PIPELINES:-"1 16"}
POLICIES=${POLICIES:-"everysec always"}
ROUNDS=${ROUNDS:-1}

for tool in redis-server redis-benchmark redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install redis-server redis-tools python3)" >&2; exit 1; }
done
cargo build --release --bin kvctl >&2
KVCTL=target/release/kvctl

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_ready() {
    for _ in $(seq 1 200); do
        if [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]; then return 0; fi
        sleep 0.05
    done
    echo "server on port $1 did not start" >&2
    exit 1
}

# bench PORT PIPELINE -> CSV rows "TEST,rps,p50,p99"
bench() {
    redis-benchmark -h 127.0.0.1 -p "$1" -t "$TESTS" -c "$CLIENTS" -n "$N" -d 100 -P "$2" --csv 2>/dev/null |
        python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
head = rows[0]
for r in rows[1:]:
    d = dict(zip(head, r))
    print("%s,%s,%s,%s" % (d["test"].split(" ")[0], d["rps"], d["p50_latency_ms"], d["p99_latency_ms"]))
'
}

{
    echo "| appendfsync | pipeline | test | keg ops/s | Redis ops/s | keg / Redis | keg p50 / p99 ms | Redis p50 / p99 ms |"
    echo "|---|---|---|---:|---:|---:|---:|---:|"
} > "$WORK/table.md"

for policy in $POLICIES; do
    KEG_PORT=$(free_port)
    "$KVCTL" --dir "$WORK/keg-$policy" serve --port "$KEG_PORT" --appendfsync "$policy" 2>"$WORK/keg-$policy.log" &
    PIDS+=($!)
    KEG_PID=$!
    REDIS_PORT=$(free_port)
    mkdir -p "$WORK/redis-$policy"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$WORK/redis-$policy" --save "" \
        --appendonly yes --appendfsync "$policy" --daemonize no >"$WORK/redis-$policy.log" 2>&1 &
    PIDS+=($!)
    REDIS_PID=$!
    wait_ready "$KEG_PORT"
    wait_ready "$REDIS_PORT"
    for pipeline in $PIPELINES; do
        for round in $(seq 1 "$ROUNDS"); do
            echo "appendfsync $policy, -P $pipeline, round $round of $ROUNDS: keg" >&2
            bench "$KEG_PORT" "$pipeline" > "$WORK/keg.$round.csv"
            echo "appendfsync $policy, -P $pipeline, round $round of $ROUNDS: Redis" >&2
            bench "$REDIS_PORT" "$pipeline" > "$WORK/redis.$round.csv"
        done
        python3 - "$policy" "$pipeline" "$ROUNDS" "$WORK" >> "$WORK/table.md" <<'PY'
import sys
policy, pipeline, rounds, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def load(path):
    return {r.split(",")[0]: r.strip().split(",")[1:] for r in open(path) if r.strip()}
def median_round(name, test):
    """The round whose ops/s is the median of the rounds' (rps, p50, p99)."""
    rows = [load("%s/%s.%d.csv" % (work, name, i)).get(test, ["0", "0", "0"])
            for i in range(1, rounds + 1)]
    rows.sort(key=lambda r: float(r[0]))
    return rows[(len(rows) - 1) // 2]
for test in load("%s/keg.1.csv" % work):
    k, r = median_round("keg", test), median_round("redis", test)
    ratio = float(k[0]) / float(r[0]) if float(r[0]) else 0.0
    print("| %s | %s | %s | %.0f | %.0f | %.2fx | %s / %s | %s / %s |"
          % (policy, pipeline, test, float(k[0]), float(r[0]), ratio, k[1], k[2], r[1], r[2]))
PY
    done
    kill "$KEG_PID" "$REDIS_PID"
    wait "$KEG_PID" "$REDIS_PID" 2>/dev/null || true
done

{
    echo "redis-benchmark -t $TESTS -c $CLIENTS -n $N -d 100, -P as shown; median of $ROUNDS alternating round(s); $(nproc) cores,"
    echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr);"
    echo "$(redis-server --version | cut -d' ' -f1-3), keg $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%d)."
    echo
    cat "$WORK/table.md"
} > "$OUT"
cat "$OUT"
