#!/usr/bin/env bash
# End-to-end replay throughput on real 10-million-event recordings, and the floor under it.
# Records two workloads with vmrecord:
#   python: a malloc-heavy loop (bytes(2000) allocates and frees once per iteration; refcounting
#           frees at once, so few blocks are live);
#   node:   Buffer.allocUnsafeSlow(1024) in a loop (V8 frees the buffers when its GC runs, so tens
#           of thousands of blocks are live at once), if node is installed;
# then, per trace: replays it on each backend (read-ahead off and on for sim) and prints the
# median `replay events/s` of N runs, the backends interleaved run by run; and runs
# bench_replay_floor on it (the trace's heap calls alone on glibc, then with the per-call timing
# the latency metric needs, then the real replay, in one run).
#
#   bench/replayer/real_trace_replay.sh [--build DIR] [--runs N] [--python PATH] [--node PATH]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../../build"
runs=5
python=""
node=$(command -v node || true)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --node) node=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--runs N] [--python PATH] [--node PATH]" >&2; exit 2 ;;
  esac
done
vmrecord="$build/recorder/linux/vmrecord"
vmreplay="$build/replayer/vmreplay"
floor="$build/bench/replayer/bench_replay_floor"
[[ -x "$vmrecord" && -x "$vmreplay" ]] || { echo "build vmrecord and vmreplay first" >&2; exit 2; }
[[ -x "$floor" ]] || { echo "build bench_replay_floor first (-DVMREPLAY_BENCHMARKS=ON)" >&2; exit 2; }
# The interpreter itself, not a wrapper script (a pyenv shim would exec it as a child).
if [[ -z "$python" ]]; then
  python=$(command -v python3)
  if command -v pyenv >/dev/null 2>&1; then python=$(pyenv which python3 2>/dev/null || echo "$python"); fi
  python=$(readlink -f "$python")
fi

work=$(mktemp -d /tmp/vmreplay_real_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

configs=("sim off" "sim on" "arena off" "os off" "sim:mimalloc off")

bench_trace() {  # name, command...: records the command, then replays and floors its trace
  local name=$1; shift
  local trace="$work/$name.pb"
  "$vmrecord" -o "$trace" -- "$@" 2> "$work/record.log"
  local events
  events=$("$vmreplay" info "$trace" | sed -n 's/^events *\([0-9]*\).*/\1/p')
  printf '\n== %s: %s\n%s events, %s bytes/event\n' "$name" "$*" "$events" \
    "$(echo "scale=2; $(stat -c %s "$trace") / $events" | bc)"
  local c
  for c in "${configs[@]}"; do : > "$work/$(echo "$c" | tr ' :' '__').rates"; done
  for ((i = 0; i < runs; i++)); do
    for c in "${configs[@]}"; do
      read -r backend ahead <<< "$c"
      heap=system
      if [[ "$backend" == *:* ]]; then heap=${backend#*:}; backend=${backend%%:*}; fi
      "$vmreplay" "$trace" --backend="$backend" --heap="$heap" --read-ahead="$ahead" 2>&1 |
        sed -n 's/^replay events\/s *\([0-9]*\).*/\1/p' >> "$work/$(echo "$c" | tr ' :' '__').rates"
    done
  done
  printf '%-22s %14s\n' "backend/heap read-ahead" "events/s"
  for c in "${configs[@]}"; do
    median=$(sort -n "$work/$(echo "$c" | tr ' :' '__').rates" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-22s %14s\n' "$c" "$median"
  done
  echo "floor (bench_replay_floor):"
  "$floor" "$trace" 2>/dev/null | sed -n 's/^\(BM_[A-Za-z]*\).*events\/s=\([0-9.]*M\/s\).*/  \1 \2/p'
}

bench_trace python "$python" -c "for i in range(5000000): b = bytes(2000)"
if [[ -n "$node" ]]; then
  bench_trace node "$node" -e \
    'let k = []; for (let i = 0; i < 1200000; i++) { k.push(Buffer.allocUnsafeSlow(1024)); if (k.length > 64) k = []; }'
fi
