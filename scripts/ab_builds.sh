#!/usr/bin/env bash
# A/B of two keg builds' servers: `kvctl serve` of the commit BASE and of the working tree
# take turns under redis-benchmark, so that a change's cost is measured in one run (this
# machine's figures move by up to +-30 % from one run to the next). Prints one line per
# build, round, pipeline and test: "base r1 P16 SET: 702000.00".
#
#   scripts/ab_builds.sh BASE        (a commit; built in a scratch worktree)
#
# Environment: TESTS (default set,get,lpush,rpop,hset,zadd), PIPELINES (default "16 1"),
# ROUNDS (default 2), N (requests at -P 16, default 400000; a quarter of it at -P 1),
# APPENDFSYNC (default everysec). Needs redis-benchmark and redis-cli; listens on
# 127.0.0.1 only, on a port python3 picks; stops only the servers it started.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${1:?usage: scripts/ab_builds.sh BASE-COMMIT}
TESTS=${TESTS:-set,get,lpush,rpop,hset,zadd}
PIPELINES=${PIPELINES:-"16 1"}
ROUNDS=${ROUNDS:-2}
N=${N:-400000}
APPENDFSYNC=${APPENDFSYNC:-everysec}

scratch=$(mktemp -d)
trap 'git worktree remove --force "$scratch/base" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
git worktree add -f "$scratch/base" "$BASE" >/dev/null
(cd "$scratch/base" && CARGO_TARGET_DIR="$scratch/target" cargo build --release --bin kvctl >&2)
cargo build --release --bin kvctl >&2
declare -A BIN=([base]="$scratch/target/release/kvctl" [head]=target/release/kvctl)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

for round in $(seq "$ROUNDS"); do
    for build in base head; do
        dir=$(mktemp -d "$scratch/data.XXXX")
        "${BIN[$build]}" --dir "$dir" serve --port "$port" --appendfsync "$APPENDFSYNC" >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
        for pipeline in $PIPELINES; do
            requests=$N
            [ "$pipeline" = 1 ] && requests=$((N / 4))
            redis-benchmark -p "$port" -t "$TESTS" -c 50 -n "$requests" -d 100 -P "$pipeline" -q 2>/dev/null |
                tr '\r' '\n' | grep "requests per second" |
                awk -v tag="$build r$round P$pipeline" '{print tag, $1, $2}'
        done
        redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid"
        wait "$pid" || true
    done
done
